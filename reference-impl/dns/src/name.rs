//! Domain names (RFC 1035 §3.1, §2.3.4): validated, case-preserving, compared case-insensitively.

use std::fmt;
use std::hash::{Hash, Hasher};

/// RFC 1035 §2.3.4: labels are 63 octets or less.
pub const MAX_LABEL: usize = 63;
/// RFC 1035 §2.3.4: names are 255 octets or less (in wire form, length octets included).
pub const MAX_NAME: usize = 255;

/// A name that is not a valid domain name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// A label longer than 63 octets (RFC 1035 §2.3.4).
    #[error("label longer than 63 octets")]
    LabelTooLong,
    /// An empty label inside a name (`a..b`).
    #[error("empty label")]
    EmptyLabel,
    /// More than 255 octets in wire form (RFC 1035 §2.3.4).
    #[error("name longer than 255 octets")]
    NameTooLong,
    /// A bad `\` escape in the presentation form (RFC 1035 §5.1).
    #[error("bad escape in name")]
    BadEscape,
    /// A relative name where an absolute one is needed (no origin to append).
    #[error("relative name without an origin: {0}")]
    Relative(String),
}

/// A fully qualified domain name, held in uncompressed wire form (length-prefixed labels and the
/// final zero octet).
///
/// RFC 4343 §3: comparisons ignore ASCII case, but the case the name was written in is kept and
/// sent back. `Eq` and `Hash` are therefore case-insensitive; [`Name::as_wire`] keeps the case.
#[derive(Clone)]
pub struct Name {
    wire: Vec<u8>,
}

impl Name {
    /// The root name `.`.
    pub fn root() -> Name {
        Name { wire: vec![0] }
    }

    /// A name from its labels, first (leftmost) label first.
    pub fn from_labels<'a, I: IntoIterator<Item = &'a [u8]>>(labels: I) -> Result<Name, NameError> {
        let mut wire = Vec::with_capacity(32);
        for label in labels {
            push_label(&mut wire, label)?;
        }
        wire.push(0);
        if wire.len() > MAX_NAME {
            return Err(NameError::NameTooLong);
        }
        Ok(Name { wire })
    }

    /// Parses an absolute name in presentation form (`www.example.test.`); a name without the
    /// final dot is taken as absolute too. Escapes `\.`, `\\` and `\DDD` are understood.
    pub fn parse(text: &str) -> Result<Name, NameError> {
        Name::parse_relative(text, Some(&Name::root()))
    }

    /// Parses a name that may be relative: with no final dot, `origin` is appended (RFC 1035
    /// §5.1); `@` alone is the origin. Without an origin a relative name is an error.
    pub fn parse_relative(text: &str, origin: Option<&Name>) -> Result<Name, NameError> {
        if text == "@" {
            return origin
                .cloned()
                .ok_or_else(|| NameError::Relative(text.to_string()));
        }
        if text == "." {
            return Ok(Name::root());
        }
        let bytes = text.as_bytes();
        let mut wire = Vec::with_capacity(bytes.len() + 2);
        let mut label: Vec<u8> = Vec::with_capacity(MAX_LABEL);
        let mut absolute = false;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'.' => {
                    push_label(&mut wire, &label)?;
                    label.clear();
                    if i + 1 == bytes.len() {
                        absolute = true;
                    }
                    i += 1;
                }
                b'\\' => {
                    let (byte, used) = unescape(&bytes[i + 1..]).ok_or(NameError::BadEscape)?;
                    label.push(byte);
                    i += 1 + used;
                }
                _ => {
                    label.push(b);
                    i += 1;
                }
            }
            if label.len() > MAX_LABEL {
                return Err(NameError::LabelTooLong);
            }
        }
        if !absolute {
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            push_label(&mut wire, &label)?;
            match origin {
                Some(o) => wire.extend_from_slice(&o.wire),
                None => return Err(NameError::Relative(text.to_string())),
            }
        } else {
            wire.push(0);
        }
        if wire.len() > MAX_NAME {
            return Err(NameError::NameTooLong);
        }
        Ok(Name { wire })
    }

    /// Builds a name from wire bytes already checked by the codec (labels ≤ 63, total ≤ 255,
    /// final zero octet).
    pub(crate) fn from_checked_wire(wire: Vec<u8>) -> Name {
        Name { wire }
    }

    /// The uncompressed wire form, case preserved.
    pub fn as_wire(&self) -> &[u8] {
        &self.wire
    }

    /// Whether this is the root name.
    pub fn is_root(&self) -> bool {
        self.wire.len() == 1
    }

    /// The labels, leftmost first (the root's empty label is not included).
    pub fn labels(&self) -> Labels<'_> {
        Labels {
            wire: &self.wire,
            pos: 0,
        }
    }

    /// The number of labels, not counting the root.
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// The name with its first label removed, `None` for the root.
    pub fn parent(&self) -> Option<Name> {
        let first = *self.wire.first()? as usize;
        if first == 0 {
            return None;
        }
        Some(Name {
            wire: self.wire.get(first + 1..)?.to_vec(),
        })
    }

    /// Whether `self` is `other` or below it (case-insensitive).
    pub fn is_subdomain_of(&self, other: &Name) -> bool {
        let (a, b) = (self.label_count(), other.label_count());
        if a < b {
            return false;
        }
        match self.wire_suffix(a - b) {
            Some(suffix) => wire_eq_ignore_case(suffix, &other.wire),
            None => false,
        }
    }

    /// The wire form from label `skip` on (so `wire_suffix(0)` is the whole name).
    pub fn wire_suffix(&self, skip: usize) -> Option<&[u8]> {
        let mut pos = 0;
        for _ in 0..skip {
            let len = *self.wire.get(pos)? as usize;
            if len == 0 {
                return None;
            }
            pos += 1 + len;
        }
        self.wire.get(pos..)
    }

    /// The name with `label` put in front (`www` + `example.test.`).
    pub fn prepend(&self, label: &[u8]) -> Result<Name, NameError> {
        let mut wire = Vec::with_capacity(self.wire.len() + label.len() + 1);
        push_label(&mut wire, label)?;
        wire.extend_from_slice(&self.wire);
        if wire.len() > MAX_NAME {
            return Err(NameError::NameTooLong);
        }
        Ok(Name { wire })
    }

    /// The name in lower case (for index keys).
    pub fn to_lowercase(&self) -> Name {
        Name {
            wire: self.wire.to_ascii_lowercase(),
        }
    }

    /// Whether the first label is `*` (RFC 4592 wildcard owner).
    pub fn is_wildcard(&self) -> bool {
        self.wire.starts_with(&[1, b'*'])
    }

    /// The wire length (uncompressed).
    pub fn wire_len(&self) -> usize {
        self.wire.len()
    }
}

fn push_label(wire: &mut Vec<u8>, label: &[u8]) -> Result<(), NameError> {
    if label.is_empty() {
        return Err(NameError::EmptyLabel);
    }
    if label.len() > MAX_LABEL {
        return Err(NameError::LabelTooLong);
    }
    wire.push(label.len() as u8);
    wire.extend_from_slice(label);
    Ok(())
}

/// RFC 1035 §5.1: `\X` is X, `\DDD` is the octet with decimal value DDD. Returns the octet and
/// how many bytes after the backslash were used.
pub(crate) fn unescape(rest: &[u8]) -> Option<(u8, usize)> {
    let first = *rest.first()?;
    if first.is_ascii_digit() {
        let digits = rest.get(..3)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let value = digits
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        u8::try_from(value).ok().map(|v| (v, 3))
    } else {
        Some((first, 1))
    }
}

/// Case-insensitive comparison of two uncompressed wire names (RFC 4343 §3).
pub(crate) fn wire_eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Iterator over a name's labels.
pub struct Labels<'a> {
    wire: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        let len = *self.wire.get(self.pos)? as usize;
        if len == 0 {
            return None;
        }
        let label = self.wire.get(self.pos + 1..self.pos + 1 + len)?;
        self.pos += 1 + len;
        Some(label)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        wire_eq_ignore_case(&self.wire, &other.wire)
    }
}
impl Eq for Name {}

impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in &self.wire {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Name) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// RFC 4034 §6.1 canonical order: by labels from the right, each compared case-insensitively.
impl Ord for Name {
    fn cmp(&self, other: &Name) -> std::cmp::Ordering {
        let a: Vec<&[u8]> = self.labels().collect();
        let b: Vec<&[u8]> = other.labels().collect();
        for (x, y) in a.iter().rev().zip(b.iter().rev()) {
            let ord = x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase());
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        a.len().cmp(&b.len())
    }
}

/// The presentation form (RFC 1035 §5.1), always absolute, with `\.`, `\\` and `\DDD` escapes.
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for label in self.labels() {
            for &b in label {
                match b {
                    b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                        write!(f, "\\{}", b as char)?
                    }
                    0x21..=0x7e => write!(f, "{}", b as char)?,
                    _ => write!(f, "\\{b:03}")?,
                }
            }
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

impl std::str::FromStr for Name {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Name, NameError> {
        Name::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn parse_and_display_round_trip() {
        assert_eq!(n("www.Example.test.").to_string(), "www.Example.test.");
        assert_eq!(n("www.example.test").to_string(), "www.example.test.");
        assert_eq!(n(".").to_string(), ".");
        assert_eq!(n("a\\.b.test.").label_count(), 2);
        assert_eq!(n("a\\.b.test.").to_string(), "a\\.b.test.");
        assert_eq!(
            n("\\000\\255.test.").as_wire(),
            &[2, 0, 255, 4, b't', b'e', b's', b't', 0]
        );
        assert_eq!(n("\\000\\255.test.").to_string(), "\\000\\255.test.");
    }

    #[test]
    fn comparison_ignores_case_but_keeps_it() {
        let a = n("WWW.example.TEST.");
        assert_eq!(a, n("www.example.test."));
        assert_eq!(a.as_wire()[1], b'W');
        assert!(a.is_subdomain_of(&n("Example.Test.")));
        assert!(a.is_subdomain_of(&Name::root()));
        assert!(!n("example.test.").is_subdomain_of(&a));
        assert!(!n("wwwexample.test.").is_subdomain_of(&n("example.test.")));
    }

    #[test]
    fn limits() {
        let long = "a".repeat(64);
        assert_eq!(Name::parse(&long), Err(NameError::LabelTooLong));
        let many = "abcdefg.".repeat(32); // 256 octets in wire form
        assert_eq!(Name::parse(&many), Err(NameError::NameTooLong));
        assert_eq!(Name::parse("a..b."), Err(NameError::EmptyLabel));
        assert_eq!(Name::parse("a\\25"), Err(NameError::BadEscape));
        assert_eq!(Name::parse("a\\256"), Err(NameError::BadEscape));
    }

    #[test]
    fn relative_names() {
        let origin = n("example.test.");
        assert_eq!(
            Name::parse_relative("www", Some(&origin)).unwrap(),
            n("www.example.test.")
        );
        assert_eq!(Name::parse_relative("@", Some(&origin)).unwrap(), origin);
        assert!(Name::parse_relative("www", None).is_err());
        assert_eq!(n("www.example.test.").parent().unwrap(), origin);
        assert_eq!(Name::root().parent(), None);
    }

    #[test]
    fn canonical_order() {
        let mut v = [n("b.test."), n("test."), n("A.test."), n("z.a.test.")];
        v.sort();
        let s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        assert_eq!(s, ["test.", "A.test.", "z.a.test.", "b.test."]);
    }
}
