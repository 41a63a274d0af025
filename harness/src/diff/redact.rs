//! What legitimately differs between two servers' data, replaced by placeholders before it
//! is compared: dates and times, addresses and ports, host names, ids.

use std::sync::LazyLock;

use regex::Regex;

static REDACTIONS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let days = "Mon|Tue|Wed|Thu|Fri|Sat|Sun";
    let months = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec";
    let list = [
        // RFC 5322 §3.3 date-time.
        (
            format!(
                r"(?i)\b(?:(?:{days}),\s*)?\d{{1,2}}\s+(?:{months})\s+\d{{2,4}}\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:\s*[+-]\d{{4}}|\s*[A-Z]{{2,5}})?"
            ),
            "<date>",
        ),
        // RFC 9051 date-time (INTERNALDATE).
        (
            format!(r#"(?i)\d{{1,2}}-(?:{months})-\d{{4}} \d{{2}}:\d{{2}}:\d{{2}} [+-]\d{{4}}"#),
            "<date>",
        ),
        // ISO 8601 and RFC 3659 time-val.
        (
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
                .into(),
            "<date>",
        ),
        (r"\b\d{14}(?:\.\d+)?\b".into(), "<date>"),
        (r"\b\d{2}:\d{2}:\d{2}\b".into(), "<time>"),
        // Addresses and ports (RFC 959 PASV tuples, RFC 2428 EPSV).
        (r"\(\d{1,3}(?:,\d{1,3}){5}\)".into(), "(<addr>)"),
        (r"\(\|\|\|\d+\|\)".into(), "(|||<port>|)"),
        (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b".into(), "<ip>"),
        (r"\[[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*\]".into(), "[<ip>]"),
        // Host names (two or more dots, at least one letter).
        (
            r"\b(?:[A-Za-z0-9-]+\.){2,}[A-Za-z][A-Za-z0-9-]*\.?".into(),
            "<host>",
        ),
        // UIDVALIDITY-like numbers.
        (r"\b[0-9]{6,}\b".into(), "<id>"),
    ];
    list.into_iter()
        .filter_map(|(re, to)| Regex::new(&re).ok().map(|r| (r, to)))
        .collect()
});

/// `text` with what legitimately differs between servers replaced: dates and times,
/// addresses and ports, host names with two or more dots, and ids (tokens mixing letters
/// and digits, numbers of six or more digits).
pub fn redact(text: &str) -> String {
    let mut s = text.to_string();
    for (re, to) in REDACTIONS.iter() {
        if re.is_match(&s) {
            s = re.replace_all(&s, *to).into_owned();
        }
    }
    // Queue ids, session ids: tokens of ten or more letters and digits, mixing both.
    if let Some(re) = TOKEN.as_ref()
        && re.is_match(&s)
    {
        s = re
            .replace_all(&s, |c: &regex::Captures<'_>| {
                let t = &c[0];
                let mixed = t.bytes().any(|b| b.is_ascii_digit())
                    && t.bytes().any(|b| b.is_ascii_alphabetic());
                if mixed {
                    "<id>".to_string()
                } else {
                    t.to_string()
                }
            })
            .into_owned();
    }
    s
}

static TOKEN: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\b[0-9A-Za-z]{10,}\b").ok());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        assert_eq!(
            redact("Tue, 02 Jan 2024 10:00:00 +0000 from 127.0.0.1:2525"),
            "<date> from <ip>"
        );
        assert_eq!(redact("queued as 4F2A9C1B3D"), "queued as <id>");
        assert_eq!(redact("mail.example.test ESMTP"), "<host> ESMTP");
        assert_eq!(
            redact("Entering Passive Mode (127,0,0,1,4,1)"),
            "Entering Passive Mode (<addr>)"
        );
        assert_eq!(redact("2 messages"), "2 messages");
    }
}
