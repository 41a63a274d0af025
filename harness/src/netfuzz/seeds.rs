//! Seeds from the corpus: the bytes each transcript of the protocol sends on its `main`
//! connection, in order, up to the first step the fuzzer cannot reproduce (a second
//! connection, TLS, a variable captured from a reply).

use std::collections::BTreeSet;

use super::{Sequence, grammar};
use crate::protocol;
use crate::transcript::template::unhex;
use crate::transcript::{Role, SendMode, StepKind, Transcript, Vars};

/// One seed: where it comes from and what it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The transcript's id.
    pub id: String,
    /// The chunks, one per `C:`/`C>` line.
    pub chunks: Sequence,
}

/// The variables a seed may use: the fixture's.
fn vars(t: &Transcript) -> Vars {
    let mut v = Vars::new();
    v.insert(
        "user".into(),
        wirecheck_store::fixture::USER.as_bytes().to_vec(),
    );
    v.insert(
        "pass".into(),
        wirecheck_store::fixture::PASSWORD.as_bytes().to_vec(),
    );
    v.insert(
        "domain".into(),
        wirecheck_store::fixture::DOMAIN.as_bytes().to_vec(),
    );
    v.extend(t.meta.vars.clone());
    v
}

/// The seeds of `protocol` in `transcripts` (client-role transcripts of that protocol),
/// sanitised, without duplicates, in corpus order.
pub fn from_corpus(protocol: &str, transcripts: &[&Transcript]) -> Vec<Seed> {
    let Some(adapter) = protocol::by_name(protocol) else {
        return Vec::new();
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for t in transcripts {
        if t.meta.protocol != protocol || t.meta.role != Role::Client {
            continue;
        }
        let vars = vars(t);
        let mut chunks: Sequence = Vec::new();
        let mut on_main = true;
        for s in &t.steps {
            let conn = s.conn.as_deref();
            match &s.kind {
                StepKind::Send { data, mode } if on_main && conn.is_none_or(|c| c == "main") => {
                    let Ok(text) = data.render(&vars) else { break };
                    let bytes = match mode {
                        SendMode::Line => match adapter.encode_line(&text) {
                            Ok(b) => b,
                            Err(_) => break,
                        },
                        SendMode::Raw => text,
                        SendMode::Hex => match unhex(&text) {
                            Ok(b) => b,
                            Err(_) => break,
                        },
                        SendMode::RawHex => break,
                    };
                    if !bytes.is_empty() {
                        chunks.push(bytes);
                    }
                }
                StepKind::Use { name } => on_main = name == "main",
                StepKind::Connect { name, .. } if name == "main" && chunks.is_empty() => {}
                StepKind::Connect { .. }
                | StepKind::Tls
                | StepKind::Close
                | StepKind::Listen { .. } => break,
                StepKind::ExpectClose if on_main && conn.is_none_or(|c| c == "main") => break,
                _ => {}
            }
        }
        grammar::sanitise(protocol, &mut chunks);
        if !chunks.is_empty() && seen.insert(chunks.clone()) {
            out.push(Seed {
                id: t.meta.id.clone(),
                chunks,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::parse_str;

    #[test]
    fn sends_up_to_tls_with_the_fixture_variables() {
        let t = parse_str(
            "id = \"smtp.x.y\"\ntitle = \"t\"\nrfc = \"5321#4.1\"\nlevel = \"MUST\"\nscript = '''\nS: 220 *\nC: EHLO ${domain}\nS: 250 *\nC> RCPT TO:<${user}@x>\\n\nS: *\nC: STARTTLS\nS: 220 *\ntls\nC: EHLO again\n'''\n",
            "smtp/x.toml".as_ref(),
            Some("smtp"),
        )
        .unwrap();
        let seeds = from_corpus("smtp", &[&t]);
        assert_eq!(seeds.len(), 1);
        assert_eq!(
            seeds[0].chunks,
            vec![
                b"EHLO example.test\r\n".to_vec(),
                b"RCPT TO:<alice@x>\n".to_vec()
            ]
        );
        assert!(from_corpus("pop3", &[&t]).is_empty());
    }
}
