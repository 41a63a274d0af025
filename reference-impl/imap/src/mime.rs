//! The message views IMAP needs (RFC 9051 §6.4.5, §7.5.2): the MIME part tree with byte
//! ranges (RFC 2045, RFC 2046 §5), header field access, and the ENVELOPE and BODYSTRUCTURE
//! renderings.
//!
//! A local adapter: `wirecheck-message` provides address lists (used for ENVELOPE),
//! base64 and quoted-printable (used for BINARY), but no MIME part tree yet.

use wirecheck_message::address::{Address, parse_address_list};

use crate::codec::encode::{nstring, string};

/// Deepest MIME nesting followed; deeper parts are treated as opaque leaves (bounded
/// recursion whatever the message holds).
const MAX_DEPTH: usize = 24;

/// Most body parts per multipart followed.
const MAX_PARTS: usize = 1000;

/// Every bare LF becomes CRLF (and a bare CR before a non-LF stays as is): the form IMAP
/// serves (RFC 9051 §2.3.4 sizes are of this form; the store counts it as `crlf_size`).
pub(crate) fn to_crlf(bytes: Vec<u8>) -> Vec<u8> {
    let bare = bytes.iter().enumerate().filter(|&(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r')).count();
    if bare == 0 {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len() + bare);
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' && (i == 0 || bytes[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// `Content-Type` (RFC 2045 §5.1): type, subtype (both as written, compared
/// case-insensitively) and parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContentType {
    pub mtype: String,
    pub subtype: String,
    pub params: Vec<(String, String)>,
}

impl ContentType {
    fn default_for(parent_digest: bool) -> ContentType {
        if parent_digest {
            ContentType { mtype: "message".into(), subtype: "rfc822".into(), params: vec![] }
        } else {
            ContentType {
                mtype: "text".into(),
                subtype: "plain".into(),
                params: vec![("charset".into(), "us-ascii".into())],
            }
        }
    }

    fn is(&self, t: &str, s: &str) -> bool {
        self.mtype.eq_ignore_ascii_case(t) && self.subtype.eq_ignore_ascii_case(s)
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One MIME entity: its header and body as byte ranges of the whole message.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    /// Start of the header.
    pub start: usize,
    /// Start of the body (after the blank line; `== start` when the header is empty).
    pub body_start: usize,
    /// End of the body.
    pub end: usize,
    pub ctype: ContentType,
    pub kind: PartKind,
}

#[derive(Debug, Clone)]
pub(crate) enum PartKind {
    Leaf,
    /// RFC 2046 §5.1 body parts.
    Multipart(Vec<Part>),
    /// RFC 2046 §5.2.1 message/rfc822 (also message/global): the encapsulated message.
    Message(Box<Part>),
}

impl Part {
    /// Parse the entity `msg[start..end]`.
    pub fn parse(msg: &[u8]) -> Part {
        parse_entity(msg, 0, msg.len(), false, 0)
    }

    pub fn header<'a>(&self, msg: &'a [u8]) -> &'a [u8] {
        msg.get(self.start..self.body_start).unwrap_or_default()
    }

    pub fn body<'a>(&self, msg: &'a [u8]) -> &'a [u8] {
        msg.get(self.body_start..self.end).unwrap_or_default()
    }

    /// RFC 9051 §6.4.5: the part a section's part path names, starting from the message
    /// `self`. Part 1 of a non-multipart message is its body (the message itself here).
    pub fn resolve(&self, path: &[u32]) -> Option<&Part> {
        let mut cur: Option<&Part> = None;
        for &n in path {
            let container = match cur {
                None => self,
                Some(p) => match &p.kind {
                    PartKind::Message(inner) => inner,
                    PartKind::Multipart(_) => p,
                    PartKind::Leaf => return None,
                },
            };
            let idx = usize::try_from(n).ok()?.checked_sub(1)?;
            cur = Some(match &container.kind {
                PartKind::Multipart(children) => children.get(idx)?,
                _ if idx == 0 => container,
                _ => return None,
            });
        }
        Some(cur.unwrap_or(self))
    }
}

fn parse_entity(msg: &[u8], start: usize, end: usize, parent_digest: bool, depth: usize) -> Part {
    let slice = msg.get(start..end).unwrap_or_default();
    let body_start = start + header_len(slice);
    let header = msg.get(start..body_start).unwrap_or_default();
    let ctype = field(header, "Content-Type")
        .and_then(|v| parse_content_type(&v))
        .unwrap_or_else(|| ContentType::default_for(parent_digest));
    let kind = if depth >= MAX_DEPTH {
        PartKind::Leaf
    } else if ctype.mtype.eq_ignore_ascii_case("multipart") {
        match ctype.param("boundary") {
            Some(b) if !b.is_empty() => {
                let digest = ctype.subtype.eq_ignore_ascii_case("digest");
                let children = split_multipart(msg, body_start, end, b.as_bytes())
                    .into_iter()
                    .map(|(s, e)| parse_entity(msg, s, e, digest, depth + 1))
                    .collect();
                PartKind::Multipart(children)
            }
            _ => PartKind::Leaf,
        }
    } else if ctype.is("message", "rfc822") || ctype.is("message", "global") {
        PartKind::Message(Box::new(parse_entity(msg, body_start, end, false, depth + 1)))
    } else {
        PartKind::Leaf
    };
    Part { start, body_start, end, ctype, kind }
}

/// Length of the header including the blank line that ends it (RFC 5322 §2.1); the whole
/// slice when there is no blank line; 0 when the entity starts with the blank line.
fn header_len(s: &[u8]) -> usize {
    if s.starts_with(b"\r\n") {
        return 2;
    }
    s.windows(4).position(|w| w == b"\r\n\r\n").map_or(s.len(), |i| i + 4)
}

/// RFC 2046 §5.1.1: the body parts between `--boundary` delimiter lines. The CRLF before a
/// delimiter belongs to the delimiter. Returns (start, end) of each part.
fn split_multipart(msg: &[u8], start: usize, end: usize, boundary: &[u8]) -> Vec<(usize, usize)> {
    let body = msg.get(start..end).unwrap_or_default();
    let mut delim = Vec::with_capacity(boundary.len() + 2);
    delim.extend_from_slice(b"--");
    delim.extend_from_slice(boundary);
    // Positions (in body) of delimiter lines: at the start, or after a CRLF.
    let mut parts = Vec::new();
    let mut open: Option<usize> = None;
    let mut line_start = 0usize;
    while line_start <= body.len() && parts.len() < MAX_PARTS {
        let line_end = body[line_start..].windows(2).position(|w| w == b"\r\n").map(|i| line_start + i);
        let line = &body[line_start..line_end.unwrap_or(body.len())];
        if let Some(rest) = line.strip_prefix(delim.as_slice()) {
            let close = rest.starts_with(b"--");
            let rest = if close { &rest[2..] } else { rest };
            if rest.iter().all(|&c| c == b' ' || c == b'\t') {
                // The CRLF before the delimiter is part of it.
                let part_end = line_start.saturating_sub(2);
                if let Some(s) = open.take() {
                    parts.push((start + s, start + part_end.max(s)));
                }
                if close {
                    return parts;
                }
                open = Some(line_end.map_or(body.len(), |e| e + 2));
            }
        }
        match line_end {
            Some(e) => line_start = e + 2,
            None => break,
        }
    }
    if let Some(s) = open {
        parts.push((start + s, end));
    }
    parts
}

/// Iterate the fields of a header block: (name, raw value with its folding, without the
/// final CRLF).
pub(crate) fn fields(header: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        loop {
            let rest = header.get(pos..)?;
            if rest.is_empty() || rest.starts_with(b"\r\n") {
                return None;
            }
            // The field runs until a CRLF not followed by WSP.
            let mut end = rest.len();
            let mut i = 0;
            while let Some(off) = rest[i..].windows(2).position(|w| w == b"\r\n") {
                let at = i + off;
                if !matches!(rest.get(at + 2), Some(b' ' | b'\t')) {
                    end = at;
                    break;
                }
                i = at + 2;
            }
            let field = &rest[..end];
            pos += (end + 2).min(rest.len());
            if let Some(colon) = field.iter().position(|&c| c == b':') {
                let name = trim(&field[..colon]);
                if !name.is_empty() {
                    return Some((name, &field[colon + 1..]));
                }
            }
        }
    })
}

fn trim(s: &[u8]) -> &[u8] {
    let a = s.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(s.len());
    let b = s.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(a, |i| i + 1);
    &s[a..b]
}

/// Unfold (RFC 5322 §2.2.3: remove the CRLFs of folding) and trim.
pub(crate) fn unfold(v: &[u8]) -> String {
    let mut out = Vec::with_capacity(v.len());
    for &c in v {
        if c != b'\r' && c != b'\n' {
            out.push(c);
        }
    }
    String::from_utf8_lossy(trim(&out)).into_owned()
}

/// The unfolded value of the first field `name` (case-insensitive).
pub(crate) fn field(header: &[u8], name: &str) -> Option<String> {
    fields(header).find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| unfold(v))
}

/// RFC 2045 §5.1 `type "/" subtype *(";" parameter)`, comments skipped.
fn parse_content_type(v: &str) -> Option<ContentType> {
    let v = strip_comments(v);
    let mut it = split_params(&v).into_iter();
    let main = it.next()?;
    let (t, s) = main.split_once('/')?;
    let (t, s) = (t.trim(), s.trim());
    if t.is_empty() || s.is_empty() || !t.bytes().chain(s.bytes()).all(is_token_char) {
        return None;
    }
    Some(ContentType { mtype: t.to_string(), subtype: s.to_string(), params: parse_params(it) })
}

fn is_token_char(c: u8) -> bool {
    c.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&c)
}

/// Parameters `attr=value` (value a token or quoted-string).
fn parse_params(items: impl Iterator<Item = String>) -> Vec<(String, String)> {
    items
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() {
                return None;
            }
            Some((k.to_string(), unquote(v)))
        })
        .collect()
}

fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut esc = false;
            for c in inner.chars() {
                if !esc && c == '\\' {
                    esc = true;
                } else {
                    out.push(c);
                    esc = false;
                }
            }
            out
        }
        None => v.to_string(),
    }
}

/// Split at `;` outside quoted strings.
fn split_params(v: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let (mut q, mut esc) = (false, false);
    for c in v.chars() {
        match c {
            _ if esc => esc = false,
            '\\' if q => esc = true,
            '"' => q = !q,
            ';' if !q => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

/// Remove RFC 5322 comments `( … )` outside quoted strings (bounded nesting).
fn strip_comments(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let (mut depth, mut q, mut esc) = (0usize, false, false);
    for c in v.chars() {
        if esc {
            esc = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' if q || depth > 0 => {
                esc = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                q = !q;
                out.push(c);
            }
            '(' if !q => depth = depth.saturating_add(1),
            ')' if !q && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// RFC 9051 §7.5.2 ENVELOPE: `(date subject from sender reply-to to cc bcc in-reply-to
/// message-id)`; sender and reply-to default to from (RFC 3501 §7.4.2).
pub(crate) fn envelope(out: &mut Vec<u8>, header: &[u8]) {
    let f = |n: &str| field(header, n);
    out.push(b'(');
    nstring(out, f("Date").as_deref().map(str::as_bytes));
    out.push(b' ');
    nstring(out, f("Subject").as_deref().map(str::as_bytes));
    let from = f("From").filter(|v| !v.is_empty());
    for name in ["From", "Sender", "Reply-To", "To", "Cc", "Bcc"] {
        out.push(b' ');
        let v = match name {
            "Sender" | "Reply-To" => f(name).filter(|v| !v.is_empty()).or_else(|| from.clone()),
            _ => f(name),
        };
        addresses(out, v.as_deref());
    }
    out.push(b' ');
    nstring(out, f("In-Reply-To").as_deref().map(str::as_bytes));
    out.push(b' ');
    nstring(out, f("Message-ID").as_deref().map(str::as_bytes));
    out.push(b')');
}

/// An address list as `((name adl mailbox host) …)`, groups as RFC 9051 §7.5.2 says:
/// `(NIL NIL "group" NIL)` … `(NIL NIL NIL NIL)`; NIL for none.
fn addresses(out: &mut Vec<u8>, value: Option<&str>) {
    let list = value.map(parse_address_list).unwrap_or_default();
    if list.addresses.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in &list.addresses {
        match a {
            Address::Mailbox(m) => mailbox(out, m),
            Address::Group(g) => {
                out.extend_from_slice(b"(NIL NIL ");
                string(out, g.display_name_raw.as_bytes());
                out.extend_from_slice(b" NIL)");
                for m in &g.members {
                    mailbox(out, m);
                }
                out.extend_from_slice(b"(NIL NIL NIL NIL)");
            }
        }
    }
    out.push(b')');
}

fn mailbox(out: &mut Vec<u8>, m: &wirecheck_message::address::Mailbox) {
    out.push(b'(');
    nstring(out, m.display_name_raw.as_deref().map(str::as_bytes));
    out.push(b' ');
    let adl = (!m.route.is_empty()).then(|| m.route.iter().map(|d| format!("@{d}")).collect::<Vec<_>>().join(","));
    nstring(out, adl.as_deref().map(str::as_bytes));
    out.push(b' ');
    string(out, m.local_part.as_bytes());
    out.push(b' ');
    if m.domain.is_empty() {
        out.extend_from_slice(b"NIL");
    } else {
        string(out, m.domain.as_bytes());
    }
    out.push(b')');
}

/// RFC 9051 §7.5.2 BODYSTRUCTURE (`extensible`) or BODY (without extension data).
pub(crate) fn body_structure(out: &mut Vec<u8>, msg: &[u8], part: &Part, extensible: bool) {
    let header = part.header(msg);
    out.push(b'(');
    if let PartKind::Multipart(children) = &part.kind {
        if children.is_empty() {
            // RFC 9051 §7.5.2 needs at least one part: show an empty text/plain one.
            out.extend_from_slice(b"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
        }
        for c in children {
            body_structure(out, msg, c, extensible);
        }
        out.push(b' ');
        string(out, part.ctype.subtype.as_bytes());
        if extensible {
            out.push(b' ');
            params(out, &part.ctype.params);
            extension_tail(out, header);
        }
        out.push(b')');
        return;
    }
    let body = part.body(msg);
    string(out, part.ctype.mtype.as_bytes());
    out.push(b' ');
    string(out, part.ctype.subtype.as_bytes());
    out.push(b' ');
    params(out, &part.ctype.params);
    out.push(b' ');
    nstring(out, field(header, "Content-ID").as_deref().map(str::as_bytes));
    out.push(b' ');
    nstring(out, field(header, "Content-Description").as_deref().map(str::as_bytes));
    out.push(b' ');
    let cte = field(header, "Content-Transfer-Encoding").map(|v| strip_comments(&v).trim().to_string());
    string(out, cte.as_deref().filter(|v| !v.is_empty()).unwrap_or("7bit").as_bytes());
    out.extend_from_slice(format!(" {}", body.len()).as_bytes());
    match &part.kind {
        PartKind::Message(inner) => {
            out.push(b' ');
            envelope(out, inner.header(msg));
            out.push(b' ');
            body_structure(out, msg, inner, extensible);
            out.extend_from_slice(format!(" {}", lines(body)).as_bytes());
        }
        _ if part.ctype.mtype.eq_ignore_ascii_case("text") => {
            out.extend_from_slice(format!(" {}", lines(body)).as_bytes());
        }
        _ => {}
    }
    if extensible {
        out.push(b' ');
        nstring(out, field(header, "Content-MD5").as_deref().map(str::as_bytes));
        extension_tail(out, header);
    }
    out.push(b')');
}

/// `body-fld-dsp SP body-fld-lang SP body-fld-loc`.
fn extension_tail(out: &mut Vec<u8>, header: &[u8]) {
    out.push(b' ');
    match field(header, "Content-Disposition").map(|v| split_params(&strip_comments(&v))) {
        Some(items) if !items.first().is_none_or(|d| d.trim().is_empty()) => {
            let mut it = items.into_iter();
            let d = it.next().unwrap_or_default();
            out.push(b'(');
            string(out, d.trim().as_bytes());
            out.push(b' ');
            params(out, &parse_params(it));
            out.push(b')');
        }
        _ => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    match field(header, "Content-Language") {
        Some(l) => {
            let langs: Vec<String> =
                strip_comments(&l).split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
            match langs.as_slice() {
                [] => out.extend_from_slice(b"NIL"),
                [one] => string(out, one.as_bytes()),
                many => {
                    out.push(b'(');
                    for (i, l) in many.iter().enumerate() {
                        if i > 0 {
                            out.push(b' ');
                        }
                        string(out, l.as_bytes());
                    }
                    out.push(b')');
                }
            }
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    nstring(out, field(header, "Content-Location").as_deref().map(str::as_bytes));
}

/// `body-fld-param`: `("name" "value" …)` or NIL, names as written in the message (RFC 9051
/// leaves their case open; clients compare case-insensitively).
fn params(out: &mut Vec<u8>, params: &[(String, String)]) {
    if params.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        string(out, k.as_bytes());
        out.push(b' ');
        string(out, v.as_bytes());
    }
    out.push(b')');
}

/// `body-fld-lines`: the number of lines of the body.
fn lines(body: &[u8]) -> usize {
    let n = body.iter().filter(|&&c| c == b'\n').count();
    if body.last().is_some_and(|&c| c != b'\n') { n + 1 } else { n }
}

/// The header fields of `header` whose names are (or with `not`, are not) in `names`, in
/// their original order, followed by the blank line (RFC 9051 §6.4.5 HEADER.FIELDS).
pub(crate) fn header_fields(header: &[u8], names: &[String], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields(header) {
        let listed = names.iter().any(|n| n.as_bytes().eq_ignore_ascii_case(name));
        if listed != not {
            out.extend_from_slice(name);
            out.push(b':');
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The decoded content of a leaf part (RFC 3516 / RFC 9051 BINARY): base64 and
/// quoted-printable undone; `None` for an unknown transfer encoding.
pub(crate) fn decoded_body(msg: &[u8], part: &Part) -> Option<Vec<u8>> {
    let cte =
        field(part.header(msg), "Content-Transfer-Encoding").map(|v| strip_comments(&v).trim().to_ascii_lowercase());
    let body = part.body(msg);
    match cte.as_deref() {
        None | Some("" | "7bit" | "8bit" | "binary") => Some(body.to_vec()),
        Some("base64") => Some(wirecheck_message::base64::decode_mime(body).data),
        Some("quoted-printable") => Some(wirecheck_message::qp::decode(body).data),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTI: &[u8] = b"From: Bob <bob@example.test>\r\nSubject: multi\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n--XX--\r\nepilogue\r\n";

    #[test]
    fn crlf_normalisation() {
        assert_eq!(to_crlf(b"a\nb\r\nc\n".to_vec()), b"a\r\nb\r\nc\r\n");
        assert_eq!(to_crlf(b"\n".to_vec()), b"\r\n");
    }

    #[test]
    fn multipart_tree_and_sections() {
        let p = Part::parse(MULTI);
        let PartKind::Multipart(children) = &p.kind else { panic!("{p:?}") };
        assert_eq!(children.len(), 2);
        assert_eq!(p.resolve(&[1]).unwrap().body(MULTI), b"hello");
        let two = p.resolve(&[2]).unwrap();
        assert_eq!(two.body(MULTI), b"Subject: inner\r\n\r\ninner body");
        let PartKind::Message(inner) = &two.kind else { panic!() };
        assert_eq!(inner.header(MULTI), b"Subject: inner\r\n\r\n");
        assert_eq!(p.resolve(&[2, 1]).unwrap().body(MULTI), b"inner body");
        assert!(p.resolve(&[3]).is_none());
        assert!(p.resolve(&[1, 1]).is_none());
        let mut s = Vec::new();
        body_structure(&mut s, MULTI, &p, false);
        let s = String::from_utf8(s).unwrap();
        assert!(s.starts_with("((\"text\" \"plain\" NIL NIL NIL \"7bit\" 5 1)(\"message\" \"rfc822\""), "{s}");
        assert!(s.ends_with(" \"mixed\")"), "{s}");
    }

    #[test]
    fn simple_message() {
        let m = b"Subject: x\r\nFrom: a@b.test\r\n\r\nline1\r\nline2\r\n";
        let p = Part::parse(m);
        assert_eq!(p.resolve(&[1]).unwrap().body(m), b"line1\r\nline2\r\n");
        let mut s = Vec::new();
        body_structure(&mut s, m, &p, true);
        assert_eq!(
            String::from_utf8(s).unwrap(),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2 NIL NIL NIL NIL)"
        );
        let mut e = Vec::new();
        envelope(&mut e, p.header(m));
        assert_eq!(
            String::from_utf8(e).unwrap(),
            "(NIL \"x\" ((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"a\" \"b.test\")) NIL NIL NIL NIL NIL)"
        );
    }

    #[test]
    fn header_field_selection() {
        let h = b"A: 1\r\nB: 2\r\n  folded\r\na: 3\r\n\r\n";
        assert_eq!(header_fields(h, &["a".into()], false), b"A: 1\r\na: 3\r\n\r\n");
        assert_eq!(header_fields(h, &["a".into()], true), b"B: 2\r\n  folded\r\n\r\n");
        assert_eq!(field(h, "b").as_deref(), Some("2  folded"));
    }

    #[test]
    fn no_blank_line_and_garbage_never_panic() {
        for m in [&b""[..], b"\r\n", b"X", b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a", b"--a--\r\n"] {
            let p = Part::parse(m);
            let mut s = Vec::new();
            body_structure(&mut s, m, &p, true);
        }
    }
}
