//! Static descriptions of steps and pipelines, and the registry that lists
//! them.

use std::time::Duration;

use crate::event::Event;

/// The hooks written for one event in an attribute, by the text of their
/// expressions.
pub type HookNames = &'static [(Event, &'static [&'static str])];

/// The hooks an attribute built, type-erased (a `HookSet` for a step, a
/// `PipelineHooks` for a pipeline): how a recovery finds the hooks of a
/// step or pipeline by its name, without calling it.
#[doc(hidden)]
pub type HooksOf = fn() -> &'static (dyn std::any::Any + Send + Sync);

/// The static description of a `#[step]` function: its name, where it is
/// declared, its retry and timeout settings and the hooks written on it.
///
/// Every `#[step]` registers one; find it by the step's name with
/// [`registry::step`](crate::registry::step):
///
/// ```
/// #[hookflow::step(retries = 2, on_failure = alert)]
/// fn load() -> anyhow::Result<()> { Ok(()) }
/// fn alert() {}
///
/// let meta = hookflow::registry::step("load").unwrap();
/// assert_eq!(meta.name(), "load");
/// assert_eq!(meta.retries(), 2);
/// assert_eq!(meta.hooks(hookflow::Event::Failure), ["alert"]);
/// ```
///
/// The generated code builds it as a struct literal over
/// [`StepMeta::DEFAULT`], so adding a key adds a field and nothing else.
#[derive(Debug)]
pub struct StepMeta {
    #[doc(hidden)]
    pub name: &'static str,
    #[doc(hidden)]
    pub fn_name: &'static str,
    #[doc(hidden)]
    pub module_path: &'static str,
    #[doc(hidden)]
    pub file: &'static str,
    #[doc(hidden)]
    pub line: u32,
    #[doc(hidden)]
    pub is_async: bool,
    #[doc(hidden)]
    pub retries: u32,
    /// The attribute has `retries` (even `0`): its arguments are cloned per
    /// attempt, so a configuration file may change the count.
    #[doc(hidden)]
    pub retryable: bool,
    #[doc(hidden)]
    pub retry_delay: Duration,
    #[doc(hidden)]
    pub timeout: Option<Duration>,
    #[doc(hidden)]
    pub hooks: HookNames,
    /// The hooks the attribute built (`None` when it names none).
    #[doc(hidden)]
    pub hooks_of: Option<HooksOf>,
}

impl StepMeta {
    /// Every key at its default: what the generated literal starts from.
    #[doc(hidden)]
    pub const DEFAULT: StepMeta = StepMeta {
        name: "",
        fn_name: "",
        module_path: "",
        file: "",
        line: 0,
        is_async: false,
        retries: 0,
        retryable: false,
        retry_delay: Duration::ZERO,
        timeout: None,
        hooks: &[],
        hooks_of: None,
    };

    /// The display name (`name = ".."`, or the function's name).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The function's own name.
    pub fn fn_name(&self) -> &'static str {
        self.fn_name
    }

    /// `module_path!()` where the step is declared.
    pub fn module_path(&self) -> &'static str {
        self.module_path
    }

    /// The source file of the declaration.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line of the declaration.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// `true` for an `async fn` step.
    pub fn is_async(&self) -> bool {
        self.is_async
    }

    /// `true` when the attribute has `retries` (even `0`): the arguments
    /// are cloned per attempt, and a configuration file may change the
    /// count.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// Extra attempts after the first.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Attempts in all: `retries + 1`.
    pub fn max_attempts(&self) -> u32 {
        self.retries.saturating_add(1)
    }

    /// Delay between attempts.
    pub fn retry_delay(&self) -> Duration {
        self.retry_delay
    }

    /// Per-attempt time bound (async steps).
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The hooks written for `event` on this step, as written.
    pub fn hooks(&self, event: Event) -> &'static [&'static str] {
        names_for(self.hooks, event)
    }

    /// `true` when the attribute names `event` (so pipeline defaults for it
    /// do not apply).
    pub fn names_event(&self, event: Event) -> bool {
        self.hooks.iter().any(|(e, _)| *e == event)
    }
}

/// The static description of a `#[pipeline]` function (a struct literal
/// over [`PipelineMeta::DEFAULT`] in the generated code).
#[derive(Debug)]
pub struct PipelineMeta {
    #[doc(hidden)]
    pub name: &'static str,
    #[doc(hidden)]
    pub fn_name: &'static str,
    #[doc(hidden)]
    pub module_path: &'static str,
    #[doc(hidden)]
    pub file: &'static str,
    #[doc(hidden)]
    pub line: u32,
    #[doc(hidden)]
    pub is_async: bool,
    /// `#[pipeline(durable)]`.
    #[doc(hidden)]
    pub durable: bool,
    #[doc(hidden)]
    pub hooks: HookNames,
    #[doc(hidden)]
    pub step_defaults: HookNames,
    /// The hooks the attribute built.
    #[doc(hidden)]
    pub hooks_of: Option<HooksOf>,
}

impl PipelineMeta {
    /// Every key at its default: what the generated literal starts from.
    #[doc(hidden)]
    pub const DEFAULT: PipelineMeta = PipelineMeta {
        name: "",
        fn_name: "",
        module_path: "",
        file: "",
        line: 0,
        is_async: false,
        durable: false,
        hooks: &[],
        step_defaults: &[],
        hooks_of: None,
    };

    /// The display name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The function's own name.
    pub fn fn_name(&self) -> &'static str {
        self.fn_name
    }

    /// `module_path!()` where the pipeline is declared.
    pub fn module_path(&self) -> &'static str {
        self.module_path
    }

    /// The source file of the declaration.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line of the declaration.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// `true` for an `async fn` pipeline.
    pub fn is_async(&self) -> bool {
        self.is_async
    }

    /// `true` for `#[pipeline(durable)]`.
    pub fn is_durable(&self) -> bool {
        self.durable
    }

    /// The run's own hooks for `event`, as written.
    pub fn hooks(&self, event: Event) -> &'static [&'static str] {
        names_for(self.hooks, event)
    }

    /// The `steps(..)` defaults for `event`, as written.
    pub fn step_defaults(&self, event: Event) -> &'static [&'static str] {
        names_for(self.step_defaults, event)
    }
}

fn names_for(hooks: HookNames, event: Event) -> &'static [&'static str] {
    hooks
        .iter()
        .find(|(e, _)| *e == event)
        .map(|(_, names)| *names)
        .unwrap_or(&[])
}

#[doc(hidden)]
#[linkme::distributed_slice]
pub static STEPS: [StepMeta];

#[doc(hidden)]
#[linkme::distributed_slice]
pub static PIPELINES: [PipelineMeta];

/// Every `#[step]` and `#[pipeline]` linked into the program, found by name.
///
/// Registration happens at link time: no start-up code runs and nothing
/// needs to be called first.
pub mod registry {
    use super::{PipelineMeta, StepMeta, PIPELINES, STEPS};

    /// All steps of the program.
    pub fn steps() -> &'static [StepMeta] {
        &STEPS
    }

    /// All pipelines of the program.
    pub fn pipelines() -> &'static [PipelineMeta] {
        &PIPELINES
    }

    /// The step whose display name, function name, or full path
    /// (`crate::module::fn`) is `name`. A bare name shared by several steps
    /// finds none: use the path.
    pub fn step(name: &str) -> Option<&'static StepMeta> {
        unique(STEPS.iter().filter(|m| {
            m.name() == name
                || m.fn_name() == name
                || path_matches(m.module_path(), m.fn_name(), name)
        }))
    }

    /// The pipeline whose display name, function name, or full path
    /// (`crate::module::fn`) is `name`.
    pub fn pipeline(name: &str) -> Option<&'static PipelineMeta> {
        unique(PIPELINES.iter().filter(|m| {
            m.name() == name
                || m.fn_name() == name
                || path_matches(m.module_path(), m.fn_name(), name)
        }))
    }

    fn path_matches(module: &str, item: &str, path: &str) -> bool {
        let Some((m, i)) = path.rsplit_once("::") else {
            return false;
        };
        if i != item {
            return false;
        }
        if m == module {
            return true;
        }
        // `crate::a::b` names `my_crate::a::b` from inside the crate.
        let own_crate = module.split("::").next().unwrap_or(module);
        match m.strip_prefix("crate") {
            Some("") => module == own_crate,
            Some(rest) => rest.starts_with("::") && module.strip_prefix(own_crate) == Some(rest),
            None => false,
        }
    }

    fn unique<T>(mut it: impl Iterator<Item = T>) -> Option<T> {
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }
}
