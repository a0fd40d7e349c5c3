//! [`Resources`]: a type map given to a pipeline run and read by hooks.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// A type map of things hooks and steps use (an alerter, a client, a
/// recorder), one value per type, given to a pipeline run with
/// [`Run::resource`](crate::Run::resource).
///
/// Hooks read them with [`HookContext::resource`](crate::HookContext::resource),
/// steps with `hookflow::current()`. Giving a run other resources switches
/// what its hooks do (production alerts vs. a test recorder) without changing
/// the hooks.
///
/// ```
/// use hookflow::Resources;
///
/// struct Alerter { channel: &'static str }
///
/// let mut resources = Resources::new();
/// resources.insert(Alerter { channel: "#ops" });
/// assert_eq!(resources.get::<Alerter>().unwrap().channel, "#ops");
/// assert!(resources.get::<String>().is_none());
/// ```
#[derive(Clone, Default)]
pub struct Resources {
    map: HashMap<TypeId, (&'static str, Arc<dyn Any + Send + Sync>)>,
}

impl Resources {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `value`, replacing (and returning `true` for) a value of the same
    /// type.
    pub fn insert<R: Any + Send + Sync>(&mut self, value: R) -> bool {
        self.map
            .insert(
                TypeId::of::<R>(),
                (std::any::type_name::<R>(), Arc::new(value)),
            )
            .is_some()
    }

    /// Builder form of [`insert`](Self::insert).
    pub fn with<R: Any + Send + Sync>(mut self, value: R) -> Self {
        self.insert(value);
        self
    }

    /// The value of type `R`, if any.
    pub fn get<R: Any + Send + Sync>(&self) -> Option<&R> {
        self.map
            .get(&TypeId::of::<R>())
            .and_then(|(_, v)| v.downcast_ref::<R>())
    }

    /// `true` when a value of type `R` is present.
    pub fn contains<R: Any + Send + Sync>(&self) -> bool {
        self.map.contains_key(&TypeId::of::<R>())
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.map.values().map(|(n, _)| *n).collect();
        names.sort_unstable();
        f.debug_set().entries(names).finish()
    }
}
