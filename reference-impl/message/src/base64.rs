//! Base64 (RFC 4648 §4) in the two ways mail uses it.
//!
//! * **Strict** ([`decode`]): what SASL exchanges (SMTP `AUTH`, IMAP `AUTHENTICATE`, POP3
//!   `AUTH`) need. RFC 4648 §3.3: "implementations MUST reject the encoded data if it contains
//!   characters outside the base alphabet"; §3.2 padding is required; §3.5 non-zero pad bits
//!   are rejected as non-canonical.
//! * **MIME** ([`decode_mime`]): RFC 2045 §6.8, "any characters outside of the base64 alphabet
//!   are to be ignored", line breaks included; the decoder never fails, it reports what it had
//!   to skip ([`Base64Issue`]).
//!
//! Encoding is the same alphabet with padding; [`encode_mime`] breaks the output into lines of
//! 76 characters (RFC 2045 §6.8: "no more than 76 characters each").

use thiserror::Error;

use crate::issues::Issues;

/// RFC 4648 §4, Table 1: the base64 alphabet.
pub const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// RFC 2045 §6.8: encoded lines are no more than 76 characters.
pub const MIME_LINE_LEN: usize = 76;

/// Why a strict decode failed (RFC 4648 §3.2, §3.3, §3.5).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Base64Error {
    /// §3.3: a character outside the alphabet (line breaks and spaces included).
    #[error("byte 0x{byte:02X} at offset {offset} is not in the base64 alphabet (RFC 4648 §3.3)")]
    InvalidByte { offset: usize, byte: u8 },
    /// §3.2: the encoded data is not a whole number of 4-character quanta.
    #[error("length {len} is not a multiple of 4 (RFC 4648 §3.2)")]
    InvalidLength { len: usize },
    /// §3.2: `=` anywhere but in the last one or two positions of the last quantum.
    #[error("misplaced padding at offset {offset} (RFC 4648 §3.2)")]
    InvalidPadding { offset: usize },
    /// §3.5: the pad bits of the last quantum are not zero.
    #[error("non-zero pad bits in the last quantum (RFC 4648 §3.5)")]
    NonCanonical,
}

/// Something a lenient MIME decode skipped or repaired (RFC 2045 §6.8).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Base64Issue {
    /// A byte outside the alphabet that is not a line break or white space, ignored.
    IgnoredByte { offset: usize, byte: u8 },
    /// Alphabet characters after the `=` padding, ignored ("`=` ... evidence that the end of
    /// the data has been reached").
    DataAfterPadding { offset: usize },
    /// The data ended inside a quantum without padding; `bits` bits were dropped (one
    /// leftover character) or the partial quantum was decoded as if padded.
    MissingPadding { leftover_chars: usize },
    /// An encoded line longer than 76 characters (RFC 2045 §6.8).
    LineTooLong { line: usize, len: usize },
}

/// The output of [`decode_mime`]: the data, and what was skipped on the way.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MimeDecoded {
    pub data: Vec<u8>,
    /// What was repaired or skipped.
    pub issues: Issues<Base64Issue>,
}

/// The 6-bit value of an alphabet character.
fn value(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn symbol(six_bits: u32) -> char {
    char::from(ALPHABET[(six_bits & 63) as usize])
}

/// RFC 4648 §4: encode with `=` padding and no line breaks.
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b0 = u32::from(chunk[0]);
        let b1 = chunk.get(1).copied().map_or(0, u32::from);
        let b2 = chunk.get(2).copied().map_or(0, u32::from);
        let n = (b0 << 16) | (b1 << 8) | b2;
        out.push(symbol(n >> 18));
        out.push(symbol(n >> 12));
        out.push(if chunk.len() > 1 { symbol(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { symbol(n) } else { '=' });
    }
    out
}

/// RFC 2045 §6.8: encode for a MIME body, in CRLF-terminated lines of 76 characters (the last
/// line shorter, every line terminated; empty input gives an empty string).
pub fn encode_mime(input: &[u8]) -> String {
    encode_lines(input, MIME_LINE_LEN)
}

/// Encode in CRLF-terminated lines of at most `line_len` characters (rounded down to a
/// multiple of 4, at least 4).
pub fn encode_lines(input: &[u8], line_len: usize) -> String {
    let per_line = (line_len / 4).max(1) * 3;
    let mut out =
        String::with_capacity(input.len().div_ceil(3) * 4 + input.len() / per_line * 2 + 2);
    for chunk in input.chunks(per_line) {
        out.push_str(&encode(chunk));
        out.push_str("\r\n");
    }
    out
}

/// RFC 4648 strict decode: alphabet only, padded to whole quanta, canonical pad bits.
/// The empty string decodes to no bytes.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, Base64Error> {
    if !input.len().is_multiple_of(4) {
        // Report a bad byte first if there is one: it is the more useful message.
        if let Some((offset, &byte)) = input
            .iter()
            .enumerate()
            .find(|&(_, &b)| value(b).is_none() && b != b'=')
        {
            return Err(Base64Error::InvalidByte { offset, byte });
        }
        return Err(Base64Error::InvalidLength { len: input.len() });
    }
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let quanta = input.len() / 4;
    for (q, quad) in input.chunks_exact(4).enumerate() {
        let last = q + 1 == quanta;
        let mut vals = [0u32; 4];
        let mut pads = 0usize;
        for (i, &byte) in quad.iter().enumerate() {
            let offset = q * 4 + i;
            if byte == b'=' {
                // Padding only in positions 2 and 3 of the last quantum, and nothing after it.
                if !last || i < 2 {
                    return Err(Base64Error::InvalidPadding { offset });
                }
                pads += 1;
            } else if pads > 0 {
                return Err(Base64Error::InvalidPadding { offset: offset - 1 });
            } else {
                match value(byte) {
                    Some(v) => vals[i] = u32::from(v),
                    None => return Err(Base64Error::InvalidByte { offset, byte }),
                }
            }
        }
        let n = (vals[0] << 18) | (vals[1] << 12) | (vals[2] << 6) | vals[3];
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = 3 - pads;
        // §3.5: the bits that padding discards must be zero.
        if (pads == 1 && n & 0xFF != 0) || (pads == 2 && n & 0xFFFF != 0) {
            return Err(Base64Error::NonCanonical);
        }
        out.extend_from_slice(&bytes[..keep]);
    }
    Ok(out)
}

/// RFC 2045 §6.8 lenient decode for MIME bodies: never fails. Bytes outside the alphabet are
/// ignored (line breaks and white space silently, anything else reported), decoding stops at
/// the first `=`, a final partial quantum is decoded as far as it carries whole octets.
pub fn decode_mime(input: &[u8]) -> MimeDecoded {
    let mut result = MimeDecoded {
        data: Vec::with_capacity(input.len() / 4 * 3),
        ..Default::default()
    };
    let mut acc: u32 = 0;
    let mut chars = 0usize; // characters in the current quantum
    let mut padded = false;
    let mut line = 1usize;
    let mut line_len = 0usize;
    for (offset, &byte) in input.iter().enumerate() {
        match byte {
            b'\n' => {
                if line_len > MIME_LINE_LEN {
                    result.issues.push(Base64Issue::LineTooLong {
                        line,
                        len: line_len,
                    });
                }
                line += 1;
                line_len = 0;
                continue;
            }
            b'\r' => continue,
            _ => line_len += 1,
        }
        if byte == b'=' {
            padded = true;
            continue;
        }
        let Some(v) = value(byte) else {
            if byte != b' ' && byte != b'\t' {
                result
                    .issues
                    .push(Base64Issue::IgnoredByte { offset, byte });
            }
            continue;
        };
        if padded {
            // Report once per run of trailing data, not per character.
            if !matches!(
                result.issues.last(),
                Some(Base64Issue::DataAfterPadding { .. })
            ) {
                result.issues.push(Base64Issue::DataAfterPadding { offset });
            }
            continue;
        }
        acc = (acc << 6) | u32::from(v);
        chars += 1;
        if chars == 4 {
            result
                .data
                .extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            chars = 0;
        }
    }
    if line_len > MIME_LINE_LEN {
        result.issues.push(Base64Issue::LineTooLong {
            line,
            len: line_len,
        });
    }
    match chars {
        0 => {}
        2 => result.data.push((acc >> 4) as u8),
        3 => result
            .data
            .extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => {}
    }
    if chars != 0 && (!padded || chars == 1) {
        result.issues.push(Base64Issue::MissingPadding {
            leftover_chars: chars,
        });
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;

    /// RFC 4648 §10 test vectors.
    const VECTORS: &[(&str, &str)] = &[
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn rfc4648_section10_vectors() {
        for (plain, encoded) in VECTORS {
            assert_eq!(encode(plain.as_bytes()), *encoded);
            assert_eq!(decode(encoded.as_bytes()).as_deref(), Ok(plain.as_bytes()));
            let mime = decode_mime(encoded.as_bytes());
            assert_eq!(mime.data, plain.as_bytes());
            assert!(mime.issues.is_empty(), "{encoded}: {:?}", mime.issues);
        }
    }

    #[test]
    fn strict_rejects_what_sasl_must_reject() {
        assert_eq!(
            decode(b"Zm9v\r\n"),
            Err(Base64Error::InvalidByte {
                offset: 4,
                byte: b'\r'
            })
        );
        assert_eq!(decode(b"Zm9"), Err(Base64Error::InvalidLength { len: 3 }));
        assert_eq!(
            decode(b"Zm9v YmFy"),
            Err(Base64Error::InvalidByte {
                offset: 4,
                byte: b' '
            })
        );
        assert_eq!(
            decode(b"Zg==Zg=="),
            Err(Base64Error::InvalidPadding { offset: 2 })
        );
        assert_eq!(
            decode(b"Z==="),
            Err(Base64Error::InvalidPadding { offset: 1 })
        );
        assert_eq!(
            decode(b"Zg=a"),
            Err(Base64Error::InvalidPadding { offset: 2 })
        );
        // "Zh==" carries the pad bits 0b0001: non-canonical (§3.5).
        assert_eq!(decode(b"Zh=="), Err(Base64Error::NonCanonical));
        assert_eq!(decode(b"Zm9=").err(), Some(Base64Error::NonCanonical));
        assert_eq!(
            decode(b"-_8="),
            Err(Base64Error::InvalidByte {
                offset: 0,
                byte: b'-'
            })
        );
    }

    #[test]
    fn mime_ignores_line_breaks_and_reports_junk() {
        let d = decode_mime(b"Zm9v\r\nYmFy\r\n");
        assert_eq!(d.data, b"foobar");
        assert!(d.issues.is_empty());
        let d = decode_mime(b"Zm9v!YmFy");
        assert_eq!(d.data, b"foobar");
        assert_eq!(
            d.issues.as_slice(),
            [Base64Issue::IgnoredByte {
                offset: 4,
                byte: b'!'
            }]
        );
        let d = decode_mime(b"Zg==Zm9v");
        assert_eq!(d.data, b"f");
        assert_eq!(
            d.issues.as_slice(),
            [Base64Issue::DataAfterPadding { offset: 4 }]
        );
        let d = decode_mime(b"Zm9vYg");
        assert_eq!(d.data, b"foob");
        assert_eq!(
            d.issues.as_slice(),
            [Base64Issue::MissingPadding { leftover_chars: 2 }]
        );
        let d = decode_mime(b"Zm9vY");
        assert_eq!(d.data, b"foo");
        assert_eq!(
            d.issues.as_slice(),
            [Base64Issue::MissingPadding { leftover_chars: 1 }]
        );
        let long = "QUFB".repeat(20);
        let d = decode_mime(long.as_bytes());
        assert_eq!(
            d.issues.as_slice(),
            [Base64Issue::LineTooLong { line: 1, len: 80 }]
        );
    }

    #[test]
    fn mime_issue_list_is_bounded() {
        let junk = vec![b'!'; 10_000];
        let d = decode_mime(&junk);
        assert!(d.data.is_empty());
        assert_eq!(d.issues.as_slice().len(), crate::issues::MAX_KEPT);
        // 10,000 ignored bytes, and one 10,000-character line.
        assert_eq!(d.issues.count(), 10_001);
    }

    #[test]
    fn mime_lines_are_76_characters() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let text = encode_mime(&data);
        let lines: Vec<&str> = text.split_terminator("\r\n").collect();
        assert!(lines.iter().all(|l| l.len() <= 76));
        assert_eq!(lines[0].len(), 76);
        assert!(text.ends_with("\r\n"));
        assert_eq!(decode_mime(text.as_bytes()).data, data);
        assert_eq!(encode_mime(b""), "");
    }

    #[test]
    fn round_trip_generated_inputs() {
        let mut rng = XorShift::new(0x4648);
        for _ in 0..2000 {
            let data = rng.bytes(0..200);
            let enc = encode(&data);
            assert_eq!(decode(enc.as_bytes()).as_deref(), Ok(&data[..]));
            let mime = decode_mime(encode_mime(&data).as_bytes());
            assert_eq!(mime.data, data);
            assert!(mime.issues.is_empty());
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let mut rng = XorShift::new(7);
        for _ in 0..2000 {
            let data = rng.bytes_from(0..64, b"AZaz09+/=\r\n !-");
            let _ = decode(&data);
            let _ = decode_mime(&data);
        }
    }
}
