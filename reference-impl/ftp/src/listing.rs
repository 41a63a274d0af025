//! Listing formats: `LIST` (the `ls -l` form clients parse), `NLST` (names), `MLSx` facts
//! (RFC 3659 §7) and the `YYYYMMDDHHMMSS` time-val of `MDTM` / `modify` (RFC 3659 §2.3).

use crate::vfs::{FileKind, Metadata};

/// An MLSx fact this server provides (RFC 3659 §7.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    /// `type`: file, dir, or `OS.unix=symlink` (§7.5.1).
    Type,
    /// `size` in octets (§7.5.7).
    Size,
    /// `modify` time-val (§7.5.3).
    Modify,
    /// `perm` (§7.5.5).
    Perm,
}

impl Fact {
    /// Every fact, in the order they are listed.
    pub const ALL: [Fact; 4] = [Fact::Type, Fact::Size, Fact::Modify, Fact::Perm];

    /// The fact's name.
    pub fn name(self) -> &'static str {
        match self {
            Fact::Type => "type",
            Fact::Size => "size",
            Fact::Modify => "modify",
            Fact::Perm => "perm",
        }
    }

    /// The fact named `s` (case-insensitive, RFC 3659 §7.1).
    pub fn from_name(s: &str) -> Option<Fact> {
        Fact::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s))
    }
}

/// The `MLST` line of the `FEAT` reply: every fact, the enabled ones marked `*` (RFC 3659 §7.8).
pub fn feat_mlst(enabled: &[Fact]) -> String {
    let mut s = String::from("MLST ");
    for f in Fact::ALL {
        s.push_str(f.name());
        if enabled.contains(&f) {
            s.push('*');
        }
        s.push(';');
    }
    s
}

/// What this session may do to an entry, for the `perm` fact (RFC 3659 §7.5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Access {
    /// The entry itself may be renamed, deleted or written (`f`, `d`, `w`, `a`).
    pub modify: bool,
    /// Entries may be created inside the directory (`c`, `m`, `p`).
    pub create_inside: bool,
}

/// One MLSx entry: `fact=value;…; name` (RFC 3659 §7.2), without line end.
pub fn mlsx_entry(name: &str, m: &Metadata, facts: &[Fact], access: Access) -> String {
    let mut s = String::new();
    for f in Fact::ALL.into_iter().filter(|f| facts.contains(f)) {
        let value = match f {
            Fact::Type => match m.kind {
                FileKind::File => "file".into(),
                FileKind::Dir => "dir".into(),
                FileKind::Symlink => "OS.unix=symlink".into(),
                FileKind::Other => "OS.unix=special".into(),
            },
            Fact::Size => m.size.to_string(),
            Fact::Modify => match m.modified {
                Some(t) => time_val(t),
                None => continue,
            },
            Fact::Perm => {
                let mut p = String::new();
                let dir = m.kind == FileKind::Dir;
                p.push_str(if dir { "el" } else { "r" });
                if dir && access.create_inside {
                    p.push_str("cmp");
                }
                if access.modify {
                    p.push_str(if dir { "df" } else { "adfw" });
                }
                p
            }
        };
        s.push_str(f.name());
        s.push('=');
        s.push_str(&value);
        s.push(';');
    }
    s.push(' ');
    s.push_str(name);
    s
}

/// One `LIST` line in the `ls -l` form: `-rw-r--r-- 1 ftp ftp 24 Jan 01  2024 hello.txt`.
/// The year form is used for every date, so the line does not depend on the current time.
pub fn list_line(name: &str, m: &Metadata) -> String {
    let mode = match m.kind {
        FileKind::Dir => "drwxr-xr-x",
        FileKind::File => "-rw-r--r--",
        FileKind::Symlink => "lrwxrwxrwx",
        FileKind::Other => "?rw-r--r--",
    };
    let (y, mo, d, _, _, _) = civil(m.modified.unwrap_or(0));
    let month = MONTHS.get(mo.saturating_sub(1) as usize).copied().unwrap_or("Jan");
    format!(
        "{mode}    1 ftp      ftp      {:>10} {month} {d:>2}  {y} {name}",
        m.size
    )
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// RFC 3659 §2.3 time-val, `YYYYMMDDHHMMSS` in UTC, for seconds since 1970.
pub fn time_val(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

/// Calendar date and time (UTC) of `secs` since 1970-01-01 (proleptic Gregorian; the
/// days-to-civil algorithm of H. Hinnant, public domain description).
fn civil(secs: u64) -> (u64, u64, u64, u64, u64, u64) {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64, t: u64) -> Metadata {
        Metadata {
            kind: FileKind::File,
            size,
            modified: Some(t),
        }
    }

    #[test]
    fn time_vals() {
        assert_eq!(time_val(0), "19700101000000");
        assert_eq!(time_val(951_782_400), "20000229000000");
        assert_eq!(time_val(1_700_000_000), "20231114221320");
        assert_eq!(time_val(4_102_444_799), "20991231235959");
    }

    #[test]
    fn list_and_mlsx_lines() {
        let m = file(24, 1_700_000_000);
        assert_eq!(
            list_line("hello.txt", &m),
            "-rw-r--r--    1 ftp      ftp              24 Nov 14  2023 hello.txt"
        );
        assert_eq!(
            mlsx_entry("hello.txt", &m, &Fact::ALL, Access::default()),
            "type=file;size=24;modify=20231114221320;perm=r; hello.txt"
        );
        let d = Metadata {
            kind: FileKind::Dir,
            size: 4096,
            modified: None,
        };
        let all = Access {
            modify: true,
            create_inside: true,
        };
        assert_eq!(
            mlsx_entry("pub", &d, &[Fact::Type, Fact::Perm], all),
            "type=dir;perm=elcmpdf; pub"
        );
        assert_eq!(mlsx_entry("f", &m, &[Fact::Perm], all), "perm=radfw; f");
        assert_eq!(feat_mlst(&[Fact::Type, Fact::Size]), "MLST type*;size*;modify;perm;");
        assert_eq!(Fact::from_name("SIZE"), Some(Fact::Size));
        assert_eq!(Fact::from_name("unique"), None);
    }
}
