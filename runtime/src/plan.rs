//! A plan: the ordered `(event, hook)` list that one firing walks, with a
//! cursor.
//!
//! The same type serves every way hooks are fired: in place from sync code,
//! awaited one by one from async code, the rest handed to the hook thread
//! when sync code meets an async hook, and the rest fired from `Drop` when a
//! future is dropped mid-plan. The cursor says exactly which hooks have been
//! called, so none fires twice and none is skipped.

use crate::event::Event;
use crate::hook::ErasedHook;
use crate::lookup::Lookup;
use crate::status::Status;

#[derive(Clone, Copy)]
pub(crate) struct Plan {
    lookup: Lookup,
    events: &'static [Event],
    /// The event being walked (index into `events`).
    event: usize,
    /// The next hook within that event's list.
    hook: usize,
}

impl Plan {
    /// The hooks of one event (`on_start`, `on_retry`).
    pub(crate) fn event(lookup: Lookup, event: Event) -> Plan {
        let events: &'static [Event] = &Event::ALL[event.index()..=event.index()];
        Plan::of(lookup, events)
    }

    /// The hooks of a terminal state, in firing order.
    pub(crate) fn terminal(lookup: Lookup, status: Status) -> Plan {
        Plan::of(lookup, Event::terminal(status))
    }

    /// A plan with nothing left.
    pub(crate) fn empty() -> Plan {
        Plan::of(Lookup::none(), &[])
    }

    fn of(lookup: Lookup, events: &'static [Event]) -> Plan {
        Plan {
            lookup,
            events,
            event: 0,
            hook: 0,
        }
    }

    /// The next hook, without taking it.
    pub(crate) fn peek(&mut self) -> Option<(Event, &'static ErasedHook)> {
        while let Some(&event) = self.events.get(self.event) {
            if let Some(hook) = self.lookup.get(event).get(self.hook) {
                return Some((event, hook));
            }
            self.event += 1;
            self.hook = 0;
        }
        None
    }

    /// Takes the next hook: from now on it counts as called.
    #[allow(clippy::should_implement_trait)]
    pub(crate) fn next(&mut self) -> Option<(Event, &'static ErasedHook)> {
        let next = self.peek()?;
        self.hook += 1;
        Some(next)
    }

    /// `true` when no hook is left.
    pub(crate) fn is_done(&mut self) -> bool {
        self.peek().is_none()
    }

    /// `true` when no hook left is async (the rest can run in place).
    pub(crate) fn rest_is_sync(&self) -> bool {
        let mut p = *self;
        std::iter::from_fn(|| p.next()).all(|(_, h)| !h.is_async())
    }

    /// Takes every hook left.
    pub(crate) fn drain(&mut self) -> Vec<(Event, &'static ErasedHook)> {
        std::iter::from_fn(|| self.next()).collect()
    }
}

impl Iterator for Plan {
    type Item = (Event, &'static ErasedHook);

    fn next(&mut self) -> Option<Self::Item> {
        Plan::next(self)
    }
}
