//! RFC 5322 §3.4 addresses: mailboxes, groups, address lists, with the obsolete forms of §4.4
//! that a receiver MUST accept (routes, empty list elements, CFWS around dots, unquoted dots
//! in display names).
//!
//! [`parse_address_list`] never fails as a whole: an address it cannot read is skipped up to
//! the next comma and reported, so one bad recipient does not hide the others. The result says
//! whether obsolete syntax was seen (a message MUST NOT be generated with it).

use std::fmt;

use thiserror::Error;

use crate::charset::Charset;
use crate::encoded_word::{self, WordEncoding};
use crate::syntax::{self, SyntaxError, TokenKind};

mod parser;

use parser::Parser;
pub(crate) use parser::read_addr_spec;

/// RFC 5322 §3.4 `mailbox`: an optional display name and an addr-spec.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mailbox {
    /// The display name as a person reads it: quoted strings unquoted, words joined by one
    /// space, RFC 2047 encoded words decoded.
    pub display_name: Option<String>,
    /// The display name without RFC 2047 decoding (what IMAP's ENVELOPE carries).
    pub display_name_raw: Option<String>,
    /// §4.4 obs-route: the domains of a source route (`<@a,@b:user@c>`), without the `@`.
    pub route: Vec<String>,
    /// §3.4.1 local-part, semantically: quoted strings unquoted, CFWS removed.
    pub local_part: String,
    /// §3.4.1 domain: dot-atom (CFWS removed) or a domain literal with its brackets.
    pub domain: String,
}

/// RFC 5322 §3.4 `group`: a display name and a possibly empty list of mailboxes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    pub display_name: String,
    pub display_name_raw: String,
    pub members: Vec<Mailbox>,
}

/// RFC 5322 §3.4 `address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Mailbox(Mailbox),
    Group(Group),
}

/// Why an address could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AddressError {
    #[error(transparent)]
    Syntax(#[from] SyntaxError),
    #[error("expected {expected} at token {at} (RFC 5322 §3.4)")]
    Expected { expected: &'static str, at: usize },
    #[error("a group is not allowed here (RFC 5322 §3.6.2 mailbox-list)")]
    GroupNotAllowed,
    #[error("exactly one mailbox expected (RFC 5322 §3.6.2)")]
    NotOneMailbox,
    #[error("empty address list")]
    Empty,
}

/// The outcome of parsing an address list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddressList {
    pub addresses: Vec<Address>,
    /// Addresses that could not be read (each was skipped up to the next comma).
    pub errors: Vec<AddressError>,
    /// Obsolete syntax (§4.4) was seen: accepted, but a generator MUST NOT produce it.
    pub obsolete: bool,
}

impl AddressList {
    /// Every mailbox, group members included, in order.
    pub fn mailboxes(&self) -> impl Iterator<Item = &Mailbox> {
        self.addresses.iter().flat_map(|a| match a {
            Address::Mailbox(m) => std::slice::from_ref(m).iter(),
            Address::Group(g) => g.members.iter(),
        })
    }
}

/// Parse an RFC 5322 §3.4 address-list (To, Cc, Bcc, Reply-To, and the Resent- fields).
pub fn parse_address_list(value: &str) -> AddressList {
    let (tokens, obsolete_text) = match syntax::tokenize(value) {
        Ok(t) => (t.tokens, t.obsolete),
        Err(e) => {
            return AddressList {
                errors: vec![e.into()],
                ..Default::default()
            };
        }
    };
    let mut p = Parser {
        tokens: &tokens,
        pos: 0,
        obsolete: obsolete_text,
    };
    let mut list = AddressList::default();
    loop {
        // §4.4 obs-addr-list: empty elements between commas.
        while p.eat_special(',') {
            p.obsolete = true;
        }
        if p.at_end() {
            break;
        }
        let error = match p.address() {
            Ok(a) if p.at_end() || p.peek_special(',') => {
                list.addresses.push(a);
                None
            }
            Ok(_) => Some(AddressError::Expected {
                expected: "',' between addresses",
                at: p.pos,
            }),
            Err(e) => Some(e),
        };
        if let Some(e) = error {
            // §2.2: a CR outside CRLF is no white space; the address it is in is not read.
            let bare_cr = p.peek_special('\r');
            list.errors.push(if bare_cr { SyntaxError::BareCr.into() } else { e });
        }
        // Skip what could not be read, then the separating comma.
        p.skip_to_comma();
        p.eat_special(',');
        p.obsolete |= p.at_end()
            && p.tokens
                .last()
                .is_some_and(|t| t.kind == TokenKind::Special(','));
    }
    list.obsolete = p.obsolete;
    list
}

/// Parse a mailbox-list (From, Resent-From; §3.6.2): an address list without groups.
pub fn parse_mailbox_list(value: &str) -> Result<Vec<Mailbox>, AddressError> {
    let list = parse_address_list(value);
    if let Some(e) = list.errors.into_iter().next() {
        return Err(e);
    }
    let mut out = Vec::with_capacity(list.addresses.len());
    for a in list.addresses {
        match a {
            Address::Mailbox(m) => out.push(m),
            Address::Group(_) => return Err(AddressError::GroupNotAllowed),
        }
    }
    if out.is_empty() {
        return Err(AddressError::Empty);
    }
    Ok(out)
}

/// Parse exactly one mailbox (Sender, Resent-Sender; §3.6.2).
pub fn parse_mailbox(value: &str) -> Result<Mailbox, AddressError> {
    let mut list = parse_mailbox_list(value)?;
    match (list.pop(), list.is_empty()) {
        (Some(m), true) => Ok(m),
        _ => Err(AddressError::NotOneMailbox),
    }
}

impl Mailbox {
    /// A mailbox with no display name.
    pub fn new(local_part: impl Into<String>, domain: impl Into<String>) -> Self {
        Mailbox {
            local_part: local_part.into(),
            domain: domain.into(),
            ..Default::default()
        }
    }

    /// The same mailbox with a display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.display_name_raw = Some(name.clone());
        self.display_name = Some(name);
        self
    }

    /// The local part as it must be written: a dot-atom, or a quoted string (§3.4.1).
    pub fn local_part_quoted(&self) -> String {
        if syntax::is_dot_atom_text(&self.local_part) {
            self.local_part.clone()
        } else {
            syntax::quote(&self.local_part)
        }
    }

    /// The addr-spec, `local-part@domain` (§3.4.1), quoted where needed.
    pub fn addr_spec(&self) -> String {
        format!("{}@{}", self.local_part_quoted(), self.domain_rendered())
    }

    /// The domain as it must be written: a dot-atom as it is, a domain literal with only
    /// `dtext` inside (§3.4.1: %d33-90 / %d94-126, and UTF-8 by RFC 6532 §3.2). What only
    /// the obsolete syntax could carry (§4.4 `obs-dtext`: controls, and `[`, `]`, `\` as
    /// quoted pairs) is left out, as a generator MUST NOT produce it (§4).
    pub fn domain_rendered(&self) -> String {
        match self.domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
            Some(inner) => {
                let dtext = |c: &char| ('!'..='Z').contains(c) || ('^'..='~').contains(c) || !c.is_ascii();
                format!("[{}]", inner.chars().filter(dtext).collect::<String>())
            }
            None => self.domain.clone(),
        }
    }
}

/// Render a display name as a phrase: atoms when it is plain words, a quoted string when it is
/// printable ASCII, RFC 2047 encoded words (UTF-8, Q) otherwise.
pub fn render_display_name(name: &str) -> String {
    if name
        .split(' ')
        .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii() && syntax::is_atext(c)))
        && !name.contains("=?")
    {
        return name.to_string();
    }
    if !encoded_word::needs_encoding(name) {
        return syntax::quote(name);
    }
    encoded_word::encode_words(name, Charset::Utf8, WordEncoding::Q)
        .map(|w| w.join(" "))
        .unwrap_or_else(|_| syntax::quote(name))
}

/// Renders the mailbox in the current syntax: `Name <local@domain>` or `local@domain`.
/// (A route, being obsolete, is not rendered.)
impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.display_name {
            Some(name) if !name.is_empty() => {
                write!(f, "{} <{}>", render_display_name(name), self.addr_spec())
            }
            _ => f.write_str(&self.addr_spec()),
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", render_display_name(&self.display_name))?;
        for (i, m) in self.members.iter().enumerate() {
            write!(f, "{}{m}", if i == 0 { "" } else { ", " })?;
        }
        f.write_str(";")
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Mailbox(m) => m.fmt(f),
            Address::Group(g) => g.fmt(f),
        }
    }
}

/// Render an address list, comma separated.
pub fn render_address_list<'a>(addresses: impl IntoIterator<Item = &'a Address>) -> String {
    addresses
        .into_iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(name: Option<&str>, local: &str, domain: &str) -> Mailbox {
        Mailbox {
            display_name: name.map(str::to_string),
            display_name_raw: name.map(str::to_string),
            local_part: local.into(),
            domain: domain.into(),
            route: Vec::new(),
        }
    }

    #[test]
    fn rfc5322_a12_different_mailboxes() {
        let list =
            parse_address_list("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>");
        assert_eq!(
            list.addresses,
            vec![
                Address::Mailbox(mb(Some("Mary Smith"), "mary", "x.test")),
                Address::Mailbox(mb(None, "jdoe", "example.org")),
                Address::Mailbox(mb(Some("Who?"), "one", "y.test")),
            ]
        );
        assert!(list.errors.is_empty() && !list.obsolete);
        let cc = parse_address_list(
            r#"<boss@nil.test>, "Giant; \"Big\" Box" <sysservices@example.net>"#,
        );
        assert_eq!(
            cc.addresses,
            vec![
                Address::Mailbox(mb(None, "boss", "nil.test")),
                Address::Mailbox(mb(
                    Some(r#"Giant; "Big" Box"#),
                    "sysservices",
                    "example.net"
                )),
            ]
        );
    }

    #[test]
    fn rfc5322_a13_groups() {
        let list =
            parse_address_list("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;");
        let Some(Address::Group(g)) = list.addresses.first() else {
            panic!("{list:?}")
        };
        assert_eq!(g.display_name, "A Group");
        assert_eq!(g.members.len(), 3);
        assert_eq!(g.members[1], mb(None, "joe", "where.test"));
        let list = parse_address_list("Undisclosed recipients:;");
        assert_eq!(
            list.addresses,
            vec![Address::Group(Group {
                display_name: "Undisclosed recipients".into(),
                display_name_raw: "Undisclosed recipients".into(),
                members: vec![]
            })]
        );
    }

    #[test]
    fn rfc5322_a5_comments_and_white_space() {
        let from = parse_mailbox(r"Pete(A nice \) chap) <pete(his account)@silly.test(his host)>");
        assert_eq!(from, Ok(mb(Some("Pete"), "pete", "silly.test")));
        let to = parse_address_list(
            "A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of the group)",
        );
        assert!(to.errors.is_empty(), "{:?}", to.errors);
        assert!(!to.obsolete);
        let members: Vec<String> = to.mailboxes().map(Mailbox::addr_spec).collect();
        assert_eq!(
            members,
            ["c@public.example", "joe@example.org", "jdoe@one.test"]
        );
        let cc =
            parse_address_list("(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;");
        assert!(
            matches!(&cc.addresses[..], [Address::Group(g)] if g.display_name == "Hidden recipients" && g.members.is_empty())
        );
    }

    #[test]
    fn rfc5322_a61_obsolete_addressing() {
        let from = parse_address_list("Joe Q. Public <john.q.public@example.com>");
        assert!(from.obsolete);
        assert_eq!(
            from.addresses,
            vec![Address::Mailbox(mb(
                Some("Joe Q. Public"),
                "john.q.public",
                "example.com"
            ))]
        );
        let to =
            parse_address_list("Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example");
        assert!(to.obsolete && to.errors.is_empty(), "{to:?}");
        let Some(Address::Mailbox(mary)) = to.addresses.first() else {
            panic!()
        };
        assert_eq!(mary.route, vec!["node.test"]);
        assert_eq!(mary.addr_spec(), "mary@example.net");
        assert_eq!(
            to.addresses.get(1),
            Some(&Address::Mailbox(mb(None, "jdoe", "test.example")))
        );
        // A.6.3: CFWS around dots in the domain.
        let from = parse_address_list("John Doe <jdoe@machine(comment).  example>");
        assert!(from.obsolete);
        assert_eq!(
            from.mailboxes().next().map(Mailbox::addr_spec).as_deref(),
            Some("jdoe@machine.example")
        );
        // A plain dotted local part is not obsolete.
        assert!(!parse_address_list("john.q.public@example.com").obsolete);
    }

    #[test]
    fn bad_addresses_are_skipped_and_reported() {
        let list = parse_address_list("ok@a.test, broken <x@, also@b.test, nodomain");
        let specs: Vec<String> = list.mailboxes().map(Mailbox::addr_spec).collect();
        assert_eq!(specs, ["ok@a.test", "also@b.test"]);
        assert_eq!(list.errors.len(), 2);
        assert_eq!(
            parse_mailbox_list("G: a@b.test;"),
            Err(AddressError::GroupNotAllowed)
        );
        assert_eq!(
            parse_mailbox("a@b.test, c@d.test"),
            Err(AddressError::NotOneMailbox)
        );
        assert_eq!(parse_mailbox_list("   "), Err(AddressError::Empty));
        assert!(matches!(
            parse_mailbox_list("\"open"),
            Err(AddressError::Syntax(_))
        ));
    }

    #[test]
    fn encoded_display_names_and_quoted_locals() {
        let m = parse_mailbox("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>");
        let m = m.unwrap_or_default();
        assert_eq!(m.display_name.as_deref(), Some("Keld Jørn Simonsen"));
        assert_eq!(
            m.display_name_raw.as_deref(),
            Some("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=")
        );
        let m = parse_mailbox(r#""john doe"@example.test"#).unwrap_or_default();
        assert_eq!(m.local_part, "john doe");
        assert_eq!(m.addr_spec(), r#""john doe"@example.test"#);
        let m = parse_mailbox("user@[127.0.0.1]").unwrap_or_default();
        assert_eq!(m.domain, "[127.0.0.1]");
    }

    /// RFC 5322 §2.2: CR and LF only together; a lone CR is not white space (F9 in
    /// docs/fuzzing.md: `a@b\r.test` was read as `a@b.test`). Only that address is lost.
    #[test]
    fn bare_cr_is_an_error() {
        let l = parse_address_list("a@b\r.test");
        assert!(l.addresses.is_empty());
        assert_eq!(l.errors, vec![AddressError::Syntax(SyntaxError::BareCr)]);
        let l = parse_address_list("x@y.test, c\r@d, e@f");
        assert_eq!(l.mailboxes().map(Mailbox::addr_spec).collect::<Vec<_>>(), ["x@y.test", "e@f"]);
        assert_eq!(l.errors, vec![AddressError::Syntax(SyntaxError::BareCr)]);
        assert_eq!(
            parse_address_list("a@[[x(]").errors,
            vec![AddressError::Syntax(SyntaxError::BracketInDomainLiteral)],
            "§3.4.1 dtext has no '[' (found by message_address)"
        );
        for s in ["\"a\rb\"@x", "Jo (a\rb) <a@b>", "a@[1.2\r.3.4]"] {
            assert_eq!(parse_address_list(s).errors, vec![AddressError::Syntax(SyntaxError::BareCr)], "{s:?}");
        }
        // CRLF is still folding white space, inside quotes too (§3.2.4).
        let l = parse_address_list("\"a\r\n b\"@x,\r\n c@d");
        assert!(l.errors.is_empty() && !l.obsolete, "{l:?}");
        assert_eq!(l.mailboxes().map(|m| m.local_part.as_str()).collect::<Vec<_>>(), ["a b", "c"]);
    }

    /// RFC 5322 §4.1 obs-qp / obs-qtext and §4.4 obs-dtext are read (and reported as
    /// obsolete), but rendering never writes them (§4: MUST NOT be generated; F10 in
    /// docs/fuzzing.md): control characters are left out of quoted strings, and a domain
    /// literal keeps only dtext.
    #[test]
    fn obsolete_controls_are_read_but_never_written() {
        let l = parse_address_list("\"a\\\r\nb\"@x.test");
        assert!(l.obsolete && l.errors.is_empty(), "{l:?}");
        let m = l.mailboxes().next().cloned().unwrap_or_default();
        assert_eq!(m.local_part, "a\rb");
        assert_eq!(m.addr_spec(), "\"ab\"@x.test");
        for (text, rendered) in [
            ("\"a\u{1}b\"@x", "\"ab\"@x"),
            ("\"a\\\u{7f}b c\"@x", "\"ab c\"@x"),
            ("a@[x\\]y]", "a@[xy]"),
            ("a@[x\\\u{1}y]", "a@[xy]"),
        ] {
            let l = parse_address_list(text);
            assert!(l.obsolete, "{text:?}");
            let out = render_address_list(&l.addresses);
            assert_eq!(out, rendered, "{text:?}");
            let back = parse_address_list(&out);
            assert!(!back.obsolete && back.errors.is_empty(), "{out:?}");
        }
        assert!(!parse_address_list("\"a\tb\" <a@[127.0.0.1]>").obsolete);
    }

    #[test]
    fn rendering_round_trips() {
        let cases = [
            mb(Some("Mary Smith"), "mary", "example.net"),
            mb(Some("Smith, Mary"), "mary", "example.net"),
            mb(Some("Jörg \"the\" Müller"), "joerg", "example.net"),
            mb(None, "a b", "example.net"),
            mb(Some("=?not encoded?="), "x", "y.test"),
        ];
        for m in cases {
            let text = m.to_string();
            let back = parse_mailbox(&text);
            assert_eq!(
                back.as_ref()
                    .map(|b| (&b.display_name, &b.local_part, &b.domain)),
                Ok((&m.display_name, &m.local_part, &m.domain)),
                "{text}"
            );
        }
        let g = Group {
            display_name: "Team".into(),
            display_name_raw: "Team".into(),
            members: vec![mb(None, "a", "b.test"), mb(Some("C"), "c", "d.test")],
        };
        assert_eq!(g.to_string(), "Team:a@b.test, C <c@d.test>;");
        assert_eq!(
            parse_address_list(&g.to_string()).addresses,
            vec![Address::Group(g)]
        );
    }
}
