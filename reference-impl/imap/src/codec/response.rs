//! Framing of server responses (RFC 3501 §7, RFC 9051 §7): one untagged `* …`, continuation
//! `+ …` or tagged `TAG OK|NO|BAD …` response, with every literal it carries.
//!
//! RFC 9051 §4.3: a literal is "a sequence of zero or more octets (including CR and LF),
//! prefix-quoted with an octet count in the form of an open brace ("{"), the number of octets,
//! a close brace ("}"), and a CRLF". A response line that ends in `{n}` (or `~{n}`, the
//! binary literal of RFC 9051 §4.3.1 / RFC 3516) is followed by `n` raw octets, after which
//! the response line continues until the next CRLF that is not announced by a literal.

use super::{LiteralAnnouncement, literal_at_end};

/// Bounds on one response: every read the harness makes is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseLimits {
    /// Longest line (without CRLF, literals not counted) accepted.
    pub max_line: usize,
    /// Largest literal accepted; a larger announcement is an error before its bytes arrive.
    pub max_literal: u64,
    /// Largest whole response (lines and literals together).
    pub max_total: usize,
}

impl Default for ResponseLimits {
    fn default() -> Self {
        ResponseLimits { max_line: 64 * 1024, max_literal: 16 * 1024 * 1024, max_total: 32 * 1024 * 1024 }
    }
}

/// Which of the three response forms (RFC 9051 §2.2.2) this is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResponseKind {
    /// `* …`: untagged data or an untagged status.
    Untagged,
    /// `+ …`: a command continuation request.
    Continuation,
    /// `TAG …`: the completion result of the command with this tag.
    Tagged(String),
}

/// The status condition of a status response (RFC 9051 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `OK`.
    Ok,
    /// `NO`.
    No,
    /// `BAD`.
    Bad,
    /// `PREAUTH` (untagged greeting only).
    Preauth,
    /// `BYE` (untagged only).
    Bye,
}

impl Status {
    /// The keyword as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::Preauth => "PREAUTH",
            Status::Bye => "BYE",
        }
    }

    fn parse(word: &[u8]) -> Option<Status> {
        Some(match word.to_ascii_uppercase().as_slice() {
            b"OK" => Status::Ok,
            b"NO" => Status::No,
            b"BAD" => Status::Bad,
            b"PREAUTH" => Status::Preauth,
            b"BYE" => Status::Bye,
            _ => return None,
        })
    }
}

/// One complete server response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Untagged, continuation or tagged.
    pub kind: ResponseKind,
    /// The bytes of the response exactly as received, literals and final CRLF included.
    pub raw: Vec<u8>,
    /// The status keyword for status responses (tagged, or untagged OK/NO/BAD/PREAUTH/BYE).
    pub status: Option<Status>,
}

impl Response {
    /// The response without its final CRLF, literals inlined (`{n}\r\n` + their bytes),
    /// as lossy UTF-8: what transcript patterns match against.
    pub fn text(&self) -> String {
        let body = self.raw.strip_suffix(b"\r\n").unwrap_or(&self.raw);
        String::from_utf8_lossy(body).into_owned()
    }

    /// The tag of a tagged response.
    pub fn tag(&self) -> Option<&str> {
        match &self.kind {
            ResponseKind::Tagged(t) => Some(t),
            _ => None,
        }
    }
}

/// Why bytes are not a well-framed response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// A line grew past `max_line` without a CRLF (detected as soon as it does).
    #[error("response line longer than {max} octets")]
    LineTooLong {
        /// The limit.
        max: usize,
    },
    /// A literal announced more octets than `max_literal` (detected before reading them).
    #[error("literal of {size} octets exceeds the limit of {max}")]
    LiteralTooLarge {
        /// The announced size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// The whole response grew past `max_total`.
    #[error("response larger than {max} octets")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The response starts with neither `*`, `+` nor a tag followed by a space.
    #[error("malformed response: {0}")]
    Malformed(String),
}

/// Decode one complete response from the front of `buf`.
///
/// `Ok(None)`: more bytes are needed. `Ok(Some((used, response)))`: `used` bytes of `buf`
/// made up the response. Never panics, whatever `buf` holds.
pub fn decode_response(buf: &[u8], limits: &ResponseLimits) -> Result<Option<(usize, Response)>, ResponseError> {
    let Some(first_end) = find_crlf_bounded(buf, 0, limits.max_line)? else {
        return Ok(None);
    };
    let first = &buf[..first_end];
    let (kind, status, may_carry_literals) = classify(first)?;
    let mut line_end = first_end;
    loop {
        let end_of_line_crlf = line_end + 2;
        if end_of_line_crlf > limits.max_total {
            return Err(ResponseError::TooLarge { max: limits.max_total });
        }
        let announced = if may_carry_literals { literal_at_end(&buf[..line_end]) } else { None };
        let Some(LiteralAnnouncement { length, .. }) = announced else {
            let raw = buf[..end_of_line_crlf].to_vec();
            return Ok(Some((end_of_line_crlf, Response { kind, raw, status })));
        };
        if length > limits.max_literal {
            return Err(ResponseError::LiteralTooLarge { size: length, max: limits.max_literal });
        }
        // `length <= max_literal` and `max_literal` is a u64; the sum is checked against
        // `max_total` so it fits a usize on every platform we build for.
        let lit_end = (end_of_line_crlf as u64).saturating_add(length);
        if lit_end > limits.max_total as u64 {
            return Err(ResponseError::TooLarge { max: limits.max_total });
        }
        let lit_end = lit_end as usize;
        if buf.len() < lit_end {
            return Ok(None);
        }
        match find_crlf_bounded(buf, lit_end, limits.max_line)? {
            Some(e) => line_end = e,
            None => {
                if buf.len() > limits.max_total {
                    return Err(ResponseError::TooLarge { max: limits.max_total });
                }
                return Ok(None);
            }
        }
    }
}

/// The kind and status of a response from its first line, and whether it may carry
/// literals: only untagged data does (RFC 9051 §7: status responses and continuation
/// requests carry `resp-text`, which has no literals).
fn classify(first: &[u8]) -> Result<(ResponseKind, Option<Status>, bool), ResponseError> {
    if first == b"+" || first.starts_with(b"+ ") {
        return Ok((ResponseKind::Continuation, None, false));
    }
    if let Some(rest) = first.strip_prefix(b"* ") {
        let word = rest.split(|&b| b == b' ').next().unwrap_or_default();
        let status = Status::parse(word);
        return Ok((ResponseKind::Untagged, status, status.is_none()));
    }
    let Some(sp) = first.iter().position(|&b| b == b' ') else {
        return Err(ResponseError::Malformed(format!("no tag: {:?}", String::from_utf8_lossy(first))));
    };
    let tag = &first[..sp];
    if tag.is_empty() || !tag.iter().all(|&b| super::is_tag_char(b)) {
        return Err(ResponseError::Malformed(format!("bad tag: {:?}", String::from_utf8_lossy(tag))));
    }
    let rest = &first[sp + 1..];
    let word = rest.split(|&b| b == b' ').next().unwrap_or_default();
    let status = Status::parse(word).filter(|s| matches!(s, Status::Ok | Status::No | Status::Bad));
    // The tag is ASCII (checked above).
    Ok((ResponseKind::Tagged(String::from_utf8_lossy(tag).into_owned()), status, false))
}

/// The position of the next CRLF at or after `from`, or an error as soon as the line from
/// `from` is longer than `max_line` without one.
fn find_crlf_bounded(buf: &[u8], from: usize, max_line: usize) -> Result<Option<usize>, ResponseError> {
    let tail = buf.get(from..).unwrap_or_default();
    match tail.windows(2).position(|w| w == b"\r\n") {
        Some(i) if i > max_line => Err(ResponseError::LineTooLong { max: max_line }),
        Some(i) => Ok(Some(from + i)),
        // +1: a trailing CR may be the first half of the CRLF.
        None if tail.len() > max_line + 1 => Err(ResponseError::LineTooLong { max: max_line }),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(b: &[u8]) -> Result<Option<(usize, Response)>, ResponseError> {
        decode_response(b, &ResponseLimits::default())
    }

    #[test]
    fn tagged_untagged_continuation() {
        let (n, r) = dec(b"a1 OK done\r\n* 3 EXISTS\r\n").unwrap().unwrap();
        assert_eq!(n, 12);
        assert_eq!(r.kind, ResponseKind::Tagged("a1".into()));
        assert_eq!(r.status, Some(Status::Ok));
        assert_eq!(r.text(), "a1 OK done");
        let (n, r) = dec(b"* 3 EXISTS\r\n").unwrap().unwrap();
        assert_eq!((n, r.kind, r.status), (12, ResponseKind::Untagged, None));
        let (_, r) = dec(b"+ Ready\r\n").unwrap().unwrap();
        assert_eq!(r.kind, ResponseKind::Continuation);
        let (_, r) = dec(b"+\r\n").unwrap().unwrap();
        assert_eq!(r.kind, ResponseKind::Continuation);
        let (_, r) = dec(b"* bye logging out\r\n").unwrap().unwrap();
        assert_eq!(r.status, Some(Status::Bye));
        let (_, r) = dec(b"* PREAUTH hi\r\n").unwrap().unwrap();
        assert_eq!(r.status, Some(Status::Preauth));
    }

    #[test]
    fn literal_is_part_of_the_response() {
        let wire = b"* 1 FETCH (BODY[] {5}\r\nab\r\nc FLAGS (\\Seen))\r\na OK x\r\n";
        let (n, r) = dec(wire).unwrap().unwrap();
        assert_eq!(&wire[..n], b"* 1 FETCH (BODY[] {5}\r\nab\r\nc FLAGS (\\Seen))\r\n");
        assert_eq!(r.text(), "* 1 FETCH (BODY[] {5}\r\nab\r\nc FLAGS (\\Seen))");
        assert_eq!(r.status, None);
    }

    #[test]
    fn several_and_binary_literals() {
        let wire = b"* 1 FETCH (BINARY[1] ~{2}\r\n\0\x01 BODY[2] {0}\r\n)\r\n";
        let (n, _) = dec(wire).unwrap().unwrap();
        assert_eq!(n, wire.len());
    }

    #[test]
    fn literal_split_across_reads() {
        let wire = b"* 2 FETCH (BODY[HEADER] {10}\r\n0123456789)\r\n";
        for cut in 0..wire.len() {
            assert_eq!(dec(&wire[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert_eq!(dec(wire).unwrap().unwrap().0, wire.len());
    }

    #[test]
    fn literal_containing_a_crlf_and_braces() {
        // The literal itself ends in "{3}\r\n": that is data, not an announcement.
        let wire = b"* 1 FETCH (BODY[] {7}\r\nx {3}\r\n)\r\n";
        let (n, r) = dec(wire).unwrap().unwrap();
        assert_eq!(n, wire.len());
        assert!(r.text().ends_with("{3}\r\n)"));
    }

    #[test]
    fn status_text_ending_in_braces_is_not_a_literal() {
        let (n, _) = dec(b"a NO weird {3}\r\nrest\r\n").unwrap().unwrap();
        assert_eq!(n, 16);
    }

    #[test]
    fn limits() {
        let l = ResponseLimits { max_line: 8, max_literal: 4, max_total: 40 };
        assert_eq!(decode_response(b"* 0123456789", &l), Err(ResponseError::LineTooLong { max: 8 }));
        assert_eq!(decode_response(b"* 0123", &l), Ok(None));
        assert_eq!(decode_response(b"* X {5}\r\n", &l), Err(ResponseError::LiteralTooLarge { size: 5, max: 4 }));
        assert_eq!(
            decode_response(b"* X {99999999999999999999999}\r\n", &ResponseLimits { max_line: 64, ..l }),
            Err(ResponseError::LiteralTooLarge { size: u64::MAX, max: 4 })
        );
        let many = b"* X {4}\r\nabcd {4}\r\nabcd {4}\r\nabcd {4}\r\nabcd)\r\n";
        assert_eq!(decode_response(many, &l), Err(ResponseError::TooLarge { max: 40 }));
    }

    #[test]
    fn malformed() {
        assert!(matches!(dec(b"\r\n"), Err(ResponseError::Malformed(_))));
        assert!(matches!(dec(b"nospace\r\n"), Err(ResponseError::Malformed(_))));
    }
}
