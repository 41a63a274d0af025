//! [`RealFs`]: a real directory as the virtual root, with `std::fs`.

use std::fs;
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use super::{DirEntry, FileKind, FileReader, FileWriter, FsError, Metadata, VirtualFs, VirtualPath, WriteMode};

/// A real directory serving as the virtual root.
///
/// Every path is checked before anything is opened: the part that exists is canonicalised
/// (symbolic links resolved) and must lie inside the canonical root, otherwise the answer is
/// [`FsError::Escape`]. Operations on a directory entry itself (remove, rename, create) resolve
/// only the parent that way and act on the last component without following it; a new file
/// is created with `O_EXCL`, so a dangling link cannot redirect it. (A concurrent process
/// swapping components for links between the check and the open is outside this model.)
#[derive(Debug, Clone)]
pub struct RealFs {
    root: PathBuf,
}

impl RealFs {
    /// Serve the directory `root` (which must exist).
    pub fn new(root: impl AsRef<Path>) -> io::Result<RealFs> {
        Ok(RealFs {
            root: fs::canonicalize(root)?,
        })
    }

    /// The canonical root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn joined(&self, path: &VirtualPath) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(path.components());
        p
    }

    /// The real path of `path` with every link followed; it must exist and stay inside.
    fn follow(&self, path: &VirtualPath) -> Result<PathBuf, FsError> {
        let real = fs::canonicalize(self.joined(path)).map_err(|e| {
            // A dangling link is "not found" unless it points outside (then it is an escape).
            from_io(&e)
        })?;
        if real.starts_with(&self.root) {
            Ok(real)
        } else {
            Err(FsError::Escape)
        }
    }

    /// The real path of the entry `path` names, with its parent resolved and checked but the
    /// last component left as it is (not followed).
    fn entry(&self, path: &VirtualPath) -> Result<PathBuf, FsError> {
        let name = path.file_name().ok_or(FsError::PermissionDenied)?;
        let parent = self.follow(&path.parent())?;
        if !parent.is_dir() {
            return Err(FsError::NotADirectory);
        }
        Ok(parent.join(name))
    }
}

fn from_io(e: &io::Error) -> FsError {
    match e.kind() {
        io::ErrorKind::NotFound => FsError::NotFound,
        io::ErrorKind::PermissionDenied => FsError::PermissionDenied,
        io::ErrorKind::AlreadyExists => FsError::AlreadyExists,
        io::ErrorKind::NotADirectory => FsError::NotADirectory,
        io::ErrorKind::IsADirectory => FsError::IsADirectory,
        io::ErrorKind::DirectoryNotEmpty => FsError::NotEmpty,
        _ => FsError::Io(e.to_string()),
    }
}

fn metadata_of(m: &fs::Metadata) -> Metadata {
    let ft = m.file_type();
    let kind = if ft.is_symlink() {
        FileKind::Symlink
    } else if ft.is_dir() {
        FileKind::Dir
    } else if ft.is_file() {
        FileKind::File
    } else {
        FileKind::Other
    };
    let modified = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    Metadata {
        kind,
        size: m.len(),
        modified,
    }
}

impl VirtualFs for RealFs {
    fn metadata(&self, path: &VirtualPath) -> Result<Metadata, FsError> {
        let real = self.follow(path)?;
        fs::metadata(real).map(|m| metadata_of(&m)).map_err(|e| from_io(&e))
    }

    fn read_dir(&self, path: &VirtualPath, limit: usize) -> Result<Vec<DirEntry>, FsError> {
        let real = self.follow(path)?;
        let mut out = Vec::new();
        for entry in fs::read_dir(real).map_err(|e| from_io(&e))? {
            if out.len() >= limit {
                break;
            }
            let Ok(entry) = entry else { continue };
            // Names that are not UTF-8 cannot be named by a client (RFC 2640): skip them.
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let Ok(m) = entry.path().symlink_metadata() else {
                continue;
            };
            out.push(DirEntry {
                name,
                metadata: metadata_of(&m),
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn open_read(&self, path: &VirtualPath, offset: u64) -> Result<FileReader, FsError> {
        let real = self.follow(path)?;
        let mut f = fs::File::open(&real).map_err(|e| from_io(&e))?;
        let m = f.metadata().map_err(|e| from_io(&e))?;
        if m.is_dir() {
            return Err(FsError::IsADirectory);
        }
        if !m.is_file() {
            return Err(FsError::PermissionDenied);
        }
        if offset > m.len() {
            return Err(FsError::BadOffset);
        }
        f.seek(SeekFrom::Start(offset)).map_err(|e| from_io(&e))?;
        Ok(Box::new(f))
    }

    fn open_write(&self, path: &VirtualPath, mode: WriteMode) -> Result<FileWriter, FsError> {
        let target = self.entry(path)?;
        let existing = match target.symlink_metadata() {
            Ok(_) => Some(self.follow(path)?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(from_io(&e)),
        };
        let mut f = match (existing, mode) {
            (Some(_), WriteMode::CreateNew) => return Err(FsError::AlreadyExists),
            (Some(real), _) => {
                if real.is_dir() {
                    return Err(FsError::IsADirectory);
                }
                let mut o = fs::OpenOptions::new();
                o.write(true);
                match mode {
                    WriteMode::Truncate => o.truncate(true),
                    WriteMode::Append => o.append(true),
                    _ => &mut o,
                };
                o.open(real).map_err(|e| from_io(&e))?
            }
            // New file: O_CREAT|O_EXCL never follows a link planted at the name.
            (None, WriteMode::At(n)) if n > 0 => return Err(FsError::BadOffset),
            (None, _) => fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(|e| from_io(&e))?,
        };
        if let WriteMode::At(n) = mode {
            let len = f.metadata().map_err(|e| from_io(&e))?.len();
            if n > len {
                return Err(FsError::BadOffset);
            }
            f.set_len(n).map_err(|e| from_io(&e))?;
            f.seek(SeekFrom::Start(n)).map_err(|e| from_io(&e))?;
        }
        Ok(Box::new(f))
    }

    fn create_dir(&self, path: &VirtualPath) -> Result<(), FsError> {
        fs::create_dir(self.entry(path)?).map_err(|e| from_io(&e))
    }

    fn remove_dir(&self, path: &VirtualPath) -> Result<(), FsError> {
        let target = self.entry(path)?;
        let m = target.symlink_metadata().map_err(|e| from_io(&e))?;
        if !m.is_dir() {
            return Err(FsError::NotADirectory);
        }
        fs::remove_dir(target).map_err(|e| from_io(&e))
    }

    fn remove_file(&self, path: &VirtualPath) -> Result<(), FsError> {
        let target = self.entry(path)?;
        let m = target.symlink_metadata().map_err(|e| from_io(&e))?;
        if m.is_dir() {
            return Err(FsError::IsADirectory);
        }
        fs::remove_file(target).map_err(|e| from_io(&e))
    }

    fn rename(&self, from: &VirtualPath, to: &VirtualPath) -> Result<(), FsError> {
        let src = self.entry(from)?;
        src.symlink_metadata().map_err(|e| from_io(&e))?;
        let dst = self.entry(to)?;
        if to.starts_with(from) {
            // A directory cannot move into itself.
            return Err(FsError::PermissionDenied);
        }
        fs::rename(src, dst).map_err(|e| from_io(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn vp(s: &str) -> VirtualPath {
        VirtualPath::resolve(&VirtualPath::root(), s).unwrap()
    }

    fn setup() -> (tempfile::TempDir, tempfile::TempDir, RealFs) {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("d")).unwrap();
        fs::write(dir.path().join("d/f.txt"), b"0123456789").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("d/secret")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("new"), dir.path().join("d/dangling")).unwrap();
        std::os::unix::fs::symlink("f.txt", dir.path().join("d/inner")).unwrap();
        let fs = RealFs::new(dir.path()).unwrap();
        (outside, dir, fs)
    }

    #[test]
    fn reads_and_lists_inside() {
        let (_o, _d, fs) = setup();
        let mut s = String::new();
        fs.open_read(&vp("/d/f.txt"), 4)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "456789");
        fs.open_read(&vp("/d/inner"), 0)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(fs.metadata(&vp("/d")).unwrap().kind, FileKind::Dir);
        let names: Vec<String> = fs
            .read_dir(&vp("/d"), 100)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["dangling", "f.txt", "inner", "secret"]);
        assert_eq!(fs.read_dir(&vp("/d"), 2).unwrap().len(), 2);
        assert!(matches!(fs.open_read(&vp("/d/f.txt"), 11), Err(FsError::BadOffset)));
        assert!(matches!(fs.open_read(&vp("/d"), 0), Err(FsError::IsADirectory)));
        assert!(matches!(fs.open_read(&vp("/nope"), 0), Err(FsError::NotFound)));
    }

    #[test]
    fn links_outside_the_root_are_escapes() {
        let (o, _d, fs) = setup();
        assert!(matches!(fs.open_read(&vp("/d/secret"), 0), Err(FsError::Escape)));
        assert!(matches!(fs.metadata(&vp("/out")), Err(FsError::Escape)));
        assert!(matches!(fs.read_dir(&vp("/out"), 10), Err(FsError::Escape)));
        assert!(matches!(fs.open_read(&vp("/out/secret"), 0), Err(FsError::Escape)));
        assert!(matches!(
            fs.open_write(&vp("/out/x"), WriteMode::Truncate),
            Err(FsError::Escape)
        ));
        assert!(fs.open_write(&vp("/d/secret"), WriteMode::Truncate).is_err());
        // A dangling link is not followed when creating.
        assert!(fs.open_write(&vp("/d/dangling"), WriteMode::Truncate).is_err());
        assert!(!o.path().join("new").exists());
        assert!(matches!(fs.create_dir(&vp("/out/x")), Err(FsError::Escape)));
        assert_eq!(fs::read(o.path().join("secret")).unwrap(), b"secret");
        // Removing the link removes the link, not its target.
        fs.remove_file(&vp("/d/secret")).unwrap();
        assert!(o.path().join("secret").exists());
    }

    #[test]
    fn writes_modes() {
        let (_o, d, fs) = setup();
        fs.open_write(&vp("/d/new"), WriteMode::Truncate)
            .unwrap()
            .write_all(b"abc")
            .unwrap();
        fs.open_write(&vp("/d/new"), WriteMode::Append)
            .unwrap()
            .write_all(b"def")
            .unwrap();
        assert_eq!(fs::read(d.path().join("d/new")).unwrap(), b"abcdef");
        fs.open_write(&vp("/d/new"), WriteMode::At(2))
            .unwrap()
            .write_all(b"X")
            .unwrap();
        assert_eq!(fs::read(d.path().join("d/new")).unwrap(), b"abX");
        assert!(matches!(
            fs.open_write(&vp("/d/new"), WriteMode::At(9)),
            Err(FsError::BadOffset)
        ));
        assert!(matches!(
            fs.open_write(&vp("/d/new"), WriteMode::CreateNew),
            Err(FsError::AlreadyExists)
        ));
        assert!(matches!(
            fs.open_write(&vp("/d"), WriteMode::Truncate),
            Err(FsError::IsADirectory)
        ));
        assert!(matches!(
            fs.open_write(&vp("/none/x"), WriteMode::Truncate),
            Err(FsError::NotFound)
        ));
        fs.create_dir(&vp("/d/sub")).unwrap();
        fs.rename(&vp("/d/new"), &vp("/d/sub/moved")).unwrap();
        assert!(matches!(fs.remove_dir(&vp("/d/sub")), Err(FsError::NotEmpty)));
        fs.remove_file(&vp("/d/sub/moved")).unwrap();
        fs.remove_dir(&vp("/d/sub")).unwrap();
        assert!(matches!(fs.remove_dir(&vp("/")), Err(FsError::PermissionDenied)));
        assert!(matches!(
            fs.rename(&vp("/d"), &vp("/d/x")),
            Err(FsError::PermissionDenied)
        ));
    }
}
