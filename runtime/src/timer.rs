//! Timers for step timeouts, retry delays and hook time bounds, that never
//! panic whatever runtime (or none) polls them.
//!
//! Tokio's own timer panics when the runtime was built without
//! `enable_time`, and Tokio offers no way to ask first. So hookflow keeps a
//! timer thread of its own (a small Tokio runtime with timers, started on
//! first use) and uses it for every bound, with one exception: when the
//! caller's Tokio clock is **paused** (`tokio::time::pause`, test-util),
//! which proves its time driver is on, the caller's timer is used, so that
//! tests that advance the paused clock see timeouts fire at the paused
//! clock's time. Telling a paused clock apart reads clocks only.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A bound in time: completes once `duration` has passed.
pub(crate) enum Timer {
    Tokio(Pin<Box<tokio::time::Sleep>>),
    Own(OwnTimer),
    /// No timer could be had (no thread could be started): never fires.
    Never,
}

/// `true` when this thread runs inside a Tokio runtime whose clock is
/// paused: the Tokio clock then stands still while the real one moves.
fn tokio_clock_paused() -> bool {
    if tokio::runtime::Handle::try_current().is_err() {
        return false;
    }
    let before = std::time::Instant::now();
    let tokio_now = tokio::time::Instant::now().into_std();
    let after = std::time::Instant::now();
    !(before <= tokio_now && tokio_now <= after)
}

/// A timer of `duration`, started now.
pub(crate) fn sleep(duration: Duration) -> Timer {
    if tokio_clock_paused() {
        return Timer::Tokio(Box::pin(tokio::time::sleep(duration)));
    }
    match OwnTimer::start(duration) {
        Some(t) => Timer::Own(t),
        None => Timer::Never,
    }
}

impl Future for Timer {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.get_mut() {
            Timer::Tokio(sleep) => sleep.as_mut().poll(cx),
            Timer::Own(t) => t.poll(cx),
            Timer::Never => Poll::Pending,
        }
    }
}

struct Shared {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

/// A timer on hookflow's timer thread.
pub(crate) struct OwnTimer {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// The timer thread's runtime, started on first use.
fn timer_runtime() -> Option<&'static tokio::runtime::Handle> {
    static HANDLE: OnceLock<Option<tokio::runtime::Handle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .ok()?;
            let handle = rt.handle().clone();
            std::thread::Builder::new()
                .name("hookflow-timer".into())
                .spawn(move || rt.block_on(std::future::pending::<()>()))
                .ok()?;
            Some(handle)
        })
        .as_ref()
}

impl OwnTimer {
    fn start(duration: Duration) -> Option<OwnTimer> {
        let handle = timer_runtime()?;
        let shared = Arc::new(Shared {
            fired: AtomicBool::new(false),
            waker: Mutex::new(None),
        });
        let s = shared.clone();
        let task = handle.spawn(async move {
            tokio::time::sleep(duration).await;
            s.fired.store(true, Ordering::Release);
            if let Some(w) = s.waker.lock().unwrap_or_else(|p| p.into_inner()).take() {
                w.wake();
            }
        });
        Some(OwnTimer { shared, task })
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.shared.fired.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        *self.shared.waker.lock().unwrap_or_else(|p| p.into_inner()) = Some(cx.waker().clone());
        // It may have fired between the check and storing the waker.
        if self.shared.fired.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Drop for OwnTimer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
