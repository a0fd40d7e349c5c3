//! The states of a step call or pipeline run.

use std::fmt;

/// The state of a step call or pipeline run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Status {
    /// Still running (what [`current()`](crate::current) sees in a body).
    Running,
    /// Finished with a value.
    Completed,
    /// Returned an error or timed out, after all retries.
    Failed,
    /// Panicked.
    Crashed,
    /// Its future was dropped, or its run cancelled.
    Cancelled,
}

impl Status {
    /// The lower-case name used in logs and templates: `running`,
    /// `completed`, `failed`, `crashed`, `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Crashed => "crashed",
            Status::Cancelled => "cancelled",
        }
    }

    /// `false` only for [`Status::Running`].
    pub fn is_terminal(self) -> bool {
        self != Status::Running
    }

    pub(crate) fn from_u8(v: u8) -> Status {
        match v {
            1 => Status::Completed,
            2 => Status::Failed,
            3 => Status::Crashed,
            4 => Status::Cancelled,
            _ => Status::Running,
        }
    }

    pub(crate) fn to_u8(self) -> u8 {
        match self {
            Status::Running => 0,
            Status::Completed => 1,
            Status::Failed => 2,
            Status::Crashed => 3,
            Status::Cancelled => 4,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
