//! RFC 2047 encoded words: `=?charset?B?...?=` and `=?charset?Q?...?=` in header fields.
//!
//! Decoding follows §5 and §6: in unstructured text ([`decode_text`]) an encoded word is a
//! whole white-space-delimited word (§5 (1)); in a phrase ([`decode_phrase`]) it replaces an
//! atom, never a quoted string (§5 (3)); white space between two adjacent encoded words is not
//! displayed (§6.2). A word whose charset is unknown is kept as it is (§6.2 (a)), except that
//! text which is plain US-ASCII in an ASCII-compatible charset is shown (§6.2 (b), best
//! effort). The RFC 2231 §5 language suffix (`=?utf-8*en?Q?..?=`) is accepted.
//!
//! Encoding ([`encode_text`], [`encode_words`]) keeps each word within 75 characters (§2),
//! never splits a character across words (§5 (3)), and uses the restricted Q set of §5 (3) so
//! the result is valid in text, comments and phrases alike.

use thiserror::Error;

use crate::base64;
use crate::charset::{Charset, CharsetError};

/// RFC 2047 §2: "An 'encoded-word' may not be more than 75 characters long".
pub const MAX_WORD_LEN: usize = 75;

/// The two encodings of §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordEncoding {
    /// §4.1, base64.
    B,
    /// §4.2, the "Q" variant of quoted-printable.
    Q,
}

/// One decoded encoded word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedWord {
    /// The charset name as written.
    pub charset: String,
    /// RFC 2231 §5 language tag, if any.
    pub language: Option<String>,
    pub encoding: WordEncoding,
    /// The decoded text.
    pub text: String,
    /// Bytes with no mapping in the charset (shown as U+FFFD).
    pub charset_errors: usize,
}

/// Why a word is not a usable encoded word (§6.3: it is then shown as it is).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodedWordError {
    #[error("not of the form =?charset?encoding?encoded-text?= (RFC 2047 §2)")]
    Syntax,
    #[error("unknown encoding {0:?} (RFC 2047 §4)")]
    UnknownEncoding(String),
    #[error("charset {0:?} is not supported (RFC 2047 §6.2)")]
    UnknownCharset(String),
    #[error("encoded text is not valid base64 (RFC 2047 §4.1)")]
    InvalidBase64,
    #[error("encoded text has characters Q does not allow (RFC 2047 §4.2)")]
    InvalidQ,
}

/// The result of decoding a field body: the text, and whether anything in it was not as
/// RFC 2047 says (an over-long word, undecodable bytes, a malformed word kept as is).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecodedText {
    pub text: String,
    /// How many encoded-word-like words could not be decoded and were kept as they are.
    pub undecoded: usize,
    /// How many decoded words were longer than 75 characters (§2).
    pub over_long: usize,
    /// Bytes that had no mapping in their charset.
    pub charset_errors: usize,
}

/// RFC 2047 §2 `token`: any CHAR except SPACE, CTLs and especials.
fn is_token_char(c: char) -> bool {
    c.is_ascii_graphic() && !"()<>@,;:\"/[]?.=".contains(c)
}

/// Decode one encoded word (the whole of `word` must be one).
pub fn decode_word(word: &str) -> Result<EncodedWord, EncodedWordError> {
    let inner = word
        .strip_prefix("=?")
        .and_then(|w| w.strip_suffix("?="))
        .ok_or(EncodedWordError::Syntax)?;
    let mut pieces = inner.splitn(3, '?');
    let (Some(charset_lang), Some(encoding), Some(text)) =
        (pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(EncodedWordError::Syntax);
    };
    if charset_lang.is_empty()
        || !charset_lang.chars().all(|c| is_token_char(c) || c == '*')
        || text.is_empty()
        || text.contains(['?', ' ', '\t', '\r', '\n'])
        || !text.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(EncodedWordError::Syntax);
    }
    let (charset_name, language) = match charset_lang.split_once('*') {
        Some((c, l)) => (c, Some(l.to_string())),
        None => (charset_lang, None),
    };
    let (encoding, bytes) = match encoding {
        "B" | "b" => (WordEncoding::B, decode_b(text)?),
        "Q" | "q" => (WordEncoding::Q, decode_q(text)?),
        other => return Err(EncodedWordError::UnknownEncoding(other.to_string())),
    };
    let decoded = match Charset::from_name(charset_name) {
        Some(charset) => charset.decode(&bytes),
        None if ascii_compatible(charset_name)
            && bytes.iter().all(|&b| b.is_ascii() && b != 0x1B) =>
        {
            Charset::UsAscii.decode(&bytes)
        }
        None => return Err(EncodedWordError::UnknownCharset(charset_name.to_string())),
    };
    Ok(EncodedWord {
        charset: charset_name.to_string(),
        language,
        encoding,
        text: decoded.text,
        charset_errors: decoded.errors,
    })
}

/// Charsets in which US-ASCII bytes mean US-ASCII characters (so a best-effort display of
/// pure-ASCII text is right); UTF-7/16/32 are not among them.
fn ascii_compatible(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "iso-8859-",
        "iso8859-",
        "windows-",
        "cp",
        "koi8",
        "iso-2022-",
        "euc-",
        "gb",
        "big5",
        "shift_jis",
        "tis-620",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

/// §4.1: the B encoding is the base64 of RFC 2045 §6.8, padded to whole 4-character quanta
/// (RFC 4648 §3.2, §4). Encoded text that is not whole base64 (unpadded, or with octets left
/// over) makes the word malformed, and §6.3 says it is then shown as it is, not decoded in
/// part.
fn decode_b(text: &str) -> Result<Vec<u8>, EncodedWordError> {
    base64::decode(text.as_bytes()).map_err(|_| EncodedWordError::InvalidBase64)
}

/// §4.2: `_` is SPACE, `=XX` an octet (upper or lower case hex accepted), other printable
/// characters themselves.
fn decode_q(text: &str) -> Result<Vec<u8>, EncodedWordError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let value = hex
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(EncodedWordError::InvalidQ)?;
                out.push(value);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    Ok(out)
}

fn is_linear_white_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Decode the encoded words of an unstructured field body (`*text`, RFC 2047 §5 (1)), such
/// as Subject or Content-Description. White space is kept as it is, except between two
/// adjacent encoded words (§6.2).
pub fn decode_text(value: &str) -> DecodedText {
    let mut out = DecodedText {
        text: String::with_capacity(value.len()),
        ..Default::default()
    };
    let mut last_was_encoded = false;
    let mut rest = value;
    while !rest.is_empty() {
        let space_len = rest
            .find(|c| !is_linear_white_space(c))
            .unwrap_or(rest.len());
        let (space, after) = rest.split_at(space_len);
        let word_len = after.find(is_linear_white_space).unwrap_or(after.len());
        let (word, after_word) = after.split_at(word_len);
        rest = after_word;
        match try_decode(word, &mut out) {
            Some(text) => {
                if !last_was_encoded {
                    out.text.push_str(space);
                }
                out.text.push_str(&text);
                last_was_encoded = true;
            }
            None => {
                out.text.push_str(space);
                out.text.push_str(word);
                last_was_encoded = false;
            }
        }
    }
    out
}

/// Decode `word` if it looks like an encoded word, updating the counters in `out`.
fn try_decode(word: &str, out: &mut DecodedText) -> Option<String> {
    if !(word.starts_with("=?") && word.ends_with("?=") && word.len() >= 8) {
        return None;
    }
    match decode_word(word) {
        Ok(decoded) => {
            if word.len() > MAX_WORD_LEN {
                out.over_long += 1;
            }
            out.charset_errors += decoded.charset_errors;
            Some(decoded.text)
        }
        Err(_) => {
            out.undecoded += 1;
            None
        }
    }
}

/// One word of an RFC 5322 phrase: an atom (which may be an encoded word) or the content of a
/// quoted string (which never is, §5 (3)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhraseWord<'a> {
    Atom(&'a str),
    Quoted(&'a str),
}

/// Decode a phrase (display name): words are joined by one SPACE (RFC 5322 §3.2.5), encoded
/// words decoded, and adjacent encoded words joined without one (§6.2).
pub fn decode_phrase<'a>(words: impl IntoIterator<Item = PhraseWord<'a>>) -> DecodedText {
    let mut out = DecodedText::default();
    let mut last_was_encoded = false;
    for (i, word) in words.into_iter().enumerate() {
        let decoded = match word {
            PhraseWord::Atom(atom) => try_decode(atom, &mut out),
            PhraseWord::Quoted(_) => None,
        };
        let is_encoded = decoded.is_some();
        if i > 0 && !(is_encoded && last_was_encoded) {
            out.text.push(' ');
        }
        match (decoded, word) {
            (Some(text), _) => out.text.push_str(&text),
            (None, PhraseWord::Atom(s) | PhraseWord::Quoted(s)) => out.text.push_str(s),
        }
        last_was_encoded = is_encoded;
    }
    out
}

/// True if `text` cannot go into an unstructured field as it is: it has characters outside
/// printable US-ASCII and white space, or something that would be read as an encoded word.
pub fn needs_encoding(text: &str) -> bool {
    text.chars()
        .any(|c| !(c.is_ascii_graphic() || c == ' ' || c == '\t'))
        || text.contains("=?")
}

/// Encode unstructured text for a header field (§5 (1)). Text that needs no encoding comes
/// back as it is; otherwise the span from the first to the last word that needs encoding
/// becomes encoded words (separated by SPACE, for the field folder), and the words around it
/// stay plain. `decode_text(&encode_text(t, ..)?)` gives `t` back.
pub fn encode_text(
    text: &str,
    charset: Charset,
    encoding: WordEncoding,
) -> Result<String, CharsetError> {
    if !needs_encoding(text) {
        return Ok(text.to_string());
    }
    // Word boundaries: (start, end) byte offsets of non-white-space runs.
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        match (start, c == ' ' || c == '\t') {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    let needs = |&(s, e): &(usize, usize)| needs_encoding(&text[s..e]);
    let first = words
        .iter()
        .position(needs)
        .and_then(|i| words.get(i))
        .map_or(0, |w| w.0);
    let last = words
        .iter()
        .rposition(needs)
        .and_then(|i| words.get(i))
        .map_or(text.len(), |w| w.1);
    let encoded = encode_words(&text[first..last], charset, encoding)?;
    Ok(format!(
        "{}{}{}",
        &text[..first],
        encoded.join(" "),
        &text[last..]
    ))
}

/// Q-encoding: the characters that may stand for themselves anywhere (§5 (3)).
fn q_literal(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'!' | b'*' | b'+' | b'-' | b'/')
}

fn q_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| if q_literal(b) || b == b' ' { 1 } else { 3 })
        .sum()
}

fn q_encode(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        if b == b' ' {
            out.push('_');
        } else if q_literal(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("={b:02X}"));
        }
    }
}

/// Encode all of `text` as encoded words of at most 75 characters each, each holding whole
/// characters. Empty text gives no words.
pub fn encode_words(
    text: &str,
    charset: Charset,
    encoding: WordEncoding,
) -> Result<Vec<String>, CharsetError> {
    let (letter, name) = (
        if encoding == WordEncoding::B {
            'B'
        } else {
            'Q'
        },
        charset.name(),
    );
    let budget = MAX_WORD_LEN.saturating_sub(name.len() + 7).max(12);
    let encoded_len = |bytes: &[u8]| match encoding {
        WordEncoding::B => bytes.len().div_ceil(3) * 4,
        WordEncoding::Q => q_len(bytes),
    };
    let mut words = Vec::new();
    let mut chunk: Vec<u8> = Vec::new();
    let flush = |chunk: &mut Vec<u8>, words: &mut Vec<String>| {
        if chunk.is_empty() {
            return;
        }
        let mut word = format!("=?{name}?{letter}?");
        match encoding {
            WordEncoding::B => word.push_str(&base64::encode(chunk)),
            WordEncoding::Q => q_encode(chunk, &mut word),
        }
        word.push_str("?=");
        words.push(word);
        chunk.clear();
    };
    let mut buf = [0u8; 4];
    for ch in text.chars() {
        let bytes = charset.encode(ch.encode_utf8(&mut buf))?;
        let mut candidate = chunk.clone();
        candidate.extend_from_slice(&bytes);
        if encoded_len(&candidate) > budget {
            flush(&mut chunk, &mut words);
        }
        chunk.extend_from_slice(&bytes);
    }
    flush(&mut chunk, &mut words);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;

    fn text(value: &str) -> String {
        decode_text(value).text
    }

    #[test]
    fn rfc2047_section8_field_examples() {
        assert_eq!(text("=?US-ASCII?Q?Keith_Moore?="), "Keith Moore");
        assert_eq!(
            text("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?="),
            "Keld Jørn Simonsen"
        );
        assert_eq!(text("=?ISO-8859-1?Q?Andr=E9?= Pirard"), "André Pirard");
        assert_eq!(
            text(
                "=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?="
            ),
            "If you can read this you understand the example."
        );
        assert_eq!(text("=?ISO-8859-1?Q?Olle_J=E4rnefors?="), "Olle Järnefors");
        assert_eq!(
            text("=?ISO-8859-1?Q?Patrik_F=E4ltstr=F6m?="),
            "Patrik Fältström"
        );
    }

    #[test]
    fn rfc2047_section8_white_space_examples() {
        // The comment examples, with the parentheses removed as a comment parser does.
        assert_eq!(text("=?ISO-8859-1?Q?a?="), "a");
        assert_eq!(text("=?ISO-8859-1?Q?a?= b"), "a b");
        assert_eq!(text("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?="), "ab");
        assert_eq!(text("=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?="), "ab");
        assert_eq!(text("=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?="), "ab");
        assert_eq!(text("=?ISO-8859-1?Q?a_b?="), "a b");
        assert_eq!(text("=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?="), "a b");
    }

    #[test]
    fn malformed_and_unknown_words_are_kept() {
        let d = decode_text("x =?bogus-7?Q?=E9?= =?utf-8?X?abc?= =?utf-8?Q?a b?= y");
        assert_eq!(
            d.text,
            "x =?bogus-7?Q?=E9?= =?utf-8?X?abc?= =?utf-8?Q?a b?= y"
        );
        assert_eq!(d.undecoded, 2);
        // Not white-space delimited in *text: left alone (§5 (1)).
        assert_eq!(text("a=?utf-8?Q?b?="), "a=?utf-8?Q?b?=");
        assert_eq!(
            decode_word("=?utf-8?Q?=4?="),
            Err(EncodedWordError::InvalidQ)
        );
        assert_eq!(
            decode_word("=?utf-8?B?!!!!?="),
            Err(EncodedWordError::InvalidBase64)
        );
        assert_eq!(
            decode_word("=?KOI8-R?B?8NLJ18XU?=").map(|w| w.text),
            Ok("Привет".to_string())
        );
        let w = decode_word("=?utf-8*en?q?hi=21?=");
        assert_eq!(w.as_ref().map(|w| w.language.as_deref()), Ok(Some("en")));
        assert_eq!(w.map(|w| w.text), Ok("hi!".to_string()));
        assert_eq!(decode_text("=?utf-8?B?/w==?=").charset_errors, 1);
    }

    /// RFC 2047 §4.1 (base64 of RFC 2045 §6.8: whole quanta) and §6.3: "any 'encoded-word'
    /// which is malformed ... should be displayed as is" (F12 / M16 in docs/fuzzing.md: `cm`
    /// used to show as "r", and unpadded text was decoded).
    #[test]
    fn b_text_that_is_not_whole_base64_is_shown_as_is() {
        for word in [
            "=?ISO-8859-1?B?cm?=",
            "=?utf-8?B?Zm9vYg?=",
            "=?utf-8?B?Zm9vY?=",
            "=?utf-8?B?Zm9=?=",
        ] {
            assert_eq!(
                decode_word(word),
                Err(EncodedWordError::InvalidBase64),
                "{word}"
            );
            let d = decode_text(&format!("a {word} b"));
            assert_eq!(d.text, format!("a {word} b"));
            assert_eq!(d.undecoded, 1);
        }
        assert_eq!(text("=?utf-8?B?Zm9vYg==?="), "foob");
    }

    #[test]
    fn phrases_decode_atoms_not_quoted_strings() {
        use PhraseWord::{Atom, Quoted};
        let d = decode_phrase([
            Atom("=?utf-8?Q?J=C3=B6rg?="),
            Atom("=?utf-8?Q?_M?="),
            Atom("Smith"),
        ]);
        assert_eq!(d.text, "Jörg M Smith");
        let d = decode_phrase([Quoted("=?utf-8?Q?x?="), Atom("y")]);
        assert_eq!(d.text, "=?utf-8?Q?x?= y");
    }

    #[test]
    fn encoding_respects_length_and_characters() {
        let long = "Ж".repeat(100);
        for enc in [WordEncoding::B, WordEncoding::Q] {
            let words = encode_words(&long, Charset::Utf8, enc).unwrap_or_default();
            assert!(words.len() > 1);
            for w in &words {
                assert!(w.len() <= MAX_WORD_LEN, "{w}");
                // Every word holds whole characters.
                assert!(
                    decode_word(w)
                        .is_ok_and(|d| d.charset_errors == 0 && d.text.chars().all(|c| c == 'Ж'))
                );
            }
        }
        assert_eq!(
            encode_text("Re: Привет", Charset::Koi8R, WordEncoding::B).as_deref(),
            Ok("Re: =?KOI8-R?B?8NLJ18XU?=")
        );
        assert_eq!(
            encode_text("plain text", Charset::Utf8, WordEncoding::Q).as_deref(),
            Ok("plain text")
        );
        assert_eq!(
            encode_text("café au lait", Charset::Iso8859_1, WordEncoding::Q).as_deref(),
            Ok("=?ISO-8859-1?Q?caf=E9?= au lait")
        );
        assert!(encode_text("€", Charset::Iso8859_1, WordEncoding::Q).is_err());
    }

    #[test]
    fn round_trip_generated_text() {
        let mut rng = XorShift::new(2047);
        for round in 0..2000 {
            let t = rng.text(0..120);
            let charset = if round % 3 == 0 {
                Charset::Utf8
            } else {
                Charset::ALL[rng.below(Charset::ALL.len())]
            };
            let encoding = if round % 2 == 0 {
                WordEncoding::B
            } else {
                WordEncoding::Q
            };
            let Ok(encoded) = encode_text(&t, charset, encoding) else {
                assert!(!charset.can_encode(&t));
                continue;
            };
            let decoded = decode_text(&encoded);
            assert_eq!(decoded.text, t, "{charset} {encoded}");
            assert_eq!(
                (decoded.undecoded, decoded.over_long, decoded.charset_errors),
                (0, 0, 0)
            );
        }
    }
}
