//! Console output: one line per case as it ends (libtest style), a progress bar on a
//! terminal, plain lines otherwise, and the details of every case that did not pass.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use wirecheck::runner::Progress;
use wirecheck_reports::{CaseResult, Outcome, Report};

/// The console sink.
pub struct Console {
    bar: Option<ProgressBar>,
    out: Mutex<()>,
}

impl Console {
    /// `total` cases; a progress bar when `terminal`.
    pub fn new(total: usize, terminal: bool) -> Console {
        let bar = terminal.then(|| {
            let b = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
                b.set_style(style);
            }
            b
        });
        println!(
            "\nrunning {total} transcript{}",
            if total == 1 { "" } else { "s" }
        );
        Console {
            bar,
            out: Mutex::new(()),
        }
    }

    /// The run is over.
    pub fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn label(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "ok",
        Outcome::Fail => "FAILED",
        Outcome::NonStrict => "non-strict",
        Outcome::Unimplemented => "unimplemented",
        Outcome::Informational => "informational",
        Outcome::Error => "ERROR",
        Outcome::Skipped => "skipped",
    }
}

impl Progress for Console {
    fn started(&self, id: &str) {
        if let Some(b) = &self.bar {
            b.set_message(id.to_string());
        }
    }

    fn finished(&self, r: &CaseResult) {
        let _guard = self.out.lock();
        let line = format!("test {} ... {}", r.id, label(r.outcome));
        match &self.bar {
            Some(b) => {
                b.suspend(|| println!("{line}"));
                b.inc(1);
            }
            None => println!("{line}"),
        }
    }
}

/// The details of every case that did not pass (skipped ones in one line each).
pub fn print_failures(report: &Report) {
    for t in &report.targets {
        let bad: Vec<&CaseResult> = t
            .cases
            .iter()
            .filter(|c| !matches!(c.outcome, Outcome::Pass | Outcome::Skipped))
            .collect();
        if !bad.is_empty() {
            println!("\nnot passed:\n");
        }
        for c in bad {
            println!("---- {} ({}) ----", c.id, label(c.outcome));
            let at = c
                .line
                .map(|l| format!("{}:{l}", c.file))
                .unwrap_or_else(|| c.file.clone());
            println!("  at       {at}");
            if let Some(m) = &c.message {
                println!("  why      {m}");
            }
            if let Some(e) = &c.expected {
                println!("  expected {e}");
            }
            if let Some(a) = &c.actual {
                println!("  actual   {a}");
            }
            if let Some(h) = &c.hint {
                println!("  hint     {h}");
            }
            println!();
        }
        for c in t.cases.iter().filter(|c| c.outcome == Outcome::Skipped) {
            println!("skipped {}: {}", c.id, c.message.as_deref().unwrap_or(""));
        }
    }
    println!();
}
