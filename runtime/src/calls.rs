//! The hook calls of one run, in the order they finished.
//!
//! A call that returned `Ok` (the common case) is one 16-byte slot: the
//! (program-lifetime) hook's address with the event in its three low bits,
//! and the step. Any other call is kept in full in a side list, and its slot
//! holds that list's index instead. Slots live in buckets of doubling size
//! (512, 1 024, 2 048, …) that never move; only the first append into a
//! bucket allocates it, uninitialised (a slot is written before it is read,
//! and pages the run never reaches are reserved, not touched).
//!
//! The thread that started the run (all of a sync run's steps, and an async
//! run's while it stays on its thread) appends with plain stores: it writes
//! the slot, then publishes the new length (no read-modify-write, which
//! costs more than the rest of the append). Other threads (spawned tasks,
//! the hook thread) append under a lock to a second list, each call tagged
//! with the first thread's length at that moment; a read merges the two
//! there. A call is thus placed after every call it could have seen, which
//! is the order they finished in, and a later read only ever adds calls at
//! the end.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::event::Event;
use crate::hook::ErasedHook;
use crate::meta::StepMeta;
use crate::outcome::{HookOutcome, HookStatus};

/// Slots in the first bucket; bucket `b` holds `FIRST << b`.
const FIRST: usize = 512;
/// Enough buckets for more slots than memory can hold (512 × 2³² slots).
const BUCKETS: usize = 32;
/// The low bits of a slot's word that mark an index into the full list.
const FULL: usize = 7;

const _: () = assert!(std::mem::align_of::<ErasedHook>() >= 8);
const _: () = assert!(Event::COUNT <= FULL);

/// One hook call: written once by the owner before it publishes the length
/// that covers it, read only after (so plain fields, no atomics).
#[derive(Clone, Copy)]
struct Slot {
    word: usize,
    step: *const StepMeta,
}

/// The hook calls of a run, in the order they finished (were recorded).
pub(crate) struct Calls {
    /// The thread that appends to the slots (see the module doc).
    owner: u64,
    /// Slots written so far (by the owner only).
    len: AtomicUsize,
    buckets: [AtomicPtr<Slot>; BUCKETS],
    /// Other threads' calls, each with the owner's `len` when it was
    /// recorded.
    others: Mutex<Vec<(usize, usize, *const StepMeta)>>,
    /// Calls that did not return `Ok`, in full.
    full: Mutex<Vec<HookOutcome>>,
}

// SAFETY: the raw step pointers in `others` come from `&'static StepMeta`
// (shared freely across threads); everything else is atomics and locks.
unsafe impl Send for Calls {}
// SAFETY: see `Send` above.
unsafe impl Sync for Calls {}

/// This thread's token: unique among the threads of the process, set on
/// first use.
#[inline]
fn thread_token() -> u64 {
    use std::cell::Cell;
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static TOKEN: Cell<u64> = const { Cell::new(0) };
    }
    TOKEN.with(|t| match t.get() {
        0 => {
            let token = NEXT.fetch_add(1, Ordering::Relaxed);
            t.set(token);
            token
        }
        token => token,
    })
}

/// The memory of bucket `bucket`.
fn bucket_layout(bucket: usize) -> Layout {
    Layout::array::<Slot>(FIRST << bucket).expect("a bucket fits in memory")
}

/// Bucket and offset of slot `index`.
#[inline(always)]
fn locate(index: usize) -> (usize, usize) {
    let j = index / FIRST + 1;
    let bucket = (usize::BITS - 1 - j.leading_zeros()) as usize;
    (bucket, index - FIRST * ((1 << bucket) - 1))
}

impl Default for Calls {
    /// An empty list, appended to without a lock by this thread.
    fn default() -> Self {
        Calls {
            owner: thread_token(),
            len: AtomicUsize::new(0),
            buckets: [const { AtomicPtr::new(ptr::null_mut()) }; BUCKETS],
            others: Mutex::new(Vec::new()),
            full: Mutex::new(Vec::new()),
        }
    }
}

impl Calls {
    /// Records a call that returned `Ok`.
    #[inline]
    pub(crate) fn push_ok(
        &self,
        hook: &'static ErasedHook,
        event: Event,
        step: Option<&'static StepMeta>,
    ) {
        self.push(hook as *const ErasedHook as usize | event.index(), step);
    }

    /// Records any other call, in full.
    pub(crate) fn push_full(&self, outcome: HookOutcome, step: Option<&'static StepMeta>) {
        let index = {
            let mut full = self.full.lock().unwrap_or_else(|p| p.into_inner());
            full.push(outcome);
            full.len() - 1
        };
        self.push(index << 3 | FULL, step);
    }

    #[inline]
    fn push(&self, word: usize, step: Option<&'static StepMeta>) {
        let step = step.map_or(ptr::null(), ptr::from_ref);
        if thread_token() != self.owner {
            return self.push_other(word, step);
        }
        // Only this thread writes `len` and the slots at and past it.
        let index = self.len.load(Ordering::Relaxed);
        let (bucket, offset) = locate(index);
        let mut base = self.buckets[bucket].load(Ordering::Relaxed);
        if base.is_null() {
            base = self.grow(bucket);
        }
        // SAFETY: `offset < FIRST << bucket`, the bucket's length; buckets
        // live until `self` is dropped; no reader reads this slot before
        // the length below covers it.
        unsafe { base.add(offset).write(Slot { word, step }) };
        // Published last: a reader that sees the length sees the slot.
        self.len.store(index + 1, Ordering::Release);
    }

    /// Records a call from a thread other than the owner.
    #[cold]
    #[inline(never)]
    fn push_other(&self, word: usize, step: *const StepMeta) {
        let mut others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        // Read under the lock that readers take too: a read made before
        // this call saw at most this length (see `to_vec`).
        let at = self.len.load(Ordering::Acquire);
        others.push((at, word, step));
    }

    /// Allocates bucket `bucket` (by the owner, the only thread that
    /// writes slots; published to readers by the next length).
    #[cold]
    #[inline(never)]
    fn grow(&self, bucket: usize) -> *mut Slot {
        let layout = bucket_layout(bucket);
        // SAFETY: the layout is not zero-sized. Left uninitialised: a slot
        // is written before it is read (see `Slot`), so pages the run never
        // reaches are not even zeroed.
        let fresh = unsafe { alloc(layout) }.cast::<Slot>();
        if fresh.is_null() {
            handle_alloc_error(layout);
        }
        self.buckets[bucket].store(fresh, Ordering::Relaxed);
        fresh
    }

    /// Every recorded call, in order. A later read only ever adds calls at
    /// the end: the owner's calls are read up to the length it published,
    /// and other threads' calls are placed by the length they saw, taken
    /// under the same lock as this read.
    pub(crate) fn to_vec(&self) -> Vec<HookOutcome> {
        let others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        let len = self.len.load(Ordering::Acquire);
        let full = self.full.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(len + others.len());
        let mut next_other = others.iter().peekable();
        for index in 0..=len {
            while let Some(&(_, word, step)) = next_other.next_if(|(at, _, _)| *at <= index) {
                // SAFETY: a non-null step pointer was made from a
                // `&'static StepMeta` in `push`.
                out.extend(outcome(word, unsafe { step.as_ref() }, &full));
            }
            if index == len {
                break;
            }
            let (bucket, offset) = locate(index);
            // SAFETY: the owner allocated every bucket up to `len` before
            // it published `len` (read with `Acquire` above).
            let slot = unsafe {
                self.buckets[bucket]
                    .load(Ordering::Relaxed)
                    .add(offset)
                    .read()
            };
            // SAFETY: a non-null step pointer was made from a
            // `&'static StepMeta` in `push`.
            let step = unsafe { slot.step.as_ref() };
            out.extend(outcome(slot.word, step, &full));
        }
        out
    }
}

/// The outcome a slot's word stands for.
fn outcome(word: usize, step: Option<&StepMeta>, full: &[HookOutcome]) -> Option<HookOutcome> {
    if word & 7 == FULL {
        return full.get(word >> 3).cloned();
    }
    // SAFETY: `word` was made by `push_ok` from a `&'static ErasedHook`,
    // whose alignment leaves the three low bits free for the event.
    let hook = unsafe { &*((word & !7) as *const ErasedHook) };
    Some(HookOutcome {
        hook: hook.name(),
        event: Event::ALL[word & 7],
        step: step.map(|m| m.name().into()),
        status: HookStatus::Ok,
        duration: Duration::ZERO,
    })
}

impl Drop for Calls {
    fn drop(&mut self) {
        for (bucket, slot) in self.buckets.iter_mut().enumerate() {
            let base = *slot.get_mut();
            if !base.is_null() {
                // SAFETY: allocated by `grow` with this layout.
                unsafe { dealloc(base.cast(), bucket_layout(bucket)) };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_map_onto_doubling_buckets_without_gaps() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(FIRST - 1), (0, FIRST - 1));
        assert_eq!(locate(FIRST), (1, 0));
        assert_eq!(locate(3 * FIRST - 1), (1, 2 * FIRST - 1));
        assert_eq!(locate(3 * FIRST), (2, 0));
        let mut expected = (0, 0);
        for index in 0..20 * FIRST {
            assert_eq!(locate(index), expected, "slot {index}");
            expected.1 += 1;
            if expected.1 == FIRST << expected.0 {
                expected = (expected.0 + 1, 0);
            }
        }
    }

    fn failed(tag: String) -> HookOutcome {
        HookOutcome {
            hook: "h",
            event: Event::Finish,
            step: Some(tag.into()),
            status: HookStatus::Failed("x".into()),
            duration: Duration::ZERO,
        }
    }

    fn tags(all: &[HookOutcome]) -> Vec<String> {
        all.iter().map(|o| o.step().unwrap().to_owned()).collect()
    }

    #[test]
    fn a_read_while_threads_append_is_a_prefix_of_every_later_read() {
        // Made on this thread, which appends as the owner; three others
        // append alongside it.
        let calls = Calls::default();
        let done = std::sync::atomic::AtomicBool::new(false);
        let reading = std::sync::atomic::AtomicBool::new(false);
        let wait_for_reader = |reading: &std::sync::atomic::AtomicBool| {
            // The writes start once the reader reads, so that reads
            // overlap them however the threads are scheduled.
            while !reading.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
        };
        std::thread::scope(|s| {
            let writers: Vec<_> = (0..3)
                .map(|t| {
                    let (calls, reading) = (&calls, &reading);
                    s.spawn(move || {
                        wait_for_reader(reading);
                        for i in 0..2 * FIRST {
                            calls.push_full(failed(format!("{t}/{i}")), None);
                        }
                    })
                })
                .collect();
            let reader = s.spawn(|| {
                let mut previous: Vec<String> = Vec::new();
                loop {
                    let finished = done.load(Ordering::Acquire);
                    let now = tags(&calls.to_vec());
                    assert!(
                        now.starts_with(&previous),
                        "a later read changed what an earlier one returned"
                    );
                    previous = now;
                    reading.store(true, Ordering::Release);
                    if finished {
                        return previous.len();
                    }
                }
            });
            wait_for_reader(&reading);
            for i in 0..2 * FIRST {
                calls.push_full(failed(format!("owner/{i}")), None);
            }
            for w in writers {
                w.join().unwrap();
            }
            done.store(true, Ordering::Release);
            // The last read, made after every write, sees them all.
            assert_eq!(reader.join().unwrap(), 4 * 2 * FIRST);
        });
        assert_eq!(calls.to_vec().len(), 4 * 2 * FIRST);
    }

    #[test]
    fn a_call_from_another_thread_comes_after_every_call_it_could_see() {
        let calls = Calls::default();
        let other = |tag: &str| {
            std::thread::scope(|s| {
                s.spawn(|| calls.push_full(failed(tag.into()), None));
            })
        };
        other("before anything");
        calls.push_full(failed("a".into()), None);
        other("b");
        other("c");
        calls.push_full(failed("d".into()), None);
        calls.push_full(failed("e".into()), None);
        other("f");
        assert_eq!(
            tags(&calls.to_vec()),
            ["before anything", "a", "b", "c", "d", "e", "f"]
        );
    }

    #[test]
    fn threads_append_every_call_once_across_buckets() {
        let calls = Calls::default();
        let per_thread = 3 * FIRST;
        let outcome = |t: &str, i: usize| HookOutcome {
            hook: "h",
            event: Event::Finish,
            step: Some(format!("{t}/{i}").into()),
            status: HookStatus::Failed("x".into()),
            duration: Duration::ZERO,
        };
        std::thread::scope(|s| {
            for t in 0..4 {
                let calls = &calls;
                s.spawn(move || {
                    for i in 0..per_thread {
                        calls.push_full(outcome(&t.to_string(), i), None);
                    }
                });
            }
            // The owner too, across its buckets.
            for i in 0..per_thread {
                calls.push_full(outcome("owner", i), None);
            }
        });
        let all = calls.to_vec();
        assert_eq!(all.len(), 5 * per_thread);
        let mut names: Vec<_> = all.iter().map(|o| o.step().unwrap().to_owned()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 5 * per_thread, "every call once");
        // Each thread's calls keep their order.
        for t in ["0", "1", "2", "3", "owner"] {
            let mine: Vec<usize> = all
                .iter()
                .filter_map(|o| o.step()?.strip_prefix(&format!("{t}/"))?.parse().ok())
                .collect();
            assert_eq!(mine, (0..per_thread).collect::<Vec<_>>());
        }
    }

    #[test]
    fn ok_calls_read_back_as_their_hook_event_and_step() {
        let calls = Calls::default();
        let hook: &'static ErasedHook = Box::leak(Box::new(ErasedHook::new("noop", false, |_| {
            crate::hook::HookCall::Ready(Ok(()))
        })));
        calls.push_ok(hook, Event::Success, None);
        std::thread::scope(|s| {
            s.spawn(|| calls.push_ok(hook, Event::Finish, None));
        });
        let all = calls.to_vec();
        let read: Vec<_> = all
            .iter()
            .map(|o| (o.hook(), o.event(), o.status().is_ok()))
            .collect();
        assert_eq!(
            read,
            [
                ("noop", Event::Success, true),
                ("noop", Event::Finish, true)
            ]
        );
    }
}
