//! SMTP replies (RFC 5321 §4.2), framed by `wirecheck_smtp::codec::decode_reply`.

use wirecheck_smtp::codec::{ReplyError, ReplyLimits, decode_reply};

use super::{FrameError, Framer, Limits, Protocol, Transport, Unit, UnitLine};
use crate::transcript::Style;

/// The SMTP adapter.
#[derive(Debug, Clone, Copy)]
pub struct Smtp;

impl Protocol for Smtp {
    fn name(&self) -> &'static str {
        "smtp"
    }
    fn style(&self) -> Style {
        Style::Code
    }
    fn reply_framer(&self, _transport: Transport) -> Result<Box<dyn Framer>, FrameError> {
        Ok(Box::new(SmtpFramer))
    }
}

struct SmtpFramer;

impl Framer for SmtpFramer {
    fn decode(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<(usize, Unit)>, FrameError> {
        frame_coded_reply("smtp", buf, limits, decode_reply, |reply| {
            reply_unit(reply.code, &reply.lines, reply.raw)
        })
    }
}

/// A codec's reply error that says whether a bound (line length, line count) was hit.
pub(super) trait ReplyDecodeError: std::fmt::Display {
    /// True when the reply outgrew [`ReplyLimits`] rather than being malformed.
    fn exceeds_limits(&self) -> bool;
}

impl ReplyDecodeError for ReplyError {
    fn exceeds_limits(&self) -> bool {
        matches!(
            self,
            ReplyError::LineTooLong { .. } | ReplyError::TooManyLines { .. }
        )
    }
}

/// Frame one coded reply (SMTP RFC 5321 §4.2, FTP RFC 959 §4.2) with the protocol codec's
/// `decode_reply`: the harness's [`Limits`] become the codec's [`ReplyLimits`] (one type,
/// `wirecheck_wire::ReplyLimits`, for both), a bound that was hit becomes
/// [`FrameError::TooLarge`], any other error [`FrameError::Malformed`], and the reply a
/// [`Unit`] by `unit`.
pub(super) fn frame_coded_reply<R, E: ReplyDecodeError>(
    protocol: &'static str,
    buf: &[u8],
    limits: &Limits,
    decode: impl FnOnce(&[u8], &ReplyLimits) -> Result<Option<(usize, R)>, E>,
    unit: impl FnOnce(R) -> Unit,
) -> Result<Option<(usize, Unit)>, FrameError> {
    let rl = ReplyLimits {
        max_line: limits.max_line,
        max_lines: limits.max_lines(),
    };
    match decode(buf, &rl) {
        Ok(None) => Ok(None),
        Ok(Some((used, reply))) => Ok(Some((used, unit(reply)))),
        Err(e) if e.exceeds_limits() => Err(FrameError::TooLarge(e.to_string())),
        Err(e) => Err(FrameError::Malformed {
            protocol,
            reason: e.to_string(),
        }),
    }
}

/// A unit from a reply code and the lines' texts (after `NNN-`/`NNN `): shared with FTP.
pub(super) fn reply_unit(code: u16, texts: &[Vec<u8>], raw: Vec<u8>) -> Unit {
    let n = texts.len();
    let mut lines = Vec::with_capacity(n);
    for (i, t) in texts.iter().enumerate() {
        let mut wire = format!("{code:03}").into_bytes();
        if i + 1 < n {
            wire.push(b'-');
        } else if !t.is_empty() {
            wire.push(b' ');
        }
        wire.extend_from_slice(t);
        lines.push(UnitLine {
            wire,
            code: Some(code),
            text: t.clone(),
            status: None,
        });
    }
    coded_unit(code, lines, raw)
}

/// A unit from its lines; `text` joins the wire lines, `subject` the texts.
pub(super) fn coded_unit(code: u16, lines: Vec<UnitLine>, raw: Vec<u8>) -> Unit {
    Unit {
        raw,
        text: lines
            .iter()
            .map(|l| l.wire.as_slice())
            .collect::<Vec<_>>()
            .join(&b'\n'),
        subject: lines
            .iter()
            .map(|l| l.text.as_slice())
            .collect::<Vec<_>>()
            .join(&b'\n'),
        lines,
        code: Some(code),
        // RFC 5321 §4.2.4 / RFC 959 §4.2: 502 command not implemented, 504 parameter not
        // implemented.
        not_implemented: matches!(code, 502 | 504),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_reply_is_one_unit() {
        let mut f = SmtpFramer;
        let wire = b"250-mail.example.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n220 next";
        let (used, u) = f.decode(wire, &Limits::default()).unwrap().unwrap();
        assert_eq!(used, wire.len() - 8);
        assert_eq!(u.code, Some(250));
        assert_eq!(u.subject, b"mail.example.test\nPIPELINING\nSIZE 1000");
        assert_eq!(
            u.text,
            b"250-mail.example.test\n250-PIPELINING\n250 SIZE 1000"
        );
        assert_eq!(u.lines[1].wire, b"250-PIPELINING");
        assert_eq!(u.lines.len(), 3);
    }

    #[test]
    fn partial_and_malformed() {
        let mut f = SmtpFramer;
        assert_eq!(f.decode(b"250-a\r\n250", &Limits::default()).unwrap(), None);
        assert!(matches!(
            f.decode(b"hello\r\n", &Limits::default()),
            Err(FrameError::Malformed { .. })
        ));
        let small = Limits {
            max_line: 8,
            max_reply: 64,
        };
        assert!(matches!(
            f.decode(b"250 0123456789", &small),
            Err(FrameError::TooLarge(_))
        ));
        let endless = b"250-x\r\n".repeat(100);
        assert!(matches!(
            f.decode(&endless, &small),
            Err(FrameError::TooLarge(_))
        ));
    }

    // Regression: the limit error used to be recognised by the words "longer than" / "more
    // than" in its message, so a malformed line quoting those words was called too large.
    #[test]
    fn malformed_line_quoting_limit_words_is_malformed() {
        let mut f = SmtpFramer;
        for wire in [&b"hello, longer than\r\n"[..], b"more than that\r\n"] {
            assert!(matches!(
                f.decode(wire, &Limits::default()),
                Err(FrameError::Malformed {
                    protocol: "smtp",
                    ..
                })
            ));
        }
    }

    #[test]
    fn not_implemented_codes() {
        let mut f = SmtpFramer;
        let (_, u) = f
            .decode(b"502 5.5.1 no\r\n", &Limits::default())
            .unwrap()
            .unwrap();
        assert!(u.not_implemented);
    }
}
