//! The hook calls of one run, appended by any thread without a lock.
//!
//! A call that returned `Ok` (the common case) is one 16-byte slot: the
//! (program-lifetime) hook's address with the event in its three low bits,
//! and the step. Any other call is kept in full in a side list, and its slot
//! holds that list's index instead. Slots live in buckets of doubling size
//! (512, 1 024, 2 048, …) that never move: appending claims an index with
//! one atomic add and writes the slot in place; only the first append into
//! a bucket allocates it, zeroed (pages the run never reaches are reserved,
//! not touched).

use std::alloc::{alloc_zeroed, dealloc, handle_alloc_error, Layout};
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

/// One hook call. `word == 0`: claimed, not written yet.
#[derive(Default)]
struct Slot {
    word: AtomicUsize,
    step: AtomicPtr<StepMeta>,
}

/// The hook calls of a run, in the order they finished (were recorded).
pub(crate) struct Calls {
    /// Slots claimed so far.
    len: AtomicUsize,
    buckets: [AtomicPtr<Slot>; BUCKETS],
    /// Calls that did not return `Ok`, in full.
    full: Mutex<Vec<HookOutcome>>,
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
    fn default() -> Self {
        Calls {
            len: AtomicUsize::new(0),
            buckets: [const { AtomicPtr::new(ptr::null_mut()) }; BUCKETS],
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
        let index = self.len.fetch_add(1, Ordering::Relaxed);
        let (bucket, offset) = locate(index);
        let mut base = self.buckets[bucket].load(Ordering::Acquire);
        if base.is_null() {
            base = self.grow(bucket);
        }
        // SAFETY: `offset < FIRST << bucket`, the bucket's length; buckets
        // live until `self` is dropped.
        let slot = unsafe { &*base.add(offset) };
        let step = step.map_or(ptr::null_mut(), |m| ptr::from_ref(m).cast_mut());
        slot.step.store(step, Ordering::Relaxed);
        // Published last: a reader that sees the word sees the step.
        slot.word.store(word, Ordering::Release);
    }

    /// Allocates bucket `bucket` (or takes the one another thread put there
    /// first).
    #[cold]
    #[inline(never)]
    fn grow(&self, bucket: usize) -> *mut Slot {
        let layout = bucket_layout(bucket);
        // SAFETY: the layout is not zero-sized; an all-zero `Slot` is a
        // valid, unwritten slot (two atomics holding 0 and null).
        let fresh = unsafe { alloc_zeroed(layout) }.cast::<Slot>();
        if fresh.is_null() {
            handle_alloc_error(layout);
        }
        match self.buckets[bucket].compare_exchange(
            ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => fresh,
            Err(theirs) => {
                // SAFETY: `fresh` was allocated above with this layout and
                // was never shared.
                unsafe { dealloc(fresh.cast(), layout) };
                theirs
            }
        }
    }

    /// Every recorded call, in order: the calls up to the first one that is
    /// still being written by another thread (so that a later read only
    /// ever adds calls at the end).
    pub(crate) fn to_vec(&self) -> Vec<HookOutcome> {
        let len = self.len.load(Ordering::Acquire);
        let full = self.full.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::with_capacity(len);
        for index in 0..len {
            let (bucket, offset) = locate(index);
            let base = self.buckets[bucket].load(Ordering::Acquire);
            if base.is_null() {
                break;
            }
            // SAFETY: as in `push`.
            let slot = unsafe { &*base.add(offset) };
            let word = slot.word.load(Ordering::Acquire);
            if word == 0 {
                break;
            }
            // SAFETY: a non-null step pointer was made from a
            // `&'static StepMeta` in `push`.
            let step = unsafe { slot.step.load(Ordering::Relaxed).as_ref() };
            if word & 7 == FULL {
                if let Some(o) = full.get(word >> 3) {
                    out.push(o.clone());
                }
                continue;
            }
            // SAFETY: `word` was made by `push_ok` from a `&'static
            // ErasedHook`, whose alignment leaves the three low bits free
            // for the event.
            let hook = unsafe { &*((word & !7) as *const ErasedHook) };
            out.push(HookOutcome {
                hook: hook.name(),
                event: Event::ALL[word & 7],
                step: step.map(|m| m.name().into()),
                status: HookStatus::Ok,
                duration: Duration::ZERO,
            });
        }
        out
    }
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
        let calls = Calls::default();
        let done = std::sync::atomic::AtomicBool::new(false);
        let reading = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let writers: Vec<_> = (0..3)
                .map(|t| {
                    let (calls, reading) = (&calls, &reading);
                    s.spawn(move || {
                        // The writes start once the reader reads, so that
                        // reads overlap them however the threads are
                        // scheduled.
                        while !reading.load(Ordering::Acquire) {
                            std::thread::yield_now();
                        }
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
            for w in writers {
                w.join().unwrap();
            }
            done.store(true, Ordering::Release);
            // The last read, made after every write, sees them all.
            assert_eq!(reader.join().unwrap(), 3 * 2 * FIRST);
        });
        assert_eq!(calls.to_vec().len(), 3 * 2 * FIRST);
    }

    #[test]
    fn a_claimed_slot_not_yet_written_ends_the_read() {
        let calls = Calls::default();
        calls.push_full(failed("first".into()), None);
        // A writer that claimed the next slot and has not written it yet.
        calls.len.fetch_add(1, Ordering::Relaxed);
        calls.push_full(failed("third".into()), None);
        assert_eq!(tags(&calls.to_vec()), ["first"]);
    }

    #[test]
    fn threads_append_every_call_once_across_buckets() {
        let calls = Calls::default();
        let per_thread = 3 * FIRST;
        std::thread::scope(|s| {
            for t in 0..4 {
                let calls = &calls;
                s.spawn(move || {
                    for i in 0..per_thread {
                        let outcome = HookOutcome {
                            hook: "h",
                            event: Event::Finish,
                            step: Some(format!("{t}/{i}").into()),
                            status: HookStatus::Failed("x".into()),
                            duration: Duration::ZERO,
                        };
                        calls.push_full(outcome, None);
                    }
                });
            }
        });
        let all = calls.to_vec();
        assert_eq!(all.len(), 4 * per_thread);
        let mut names: Vec<_> = all.iter().map(|o| o.step().unwrap().to_owned()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 4 * per_thread, "every call once");
        // Each thread's calls keep their order.
        for t in 0..4 {
            let mine: Vec<usize> = all
                .iter()
                .filter_map(|o| o.step()?.strip_prefix(&format!("{t}/"))?.parse().ok())
                .collect();
            assert_eq!(mine, (0..per_thread).collect::<Vec<_>>());
        }
    }
}
