//! A case's recorded exchange ([`wirecheck_reports::CaseResult::exchange`]) framed back into reply units, per
//! connection, each labelled with the command it answers.
//!
//! The runner records every chunk sent and received and a note when a connection opens;
//! replaying those chunks through the same protocol adapters the runner frames with gives
//! the units the case saw. A connection name opened twice (`connect main` again) becomes
//! `main#2`. FTP data connections and listeners carry data, not replies: their bytes are
//! one `data` unit.

use std::collections::BTreeMap;

use serde::Serialize;
use wirecheck_reports::{Direction, Event, unescape_bytes};

use super::attribute::{Attributor, Label};
use crate::protocol::{self, Framer, Limits, Transport, Unit};
use crate::transcript::script::framing_protocol;
use crate::transcript::{ConnectKind, StepKind, Transcript};

/// One unit of a connection, or why framing stopped.
#[derive(Debug, Clone)]
pub struct Item {
    /// What it answers.
    pub label: Label,
    /// The ordinal of the command it answers (see [`Attributor::commands_sent`]).
    pub ordinal: Option<usize>,
    /// The unit, or the framing error (the rest of the connection is not framed).
    pub unit: Result<Unit, String>,
}

/// The units of one connection.
#[derive(Debug, Clone, Serialize)]
pub struct ConnUnits {
    /// `main`, `data`, `main#2`.
    pub conn: String,
    /// The protocol its units are framed by (`data` for raw data connections).
    pub protocol: String,
    /// Bytes sent on it.
    pub sent_bytes: usize,
    /// Commands sent on it (see [`Attributor::commands_sent`]).
    pub commands_sent: usize,
    /// The units, in order.
    #[serde(skip)]
    pub items: Vec<Item>,
}

/// How a named connection is framed.
#[derive(Debug, Clone)]
struct Kind {
    protocol: String,
    transport: Transport,
    data: bool,
}

fn kinds(t: &Transcript) -> BTreeMap<String, Kind> {
    let main = framing_protocol(&t.meta.protocol).to_string();
    let transport = protocol::by_name(&main).map_or(Transport::Stream, |p| p.default_transport());
    let mut m = BTreeMap::new();
    m.insert(
        "main".to_string(),
        Kind {
            protocol: main,
            transport,
            data: false,
        },
    );
    for s in &t.steps {
        match &s.kind {
            StepKind::Connect {
                name,
                kind,
                protocol,
                ..
            } => {
                let k = Kind {
                    protocol: protocol.clone(),
                    transport: if *kind == ConnectKind::Udp {
                        Transport::Datagram
                    } else {
                        Transport::Stream
                    },
                    data: *kind == ConnectKind::Passive,
                };
                m.insert(name.clone(), k);
            }
            StepKind::Listen {
                name,
                udp,
                protocol,
                ..
            } => {
                let k = Kind {
                    protocol: protocol.clone(),
                    transport: if *udp {
                        Transport::Datagram
                    } else {
                        Transport::Stream
                    },
                    data: true,
                };
                m.insert(name.clone(), k);
            }
            _ => {}
        }
    }
    m
}

struct Live {
    order: usize,
    kind: Kind,
    framer: Option<Box<dyn Framer>>,
    attributor: Attributor,
    buf: Vec<u8>,
    broken: bool,
    out: ConnUnits,
}

impl Live {
    fn new(order: usize, key: String, kind: Kind) -> Live {
        let framer = if kind.data {
            None
        } else {
            protocol::by_name(&kind.protocol).and_then(|p| p.reply_framer(kind.transport).ok())
        };
        let protocol = if kind.data {
            "data".to_string()
        } else {
            kind.protocol.clone()
        };
        Live {
            attributor: Attributor::new(&kind.protocol),
            out: ConnUnits {
                conn: key.clone(),
                protocol,
                sent_bytes: 0,
                commands_sent: 0,
                items: Vec::new(),
            },
            order,
            kind,
            framer,
            buf: Vec::new(),
            broken: false,
        }
    }

    fn sent(&mut self, b: &[u8]) {
        self.out.sent_bytes += b.len();
        if let Some(f) = self.framer.as_mut() {
            f.sent(b);
        }
        if self.kind.transport == Transport::Datagram && self.kind.protocol == "dns" {
            for d in split_dns(b) {
                self.attributor.sent(d);
            }
        } else {
            self.attributor.sent(b);
        }
    }

    fn received(&mut self, b: &[u8], limits: &Limits) {
        if self.broken {
            return;
        }
        let Some(f) = self.framer.as_mut() else {
            self.buf.extend_from_slice(b);
            return;
        };
        if self.kind.transport == Transport::Datagram {
            let parts = if self.kind.protocol == "dns" {
                split_dns(b)
            } else {
                vec![b]
            };
            for d in parts {
                let unit = f.decode_datagram(d, limits).map_err(|e| e.to_string());
                let (label, ordinal) = match &unit {
                    Ok(u) => self.attributor.label_ordinal(u),
                    Err(_) => self.attributor.label_ordinal(&Unit::default()),
                };
                self.out.items.push(Item {
                    label,
                    ordinal,
                    unit,
                });
            }
            return;
        }
        self.buf.extend_from_slice(b);
        loop {
            match f.decode(&self.buf, limits) {
                Ok(Some((n, u))) => {
                    self.buf.drain(..n.min(self.buf.len()));
                    let (label, ordinal) = self.attributor.label_ordinal(&u);
                    self.out.items.push(Item {
                        label,
                        ordinal,
                        unit: Ok(u),
                    });
                }
                Ok(None) => break,
                Err(e) => {
                    self.out.items.push(Item {
                        label: Label::Unsolicited,
                        ordinal: None,
                        unit: Err(e.to_string()),
                    });
                    self.broken = true;
                    break;
                }
            }
        }
    }

    fn finish(mut self) -> ConnUnits {
        if self.kind.data {
            if !self.buf.is_empty() {
                let u = Unit {
                    text: self.buf.clone(),
                    raw: std::mem::take(&mut self.buf),
                    ..Unit::default()
                };
                self.out.items.push(Item {
                    label: Label::Unsolicited,
                    ordinal: None,
                    unit: Ok(u),
                });
            }
        } else if !self.broken && !self.buf.is_empty() {
            let msg = format!("an incomplete unit at the end ({} bytes)", self.buf.len());
            self.out.items.push(Item {
                label: Label::Unsolicited,
                ordinal: None,
                unit: Err(msg),
            });
        }
        self.out.commands_sent = self.attributor.commands_sent();
        self.out
    }
}

/// The connections of a client-role case, framed from its exchange, in the order they
/// were opened.
pub fn rebuild(t: &Transcript, exchange: &[Event], limits: &Limits) -> Vec<ConnUnits> {
    let kinds = kinds(t);
    let mut opened: BTreeMap<String, usize> = BTreeMap::new();
    let mut live: BTreeMap<String, Live> = BTreeMap::new();
    let mut done: Vec<(usize, ConnUnits)> = Vec::new();
    let mut order = 0usize;
    for ev in exchange {
        let name = ev.conn.as_str();
        match ev.dir {
            Direction::Note => {
                let opens = ev.data.starts_with("connected to ")
                    || ev.data.starts_with("accepted a connection")
                    || ev.data.starts_with("client connected");
                if !opens {
                    continue;
                }
                let n = opened.entry(name.to_string()).or_insert(0);
                *n += 1;
                let key = if *n == 1 {
                    name.to_string()
                } else {
                    format!("{name}#{n}")
                };
                let kind = kinds.get(name).cloned().unwrap_or(Kind {
                    protocol: "data".into(),
                    transport: Transport::Stream,
                    data: true,
                });
                if let Some(old) = live.insert(name.to_string(), Live::new(order, key, kind)) {
                    done.push((old.order, old.finish()));
                }
                order += 1;
            }
            Direction::Sent | Direction::Received => {
                let Some(l) = live.get_mut(name) else {
                    continue;
                };
                let Some(bytes) = unescape_bytes(&ev.data) else {
                    continue;
                };
                if ev.dir == Direction::Sent {
                    l.sent(&bytes);
                } else {
                    l.received(&bytes, limits);
                }
            }
        }
    }
    for l in live.into_values() {
        done.push((l.order, l.finish()));
    }
    done.sort_by_key(|(o, _)| *o);
    done.into_iter().map(|(_, c)| c).collect()
}

/// A chunk of UDP traffic as DNS messages: the recorder joins datagrams that arrive in
/// the same millisecond, and the decoder ignores trailing bytes, so a chunk is cut after
/// the shortest prefix that decodes, as long as the rest decodes too (chunks of at most
/// 4 KiB, 16 messages; otherwise the chunk is one part).
pub fn split_dns(b: &[u8]) -> Vec<&[u8]> {
    use wirecheck_dns::codec::decode;
    let mut out = Vec::new();
    let mut rest = b;
    if b.len() > 4096 || decode(b).is_err() {
        return vec![b];
    }
    while out.len() < 16 {
        let cut = (12..=rest.len())
            .find(|&n| decode(&rest[..n]).is_ok())
            .unwrap_or(rest.len());
        let (msg, tail) = rest.split_at(cut);
        if tail.is_empty() || decode(tail).is_err() {
            out.push(rest);
            return out;
        }
        out.push(msg);
        rest = tail;
    }
    out.push(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirecheck_reports::escape_bytes;

    fn ev(conn: &str, dir: Direction, data: &[u8]) -> Event {
        let data = if dir == Direction::Note {
            String::from_utf8_lossy(data).into_owned()
        } else {
            escape_bytes(data)
        };
        Event {
            t_ms: 0,
            conn: conn.into(),
            dir,
            data,
        }
    }

    #[test]
    fn frames_and_labels_a_recorded_smtp_case() {
        let t = crate::transcript::parse_str(
            "id = \"smtp.x.y\"\ntitle = \"t\"\nrfc = \"5321#4.1\"\nlevel = \"MUST\"\nscript = '''\nS: 220 *\nC: NOOP\nS: 250 *\n'''\n",
            "smtp/x.toml".as_ref(),
            Some("smtp"),
        )
        .unwrap();
        let ex = vec![
            ev("main", Direction::Note, b"connected to 127.0.0.1:25"),
            ev("main", Direction::Received, b"220 hi\r\n"),
            ev("main", Direction::Sent, b"NOOP\r\nRCPT TO:<a@b>\r\n"),
            ev("main", Direction::Received, b"250 ok\r\n50"),
            ev("main", Direction::Received, b"3 no\r\n"),
            ev("main", Direction::Note, b"peer closed the connection"),
        ];
        let c = rebuild(&t, &ex, &Limits::default());
        assert_eq!(c.len(), 1);
        let items = &c[0].items;
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].label, Label::Greeting);
        assert_eq!(items[1].label.verb("smtp"), "NOOP");
        assert_eq!(items[2].label.verb("smtp"), "RCPT");
        assert_eq!(items[2].unit.as_ref().unwrap().code, Some(503));
        assert_eq!(c[0].sent_bytes, 21);
    }

    #[test]
    fn joined_dns_datagrams_are_split() {
        use wirecheck_dns::{codec, presentation};
        let a = codec::encode(&presentation::parse_query("example.test. A id=1").unwrap());
        let b = codec::encode(&presentation::parse_query("www.example.test. MX id=2").unwrap());
        let mut both = a.clone();
        both.extend_from_slice(&b);
        let parts = split_dns(&both);
        assert_eq!(parts, vec![&a[..], &b[..]]);
        assert_eq!(split_dns(b"\x01\x02"), vec![&b"\x01\x02"[..]]);
    }
}
