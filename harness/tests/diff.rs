//! `wirecheck diff` end to end: the SMTP corpus against the deliberately broken server
//! (`tests/broken/`) lists its two planted bugs; against another instance of the oracle
//! it lists nothing.

mod broken;

use std::path::PathBuf;

use rustls_pki_types::CertificateDer;
use wirecheck::corpus;
use wirecheck::diff::{self, DiffOptions, DiffReport, Verdict};
use wirecheck::netfuzz;
use wirecheck::oracle::{Oracle, OracleConfig};
use wirecheck::select::Selection;
use wirecheck::target::TargetSpec;
use wirecheck::transcript::Transcript;

fn smtp_corpus() -> Vec<Transcript> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../transcripts");
    let c = corpus::load_lenient(&dir).expect("corpus").0;
    // The sequence, smuggling and EHLO areas: where the broken server is broken, and
    // enough else to show it is otherwise the reference (the whole corpus takes longer).
    let sel = Selection {
        protocol: Some("smtp".into()),
        filters: vec![
            "smtp.sequence.".into(),
            "smtp.smuggling.lf-".into(),
            "smtp.ehlo.".into(),
            "smtp.data.".into(),
        ],
        ..Selection::all()
    };
    sel.apply(&c).into_iter().cloned().collect()
}

async fn run(target: &TargetSpec, roots: Vec<CertificateDer<'static>>) -> DiffReport {
    let all = smtp_corpus();
    let refs: Vec<&Transcript> = all.iter().collect();
    let mut opts = DiffOptions::default();
    opts.run.tls_roots = roots;
    opts.jobs = 8;
    opts.run.jobs = 8;
    diff::diff(&refs, target, &opts).await.expect("diff")
}

fn case<'a>(r: &'a DiffReport, id: &str) -> &'a diff::CaseDiff {
    r.cases
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broken_server_differs_where_it_is_broken() {
    let srv = broken::smtp().await;
    let r = run(&TargetSpec::addr(srv.addr.to_string()), Vec::new()).await;
    let text = diff::render_text(&r);
    eprintln!("{text}");
    let rcpt = case(&r, "smtp.sequence.rcpt-before-mail");
    assert_eq!(rcpt.verdict, Verdict::Different, "{text}");
    let step = &rcpt.steps[0];
    assert_eq!(
        (step.verb.as_str(), step.kind.as_str()),
        ("RCPT", "code class"),
        "{text}"
    );
    assert!(
        step.oracle.starts_with("503") && step.target.starts_with("250"),
        "{text}"
    );
    assert!(
        rcpt.notes.iter().any(|n| n.contains("not reached")),
        "the rest of the case was not sent to the target: {text}"
    );
    let smuggling = case(&r, "smtp.smuggling.lf-dot-lf");
    assert_eq!(smuggling.verdict, Verdict::Different, "{text}");
    assert!(r.classes.iter().any(|c| c.kind == "code class"), "{text}");
    assert!(
        r.totals.identical > r.totals.different,
        "mostly the reference's behaviour: {text}"
    );
    let json = serde_json::to_value(&r).expect("json");
    assert_eq!(json["totals"]["transcripts"], r.cases.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oracle_does_not_differ_from_itself() {
    let other = Oracle::start(&OracleConfig {
        ports: netfuzz::service_ports("smtp"),
        ..OracleConfig::default()
    })
    .await
    .expect("oracle");
    let spec = TargetSpec::addr(other.addr("smtp").expect("smtp").to_string());
    let r = run(&spec, vec![other.certificate().clone()]).await;
    let text = diff::render_text(&r);
    let differ: Vec<&str> = r
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Different)
        .map(|c| c.id.as_str())
        .collect();
    assert!(differ.is_empty(), "{text}");
    assert!(r.totals.identical > 20, "{text}");
}
