//! The report model and its renderers.
//!
//! The harness produces one [`Report`] (plain serde values, nothing rendered); each output is
//! a sink that reads it: the console summary, the self-contained HTML page per target, the
//! comparison matrix across targets, JUnit XML and JSON. Keeping the model apart from the
//! rendering (as nextest keeps its events apart from its reporters) means every output says
//! the same thing, and the JSON is the model itself, versioned by [`SCHEMA_VERSION`].
//!
//! ```no_run
//! # fn demo(report: &wirecheck_reports::Report) -> Result<(), wirecheck_reports::RenderError> {
//! use std::path::Path;
//! use wirecheck_reports::{console, index, json, junit};
//! let dir = Path::new("reports/out");
//! let index_html = index::write_all(report, dir)?; // index.html + one page per target
//! json::write(report, &dir.join("report.json"))?;
//! junit::write(report, &dir.join("junit.xml"))?;
//! print!("{}", console::summary_with_report_dir(report, Some(dir)));
//! # let _ = index_html; Ok(()) }
//! ```
//!
//! HTML pages are minijinja templates embedded in the binary ([`templates::EMBEDDED`]),
//! each overridable at run time ([`HtmlOptions::templates_dir`]). Everything a target sent
//! is escaped by the template engine, shown byte for byte ([`visible`]), and the pages carry
//! a Content-Security-Policy that lets only their own inline style and script run.
#![forbid(unsafe_code)]

pub mod console;
pub mod coverage;
pub mod error;
pub mod html;
pub mod index;
pub mod json;
pub mod junit;
pub mod model;
pub mod rfc;
pub mod templates;
pub mod visible;

pub use error::RenderError;
pub use model::*;
pub use templates::HtmlOptions;
