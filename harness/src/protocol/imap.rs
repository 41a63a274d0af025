//! IMAP responses (RFC 9051 §2.2.2, §7), framed by `wirecheck_imap::codec::decode_response`:
//! one untagged, continuation or tagged response, literals included.

use wirecheck_imap::codec::{ResponseKind, ResponseLimits, Status as ImapStatus, decode_response};

use super::{FrameError, Framer, Limits, Protocol, Transport, Unit, UnitKind, UnitLine};
use crate::transcript::Style;

/// The IMAP adapter.
#[derive(Debug, Clone, Copy)]
pub struct Imap;

impl Protocol for Imap {
    fn name(&self) -> &'static str {
        "imap"
    }
    fn style(&self) -> Style {
        Style::Whole
    }
    fn reply_framer(&self, _transport: Transport) -> Result<Box<dyn Framer>, FrameError> {
        Ok(Box::new(ImapFramer))
    }
}

struct ImapFramer;

impl Framer for ImapFramer {
    fn decode(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<(usize, Unit)>, FrameError> {
        let rl = ResponseLimits {
            max_line: limits.max_line,
            max_literal: limits.max_reply as u64,
            max_total: limits.max_reply,
        };
        match decode_response(buf, &rl) {
            Ok(None) => Ok(None),
            Ok(Some((used, r))) => {
                let body = r.raw.strip_suffix(b"\r\n").unwrap_or(&r.raw);
                let text = normalise_status(body, r.status);
                let lines = split_crlf(&text)
                    .into_iter()
                    .map(|l| UnitLine {
                        wire: l.to_vec(),
                        text: l.to_vec(),
                        ..Default::default()
                    })
                    .collect();
                let kind = match &r.kind {
                    ResponseKind::Untagged => UnitKind::Untagged,
                    ResponseKind::Continuation => UnitKind::Continuation,
                    ResponseKind::Tagged(t) => UnitKind::Tagged(t.clone()),
                };
                let not_implemented = matches!(kind, UnitKind::Tagged(_))
                    && matches!(r.status, Some(ImapStatus::Bad | ImapStatus::No));
                Ok(Some((
                    used,
                    Unit {
                        raw: r.raw.clone(),
                        subject: text.clone(),
                        text,
                        lines,
                        kind,
                        not_implemented,
                        ..Default::default()
                    },
                )))
            }
            Err(e) => {
                let reason = e.to_string();
                if reason.contains("longer than")
                    || reason.contains("exceeds")
                    || reason.contains("larger than")
                {
                    Err(FrameError::TooLarge(reason))
                } else {
                    Err(FrameError::Malformed {
                        protocol: "imap",
                        reason,
                    })
                }
            }
        }
    }
}

/// The status keyword in upper case (`a1 ok done` → `a1 OK done`): the codec recognises it
/// case-insensitively, patterns are written upper case.
fn normalise_status(body: &[u8], status: Option<ImapStatus>) -> Vec<u8> {
    let mut text = body.to_vec();
    let Some(st) = status else { return text };
    let Some(sp) = text.iter().position(|&b| b == b' ') else {
        return text;
    };
    let word = st.as_str().as_bytes();
    let start = sp + 1;
    if let Some(w) = text.get_mut(start..start + word.len())
        && w.eq_ignore_ascii_case(word)
    {
        w.copy_from_slice(word);
    }
    text
}

fn split_crlf(b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = b;
    while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
        out.push(&rest[..i]);
        rest = &rest[i + 2..];
    }
    out.push(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_inlined_and_kinds() {
        let mut f = ImapFramer;
        let wire = b"* 1 FETCH (BODY[] {5}\r\nhello)\r\na1 ok done\r\n";
        let (used, u) = f.decode(wire, &Limits::default()).unwrap().unwrap();
        assert_eq!(u.kind, UnitKind::Untagged);
        assert_eq!(u.text, b"* 1 FETCH (BODY[] {5}\r\nhello)");
        assert_eq!(u.lines.len(), 2);
        let (_, u) = f
            .decode(&wire[used..], &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(u.kind, UnitKind::Tagged("a1".into()));
        assert_eq!(u.text, b"a1 OK done", "status keyword normalised");
        assert!(!u.not_implemented);
        let (_, u) = f
            .decode(b"a2 BAD unknown command\r\n", &Limits::default())
            .unwrap()
            .unwrap();
        assert!(u.not_implemented);
    }
}
