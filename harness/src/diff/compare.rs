//! Two servers' units for the same bytes, compared after normalisation: the rows of a diff
//! and the discrepancies of the fuzzer.

use serde::Serialize;

use super::attribute::Label;
use super::exchange::Item;
use super::normalise::{Norm, cut, first_difference, normalise};
use crate::protocol::Unit;

/// Escaped raw bytes shown per unit at most.
const RAW_SHOWN: usize = 600;

/// The "unit" of a datagram that was not answered: compared like no unit at all.
pub const NO_REPLY: &str = "no reply";

/// One place where the target's unit differs from the oracle's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepDiff {
    /// The connection (`main`, `data`, `main#2`).
    pub conn: String,
    /// The unit's index on the connection (0: the greeting).
    pub index: usize,
    /// The command it answers, escaped (`<greeting>`, `<end-of-data>`, …).
    pub command: String,
    /// Its verb (`RCPT`), for classes.
    pub verb: String,
    /// What differs: a field name (`code`, `code class`, `enhanced`, `status`, `body`, …)
    /// or `missing reply`, `extra reply`, `malformed reply`.
    pub kind: String,
    /// The oracle's unit, short (`503 5.5.1`), or `none` / `malformed`.
    pub oracle: String,
    /// The target's, short.
    pub target: String,
    /// The oracle's reply code (status, rcode) for the class.
    pub oracle_key: String,
    /// The target's.
    pub target_key: String,
    /// Every normalised field of the oracle's unit.
    pub oracle_detail: String,
    /// Every normalised field of the target's unit.
    pub target_detail: String,
    /// The oracle's bytes, escaped and cut.
    pub oracle_raw: String,
    /// The target's bytes, escaped and cut.
    pub target_raw: String,
}

impl StepDiff {
    /// The discrepancy class: the verb, what differs, and the reply-code pair
    /// (`RCPT: code class 503 → 250`, `LIST: status -ERR → +OK`).
    pub fn class(&self) -> String {
        format!(
            "{}: {} {} → {}",
            self.verb, self.kind, self.oracle_key, self.target_key
        )
    }
}

/// The reply-code pair of a class: the first normalised field (the code, the POP3 status,
/// the DNS rcode; for IMAP the kind and the status or type).
fn key(protocol: &str, side: &Side) -> String {
    match &side.norm {
        None => side.short.clone(),
        Some(n) => {
            let take = if protocol == "imap" { 2 } else { 1 };
            let v: Vec<&str> = n
                .fields
                .iter()
                .take(take)
                .map(|f| f.value.as_str())
                .collect();
            cut(&v.join(" "), 40)
        }
    }
}

struct Side {
    short: String,
    detail: String,
    raw: String,
    norm: Option<Norm>,
    malformed: bool,
}

fn side(protocol: &str, label: &Label, item: Option<&Item>) -> Side {
    let none = Side {
        short: "none".into(),
        detail: "(no unit)".into(),
        raw: String::new(),
        norm: None,
        malformed: false,
    };
    let Some(item) = item else { return none };
    match &item.unit {
        Err(e) if e == NO_REPLY => none,
        Err(e) => Side {
            short: "malformed".into(),
            detail: e.clone(),
            raw: String::new(),
            norm: None,
            malformed: true,
        },
        Ok(u) => {
            let n = normalise(protocol, label.command(), u);
            Side {
                short: n.short(),
                detail: n.to_string(),
                raw: raw_of(u),
                norm: Some(n),
                malformed: false,
            }
        }
    }
}

fn raw_of(u: &Unit) -> String {
    cut(&wirecheck_reports::escape_bytes(&u.raw), RAW_SHOWN)
}

/// A friendlier name for the first differing field.
fn kind_name(field: &str, a: &Norm, b: &Norm) -> String {
    match field {
        // A reply code (SMTP, FTP): its first digit is the class (RFC 5321 §4.2.1). An IMAP
        // `code` is a response code's atom: no class.
        "code"
            if [a, b].iter().all(|n| {
                n.get("code")
                    .is_some_and(|c| c.len() == 3 && c.bytes().all(|d| d.is_ascii_digit()))
            }) =>
        {
            let class = |n: &Norm| n.get("code").and_then(|c| c.chars().next());
            if class(a) != class(b) {
                "code class".into()
            } else {
                "code".into()
            }
        }
        f => f.to_string(),
    }
}

/// Compare one connection's units. `reached`: the target's run stopped early and got this
/// many commands on the connection, so oracle units answering later commands are not
/// compared (the returned note says where it stopped).
pub fn compare_items(
    protocol: &str,
    conn: &str,
    oracle: &[Item],
    target: &[Item],
    reached: Option<usize>,
    ignore: &[String],
) -> (Vec<StepDiff>, Option<String>) {
    let mut out = Vec::new();
    for i in 0..oracle.len().max(target.len()) {
        let (o, t) = (oracle.get(i), target.get(i));
        if let (Some(o), None, Some(r)) = (o, t, reached)
            && o.ordinal.is_some_and(|n| n >= r)
        {
            return (
                out,
                Some(format!(
                    "`{conn}` unit {i} on: not reached by the target's run"
                )),
            );
        }
        let label = o.or(t).map_or(Label::Unsolicited, |x| x.label.clone());
        let so = side(protocol, &label, o);
        let st = side(protocol, &label, t);
        let kind = match (&so.norm, &st.norm) {
            (Some(a), Some(b)) => first_difference(a, b, ignore).map(|f| kind_name(f, a, b)),
            _ if so.malformed && st.malformed => None,
            _ if so.malformed || st.malformed => Some("malformed reply".to_string()),
            (Some(_), None) => Some("missing reply".to_string()),
            (None, Some(_)) => Some("extra reply".to_string()),
            (None, None) => None,
        };
        if let Some(kind) = kind {
            out.push(StepDiff {
                conn: conn.to_string(),
                index: i,
                command: label.describe(),
                verb: label.verb(protocol),
                kind,
                oracle_key: key(protocol, &so),
                target_key: key(protocol, &st),
                oracle: so.short,
                target: st.short,
                oracle_detail: so.detail,
                target_detail: st.detail,
                oracle_raw: so.raw,
                target_raw: st.raw,
            });
        }
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(code: u16, label: &str, ordinal: usize) -> Item {
        Item {
            label: Label::Command(label.as_bytes().to_vec()),
            ordinal: Some(ordinal),
            unit: Ok(Unit {
                code: Some(code),
                raw: format!("{code} x\r\n").into_bytes(),
                lines: vec![crate::protocol::UnitLine {
                    text: b"x".to_vec(),
                    ..Default::default()
                }],
                ..Unit::default()
            }),
        }
    }

    #[test]
    fn classes_missing_extra_and_not_reached() {
        let o = vec![item(503, "RCPT TO:<a@b>", 0), item(221, "QUIT", 1)];
        let t = vec![item(250, "RCPT TO:<a@b>", 0)];
        let (d, note) = compare_items("smtp", "main", &o, &t, Some(1), &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].class(), "RCPT: code class 503 → 250");
        assert!(note.unwrap().contains("not reached"));
        let (d, note) = compare_items("smtp", "main", &o, &t, None, &[]);
        assert_eq!(d[1].kind, "missing reply");
        assert!(note.is_none());
        let (d, _) = compare_items("smtp", "main", &t, &o, None, &[]);
        assert_eq!(d[1].kind, "extra reply");
        assert_eq!(d[1].oracle, "none");
        let same = compare_items("smtp", "main", &o, &o, None, &[]).0;
        assert!(same.is_empty());
        let imap = |text: &str| Item {
            label: Label::Command(b"a1 SELECT x".to_vec()),
            ordinal: Some(0),
            unit: Ok(Unit {
                text: text.as_bytes().to_vec(),
                kind: crate::protocol::UnitKind::Tagged("a1".into()),
                ..Unit::default()
            }),
        };
        let (d, _) = compare_items(
            "imap",
            "main",
            &[imap("a1 NO [NONEXISTENT] x")],
            &[imap("a1 NO x")],
            None,
            &[],
        );
        assert_eq!(
            d[0].class(),
            "SELECT: code tagged NO → tagged NO",
            "an IMAP response code has no class"
        );
    }
}
