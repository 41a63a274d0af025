//! Master files (RFC 1035 §5) and the in-memory zone index the authoritative server answers from.
//!
//! The parser understands `$ORIGIN`, `$TTL` (RFC 2308 §4), `@`, relative names, a blank owner
//! (the previous one), TTL and class in either order, `( )` continuation, `;` comments, quoted
//! strings and RFC 3597 `TYPEnnn` / `\# len hex`. `$INCLUDE` is refused (no file access from
//! zone text).
//!
//! A [`Zone`] is indexed once when built: one [`Node`] per owner name (plus the empty
//! non-terminals between the apex and every owner), each holding its RRsets, so answering is a
//! hash lookup per name.

use std::collections::HashMap;
use std::path::Path;

use crate::message::{Class, RData, Record, RecordType, Soa};
use crate::name::Name;
use crate::text::{self, TextError};

/// Why a master file or a zone could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZoneError {
    /// A syntax error at a line.
    #[error("line {line}: {error}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// Why.
        error: TextError,
    },
    /// A line that fits no entry form.
    #[error("line {line}: {message}")]
    Entry {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// No SOA, or more than one (RFC 1035 §5.2: exactly one SOA at the top).
    #[error("a zone needs exactly one SOA record, at its apex")]
    Soa,
    /// A record whose owner is outside the zone (RFC 1035 §5.2).
    #[error("{0} is outside the zone")]
    OutOfZone(Name),
    /// RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME and other data at one name.
    #[error("CNAME and other data at {0}")]
    CnameAndOtherData(Name),
    /// The file could not be read.
    #[error("reading {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
}

/// Parses master-file text into records (RFC 1035 §5.1). `origin` is the initial `$ORIGIN`.
pub fn parse_master_file(text: &str, origin: Option<&Name>) -> Result<Vec<Record>, ZoneError> {
    let syntax = |line| move |error| ZoneError::Syntax { line, error };
    let entries = text::tokenize(text).map_err(syntax(0))?;
    let mut origin = origin.cloned();
    let mut default_ttl: Option<u32> = None;
    let mut last_ttl: Option<u32> = None;
    let mut last_owner: Option<Name> = None;
    let mut last_class = Class::IN;
    let mut records = Vec::new();
    for entry in entries {
        let line = entry.line;
        let err = |message: &str| ZoneError::Entry {
            line,
            message: message.to_string(),
        };
        let mut tokens = entry.tokens.iter().peekable();
        let first = tokens
            .peek()
            .map(|t| t.text.to_ascii_uppercase())
            .unwrap_or_default();
        if !entry.blank_owner && first.starts_with('$') {
            tokens.next();
            let arg = tokens
                .next()
                .ok_or_else(|| err("directive without argument"))?;
            match first.as_str() {
                "$ORIGIN" => {
                    let name =
                        Name::parse_relative(&arg.text, origin.as_ref()).map_err(|error| {
                            ZoneError::Syntax {
                                line,
                                error: TextError::Name {
                                    text: arg.text.clone(),
                                    error,
                                },
                            }
                        })?;
                    origin = Some(name);
                }
                "$TTL" => default_ttl = Some(text::parse_ttl(&arg.text).map_err(syntax(line))?),
                _ => return Err(err(&format!("unsupported directive {first}"))),
            }
            continue;
        }
        let owner = if entry.blank_owner {
            last_owner.clone().ok_or_else(|| err("no previous owner"))?
        } else {
            let t = tokens.next().ok_or_else(|| err("empty entry"))?;
            Name::parse_relative(&t.text, origin.as_ref()).map_err(|error| ZoneError::Syntax {
                line,
                error: TextError::Name {
                    text: t.text.clone(),
                    error,
                },
            })?
        };
        // [<TTL>] [<class>] <type> or [<class>] [<TTL>] <type>
        let mut ttl = None;
        let mut class = None;
        let rtype = loop {
            let t = tokens.next().ok_or_else(|| err("no type"))?;
            if t.quoted {
                return Err(err("quoted string where a type was expected"));
            }
            if ttl.is_none() && t.text.starts_with(|c: char| c.is_ascii_digit()) {
                ttl = Some(text::parse_ttl(&t.text).map_err(syntax(line))?);
            } else if class.is_none()
                && let Some(c) = Class::parse(&t.text)
            {
                class = Some(c);
            } else if let Some(rt) = RecordType::parse(&t.text) {
                break rt;
            } else {
                return Err(err(&format!("unknown type {:?}", t.text)));
            }
        };
        let fields: Vec<_> = tokens.cloned().collect();
        let rdata = text::parse_rdata(rtype, &fields, origin.as_ref()).map_err(syntax(line))?;
        let ttl = match ttl {
            Some(t) => {
                last_ttl = Some(t);
                t
            }
            None => default_ttl
                .or(last_ttl)
                .or(match &rdata {
                    RData::Soa(s) => Some(s.minimum),
                    _ => None,
                })
                .ok_or_else(|| err("no TTL and no $TTL"))?,
        };
        let class = class.unwrap_or(last_class);
        last_class = class;
        last_owner = Some(owner.clone());
        records.push(Record {
            name: owner,
            class,
            ttl,
            rdata,
        });
    }
    Ok(records)
}

/// An RRset (RFC 2181 §5): the records of one owner, class and type, with one TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rrset {
    /// The type.
    pub rtype: RecordType,
    /// The records, in zone-file order, duplicates removed (RFC 2181 §5).
    pub records: Vec<Record>,
}

/// One name in the zone: its RRsets (none for an empty non-terminal).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// The RRsets at this name.
    pub rrsets: Vec<Rrset>,
}

impl Node {
    /// The RRset of `rtype`, if any.
    pub fn rrset(&self, rtype: RecordType) -> Option<&Rrset> {
        self.rrsets.iter().find(|r| r.rtype == rtype)
    }
}

/// A zone: its apex, SOA, and the index of its names.
#[derive(Debug, Clone)]
pub struct Zone {
    origin: Name,
    class: Class,
    soa: Record,
    nodes: HashMap<Name, Node>,
    records: Vec<Record>,
}

impl Zone {
    /// Parses a master file; the zone's apex is its SOA owner. `origin` is the initial `$ORIGIN`.
    pub fn parse(text: &str, origin: Option<&Name>) -> Result<Zone, ZoneError> {
        Zone::from_records(parse_master_file(text, origin)?)
    }

    /// Reads and parses a master file.
    pub fn load(path: &Path, origin: Option<&Name>) -> Result<Zone, ZoneError> {
        let text = std::fs::read_to_string(path).map_err(|error| ZoneError::Io {
            path: path.display().to_string(),
            error,
        })?;
        Zone::parse(&text, origin)
    }

    /// Builds the index. Exactly one SOA, and every owner at or below its owner; RFC 2181 §5.2:
    /// the TTLs of an RRset are made equal (the smallest is kept); duplicates are dropped.
    pub fn from_records(records: Vec<Record>) -> Result<Zone, ZoneError> {
        let mut soas = records.iter().filter(|r| r.rtype() == RecordType::SOA);
        let soa = soas.next().ok_or(ZoneError::Soa)?.clone();
        if soas.next().is_some() {
            return Err(ZoneError::Soa);
        }
        let origin = soa.name.clone();
        let mut nodes: HashMap<Name, Node> = HashMap::new();
        let mut kept = Vec::with_capacity(records.len());
        for rec in records {
            if !rec.name.is_subdomain_of(&origin) {
                return Err(ZoneError::OutOfZone(rec.name));
            }
            let node = nodes.entry(rec.name.clone()).or_default();
            let rtype = rec.rtype();
            match node.rrsets.iter_mut().find(|r| r.rtype == rtype) {
                Some(set) if set.records.iter().any(|r| r.rdata == rec.rdata) => continue,
                Some(set) => set.records.push(rec.clone()),
                None => node.rrsets.push(Rrset {
                    rtype,
                    records: vec![rec.clone()],
                }),
            }
            kept.push(rec);
        }
        for (name, node) in &mut nodes {
            if node.rrset(RecordType::CNAME).is_some() && node.rrsets.len() > 1 {
                return Err(ZoneError::CnameAndOtherData(name.clone()));
            }
            for set in &mut node.rrsets {
                let ttl = set.records.iter().map(|r| r.ttl).min().unwrap_or(0);
                set.records.iter_mut().for_each(|r| r.ttl = ttl);
            }
        }
        for rec in &mut kept {
            if let Some(set) = nodes.get(&rec.name).and_then(|n| n.rrset(rec.rtype())) {
                rec.ttl = set.records.first().map_or(rec.ttl, |r| r.ttl);
            }
        }
        // Empty non-terminals (RFC 4592 §2.2.2): every name between an owner and the apex exists.
        let owners: Vec<Name> = nodes.keys().cloned().collect();
        for owner in owners {
            let mut cur = owner.parent();
            while let Some(name) = cur {
                if !name.is_subdomain_of(&origin) || nodes.contains_key(&name) {
                    break;
                }
                cur = name.parent();
                nodes.insert(name, Node::default());
            }
        }
        let class = soa.class;
        // The SOA first, as AXFR sends it (RFC 5936 §2.2).
        kept.sort_by_key(|r| r.rtype() != RecordType::SOA);
        Ok(Zone {
            origin,
            class,
            soa,
            nodes,
            records: kept,
        })
    }

    /// The apex.
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// The zone's class.
    pub fn class(&self) -> Class {
        self.class
    }

    /// The SOA record.
    pub fn soa(&self) -> &Record {
        &self.soa
    }

    /// The SOA RDATA.
    pub fn soa_data(&self) -> Option<&Soa> {
        match &self.soa.rdata {
            RData::Soa(s) => Some(s),
            _ => None,
        }
    }

    /// The node at `name` (case-insensitive), if the name exists in the zone.
    pub fn node(&self, name: &Name) -> Option<&Node> {
        self.nodes.get(name)
    }

    /// Every record, SOA first, then in file order (TTLs made equal per RRset).
    pub fn records(&self) -> &[Record] {
        &self.records
    }
}

/// The zones one server is authoritative for.
#[derive(Debug, Clone, Default)]
pub struct Zones {
    zones: HashMap<Name, Zone>,
}

impl Zones {
    /// No zones.
    pub fn new() -> Zones {
        Zones::default()
    }

    /// Adds (or replaces) a zone.
    pub fn insert(&mut self, zone: Zone) {
        self.zones.insert(zone.origin.clone(), zone);
    }

    /// The zone with the longest origin that `name` is at or below.
    pub fn find(&self, name: &Name) -> Option<&Zone> {
        let mut cur = Some(name.clone());
        while let Some(n) = cur {
            if let Some(z) = self.zones.get(&n) {
                return Some(z);
            }
            cur = n.parent();
        }
        None
    }

    /// The zone whose apex is exactly `origin`.
    pub fn get(&self, origin: &Name) -> Option<&Zone> {
        self.zones.get(origin)
    }

    /// All zones.
    pub fn iter(&self) -> impl Iterator<Item = &Zone> {
        self.zones.values()
    }
}

impl FromIterator<Zone> for Zones {
    fn from_iter<I: IntoIterator<Item = Zone>>(iter: I) -> Zones {
        let mut zones = Zones::new();
        iter.into_iter().for_each(|z| zones.insert(z));
        zones
    }
}

/// The `example.test.` zone the real peers serve (`/work/shared/peers/_lib.sh`, `write_zone`):
/// SOA, 2×NS, A, AAAA, 2×MX, TXT, the CNAME chain `ftp → www → @`, a multi-string TXT at `txt`.
/// Every address is loopback.
pub const EXAMPLE_TEST_ZONE: &str = include_str!("../zones/example.test.zone");

/// [`EXAMPLE_TEST_ZONE`] parsed.
pub fn example_test_zone() -> Zone {
    // The text is part of this crate and checked by a unit test.
    Zone::parse(EXAMPLE_TEST_ZONE, None).unwrap_or_else(|e| unreachable!("built-in zone: {e}"))
}

#[cfg(test)]
mod tests;
