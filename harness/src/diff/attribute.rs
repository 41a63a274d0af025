//! Which command a reply unit answers, from the bytes sent on the connection.
//!
//! Replies come in the order of the commands (RFC 5321 §4.1.1, RFC 1939 §3, RFC 959 §4.2,
//! RFC 9051 §2.2.2 by tag), so an [`Attributor`] keeps the command lines sent and not yet
//! answered, and pops one per final reply: the greeting answers nothing, SMTP content after
//! a `354` to DATA is not commands (its reply answers the end of data), BDAT chunks and IMAP
//! literals are skipped by their announced length, FTP `1xx` replies are preliminary, IMAP
//! untagged data belongs to the oldest command not completed yet. It is the reference's
//! view of the conversation: a server that splits lines differently is still labelled by it.

use std::collections::VecDeque;

use serde::Serialize;

use crate::protocol::{Unit, UnitKind};

/// Lines remembered at most (a session never needs more).
const MAX_PENDING: usize = 10_000;
/// The longest partial line kept.
const MAX_PARTIAL: usize = 64 * 1024;

/// What a unit answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Label {
    /// The server's greeting (or anything before the first command).
    Greeting,
    /// This command line (without its line end).
    Command(Vec<u8>),
    /// SMTP: the end of the message content (`<CRLF>.<CRLF>`, RFC 5321 §4.1.1.4).
    EndOfData,
    /// Nothing sent is left to answer.
    Unsolicited,
}

impl Label {
    /// The command line, when the unit answers one.
    pub fn command(&self) -> Option<&[u8]> {
        match self {
            Label::Command(c) => Some(c),
            _ => None,
        }
    }

    /// A short name for tables and classes: the verb (`RCPT`, IMAP `SELECT`, DNS `A`), or
    /// `<greeting>`, `<end-of-data>`, `<unsolicited>`.
    pub fn verb(&self, protocol: &str) -> String {
        let line = match self {
            Label::Greeting => return "<greeting>".into(),
            Label::EndOfData => return "<end-of-data>".into(),
            Label::Unsolicited => return "<unsolicited>".into(),
            Label::Command(c) => c,
        };
        let mut words = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty());
        let w = match protocol {
            "imap" => words.nth(1),
            // `TYPE NAME`: the query type is the verb.
            "dns" => words.next(),
            _ => words.next(),
        }
        .unwrap_or_default();
        let v: String = String::from_utf8_lossy(w)
            .chars()
            .take(16)
            .map(|c| {
                if c.is_ascii_graphic() {
                    c.to_ascii_uppercase()
                } else {
                    '?'
                }
            })
            .collect();
        if v.is_empty() { "<empty>".into() } else { v }
    }

    /// The label as text (the command line escaped).
    pub fn describe(&self) -> String {
        match self {
            Label::Command(c) => wirecheck_reports::escape_bytes(c),
            _ => self.verb(""),
        }
    }
}

/// Pending command lines for one connection of one protocol.
#[derive(Debug)]
pub struct Attributor {
    protocol: String,
    greeted: bool,
    /// Labels not answered yet, with their ordinal (the how-manieth command sent).
    pending: VecDeque<(usize, Label)>,
    pushed: usize,
    partial: Vec<u8>,
    /// Raw octets still to skip (BDAT chunk, IMAP literal).
    skip: u64,
    /// SMTP: inside message content; lines are dropped until `.`.
    in_data: bool,
    /// IMAP: the first line of a command continued after a literal.
    continued: Option<Vec<u8>>,
}

impl Attributor {
    /// For a new connection of `protocol` (`smtp`, `pop3`, `ftp`, `imap`, `dns`).
    pub fn new(protocol: &str) -> Attributor {
        Attributor {
            protocol: protocol.to_string(),
            greeted: protocol == "dns",
            pending: VecDeque::new(),
            pushed: 0,
            partial: Vec::new(),
            skip: 0,
            in_data: false,
            continued: None,
        }
    }

    /// Bytes sent on the connection (DNS: one whole message, with or without the TCP
    /// length prefix).
    pub fn sent(&mut self, data: &[u8]) {
        if self.protocol == "dns" {
            self.push(Label::Command(dns_label(data).into_bytes()));
            return;
        }
        // Only CRLF ends a line (RFC 5321 §2.3.8; the reference's LineBuffer): a bare CR
        // or LF stays inside the line.
        self.partial.extend_from_slice(data);
        let mut at = 0;
        loop {
            if self.skip > 0 {
                let n = usize::try_from(self.skip)
                    .unwrap_or(usize::MAX)
                    .min(self.partial.len() - at);
                at += n;
                self.skip -= n as u64;
                if self.skip > 0 {
                    break;
                }
                continue;
            }
            match self.partial[at..].windows(2).position(|w| w == b"\r\n") {
                Some(i) => {
                    let line = self.partial[at..at + i].to_vec();
                    at += i + 2;
                    self.line(line);
                }
                None => break,
            }
        }
        self.partial.drain(..at);
        if self.partial.len() > MAX_PARTIAL {
            self.partial.clear();
        }
    }

    fn push(&mut self, l: Label) {
        if self.pending.len() < MAX_PENDING {
            self.pending.push_back((self.pushed, l));
        }
        self.pushed += 1;
    }

    /// How many commands (and ends of data) were sent so far.
    pub fn commands_sent(&self) -> usize {
        self.pushed
    }

    fn line(&mut self, line: Vec<u8>) {
        if self.in_data {
            if line == b"." {
                self.in_data = false;
                self.push(Label::EndOfData);
            }
            return;
        }
        match self.protocol.as_str() {
            "smtp" => {
                // RFC 3030 §2: `BDAT size` is followed by exactly size octets.
                let w: Vec<&[u8]> = line
                    .split(|&b| b == b' ')
                    .filter(|w| !w.is_empty())
                    .collect();
                if w.first().is_some_and(|v| v.eq_ignore_ascii_case(b"BDAT")) {
                    self.skip = w
                        .get(1)
                        .and_then(|n| std::str::from_utf8(n).ok()?.parse().ok())
                        .unwrap_or(0);
                }
                self.push(Label::Command(line));
            }
            "imap" => {
                // RFC 9051 §4.3: a literal `{n}` / `{n+}` ends the line; the command goes on
                // after its n octets.
                let first = self.continued.take().unwrap_or_else(|| line.clone());
                match literal_size(&line) {
                    Some(n) => {
                        self.skip = n;
                        self.continued = Some(first);
                    }
                    None => self.push(Label::Command(first)),
                }
            }
            _ => self.push(Label::Command(line)),
        }
    }

    /// The label of the next unit received.
    pub fn label(&mut self, unit: &Unit) -> Label {
        self.label_ordinal(unit).0
    }

    /// The label of the next unit received, and the ordinal of the command it answers.
    pub fn label_ordinal(&mut self, unit: &Unit) -> (Label, Option<usize>) {
        if !self.greeted {
            let final_reply = match self.protocol.as_str() {
                "ftp" => unit.code.is_none_or(|c| c >= 200),
                _ => true,
            };
            if final_reply {
                self.greeted = true;
            }
            return (Label::Greeting, None);
        }
        let found = match self.protocol.as_str() {
            "imap" => self.imap_label(unit),
            "ftp" if unit.code.is_some_and(|c| c < 200) => self.pending.front().cloned(),
            _ => {
                let l = self.pending.pop_front();
                let data = l
                    .as_ref()
                    .and_then(|(_, l)| l.command())
                    .is_some_and(|c| verb_is(c, b"DATA"));
                if self.protocol == "smtp" && unit.code == Some(354) && data {
                    self.start_data();
                }
                l
            }
        };
        match found {
            Some((n, l)) => (l, Some(n)),
            None => (Label::Unsolicited, None),
        }
    }

    /// After `354`: the lines already queued up to `.` are content.
    fn start_data(&mut self) {
        match self
            .pending
            .iter()
            .position(|(_, l)| l.command() == Some(b"."))
        {
            Some(end) => {
                let n = self.pending.get(end).map_or(self.pushed, |(n, _)| *n);
                self.pending.drain(..=end);
                self.pending.push_front((n, Label::EndOfData));
            }
            None => {
                // Everything queued is content; the rest comes later.
                self.pending
                    .retain(|(_, l)| !matches!(l, Label::Command(_)));
                self.in_data = true;
            }
        }
    }

    fn imap_label(&mut self, unit: &Unit) -> Option<(usize, Label)> {
        match &unit.kind {
            UnitKind::Tagged(tag) => {
                let at = self.pending.iter().position(|(_, l)| {
                    l.command()
                        .and_then(|c| c.split(|&b| b == b' ').next())
                        .is_some_and(|t| t.eq_ignore_ascii_case(tag.as_bytes()))
                })?;
                self.pending.remove(at)
            }
            _ => self.pending.front().cloned(),
        }
    }
}

fn verb_is(line: &[u8], verb: &[u8]) -> bool {
    line.split(|&b| b == b' ')
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(verb))
}

/// `{n}` or `{n+}` at the end of an IMAP line.
fn literal_size(line: &[u8]) -> Option<u64> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let digits = inner.get(open + 1..)?;
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A DNS query as `TYPE NAME` (or `<malformed>`).
fn dns_label(data: &[u8]) -> String {
    use wirecheck_dns::codec;
    let msg = codec::decode(data).or_else(|e| match codec::tcp_frame(data) {
        Some((used, m)) if used == data.len() => codec::decode(m),
        _ => Err(e),
    });
    match msg.ok().as_ref().and_then(|m| m.question()) {
        Some(q) => format!("{} {}", q.qtype, q.name),
        None => "<malformed>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(code: u16) -> Unit {
        Unit {
            code: Some(code),
            ..Unit::default()
        }
    }

    #[test]
    fn smtp_data_content_is_not_commands() {
        let mut a = Attributor::new("smtp");
        assert_eq!(a.label(&smtp(220)), Label::Greeting);
        a.sent(b"MAIL FROM:<a@b>\r\nDATA\r\nSubject: x\r\n\r\nRCPT TO:<c@d>\r\n.\r\nQUIT\r\n");
        assert_eq!(a.label(&smtp(250)).verb("smtp"), "MAIL");
        assert_eq!(a.label(&smtp(354)).verb("smtp"), "DATA");
        assert_eq!(a.label(&smtp(250)), Label::EndOfData);
        assert_eq!(a.label(&smtp(221)).verb("smtp"), "QUIT");
        assert_eq!(a.label(&smtp(221)), Label::Unsolicited);
    }

    #[test]
    fn smtp_content_sent_after_the_354() {
        let mut a = Attributor::new("smtp");
        a.label(&smtp(220));
        a.sent(b"DATA\r\n");
        assert_eq!(a.label(&smtp(354)).verb("smtp"), "DATA");
        a.sent(b"hello\r\nMAIL FROM:<x>\r\n.\r\nNOOP\r\n");
        assert_eq!(a.label(&smtp(250)), Label::EndOfData);
        assert_eq!(a.label(&smtp(250)).verb("smtp"), "NOOP");
    }

    #[test]
    fn refused_data_leaves_the_lines_as_commands() {
        let mut a = Attributor::new("smtp");
        a.label(&smtp(220));
        a.sent(b"DATA\r\nNOOP\r\n");
        assert_eq!(a.label(&smtp(503)).verb("smtp"), "DATA");
        assert_eq!(a.label(&smtp(250)).verb("smtp"), "NOOP");
    }

    #[test]
    fn bdat_chunks_are_skipped() {
        let mut a = Attributor::new("smtp");
        a.label(&smtp(220));
        a.sent(b"BDAT 7 LAST\r\nx\r\ny\r");
        a.sent(b"\nzNOOP\r\nRCPT\nNOOP\r");
        a.sent(b"\n");
        assert_eq!(a.label(&smtp(250)).verb("smtp"), "BDAT");
        assert_eq!(a.label(&smtp(250)).verb("smtp"), "NOOP");
        assert_eq!(
            a.label(&smtp(500)),
            Label::Command(b"RCPT\nNOOP".to_vec()),
            "a bare LF does not end a line"
        );
    }

    #[test]
    fn ftp_preliminary_replies_do_not_pop() {
        let mut a = Attributor::new("ftp");
        assert_eq!(a.label(&smtp(120)), Label::Greeting);
        assert_eq!(a.label(&smtp(220)), Label::Greeting);
        a.sent(b"RETR f\r\nQUIT\r\n");
        assert_eq!(a.label(&smtp(150)).verb("ftp"), "RETR");
        assert_eq!(a.label(&smtp(226)).verb("ftp"), "RETR");
        assert_eq!(a.label(&smtp(221)).verb("ftp"), "QUIT");
    }

    #[test]
    fn imap_tags_and_literals() {
        let mut a = Attributor::new("imap");
        let untagged = Unit {
            kind: UnitKind::Untagged,
            ..Unit::default()
        };
        let tagged = |t: &str| Unit {
            kind: UnitKind::Tagged(t.into()),
            ..Unit::default()
        };
        assert_eq!(a.label(&untagged), Label::Greeting);
        a.sent(b"a1 LOGIN {5}\r\nalice secret\r\na2 SELECT INBOX\r\n");
        assert_eq!(a.label(&untagged).verb("imap"), "LOGIN");
        assert_eq!(a.label(&tagged("a1")).verb("imap"), "LOGIN");
        assert_eq!(a.label(&untagged).verb("imap"), "SELECT");
        assert_eq!(a.label(&tagged("a2")).verb("imap"), "SELECT");
        assert_eq!(a.label(&tagged("zz")), Label::Unsolicited);
    }
}
