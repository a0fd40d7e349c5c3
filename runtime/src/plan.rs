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
    /// That event's hooks.
    list: &'static [ErasedHook],
    /// The next hook within `list`.
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

    #[inline]
    fn of(lookup: Lookup, events: &'static [Event]) -> Plan {
        let list = match events.first() {
            Some(&first) => lookup.get(first),
            None => &[],
        };
        Plan {
            lookup,
            events,
            event: 0,
            list,
            hook: 0,
        }
    }

    /// The next hook, without taking it.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<(Event, &'static ErasedHook)> {
        loop {
            if let Some(hook) = self.list.get(self.hook) {
                return Some((self.events[self.event], hook));
            }
            self.event += 1;
            let &event = self.events.get(self.event)?;
            self.list = self.lookup.get(event);
            self.hook = 0;
        }
    }

    /// Takes the next hook: from now on it counts as called.
    #[allow(clippy::should_implement_trait)]
    #[inline]
    pub(crate) fn next(&mut self) -> Option<(Event, &'static ErasedHook)> {
        let next = self.peek()?;
        self.hook += 1;
        Some(next)
    }

    /// Takes the next `n` hooks (already called elsewhere).
    pub(crate) fn pass(&mut self, n: usize) {
        for _ in 0..n {
            self.next();
        }
    }

    /// `true` when no hook is left.
    pub(crate) fn is_done(&mut self) -> bool {
        self.peek().is_none()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::{HookCall, HookSet, HookSetBuilder};
    use crate::lookup::Level;

    fn hook(name: &'static str, is_async: bool) -> ErasedHook {
        ErasedHook::new(name, is_async, |_| HookCall::Ready(Ok(())))
    }

    fn set(hooks: &[(Event, &'static str, bool)], named: &[Event]) -> &'static HookSet {
        let mut b = HookSetBuilder::new();
        for &e in named {
            b.name_event(e);
        }
        for &(e, name, is_async) in hooks {
            b.__push(e, hook(name, is_async));
        }
        Box::leak(Box::new(b.build()))
    }

    fn names(plan: Plan) -> Vec<String> {
        plan.map(|(e, h)| format!("{e}:{}", h.name())).collect()
    }

    fn own(attr: &'static HookSet) -> Lookup {
        Lookup::new(Level::attr(attr), None)
    }

    #[test]
    fn a_terminal_plan_walks_events_in_order_and_hooks_as_written() {
        let s = set(
            &[
                (Event::Finish, "f", false),
                (Event::Failure, "a", false),
                (Event::Crash, "c", false),
                (Event::Failure, "b", false),
                (Event::Success, "s", false),
            ],
            &[],
        );
        assert_eq!(
            names(Plan::terminal(own(s), Status::Crashed)),
            ["on_crash:c", "on_failure:a", "on_failure:b", "on_finish:f"]
        );
        assert_eq!(
            names(Plan::terminal(own(s), Status::Completed)),
            ["on_success:s", "on_finish:f"]
        );
        assert_eq!(
            names(Plan::terminal(own(s), Status::Cancelled)),
            ["on_finish:f"]
        );
        assert_eq!(
            names(Plan::event(own(s), Event::Start)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn the_cursor_resumes_exactly_after_the_hooks_taken() {
        let s = set(
            &[
                (Event::Failure, "a", false),
                (Event::Failure, "b", true),
                (Event::Finish, "f", false),
            ],
            &[],
        );
        let mut plan = Plan::terminal(own(s), Status::Failed);
        assert_eq!(plan.next().map(|(_, h)| h.name()), Some("a"));
        assert_eq!(plan.peek().map(|(_, h)| h.name()), Some("b"));
        // Peeking takes nothing.
        assert_eq!(plan.next().map(|(_, h)| h.name()), Some("b"));
        // Dropped mid-plan: what is left is exactly the rest.
        let rest: Vec<_> = plan.drain().into_iter().map(|(_, h)| h.name()).collect();
        assert_eq!(rest, ["f"]);
        assert!(plan.is_done());
        assert!(plan.drain().is_empty(), "nothing fires twice");
    }

    #[test]
    fn all_sync_sees_async_hooks_of_the_events_asked_about() {
        let s = set(
            &[(Event::Success, "async", true), (Event::Finish, "f", false)],
            &[],
        );
        let lookup = own(s);
        assert!(!lookup.all_sync(Event::terminal(Status::Completed)));
        assert!(lookup.all_sync(Event::terminal(Status::Failed)));
        let with_defaults = Lookup::new(Level::attr(set(&[], &[])), Some(Level::attr(s)));
        assert!(!with_defaults.all_sync(&[Event::Success]));
        assert!(with_defaults.all_sync(&[Event::Finish]));
    }

    #[test]
    fn step_lists_replace_pipeline_defaults_per_event() {
        let step = set(&[(Event::Failure, "step-failure", false)], &[Event::Finish]);
        let defaults = set(
            &[
                (Event::Failure, "default-failure", false),
                (Event::Finish, "default-finish", false),
                (Event::Crash, "default-crash", false),
            ],
            &[],
        );
        let lookup = Lookup::new(Level::attr(step), Some(Level::attr(defaults)));
        // `on_failure` is the step's own, `on_finish` is named empty by the
        // step (switched off), `on_crash` is inherited.
        assert_eq!(
            names(Plan::terminal(lookup, Status::Crashed)),
            ["on_crash:default-crash", "on_failure:step-failure"]
        );
    }
}
