//! The selected mailbox (RFC 9051 §3.3): the session's view of message sequence numbers,
//! UIDs and flags, kept in step with the store, and the commands that change it (STORE,
//! COPY, MOVE, EXPUNGE, CLOSE).
//!
//! Other sessions' changes reach the client as untagged EXPUNGE / EXISTS / FETCH at the
//! end of a command (RFC 9051 §7.4.1, §5.2). RFC 3501 §7.4.1: "An EXPUNGE response MUST
//! NOT be sent when no command is in progress, nor while responding to a FETCH, STORE, or
//! SEARCH command"; until it may be sent, a message removed elsewhere keeps its sequence
//! number here (marked `gone`).

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use wirecheck_store::{Flag, FlagOp, Flags, Folder, StoreError, Uid};

use super::{ServerSession, State, store_error_text};
use crate::codec::canonical_system_flag;
use crate::types::{Mailbox, SequenceSet, StoreMode};

/// One message as the session knows it.
#[derive(Debug, Clone)]
pub(crate) struct Msg {
    pub uid: Uid,
    pub flags: Flags,
    pub size: u64,
    pub internal_date: SystemTime,
    /// Removed from the store; its EXPUNGE has not been sent yet.
    pub gone: bool,
}

pub(crate) struct Selected {
    pub folder: Folder,
    pub read_only: bool,
    pub msgs: Vec<Msg>,
    /// Messages that are `\Recent` for this session (RFC 3501 §2.3.2).
    pub recent: HashSet<Uid>,
    changes: u64,
    /// RFC 5182 SEARCHRES: the result saved by `SEARCH RETURN (SAVE)`, as UIDs.
    pub saved: Vec<Uid>,
}

impl Selected {
    /// Open `folder`; claim its new messages as `\Recent` unless read-only (RFC 3501 §6.3.2:
    /// EXAMINE "MUST NOT cause messages to lose the \Recent flag").
    pub fn open(folder: Folder, read_only: bool) -> Result<Selected, StoreError> {
        let claimed: HashSet<Uid> =
            if read_only { HashSet::new() } else { folder.claim_recent()?.into_iter().collect() };
        let changes = folder.changes()?;
        let infos = folder.messages()?;
        let recent =
            infos.iter().filter(|i| claimed.contains(&i.uid) || (read_only && i.recent)).map(|i| i.uid).collect();
        let msgs = infos
            .into_iter()
            .map(|i| Msg { uid: i.uid, flags: i.flags, size: i.crlf_size, internal_date: i.internal_date, gone: false })
            .collect();
        Ok(Selected { folder, read_only, msgs, recent, changes, saved: Vec::new() })
    }

    /// The number of messages (RFC 9051 §7.4.1 EXISTS).
    pub fn exists(&self) -> u32 {
        u32::try_from(self.msgs.len()).unwrap_or(u32::MAX)
    }

    /// The largest UID in the view (0 when empty).
    pub fn largest_uid(&self) -> Uid {
        self.msgs.last().map_or(0, |m| m.uid)
    }

    /// The indices (0-based sequence positions) a set names. Message sequence numbers out of
    /// range are an error (RFC 9051 §9 `seq-number`); UIDs not present are ignored
    /// (RFC 9051 §6.4.9).
    pub fn resolve(&self, set: &SequenceSet, uid: bool) -> Result<Vec<usize>, &'static str> {
        if *set == SequenceSet::Saved {
            let saved: HashSet<Uid> = self.saved.iter().copied().collect();
            return Ok(self.msgs.iter().enumerate().filter(|(_, m)| saved.contains(&m.uid)).map(|(i, _)| i).collect());
        }
        if uid {
            let largest = self.largest_uid();
            return Ok(self
                .msgs
                .iter()
                .enumerate()
                .filter(|(_, m)| set.contains(m.uid, largest))
                .map(|(i, _)| i)
                .collect());
        }
        let n = self.exists();
        if n == 0 || !set.all_within(n) {
            return Err("Invalid message sequence number");
        }
        Ok((0..self.msgs.len()).filter(|&i| set.contains(u32::try_from(i + 1).unwrap_or(u32::MAX), n)).collect())
    }

    /// Bring the view up to date with the store; returns the untagged responses to send:
    /// EXPUNGE (when allowed), EXISTS, RECENT (rev1), and FETCH FLAGS for flag changes.
    pub fn sync(&mut self, allow_expunge: bool, rev2: bool) -> Result<Vec<String>, StoreError> {
        let changes = self.folder.changes()?;
        let pending_gone = allow_expunge && self.msgs.iter().any(|m| m.gone);
        if changes == self.changes && !pending_gone {
            return Ok(Vec::new());
        }
        let claimed: HashSet<Uid> =
            if self.read_only { HashSet::new() } else { self.folder.claim_recent()?.into_iter().collect() };
        self.changes = self.folder.changes()?;
        let infos = self.folder.messages()?;
        let by_uid: HashMap<Uid, &wirecheck_store::MessageInfo> = infos.iter().map(|i| (i.uid, i)).collect();
        let mut lines = Vec::new();
        for m in &mut self.msgs {
            m.gone |= !by_uid.contains_key(&m.uid);
        }
        if allow_expunge {
            // RFC 9051 §7.5.1: each EXPUNGE renumbers the messages after it, so the numbers
            // are computed one removal at a time (RFC 3501 §7.4.1 example: 3, 3, 5, 8).
            let mut i = 0;
            while i < self.msgs.len() {
                if self.msgs[i].gone {
                    let m = self.msgs.remove(i);
                    self.recent.remove(&m.uid);
                    lines.push(format!("{} EXPUNGE", i + 1));
                } else {
                    i += 1;
                }
            }
        }
        let last = self.largest_uid();
        let before = self.msgs.len();
        for info in infos.iter().filter(|i| i.uid > last) {
            if claimed.contains(&info.uid) || (self.read_only && info.recent) {
                self.recent.insert(info.uid);
            }
            self.msgs.push(Msg {
                uid: info.uid,
                flags: info.flags.clone(),
                size: info.crlf_size,
                internal_date: info.internal_date,
                gone: false,
            });
        }
        if self.msgs.len() != before {
            lines.push(format!("{} EXISTS", self.msgs.len()));
            if !rev2 {
                lines.push(format!("{} RECENT", self.recent.len()));
            }
        }
        for (i, m) in self.msgs.iter_mut().enumerate().take(before) {
            if let Some(info) = by_uid.get(&m.uid).filter(|info| info.flags != m.flags) {
                m.flags = info.flags.clone();
                let recent = !rev2 && self.recent.contains(&m.uid);
                lines.push(format!("{} FETCH (FLAGS {})", i + 1, flag_list(&m.flags, recent)));
            }
        }
        Ok(lines)
    }

    /// Every flag and keyword in use, for the FLAGS response.
    pub fn keywords(&self) -> Vec<String> {
        let mut k: Vec<String> = self.msgs.iter().flat_map(|m| m.flags.keywords.iter().cloned()).collect();
        k.sort();
        k.dedup();
        k
    }
}

/// RFC 9051 §7.5.2 FLAGS: `(\Seen \Answered … keyword … \Recent)`.
pub(crate) fn flag_list(f: &Flags, recent: bool) -> String {
    let mut parts: Vec<String> = f
        .iter()
        .map(|x| match x {
            Flag::Seen => "\\Seen".to_string(),
            Flag::Answered => "\\Answered".to_string(),
            Flag::Flagged => "\\Flagged".to_string(),
            Flag::Deleted => "\\Deleted".to_string(),
            Flag::Draft => "\\Draft".to_string(),
            Flag::Keyword(k) => k,
        })
        .collect();
    if recent {
        parts.push("\\Recent".into());
    }
    format!("({})", parts.join(" "))
}

/// Flags from the wire into the store's form. RFC 3501 §2.3.2: `\Recent` "cannot be altered
/// by the client"; other `\` names are not flags this server knows.
pub(crate) fn parse_flags(flags: &[String]) -> Result<Flags, String> {
    let mut out = Flags::new();
    for f in flags {
        let flag = match canonical_system_flag(f.strip_prefix('\\').unwrap_or("")) {
            Some("\\Seen") => Flag::Seen,
            Some("\\Answered") => Flag::Answered,
            Some("\\Flagged") => Flag::Flagged,
            Some("\\Deleted") => Flag::Deleted,
            Some("\\Draft") => Flag::Draft,
            Some(_) => return Err(format!("Cannot set {f}")),
            None if f.starts_with('\\') => return Err(format!("Invalid system flag {f}")),
            None if wirecheck_store::valid_keyword(f) => Flag::Keyword(f.clone()),
            None => return Err(format!("Invalid keyword {f}")),
        };
        out.insert(flag);
    }
    Ok(out)
}

/// A UID list as a compact `uid-set` (`1:3,7`), in the order given.
pub(crate) fn compact(uids: &[Uid]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && end.checked_add(1) == Some(uids[i + 1]) {
            i += 1;
            end = uids[i];
        }
        out.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
        i += 1;
    }
    out.join(",")
}

impl ServerSession {
    /// The selected mailbox's indices for `set`, or a BAD reply sent.
    pub(super) fn indices(&mut self, tag: &str, set: &SequenceSet, uid: bool) -> Option<Vec<usize>> {
        let r = self.selected.as_ref().map(|s| s.resolve(set, uid))?;
        match r {
            Ok(v) => Some(v),
            Err(why) => {
                self.tagged(tag, "BAD", why);
                None
            }
        }
    }

    /// RFC 9051 §6.4.6 STORE.
    pub(super) fn store_flags(
        &mut self,
        tag: &str,
        uid: bool,
        set: &SequenceSet,
        mode: StoreMode,
        silent: bool,
        flags: &[String],
    ) {
        let flags = match parse_flags(flags) {
            Ok(f) => f,
            Err(why) => return self.tagged(tag, "BAD", &why),
        };
        let Some(idx) = self.indices(tag, set, uid) else { return };
        let rev2 = self.rev2;
        let Some(sel) = self.selected.as_mut() else { return };
        if sel.read_only {
            return self.tagged(tag, "NO", "[READ-ONLY] Mailbox is read-only");
        }
        let uids: Vec<Uid> = idx.iter().filter_map(|&i| sel.msgs.get(i)).filter(|m| !m.gone).map(|m| m.uid).collect();
        let op = match mode {
            StoreMode::Replace => FlagOp::Set,
            StoreMode::Add => FlagOp::Add,
            StoreMode::Remove => FlagOp::Remove,
        };
        let result = match sel.folder.set_flags(&uids, op, &flags) {
            Ok(r) => r,
            Err(e) => return self.tagged(tag, "NO", &store_error_text(&e)),
        };
        let mut lines = Vec::new();
        let some_gone = idx.iter().any(|&i| sel.msgs.get(i).is_some_and(|m| m.gone));
        for (u, f) in result {
            if let Some(pos) = sel.msgs.iter().position(|m| m.uid == u) {
                sel.msgs[pos].flags = f.clone();
                if !silent {
                    let recent = !rev2 && sel.recent.contains(&u);
                    // RFC 9051 §6.4.9: FETCH responses caused by a UID command carry UID.
                    let uid_part = if uid { format!("UID {u} ") } else { String::new() };
                    lines.push(format!("{} FETCH ({uid_part}FLAGS {})", pos + 1, flag_list(&f, recent)));
                }
            }
        }
        for l in lines {
            self.untagged(&l);
        }
        self.sync_selected(false);
        if some_gone {
            self.tagged(tag, "NO", "[EXPUNGEISSUED] Some of the messages were expunged");
        } else {
            self.tagged(tag, "OK", "STORE completed");
        }
    }

    /// RFC 9051 §6.4.7 COPY and §6.4.8 MOVE (RFC 6851), with COPYUID (RFC 4315 §3).
    pub(super) fn copy_move(&mut self, tag: &str, uid: bool, set: &SequenceSet, mailbox: &Mailbox, is_move: bool) {
        let Some(idx) = self.indices(tag, set, uid) else { return };
        let name = if is_move { "MOVE" } else { "COPY" };
        let Some(user) = self.user.clone() else { return };
        let dest = match self.store.folder(&user, mailbox.as_str()) {
            Ok(f) => f,
            // RFC 9051 §6.4.7: "If the destination mailbox does not exist, a server MUST
            // return an error ... [TRYCREATE]".
            Err(StoreError::NoSuchFolder(_)) => {
                return self.tagged(tag, "NO", "[TRYCREATE] Destination mailbox does not exist");
            }
            Err(e) => return self.tagged(tag, "NO", &store_error_text(&e)),
        };
        let Some(sel) = self.selected.as_mut() else { return };
        if is_move && sel.read_only {
            return self.tagged(tag, "NO", "[READ-ONLY] Mailbox is read-only");
        }
        let uids: Vec<Uid> = idx.iter().filter_map(|&i| sel.msgs.get(i)).filter(|m| !m.gone).map(|m| m.uid).collect();
        if uids.is_empty() {
            // RFC 9051 §6.4.9: a UID set naming no message is not an error.
            self.sync_selected(is_move);
            return self.tagged(tag, "OK", &format!("{name} completed (no messages)"));
        }
        let r = if is_move { sel.folder.move_to(&uids, &dest) } else { sel.folder.copy_to(&uids, &dest) };
        let pairs = match r {
            Ok(p) => p,
            Err(e) => return self.tagged(tag, "NO", &store_error_text(&e)),
        };
        let src: Vec<Uid> = pairs.iter().map(|p| p.0).collect();
        let dst: Vec<Uid> = pairs.iter().map(|p| p.1).collect();
        let code = if pairs.is_empty() {
            String::new()
        } else {
            format!("[COPYUID {} {} {}] ", dest.uidvalidity(), compact(&src), compact(&dst))
        };
        if is_move {
            // RFC 6851 §4.3: COPYUID in an untagged OK before the EXPUNGEs.
            if !code.is_empty() {
                self.untagged(&format!("OK {code}Moved"));
            }
            self.sync_selected(true);
            self.tagged(tag, "OK", "MOVE completed");
        } else {
            self.sync_selected(false);
            self.tagged(tag, "OK", &format!("{code}COPY completed"));
        }
    }

    /// RFC 9051 §6.4.3 EXPUNGE and §6.4.9 UID EXPUNGE (RFC 4315 §2.1).
    pub(super) fn expunge(&mut self, tag: &str, set: Option<SequenceSet>) {
        let only = match &set {
            Some(s) => match self.indices(tag, s, true) {
                Some(idx) => {
                    let sel = self.selected.as_ref();
                    Some(idx.iter().filter_map(|&i| sel.and_then(|s| s.msgs.get(i))).map(|m| m.uid).collect::<Vec<_>>())
                }
                None => return,
            },
            None => None,
        };
        let Some(sel) = self.selected.as_mut() else { return };
        if sel.read_only {
            return self.tagged(tag, "NO", "[READ-ONLY] Mailbox is read-only");
        }
        if let Err(e) = sel.folder.expunge(only.as_deref()) {
            return self.tagged(tag, "NO", &store_error_text(&e));
        }
        self.sync_selected(true);
        self.tagged(tag, "OK", "EXPUNGE completed");
    }

    /// RFC 9051 §6.4.1 CLOSE: expunge silently (unless read-only), back to authenticated.
    pub(super) fn close(&mut self, tag: &str) {
        if let Some(sel) = self.selected.take()
            && !sel.read_only
            && let Err(e) = sel.folder.expunge(None)
        {
            self.state = State::Authenticated;
            return self.tagged(tag, "NO", &store_error_text(&e));
        }
        self.state = State::Authenticated;
        self.tagged(tag, "OK", "CLOSE completed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_sets() {
        assert_eq!(compact(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(compact(&[4]), "4");
        assert_eq!(compact(&[]), "");
    }

    #[test]
    fn flag_parsing() {
        let f = parse_flags(&["\\Seen".into(), "$Junk".into()]).unwrap();
        assert!(f.seen && f.keywords.contains("$Junk"));
        assert!(parse_flags(&["\\Recent".into()]).is_err());
        assert!(parse_flags(&["\\Bogus".into()]).is_err());
        assert_eq!(flag_list(&f, true), "(\\Seen $Junk \\Recent)");
    }
}
