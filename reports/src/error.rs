//! The one error type of the renderers.

use std::path::PathBuf;

/// Why a report could not be rendered, written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A template failed to compile or render (only possible with `--templates DIR`
    /// overrides, or a bug in the embedded templates).
    #[error("template error: {0:#}")]
    Template(#[from] minijinja::Error),
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// JUnit XML serialization.
    #[error("junit: {0}")]
    Junit(#[from] quick_junit::SerializeError),
    /// JSON serialization or parsing.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A JSON report written by a newer, incompatible wirecheck.
    #[error("report schema {found} is newer than the supported {supported}")]
    UnsupportedSchema {
        /// The report's `schema`.
        found: u32,
        /// [`crate::SCHEMA_VERSION`].
        supported: u32,
    },
}

impl RenderError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> RenderError {
        let path = path.into();
        move |source| RenderError::Io { path, source }
    }
}
