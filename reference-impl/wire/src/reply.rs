//! Bounded framing of coded replies, the part SMTP (RFC 5321 §4.2) and FTP (RFC 959 §4.2)
//! share: a reply is one or more lines, each ended by CRLF, and a decoder that reads a peer's
//! replies must bound both a line's length and the number of lines, or a peer that never ends
//! a line (or a multi-line reply) makes it hold unbounded memory.
//!
//! [`ReplyLines`] takes the lines of one reply off the front of a buffer within
//! [`ReplyLimits`]. What a line must look like, and which line ends a reply, differ between
//! the protocols and stay in each codec: RFC 959 §4.2 lets the middle lines of an FTP reply be
//! anything, RFC 5321 §4.2.1 wants the code on every SMTP line.

use crate::line::find_crlf;

/// Bounds on one reply, so a peer that never ends a line or a multi-line reply cannot make
/// the decoder hold unbounded memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    /// Longest line, in octets, without its CRLF.
    pub max_line: usize,
    /// Most lines in one (multi-line) reply.
    pub max_lines: usize,
}

impl Default for ReplyLimits {
    /// 64 KiB per line, 1000 lines: far above RFC 5321 §4.5.3.1.5 (512 octets per reply
    /// line) so a harness sees real servers' over-long replies, yet bounded.
    fn default() -> Self {
        ReplyLimits {
            max_line: 64 * 1024,
            max_lines: 1000,
        }
    }
}

/// What ends a reply line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    /// The first CRLF; a lone CR or LF is part of the line (what an FTP client accepts).
    Crlf,
    /// The first LF, which must follow a CR. RFC 5321 §2.3.8: CR and LF "MUST NOT" be sent
    /// except as the CRLF line terminator, so a bare LF is [`ReplyLinesError::BareLf`].
    StrictCrlf,
}

/// Why the next line of a reply cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyLinesError {
    /// A line is longer than [`ReplyLimits::max_line`], or the buffer holds more than that
    /// without a line end.
    #[error("reply line longer than {max} octets")]
    LineTooLong {
        /// The limit that was exceeded.
        max: usize,
    },
    /// A line after [`ReplyLimits::max_lines`] lines arrived.
    #[error("reply has more than {max} lines")]
    TooManyLines {
        /// The limit that was exceeded.
        max: usize,
    },
    /// With [`LineEnd::StrictCrlf`]: a line ends in a bare LF.
    #[error("reply line ends in a bare LF")]
    BareLf {
        /// The line before the LF, at most [`ReplyLimits::max_line`] octets of it.
        line: Vec<u8>,
    },
}

/// What the front of the rest of the buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyLine<'a> {
    /// A complete line, without its line end; the scan has moved past it.
    Complete(&'a [u8]),
    /// The start of a line whose end has not arrived (within the limit so far): the caller
    /// may reject it early by its first bytes, else it needs more input.
    Partial(&'a [u8]),
}

/// The lines of one reply, taken one at a time from the front of a buffer within
/// [`ReplyLimits`].
///
/// ```
/// use wirecheck_wire::{LineEnd, ReplyLimits, ReplyLine, ReplyLines};
/// let mut lines = ReplyLines::new(b"250-a\r\n250 b\r\n220", &ReplyLimits::default(), LineEnd::StrictCrlf);
/// assert_eq!(lines.next_line(), Ok(ReplyLine::Complete(&b"250-a"[..])));
/// assert_eq!(lines.next_line(), Ok(ReplyLine::Complete(&b"250 b"[..])));
/// assert_eq!(lines.consumed(), 14);
/// assert_eq!(lines.next_line(), Ok(ReplyLine::Partial(&b"220"[..])));
/// ```
#[derive(Debug, Clone)]
pub struct ReplyLines<'a> {
    buf: &'a [u8],
    pos: usize,
    count: usize,
    limits: ReplyLimits,
    end: LineEnd,
}

impl<'a> ReplyLines<'a> {
    /// Scan `buf` from its start.
    pub fn new(buf: &'a [u8], limits: &ReplyLimits, end: LineEnd) -> Self {
        ReplyLines {
            buf,
            pos: 0,
            count: 0,
            limits: *limits,
            end,
        }
    }

    /// The next line, or the partial line at the end of the buffer.
    ///
    /// Fails as soon as the bytes cannot become a line within [`ReplyLimits::max_line`]
    /// (without waiting for the line end), or when a complete line arrives after
    /// [`ReplyLimits::max_lines`] lines (the first line is always taken). A length error wins
    /// over a count error. After an error the scan should be dropped.
    pub fn next_line(&mut self) -> Result<ReplyLine<'a>, ReplyLinesError> {
        let max_line = self.limits.max_line;
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let found = match self.end {
            LineEnd::Crlf => find_crlf(rest).map(|i| (i, i + 2)),
            LineEnd::StrictCrlf => rest.iter().position(|&b| b == b'\n').map(|lf| (lf, lf + 1)),
        };
        let Some((end, next)) = found else {
            // A trailing CR may be half of the CRLF: it does not count.
            if rest.strip_suffix(b"\r").unwrap_or(rest).len() > max_line {
                return Err(ReplyLinesError::LineTooLong { max: max_line });
            }
            return Ok(ReplyLine::Partial(rest));
        };
        let mut line = rest.get(..end).unwrap_or_default();
        if self.end == LineEnd::StrictCrlf {
            match line.strip_suffix(b"\r") {
                Some(l) => line = l,
                None => {
                    let shown = line.get(..line.len().min(max_line)).unwrap_or_default();
                    return Err(ReplyLinesError::BareLf {
                        line: shown.to_vec(),
                    });
                }
            }
        }
        if line.len() > max_line {
            return Err(ReplyLinesError::LineTooLong { max: max_line });
        }
        if self.count > 0 && self.is_full() {
            return Err(ReplyLinesError::TooManyLines {
                max: self.limits.max_lines,
            });
        }
        self.count += 1;
        self.pos += next;
        Ok(ReplyLine::Complete(line))
    }

    /// True when [`ReplyLimits::max_lines`] lines have been taken: a reply that still needs
    /// a line cannot end within bounds.
    pub fn is_full(&self) -> bool {
        self.count >= self.limits.max_lines
    }

    /// How many complete lines have been taken.
    pub fn count(&self) -> usize {
        self.count
    }

    /// How many bytes the complete lines took, line ends included.
    pub fn consumed(&self) -> usize {
        self.pos
    }

    /// The bytes of the complete lines, exactly as they were in the buffer.
    pub fn raw(&self) -> &'a [u8] {
        self.buf.get(..self.pos).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim(max_line: usize, max_lines: usize) -> ReplyLimits {
        ReplyLimits {
            max_line,
            max_lines,
        }
    }

    #[test]
    fn takes_lines_then_the_partial_rest() {
        let mut s = ReplyLines::new(b"a\r\nbc\r\nd", &ReplyLimits::default(), LineEnd::Crlf);
        assert_eq!(s.next_line(), Ok(ReplyLine::Complete(&b"a"[..])));
        assert_eq!(s.next_line(), Ok(ReplyLine::Complete(&b"bc"[..])));
        assert_eq!(
            (s.count(), s.consumed(), s.raw()),
            (2, 7, &b"a\r\nbc\r\n"[..])
        );
        assert_eq!(s.next_line(), Ok(ReplyLine::Partial(&b"d"[..])));
        assert_eq!(s.consumed(), 7);
    }

    #[test]
    fn crlf_keeps_lone_cr_and_lf_in_the_line() {
        let mut s = ReplyLines::new(b"a\nb\rc\r\n", &ReplyLimits::default(), LineEnd::Crlf);
        assert_eq!(s.next_line(), Ok(ReplyLine::Complete(&b"a\nb\rc"[..])));
    }

    #[test]
    fn strict_crlf_refuses_a_bare_lf_at_once() {
        let mut s = ReplyLines::new(b"250 ok\nmore", &lim(4, 10), LineEnd::StrictCrlf);
        assert_eq!(
            s.next_line(),
            Err(ReplyLinesError::BareLf {
                line: b"250 ".to_vec()
            })
        );
        let mut s = ReplyLines::new(b"250 ok\r\n", &lim(10, 10), LineEnd::StrictCrlf);
        assert_eq!(s.next_line(), Ok(ReplyLine::Complete(&b"250 ok"[..])));
    }

    #[test]
    fn too_long_without_waiting_for_the_line_end() {
        for end in [LineEnd::Crlf, LineEnd::StrictCrlf] {
            let l = lim(4, 10);
            assert_eq!(
                ReplyLines::new(b"abcd", &l, end).next_line(),
                Ok(ReplyLine::Partial(&b"abcd"[..]))
            );
            assert_eq!(
                ReplyLines::new(b"abcd\r", &l, end).next_line(),
                Ok(ReplyLine::Partial(&b"abcd\r"[..]))
            );
            let too_long = Err(ReplyLinesError::LineTooLong { max: 4 });
            assert_eq!(ReplyLines::new(b"abcde", &l, end).next_line(), too_long);
            assert_eq!(ReplyLines::new(b"abcde\r\n", &l, end).next_line(), too_long);
            assert_eq!(
                ReplyLines::new(b"abcd\r\n", &l, end).next_line(),
                Ok(ReplyLine::Complete(&b"abcd"[..]))
            );
        }
    }

    #[test]
    fn a_complete_line_past_max_lines_is_too_many() {
        let mut s = ReplyLines::new(b"a\r\nb\r\nc\r\nd", &lim(10, 2), LineEnd::Crlf);
        assert!(!s.is_full());
        assert!(s.next_line().is_ok());
        assert!(s.next_line().is_ok());
        assert!(s.is_full());
        assert_eq!(s.next_line(), Err(ReplyLinesError::TooManyLines { max: 2 }));
        // A partial line past the limit is not (yet) an error.
        let mut s = ReplyLines::new(b"a\r\nb\r\nc", &lim(10, 2), LineEnd::Crlf);
        let _ = (s.next_line(), s.next_line());
        assert_eq!(s.next_line(), Ok(ReplyLine::Partial(&b"c"[..])));
        // The first line is always taken; a length error wins over the count.
        let mut s = ReplyLines::new(b"a\r\nbcd\r\n", &lim(2, 0), LineEnd::Crlf);
        assert!(s.next_line().is_ok());
        assert_eq!(s.next_line(), Err(ReplyLinesError::LineTooLong { max: 2 }));
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let alphabet = b"a\r\n";
            let bytes: Vec<u8> = (0..len)
                .map(|i| alphabet[((seed >> (i % 56)) as usize + i) % alphabet.len()])
                .collect();
            for end in [LineEnd::Crlf, LineEnd::StrictCrlf] {
                let mut s = ReplyLines::new(&bytes, &lim(4, 3), end);
                for _ in 0..=bytes.len() {
                    match s.next_line() {
                        Ok(ReplyLine::Complete(l)) => assert!(l.len() <= 4),
                        _ => break,
                    }
                }
                assert!(s.consumed() <= bytes.len() && s.count() <= 3);
            }
        }
    }
}
