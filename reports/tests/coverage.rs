//! The coverage page and the index's coverage summary, for the fixture report and three
//! requirements: one covered by a case both targets pass, one by a case the student fails,
//! one covered by nothing.

mod fixture;

use wirecheck_reports::coverage::{render_coverage, requirement_outcome, write_coverage};
use wirecheck_reports::index::{render_index_with_coverage, write_all_with_coverage};
use wirecheck_reports::{Coverage, HtmlOptions, Level, Outcome, Requirement};

fn coverage() -> Coverage {
    let req = |id: &str, section: &str, level, text: &str, cases: &[&str]| Requirement {
        id: id.into(),
        rfc: 5321,
        section: section.into(),
        level,
        who: "server".into(),
        text: text.into(),
        cases: cases.iter().map(|c| c.to_string()).collect(),
    };
    Coverage {
        requirements: vec![
            req(
                "5321#4.1.4-rcpt-503",
                "4.1.4",
                Level::Must,
                "RCPT before MAIL is answered 503.",
                &["smtp.sequence.rcpt-before-mail"],
            ),
            req(
                "5321#4.2-greeting",
                "4.2",
                Level::Must,
                "The server greets with 220 <script>.",
                &["smtp.greeting.banner"],
            ),
            req(
                "5321#4.5.3.2.7-timeout",
                "4.5.3.2.7",
                Level::Should,
                "Servers wait 5 minutes for a command.",
                &[],
            ),
        ],
    }
}

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"(?s)<style>.*?</style>", "<style>[style.css]</style>"),
        (r"(?s)<script>.*?</script>", "<script>[script.js]</script>"),
        (r"sha256-(?:[A-Za-z0-9+/=]|&#x2f;)+", "sha256-[hash]"),
    ]
}

#[test]
fn the_coverage_page_shows_checked_met_and_unchecked_requirements() {
    let r = fixture::report();
    let page = render_coverage(&r, &coverage()).unwrap();
    assert!(page.contains("2 of 3 requirements checked"), "{page}");
    assert!(page.contains("not covered"));
    assert!(!page.contains("<script>."), "text is escaped");
    insta::with_settings!({ filters => filters(), prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("coverage", page);
    });
}

#[test]
fn the_index_summarises_coverage_per_rfc_and_target() {
    let r = fixture::report();
    let index = render_index_with_coverage(&r, &coverage()).unwrap();
    assert!(index.contains("RFC coverage"));
    assert!(index.contains("href=\"coverage.html#rfc-5321\""), "{index}");
    let plain = wirecheck_reports::index::render_index(&r).unwrap();
    assert!(!plain.contains("RFC coverage"));
}

#[test]
fn write_all_with_coverage_writes_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let r = fixture::report();
    write_all_with_coverage(&r, Some(&coverage()), dir.path(), &HtmlOptions::default()).unwrap();
    assert!(dir.path().join("coverage.html").is_file());
    assert!(dir.path().join("index.html").is_file());
    let again = write_coverage(&r, &coverage(), dir.path()).unwrap();
    assert_eq!(again, dir.path().join("coverage.html"));
}

#[test]
fn a_target_meets_a_requirement_only_when_every_covering_case_passed() {
    let r = fixture::report();
    let case = |t: usize, id: &str| r.targets[t].cases.iter().find(|c| c.id == id).unwrap();
    let pass = case(0, "smtp.sequence.rcpt-before-mail");
    let fail = case(1, "smtp.sequence.rcpt-before-mail");
    let skipped = case(1, "dns.query.nxdomain");
    assert_eq!(requirement_outcome([pass, fail]), Some(Outcome::Fail));
    assert_eq!(requirement_outcome([pass, skipped]), Some(Outcome::Pass));
    assert_eq!(requirement_outcome([skipped]), Some(Outcome::Skipped));
    assert_eq!(requirement_outcome([]), None);
}
