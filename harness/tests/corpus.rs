//! Every transcript of the corpus passes against the reference implementation.
//!
//! One libtest-mimic trial per transcript file, so `cargo test -p wirecheck --test corpus`
//! lists and filters them like any test (`-- smtp.sequence`, `--exact`, `--list`). Each
//! trial starts a fresh embedded oracle; server-role transcripts without a `target-cmd`
//! (they need an external client under test) are listed as ignored.
//!
//! Most of a trial's time is waiting the transcript asks for (`expect silence`, `pause`), so
//! without `--test-threads` (or `RUST_TEST_THREADS`) many more trials run at once than there
//! are cores ([`TRIALS_AT_ONCE`]), the longest waits first (`wirecheck::demo::longest_first`).

use std::path::PathBuf;
use std::sync::LazyLock;

use libtest_mimic::{Arguments, Failed, Trial};
use wirecheck::runner::RunOptions;
use wirecheck::transcript::{Role, Transcript};
use wirecheck_reports::Outcome;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
});

/// Trials at once unless told otherwise: they mostly sleep, and every one has its own oracle
/// on its own ports, so this is bounded by file descriptors, not cores.
const TRIALS_AT_ONCE: usize = 48;

/// The same for every trial (its default asks the system for the core count each time).
static OPTIONS: LazyLock<RunOptions> = LazyLock::new(RunOptions::default);

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../transcripts")
}

fn check(t: &Transcript) -> Result<(), Failed> {
    let r = RUNTIME.block_on(wirecheck::demo::run_case(t, &OPTIONS));
    if r.outcome == Outcome::Pass {
        return Ok(());
    }
    let mut msg = format!("{} against the oracle: {}", r.outcome.as_str(), r.message.unwrap_or_default());
    if let Some(line) = r.line {
        msg.push_str(&format!("\n  at {}:{line}", r.file));
    }
    if let Some(e) = r.expected {
        msg.push_str(&format!("\n  expected: {e}"));
    }
    if let Some(a) = r.actual {
        msg.push_str(&format!("\n  actual:   {a}"));
    }
    Err(msg.into())
}

fn main() {
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        let env = std::env::var("RUST_TEST_THREADS").ok().and_then(|v| v.parse().ok());
        args.test_threads = Some(env.unwrap_or(TRIALS_AT_ONCE));
    }
    let corpus = match wirecheck::corpus::load(&corpus_dir()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("the corpus does not load: {e}");
            std::process::exit(101);
        }
    };
    let order = {
        let all: Vec<&Transcript> = corpus.transcripts.iter().collect();
        wirecheck::demo::longest_first(&all)
    };
    let mut transcripts: Vec<Option<Transcript>> = corpus.transcripts.into_iter().map(Some).collect();
    let trials = order
        .into_iter()
        .filter_map(|i| transcripts.get_mut(i).and_then(Option::take))
        .map(|t| {
            let ignored = t.meta.role == Role::Server && t.meta.target_cmd.is_none();
            let name = t.meta.id.clone();
            let kind = t.meta.protocol.clone();
            Trial::test(name, move || check(&t)).with_kind(kind).with_ignored_flag(ignored)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
