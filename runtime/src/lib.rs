//! The runtime of [hookflow](https://docs.rs/hookflow): contexts, hook
//! signatures, the execution core and pipeline runs.
//!
//! Use it through the `hookflow` crate, which re-exports everything here
//! together with the attribute macros.

#![warn(missing_docs)]

#[cfg(feature = "config")]
pub mod config;
mod context;
mod dispatch;
mod error;
mod exec;
mod frame;
mod lookup;
mod meta;
pub mod named;
mod resources;
mod run;
#[cfg_attr(not(feature = "config"), allow(dead_code))] // written by the configuration loader
mod settings;
pub mod signature;

pub use context::{HookContext, HookContextBuilder, Status};
pub use dispatch::{
    default_hook_timeout, set_default_hook_timeout, wait_for_detached_hooks, HookOutcome,
    HookStatus,
};
pub use error::{ErrorKind, FailedStep, PipelineError, StepError};
pub use frame::current;
pub use meta::{registry, Event, PipelineMeta, StepMeta};
pub use resources::Resources;
pub use run::{in_current_run, spawn, CancelHandle, InRun, Run, RunReport};

/// What the generated code refers to. Not public API: no stability promise.
#[doc(hidden)]
pub mod __private {
    pub use crate::dispatch::{ErasedHook, HookCell, HookSet, HookSetBuilder};
    pub use crate::exec::{
        no_output, pipeline_async, pipeline_sync, run_async, run_sync, Body, Expose, ExposeOutput,
        HideOutput, Once, PipelineHooks, Plain, PlainFut, Probe, Retry, StepReturn,
    };
    pub use crate::meta::{Event, PipelineMeta, StepMeta, PIPELINES, STEPS};
    pub use crate::named::{HookShape, NamedHook, HOOKS};
    pub use crate::signature::event;
    pub use crate::signature::event::EventMarker;
    pub use crate::signature::{
        AsyncStep, ErrorHook, Hook, ShapeFor, StepErrorHook, StepErrorType, StepSuccessHook,
        SyncStep,
    };
    pub use core::time::Duration;
    pub use linkme;

    /// Registers a hook of the `fn()` / `fn(&HookContext)` family.
    #[inline]
    pub fn hook<Ev: EventMarker, K, M: ShapeFor<K>, H: Hook<Ev, M>>(
        b: &mut HookSetBuilder,
        name: &'static str,
        hook: H,
    ) {
        b.__push(Ev::EVENT, hook.__erase(name));
    }

    /// Registers a failure-type hook of a pipeline or a `steps(..)` default.
    #[inline]
    pub fn error_hook<Ev: EventMarker, K, M: ShapeFor<K>, H: ErrorHook<Ev, M>>(
        b: &mut HookSetBuilder,
        name: &'static str,
        hook: H,
    ) {
        b.__push(Ev::EVENT, hook.__erase(name));
    }

    /// Registers a step's failure-type hook (may take the step's error type).
    #[inline]
    pub fn step_error_hook<Ev: EventMarker, E, K, M: ShapeFor<K>, H: StepErrorHook<Ev, E, M>>(
        b: &mut HookSetBuilder,
        name: &'static str,
        hook: H,
    ) {
        b.__push(Ev::EVENT, hook.__erase(name));
    }

    /// Registers a step's `on_success` hook (may take the step's output).
    #[inline]
    pub fn step_success_hook<T, K, M: ShapeFor<K>, H: StepSuccessHook<event::on_success, T, M>>(
        b: &mut HookSetBuilder,
        name: &'static str,
        hook: H,
    ) {
        b.__push(Event::Success, hook.__erase(name));
    }

    /// Calls a body closure (keeps `return` inside the body local to it).
    #[inline(always)]
    pub fn call<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    /// Stands for a step's output or error type when it cannot be named
    /// from a `static` (it is generic or borrows): typed hooks are not
    /// available for such steps.
    #[derive(Debug)]
    pub struct GenericOrBorrowed(());

    impl core::fmt::Display for GenericOrBorrowed {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("GenericOrBorrowed")
        }
    }

    /// Clones a step argument for the next attempt.
    #[inline]
    pub fn clone_arg<T: RetryArg>(arg: &T) -> T {
        arg.clone_for_retry()
    }

    /// A step argument that `retries` can clone per attempt.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not `Clone`, but the step has `retries`",
        label = "each attempt gets its own copy of this argument, so it must be `Clone`",
        note = "derive or implement `Clone` for it, pass a reference or an `Arc`, or remove `retries`"
    )]
    pub trait RetryArg {
        /// A copy for the next attempt.
        fn clone_for_retry(&self) -> Self;
    }

    #[diagnostic::do_not_recommend]
    impl<T: Clone> RetryArg for T {
        #[inline]
        fn clone_for_retry(&self) -> Self {
            self.clone()
        }
    }
}
