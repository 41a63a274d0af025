//! File and directory commands of the control session: CWD, MKD, RMD, DELE, RNFR/RNTO,
//! LIST/NLST/MLSD/MLST, STAT <path>, SIZE, MDTM.

use std::io::Read;

use crate::ascii::ToNetwork;
use crate::listing::{Access, list_line, mlsx_entry, time_val};
use crate::vfs::{DirEntry, FileKind, FsError, Metadata, VirtualFs, VirtualPath};

use super::{FtpSession, quote_path};

/// Which listing a data transfer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListKind {
    /// RFC 959 §4.1.3 LIST: `ls -l` lines.
    List,
    /// RFC 959 §4.1.3 NLST: names only.
    Nlst,
    /// RFC 3659 §7 MLSD: facts and names.
    Mlsd,
}

impl<F: VirtualFs> FtpSession<F> {
    /// RFC 959 §4.1.1 CWD (and CDUP as `CWD ..`).
    pub(super) fn cmd_cwd(&mut self, arg: &str) {
        let cdup = arg == "..";
        let Some(path) = self.resolve_or_reply(arg, 550) else {
            return;
        };
        match self.fs.metadata(&path) {
            Ok(m) if m.kind == FileKind::Dir => {
                self.cwd = path;
                // RFC 959 §5.4: CDUP answers 200, CWD 250.
                if cdup {
                    self.reply(200, "Directory successfully changed.")
                } else {
                    self.reply(250, "Directory successfully changed.")
                }
            }
            _ => self.reply(550, "Failed to change directory."),
        }
    }

    /// RFC 959 §4.1.3 MKD: `257 "<path>" created`.
    pub(super) fn cmd_mkd(&mut self, arg: &str) {
        let Some(path) = self.resolve_or_reply(arg, 550) else {
            return;
        };
        if !self.may_write(&path) {
            return self.reply(550, "Permission denied.");
        }
        match self.fs.create_dir(&path) {
            Ok(()) => self.reply(257, &format!("{} created", quote_path(path.as_str()))),
            Err(e) => self.reply(550, &format!("Create directory operation failed: {e}.")),
        }
    }

    /// RFC 959 §4.1.3 RMD.
    pub(super) fn cmd_rmd(&mut self, arg: &str) {
        let Some(path) = self.resolve_or_reply(arg, 550) else {
            return;
        };
        if !self.may_write(&path) {
            return self.reply(550, "Permission denied.");
        }
        match self.fs.remove_dir(&path) {
            Ok(()) => self.reply(250, "Remove directory operation successful."),
            Err(e) => self.reply(550, &format!("Remove directory operation failed: {e}.")),
        }
    }

    /// RFC 959 §4.1.3 DELE.
    pub(super) fn cmd_dele(&mut self, arg: &str) {
        let Some(path) = self.resolve_or_reply(arg, 550) else {
            return;
        };
        if !self.may_write(&path) {
            return self.reply(550, "Permission denied.");
        }
        match self.fs.remove_file(&path) {
            Ok(()) => self.reply(250, "Delete operation successful."),
            Err(e) => self.reply(550, &format!("Delete operation failed: {e}.")),
        }
    }

    /// RFC 959 §4.1.3 RNFR: `350`, and RNTO must follow at once.
    pub(super) fn cmd_rnfr(&mut self, arg: &str) {
        let Some(path) = self.resolve_or_reply(arg, 550) else {
            return;
        };
        if !self.may_write(&path) {
            return self.reply(550, "Permission denied.");
        }
        match self.fs.metadata(&path) {
            Ok(_) => {
                self.rnfr = Some(path);
                self.reply(350, "Ready for RNTO.");
            }
            Err(_) => self.reply(550, "RNFR command failed: no such file or directory."),
        }
    }

    /// RFC 959 §4.1.3 RNTO: `503` without a preceding RNFR (§5.4), `553` when the name cannot
    /// be used.
    pub(super) fn cmd_rnto(&mut self, from: Option<VirtualPath>, arg: &str) {
        let Some(from) = from else {
            return self.reply(503, "RNFR required first.");
        };
        let Some(to) = self.resolve_or_reply(arg, 553) else {
            return;
        };
        if !self.may_write(&to) {
            return self.reply(553, "Permission denied.");
        }
        match self.fs.rename(&from, &to) {
            Ok(()) => self.reply(250, "Rename successful."),
            Err(e) => self.reply(553, &format!("Rename failed: {e}.")),
        }
    }

    /// The path a listing command names (its `-options` dropped, as `ls`-style clients send
    /// `LIST -la`), and its metadata; or the reply `code` when it does not exist.
    fn listing_target(&mut self, arg: Option<&str>, code: u16) -> Option<(VirtualPath, Option<String>, Metadata)> {
        let arg = arg.map(str::trim).unwrap_or_default();
        let arg = if arg.starts_with('-') {
            arg.split_once(' ')
                .map(|(_, rest)| rest.trim_start())
                .unwrap_or_default()
        } else {
            arg
        };
        let given = (!arg.is_empty()).then(|| arg.to_owned());
        let path = self.resolve_or_reply(arg, code)?;
        match self.fs.metadata(&path) {
            Ok(m) => Some((path, given, m)),
            Err(_) => {
                self.reply(code, "No such file or directory.");
                None
            }
        }
    }

    fn entries(&self, path: &VirtualPath, m: &Metadata) -> Result<Vec<DirEntry>, FsError> {
        if m.kind == FileKind::Dir {
            self.fs.read_dir(path, self.cfg.max_listing)
        } else {
            let name = path.file_name().unwrap_or("/").to_owned();
            Ok(vec![DirEntry {
                name,
                metadata: m.clone(),
            }])
        }
    }

    /// RFC 959 §4.1.3 LIST / NLST and RFC 3659 §7 MLSD: the listing goes over a data connection.
    /// A missing path is `450` for LIST/NLST (§5.4) and `550` for MLSD (RFC 3659 §7.2.2); MLSD
    /// of a file is `501`.
    pub(super) fn cmd_list(&mut self, arg: Option<&str>, kind: ListKind) {
        if self.data_mode == super::DataMode::None {
            return self.reply(425, "Use PORT, PASV, EPRT or EPSV first.");
        }
        let missing = if kind == ListKind::Mlsd { 550 } else { 450 };
        let Some((path, given, m)) = self.listing_target(arg, missing) else {
            return;
        };
        if kind == ListKind::Mlsd && m.kind != FileKind::Dir {
            return self.reply(501, "MLSD needs a directory.");
        }
        let entries = match self.entries(&path, &m) {
            Ok(e) => e,
            Err(_) => return self.reply(missing, "Cannot read the directory."),
        };
        let mut body = Vec::new();
        for e in &entries {
            let line = match kind {
                ListKind::List => list_line(&e.name, &e.metadata),
                // NLST of a named directory returns names with that directory in front, so
                // they can be given back to RETR (what clients' mget expects).
                ListKind::Nlst => match (&given, m.kind) {
                    (Some(g), FileKind::Dir) => format!("{}/{}", g.trim_end_matches('/'), e.name),
                    (Some(g), _) => g.clone(),
                    (None, _) => e.name.clone(),
                },
                ListKind::Mlsd => {
                    let access = self.access(&path.join(&e.name));
                    mlsx_entry(&e.name, &e.metadata, &self.facts, access)
                }
            };
            body.extend_from_slice(line.as_bytes());
            body.extend_from_slice(b"\r\n");
        }
        self.start_listing(body);
    }

    fn access(&self, path: &VirtualPath) -> Access {
        Access {
            modify: self.may_write(path),
            create_inside: self.may_write(&path.join("x")),
        }
    }

    /// RFC 3659 §7 MLST: the facts of one entry over the control connection, as a `250`
    /// multi-line reply whose middle line starts with a single space.
    pub(super) fn cmd_mlst(&mut self, arg: Option<&str>) {
        let Some(path) = self.resolve_or_reply(arg.unwrap_or(""), 550) else {
            return;
        };
        match self.fs.metadata(&path) {
            Ok(m) => {
                let entry = mlsx_entry(path.as_str(), &m, &self.facts, self.access(&path));
                self.reply_lines(250, &[format!("Listing {path}"), format!(" {entry}"), "End".to_owned()]);
            }
            Err(_) => self.reply(550, "No such file or directory."),
        }
    }

    /// RFC 959 §4.1.3 STAT <path>: a LIST over the control connection, `213`; `450` when the
    /// path does not exist (§5.4).
    pub(super) fn cmd_stat_path(&mut self, arg: &str) {
        let Some((path, _, m)) = self.listing_target(Some(arg), 450) else {
            return;
        };
        let Ok(entries) = self.entries(&path, &m) else {
            return self.reply(450, "Cannot read the directory.");
        };
        let mut lines = vec![format!("Status of {path}:")];
        lines.extend(entries.iter().map(|e| list_line(&e.name, &e.metadata)));
        lines.push("End of status".to_owned());
        self.reply_lines(213, &lines);
    }

    /// RFC 3659 §4 SIZE: the size the file would have in the current TYPE (TYPE A counts the
    /// CRLF line ends, so the file is read for it).
    pub(super) fn cmd_size(&mut self, arg: &str) {
        let Some(path) = self.resolve_or_reply(arg, 550) else {
            return;
        };
        let size = match self.fs.metadata(&path) {
            Ok(m) if m.kind == FileKind::File => m.size,
            _ => return self.reply(550, "Could not get file size."),
        };
        if !self.ascii {
            return self.reply(213, &size.to_string());
        }
        if size > self.cfg.max_ascii_size {
            return self.reply(
                550,
                "SIZE in ASCII mode is not available for a file this large; use TYPE I.",
            );
        }
        match self.ascii_size(&path) {
            Some(n) => self.reply(213, &n.to_string()),
            None => self.reply(550, "Could not get file size."),
        }
    }

    fn ascii_size(&self, path: &VirtualPath) -> Option<u64> {
        let mut r = self.fs.open_read(path, 0).ok()?;
        let mut conv = ToNetwork::default();
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        let mut read = 0u64;
        loop {
            let n = r.read(&mut buf).ok()?;
            if n == 0 {
                return Some(total);
            }
            read += n as u64;
            if read > self.cfg.max_ascii_size {
                return None;
            }
            total += conv.converted_len(buf.get(..n)?);
        }
    }

    /// RFC 3659 §3 MDTM: `213 YYYYMMDDHHMMSS` (UTC) of a file.
    pub(super) fn cmd_mdtm(&mut self, arg: &str) {
        let Some(path) = self.resolve_or_reply(arg, 550) else {
            return;
        };
        match self.fs.metadata(&path) {
            Ok(Metadata {
                kind: FileKind::File,
                modified: Some(t),
                ..
            }) => self.reply(213, &time_val(t)),
            _ => self.reply(550, "Could not get file modification time."),
        }
    }
}
