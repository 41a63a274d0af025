//! The harness against misbehaving servers: every case ends (as `error` or `fail`) within
//! its transcript timeout plus one second, memory stays within the caps, and the other
//! cases of the run still run and pass.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{case, dump, fake, hostile, run_with, transcript};
use wirecheck::protocol::Limits;
use wirecheck::runner::RunOptions;
use wirecheck::target::TargetSpec;
use wirecheck_reports::{Direction, Outcome, unescape_bytes};

const SCRIPT: &str = "connect main smtp to ${SERVICE}
S: 220 *
C: EHLO client.example.test
S: 250 *
C: QUIT
S: 221 *";

const META: &str = "timeout = \"6s\"\nstep-timeout = \"1s\"";
const CASE_LIMIT_MS: u64 = 6_000 + 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_servers_end_in_error_or_fail_and_the_rest_still_runs() {
    let streamed_line = Arc::new(AtomicU64::new(0));
    let streamed_cont = Arc::new(AtomicU64::new(0));
    let mut services = BTreeMap::new();
    services.insert("silent", hostile::silent().await);
    services.insert("hang", hostile::greeting_then_hang().await);
    services.insert(
        "endless-line",
        hostile::endless_line(streamed_line.clone()).await,
    );
    services.insert(
        "endless-continuation",
        hostile::endless_continuation(streamed_cont.clone()).await,
    );
    services.insert("rst", hostile::rst_on_accept().await);
    services.insert("slow", hostile::one_byte_per_second().await);
    services.insert("random", hostile::random_binary().await);
    services.insert("close-mid-reply", hostile::close_mid_reply().await);
    services.insert("half-close", hostile::half_close_after_greeting().await);
    services.insert("good", fake::smtp(Default::default()).await);

    let mut target = TargetSpec::addr("127.0.0.1:9");
    let mut ts = Vec::new();
    for (name, addr) in &services {
        target.services.insert(name.to_string(), addr.to_string());
        let id = format!("scenario.hostile.{name}");
        ts.push(transcript(
            &id,
            "scenarios",
            META,
            &SCRIPT.replace("SERVICE", name),
        ));
    }
    let limits = Limits {
        max_line: 64 * 1024,
        max_reply: 1024 * 1024,
    };
    let opts = RunOptions {
        limits,
        record_cap: 2 * 1024 * 1024,
        jobs: 3,
        ..RunOptions::default()
    };
    let report = run_with(&ts, &target, &opts).await;
    assert_eq!(report.cases.len(), services.len());

    let expect = |name: &str, allowed: &[Outcome], says: &str| {
        let c = case(&report, &format!("scenario.hostile.{name}"));
        assert!(allowed.contains(&c.outcome), "{}", dump(c));
        let m = c.message.clone().unwrap_or_default();
        assert!(
            m.contains(says),
            "{name}: message {m:?} should say {says:?}"
        );
        assert!(
            c.duration_ms <= CASE_LIMIT_MS,
            "{name} took {} ms",
            c.duration_ms
        );
        let recorded: usize = c
            .exchange
            .iter()
            .filter(|e| e.dir != Direction::Note)
            .filter_map(|e| unescape_bytes(&e.data))
            .map(|b| b.len())
            .sum();
        assert!(
            recorded <= opts.record_cap + 64 * 1024,
            "{name} recorded {recorded} bytes"
        );
        assert!(!c.exchange.is_empty(), "{name}: the exchange is kept");
    };
    expect("silent", &[Outcome::Error], "nothing arrived");
    expect("hang", &[Outcome::Error], "nothing arrived");
    expect("endless-line", &[Outcome::Fail], "longer than");
    expect("endless-continuation", &[Outcome::Fail], "");
    expect("rst", &[Outcome::Fail, Outcome::Error], "");
    expect("slow", &[Outcome::Fail], "incomplete");
    expect("random", &[Outcome::Fail], "malformed");
    expect("close-mid-reply", &[Outcome::Fail], "closed");
    expect("half-close", &[Outcome::Fail], "closed");
    let good = case(&report, "scenario.hostile.good");
    assert_eq!(good.outcome, Outcome::Pass, "{}", dump(good));

    // The streaming servers could go on for 128 MiB; the harness stopped reading early.
    let endless = case(&report, "scenario.hostile.endless-line");
    assert!(
        endless.actual.as_deref().unwrap_or("").len() < 16 * 1024,
        "the report shows a bounded excerpt"
    );
    let cont = case(&report, "scenario.hostile.endless-continuation");
    let m = cont.message.as_deref().unwrap_or("");
    assert!(
        m.contains("more than") || m.contains("larger than"),
        "{}",
        dump(cont)
    );
    assert!(streamed_line.load(Ordering::Relaxed) < 128 << 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_line_larger_than_every_cap_keeps_memory_bounded() {
    // A bigger unit cap than line cap: the line cap still cuts the line, and what is
    // recorded never exceeds the recording cap however much the server sends.
    let streamed = Arc::new(AtomicU64::new(0));
    let addr = hostile::endless_line(streamed.clone()).await;
    let t = transcript(
        "smtp.hostile.big",
        "smtp",
        "timeout = \"30s\"\nstep-timeout = \"20s\"",
        "S: 220 *",
    );
    let limits = Limits {
        max_line: 8 * 1024 * 1024,
        max_reply: 16 * 1024 * 1024,
    };
    let opts = RunOptions {
        limits,
        record_cap: 4 * 1024 * 1024,
        ..RunOptions::default()
    };
    let r = run_with(&[t], &TargetSpec::addr(addr.to_string()), &opts).await;
    let c = &r.cases[0];
    assert_eq!(c.outcome, Outcome::Fail, "{}", dump(c));
    assert!(
        streamed.load(Ordering::Relaxed) >= 8 * 1024 * 1024,
        "the server did stream past the line cap"
    );
    let recorded: usize = c
        .exchange
        .iter()
        .filter(|e| e.dir != Direction::Note)
        .filter_map(|e| unescape_bytes(&e.data))
        .map(|b| b.len())
        .sum();
    assert!(
        recorded <= opts.record_cap,
        "recorded {recorded} bytes, cap {}",
        opts.record_cap
    );
    assert!(
        c.exchange.iter().any(|e| e.data.contains("not recorded")),
        "the truncation is noted"
    );
}
