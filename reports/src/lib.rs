//! The report model and its renderers.
//!
//! The harness produces one [`Report`] (plain serde values, nothing rendered); each output is
//! a sink that reads it: the console summary, the self-contained HTML page per target, the
//! comparison matrix across targets, JUnit XML and JSON. Keeping the model apart from the
//! rendering (as nextest keeps its events apart from its reporters) means every output says
//! the same thing, and the JSON is the model itself, versioned by [`SCHEMA_VERSION`].
#![forbid(unsafe_code)]

pub mod model;

pub use model::*;
