//! Delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating Failure-Inducing
//! Input", 2002): the smallest session that still shows the same discrepancy class —
//! first over its chunks, then over the lines inside each chunk, then over each chunk's
//! bytes — within a budget of tests and time.

use tokio::time::Instant;

use super::Sequence;

/// How much minimisation may cost.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Tests (session pairs) at most.
    pub tests: usize,
    /// Stop at this instant.
    pub deadline: Instant,
}

/// Counts the tests and says when the budget is spent.
struct Spend {
    budget: Budget,
    used: usize,
}

impl Spend {
    fn spent(&self) -> bool {
        self.used >= self.budget.tests || Instant::now() >= self.budget.deadline
    }
}

/// `ddmin` over the items of a list: the smallest sublist (1-minimal when the budget
/// allows) for which `still(sub)` holds. `still(all)` is assumed.
async fn ddmin<T: Clone>(
    all: Vec<T>,
    spend: &mut Spend,
    still: &mut impl AsyncFnMut(&[T]) -> bool,
) -> Vec<T> {
    let mut c = all;
    let mut n = 2usize;
    while c.len() >= 2 && !spend.spent() {
        let chunk = c.len().div_ceil(n);
        let parts: Vec<(usize, usize)> = (0..c.len())
            .step_by(chunk)
            .map(|s| (s, (s + chunk).min(c.len())))
            .collect();
        let mut reduced = false;
        // Reduce to a part, then to a complement.
        for &(s, e) in &parts {
            if spend.spent() {
                break;
            }
            let sub: Vec<T> = c[s..e].to_vec();
            spend.used += 1;
            if still(&sub).await {
                c = sub;
                n = 2;
                reduced = true;
                break;
            }
        }
        if !reduced && parts.len() > 2 {
            for &(s, e) in &parts {
                if spend.spent() {
                    break;
                }
                let comp: Vec<T> = c[..s].iter().chain(&c[e..]).cloned().collect();
                spend.used += 1;
                if still(&comp).await {
                    c = comp;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= c.len() {
                break;
            }
            n = (n * 2).min(c.len());
        }
    }
    c
}

/// Minimise `seq` under `still` (true: the discrepancy is still there); `inside`: also the
/// lines and bytes inside each chunk (not for DNS messages, which a missing byte only
/// breaks). Returns the smallest sequence found and the number of tests run.
pub async fn minimise(
    seq: Sequence,
    budget: Budget,
    inside: bool,
    mut still: impl AsyncFnMut(&Sequence) -> bool,
) -> (Sequence, usize) {
    let mut spend = Spend { budget, used: 0 };
    // 1. Chunks.
    let mut seq = ddmin(seq, &mut spend, &mut async |sub: &[Vec<u8>]| {
        still(&sub.to_vec()).await
    })
    .await;
    // 2. Lines inside each chunk, 3. bytes inside each chunk.
    for lines in [true, false].into_iter().filter(|_| inside) {
        let mut i = 0;
        while i < seq.len() && !spend.spent() {
            let parts: Vec<Vec<u8>> = if lines {
                seq[i]
                    .split_inclusive(|&b| b == b'\n')
                    .map(<[u8]>::to_vec)
                    .collect()
            } else {
                seq[i].iter().map(|&b| vec![b]).collect()
            };
            if parts.len() >= 2 {
                let before = seq.clone();
                let kept = ddmin(parts, &mut spend, &mut async |sub: &[Vec<u8>]| {
                    let mut cand = before.clone();
                    cand[i] = sub.concat();
                    !cand[i].is_empty() && still(&cand).await
                })
                .await;
                seq[i] = kept.concat();
            }
            i += 1;
        }
    }
    (seq, spend.used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn budget() -> Budget {
        Budget {
            tests: 10_000,
            deadline: Instant::now() + Duration::from_secs(30),
        }
    }

    #[tokio::test]
    async fn finds_the_two_chunks_that_matter() {
        let seq: Sequence = (0..20)
            .map(|i| format!("CMD{i}\r\n").into_bytes())
            .collect();
        let (min, tests) = minimise(seq, budget(), true, async |s: &Sequence| {
            s.iter().any(|c| c.starts_with(b"CMD3")) && s.iter().any(|c| c.starts_with(b"CMD17"))
        })
        .await;
        assert_eq!(min, vec![b"CMD3".to_vec(), b"CMD17".to_vec()]);
        assert!(tests > 0);
    }

    #[tokio::test]
    async fn lines_then_bytes_inside_a_chunk() {
        let seq: Sequence = vec![b"NOOP\r\nRCPT TO:<a@b>\r\nQUIT\r\n".to_vec()];
        let (min, _) = minimise(seq, budget(), true, async |s: &Sequence| {
            s.concat().windows(4).any(|w| w == b"RCPT")
        })
        .await;
        assert_eq!(min, vec![b"RCPT".to_vec()]);
    }

    #[tokio::test]
    async fn the_budget_stops_it() {
        let seq: Sequence = (0..64).map(|i| vec![i as u8]).collect();
        let b = Budget {
            tests: 3,
            deadline: Instant::now() + Duration::from_secs(30),
        };
        let (_, tests) = minimise(seq, b, true, async |_: &Sequence| false).await;
        assert_eq!(tests, 3);
    }
}
