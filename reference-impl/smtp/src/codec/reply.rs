//! SMTP replies: RFC 5321 §4.2 framing (multi-line `NNN-` continuation, final `NNN ` line)
//! and RFC 3463 enhanced status codes.

use wirecheck_wire::{LineEnd, ReplyLine, ReplyLines, ReplyLinesError};

/// The bounds on one reply: shared with FTP, see [`wirecheck_wire::ReplyLines`].
pub use wirecheck_wire::ReplyLimits;

/// Why bytes are not a well-formed reply (RFC 5321 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// A line is longer than [`ReplyLimits::max_line`] (detected as soon as the buffer holds
    /// more than that without a line end).
    #[error("reply line longer than {max} octets")]
    LineTooLong { max: usize },
    /// The reply has more than [`ReplyLimits::max_lines`] lines.
    #[error("reply has more than {max} lines")]
    TooManyLines { max: usize },
    /// A line does not start with a reply code `%x32-35 %x30-35 %x30-39` followed by
    /// SP, `-` or the line end (RFC 5321 §4.2).
    #[error("malformed reply line {line:?}")]
    BadCode { line: String },
    /// A continuation line carries another code than the first line (RFC 5321 §4.2.1:
    /// every line of a multi-line reply has the same code).
    #[error("reply code {found} in a multi-line reply that began with {expected}")]
    CodeMismatch { expected: u16, found: u16 },
    /// A line ends in a bare LF. RFC 5321 §2.3.8: CR and LF "MUST NOT" be sent except as
    /// the CRLF line terminator, so the reply is malformed (and not silently re-framed).
    #[error("reply line ends in a bare LF: {line:?}")]
    BareLf { line: String },
}

/// One complete SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code (RFC 5321 §4.2).
    pub code: u16,
    /// The text of each line after `NNN-` / `NNN ` (empty for a bare `NNN` line).
    pub lines: Vec<Vec<u8>>,
    /// The reply exactly as received (or as [`Reply::encode`] produces it).
    pub raw: Vec<u8>,
}

impl Reply {
    /// A reply with one line per element of `lines`; `raw` is its encoding.
    pub fn new<L: AsRef<[u8]>>(code: u16, lines: &[L]) -> Reply {
        let mut r = Reply {
            code,
            lines: lines.iter().map(|l| l.as_ref().to_vec()).collect(),
            raw: Vec::new(),
        };
        if r.lines.is_empty() {
            r.lines.push(Vec::new());
        }
        r.raw = r.encode();
        r
    }

    /// A one-line reply.
    pub fn single(code: u16, text: &str) -> Reply {
        Reply::new(code, &[text])
    }

    /// The wire form: `NNN-text` CRLF for every line but the last, `NNN text` CRLF (or `NNN`
    /// CRLF when the text is empty) for the last (RFC 5321 §4.2 `Reply-line`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let code = format!("{:03}", self.code.min(999));
        let n = self.lines.len();
        if n == 0 {
            out.extend_from_slice(code.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        for (i, l) in self.lines.iter().enumerate() {
            out.extend_from_slice(code.as_bytes());
            if i + 1 < n {
                out.push(b'-');
            } else if !l.is_empty() {
                out.push(b' ');
            }
            out.extend_from_slice(l);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// The lines' text joined with `\n` (lossy UTF-8).
    pub fn text(&self) -> String {
        let joined: Vec<u8> = self.lines.join(&b'\n');
        String::from_utf8_lossy(&joined).into_owned()
    }

    /// The first digit: 2 positive completion, 3 intermediate, 4 transient, 5 permanent.
    pub fn class(&self) -> u8 {
        (self.code / 100) as u8
    }

    /// True for 2yz.
    pub fn is_positive(&self) -> bool {
        self.class() == 2
    }

    /// True for 4yz.
    pub fn is_transient(&self) -> bool {
        self.class() == 4
    }

    /// True for 5yz.
    pub fn is_permanent(&self) -> bool {
        self.class() == 5
    }

    /// The RFC 3463 enhanced status code at the start of the first line's text
    /// (`class "." subject "." detail`, class 2, 4 or 5, subject and detail 1 to 3 digits),
    /// as RFC 2034 §4 places it.
    pub fn enhanced(&self) -> Option<(u8, u16, u16)> {
        let first = self.lines.first()?;
        let word = first.split(|&b| b == b' ').next()?;
        parse_enhanced(word)
    }
}

/// `class "." subject "." detail` (RFC 3463 §2).
pub fn parse_enhanced(word: &[u8]) -> Option<(u8, u16, u16)> {
    let mut parts = word.split(|&b| b == b'.');
    let class = parts.next()?;
    let subject = parts.next()?;
    let detail = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let class = match class {
        b"2" => 2,
        b"4" => 4,
        b"5" => 5,
        _ => return None,
    };
    Some((class, digits_1_3(subject)?, digits_1_3(detail)?))
}

fn digits_1_3(b: &[u8]) -> Option<u16> {
    if b.is_empty() || b.len() > 3 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Decode one complete reply from the start of `buf`.
///
/// Returns the number of bytes the reply used and the reply, `Ok(None)` when `buf` holds
/// only part of a reply, or an error as soon as the bytes cannot become a valid reply
/// within `limits` (without waiting for more). Never panics.
pub fn decode_reply(
    buf: &[u8],
    limits: &ReplyLimits,
) -> Result<Option<(usize, Reply)>, ReplyError> {
    // RFC 5321 §2.3.8: a bare LF is an error, not a line end.
    let mut scan = ReplyLines::new(buf, limits, LineEnd::StrictCrlf);
    let mut code: Option<u16> = None;
    let mut lines = Vec::new();
    loop {
        let line = match scan.next_line()? {
            ReplyLine::Complete(line) => line,
            ReplyLine::Partial(rest) => {
                // Check what we have of the line so far: a bad code need not wait for its end.
                check_partial(rest, code)?;
                return Ok(None);
            }
        };
        let (c, sep, text) = split_line(line).ok_or_else(|| ReplyError::BadCode {
            line: lossy(line, 512),
        })?;
        match code {
            None => code = Some(c),
            Some(first) if first != c => {
                return Err(ReplyError::CodeMismatch {
                    expected: first,
                    found: c,
                });
            }
            Some(_) => {}
        }
        lines.push(text.to_vec());
        if sep != Some(b'-') {
            let raw = scan.raw().to_vec();
            return Ok(Some((
                scan.consumed(),
                Reply {
                    code: c,
                    lines,
                    raw,
                },
            )));
        }
        if scan.is_full() {
            // Another line must follow a continuation line: the reply cannot end in bounds.
            return Err(ReplyError::TooManyLines {
                max: limits.max_lines,
            });
        }
    }
}

impl From<ReplyLinesError> for ReplyError {
    fn from(e: ReplyLinesError) -> Self {
        match e {
            ReplyLinesError::LineTooLong { max } => ReplyError::LineTooLong { max },
            ReplyLinesError::TooManyLines { max } => ReplyError::TooManyLines { max },
            ReplyLinesError::BareLf { line } => ReplyError::BareLf {
                line: String::from_utf8_lossy(&line).into_owned(),
            },
            other => ReplyError::BadCode {
                line: other.to_string(),
            },
        }
    }
}

/// Validate the start of an incomplete line (its code, once three octets are there).
fn check_partial(rest: &[u8], code: Option<u16>) -> Result<(), ReplyError> {
    let head = rest.get(..rest.len().min(4)).unwrap_or_default();
    let head = head.strip_suffix(b"\r").unwrap_or(head);
    let ok_digit = |i: usize, b: u8| match i {
        0 => (b'2'..=b'5').contains(&b),
        1 => (b'0'..=b'5').contains(&b),
        2 => b.is_ascii_digit(),
        _ => b == b' ' || b == b'-',
    };
    if !head.iter().enumerate().all(|(i, &b)| ok_digit(i, b)) {
        return Err(ReplyError::BadCode {
            line: lossy(rest, 512),
        });
    }
    if let (Some(first), Some(c)) = (code, head.get(..3).and_then(parse_code))
        && first != c
    {
        return Err(ReplyError::CodeMismatch {
            expected: first,
            found: c,
        });
    }
    Ok(())
}

/// `Reply-code [ ("-" / SP) textstring ]`: code, separator, text.
fn split_line(line: &[u8]) -> Option<(u16, Option<u8>, &[u8])> {
    let code = parse_code(line.get(..3)?)?;
    match line.get(3) {
        None => Some((code, None, &[])),
        Some(&s) if s == b' ' || s == b'-' => {
            Some((code, Some(s), line.get(4..).unwrap_or_default()))
        }
        Some(_) => None,
    }
}

/// `Reply-code = %x32-35 %x30-35 %x30-39` (RFC 5321 §4.2).
pub(crate) fn parse_code(b: &[u8]) -> Option<u16> {
    match b {
        &[a, b2, c]
            if (b'2'..=b'5').contains(&a) && (b'0'..=b'5').contains(&b2) && c.is_ascii_digit() =>
        {
            Some(u16::from(a - b'0') * 100 + u16::from(b2 - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

fn lossy(b: &[u8], max: usize) -> String {
    String::from_utf8_lossy(b.get(..b.len().min(max)).unwrap_or_default()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(b: &[u8]) -> Result<Option<(usize, Reply)>, ReplyError> {
        decode_reply(b, &ReplyLimits::default())
    }

    #[test]
    fn single_line() {
        let (n, r) = dec(b"220 mx.example ESMTP\r\nEXTRA").unwrap().unwrap();
        assert_eq!(n, 22);
        assert_eq!(r.code, 220);
        assert_eq!(r.lines, vec![b"mx.example ESMTP".to_vec()]);
        assert_eq!(r.raw, b"220 mx.example ESMTP\r\n");
    }

    #[test]
    fn multi_line_and_text() {
        let b = b"250-mx.example\r\n250-SIZE 1000\r\n250 8BITMIME\r\n";
        let (n, r) = dec(b).unwrap().unwrap();
        assert_eq!(n, b.len());
        assert_eq!(r.lines.len(), 3);
        assert_eq!(r.text(), "mx.example\nSIZE 1000\n8BITMIME");
    }

    #[test]
    fn bare_code_line_is_allowed() {
        let (_, r) = dec(b"250\r\n").unwrap().unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.lines, vec![Vec::<u8>::new()]);
        let (_, r) = dec(b"250-a\r\n250\r\n").unwrap().unwrap();
        assert_eq!(r.lines, vec![b"a".to_vec(), vec![]]);
    }

    #[test]
    fn incomplete_needs_more() {
        for p in [
            &b""[..],
            b"2",
            b"25",
            b"250",
            b"250-",
            b"250-abc\r",
            b"250-abc\r\n",
            b"250-abc\r\n250 x\r",
        ] {
            assert_eq!(dec(p), Ok(None), "{p:?}");
        }
    }

    #[test]
    fn endless_line_is_too_long_without_waiting() {
        let lim = ReplyLimits {
            max_line: 8,
            max_lines: 10,
        };
        assert_eq!(decode_reply(b"250 abcd", &lim), Ok(None));
        assert_eq!(decode_reply(b"250 abcd\r", &lim), Ok(None));
        assert_eq!(
            decode_reply(b"250 abcde", &lim),
            Err(ReplyError::LineTooLong { max: 8 })
        );
        assert_eq!(
            decode_reply(b"250 abcde\r\n", &lim),
            Err(ReplyError::LineTooLong { max: 8 })
        );
        assert_eq!(decode_reply(b"250 abcd\r\n", &lim).unwrap().unwrap().0, 10);
    }

    #[test]
    fn too_many_lines() {
        let lim = ReplyLimits {
            max_line: 100,
            max_lines: 2,
        };
        assert!(decode_reply(b"250-a\r\n250 b\r\n", &lim).unwrap().is_some());
        assert_eq!(
            decode_reply(b"250-a\r\n250-b\r\n", &lim),
            Err(ReplyError::TooManyLines { max: 2 })
        );
    }

    #[test]
    fn malformed() {
        assert!(matches!(dec(b"hello\r\n"), Err(ReplyError::BadCode { .. })));
        assert!(matches!(dec(b"2x"), Err(ReplyError::BadCode { .. })));
        assert!(matches!(
            dec(b"600 no\r\n"),
            Err(ReplyError::BadCode { .. })
        ));
        assert!(matches!(dec(b"250x\r\n"), Err(ReplyError::BadCode { .. })));
        assert!(matches!(dec(b"25\r\n"), Err(ReplyError::BadCode { .. })));
        assert_eq!(
            dec(b"250-a\r\n251 b\r\n"),
            Err(ReplyError::CodeMismatch {
                expected: 250,
                found: 251
            })
        );
        assert_eq!(
            dec(b"250-a\r\n251"),
            Err(ReplyError::CodeMismatch {
                expected: 250,
                found: 251
            })
        );
        assert_eq!(
            dec(b"250 ok\n"),
            Err(ReplyError::BareLf {
                line: "250 ok".into()
            })
        );
    }

    #[test]
    fn encode_round_trips() {
        for r in [
            Reply::single(250, "2.0.0 Ok"),
            Reply::new(250, &["mx", "PIPELINING", ""]),
            Reply::single(354, ""),
            Reply::new(221, &["a", "b"]),
        ] {
            let enc = r.encode();
            let (n, back) = dec(&enc).unwrap().unwrap();
            assert_eq!(n, enc.len());
            assert_eq!(back, r);
        }
        assert_eq!(Reply::single(354, "").encode(), b"354\r\n");
    }

    #[test]
    fn enhanced_status() {
        assert_eq!(
            Reply::single(550, "5.1.1 No such user").enhanced(),
            Some((5, 1, 1))
        );
        assert_eq!(Reply::single(250, "2.0.0").enhanced(), Some((2, 0, 0)));
        assert_eq!(
            Reply::single(250, "2.100.999 x").enhanced(),
            Some((2, 100, 999))
        );
        assert_eq!(Reply::single(250, "3.0.0 x").enhanced(), None);
        assert_eq!(Reply::single(250, "2.1000.0 x").enhanced(), None);
        assert_eq!(Reply::single(250, "Ok").enhanced(), None);
    }
}
