//! placeholder
/// Doc on re-export.
///
/// ```
/// assert_eq!(1 + 1, 3);
/// ```
pub use hookflow_macros::step;
pub use hookflow_macros::pipeline;
pub use hookflow_runtime::*;
