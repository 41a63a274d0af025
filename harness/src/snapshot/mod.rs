//! Snapshots: every case's exchange, normalised and redacted, kept as insta `.snap` files
//! (`wirecheck run --snapshot DIR`), so that a regression between two versions of a server
//! is a snapshot diff.
//!
//! A snapshot is the case's exchange as lines: `> ` what wirecheck sent, `< ` what the
//! target answered, `# ` connection notes. When a case has several connections, each
//! connection's lines come together (in the order the connections first appear), prefixed
//! with its name: the order of events *between* connections (an FTP `226` and the end of the
//! data connection) depends on timing, the order within one does not. Stream data is cut into lines at LF; a line ending in CRLF is shown
//! without it, any other ending stays visible (`\n`, `\r`, or `[no line end]`). DNS
//! messages are shown in their presentation form. Then what legitimately varies (dates,
//! queue ids, ports, host names, UIDVALIDITY, …) is replaced by `[name]` ([`Redactions`],
//! a table in data).
//!
//! The files are insta's: a YAML header (`source`, `expression`) and the body, one file
//! per case, `DIR/<case id>.snap`. On a later run:
//! * no snapshot yet: it is written (the run records a baseline);
//! * the same: nothing changes;
//! * different: the case becomes `fail` (expected: the old body, actual: the new one) and
//!   the new body is written next to the old as `.snap.new`, for `cargo insta review` or
//!   for a later run with `--snapshot-update` (or `INSTA_UPDATE=always`), which accepts it.
//!   `INSTA_UPDATE=no` fails the case without writing anything.
//!
//! `cargo insta review` (and `accept`, `reject`) find `.snap.new` files in the directories
//! of Cargo packages: keep the snapshot directory inside one (this repository, or any
//! directory with a minimal `Cargo.toml`), or accept with `--snapshot-update`.
//!
//! Snapshots of a server that keeps state between cases (a maildrop that grows, `RECENT`
//! counts of concurrent sessions) change with that state: take them against a server
//! started fresh for the run (or per case with `--isolate`).

use std::path::{Path, PathBuf};

use wirecheck_reports::{CaseResult, Direction, Outcome, Summary, TargetReport, unescape_bytes};

pub mod cli;
mod redact;

pub use redact::{RedactionError, Redactions};

/// What a run does with snapshots that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A difference fails the case and writes `.snap.new` (insta's `auto`/`new`).
    Compare,
    /// A difference is accepted: the `.snap` is rewritten (`--snapshot-update`,
    /// `INSTA_UPDATE=always`).
    Update,
    /// A difference fails the case; no file is written (`INSTA_UPDATE=no`).
    ReadOnly,
}

impl Mode {
    /// The mode from the `--snapshot-update` flag and insta's `INSTA_UPDATE` variable.
    pub fn from_env(update_flag: bool) -> Mode {
        if update_flag {
            return Mode::Update;
        }
        match std::env::var("INSTA_UPDATE").as_deref() {
            Ok("always") | Ok("unseen") => Mode::Update,
            Ok("no") => Mode::ReadOnly,
            _ => Mode::Compare,
        }
    }
}

/// What became of one case's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// No snapshot existed; one was written.
    New,
    /// Same as before.
    Same,
    /// Different, and accepted (the snapshot was rewritten).
    Updated,
    /// Different: the case failed; the unified diff.
    Changed(String),
    /// Skipped cases have no snapshot.
    NotTaken,
}

/// Counts of one run's snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Written for the first time.
    pub new: usize,
    /// Unchanged.
    pub same: usize,
    /// Accepted changes.
    pub updated: usize,
    /// Changes that failed their case.
    pub changed: usize,
}

/// Why snapshots could not be kept.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The redaction table is invalid.
    #[error(transparent)]
    Redactions(#[from] RedactionError),
}

/// A snapshot directory.
#[derive(Debug, Clone)]
pub struct Snapshots {
    dir: PathBuf,
    mode: Mode,
    redactions: Redactions,
}

impl Snapshots {
    /// Snapshots in `dir` (created when missing), with the built-in redactions plus those of
    /// `dir/redactions.toml` when it exists.
    pub fn open(dir: &Path, mode: Mode) -> Result<Snapshots, SnapshotError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SnapshotError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let extra = dir.join("redactions.toml");
        let mut redactions = Redactions::builtin()?;
        if extra.exists() {
            let text = std::fs::read_to_string(&extra).map_err(io(&extra))?;
            redactions = Redactions::parse(&text, &extra.display().to_string())?.then(redactions);
        }
        Ok(Snapshots {
            dir: dir.to_path_buf(),
            mode,
            redactions,
        })
    }

    /// The file of case `id`.
    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{}.snap", file_stem(id)))
    }

    /// Compare (or record) every case of `target`, failing the ones whose replies changed;
    /// the target's summary is recomputed. Returns each case's change, in case order.
    pub fn check(&self, target: &mut TargetReport) -> Result<Vec<(String, Change)>, SnapshotError> {
        let mut changes = Vec::with_capacity(target.cases.len());
        for c in &mut target.cases {
            let change = self.check_case(c)?;
            changes.push((c.id.clone(), change));
        }
        target.summary = Summary::of(&target.cases);
        Ok(changes)
    }

    /// Compare (or record) one case.
    pub fn check_case(&self, c: &mut CaseResult) -> Result<Change, SnapshotError> {
        if c.outcome == Outcome::Skipped {
            return Ok(Change::NotTaken);
        }
        let body = self.redactions.apply(&render(c));
        let path = self.path_of(&c.id);
        let new_path = path.with_extension("snap.new");
        let io = |p: &Path| {
            let path = p.to_path_buf();
            move |source| SnapshotError::Io { path, source }
        };
        let old = match std::fs::read_to_string(&path) {
            Ok(text) => Some(body_of(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&path)(e)),
        };
        let Some(old) = old else {
            if self.mode != Mode::ReadOnly {
                std::fs::write(&path, file_text(c, &body, false)).map_err(io(&path))?;
            }
            return Ok(Change::New);
        };
        if old.trim_end() == body.trim_end() {
            remove_if_there(&new_path).map_err(io(&new_path))?;
            return Ok(Change::Same);
        }
        match self.mode {
            Mode::Update => {
                std::fs::write(&path, file_text(c, &body, false)).map_err(io(&path))?;
                remove_if_there(&new_path).map_err(io(&new_path))?;
                Ok(Change::Updated)
            }
            Mode::Compare | Mode::ReadOnly => {
                if self.mode == Mode::Compare {
                    std::fs::write(&new_path, file_text(c, &body, true)).map_err(io(&new_path))?;
                }
                let diff = unified_diff(&old, &body);
                let msg = format!(
                    "the replies differ from the snapshot {} (accept with --snapshot-update or `cargo insta review`)",
                    path.display()
                );
                if matches!(c.outcome, Outcome::Fail | Outcome::Error) {
                    let m = c.message.take().unwrap_or_default();
                    c.message = Some(format!("{m}; and {msg}"));
                } else {
                    c.outcome = Outcome::Fail;
                    c.message = Some(msg);
                    c.line = None;
                    c.expected = Some(old.trim_end().to_string());
                    c.actual = Some(body.trim_end().to_string());
                }
                Ok(Change::Changed(diff))
            }
        }
    }
}

/// Count the changes of a run.
pub fn tally(changes: &[(String, Change)]) -> Tally {
    let mut t = Tally::default();
    for (_, c) in changes {
        match c {
            Change::New => t.new += 1,
            Change::Same => t.same += 1,
            Change::Updated => t.updated += 1,
            Change::Changed(_) => t.changed += 1,
            Change::NotTaken => {}
        }
    }
    t
}

fn remove_if_there(p: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A case id as a file name: `[A-Za-z0-9._-]`, anything else `_`.
fn file_stem(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_start_matches('.');
    if s.is_empty() {
        "case".into()
    } else {
        s.to_string()
    }
}

/// A YAML double-quoted scalar.
fn yaml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The file: insta's YAML header, `---`, the body. A pending (`.snap.new`) file carries an
/// `assertion_line` as insta's do.
fn file_text(c: &CaseResult, body: &str, pending: bool) -> String {
    let mut s = String::from("---\n");
    s.push_str(&format!("source: {}\n", yaml_str(&c.file)));
    if pending {
        s.push_str(&format!("assertion_line: {}\n", c.line.unwrap_or(1)));
    }
    s.push_str(&format!("expression: {}\n", yaml_str(&c.id)));
    s.push_str("---\n");
    s.push_str(body.trim_end());
    s.push('\n');
    s
}

/// The body of a `.snap` file: what follows the header's closing `---`.
fn body_of(text: &str) -> String {
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return text.to_string();
    }
    for l in lines.by_ref() {
        if l.trim_end() == "---" {
            break;
        }
    }
    lines.collect::<Vec<_>>().join("\n")
}

/// A unified diff of two bodies (`-` old, `+` new).
pub fn unified_diff(old: &str, new: &str) -> String {
    let (old, new) = (
        format!("{}\n", old.trim_end()),
        format!("{}\n", new.trim_end()),
    );
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header("snapshot", "this run")
        .to_string()
}

/// A case's exchange as snapshot lines (before redaction).
pub fn render(c: &CaseResult) -> String {
    let conns: std::collections::BTreeSet<&str> = c
        .exchange
        .iter()
        .map(|e| e.conn.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    let prefix = |conn: &str, mark: &str| {
        if conns.len() > 1 && !conn.is_empty() {
            format!("{conn} {mark} ")
        } else {
            format!("{mark} ")
        }
    };
    let dns = c.protocol == "dns";
    let mut out: Vec<(String, String)> = Vec::new();
    // Bytes of a line not yet ended, per (connection, direction).
    let mut pending: Vec<((String, bool), Vec<u8>)> = Vec::new();
    for e in &c.exchange {
        let sent = match e.dir {
            Direction::Note => {
                out.push((
                    e.conn.clone(),
                    format!("{}{}", prefix(&e.conn, "#"), e.data),
                ));
                continue;
            }
            Direction::Sent => true,
            Direction::Received => false,
        };
        let mark = if sent { ">" } else { "<" };
        let bytes = unescape_bytes(&e.data).unwrap_or_else(|| e.data.clone().into_bytes());
        if dns && let Some(msgs) = dns_messages(&bytes) {
            for m in msgs {
                for l in m.lines() {
                    out.push((e.conn.clone(), format!("{}{l}", prefix(&e.conn, mark))));
                }
            }
            continue;
        }
        let key = (e.conn.clone(), sent);
        let buf = match pending.iter_mut().find(|(k, _)| *k == key) {
            Some((_, b)) => b,
            None => {
                pending.push((key, Vec::new()));
                match pending.last_mut() {
                    Some((_, b)) => b,
                    None => continue,
                }
            }
        };
        buf.extend_from_slice(&bytes);
        while let Some(i) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            out.push((
                e.conn.clone(),
                format!("{}{}", prefix(&e.conn, mark), show_line(&line)),
            ));
        }
    }
    for ((conn, sent), rest) in pending {
        if !rest.is_empty() {
            let mark = if sent { ">" } else { "<" };
            let line = format!(
                "{}{} [no line end]",
                prefix(&conn, mark),
                wirecheck_reports::escape_bytes(&rest)
            );
            out.push((conn, line));
        }
    }
    // One connection's lines together, connections in order of first appearance.
    let order: Vec<&str> = {
        let mut seen = Vec::new();
        for e in &c.exchange {
            if !seen.contains(&e.conn.as_str()) {
                seen.push(e.conn.as_str());
            }
        }
        seen
    };
    out.sort_by_key(|(conn, _)| order.iter().position(|c| c == conn).unwrap_or(usize::MAX));
    let mut s = out
        .into_iter()
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n");
    s.push('\n');
    s
}

/// One line: CRLF dropped, any other ending kept visible.
fn show_line(line: &[u8]) -> String {
    match line.strip_suffix(b"\r\n") {
        Some(l) => wirecheck_reports::escape_bytes(l),
        None => wirecheck_reports::escape_bytes(line),
    }
}

/// DNS messages in `b`: one datagram, or length-prefixed TCP messages; `None` when the
/// bytes are neither.
fn dns_messages(b: &[u8]) -> Option<Vec<String>> {
    use wirecheck_dns::{codec, presentation};
    if let Ok(m) = codec::decode(b) {
        return Some(vec![presentation::render(&m)]);
    }
    let mut out = Vec::new();
    let mut rest = b;
    while !rest.is_empty() {
        let (used, msg) = codec::tcp_frame(rest)?;
        out.push(presentation::render(&codec::decode(msg).ok()?));
        rest = rest.get(used..)?;
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use wirecheck_reports::{Event, Level, escape_bytes};

    pub(crate) fn case(events: &[(&str, Direction, &[u8])]) -> CaseResult {
        CaseResult {
            id: "smtp.x.y".into(),
            title: String::new(),
            protocol: "smtp".into(),
            rfc: vec![],
            level: Level::Must,
            tags: vec![],
            points: 1,
            outcome: Outcome::Pass,
            message: None,
            line: None,
            expected: None,
            actual: None,
            hint: None,
            exchange: events
                .iter()
                .enumerate()
                .map(|(i, (conn, dir, data))| Event {
                    t_ms: i as u64,
                    conn: conn.to_string(),
                    dir: *dir,
                    data: if *dir == Direction::Note {
                        String::from_utf8_lossy(data).into_owned()
                    } else {
                        escape_bytes(data)
                    },
                })
                .collect(),
            duration_ms: 0,
            file: "smtp/x.toml".into(),
        }
    }

    #[test]
    fn lines_are_joined_across_reads_and_odd_endings_stay_visible() {
        use Direction::*;
        let c = case(&[
            ("main", Note, b"connected to 127.0.0.1:2525"),
            ("main", Received, b"220 mx.example.org ES"),
            ("main", Received, b"MTP\r\n"),
            ("main", Sent, b"EHLO x\r\n"),
            ("main", Received, b"250-mx.example.org\r\n250 8BITMIME\n"),
            ("main", Sent, b"partial"),
        ]);
        assert_eq!(
            render(&c),
            "# connected to 127.0.0.1:2525\n< 220 mx.example.org ESMTP\n> EHLO x\n< 250-mx.example.org\n< 250 8BITMIME\\n\n> partial [no line end]\n"
        );
    }

    #[test]
    fn several_connections_are_named() {
        use Direction::*;
        let c = case(&[
            ("main", Received, b"227 ok\r\n"),
            ("data", Received, b"x\r\n"),
            ("main", Received, b"226 done\r\n"),
        ]);
        assert_eq!(render(&c), "main < 227 ok\nmain < 226 done\ndata < x\n");
    }

    #[test]
    fn headers_and_bodies() {
        let c = case(&[]);
        let t = file_text(&c, "< 220 x\n", true);
        assert_eq!(
            t,
            "---\nsource: \"smtp/x.toml\"\nassertion_line: 1\nexpression: \"smtp.x.y\"\n---\n< 220 x\n"
        );
        assert_eq!(body_of(&t), "< 220 x");
        assert_eq!(file_stem("a/b..c"), "a_b..c");
        assert!(unified_diff("a\nb\n", "a\nc\n").contains("-b\n+c"));
    }
}
