//! SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4), ESEARCH results (RFC 4731, RFC 9051 §7.3.4)
//! and SEARCHRES (RFC 5182).

use std::time::UNIX_EPOCH;

use wirecheck_store::Uid;

use super::ServerSession;
use super::selected::{Msg, Selected, compact};
use crate::date::{date_of, date_of_header};
use crate::mime;
use crate::types::{Date, SearchKey, SearchReturn, SeqNumber, SequenceSet as Set};
use wirecheck_message::Message;
use wirecheck_message::part::{Part, PartKind};

/// The charsets SEARCH accepts (RFC 9051 §6.4.4: US-ASCII and UTF-8 MUST be supported).
const CHARSETS: [&str; 2] = ["US-ASCII", "UTF-8"];

/// One message under test: what the keys look at, its content read only when needed.
struct Candidate<'a> {
    seq: u32,
    largest_seq: u32,
    largest_uid: Uid,
    msg: &'a Msg,
    recent: bool,
    content: Option<Message>,
}

fn needs_content(k: &SearchKey) -> bool {
    use SearchKey::*;
    match k {
        Bcc(_) | Body(_) | Cc(_) | From(_) | Header(..) | SentBefore(_) | SentOn(_) | SentSince(_) | Subject(_)
        | Text(_) | To(_) => true,
        Not(k) => needs_content(k),
        Or(a, b) => needs_content(a) || needs_content(b),
        And(ks) => ks.iter().any(needs_content),
        _ => false,
    }
}

/// Case-insensitive substring (RFC 9051 §6.4.4: "the matching is case-insensitive").
fn contains_ci(hay: &str, needle: &[u8]) -> bool {
    let needle = String::from_utf8_lossy(needle).to_lowercase();
    needle.is_empty() || hay.to_lowercase().contains(&needle)
}

/// A header field's values for matching: as written (unfolded) and with RFC 2047 words
/// decoded.
fn header_values(msg: &Message, name: &str) -> Vec<String> {
    msg.fields_named(name)
        .flat_map(|f| {
            let raw = f.value();
            let decoded = wirecheck_message::encoded_word::decode_text(&raw).text;
            [raw, decoded]
        })
        .collect()
}

impl Candidate<'_> {
    fn field_has(&self, name: &str, needle: &[u8]) -> bool {
        let Some(msg) = &self.content else { return false };
        let vals = header_values(msg, name);
        // RFC 9051 §6.4.4 HEADER: "If the string to search is zero-length, this matches all
        // messages that have a header line with the specified field-name".
        if needle.is_empty() {
            return !vals.is_empty();
        }
        vals.iter().any(|v| contains_ci(v, needle))
    }

    /// The body as stored, and each leaf part decoded (transfer encoding and charset).
    fn body_has(&self, needle: &[u8]) -> bool {
        let Some(msg) = &self.content else { return false };
        if contains_ci(&String::from_utf8_lossy(msg.body_bytes()), needle) {
            return true;
        }
        let mut texts = Vec::new();
        collect_decoded(msg, msg.root(), &mut texts, 0);
        texts.iter().any(|t| contains_ci(t, needle))
    }

    fn header_has(&self, needle: &[u8]) -> bool {
        let Some(msg) = &self.content else { return false };
        contains_ci(&String::from_utf8_lossy(msg.header_bytes()), needle)
            || msg
                .fields()
                .iter()
                .any(|f| contains_ci(&wirecheck_message::encoded_word::decode_text(&f.value()).text, needle))
    }

    fn internal_date(&self) -> Date {
        let secs = self.msg.internal_date.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        date_of(secs)
    }

    /// The Date: header's date; the internal date when there is none (as Dovecot does).
    fn sent_date(&self) -> Date {
        let date = self.content.as_ref().and_then(Message::date);
        date.map_or_else(|| self.internal_date(), |d| date_of_header(&d))
    }

    fn matches(&self, k: &SearchKey) -> bool {
        use SearchKey::*;
        let f = &self.msg.flags;
        match k {
            All => true,
            Answered => f.answered,
            Deleted => f.deleted,
            Draft => f.draft,
            Flagged => f.flagged,
            Seen => f.seen,
            Unanswered => !f.answered,
            Undeleted => !f.deleted,
            Undraft => !f.draft,
            Unflagged => !f.flagged,
            Unseen => !f.seen,
            Recent => self.recent,
            New => self.recent && !f.seen,
            Old => !self.recent,
            Keyword(kw) => f.keywords.iter().any(|x| x.eq_ignore_ascii_case(kw)),
            Unkeyword(kw) => !f.keywords.iter().any(|x| x.eq_ignore_ascii_case(kw)),
            Larger(n) => self.msg.size > u64::from(*n),
            Smaller(n) => self.msg.size < u64::from(*n),
            Before(d) => self.internal_date() < *d,
            On(d) => self.internal_date() == *d,
            Since(d) => self.internal_date() >= *d,
            SentBefore(d) => self.sent_date() < *d,
            SentOn(d) => self.sent_date() == *d,
            SentSince(d) => self.sent_date() >= *d,
            Bcc(s) => self.field_has("Bcc", s),
            Cc(s) => self.field_has("Cc", s),
            From(s) => self.field_has("From", s),
            To(s) => self.field_has("To", s),
            Subject(s) => self.field_has("Subject", s),
            Header(name, s) => self.field_has(name, s),
            Body(s) => self.body_has(s),
            // RFC 9051 §6.4.4 TEXT: "in the header or body of the message".
            Text(s) => self.header_has(s) || self.body_has(s),
            Uid(set) => set.contains(self.msg.uid, self.largest_uid),
            SequenceSet(set) => set.contains(self.seq, self.largest_seq),
            Not(k) => !self.matches(k),
            Or(a, b) => self.matches(a) || self.matches(b),
            And(ks) => ks.iter().all(|k| self.matches(k)),
        }
    }
}

/// Decoded text of the leaf parts (transfer encoding and charset undone), bounded depth.
fn collect_decoded(msg: &Message, p: &Part, out: &mut Vec<String>, depth: usize) {
    if depth > 16 {
        return;
    }
    match &p.kind {
        PartKind::Leaf => {
            let text = msg.text(p).unwrap_or_else(|| String::from_utf8_lossy(&msg.decoded_body(p).data).into_owned());
            out.push(text);
        }
        PartKind::Multipart(m) => m.parts.iter().for_each(|c| collect_decoded(msg, c, out, depth + 1)),
        PartKind::Message(inner) => collect_decoded(msg, inner, out, depth + 1),
    }
}

/// Replace `$` in the keys by the saved result (RFC 5182 §2.1), as a UID set.
fn substitute_saved(k: &SearchKey, saved: &[Uid]) -> SearchKey {
    use SearchKey::*;
    let saved_set = || {
        if saved.is_empty() {
            // RFC 5182 §2.1: an empty saved result matches nothing.
            Not(Box::new(All))
        } else {
            Uid(Set::Ranges(saved.iter().map(|&u| (SeqNumber::Value(u), SeqNumber::Value(u))).collect()))
        }
    };
    match k {
        SequenceSet(Set::Saved) | Uid(Set::Saved) => saved_set(),
        Not(k) => Not(Box::new(substitute_saved(k, saved))),
        Or(a, b) => Or(Box::new(substitute_saved(a, saved)), Box::new(substitute_saved(b, saved))),
        And(ks) => And(ks.iter().map(|k| substitute_saved(k, saved)).collect()),
        other => other.clone(),
    }
}

impl Selected {
    /// The messages matching all of `criteria`, as (sequence number, UID), ascending.
    fn search(&self, criteria: &[SearchKey]) -> Vec<(u32, Uid)> {
        let keys: Vec<SearchKey> = criteria.iter().map(|k| substitute_saved(k, &self.saved)).collect();
        let want_content = keys.iter().any(needs_content);
        let largest_seq = self.exists();
        let largest_uid = self.largest_uid();
        let mut hits = Vec::new();
        for (i, m) in self.msgs.iter().enumerate() {
            if m.gone {
                continue;
            }
            let content =
                if want_content { self.folder.read(m.uid).ok().map(|b| mime::parse(mime::to_crlf(b))) } else { None };
            if want_content && content.is_none() {
                continue;
            }
            let seq = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let c = Candidate { seq, largest_seq, largest_uid, msg: m, recent: self.recent.contains(&m.uid), content };
            if keys.iter().all(|k| c.matches(k)) {
                hits.push((seq, m.uid));
            }
        }
        hits
    }
}

impl ServerSession {
    /// RFC 9051 §6.4.4 SEARCH and §6.4.9 UID SEARCH.
    pub(super) fn search(
        &mut self,
        tag: &str,
        uid: bool,
        returns: Option<Vec<SearchReturn>>,
        charset: Option<String>,
        criteria: &[SearchKey],
    ) {
        if let Some(cs) = &charset
            && !CHARSETS.iter().any(|c| c.eq_ignore_ascii_case(cs))
        {
            // RFC 9051 §6.4.4: "NO [BADCHARSET] ... the charset is not supported".
            return self.tagged(tag, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
        }
        let rev2 = self.rev2;
        let Some(sel) = self.selected.as_mut() else { return };
        let hits = sel.search(criteria);
        let nums: Vec<u32> = hits.iter().map(|&(s, u)| if uid { u } else { s }).collect();
        // RFC 9051 §6.4.4: in IMAP4rev2 a SEARCH without RETURN is RETURN (ALL).
        let returns = match returns {
            Some(r) if r.is_empty() => Some(vec![SearchReturn::All]),
            None if rev2 => Some(vec![SearchReturn::All]),
            other => other,
        };
        let line = match &returns {
            None => Some(format!("SEARCH{}", nums.iter().map(|n| format!(" {n}")).collect::<String>())),
            Some(r) => {
                if r.contains(&SearchReturn::Save) {
                    sel.saved = hits.iter().map(|h| h.1).collect();
                }
                // RFC 5182 §2.4: SAVE alone produces no ESEARCH response.
                if r.iter().all(|x| *x == SearchReturn::Save) { None } else { Some(esearch(tag, uid, r, &nums)) }
            }
        };
        if let Some(l) = line {
            self.untagged(&l);
        }
        self.sync_selected(false);
        self.tagged(tag, "OK", "SEARCH completed");
    }
}

/// RFC 4731 §3.1 / RFC 9051 §7.3.4: `ESEARCH (TAG "t") [UID] MIN n MAX n COUNT n ALL set`.
fn esearch(tag: &str, uid: bool, returns: &[SearchReturn], nums: &[u32]) -> String {
    let mut out = String::from("ESEARCH (TAG ");
    let mut q = Vec::new();
    crate::codec::encode::string(&mut q, tag.as_bytes());
    out.push_str(&String::from_utf8_lossy(&q));
    out.push(')');
    if uid {
        out.push_str(" UID");
    }
    for r in returns {
        match r {
            SearchReturn::Min => {
                if let Some(m) = nums.first() {
                    out.push_str(&format!(" MIN {m}"));
                }
            }
            SearchReturn::Max => {
                if let Some(m) = nums.last() {
                    out.push_str(&format!(" MAX {m}"));
                }
            }
            SearchReturn::Count => out.push_str(&format!(" COUNT {}", nums.len())),
            SearchReturn::All => {
                if !nums.is_empty() {
                    out.push_str(&format!(" ALL {}", compact(nums)));
                }
            }
            SearchReturn::Save => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esearch_format() {
        let r = [SearchReturn::Min, SearchReturn::Max, SearchReturn::Count, SearchReturn::All];
        assert_eq!(esearch("a1", true, &r, &[2, 3, 4, 9]), "ESEARCH (TAG \"a1\") UID MIN 2 MAX 9 COUNT 4 ALL 2:4,9");
        assert_eq!(esearch("a1", false, &[SearchReturn::All], &[]), "ESEARCH (TAG \"a1\")");
    }

    #[test]
    fn case_insensitive_substring() {
        assert!(contains_ci("Test message 1", b"MESSAGE"));
        assert!(!contains_ci("Test", b"x"));
        assert!(contains_ci("", b""));
    }
}
