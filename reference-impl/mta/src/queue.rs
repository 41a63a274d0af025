//! The outgoing queue, on disk: what the MTA has taken responsibility for (RFC 5321 §6.1)
//! and not yet delivered, bounced or expired.
//!
//! ```text
//! <queue>/lock        flock'ed by the one MTA using this queue
//! <queue>/tmp/        files being written
//! <queue>/msg/<id>    the message, as received (with our Received: field)
//! <queue>/env/<id>    its envelope and delivery state (TOML, see QueueEntry)
//! ```
//!
//! Every file is written to `tmp/`, `fsync`ed, renamed into place and its directory
//! `fsync`ed, so a file is either absent or complete. A message file is committed before
//! its envelope and removed after it: an envelope without its message is never left
//! behind, and a message without an envelope (a crash between the two writes, before the
//! client got its `250`) is deleted when the queue is opened. Only the queue runner changes
//! an entry after it is created; the in-memory index mirrors the envelope files.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use wirecheck_smtp::codec::{ForwardPath, Notify, Param, Ret, ReversePath};
use wirecheck_smtp::server::Recipient;

/// Errors of the queue.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// A file-system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Another process holds this queue directory.
    #[error("queue {0} is in use by another MTA")]
    Locked(PathBuf),
    /// No entry with this id.
    #[error("no queue entry {0}")]
    NoSuchEntry(String),
    /// An envelope file that cannot be written (serialisation failed).
    #[error("cannot encode queue entry {id}: {reason}")]
    Encode {
        /// The entry.
        id: String,
        /// Why.
        reason: String,
    },
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> QueueError {
    let path = path.to_path_buf();
    move |source| QueueError::Io { op, path, source }
}

/// Where one recipient stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RcptState {
    /// Not yet delivered; tried again at the entry's `next_attempt`.
    Pending,
    /// Delivered (locally, or the next hop said `250` after DATA).
    Delivered,
    /// Failed for good (5yz, no route, or expired); a DSN is or was due.
    Failed,
}

/// One recipient of a queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct QueuedRecipient {
    /// The forward-path as given in RCPT TO, with its angle brackets.
    pub address: String,
    /// The local user it is delivered to, when it is ours (a local delivery that failed
    /// temporarily and waits here for another try).
    #[serde(default)]
    pub local_user: Option<String>,
    /// RFC 3461 `NOTIFY=` value as sent (`NEVER`, `SUCCESS,FAILURE`, ...).
    #[serde(default)]
    pub notify: Option<String>,
    /// RFC 3461 `ORCPT=` value as sent (`rfc822;bob@beta.test`, xtext).
    #[serde(default)]
    pub orcpt: Option<String>,
    /// Pending, delivered or failed.
    pub state: RcptState,
    /// RFC 3463 status of the last attempt (`4.4.1`, `5.1.1`, ...).
    #[serde(default)]
    pub status: Option<String>,
    /// The last reply (or locally made diagnostic), one line, with its code.
    #[serde(default)]
    pub last_reply: Option<String>,
    /// The host that gave `last_reply`, when it came from a remote MTA.
    #[serde(default)]
    pub remote_mta: Option<String>,
    /// A "delayed" DSN was sent for it (RFC 3461 §4.1 NOTIFY=DELAY; only once).
    #[serde(default)]
    pub delay_reported: bool,
}

impl QueuedRecipient {
    /// A pending recipient from an accepted RCPT.
    pub fn from_recipient(r: &Recipient, local_user: Option<String>) -> QueuedRecipient {
        QueuedRecipient {
            address: r.path.to_string(),
            local_user,
            notify: r.notify.map(|n| {
                Param::Notify(n)
                    .to_string()
                    .trim_start_matches("NOTIFY=")
                    .to_string()
            }),
            orcpt: r.orcpt.as_ref().map(|(t, a)| format!("{t};{a}")),
            state: RcptState::Pending,
            status: None,
            last_reply: None,
            remote_mta: None,
            delay_reported: false,
        }
    }

    /// Back to what the SMTP client sends (`None` if the stored path no longer parses).
    pub fn to_recipient(&self) -> Option<Recipient> {
        Some(Recipient {
            path: ForwardPath::parse(&self.address).ok()?,
            notify: self.notify_param(),
            orcpt: self
                .orcpt
                .as_ref()
                .and_then(|o| o.split_once(';'))
                .map(|(t, a)| (t.to_string(), a.to_string())),
        })
    }

    /// The parsed `NOTIFY=`.
    pub fn notify_param(&self) -> Option<Notify> {
        match Param::parse(&format!("NOTIFY={}", self.notify.as_deref()?)) {
            Ok(Param::Notify(n)) => Some(n),
            _ => None,
        }
    }

    /// RFC 3461 §4.1: a failure DSN is wanted unless NOTIFY was given without FAILURE
    /// (NEVER included); without NOTIFY the default is "FAILURE" (and "DELAY").
    pub fn wants_failure_report(&self) -> bool {
        match (&self.notify, self.notify_param()) {
            (None, _) => true,
            (Some(_), Some(n)) => n.failure && !n.never,
            // Unparseable (cannot happen for values we wrote): report.
            (Some(_), None) => true,
        }
    }

    /// RFC 3461 §4.1: a "delivered" / "relayed" DSN only when NOTIFY has SUCCESS.
    pub fn wants_success_report(&self) -> bool {
        self.notify_param().is_some_and(|n| n.success && !n.never)
    }

    /// RFC 3461 §4.1: a "delayed" DSN only when NOTIFY has DELAY (this MTA's choice for a
    /// recipient without NOTIFY is FAILURE alone).
    pub fn wants_delay_report(&self) -> bool {
        self.notify_param().is_some_and(|n| n.delay && !n.never)
    }

    /// The domain of the address (lower case), `None` for `<Postmaster>`.
    pub fn domain(&self) -> Option<String> {
        let path = ForwardPath::parse(&self.address).ok()?;
        Some(path.mailbox()?.domain().as_str().to_ascii_lowercase())
    }
}

/// One queued message: envelope, recipients and schedule. This is the envelope file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct QueueEntry {
    /// The queue id (also the file names).
    pub id: String,
    /// The reverse-path, with angle brackets (`<>` for a DSN, RFC 5321 §4.5.5).
    pub from: String,
    /// When we took responsibility for it.
    #[serde(with = "unix_seconds")]
    pub arrived: SystemTime,
    /// Not tried again before this.
    #[serde(with = "unix_seconds")]
    pub next_attempt: SystemTime,
    /// When it was last tried.
    #[serde(
        default,
        with = "opt_unix_seconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_attempt: Option<SystemTime>,
    /// Attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// RFC 3461 `RET=` (`FULL` or `HDRS`).
    #[serde(default)]
    pub ret: Option<String>,
    /// RFC 3461 `ENVID=` as sent (xtext).
    #[serde(default)]
    pub envid: Option<String>,
    /// The recipients.
    #[serde(rename = "rcpt")]
    pub recipients: Vec<QueuedRecipient>,
}

impl QueueEntry {
    /// A new entry arriving `now`, due at once; `id` is assigned by [`Queue::enqueue`].
    pub fn new(
        from: &ReversePath,
        recipients: Vec<QueuedRecipient>,
        now: SystemTime,
    ) -> QueueEntry {
        QueueEntry {
            id: String::new(),
            from: from.to_string(),
            arrived: now,
            next_attempt: now,
            last_attempt: None,
            attempts: 0,
            ret: None,
            envid: None,
            recipients,
        }
    }

    /// The parsed reverse-path (`None` if the stored text no longer parses).
    pub fn reverse_path(&self) -> Option<ReversePath> {
        ReversePath::parse(&self.from).ok()
    }

    /// RFC 5321 §4.5.5 / §6.1: a message with a null reverse-path is itself a notification
    /// and never gets one.
    pub fn is_notification(&self) -> bool {
        self.from == "<>"
    }

    /// The parsed `RET=`.
    pub fn ret_param(&self) -> Option<Ret> {
        match self.ret.as_deref() {
            Some(r) if r.eq_ignore_ascii_case("HDRS") => Some(Ret::Hdrs),
            Some(r) if r.eq_ignore_ascii_case("FULL") => Some(Ret::Full),
            _ => None,
        }
    }

    /// True while some recipient is pending.
    pub fn has_pending(&self) -> bool {
        self.recipients
            .iter()
            .any(|r| r.state == RcptState::Pending)
    }
}

/// The queue directory and its index.
#[derive(Debug)]
pub struct Queue {
    dir: PathBuf,
    entries: Mutex<BTreeMap<String, QueueEntry>>,
    _lock: File,
}

impl Queue {
    /// Open (creating) the queue at `dir`, take its lock, drop half-written files and load
    /// every entry.
    pub fn open(dir: &Path) -> Result<Queue, QueueError> {
        for sub in ["", "tmp", "msg", "env"] {
            let p = dir.join(sub);
            fs::create_dir_all(&p).map_err(io_err("create dir", &p))?;
        }
        let lock_path = dir.join("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("open", &lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(QueueError::Locked(dir.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(io_err("lock", &lock_path)(e)),
        }
        let tmp = dir.join("tmp");
        for e in fs::read_dir(&tmp)
            .map_err(io_err("read dir", &tmp))?
            .flatten()
        {
            let _ = fs::remove_file(e.path());
        }
        let mut entries = BTreeMap::new();
        let env_dir = dir.join("env");
        for e in fs::read_dir(&env_dir)
            .map_err(io_err("read dir", &env_dir))?
            .flatten()
        {
            let path = e.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            let text = fs::read_to_string(&path).map_err(io_err("read", &path))?;
            match toml::from_str::<QueueEntry>(&text) {
                Ok(entry) if entry.id == name && dir.join("msg").join(&name).is_file() => {
                    entries.insert(name, entry);
                }
                // Left in place for a person to look at; never delivered, never deleted.
                Ok(_) => tracing::warn!(
                    "queue: {} has no message file or a wrong id; skipped",
                    path.display()
                ),
                Err(err) => {
                    tracing::warn!("queue: {} is unreadable ({err}); skipped", path.display())
                }
            }
        }
        let msg_dir = dir.join("msg");
        for e in fs::read_dir(&msg_dir)
            .map_err(io_err("read dir", &msg_dir))?
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            if !entries.contains_key(&name) && !env_dir.join(&name).exists() {
                // Committed before its envelope, then a crash: the client never got 250.
                tracing::info!("queue: removing orphan message {name}");
                let _ = fs::remove_file(e.path());
            }
        }
        sync_dir(&msg_dir)?;
        Ok(Queue {
            dir: dir.to_path_buf(),
            entries: Mutex::new(entries),
            _lock: lock,
        })
    }

    /// The queue directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Take responsibility for `message` with `entry`'s envelope: durable when this returns.
    /// Returns the new queue id (also set in the stored entry).
    pub fn enqueue(&self, mut entry: QueueEntry, message: &[u8]) -> Result<String, QueueError> {
        let msg_dir = self.dir.join("msg");
        let id = (0..16)
            .map(|_| new_id(entry.arrived))
            .find(|id| !msg_dir.join(id).exists() && !self.lock().contains_key(id))
            .ok_or_else(|| QueueError::Encode {
                id: String::new(),
                reason: "no free queue id".into(),
            })?;
        entry.id = id.clone();
        self.write_file(&msg_dir, &id, message)?;
        if let Err(e) = self.write_entry(&entry) {
            let _ = fs::remove_file(msg_dir.join(&id));
            return Err(e);
        }
        self.lock().insert(id.clone(), entry);
        Ok(id)
    }

    /// Every entry, in id order.
    pub fn list(&self) -> Vec<QueueEntry> {
        self.lock().values().cloned().collect()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// One entry.
    pub fn get(&self, id: &str) -> Option<QueueEntry> {
        self.lock().get(id).cloned()
    }

    /// Entries due at `now` (every one with `None`). An entry with nothing pending (every
    /// recipient decided when it was queued) is due at once: it only needs finishing.
    pub fn due(&self, now: Option<SystemTime>) -> Vec<QueueEntry> {
        self.lock()
            .values()
            .filter(|e| now.is_none_or(|n| e.next_attempt <= n || !e.has_pending()))
            .cloned()
            .collect()
    }

    /// The earliest time an entry is due.
    pub fn next_attempt(&self) -> Option<SystemTime> {
        self.lock()
            .values()
            .map(|e| {
                if e.has_pending() {
                    e.next_attempt
                } else {
                    e.arrived
                }
            })
            .min()
    }

    /// The message of entry `id`.
    pub fn message(&self, id: &str) -> Result<Vec<u8>, QueueError> {
        let p = self.dir.join("msg").join(id);
        fs::read(&p).map_err(io_err("read", &p))
    }

    /// Store a changed entry (durably, atomically).
    pub fn update(&self, entry: &QueueEntry) -> Result<(), QueueError> {
        if !self.lock().contains_key(&entry.id) {
            return Err(QueueError::NoSuchEntry(entry.id.clone()));
        }
        self.write_entry(entry)?;
        self.lock().insert(entry.id.clone(), entry.clone());
        Ok(())
    }

    /// Forget entry `id`: its envelope goes first, then its message.
    pub fn remove(&self, id: &str) -> Result<(), QueueError> {
        if self.lock().remove(id).is_none() {
            return Err(QueueError::NoSuchEntry(id.to_string()));
        }
        let env_dir = self.dir.join("env");
        let p = env_dir.join(id);
        fs::remove_file(&p).map_err(io_err("remove", &p))?;
        sync_dir(&env_dir)?;
        let msg_dir = self.dir.join("msg");
        let p = msg_dir.join(id);
        fs::remove_file(&p).map_err(io_err("remove", &p))?;
        sync_dir(&msg_dir)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, QueueEntry>> {
        // A panic while holding the lock cannot leave the map half-changed (every change
        // is one insert or remove), so a poisoned lock is still consistent.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write_entry(&self, entry: &QueueEntry) -> Result<(), QueueError> {
        let text = toml::to_string(entry).map_err(|e| QueueError::Encode {
            id: entry.id.clone(),
            reason: e.to_string(),
        })?;
        self.write_file(&self.dir.join("env"), &entry.id, text.as_bytes())
    }

    /// `tmp/<name>` written and fsynced, renamed to `<dir>/<name>`, `<dir>` fsynced.
    fn write_file(&self, dir: &Path, name: &str, bytes: &[u8]) -> Result<(), QueueError> {
        let tmp = self.dir.join("tmp").join(format!(
            "{name}.{}",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("f")
        ));
        let mut f = File::create(&tmp).map_err(io_err("create", &tmp))?;
        f.write_all(bytes).map_err(io_err("write", &tmp))?;
        f.sync_all().map_err(io_err("fsync", &tmp))?;
        drop(f);
        let dest = dir.join(name);
        fs::rename(&tmp, &dest).map_err(io_err("rename", &dest))?;
        sync_dir(dir)
    }
}

fn sync_dir(dir: &Path) -> Result<(), QueueError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("fsync dir", dir))
}

/// A queue id: arrival second and 48 random bits, in upper-case hex (`[0-9A-F]`, safe as a
/// file name and in a `250 ... queued as` reply).
pub fn new_id(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!(
        "{:08X}{:012X}",
        secs & 0xFFFF_FFFF,
        rand::random::<u64>() & 0xFFFF_FFFF_FFFF
    )
}

mod unix_seconds {
    use super::*;
    pub fn serialize<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        from_secs(u64::deserialize(d)?).ok_or_else(|| serde::de::Error::custom("time out of range"))
    }

    pub fn from_secs(secs: u64) -> Option<SystemTime> {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs))
    }
}

mod opt_unix_seconds {
    use super::*;
    pub fn serialize<S: serde::Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => unix_seconds::serialize(t, s),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        match Option::<u64>::deserialize(d)? {
            None => Ok(None),
            Some(s) => unix_seconds::from_secs(s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("time out of range")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(now: SystemTime) -> QueueEntry {
        let rcpt = Recipient {
            path: ForwardPath::parse("<bob@beta.test>").unwrap(),
            notify: Some(Notify {
                failure: true,
                delay: true,
                ..Notify::default()
            }),
            orcpt: Some(("rfc822".into(), "bob@beta.test".into())),
        };
        let from = ReversePath::parse("<alice@alpha.test>").unwrap();
        let mut e = QueueEntry::new(
            &from,
            vec![QueuedRecipient::from_recipient(&rcpt, None)],
            now,
        );
        e.envid = Some("QQ314159".into());
        e
    }

    fn t(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn enqueue_list_reload() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::open(dir.path()).unwrap();
        let id = q
            .enqueue(entry(t(1_700_000_000)), b"Subject: x\r\n\r\nbody\r\n")
            .unwrap();
        assert_eq!(id.len(), 20);
        assert_eq!(q.message(&id).unwrap(), b"Subject: x\r\n\r\nbody\r\n");
        let mut e = q.get(&id).unwrap();
        assert_eq!(e.recipients[0].notify.as_deref(), Some("FAILURE,DELAY"));
        assert_eq!(
            e.recipients[0].to_recipient().unwrap().orcpt.unwrap().1,
            "bob@beta.test"
        );
        e.attempts = 1;
        e.next_attempt = t(1_700_000_060);
        e.recipients[0].last_reply = Some("451 4.4.1 try later".into());
        q.update(&e).unwrap();
        drop(q);
        let q = Queue::open(dir.path()).unwrap();
        assert_eq!(q.list(), vec![e.clone()]);
        assert!(q.due(Some(t(1_700_000_059))).is_empty());
        assert_eq!(q.due(Some(t(1_700_000_060))).len(), 1);
        assert_eq!(q.due(None).len(), 1);
        assert_eq!(q.next_attempt(), Some(t(1_700_000_060)));
        q.remove(&id).unwrap();
        assert!(q.is_empty());
        assert!(!dir.path().join("msg").join(&id).exists());
        assert!(!dir.path().join("env").join(&id).exists());
    }

    #[test]
    fn an_entry_with_nothing_pending_is_due_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::open(dir.path()).unwrap();
        let mut e = entry(t(100));
        e.next_attempt = t(1000);
        e.recipients[0].state = RcptState::Failed;
        q.enqueue(e, b"m").unwrap();
        assert_eq!(q.due(Some(t(100))).len(), 1);
        assert_eq!(q.next_attempt(), Some(t(100)));
    }

    #[test]
    fn a_second_mta_cannot_open_the_same_queue() {
        let dir = tempfile::tempdir().unwrap();
        let _q = Queue::open(dir.path()).unwrap();
        assert!(matches!(
            Queue::open(dir.path()),
            Err(QueueError::Locked(_))
        ));
    }

    #[test]
    fn orphans_and_temp_files_are_cleaned_and_bad_envelopes_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        {
            let q = Queue::open(dir.path()).unwrap();
            q.enqueue(entry(t(1)), b"kept").unwrap();
        }
        fs::write(dir.path().join("msg").join("ORPHAN"), b"half").unwrap();
        fs::write(dir.path().join("tmp").join("X.env"), b"half").unwrap();
        fs::write(dir.path().join("env").join("BROKEN"), b"not toml [").unwrap();
        fs::write(dir.path().join("msg").join("BROKEN"), b"m").unwrap();
        let q = Queue::open(dir.path()).unwrap();
        assert_eq!(q.len(), 1);
        assert!(!dir.path().join("msg").join("ORPHAN").exists());
        assert!(!dir.path().join("tmp").join("X.env").exists());
        assert!(
            dir.path().join("env").join("BROKEN").exists(),
            "never deleted silently"
        );
        assert!(dir.path().join("msg").join("BROKEN").exists());
    }

    #[test]
    fn notify_rules() {
        let mut r = entry(t(1)).recipients.remove(0);
        assert!(r.wants_failure_report());
        r.notify = Some("NEVER".into());
        assert!(!r.wants_failure_report());
        r.notify = Some("SUCCESS".into());
        assert!(!r.wants_failure_report());
        assert!(r.wants_success_report() && !r.wants_delay_report());
        r.notify = Some("FAILURE,DELAY".into());
        assert!(r.wants_delay_report() && !r.wants_success_report());
        r.notify = None;
        assert!(r.wants_failure_report());
        assert_eq!(r.domain().as_deref(), Some("beta.test"));
    }
}
