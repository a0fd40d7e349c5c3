//! The hook-lookup seam: which hooks fire for one event of one step call or
//! pipeline run.
//!
//! The rules, once:
//! 1. At each level (a step, a pipeline's own hooks, a pipeline's
//!    `steps(..)` defaults), a configured list for an event replaces the
//!    attribute's list for that event (an empty configured list switches
//!    the event off).
//! 2. A step that names an event (in its attribute or its configuration)
//!    uses its own list; for the events it does not name, a step inside a
//!    run inherits the run's `steps(..)` defaults.

use crate::event::Event;
use crate::hook::{ErasedHook, HookSet};
use crate::settings::Lists;
use crate::status::Status;

/// One level's hooks: the attribute's set and the configured lists over it.
#[derive(Clone, Copy)]
pub(crate) struct Level {
    pub(crate) attr: &'static HookSet,
    pub(crate) cfg: Option<&'static Lists>,
}

impl Level {
    pub(crate) fn attr(attr: &'static HookSet) -> Level {
        Level { attr, cfg: None }
    }

    /// The level's list for `event` when it names the event.
    #[inline]
    fn named(self, event: Event) -> Option<&'static [ErasedHook]> {
        if let Some(list) = self.cfg.and_then(|c| c.get(event)) {
            return Some(list);
        }
        self.attr.names(event).then(|| self.attr.get(event))
    }

    /// The level's list for `event` (empty when it names nothing).
    #[inline]
    fn list(self, event: Event) -> &'static [ErasedHook] {
        self.named(event).unwrap_or_else(|| self.attr.get(event))
    }
}

/// The hooks of one step call or run: its own level and, for a step inside
/// a run, the run's step defaults.
#[derive(Clone, Copy)]
pub(crate) struct Lookup {
    own: Level,
    defaults: Option<Level>,
}

impl Lookup {
    pub(crate) fn new(own: Level, defaults: Option<Level>) -> Lookup {
        Lookup { own, defaults }
    }

    /// No hooks at all (a call from inside a hook).
    pub(crate) fn none() -> Lookup {
        Lookup::new(Level::attr(HookSet::none()), None)
    }

    /// The hooks that fire for `event`, in order.
    #[inline(always)]
    pub(crate) fn get(&self, event: Event) -> &'static [ErasedHook] {
        if self.defaults.is_none() && self.own.cfg.is_none() {
            // The attribute's own set alone (the common case).
            return self.own.attr.get(event);
        }
        self.get_merged(event)
    }

    /// [`get`](Self::get) with run defaults or a configured list.
    #[inline(never)]
    fn get_merged(&self, event: Event) -> &'static [ErasedHook] {
        match self.defaults {
            None => self.own.list(event),
            Some(d) => self.own.named(event).unwrap_or_else(|| d.list(event)),
        }
    }

    /// `true` when only the attribute's own set decides (no run defaults,
    /// no configuration): its bit mask answers "any hooks?" in one test.
    #[inline]
    fn attr_only(&self) -> bool {
        self.defaults.is_none() && self.own.cfg.is_none()
    }

    /// `true` when some hook fires for `event`.
    #[inline(always)]
    pub(crate) fn has(&self, event: Event) -> bool {
        if self.attr_only() {
            return self.own.attr.filled() & (1 << event.index()) != 0;
        }
        self.has_slow(event)
    }

    #[inline(never)]
    fn has_slow(&self, event: Event) -> bool {
        !self.get(event).is_empty()
    }

    /// `true` when no hook of `events` is async.
    #[inline(always)]
    pub(crate) fn all_sync(&self, events: &[Event]) -> bool {
        if self.attr_only() {
            let mask = events.iter().fold(0u8, |m, e| m | 1 << e.index());
            return self.own.attr.asyncs() & mask == 0;
        }
        self.all_sync_slow(events)
    }

    #[inline(never)]
    fn all_sync_slow(&self, events: &[Event]) -> bool {
        events
            .iter()
            .all(|&ev| self.get(ev).iter().all(|h| !h.is_async()))
    }

    /// `true` when some hook fires for one of `events`.
    #[inline]
    pub(crate) fn any(&self, events: &[Event]) -> bool {
        if self.attr_only() {
            let mask = events.iter().fold(0u8, |m, e| m | 1 << e.index());
            return self.own.attr.filled() & mask != 0;
        }
        events.iter().any(|&ev| !self.get(ev).is_empty())
    }

    /// `true` when some hook fires for the terminal state `status`.
    #[inline(always)]
    pub(crate) fn any_terminal(&self, status: Status) -> bool {
        if self.attr_only() {
            return self.own.attr.filled() & Event::terminal_mask(status) != 0;
        }
        self.any_terminal_slow(status)
    }

    #[inline(never)]
    fn any_terminal_slow(&self, status: Status) -> bool {
        self.any(Event::terminal(status))
    }
}
