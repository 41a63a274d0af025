//! Encoding of the data a server sends (RFC 9051 §4.3 strings, §9 `astring`, `nstring`).

/// Longest string sent quoted; longer ones go as literals.
const MAX_QUOTED: usize = 1024;

/// Can `s` be sent as a `quoted` string (RFC 9051 §4.3: no CR, LF or NUL; we also keep
/// 8-bit data in literals so rev1 clients never see it quoted)?
fn quotable(s: &[u8]) -> bool {
    s.len() <= MAX_QUOTED && s.iter().all(|&c| (0x01..0x80).contains(&c) && c != b'\r' && c != b'\n')
}

/// Append `s` as a quoted string when it can be, else as a literal.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    if quotable(s) {
        quoted(out, s);
    } else {
        literal(out, s, false);
    }
}

/// Append `"s"` with `"` and `\` escaped. The caller checked `quotable`.
fn quoted(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        if c == b'"' || c == b'\\' {
            out.push(b'\\');
        }
        out.push(c);
    }
    out.push(b'"');
}

/// Append `{n}CRLF` + `s` (or `~{n}` for a literal8 holding NUL, RFC 9051 §4.3.1).
pub fn literal(out: &mut Vec<u8>, s: &[u8], binary: bool) {
    if binary {
        out.push(b'~');
    }
    out.extend_from_slice(format!("{{{}}}\r\n", s.len()).as_bytes());
    out.extend_from_slice(s);
}

/// `nstring = string / nil`.
pub fn nstring(out: &mut Vec<u8>, s: Option<&[u8]>) {
    match s {
        Some(s) => string(out, s),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// `astring`: an atom when every octet is an ASTRING-CHAR (and it is not `NIL`), else a
/// string.
pub fn astring(out: &mut Vec<u8>, s: &[u8]) {
    if !s.is_empty() && !s.eq_ignore_ascii_case(b"NIL") && s.iter().all(|&c| super::is_astring_char(c)) {
        out.extend_from_slice(s);
    } else {
        string(out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = Vec::new();
        f(&mut v);
        v
    }

    #[test]
    fn strings() {
        assert_eq!(enc(|o| string(o, b"a \"b\" \\")), b"\"a \\\"b\\\" \\\\\"");
        assert_eq!(enc(|o| string(o, b"a\r\nb")), b"{4}\r\na\r\nb");
        assert_eq!(enc(|o| string(o, "é".as_bytes())), b"{2}\r\n\xc3\xa9");
        assert_eq!(enc(|o| nstring(o, None)), b"NIL");
        assert_eq!(enc(|o| astring(o, b"INBOX")), b"INBOX");
        assert_eq!(enc(|o| astring(o, b"a b")), b"\"a b\"");
        assert_eq!(enc(|o| astring(o, b"")), b"\"\"");
        assert_eq!(enc(|o| astring(o, b"nil")), b"\"nil\"");
        assert_eq!(enc(|o| literal(o, b"\0", true)), b"~{1}\r\n\0");
    }
}
