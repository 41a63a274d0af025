//! An in-memory [`VirtualFs`] for the FTP session target: the peers' tree
//! (`wirecheck_ftp::fixtures`) without touching the disk, so a session costs microseconds.
//! It also checks the sandbox rules the session must keep: every path it is handed is
//! normalised, and nothing is written outside the writable directory.

use std::collections::BTreeMap;
use std::io::{self, Cursor, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use wirecheck_ftp::fixtures::{CRLF_TXT, HELLO_TXT, NESTED_TXT};
use wirecheck_ftp::vfs::{
    DirEntry, FileKind, FileReader, FileWriter, FsError, Metadata, VirtualFs, VirtualPath, WriteMode,
};

#[derive(Debug, Clone)]
enum Node {
    Dir,
    File(Vec<u8>),
}

/// The tree, keyed by virtual path (`/`, `/pub`, `/pub/crlf.txt`).
#[derive(Debug, Clone, Default)]
pub struct MemFs {
    nodes: Arc<Mutex<BTreeMap<String, Node>>>,
    /// Writes are allowed below this directory only (the session's `writable`).
    writable: String,
}

/// Largest file the fuzz tree holds (uploads beyond are cut, like a full disk).
const MAX_FILE: usize = 64 * 1024;

impl MemFs {
    /// `/hello.txt`, `/pub/{crlf.txt,big.bin,sub/nested.txt}`, `/upload/`.
    pub fn peer_tree() -> MemFs {
        let mut m = BTreeMap::new();
        for d in ["/", "/pub", "/pub/sub", "/upload"] {
            m.insert(d.to_string(), Node::Dir);
        }
        m.insert("/hello.txt".into(), Node::File(HELLO_TXT.to_vec()));
        m.insert("/pub/crlf.txt".into(), Node::File(CRLF_TXT.to_vec()));
        m.insert("/pub/big.bin".into(), Node::File(vec![b'x'; 3000]));
        m.insert("/pub/sub/nested.txt".into(), Node::File(NESTED_TXT.to_vec()));
        MemFs {
            nodes: Arc::new(Mutex::new(m)),
            writable: "/upload".into(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Node>> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The path as a key, after checking it is what `VirtualPath` promises.
    fn key(path: &VirtualPath) -> String {
        let s = path.as_str();
        assert!(s.starts_with('/'), "path not absolute: {s:?}");
        assert!(
            s == "/" || !s.split('/').skip(1).any(|c| c.is_empty() || c == "." || c == ".."),
            "path not normalised: {s:?}"
        );
        assert!(!s.contains('\0'), "NUL in a path: {s:?}");
        s.to_string()
    }

    fn parent(key: &str) -> String {
        match key.rfind('/') {
            Some(0) | None => "/".into(),
            Some(i) => key[..i].to_string(),
        }
    }

    /// The session may only change entries strictly below the writable directory.
    fn check_write(&self, key: &str) {
        let prefix = format!("{}/", self.writable);
        assert!(key.starts_with(&prefix), "write outside {}: {key:?}", self.writable);
    }
}

fn meta(node: &Node) -> Metadata {
    match node {
        Node::Dir => Metadata {
            kind: FileKind::Dir,
            size: 0,
            modified: Some(1_700_000_000),
        },
        Node::File(b) => Metadata {
            kind: FileKind::File,
            size: b.len() as u64,
            modified: Some(1_700_000_000),
        },
    }
}

/// Appends into a file of the tree as the transfer writes.
struct MemWriter {
    fs: MemFs,
    key: String,
}

impl Write for MemWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut m = self.fs.lock();
        match m.get_mut(&self.key) {
            Some(Node::File(f)) => {
                let room = MAX_FILE.saturating_sub(f.len());
                if room == 0 {
                    return Err(io::Error::other("file too large"));
                }
                let n = buf.len().min(room);
                f.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            _ => Err(io::Error::other("file went away")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl VirtualFs for MemFs {
    fn metadata(&self, path: &VirtualPath) -> Result<Metadata, FsError> {
        self.lock().get(&Self::key(path)).map(meta).ok_or(FsError::NotFound)
    }

    fn read_dir(&self, path: &VirtualPath, limit: usize) -> Result<Vec<DirEntry>, FsError> {
        let key = Self::key(path);
        let m = self.lock();
        match m.get(&key) {
            Some(Node::Dir) => {}
            Some(_) => return Err(FsError::NotADirectory),
            None => return Err(FsError::NotFound),
        }
        let prefix = if key == "/" { "/".to_string() } else { format!("{key}/") };
        Ok(m.range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| k.len() > prefix.len() && !k[prefix.len()..].contains('/'))
            .take(limit)
            .map(|(k, n)| DirEntry {
                name: k[prefix.len()..].to_string(),
                metadata: meta(n),
            })
            .collect())
    }

    fn open_read(&self, path: &VirtualPath, offset: u64) -> Result<FileReader, FsError> {
        match self.lock().get(&Self::key(path)) {
            Some(Node::File(b)) => {
                if offset > b.len() as u64 {
                    return Err(FsError::BadOffset);
                }
                let mut c = Cursor::new(b.clone());
                c.set_position(offset);
                Ok(Box::new(c))
            }
            Some(Node::Dir) => Err(FsError::IsADirectory),
            None => Err(FsError::NotFound),
        }
    }

    fn open_write(&self, path: &VirtualPath, mode: WriteMode) -> Result<FileWriter, FsError> {
        let key = Self::key(path);
        self.check_write(&key);
        let mut m = self.lock();
        if !matches!(m.get(&Self::parent(&key)), Some(Node::Dir)) {
            return Err(FsError::NotFound);
        }
        let existing = m.get(&key).cloned();
        let contents = match (existing, mode) {
            (Some(Node::Dir), _) => return Err(FsError::IsADirectory),
            (Some(_), WriteMode::CreateNew) => return Err(FsError::AlreadyExists),
            (Some(Node::File(b)), WriteMode::Append) => b,
            (Some(Node::File(b)), WriteMode::At(n)) => {
                if n > b.len() as u64 {
                    return Err(FsError::BadOffset);
                }
                b[..n as usize].to_vec()
            }
            (None, WriteMode::At(n)) if n > 0 => return Err(FsError::BadOffset),
            _ => Vec::new(),
        };
        m.insert(key.clone(), Node::File(contents));
        drop(m);
        Ok(Box::new(MemWriter { fs: self.clone(), key }))
    }

    fn create_dir(&self, path: &VirtualPath) -> Result<(), FsError> {
        let key = Self::key(path);
        self.check_write(&key);
        let mut m = self.lock();
        if m.contains_key(&key) {
            return Err(FsError::AlreadyExists);
        }
        if !matches!(m.get(&Self::parent(&key)), Some(Node::Dir)) {
            return Err(FsError::NotFound);
        }
        m.insert(key, Node::Dir);
        Ok(())
    }

    fn remove_dir(&self, path: &VirtualPath) -> Result<(), FsError> {
        let key = Self::key(path);
        self.check_write(&key);
        let mut m = self.lock();
        match m.get(&key) {
            Some(Node::Dir) => {}
            Some(_) => return Err(FsError::NotADirectory),
            None => return Err(FsError::NotFound),
        }
        let prefix = format!("{key}/");
        if m.range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
        {
            return Err(FsError::NotEmpty);
        }
        m.remove(&key);
        Ok(())
    }

    fn remove_file(&self, path: &VirtualPath) -> Result<(), FsError> {
        let key = Self::key(path);
        self.check_write(&key);
        let mut m = self.lock();
        match m.get(&key) {
            Some(Node::File(_)) => {
                m.remove(&key);
                Ok(())
            }
            Some(Node::Dir) => Err(FsError::IsADirectory),
            None => Err(FsError::NotFound),
        }
    }

    fn rename(&self, from: &VirtualPath, to: &VirtualPath) -> Result<(), FsError> {
        let (f, t) = (Self::key(from), Self::key(to));
        self.check_write(&f);
        self.check_write(&t);
        let mut m = self.lock();
        let Some(node) = m.get(&f).cloned() else {
            return Err(FsError::NotFound);
        };
        if !matches!(m.get(&Self::parent(&t)), Some(Node::Dir)) {
            return Err(FsError::NotFound);
        }
        if t.starts_with(&format!("{f}/")) {
            return Err(FsError::PermissionDenied);
        }
        if matches!(node, Node::Dir) {
            if m.contains_key(&t) {
                return Err(FsError::AlreadyExists);
            }
            let prefix = format!("{f}/");
            let moved: Vec<(String, Node)> = m
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, n)| (k.clone(), n.clone()))
                .collect();
            for (k, n) in moved {
                m.remove(&k);
                m.insert(format!("{t}/{}", &k[prefix.len()..]), n);
            }
        } else if matches!(m.get(&t), Some(Node::Dir)) {
            return Err(FsError::IsADirectory);
        }
        m.remove(&f);
        m.insert(t, node);
        Ok(())
    }
}
