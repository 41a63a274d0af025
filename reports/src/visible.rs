//! Wire bytes made visible, and expected-vs-actual differences.
//!
//! Protocol bugs hide in the bytes people cannot see: a bare LF, a missing CR, a TAB for a
//! space, a NUL. Every byte is shown: printable ASCII as itself, CR / LF / TAB / NUL as
//! `\r \n \t \0` and other bytes as `\xHH`, the same notation as
//! [`crate::escape_bytes`], but as separate runs the page styles apart from text (Unicode
//! "control pictures" like `␍` are missing from many monospace fonts). An LF also breaks
//! the line. The renderers get [`Run`]s (text, what kind of byte, whether a diff deleted or
//! inserted it) and leave escaping to the template engine, so no byte a target sends is
//! ever written into a page unescaped.

use serde::Serialize;
use std::time::{Duration, Instant};

/// At most this many bytes of one event are shown; the rest is counted. The JSON report
/// keeps everything.
pub const MAX_SHOWN_BYTES: usize = 64 * 1024;

/// Expected / actual longer than this (in units) are shown without a character diff.
const MAX_DIFF_UNITS: usize = 8 * 1024;

/// A run of units of the same kind and the same diff change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    /// What to show (already made visible, not yet HTML-escaped).
    pub text: String,
    /// `t` text, `c` a control byte (`\r`, `\n`, `\t`, `\0`, `\x1b`), `x` a byte above
    /// 0x7F (`\xHH`), `more` a truncation note.
    pub kind: &'static str,
    /// A tooltip naming the byte (`CR`, `0x1b`), empty for text.
    pub title: String,
    /// `""` unchanged, `del` only in the expected side, `ins` only in the actual side.
    pub change: &'static str,
}

/// One unit: a character of transcript text or a byte from the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Unit {
    Char(char),
    Byte(u8),
}

impl Unit {
    /// Characters and bytes that show the same compare equal (an expected CR is the CR byte).
    fn key(self) -> u32 {
        match self {
            Unit::Char(c) => c as u32,
            Unit::Byte(b) if b.is_ascii() => u32::from(b),
            Unit::Byte(b) => 0x11_0000 + u32::from(b),
        }
    }

    fn show(self) -> (String, &'static str, String) {
        let ascii = match self {
            Unit::Char(c) if c.is_ascii() => c as u8,
            Unit::Char(c) => return (c.to_string(), "t", String::new()),
            Unit::Byte(b) => b,
        };
        match ascii {
            0x20..=0x7e => ((ascii as char).to_string(), "t", String::new()),
            b'\r' => ("\\r".into(), "c", "CR".into()),
            b'\n' => ("\\n\n".into(), "c", "LF".into()),
            b'\t' => ("\\t".into(), "c", "TAB".into()),
            0 => ("\\0".into(), "c", "NUL".into()),
            0x01..=0x1f | 0x7f => (
                format!("\\x{ascii:02x}"),
                "c",
                format!("control 0x{ascii:02x}"),
            ),
            high => (format!("\\x{high:02x}"), "x", format!("byte 0x{high:02x}")),
        }
    }
}

/// Push one unit onto `runs`, merging plain text with the run before it.
fn push(runs: &mut Vec<Run>, unit: Unit, change: &'static str) {
    let (text, kind, title) = unit.show();
    if kind == "t"
        && let Some(last) = runs.last_mut()
        && last.kind == "t"
        && last.change == change
    {
        last.text.push_str(&text);
        return;
    }
    runs.push(Run {
        text,
        kind,
        title,
        change,
    });
}

fn more(runs: &mut Vec<Run>, n: usize, what: &str) {
    if n > 0 {
        runs.push(Run {
            text: format!(" … {n} more {what}"),
            kind: "more",
            title: String::new(),
            change: "",
        });
    }
}

/// Wire bytes as runs (at most [`MAX_SHOWN_BYTES`] shown).
pub fn bytes(b: &[u8]) -> Vec<Run> {
    let units: Vec<Unit> = b.iter().copied().map(Unit::Byte).collect();
    shown(&units, "")
}

/// Escaped text as runs: an [`crate::Event`]'s `data` or a case's `actual` (written by
/// [`crate::escape_bytes`]), or an `expected` in transcript notation, which uses the same
/// escapes. See `units` for what is read how.
pub fn escaped(s: &str) -> Vec<Run> {
    shown(&units(s), "")
}

/// Plain text (a note) as runs, controls made visible; backslashes are just text.
pub fn text(s: &str) -> Vec<Run> {
    let units: Vec<Unit> = s.chars().map(Unit::Char).collect();
    shown(&units, "")
}

/// Runs of at most [`MAX_SHOWN_BYTES`] units, the rest counted.
fn shown(units: &[Unit], change: &'static str) -> Vec<Run> {
    let mut runs = Vec::new();
    for u in units.iter().take(MAX_SHOWN_BYTES) {
        push(&mut runs, *u, change);
    }
    more(
        &mut runs,
        units.len().saturating_sub(MAX_SHOWN_BYTES),
        "bytes",
    );
    runs
}

/// Read escaped text leniently: `\\ \r \n \t \0 \xHH` are the bytes they stand for
/// (what [`crate::escape_bytes`] writes, plus the transcript notation's `\0`); anything else,
/// an unknown escape (`\*`, `\$` in a pattern), a lone backslash, a note the harness appended
/// ("… (9000 bytes in all)"), stays text as written. Never fails: whatever a renderer is given
/// is shown.
fn units(s: &str) -> Vec<Unit> {
    let mut out = Vec::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(Unit::Char(c));
            continue;
        }
        let byte = match chars.peek() {
            Some('\\') => Some(b'\\'),
            Some('r') => Some(b'\r'),
            Some('n') => Some(b'\n'),
            Some('t') => Some(b'\t'),
            Some('0') => Some(0),
            Some('x') => {
                let mut ahead = chars.clone();
                ahead.next();
                let hex: String = ahead.take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) if hex.len() == 2 && hex.bytes().all(|h| h.is_ascii_hexdigit()) => {
                        chars.next();
                        chars.next();
                        Some(b)
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        match byte {
            Some(b) => {
                chars.next();
                out.push(Unit::Byte(b));
            }
            None => out.push(Unit::Char('\\')),
        }
    }
    out
}

/// Expected (transcript notation) against actual (escaped bytes), both read by `units`:
/// both sides as runs, with what only the expectation has marked `del` and what only the
/// target sent marked `ins` (a character diff by `similar`, cleaned up by `readable`).
pub fn diff(expected: &str, actual: &str) -> (Vec<Run>, Vec<Run>) {
    let old = units(expected);
    let new = units(actual);
    if old.len() > MAX_DIFF_UNITS || new.len() > MAX_DIFF_UNITS {
        return (shown(&old, ""), shown(&new, ""));
    }
    let old_keys: Vec<u32> = old.iter().map(|u| u.key()).collect();
    let new_keys: Vec<u32> = new.iter().map(|u| u.key()).collect();
    let deadline = Instant::now().checked_add(Duration::from_millis(200));
    let ops = similar::capture_diff_slices_deadline(
        similar::Algorithm::Myers,
        &old_keys,
        &new_keys,
        deadline,
    );
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for chunk in readable(&ops) {
        let (lc, rc) = if chunk.equal {
            ("", "")
        } else {
            ("del", "ins")
        };
        for u in old.get(chunk.old).unwrap_or(&[]) {
            push(&mut left, *u, lc);
        }
        for u in new.get(chunk.new).unwrap_or(&[]) {
            push(&mut right, *u, rc);
        }
    }
    (left, right)
}

/// A stretch of the diff: equal on both sides, or a change (deleted and/or inserted units).
#[derive(Debug, Clone)]
struct Chunk {
    equal: bool,
    old: std::ops::Range<usize>,
    new: std::ops::Range<usize>,
}

/// The diff's ops as alternating equal / changed chunks, with short coincidental
/// equalities between two larger changes folded into the change (the "semantic cleanup" of
/// diff-match-patch): `503 *` against `250 2.1.5 Ok` reads as one replacement, not as a
/// scatter of matching `5`s and spaces.
fn readable(ops: &[similar::DiffOp]) -> Vec<Chunk> {
    let mut chunks: Vec<Chunk> = Vec::new();
    let add = |chunks: &mut Vec<Chunk>, c: Chunk| match chunks.last_mut() {
        Some(last) if last.equal == c.equal => {
            last.old.end = c.old.end;
            last.new.end = c.new.end;
        }
        _ => chunks.push(c),
    };
    for op in ops {
        let (tag, old, new) = op.as_tag_tuple();
        add(
            &mut chunks,
            Chunk {
                equal: tag == similar::DiffTag::Equal,
                old,
                new,
            },
        );
    }
    // Each pass folds at least one equality or stops; there are fewer than chunks.len().
    for _ in 0..chunks.len() {
        let change_len = |c: &Chunk| c.old.len().max(c.new.len());
        let fold = (1..chunks.len().saturating_sub(1)).find(|&i| {
            let (prev, eq, next) = (&chunks[i - 1], &chunks[i], &chunks[i + 1]);
            eq.equal && eq.old.len() <= change_len(prev) && eq.old.len() <= change_len(next)
        });
        let Some(i) = fold else { break };
        let mut merged: Vec<Chunk> = Vec::with_capacity(chunks.len());
        for (j, mut c) in chunks.into_iter().enumerate() {
            if j == i {
                c.equal = false;
            }
            add(&mut merged, c);
        }
        chunks = merged;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(runs: &[Run]) -> String {
        runs.iter()
            .map(|r| match r.change {
                "del" => format!("[-{}]", r.text),
                "ins" => format!("[+{}]", r.text),
                _ => r.text.clone(),
            })
            .collect()
    }

    #[test]
    fn every_byte_is_visible() {
        let runs = bytes(b"A\r\n\t\0\x1b\x7f\xff<");
        assert_eq!(flat(&runs), "A\\r\\n\n\\t\\0\\x1b\\x7f\\xff<");
        let kinds: Vec<&str> = runs.iter().map(|r| r.kind).collect();
        assert_eq!(kinds, ["t", "c", "c", "c", "c", "c", "c", "x", "t"]);
        assert_eq!(runs[1].title, "CR");
    }

    #[test]
    fn long_events_are_truncated_with_a_count() {
        let runs = bytes(&vec![b'a'; MAX_SHOWN_BYTES + 10]);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].text, " … 10 more bytes");
    }

    #[test]
    fn escapes_are_read_leniently() {
        // What escape_bytes writes is read back byte for byte.
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(escaped(&crate::escape_bytes(&all)), bytes(&all));
        // Unknown escapes, a lone backslash and a harness note stay text.
        let runs = escaped("250 ok\\q \\x4 \\*\\r\\n… (9000 bytes in all)\\");
        assert_eq!(
            flat(&runs),
            "250 ok\\q \\x4 \\*\\r\\n\n… (9000 bytes in all)\\"
        );
        assert_eq!(runs[0].text, "250 ok\\q \\x4 \\*");
        assert_eq!(escaped("\\0\\x41\\\\")[0].text, "\\0");
        assert_eq!(flat(&escaped("\\0\\x41\\\\")), "\\0A\\");
    }

    #[test]
    fn diff_marks_both_sides() {
        let (l, r) = diff("503 5.5.1\r\n", "250 ok\\r\\n");
        assert!(flat(&l).contains("[-"), "{l:?}");
        assert!(flat(&r).contains("[+"), "{r:?}");
        // The CR LF are common to both sides and unmarked.
        assert!(flat(&r).ends_with("\\r\\n\n"));
        // Unrelated texts read as one replacement, not a scatter of coincidences.
        let (l, r) = diff("S: 503 *", "250 2.1.5 Ok\\r\\n");
        assert_eq!(flat(&l), "[-S: 503 *]");
        assert!(flat(&r).starts_with("[+250 2.1.5 Ok]"), "{r:?}");
        // A missing CR is pinpointed.
        let (l, r) = diff("250 OK\r\n", "250 OK\\n");
        assert_eq!(
            (flat(&l), flat(&r)),
            ("250 OK[-\\r]\\n\n".to_string(), "250 OK\\n\n".to_string())
        );
        let (l, r) = diff("same", "same");
        assert_eq!(
            (flat(&l), flat(&r)),
            ("same".to_string(), "same".to_string())
        );
    }
}
