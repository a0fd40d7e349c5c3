//! Time stamps: read from the monotonic clock on hot paths, turned into
//! wall-clock time only when a hook asks.
//!
//! With the `tsc-clock` feature on x86-64, a stamp is a raw read of the
//! processor's time-stamp counter (a few nanoseconds, against ~25 ns for
//! `Instant::now` through the vDSO on a typical VM), used only where the
//! counter is invariant and the kernel itself keeps time with it
//! (`clocksource` is `tsc`); elsewhere, and without the feature, `Instant`.
//! There is no calibration pause: the counter's rate is measured against
//! `Instant` over the time since the first stamp, when a hook first asks
//! for a duration or a time of day.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// A point in time, read from the monotonic clock on hot paths and turned
/// into wall-clock time only when asked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stamp {
    Mono(Instant),
    Wall(SystemTime),
    /// A time-stamp-counter reading (`tsc-clock`).
    #[cfg(all(feature = "tsc-clock", target_arch = "x86_64"))]
    Tsc(u64),
}

/// The first reading of the process: where monotonic, wall-clock and
/// counter time are tied together.
struct Anchor {
    instant: Instant,
    wall: SystemTime,
    #[cfg(all(feature = "tsc-clock", target_arch = "x86_64"))]
    tsc: Option<u64>,
}

fn anchor() -> &'static Anchor {
    static ANCHOR: OnceLock<Anchor> = OnceLock::new();
    ANCHOR.get_or_init(|| Anchor {
        instant: Instant::now(),
        wall: SystemTime::now(),
        #[cfg(all(feature = "tsc-clock", target_arch = "x86_64"))]
        tsc: tsc::usable().then(tsc::read),
    })
}

impl Stamp {
    /// A placeholder, overwritten before anyone reads it.
    pub(crate) const UNSET: Stamp = Stamp::Wall(SystemTime::UNIX_EPOCH);

    #[inline]
    pub(crate) fn now() -> Stamp {
        #[cfg(all(feature = "tsc-clock", target_arch = "x86_64"))]
        if tsc::usable() {
            return Stamp::Tsc(tsc::read());
        }
        Stamp::Mono(Instant::now())
    }

    /// As monotonic time (for stamps of the process's own clocks).
    fn instant(self) -> Option<Instant> {
        match self {
            Stamp::Mono(i) => Some(i),
            Stamp::Wall(_) => None,
            #[cfg(all(feature = "tsc-clock", target_arch = "x86_64"))]
            Stamp::Tsc(t) => tsc::to_instant(t),
        }
    }

    pub(crate) fn wall(self) -> SystemTime {
        if let Stamp::Wall(t) = self {
            return t;
        }
        let a = anchor();
        match self.instant() {
            Some(i) if i >= a.instant => a.wall + (i - a.instant),
            Some(i) => a.wall - (a.instant - i),
            None => a.wall,
        }
    }

    pub(crate) fn since(self, earlier: Stamp) -> Duration {
        #[cfg(all(feature = "tsc-clock", target_arch = "x86_64"))]
        if let (Stamp::Tsc(a), Stamp::Tsc(b)) = (earlier, self) {
            return tsc::ticks_to_duration(b.saturating_sub(a));
        }
        match (earlier.instant(), self.instant()) {
            (Some(a), Some(b)) => b.saturating_duration_since(a),
            _ => self
                .wall()
                .duration_since(earlier.wall())
                .unwrap_or_default(),
        }
    }
}

#[cfg(all(feature = "tsc-clock", target_arch = "x86_64"))]
mod tsc {
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::time::{Duration, Instant};

    #[inline]
    pub(super) fn read() -> u64 {
        // SAFETY: `rdtsc` has no preconditions on x86-64.
        unsafe { core::arch::x86_64::_rdtsc() }
    }

    /// 0: not checked yet, 1: usable, 2: not usable.
    static USABLE: AtomicU8 = AtomicU8::new(0);

    #[inline]
    pub(super) fn usable() -> bool {
        match USABLE.load(Ordering::Relaxed) {
            1 => true,
            2 => false,
            _ => check(),
        }
    }

    #[cold]
    fn check() -> bool {
        let max = core::arch::x86_64::__cpuid(0x8000_0000).eax;
        let invariant =
            max >= 0x8000_0007 && core::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0;
        // The kernel keeps time with the counter only when it trusts it
        // (synchronised across cores, not stopping in sleep states).
        let kernel_trusts = std::fs::read_to_string(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
        )
        .is_ok_and(|s| s.trim() == "tsc");
        let ok = invariant && kernel_trusts;
        USABLE.store(if ok { 1 } else { 2 }, Ordering::Relaxed);
        if ok {
            // Tie the counter to `Instant` now, at the first stamp.
            let _ = super::anchor();
        }
        ok
    }

    /// Counter ticks per nanosecond, measured from the anchor to now.
    fn ticks_per_ns() -> Option<f64> {
        let a = super::anchor();
        let t0 = a.tsc?;
        let (t1, i1) = (read(), Instant::now());
        let ns = i1.saturating_duration_since(a.instant).as_nanos() as f64;
        let ticks = t1.saturating_sub(t0) as f64;
        (ns > 0.0 && ticks > 0.0).then(|| ticks / ns)
    }

    pub(super) fn ticks_to_duration(ticks: u64) -> Duration {
        match ticks_per_ns() {
            Some(rate) => Duration::from_nanos((ticks as f64 / rate) as u64),
            None => Duration::ZERO,
        }
    }

    pub(super) fn to_instant(t: u64) -> Option<Instant> {
        let a = super::anchor();
        let t0 = a.tsc?;
        let rate = ticks_per_ns()?;
        let ns = (t as f64 - t0 as f64) / rate;
        if ns >= 0.0 {
            a.instant.checked_add(Duration::from_nanos(ns as u64))
        } else {
            a.instant.checked_sub(Duration::from_nanos((-ns) as u64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_measure_time_and_tell_the_time_of_day() {
        let before = SystemTime::now();
        let a = Stamp::now();
        std::thread::sleep(Duration::from_millis(20));
        let b = Stamp::now();
        let took = b.since(a);
        assert!(took >= Duration::from_millis(19), "{took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        assert_eq!(a.since(b), Duration::ZERO, "never negative");
        let wall = b.wall();
        let off = wall.duration_since(before).unwrap_or_else(|e| e.duration());
        assert!(off < Duration::from_secs(2), "{off:?}");
        // A wall-clock stamp (from a context built by hand) mixes with them.
        let w = Stamp::Wall(SystemTime::now() + Duration::from_secs(1));
        assert!(w.since(b) >= Duration::from_millis(900));
    }
}
