//! JUnit XML for CI (via `quick-junit`): one `<testsuite>` per target, one `<testcase>` per
//! case, `classname` = protocol + first RFC section (`smtp.rfc5321.s4_1_4`, so CI tools that
//! split on dots show protocol > RFC > section).
//!
//! | outcome | JUnit |
//! |---|---|
//! | pass | passed |
//! | fail | `<failure>` |
//! | error | `<error>` |
//! | skipped, unimplemented | `<skipped message="...">` |
//! | non-strict, informational | passed, with the note in `<system-out>` |

use crate::error::RenderError;
use crate::rfc::RfcRef;
use crate::templates::write_file;
use crate::{CaseResult, Direction, Outcome, Report, TargetReport};
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

/// The whole report as JUnit XML.
pub fn render(report: &Report) -> Result<String, RenderError> {
    let mut junit = quick_junit::Report::new(report.tool.as_str());
    junit.set_time(Duration::from_millis(report.duration_ms));
    for t in &report.targets {
        junit.add_test_suite(suite(report, t));
    }
    Ok(junit.to_string()?)
}

/// Write [`render`]'s XML to `path` (creating its directory).
pub fn write(report: &Report, path: &Path) -> Result<(), RenderError> {
    write_file(path, &render(report)?)
}

fn suite(report: &Report, t: &TargetReport) -> TestSuite {
    let mut s = TestSuite::new(t.name.as_str());
    s.set_time(Duration::from_millis(
        t.cases.iter().map(|c| c.duration_ms).sum(),
    ));
    s.add_property(Property::new("target", t.target.as_str()));
    s.add_property(Property::new(
        "tool",
        format!("{} {}", report.tool, report.version),
    ));
    s.add_property(Property::new("started", report.started.as_str()));
    s.add_property(Property::new(
        "points",
        format!("{}/{}", t.summary.points, t.summary.points_possible),
    ));
    s.add_test_cases(t.cases.iter().map(case));
    s
}

/// `smtp.rfc5321.s4_1_4`, or the protocol alone when the case cites no RFC.
fn classname(c: &CaseResult) -> String {
    match c.rfc.first() {
        Some(r) => format!(
            "{}.{}",
            c.protocol,
            RfcRef::parse(r).section_only().class_part()
        ),
        None => c.protocol.clone(),
    }
}

fn case(c: &CaseResult) -> TestCase {
    let message = c
        .message
        .clone()
        .unwrap_or_else(|| c.outcome.as_str().to_string());
    let status = match c.outcome {
        Outcome::Pass | Outcome::NonStrict | Outcome::Informational => TestCaseStatus::success(),
        Outcome::Fail | Outcome::Error => {
            let kind = if c.outcome == Outcome::Fail {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut st = TestCaseStatus::non_success(kind);
            st.set_message(message.as_str());
            st.set_type(c.outcome.as_str());
            st.set_description(details(c));
            st
        }
        Outcome::Unimplemented | Outcome::Skipped => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(format!("{}: {message}", c.outcome.as_str()));
            st.set_type(c.outcome.as_str());
            st
        }
    };
    let mut tc = TestCase::new(c.id.as_str(), status);
    tc.set_classname(classname(c));
    tc.set_time(Duration::from_millis(c.duration_ms));
    if matches!(c.outcome, Outcome::NonStrict | Outcome::Informational) {
        let what = if c.outcome == Outcome::NonStrict {
            "a SHOULD was not met"
        } else {
            "observation (MAY)"
        };
        tc.set_system_out(format!(
            "{}: {what}: {message}\n\n{}",
            c.outcome.as_str(),
            details(c)
        ));
    }
    tc
}

/// The failure text: title, RFC, transcript line, expected / actual, hint and the exchange.
fn details(c: &CaseResult) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", c.title);
    let rfcs: Vec<String> = c.rfc.iter().map(|r| RfcRef::parse(r).label()).collect();
    let _ = writeln!(
        s,
        "{} ({})",
        rfcs.join(", "),
        crate::html::level_str(c.level)
    );
    match c.line {
        Some(l) => _ = writeln!(s, "transcript: {}:{l}", c.file),
        None => _ = writeln!(s, "transcript: {}", c.file),
    }
    if let Some(e) = &c.expected {
        let _ = writeln!(s, "expected: {e}");
    }
    if let Some(a) = &c.actual {
        let _ = writeln!(s, "actual:   {a}");
    }
    if let Some(h) = &c.hint {
        let _ = writeln!(s, "hint: {h}");
    }
    if !c.exchange.is_empty() {
        let _ = writeln!(s, "exchange:");
        for e in &c.exchange {
            let arrow = match e.dir {
                Direction::Sent => "C:",
                Direction::Received => "S:",
                Direction::Note => "--",
            };
            let _ = writeln!(s, "{:>6} ms {} {arrow} {}", e.t_ms, e.conn, e.data);
        }
    }
    s
}
