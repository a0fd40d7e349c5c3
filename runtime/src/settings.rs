//! The settings seam: where a step's or pipeline's effective retries,
//! delay, timeout and hook lists come from.
//!
//! Three layers, highest first: an installed configuration ([`Overrides`],
//! from a config file), the attribute (the static `StepMeta` /
//! `PipelineMeta` and the hook sets built from it), and process defaults.
//! With nothing installed, reading the overrides is one atomic load and one
//! branch; with a configuration installed, finding a step's settings is an
//! index into a table by the step's position in the registry (no hashing).
//!
//! An installed configuration lives for the rest of the process: a step
//! call reads the active one once, when it starts, and keeps using it even
//! if another is installed meanwhile, so every call sees one consistent
//! configuration. Installing is rare (once at start-up, or per test), so
//! the replaced configurations are kept rather than freed.

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::time::Duration;

use crate::event::Event;
use crate::hook::ErasedHook;
use crate::meta::{registry, PipelineMeta, StepMeta};

/// Hook lists per event; `None` where the layer says nothing for an event.
#[derive(Default)]
pub(crate) struct Lists([Option<Box<[ErasedHook]>>; Event::COUNT]);

impl Lists {
    /// The list this layer sets for `event` (`Some(&[])` switches the
    /// event's hooks off).
    #[inline]
    pub(crate) fn get(&self, event: Event) -> Option<&[ErasedHook]> {
        self.0[event.index()].as_deref()
    }

    /// Sets the list for `event`, replacing any earlier one.
    pub(crate) fn set(&mut self, event: Event, mut hooks: Vec<ErasedHook>) {
        crate::hook::distinct_names(&mut hooks);
        self.0[event.index()] = Some(hooks.into_boxed_slice());
    }

    /// `true` when no event is set.
    #[allow(dead_code)] // part of the seam's API
    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }
}

/// What a configuration sets for one step.
#[derive(Default)]
pub(crate) struct StepSettings {
    pub(crate) retries: Option<u32>,
    pub(crate) retry_delay: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) hooks: Lists,
}

/// What a configuration sets for one pipeline.
#[derive(Default)]
pub(crate) struct PipelineSettings {
    pub(crate) durable: Option<bool>,
    /// The run's own hooks.
    pub(crate) hooks: Lists,
    /// Defaults for the steps of the run (`[pipelines.NAME.steps]`).
    pub(crate) steps: Lists,
}

/// Settings per static description: a slot per entry of the registry
/// slice, found by the description's address (the generated code passes
/// the very element of the slice), and a short list for descriptions that
/// are not in the registry.
struct Table<M: 'static, S> {
    registry: &'static [M],
    slots: Vec<Option<S>>,
    outside: Vec<(usize, S)>,
    any: bool,
}

impl<M: 'static, S: Default> Table<M, S> {
    fn new(registry: &'static [M]) -> Self {
        Table {
            registry,
            slots: Vec::new(),
            outside: Vec::new(),
            any: false,
        }
    }

    /// The position of `meta` in the registry, if it is an element of it.
    #[inline]
    fn slot(&self, meta: &'static M) -> Option<usize> {
        let size = std::mem::size_of::<M>();
        let offset = (meta as *const M as usize).wrapping_sub(self.registry.as_ptr() as usize);
        let index = offset / size.max(1);
        (size != 0 && offset.is_multiple_of(size) && index < self.registry.len()).then_some(index)
    }

    fn get_mut(&mut self, meta: &'static M) -> &mut S {
        self.any = true;
        match self.slot(meta) {
            Some(i) => {
                if self.slots.len() <= i {
                    self.slots.resize_with(self.registry.len(), || None);
                }
                self.slots[i].get_or_insert_with(S::default)
            }
            None => {
                let key = meta as *const M as usize;
                let at = match self.outside.iter().position(|(k, _)| *k == key) {
                    Some(at) => at,
                    None => {
                        self.outside.push((key, S::default()));
                        self.outside.len() - 1
                    }
                };
                &mut self.outside[at].1
            }
        }
    }

    #[inline]
    fn get(&self, meta: &'static M) -> Option<&S> {
        if !self.any {
            return None;
        }
        match self.slot(meta) {
            Some(i) => self.slots.get(i).and_then(Option::as_ref),
            None => {
                let key = meta as *const M as usize;
                self.outside.iter().find(|(k, _)| *k == key).map(|(_, s)| s)
            }
        }
    }
}

/// A configuration, resolved: settings per step and pipeline, keyed by
/// their static descriptions.
pub(crate) struct Overrides {
    steps: Table<StepMeta, StepSettings>,
    pipelines: Table<PipelineMeta, PipelineSettings>,
}

impl Default for Overrides {
    fn default() -> Self {
        Overrides {
            steps: Table::new(registry::steps()),
            pipelines: Table::new(registry::pipelines()),
        }
    }
}

impl Overrides {
    /// The settings of `meta`, created empty on first use.
    pub(crate) fn step_mut(&mut self, meta: &'static StepMeta) -> &mut StepSettings {
        self.steps.get_mut(meta)
    }

    /// The settings of `meta`, created empty on first use.
    pub(crate) fn pipeline_mut(&mut self, meta: &'static PipelineMeta) -> &mut PipelineSettings {
        self.pipelines.get_mut(meta)
    }

    /// What this configuration sets for `meta`.
    #[inline]
    pub(crate) fn step(&self, meta: &'static StepMeta) -> Option<&StepSettings> {
        self.steps.get(meta)
    }

    /// What this configuration sets for `meta`.
    #[inline]
    pub(crate) fn pipeline(&self, meta: &'static PipelineMeta) -> Option<&PipelineSettings> {
        self.pipelines.get(meta)
    }
}

static ACTIVE: AtomicPtr<Overrides> = AtomicPtr::new(std::ptr::null_mut());

/// Makes `overrides` the process's active configuration for every step call
/// and pipeline run that starts from now on.
pub(crate) fn install(overrides: Overrides) {
    let ptr = Box::into_raw(Box::new(overrides));
    // The previous configuration may still be read by calls in flight: it
    // is kept (see the module doc).
    ACTIVE.store(ptr, Ordering::Release);
}

/// Removes the active configuration: calls that start from now on use
/// their attributes only.
pub(crate) fn uninstall() {
    ACTIVE.store(std::ptr::null_mut(), Ordering::Release);
}

/// The active configuration, if one was installed.
#[inline]
pub(crate) fn active() -> Option<&'static Overrides> {
    let ptr = ACTIVE.load(Ordering::Acquire);
    // SAFETY: a non-null pointer comes from `Box::into_raw` in `install` and
    // is never freed (see the module doc), so it is valid for 'static.
    unsafe { ptr.as_ref() }
}

// ----- process defaults ---------------------------------------------------

static HOOK_TIMEOUT_NANOS: AtomicU64 = AtomicU64::new(10_000_000_000);

/// The default time bound of async hooks (10 s unless changed); a run can
/// set its own with [`Run::hook_timeout`](crate::Run::hook_timeout).
pub fn default_hook_timeout() -> Duration {
    Duration::from_nanos(HOOK_TIMEOUT_NANOS.load(Ordering::Relaxed))
}

/// Changes the default time bound of async hooks for the whole process.
pub fn set_default_hook_timeout(bound: Duration) {
    let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
    HOOK_TIMEOUT_NANOS.store(nanos, Ordering::Relaxed);
}
