//! One folder: a maildir (`tmp/ new/ cur/`) plus three small files of our own.
//!
//! ```text
//! <folder>/tmp/                     deliveries being written
//! <folder>/new/<uid>,S=<size>,W=<vsize>              not yet claimed by a client (\Recent)
//! <folder>/cur/<uid>,S=<size>,W=<vsize>:2,<letters>  claimed, with flags (see flags.rs)
//! <folder>/uidvalidity              "<u32>\n", written once at creation
//! <folder>/state                    "<uidnext:020> <changes:020>\n", rewritten in place; also the folder lock
//! <folder>/keywords                 keyword n (0-based) per line n = info letter 'a'+n
//! ```
//!
//! `S=` is the file's size, `W=` its size as CRLF-terminated lines (the Maildir++ "virtual
//! size"): every bare LF counted as CRLF, plus 2 when the last line has no line end.
//! The internal date is the file's modification time.
//!
//! Concurrency: every change takes an exclusive `flock` on `state`, readers a shared one; so
//! several processes (the MTA, POP3, IMAP) can share a folder. Durability: a message file is
//! `fsync`ed before it is renamed into `new/`/`cur/`, and the directory is `fsync`ed after,
//! before [`Delivery::commit`] returns. `state` is only `fsync`ed before messages are removed
//! (so a UID once used is never handed out again); after a crash the store recomputes UIDNEXT
//! as at least one more than the largest UID on disk (see `Store::folder`).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::flags::{FlagOp, Flags, valid_keyword};
use crate::{StoreError, Uid, io_err};

/// Longest keywords file accepted (26 keywords of at most 64 bytes).
const MAX_KEYWORDS: usize = 26;

/// What the store knows of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageInfo {
    /// Its UID, unique in the folder for this UIDVALIDITY, strictly increasing with arrival.
    pub uid: Uid,
    /// Its flags.
    pub flags: Flags,
    /// Still in `new/`: no client has claimed it yet (IMAP `\Recent`, RFC 3501 §2.3.2).
    pub recent: bool,
    /// The internal date (IMAP `INTERNALDATE`): the delivery time unless given at append.
    pub internal_date: SystemTime,
    /// Its size in octets, as stored.
    pub size: u64,
    /// Its size as CRLF-terminated lines (every bare LF counted as CRLF, plus 2 when the last
    /// line lacks a line end): the RFC 1939 §11 size POP3 reports and sends.
    pub crlf_size: u64,
}

/// A folder's counters (IMAP `STATUS`, `SELECT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderStatus {
    /// UIDVALIDITY, chosen when the folder was created (RFC 9051 §2.3.1.1).
    pub uidvalidity: u32,
    /// The UID the next message will get.
    pub uidnext: Uid,
    /// Number of messages.
    pub messages: usize,
    /// Messages still in `new/`.
    pub recent: usize,
    /// Messages without `\Seen`.
    pub unseen: usize,
    /// The change counter (see [`Folder::changes`]).
    pub changes: u64,
}

/// One message file found on disk.
#[derive(Debug, Clone)]
struct Entry {
    in_new: bool,
    file: String,
    size: u64,
    crlf_size: u64,
    letters: String,
}

/// An open folder. Cheap to keep for a session's life; every method reads the disk afresh.
#[derive(Debug)]
pub struct Folder {
    name: String,
    dir: PathBuf,
    uidvalidity: u32,
}

/// A message being delivered: written to `tmp/` by [`write`](Delivery::write), made durable
/// and visible by [`commit`](Delivery::commit); dropped uncommitted, it leaves nothing behind.
#[derive(Debug)]
pub struct Delivery<'a> {
    folder: &'a Folder,
    file: Option<File>,
    tmp: PathBuf,
    size: u64,
    crlf_size: u64,
    last: u8,
}

static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A name no other writer (thread or process) uses at the same time.
pub(crate) fn unique_name() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let seq = TMP_SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{}.{:09}.P{}Q{}", now.as_secs(), now.subsec_nanos(), std::process::id(), seq)
}

pub(crate) use crate::group_sync::sync_dir;

impl Folder {
    /// Create the folder's files in `dir` (which must not exist yet); `fsync`ed.
    pub(crate) fn create_at(dir: &Path, uidvalidity: u32) -> Result<(), StoreError> {
        for sub in ["", "tmp", "new", "cur"] {
            let p = dir.join(sub);
            fs::create_dir(&p).map_err(|e| io_err("create dir", &p, e))?;
        }
        write_synced(&dir.join("uidvalidity"), format!("{uidvalidity}\n").as_bytes())?;
        write_synced(&dir.join("state"), state_line(1, 0).as_bytes())?;
        write_synced(&dir.join("keywords"), b"")?;
        sync_dir(dir)
    }

    /// Open the folder `name` stored in `dir`.
    pub(crate) fn open_at(name: String, dir: PathBuf) -> Result<Folder, StoreError> {
        let p = dir.join("uidvalidity");
        let text = match fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NoSuchFolder(name)),
            Err(e) => return Err(io_err("read", &p, e)),
        };
        let uidvalidity = text.trim().parse().map_err(|_| StoreError::Corrupt { path: p.clone() })?;
        Ok(Folder { name, dir, uidvalidity })
    }

    /// The folder's canonical name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// UIDVALIDITY (RFC 9051 §2.3.1.1): fixed when the folder was created; a folder deleted
    /// and created again under the same name gets a different one.
    pub fn uidvalidity(&self) -> u32 {
        self.uidvalidity
    }

    /// The change counter: grows by at least one with every change to the folder (a message
    /// delivered, copied in, removed, or its flags changed). A session that remembers the
    /// value and later sees another one calls [`messages`](Folder::messages) and compares.
    pub fn changes(&self) -> Result<u64, StoreError> {
        let mut lock = self.lock(false)?;
        Ok(lock.read_state()?.1)
    }

    /// Counters for `STATUS` / `SELECT`.
    pub fn status(&self) -> Result<FolderStatus, StoreError> {
        let mut lock = self.lock(false)?;
        let (uidnext, changes) = lock.read_state()?;
        let entries = self.scan()?;
        drop(lock);
        Ok(FolderStatus {
            uidvalidity: self.uidvalidity,
            uidnext,
            messages: entries.len(),
            recent: entries.values().filter(|e| e.in_new).count(),
            unseen: entries.values().filter(|e| !e.letters.contains('S')).count(),
            changes,
        })
    }

    /// Every message, ordered by UID.
    pub fn messages(&self) -> Result<Vec<MessageInfo>, StoreError> {
        let lock = self.lock(false)?;
        let keywords = self.keywords()?;
        let entries = self.scan()?;
        let mut out = Vec::with_capacity(entries.len());
        for (uid, e) in entries {
            let p = self.entry_path(&e);
            let internal_date = match fs::metadata(&p).and_then(|m| m.modified()) {
                Ok(t) => t,
                // Removed by someone else between the scan and now: not there any more.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(err) => return Err(io_err("stat", &p, err)),
            };
            out.push(MessageInfo {
                uid,
                flags: flags_from_letters(&e.letters, &keywords),
                recent: e.in_new,
                internal_date,
                size: e.size,
                crlf_size: e.crlf_size,
            });
        }
        drop(lock);
        Ok(out)
    }

    /// The message's bytes, exactly as delivered.
    pub fn read(&self, uid: Uid) -> Result<Vec<u8>, StoreError> {
        let mut f = self.open(uid)?;
        let mut out = Vec::new();
        f.read_to_end(&mut out).map_err(|e| io_err("read", &self.dir, e))?;
        Ok(out)
    }

    /// The message's file, opened for reading (to stream a large message).
    pub fn open(&self, uid: Uid) -> Result<File, StoreError> {
        let _lock = self.lock(false)?;
        let e = self.scan()?.remove(&uid).ok_or(StoreError::NoSuchMessage(uid))?;
        let p = self.entry_path(&e);
        File::open(&p).map_err(|err| io_err("open", &p, err))
    }

    /// Start delivering a message into this folder.
    pub fn begin(&self) -> Result<Delivery<'_>, StoreError> {
        let tmp = self.dir.join("tmp").join(unique_name());
        let file = OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| io_err("create", &tmp, e))?;
        Ok(Delivery { folder: self, file: Some(file), tmp, size: 0, crlf_size: 0, last: 0 })
    }

    /// Deliver `bytes` with no flags and the current time as internal date; durable when it
    /// returns.
    pub fn deliver(&self, bytes: &[u8]) -> Result<Uid, StoreError> {
        self.append(bytes, &Flags::new(), None)
    }

    /// Append `bytes` with `flags` and `internal_date` (IMAP `APPEND`); durable when it
    /// returns. Returns the new UID (for `APPENDUID`, RFC 4315).
    pub fn append(&self, bytes: &[u8], flags: &Flags, internal_date: Option<SystemTime>) -> Result<Uid, StoreError> {
        let mut d = self.begin()?;
        d.write(bytes)?;
        d.commit(flags, internal_date)
    }

    /// Change the flags of the messages `uids` by `op`; returns the new flags of each message
    /// still present, in the order given. Missing UIDs are skipped (expunged meanwhile).
    pub fn set_flags(&self, uids: &[Uid], op: FlagOp, flags: &Flags) -> Result<Vec<(Uid, Flags)>, StoreError> {
        let mut lock = self.lock(true)?;
        let keywords = self.ensure_keywords(flags)?;
        let mut entries = self.scan()?;
        let mut out = Vec::with_capacity(uids.len());
        let mut touched_new = false;
        for &uid in uids {
            let Some(e) = entries.remove(&uid) else { continue };
            let new_flags = flags_from_letters(&e.letters, &keywords).apply(op, flags);
            let name = cur_name(uid, e.size, e.crlf_size, &letters(&new_flags, &keywords));
            if e.in_new || name != e.file {
                let from = self.entry_path(&e);
                let to = self.dir.join("cur").join(&name);
                fs::rename(&from, &to).map_err(|err| io_err("rename", &from, err))?;
                touched_new |= e.in_new;
            }
            out.push((uid, new_flags));
        }
        lock.bump(false)?;
        drop(lock);
        sync_dir(&self.dir.join("cur"))?;
        if touched_new {
            sync_dir(&self.dir.join("new"))?;
        }
        Ok(out)
    }

    /// Move every message out of `new/` (claim them, as an IMAP `SELECT` does): returns the
    /// UIDs that were recent.
    pub fn claim_recent(&self) -> Result<Vec<Uid>, StoreError> {
        let mut lock = self.lock(true)?;
        let entries = self.scan()?;
        let mut out = Vec::new();
        for (uid, e) in entries.into_iter().filter(|(_, e)| e.in_new) {
            let from = self.entry_path(&e);
            let to = self.dir.join("cur").join(cur_name(uid, e.size, e.crlf_size, &e.letters));
            fs::rename(&from, &to).map_err(|err| io_err("rename", &from, err))?;
            out.push(uid);
        }
        if !out.is_empty() {
            lock.bump(false)?;
            drop(lock);
            sync_dir(&self.dir.join("cur"))?;
            sync_dir(&self.dir.join("new"))?;
        }
        Ok(out)
    }

    /// Remove the messages flagged `\Deleted` (IMAP `EXPUNGE`), or only those among `only`
    /// (`UID EXPUNGE`, RFC 4315). Returns the removed UIDs, ascending.
    pub fn expunge(&self, only: Option<&[Uid]>) -> Result<Vec<Uid>, StoreError> {
        self.remove_where(|uid, e| e.letters.contains('T') && only.is_none_or(|o| o.contains(&uid)))
    }

    /// Remove the messages `uids` whatever their flags (POP3's UPDATE state, RFC 1939 §6).
    /// Returns the removed UIDs, ascending; UIDs not present are ignored.
    pub fn remove(&self, uids: &[Uid]) -> Result<Vec<Uid>, StoreError> {
        self.remove_where(|uid, _| uids.contains(&uid))
    }

    fn remove_where(&self, pick: impl Fn(Uid, &Entry) -> bool) -> Result<Vec<Uid>, StoreError> {
        let mut lock = self.lock(true)?;
        let victims: Vec<(Uid, Entry)> = self.scan()?.into_iter().filter(|(u, e)| pick(*u, e)).collect();
        if victims.is_empty() {
            return Ok(Vec::new());
        }
        // Make UIDNEXT durable first: a removed UID must never come back after a crash.
        lock.bump(true)?;
        let mut out = Vec::with_capacity(victims.len());
        for (uid, e) in victims {
            let p = self.entry_path(&e);
            match fs::remove_file(&p) {
                Ok(()) => out.push(uid),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(io_err("unlink", &p, err)),
            }
        }
        drop(lock);
        sync_dir(&self.dir.join("cur"))?;
        sync_dir(&self.dir.join("new"))?;
        Ok(out)
    }

    /// Copy the messages `uids` into `dest` with their flags and internal dates (IMAP `COPY`).
    /// Returns `(source uid, new uid)` pairs in ascending source order (for `COPYUID`,
    /// RFC 4315 §3); UIDs not present are skipped.
    pub fn copy_to(&self, uids: &[Uid], dest: &Folder) -> Result<Vec<(Uid, Uid)>, StoreError> {
        // Resolve the sources under our shared lock, then release it before taking dest's
        // exclusive one: two copies in opposite directions can never deadlock.
        let (sources, src_keywords) = {
            let _lock = self.lock(false)?;
            let mut entries = self.scan()?;
            let mut picked: Vec<(Uid, Entry)> = uids.iter().filter_map(|u| entries.remove_entry(u)).collect();
            picked.sort_by_key(|(u, _)| *u);
            (picked, self.keywords()?)
        };
        // Link (or copy) each into dest/tmp first.
        let mut staged = Vec::with_capacity(sources.len());
        for (uid, e) in sources {
            let from = self.entry_path(&e);
            let tmp = dest.dir.join("tmp").join(unique_name());
            match fs::hard_link(&from, &tmp) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                Err(_) => {
                    copy_file(&from, &tmp)?;
                }
            }
            staged.push((uid, e, tmp));
        }
        let mut lock = dest.lock(true)?;
        let flags: Vec<Flags> = staged.iter().map(|(_, e, _)| flags_from_letters(&e.letters, &src_keywords)).collect();
        let mut all = Flags::new();
        for f in &flags {
            all.keywords.extend(f.keywords.iter().cloned());
        }
        let dest_keywords = dest.ensure_keywords(&all)?;
        let (mut uidnext, _) = lock.read_state()?;
        let mut out = Vec::with_capacity(staged.len());
        for ((src_uid, e, tmp), f) in staged.into_iter().zip(flags) {
            let uid = uidnext;
            let to = dest.dir.join("cur").join(cur_name(uid, e.size, e.crlf_size, &letters(&f, &dest_keywords)));
            fs::rename(&tmp, &to).map_err(|err| io_err("rename", &tmp, err))?;
            uidnext = uid.checked_add(1).ok_or(StoreError::UidsExhausted)?;
            out.push((src_uid, uid));
        }
        lock.write_state(uidnext, false)?;
        drop(lock);
        sync_dir(&dest.dir.join("cur"))?;
        Ok(out)
    }

    /// Move the messages `uids` into `dest` (IMAP `MOVE`, RFC 6851): copy, then remove from
    /// here. Returns the `(source uid, new uid)` pairs.
    pub fn move_to(&self, uids: &[Uid], dest: &Folder) -> Result<Vec<(Uid, Uid)>, StoreError> {
        let pairs = self.copy_to(uids, dest)?;
        let moved: Vec<Uid> = pairs.iter().map(|(s, _)| *s).collect();
        self.remove(&moved)?;
        Ok(pairs)
    }

    /// The largest UID on disk (crash recovery: UIDNEXT must exceed it).
    pub(crate) fn reconcile_uidnext(&self) -> Result<(), StoreError> {
        let mut lock = self.lock(true)?;
        let (uidnext, _) = lock.read_state()?;
        let max = self.scan()?.keys().next_back().copied().unwrap_or(0);
        if max >= uidnext {
            let next = max.checked_add(1).ok_or(StoreError::UidsExhausted)?;
            lock.write_state(next, true)?;
        }
        Ok(())
    }

    fn entry_path(&self, e: &Entry) -> PathBuf {
        self.dir.join(if e.in_new { "new" } else { "cur" }).join(&e.file)
    }

    fn lock(&self, exclusive: bool) -> Result<StateLock, StoreError> {
        let path = self.dir.join("state");
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NoSuchFolder(self.name.clone())),
            Err(e) => return Err(io_err("open", &path, e)),
        };
        let r = if exclusive { file.lock() } else { file.lock_shared() };
        r.map_err(|e| io_err("flock", &path, e))?;
        Ok(StateLock { file, path })
    }

    /// Message files in `new/` and `cur/`, by UID. Names that are not ours are ignored.
    fn scan(&self) -> Result<BTreeMap<Uid, Entry>, StoreError> {
        let mut out = BTreeMap::new();
        for (sub, in_new) in [("new", true), ("cur", false)] {
            let dir = self.dir.join(sub);
            let rd = fs::read_dir(&dir).map_err(|e| io_err("read dir", &dir, e))?;
            for ent in rd {
                let ent = ent.map_err(|e| io_err("read dir", &dir, e))?;
                let Ok(file) = ent.file_name().into_string() else { continue };
                if let Some((uid, size, crlf_size, letters)) = parse_name(&file) {
                    let letters = letters.to_string();
                    out.insert(uid, Entry { in_new, file, size, crlf_size, letters });
                }
            }
        }
        Ok(out)
    }

    fn keywords(&self) -> Result<Vec<String>, StoreError> {
        let p = self.dir.join("keywords");
        match fs::read_to_string(&p) {
            Ok(t) => Ok(t.lines().take(MAX_KEYWORDS).map(str::to_string).collect()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_err("read", &p, e)),
        }
    }

    /// The keyword table, extended with the keywords of `flags` (caller holds the exclusive
    /// lock).
    fn ensure_keywords(&self, flags: &Flags) -> Result<Vec<String>, StoreError> {
        let mut table = self.keywords()?;
        let mut grew = false;
        for k in &flags.keywords {
            if !valid_keyword(k) {
                return Err(StoreError::BadKeyword(k.clone()));
            }
            if !table.contains(k) {
                if table.len() >= MAX_KEYWORDS {
                    return Err(StoreError::TooManyKeywords);
                }
                table.push(k.clone());
                grew = true;
            }
        }
        if grew {
            let mut text = table.join("\n");
            text.push('\n');
            let tmp = self.dir.join("tmp").join(unique_name());
            write_synced(&tmp, text.as_bytes())?;
            let p = self.dir.join("keywords");
            fs::rename(&tmp, &p).map_err(|e| io_err("rename", &p, e))?;
            sync_dir(&self.dir)?;
        }
        Ok(table)
    }
}

impl Delivery<'_> {
    /// Append bytes to the message.
    pub fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        let file = self.file.as_mut().ok_or(StoreError::Corrupt { path: self.tmp.clone() })?;
        file.write_all(data).map_err(|e| io_err("write", &self.tmp, e))?;
        let mut prev = self.last;
        let mut bare_lf = 0u64;
        for &b in data {
            if b == b'\n' && prev != b'\r' {
                bare_lf += 1;
            }
            prev = b;
        }
        self.last = prev;
        let n = data.len() as u64;
        self.size += n;
        self.crlf_size += n + bare_lf;
        Ok(())
    }

    /// Octets written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Make the message durable and visible: `fsync` the file, take the next UID, rename it
    /// into `new/` (no flags) or `cur/` (with flags), `fsync` the directory. Returns the UID.
    pub fn commit(mut self, flags: &Flags, internal_date: Option<SystemTime>) -> Result<Uid, StoreError> {
        let file = self.file.take().ok_or(StoreError::Corrupt { path: self.tmp.clone() })?;
        if let Some(t) = internal_date {
            file.set_modified(t).map_err(|e| io_err("set mtime", &self.tmp, e))?;
        }
        file.sync_all().map_err(|e| io_err("fsync", &self.tmp, e))?;
        drop(file);
        // RFC 1939 §11 counts the message as CRLF-terminated lines: a last line without its
        // line end gets one when sent.
        if self.size > 0 && self.last != b'\n' {
            self.crlf_size += 2;
        }
        let folder = self.folder;
        let mut lock = folder.lock(true)?;
        let (uid, _) = lock.read_state()?;
        let next = uid.checked_add(1).ok_or(StoreError::UidsExhausted)?;
        let (sub, name) = if flags == &Flags::new() {
            ("new", new_name(uid, self.size, self.crlf_size))
        } else {
            let keywords = folder.ensure_keywords(flags)?;
            ("cur", cur_name(uid, self.size, self.crlf_size, &letters(flags, &keywords)))
        };
        let to = folder.dir.join(sub).join(name);
        fs::rename(&self.tmp, &to).map_err(|e| io_err("rename", &self.tmp, e))?;
        lock.write_state(next, false)?;
        drop(lock);
        sync_dir(&folder.dir.join(sub))?;
        Ok(uid)
    }
}

impl Drop for Delivery<'_> {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The `state` file, locked; the lock goes with the file handle.
struct StateLock {
    file: File,
    path: PathBuf,
}

impl StateLock {
    fn read_state(&mut self) -> Result<(Uid, u64), StoreError> {
        let mut text = String::new();
        self.file.seek(SeekFrom::Start(0)).map_err(|e| io_err("seek", &self.path, e))?;
        (&self.file).take(64).read_to_string(&mut text).map_err(|e| io_err("read", &self.path, e))?;
        let mut it = text.split_whitespace().map(str::parse::<u64>);
        match (it.next(), it.next()) {
            (Some(Ok(n)), Some(Ok(c))) => Ok((Uid::try_from(n).map_err(|_| StoreError::UidsExhausted)?, c)),
            _ => Err(StoreError::Corrupt { path: self.path.clone() }),
        }
    }

    fn write_state(&mut self, uidnext: Uid, sync: bool) -> Result<(), StoreError> {
        let (_, changes) = self.read_state()?;
        self.put(uidnext, changes.wrapping_add(1), sync)
    }

    /// Count a change without a new UID.
    fn bump(&mut self, sync: bool) -> Result<(), StoreError> {
        let (uidnext, changes) = self.read_state()?;
        self.put(uidnext, changes.wrapping_add(1), sync)
    }

    fn put(&mut self, uidnext: Uid, changes: u64, sync: bool) -> Result<(), StoreError> {
        // Fixed width, written in place: never a moment with an empty file.
        self.file.seek(SeekFrom::Start(0)).map_err(|e| io_err("seek", &self.path, e))?;
        self.file.write_all(state_line(uidnext, changes).as_bytes()).map_err(|e| io_err("write", &self.path, e))?;
        if sync {
            self.file.sync_data().map_err(|e| io_err("fsync", &self.path, e))?;
        }
        Ok(())
    }
}

fn state_line(uidnext: Uid, changes: u64) -> String {
    format!("{uidnext:020} {changes:020}\n")
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = File::create(path).map_err(|e| io_err("create", path, e))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| io_err("write", path, e))
}

fn copy_file(from: &Path, to: &Path) -> Result<(), StoreError> {
    let mtime = fs::metadata(from).and_then(|m| m.modified()).map_err(|e| io_err("stat", from, e))?;
    fs::copy(from, to).map_err(|e| io_err("copy", from, e))?;
    let f = OpenOptions::new().write(true).open(to).map_err(|e| io_err("open", to, e))?;
    f.set_modified(mtime).and_then(|()| f.sync_all()).map_err(|e| io_err("fsync", to, e))
}

fn new_name(uid: Uid, size: u64, crlf_size: u64) -> String {
    format!("{uid},S={size},W={crlf_size}")
}

fn cur_name(uid: Uid, size: u64, crlf_size: u64, letters: &str) -> String {
    format!("{uid},S={size},W={crlf_size}:2,{letters}")
}

/// `<uid>,S=<n>,W=<n>[:2,<letters>]` -> its parts.
fn parse_name(name: &str) -> Option<(Uid, u64, u64, &str)> {
    let (base, letters) = match name.split_once(":2,") {
        Some((b, l)) => (b, l),
        None => (name, ""),
    };
    let mut parts = base.split(',');
    let uid: Uid = parts.next()?.parse().ok()?;
    let size = parts.next()?.strip_prefix("S=")?.parse().ok()?;
    let crlf_size = parts.next()?.strip_prefix("W=")?.parse().ok()?;
    if parts.next().is_some() || uid == 0 {
        return None;
    }
    Some((uid, size, crlf_size, letters))
}

fn flags_from_letters(letters: &str, keywords: &[String]) -> Flags {
    let mut f = Flags::new();
    for c in letters.bytes() {
        match c {
            b'D' => f.draft = true,
            b'F' => f.flagged = true,
            b'R' => f.answered = true,
            b'S' => f.seen = true,
            b'T' => f.deleted = true,
            b'a'..=b'z' => {
                if let Some(k) = keywords.get(usize::from(c - b'a')) {
                    f.keywords.insert(k.clone());
                }
            }
            _ => {}
        }
    }
    f
}

/// The info letters for `flags`; every keyword is in `keywords` (see `ensure_keywords`).
fn letters(flags: &Flags, keywords: &[String]) -> String {
    let mut s = flags.system_letters();
    let mut kw: Vec<char> = keywords
        .iter()
        .zip(b'a'..=b'z')
        .filter(|(k, _)| flags.keywords.contains(*k))
        .map(|(_, c)| char::from(c))
        .collect();
    kw.sort_unstable();
    s.extend(kw);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(parse_name("7,S=10,W=12"), Some((7, 10, 12, "")));
        assert_eq!(parse_name("7,S=10,W=12:2,FS"), Some((7, 10, 12, "FS")));
        for bad in ["0,S=1,W=1", "x,S=1,W=1", "7,S=1", "7,S=1,W=1,X=2", "1234.P1Q2.host", ".keep"] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn keyword_letters() {
        let table = vec!["$Forwarded".to_string(), "work".to_string()];
        let mut f = Flags::new();
        f.seen = true;
        f.keywords.insert("work".into());
        let l = letters(&f, &table);
        assert_eq!(l, "Sb");
        assert_eq!(flags_from_letters(&l, &table), f);
    }
}
