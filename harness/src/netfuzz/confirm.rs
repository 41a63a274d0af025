//! What becomes of a discrepancy class after the fuzzing phase: reproduced, minimised,
//! written as a transcript and verified by the real runner.

use std::path::PathBuf;

use tokio::time::Instant;

use super::{Acc, Finding, FuzzError, Sequence, Shared, emit, minimise, pair};
use crate::target::TargetSpec;

/// Reproduce, minimise, emit and verify one class.
pub(super) async fn finish(
    sh: &Shared,
    f: &mut Finding,
    acc: &Acc,
    target: &TargetSpec,
    deadline: Instant,
) -> Result<(), FuzzError> {
    let cfg = &sh.cfg;
    let class = f.class.clone();
    let mut still =
        async |s: &Sequence| matches!(pair(sh, s).await, Ok(Some((d, _))) if d.class() == class);
    let mut reproduced = false;
    for _ in 0..3 {
        if still(&acc.seq).await {
            reproduced = true;
            break;
        }
    }
    if !reproduced {
        f.verdict = "flaky: did not reproduce".into();
        return Ok(());
    }
    let budget = minimise::Budget {
        tests: cfg.minimise_tests,
        deadline,
    };
    let (min, tests) =
        minimise::minimise(acc.seq.clone(), budget, cfg.protocol != "dns", &mut still).await;
    f.tests = tests;
    f.minimised = min.iter().map(|c| emit::escape(c)).collect();
    let origin = emit::Origin {
        seed: cfg.seed,
        case: acc.first,
        original_chunks: acc.seq.len(),
    };
    let mut why = String::new();
    for seq in [&min, &acc.seq] {
        let Ok(Some((d, o))) = pair(sh, seq).await else {
            why = "the minimised case stopped reproducing".into();
            continue;
        };
        if d.class() != class {
            why = format!("the case now shows another class: {}", d.class());
            continue;
        }
        let udp = cfg.protocol == "dns" && cfg.udp;
        let (slug, text) = match emit::transcript(&cfg.protocol, udp, seq, &o, &d, &origin) {
            Ok(x) => x,
            Err(e) => {
                why = e;
                continue;
            }
        };
        let rel = PathBuf::from(&cfg.protocol).join(format!("{slug}.toml"));
        match emit::verify(
            &text,
            &rel,
            &cfg.protocol,
            &d,
            &cfg.oracle,
            target,
            &cfg.run,
        )
        .await
        {
            Ok(outcome) => {
                f.target_outcome = Some(outcome);
                if let Some(out) = &cfg.out {
                    let path = out.join(&rel);
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent).map_err(|source| FuzzError::Write {
                            path: parent.to_path_buf(),
                            source,
                        })?;
                    }
                    std::fs::write(&path, &text).map_err(|source| FuzzError::Write {
                        path: path.clone(),
                        source,
                    })?;
                    f.file = Some(path);
                }
                f.verdict = if std::ptr::eq(seq, &min) {
                    "written".into()
                } else {
                    "written (not minimised)".into()
                };
                return Ok(());
            }
            Err(e) => why = e,
        }
    }
    f.verdict = format!("unverified: {why}");
    Ok(())
}
