//! Write the test fixture report (every outcome, a hostile target) as HTML, JSON and JUnit
//! into a directory, for looking at the pages and for `tests/browser/check.sh`.
//!
//! `cargo run -p wirecheck-reports --example fixture_report -- DIR` prints the index's path.

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use std::path::PathBuf;
use wirecheck_reports::{console, index, json, junit};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        return Err("usage: fixture_report DIR".into());
    };
    let report = fixture::report();
    let index_html = index::write_all(&report, &dir)?;
    json::write(&report, &dir.join("report.json"))?;
    junit::write(&report, &dir.join("junit.xml"))?;
    eprint!("{}", console::summary_with_report_dir(&report, Some(&dir)));
    println!("{}", index_html.display());
    Ok(())
}
