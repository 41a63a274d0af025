//! Bounded CRLF line framing.

/// What [`LineBuffer::next_line`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineEvent {
    /// A complete line, without its terminating CRLF. Bare CR and bare LF inside it are kept
    /// as they are: only CRLF ends a line (RFC 5321 §2.3.8), and the protocol codec decides
    /// what a bare LF means.
    Line(Vec<u8>),
    /// A line grew past the limit. Its bytes up to and including the next CRLF are discarded
    /// (the buffer does that by itself); the session answers with the protocol's
    /// "line too long" reply once, here.
    TooLong,
}

/// A receive buffer that frames CRLF-terminated lines and never holds more than
/// `max_line` bytes of an unterminated line.
#[derive(Debug, Clone)]
pub struct LineBuffer {
    buf: Vec<u8>,
    max_line: usize,
    /// Inside an over-long line: drop bytes until the next CRLF.
    discarding: bool,
    /// The last byte dropped while discarding was CR (a CRLF may straddle two pushes).
    discard_cr: bool,
    /// `TooLong` still to be reported once the buffer is drained up to this offset
    /// (the complete lines before the cut line come first).
    too_long_at: Option<usize>,
}

impl LineBuffer {
    /// A buffer whose lines (without CRLF) may be at most `max_line` bytes long.
    pub fn new(max_line: usize) -> Self {
        LineBuffer {
            buf: Vec::new(),
            max_line: max_line.max(1),
            discarding: false,
            discard_cr: false,
            too_long_at: None,
        }
    }

    /// The line limit.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// Change the line limit (e.g. a larger one inside SMTP DATA, RFC 5321 §4.5.3.1.6).
    pub fn set_max_line(&mut self, max_line: usize) {
        self.max_line = max_line.max(1);
    }

    /// Append bytes received from the peer.
    pub fn push(&mut self, mut data: &[u8]) {
        if self.discarding {
            // Drop everything up to and including the next CRLF.
            if self.discard_cr && data.first() == Some(&b'\n') {
                self.discarding = false;
                self.discard_cr = false;
                data = &data[1..];
            } else {
                match find_crlf(data) {
                    Some(i) => {
                        self.discarding = false;
                        self.discard_cr = false;
                        data = &data[i + 2..];
                    }
                    None => {
                        self.discard_cr = data.last() == Some(&b'\r');
                        return;
                    }
                }
            }
        }
        self.buf.extend_from_slice(data);
        // Enforce the bound on the unterminated tail right away so memory stays bounded
        // even when the caller pushes without draining.
        self.bound_tail();
    }

    fn bound_tail(&mut self) {
        // Only the part after the last CRLF can be an unterminated line.
        let tail_start = rfind_crlf(&self.buf).map_or(0, |i| i + 2);
        let tail_len = self.buf.len() - tail_start;
        // +1: a trailing CR may be the first half of the terminator.
        if tail_len > self.max_line + 1 {
            let keep_cr = self.buf.last() == Some(&b'\r');
            self.buf.truncate(tail_start);
            self.discarding = true;
            self.discard_cr = keep_cr;
            self.too_long_at = Some(tail_start);
        }
    }

    /// The next complete line, `TooLong` for a line that was cut, or `None` when more bytes
    /// are needed.
    pub fn next_line(&mut self) -> Option<LineEvent> {
        if self.too_long_at == Some(0) {
            self.too_long_at = None;
            return Some(LineEvent::TooLong);
        }
        match find_crlf(&self.buf) {
            Some(i) => {
                self.consumed(i + 2);
                if i > self.max_line {
                    self.buf.drain(..i + 2);
                    return Some(LineEvent::TooLong);
                }
                let line = self.buf[..i].to_vec();
                self.buf.drain(..i + 2);
                Some(LineEvent::Line(line))
            }
            None => None,
        }
    }

    fn consumed(&mut self, n: usize) {
        if let Some(p) = self.too_long_at.as_mut() {
            *p = p.saturating_sub(n);
        }
    }

    /// Take up to `n` raw bytes (an IMAP literal, a `BDAT` chunk), whatever they contain.
    pub fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.buf.len());
        self.consumed(n);
        self.buf.drain(..n).collect()
    }

    /// Bytes buffered and not yet taken.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Number of bytes buffered.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Forget everything buffered: what a client sent after `STARTTLS` and before the
    /// handshake must not be acted on (RFC 3207 §4.2, the command-injection attack).
    pub fn clear(&mut self) {
        self.buf.clear();
        self.discarding = false;
        self.discard_cr = false;
        self.too_long_at = None;
    }
}

/// Position of the first CRLF in `b`.
pub(crate) fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

fn rfind_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).rposition(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &[u8]) -> Option<LineEvent> {
        Some(LineEvent::Line(s.to_vec()))
    }

    #[test]
    fn frames_lines_across_pushes() {
        let mut b = LineBuffer::new(100);
        b.push(b"HELO a\r");
        assert_eq!(b.next_line(), None);
        b.push(b"\nNOOP\r\nQU");
        assert_eq!(b.next_line(), line(b"HELO a"));
        assert_eq!(b.next_line(), line(b"NOOP"));
        assert_eq!(b.next_line(), None);
        assert_eq!(b.buffered(), b"QU");
    }

    #[test]
    fn bare_lf_does_not_end_a_line() {
        let mut b = LineBuffer::new(100);
        b.push(b"a\nb\r\n");
        assert_eq!(b.next_line(), line(b"a\nb"));
    }

    #[test]
    fn over_long_line_is_reported_once_and_discarded_to_crlf() {
        let mut b = LineBuffer::new(4);
        b.push(b"0123456789");
        assert_eq!(b.len(), 0, "memory stays bounded");
        b.push(b"abc\r");
        b.push(b"\nNOOP\r\n");
        assert_eq!(b.next_line(), Some(LineEvent::TooLong));
        assert_eq!(b.next_line(), line(b"NOOP"));
        assert_eq!(b.next_line(), None);
    }

    #[test]
    fn over_long_line_in_one_push_with_terminator() {
        let mut b = LineBuffer::new(4);
        b.push(b"0123456\r\nok\r\n");
        assert_eq!(b.next_line(), Some(LineEvent::TooLong));
        assert_eq!(b.next_line(), line(b"ok"));
    }

    #[test]
    fn complete_lines_before_a_cut_line_come_first() {
        let mut b = LineBuffer::new(4);
        b.push(b"ab\r\n0123456789");
        b.push(b"\r\ncd\r\n");
        assert_eq!(b.next_line(), line(b"ab"));
        assert_eq!(b.next_line(), Some(LineEvent::TooLong));
        assert_eq!(b.next_line(), line(b"cd"));
    }

    #[test]
    fn line_of_exactly_max_is_accepted() {
        let mut b = LineBuffer::new(4);
        b.push(b"0123\r\n");
        assert_eq!(b.next_line(), line(b"0123"));
    }

    #[test]
    fn take_and_clear() {
        let mut b = LineBuffer::new(10);
        b.push(b"abcdef");
        assert_eq!(b.take(2), b"ab");
        assert_eq!(b.take(100), b"cdef");
        b.push(b"x\r\ny");
        b.clear();
        assert!(b.is_empty());
        assert_eq!(b.next_line(), None);
    }
}
