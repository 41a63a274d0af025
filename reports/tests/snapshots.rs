//! Snapshots of what people read: the target page, the index, JUnit and the console
//! summary, for the fixture report. Dates, durations, the inline style/script and their CSP
//! hashes are redacted (they vary, or are reviewed as files of their own).

mod fixture;

use wirecheck_reports::{console, html, index, junit};

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", "[date]"),
        (r"\b\d+(\.\d+)? (ms|s)\b|\b\d+ min \d+ s\b", "[duration]"),
        (r#"time="[0-9.]+""#, r#"time="[duration]""#),
        (r"(?s)<style>.*?</style>", "<style>[style.css]</style>"),
        (r"(?s)<script>.*?</script>", "<script>[script.js]</script>"),
        (r"sha256-(?:[A-Za-z0-9+/=]|&#x2f;)+", "sha256-[hash]"),
    ]
}

macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ filters => filters(), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn target_page_reference() {
    let r = fixture::report();
    snap!(
        "target_reference",
        html::render_target(&r, &r.targets[0]).unwrap()
    );
}

#[test]
fn target_page_every_outcome() {
    let r = fixture::report();
    snap!(
        "target_student",
        html::render_target(&r, &r.targets[1]).unwrap()
    );
}

#[test]
fn index_with_matrix() {
    snap!("index", index::render_index(&fixture::report()).unwrap());
}

#[test]
fn junit_xml() {
    snap!("junit", junit::render(&fixture::report()).unwrap());
}

#[test]
fn console_summary() {
    let dir = std::path::Path::new("reports/out");
    snap!(
        "console",
        console::summary_with_report_dir(&fixture::report(), Some(dir))
    );
}
