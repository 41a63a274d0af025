//! The RFC 5322 §3.4 address grammar over the tokens of a field body, with the obsolete
//! forms of §4.4; [`Parser`] notes obsolete syntax as it goes.

use super::{Address, AddressError, Group, Mailbox};
use crate::encoded_word::{self, PhraseWord};
use crate::syntax::{Token, TokenKind};

/// Read `local-part "@" domain` from `tokens[*pos..]` (also the grammar of a msg-id's
/// `id-left "@" id-right` in its obsolete form); returns (local, domain, obsolete syntax seen).
pub(crate) fn read_addr_spec(
    tokens: &[Token],
    pos: &mut usize,
) -> Result<(String, String, bool), AddressError> {
    let mut p = Parser {
        tokens,
        pos: *pos,
        obsolete: false,
    };
    let (local, domain) = p.addr_spec()?;
    *pos = p.pos;
    Ok((local, domain, p.obsolete))
}

pub(super) struct Parser<'t> {
    pub(super) tokens: &'t [Token],
    pub(super) pos: usize,
    pub(super) obsolete: bool,
}

impl Parser<'_> {
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    fn peek(&self) -> Option<&TokenKind> {
        self.tokens.get(self.pos).map(|t| &t.kind)
    }

    pub(super) fn peek_special(&self, c: char) -> bool {
        self.peek() == Some(&TokenKind::Special(c))
    }

    pub(super) fn eat_special(&mut self, c: char) -> bool {
        let found = self.peek_special(c);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, c: char, expected: &'static str) -> Result<(), AddressError> {
        if self.eat_special(c) {
            Ok(())
        } else {
            Err(AddressError::Expected {
                expected,
                at: self.pos,
            })
        }
    }

    pub(super) fn skip_to_comma(&mut self) {
        while self.peek().is_some_and(|k| *k != TokenKind::Special(',')) {
            self.pos += 1;
        }
    }

    /// §3.4 address = mailbox / group.
    pub(super) fn address(&mut self) -> Result<Address, AddressError> {
        let start = (self.pos, self.obsolete);
        let phrase = self.phrase();
        if !phrase.is_empty() && self.eat_special(':') {
            return self.group(&phrase).map(Address::Group);
        }
        (self.pos, self.obsolete) = start;
        self.mailbox().map(Address::Mailbox)
    }

    /// §3.4 mailbox = name-addr / addr-spec.
    fn mailbox(&mut self) -> Result<Mailbox, AddressError> {
        let start = (self.pos, self.obsolete);
        let phrase = self.phrase();
        if self.peek_special('<') {
            let (display_name, display_name_raw) = render_phrase(&phrase);
            let mut mailbox = self.angle_addr()?;
            mailbox.display_name = display_name;
            mailbox.display_name_raw = display_name_raw;
            return Ok(mailbox);
        }
        (self.pos, self.obsolete) = start;
        let (local_part, domain) = self.addr_spec()?;
        Ok(Mailbox {
            local_part,
            domain,
            ..Default::default()
        })
    }

    /// §3.4 group = display-name ":" [group-list] ";" [CFWS]; the name and ':' are read.
    fn group(&mut self, phrase: &[Word]) -> Result<Group, AddressError> {
        let (name, raw) = render_phrase(phrase);
        let mut members = Vec::new();
        loop {
            // §4.4 obs-group-list: commas with nothing between them.
            while self.eat_special(',') {
                self.obsolete = true;
            }
            if self.eat_special(';') {
                break;
            }
            if self.at_end() {
                return Err(AddressError::Expected {
                    expected: "';' closing the group",
                    at: self.pos,
                });
            }
            members.push(self.mailbox()?);
            if !self.peek_special(';') {
                self.expect(',', "',' or ';' in a group")?;
            }
        }
        Ok(Group {
            display_name: name.unwrap_or_default(),
            display_name_raw: raw.unwrap_or_default(),
            members,
        })
    }

    /// §3.4 angle-addr, with §4.4 obs-angle-addr (a route before the addr-spec).
    fn angle_addr(&mut self) -> Result<Mailbox, AddressError> {
        self.expect('<', "'<'")?;
        let mut route = Vec::new();
        if self.peek_special('@') || self.peek_special(',') {
            self.obsolete = true;
            // obs-route = obs-domain-list ":"; obs-domain-list = *(CFWS / ",") "@" domain ...
            loop {
                while self.eat_special(',') {}
                if self.eat_special(':') {
                    break;
                }
                self.expect('@', "'@' in a route")?;
                route.push(self.domain()?);
            }
        }
        let (local_part, domain) = self.addr_spec()?;
        self.expect('>', "'>'")?;
        Ok(Mailbox {
            route,
            local_part,
            domain,
            ..Default::default()
        })
    }

    /// §3.4.1 addr-spec = local-part "@" domain.
    fn addr_spec(&mut self) -> Result<(String, String), AddressError> {
        let local = self.local_part()?;
        self.expect('@', "'@' in an addr-spec")?;
        let domain = self.domain()?;
        Ok((local, domain))
    }

    /// local-part = dot-atom / quoted-string / obs-local-part (words joined by dots, with
    /// CFWS allowed around the dots).
    fn local_part(&mut self) -> Result<String, AddressError> {
        let mut out = String::new();
        let (mut words, mut quoted) = (0, false);
        loop {
            let Some(token) = self.tokens.get(self.pos) else {
                return Err(AddressError::Expected {
                    expected: "a local part",
                    at: self.pos,
                });
            };
            match &token.kind {
                TokenKind::Atom(a) => out.push_str(a),
                TokenKind::Quoted(q) => {
                    out.push_str(q);
                    quoted = true;
                }
                _ => {
                    return Err(AddressError::Expected {
                        expected: "a local part",
                        at: self.pos,
                    });
                }
            }
            self.obsolete |= words > 0 && token.cfws_before;
            words += 1;
            self.pos += 1;
            if !self.eat_dot() {
                break;
            }
            out.push('.');
        }
        // A quoted string as one of several dotted words is obs-local-part.
        self.obsolete |= quoted && words > 1;
        Ok(out)
    }

    /// Consume a `.`, noting CFWS before it as obsolete syntax.
    fn eat_dot(&mut self) -> bool {
        match self.tokens.get(self.pos) {
            Some(Token {
                kind: TokenKind::Dot,
                cfws_before,
            }) => {
                self.obsolete |= *cfws_before;
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// domain = dot-atom / domain-literal / obs-domain (atoms joined by dots, CFWS allowed
    /// around the dots).
    fn domain(&mut self) -> Result<String, AddressError> {
        if let Some(TokenKind::DomainLiteral(lit)) = self.peek() {
            let lit = lit.clone();
            self.pos += 1;
            return Ok(lit);
        }
        let mut out = String::new();
        loop {
            let Some(Token {
                kind: TokenKind::Atom(a),
                cfws_before,
            }) = self.tokens.get(self.pos)
            else {
                return Err(AddressError::Expected {
                    expected: "a domain",
                    at: self.pos,
                });
            };
            self.obsolete |= !out.is_empty() && *cfws_before;
            out.push_str(a);
            self.pos += 1;
            if !self.eat_dot() {
                break;
            }
            out.push('.');
        }
        Ok(out)
    }

    /// §3.2.5 phrase (display name), with §4.1 obs-phrase: words and dots. Stops at anything
    /// else; may be empty. A dot sticks to the word before it unless CFWS separates them
    /// ("Joe Q. Public"), and a word sticks to a dot before it likewise ("A.B").
    fn phrase(&mut self) -> Vec<Word> {
        let mut words: Vec<Word> = Vec::new();
        while let Some(token) = self.tokens.get(self.pos) {
            let joins_last = !token.cfws_before && words.last().is_some_and(|w| !w.quoted);
            match &token.kind {
                TokenKind::Atom(a) => match words.last_mut() {
                    Some(last) if joins_last && last.text.ends_with('.') => last.text.push_str(a),
                    _ => words.push(Word {
                        text: a.clone(),
                        quoted: false,
                    }),
                },
                TokenKind::Quoted(q) => words.push(Word {
                    text: q.clone(),
                    quoted: true,
                }),
                TokenKind::Dot if !words.is_empty() => {
                    self.obsolete = true;
                    match words.last_mut() {
                        Some(last) if joins_last => last.text.push('.'),
                        _ => words.push(Word {
                            text: ".".into(),
                            quoted: false,
                        }),
                    }
                }
                _ => break,
            }
            self.pos += 1;
        }
        words
    }
}

/// A phrase word: an atom (possibly an encoded word) or quoted-string content.
#[derive(Debug, Clone)]
struct Word {
    text: String,
    quoted: bool,
}

/// (decoded, raw) display name of a phrase; `None` when it is empty.
fn render_phrase(words: &[Word]) -> (Option<String>, Option<String>) {
    if words.is_empty() {
        return (None, None);
    }
    let raw = words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let decoded = encoded_word::decode_phrase(words.iter().map(|w| {
        if w.quoted {
            PhraseWord::Quoted(&w.text)
        } else {
            PhraseWord::Atom(&w.text)
        }
    }));
    (Some(decoded.text), Some(raw))
}
