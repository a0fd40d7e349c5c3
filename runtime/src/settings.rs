//! The settings seam: where a step's or pipeline's effective retries,
//! delay, timeout and hook lists come from.
//!
//! Three layers, highest first: an installed configuration ([`Overrides`],
//! from a config file), the attribute (the static `StepMeta` /
//! `PipelineMeta` and the hook sets built from it), and process defaults.
//! With nothing installed, reading the overrides is one atomic load and one
//! branch.
//!
//! An installed configuration lives for the rest of the process: a step
//! call reads the active one once, when it starts, and keeps using it even
//! if another is installed meanwhile, so every call sees one consistent
//! configuration. Installing is rare (once at start-up, or per test), so
//! the replaced configurations are kept rather than freed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;

use crate::event::Event;
use crate::hook::ErasedHook;
use crate::meta::{PipelineMeta, StepMeta};

/// Hook lists per event; `None` where the layer says nothing for an event.
#[derive(Default)]
pub(crate) struct Lists([Option<Box<[ErasedHook]>>; Event::COUNT]);

impl Lists {
    /// The list this layer sets for `event` (`Some(&[])` switches the
    /// event's hooks off).
    #[inline]
    pub(crate) fn get(&self, event: Event) -> Option<&[ErasedHook]> {
        self.0[event.index()].as_deref()
    }

    /// Sets the list for `event`, replacing any earlier one.
    pub(crate) fn set(&mut self, event: Event, hooks: Vec<ErasedHook>) {
        self.0[event.index()] = Some(hooks.into_boxed_slice());
    }

    /// `true` when no event is set.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }
}

/// What a configuration sets for one step.
#[derive(Default)]
pub(crate) struct StepSettings {
    pub(crate) retries: Option<u32>,
    pub(crate) retry_delay: Option<Duration>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) hooks: Lists,
}

/// What a configuration sets for one pipeline.
#[derive(Default)]
pub(crate) struct PipelineSettings {
    pub(crate) durable: Option<bool>,
    /// The run's own hooks.
    pub(crate) hooks: Lists,
    /// Defaults for the steps of the run (`[pipelines.NAME.steps]`).
    pub(crate) steps: Lists,
}

/// A configuration, resolved: settings per step and pipeline, keyed by
/// their static descriptions.
#[derive(Default)]
pub(crate) struct Overrides {
    steps: HashMap<usize, StepSettings>,
    pipelines: HashMap<usize, PipelineSettings>,
}

fn key<T>(meta: &'static T) -> usize {
    meta as *const T as usize
}

impl Overrides {
    /// The settings of `meta`, created empty on first use.
    pub(crate) fn step_mut(&mut self, meta: &'static StepMeta) -> &mut StepSettings {
        self.steps.entry(key(meta)).or_default()
    }

    /// The settings of `meta`, created empty on first use.
    pub(crate) fn pipeline_mut(&mut self, meta: &'static PipelineMeta) -> &mut PipelineSettings {
        self.pipelines.entry(key(meta)).or_default()
    }

    /// What this configuration sets for `meta`.
    #[inline]
    pub(crate) fn step(&self, meta: &'static StepMeta) -> Option<&StepSettings> {
        if self.steps.is_empty() {
            return None;
        }
        self.steps.get(&key(meta))
    }

    /// What this configuration sets for `meta`.
    #[inline]
    pub(crate) fn pipeline(&self, meta: &'static PipelineMeta) -> Option<&PipelineSettings> {
        if self.pipelines.is_empty() {
            return None;
        }
        self.pipelines.get(&key(meta))
    }
}

static ACTIVE: AtomicPtr<Overrides> = AtomicPtr::new(std::ptr::null_mut());

/// Makes `overrides` the process's active configuration for every step call
/// and pipeline run that starts from now on.
pub(crate) fn install(overrides: Overrides) {
    let ptr = Box::into_raw(Box::new(overrides));
    // The previous configuration may still be read by calls in flight: it
    // is kept (see the module doc).
    ACTIVE.store(ptr, Ordering::Release);
}

/// Removes the active configuration: calls that start from now on use
/// their attributes only.
pub(crate) fn uninstall() {
    ACTIVE.store(std::ptr::null_mut(), Ordering::Release);
}

/// The active configuration, if one was installed.
#[inline]
pub(crate) fn active() -> Option<&'static Overrides> {
    let ptr = ACTIVE.load(Ordering::Acquire);
    // SAFETY: a non-null pointer comes from `Box::into_raw` in `install` and
    // is never freed (see the module doc), so it is valid for 'static.
    unsafe { ptr.as_ref() }
}
