//! FTP replies (RFC 959 §4.2): framing, decoding and encoding.

use thiserror::Error;
use wirecheck_wire::{LineEnd, ReplyLine, ReplyLines, ReplyLinesError};

/// The bounds on one reply: shared with SMTP, see [`wirecheck_wire::ReplyLines`].
pub use wirecheck_wire::ReplyLimits;

/// Why bytes are not an FTP reply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// A line is longer than [`ReplyLimits::max_line`] (or the buffer holds more than that
    /// without a CRLF).
    #[error("reply line longer than {limit} bytes")]
    LineTooLong {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A multi-line reply has more than [`ReplyLimits::max_lines`] lines.
    #[error("multi-line reply longer than {limit} lines")]
    TooManyLines {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The first line does not start with a three-digit code followed by a space or a hyphen.
    #[error("not an FTP reply line: {line:?}")]
    Malformed {
        /// The offending line (lossy, at most 80 bytes).
        line: String,
    },
}

/// One complete FTP reply: a single line `NNN text`, or a multi-line reply `NNN-text` …
/// `NNN text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code.
    pub code: u16,
    /// The reply's lines as they were on the wire, without CRLF (the first and last keep
    /// their `NNN-` / `NNN ` prefixes).
    pub lines: Vec<Vec<u8>>,
    /// The exact bytes of the reply, CRLFs included.
    pub raw: Vec<u8>,
}

impl Reply {
    /// A single-line reply `code text`.
    pub fn new(code: u16, text: &str) -> Reply {
        Reply::multi(code, &[text])
    }

    /// A reply with one line per element of `texts`: single-line when there is one,
    /// otherwise `NNN-first`, the middle lines, `NNN last`.
    ///
    /// RFC 959 §4.2: a middle line that starts with a digit is indented by one space so that
    /// it cannot be mistaken for the end of the reply. Embedded CR or LF bytes in a text are
    /// replaced by spaces so one text is always one line.
    pub fn multi<S: AsRef<str>>(code: u16, texts: &[S]) -> Reply {
        let code = code.clamp(100, 999);
        let n = texts.len().max(1);
        let mut lines = Vec::with_capacity(n);
        for i in 0..n {
            let text = texts.get(i).map_or("", |s| s.as_ref());
            let clean: Vec<u8> = text
                .bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b })
                .collect();
            let mut line = Vec::with_capacity(clean.len() + 4);
            if i == 0 || i == n - 1 {
                line.extend_from_slice(format!("{code}").as_bytes());
                line.push(if i == n - 1 { b' ' } else { b'-' });
            } else if clean.first().is_some_and(u8::is_ascii_digit) {
                line.push(b' ');
            }
            line.extend_from_slice(&clean);
            lines.push(line);
        }
        let mut raw = Vec::new();
        for l in &lines {
            raw.extend_from_slice(l);
            raw.extend_from_slice(b"\r\n");
        }
        Reply { code, lines, raw }
    }

    /// The reply's text: every line after its `NNN-` / `NNN ` prefix (middle lines that do
    /// not carry the prefix are taken whole), joined with `\n`. Invalid UTF-8 is replaced.
    pub fn text(&self) -> String {
        let texts: Vec<String> = self
            .lines
            .iter()
            .map(|l| String::from_utf8_lossy(strip_code(l, self.code)).into_owned())
            .collect();
        texts.join("\n")
    }

    /// True for a 1xx positive preliminary reply (RFC 959 §4.2.1): another reply follows.
    pub fn is_preliminary(&self) -> bool {
        (100..200).contains(&self.code)
    }

    /// The first digit of the code (1-5, or 6 for RFC 2228's protected replies).
    pub fn class(&self) -> u16 {
        self.code / 100
    }
}

/// `line` without a leading `NNN-` or `NNN ` of `code` (or a bare `NNN`).
fn strip_code(line: &[u8], code: u16) -> &[u8] {
    match line_code(line) {
        Some((c, Some(b' ' | b'-'))) if c == code => line.get(4..).unwrap_or_default(),
        Some((c, None)) if c == code => &[],
        _ => line,
    }
}

/// The three-digit code that starts `line`, and the byte after it (if any).
fn line_code(line: &[u8]) -> Option<(u16, Option<u8>)> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = digits.iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    Some((code, line.get(3).copied()))
}

/// Decode one reply from the front of `buf`.
///
/// Returns `Ok(None)` when `buf` does not hold a complete reply yet, or
/// `Ok(Some((consumed, reply)))` with the number of bytes the reply took.
///
/// RFC 959 §4.2: a reply is `NNN text CRLF`, or a multi-line reply whose first line is
/// `NNN-text` and whose last line starts with the same code followed by a space; the lines in
/// between may be anything, including lines that start with other digits. A `1xx` positive
/// preliminary reply is a reply of its own (RFC 959 §4.2.1). A first line of exactly `NNN` is
/// accepted as a single-line reply with empty text.
pub fn decode_reply(buf: &[u8], limits: &ReplyLimits) -> Result<Option<(usize, Reply)>, ReplyError> {
    let mut scan = ReplyLines::new(buf, limits, LineEnd::Crlf);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut code = 0u16;
    loop {
        let line = match scan.next_line()? {
            ReplyLine::Complete(line) => line,
            ReplyLine::Partial(rest) => {
                // No complete line. Fail early when it can no longer be valid.
                if lines.is_empty() {
                    check_first_line_prefix(rest)?;
                }
                return Ok(None);
            }
        };
        if lines.is_empty() {
            let (c, sep) = match line_code(line) {
                Some((c, sep)) if (100..700).contains(&c) && matches!(sep, None | Some(b' ' | b'-')) => (c, sep),
                _ => return Err(malformed(line)),
            };
            code = c;
            lines.push(line.to_vec());
            if sep != Some(b'-') {
                break;
            }
        } else {
            // RFC 959 §4.2: a middle line may be anything; only `NNN ` with the first line's
            // code ends the reply.
            lines.push(line.to_vec());
            if matches!(line_code(line), Some((c, Some(b' '))) if c == code) {
                break;
            }
        }
    }
    let raw = scan.raw().to_vec();
    Ok(Some((scan.consumed(), Reply { code, lines, raw })))
}

impl From<ReplyLinesError> for ReplyError {
    fn from(e: ReplyLinesError) -> Self {
        match e {
            ReplyLinesError::LineTooLong { max } => ReplyError::LineTooLong { limit: max },
            ReplyLinesError::TooManyLines { max } => ReplyError::TooManyLines { limit: max },
            // `LineEnd::Crlf` takes a bare LF into the line; nothing else is left.
            other => ReplyError::Malformed { line: other.to_string() },
        }
    }
}

/// Reject an incomplete first line as soon as its first bytes show it is not `NNN[ -]`.
fn check_first_line_prefix(partial: &[u8]) -> Result<(), ReplyError> {
    for (i, &b) in partial.iter().take(4).enumerate() {
        let ok = match i {
            0 => (b'1'..=b'6').contains(&b),
            1 | 2 => b.is_ascii_digit(),
            _ => b == b' ' || b == b'-' || b == b'\r',
        };
        if !ok {
            return Err(malformed(partial));
        }
    }
    Ok(())
}

fn malformed(line: &[u8]) -> ReplyError {
    let shown = line.get(..line.len().min(80)).unwrap_or_default();
    ReplyError::Malformed {
        line: String::from_utf8_lossy(shown).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(b: &[u8]) -> Result<Option<(usize, Reply)>, ReplyError> {
        decode_reply(b, &ReplyLimits::default())
    }

    #[test]
    fn single_line() {
        let (n, r) = dec(b"220 ready\r\nrest").unwrap().unwrap();
        assert_eq!(n, 11);
        assert_eq!(r.code, 220);
        assert_eq!(r.text(), "ready");
        assert_eq!(r.raw, b"220 ready\r\n");
        assert_eq!(r.lines, vec![b"220 ready".to_vec()]);
    }

    #[test]
    fn incomplete_is_none() {
        assert_eq!(dec(b"").unwrap(), None);
        assert_eq!(dec(b"22").unwrap(), None);
        assert_eq!(dec(b"220 rea").unwrap(), None);
        assert_eq!(dec(b"220 ready\r").unwrap(), None);
        assert_eq!(dec(b"211-Features:\r\n MDTM\r\n").unwrap(), None);
        assert_eq!(dec(b"211-Features:\r\n MDTM\r\n211 En").unwrap(), None);
    }

    #[test]
    fn multi_line_with_digit_lines_inside() {
        let b = b"123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n234 not the end\r\n123-still not\r\n123 The last line\r\nNEXT";
        let (n, r) = dec(b).unwrap().unwrap();
        assert_eq!(&b[n..], b"NEXT");
        assert_eq!(r.code, 123);
        assert_eq!(r.lines.len(), 6);
        assert_eq!(
            r.text(),
            "First line\nSecond line\n  234 A line beginning with numbers\n234 not the end\nstill not\nThe last line"
        );
    }

    #[test]
    fn preliminary_is_its_own_reply() {
        let b = b"150 Opening\r\n226 Done\r\n";
        let (n, r) = dec(b).unwrap().unwrap();
        assert!(r.is_preliminary());
        assert_eq!(r.code, 150);
        let (m, r2) = dec(&b[n..]).unwrap().unwrap();
        assert_eq!(r2.code, 226);
        assert_eq!(n + m, b.len());
    }

    #[test]
    fn bare_code_is_empty_text() {
        let (_, r) = dec(b"200\r\n").unwrap().unwrap();
        assert_eq!((r.code, r.text().as_str()), (200, ""));
    }

    #[test]
    fn malformed_first_line() {
        assert!(matches!(dec(b"hello\r\n"), Err(ReplyError::Malformed { .. })));
        assert!(matches!(dec(b"2x0 a\r\n"), Err(ReplyError::Malformed { .. })));
        assert!(matches!(dec(b"220x\r\n"), Err(ReplyError::Malformed { .. })));
        assert!(matches!(dec(b"099 a\r\n"), Err(ReplyError::Malformed { .. })));
        // Detected before the line is complete.
        assert!(matches!(dec(b"SSH-2.0"), Err(ReplyError::Malformed { .. })));
        assert!(matches!(dec(b"220x"), Err(ReplyError::Malformed { .. })));
    }

    #[test]
    fn endless_line_is_too_long_without_crlf() {
        let lim = ReplyLimits {
            max_line: 10,
            max_lines: 5,
        };
        assert_eq!(decode_reply(b"220 abcdef", &lim).unwrap(), None);
        assert_eq!(decode_reply(b"220 abcdef\r", &lim).unwrap(), None);
        assert_eq!(
            decode_reply(b"220 abcdefg", &lim),
            Err(ReplyError::LineTooLong { limit: 10 })
        );
        assert_eq!(
            decode_reply(b"220 abcdefg\r\n", &lim),
            Err(ReplyError::LineTooLong { limit: 10 })
        );
        assert_eq!(
            decode_reply(b"220-a\r\nxxxxxxxxxxx", &lim),
            Err(ReplyError::LineTooLong { limit: 10 })
        );
    }

    #[test]
    fn endless_multi_line_is_too_many_lines() {
        let lim = ReplyLimits {
            max_line: 10,
            max_lines: 3,
        };
        assert_eq!(decode_reply(b"220-a\r\nb\r\n", &lim).unwrap(), None);
        assert_eq!(
            decode_reply(b"220-a\r\nb\r\nc\r\nd\r\n", &lim),
            Err(ReplyError::TooManyLines { limit: 3 })
        );
        assert!(decode_reply(b"220-a\r\nb\r\n220 c\r\n", &lim).unwrap().is_some());
    }

    #[test]
    fn encode_round_trips() {
        let r = Reply::multi(211, &["Features:", "MDTM", "2nd line starting with digit", "End"]);
        assert_eq!(
            r.raw,
            b"211-Features:\r\nMDTM\r\n 2nd line starting with digit\r\n211 End\r\n"
        );
        let (n, d) = dec(&r.raw).unwrap().unwrap();
        assert_eq!(n, r.raw.len());
        assert_eq!(d, r);
        let s = Reply::new(257, "\"/a\r\nb\" created");
        assert_eq!(s.raw, b"257 \"/a  b\" created\r\n");
        assert_eq!(Reply::multi::<&str>(200, &[]).raw, b"200 \r\n");
    }

    #[test]
    fn garbage_never_panics() {
        let lim = ReplyLimits {
            max_line: 32,
            max_lines: 4,
        };
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 48) as usize;
            let alphabet = b"1234 -\r\n5xA\xff";
            let bytes: Vec<u8> = (0..len)
                .map(|i| alphabet[((seed >> (i % 56)) as usize + i) % alphabet.len()])
                .collect();
            if let Ok(Some((n, r))) = decode_reply(&bytes, &lim) {
                assert!(n <= bytes.len() && r.raw.len() == n);
            }
            let _ = crate::codec::Command::decode(&bytes);
        }
    }
}
