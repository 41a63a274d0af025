//! The charsets mail headers and bodies name (RFC 2046 §4.1.2, RFC 2047 §3), decoded to and
//! encoded from Unicode.
//!
//! UTF-8 and US-ASCII are checked; the single-byte charsets are tables of their 128 upper code
//! points (bytes 0x00-0x7F are US-ASCII in all of them), written from the Unicode mapping
//! files (`8859-1.TXT`, `8859-15.TXT`, `CP1252.TXT`, `CP1251.TXT`, `KOI8-R.TXT`). A byte the
//! mapping leaves undefined decodes to U+FFFD and is counted.

use thiserror::Error;

/// A charset the oracle can decode and encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Charset {
    Utf8,
    UsAscii,
    Iso8859_1,
    Iso8859_15,
    Windows1252,
    Windows1251,
    Koi8R,
}

/// A character the target charset cannot represent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CharsetError {
    #[error("U+{:04X} cannot be encoded in {charset}", u32::from(*ch))]
    Unmappable { ch: char, charset: &'static str },
}

/// Text decoded from a charset, with the count of bytes that had no mapping (or were not
/// valid UTF-8) and became U+FFFD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub errors: usize,
}

impl Charset {
    /// Every supported charset, for tests and listings.
    pub const ALL: [Charset; 7] = [
        Charset::Utf8,
        Charset::UsAscii,
        Charset::Iso8859_1,
        Charset::Iso8859_15,
        Charset::Windows1252,
        Charset::Windows1251,
        Charset::Koi8R,
    ];

    /// Look a charset up by name or alias, case-insensitively (RFC 2046 §4.1.2: "charset names
    /// ... are not case sensitive"). `None` for charsets the oracle does not know.
    pub fn from_name(name: &str) -> Option<Charset> {
        let lower = name.trim().to_ascii_lowercase();
        let charset = match lower.as_str() {
            "utf-8" | "utf8" => Charset::Utf8,
            "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" | "us" | "cp367" | "ibm367" => {
                Charset::UsAscii
            }
            "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "iso_8859-1:1987" | "latin1" | "l1"
            | "iso-ir-100" | "cp819" | "ibm819" => Charset::Iso8859_1,
            "iso-8859-15" | "iso8859-15" | "iso_8859-15" | "latin-9" | "latin9" => {
                Charset::Iso8859_15
            }
            "windows-1252" | "cp1252" | "x-cp1252" => Charset::Windows1252,
            "windows-1251" | "cp1251" | "x-cp1251" => Charset::Windows1251,
            "koi8-r" | "koi8r" | "cskoi8r" => Charset::Koi8R,
            _ => return None,
        };
        Some(charset)
    }

    /// The IANA preferred MIME name.
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8 => "UTF-8",
            Charset::UsAscii => "US-ASCII",
            Charset::Iso8859_1 => "ISO-8859-1",
            Charset::Iso8859_15 => "ISO-8859-15",
            Charset::Windows1252 => "windows-1252",
            Charset::Windows1251 => "windows-1251",
            Charset::Koi8R => "KOI8-R",
        }
    }

    /// The table of bytes 0x80-0xFF, for the single-byte charsets that need one.
    fn table(self) -> Option<&'static [u16; 128]> {
        match self {
            Charset::Iso8859_15 => Some(&ISO_8859_15),
            Charset::Windows1252 => Some(&WINDOWS_1252),
            Charset::Windows1251 => Some(&WINDOWS_1251),
            Charset::Koi8R => Some(&KOI8_R),
            Charset::Utf8 | Charset::UsAscii | Charset::Iso8859_1 => None,
        }
    }

    /// The character a single byte stands for, `None` where the mapping leaves it undefined.
    /// For UTF-8 only ASCII bytes are characters on their own.
    pub fn decode_byte(self, byte: u8) -> Option<char> {
        if byte < 0x80 {
            return Some(char::from(byte));
        }
        match self {
            Charset::Utf8 | Charset::UsAscii => None,
            Charset::Iso8859_1 => Some(char::from(byte)),
            _ => {
                let code = self
                    .table()?
                    .get(usize::from(byte - 0x80))
                    .copied()
                    .unwrap_or(0);
                if code == 0 {
                    None
                } else {
                    char::from_u32(u32::from(code))
                }
            }
        }
    }

    /// Decode bytes to text; undefined bytes and invalid UTF-8 become U+FFFD and are counted.
    pub fn decode(self, bytes: &[u8]) -> Decoded {
        if self == Charset::Utf8 {
            return decode_utf8(bytes);
        }
        let mut text = String::with_capacity(bytes.len());
        let mut errors = 0;
        for &byte in bytes {
            match self.decode_byte(byte) {
                Some(c) => text.push(c),
                None => {
                    errors += 1;
                    text.push(char::REPLACEMENT_CHARACTER);
                }
            }
        }
        Decoded { text, errors }
    }

    /// Encode text; the first character the charset has no byte for is an error.
    pub fn encode(self, text: &str) -> Result<Vec<u8>, CharsetError> {
        if self == Charset::Utf8 {
            return Ok(text.as_bytes().to_vec());
        }
        text.chars()
            .map(|ch| {
                self.encode_char(ch).ok_or(CharsetError::Unmappable {
                    ch,
                    charset: self.name(),
                })
            })
            .collect()
    }

    /// The byte for one character in a single-byte charset (`None` for UTF-8 multi-byte
    /// characters and unmappable ones).
    pub fn encode_char(self, ch: char) -> Option<u8> {
        let code = u32::from(ch);
        if code < 0x80 {
            return u8::try_from(code).ok();
        }
        match self {
            Charset::Utf8 | Charset::UsAscii => None,
            Charset::Iso8859_1 => u8::try_from(code).ok(),
            _ => {
                let table = self.table()?;
                let index = table.iter().position(|&c| c != 0 && u32::from(c) == code)?;
                u8::try_from(index + 0x80).ok()
            }
        }
    }

    /// True if every character of `text` can be encoded.
    pub fn can_encode(self, text: &str) -> bool {
        self == Charset::Utf8 || text.chars().all(|c| self.encode_char(c).is_some())
    }
}

impl std::fmt::Display for Charset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// UTF-8 with each maximal invalid subsequence replaced by U+FFFD (as `from_utf8_lossy`),
/// counting the replacements.
fn decode_utf8(bytes: &[u8]) -> Decoded {
    let mut text = String::with_capacity(bytes.len());
    let mut errors = 0;
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            errors += 1;
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    Decoded { text, errors }
}

/// ISO-8859-15 (Latin-9): ISO-8859-1 with eight code points replaced.
const ISO_8859_15: [u16; 128] = {
    let mut t = [0u16; 128];
    let mut i = 0;
    while i < 128 {
        t[i] = (i + 0x80) as u16;
        i += 1;
    }
    t[0xA4 - 0x80] = 0x20AC;
    t[0xA6 - 0x80] = 0x0160;
    t[0xA8 - 0x80] = 0x0161;
    t[0xB4 - 0x80] = 0x017D;
    t[0xB8 - 0x80] = 0x017E;
    t[0xBC - 0x80] = 0x0152;
    t[0xBD - 0x80] = 0x0153;
    t[0xBE - 0x80] = 0x0178;
    t
};

/// windows-1252: 0x80-0x9F as below (0 = undefined), 0xA0-0xFF as ISO-8859-1.
const WINDOWS_1252: [u16; 128] = {
    const HIGH_C1: [u16; 32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, // 80-87
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0, // 88-8F
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, // 90-97
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178, // 98-9F
    ];
    let mut t = [0u16; 128];
    let mut i = 0;
    while i < 128 {
        t[i] = if i < 32 {
            HIGH_C1[i]
        } else {
            (i + 0x80) as u16
        };
        i += 1;
    }
    t
};

/// windows-1251: 0x80-0xBF as below (0 = undefined), 0xC0-0xFF = U+0410-U+044F.
const WINDOWS_1251: [u16; 128] = {
    const HIGH: [u16; 64] = [
        0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021, // 80-87
        0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F, // 88-8F
        0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, // 90-97
        0, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F, // 98-9F
        0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7, // A0-A7
        0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407, // A8-AF
        0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7, // B0-B7
        0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457, // B8-BF
    ];
    let mut t = [0u16; 128];
    let mut i = 0;
    while i < 128 {
        t[i] = if i < 64 {
            HIGH[i]
        } else {
            (0x0410 - 64 + i) as u16
        };
        i += 1;
    }
    t
};

/// KOI8-R (RFC 1489).
const KOI8_R: [u16; 128] = [
    0x2500, 0x2502, 0x250C, 0x2510, 0x2514, 0x2518, 0x251C, 0x2524, // 80-87
    0x252C, 0x2534, 0x253C, 0x2580, 0x2584, 0x2588, 0x258C, 0x2590, // 88-8F
    0x2591, 0x2592, 0x2593, 0x2320, 0x25A0, 0x2219, 0x221A, 0x2248, // 90-97
    0x2264, 0x2265, 0x00A0, 0x2321, 0x00B0, 0x00B2, 0x00B7, 0x00F7, // 98-9F
    0x2550, 0x2551, 0x2552, 0x0451, 0x2553, 0x2554, 0x2555, 0x2556, // A0-A7
    0x2557, 0x2558, 0x2559, 0x255A, 0x255B, 0x255C, 0x255D, 0x255E, // A8-AF
    0x255F, 0x2560, 0x2561, 0x0401, 0x2562, 0x2563, 0x2564, 0x2565, // B0-B7
    0x2566, 0x2567, 0x2568, 0x2569, 0x256A, 0x256B, 0x256C, 0x00A9, // B8-BF
    0x044E, 0x0430, 0x0431, 0x0446, 0x0434, 0x0435, 0x0444, 0x0433, // C0-C7
    0x0445, 0x0438, 0x0439, 0x043A, 0x043B, 0x043C, 0x043D, 0x043E, // C8-CF
    0x043F, 0x044F, 0x0440, 0x0441, 0x0442, 0x0443, 0x0436, 0x0432, // D0-D7
    0x044C, 0x044B, 0x0437, 0x0448, 0x044D, 0x0449, 0x0447, 0x044A, // D8-DF
    0x042E, 0x0410, 0x0411, 0x0426, 0x0414, 0x0415, 0x0424, 0x0413, // E0-E7
    0x0425, 0x0418, 0x0419, 0x041A, 0x041B, 0x041C, 0x041D, 0x041E, // E8-EF
    0x041F, 0x042F, 0x0420, 0x0421, 0x0422, 0x0423, 0x0416, 0x0412, // F0-F7
    0x042C, 0x042B, 0x0417, 0x0428, 0x042D, 0x0429, 0x0427, 0x042A, // F8-FF
];

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(charset: Charset, byte: u8) -> Option<u32> {
        charset.decode_byte(byte).map(u32::from)
    }

    #[test]
    fn known_code_points() {
        assert_eq!(dec(Charset::Windows1251, 0xC0), Some(0x0410));
        assert_eq!(dec(Charset::Windows1251, 0xFF), Some(0x044F));
        assert_eq!(dec(Charset::Windows1251, 0xA8), Some(0x0401));
        assert_eq!(dec(Charset::Windows1251, 0xB9), Some(0x2116));
        assert_eq!(dec(Charset::Windows1251, 0x98), None);
        assert_eq!(dec(Charset::Koi8R, 0xC1), Some(0x0430));
        assert_eq!(dec(Charset::Koi8R, 0xFF), Some(0x042A));
        assert_eq!(dec(Charset::Koi8R, 0xB3), Some(0x0401));
        assert_eq!(dec(Charset::Iso8859_15, 0xA4), Some(0x20AC));
        assert_eq!(dec(Charset::Iso8859_15, 0xBE), Some(0x0178));
        assert_eq!(dec(Charset::Iso8859_15, 0xE9), Some(0x00E9));
        assert_eq!(dec(Charset::Windows1252, 0x80), Some(0x20AC));
        assert_eq!(dec(Charset::Windows1252, 0x9F), Some(0x0178));
        assert_eq!(dec(Charset::Windows1252, 0x81), None);
        assert_eq!(dec(Charset::Iso8859_1, 0xFF), Some(0x00FF));
        assert_eq!(dec(Charset::UsAscii, 0x80), None);
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(Charset::from_name("utf-8"), Some(Charset::Utf8));
        assert_eq!(Charset::from_name("ISO-8859-1"), Some(Charset::Iso8859_1));
        assert_eq!(Charset::from_name("Latin1"), Some(Charset::Iso8859_1));
        assert_eq!(Charset::from_name("CP1251"), Some(Charset::Windows1251));
        assert_eq!(Charset::from_name("koi8-r"), Some(Charset::Koi8R));
        assert_eq!(Charset::from_name("iso-8859-2"), None);
        for c in Charset::ALL {
            assert_eq!(Charset::from_name(c.name()), Some(c));
        }
    }

    #[test]
    fn decode_counts_errors() {
        let d = Charset::Utf8.decode(b"a\xffb\xe2\x82");
        assert_eq!(d.text, "a\u{FFFD}b\u{FFFD}");
        assert_eq!(d.errors, 2);
        let d = Charset::UsAscii.decode(b"caf\xe9");
        assert_eq!(d.errors, 1);
        assert_eq!(
            Charset::Koi8R.decode(b"\xf0\xd2\xc9\xd7\xc5\xd4").text,
            "Привет"
        );
    }

    #[test]
    fn every_defined_byte_round_trips() {
        for charset in Charset::ALL {
            for byte in 0..=255u8 {
                if let Some(ch) = charset.decode_byte(byte) {
                    assert_eq!(
                        charset.encode_char(ch),
                        Some(byte),
                        "{charset} 0x{byte:02X}"
                    );
                }
            }
        }
        assert_eq!(Charset::Windows1251.encode("Ёж"), Ok(vec![0xA8, 0xE6]));
        assert_eq!(
            Charset::Iso8859_1.encode("€"),
            Err(CharsetError::Unmappable {
                ch: '€',
                charset: "ISO-8859-1"
            })
        );
    }
}
