//! The runtime of [hookflow](https://docs.rs/hookflow): contexts, hook
//! signatures, the execution core and pipeline runs.
//!
//! Use it through the `hookflow` crate, which re-exports everything here
//! together with the attribute macros.

#![warn(missing_docs)]

// The floors, lowest first; each module imports only from floors below it
// (see ARCHITECTURE.md).
//
// 0. vocabulary: plain data, no imports from the crate
mod clock;
mod error;
mod event;
mod outcome;
pub mod secret;
mod status;
// 1. static descriptions and registries; the journal store of durable runs
#[cfg(feature = "journal")]
pub mod journal;
mod meta;
pub mod named;
mod resources;
// 2. what hooks see, and hooks as values
mod context;
mod hook;
pub mod signature;
// 3. the seams: settings, hook lookup, plans, decisions
mod decide;
mod lookup;
mod plan;
#[cfg_attr(not(feature = "config"), allow(dead_code))] // written by the configuration loader
mod settings;
// 4. running state: runs, frames, timers, a durable run's journal
mod calls;
#[cfg(feature = "journal")]
mod durable;
mod frame;
mod run_state;
mod timer;
// 5. records and isolated hook calls
mod call;
mod record;
// 6. the lifecycle, sync and async
mod driver;
mod unit;
// 7. what callers use: entry points of the generated code, runs
mod entry;
#[cfg(feature = "journal")]
mod recover;
mod run;
// 8. built-in hooks: secrets, templates, alerters
pub mod alert;
pub mod hooks;
#[cfg(feature = "config")]
pub mod template;
#[cfg(feature = "config")]
mod vars;
// 9. configuration files, over everything above
#[cfg(feature = "config")]
pub mod config;

pub use call::wait_for_detached_hooks;
pub use context::{HookContext, HookContextBuilder};
#[cfg(feature = "journal")]
pub use durable::{use_journal, when_unavailable, WhenUnavailable};
pub use error::{ErrorKind, FailedStep, PipelineError, StepError};
pub use event::Event;
pub use frame::current;
pub use meta::{registry, PipelineMeta, StepMeta};
pub use outcome::{HookOutcome, HookStatus};
#[cfg(feature = "journal")]
pub use recover::{recover, recover_from, RecoveredRun, RecoveryReport};
pub use resources::Resources;
pub use run::{in_current_run, spawn, CancelHandle, InRun, Run, RunReport};
pub use settings::{default_hook_timeout, set_default_hook_timeout};
pub use status::Status;

/// What the generated code refers to. Not public API: no stability promise.
#[doc(hidden)]
pub mod __private {
    pub use crate::entry::{
        pipeline_async, pipeline_sync, run_async, run_once, run_plain, run_plain_retry, run_retry,
        Body, Expose, ExposeOutput, Hidden, HideOutput, Once, OnceFut, PipelineFuture, Plain,
        Probe, Retry, Shown, StepFuture, StepReturn,
    };
    pub use crate::event::Event;
    pub use crate::hook::{ErasedHook, HookCell, HookSet, HookSetBuilder, PipelineHooks};
    pub use crate::meta::{PipelineMeta, StepMeta, PIPELINES, STEPS};
    pub use crate::named::{HookShape, NamedHook, HOOKS};
    pub use crate::signature::event;
    pub use crate::signature::event::EventMarker;
    pub use crate::signature::{
        named_fn, AsyncStep, ErrorHook, Hook, NamedFn, NamedHookFn, ShapeFor, StepErrorHook,
        StepErrorType, StepSuccessHook, SyncStep,
    };
    pub use core::time::Duration;
    pub use linkme;

    /// Whether the `journal` feature (durable pipelines) is on.
    pub const JOURNAL_FEATURE: bool = cfg!(feature = "journal");

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

    /// Clones a binding whose type the macro cannot name (a part of a
    /// pattern, an `impl Trait` argument) for the next attempt. The bound
    /// is on [`StepRetries`] rather than on `T`, so that rustc, which could
    /// satisfy `&T: Clone` by borrowing, shows the retries message of
    /// [`Copies`] instead of suggesting a `&` in the parameter's pattern.
    /// (Where the type can be named, [`clone_arg`] is used: its error points
    /// at the user's type.)
    #[inline]
    pub fn clone_part<T>(arg: &T) -> T
    where
        StepRetries: Copies<T>,
    {
        StepRetries::copy(arg)
    }

    /// What a step with `retries` needs of its arguments (see [`clone_part`]).
    pub struct StepRetries;

    /// `StepRetries` copies a `T` per attempt when `T` is `Clone`.
    #[diagnostic::on_unimplemented(
        message = "`{T}` is not `Clone`, but the step has `retries`",
        label = "each attempt gets its own copy of this argument, so it must be `Clone`",
        note = "derive or implement `Clone` for it, pass a reference or an `Arc`, or remove `retries`"
    )]
    pub trait Copies<T> {
        /// A copy for the next attempt.
        fn copy(arg: &T) -> T;
    }

    #[diagnostic::do_not_recommend]
    impl<T: Clone> Copies<T> for StepRetries {
        #[inline]
        fn copy(arg: &T) -> T {
            arg.clone()
        }
    }
}
