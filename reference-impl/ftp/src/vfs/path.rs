//! Virtual paths: what the client names, normalised inside the virtual root.

use std::fmt;

/// Why a client's pathname cannot name anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The pathname holds a NUL byte (or another control character).
    #[error("control character in pathname")]
    ControlCharacter,
    /// The pathname is longer than [`MAX_PATH`] bytes.
    #[error("pathname too long")]
    TooLong,
}

/// Longest pathname accepted, in bytes.
pub const MAX_PATH: usize = 4096;

/// An absolute, normalised path inside the virtual root: it starts with `/`, has no empty,
/// `.` or `..` components and no trailing `/` (except the root itself). Nothing about it can
/// leave the root: `..` at the root stays at the root, the way `cd ..` does at `/`.
///
/// RFC 3659 §6 (TVFS): `/` separates components and a pathname starting with `/` is
/// absolute from the root of the file store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VirtualPath(String);

impl VirtualPath {
    /// The root, `/`.
    pub fn root() -> VirtualPath {
        VirtualPath("/".into())
    }

    /// Resolve the client's `arg` against the working directory `cwd`.
    ///
    /// Absolute arguments start from the virtual root; `.` and empty components are
    /// dropped; `..` removes the previous component and never goes above the root. Control
    /// characters (NUL, CR, LF, …) are refused. Backslashes and `%2f` are ordinary file-name
    /// characters here: only `/` separates.
    pub fn resolve(cwd: &VirtualPath, arg: &str) -> Result<VirtualPath, PathError> {
        if arg.len() > MAX_PATH {
            return Err(PathError::TooLong);
        }
        if arg.chars().any(char::is_control) {
            return Err(PathError::ControlCharacter);
        }
        let mut parts: Vec<&str> = if arg.starts_with('/') {
            Vec::new()
        } else {
            cwd.components().collect()
        };
        for c in arg.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                c => parts.push(c),
            }
        }
        let joined = format!("/{}", parts.join("/"));
        if joined.len() > MAX_PATH {
            return Err(PathError::TooLong);
        }
        Ok(VirtualPath(joined))
    }

    /// The path as a string, `/a/b`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for `/`.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The components, none of them empty, `.` or `..`.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|c| !c.is_empty())
    }

    /// The last component, `None` for the root.
    pub fn file_name(&self) -> Option<&str> {
        self.components().last()
    }

    /// The parent directory (the root's parent is the root).
    pub fn parent(&self) -> VirtualPath {
        match self.0.rfind('/') {
            Some(0) | None => VirtualPath::root(),
            Some(i) => VirtualPath(self.0.get(..i).unwrap_or("/").to_owned()),
        }
    }

    /// This path with `name` (one component, no `/`) appended.
    pub fn join(&self, name: &str) -> VirtualPath {
        if self.is_root() {
            VirtualPath(format!("/{name}"))
        } else {
            VirtualPath(format!("{}/{name}", self.0))
        }
    }

    /// True when `self` is `dir` or lies below it.
    pub fn starts_with(&self, dir: &VirtualPath) -> bool {
        dir.is_root() || self.0 == dir.0 || self.0.strip_prefix(&dir.0).is_some_and(|rest| rest.starts_with('/'))
    }
}

impl fmt::Display for VirtualPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(cwd: &str, arg: &str) -> Result<String, PathError> {
        let cwd = VirtualPath::resolve(&VirtualPath::root(), cwd).unwrap();
        VirtualPath::resolve(&cwd, arg).map(|p| p.0)
    }

    #[test]
    fn resolves_relative_and_absolute() {
        assert_eq!(r("/", "pub").unwrap(), "/pub");
        assert_eq!(r("/pub", "sub/nested.txt").unwrap(), "/pub/sub/nested.txt");
        assert_eq!(r("/pub", "/hello.txt").unwrap(), "/hello.txt");
        assert_eq!(r("/pub", "./sub//x/").unwrap(), "/pub/sub/x");
        assert_eq!(r("/pub/sub", "..").unwrap(), "/pub");
    }

    #[test]
    fn dot_dot_never_leaves_the_root() {
        assert_eq!(r("/", "..").unwrap(), "/");
        assert_eq!(r("/pub", "../../../etc/passwd").unwrap(), "/etc/passwd");
        assert_eq!(r("/", "/../..").unwrap(), "/");
        assert_eq!(r("/", "..\\..\\etc").unwrap(), "/..\\..\\etc");
        assert_eq!(r("/", "..%2f..%2fetc").unwrap(), "/..%2f..%2fetc");
    }

    #[test]
    fn control_characters_are_refused() {
        assert_eq!(r("/", "a\0b"), Err(PathError::ControlCharacter));
        assert_eq!(r("/", "a\nb"), Err(PathError::ControlCharacter));
        assert_eq!(r("/", &"a".repeat(5000)), Err(PathError::TooLong));
    }

    #[test]
    fn parent_join_starts_with() {
        let p = VirtualPath::resolve(&VirtualPath::root(), "/pub/sub").unwrap();
        assert_eq!(p.parent().as_str(), "/pub");
        assert_eq!(p.parent().parent(), VirtualPath::root());
        assert_eq!(VirtualPath::root().parent(), VirtualPath::root());
        assert_eq!(p.file_name(), Some("sub"));
        assert_eq!(VirtualPath::root().join("x").as_str(), "/x");
        assert_eq!(p.join("x").as_str(), "/pub/sub/x");
        let pubdir = p.parent();
        assert!(p.starts_with(&pubdir));
        assert!(
            !VirtualPath::resolve(&VirtualPath::root(), "/pubx")
                .unwrap()
                .starts_with(&pubdir)
        );
        assert!(p.starts_with(&VirtualPath::root()));
    }
}
