//! Client commands: framing (lines + literals, RFC 9051 §4.3 / §7.5, RFC 7888) and the
//! command grammar (RFC 9051 §9 `command`, RFC 3501 §9).

use super::parse::{PResult, Parser};
use super::{Grammar, is_tag_char, literal_at_end};
use crate::types::{
    Command, CommandBody, FetchItem, ListReturn, ListSelect, SearchKey, SearchReturn, Section, SectionText, StatusItem,
    StoreMode,
};

/// Bounds on one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandLimits {
    /// Longest line (without CRLF, literals not counted).
    pub max_line: usize,
    /// Largest literal.
    pub max_literal: u64,
    /// Largest whole command, lines and literals together.
    pub max_total: usize,
}

impl Default for CommandLimits {
    fn default() -> Self {
        CommandLimits { max_line: 8 * 1024, max_literal: 32 * 1024 * 1024, max_total: 33 * 1024 * 1024 }
    }
}

/// What [`decode_command`] found at the front of the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandDecode {
    /// A whole command that used this many octets.
    Complete(usize, Command),
    /// More octets are needed (no literal is pending).
    Incomplete,
    /// The command announced a literal whose octets have not all arrived. For a
    /// synchronizing literal the server answers `+` (RFC 9051 §7.5) once per announcement,
    /// identified by `at`, the offset in the buffer where the literal's octets begin.
    LiteralFound {
        /// The command's tag.
        tag: String,
        /// The announced octet count.
        length: u64,
        /// `{n+}` (RFC 7888): the client does not wait for `+`.
        non_sync: bool,
        /// Offset of the literal's first octet in the buffer.
        at: usize,
    },
}

/// Why a command cannot be accepted; each variant says how many octets to drop.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// A line is longer than `max_line`. `consumed` is `Some(n)` when its CRLF has been
    /// seen (drop `n` octets), `None` when it has not (drop everything and keep dropping up
    /// to the next CRLF).
    #[error("command line longer than {max} octets")]
    LineTooLong {
        /// The tag, when one could be read.
        tag: Option<String>,
        /// The limit.
        max: usize,
        /// How much to drop.
        consumed: Option<usize>,
    },
    /// A literal larger than the limits. `consumed` covers the line that announced it; for
    /// a non-synchronizing literal the client sends its octets anyway (RFC 7888 §4).
    #[error("literal of {length} octets is too large")]
    LiteralTooLarge {
        /// The tag.
        tag: Option<String>,
        /// The announced size.
        length: u64,
        /// `{n+}`.
        non_sync: bool,
        /// Octets up to and including the announcing line's CRLF.
        consumed: usize,
    },
    /// The command is complete but does not follow the grammar.
    #[error("syntax error: {reason}")]
    Syntax {
        /// The tag, when one could be read.
        tag: Option<String>,
        /// The octets the command used.
        consumed: usize,
        /// What was wrong.
        reason: String,
    },
}

impl CommandError {
    /// The tag of the command in error, if known.
    pub fn tag(&self) -> Option<&str> {
        match self {
            CommandError::LineTooLong { tag, .. }
            | CommandError::LiteralTooLarge { tag, .. }
            | CommandError::Syntax { tag, .. } => tag.as_deref(),
        }
    }
}

/// Decode one command from the front of `buf`, in the IMAP4rev2 grammar (RFC 9051 §9).
pub fn decode_command(buf: &[u8], limits: &CommandLimits) -> Result<CommandDecode, CommandError> {
    decode_command_as(buf, limits, Grammar::Imap4rev2)
}

/// Decode one command from the front of `buf` in the grammar of `grammar`: a server that
/// advertises both versions reads IMAP4rev1 (RFC 3501 §9) until the client has sent
/// `ENABLE IMAP4rev2` (RFC 9051 Appendix A).
pub fn decode_command_as(
    buf: &[u8],
    limits: &CommandLimits,
    grammar: Grammar,
) -> Result<CommandDecode, CommandError> {
    let mut line_start = 0usize;
    loop {
        let tail = buf.get(line_start..).unwrap_or_default();
        let Some(i) = tail.windows(2).position(|w| w == b"\r\n") else {
            if tail.len() > limits.max_line + 1 {
                return Err(CommandError::LineTooLong { tag: tag_of(buf), max: limits.max_line, consumed: None });
            }
            return Ok(CommandDecode::Incomplete);
        };
        let line_end = line_start + i;
        if i > limits.max_line {
            return Err(CommandError::LineTooLong {
                tag: tag_of(buf),
                max: limits.max_line,
                consumed: Some(line_end + 2),
            });
        }
        let Some(lit) = literal_at_end(&buf[line_start..line_end]) else {
            return parse_command(&buf[..line_end], grammar)
                .map(|c| CommandDecode::Complete(line_end + 2, c))
                .map_err(|e| CommandError::Syntax { tag: tag_of(buf), consumed: line_end + 2, reason: e.0 });
        };
        let data_start = line_end + 2;
        let data_end = (data_start as u64).saturating_add(lit.length);
        if lit.length > limits.max_literal || data_end > limits.max_total as u64 {
            return Err(CommandError::LiteralTooLarge {
                tag: tag_of(buf),
                length: lit.length,
                non_sync: lit.non_sync,
                consumed: data_start,
            });
        }
        let data_end = data_end as usize;
        if buf.len() < data_end {
            return Ok(CommandDecode::LiteralFound {
                tag: tag_of(buf).unwrap_or_default(),
                length: lit.length,
                non_sync: lit.non_sync,
                at: data_start,
            });
        }
        line_start = data_end;
    }
}

/// The tag at the start of `buf`, when it is a valid one followed by SP.
fn tag_of(buf: &[u8]) -> Option<String> {
    let n = buf.iter().position(|&b| !is_tag_char(b))?;
    (n > 0 && buf.get(n) == Some(&b' ')).then(|| String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Parse one framed command (without its final CRLF).
pub(crate) fn parse_command(b: &[u8], grammar: Grammar) -> PResult<Command> {
    let mut p = Parser::with_grammar(b, grammar);
    let tag = p.tag()?;
    p.sp()?;
    let name = p.atom_upper()?;
    let body = match name.as_str() {
        "CAPABILITY" => CommandBody::Capability,
        "NOOP" => CommandBody::Noop,
        "LOGOUT" => CommandBody::Logout,
        "STARTTLS" => CommandBody::StartTls,
        "NAMESPACE" => CommandBody::Namespace,
        "IDLE" => CommandBody::Idle,
        "CHECK" => CommandBody::Check,
        "CLOSE" => CommandBody::Close,
        "UNSELECT" => CommandBody::Unselect,
        "EXPUNGE" => CommandBody::Expunge,
        "AUTHENTICATE" => {
            p.sp()?;
            let mechanism = p.atom_upper()?;
            let initial = if p.eat(b' ') { Some(p.rest().to_vec()) } else { None };
            if initial.as_ref().is_some_and(|i| i != b"=" && !is_base64(i)) {
                return p.err("base64 initial response or \"=\"");
            }
            CommandBody::Authenticate { mechanism, initial }
        }
        "LOGIN" => {
            p.sp()?;
            let username = p.astring()?;
            p.sp()?;
            let password = p.astring()?;
            CommandBody::Login { username, password }
        }
        "ENABLE" => {
            let mut caps = Vec::new();
            while p.eat(b' ') {
                caps.push(p.atom_upper()?);
            }
            if caps.is_empty() {
                return p.err("capability");
            }
            CommandBody::Enable(caps)
        }
        "SELECT" | "EXAMINE" | "CREATE" | "DELETE" | "SUBSCRIBE" | "UNSUBSCRIBE" => {
            p.sp()?;
            let m = p.mailbox()?;
            match name.as_str() {
                "SELECT" => CommandBody::Select(m),
                "EXAMINE" => CommandBody::Examine(m),
                "CREATE" => CommandBody::Create(m),
                "DELETE" => CommandBody::Delete(m),
                "SUBSCRIBE" => CommandBody::Subscribe(m),
                _ => CommandBody::Unsubscribe(m),
            }
        }
        "RENAME" => {
            p.sp()?;
            let from = p.mailbox()?;
            p.sp()?;
            let to = p.mailbox()?;
            CommandBody::Rename { from, to }
        }
        "LIST" => parse_list(&mut p)?,
        "LSUB" => {
            p.sp()?;
            let reference = p.mailbox()?;
            p.sp()?;
            let pattern = p.list_mailbox()?;
            CommandBody::Lsub { reference, pattern }
        }
        "STATUS" => {
            p.sp()?;
            let mailbox = p.mailbox()?;
            p.sp()?;
            let items = p.paren_list(false, status_item)?;
            CommandBody::Status { mailbox, items }
        }
        "APPEND" => parse_append(&mut p)?,
        "SEARCH" => parse_search(&mut p, false)?,
        "FETCH" => parse_fetch(&mut p, false)?,
        "STORE" => parse_store(&mut p, false)?,
        "COPY" | "MOVE" => parse_copy_move(&mut p, false, &name)?,
        "UID" => {
            p.sp()?;
            let sub = p.atom_upper()?;
            match sub.as_str() {
                "SEARCH" => parse_search(&mut p, true)?,
                "FETCH" => parse_fetch(&mut p, true)?,
                "STORE" => parse_store(&mut p, true)?,
                "COPY" | "MOVE" => parse_copy_move(&mut p, true, &sub)?,
                "EXPUNGE" => {
                    p.sp()?;
                    CommandBody::UidExpunge(p.sequence_set()?)
                }
                _ => return p.err("UID COPY, MOVE, FETCH, SEARCH, STORE or EXPUNGE"),
            }
        }
        _ => return p.err("a known command"),
    };
    p.end()?;
    Ok(Command { tag, body })
}

/// RFC 9051 §9 (RFC 3501 §9 alike): `base64 = *(4base64-char) [base64-terminal]`,
/// `base64-terminal = (2base64-char "==") / (3base64-char "=")`: whole quanta of four, `=`
/// only as the terminal's padding. The empty string (which the grammar admits) is refused for
/// an initial response: RFC 4959 §3 / RFC 9051 §6.2.2 send an empty one as `=`.
pub(crate) fn is_base64(b: &[u8]) -> bool {
    let is_char = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/');
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return false;
    }
    let data = b.strip_suffix(b"==").or_else(|| b.strip_suffix(b"=")).unwrap_or(b);
    data.iter().all(is_char)
}

/// RFC 9051 §9 `list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat
/// [SP list-return-opts]`.
fn parse_list(p: &mut Parser) -> PResult<CommandBody> {
    p.sp()?;
    let mut select = Vec::new();
    if p.peek() == Some(b'(') {
        select = p.paren_list(true, |p| {
            let w = p.atom_upper()?;
            Ok(match w.as_str() {
                "SUBSCRIBED" => ListSelect::Subscribed,
                "REMOTE" => ListSelect::Remote,
                "RECURSIVEMATCH" => ListSelect::RecursiveMatch,
                "SPECIAL-USE" => ListSelect::SpecialUse,
                _ => return p.err("list selection option"),
            })
        })?;
        p.sp()?;
    }
    let reference = p.mailbox()?;
    p.sp()?;
    let patterns =
        if p.peek() == Some(b'(') { p.paren_list(false, Parser::list_mailbox)? } else { vec![p.list_mailbox()?] };
    let mut returns = Vec::new();
    if p.eat(b' ') {
        if !p.keyword("RETURN") {
            return p.err("RETURN");
        }
        p.sp()?;
        returns = p.paren_list(true, |p| {
            let w = p.atom_upper()?;
            Ok(match w.as_str() {
                "SUBSCRIBED" => ListReturn::Subscribed,
                "CHILDREN" => ListReturn::Children,
                "SPECIAL-USE" => ListReturn::SpecialUse,
                "STATUS" => {
                    p.sp()?;
                    ListReturn::Status(p.paren_list(false, status_item)?)
                }
                _ => return p.err("list return option"),
            })
        })?;
    }
    Ok(CommandBody::List { select, reference, patterns, returns })
}

fn status_item(p: &mut Parser) -> PResult<StatusItem> {
    let w = p.atom_upper()?;
    Ok(match w.as_str() {
        "MESSAGES" => StatusItem::Messages,
        "RECENT" => StatusItem::Recent,
        "UIDNEXT" => StatusItem::UidNext,
        "UIDVALIDITY" => StatusItem::UidValidity,
        "UNSEEN" => StatusItem::Unseen,
        "DELETED" => StatusItem::Deleted,
        "SIZE" => StatusItem::Size,
        _ => return p.err("status item"),
    })
}

/// RFC 9051 §9 `append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal`
/// (literal8 allowed, RFC 3516 / RFC 9051 `append-data`).
fn parse_append(p: &mut Parser) -> PResult<CommandBody> {
    p.sp()?;
    let mailbox = p.mailbox()?;
    p.sp()?;
    let mut flags = Vec::new();
    if p.peek() == Some(b'(') {
        flags = p.flag_list()?;
        p.sp()?;
    }
    let mut date = None;
    if p.peek() == Some(b'"') {
        date = Some(p.date_time()?);
        p.sp()?;
    }
    let message = p.literal(true)?;
    Ok(CommandBody::Append { mailbox, flags, date, message })
}

/// RFC 9051 §9 `search = "SEARCH" [search-return-opts] SP search-program`.
fn parse_search(p: &mut Parser, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let mut returns = None;
    if p.keyword("RETURN") {
        p.sp()?;
        let opts = p.paren_list(true, |p| {
            let w = p.atom_upper()?;
            Ok(match w.as_str() {
                "MIN" => SearchReturn::Min,
                "MAX" => SearchReturn::Max,
                "ALL" => SearchReturn::All,
                "COUNT" => SearchReturn::Count,
                "SAVE" => SearchReturn::Save,
                _ => return p.err("search return option"),
            })
        })?;
        returns = Some(opts);
        p.sp()?;
    }
    let mut charset = None;
    if p.keyword("CHARSET") {
        p.sp()?;
        charset = Some(String::from_utf8_lossy(&search_charset(p)?).into_owned());
        p.sp()?;
    }
    let mut criteria = vec![search_key(p, 0)?];
    while p.eat(b' ') {
        criteria.push(search_key(p, 0)?);
    }
    Ok(CommandBody::Search { uid, returns, charset, criteria })
}

/// Nesting bound for `NOT`, `OR` and parentheses: keeps recursion bounded whatever the peer
/// sends.
const MAX_SEARCH_DEPTH: usize = 64;

/// The SEARCH `CHARSET` argument. RFC 9051 §9: `search-program = ["CHARSET" SP charset SP]
/// …`, `charset = atom / quoted` (no `]`, no literal). RFC 3501 §9 reads
/// `"CHARSET" SP astring`, which IMAP4rev1 clients may still send.
fn search_charset(p: &mut Parser) -> PResult<Vec<u8>> {
    match (p.grammar, p.peek()) {
        (Grammar::Imap4rev1, _) => p.astring(),
        (Grammar::Imap4rev2, Some(b'"')) => p.quoted(),
        (Grammar::Imap4rev2, _) => Ok(p.atom()?.to_vec()),
    }
}

fn search_key(p: &mut Parser, depth: usize) -> PResult<SearchKey> {
    if depth > MAX_SEARCH_DEPTH {
        return p.err("search keys nested at most 64 deep");
    }
    if p.peek() == Some(b'(') {
        return Ok(SearchKey::And(p.paren_list(false, |p| search_key(p, depth + 1))?));
    }
    if matches!(p.peek(), Some(b'0'..=b'9' | b'*' | b'$')) {
        return Ok(SearchKey::SequenceSet(p.sequence_set()?));
    }
    let w = p.atom_upper()?;
    let arg = |p: &mut Parser| -> PResult<Vec<u8>> {
        p.sp()?;
        p.astring()
    };
    let date = |p: &mut Parser| {
        p.sp()?;
        p.date()
    };
    let number = |p: &mut Parser| {
        p.sp()?;
        p.number()
    };
    Ok(match w.as_str() {
        "ALL" => SearchKey::All,
        "ANSWERED" => SearchKey::Answered,
        "DELETED" => SearchKey::Deleted,
        "DRAFT" => SearchKey::Draft,
        "FLAGGED" => SearchKey::Flagged,
        "NEW" => SearchKey::New,
        "OLD" => SearchKey::Old,
        "RECENT" => SearchKey::Recent,
        "SEEN" => SearchKey::Seen,
        "UNANSWERED" => SearchKey::Unanswered,
        "UNDELETED" => SearchKey::Undeleted,
        "UNDRAFT" => SearchKey::Undraft,
        "UNFLAGGED" => SearchKey::Unflagged,
        "UNSEEN" => SearchKey::Unseen,
        "BCC" => SearchKey::Bcc(arg(p)?),
        "BODY" => SearchKey::Body(arg(p)?),
        "CC" => SearchKey::Cc(arg(p)?),
        "FROM" => SearchKey::From(arg(p)?),
        "SUBJECT" => SearchKey::Subject(arg(p)?),
        "TEXT" => SearchKey::Text(arg(p)?),
        "TO" => SearchKey::To(arg(p)?),
        "BEFORE" => SearchKey::Before(date(p)?),
        "ON" => SearchKey::On(date(p)?),
        "SINCE" => SearchKey::Since(date(p)?),
        "SENTBEFORE" => SearchKey::SentBefore(date(p)?),
        "SENTON" => SearchKey::SentOn(date(p)?),
        "SENTSINCE" => SearchKey::SentSince(date(p)?),
        "LARGER" => SearchKey::Larger(number(p)?),
        "SMALLER" => SearchKey::Smaller(number(p)?),
        "KEYWORD" | "UNKEYWORD" => {
            p.sp()?;
            let f = p.flag()?;
            if w == "KEYWORD" { SearchKey::Keyword(f) } else { SearchKey::Unkeyword(f) }
        }
        "HEADER" => {
            p.sp()?;
            let name = p.astring_utf8()?;
            SearchKey::Header(name, arg(p)?)
        }
        "UID" => {
            p.sp()?;
            SearchKey::Uid(p.sequence_set()?)
        }
        "NOT" => {
            p.sp()?;
            SearchKey::Not(Box::new(search_key(p, depth + 1)?))
        }
        "OR" => {
            p.sp()?;
            let a = search_key(p, depth + 1)?;
            p.sp()?;
            let b = search_key(p, depth + 1)?;
            SearchKey::Or(Box::new(a), Box::new(b))
        }
        _ => return p.err("search key"),
    })
}

/// RFC 9051 §9 `fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
/// "(" fetch-att *(SP fetch-att) ")")`.
fn parse_fetch(p: &mut Parser, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    p.sp()?;
    use FetchItem::*;
    let (items, macro_used) = if p.keyword("ALL") {
        (vec![Flags, InternalDate, Rfc822Size, Envelope], true)
    } else if p.keyword("FAST") {
        (vec![Flags, InternalDate, Rfc822Size], true)
    } else if p.keyword("FULL") {
        (vec![Flags, InternalDate, Rfc822Size, Envelope, Body], true)
    } else if p.peek() == Some(b'(') {
        (p.paren_list(false, fetch_att)?, false)
    } else {
        (vec![fetch_att(p)?], false)
    };
    Ok(CommandBody::Fetch { uid, set, items, macro_used })
}

fn fetch_att(p: &mut Parser) -> PResult<FetchItem> {
    let w = p.atom_until_bracket()?;
    Ok(match w.as_str() {
        "ENVELOPE" => FetchItem::Envelope,
        "FLAGS" => FetchItem::Flags,
        "INTERNALDATE" => FetchItem::InternalDate,
        "RFC822" => FetchItem::Rfc822,
        "RFC822.HEADER" => FetchItem::Rfc822Header,
        "RFC822.SIZE" => FetchItem::Rfc822Size,
        "RFC822.TEXT" => FetchItem::Rfc822Text,
        "BODYSTRUCTURE" => FetchItem::BodyStructure,
        "UID" => FetchItem::Uid,
        "BODY" | "BODY.PEEK" if p.peek() == Some(b'[') => {
            let section = section(p)?;
            let partial = partial(p)?;
            FetchItem::BodySection { peek: w == "BODY.PEEK", section, partial }
        }
        "BODY" => FetchItem::Body,
        "BINARY" | "BINARY.PEEK" | "BINARY.SIZE" => {
            p.expect(b'[')?;
            let mut part = Vec::new();
            if p.peek() != Some(b']') {
                part.push(p.nz_number()?);
                while p.eat(b'.') {
                    part.push(p.nz_number()?);
                }
            }
            p.expect(b']')?;
            if w == "BINARY.SIZE" {
                FetchItem::BinarySize { part }
            } else {
                FetchItem::Binary { peek: w == "BINARY.PEEK", part, partial: partial(p)? }
            }
        }
        _ => return p.err("fetch attribute"),
    })
}

/// RFC 9051 §9 `section = "[" [section-spec] "]"`.
fn section(p: &mut Parser) -> PResult<Section> {
    p.expect(b'[')?;
    let mut s = Section::default();
    if p.eat(b']') {
        return Ok(s);
    }
    while matches!(p.peek(), Some(b'1'..=b'9')) {
        s.part.push(p.nz_number()?);
        if !p.eat(b'.') {
            p.expect(b']')?;
            return Ok(s);
        }
    }
    let w = p.atom_until_bracket_or_space()?;
    s.text = Some(match w.as_str() {
        "HEADER" => SectionText::Header,
        "TEXT" => SectionText::Text,
        "MIME" if !s.part.is_empty() => SectionText::Mime,
        "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
            p.sp()?;
            let names = p.paren_list(false, Parser::astring_utf8)?;
            if w == "HEADER.FIELDS" { SectionText::HeaderFields(names) } else { SectionText::HeaderFieldsNot(names) }
        }
        _ => return p.err("HEADER, HEADER.FIELDS, TEXT or MIME"),
    });
    p.expect(b']')?;
    Ok(s)
}

/// `partial = "<" number "." nz-number ">"`.
fn partial(p: &mut Parser) -> PResult<Option<(u32, u32)>> {
    if !p.eat(b'<') {
        return Ok(None);
    }
    let origin = p.number()?;
    p.expect(b'.')?;
    let count = p.nz_number()?;
    p.expect(b'>')?;
    Ok(Some((origin, count)))
}

/// RFC 9051 §9 `store = "STORE" SP sequence-set SP store-att-flags`.
fn parse_store(p: &mut Parser, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    p.sp()?;
    let mode = if p.eat(b'+') {
        StoreMode::Add
    } else if p.eat(b'-') {
        StoreMode::Remove
    } else {
        StoreMode::Replace
    };
    let w = p.atom_upper()?;
    let silent = match w.as_str() {
        "FLAGS" => false,
        "FLAGS.SILENT" => true,
        _ => return p.err("FLAGS or FLAGS.SILENT"),
    };
    p.sp()?;
    let flags = if p.peek() == Some(b'(') {
        p.flag_list()?
    } else {
        let mut f = vec![p.flag()?];
        while p.eat(b' ') {
            f.push(p.flag()?);
        }
        f
    };
    Ok(CommandBody::Store { uid, set, mode, silent, flags })
}

fn parse_copy_move(p: &mut Parser, uid: bool, name: &str) -> PResult<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    p.sp()?;
    let mailbox = p.mailbox()?;
    Ok(if name == "COPY" { CommandBody::Copy { uid, set, mailbox } } else { CommandBody::Move { uid, set, mailbox } })
}

impl Parser<'_> {
    /// A fetch attribute name: letters, digits and dots, up to `[`, `<`, SP or `)`.
    fn atom_until_bracket(&mut self) -> PResult<String> {
        self.word(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
    }

    /// A section text keyword.
    fn atom_until_bracket_or_space(&mut self) -> PResult<String> {
        self.word(|c| c.is_ascii_alphanumeric() || c == b'.')
    }
}
