//! Folder and user names: validation, the INBOX rule, and their on-disk (escaped) form.

use crate::StoreError;

/// The hierarchy delimiter between folder name components (`"Archive/2024"`).
pub const DELIMITER: char = '/';

/// The one folder every user has; its name is case-insensitive (RFC 3501 §5.1, RFC 9051 §5.1).
pub const INBOX: &str = "INBOX";

/// Longest folder or user name accepted, in bytes (its escaped form must fit one directory
/// entry, 255 bytes on every common file system).
pub const MAX_NAME: usize = 200;

/// Validate a folder name and put it in canonical form: a first component equal to "INBOX" in
/// any case becomes "INBOX"; components are non-empty; no control characters.
pub fn canonical_folder(name: &str) -> Result<String, StoreError> {
    let bad = |reason: &'static str| StoreError::BadFolderName { name: name.to_string(), reason };
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.len() > MAX_NAME {
        return Err(bad("too long"));
    }
    if name.chars().any(|c| c.is_control()) {
        return Err(bad("control character"));
    }
    let mut out = String::with_capacity(name.len());
    for (i, part) in name.split(DELIMITER).enumerate() {
        if part.is_empty() {
            return Err(bad("empty hierarchy component"));
        }
        if i > 0 {
            out.push(DELIMITER);
        }
        if i == 0 && part.eq_ignore_ascii_case(INBOX) {
            out.push_str(INBOX);
        } else {
            out.push_str(part);
        }
    }
    if escape(&out).len() > 255 {
        return Err(bad("too long once escaped"));
    }
    Ok(out)
}

/// Validate a user name (as configured): non-empty, bounded, no control characters.
pub fn check_user(name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > MAX_NAME || name.chars().any(|c| c.is_control()) {
        return Err(StoreError::NoSuchUser(name.to_string()));
    }
    Ok(())
}

/// The directory-entry form of a name: ASCII letters, digits and `-_+,=@` are kept, every
/// other byte (including `/`, `.` and `%`) becomes `%HH`. So a name never collides with the
/// store's own files (which start with a letter and contain a `.` or no `%`), and never
/// starts with `.`.
pub fn escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for &b in name.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_+,=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0xf));
        }
    }
    out
}

fn hex_digit(n: u8) -> char {
    char::from(b"0123456789ABCDEF"[usize::from(n & 0xf)])
}

/// The inverse of [`escape`]; `None` for a directory entry that is not an escaped name.
pub fn unescape(entry: &str) -> Option<String> {
    let bytes = entry.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = hex_value(*bytes.get(i + 1)?)?;
            let lo = hex_value(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else if b.is_ascii_alphanumeric() || b"-_+,=@".contains(&b) {
            out.push(b);
            i += 1;
        } else {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_is_case_insensitive_only_as_first_component() {
        assert_eq!(canonical_folder("inbox").unwrap(), "INBOX");
        assert_eq!(canonical_folder("Inbox/Sub").unwrap(), "INBOX/Sub");
        assert_eq!(canonical_folder("a/inbox").unwrap(), "a/inbox");
    }

    #[test]
    fn bad_names_are_refused() {
        for n in ["", "/a", "a/", "a//b", "a\nb", "a\0"] {
            assert!(canonical_folder(n).is_err(), "{n:?}");
        }
        assert!(canonical_folder(&"x".repeat(MAX_NAME + 1)).is_err());
        // 100 two-byte characters: 200 bytes, 600 once escaped.
        assert!(canonical_folder(&"é".repeat(100)).is_err());
    }

    #[test]
    fn escape_round_trips() {
        for n in ["INBOX", "Archive/2024", "a.b %c", "Entwürfe", "..", "x@y"] {
            let e = escape(n);
            assert!(!e.starts_with('.'));
            assert!(!e.contains('/'));
            assert_eq!(unescape(&e).as_deref(), Some(n));
        }
        assert_eq!(unescape("tmp.x"), None);
        assert_eq!(unescape("%4"), None);
    }
}
