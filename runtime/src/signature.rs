//! The accepted hook signatures, checked at compile time.
//!
//! Each role is a trait with one implementation per accepted shape; the
//! attribute macros call every hook through a function bounded by its role's
//! trait, so a hook of another shape is a compile error on the hook's own
//! path, whose message names the event and lists the accepted signatures.
//!
//! | trait | used for | accepted (each returning `()` or `Result<(), E: Display>`, sync or `async`) |
//! |---|---|---|
//! | [`Hook`] | `on_start`, `on_cancel`, `on_finish`, a pipeline's `on_success` | `fn()`, `fn(&HookContext)` |
//! | [`ErrorHook`] | a pipeline's `on_failure` / `on_retry` / `on_crash`, `steps(..)` defaults for them | the above, `fn(&StepError)`, `fn(&HookContext, &StepError)` |
//! | [`StepErrorHook`] | a step's `on_failure` / `on_retry` / `on_crash` | the above, `fn(&E)`, `fn(&HookContext, &E)` with `E` the step's error type |
//! | [`StepSuccessHook`] | a step's `on_success` | `fn()`, `fn(&HookContext)`, `fn(&T)`, `fn(&HookContext, &T)` with `T` the step's output |
//! | [`NamedHookFn`] | a `#[hook]` function, attached by configuration | `fn()`, `fn(&HookContext)`, `fn(&StepError)`, `fn(&HookContext, &StepError)` |
//!
//! You never implement these traits; they appear in compile errors.

use std::fmt::{Debug, Display};
use std::future::Future;
use std::marker::PhantomData;

use crate::context::HookContext;
use crate::error::StepError;
use crate::hook::{ErasedHook, HookCall};
use crate::named::{HookShape, NamedHook};

/// What a hook may return: `()` or `Result<(), E>` with `E: Display`.
#[diagnostic::on_unimplemented(
    message = "a hook must return `()` or `Result<(), E>` with `E: Display`, not `{Self}`"
)]
pub trait HookReturn {
    /// `Err(message)` when the hook reported a failure.
    fn into_hook_result(self) -> Result<(), String>;
}

impl HookReturn for () {
    fn into_hook_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> HookReturn for Result<(), E> {
    fn into_hook_result(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// A step's error type: anything that converts into `anyhow::Error`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a step's error type: it does not convert into `anyhow::Error`",
    label = "not usable as a step's error type",
    note = "use a type that implements `std::error::Error + Send + Sync + 'static`, or `anyhow::Error` (return `anyhow::Result<T>` and use `anyhow::bail!`)"
)]
pub trait StepErrorType {
    /// The error, as `anyhow::Error`.
    fn into_anyhow(self) -> anyhow::Error;
}

#[diagnostic::do_not_recommend]
impl<E: Into<anyhow::Error>> StepErrorType for E {
    #[inline]
    fn into_anyhow(self) -> anyhow::Error {
        self.into()
    }
}

/// Marker types naming the events in compile errors.
#[allow(non_camel_case_types)]
pub mod event {
    use crate::event::Event;

    /// Names an event at the type level.
    pub trait EventMarker {
        /// The event.
        const EVENT: Event;
    }

    macro_rules! events {
        ($($name:ident => $ev:ident),* $(,)?) => {$(
            #[doc = concat!("The `", stringify!($name), "` event.")]
            #[derive(Debug)]
            pub struct $name;
            impl EventMarker for $name {
                const EVENT: Event = Event::$ev;
            }
        )*};
    }

    events! {
        on_start => Start,
        on_success => Success,
        on_failure => Failure,
        on_retry => Retry,
        on_crash => Crash,
        on_cancel => Cancel,
        on_finish => Finish,
    }
}

/// A hook of shape `fn(..) -> R` (sync).
pub struct SyncFn<A, R>(PhantomData<fn() -> (A, R)>);
/// A hook of shape `async fn(..)`.
pub struct AsyncFn<A, R>(PhantomData<fn() -> (A, R)>);

/// Shape tags.
#[doc(hidden)]
pub mod shape {
    pub struct Unit;
    pub struct Ctx;
    pub struct Err;
    pub struct CtxErr;
    pub struct Typed;
    pub struct CtxTyped;
}

/// The kind of function a hook is attached to.
#[doc(hidden)]
pub struct SyncStep;
#[doc(hidden)]
pub struct AsyncStep;

/// A hook shape usable on a step or pipeline of this kind (`async` hooks
/// need an `async` step or pipeline).
#[diagnostic::on_unimplemented(
    message = "an `async` hook cannot be attached to a sync step or pipeline",
    label = "this hook is `async fn`, but the function it is attached to is not",
    note = "a sync step has no executor to await the hook on: make the step `async fn`, or make the hook a plain `fn`"
)]
pub trait ShapeFor<Kind> {}

#[diagnostic::do_not_recommend]
impl<A, R> ShapeFor<SyncStep> for SyncFn<A, R> {}
#[diagnostic::do_not_recommend]
impl<M> ShapeFor<AsyncStep> for M {}

/// An async hook taking one reference (`async fn(&X)`), whose future may
/// borrow it.
pub trait AsyncRef1<'a, A: ?Sized + 'a>: Fn(&'a A) -> <Self as AsyncRef1<'a, A>>::Fut {
    /// The hook's future.
    type Fut: Future<Output = Self::Out> + Send + 'a;
    /// The hook's output.
    type Out: HookReturn;
}

impl<'a, A: ?Sized + 'a, F, Fut> AsyncRef1<'a, A> for F
where
    F: Fn(&'a A) -> Fut,
    Fut: Future + Send + 'a,
    Fut::Output: HookReturn,
{
    type Fut = Fut;
    type Out = Fut::Output;
}

/// An async hook taking two references (`async fn(&X, &Y)`).
pub trait AsyncRef2<'a, A: ?Sized + 'a, B: ?Sized + 'a>:
    Fn(&'a A, &'a B) -> <Self as AsyncRef2<'a, A, B>>::Fut
{
    /// The hook's future.
    type Fut: Future<Output = Self::Out> + Send + 'a;
    /// The hook's output.
    type Out: HookReturn;
}

impl<'a, A: ?Sized + 'a, B: ?Sized + 'a, F, Fut> AsyncRef2<'a, A, B> for F
where
    F: Fn(&'a A, &'a B) -> Fut,
    Fut: Future + Send + 'a,
    Fut::Output: HookReturn,
{
    type Fut = Fut;
    type Out = Fut::Output;
}

/// A hook for `on_start`, `on_cancel`, `on_finish` (and a pipeline's
/// `on_success`): `fn()` or `fn(&HookContext)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a valid `{Ev}` hook",
    label = "this hook's signature is not accepted for `{Ev}`",
    note = "an `{Ev}` hook is a function with one of these signatures:\n      fn()\n      fn(&HookContext)\n  returning `()` or `Result<(), E>` where `E: Display`, optionally `async` (on async steps and pipelines)"
)]
pub trait Hook<Ev, M> {
    #[doc(hidden)]
    fn __erase(self, name: &'static str) -> ErasedHook;
}

/// A failure-type hook of a pipeline, or a `steps(..)` default: the
/// [`Hook`] shapes plus `fn(&StepError)` and `fn(&HookContext, &StepError)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a valid `{Ev}` hook",
    label = "this hook's signature is not accepted for `{Ev}`",
    note = "an `{Ev}` hook here is a function with one of these signatures:\n      fn()\n      fn(&HookContext)\n      fn(&StepError)\n      fn(&HookContext, &StepError)\n  returning `()` or `Result<(), E>` where `E: Display`, optionally `async` (on async steps and pipelines)"
)]
pub trait ErrorHook<Ev, M> {
    #[doc(hidden)]
    fn __erase(self, name: &'static str) -> ErasedHook;
}

/// A step's failure-type hook: the [`ErrorHook`] shapes plus the step's own
/// error type, `fn(&E)` and `fn(&HookContext, &E)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a valid `{Ev}` hook for a step whose error type is `{E}`",
    label = "this hook's signature is not accepted for `{Ev}`",
    note = "a step's `{Ev}` hook is a function with one of these signatures:\n      fn()\n      fn(&HookContext)\n      fn(&StepError)\n      fn(&HookContext, &StepError)\n      fn(&{E})\n      fn(&HookContext, &{E})\n  returning `()` or `Result<(), E>` where `E: Display`, optionally `async` (on async steps)"
)]
pub trait StepErrorHook<Ev, E, M> {
    #[doc(hidden)]
    fn __erase(self, name: &'static str) -> ErasedHook;
}

/// A step's `on_success` hook: `fn()`, `fn(&HookContext)`, or with the
/// step's output `fn(&T)`, `fn(&HookContext, &T)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a valid `{Ev}` hook for a step whose output is `{T}`",
    label = "this hook's signature is not accepted for `{Ev}`",
    note = "a step's `{Ev}` hook is a function with one of these signatures:\n      fn()\n      fn(&HookContext)\n      fn(&{T})\n      fn(&HookContext, &{T})\n  returning `()` or `Result<(), E>` where `E: Display`, optionally `async` (on async steps)"
)]
pub trait StepSuccessHook<Ev, T, M> {
    #[doc(hidden)]
    fn __erase(self, name: &'static str) -> ErasedHook;
}

fn ready(r: impl HookReturn) -> HookCall<'static> {
    HookCall::Ready(r.into_hook_result())
}

fn pending<'a, R: HookReturn>(fut: impl Future<Output = R> + Send + 'a) -> HookCall<'a> {
    HookCall::Pending(Box::pin(async move { fut.await.into_hook_result() }))
}

fn typed_error<E: Display + Debug + Send + Sync + 'static>(ctx: &HookContext) -> Option<&E> {
    ctx.error().and_then(|e| e.downcast_ref::<E>())
}

fn typed_output<T: Send + Sync + 'static>(ctx: &HookContext) -> Option<&T> {
    ctx.output::<T>()
}

const NO_ERROR_VALUE: &str =
    "skipped: this failure carries no value of the step's error type (panic, timeout or cancellation)";
const NO_OUTPUT_VALUE: &str = "skipped: the step's output is not available to this hook";

// The shapes every role accepts: `fn()` and `fn(&HookContext)`.
macro_rules! basic_shapes {
    ($tr:ident < Ev $(, $p:ident)* >) => {
        #[diagnostic::do_not_recommend]
        impl<Ev, $($p,)* F, R> $tr<Ev, $($p,)* SyncFn<shape::Unit, R>> for F
        where
            F: Fn() -> R + Send + Sync + 'static,
            R: HookReturn,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, false, move |_| ready(self()))
            }
        }

        #[diagnostic::do_not_recommend]
        impl<Ev, $($p,)* F, R> $tr<Ev, $($p,)* SyncFn<shape::Ctx, R>> for F
        where
            F: Fn(&HookContext) -> R + Send + Sync + 'static,
            R: HookReturn,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, false, move |ctx| ready(self(ctx)))
            }
        }

        #[diagnostic::do_not_recommend]
        impl<Ev, $($p,)* F, Fut> $tr<Ev, $($p,)* AsyncFn<shape::Unit, Fut>> for F
        where
            F: Fn() -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: HookReturn,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, true, move |_| pending(self()))
            }
        }

        #[diagnostic::do_not_recommend]
        impl<Ev, $($p,)* F> $tr<Ev, $($p,)* AsyncFn<shape::Ctx, ()>> for F
        where
            F: for<'a> AsyncRef1<'a, HookContext> + Send + Sync + 'static,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, true, move |ctx| pending(self(ctx)))
            }
        }
    };
}

// `fn(&StepError)` and `fn(&HookContext, &StepError)`.
macro_rules! error_shapes {
    ($tr:ident < Ev $(, $p:ident)* >) => {
        #[diagnostic::do_not_recommend]
        impl<Ev, $($p,)* F, R> $tr<Ev, $($p,)* SyncFn<shape::Err, R>> for F
        where
            F: Fn(&StepError) -> R + Send + Sync + 'static,
            R: HookReturn,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, false, move |ctx| match ctx.error() {
                    Some(e) => ready(self(e)),
                    None => HookCall::Skipped("skipped: no error to pass"),
                })
            }
        }

        #[diagnostic::do_not_recommend]
        impl<Ev, $($p,)* F, R> $tr<Ev, $($p,)* SyncFn<shape::CtxErr, R>> for F
        where
            F: Fn(&HookContext, &StepError) -> R + Send + Sync + 'static,
            R: HookReturn,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, false, move |ctx| match ctx.error() {
                    Some(e) => ready(self(ctx, e)),
                    None => HookCall::Skipped("skipped: no error to pass"),
                })
            }
        }

        #[diagnostic::do_not_recommend]
        impl<Ev, $($p,)* F> $tr<Ev, $($p,)* AsyncFn<shape::Err, ()>> for F
        where
            F: for<'a> AsyncRef1<'a, StepError> + Send + Sync + 'static,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, true, move |ctx| match ctx.error() {
                    Some(e) => pending(self(e)),
                    None => HookCall::Skipped("skipped: no error to pass"),
                })
            }
        }

        #[diagnostic::do_not_recommend]
        impl<Ev, $($p,)* F> $tr<Ev, $($p,)* AsyncFn<shape::CtxErr, ()>> for F
        where
            F: for<'a> AsyncRef2<'a, HookContext, StepError> + Send + Sync + 'static,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, true, move |ctx| match ctx.error() {
                    Some(e) => pending(self(ctx, e)),
                    None => HookCall::Skipped("skipped: no error to pass"),
                })
            }
        }
    };
}

// `fn(&X)` and `fn(&HookContext, &X)` for the step's own type `X`, fetched
// from the context by `$get`.
macro_rules! typed_shapes {
    ($tr:ident < Ev, $x:ident >, [$($bound:tt)*], $get:ident, $missing:expr) => {
        #[diagnostic::do_not_recommend]
        impl<Ev, $x, F, R> $tr<Ev, $x, SyncFn<shape::Typed, R>> for F
        where
            $x: $($bound)*,
            F: Fn(&$x) -> R + Send + Sync + 'static,
            R: HookReturn,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, false, move |ctx| match $get::<$x>(ctx) {
                    Some(v) => ready(self(v)),
                    None => HookCall::Skipped($missing),
                })
            }
        }

        #[diagnostic::do_not_recommend]
        impl<Ev, $x, F, R> $tr<Ev, $x, SyncFn<shape::CtxTyped, R>> for F
        where
            $x: $($bound)*,
            F: Fn(&HookContext, &$x) -> R + Send + Sync + 'static,
            R: HookReturn,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, false, move |ctx| match $get::<$x>(ctx) {
                    Some(v) => ready(self(ctx, v)),
                    None => HookCall::Skipped($missing),
                })
            }
        }

        #[diagnostic::do_not_recommend]
        impl<Ev, $x, F> $tr<Ev, $x, AsyncFn<shape::Typed, ()>> for F
        where
            $x: $($bound)*,
            F: for<'a> AsyncRef1<'a, $x> + Send + Sync + 'static,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, true, move |ctx| match $get::<$x>(ctx) {
                    Some(v) => pending(self(v)),
                    None => HookCall::Skipped($missing),
                })
            }
        }

        #[diagnostic::do_not_recommend]
        impl<Ev, $x, F> $tr<Ev, $x, AsyncFn<shape::CtxTyped, ()>> for F
        where
            $x: $($bound)*,
            F: for<'a> AsyncRef2<'a, HookContext, $x> + Send + Sync + 'static,
        {
            fn __erase(self, name: &'static str) -> ErasedHook {
                ErasedHook::new(name, true, move |ctx| match $get::<$x>(ctx) {
                    Some(v) => pending(self(ctx, v)),
                    None => HookCall::Skipped($missing),
                })
            }
        }
    };
}

basic_shapes!(Hook<Ev>);
basic_shapes!(ErrorHook<Ev>);
error_shapes!(ErrorHook<Ev>);
basic_shapes!(StepErrorHook<Ev, E>);
error_shapes!(StepErrorHook<Ev, E>);
typed_shapes!(
    StepErrorHook<Ev, E>,
    [Display + Debug + Send + Sync + 'static],
    typed_error,
    NO_ERROR_VALUE
);
basic_shapes!(StepSuccessHook<Ev, T>);
typed_shapes!(
    StepSuccessHook<Ev, T>,
    [Send + Sync + 'static],
    typed_output,
    NO_OUTPUT_VALUE
);

/// A hook that `#[hook]` can register by name, for configuration files to
/// attach: one of the untyped shapes `fn()`, `fn(&HookContext)`,
/// `fn(&StepError)`, `fn(&HookContext, &StepError)`, sync or `async`,
/// returning `()` or `Result<(), E: Display>`.
///
/// Typed hooks (`fn(&MyError)`, `fn(&Output)`) see a value only one step
/// has, so they are attached in that step's attribute instead. The
/// `StepError` shapes only fit the failure-type events; configuration checks
/// that when it attaches the hook.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be registered with `#[hook]`: configuration files can only attach hooks of the untyped shapes",
    label = "this function's signature is not one a configuration file can attach",
    note = "a `#[hook]` function has one of these signatures:\n      fn()\n      fn(&HookContext)\n      fn(&StepError)\n      fn(&HookContext, &StepError)\n  returning `()` or `Result<(), E>` where `E: Display`, optionally `async`",
    note = "a typed hook (`fn(&MyError)`, `fn(&Output)`) can only be attached in the attribute of the step itself (`#[step(on_failure = my_hook)]`): remove `#[hook]`, or take `&StepError` / `&HookContext` (`ctx.output::<T>()`, `err.downcast_ref::<E>()`)"
)]
pub trait NamedHookFn<M> {
    /// Its shape.
    const SHAPE: HookShape;
    /// `true` for an `async fn`.
    const IS_ASYNC: bool;
    #[doc(hidden)]
    fn __erase(self, name: &'static str) -> ErasedHook;
}

// One impl per shape, erasing through the `ErrorHook` impl of the same
// marker (erasure does not depend on the event).
macro_rules! named_shapes {
    ($($shape:ident, $async:literal, $marker:ty, [$($p:ident),*], [$($bound:tt)*];)*) => {$(
        #[diagnostic::do_not_recommend]
        impl<F, $($p),*> NamedHookFn<$marker> for F
        where
            $($bound)*
        {
            const SHAPE: HookShape = HookShape::$shape;
            const IS_ASYNC: bool = $async;
            fn __erase(self, name: &'static str) -> ErasedHook {
                <F as ErrorHook<event::on_failure, $marker>>::__erase(self, name)
            }
        }
    )*};
}

named_shapes! {
    Unit, false, SyncFn<shape::Unit, R>, [R],
        [F: Fn() -> R + Send + Sync + 'static, R: HookReturn];
    Ctx, false, SyncFn<shape::Ctx, R>, [R],
        [F: Fn(&HookContext) -> R + Send + Sync + 'static, R: HookReturn];
    Err, false, SyncFn<shape::Err, R>, [R],
        [F: Fn(&StepError) -> R + Send + Sync + 'static, R: HookReturn];
    CtxErr, false, SyncFn<shape::CtxErr, R>, [R],
        [F: Fn(&HookContext, &StepError) -> R + Send + Sync + 'static, R: HookReturn];
    Unit, true, AsyncFn<shape::Unit, Fut>, [Fut],
        [F: Fn() -> Fut + Send + Sync + 'static, Fut: Future + Send + 'static, Fut::Output: HookReturn];
    Ctx, true, AsyncFn<shape::Ctx, ()>, [],
        [F: for<'a> AsyncRef1<'a, HookContext> + Send + Sync + 'static];
    Err, true, AsyncFn<shape::Err, ()>, [],
        [F: for<'a> AsyncRef1<'a, StepError> + Send + Sync + 'static];
    CtxErr, true, AsyncFn<shape::CtxErr, ()>, [],
        [F: for<'a> AsyncRef2<'a, HookContext, StepError> + Send + Sync + 'static];
}

/// A `#[hook]` function whose shape was checked (by the bound of
/// [`named_fn`]), with what its registry entry needs.
#[doc(hidden)]
pub struct NamedFn<'h, H> {
    hook: &'h H,
    shape: HookShape,
    is_async: bool,
    erase: fn(H, &'static str) -> ErasedHook,
}

/// Checks `hook`'s shape; `#[hook]` calls it, spanned on the function's
/// name. The methods of the result have no bounds of their own, so a wrong
/// shape is this one error.
#[doc(hidden)]
pub const fn named_fn<M, H: NamedHookFn<M>>(hook: &H) -> NamedFn<'_, H> {
    NamedFn {
        hook,
        shape: H::SHAPE,
        is_async: H::IS_ASYNC,
        erase: <H as NamedHookFn<M>>::__erase,
    }
}

impl<H> NamedFn<'_, H> {
    /// The registry entry for the hook at `path`.
    pub const fn register(
        self,
        path: &'static str,
        make: fn(&'static str) -> ErasedHook,
    ) -> NamedHook {
        NamedHook::__new(path, self.shape, self.is_async, make)
    }

    /// A callable instance, recorded under `name`.
    pub fn erase(self, name: &'static str) -> ErasedHook
    where
        H: Copy,
    {
        (self.erase)(*self.hook, name)
    }
}
