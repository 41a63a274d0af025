//! RFC references as transcripts write them (`"5321#4.1.4"`, `"5321#4.1.1.4-p3"`, `"5321"`),
//! parsed once for labels, grouping and links to the RFC Editor's HTML.

use std::cmp::Ordering;

/// A parsed RFC reference. Anything that does not parse keeps its raw text and gets no link.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RfcRef {
    /// The RFC number, `None` when the reference did not parse.
    pub number: Option<u32>,
    /// The section (`4.1.4`, `D.1`), empty for the whole RFC.
    pub section: String,
    /// The paragraph (`-p3`), if given.
    pub paragraph: Option<u32>,
    /// The text as written.
    pub raw: String,
}

impl RfcRef {
    /// Parse `NNNN`, `NNNN#section` or `NNNN#section-pN` (an `RFC` prefix is tolerated).
    pub fn parse(raw: &str) -> RfcRef {
        let bad = || RfcRef {
            number: None,
            section: String::new(),
            paragraph: None,
            raw: raw.to_string(),
        };
        let s = raw.trim();
        let s = s
            .get(..3)
            .filter(|p| p.eq_ignore_ascii_case("rfc"))
            .map_or(s, |_| s.get(3..).unwrap_or("").trim_start());
        let (num, rest) = s.split_once('#').unwrap_or((s, ""));
        let Some(number) = parse_digits(num.trim()) else {
            return bad();
        };
        let (section, paragraph) = match rest.rsplit_once("-p") {
            Some((sec, p)) => match parse_digits(p) {
                Some(p) => (sec, Some(p)),
                None => return bad(),
            },
            None => (rest, None),
        };
        let section_ok = section.split('.').all(|part| {
            !part.is_empty() && part.len() <= 8 && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if !section.is_empty() && !section_ok {
            return bad();
        }
        RfcRef {
            number: Some(number),
            section: section.to_string(),
            paragraph,
            raw: raw.to_string(),
        }
    }

    /// The same reference without its paragraph: what the summaries group by.
    pub fn section_only(&self) -> RfcRef {
        RfcRef {
            paragraph: None,
            raw: self.section_key(),
            ..self.clone()
        }
    }

    /// `5321#4.1.4` (no paragraph), or the raw text when it did not parse.
    pub fn section_key(&self) -> String {
        match (self.number, self.section.is_empty()) {
            (Some(n), true) => n.to_string(),
            (Some(n), false) => format!("{n}#{}", self.section),
            (None, _) => self.raw.clone(),
        }
    }

    /// "RFC 5321 §4.1.4 ¶3".
    pub fn label(&self) -> String {
        let Some(n) = self.number else {
            return self.raw.clone();
        };
        let mut s = format!("RFC {n}");
        if !self.section.is_empty() {
            s.push_str(" §");
            s.push_str(&self.section);
        }
        if let Some(p) = self.paragraph {
            s.push_str(&format!(" ¶{p}"));
        }
        s
    }

    /// The RFC Editor's page, at the section (`#section-4.1.4`, or `#appendix-D.1` for an
    /// appendix). Paragraph anchors only exist in RFCs published from XML v3, so links stop
    /// at the section.
    pub fn url(&self) -> Option<String> {
        let n = self.number?;
        let base = format!("https://www.rfc-editor.org/rfc/rfc{n}");
        Some(match self.section.bytes().next() {
            None => base,
            Some(b) if b.is_ascii_alphabetic() => format!("{base}#appendix-{}", self.section),
            Some(_) => format!("{base}#section-{}", self.section),
        })
    }

    /// A name safe in a JUnit classname: `rfc5321.s4_1_4`.
    pub fn class_part(&self) -> String {
        match self.number {
            Some(n) if self.section.is_empty() => format!("rfc{n}"),
            Some(n) => format!("rfc{n}.s{}", self.section.replace('.', "_")),
            None => "rfc-unparsed".to_string(),
        }
    }
}

fn parse_digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl Ord for RfcRef {
    /// Unparsed last; then by RFC number, then section in document order (`4.1.10` after
    /// `4.1.9`), then paragraph.
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.number, other.number) {
            (None, None) => self.raw.cmp(&other.raw),
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => a
                .cmp(&b)
                .then_with(|| cmp_sections(&self.section, &other.section))
                .then_with(|| self.paragraph.cmp(&other.paragraph))
                .then_with(|| self.raw.cmp(&other.raw)),
        }
    }
}

impl PartialOrd for RfcRef {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn cmp_sections(a: &str, b: &str) -> Ordering {
    let key = |s: &str| -> Vec<(u8, u64, String)> {
        s.split('.')
            .filter(|p| !p.is_empty())
            .map(|p| match p.parse::<u64>() {
                Ok(n) => (0, n, String::new()),
                Err(_) => (1, 0, p.to_string()),
            })
            .collect()
    };
    key(a).cmp(&key(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_paragraphs_and_appendices() {
        let r = RfcRef::parse("5321#4.1.1.4-p3");
        assert_eq!(
            (r.number, r.section.as_str(), r.paragraph),
            (Some(5321), "4.1.1.4", Some(3))
        );
        assert_eq!(r.label(), "RFC 5321 §4.1.1.4 ¶3");
        assert_eq!(
            r.url().unwrap(),
            "https://www.rfc-editor.org/rfc/rfc5321#section-4.1.1.4"
        );
        assert_eq!(r.section_key(), "5321#4.1.1.4");
        assert_eq!(
            RfcRef::parse("5321#D.1").url().unwrap(),
            "https://www.rfc-editor.org/rfc/rfc5321#appendix-D.1"
        );
        assert_eq!(
            RfcRef::parse("RFC 1939").url().unwrap(),
            "https://www.rfc-editor.org/rfc/rfc1939"
        );
        assert_eq!(RfcRef::parse("5321#4.1.4").class_part(), "rfc5321.s4_1_4");
    }

    #[test]
    fn junk_is_kept_raw_and_never_linked() {
        for raw in [
            "",
            "abc",
            "5321#4..1",
            "5321#\"><script>",
            "5321#4.1-px",
            "99999999#1",
        ] {
            let r = RfcRef::parse(raw);
            assert_eq!(r.number, None, "{raw}");
            assert_eq!(r.url(), None);
            assert_eq!(r.label(), raw);
        }
    }

    #[test]
    fn orders_sections_numerically() {
        let mut v: Vec<RfcRef> = [
            "5321#4.1.10",
            "1939#3",
            "5321#4.1.9",
            "junk",
            "5321#4.1.9-p2",
            "5321",
        ]
        .iter()
        .map(|s| RfcRef::parse(s))
        .collect();
        v.sort();
        let raws: Vec<&str> = v.iter().map(|r| r.raw.as_str()).collect();
        assert_eq!(
            raws,
            [
                "1939#3",
                "5321",
                "5321#4.1.9",
                "5321#4.1.9-p2",
                "5321#4.1.10",
                "junk"
            ]
        );
    }
}
