//! POP3 responses (RFC 1939 §3): a status line, and for the commands that have one, the
//! dot-terminated, byte-stuffed body. Framed by `wirecheck_pop3::codec`: `decode_status`,
//! `decode_body`, and `response_is_multiline` to know which commands have a body.
//!
//! The framer remembers the command lines written on its connection, oldest first, so
//! each status line is paired with the command it answers (the first one is the greeting).

use std::collections::VecDeque;

use wirecheck_pop3::codec::{
    BodyLimits, ResponseError, StatusKind, decode_body, decode_status, response_is_multiline,
};

use super::{FrameError, Framer, Limits, Protocol, Status, Transport, Unit, UnitLine, split_line};
use crate::transcript::Style;

/// Command lines remembered at most (a transcript never pipelines more).
const MAX_PENDING: usize = 10_000;

/// The POP3 adapter.
#[derive(Debug, Clone, Copy)]
pub struct Pop3;

impl Protocol for Pop3 {
    fn name(&self) -> &'static str {
        "pop3"
    }
    fn style(&self) -> Style {
        Style::Status
    }
    fn reply_framer(&self, _transport: Transport) -> Result<Box<dyn Framer>, FrameError> {
        Ok(Box::new(Pop3Framer {
            greeting: true,
            pending: VecDeque::new(),
            partial: Vec::new(),
        }))
    }
}

struct Pop3Framer {
    /// The next status line is the greeting (RFC 1939 §4).
    greeting: bool,
    /// Command lines sent and not answered yet.
    pending: VecDeque<Vec<u8>>,
    /// A command line sent in pieces (`C>` split writes).
    partial: Vec<u8>,
}

fn frame_error(e: ResponseError) -> FrameError {
    match e {
        e @ (ResponseError::LineTooLong { .. } | ResponseError::BodyTooLarge { .. }) => {
            FrameError::TooLarge(e.to_string())
        }
        e => FrameError::Malformed {
            protocol: "pop3",
            reason: e.to_string(),
        },
    }
}

impl Framer for Pop3Framer {
    fn sent(&mut self, data: &[u8]) {
        self.partial.extend_from_slice(data);
        while let Some((line, used)) = split_line(&self.partial) {
            if self.pending.len() < MAX_PENDING {
                self.pending.push_back(line.to_vec());
            }
            self.partial.drain(..used);
        }
        if self.partial.len() > 64 * 1024 {
            self.partial.clear();
        }
    }

    fn decode(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<(usize, Unit)>, FrameError> {
        let Some((used, status)) = decode_status(buf, limits.max_line).map_err(frame_error)? else {
            return Ok(None);
        };
        let answers = if self.greeting {
            None
        } else {
            self.pending.front()
        };
        let multiline =
            status.kind == StatusKind::Ok && answers.is_some_and(|c| response_is_multiline(c));
        let body = if multiline {
            let bl = BodyLimits {
                max_line: limits.max_line,
                max_total: limits.max_reply,
            };
            match decode_body(buf.get(used..).unwrap_or_default(), &bl).map_err(frame_error)? {
                Some(b) => Some(b),
                None => return Ok(None),
            }
        } else {
            None
        };
        // The whole unit is here: now it answers its command.
        if self.greeting {
            self.greeting = false;
        } else {
            self.pending.pop_front();
        }
        let kind = match status.kind {
            StatusKind::Ok => Status::Ok,
            StatusKind::Err => Status::Err,
            StatusKind::Continuation => Status::Continuation,
        };
        let wire = status
            .raw
            .strip_suffix(b"\r\n")
            .unwrap_or(&status.raw)
            .to_vec();
        let mut text = wire.clone();
        let mut lines = vec![UnitLine {
            wire,
            code: None,
            text: status.text.clone(),
            status: Some(kind),
        }];
        let mut unit = Unit {
            raw: status.raw.clone(),
            subject: status.text.clone(),
            status: Some(kind),
            not_implemented: kind == Status::Err,
            ..Unit::default()
        };
        let mut total = used;
        if let Some((n, b)) = body {
            total += n;
            unit.raw.extend_from_slice(&b.raw);
            let mut crlf = Vec::with_capacity(b.raw.len());
            for l in &b.lines {
                text.push(b'\n');
                text.extend_from_slice(l);
                crlf.extend_from_slice(l);
                crlf.extend_from_slice(b"\r\n");
                lines.push(UnitLine {
                    wire: l.clone(),
                    text: l.clone(),
                    ..UnitLine::default()
                });
            }
            // RFC 1939 §3: a body line that begins with the termination octet is stuffed.
            unit.violations = b
                .violations
                .iter()
                .map(|v| {
                    format!(
                        "body line {} starts with a single \".\" but is not the terminator (not byte-stuffed, RFC 1939 §3): {}",
                        v.line + 1,
                        wirecheck_reports::escape_bytes(&v.raw)
                    )
                })
                .collect();
            unit.body = Some(crlf);
        }
        unit.text = text;
        unit.lines = lines;
        Ok(Some((total, unit)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framer() -> Pop3Framer {
        Pop3Framer {
            greeting: true,
            pending: VecDeque::new(),
            partial: Vec::new(),
        }
    }

    #[test]
    fn greeting_then_multi_line_list() {
        let mut f = framer();
        let l = Limits::default();
        let (n, u) = f.decode(b"+OK POP3 ready\r\n", &l).unwrap().unwrap();
        assert_eq!(
            (n, u.status, u.subject.as_slice()),
            (16, Some(Status::Ok), &b"POP3 ready"[..])
        );
        f.sent(b"LIST\r\nSTAT\r\n");
        let wire = b"+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n+OK 2 320\r\n";
        assert_eq!(
            f.decode(&wire[..25], &l).unwrap(),
            None,
            "the body is not complete yet"
        );
        let (n, u) = f.decode(wire, &l).unwrap().unwrap();
        assert_eq!(u.lines.len(), 3);
        assert_eq!(u.text, b"+OK 2 messages\n1 120\n2 200");
        assert_eq!(u.body.as_deref(), Some(&b"1 120\r\n2 200\r\n"[..]));
        let (_, u) = f.decode(&wire[n..], &l).unwrap().unwrap();
        assert_eq!(
            (u.subject.as_slice(), u.body.is_none()),
            (&b"2 320"[..], true)
        );
    }

    #[test]
    fn err_to_a_multi_line_command_has_no_body_and_stuffing_is_checked() {
        let mut f = framer();
        let l = Limits::default();
        f.decode(b"+OK hi\r\n", &l).unwrap().unwrap();
        f.sent(b"RE");
        f.sent(b"TR 9\r\nRETR 1\r\n");
        let (_, u) = f.decode(b"-ERR no such message\r\n", &l).unwrap().unwrap();
        assert!(u.not_implemented && u.body.is_none());
        let (_, u) = f
            .decode(b"+OK\r\n..stuffed\r\n.bad\r\n.\r\n", &l)
            .unwrap()
            .unwrap();
        assert_eq!(u.lines[1].wire, b".stuffed");
        assert_eq!(u.violations.len(), 1, "{:?}", u.violations);
    }

    #[test]
    fn malformed_and_too_long() {
        let mut f = framer();
        assert!(matches!(
            f.decode(b"220 smtp?\r\n", &Limits::default()),
            Err(FrameError::Malformed { .. })
        ));
        let small = Limits {
            max_line: 8,
            max_reply: 64,
        };
        assert!(matches!(
            framer().decode(b"+OK 0123456789", &small),
            Err(FrameError::TooLarge(_))
        ));
    }
}
