//! File-system access for the control session: a [`VirtualFs`] trait, its sandboxed
//! real-directory implementation [`RealFs`], and [`VirtualPath`].
//!
//! The session only ever names files by [`VirtualPath`] (normalised, inside the virtual
//! root); an implementation maps those to storage and refuses anything that would leave the
//! root (for [`RealFs`]: symbolic links pointing outside), before opening anything.

mod path;
mod real;

use std::io::{Read, Write};

pub use path::{MAX_PATH, PathError, VirtualPath};
pub use real::RealFs;

/// What kind of entry a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (listed, never followed outside the root).
    Symlink,
    /// Anything else (device, socket, FIFO).
    Other,
}

/// What a listing needs to know about an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The kind of entry.
    pub kind: FileKind,
    /// Size in bytes.
    pub size: u64,
    /// Last modification, seconds since 1970-01-01 UTC (`None` when unknown).
    pub modified: Option<u64>,
}

/// One entry of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name (one component).
    pub name: String,
    /// Its metadata (of the link itself for symbolic links).
    pub metadata: Metadata,
}

/// How [`VirtualFs::open_write`] opens a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Create or truncate (`STOR`).
    Truncate,
    /// Create or append at the end (`APPE`).
    Append,
    /// Create or keep the contents up to this offset and write from there (`REST` + `STOR`,
    /// RFC 3659 §5); the offset must not lie beyond the end of the file.
    At(u64),
    /// Create a file that must not exist yet (`STOU`).
    CreateNew,
}

/// Why a file-system operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    /// Nothing by that name.
    #[error("no such file or directory")]
    NotFound,
    /// The path (or a link on it) leads outside the virtual root.
    #[error("path leads outside the root")]
    Escape,
    /// The operation is not permitted.
    #[error("permission denied")]
    PermissionDenied,
    /// The target exists already.
    #[error("file exists")]
    AlreadyExists,
    /// A directory was expected.
    #[error("not a directory")]
    NotADirectory,
    /// A file was expected.
    #[error("is a directory")]
    IsADirectory,
    /// The directory is not empty.
    #[error("directory not empty")]
    NotEmpty,
    /// A `REST` offset beyond the end of the file.
    #[error("offset beyond end of file")]
    BadOffset,
    /// Any other error of the storage.
    #[error("i/o error: {0}")]
    Io(String),
}

/// A readable stream of a file's bytes, handed to the driver for a transfer.
pub type FileReader = Box<dyn Read + Send>;
/// A writable stream into a file, handed to the driver for a transfer.
pub type FileWriter = Box<dyn Write + Send>;

/// The file store a control session works on. Every method takes paths inside the virtual
/// root; an implementation must refuse (with [`FsError::Escape`]) anything that would reach
/// outside it, before opening it.
pub trait VirtualFs: Send {
    /// Metadata of `path`, following symbolic links that stay inside the root.
    fn metadata(&self, path: &VirtualPath) -> Result<Metadata, FsError>;
    /// The entries of directory `path`, sorted by name, at most `limit` of them.
    fn read_dir(&self, path: &VirtualPath, limit: usize) -> Result<Vec<DirEntry>, FsError>;
    /// Open file `path` for reading from byte `offset`.
    fn open_read(&self, path: &VirtualPath, offset: u64) -> Result<FileReader, FsError>;
    /// Open file `path` for writing.
    fn open_write(&self, path: &VirtualPath, mode: WriteMode) -> Result<FileWriter, FsError>;
    /// Create directory `path` (its parent must exist).
    fn create_dir(&self, path: &VirtualPath) -> Result<(), FsError>;
    /// Remove the empty directory `path`.
    fn remove_dir(&self, path: &VirtualPath) -> Result<(), FsError>;
    /// Remove the file (or symbolic link) `path`.
    fn remove_file(&self, path: &VirtualPath) -> Result<(), FsError>;
    /// Rename `from` to `to` (replacing a file at `to`).
    fn rename(&self, from: &VirtualPath, to: &VirtualPath) -> Result<(), FsError>;
}
