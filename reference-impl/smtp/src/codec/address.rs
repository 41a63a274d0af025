//! Paths and mailboxes: RFC 5321 §4.1.2 / §4.1.3, with the RFC 6531 §3.3 (SMTPUTF8)
//! extension that admits UTF-8 in atext, qtextSMTP and sub-domains (U-labels).

use std::fmt;
use std::net::Ipv6Addr;

/// Why a path, mailbox or domain does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// Not `"<" [ A-d-l ":" ] Mailbox ">"`.
    #[error("malformed path")]
    BadPath,
    /// The local part is neither a Dot-string nor a Quoted-string.
    #[error("malformed local part")]
    BadLocalPart,
    /// Not a Domain (`sub-domain *("." sub-domain)`).
    #[error("malformed domain")]
    BadDomain,
    /// Not an address literal (RFC 5321 §4.1.3).
    #[error("malformed address literal")]
    BadAddressLiteral,
}

/// The part after `@`: a domain name or an address literal (RFC 5321 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Domain {
    /// A domain name, as sent (ASCII LDH labels or, with SMTPUTF8, U-labels).
    Name(String),
    /// An address literal, with the brackets: `[127.0.0.1]`, `[IPv6:::1]`, `[tag:content]`.
    Literal(String),
}

impl Domain {
    /// Parse `Domain / address-literal`.
    pub fn parse(s: &str) -> Result<Domain, AddressError> {
        if s.starts_with('[') {
            parse_address_literal(s)?;
            Ok(Domain::Literal(s.to_string()))
        } else {
            parse_domain_name(s)?;
            Ok(Domain::Name(s.to_string()))
        }
    }

    /// The text as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Domain::Name(s) | Domain::Literal(s) => s,
        }
    }

    /// True when the domain is plain ASCII (needs no SMTPUTF8).
    pub fn is_ascii(&self) -> bool {
        self.as_str().is_ascii()
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `Mailbox = Local-part "@" ( Domain / address-literal )` (RFC 5321 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    local_part: String,
    domain: Domain,
}

impl Mailbox {
    /// Parse a mailbox (without angle brackets).
    pub fn parse(s: &str) -> Result<Mailbox, AddressError> {
        let local_len = local_part_len(s.as_bytes()).ok_or(AddressError::BadLocalPart)?;
        let (local, rest) = s.split_at(local_len);
        let domain = rest.strip_prefix('@').ok_or(AddressError::BadLocalPart)?;
        Ok(Mailbox {
            local_part: local.to_string(),
            domain: Domain::parse(domain)?,
        })
    }

    /// The local part exactly as sent (a Quoted-string keeps its quotes and backslashes).
    pub fn local_part(&self) -> &str {
        &self.local_part
    }

    /// The local part with quoting removed: RFC 5321 §4.1.2 "all quoted forms MUST be
    /// treated as equivalent" (`"a"@x` and `a@x` name one mailbox).
    pub fn local_part_unquoted(&self) -> String {
        let Some(inner) = self
            .local_part
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
        else {
            return self.local_part.clone();
        };
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// The domain part.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// True when the mailbox is plain ASCII; otherwise it needs SMTPUTF8 (RFC 6531 §3.2).
    pub fn is_ascii(&self) -> bool {
        self.local_part.is_ascii() && self.domain.is_ascii()
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local_part, self.domain)
    }
}

/// `Reverse-path = Path / "<>"` (RFC 5321 §4.1.2), the MAIL FROM argument.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReversePath {
    /// `<>`: the null reverse-path of notifications (RFC 5321 §4.5.5).
    Null,
    /// A mailbox (any source route was accepted and dropped, as §4.1.2 says it SHOULD be).
    Mailbox(Mailbox),
}

impl ReversePath {
    /// Parse `"<>"` or a Path.
    pub fn parse(s: &str) -> Result<ReversePath, AddressError> {
        if s == "<>" {
            return Ok(ReversePath::Null);
        }
        parse_path(s).map(ReversePath::Mailbox)
    }

    /// The mailbox, if not null.
    pub fn mailbox(&self) -> Option<&Mailbox> {
        match self {
            ReversePath::Null => None,
            ReversePath::Mailbox(m) => Some(m),
        }
    }
}

impl fmt::Display for ReversePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReversePath::Null => f.write_str("<>"),
            ReversePath::Mailbox(m) => write!(f, "<{m}>"),
        }
    }
}

/// `Forward-path`, the RCPT TO argument (RFC 5321 §4.1.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ForwardPath {
    /// `<Postmaster>` without a domain: RFC 5321 §4.5.1, must always be accepted.
    Postmaster,
    /// A mailbox (this includes `<Postmaster@domain>`).
    Mailbox(Mailbox),
}

impl ForwardPath {
    /// Parse `"<Postmaster>"` (case-insensitive) or a Path.
    pub fn parse(s: &str) -> Result<ForwardPath, AddressError> {
        if s.eq_ignore_ascii_case("<postmaster>") {
            return Ok(ForwardPath::Postmaster);
        }
        parse_path(s).map(ForwardPath::Mailbox)
    }

    /// The mailbox, if not the bare Postmaster.
    pub fn mailbox(&self) -> Option<&Mailbox> {
        match self {
            ForwardPath::Postmaster => None,
            ForwardPath::Mailbox(m) => Some(m),
        }
    }

    /// True for `<Postmaster>` and `<Postmaster@any-domain>` (local part case-insensitive,
    /// RFC 5321 §4.5.1).
    pub fn is_postmaster(&self) -> bool {
        match self {
            ForwardPath::Postmaster => true,
            ForwardPath::Mailbox(m) => m.local_part_unquoted().eq_ignore_ascii_case("postmaster"),
        }
    }
}

impl fmt::Display for ForwardPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForwardPath::Postmaster => f.write_str("<Postmaster>"),
            ForwardPath::Mailbox(m) => write!(f, "<{m}>"),
        }
    }
}

/// `Path = "<" [ A-d-l ":" ] Mailbox ">"`; the A-d-l (source route) is checked and dropped.
fn parse_path(s: &str) -> Result<Mailbox, AddressError> {
    let inner = s
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .ok_or(AddressError::BadPath)?;
    let mailbox = if inner.starts_with('@') {
        // A-d-l = At-domain *( "," At-domain ); ends at the first ':' (domains hold none).
        let colon = inner.find(':').ok_or(AddressError::BadPath)?;
        let (adl, rest) = inner.split_at(colon);
        for at_domain in adl.split(',') {
            let d = at_domain.strip_prefix('@').ok_or(AddressError::BadPath)?;
            Domain::parse(d)?;
        }
        rest.get(1..).unwrap_or_default()
    } else {
        inner
    };
    Mailbox::parse(mailbox)
}

/// RFC 5322 atext, plus UTF8-non-ascii (RFC 6531 §3.3) other than the C1 controls, which a
/// command line may not carry (RFC 5321 §4.1.2, as `decode_command` checks).
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || is_utf8_non_ascii(c)
}

/// A non-ASCII character that may appear in an address: not a C1 control (U+0080-U+009F).
/// RFC 6531 §3.3 takes U-labels (RFC 5890 §2.3.2.1) for sub-domains, and IDNA2008 (RFC 5892
/// §2.3, category Cc) disallows every control character.
fn is_utf8_non_ascii(c: char) -> bool {
    !c.is_ascii() && !c.is_control()
}

/// Length in bytes of the Local-part at the start of `b` (Dot-string or Quoted-string).
fn local_part_len(b: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(b).ok()?;
    if s.starts_with('"') {
        let mut escaped = false;
        for (i, c) in s.char_indices().skip(1) {
            if escaped {
                // quoted-pairSMTP = %d92 %d32-126
                if !(' '..='~').contains(&c) {
                    return None;
                }
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                return Some(i + 1);
            } else if !(c == ' ' || c == '!' || ('#'..='~').contains(&c) || is_utf8_non_ascii(c)) {
                // qtextSMTP = %d32-33 / %d35-91 / %d93-126 (backslash handled above)
                return None;
            }
        }
        None
    } else {
        // Dot-string = Atom *("." Atom)
        let end = s.find('@').unwrap_or(s.len());
        let dot = s.get(..end)?;
        if dot.is_empty()
            || dot
                .split('.')
                .any(|atom| atom.is_empty() || !atom.chars().all(is_atext))
        {
            return None;
        }
        Some(end)
    }
}

/// `Domain = sub-domain *("." sub-domain)`, `sub-domain = Let-dig [Ldh-str]` or a U-label
/// (RFC 6531 §3.3), which holds no control character (RFC 5892 §2.3: Cc is DISALLOWED).
/// RFC 5321 §4.5.3.1.2: at most 255 octets.
pub(crate) fn parse_domain_name(s: &str) -> Result<(), AddressError> {
    if s.is_empty() || s.len() > 255 {
        return Err(AddressError::BadDomain);
    }
    for label in s.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || is_utf8_non_ascii(c))
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(AddressError::BadDomain);
        }
    }
    Ok(())
}

/// `address-literal = "[" ( IPv4 / "IPv6:" IPv6 / Standardized-tag ":" 1*dcontent ) "]"`
/// (RFC 5321 §4.1.3).
pub(crate) fn parse_address_literal(s: &str) -> Result<(), AddressError> {
    let inner = s
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or(AddressError::BadAddressLiteral)?;
    if let Some(v6) = inner
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("IPv6:"))
        .and(inner.get(5..))
    {
        return v6
            .parse::<Ipv6Addr>()
            .map(|_| ())
            .map_err(|_| AddressError::BadAddressLiteral);
    }
    if let Some((tag, content)) = inner.split_once(':') {
        // General-address-literal = Standardized-tag ":" 1*dcontent; dcontent = %d33-90 / %d94-126
        let tag_ok = !tag.is_empty()
            && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !tag.ends_with('-');
        let content_ok = !content.is_empty()
            && content
                .bytes()
                .all(|b| (33..=90).contains(&b) || (94..=126).contains(&b));
        return if tag_ok && content_ok {
            Ok(())
        } else {
            Err(AddressError::BadAddressLiteral)
        };
    }
    // IPv4-address-literal = Snum 3("." Snum); Snum = 1*3DIGIT, 0-255
    let parts: Vec<&str> = inner.split('.').collect();
    let snum = |p: &&str| {
        !p.is_empty()
            && p.len() <= 3
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n <= 255)
    };
    if parts.len() == 4 && parts.iter().all(snum) {
        Ok(())
    } else {
        Err(AddressError::BadAddressLiteral)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes() {
        let m = Mailbox::parse("user.name+tag@mail.example.org").unwrap();
        assert_eq!(m.local_part(), "user.name+tag");
        assert_eq!(m.domain(), &Domain::Name("mail.example.org".into()));
        let q = Mailbox::parse(r#""joe\,smith @x"@example.org"#).unwrap();
        assert_eq!(q.local_part_unquoted(), "joe,smith @x");
        assert!(Mailbox::parse("a@[127.0.0.1]").is_ok());
        assert!(Mailbox::parse("a@[IPv6:::1]").is_ok());
        assert!(Mailbox::parse("a@[x-tag:abc]").is_ok());
        for bad in [
            "",
            "@x",
            "a@",
            "a..b@x",
            ".a@x",
            "a.@x",
            "a b@x",
            "a@x..y",
            "a@-x",
            "a@[256.0.0.1]",
            "a@[IPv6:zz]",
            "\"a@x",
            "a@x@y",
            "a\u{1}@x",
        ] {
            assert!(Mailbox::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn utf8_mailbox_is_flagged() {
        let m = Mailbox::parse("用户@例子.广告").unwrap();
        assert!(!m.is_ascii());
        assert!(Mailbox::parse("a@b.c").unwrap().is_ascii());
    }

    /// RFC 5321 §4.1.2 / RFC 6531 §3.3: a sub-domain is a U-label, and RFC 5892 §2.3
    /// disallows control characters in one (F6 in docs/fuzzing.md: `\u{8f}HH3` was taken,
    /// and `decode_command` then refused the command it made).
    #[test]
    fn no_control_characters_in_domains_or_local_parts() {
        for bad in [
            "\u{8f}HH3",
            "a\u{85}.example",
            "ex\u{9f}ample.org",
            "a\u{1}b",
            "a\u{7f}",
        ] {
            assert_eq!(Domain::parse(bad), Err(AddressError::BadDomain), "{bad:?}");
            assert!(Mailbox::parse(&format!("u@{bad}")).is_err(), "{bad:?}");
        }
        assert!(Mailbox::parse("a\u{85}b@example.org").is_err());
        assert!(Mailbox::parse("\"a\u{85}b\"@example.org").is_err());
        assert!(Domain::parse("例子.广告").is_ok());
        assert!(Domain::parse("b\u{fc}cher.example").is_ok());
        assert!(Mailbox::parse("\"j\u{f6}rg\"@example.org").is_ok());
    }

    #[test]
    fn paths() {
        assert_eq!(ReversePath::parse("<>"), Ok(ReversePath::Null));
        assert_eq!(
            ReversePath::parse("<@r1.example,@r2.example:a@b.example>")
                .unwrap()
                .to_string(),
            "<a@b.example>"
        );
        assert_eq!(
            ForwardPath::parse("<POSTMASTER>"),
            Ok(ForwardPath::Postmaster)
        );
        assert!(
            ForwardPath::parse("<Postmaster@x.example>")
                .unwrap()
                .is_postmaster()
        );
        assert!(ForwardPath::parse("a@b").is_err());
        assert!(ForwardPath::parse("<>").is_err());
        assert!(ForwardPath::parse("<a@b> ").is_err());
    }
}
