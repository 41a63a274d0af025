//! Message content: the DATA reader (RFC 5321 §4.1.1.4, §4.5.2 dot-stuffing) and BDAT
//! chunks (RFC 3030) into one bounded buffer, and the `Received:` trace header (§4.4).

use std::time::{SystemTime, UNIX_EPOCH};

use super::BareNewline;

/// What ended up wrong with a message while it was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Flaws {
    /// More than the size limit arrived (RFC 1870 §6.3: `552` at the end).
    pub exceeded: bool,
    /// A text line was longer than the limit (RFC 5321 §4.5.3.1.6 / §4.5.3.1.9: `500`).
    pub line_too_long: bool,
    /// A line held a bare CR or LF (RFC 5321 §2.3.8).
    pub bare_newline: bool,
}

/// A message being received, never more than `max` bytes.
#[derive(Debug)]
pub(crate) struct MessageBuffer {
    pub bytes: Vec<u8>,
    max: u64,
    pub flaws: Flaws,
    bare_policy: BareNewline,
}

impl MessageBuffer {
    pub fn new(max: u64, bare_policy: BareNewline) -> Self {
        MessageBuffer {
            bytes: Vec::new(),
            max,
            flaws: Flaws::default(),
            bare_policy,
        }
    }

    fn append(&mut self, b: &[u8]) {
        if self.flaws.exceeded {
            return;
        }
        if (self.bytes.len() + b.len()) as u64 > self.max {
            self.flaws.exceeded = true;
            // Nothing more is kept: the message will be refused; memory stays bounded.
            self.bytes = Vec::new();
        } else {
            self.bytes.extend_from_slice(b);
        }
    }

    /// One DATA line (without its CRLF). Returns true at the end-of-data line `.`.
    ///
    /// Only a line that is exactly `.` between two CRLFs ends the data (RFC 5321 §4.1.1.4:
    /// "<CRLF>.<CRLF>"). Bare LF and bare CR never end a line (the line buffer frames on
    /// CRLF only), so `\n.\n`, `\n.\r\n`, `\r.\r\n` and `\r\n\x00.\r\n` are content, not
    /// an end: this is what defeats SMTP smuggling.
    pub fn data_line(&mut self, line: &[u8]) -> bool {
        if line == b"." {
            return true;
        }
        if line.iter().any(|&b| b == b'\r' || b == b'\n') && self.bare_policy == BareNewline::Reject
        {
            self.flaws.bare_newline = true;
        }
        // RFC 5321 §4.5.2: "If the first character is a period and there are other
        // characters on the line, the first character is deleted."
        let line = line.strip_prefix(b".").unwrap_or(line);
        self.append(line);
        self.append(b"\r\n");
        false
    }

    /// A DATA line that was longer than the limit (already discarded by the line buffer).
    pub fn line_too_long(&mut self) {
        self.flaws.line_too_long = true;
    }

    /// Raw BDAT chunk bytes (RFC 3030 §2: no dot-stuffing, no line structure).
    pub fn chunk(&mut self, b: &[u8]) {
        self.append(b);
    }
}

/// The transmission type for the `with` clause: RFC 5321 §4.4 (SMTP, ESMTP), RFC 3848
/// (ESMTPS, ESMTPA, ESMTPSA), RFC 6531 §3.7.3 (UTF8SMTP...).
pub(crate) fn with_protocol(esmtp: bool, tls: bool, auth: bool, utf8: bool) -> String {
    if !esmtp {
        return "SMTP".into();
    }
    let base = if utf8 { "UTF8SMTP" } else { "ESMTP" };
    format!(
        "{base}{}{}",
        if tls { "S" } else { "" },
        if auth { "A" } else { "" }
    )
}

/// `Received:` per RFC 5321 §4.4: `"Received:" FWS Stamp`, Stamp = From-domain By-domain
/// Opt-info [CFWS] ";" FWS date-time. The From-domain carries the TCP-info address literal.
pub(crate) fn received_header(
    helo: &str,
    peer: Option<std::net::IpAddr>,
    by: &str,
    with: &str,
    for_path: Option<&str>,
    now: SystemTime,
) -> Vec<u8> {
    let tcp = match peer {
        Some(std::net::IpAddr::V4(a)) => format!(" ([{a}])"),
        Some(std::net::IpAddr::V6(a)) => format!(" ([IPv6:{a}])"),
        None => String::new(),
    };
    let for_clause = for_path
        .map(|p| format!("\r\n\tfor {p}"))
        .unwrap_or_default();
    format!(
        "Received: from {helo}{tcp}\r\n\tby {by} with {with}{for_clause};\r\n\t{}\r\n",
        rfc5322_date(now)
    )
    .into_bytes()
}

/// RFC 5322 §3.3 date-time in UTC, e.g. `Mon, 1 Jan 2024 00:00:00 +0000` (formatting is
/// wirecheck-message's; years outside 1900-9999 fall back to the epoch).
pub fn rfc5322_date(t: SystemTime) -> String {
    use wirecheck_message::datetime::DateTime;
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    DateTime::from_unix(secs, 0)
        .or_else(|| DateTime::from_unix(0, 0))
        .map(|d| d.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(UNIX_EPOCH), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(UNIX_EPOCH + Duration::from_secs(1_704_067_200)),
            "Mon, 1 Jan 2024 00:00:00 +0000"
        );
        assert_eq!(
            rfc5322_date(UNIX_EPOCH + Duration::from_secs(951_825_599)),
            "Tue, 29 Feb 2000 11:59:59 +0000"
        );
    }

    #[test]
    fn dot_stuffing_and_end() {
        let mut m = MessageBuffer::new(1000, BareNewline::Reject);
        assert!(!m.data_line(b"..leading dot"));
        assert!(!m.data_line(b""));
        assert!(!m.data_line(b".."));
        assert!(m.data_line(b"."));
        assert_eq!(m.bytes, b".leading dot\r\n\r\n.\r\n");
        assert_eq!(m.flaws, Flaws::default());
    }

    #[test]
    fn bare_newlines_are_flagged_not_ends() {
        for l in [&b"a\n.\nb"[..], b"\r.", b"x\r", b"\n."] {
            let mut m = MessageBuffer::new(1000, BareNewline::Reject);
            assert!(!m.data_line(l));
            assert!(m.flaws.bare_newline, "{l:?}");
        }
        let mut m = MessageBuffer::new(1000, BareNewline::Accept);
        assert!(!m.data_line(b"a\nb"));
        assert!(!m.flaws.bare_newline);
    }

    #[test]
    fn size_limit_is_bounded() {
        let mut m = MessageBuffer::new(5, BareNewline::Reject);
        m.data_line(b"abc");
        m.data_line(b"def");
        assert!(m.flaws.exceeded);
        assert!(m.bytes.is_empty());
    }
}
