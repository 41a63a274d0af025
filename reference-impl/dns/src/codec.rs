//! Wire format (RFC 1035 §4.1) <-> [`Message`], with name compression (§4.1.4) and the RFC 7766
//! TCP length prefix.
//!
//! [`decode`] is total: it never panics, and a compression pointer must point strictly backwards
//! (to an earlier offset than the pointer itself, and after the header), so every name is read in
//! bounded work: no loops, no forward references, at most [`MAX_POINTERS`] jumps per name.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::message::{Class, Edns, Header, Message, Question, RData, Record, RecordType, Soa};
use crate::name::{MAX_LABEL, MAX_NAME, Name};

/// The header is 12 octets (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;
/// At most this many compression pointers are followed in one name (a name has at most 127
/// labels, so no valid name needs more).
pub const MAX_POINTERS: usize = 127;
/// RFC 1035 §4.2.1: UDP messages without EDNS are limited to 512 octets.
pub const UDP_LIMIT: usize = 512;

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer than 12 octets.
    #[error("message shorter than the 12-octet header")]
    ShortHeader,
    /// The message ends inside a question or record (`at` is the offset where it ended).
    #[error("message truncated at offset {at}")]
    Truncated {
        /// Offset where more data was needed.
        at: usize,
    },
    /// A compression pointer to itself, forward, or into the header (RFC 1035 §4.1.4 "a prior
    /// occurrence").
    #[error("bad compression pointer at offset {at} (to {target})")]
    BadPointer {
        /// Where the pointer is.
        at: usize,
        /// Where it points.
        target: usize,
    },
    /// More than [`MAX_POINTERS`] pointers in one name.
    #[error("too many compression pointers in one name")]
    TooManyPointers,
    /// A label type 0b01 or 0b10 (RFC 6891 §5 deprecates extended labels).
    #[error("unsupported label type {0:#04x}")]
    BadLabelType(u8),
    /// A name longer than 255 octets (RFC 1035 §2.3.4).
    #[error("name longer than 255 octets")]
    NameTooLong,
    /// RDATA that does not match its type's format or RDLENGTH.
    #[error("malformed RDATA for {rtype} at offset {at}")]
    BadRdata {
        /// The record's type.
        rtype: RecordType,
        /// Offset of the RDATA.
        at: usize,
    },
    /// RFC 6891 §6.1.1: more than one OPT record.
    #[error("more than one OPT record")]
    MultipleOpt,
    /// RFC 6891 §6.1.1/§6.1.2: an OPT record outside ADDITIONAL or with a non-root owner.
    #[error("misplaced OPT record")]
    MisplacedOpt,
}

/// Decodes one whole message. Octets after the last record are ignored.
pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
    let header_bytes = buf.get(..HEADER_LEN).ok_or(DecodeError::ShortHeader)?;
    let (mut header, counts) = parse_header(header_bytes);
    let mut r = Reader {
        buf,
        pos: HEADER_LEN,
    };
    let mut msg = Message::default();
    // Counts come from the peer: never pre-allocate from them.
    for _ in 0..counts[0] {
        let name = r.name()?;
        let qtype = RecordType(r.u16()?);
        let qclass = Class(r.u16()?);
        msg.questions.push(Question {
            name,
            qtype,
            qclass,
        });
    }
    let mut edns: Option<(Edns, u8)> = None;
    for (section, &count) in counts.iter().enumerate().skip(1) {
        for _ in 0..count {
            match r.record()? {
                Parsed::Record(rec) => match section {
                    1 => msg.answers.push(rec),
                    2 => msg.authorities.push(rec),
                    _ => msg.additionals.push(rec),
                },
                Parsed::Opt {
                    root,
                    edns: e,
                    ext_rcode,
                } => {
                    if section != 3 || !root {
                        return Err(DecodeError::MisplacedOpt);
                    }
                    if edns.is_some() {
                        return Err(DecodeError::MultipleOpt);
                    }
                    edns = Some((e, ext_rcode));
                }
            }
        }
    }
    if let Some((e, ext)) = edns {
        header.rcode |= u16::from(ext) << 4;
        msg.edns = Some(e);
    }
    msg.header = header;
    Ok(msg)
}

/// The header and the four counts (QD, AN, NS, AR) of a message, if it has 12 octets: what a
/// server needs to answer FORMERR to a message it cannot decode.
pub fn peek_header(buf: &[u8]) -> Option<(Header, [u16; 4])> {
    buf.get(..HEADER_LEN).map(parse_header)
}

fn parse_header(h: &[u8]) -> (Header, [u16; 4]) {
    let at = |i: usize| h.get(i).copied().unwrap_or(0);
    let word = |i: usize| u16::from_be_bytes([at(i), at(i + 1)]);
    let (b2, b3) = (at(2), at(3));
    let header = Header {
        id: word(0),
        qr: b2 & 0x80 != 0,
        opcode: (b2 >> 3) & 0x0f,
        aa: b2 & 0x04 != 0,
        tc: b2 & 0x02 != 0,
        rd: b2 & 0x01 != 0,
        ra: b3 & 0x80 != 0,
        z: b3 & 0x40 != 0,
        ad: b3 & 0x20 != 0,
        cd: b3 & 0x10 != 0,
        rcode: u16::from(b3 & 0x0f),
    };
    (header, [word(4), word(6), word(8), word(10)])
}

enum Parsed {
    Record(Record),
    Opt {
        root: bool,
        edns: Edns,
        ext_rcode: u8,
    },
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(DecodeError::Truncated { at: self.pos })?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated { at: self.pos })?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// RFC 1035 §4.1.4: a sequence of labels ending in a zero octet or a pointer.
    fn name(&mut self) -> Result<Name, DecodeError> {
        let (name, next) = read_name(self.buf, self.pos)?;
        self.pos = next;
        Ok(name)
    }

    fn record(&mut self) -> Result<Parsed, DecodeError> {
        let name = self.name()?;
        let rtype = RecordType(self.u16()?);
        let class = self.u16()?;
        let ttl = self.u32()?;
        let rdlength = usize::from(self.u16()?);
        let start = self.pos;
        let end = start + rdlength;
        if end > self.buf.len() {
            return Err(DecodeError::Truncated { at: start });
        }
        if rtype == RecordType::OPT {
            let edns = parse_opt(self.take(rdlength)?, class, ttl)
                .ok_or(DecodeError::BadRdata { rtype, at: start })?;
            return Ok(Parsed::Opt {
                root: name.is_root(),
                edns,
                ext_rcode: (ttl >> 24) as u8,
            });
        }
        let rdata = if rdlength == 0 && (Class(class) == Class::ANY || Class(class) == Class::NONE)
        {
            // RFC 2136 §2.4.1, §2.4.3, §2.5.2-§2.5.4: an UPDATE's prerequisites and deletions are
            // RRs of any TYPE with CLASS ANY or NONE and RDLENGTH 0; kept as empty opaque RDATA.
            RData::Unknown {
                rtype,
                data: Vec::new(),
            }
        } else {
            self.rdata(rtype, end)
                .ok_or(DecodeError::BadRdata { rtype, at: start })?
        };
        if self.pos != end {
            return Err(DecodeError::BadRdata { rtype, at: start });
        }
        Ok(Parsed::Record(Record {
            name,
            class: Class(class),
            ttl,
            rdata,
        }))
    }

    /// Reads RDATA of `rtype` ending at `end`; `None` when it does not fit its format.
    fn rdata(&mut self, rtype: RecordType, end: usize) -> Option<RData> {
        let mut sub = Reader {
            buf: self.buf.get(..end)?,
            pos: self.pos,
        };
        let rdata = match rtype {
            RecordType::A => {
                let s = sub.take(4).ok()?;
                RData::A(Ipv4Addr::new(s[0], s[1], s[2], s[3]))
            }
            RecordType::AAAA => {
                let s: [u8; 16] = sub.take(16).ok()?.try_into().ok()?;
                RData::Aaaa(Ipv6Addr::from(s))
            }
            RecordType::NS => RData::Ns(sub.rdata_name()?),
            RecordType::CNAME => RData::Cname(sub.rdata_name()?),
            RecordType::PTR => RData::Ptr(sub.rdata_name()?),
            RecordType::MX => RData::Mx {
                preference: sub.u16().ok()?,
                exchange: sub.rdata_name()?,
            },
            RecordType::SOA => RData::Soa(Soa {
                mname: sub.rdata_name()?,
                rname: sub.rdata_name()?,
                serial: sub.u32().ok()?,
                refresh: sub.u32().ok()?,
                retry: sub.u32().ok()?,
                expire: sub.u32().ok()?,
                minimum: sub.u32().ok()?,
            }),
            RecordType::TXT => {
                // RFC 1035 §3.3.14: one or more <character-string>s.
                let mut strings = Vec::new();
                while sub.pos < end {
                    let len = usize::from(sub.u8().ok()?);
                    strings.push(sub.take(len).ok()?.to_vec());
                }
                if strings.is_empty() {
                    return None;
                }
                RData::Txt(strings)
            }
            RecordType::SRV => RData::Srv {
                priority: sub.u16().ok()?,
                weight: sub.u16().ok()?,
                port: sub.u16().ok()?,
                target: sub.rdata_name()?,
            },
            _ => RData::Unknown {
                rtype,
                data: sub.take(end - sub.pos).ok()?.to_vec(),
            },
        };
        self.pos = sub.pos;
        Some(rdata)
    }

    /// A name inside RDATA: its in-place part must end within the RDATA (the reader's buffer
    /// is cut at RDLENGTH), but pointers may reach anywhere before.
    fn rdata_name(&mut self) -> Option<Name> {
        let (name, next) = read_name(self.buf, self.pos).ok()?;
        self.pos = next;
        Some(name)
    }
}

/// Reads a possibly compressed name at `start`; returns it and the offset after its in-place
/// part.
pub fn read_name(buf: &[u8], start: usize) -> Result<(Name, usize), DecodeError> {
    let mut wire = Vec::with_capacity(32);
    let mut pos = start;
    let mut next = None;
    let mut pointers = 0;
    // Every pointer must go below the lowest offset seen so far: this forbids loops and forward
    // references, and bounds the work by the message length.
    let mut floor = start;
    loop {
        let len = *buf.get(pos).ok_or(DecodeError::Truncated { at: pos })?;
        match len & 0xc0 {
            0x00 => {
                let len = usize::from(len);
                if len == 0 {
                    wire.push(0);
                    if wire.len() > MAX_NAME {
                        return Err(DecodeError::NameTooLong);
                    }
                    return Ok((Name::from_checked_wire(wire), next.unwrap_or(pos + 1)));
                }
                debug_assert!(len <= MAX_LABEL);
                let label = buf
                    .get(pos + 1..pos + 1 + len)
                    .ok_or(DecodeError::Truncated { at: pos })?;
                wire.push(len as u8);
                wire.extend_from_slice(label);
                if wire.len() + 1 > MAX_NAME {
                    return Err(DecodeError::NameTooLong);
                }
                pos += 1 + len;
            }
            0xc0 => {
                let low = *buf.get(pos + 1).ok_or(DecodeError::Truncated { at: pos })?;
                let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                if target >= floor || target < HEADER_LEN {
                    return Err(DecodeError::BadPointer { at: pos, target });
                }
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return Err(DecodeError::TooManyPointers);
                }
                if next.is_none() {
                    next = Some(pos + 2);
                }
                floor = target;
                pos = target;
            }
            _ => return Err(DecodeError::BadLabelType(len)),
        }
    }
}

/// RDATA of `rtype` from bare octets (no message around it, so no compression pointers):
/// what RFC 3597 §5's generic text form of a known type means.
pub fn decode_rdata(rtype: RecordType, data: &[u8]) -> Option<RData> {
    let mut buf = vec![0; HEADER_LEN];
    buf.extend_from_slice(data);
    let end = buf.len();
    let mut r = Reader {
        buf: &buf,
        pos: HEADER_LEN,
    };
    let rdata = r.rdata(rtype, end)?;
    (r.pos == end).then_some(rdata)
}

fn parse_opt(data: &[u8], class: u16, ttl: u32) -> Option<Edns> {
    let mut options = Vec::new();
    let mut r = Reader { buf: data, pos: 0 };
    while r.pos < data.len() {
        let code = r.u16().ok()?;
        let len = usize::from(r.u16().ok()?);
        options.push((code, r.take(len).ok()?.to_vec()));
    }
    Some(Edns {
        udp_size: class,
        version: (ttl >> 16) as u8,
        dnssec_ok: ttl & 0x8000 != 0,
        z: (ttl & 0x7fff) as u16,
        options,
    })
}

/// RFC 7766 §8: a TCP message is a 2-octet length then the message. Returns the octets the
/// first whole message uses (prefix included) and the message, or `None` if it is not all here.
pub fn tcp_frame(buf: &[u8]) -> Option<(usize, &[u8])> {
    let len = usize::from(u16::from_be_bytes([*buf.first()?, *buf.get(1)?]));
    buf.get(2..2 + len).map(|m| (2 + len, m))
}

/// Encodes a message with name compression. Never fails: every [`Message`] value is
/// representable (names and RDATA are validated when built).
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    encode_into(msg, usize::MAX, &mut out);
    out
}

/// Encodes into `out` (cleared first), keeping the result within `limit` octets:
///
/// * RFC 2181 §9: when ANSWER or AUTHORITY records do not fit, TC is set and those sections
///   are sent empty (the client retries over TCP);
/// * when only ADDITIONAL records do not fit, they are left out without TC;
/// * the question and the OPT record are always kept (RFC 6891 §7).
///
/// Returns whether TC was set. `out`'s capacity is reused: no allocation on the hot path once
/// it is large enough.
pub fn encode_into(msg: &Message, limit: usize, out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut w = Writer {
        out,
        names: Vec::new(),
    };
    let mut header = msg.header;
    w.out.extend_from_slice(&[0; HEADER_LEN]);
    for q in &msg.questions {
        w.name(&q.name, true);
        w.u16(q.qtype.0);
        w.u16(q.qclass.0);
    }
    let opt_len = msg.edns.as_ref().map_or(0, |e| {
        11 + e.options.iter().map(|(_, d)| 4 + d.len()).sum::<usize>()
    });
    let budget = limit.saturating_sub(opt_len);
    let after_question = w.out.len();
    let names_after_question = w.names.len();
    let mut counts = [msg.questions.len(), 0, 0, 0];
    let mut truncated = false;
    'sections: for (i, section) in [&msg.answers, &msg.authorities].into_iter().enumerate() {
        for rec in section {
            w.record(rec);
            if w.out.len() > budget {
                truncated = true;
                break 'sections;
            }
            counts[i + 1] += 1;
        }
    }
    if truncated {
        w.out.truncate(after_question);
        w.names.truncate(names_after_question);
        counts[1] = 0;
        counts[2] = 0;
        header.tc = true;
    } else {
        for rec in &msg.additionals {
            let before = w.out.len();
            let names_before = w.names.len();
            w.record(rec);
            if w.out.len() > budget {
                w.out.truncate(before);
                w.names.truncate(names_before);
                break;
            }
            counts[3] += 1;
        }
    }
    if let Some(e) = &msg.edns {
        w.opt(e, (header.rcode >> 4) as u8);
        counts[3] += 1;
    }
    let b2 = u8::from(header.qr) << 7
        | (header.opcode & 0x0f) << 3
        | u8::from(header.aa) << 2
        | u8::from(header.tc) << 1
        | u8::from(header.rd);
    let b3 = u8::from(header.ra) << 7
        | u8::from(header.z) << 6
        | u8::from(header.ad) << 5
        | u8::from(header.cd) << 4
        | (header.rcode & 0x0f) as u8;
    let mut head = [0u8; HEADER_LEN];
    head[..2].copy_from_slice(&header.id.to_be_bytes());
    head[2] = b2;
    head[3] = b3;
    for (i, c) in counts.iter().enumerate() {
        let c = u16::try_from(*c).unwrap_or(u16::MAX);
        head[4 + 2 * i..6 + 2 * i].copy_from_slice(&c.to_be_bytes());
    }
    w.out[..HEADER_LEN].copy_from_slice(&head);
    header.tc
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    /// Offsets of names (and their suffixes) already written: compression targets.
    names: Vec<u16>,
}

impl Writer<'_> {
    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    /// RFC 1035 §4.1.4. A suffix is replaced by a pointer only when an earlier name has the
    /// very same octets (case included), so compression never changes the case a name was
    /// written in (RFC 4343 §4).
    fn name(&mut self, name: &Name, compress: bool) {
        let wire = name.as_wire();
        let mut pos = 0;
        while let Some(&len) = wire.get(pos) {
            if len == 0 {
                self.out.push(0);
                return;
            }
            let suffix = &wire[pos..];
            if compress
                && let Some(&target) = self
                    .names
                    .iter()
                    .find(|&&off| suffix_matches(self.out, usize::from(off), suffix))
            {
                self.u16(0xc000 | target);
                return;
            }
            if self.out.len() < 0x4000 {
                self.names.push(self.out.len() as u16);
            }
            let end = (pos + 1 + usize::from(len)).min(wire.len());
            self.out.extend_from_slice(&wire[pos..end]);
            pos = end;
        }
    }

    fn record(&mut self, rec: &Record) {
        self.name(&rec.name, true);
        self.u16(rec.rtype().0);
        self.u16(rec.class.0);
        self.u32(rec.ttl);
        let len_at = self.out.len();
        self.u16(0);
        match &rec.rdata {
            RData::A(a) => self.out.extend_from_slice(&a.octets()),
            RData::Aaaa(a) => self.out.extend_from_slice(&a.octets()),
            RData::Ns(n) | RData::Cname(n) | RData::Ptr(n) => self.name(n, true),
            RData::Mx {
                preference,
                exchange,
            } => {
                self.u16(*preference);
                self.name(exchange, true);
            }
            RData::Soa(s) => {
                self.name(&s.mname, true);
                self.name(&s.rname, true);
                for v in [s.serial, s.refresh, s.retry, s.expire, s.minimum] {
                    self.u32(v);
                }
            }
            RData::Txt(strings) => {
                for s in strings {
                    let s = &s[..s.len().min(255)];
                    self.out.push(s.len() as u8);
                    self.out.extend_from_slice(s);
                }
            }
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => {
                for v in [*priority, *weight, *port] {
                    self.u16(v);
                }
                // RFC 2782: "name compression is not to be used for this field".
                self.name(target, false);
            }
            RData::Unknown { data, .. } => self.out.extend_from_slice(data),
        }
        let rdlen = u16::try_from(self.out.len() - len_at - 2).unwrap_or(u16::MAX);
        self.out[len_at..len_at + 2].copy_from_slice(&rdlen.to_be_bytes());
    }

    /// RFC 6891 §6.1.2-§6.1.3.
    fn opt(&mut self, e: &Edns, ext_rcode: u8) {
        self.out.push(0);
        self.u16(RecordType::OPT.0);
        self.u16(e.udp_size);
        let ttl = u32::from(ext_rcode) << 24
            | u32::from(e.version) << 16
            | u32::from(e.dnssec_ok) << 15
            | u32::from(e.z & 0x7fff);
        self.u32(ttl);
        let len: usize = e.options.iter().map(|(_, d)| 4 + d.len()).sum();
        self.u16(u16::try_from(len).unwrap_or(u16::MAX));
        for (code, data) in &e.options {
            self.u16(*code);
            self.u16(u16::try_from(data.len()).unwrap_or(u16::MAX));
            self.out.extend_from_slice(data);
        }
    }
}

/// Whether the (possibly compressed) name at `off` in `out` has exactly the octets `suffix`.
fn suffix_matches(out: &[u8], mut off: usize, suffix: &[u8]) -> bool {
    let mut i = 0;
    for _ in 0..=MAX_POINTERS {
        let Some(&len) = out.get(off) else {
            return false;
        };
        if len & 0xc0 == 0xc0 {
            let Some(&low) = out.get(off + 1) else {
                return false;
            };
            off = (usize::from(len & 0x3f) << 8) | usize::from(low);
            continue;
        }
        let n = usize::from(len) + 1;
        match (out.get(off..off + n), suffix.get(i..i + n)) {
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
        if len == 0 {
            return true;
        }
        i += n;
        off += n;
    }
    false
}

#[cfg(test)]
mod tests;
