//! The DNS message model (RFC 1035 §4.1): header, question, resource records, and the EDNS
//! OPT pseudo-record (RFC 6891 §6.1) held apart from the additional section.
//!
//! Section counts are not stored: they are the lengths of the section vectors (plus one for the
//! OPT record in ADDITIONAL). Malformed counts exist only as raw bytes (see `codec`).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::name::Name;

/// RFC 1035 §4.1.1 OPCODE (4 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Opcode(pub u8);

impl Opcode {
    /// A standard query.
    pub const QUERY: Opcode = Opcode(0);
    /// An inverse query (obsolete, RFC 3425).
    pub const IQUERY: Opcode = Opcode(1);
    /// A server status request.
    pub const STATUS: Opcode = Opcode(2);
    /// RFC 1996 NOTIFY.
    pub const NOTIFY: Opcode = Opcode(4);
    /// RFC 2136 UPDATE.
    pub const UPDATE: Opcode = Opcode(5);
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Opcode::QUERY => f.write_str("QUERY"),
            Opcode::IQUERY => f.write_str("IQUERY"),
            Opcode::STATUS => f.write_str("STATUS"),
            Opcode::NOTIFY => f.write_str("NOTIFY"),
            Opcode::UPDATE => f.write_str("UPDATE"),
            Opcode(n) => write!(f, "RESERVED{n}"),
        }
    }
}

/// RFC 1035 §4.1.1 RCODE, extended to 12 bits by RFC 6891 §6.1.3 (the upper 8 bits travel in
/// the OPT record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rcode(pub u16);

impl Rcode {
    /// No error.
    pub const NOERROR: Rcode = Rcode(0);
    /// The server could not interpret the query.
    pub const FORMERR: Rcode = Rcode(1);
    /// The server could not process the query.
    pub const SERVFAIL: Rcode = Rcode(2);
    /// The name does not exist (RFC 2308 §1 "NXDOMAIN").
    pub const NXDOMAIN: Rcode = Rcode(3);
    /// The kind of query is not implemented.
    pub const NOTIMP: Rcode = Rcode(4);
    /// The server refuses for policy reasons.
    pub const REFUSED: Rcode = Rcode(5);
    /// RFC 2136: a name exists that should not.
    pub const YXDOMAIN: Rcode = Rcode(6);
    /// RFC 2136: an RRset exists that should not.
    pub const YXRRSET: Rcode = Rcode(7);
    /// RFC 2136: an RRset that should exist does not.
    pub const NXRRSET: Rcode = Rcode(8);
    /// RFC 2136 / 8945: not authoritative.
    pub const NOTAUTH: Rcode = Rcode(9);
    /// RFC 2136: a name not in the zone.
    pub const NOTZONE: Rcode = Rcode(10);
    /// RFC 6891 §6.1.3: the EDNS version is not implemented.
    pub const BADVERS: Rcode = Rcode(16);
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            6 => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            9 => "NOTAUTH",
            10 => "NOTZONE",
            16 => "BADVERS",
            n => return write!(f, "RCODE{n}"),
        };
        f.write_str(name)
    }
}

/// RFC 1035 §3.2.2 TYPE / §3.2.3 QTYPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordType(pub u16);

impl RecordType {
    /// A host address.
    pub const A: RecordType = RecordType(1);
    /// An authoritative name server.
    pub const NS: RecordType = RecordType(2);
    /// The canonical name for an alias.
    pub const CNAME: RecordType = RecordType(5);
    /// Start of a zone of authority.
    pub const SOA: RecordType = RecordType(6);
    /// A domain name pointer.
    pub const PTR: RecordType = RecordType(12);
    /// Mail exchange.
    pub const MX: RecordType = RecordType(15);
    /// Text strings.
    pub const TXT: RecordType = RecordType(16);
    /// RFC 3596 IPv6 address.
    pub const AAAA: RecordType = RecordType(28);
    /// RFC 2782 service location.
    pub const SRV: RecordType = RecordType(33);
    /// RFC 6891 EDNS pseudo-record.
    pub const OPT: RecordType = RecordType(41);
    /// RFC 1995 incremental transfer.
    pub const IXFR: RecordType = RecordType(251);
    /// RFC 5936 zone transfer.
    pub const AXFR: RecordType = RecordType(252);
    /// QTYPE `*`: all records.
    pub const ANY: RecordType = RecordType(255);

    /// The mnemonic, or `None` when the type has none here (then `TYPEnnn`, RFC 3597 §5).
    pub fn mnemonic(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "A",
            2 => "NS",
            5 => "CNAME",
            6 => "SOA",
            12 => "PTR",
            15 => "MX",
            16 => "TXT",
            28 => "AAAA",
            33 => "SRV",
            41 => "OPT",
            251 => "IXFR",
            252 => "AXFR",
            255 => "ANY",
            _ => return None,
        })
    }

    /// Parses a mnemonic or `TYPEnnn` (RFC 3597 §5), case-insensitively.
    pub fn parse(text: &str) -> Option<RecordType> {
        let upper = text.to_ascii_uppercase();
        if let Some(num) = upper.strip_prefix("TYPE") {
            return num.parse().ok().map(RecordType);
        }
        [1, 2, 5, 6, 12, 15, 16, 28, 33, 41, 251, 252, 255]
            .into_iter()
            .map(RecordType)
            .find(|t| t.mnemonic() == Some(upper.as_str()))
    }

    /// RFC 1035 §3.3 / RFC 3597 §4: types whose RDATA names may be compressed.
    pub fn rdata_compressible(self) -> bool {
        matches!(self.0, 2 | 5 | 6 | 12 | 15)
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(m) => f.write_str(m),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

/// RFC 1035 §3.2.4 CLASS / §3.2.5 QCLASS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Class(pub u16);

impl Class {
    /// The Internet.
    pub const IN: Class = Class(1);
    /// Chaos.
    pub const CH: Class = Class(3);
    /// Hesiod.
    pub const HS: Class = Class(4);
    /// RFC 2136 NONE.
    pub const NONE: Class = Class(254);
    /// QCLASS `*`.
    pub const ANY: Class = Class(255);

    /// Parses a mnemonic or `CLASSnnn` (RFC 3597 §5).
    pub fn parse(text: &str) -> Option<Class> {
        let upper = text.to_ascii_uppercase();
        match upper.as_str() {
            "IN" => Some(Class::IN),
            "CH" => Some(Class::CH),
            "HS" => Some(Class::HS),
            "NONE" => Some(Class::NONE),
            "ANY" => Some(Class::ANY),
            _ => upper
                .strip_prefix("CLASS")
                .and_then(|n| n.parse().ok())
                .map(Class),
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("IN"),
            3 => f.write_str("CH"),
            4 => f.write_str("HS"),
            254 => f.write_str("NONE"),
            255 => f.write_str("ANY"),
            n => write!(f, "CLASS{n}"),
        }
    }
}

/// RFC 1035 §4.1.1 header, without the counts. `rcode` is the full 12-bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// ID: copied from query to response.
    pub id: u16,
    /// QR: this is a response.
    pub qr: bool,
    /// OPCODE.
    pub opcode: u8,
    /// AA: authoritative answer.
    pub aa: bool,
    /// TC: truncated.
    pub tc: bool,
    /// RD: recursion desired.
    pub rd: bool,
    /// RA: recursion available.
    pub ra: bool,
    /// Z: reserved, must be zero (RFC 1035 §4.1.1).
    pub z: bool,
    /// AD: authentic data (RFC 4035 §3.2.3).
    pub ad: bool,
    /// CD: checking disabled (RFC 4035 §3.2.2).
    pub cd: bool,
    /// RCODE, 12 bits (the upper 8 in the OPT record, RFC 6891 §6.1.3).
    pub rcode: u16,
}

impl Header {
    /// The opcode as a typed value.
    pub fn opcode(&self) -> Opcode {
        Opcode(self.opcode)
    }
    /// The rcode as a typed value.
    pub fn rcode(&self) -> Rcode {
        Rcode(self.rcode)
    }
}

/// RFC 1035 §4.1.2 question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// QNAME.
    pub name: Name,
    /// QTYPE.
    pub qtype: RecordType,
    /// QCLASS.
    pub qclass: Class,
}

/// RDATA of the types this crate knows; everything else is kept as opaque octets (RFC 3597).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    /// RFC 1035 §3.4.1.
    A(Ipv4Addr),
    /// RFC 1035 §3.3.11.
    Ns(Name),
    /// RFC 1035 §3.3.1.
    Cname(Name),
    /// RFC 1035 §3.3.13.
    Soa(Soa),
    /// RFC 1035 §3.3.12.
    Ptr(Name),
    /// RFC 1035 §3.3.9.
    Mx {
        /// PREFERENCE: lower is preferred.
        preference: u16,
        /// EXCHANGE.
        exchange: Name,
    },
    /// RFC 1035 §3.3.14: one or more character-strings.
    Txt(Vec<Vec<u8>>),
    /// RFC 3596 §2.2.
    Aaaa(Ipv6Addr),
    /// RFC 2782.
    Srv {
        /// Priority.
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target (never compressed).
        target: Name,
    },
    /// RFC 3597 §2: a type this crate does not interpret, RDATA kept byte for byte.
    Unknown {
        /// The TYPE.
        rtype: RecordType,
        /// The RDATA.
        data: Vec<u8>,
    },
}

/// RFC 1035 §3.3.13 SOA RDATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soa {
    /// MNAME: the primary name server.
    pub mname: Name,
    /// RNAME: the responsible person's mailbox.
    pub rname: Name,
    /// SERIAL.
    pub serial: u32,
    /// REFRESH.
    pub refresh: u32,
    /// RETRY.
    pub retry: u32,
    /// EXPIRE.
    pub expire: u32,
    /// MINIMUM: the negative-caching TTL (RFC 2308 §4).
    pub minimum: u32,
}

impl RData {
    /// The TYPE this RDATA belongs to.
    pub fn rtype(&self) -> RecordType {
        match self {
            RData::A(_) => RecordType::A,
            RData::Ns(_) => RecordType::NS,
            RData::Cname(_) => RecordType::CNAME,
            RData::Soa(_) => RecordType::SOA,
            RData::Ptr(_) => RecordType::PTR,
            RData::Mx { .. } => RecordType::MX,
            RData::Txt(_) => RecordType::TXT,
            RData::Aaaa(_) => RecordType::AAAA,
            RData::Srv { .. } => RecordType::SRV,
            RData::Unknown { rtype, .. } => *rtype,
        }
    }
}

/// RFC 1035 §4.1.3 resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// NAME (the owner).
    pub name: Name,
    /// CLASS.
    pub class: Class,
    /// TTL in seconds.
    pub ttl: u32,
    /// RDATA (TYPE follows from it).
    pub rdata: RData,
}

impl Record {
    /// The record's TYPE.
    pub fn rtype(&self) -> RecordType {
        self.rdata.rtype()
    }
}

/// RFC 6891 §6.1.2 OPT record fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edns {
    /// Requestor's UDP payload size (the OPT CLASS field).
    pub udp_size: u16,
    /// VERSION.
    pub version: u8,
    /// DO bit (RFC 3225).
    pub dnssec_ok: bool,
    /// The other 15 flag bits ("Z", must be zero).
    pub z: u16,
    /// Options, `(OPTION-CODE, OPTION-DATA)`, in order.
    pub options: Vec<(u16, Vec<u8>)>,
}

impl Default for Edns {
    fn default() -> Edns {
        Edns {
            udp_size: 1232,
            version: 0,
            dnssec_ok: false,
            z: 0,
            options: Vec::new(),
        }
    }
}

/// A whole DNS message (RFC 1035 §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The header (counts are derived from the sections).
    pub header: Header,
    /// QUESTION section.
    pub questions: Vec<Question>,
    /// ANSWER section.
    pub answers: Vec<Record>,
    /// AUTHORITY section.
    pub authorities: Vec<Record>,
    /// ADDITIONAL section, without the OPT record.
    pub additionals: Vec<Record>,
    /// The OPT pseudo-record, if any (RFC 6891 §6.1.1: at most one, in ADDITIONAL).
    pub edns: Option<Edns>,
}

impl Message {
    /// A query for one question, with the given id and no flags set.
    pub fn query(id: u16, name: Name, qtype: RecordType) -> Message {
        Message {
            header: Header {
                id,
                ..Header::default()
            },
            questions: vec![Question {
                name,
                qtype,
                qclass: Class::IN,
            }],
            ..Message::default()
        }
    }

    /// The first question, if any.
    pub fn question(&self) -> Option<&Question> {
        self.questions.first()
    }

    /// The full (extended) response code.
    pub fn rcode(&self) -> Rcode {
        Rcode(self.header.rcode)
    }
}
