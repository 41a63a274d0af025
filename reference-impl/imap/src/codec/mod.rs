//! Bytes <-> IMAP: framing of server responses (for the harness and clients) and of client
//! commands (for the server), and the command grammar (RFC 3501 §9, RFC 9051 §9).
//!
//! Decoding is total: every function returns a typed value or a typed error, never panics,
//! and never holds more than its limits allow. "Need more bytes" is not an error
//! (`Ok(None)`, [`CommandDecode::Incomplete`]), and a synchronizing literal announcement is
//! an event ([`CommandDecode::LiteralFound`]) that the server answers with a `+` continuation
//! request (RFC 9051 §7.5), as in imap-codec's `CommandDecodeError::LiteralFound`.

mod command;
#[cfg(test)]
mod command_tests;
pub mod encode;
mod parse;
mod response;

pub use command::{CommandDecode, CommandError, CommandLimits, decode_command, decode_command_as};
pub(crate) use parse::{canonical_system_flag, month_name};
pub use parse::{parse_date, parse_date_time};
pub use response::{Response, ResponseError, ResponseKind, ResponseLimits, Status, decode_response};

/// Which version's command grammar a command is read in. A server advertising both reads
/// IMAP4rev1 until `ENABLE IMAP4rev2` (RFC 9051 Appendix A); the two differ in quoted strings
/// (RFC 3501 §9: 7-bit; RFC 9051 §9: UTF-8) and in the SEARCH CHARSET argument (RFC 3501
/// §9: astring; RFC 9051 §9: `charset = atom / quoted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grammar {
    /// RFC 3501 §9.
    Imap4rev1,
    /// RFC 9051 §9.
    #[default]
    Imap4rev2,
}

/// A literal announced at the end of a line: `{n}`, `{n+}` (RFC 7888) or `~{n}` (RFC 3516
/// / RFC 9051 §4.3.1 literal8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LiteralAnnouncement {
    /// The octet count (saturating at `u64::MAX` for absurd announcements).
    pub length: u64,
    /// `{n+}`: the client will not wait for a continuation request.
    pub non_sync: bool,
    /// `~{n}`: a binary literal (may hold NUL).
    #[allow(dead_code)]
    pub binary: bool,
}

/// RFC 9051 §4.3 / RFC 7888 §3: "check the end of every received line ... for an open brace
/// ('{') followed by an octet count, [a plus ('+'),] and a close brace ('}') immediately
/// preceding the CRLF". `line` is without its CRLF.
pub(crate) fn literal_at_end(line: &[u8]) -> Option<LiteralAnnouncement> {
    let body = line.strip_suffix(b"}")?;
    let (body, non_sync) = match body.strip_suffix(b"+") {
        Some(b) => (b, true),
        None => (body, false),
    };
    let digits_start = body.iter().rposition(|b| !b.is_ascii_digit()).map_or(0, |i| i + 1);
    let digits = &body[digits_start..];
    if digits.is_empty() || digits_start == 0 || body[digits_start - 1] != b'{' {
        return None;
    }
    let binary = digits_start >= 2 && body[digits_start - 2] == b'~';
    let length = digits
        .iter()
        .try_fold(0u64, |acc, d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')))
        .unwrap_or(u64::MAX);
    Some(LiteralAnnouncement { length, non_sync, binary })
}

/// RFC 9051 §9: `tag = 1*<any ASTRING-CHAR except "+">`.
pub(crate) fn is_tag_char(b: u8) -> bool {
    is_astring_char(b) && b != b'+'
}

/// RFC 9051 §9: `ATOM-CHAR = <any CHAR except atom-specials>`; atom-specials are
/// `( ) {` SP CTL `% *` `" \` and `]`.
pub(crate) fn is_atom_char(b: u8) -> bool {
    (0x21..0x7f).contains(&b) && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// RFC 9051 §9: `ASTRING-CHAR = ATOM-CHAR / resp-specials`.
pub(crate) fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_announcements() {
        let l = |s: &[u8]| literal_at_end(s);
        assert_eq!(l(b"a APPEND x {12}"), Some(LiteralAnnouncement { length: 12, non_sync: false, binary: false }));
        assert_eq!(l(b"a APPEND x {12+}"), Some(LiteralAnnouncement { length: 12, non_sync: true, binary: false }));
        assert_eq!(l(b"a APPEND x ~{3}"), Some(LiteralAnnouncement { length: 3, non_sync: false, binary: true }));
        assert_eq!(l(b"{0}").map(|a| a.length), Some(0));
        assert_eq!(l(b"a {}"), None);
        assert_eq!(l(b"a {x}"), None);
        assert_eq!(l(b"a 12}"), None);
        assert_eq!(l(b"}"), None);
        assert_eq!(l(b"{99999999999999999999999}").map(|a| a.length), Some(u64::MAX));
    }
}
