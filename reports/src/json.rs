//! The JSON report: the model itself, pretty-printed, versioned by [`crate::SCHEMA_VERSION`]
//! (field by field in `SCHEMA.md`).

use crate::error::RenderError;
use crate::templates::write_file;
use crate::{Report, SCHEMA_VERSION};
use std::path::Path;

/// The report as pretty JSON (with a trailing newline).
pub fn render(report: &Report) -> Result<String, RenderError> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}

/// Write [`render`]'s JSON to `path` (creating its directory).
pub fn write(report: &Report, path: &Path) -> Result<(), RenderError> {
    write_file(path, &render(report)?)
}

/// Parse a JSON report. Reports of this or an older schema version are read (SCHEMA.md
/// "Compatibility"); a newer one is refused with [`RenderError::UnsupportedSchema`] before
/// its fields are looked at.
pub fn parse(json: &str) -> Result<Report, RenderError> {
    #[derive(serde::Deserialize)]
    struct Version {
        schema: u32,
    }
    let v: Version = serde_json::from_str(json)?;
    if v.schema > SCHEMA_VERSION {
        return Err(RenderError::UnsupportedSchema {
            found: v.schema,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(serde_json::from_str(json)?)
}

/// Read a JSON report file ([`parse`]).
pub fn read(path: &Path) -> Result<Report, RenderError> {
    parse(&std::fs::read_to_string(path).map_err(RenderError::io(path))?)
}
