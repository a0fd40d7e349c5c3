//! Hooks registered by name: `#[hook]` functions and the built-in hooks,
//! found by configuration files (and by recovery) through their paths.
//!
//! Registration happens at link time (a `linkme` distributed slice): nothing
//! runs at start-up, and a lookup walks the slice only when a configuration
//! is loaded.

use std::fmt;

use crate::event::Event;
use crate::hook::ErasedHook;

/// The untyped shapes a hook attached by name can have (every one may be
/// sync or `async`, and return `()` or `Result<(), E: Display>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HookShape {
    /// `fn()`.
    Unit,
    /// `fn(&HookContext)`.
    Ctx,
    /// `fn(&StepError)`.
    Err,
    /// `fn(&HookContext, &StepError)`.
    CtxErr,
}

impl HookShape {
    /// `true` when a hook of this shape can be attached to `event`: the
    /// `StepError` shapes only fit the failure-type events.
    pub fn fits(self, event: Event) -> bool {
        match self {
            HookShape::Unit | HookShape::Ctx => true,
            HookShape::Err | HookShape::CtxErr => event.is_failure(),
        }
    }

    /// The shape as a signature, for messages: `fn(&HookContext, &StepError)`.
    pub fn signature(self) -> &'static str {
        match self {
            HookShape::Unit => "fn()",
            HookShape::Ctx => "fn(&HookContext)",
            HookShape::Err => "fn(&StepError)",
            HookShape::CtxErr => "fn(&HookContext, &StepError)",
        }
    }
}

impl fmt::Display for HookShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.signature())
    }
}

/// A hook registered by name.
pub struct NamedHook {
    path: &'static str,
    shape: HookShape,
    is_async: bool,
    #[allow(dead_code)] // used by the configuration loader
    make: fn(&'static str) -> ErasedHook,
}

impl NamedHook {
    #[doc(hidden)]
    pub const fn __new(
        path: &'static str,
        shape: HookShape,
        is_async: bool,
        make: fn(&'static str) -> ErasedHook,
    ) -> Self {
        NamedHook {
            path,
            shape,
            is_async,
            make,
        }
    }

    /// The full path: `my_crate::alerts::page_oncall`, `hookflow::log`.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The last segment of the path.
    pub fn bare_name(&self) -> &'static str {
        self.path.rsplit("::").next().unwrap_or(self.path)
    }

    /// Its shape.
    pub fn shape(&self) -> HookShape {
        self.shape
    }

    /// `true` for an `async fn` hook.
    pub fn is_async(&self) -> bool {
        self.is_async
    }

    /// A callable instance, recorded under `name`.
    #[allow(dead_code)] // used by the configuration loader
    pub(crate) fn instantiate(&self, name: &'static str) -> ErasedHook {
        (self.make)(name)
    }
}

impl fmt::Debug for NamedHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamedHook")
            .field("path", &self.path)
            .field("shape", &self.shape)
            .field("is_async", &self.is_async)
            .finish_non_exhaustive()
    }
}

#[doc(hidden)]
#[linkme::distributed_slice]
pub static HOOKS: [NamedHook];

/// Why a hook name found no single hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookLookupError {
    /// No registered hook has this name.
    Unknown,
    /// A bare name shared by several hooks: these are their full paths.
    Ambiguous(Vec<&'static str>),
}

/// Every registered hook.
pub fn hooks() -> &'static [NamedHook] {
    &HOOKS
}

/// The hook named `name`: its full path, a crate-relative `crate::…` path
/// (`own_crate` names the crate that `crate` stands for), or a bare name
/// that only one hook has.
pub fn hook(name: &str, own_crate: Option<&str>) -> Result<&'static NamedHook, HookLookupError> {
    if let Some(h) = HOOKS.iter().find(|h| h.path == name) {
        return Ok(h);
    }
    if let Some(rest) = name.strip_prefix("crate::") {
        let found: Vec<_> = HOOKS
            .iter()
            .filter(|h| match h.path.split_once("::") {
                Some((krate, tail)) => tail == rest && own_crate.is_none_or(|c| c == krate),
                None => false,
            })
            .collect();
        return match found.as_slice() {
            [one] => Ok(one),
            [] => Err(HookLookupError::Unknown),
            many => Err(HookLookupError::Ambiguous(
                many.iter().map(|h| h.path).collect(),
            )),
        };
    }
    if name.contains("::") {
        return Err(HookLookupError::Unknown);
    }
    let found: Vec<_> = HOOKS.iter().filter(|h| h.bare_name() == name).collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(HookLookupError::Unknown),
        many => Err(HookLookupError::Ambiguous(
            many.iter().map(|h| h.path).collect(),
        )),
    }
}
