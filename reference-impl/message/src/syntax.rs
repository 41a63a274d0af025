//! RFC 5322 §3.2 lexical tokens of structured field bodies, shared by the address, msg-id,
//! date-time and MIME parameter parsers.
//!
//! The input is an unfolded field body (§2.2.3). [`Cursor`] walks it: comments (nested, with
//! quoted pairs, §3.2.2) and white space are skipped as CFWS and the comments kept,
//! quoted strings (§3.2.4) and domain literals (§3.4.1) are read with their quoted pairs
//! resolved. [`tokenize`] turns a whole value into [`Token`]s, each knowing whether CFWS came
//! before it (the obsolete syntax of §4 allows CFWS where the current syntax does not, and the
//! parsers report that).
//!
//! Non-ASCII characters count as `atext` and `qtext` (RFC 6532 §3.2), so UTF-8 headers parse.

use thiserror::Error;

/// A lexical error in a structured field body.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SyntaxError {
    #[error("unterminated quoted string (RFC 5322 §3.2.4)")]
    UnterminatedQuotedString,
    #[error("unterminated comment (RFC 5322 §3.2.2)")]
    UnterminatedComment,
    #[error("unterminated domain literal (RFC 5322 §3.4.1)")]
    UnterminatedDomainLiteral,
    #[error("CR not followed by LF in a quoted string, comment or domain literal (RFC 5322 §2.2)")]
    BareCr,
    #[error("'[' inside a domain literal (RFC 5322 §3.4.1 dtext)")]
    BracketInDomainLiteral,
}

/// RFC 5322 §3.2.3 `atext`, plus any non-ASCII character (RFC 6532 §3.2).
pub fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

/// RFC 5322 §3.2.3 `dot-atom-text`: `1*atext *("." 1*atext)`.
pub fn is_dot_atom_text(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|part| !part.is_empty() && part.chars().all(is_atext))
}

/// Render `s` as a quoted string (§3.2.4), escaping `"` and `\`.
///
/// ASCII control characters other than HTAB are left out: `qtext` and `quoted-pair`
/// (`"\" (VCHAR / WSP)`) cannot carry them, only the obsolete `obs-qtext` / `obs-qp` of §4.1
/// can, and §4 says those MUST NOT be generated. Content that held them (parsed from obsolete
/// syntax, see [`Cursor::obsolete`]) therefore renders to what current syntax can say.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars().filter(|&c| !is_obs_control(c)) {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// An ASCII control character that current syntax cannot write (§3.2.4 qtext, §3.2.1
/// quoted-pair, §3.4.1 dtext): everything below SP but HTAB, and DEL. §4.1 `obs-NO-WS-CTL`,
/// `obs-qp` (which adds NUL, CR and LF) and §4.4 `obs-dtext` let them in.
pub fn is_obs_control(c: char) -> bool {
    c.is_ascii_control() && c != '\t'
}

/// White space between tokens after unfolding: SP, HTAB, and LF (messages stored with LF line
/// ends unfold with bare LFs). A CR is white space only as part of CRLF (§2.2: "CR and LF
/// MUST only occur together as CRLF"); a lone CR stays in the input as a character of its
/// own, so parsers see it and refuse it.
fn is_wsp(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n')
}

/// A position in a field body.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    s: &'a str,
    pos: usize,
    /// The comments skipped so far, without their outer parentheses, quoted pairs resolved.
    pub comments: Vec<String>,
    /// Obsolete syntax of §4.1 / §4.4 was read inside a quoted string, comment or domain
    /// literal: a control character (`obs-qtext`, `obs-ctext`, `obs-dtext`), a quoted pair
    /// of one (`obs-qp`), or a quoted pair in a domain literal (`obs-dtext`).
    pub obsolete: bool,
}

impl<'a> Cursor<'a> {
    pub fn new(s: &'a str) -> Self {
        Cursor {
            s,
            pos: 0,
            comments: Vec::new(),
            obsolete: false,
        }
    }

    /// What is left to read.
    pub fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    pub fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub fn is_at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// Consume `c` if it comes next.
    pub fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// Consume the longest prefix whose characters satisfy `f`.
    pub fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let len = rest.find(|c| !f(c)).unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// Skip CFWS (§3.2.2); true if anything was skipped.
    pub fn skip_cfws(&mut self) -> Result<bool, SyntaxError> {
        let start = self.pos;
        loop {
            self.take_while(is_wsp);
            if self.rest().starts_with("\r\n") {
                self.pos += 2;
            } else if self.peek() == Some('(') {
                let comment = self.comment()?;
                self.comments.push(comment);
            } else {
                break;
            }
        }
        Ok(self.pos > start)
    }

    /// Read a comment starting at `(`, nested comments included (returned with their
    /// parentheses), quoted pairs resolved.
    pub fn comment(&mut self) -> Result<String, SyntaxError> {
        let mut out = String::new();
        let mut depth = 0usize;
        let mut chars = self.rest().char_indices();
        if self.peek() != Some('(') {
            return Err(SyntaxError::UnterminatedComment);
        }
        while let Some((i, c)) = chars.next() {
            match c {
                '(' => {
                    if depth > 0 {
                        out.push(c);
                    }
                    depth += 1;
                }
                ')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += i + 1;
                        return Ok(out);
                    }
                    out.push(c);
                }
                '\\' => {
                    if let Some((_, q)) = chars.next() {
                        self.obsolete |= is_obs_control(q);
                        out.push(q);
                    }
                }
                '\r' if !rest_at(self.rest(), i + 1).starts_with('\n') => {
                    return Err(SyntaxError::BareCr);
                }
                _ => {
                    self.obsolete |= is_obs_control(c) && !matches!(c, '\r' | '\n');
                    out.push(c);
                }
            }
        }
        Err(SyntaxError::UnterminatedComment)
    }

    /// Read a quoted string starting at `"`; returns its content with quoted pairs resolved.
    pub fn quoted_string(&mut self) -> Result<String, SyntaxError> {
        let mut out = String::new();
        let mut chars = self.rest().char_indices().skip(1);
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => {
                    if let Some((_, q)) = chars.next() {
                        // §4.1 obs-qp: a quoted NUL, CR, LF or other control.
                        self.obsolete |= is_obs_control(q);
                        out.push(q);
                    }
                }
                // §2.2: CR only in CRLF.
                '\r' if !rest_at(self.rest(), i + 1).starts_with('\n') => {
                    return Err(SyntaxError::BareCr);
                }
                // §3.2.4: a CRLF in FWS inside the quotes is not part of the content.
                '\r' | '\n' => {}
                _ => {
                    // §4.1 obs-qtext = obs-NO-WS-CTL.
                    self.obsolete |= is_obs_control(c);
                    out.push(c);
                }
            }
        }
        Err(SyntaxError::UnterminatedQuotedString)
    }

    /// Read a domain literal starting at `[`; returns it with its brackets, inner white space
    /// removed and quoted pairs (obs-dtext) resolved.
    pub fn domain_literal(&mut self) -> Result<String, SyntaxError> {
        let mut out = String::from("[");
        let mut chars = self.rest().char_indices().skip(1);
        while let Some((i, c)) = chars.next() {
            match c {
                ']' => {
                    self.pos += i + 1;
                    out.push(']');
                    return Ok(out);
                }
                '\\' => {
                    // §4.4 obs-dtext = obs-NO-WS-CTL / quoted-pair.
                    self.obsolete = true;
                    if let Some((_, q)) = chars.next() {
                        out.push(q);
                    }
                }
                '\r' if !rest_at(self.rest(), i + 1).starts_with('\n') => {
                    return Err(SyntaxError::BareCr);
                }
                // dtext = %d33-90 / %d94-126: no second '['.
                '[' => return Err(SyntaxError::BracketInDomainLiteral),
                c if is_wsp(c) || c == '\r' => {}
                _ => {
                    self.obsolete |= is_obs_control(c);
                    out.push(c);
                }
            }
        }
        Err(SyntaxError::UnterminatedDomainLiteral)
    }
}

/// `s` from byte `i` on ("" past the end or off a character boundary).
fn rest_at(s: &str, i: usize) -> &str {
    s.get(i..).unwrap_or("")
}

/// One lexical token of a structured field body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// §3.2.3 atom (a run of `atext`).
    Atom(String),
    /// `.`, kept apart so dot-atoms with CFWS around dots (obs-local-part) parse.
    Dot,
    /// §3.2.4 quoted string, content only.
    Quoted(String),
    /// §3.4.1 domain literal, with its brackets.
    DomainLiteral(String),
    /// Any other character: the specials `<>:;@,` and whatever does not belong.
    Special(char),
}

/// A token and whether CFWS preceded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub cfws_before: bool,
}

/// The tokens of a field body, and its comments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tokens {
    pub tokens: Vec<Token>,
    pub comments: Vec<String>,
    /// Obsolete syntax inside a quoted string, comment or domain literal ([`Cursor::obsolete`]).
    pub obsolete: bool,
}

/// Split a structured field body into tokens.
pub fn tokenize(value: &str) -> Result<Tokens, SyntaxError> {
    let mut cursor = Cursor::new(value);
    let mut tokens = Vec::new();
    loop {
        let cfws_before = cursor.skip_cfws()?;
        let Some(c) = cursor.peek() else { break };
        let kind = match c {
            '"' => TokenKind::Quoted(cursor.quoted_string()?),
            '[' => TokenKind::DomainLiteral(cursor.domain_literal()?),
            '.' => {
                cursor.eat('.');
                TokenKind::Dot
            }
            c if is_atext(c) => TokenKind::Atom(cursor.take_while(is_atext).to_string()),
            c => {
                cursor.eat(c);
                TokenKind::Special(c)
            }
        };
        tokens.push(Token { kind, cfws_before });
    }
    Ok(Tokens {
        tokens,
        comments: cursor.comments,
        obsolete: cursor.obsolete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_nest_and_quote() {
        let t = tokenize(r#"Pete(A nice \) chap) <pete(his account)@silly.test(his host)>"#);
        let t = t.unwrap_or_default();
        assert_eq!(t.comments, vec!["A nice ) chap", "his account", "his host"]);
        let kinds: Vec<_> = t.tokens.iter().map(|t| t.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                TokenKind::Atom("Pete".into()),
                TokenKind::Special('<'),
                TokenKind::Atom("pete".into()),
                TokenKind::Special('@'),
                TokenKind::Atom("silly".into()),
                TokenKind::Dot,
                TokenKind::Atom("test".into()),
                TokenKind::Special('>'),
            ]
        );
        let t = tokenize("(nobody(that I know))  ;").unwrap_or_default();
        assert_eq!(t.comments, vec!["nobody(that I know)"]);
        assert!(t.tokens[0].cfws_before);
    }

    #[test]
    fn quoted_strings_and_literals() {
        let t = tokenize(r#""Giant; \"Big\" Box" [ 127.0.0.1 ]"#).unwrap_or_default();
        assert_eq!(
            t.tokens[0].kind,
            TokenKind::Quoted(r#"Giant; "Big" Box"#.into())
        );
        assert_eq!(
            t.tokens[1].kind,
            TokenKind::DomainLiteral("[127.0.0.1]".into())
        );
        assert_eq!(
            tokenize("\"abc"),
            Err(SyntaxError::UnterminatedQuotedString)
        );
        assert_eq!(tokenize("(a(b)"), Err(SyntaxError::UnterminatedComment));
        assert_eq!(tokenize("[a"), Err(SyntaxError::UnterminatedDomainLiteral));
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert!(is_dot_atom_text("a.b-c") && !is_dot_atom_text("a..b") && !is_dot_atom_text(".a"));
    }
}
