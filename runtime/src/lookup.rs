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
use crate::hook::{ErasedHook, HookSet, Planned};
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
/// a run, the run's step defaults. Which events have hooks, and which have
/// async ones, are worked out once when it is made, so that every "any
/// hooks?" on the call's path is one bit test.
#[derive(Clone, Copy)]
pub(crate) struct Lookup {
    own: Level,
    defaults: Option<Level>,
    /// Events with at least one hook (`1 << index`), and [`MERGED`] when a
    /// configured list or run defaults take part.
    filled: u8,
    /// Events with at least one async hook.
    asyncs: u8,
}

/// The bit of [`Lookup::filled`] above the events': lists come from more
/// than the attribute's own set.
const MERGED: u8 = 1 << Event::COUNT;
const _: () = assert!(Event::COUNT < 8, "the event bits and MERGED fit in a u8");

impl Lookup {
    /// The attribute's own set alone (the common case).
    #[inline(always)]
    pub(crate) fn own(attr: &'static HookSet) -> Lookup {
        Lookup {
            own: Level::attr(attr),
            defaults: None,
            filled: attr.filled(),
            asyncs: attr.asyncs(),
        }
    }

    pub(crate) fn new(own: Level, defaults: Option<Level>) -> Lookup {
        if defaults.is_none() && own.cfg.is_none() {
            return Lookup::own(own.attr);
        }
        Lookup::merged(own, defaults)
    }

    /// A lookup with configured lists or run defaults: each event's list
    /// is decided here once for the masks (out of line: a call with the
    /// attribute's own set never comes here).
    #[inline(never)]
    fn merged(own: Level, defaults: Option<Level>) -> Lookup {
        let mut lookup = Lookup {
            own,
            defaults,
            filled: MERGED,
            asyncs: 0,
        };
        for event in Event::ALL {
            let list = lookup.get_merged(event);
            let bit = 1 << event.index();
            if !list.is_empty() {
                lookup.filled |= bit;
            }
            if list.iter().any(ErasedHook::is_async) {
                lookup.asyncs |= bit;
            }
        }
        lookup
    }

    /// No hooks at all (a call from inside a hook).
    pub(crate) fn none() -> Lookup {
        Lookup::own(HookSet::none())
    }

    /// The hooks that fire for `event`, in order.
    #[inline(always)]
    pub(crate) fn get(&self, event: Event) -> &'static [ErasedHook] {
        if self.filled & MERGED == 0 {
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

    /// Terminal state `status`'s hooks as one slice, when the attribute's
    /// own set alone decides them (`None`: walk a [`Plan`](crate::plan::Plan)).
    #[inline(always)]
    pub(crate) fn terminal(&self, status: Status) -> Option<&'static [Planned]> {
        (self.filled & MERGED == 0).then(|| self.own.attr.terminal(status))
    }

    /// `true` when some hook fires for `event`.
    #[inline(always)]
    pub(crate) fn has(&self, event: Event) -> bool {
        self.filled & (1 << event.index()) != 0
    }

    /// `true` when no hook of `events` is async.
    #[inline(always)]
    pub(crate) fn all_sync(&self, events: &[Event]) -> bool {
        self.asyncs & Event::mask(events) == 0
    }

    /// `true` when some hook fires for the terminal state `status`.
    #[inline(always)]
    pub(crate) fn any_terminal(&self, status: Status) -> bool {
        self.filled & Event::terminal_mask(status) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::{HookCall, HookSetBuilder};

    fn hook(name: &'static str, is_async: bool) -> ErasedHook {
        ErasedHook::new(name, is_async, |_| HookCall::Ready(Ok(())))
    }

    /// A set with `hooks` (event, async?) and `named` events named empty.
    fn set(hooks: &[(Event, bool)], named: &[Event]) -> &'static HookSet {
        let mut b = HookSetBuilder::new();
        for &e in named {
            b.name_event(e);
        }
        for &(e, is_async) in hooks {
            b.__push(e, hook("h", is_async));
        }
        Box::leak(Box::new(b.build()))
    }

    fn lists(set: &[(Event, Vec<bool>)]) -> &'static Lists {
        let mut l = Lists::default();
        for (e, hooks) in set {
            l.set(*e, hooks.iter().map(|&a| hook("c", a)).collect());
        }
        Box::leak(Box::new(l))
    }

    /// The masks a lookup answers with agree with the lists it gives.
    fn assert_masks_agree(lookup: Lookup) {
        for event in Event::ALL {
            let list = lookup.get(event);
            assert_eq!(lookup.has(event), !list.is_empty(), "{event}");
            assert_eq!(
                lookup.all_sync(&[event]),
                list.iter().all(|h| !h.is_async()),
                "{event}"
            );
        }
        for status in [
            Status::Completed,
            Status::Failed,
            Status::Crashed,
            Status::Cancelled,
        ] {
            let any = Event::terminal(status)
                .iter()
                .any(|&e| !lookup.get(e).is_empty());
            assert_eq!(lookup.any_terminal(status), any, "{status:?}");
        }
    }

    #[test]
    fn the_masks_of_every_kind_of_lookup_agree_with_its_lists() {
        let own = set(
            &[(Event::Success, false), (Event::Finish, true)],
            &[Event::Failure],
        );
        let defaults = set(
            &[
                (Event::Failure, false),
                (Event::Start, true),
                (Event::Cancel, false),
            ],
            &[],
        );
        let cfg = lists(&[(Event::Success, vec![]), (Event::Crash, vec![true, false])]);
        let cases = [
            Lookup::own(own),
            Lookup::new(Level::attr(own), None),
            Lookup::new(
                Level {
                    attr: own,
                    cfg: Some(cfg),
                },
                None,
            ),
            Lookup::new(Level::attr(own), Some(Level::attr(defaults))),
            Lookup::new(
                Level {
                    attr: own,
                    cfg: Some(cfg),
                },
                Some(Level {
                    attr: defaults,
                    cfg: Some(cfg),
                }),
            ),
            Lookup::new(Level::attr(set(&[], &[])), Some(Level::attr(defaults))),
            Lookup::none(),
        ];
        for lookup in cases {
            assert_masks_agree(lookup);
        }
    }

    #[test]
    fn a_step_list_replaces_the_run_default_of_its_event_even_empty() {
        // The step names `on_failure` with nothing in it: the run's default
        // for that event does not fire; `on_start` it does not name does.
        let own = set(&[], &[Event::Failure]);
        let defaults = set(&[(Event::Failure, false), (Event::Start, false)], &[]);
        let lookup = Lookup::new(Level::attr(own), Some(Level::attr(defaults)));
        assert!(!lookup.has(Event::Failure));
        assert!(lookup.has(Event::Start));
        // A configured empty list switches an attribute's event off.
        let own = set(&[(Event::Success, false)], &[]);
        let off = lists(&[(Event::Success, vec![])]);
        let lookup = Lookup::new(
            Level {
                attr: own,
                cfg: Some(off),
            },
            None,
        );
        assert!(!lookup.has(Event::Success));
        assert!(!lookup.any_terminal(Status::Completed));
    }
}
