//! The vocabulary of the lifecycle: events, as one typed table.
//!
//! Everything here is plain data and imports nothing of the crate. The
//! macros mirror the table (`on_start` … `on_finish` keys, and which events
//! are failure-type); adding an event means adding a row here, a marker in
//! `signature::event` and its key in the macros' attribute parser.

use std::fmt;

use crate::status::Status;

/// A lifecycle event, the key a hook is attached under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Event {
    /// Before each attempt (`on_start`).
    Start,
    /// The step or run completed (`on_success`).
    Success,
    /// Failed for good, after all retries (`on_failure`).
    Failure,
    /// An attempt failed and another will follow (`on_retry`).
    Retry,
    /// The body panicked; fires before `on_failure` (`on_crash`).
    Crash,
    /// Cancelled (`on_cancel`).
    Cancel,
    /// Any terminal state, after the specific hooks (`on_finish`).
    Finish,
}

impl Event {
    /// How many events there are.
    pub const COUNT: usize = 7;

    /// Every event, in declaration order.
    pub const ALL: [Event; Event::COUNT] = [
        Event::Start,
        Event::Success,
        Event::Failure,
        Event::Retry,
        Event::Crash,
        Event::Cancel,
        Event::Finish,
    ];

    /// The attribute key: `on_start`, `on_success`, …
    pub fn key(self) -> &'static str {
        match self {
            Event::Start => "on_start",
            Event::Success => "on_success",
            Event::Failure => "on_failure",
            Event::Retry => "on_retry",
            Event::Crash => "on_crash",
            Event::Cancel => "on_cancel",
            Event::Finish => "on_finish",
        }
    }

    /// The event whose attribute key is `key` (`"on_failure"`).
    pub fn from_key(key: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.key() == key)
    }

    /// `true` for the failure-type events (`on_failure`, `on_retry`,
    /// `on_crash`), whose hooks may take the error.
    pub fn is_failure(self) -> bool {
        matches!(self, Event::Failure | Event::Retry | Event::Crash)
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// `events` as a bit set (`1 << index`).
    #[inline(always)]
    pub(crate) fn mask(events: &[Event]) -> u8 {
        events.iter().fold(0, |m, e| m | 1 << e.index())
    }

    /// The events of a terminal state as a bit set (`1 << index`).
    #[inline]
    pub(crate) fn terminal_mask(status: Status) -> u8 {
        const fn bit(e: Event) -> u8 {
            1 << e as usize
        }
        match status {
            Status::Completed => bit(Event::Success) | bit(Event::Finish),
            Status::Failed => bit(Event::Failure) | bit(Event::Finish),
            Status::Crashed => bit(Event::Crash) | bit(Event::Failure) | bit(Event::Finish),
            Status::Cancelled | Status::Running => bit(Event::Cancel) | bit(Event::Finish),
        }
    }

    /// The events of a terminal state, in firing order: `on_crash` (after a
    /// panic), then the specific event, then `on_finish`.
    pub(crate) fn terminal(status: Status) -> &'static [Event] {
        match status {
            Status::Completed => &[Event::Success, Event::Finish],
            Status::Failed => &[Event::Failure, Event::Finish],
            Status::Crashed => &[Event::Crash, Event::Failure, Event::Finish],
            Status::Cancelled | Status::Running => &[Event::Cancel, Event::Finish],
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
