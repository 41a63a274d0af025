//! Run a fuzz target's check on files, without libFuzzer or instrumentation: to reproduce a
//! finding with a normal debugger, or to measure what the protocol code itself costs.
//!
//! ```text
//! cargo run --release --manifest-path fuzz/Cargo.toml --example replay -- TARGET PATH... [--seconds N]
//! ```
//!
//! Each PATH is a file or a directory of inputs. With `--seconds N` the inputs are replayed
//! in a loop for N seconds and the executions per second are printed.

use std::path::Path;
use std::time::{Duration, Instant};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let seconds = match args.iter().position(|a| a == "--seconds") {
        Some(i) => {
            let s = args.get(i + 1).and_then(|s| s.parse::<f64>().ok()).unwrap_or(10.0);
            args.drain(i..(i + 2).min(args.len()));
            Some(s)
        }
        None => None,
    };
    let Some((target, paths)) = args.split_first() else {
        eprintln!("usage: replay TARGET PATH... [--seconds N]");
        std::process::exit(2);
    };
    let Some(&(_, run)) = wirecheck_fuzz::targets::ALL.iter().find(|(n, _)| n == target) else {
        eprintln!("no target {target}");
        std::process::exit(2);
    };
    let mut inputs = Vec::new();
    for p in paths {
        let p = Path::new(p);
        if p.is_dir() {
            for e in std::fs::read_dir(p).expect("read dir").flatten() {
                inputs.push(std::fs::read(e.path()).expect("read input"));
            }
        } else {
            inputs.push(std::fs::read(p).expect("read input"));
        }
    }
    let Some(seconds) = seconds else {
        for i in &inputs {
            run(i);
        }
        println!("{}: {} inputs pass", target, inputs.len());
        return;
    };
    if inputs.is_empty() {
        eprintln!("no inputs");
        std::process::exit(2);
    }
    let start = Instant::now();
    let limit = Duration::from_secs_f64(seconds);
    let mut runs = 0u64;
    while start.elapsed() < limit {
        for i in &inputs {
            run(i);
        }
        runs += inputs.len() as u64;
    }
    let rate = runs as f64 / start.elapsed().as_secs_f64();
    println!("{target}: {runs} runs of {} inputs, {rate:.0} exec/s", inputs.len());
}
