//! Time stamps: read from the monotonic clock on hot paths, turned into
//! wall-clock time only when a hook asks.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// A point in time, read from the monotonic clock on hot paths and turned
/// into wall-clock time only when asked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stamp {
    Mono(Instant),
    Wall(SystemTime),
}

impl Stamp {
    pub(crate) fn now() -> Stamp {
        Stamp::Mono(Instant::now())
    }

    pub(crate) fn wall(self) -> SystemTime {
        match self {
            Stamp::Wall(t) => t,
            Stamp::Mono(i) => {
                static ANCHOR: OnceLock<(Instant, SystemTime)> = OnceLock::new();
                let (ai, aw) = *ANCHOR.get_or_init(|| (Instant::now(), SystemTime::now()));
                if i >= ai {
                    aw + (i - ai)
                } else {
                    aw - (ai - i)
                }
            }
        }
    }

    pub(crate) fn since(self, earlier: Stamp) -> Duration {
        match (earlier, self) {
            (Stamp::Mono(a), Stamp::Mono(b)) => b.saturating_duration_since(a),
            (a, b) => b.wall().duration_since(a.wall()).unwrap_or_default(),
        }
    }
}
