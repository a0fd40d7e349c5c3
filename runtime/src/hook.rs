//! Hooks as values: one calling convention for every accepted signature
//! (`ErasedHook`), the hooks of one step or pipeline per event (`HookSet`),
//! and the lazily built, program-lifetime cell that holds them.

use std::fmt;
use std::future::Future;
use std::panic::catch_unwind;
use std::pin::Pin;
use std::sync::OnceLock;

use crate::context::HookContext;
use crate::error::panic_message;
use crate::event::Event;
use crate::status::Status;

pub(crate) type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// What calling an erased hook gave.
pub enum HookCall<'a> {
    /// A sync hook ran.
    Ready(Result<(), String>),
    /// An async hook's future, still to be awaited.
    Pending(HookFuture<'a>),
    /// The hook's argument does not exist for this firing.
    Skipped(&'static str),
}

type DynHookFn = dyn for<'a> Fn(&'a HookContext) -> HookCall<'a> + Send + Sync;

/// A hook of any accepted signature, behind one calling convention.
pub struct ErasedHook {
    name: &'static str,
    is_async: bool,
    f: Box<DynHookFn>,
}

impl ErasedHook {
    /// `true` for an async hook (which sync code cannot await).
    #[inline]
    pub(crate) fn is_async(&self) -> bool {
        self.is_async
    }

    /// Calls the hook (not isolated: the caller catches panics).
    #[inline]
    pub(crate) fn call<'a>(&self, ctx: &'a HookContext) -> HookCall<'a> {
        (self.f)(ctx)
    }
}

impl ErasedHook {
    pub(crate) fn new<F>(name: &'static str, is_async: bool, f: F) -> Self
    where
        F: for<'a> Fn(&'a HookContext) -> HookCall<'a> + Send + Sync + 'static,
    {
        ErasedHook {
            name,
            is_async,
            f: Box::new(f),
        }
    }

    /// The hook as written in the attribute.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Debug for ErasedHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErasedHook")
            .field("name", &self.name)
            .field("is_async", &self.is_async)
            .finish_non_exhaustive()
    }
}

/// One hook of a terminal state, in its set's flattened plan: its event and
/// where it is (in the set's own lists, whose boxes never move).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Planned {
    event: Event,
    hook: *const ErasedHook,
}

impl Planned {
    /// The event and the hook.
    #[inline(always)]
    pub(crate) fn get(&self) -> (Event, &'static ErasedHook) {
        // SAFETY: a `Planned` is only reachable through a `&'static HookSet`
        // (`HookSet::terminal`), and points into that set's lists, which it
        // never changes after building: the hook lives as long as the set.
        (self.event, unsafe { &*self.hook })
    }
}

/// The hooks of one step or pipeline, per event.
#[derive(Debug)]
pub struct HookSet {
    lists: [Box<[ErasedHook]>; Event::COUNT],
    /// Each terminal state's hooks in firing order (see `Event::terminal`),
    /// flattened once, so that a call walks one slice.
    terminal: [Box<[Planned]>; 4],
    named: u8,
    /// Events with at least one hook.
    filled: u8,
    /// Events with at least one async hook.
    asyncs: u8,
}

impl HookSet {
    #[inline]
    pub(crate) fn get(&self, event: Event) -> &[ErasedHook] {
        &self.lists[event.index()]
    }

    /// Terminal state `status`'s hooks, in firing order.
    #[inline(always)]
    pub(crate) fn terminal(&'static self, status: Status) -> &'static [Planned] {
        &self.terminal[terminal_index(status)]
    }

    /// `true` when the attribute names `event` (even with an empty list).
    pub(crate) fn names(&self, event: Event) -> bool {
        self.named & (1 << event.index()) != 0
    }

    /// The events with hooks, as a bit set (`1 << event.index()`).
    #[inline]
    pub(crate) fn filled(&self) -> u8 {
        self.filled
    }

    /// The events with async hooks, as a bit set.
    #[inline]
    pub(crate) fn asyncs(&self) -> u8 {
        self.asyncs
    }

    /// A new empty set.
    #[doc(hidden)]
    pub fn empty_set() -> HookSet {
        HookSetBuilder::new().build()
    }

    /// The set with no hooks.
    #[doc(hidden)]
    pub fn none() -> &'static HookSet {
        static EMPTY: OnceLock<HookSet> = OnceLock::new();
        EMPTY.get_or_init(|| HookSetBuilder::new().build())
    }
}

/// Collects the hooks of an attribute, in the order written.
#[derive(Debug, Default)]
pub struct HookSetBuilder {
    lists: [Vec<ErasedHook>; Event::COUNT],
    named: u8,
}

impl HookSetBuilder {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks `event` as named by the attribute (its list replaces a pipeline
    /// default, even when empty).
    pub fn name_event(&mut self, event: Event) {
        self.named |= 1 << event.index();
    }

    #[doc(hidden)]
    pub fn __push(&mut self, event: Event, hook: ErasedHook) {
        self.name_event(event);
        self.lists[event.index()].push(hook);
    }

    /// The finished set.
    pub fn build(mut self) -> HookSet {
        for list in &mut self.lists {
            distinct_names(list);
        }
        let filled = self.lists.iter().enumerate().fold(0u8, |bits, (i, l)| {
            if l.is_empty() {
                bits
            } else {
                bits | 1 << i
            }
        });
        let asyncs = self.lists.iter().enumerate().fold(0u8, |bits, (i, l)| {
            if l.iter().any(ErasedHook::is_async) {
                bits | 1 << i
            } else {
                bits
            }
        });
        let lists = self.lists.map(Vec::into_boxed_slice);
        let terminal = [
            Status::Completed,
            Status::Failed,
            Status::Crashed,
            Status::Cancelled,
        ]
        .map(|status| {
            Event::terminal(status)
                .iter()
                .flat_map(|&event| {
                    lists[event.index()].iter().map(move |hook| Planned {
                        event,
                        hook: std::ptr::from_ref(hook),
                    })
                })
                .collect::<Box<[Planned]>>()
        });
        HookSet {
            lists,
            terminal,
            named: self.named,
            filled,
            asyncs,
        }
    }
}

/// Where terminal state `status`'s plan is in `HookSet::terminal`.
#[inline(always)]
fn terminal_index(status: Status) -> usize {
    match status {
        Status::Completed => 0,
        Status::Failed => 1,
        Status::Crashed => 2,
        Status::Cancelled | Status::Running => 3,
    }
}

// SAFETY: the raw pointers of `terminal` point into the set's own `lists`
// (boxes that never move or change once built) of `Send + Sync` hooks; they
// are read only through a shared, `'static` set.
unsafe impl Send for HookSet {}
// SAFETY: see `Send` above.
unsafe impl Sync for HookSet {}

/// Gives the second and later hooks of one name in one event's list the
/// names `name#2`, `name#3`, …: a hook's name identifies its call (in hook
/// outcomes, and in the delivery key of a durable run).
pub(crate) fn distinct_names(list: &mut [ErasedHook]) {
    for i in 1..list.len() {
        let name = list[i].name;
        let n = list[..i].iter().filter(|h| h.name == name).count();
        if n > 0 {
            // Once per hook set, which lives as long as the program.
            list[i].name = Box::leak(format!("{name}#{}", n + 1).into_boxed_str());
        }
    }
}

/// A lazily built, program-lifetime value (the hook sets of a step or
/// pipeline, built on first call).
#[derive(Debug)]
pub struct HookCell<T>(OnceLock<T>);

impl<T> HookCell<T> {
    /// An empty cell.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        HookCell(OnceLock::new())
    }

    /// The value, built by `build` on first use. If building panics (a call
    /// that builds a hook panicked), `fallback` is used instead and the
    /// panic is reported once: the step runs, without those hooks.
    #[inline]
    pub fn get_or_build(
        &'static self,
        name: &'static str,
        build: fn() -> T,
        fallback: fn() -> T,
    ) -> &'static T {
        match self.0.get() {
            Some(value) => value,
            None => self.build(name, build, fallback),
        }
    }

    #[cold]
    #[inline(never)]
    fn build(
        &'static self,
        name: &'static str,
        build: fn() -> T,
        fallback: fn() -> T,
    ) -> &'static T {
        self.0.get_or_init(|| match catch_unwind(build) {
            Ok(value) => value,
            Err(payload) => {
                tracing::error!(
                    name,
                    panic = %crate::secret::redact(&panic_message(&*payload)),
                    "building the hooks of this step or pipeline panicked; it runs without them"
                );
                fallback()
            }
        })
    }
}

/// The hooks of a pipeline: its own, and the defaults for its steps.
#[derive(Debug)]
pub struct PipelineHooks {
    pub(crate) own: HookSet,
    pub(crate) steps: HookSet,
}

impl PipelineHooks {
    /// Pairs the run's own hooks with the `steps(..)` defaults.
    pub fn new(own: HookSet, steps: HookSet) -> Self {
        PipelineHooks { own, steps }
    }

    /// No hooks.
    pub fn none() -> Self {
        PipelineHooks::new(HookSetBuilder::new().build(), HookSetBuilder::new().build())
    }
}
