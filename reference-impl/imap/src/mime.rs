//! IMAP renderings of a parsed message (RFC 9051 §7.5.2 ENVELOPE, BODY, BODYSTRUCTURE;
//! §6.4.5 HEADER.FIELDS; RFC 3516 BINARY content). The parsing itself — the MIME entity
//! tree with byte ranges, header fields, the ENVELOPE data, transfer decodings — is
//! `wirecheck-message`'s; this module only writes IMAP syntax.

use wirecheck_message::Message;
use wirecheck_message::envelope::{Envelope, EnvelopeAddress};
use wirecheck_message::part::{Part, PartKind};
use wirecheck_message::params::Parameters;

use crate::codec::encode::{nstring, string};

/// Every bare LF becomes CRLF: the form IMAP serves (RFC 9051 §2.3.4 sizes are of this
/// form; the store counts it as `crlf_size`). The peers' fixture messages are stored with
/// LF line ends.
pub(crate) fn to_crlf(bytes: Vec<u8>) -> Vec<u8> {
    let is_bare = |i: usize, b: u8| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r');
    let bare = bytes.iter().enumerate().filter(|&(i, &b)| is_bare(i, b)).count();
    if bare == 0 {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len() + bare);
    for (i, &b) in bytes.iter().enumerate() {
        if is_bare(i, b) {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// Parse a message (already in CRLF form).
pub(crate) fn parse(bytes: Vec<u8>) -> Message {
    Message::from_bytes(bytes)
}

/// RFC 9051 §7.5.2 ENVELOPE: `(date subject from sender reply-to to cc bcc in-reply-to
/// message-id)`.
pub(crate) fn envelope(out: &mut Vec<u8>, e: &Envelope) {
    out.push(b'(');
    nstring(out, e.date.as_deref().map(str::as_bytes));
    out.push(b' ');
    nstring(out, e.subject.as_deref().map(str::as_bytes));
    for list in [&e.from, &e.sender, &e.reply_to, &e.to, &e.cc, &e.bcc] {
        out.push(b' ');
        addresses(out, list);
    }
    out.push(b' ');
    nstring(out, e.in_reply_to.as_deref().map(str::as_bytes));
    out.push(b' ');
    nstring(out, e.message_id.as_deref().map(str::as_bytes));
    out.push(b')');
}

/// An address list `((name adl mailbox host) …)`, or NIL when empty; group markers come from
/// `wirecheck-message` as (NIL NIL "group" NIL) … (NIL NIL NIL NIL).
fn addresses(out: &mut Vec<u8>, list: &[EnvelopeAddress]) {
    if list.is_empty() {
        out.extend_from_slice(b"NIL");
        return;
    }
    out.push(b'(');
    for a in list {
        out.push(b'(');
        nstring(out, a.name.as_deref().map(str::as_bytes));
        out.push(b' ');
        nstring(out, a.adl.as_deref().map(str::as_bytes));
        out.push(b' ');
        nstring(out, a.mailbox.as_deref().map(str::as_bytes));
        out.push(b' ');
        nstring(out, a.host.as_deref().filter(|h| !h.is_empty() || a.mailbox.is_none()).map(str::as_bytes));
        out.push(b')');
    }
    out.push(b')');
}

/// An envelope with every member NIL (for a message/rfc822 part that could not be parsed).
fn empty_envelope(out: &mut Vec<u8>) {
    out.extend_from_slice(b"(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

/// RFC 9051 §7.5.2 BODYSTRUCTURE (`extensible`) or BODY (no extension data).
pub(crate) fn body_structure(out: &mut Vec<u8>, part: &Part, extensible: bool) {
    out.push(b'(');
    if let PartKind::Multipart(m) = &part.kind {
        if m.parts.is_empty() {
            // `body-type-mpart = 1*body`: show one empty text part rather than break the
            // grammar.
            out.extend_from_slice(b"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
        }
        for c in &m.parts {
            body_structure(out, c, extensible);
        }
        out.push(b' ');
        string(out, part.content_type.subtype.as_bytes());
        if extensible {
            out.push(b' ');
            params(out, body_params(&part.content_type.params));
            extension_tail(out, part);
        }
        out.push(b')');
        return;
    }
    let ct = &part.content_type;
    string(out, ct.media_type.as_bytes());
    out.push(b' ');
    string(out, ct.subtype.as_bytes());
    out.push(b' ');
    params(out, body_params(&ct.params));
    out.push(b' ');
    nstring(out, part.id.as_deref().map(str::as_bytes));
    out.push(b' ');
    nstring(out, part.description.as_deref().map(str::as_bytes));
    out.push(b' ');
    string(out, part.encoding.as_str().as_bytes());
    out.extend_from_slice(format!(" {}", part.size()).as_bytes());
    let is_message = ct.media_type == "message" && matches!(ct.subtype.as_str(), "rfc822" | "global");
    match &part.kind {
        PartKind::Message(inner) => {
            out.push(b' ');
            envelope(out, &inner.envelope());
            out.push(b' ');
            body_structure(out, inner, extensible);
            out.extend_from_slice(format!(" {}", part.lines).as_bytes());
        }
        _ if is_message => {
            out.push(b' ');
            empty_envelope(out);
            out.extend_from_slice(b" (\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)");
            out.extend_from_slice(format!(" {}", part.lines).as_bytes());
        }
        _ if ct.media_type == "text" => out.extend_from_slice(format!(" {}", part.lines).as_bytes()),
        _ => {}
    }
    if extensible {
        out.push(b' ');
        nstring(out, part.md5.as_deref().map(str::as_bytes));
        extension_tail(out, part);
    }
    out.push(b')');
}

/// `body-fld-dsp SP body-fld-lang SP body-fld-loc`.
fn extension_tail(out: &mut Vec<u8>, part: &Part) {
    out.push(b' ');
    match &part.disposition {
        Some(d) => {
            out.push(b'(');
            string(out, d.kind.as_bytes());
            out.push(b' ');
            params(out, body_params(&d.params));
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    match part.language.as_slice() {
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
    out.push(b' ');
    nstring(out, part.location.as_deref().map(str::as_bytes));
}

/// `body-fld-param`: `("name" "value" …)` or NIL; parameters as written (RFC 2231 sections
/// not joined), names lower case.
/// RFC 9051 §7.5.2: "Servers SHOULD decode parameter-value continuations" (RFC 2231
/// `name*0`, `name*1`, ...) and return them as one parameter `name`. A value with an RFC 2231
/// charset or language stays as written: its decoding is not something an IMAP string can
/// say without knowing the client's charset.
fn body_params(p: &Parameters) -> impl Iterator<Item = (&str, &str)> {
    p.params.iter().flat_map(move |d| {
        let joined = d.charset.is_none() && d.language.is_none();
        let as_written = p.raw.iter().filter(move |r| !joined && r.name.split('*').next() == Some(d.name.as_str()));
        joined
            .then_some((d.name.as_str(), d.value.as_str()))
            .into_iter()
            .chain(as_written.map(|r| (r.name.as_str(), r.value.as_str())))
    })
}

fn params<'a>(out: &mut Vec<u8>, params: impl Iterator<Item = (&'a str, &'a str)>) {
    let mut any = false;
    for (k, v) in params {
        out.push(if any { b' ' } else { b'(' });
        any = true;
        string(out, k.as_bytes());
        out.push(b' ');
        string(out, v.as_bytes());
    }
    out.extend_from_slice(if any { b")" } else { b"NIL" });
}

/// The fields of `part`'s header whose names are (or with `not`, are not) in `names`, as
/// written and in order, then the empty line (RFC 9051 §6.4.5 HEADER.FIELDS[.NOT]).
pub(crate) fn header_fields(msg: &Message, part: &Part, names: &[String], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for f in &part.fields {
        if names.iter().any(|n| f.is(n)) != not {
            out.extend_from_slice(msg.bytes(&f.range));
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The content of a leaf part with its transfer encoding undone (RFC 3516 BINARY); `None`
/// for an encoding this server cannot undo.
pub(crate) fn decoded_body(msg: &Message, part: &Part) -> Option<Vec<u8>> {
    let d = msg.decoded_body(part);
    (!d.unknown_encoding).then_some(d.data)
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
    fn multipart_structure() {
        let m = parse(MULTI.to_vec());
        let mut s = Vec::new();
        body_structure(&mut s, m.root(), false);
        let s = String::from_utf8(s).unwrap();
        assert!(
            s.starts_with("((\"text\" \"plain\" NIL NIL NIL \"7bit\" 5 1)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 28 (NIL \"inner\""),
            "{s}"
        );
        assert!(s.ends_with(" \"mixed\")"), "{s}");
    }

    #[test]
    fn simple_message() {
        let raw = b"Subject: x\r\nFrom: a@b.test\r\n\r\nline1\r\nline2\r\n";
        let m = parse(raw.to_vec());
        let mut s = Vec::new();
        body_structure(&mut s, m.root(), true);
        assert_eq!(
            String::from_utf8(s).unwrap(),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 14 2 NIL NIL NIL NIL)"
        );
        let mut e = Vec::new();
        envelope(&mut e, &m.envelope());
        assert_eq!(
            String::from_utf8(e).unwrap(),
            "(NIL \"x\" ((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"a\" \"b.test\")) ((NIL NIL \"a\" \"b.test\")) NIL NIL NIL NIL NIL)"
        );
    }

    #[test]
    fn groups_in_envelopes() {
        let m = parse(b"To: Team: a@b.test, c@d.test;, e@f.test\r\n\r\n".to_vec());
        let mut e = Vec::new();
        envelope(&mut e, &m.envelope());
        let e = String::from_utf8(e).unwrap();
        assert!(
            e.contains("((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"b.test\")(NIL NIL \"c\" \"d.test\")(NIL NIL NIL NIL)(NIL NIL \"e\" \"f.test\"))"),
            "{e}"
        );
    }

    #[test]
    fn header_field_selection() {
        let m = parse(b"A: 1\r\nB: 2\r\n  folded\r\na: 3\r\n\r\nbody".to_vec());
        assert_eq!(header_fields(&m, m.root(), &["a".into()], false), b"A: 1\r\na: 3\r\n\r\n");
        assert_eq!(header_fields(&m, m.root(), &["a".into()], true), b"B: 2\r\n  folded\r\n\r\n");
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [&b""[..], b"\r\n", b"X", b"Content-Type: multipart/mixed; boundary=a\r\n\r\n--a", b"--a--\r\n"] {
            let m = parse(raw.to_vec());
            let mut s = Vec::new();
            body_structure(&mut s, m.root(), true);
            envelope(&mut s, &m.envelope());
        }
    }
}
