//! Behaviour of the renderers on the fixture report: hostile bytes stay text, files and
//! links hang together, JUnit has the shape CI reads, JSON round-trips.

mod fixture;

use std::collections::HashSet;
use std::path::Path;
use wirecheck_reports::{
    HtmlOptions, Outcome, RenderError, Report, SCHEMA_VERSION, html, index, json, junit,
};

/// Every `<script` in a page is the page's own (exactly one), and no markup the target or
/// the corpus sent survives unescaped anywhere.
fn assert_inert(page: &str) {
    assert_eq!(
        page.matches("<script").count(),
        1,
        "only the page's own script"
    );
    for hostile in [
        fixture::PWNED_SCRIPT,
        fixture::PWNED_IMG,
        "<img",
        "<b>bold",
        "onmouseover=\"",
        "</details></div><script>",
    ] {
        assert!(!page.contains(hostile), "unescaped {hostile:?}");
    }
    assert!(
        page.contains("&lt;script&gt;document.documentElement.setAttribute("),
        "the hostile reply is shown, as text"
    );
}

#[test]
fn hostile_replies_are_shown_as_text_never_markup() {
    let r = fixture::report();
    for t in &r.targets {
        let page = html::render_target(&r, t).unwrap();
        assert_eq!(page.matches("<script").count(), 1);
        if t.name.starts_with("student") {
            assert_inert(&page);
        }
    }
    let index = index::render_index(&r).unwrap();
    assert_eq!(index.matches("<script").count(), 1);
    assert!(!index.contains(fixture::PWNED_IMG) && !index.contains("<alice>"));
}

#[test]
fn pages_forbid_every_script_but_their_own() {
    let r = fixture::report();
    let page = html::render_target(&r, &r.targets[1]).unwrap();
    let csp = page
        .split("http-equiv=\"Content-Security-Policy\" content=\"")
        .nth(1)
        .unwrap();
    let csp = csp
        .split('"')
        .next()
        .unwrap()
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/");
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'sha256-") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
}

#[test]
fn write_all_links_every_page_and_every_matrix_cell_resolves() {
    let r = fixture::report();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/out");
    let index_path = index::write_all(&r, &out).unwrap();
    assert_eq!(index_path, out.join("index.html"));
    let index = std::fs::read_to_string(&index_path).unwrap();
    let files = html::page_file_names(&r);
    assert_eq!(files, ["reference.html", "student-alice.html"]);
    let mut anchors_checked = 0;
    for (t, f) in r.targets.iter().zip(&files) {
        let page = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(index.contains(&format!("href=\"{f}\"")), "index links {f}");
        assert!(page.contains("href=\"index.html\""), "{f} links back");
        for c in &t.cases {
            let anchor = html::case_anchor(&c.id);
            assert!(
                page.contains(&format!("id=\"{anchor}\"")),
                "{f} has {anchor}"
            );
            assert!(
                index.contains(&format!("href=\"{f}#{anchor}\"")),
                "matrix links {f}#{anchor}"
            );
            anchors_checked += 1;
        }
    }
    assert_eq!(anchors_checked, 16);
    // Every case id of any target is one matrix row; missing ones show a dash.
    let ids: HashSet<&str> = r
        .targets
        .iter()
        .flat_map(|t| &t.cases)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(index.matches("<tr class=\"mrow\"").count(), ids.len());
    assert_eq!(index.matches("class=\"cell none\"").count(), 2);
    // write_target_report alone names the page the same way.
    let alone = html::write_target_report(&r, &r.targets[1], dir.path()).unwrap();
    assert_eq!(alone, dir.path().join("student-alice.html"));
}

#[test]
fn target_names_never_collide_or_escape_the_directory() {
    let mut r = fixture::report();
    let t = r.targets[0].clone();
    for name in ["Reference", "index", "../../etc/passwd", "", "reference"] {
        r.targets.push(wirecheck_reports::TargetReport {
            name: name.into(),
            ..t.clone()
        });
    }
    let files = html::page_file_names(&r);
    let unique: HashSet<&String> = files.iter().collect();
    assert_eq!(unique.len(), files.len(), "{files:?}");
    assert!(
        files
            .iter()
            .all(|f| !f.contains('/') && f != "index.html" && f.ends_with(".html")),
        "{files:?}"
    );
    assert_eq!(html::page_file_name(&r, &r.targets[3]), files[3]);
}

#[test]
fn an_empty_run_still_has_an_index() {
    let r = Report {
        targets: vec![],
        ..fixture::report()
    };
    let index = index::render_index(&r).unwrap();
    assert!(index.contains("No targets in this run."));
    assert!(!index.contains("id=\"matrix\""));
}

#[test]
fn the_matrix_marks_rows_where_targets_agree() {
    let index = index::render_index(&fixture::report()).unwrap();
    // Only the greeting passes on both.
    assert_eq!(index.matches("data-same=\"1\"").count(), 1);
}

#[test]
fn templates_can_be_overridden_at_run_time() {
    let r = fixture::report();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("style.css"),
        "body { color: rebeccapurple }",
    )
    .unwrap();
    std::fs::write(dir.path().join("index.html"), "{% extends \"base.html\" %}{% block body %}<p>{{ targets|length }} targets: {% for t in targets %}{{ t.name }};{% endfor %}</p>{% endblock %}").unwrap();
    let opts = HtmlOptions {
        templates_dir: Some(dir.path().to_path_buf()),
    };
    let index = index::render_index_with(&r, &opts).unwrap();
    assert!(
        index.contains("<p>2 targets: reference;student &lt;alice&gt;;</p>"),
        "{index}"
    );
    assert!(index.contains("<style>body { color: rebeccapurple }</style>"));
    // Files the directory lacks come from the embedded set.
    let page = html::render_target_with(&r, &r.targets[0], &opts).unwrap();
    assert!(page.contains("id=\"cases\"") && page.contains("rebeccapurple"));
    // A broken template is an error, not a panic.
    std::fs::write(dir.path().join("target.html"), "{% if %}").unwrap();
    let err = html::render_target_with(&r, &r.targets[0], &opts).unwrap_err();
    assert!(matches!(err, RenderError::Template(_)), "{err}");
}

#[test]
fn json_round_trips_through_a_file() {
    let r = fixture::report();
    let text = json::render(&r).unwrap();
    assert!(
        text.starts_with("{\n  \"schema\": 1,") && text.ends_with("}\n"),
        "{text}"
    );
    assert_eq!(json::parse(&text).unwrap(), r);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/report.json");
    json::write(&r, &path).unwrap();
    assert_eq!(json::read(&path).unwrap(), r);
    // Outcomes and levels are spelled as SCHEMA.md says.
    for word in [
        "\"non-strict\"",
        "\"unimplemented\"",
        "\"SHOULD\"",
        "\"received\"",
        "\"note\"",
    ] {
        assert!(text.contains(word), "{word}");
    }
}

#[test]
fn json_readers_ignore_fields_they_do_not_know() {
    // SCHEMA.md "Compatibility": additions within a version must not break readers.
    let mut v: serde_json::Value =
        serde_json::from_str(&json::render(&fixture::report()).unwrap()).unwrap();
    v["added_later"] = "x".into();
    v["targets"][0]["cases"][0]["added_later"] = 1.into();
    assert_eq!(json::parse(&v.to_string()).unwrap(), fixture::report());
}

#[test]
fn json_from_a_newer_schema_is_refused_and_garbage_is_an_error() {
    let mut v: serde_json::Value =
        serde_json::from_str(&json::render(&fixture::report()).unwrap()).unwrap();
    v["schema"] = (SCHEMA_VERSION + 1).into();
    let err = json::parse(&v.to_string()).unwrap_err();
    assert!(
        matches!(err, RenderError::UnsupportedSchema { found, supported } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION)
    );
    assert!(matches!(
        json::parse("{\"schema\": 1}"),
        Err(RenderError::Json(_))
    ));
    assert!(matches!(json::parse("not json"), Err(RenderError::Json(_))));
    let missing = json::read(Path::new("/nonexistent/report.json")).unwrap_err();
    assert!(matches!(missing, RenderError::Io { .. }), "{missing}");
}

#[test]
fn junit_has_the_shape_ci_reads() {
    let r = fixture::report();
    let xml = junit::render(&r).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    // It parses back (well-formed, hostile text escaped) with the counts CI shows.
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(parsed.test_suites.len(), r.targets.len());
    assert_eq!((parsed.tests, parsed.failures, parsed.errors), (16, 2, 1));
    for (suite, target) in parsed.test_suites.iter().zip(&r.targets) {
        assert_eq!(suite.name.as_str(), target.name);
        assert_eq!(suite.test_cases.len(), target.cases.len());
        let count = |o| target.cases.iter().filter(|c| c.outcome == o).count();
        assert_eq!(suite.failures, count(Outcome::Fail));
        assert_eq!(suite.errors, count(Outcome::Error));
        assert_eq!(suite.disabled.unwrap_or(0), 0);
        for (tc, case) in suite.test_cases.iter().zip(&target.cases) {
            assert_eq!(tc.name.as_str(), case.id);
            let class = tc.classname.as_ref().unwrap().as_str();
            assert!(
                class.starts_with(&format!("{}.rfc", case.protocol)),
                "{class}"
            );
            use quick_junit::TestCaseStatus as S;
            match (&tc.status, case.outcome) {
                (S::Success { .. }, Outcome::Pass) => assert!(tc.system_out.is_none()),
                (S::Success { .. }, Outcome::NonStrict | Outcome::Informational) => {
                    assert!(
                        tc.system_out
                            .as_ref()
                            .unwrap()
                            .as_str()
                            .starts_with(case.outcome.as_str())
                    );
                }
                (
                    S::NonSuccess {
                        kind: quick_junit::NonSuccessKind::Failure,
                        message,
                        ..
                    },
                    Outcome::Fail,
                )
                | (
                    S::NonSuccess {
                        kind: quick_junit::NonSuccessKind::Error,
                        message,
                        ..
                    },
                    Outcome::Error,
                ) => {
                    assert_eq!(
                        message.as_ref().unwrap().as_str(),
                        case.message.as_deref().unwrap()
                    );
                }
                (S::Skipped { message, .. }, Outcome::Skipped | Outcome::Unimplemented) => {
                    assert!(
                        message
                            .as_ref()
                            .unwrap()
                            .as_str()
                            .starts_with(case.outcome.as_str())
                    );
                }
                (st, o) => panic!("{}: {o:?} became {st:?}", case.id),
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    junit::write(&r, &dir.path().join("junit.xml")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("junit.xml")).unwrap(),
        xml
    );
}
