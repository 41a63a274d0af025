//! wirecheck: a conformance test harness for SMTP, POP3, IMAP, FTP and DNS.
//!
//! The pieces, in the order data flows through them:
//!
//! * [`transcript`]: the notation of `docs/transcripts.md` — TOML metadata and a `C:`/`S:`
//!   script — parsed into steps, templates (`${…}` expressions and helpers), bounded globs
//!   with captures, and patterns. Parse errors name the file, the line and what was expected.
//! * [`corpus`] loads a directory of transcripts; [`lint`] checks one without a target;
//!   [`select`] picks cases by protocol, name, tag and RFC section before anything runs.
//! * [`protocol`]: one adapter per protocol that frames reply units with the codec of the
//!   protocol's `reference-impl` crate (the harness never re-implements a grammar).
//! * [`runner`]: runs transcripts against a [`target`] concurrently, every read bounded in
//!   size and time, into the report model of `wirecheck-reports`.
//! * [`oracle`], [`serve`], [`demo`]: the embedded reference servers and the corpus run
//!   against them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use wirecheck::{corpus, runner, select::Selection, target::TargetSpec};
//! let corpus = corpus::load("transcripts".as_ref())?;
//! let sel = Selection { protocol: Some("smtp".into()), ..Selection::all() };
//! let target = TargetSpec::addr("127.0.0.1:2525");
//! let report = runner::run_corpus(&corpus, &sel, &target, &runner::RunOptions::default()).await?;
//! for case in &report.cases {
//!     println!("{} {}", case.id, case.outcome.as_str());
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod args;
pub mod corpus;
pub mod coverage;
pub mod demo;
pub mod grade;
pub mod import;
pub mod diff;
pub mod lint;
pub mod netfuzz;
pub mod oracle;
pub mod pcap;
pub mod protocol;
pub mod runner;
pub mod select;
pub mod snapshot;
pub mod serve;
pub mod target;
pub mod transcript;
