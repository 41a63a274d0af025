//! The `wirecheck run` flags that keep what a run saw: `--snapshot DIR` (insta snapshots of
//! every case's replies) and `--pcap FILE` (the traffic as a capture).

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context as _;
use wirecheck_reports::{Report, Summary};

use super::{Change, Mode, Snapshots, tally};
use crate::pcap::{self, PcapOptions};
use crate::transcript::Transcript;

/// Snapshot and capture flags of `wirecheck run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RecordArgs {
    /// Keep every case's replies, normalised, as insta snapshots in DIR; on later runs a
    /// case whose replies changed fails, with the diff (review: `cargo insta review`).
    #[arg(long, value_name = "DIR")]
    pub snapshot: Option<PathBuf>,
    /// Accept changed snapshots (as `INSTA_UPDATE=always` does).
    #[arg(long, requires = "snapshot")]
    pub snapshot_update: bool,
    /// Write the run's traffic as a pcap file (synthesised TCP/UDP frames on the
    /// protocols' well-known ports, so that tshark/Wireshark dissect them).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// In the pcap, keep the target's real ports (then tell tshark, e.g.
    /// `-d tcp.port==2525,smtp`).
    #[arg(long, requires = "pcap")]
    pub pcap_real_ports: bool,
}

/// Apply the flags to a finished run: compare or record snapshots (failing changed cases
/// and recomputing the summaries), write the capture. Prints what it did to stderr and each
/// changed snapshot's diff to stdout.
pub fn after_run(
    args: &RecordArgs,
    report: &mut Report,
    transcripts: &[&Transcript],
    started: SystemTime,
) -> anyhow::Result<()> {
    if let Some(dir) = &args.snapshot {
        let snaps = Snapshots::open(dir, Mode::from_env(args.snapshot_update))?;
        for t in &mut report.targets {
            let changes = snaps.check(t)?;
            for (id, c) in &changes {
                if let Change::Changed(diff) = c {
                    println!("snapshot of {id} changed:\n{diff}");
                }
            }
            t.summary = Summary::of(&t.cases);
            let n = tally(&changes);
            eprintln!(
                "snapshots in {}: {} unchanged, {} new, {} changed, {} updated",
                dir.display(),
                n.same,
                n.new,
                n.changed,
                n.updated
            );
        }
    }
    if let Some(path) = &args.pcap {
        let by_id: std::collections::HashMap<&str, &Transcript> = transcripts
            .iter()
            .map(|t| (t.meta.id.as_str(), *t))
            .collect();
        let cases: Vec<_> = report
            .targets
            .iter()
            .flat_map(|t| &t.cases)
            .map(|c| (c, by_id.get(c.id.as_str()).copied()))
            .collect();
        let opts = PcapOptions {
            real_ports: args.pcap_real_ports,
        };
        let stats = pcap::write(path, &cases, started, &opts)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "pcap: {} frame(s), {} connection(s) in {}{}",
            stats.frames,
            stats.connections,
            path.display(),
            if stats.tls_bytes_left_out > 0 {
                format!(
                    " ({} byte(s) inside TLS left out)",
                    stats.tls_bytes_left_out
                )
            } else {
                String::new()
            }
        );
    }
    Ok(())
}
