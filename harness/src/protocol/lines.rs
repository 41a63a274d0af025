//! CRLF lines as units: what a client sends us in the server role, and the `line`
//! protocol (any line-based service, one line per unit; also what the harness's own tests
//! use before a protocol's codec exists).

use super::{FrameError, Framer, Limits, Protocol, Transport, Unit, UnitLine, split_line};
use crate::transcript::Style;

/// The `line` protocol: every CRLF-terminated line is one unit, matched whole.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lines;

impl Protocol for Lines {
    fn name(&self) -> &'static str {
        "line"
    }
    fn style(&self) -> Style {
        Style::Whole
    }
    fn reply_framer(&self, _transport: Transport) -> Result<Box<dyn Framer>, FrameError> {
        Ok(Box::new(LineFramer::new()))
    }
}

/// Frames one CRLF line per unit; a line longer than the cap is an error.
#[derive(Debug, Default)]
pub struct LineFramer;

impl LineFramer {
    /// A new framer.
    pub fn new() -> Self {
        LineFramer
    }
}

/// A unit holding one line.
pub(crate) fn line_unit(line: &[u8], raw: &[u8]) -> Unit {
    Unit {
        raw: raw.to_vec(),
        text: line.to_vec(),
        subject: line.to_vec(),
        lines: vec![UnitLine {
            wire: line.to_vec(),
            text: line.to_vec(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

impl Framer for LineFramer {
    fn decode(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<(usize, Unit)>, FrameError> {
        match split_line(buf) {
            Some((line, _)) if line.len() > limits.max_line => Err(too_long(limits)),
            Some((line, used)) => Ok(Some((used, line_unit(line, &buf[..used])))),
            None if buf.len() > limits.max_line + 1 => Err(too_long(limits)),
            None => Ok(None),
        }
    }

    fn decode_datagram(&mut self, datagram: &[u8], _limits: &Limits) -> Result<Unit, FrameError> {
        let line = datagram.strip_suffix(b"\r\n").unwrap_or(datagram);
        Ok(line_unit(line, datagram))
    }
}

fn too_long(limits: &Limits) -> FrameError {
    FrameError::TooLarge(format!(
        "line longer than {} bytes (--max-line)",
        limits.max_line
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_crlf_lines_only() {
        let mut f = LineFramer::new();
        let l = Limits::default();
        assert_eq!(
            f.decode(b"EHLO a\nx", &l).unwrap(),
            None,
            "bare LF does not end a line"
        );
        let (n, u) = f.decode(b"EHLO a\r\nQUIT\r\n", &l).unwrap().unwrap();
        assert_eq!((n, u.text.as_slice()), (8, &b"EHLO a"[..]));
    }

    #[test]
    fn over_long_lines_are_errors_even_unterminated() {
        let mut f = LineFramer::new();
        let l = Limits {
            max_line: 4,
            max_reply: 100,
        };
        assert!(f.decode(b"0123456789", &l).is_err());
        assert!(f.decode(b"01234\r\n", &l).is_err());
        assert!(f.decode(b"0123\r\n", &l).unwrap().is_some());
    }
}
