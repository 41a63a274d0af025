//! POP3 responses: the status line (RFC 1939 §3, RFC 2449 §8 response codes, RFC 5034 §4
//! continuations) and the dot-terminated, byte-stuffed multi-line body.

/// Why bytes are not a well-formed response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// A line is longer than the limit (detected as soon as the buffer holds more than that
    /// without a line end).
    #[error("response line longer than {max} octets")]
    LineTooLong {
        /// The limit, without CRLF.
        max: usize,
    },
    /// The body grew past [`BodyLimits::max_total`] without its terminating `.` line.
    #[error("multi-line body longer than {max} octets")]
    BodyTooLarge {
        /// The limit.
        max: usize,
    },
    /// The status line ends in a bare LF (RFC 1939 §3: responses are terminated by CRLF).
    #[error("status line ends in a bare LF: {line:?}")]
    BareLf {
        /// The line (lossy UTF-8).
        line: String,
    },
    /// The status line starts with neither `+OK`, `-ERR` nor the SASL continuation `+ `.
    #[error("malformed status line {line:?}")]
    BadStatus {
        /// The line (lossy UTF-8).
        line: String,
    },
}

/// Which status a line carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    /// `+OK`: positive.
    Ok,
    /// `-ERR`: negative.
    Err,
    /// `+` SP: a SASL server challenge (RFC 5034 §4), text is the base64 challenge.
    Continuation,
}

/// One status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// True for `+OK` (false for `-ERR` and for a continuation).
    pub ok: bool,
    /// Which of the three it is.
    pub kind: StatusKind,
    /// The text after the status indicator and its single space (may be empty).
    pub text: Vec<u8>,
    /// The line exactly as received, CRLF included.
    pub raw: Vec<u8>,
}

impl Status {
    /// RFC 2449 §8: the extended response code at the start of the text, without its
    /// brackets (`IN-USE`, `SYS/TEMP`, `AUTH`), if there is one.
    pub fn resp_code(&self) -> Option<&[u8]> {
        let rest = self.text.strip_prefix(b"[")?;
        let end = rest.iter().position(|&b| b == b']')?;
        rest.get(..end).filter(|c| !c.is_empty())
    }
}

/// Bounds on a multi-line body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Longest line, in octets, without its CRLF.
    pub max_line: usize,
    /// Longest body, in octets, as received (stuffing and terminator included).
    pub max_total: usize,
}

impl Default for BodyLimits {
    /// 64 KiB lines (RFC 5322 §2.1.1 allows 998, real mail breaks it), 64 MiB bodies.
    fn default() -> Self {
        BodyLimits { max_line: 64 * 1024, max_total: 64 * 1024 * 1024 }
    }
}

/// A line of a body that starts with the termination octet but is neither the terminator
/// nor stuffed (RFC 1939 §3: "the response is byte-stuffed by pre-pending the termination
/// octet to that line"). Per §3 a client strips its first octet anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StuffingViolation {
    /// Index into [`Body::lines`].
    pub line: usize,
    /// The line as received.
    pub raw: Vec<u8>,
}

/// A dot-terminated multi-line body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// The lines, un-stuffed, without CRLF; the terminating `.` is not one of them.
    pub lines: Vec<Vec<u8>>,
    /// The body exactly as received, terminator included.
    pub raw: Vec<u8>,
    /// Lines that began with a single `.` other than the terminator.
    pub violations: Vec<StuffingViolation>,
    /// Bare LFs inside lines (only CRLF ends a line, RFC 1939 §3).
    pub bare_lf: usize,
}

/// Decode one status line from the start of `buf`. `Ok(None)`: more bytes are needed.
/// `max_line` excludes the CRLF (RFC 2449 §4 allows 512 octets including it: pass 510).
pub fn decode_status(buf: &[u8], max_line: usize) -> Result<Option<(usize, Status)>, ResponseError> {
    let Some(lf) = buf.iter().take(max_line.saturating_add(2)).position(|&b| b == b'\n') else {
        if buf.len() > max_line.saturating_add(1) {
            return Err(ResponseError::LineTooLong { max: max_line });
        }
        return Ok(None);
    };
    let raw = buf.get(..=lf).unwrap_or_default();
    let Some(line) = raw.strip_suffix(b"\r\n") else {
        return Err(ResponseError::BareLf { line: lossy(raw) });
    };
    if line.len() > max_line {
        return Err(ResponseError::LineTooLong { max: max_line });
    }
    let (kind, rest) = if let Some(r) = strip_keyword(line, b"+OK") {
        (StatusKind::Ok, r)
    } else if let Some(r) = strip_keyword(line, b"-ERR") {
        (StatusKind::Err, r)
    } else if let Some(r) = strip_keyword(line, b"+") {
        (StatusKind::Continuation, r)
    } else {
        return Err(ResponseError::BadStatus { line: lossy(line) });
    };
    let status = Status { ok: kind == StatusKind::Ok, kind, text: rest.to_vec(), raw: raw.to_vec() };
    Ok(Some((raw.len(), status)))
}

/// `line` without the status indicator `kw` (ASCII case-insensitive) and the one space after
/// it; `None` unless `kw` is followed by a space or the end of the line.
fn strip_keyword<'a>(line: &'a [u8], kw: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..kw.len())?;
    if !head.eq_ignore_ascii_case(kw) {
        return None;
    }
    match line.get(kw.len()..)? {
        [] => Some(&[]),
        [b' ', rest @ ..] => Some(rest),
        _ => None,
    }
}

/// Decode the multi-line body that follows a `+OK` status, up to and including the line
/// holding only `.`. `Ok(None)`: more bytes are needed.
pub fn decode_body(buf: &[u8], limits: &BodyLimits) -> Result<Option<(usize, Body)>, ResponseError> {
    // First find the terminator without allocating, so a caller polling a growing buffer
    // pays one scan per call.
    let mut start = 0;
    let end = loop {
        let rest = buf.get(start..).unwrap_or_default();
        let Some(i) = find_crlf(rest) else {
            if rest.len() > limits.max_line.saturating_add(1) {
                return Err(ResponseError::LineTooLong { max: limits.max_line });
            }
            if buf.len() > limits.max_total {
                return Err(ResponseError::BodyTooLarge { max: limits.max_total });
            }
            return Ok(None);
        };
        if i > limits.max_line {
            return Err(ResponseError::LineTooLong { max: limits.max_line });
        }
        let next = start + i + 2;
        if next > limits.max_total {
            return Err(ResponseError::BodyTooLarge { max: limits.max_total });
        }
        if rest.get(..i) == Some(b".") {
            break next;
        }
        start = next;
    };
    let raw = buf.get(..end).unwrap_or_default();
    let mut body = Body { lines: Vec::new(), raw: raw.to_vec(), violations: Vec::new(), bare_lf: 0 };
    let mut rest = raw;
    while let Some(i) = find_crlf(rest) {
        let line = rest.get(..i).unwrap_or_default();
        rest = rest.get(i + 2..).unwrap_or_default();
        if line == b"." {
            break;
        }
        body.bare_lf += line.iter().filter(|&&b| b == b'\n').count();
        match line {
            [b'.', b'.', ..] => body.lines.push(line.get(1..).unwrap_or_default().to_vec()),
            [b'.', ..] => {
                body.violations.push(StuffingViolation { line: body.lines.len(), raw: line.to_vec() });
                body.lines.push(line.get(1..).unwrap_or_default().to_vec());
            }
            _ => body.lines.push(line.to_vec()),
        }
    }
    Ok(Some((end, body)))
}

/// A status line: `+OK text` or `-ERR text`, CRLF. An empty `text` gives `+OK` CRLF.
pub fn encode_status(ok: bool, text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 7);
    out.extend_from_slice(if ok { b"+OK" } else { b"-ERR" });
    if !text.is_empty() {
        out.push(b' ');
        out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Append `lines` (without line ends) as a multi-line body: each line byte-stuffed when it
/// starts with `.` (RFC 1939 §3), CRLF after each, then the terminating `.` CRLF.
pub fn encode_body<L: AsRef<[u8]>>(lines: &[L], out: &mut Vec<u8>) {
    for l in lines {
        let l = l.as_ref();
        if l.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(l);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
}

/// Append a stored message as a multi-line body (RETR, and TOP when `body_lines` is
/// `Some(n)`: the header, the blank line, then at most `n` lines of the body, RFC 1939 §7).
/// Line ends become CRLF whether stored as CRLF or bare LF; a last line without one gets
/// one; lines starting with `.` are stuffed; the terminator follows.
pub fn encode_message(message: &[u8], body_lines: Option<usize>, out: &mut Vec<u8>) {
    out.reserve(message.len() + message.len() / 32 + 5);
    let mut in_body = false;
    let mut left = body_lines;
    let mut rest = message;
    while !rest.is_empty() {
        if in_body {
            match left.as_mut() {
                Some(0) => break,
                Some(n) => *n -= 1,
                None => {}
            }
        }
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (rest.get(..i).unwrap_or_default(), rest.get(i + 1..).unwrap_or_default()),
            None => (rest, &[][..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
        if line.is_empty() {
            in_body = true;
        }
        rest = next;
    }
    out.extend_from_slice(b".\r\n");
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = b.get(from..)?.iter().position(|&x| x == b'\r') {
        let at = from + i;
        if b.get(at + 1) == Some(&b'\n') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(s: &[u8]) -> Status {
        decode_status(s, 510).unwrap().unwrap().1
    }

    #[test]
    fn status_lines() {
        let s = status(b"+OK 2 320\r\nmore");
        assert!(s.ok && s.kind == StatusKind::Ok);
        assert_eq!(s.text, b"2 320");
        assert_eq!(s.raw, b"+OK 2 320\r\n");
        let e = status(b"-ERR [IN-USE] locked\r\n");
        assert!(!e.ok);
        assert_eq!(e.resp_code(), Some(&b"IN-USE"[..]));
        assert_eq!(status(b"+ok\r\n").text, b"");
        let c = status(b"+ \r\n");
        assert_eq!((c.kind, c.ok, c.text.as_slice()), (StatusKind::Continuation, false, &b""[..]));
        assert_eq!(status(b"+ VXNlcm5hbWU6\r\n").text, b"VXNlcm5hbWU6");
        assert_eq!(status(b"+OK  two spaces\r\n").text, b" two spaces");
    }

    #[test]
    fn status_errors_and_incomplete() {
        assert_eq!(decode_status(b"+OK hi", 510), Ok(None));
        assert_eq!(decode_status(b"", 510), Ok(None));
        assert!(matches!(decode_status(b"+OK\n", 510), Err(ResponseError::BareLf { .. })));
        assert!(matches!(decode_status(b"+OKAY\r\n", 510), Err(ResponseError::BadStatus { .. })));
        assert!(matches!(decode_status(b"220 smtp\r\n", 510), Err(ResponseError::BadStatus { .. })));
        assert!(matches!(decode_status(&[b'x'; 20], 10), Err(ResponseError::LineTooLong { max: 10 })));
        assert!(matches!(decode_status(b"+OK 0123456789\r\n", 10), Err(ResponseError::LineTooLong { .. })));
        assert!(decode_status(b"+OK 012345\r\n", 10).unwrap().is_some());
    }

    #[test]
    fn body_unstuffs_and_reports_violations() {
        let buf = b"a\r\n..b\r\n.c\r\n\r\n.\r\n+OK next";
        let (n, b) = decode_body(buf, &BodyLimits::default()).unwrap().unwrap();
        assert_eq!(&buf[n..], b"+OK next");
        assert_eq!(b.lines, vec![b"a".to_vec(), b".b".to_vec(), b"c".to_vec(), vec![]]);
        assert_eq!(b.violations, vec![StuffingViolation { line: 2, raw: b".c".to_vec() }]);
        assert_eq!(b.raw, &buf[..n]);
        let (_, empty) = decode_body(b".\r\n", &BodyLimits::default()).unwrap().unwrap();
        assert!(empty.lines.is_empty());
    }

    #[test]
    fn body_incomplete_and_bounded() {
        let lim = BodyLimits { max_line: 8, max_total: 20 };
        assert_eq!(decode_body(b"abc\r\n.", &lim), Ok(None));
        assert_eq!(decode_body(b"abc\r\n.\r", &lim), Ok(None));
        assert!(matches!(decode_body(b"0123456789\r\n", &lim), Err(ResponseError::LineTooLong { .. })));
        assert!(matches!(decode_body(b"0123456789", &lim), Err(ResponseError::LineTooLong { .. })));
        let many = b"1234\r\n".repeat(5);
        assert!(matches!(decode_body(&many, &lim), Err(ResponseError::BodyTooLarge { .. })));
        let (_, b) = decode_body(b"a\nb\r\n.\r\n", &lim).unwrap().unwrap();
        assert_eq!((b.lines.len(), b.bare_lf), (1, 1));
    }

    #[test]
    fn message_encoding_stuffs_and_normalises_line_ends() {
        let mut out = Vec::new();
        encode_message(b"Subject: x\n\n.hidden\r\nlast", None, &mut out);
        assert_eq!(out, b"Subject: x\r\n\r\n..hidden\r\nlast\r\n.\r\n");
        let (_, b) = decode_body(&out, &BodyLimits::default()).unwrap().unwrap();
        assert!(b.violations.is_empty());
        assert_eq!(b.lines[2], b".hidden");
    }

    #[test]
    fn top_sends_header_blank_line_and_n_body_lines() {
        let msg = b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n";
        let top = |n| {
            let mut out = Vec::new();
            encode_message(msg, Some(n), &mut out);
            out
        };
        assert_eq!(top(0), b"A: 1\r\nB: 2\r\n\r\n.\r\n");
        assert_eq!(top(2), b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n.\r\n");
        assert_eq!(top(9), b"A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n.\r\n");
        let mut out = Vec::new();
        encode_message(b"no body", Some(0), &mut out);
        assert_eq!(out, b"no body\r\n.\r\n");
    }

    #[test]
    fn status_and_body_encoding() {
        assert_eq!(encode_status(true, ""), b"+OK\r\n");
        assert_eq!(encode_status(false, "no"), b"-ERR no\r\n");
        let mut out = Vec::new();
        encode_body(&["TOP", ".x"], &mut out);
        assert_eq!(out, b"TOP\r\n..x\r\n.\r\n");
    }
}
