//! `transcripts/selftest/`: example transcripts of every notation feature, run against the
//! fake servers of `tests/common` — the corpus a reader can copy from, kept working.

mod common;

use std::path::Path;

use common::{dump, fake, run_with};
use wirecheck::corpus;
use wirecheck::runner::{Fixtures, RunOptions};
use wirecheck::select::Selection;
use wirecheck::target::TargetSpec;
use wirecheck_reports::Outcome;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_selftest_transcript_passes_against_the_fake_servers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../transcripts/selftest");
    let corpus = corpus::load(&root).expect("the self-test corpus is valid");
    assert!(
        corpus.transcripts.len() >= 10,
        "{} transcripts",
        corpus.transcripts.len()
    );
    for t in &corpus.transcripts {
        let findings = wirecheck::lint::lint_transcript(t);
        assert!(findings.is_empty(), "{findings:?}");
    }
    let smtp = fake::smtp(Default::default()).await;
    let pop3 = fake::pop3().await;
    let servers = [
        ("smtp", smtp),
        ("pop3", pop3),
        ("imap", fake::imap().await),
        ("ftp", fake::ftp().await),
        ("dns", fake::dns_udp().await),
        ("scenarios", smtp),
    ];
    let opts = RunOptions {
        insecure: true,
        fixtures: Fixtures {
            tls: true,
            mailbox_count: Some(2),
            ..Fixtures::default()
        },
        ..RunOptions::default()
    };
    let mut ran = 0;
    for (protocol, addr) in servers {
        let sel = Selection {
            protocol: Some(protocol.into()),
            ..Selection::all()
        };
        let ts: Vec<_> = sel.apply(&corpus).into_iter().cloned().collect();
        let mut target = TargetSpec::addr(addr.to_string());
        target.services.insert("smtp".into(), smtp.to_string());
        target.services.insert("pop3".into(), pop3.to_string());
        let r = run_with(&ts, &target, &opts).await;
        for c in &r.cases {
            assert_eq!(c.outcome, Outcome::Pass, "{}", dump(c));
        }
        ran += r.cases.len();
    }
    assert_eq!(ran, corpus.transcripts.len(), "every transcript ran once");
}

#[test]
fn the_corpus_root_does_not_load_the_selftests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../transcripts");
    let files = corpus::transcript_files(&root).unwrap();
    assert!(
        files
            .iter()
            .all(|f| !f.starts_with("selftest") && !f.starts_with("deviations"))
    );
}
