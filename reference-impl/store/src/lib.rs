//! The durable message store shared by SMTP delivery, POP3 and IMAP.
//!
//! Plain synchronous file I/O (no tokio): the servers call it from tokio's blocking pool
//! (`DriverConfig { blocking: true, .. }`).
//!
//! # On disk
//!
//! ```text
//! <root>/<user>/user-state          next UIDVALIDITY to hand out; flock'ed for folder create/delete/rename
//! <root>/<user>/pop3.lock           flock'ed by a POP3 session (the RFC 1939 §8 maildrop lock)
//! <root>/<user>/folders/INBOX/      one maildir per folder ...
//! <root>/<user>/folders/Archive%2F2024/   ... flat, the name escaped (see names.rs); "/" is the hierarchy delimiter
//! ```
//!
//! Each folder is a Maildir (`tmp/ new/ cur/`) whose file names carry the UID, the sizes and
//! the flags, plus `uidvalidity`, `state` (UIDNEXT and a change counter) and `keywords`; see
//! [`folder`](crate::Folder) for the exact format. The UID is part of the file name, so the
//! UID -> message mapping is stable across restarts and needs no index to rewrite.
//!
//! # Guarantees
//!
//! * [`Folder::deliver`] / [`Delivery::commit`] return only once the message is on disk:
//!   file written to `tmp/`, `fsync`, renamed into `new/`, directory `fsync`. Concurrent
//!   deliveries into one folder share their directory `fsync`s (group commit, see
//!   `group_sync.rs`): each still returns only after an `fsync` that began after its rename.
//! * UIDs are strictly increasing per folder and never reused for a UIDVALIDITY, across
//!   restarts and crashes; UIDVALIDITY is fixed at creation and differs for a folder deleted
//!   and created again.
//! * Several processes may share a root: changes take an exclusive `flock` on the folder's
//!   `state` file. A POP3 session holds [`MaildropLock`] for its life.
//! * Change notification: [`Folder::changes`] is a counter bumped by every change (delivery,
//!   copy in, flag change, removal); IMAP sessions poll it and re-list on a difference.
//!
//! ```no_run
//! use wirecheck_store::{Store, Users};
//! let users = Users::from_pairs(&[("alice", "secret")])?;
//! let store = Store::open("/var/tmp/mail", users)?;
//! let uid = store.deliver("alice", "INBOX", b"Subject: hi\r\n\r\nhello\r\n")?;
//! let inbox = store.folder("alice", "inbox")?;
//! assert_eq!(inbox.read(uid)?, b"Subject: hi\r\n\r\nhello\r\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod fixture;
mod flags;
mod folder;
mod group_sync;
mod names;
mod store;
mod users;

use std::path::{Path, PathBuf};

pub use flags::{Flag, FlagOp, Flags, MAX_KEYWORD, valid_keyword};
pub use folder::{Delivery, Folder, FolderStatus, MessageInfo};
pub use names::{DELIMITER, INBOX, MAX_NAME, canonical_folder};
pub use store::{MaildropLock, Store};
pub use users::{User, Users, UsersError};

/// A message's unique identifier in its folder (RFC 9051 §2.3.1.1), never 0.
pub type Uid = u32;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
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
    /// The user is not configured.
    #[error("no such user {0:?}")]
    NoSuchUser(String),
    /// The folder does not exist.
    #[error("no such folder {0:?}")]
    NoSuchFolder(String),
    /// The folder already exists.
    #[error("folder {0:?} already exists")]
    FolderExists(String),
    /// The folder name is not acceptable.
    #[error("bad folder name {name:?}: {reason}")]
    BadFolderName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// INBOX cannot be deleted.
    #[error("INBOX cannot be deleted")]
    InboxNotAllowed,
    /// A rename onto INBOX, onto itself, or into its own sub-tree.
    #[error("cannot rename {from:?} to {to:?}")]
    BadRename {
        /// The source name.
        from: String,
        /// The target name.
        to: String,
    },
    /// No message with this UID.
    #[error("no message with UID {0}")]
    NoSuchMessage(Uid),
    /// Another POP3 session holds the maildrop (RFC 2449 §8.1.2 `[IN-USE]`).
    #[error("maildrop of {0:?} is in use")]
    MaildropLocked(String),
    /// A keyword with characters a flag cannot have.
    #[error("bad keyword {0:?}")]
    BadKeyword(String),
    /// The folder already has 26 keywords.
    #[error("too many keywords in folder")]
    TooManyKeywords,
    /// UIDNEXT (or UIDVALIDITY) would pass 2^32-1.
    #[error("UID space exhausted")]
    UidsExhausted,
    /// A store file has content the store did not write.
    #[error("corrupt store file {path}")]
    Corrupt {
        /// The file.
        path: PathBuf,
    },
}

pub(crate) fn io_err(op: &'static str, path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io { op, path: path.to_path_buf(), source }
}
