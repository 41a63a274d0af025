//! RFC 5322 §3.6.4 message identifiers: Message-ID, In-Reply-To, References (and MIME's
//! Content-ID, RFC 2045 §7, which has the same syntax).

use std::fmt;

use thiserror::Error;

use crate::address::{self, AddressError};
use crate::syntax::{self, SyntaxError, Token, TokenKind};

/// `msg-id = "<" id-left "@" id-right ">"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MessageId {
    /// id-left, semantically (an obs-id-left quoted string is unquoted).
    pub left: String,
    /// id-right: a dot-atom or a no-fold-literal with its brackets.
    pub right: String,
}

/// Why a msg-id could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MsgIdError {
    #[error(transparent)]
    Syntax(#[from] SyntaxError),
    #[error("expected '<' starting a msg-id (RFC 5322 §3.6.4)")]
    ExpectedOpen,
    #[error("expected '>' closing a msg-id (RFC 5322 §3.6.4)")]
    ExpectedClose,
    #[error("bad id-left or id-right: {0} (RFC 5322 §3.6.4)")]
    Id(AddressError),
    #[error("exactly one msg-id expected (RFC 5322 §3.6.4)")]
    NotOne,
    #[error("no msg-id (RFC 5322 §3.6.4)")]
    Empty,
}

/// A list of message identifiers (In-Reply-To, References).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MsgIdList {
    pub ids: Vec<MessageId>,
    /// Obsolete syntax (§4.5.4: phrases between ids, CFWS inside an id, quoted id-left).
    pub obsolete: bool,
}

/// Parse `1*msg-id`, accepting the obsolete `*(phrase / msg-id)` (the phrases are skipped).
pub fn parse_msg_id_list(value: &str) -> Result<MsgIdList, MsgIdError> {
    let tokens = syntax::tokenize(value)?.tokens;
    let mut list = MsgIdList::default();
    let mut pos = 0;
    while let Some(token) = tokens.get(pos) {
        match &token.kind {
            TokenKind::Special('<') => {
                let (id, obsolete) = read_msg_id(&tokens, &mut pos)?;
                list.obsolete |= obsolete;
                list.ids.push(id);
            }
            TokenKind::Atom(_) | TokenKind::Quoted(_) | TokenKind::Dot => {
                list.obsolete = true;
                pos += 1;
            }
            _ => return Err(MsgIdError::ExpectedOpen),
        }
    }
    if list.ids.is_empty() {
        return Err(MsgIdError::Empty);
    }
    Ok(list)
}

/// Parse exactly one msg-id (Message-ID, Content-ID).
pub fn parse_msg_id(value: &str) -> Result<MessageId, MsgIdError> {
    let tokens = syntax::tokenize(value)?.tokens;
    let mut pos = 0;
    if tokens.is_empty() {
        return Err(MsgIdError::Empty);
    }
    let (id, _) = read_msg_id(&tokens, &mut pos)?;
    if pos != tokens.len() {
        return Err(MsgIdError::NotOne);
    }
    Ok(id)
}

/// Like [`parse_msg_id`], also saying whether obsolete syntax was used.
pub fn parse_msg_id_detailed(value: &str) -> Result<(MessageId, bool), MsgIdError> {
    let tokens = syntax::tokenize(value)?.tokens;
    let mut pos = 0;
    let result = read_msg_id(&tokens, &mut pos)?;
    if pos != tokens.len() {
        return Err(MsgIdError::NotOne);
    }
    Ok(result)
}

fn read_msg_id(tokens: &[Token], pos: &mut usize) -> Result<(MessageId, bool), MsgIdError> {
    if tokens.get(*pos).map(|t| &t.kind) != Some(&TokenKind::Special('<')) {
        return Err(MsgIdError::ExpectedOpen);
    }
    *pos += 1;
    let inner_start = *pos;
    let (left, right, obsolete) = address::read_addr_spec(tokens, pos).map_err(MsgIdError::Id)?;
    if tokens.get(*pos).map(|t| &t.kind) != Some(&TokenKind::Special('>')) {
        return Err(MsgIdError::ExpectedClose);
    }
    // Any CFWS inside the brackets, or a quoted id-left, is obsolete (§4.5.4).
    let inner = tokens.get(inner_start..=*pos).unwrap_or_default();
    let cfws_inside = inner.iter().any(|t| t.cfws_before);
    let quoted = inner.iter().any(|t| matches!(t.kind, TokenKind::Quoted(_)));
    *pos += 1;
    Ok((MessageId { left, right }, obsolete || cfws_inside || quoted))
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let left = if syntax::is_dot_atom_text(&self.left) {
            self.left.clone()
        } else {
            syntax::quote(&self.left)
        };
        write!(f, "<{left}@{}>", self.right)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(left: &str, right: &str) -> MessageId {
        MessageId {
            left: left.into(),
            right: right.into(),
        }
    }

    #[test]
    fn appendix_a_ids() {
        assert_eq!(
            parse_msg_id("<1234@local.machine.example>"),
            Ok(id("1234", "local.machine.example"))
        );
        assert_eq!(
            parse_msg_id("              <testabcd.1234@silly.test>"),
            Ok(id("testabcd.1234", "silly.test"))
        );
        assert_eq!(
            parse_msg_id("<5678.21-Nov-1997@example.com>"),
            Ok(id("5678.21-Nov-1997", "example.com"))
        );
        let refs = parse_msg_id_list("<1234@local.machine.example> <3456@example.net>");
        assert_eq!(refs.map(|l| (l.ids.len(), l.obsolete)), Ok((2, false)));
        // A.6.3: obsolete white space and comments inside the id.
        let obs = parse_msg_id_detailed("<1234   @   local(blah)  .machine .example>");
        assert_eq!(obs, Ok((id("1234", "local.machine.example"), true)));
    }

    #[test]
    fn obsolete_lists_and_errors() {
        let l = parse_msg_id_list("Your message of <a@b.test> and \"x\" <c@[127.0.0.1]>");
        assert_eq!(
            l,
            Ok(MsgIdList {
                ids: vec![id("a", "b.test"), id("c", "[127.0.0.1]")],
                obsolete: true
            })
        );
        assert_eq!(parse_msg_id("a@b.test"), Err(MsgIdError::ExpectedOpen));
        assert_eq!(parse_msg_id("<a@b.test"), Err(MsgIdError::ExpectedClose));
        assert_eq!(
            parse_msg_id("<a@b.test> <c@d.test>"),
            Err(MsgIdError::NotOne)
        );
        assert_eq!(parse_msg_id(""), Err(MsgIdError::Empty));
        assert!(matches!(parse_msg_id("<ab.test>"), Err(MsgIdError::Id(_))));
        assert_eq!(parse_msg_id_list("just words"), Err(MsgIdError::Empty));
    }

    #[test]
    fn display_round_trips() {
        for m in [
            id("1234", "local.machine.example"),
            id("a b", "x.test"),
            id("z", "[127.0.0.1]"),
        ] {
            assert_eq!(parse_msg_id(&m.to_string()), Ok(m.clone()));
        }
    }
}
