//! Quoted-printable (RFC 2045 §6.7).
//!
//! [`encode`] follows the five encoding rules: `=XX` with upper-case hex (rule 1), literal
//! safe characters (rule 2), no SPACE or TAB at the end of an encoded line (rule 3), CRLF line
//! breaks kept as hard breaks in text mode (rule 4) and encoded as `=0D=0A` in binary mode
//! (the "warning to implementors"), soft line breaks so that no line passes 76 characters
//! (rule 5).
//!
//! [`decode`] never fails. It follows the robustness notes of §6.7: lower-case hex is
//! accepted (note 1), a bad `=` escape is kept as it is (notes 2 and 3), trailing white space
//! on a line is deleted as transport padding (rule 3), over-long lines are decoded (note 5).
//! Each repair is reported as a [`QpIssue`]. Control characters and octets above 126 (note 4)
//! are reported but kept in the output, so no data is silently lost.

use crate::issues::Issues;

/// RFC 2045 §6.7 rule 5: encoded lines are at most 76 characters, not counting CRLF.
pub const MAX_LINE_LEN: usize = 76;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// What the data is, for rule 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QpMode {
    /// Text in canonical form: CRLF is a line break and stays a hard line break; a CR or LF on
    /// its own is encoded.
    Text,
    /// Binary data: every CR and LF is encoded (`=0D`, `=0A`).
    Binary,
}

/// Something [`decode`] repaired or tolerated (RFC 2045 §6.7, notes 1-5). Offsets index the
/// encoded input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QpIssue {
    /// Note 1: `=` followed by hex digits, one of them lower case; decoded anyway.
    LowercaseHex { offset: usize },
    /// Notes 2 and 3: `=` not followed by two hex digits nor by a line break; kept literally.
    BadEscape { offset: usize },
    /// Note 4: a control character (other than TAB) or an octet above 126; kept.
    IllegalByte { offset: usize, byte: u8 },
    /// Note 5: an encoded line longer than 76 characters (1-based line number).
    LineTooLong { line: usize, len: usize },
}

/// The output of [`decode`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QpDecoded {
    pub data: Vec<u8>,
    /// What was repaired or skipped.
    pub issues: Issues<QpIssue>,
}

/// RFC 2045 §6.7 rule 2: octets that may stand for themselves.
fn is_safe_literal(byte: u8) -> bool {
    matches!(byte, 33..=60 | 62..=126)
}

/// Encode `input`. In [`QpMode::Text`] every CRLF is a hard line break; the output uses CRLF
/// throughout and has no line over 76 characters.
pub fn encode(input: &[u8], mode: QpMode) -> String {
    let mut out = String::with_capacity(input.len() + input.len() / 8);
    match mode {
        QpMode::Binary => encode_line(input, &mut out),
        QpMode::Text => {
            let mut rest = input;
            loop {
                match rest.windows(2).position(|w| w == b"\r\n") {
                    Some(end) => {
                        encode_line(&rest[..end], &mut out);
                        out.push_str("\r\n");
                        rest = &rest[end + 2..];
                    }
                    None => {
                        encode_line(rest, &mut out);
                        break;
                    }
                }
            }
        }
    }
    out
}

/// Encode one line of the canonical form (no hard line breaks inside), wrapping with soft
/// line breaks.
fn encode_line(line: &[u8], out: &mut String) {
    let mut width = 0usize;
    for (i, &byte) in line.iter().enumerate() {
        let last = i + 1 == line.len();
        let literal = is_safe_literal(byte) || (matches!(byte, b' ' | b'\t') && !last);
        let len = if literal { 1 } else { 3 };
        // A segment that ends in a soft break has room for 75 characters and the `=`; the
        // last segment of the line may use all 76.
        let fits = width + len < MAX_LINE_LEN || (last && width + len <= MAX_LINE_LEN);
        if !fits {
            out.push_str("=\r\n");
            width = 0;
        }
        if literal {
            out.push(char::from(byte));
        } else {
            out.push('=');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
        width += len;
    }
}

fn hex_value(byte: u8) -> Option<(u8, bool)> {
    match byte {
        b'0'..=b'9' => Some((byte - b'0', false)),
        b'A'..=b'F' => Some((byte - b'A' + 10, false)),
        b'a'..=b'f' => Some((byte - b'a' + 10, true)),
        _ => None,
    }
}

/// Decode quoted-printable data. Line breaks (CRLF, or a bare LF) are kept as they appear;
/// a soft line break (`=` at the end of a line, possibly followed by transport padding) is
/// removed.
pub fn decode(input: &[u8]) -> QpDecoded {
    let mut result = QpDecoded {
        data: Vec::with_capacity(input.len()),
        ..Default::default()
    };
    let mut start = 0usize;
    let mut line_no = 1usize;
    while start < input.len() {
        let (content_end, next) = match input[start..].iter().position(|&b| b == b'\n') {
            Some(lf) => {
                let lf = start + lf;
                let end = if lf > start && input[lf - 1] == b'\r' {
                    lf - 1
                } else {
                    lf
                };
                (end, lf + 1)
            }
            None => (input.len(), input.len()),
        };
        let line_end_bytes = &input[content_end..next];
        if content_end - start > MAX_LINE_LEN {
            result.issues.push(QpIssue::LineTooLong {
                line: line_no,
                len: content_end - start,
            });
        }
        let soft = decode_line(input, start, content_end, &mut result);
        if !soft {
            result.data.extend_from_slice(line_end_bytes);
        }
        start = next;
        line_no += 1;
    }
    result
}

/// Decode `input[start..end]` (one line without its line break) into `result`; true if it
/// ended with a soft line break. On the last line of the object, with no line break after
/// it, a final `=` cannot be a soft break (note 3).
fn decode_line(input: &[u8], start: usize, end: usize, result: &mut QpDecoded) -> bool {
    // Rule 3: trailing white space is transport padding, deleted.
    let mut end_trimmed = end;
    while end_trimmed > start && matches!(input[end_trimmed - 1], b' ' | b'\t') {
        end_trimmed -= 1;
    }
    let has_line_break = end < input.len();
    let line = &input[start..end_trimmed];
    let mut i = 0usize;
    while i < line.len() {
        let byte = line[i];
        let offset = start + i;
        if byte == b'=' {
            if i + 1 == line.len() && has_line_break {
                return true;
            }
            let hi = line.get(i + 1).copied().and_then(hex_value);
            let lo = line.get(i + 2).copied().and_then(hex_value);
            if let (Some((hi, l1)), Some((lo, l2))) = (hi, lo) {
                if l1 || l2 {
                    result.issues.push(QpIssue::LowercaseHex { offset });
                }
                result.data.push((hi << 4) | lo);
                i += 3;
            } else {
                // Note 2: keep "=" and the character after it untransformed.
                result.issues.push(QpIssue::BadEscape { offset });
                let take = (i + 2).min(line.len());
                result.data.extend_from_slice(&line[i..take]);
                i = take;
            }
            continue;
        }
        if !(is_safe_literal(byte) || byte == b' ' || byte == b'\t') {
            result.issues.push(QpIssue::IllegalByte { offset, byte });
        }
        result.data.push(byte);
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;

    #[test]
    fn rfc2045_soft_break_example_decodes() {
        let encoded = b"Now's the time =\r\nfor all folk to come=\r\n to the aid of their country.";
        let d = decode(encoded);
        assert_eq!(
            d.data,
            b"Now's the time for all folk to come to the aid of their country.".to_vec()
        );
        assert!(d.issues.is_empty());
    }

    #[test]
    fn encodes_rule_by_rule() {
        // Rule 1: '=' and 8-bit octets as =XX, upper case.
        assert_eq!(encode(b"a=b\xe9", QpMode::Text), "a=3Db=E9");
        // Rule 3: white space at the end of a line is encoded; inside it is literal.
        assert_eq!(encode(b"a b \r\nc\t", QpMode::Text), "a b=20\r\nc=09");
        // Rule 4: CRLF stays a hard break in text, bare CR/LF are encoded.
        assert_eq!(encode(b"a\nb\rc\r\n", QpMode::Text), "a=0Ab=0Dc\r\n");
        assert_eq!(encode(b"a\r\nb", QpMode::Binary), "a=0D=0Ab");
    }

    #[test]
    fn soft_breaks_keep_lines_within_76() {
        let line = "x".repeat(200);
        let enc = encode(line.as_bytes(), QpMode::Text);
        for l in enc.split("\r\n") {
            assert!(l.len() <= MAX_LINE_LEN, "{l}");
        }
        assert_eq!(enc.split("\r\n").next().map(str::len), Some(76));
        // Exactly 76 characters fit on one line without a soft break.
        assert_eq!(
            encode("y".repeat(76).as_bytes(), QpMode::Text),
            "y".repeat(76)
        );
        // An escape is never split across a soft break.
        let enc = encode(&[0xFFu8; 40], QpMode::Text);
        assert!(
            enc.split("\r\n")
                .all(|l| l.len() <= 76 && !l.trim_end_matches('=').ends_with("=F"))
        );
        assert_eq!(decode(enc.as_bytes()).data, vec![0xFFu8; 40]);
    }

    #[test]
    fn decoder_is_lenient_and_reports() {
        let d = decode(b"a=3db");
        assert_eq!(d.data, b"a=b");
        assert_eq!(d.issues.as_slice(), [QpIssue::LowercaseHex { offset: 1 }]);
        let d = decode(b"a=\xff=G1");
        assert_eq!(d.data, b"a=\xff=G1");
        assert_eq!(
            d.issues.as_slice(),
            [
                QpIssue::BadEscape { offset: 1 },
                QpIssue::BadEscape { offset: 3 }
            ]
        );
        // Note 3: "=" as the last character of the object is kept.
        let d = decode(b"abc=");
        assert_eq!(d.data, b"abc=");
        assert_eq!(d.issues.as_slice(), [QpIssue::BadEscape { offset: 3 }]);
        // Transport padding after text and after a soft break is deleted.
        let d = decode(b"abc  \r\ndef=  \r\nghi");
        assert_eq!(d.data, b"abc\r\ndefghi");
        assert!(d.issues.is_empty());
        let d = decode(b"a\x01b");
        assert_eq!(d.data, b"a\x01b");
        assert_eq!(
            d.issues.as_slice(),
            [QpIssue::IllegalByte { offset: 1, byte: 1 }]
        );
        let d = decode("z".repeat(80).as_bytes());
        assert_eq!(
            d.issues.as_slice(),
            [QpIssue::LineTooLong { line: 1, len: 80 }]
        );
        // A bare LF is a line break and is kept.
        assert_eq!(decode(b"a=\nb\nc").data, b"ab\nc");
    }

    #[test]
    fn round_trip_generated_inputs() {
        let mut rng = XorShift::new(0x2045);
        for round in 0..3000 {
            let data = if round % 2 == 0 {
                rng.bytes(0..300)
            } else {
                rng.bytes_from(0..300, b"ab =\t\r\n.\xe9-")
            };
            for mode in [QpMode::Text, QpMode::Binary] {
                let enc = encode(&data, mode);
                assert!(
                    enc.split("\r\n")
                        .all(|l| l.len() <= MAX_LINE_LEN && !l.ends_with([' ', '\t']))
                );
                let dec = decode(enc.as_bytes());
                assert_eq!(dec.data, data, "{mode:?} {enc:?}");
                assert!(dec.issues.is_empty(), "{:?}", dec.issues);
            }
        }
    }
}
