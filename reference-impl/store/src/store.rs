//! The store: users' directories, their folders, and the POP3 maildrop lock.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::folder::{Folder, sync_dir, unique_name};
use crate::names::{DELIMITER, INBOX, canonical_folder, escape, unescape};
use crate::{StoreError, Uid, Users, io_err};

/// The message store. Cheap to clone; share one between the MTA, POP3 and IMAP servers of a
/// process (other processes may use the same root at the same time).
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    users: Users,
    /// Folders whose UIDNEXT this process has checked against the disk (after a crash the
    /// in-place `state` write may be older than the fsynced message files).
    reconciled: Mutex<HashSet<PathBuf>>,
}

/// Exclusive access to a user's maildrop for one POP3 session (RFC 1939 §8: "the POP3 server
/// acquires an exclusive-access lock on the maildrop"). Released when dropped. It is an
/// `flock` on `<user>/pop3.lock`, so it excludes other processes as well as other sessions
/// of this one.
#[derive(Debug)]
pub struct MaildropLock {
    _file: File,
    user: String,
}

impl MaildropLock {
    /// The user whose maildrop this is.
    pub fn user(&self) -> &str {
        &self.user
    }
}

impl Store {
    /// A store rooted at `root` (created if missing) serving `users`.
    pub fn open(root: impl Into<PathBuf>, users: Users) -> Result<Store, StoreError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| io_err("create dir", &root, e))?;
        Ok(Store { inner: Arc::new(Inner { root, users, reconciled: Mutex::new(HashSet::new()) }) })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The configured users.
    pub fn users(&self) -> &Users {
        &self.inner.users
    }

    /// Deliver `bytes` into `user`'s folder `folder` (INBOX is always there); durable when
    /// it returns: the SMTP server sends `250` only after this.
    pub fn deliver(&self, user: &str, folder: &str, bytes: &[u8]) -> Result<Uid, StoreError> {
        self.folder(user, folder)?.deliver(bytes)
    }

    /// Open `user`'s folder `name` (INBOX in any case is INBOX).
    pub fn folder(&self, user: &str, name: &str) -> Result<Folder, StoreError> {
        let name = canonical_folder(name)?;
        let folders = self.user_folders(user)?;
        let dir = folders.join(escape(&name));
        let folder = Folder::open_at(name, dir.clone())?;
        let first = self.inner.reconciled.lock().map(|mut s| s.insert(dir)).unwrap_or(true);
        if first {
            folder.reconcile_uidnext()?;
        }
        Ok(folder)
    }

    /// Create `user`'s folder `name`, and any missing superior names (RFC 9051 §6.3.4: the
    /// server SHOULD create them). Fails if `name` itself exists.
    pub fn create_folder(&self, user: &str, name: &str) -> Result<Folder, StoreError> {
        let name = canonical_folder(name)?;
        let folders = self.user_folders(user)?;
        let mut ul = self.user_lock(user)?;
        if folders.join(escape(&name)).exists() {
            return Err(StoreError::FolderExists(name));
        }
        let mut prefix = String::new();
        for part in name.split(DELIMITER) {
            if !prefix.is_empty() {
                prefix.push(DELIMITER);
            }
            prefix.push_str(part);
            if !folders.join(escape(&prefix)).exists() {
                create_folder_dir(&folders, &prefix, ul.next_uidvalidity()?)?;
            }
        }
        drop(ul);
        self.folder(user, &name)
    }

    /// Delete `user`'s folder `name` with its messages. Its sub-folders stay (IMAP then shows
    /// the name as `\NonExistent`/`\Noselect` if it wants). INBOX cannot be deleted.
    pub fn delete_folder(&self, user: &str, name: &str) -> Result<(), StoreError> {
        let name = canonical_folder(name)?;
        if name == INBOX {
            return Err(StoreError::InboxNotAllowed);
        }
        let folders = self.user_folders(user)?;
        let _ul = self.user_lock(user)?;
        let dir = folders.join(escape(&name));
        if !dir.exists() {
            return Err(StoreError::NoSuchFolder(name));
        }
        // Out of sight atomically, then removed.
        let grave = folders.join(format!(".deleted.{}", unique_name()));
        fs::rename(&dir, &grave).map_err(|e| io_err("rename", &dir, e))?;
        sync_dir(&folders)?;
        fs::remove_dir_all(&grave).map_err(|e| io_err("remove", &grave, e))
    }

    /// Rename `user`'s folder `from` (and its sub-folders) to `to`, creating missing superior
    /// names of `to`. Renaming INBOX moves its messages into a new folder `to` and leaves
    /// INBOX empty (RFC 9051 §6.3.6).
    pub fn rename_folder(&self, user: &str, from: &str, to: &str) -> Result<(), StoreError> {
        let from = canonical_folder(from)?;
        let to = canonical_folder(to)?;
        if to == INBOX || to == from || to.starts_with(&format!("{from}{DELIMITER}")) {
            return Err(StoreError::BadRename { from, to });
        }
        if from == INBOX {
            let dest = self.create_folder(user, &to)?;
            let inbox = self.folder(user, INBOX)?;
            let uids: Vec<Uid> = inbox.messages()?.iter().map(|m| m.uid).collect();
            inbox.move_to(&uids, &dest)?;
            return Ok(());
        }
        let folders = self.user_folders(user)?;
        let mut ul = self.user_lock(user)?;
        if folders.join(escape(&to)).exists() {
            return Err(StoreError::FolderExists(to));
        }
        if !folders.join(escape(&from)).exists() {
            return Err(StoreError::NoSuchFolder(from));
        }
        let child_prefix = format!("{from}{DELIMITER}");
        let mut moves = Vec::new();
        for name in list_dir_names(&folders)? {
            if name == from {
                moves.push((name, to.clone()));
            } else if let Some(rest) = name.strip_prefix(&child_prefix) {
                let target = format!("{to}{DELIMITER}{rest}");
                canonical_folder(&target)?;
                moves.push((name, target));
            }
        }
        // Superior names of the new name.
        let mut prefix = String::new();
        let parts: Vec<&str> = to.split(DELIMITER).collect();
        for part in parts.iter().take(parts.len().saturating_sub(1)) {
            if !prefix.is_empty() {
                prefix.push(DELIMITER);
            }
            prefix.push_str(part);
            if !folders.join(escape(&prefix)).exists() {
                create_folder_dir(&folders, &prefix, ul.next_uidvalidity()?)?;
            }
        }
        for (old, new) in moves {
            let (a, b) = (folders.join(escape(&old)), folders.join(escape(&new)));
            if b.exists() {
                return Err(StoreError::FolderExists(new));
            }
            fs::rename(&a, &b).map_err(|e| io_err("rename", &a, e))?;
        }
        sync_dir(&folders)
    }

    /// `user`'s folders, sorted; always includes INBOX.
    pub fn list_folders(&self, user: &str) -> Result<Vec<String>, StoreError> {
        let folders = self.user_folders(user)?;
        let mut names = list_dir_names(&folders)?;
        names.sort();
        Ok(names)
    }

    /// Take `user`'s maildrop for a POP3 session, or [`StoreError::MaildropLocked`] if
    /// another session (in any process) has it.
    pub fn try_lock_maildrop(&self, user: &str) -> Result<MaildropLock, StoreError> {
        let dir = self.user_dir(user)?;
        let p = dir.join("pop3.lock");
        let file =
            OpenOptions::new().create(true).truncate(false).write(true).open(&p).map_err(|e| io_err("open", &p, e))?;
        match file.try_lock() {
            Ok(()) => Ok(MaildropLock { _file: file, user: user.to_string() }),
            Err(fs::TryLockError::WouldBlock) => Err(StoreError::MaildropLocked(user.to_string())),
            Err(fs::TryLockError::Error(e)) => Err(io_err("flock", &p, e)),
        }
    }

    /// `<root>/<user>/`, created with its INBOX on first use. The user must be configured.
    fn user_dir(&self, user: &str) -> Result<PathBuf, StoreError> {
        if self.inner.users.get(user).is_none() {
            return Err(StoreError::NoSuchUser(user.to_string()));
        }
        let dir = self.inner.root.join(escape(user));
        let folders = dir.join("folders");
        if !folders.join(INBOX).exists() {
            fs::create_dir_all(&folders).map_err(|e| io_err("create dir", &folders, e))?;
            let mut ul = self.user_lock(user)?;
            if !folders.join(INBOX).exists() {
                create_folder_dir(&folders, INBOX, ul.next_uidvalidity()?)?;
            }
        }
        Ok(dir)
    }

    fn user_folders(&self, user: &str) -> Result<PathBuf, StoreError> {
        Ok(self.user_dir(user)?.join("folders"))
    }

    /// The per-user lock for folder creation, deletion and renaming; it also keeps the next
    /// UIDVALIDITY to hand out.
    fn user_lock(&self, user: &str) -> Result<UserLock, StoreError> {
        let path = self.inner.root.join(escape(user)).join("user-state");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| io_err("open", &path, e))?;
        file.lock().map_err(|e| io_err("flock", &path, e))?;
        Ok(UserLock { file, path })
    }
}

struct UserLock {
    file: File,
    path: PathBuf,
}

impl UserLock {
    /// A UIDVALIDITY never handed out before for this user: the current time in seconds,
    /// or one more than the last one if the clock has not moved on (RFC 9051 §2.3.1.1
    /// suggests a time stamp). Persisted and fsynced.
    fn next_uidvalidity(&mut self) -> Result<u32, StoreError> {
        let mut text = String::new();
        let io = |e| io_err("user-state", &self.path, e);
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        (&self.file).take(32).read_to_string(&mut text).map_err(io)?;
        let stored: u32 = text.trim().parse().unwrap_or(1);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let now = u32::try_from(now).unwrap_or(u32::MAX);
        let v = now.max(stored).max(1);
        let next = v.checked_add(1).ok_or(StoreError::UidsExhausted)?;
        self.file.set_len(0).map_err(io)?;
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        self.file.write_all(format!("{next:010}\n").as_bytes()).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        Ok(v)
    }
}

/// Create a folder directory atomically: built under a hidden name, then renamed.
fn create_folder_dir(folders: &Path, name: &str, uidvalidity: u32) -> Result<(), StoreError> {
    let tmp = folders.join(format!(".new.{}", unique_name()));
    if let Err(e) = Folder::create_at(&tmp, uidvalidity) {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let dir = folders.join(escape(name));
    fs::rename(&tmp, &dir).map_err(|e| io_err("rename", &tmp, e))?;
    sync_dir(folders)
}

/// The folder names in `folders/` (hidden entries skipped).
fn list_dir_names(folders: &Path) -> Result<Vec<String>, StoreError> {
    let rd = fs::read_dir(folders).map_err(|e| io_err("read dir", folders, e))?;
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| io_err("read dir", folders, e))?;
        if let Some(name) = ent.file_name().to_str().filter(|n| !n.starts_with('.')).and_then(unescape) {
            out.push(name);
        }
    }
    Ok(out)
}
