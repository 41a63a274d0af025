//! The message formats (`wirecheck-message`): RFC 5322 / MIME parsing, base64, quoted-printable,
//! RFC 2047 encoded words, address lists and date-times; differential targets against
//! mail-parser (headers, addresses, dates) and the `base64` crate.

use arbitrary::Arbitrary;
use base64::Engine;
use wirecheck_message::address::{Address, parse_address_list, render_address_list};
use wirecheck_message::base64 as b64;
use wirecheck_message::charset::Charset;
use wirecheck_message::datetime::{self, DateTime};
use wirecheck_message::encoded_word::{self, WordEncoding};
use wirecheck_message::qp::{self, QpMode};

use crate::{disagree, hex};

// ---------------------------------------------------------------------------------------------
// The whole message

/// `parse` on any bytes: never panics; keeps the bytes; every view of it (fields, structured
/// fields, the MIME tree, decoded bodies, validation) can be taken without panicking, and
/// every part's ranges lie inside the message.
pub fn parse_target(data: &[u8]) {
    let msg = wirecheck_message::parse(data);
    assert_eq!(msg.raw(), data);
    for f in msg.fields().iter().take(50) {
        let _ = f.value();
    }
    let _ = (
        msg.subject(),
        msg.date(),
        msg.from(),
        msg.message_id(),
        msg.addresses("To"),
    );
    let mut parts = 0usize;
    msg.root().walk(&mut |_path, part| {
        parts += 1;
        for r in [&part.header, &part.body] {
            assert!(
                r.start <= r.end && r.end <= data.len(),
                "part range {r:?} outside {} octets",
                data.len()
            );
        }
        if parts <= 20 {
            let _ = msg.decoded_body(part);
            let _ = msg.text(part);
        }
    });
    let _ = msg.validate();
    let _ = msg.envelope();
}

// ---------------------------------------------------------------------------------------------
// Transfer encodings

/// base64 (RFC 4648 §4, RFC 2045 §6.8): `decode(encode(x)) == x`, MIME lines of at most 76
/// characters, and a strict decode accepts only the canonical encoding.
pub fn base64_target(data: &[u8]) {
    let enc = b64::encode(data);
    assert_eq!(b64::decode(enc.as_bytes()).as_deref(), Ok(data), "{}", hex(data));
    let mime = b64::encode_mime(data);
    assert!(mime.split("\r\n").all(|l| l.len() <= 76));
    let back = b64::decode_mime(mime.as_bytes());
    assert_eq!(back.data, data);
    assert!(
        back.issues.is_empty(),
        "issues decoding our own MIME base64: {:?}",
        back.issues
    );
    if let Ok(bytes) = b64::decode(data) {
        assert_eq!(
            b64::encode(&bytes).as_bytes(),
            data,
            "strict decode accepted a non-canonical {}",
            hex(data)
        );
    }
    let lenient = b64::decode_mime(data);
    assert!(lenient.data.len() <= data.len() * 3 / 4 + 3);
}

/// Quoted-printable (RFC 2045 §6.7): `decode(encode(x)) == x` in both modes, no encoded line
/// over 76 characters (rule 5), no white space before a line break (rule 3).
pub fn qp_target(data: &[u8]) {
    for mode in [QpMode::Text, QpMode::Binary] {
        let enc = qp::encode(data, mode);
        for line in enc.split("\r\n") {
            assert!(
                line.len() <= qp::MAX_LINE_LEN,
                "line of {} characters: {line:?}",
                line.len()
            );
            assert!(
                !line.ends_with(' ') && !line.ends_with('\t'),
                "white space at a line end: {line:?}"
            );
        }
        let back = qp::decode(enc.as_bytes());
        assert_eq!(back.data, data, "{mode:?} round trip of {} via {enc:?}", hex(data));
    }
    let _ = qp::decode(data);
}

/// RFC 2047: `decode_text(encode_text(t)) == t` for B and Q, in UTF-8 and Latin-1 where it
/// can hold `t`; no encoded word over 75 characters (§2); any word decodes without panicking.
pub fn encoded_word_target(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = encoded_word::decode_text(&text);
    for word in text.split_whitespace().take(8) {
        let _ = encoded_word::decode_word(word);
    }
    // Unstructured text as a field holds it: no CR or LF.
    let t: String = text.chars().filter(|&c| c != '\r' && c != '\n').collect();
    for charset in [Charset::Utf8, Charset::Iso8859_1] {
        for enc in [WordEncoding::B, WordEncoding::Q] {
            let Ok(encoded) = encoded_word::encode_text(&t, charset, enc) else {
                continue;
            };
            let back = encoded_word::decode_text(&encoded);
            assert_eq!(back.text, t, "{charset:?} {enc:?}: {encoded:?}");
            if let Ok(words) = encoded_word::encode_words(&t, charset, enc) {
                assert!(words.iter().all(|w| w.len() <= encoded_word::MAX_WORD_LEN), "{words:?}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Structured fields

/// What survives rendering: the display name, the addr-spec, group membership.
fn address_view(a: &Address) -> Vec<(Option<String>, String, String)> {
    match a {
        Address::Mailbox(m) => vec![(
            m.display_name.clone().filter(|n| !n.is_empty()),
            m.local_part.clone(),
            m.domain.clone(),
        )],
        Address::Group(g) => {
            let mut v = vec![(Some(g.display_name.clone()), String::new(), String::new())];
            v.extend(g.members.iter().map(|m| {
                (
                    m.display_name.clone().filter(|n| !n.is_empty()),
                    m.local_part.clone(),
                    m.domain.clone(),
                )
            }));
            v
        }
    }
}

/// The view of an address after rendering, by RFC 5322 §4 (obsolete syntax MUST NOT be
/// generated): a quoted local part loses the ASCII controls only `obs-qtext` / `obs-qp` could
/// carry, a domain literal keeps only `dtext` (§3.4.1, UTF-8 by RFC 6532 §3.2).
fn rendered_view((name, local, domain): (Option<String>, String, String)) -> (Option<String>, String, String) {
    let obs_control = |c: &char| c.is_ascii_control() && *c != '\t';
    let local = if wirecheck_message::syntax::is_dot_atom_text(&local) {
        local
    } else {
        local.chars().filter(|c| !obs_control(c)).collect()
    };
    let domain = match domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        Some(inner) => {
            let dtext = |c: &char| ('!'..='Z').contains(c) || ('^'..='~').contains(c) || !c.is_ascii();
            format!("[{}]", inner.chars().filter(dtext).collect::<String>())
        }
        None => domain,
    };
    (name, local, domain)
}

/// RFC 5322 §3.4 address lists: never panic; what parses renders (current syntax) to text
/// that parses to the same addresses, without obsolete syntax. Content that only obsolete
/// syntax can carry is left out (F10, fixed): then the list must say `obsolete`.
pub fn address_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let list = parse_address_list(text);
    if list.addresses.is_empty() {
        return;
    }
    let rendered = render_address_list(&list.addresses);
    let back = parse_address_list(&rendered);
    let a: Vec<_> = list.addresses.iter().flat_map(address_view).collect();
    let b: Vec<_> = back.addresses.iter().flat_map(address_view).collect();
    let expected: Vec<_> = a.iter().cloned().map(rendered_view).collect();
    assert_eq!(expected, b, "{text:?} rendered as {rendered:?}");
    assert!(
        a == expected || list.obsolete,
        "{text:?} lost content in rendering ({rendered:?}) but is not marked obsolete"
    );
    assert!(
        !rendered.chars().any(|c| c.is_ascii_control() && c != '\t'),
        "control character in our rendering {rendered:?} of {text:?}"
    );
    assert!(
        back.errors.is_empty(),
        "our rendering {rendered:?} of {text:?} has errors {:?}",
        back.errors
    );
    assert!(!back.obsolete, "our rendering {rendered:?} uses obsolete syntax");
}

#[derive(Debug, Arbitrary)]
pub struct DateSpec {
    text: String,
    seconds: i64,
    offset: i16,
}

/// RFC 5322 §3.3 date-time: never panics; a parsed date renders in the current syntax and
/// parses back to itself; a Unix time and an offset make a date that converts back.
pub fn datetime_target(spec: DateSpec) {
    if let Ok(d) = datetime::parse(&spec.text) {
        let s = d.to_string();
        assert_eq!(datetime::parse(&s), Ok(d), "{:?} rendered as {s:?}", spec.text);
    }
    let seconds = spec.seconds % 20_000_000_000;
    let offset = spec.offset % (24 * 60);
    if let Some(d) = DateTime::from_unix(seconds, offset) {
        assert_eq!(d.to_unix(), seconds, "{d:?}");
        let s = d.to_string();
        assert_eq!(datetime::parse(&s), Ok(d), "{s:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Differential: base64

/// Our strict decoder against the `base64` crate's STANDARD engine (RFC 4648 §4, padding
/// required, canonical trailing bits): both accept the same inputs with the same result, and
/// both encode alike.
pub fn base64_diff(data: &[u8]) {
    let ours = b64::decode(data);
    let theirs = base64::engine::general_purpose::STANDARD.decode(data);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", hex(data)),
        (Err(_), Err(_)) => {}
        _ => disagree(None, "base64-accept", || {
            format!("{} ours {ours:?} theirs {theirs:?}", hex(data))
        }),
    }
    assert_eq!(
        b64::encode(data),
        base64::engine::general_purpose::STANDARD.encode(data)
    );
}

// ---------------------------------------------------------------------------------------------
// Differential: mail-parser

/// Our parse and mail-parser's of the same message: Subject (RFC 2047 decoded), the From
/// and To addresses, Date and Message-ID must agree where both read the field.
pub fn diff_mail_parser(data: &[u8]) {
    let ours = wirecheck_message::parse(data);
    let Some(theirs) = mail_parser_parse(data) else {
        return;
    };
    let ctx = || hex(data);
    // M14: a CR or LF in the header that is not part of CRLF (RFC 5322 §2.2): mail-parser
    // ends a line at a bare LF, we do not (as RFC 5321 §2.3.8 wants of SMTP), so the two see
    // different fields from there on.
    let head = ours.header_bytes();
    if head.iter().enumerate().any(|(i, &b)| {
        (b == b'\n' && (i == 0 || head[i - 1] != b'\r')) || (b == b'\r' && head.get(i + 1) != Some(&b'\n'))
    }) {
        return;
    }

    // M15: a header line that is neither a field (`field-name ":"`, ftext = %d33-57 /
    // %d59-126, RFC 5322 §3.6.8) nor a continuation (`Su bject: x`, `--b`): where we end the
    // header section there, mail-parser reads on (or takes it for a field).
    if head.split(|&b| b == b'\n').any(|l| {
        let l = l.strip_suffix(b"\r").unwrap_or(l);
        let name = l.split(|&b| b == b':').next().unwrap_or_default();
        !l.is_empty()
            && !matches!(l[0], b' ' | b'\t')
            && (!l.contains(&b':') || name.is_empty() || name.iter().any(|&b| !(33..=126).contains(&b)))
    }) {
        return;
    }

    // M1: several fields of a kind that occurs once (RFC 5322 §3.6): we read the first,
    // mail-parser the last.
    let once = |name: &str| ours.fields_named(name).count() <= 1;

    // M6: RFC 5322 §2.2.3 unfolding removes CRLF only; mail-parser also collapses runs of
    // white space in unstructured fields.
    if let (Some(a), Some(b)) = (ours.subject(), theirs.subject())
        && a != b
        && once("Subject")
        && !a.split_whitespace().eq(b.split_whitespace())
    {
        disagree(known_subject_class(&ours), "subject", || {
            format!("ours {a:?} theirs {b:?} ({})", ctx())
        });
    }

    // M8: a zone of 24 hours or more (RFC 5322 §3.3 zone = 4DIGIT): mail-parser wraps it.
    if let (Some(a), Some(b)) = (ours.date(), theirs.date())
        && once("Date")
        && !odd_field(&ours, "Date")
        && a.offset_minutes.unsigned_abs() < 24 * 60
    {
        let offset = i32::from(b.tz_hour) * 60 + i32::from(b.tz_minute);
        let offset = if b.tz_before_gmt { -offset } else { offset };
        let same = (
            a.year,
            a.month,
            a.day,
            a.hour,
            a.minute,
            a.second,
            i32::from(a.offset_minutes),
        ) == (b.year, b.month, b.day, b.hour, b.minute, b.second, offset);
        if !same {
            disagree(None, "date", || format!("ours {a} theirs {b:?} ({})", ctx()));
        }
    }

    if let (Some(a), Some(b)) = (ours.message_id(), theirs.message_id())
        && once("Message-ID")
        && !odd_field(&ours, "Message-ID")
    {
        let a = format!("{}@{}", a.left, a.right);
        // M4: RFC 5322 §4.5.4 obs-id-left is an obs-local-part, CFWS between its words is
        // not part of the id; mail-parser keeps the white space.
        let b_folded: String = b.chars().filter(|c| !c.is_whitespace()).collect();
        if a != b && a != b_folded {
            disagree(None, "message-id", || format!("ours {a:?} theirs {b:?} ({})", ctx()));
        }
    }

    for (name, theirs_addr) in [("From", theirs.from()), ("To", theirs.to())] {
        let Some(t) = theirs_addr else { continue };
        if !once(name)
            || ours
                .fields_named(name)
                .any(|f| std::str::from_utf8(&f.raw_value).is_err())
        {
            // M1, and M3: octets that are not UTF-8 in an address (RFC 6532 §3.2 allows
            // UTF-8 only): we decode them lossily, mail-parser drops the list.
            continue;
        }
        let list = ours.addresses(name);
        // M9: obsolete syntax (RFC 5322 §4.4, e.g. obs-local-part `"a b".c@d`), which
        // mail-parser reads differently (it drops the quoted word).
        if !list.errors.is_empty() || list.obsolete {
            continue;
        }
        // M10: a domain literal holding specials (`[1From:st>, 27.0.0.1]`: ">" and "," are
        // dtext, RFC 5322 §3.4.1); mail-parser ends the address at the ">".
        // M12: a quoted-string local part (`"Joe Q. Public" @x`, RFC 5322 §3.4.1), which
        // mail-parser takes for a display name.
        // M13 too: folding white space right after the "@" (`a@\r\n b.test`): CFWS before the
        // domain (RFC 5322 §3.4.1); mail-parser loses the domain.
        let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
        let quoted_local = ours.fields_named(name).any(|f| {
            let v = &f.raw_value;
            v.iter().enumerate().any(|(i, &b)| {
                (b == b'"' && v[i + 1..].iter().find(|&&c| c != b' ' && c != b'\t') == Some(&b'@'))
                    || (b == b'@' && v.get(i + 1).is_some_and(ws))
            })
        });
        if quoted_local
            || list
                .mailboxes()
                .any(|m| m.domain.starts_with('[') || m.local_part_quoted().starts_with('"'))
        {
            continue;
        }
        if odd_field(&ours, name) {
            continue;
        }
        let ours_specs: Vec<String> = list.mailboxes().map(|m| m.addr_spec().to_ascii_lowercase()).collect();
        let theirs_specs: Vec<String> = match t {
            mail_parser::Address::List(l) => l
                .iter()
                .filter_map(|a| a.address.as_deref())
                .map(str::to_ascii_lowercase)
                .collect(),
            mail_parser::Address::Group(g) => g
                .iter()
                .flat_map(|g| g.addresses.iter())
                .filter_map(|a| a.address.as_deref())
                .map(str::to_ascii_lowercase)
                .collect(),
        };
        // M13: CFWS around the local part (`<oe @x>`, RFC 5322 §3.4.1 dot-atom = [CFWS]
        // dot-atom-text [CFWS]) is not part of it; mail-parser keeps the space.
        let theirs_specs: Vec<String> = theirs_specs
            .iter()
            .map(|s| s.chars().filter(|c| !c.is_whitespace()).collect())
            .collect();
        if !ours_specs.is_empty() && ours_specs != theirs_specs {
            disagree(None, "addresses", || {
                format!("{name}: ours {ours_specs:?} theirs {theirs_specs:?} ({})", ctx())
            });
        }
    }
}

/// M5: comments (RFC 5322 §3.2.2, e.g. Appendix A.5), which mail-parser misreads in some
/// places (a quoted-pair ")" inside a comment, a comment after a msg-id); M7: a CR that is not
/// part of CRLF (RFC 5322 §2.2), which makes the address a syntax error for us (F9, fixed) and
/// mail-parser keeps; M11.
fn odd_field(msg: &wirecheck_message::Message, name: &str) -> bool {
    msg.fields_named(name).any(|f| {
        let v = &f.raw_value;
        // M11: the field is the end of the input, without its CRLF (RFC 5322 §2.2 ends
        // every field with CRLF); we read it whole, mail-parser drops its last element.
        let unterminated = !msg.bytes(&f.range).ends_with(b"\n");
        unterminated
            || v.contains(&b'(')
            || v.iter()
                .enumerate()
                .any(|(i, &b)| b == b'\r' && v.get(i + 1) != Some(&b'\n'))
    })
}

/// mail-parser's reading of `data`. X1: mail-parser 0.11.9 panics on some malformed
/// multiparts ("Invalid part ID, could not find multipart.", `parsers/message.rs:485`);
/// that is its bug, recorded and skipped here.
fn mail_parser_parse(data: &[u8]) -> Option<mail_parser::Message<'_>> {
    // libfuzzer-sys's panic hook aborts the process: silence it around the call.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = std::panic::catch_unwind(|| mail_parser::MessageParser::default().parse(data));
    std::panic::set_hook(hook);
    r.unwrap_or_else(|_| {
        disagree(Some("mail-parser-panics"), "mail-parser panics", String::new);
        None
    })
}

/// Subject disagreements recorded in `docs/fuzzing.md`.
fn known_subject_class(msg: &wirecheck_message::Message) -> Option<&'static str> {
    let raw = msg.field("Subject").map(|f| f.unfolded()).unwrap_or_default();
    let b = raw.as_bytes();
    // M16: B encoded text that is no whole base64 (`=?ISO-8859-1?B?cm?=`, RFC 2047 §4.1 /
    // RFC 2045 §6.8): a malformed word, which we show as it is (RFC 2047 §6.3, F12 fixed);
    // mail-parser decodes the whole quanta in it ("" here, "foo" for `Zm9vYg`).
    let partial_b = raw.split_whitespace().any(|w| {
        let b_word = w.split('?').nth(2).is_some_and(|e| e.eq_ignore_ascii_case("B"));
        b_word && encoded_word::decode_word(w) == Err(encoded_word::EncodedWordError::InvalidBase64)
    });
    if partial_b {
        return Some("partial-base64-word");
    }
    let lwsp = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    // M2: RFC 2047 §5 (1): an encoded-word is separated from adjacent text by linear white
    // space; mail-parser decodes one glued to other characters, we keep it as text.
    let glued = b.windows(2).enumerate().any(|(i, w)| {
        (w == b"=?" && i > 0 && !lwsp(b[i - 1])) || (w == b"?=" && b.get(i + 2).is_some_and(|&c| !lwsp(c)))
    });
    // M2 too: a word that looks like an encoded word but is not one by RFC 2047 §2 (a space
    // or an especial in the charset, an unknown encoding, bad base64 / Q text); mail-parser
    // decodes some of them, we show them as they are (§6.3).
    let malformed = raw
        .split_whitespace()
        .any(|w| w.contains("=?") && encoded_word::decode_word(w).is_err());
    (glued || malformed).then_some("encoded-word-not-rfc2047")
}
