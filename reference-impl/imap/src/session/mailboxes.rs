//! Commands on mailboxes as a whole (RFC 9051 §6.3): SELECT / EXAMINE, CREATE, DELETE,
//! RENAME, SUBSCRIBE / UNSUBSCRIBE, LIST (RFC 5258 options, RFC 5819 STATUS), LSUB, STATUS,
//! APPEND (RFC 4315 APPENDUID).
//!
//! Subscriptions are kept per user in `<store root>/.imap-subscriptions/<hex user name>`
//! (one name a line, replaced atomically): the store itself has no notion of them, and a
//! name starting with `.` never collides with its per-user directories.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use wirecheck_store::{DELIMITER, INBOX, StoreError};

use super::selected::{Selected, compact, parse_flags};
use super::{ServerSession, State, store_error_text};
use crate::codec::encode::astring;
use crate::types::{DateTime, ListReturn, ListSelect, Mailbox, StatusItem};

/// One LIST candidate: a name and whether it exists as a mailbox.
struct Candidate {
    name: String,
    exists: bool,
}

impl ServerSession {
    fn user_name(&self) -> String {
        self.user.clone().unwrap_or_default()
    }

    /// RFC 9051 §6.3.2 SELECT and §6.3.3 EXAMINE.
    pub(super) fn select(&mut self, tag: &str, mailbox: &Mailbox, read_only: bool) {
        if self.selected.take().is_some() {
            self.state = State::Authenticated;
            if self.rev2 {
                // RFC 9051 §7.1: CLOSED "the previously selected mailbox is now closed".
                self.untagged("OK [CLOSED] Previous mailbox closed");
            }
        }
        let user = self.user_name();
        let opened = self.store.folder(&user, mailbox.as_str()).and_then(|f| Selected::open(f, read_only));
        let sel = match opened {
            Ok(s) => s,
            Err(e) => return self.tagged(tag, "NO", &store_error_text(&e)),
        };
        let status = sel.folder.status();
        let keywords = sel.keywords().join(" ");
        let kw = if keywords.is_empty() { String::new() } else { format!(" {keywords}") };
        self.untagged(&format!("FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft{kw})"));
        self.untagged(&format!("{} EXISTS", sel.exists()));
        if !self.rev2 {
            self.untagged(&format!("{} RECENT", sel.recent.len()));
            // RFC 3501 §6.3.1: UNSEEN is the first unseen message's sequence number.
            if let Some(i) = sel.msgs.iter().position(|m| !m.flags.seen) {
                self.untagged(&format!("OK [UNSEEN {}] First unseen", i + 1));
            }
        }
        if read_only {
            self.untagged("OK [PERMANENTFLAGS ()] Read-only mailbox");
        } else {
            self.untagged(&format!(
                "OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft{kw} \\*)] Flags permitted"
            ));
        }
        self.untagged(&format!("OK [UIDVALIDITY {}] UIDs valid", sel.folder.uidvalidity()));
        if let Ok(st) = status {
            self.untagged(&format!("OK [UIDNEXT {}] Predicted next UID", st.uidnext));
        }
        if self.rev2 {
            // RFC 9051 §6.3.2: "the server MUST send a LIST response with the mailbox name".
            let mut line = b"* LIST () \"/\" ".to_vec();
            astring(&mut line, sel.folder.name().as_bytes());
            line.extend_from_slice(b"\r\n");
            self.send(&line);
        }
        self.selected = Some(sel);
        self.state = State::Selected;
        let code = if read_only { "[READ-ONLY]" } else { "[READ-WRITE]" };
        let name = if read_only { "EXAMINE" } else { "SELECT" };
        self.tagged(tag, "OK", &format!("{code} {name} completed"));
    }

    /// RFC 9051 §6.3.4 CREATE. A trailing delimiter declares a future parent; superior
    /// names are created as needed (the store does).
    pub(super) fn create(&mut self, tag: &str, mailbox: &Mailbox) {
        let name = mailbox.as_str().trim_end_matches(DELIMITER);
        if name.eq_ignore_ascii_case(INBOX) {
            return self.tagged(tag, "NO", "[ALREADYEXISTS] INBOX always exists");
        }
        let user = self.user_name();
        match self.store.create_folder(&user, name) {
            Ok(_) => self.tagged(tag, "OK", "CREATE completed"),
            Err(e) => self.tagged(tag, "NO", &store_error_text(&e)),
        }
    }

    /// RFC 9051 §6.3.5 DELETE.
    pub(super) fn delete(&mut self, tag: &str, mailbox: &Mailbox) {
        let user = self.user_name();
        let selected_here = self.selected.as_ref().is_some_and(|s| s.folder.name() == mailbox.as_str());
        match self.store.delete_folder(&user, mailbox.as_str()) {
            Ok(()) => {
                if selected_here {
                    self.selected = None;
                    self.state = State::Authenticated;
                }
                self.tagged(tag, "OK", "DELETE completed");
            }
            Err(e) => self.tagged(tag, "NO", &store_error_text(&e)),
        }
    }

    /// RFC 9051 §6.3.6 RENAME.
    pub(super) fn rename(&mut self, tag: &str, from: &Mailbox, to: &Mailbox) {
        let user = self.user_name();
        match self.store.rename_folder(&user, from.as_str(), to.as_str()) {
            Ok(()) => self.tagged(tag, "OK", "RENAME completed"),
            Err(e) => self.tagged(tag, "NO", &store_error_text(&e)),
        }
    }

    fn subscriptions_path(&self) -> PathBuf {
        let hex: String = self.user_name().bytes().map(|b| format!("{b:02x}")).collect();
        self.store.root().join(".imap-subscriptions").join(hex)
    }

    fn subscriptions(&self) -> BTreeSet<String> {
        std::fs::read_to_string(self.subscriptions_path())
            .map(|t| t.lines().filter(|l| !l.is_empty()).map(str::to_string).collect())
            .unwrap_or_default()
    }

    fn save_subscriptions(&self, subs: &BTreeSet<String>) -> std::io::Result<()> {
        let path = self.subscriptions_path();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let text: String = subs.iter().map(|s| format!("{s}\n")).collect();
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)
    }

    /// RFC 9051 §6.3.7 SUBSCRIBE / §6.3.8 UNSUBSCRIBE. Subscribing to a name that does not
    /// exist is allowed by RFC 9051 ("a server MAY validate"); we require it to exist, as
    /// Dovecot does, and allow unsubscribing from anything subscribed.
    pub(super) fn subscribe(&mut self, tag: &str, mailbox: &Mailbox, on: bool) {
        let name = match wirecheck_store::canonical_folder(mailbox.as_str()) {
            Ok(n) => n,
            Err(e) => return self.tagged(tag, "NO", &store_error_text(&e)),
        };
        let user = self.user_name();
        let mut subs = self.subscriptions();
        if on {
            if let Err(e) = self.store.folder(&user, &name) {
                return self.tagged(tag, "NO", &store_error_text(&e));
            }
            subs.insert(name);
        } else if !subs.remove(&name) {
            return self.tagged(tag, "NO", "[NONEXISTENT] Not subscribed to that mailbox");
        }
        match self.save_subscriptions(&subs) {
            Ok(()) => self.tagged(tag, "OK", if on { "SUBSCRIBE completed" } else { "UNSUBSCRIBE completed" }),
            Err(_) => self.tagged(tag, "NO", "[SERVERBUG] Cannot save subscriptions"),
        }
    }

    /// Existing folders plus their superior names that do not exist.
    fn candidates(&self) -> Result<Vec<Candidate>, StoreError> {
        let names = self.store.list_folders(&self.user_name())?;
        let existing: BTreeSet<String> = names.iter().cloned().collect();
        let mut all: BTreeSet<String> = existing.clone();
        for n in &names {
            let mut prefix = String::new();
            for part in n.split(DELIMITER) {
                if !prefix.is_empty() {
                    all.insert(prefix.clone());
                    prefix.push(DELIMITER);
                }
                prefix.push_str(part);
            }
        }
        Ok(all.into_iter().map(|n| Candidate { exists: existing.contains(&n), name: n }).collect())
    }

    /// RFC 9051 §6.3.9 LIST, with RFC 5258 selection / return options and RFC 5819 STATUS.
    pub(super) fn list(
        &mut self,
        tag: &str,
        select: &[ListSelect],
        reference: &Mailbox,
        patterns: &[Mailbox],
        returns: &[ListReturn],
    ) {
        // RFC 9051 §6.3.9: an empty pattern asks for the delimiter and root.
        if patterns.len() == 1 && patterns[0].as_str().is_empty() && select.is_empty() {
            self.untagged("LIST (\\Noselect) \"/\" \"\"");
            return self.tagged(tag, "OK", "LIST completed");
        }
        let candidates = match self.candidates() {
            Ok(c) => c,
            Err(e) => return self.tagged(tag, "NO", &store_error_text(&e)),
        };
        let subs = self.subscriptions();
        let only_subscribed = select.contains(&ListSelect::Subscribed);
        let want_subscribed = only_subscribed || returns.contains(&ListReturn::Subscribed);
        let status_items = returns.iter().find_map(|r| match r {
            ListReturn::Status(items) => Some(items.clone()),
            _ => None,
        });
        let full: Vec<String> = patterns.iter().map(|p| canonical_pattern(reference.as_str(), p.as_str())).collect();
        let mut names: Vec<(String, bool)> = Vec::new();
        for c in &candidates {
            if full.iter().any(|p| pattern_matches(p.as_bytes(), c.name.as_bytes()))
                && (c.exists || !full.iter().any(|p| p.contains('*')))
            {
                names.push((c.name.clone(), c.exists));
            }
        }
        if only_subscribed {
            names.retain(|(n, _)| subs.contains(n));
            for s in &subs {
                if !candidates.iter().any(|c| &c.name == s)
                    && full.iter().any(|p| pattern_matches(p.as_bytes(), s.as_bytes()))
                {
                    names.push((s.clone(), false));
                }
            }
        }
        for (name, exists) in names {
            let mut attrs: Vec<&str> = Vec::new();
            if !exists {
                attrs.push(if self.rev2 || only_subscribed { "\\NonExistent" } else { "\\Noselect" });
            }
            let child_prefix = format!("{name}{DELIMITER}");
            let has_children = candidates.iter().any(|c| c.name.starts_with(&child_prefix));
            attrs.push(if has_children { "\\HasChildren" } else { "\\HasNoChildren" });
            if want_subscribed && subs.contains(&name) {
                attrs.push("\\Subscribed");
            }
            let mut line = format!("* LIST ({}) \"/\" ", attrs.join(" ")).into_bytes();
            astring(&mut line, name.as_bytes());
            line.extend_from_slice(b"\r\n");
            self.send(&line);
            if let (Some(items), true) = (&status_items, exists) {
                // RFC 5819 §2: STATUS right after the LIST response of each selectable name.
                if let Some(l) = self.status_line(&name, items) {
                    self.send(&l);
                }
            }
        }
        self.tagged(tag, "OK", "LIST completed");
    }

    /// RFC 3501 §6.3.9 LSUB.
    pub(super) fn lsub(&mut self, tag: &str, reference: &Mailbox, pattern: &Mailbox) {
        let p = canonical_pattern(reference.as_str(), pattern.as_str());
        for s in self.subscriptions() {
            if pattern_matches(p.as_bytes(), s.as_bytes()) {
                let mut line = b"* LSUB () \"/\" ".to_vec();
                astring(&mut line, s.as_bytes());
                line.extend_from_slice(b"\r\n");
                self.send(&line);
            }
        }
        self.tagged(tag, "OK", "LSUB completed");
    }

    /// `* STATUS name (…)` for a mailbox, or None if it cannot be read.
    fn status_line(&self, name: &str, items: &[StatusItem]) -> Option<Vec<u8>> {
        let folder = self.store.folder(&self.user_name(), name).ok()?;
        let st = folder.status().ok()?;
        let needs_messages = items.iter().any(|i| matches!(i, StatusItem::Deleted | StatusItem::Size));
        let msgs = if needs_messages { folder.messages().ok()? } else { Vec::new() };
        let values: Vec<String> = items
            .iter()
            .map(|i| {
                let v: u64 = match i {
                    StatusItem::Messages => st.messages as u64,
                    StatusItem::Recent => st.recent as u64,
                    StatusItem::UidNext => u64::from(st.uidnext),
                    StatusItem::UidValidity => u64::from(st.uidvalidity),
                    StatusItem::Unseen => st.unseen as u64,
                    StatusItem::Deleted => msgs.iter().filter(|m| m.flags.deleted).count() as u64,
                    StatusItem::Size => msgs.iter().map(|m| m.crlf_size).sum(),
                };
                format!("{} {v}", i.as_str())
            })
            .collect();
        let mut line = b"* STATUS ".to_vec();
        astring(&mut line, folder.name().as_bytes());
        line.extend_from_slice(format!(" ({})\r\n", values.join(" ")).as_bytes());
        Some(line)
    }

    /// RFC 9051 §6.3.11 STATUS.
    pub(super) fn status(&mut self, tag: &str, mailbox: &Mailbox, items: &[StatusItem]) {
        let user = self.user_name();
        if let Err(e) = self.store.folder(&user, mailbox.as_str()) {
            return self.tagged(tag, "NO", &store_error_text(&e));
        }
        match self.status_line(mailbox.as_str(), items) {
            Some(l) => {
                self.send(&l);
                self.tagged(tag, "OK", "STATUS completed");
            }
            None => self.tagged(tag, "NO", "[SERVERBUG] Cannot read mailbox status"),
        }
    }

    /// RFC 9051 §6.3.12 APPEND, with APPENDUID (RFC 4315 §3).
    pub(super) fn append(
        &mut self,
        tag: &str,
        mailbox: &Mailbox,
        flags: &[String],
        date: Option<DateTime>,
        message: &[u8],
    ) {
        let flags = match parse_flags(flags) {
            Ok(f) => f,
            Err(why) => return self.tagged(tag, "BAD", &why),
        };
        let user = self.user_name();
        let folder = match self.store.folder(&user, mailbox.as_str()) {
            Ok(f) => f,
            // RFC 9051 §6.3.12: "[TRYCREATE] ... if the destination mailbox does not exist".
            Err(StoreError::NoSuchFolder(_)) => return self.tagged(tag, "NO", "[TRYCREATE] Mailbox does not exist"),
            Err(e) => return self.tagged(tag, "NO", &store_error_text(&e)),
        };
        let when = date.map(|d| {
            if d.unix >= 0 {
                UNIX_EPOCH + Duration::from_secs(d.unix.unsigned_abs())
            } else {
                UNIX_EPOCH.checked_sub(Duration::from_secs(d.unix.unsigned_abs())).unwrap_or(UNIX_EPOCH)
            }
        });
        match folder.append(message, &flags, when) {
            Ok(uid) => {
                if self.selected.as_ref().is_some_and(|s| s.folder.name() == folder.name()) {
                    self.sync_selected(true);
                }
                let code = format!("[APPENDUID {} {}]", folder.uidvalidity(), compact(&[uid]));
                self.tagged(tag, "OK", &format!("{code} APPEND completed"));
            }
            Err(e) => self.tagged(tag, "NO", &store_error_text(&e)),
        }
    }
}

/// RFC 3501 §6.3.8: the reference and the pattern joined; a first component INBOX in any
/// case is INBOX (RFC 9051 §5.1).
fn canonical_pattern(reference: &str, pattern: &str) -> String {
    let joined = if reference.is_empty() || pattern.starts_with(DELIMITER) {
        pattern.to_string()
    } else {
        format!("{reference}{pattern}")
    };
    match joined.split_once(DELIMITER) {
        Some((first, rest)) if first.eq_ignore_ascii_case(INBOX) => format!("{INBOX}{DELIMITER}{rest}"),
        None if joined.eq_ignore_ascii_case(INBOX) => INBOX.to_string(),
        _ => joined,
    }
}

/// RFC 9051 §6.3.9: `*` matches zero or more characters, `%` the same but not the
/// hierarchy delimiter. Dynamic programming: no exponential backtracking.
fn pattern_matches(pattern: &[u8], name: &[u8]) -> bool {
    let delim = DELIMITER as u8;
    // row[j]: pattern[..i] matches name[..j].
    let mut row = vec![false; name.len() + 1];
    row[0] = true;
    for &p in pattern {
        let mut next = vec![false; name.len() + 1];
        match p {
            b'*' | b'%' => {
                let mut carry = false;
                for j in 0..=name.len() {
                    // A wildcard extends a match over name[j-1] (never over "/" for %).
                    carry = row[j] || (carry && j > 0 && (p == b'*' || name[j - 1] != delim));
                    next[j] = carry;
                }
            }
            _ => {
                for j in 1..=name.len() {
                    next[j] = row[j - 1] && name[j - 1] == p;
                }
            }
        }
        row = next;
    }
    row[name.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(pattern_matches(b"*", b"a/b/c"));
        assert!(pattern_matches(b"%", b"abc"));
        assert!(!pattern_matches(b"%", b"a/b"));
        assert!(pattern_matches(b"a/%", b"a/b"));
        assert!(!pattern_matches(b"a/%", b"a/b/c"));
        assert!(pattern_matches(b"a*c", b"a/b/c"));
        assert!(pattern_matches(b"INBOX", b"INBOX"));
        assert!(!pattern_matches(b"INBOX", b"INBOX/x"));
        assert!(pattern_matches(b"", b""));
    }

    #[test]
    fn references() {
        assert_eq!(canonical_pattern("", "inbox"), "INBOX");
        assert_eq!(canonical_pattern("a/", "%"), "a/%");
        assert_eq!(canonical_pattern("a/", "/x"), "/x");
        assert_eq!(canonical_pattern("", "Inbox/%"), "INBOX/%");
    }
}
