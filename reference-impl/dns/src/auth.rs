//! The authoritative server's answer logic (RFC 1034 §4.3.2), sans-IO: a query in, a response
//! out, from the prebuilt [`Zones`] index.
//!
//! * AA on answers from our zones; referrals (a zone cut below the apex) carry the child's NS
//!   RRset in AUTHORITY and the glue in ADDITIONAL, without AA.
//! * RFC 2308 §2-§3: NXDOMAIN and NODATA put the zone's SOA in AUTHORITY, with the TTL
//!   `min(SOA TTL, SOA MINIMUM)`.
//! * CNAME chains are followed inside the zone (bounded); the RCODE is that of the last name
//!   (RFC 6604 §2).
//! * RFC 4592 wildcards, with empty non-terminals stopping them.
//! * RFC 6891: OPT answered with our size and version 0; VERSION > 0 gets BADVERS.
//! * FORMERR for undecodable messages and QDCOUNT ≠ 1, NOTIMP for opcodes other than QUERY
//!   (we send and accept no NOTIFY), REFUSED for names outside our zones.
//! * AXFR (RFC 5936) over TCP only; IXFR (RFC 1995) is answered with a full transfer over TCP
//!   and the SOA alone over UDP.
//! * UDP size: 512 without EDNS (RFC 1035 §4.2.1), else the requestor's size between 512 and
//!   [`EDNS_UDP_SIZE`]; bigger answers are truncated with TC (RFC 2181 §9).

use crate::codec::{self, UDP_LIMIT};
use crate::message::{Edns, Header, Message, Opcode, Question, RData, Rcode, Record, RecordType};
use crate::name::Name;
use crate::zone::{Node, Zone, Zones};

/// Our EDNS UDP payload size (RFC 6891 §6.2.5; the 2020 "DNS flag day" value).
pub const EDNS_UDP_SIZE: u16 = 1232;
/// At most this many CNAMEs are followed within one answer.
pub const MAX_CNAME_CHAIN: usize = 16;
/// An AXFR message is filled up to about this many octets (RFC 5936 §2.2: as many records as fit
/// in 65535).
const AXFR_MESSAGE_TARGET: usize = 16_000;

/// How the query arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP: size-limited, truncation with TC.
    Udp,
    /// TCP (RFC 7766): up to 65535 octets per message, AXFR allowed.
    Tcp,
}

/// Answers one decoded query. `None` means no response at all (the message was a response:
/// answering responses invites loops). AXFR over TCP gets only its first message here; use
/// [`respond`] or [`transfer`] for the whole transfer.
pub fn answer(zones: &Zones, query: &Message, transport: Transport) -> Option<Message> {
    if query.header.qr {
        return None;
    }
    let mut resp = skeleton(query);
    if query.header.opcode() != Opcode::QUERY {
        // RFC 1035 §4.1.1: "Not Implemented". NOTIFY (RFC 1996) and UPDATE (RFC 2136) included.
        return Some(with_rcode(resp, Rcode::NOTIMP));
    }
    if query.edns.as_ref().is_some_and(|e| e.version > 0) {
        // RFC 6891 §6.1.3: "If a responder does not implement the VERSION level of the request,
        // then it MUST respond with RCODE=BADVERS."
        return Some(with_rcode(resp, Rcode::BADVERS));
    }
    let [question] = query.questions.as_slice() else {
        resp.questions.clear();
        return Some(with_rcode(resp, Rcode::FORMERR));
    };
    match question.qtype {
        RecordType::OPT => return Some(with_rcode(resp, Rcode::FORMERR)),
        RecordType(253 | 254) => return Some(with_rcode(resp, Rcode::NOTIMP)),
        RecordType::AXFR | RecordType::IXFR => {
            return Some(match transfer(zones, query, transport) {
                Ok(mut msgs)
                    if question.qtype == RecordType::AXFR || transport == Transport::Tcp =>
                {
                    msgs.swap_remove(0)
                }
                Ok(_) => ixfr_udp(zones, question, resp),
                Err(rcode) => with_rcode(resp, rcode),
            });
        }
        _ => {}
    }
    let Some(zone) = zones
        .find(&question.name)
        .filter(|z| class_matches(z, question))
    else {
        return Some(with_rcode(resp, Rcode::REFUSED));
    };
    lookup(zone, question, &mut resp);
    Some(resp)
}

/// Decodes `query`, answers it and encodes the response into `out` (cleared first) within the
/// transport's size limit. Returns false when nothing must be sent. This is the UDP hot path:
/// `out` is reused between packets.
pub fn respond_into(zones: &Zones, query: &[u8], transport: Transport, out: &mut Vec<u8>) -> bool {
    let resp = match codec::decode(query) {
        Ok(q) => match answer(zones, &q, transport) {
            Some(r) => (r, size_limit(&q, transport)),
            None => return false,
        },
        Err(e) => match notimp_for(query).or_else(|| formerr_for(query, &e)) {
            Some(r) => (r, UDP_LIMIT),
            None => return false,
        },
    };
    codec::encode_into(&resp.0, resp.1, out);
    true
}

/// Every response message to `query` (several for an AXFR over TCP), each encoded.
pub fn respond(zones: &Zones, query: &[u8], transport: Transport) -> Vec<Vec<u8>> {
    if transport == Transport::Tcp
        && let Ok(q) = codec::decode(query)
        && !q.header.qr
        && q.header.opcode() == Opcode::QUERY
        && q.edns.as_ref().is_none_or(|e| e.version == 0)
        && q.questions.len() == 1
        && q.questions
            .first()
            .is_some_and(|x| matches!(x.qtype, RecordType::AXFR | RecordType::IXFR))
    {
        return match transfer(zones, &q, transport) {
            Ok(msgs) => msgs.iter().map(codec::encode).collect(),
            Err(rcode) => vec![codec::encode(&with_rcode(skeleton(&q), rcode))],
        };
    }
    let mut out = Vec::new();
    if respond_into(zones, query, transport, &mut out) {
        vec![out]
    } else {
        Vec::new()
    }
}

/// The response size limit: RFC 1035 §4.2.1 512 octets over UDP, RFC 6891 §6.2.5 the
/// requestor's payload size (at least 512) capped by ours; 65535 over TCP (RFC 7766 §8).
pub fn size_limit(query: &Message, transport: Transport) -> usize {
    match (transport, &query.edns) {
        (Transport::Tcp, _) => usize::from(u16::MAX),
        (Transport::Udp, None) => UDP_LIMIT,
        (Transport::Udp, Some(e)) => usize::from(e.udp_size.clamp(512, EDNS_UDP_SIZE)),
    }
}

/// RFC 1035 §4.1.1 / RFC 2136 §3: a server that does not implement an OPCODE answers NOTIMP,
/// decided by the header alone, before the sections are read: a query with another OPCODE
/// whose records we cannot decode (an UPDATE's, say) is "Not Implemented", not a format error.
/// `None` for a response or an OPCODE QUERY message.
pub fn notimp_for(raw: &[u8]) -> Option<Message> {
    let (h, _) = codec::peek_header(raw)?;
    if h.qr || h.opcode() == Opcode::QUERY {
        return None;
    }
    let resp = bare_response(&h);
    Some(with_rcode(resp, Rcode::NOTIMP))
}

/// A FORMERR for a message that did not decode, when its header can be read and it is a query
/// (RFC 1035 §4.1.1 "Format error"). RFC 6891 §7: when the OPT record itself is bad the
/// response carries an OPT record.
pub fn formerr_for(raw: &[u8], error: &codec::DecodeError) -> Option<Message> {
    let (h, _) = codec::peek_header(raw)?;
    if h.qr {
        return None;
    }
    let opt_problem = matches!(
        error,
        codec::DecodeError::MultipleOpt
            | codec::DecodeError::MisplacedOpt
            | codec::DecodeError::BadRdata {
                rtype: RecordType::OPT,
                ..
            }
    );
    let mut resp = bare_response(&h);
    if opt_problem {
        resp.edns = Some(our_edns(false));
    }
    Some(with_rcode(resp, Rcode::FORMERR))
}

/// A response header for a query we could not (or need not) decode: ID, OPCODE, RD and CD
/// copied, QR set, no sections.
fn bare_response(h: &Header) -> Message {
    Message {
        header: Header {
            id: h.id,
            qr: true,
            opcode: h.opcode,
            rd: h.rd,
            cd: h.cd,
            ..Header::default()
        },
        ..Message::default()
    }
}

fn our_edns(dnssec_ok: bool) -> Edns {
    Edns {
        udp_size: EDNS_UDP_SIZE,
        version: 0,
        dnssec_ok,
        z: 0,
        options: Vec::new(),
    }
}

/// The response header and question: ID, OPCODE, RD and CD copied (RFC 1035 §4.1.1, RFC 4035
/// §3.1.6), QR set; our OPT when the query had one (RFC 6891 §7; DO copied, RFC 3225 §3).
pub(crate) fn skeleton(query: &Message) -> Message {
    let q = &query.header;
    Message {
        header: Header {
            id: q.id,
            qr: true,
            opcode: q.opcode,
            rd: q.rd,
            cd: q.cd,
            ..Header::default()
        },
        questions: query.questions.clone(),
        edns: query.edns.as_ref().map(|e| our_edns(e.dnssec_ok)),
        ..Message::default()
    }
}

fn with_rcode(mut resp: Message, rcode: Rcode) -> Message {
    resp.header.rcode = rcode.0;
    resp.answers.clear();
    resp.authorities.clear();
    resp.additionals.clear();
    resp
}

fn class_matches(zone: &Zone, q: &Question) -> bool {
    q.qclass == zone.class() || q.qclass == crate::message::Class::ANY
}

/// RFC 1034 §4.3.2 steps 3-6 inside one zone.
fn lookup(zone: &Zone, question: &Question, resp: &mut Message) {
    resp.header.aa = true;
    let qtype = question.qtype;
    let mut name = question.name.clone();
    let mut visited: Vec<Name> = Vec::new();
    loop {
        if let Some(cut) = zone_cut(zone, &name) {
            if resp.answers.is_empty() {
                referral(zone, &cut, resp);
            }
            return;
        }
        let node = match zone.node(&name) {
            Some(node) => node,
            None => match wildcard(zone, &name) {
                Some(node) => node,
                None => {
                    // RFC 2308 §2.1: NXDOMAIN with the SOA; RFC 6604 §2: for the last name.
                    resp.header.rcode = Rcode::NXDOMAIN.0;
                    resp.authorities.push(negative_soa(zone));
                    return;
                }
            },
        };
        let wanted: Vec<&crate::zone::Rrset> = if qtype == RecordType::ANY {
            node.rrsets.iter().collect()
        } else {
            node.rrset(qtype).into_iter().collect()
        };
        if !wanted.is_empty() {
            for set in wanted {
                push_rrset(&mut resp.answers, set, &name);
            }
            additional_for_answers(zone, resp);
            return;
        }
        match node.rrset(RecordType::CNAME) {
            Some(set) => {
                push_rrset(&mut resp.answers, set, &name);
                visited.push(name.clone());
                let Some(RData::Cname(target)) = set.records.first().map(|r| &r.rdata) else {
                    return;
                };
                // RFC 1034 §4.3.2 step 3a: restart at the canonical name, while it is ours.
                if !target.is_subdomain_of(zone.origin())
                    || visited.contains(target)
                    || visited.len() >= MAX_CNAME_CHAIN
                {
                    return;
                }
                name = target.clone();
            }
            None => {
                // RFC 2308 §2.2: NODATA, the SOA in AUTHORITY.
                resp.authorities.push(negative_soa(zone));
                return;
            }
        }
    }
}

/// Pushes an RRset with `owner` as written in the query (RFC 4343 §4: case preserved; for a
/// wildcard, RFC 4592 §2.1.1: the owner is the query name).
fn push_rrset(section: &mut Vec<Record>, set: &crate::zone::Rrset, owner: &Name) {
    for rec in &set.records {
        section.push(Record {
            name: owner.clone(),
            ..rec.clone()
        });
    }
}

/// RFC 2308 §3: the SOA with TTL min(SOA TTL, MINIMUM).
fn negative_soa(zone: &Zone) -> Record {
    let mut soa = zone.soa().clone();
    if let Some(min) = zone.soa_data().map(|s| s.minimum) {
        soa.ttl = soa.ttl.min(min);
    }
    soa
}

/// The highest delegation (NS RRset below the apex) at or above `name`.
fn zone_cut(zone: &Zone, name: &Name) -> Option<Name> {
    let mut cut = None;
    let mut cur = Some(name.clone());
    while let Some(n) = cur {
        if &n == zone.origin() || !n.is_subdomain_of(zone.origin()) {
            break;
        }
        if zone
            .node(&n)
            .is_some_and(|node| node.rrset(RecordType::NS).is_some())
        {
            cut = Some(n.clone());
        }
        cur = n.parent();
    }
    cut
}

/// RFC 1034 §4.3.2 step 3b: the child's NS RRset and its glue, AA off.
fn referral(zone: &Zone, cut: &Name, resp: &mut Message) {
    resp.header.aa = false;
    if let Some(set) = zone.node(cut).and_then(|n| n.rrset(RecordType::NS)) {
        push_rrset(&mut resp.authorities, set, cut);
        for rec in &set.records {
            if let RData::Ns(target) = &rec.rdata {
                add_addresses(zone, target, &mut resp.additionals);
            }
        }
    }
}

/// RFC 4592 §3.3.1: the closest encloser's `*` child, if the name does not exist.
fn wildcard<'z>(zone: &'z Zone, name: &Name) -> Option<&'z Node> {
    let mut cur = name.parent();
    while let Some(n) = cur {
        if !n.is_subdomain_of(zone.origin()) {
            return None;
        }
        if zone.node(&n).is_some() {
            return zone.node(&n.prepend(b"*").ok()?);
        }
        cur = n.parent();
    }
    None
}

/// RFC 1035 §3.3.9/§3.3.11, RFC 2782: A and AAAA of MX, NS and SRV targets in the zone go to
/// ADDITIONAL.
fn additional_for_answers(zone: &Zone, resp: &mut Message) {
    let targets: Vec<Name> = resp
        .answers
        .iter()
        .filter_map(|r| match &r.rdata {
            RData::Mx { exchange, .. } => Some(exchange.clone()),
            RData::Ns(n) => Some(n.clone()),
            RData::Srv { target, .. } => Some(target.clone()),
            _ => None,
        })
        .collect();
    for t in targets {
        add_addresses(zone, &t, &mut resp.additionals);
    }
}

fn add_addresses(zone: &Zone, target: &Name, out: &mut Vec<Record>) {
    let Some(node) = zone.node(target) else {
        return;
    };
    for rtype in [RecordType::A, RecordType::AAAA] {
        if let Some(set) = node.rrset(rtype) {
            for rec in &set.records {
                if !out.contains(rec) {
                    out.push(rec.clone());
                }
            }
        }
    }
}

/// RFC 5936 §2.2: the zone's SOA, every other record, the SOA again, split over messages of
/// at most ~16 kB; the question only in the first. Err: the RCODE (NOTAUTH when the name is
/// not one of our zone apexes, RFC 5936 §2.2.1; FORMERR over UDP, §4.2).
pub fn transfer(
    zones: &Zones,
    query: &Message,
    transport: Transport,
) -> Result<Vec<Message>, Rcode> {
    let question = query.questions.first().ok_or(Rcode::FORMERR)?;
    let zone = zones
        .get(&question.name)
        .filter(|z| class_matches(z, question))
        .ok_or(Rcode::NOTAUTH)?;
    if transport == Transport::Udp && question.qtype == RecordType::AXFR {
        return Err(Rcode::FORMERR);
    }
    let mut first = skeleton(query);
    first.header.aa = true;
    let mut msgs = vec![first];
    let mut size = 0;
    let records = zone.records().iter().chain(std::iter::once(zone.soa()));
    for rec in records {
        let rec_size = codec::encode(&Message {
            answers: vec![rec.clone()],
            ..Message::default()
        })
        .len();
        if size + rec_size > AXFR_MESSAGE_TARGET && size > 0 {
            let mut next = skeleton(query);
            next.questions.clear();
            next.header.aa = true;
            msgs.push(next);
            size = 0;
        }
        size += rec_size;
        if let Some(m) = msgs.last_mut() {
            m.answers.push(rec.clone());
        }
    }
    Ok(msgs)
}

/// RFC 1995 §2/§4 over UDP: the current SOA alone tells the client to use TCP.
fn ixfr_udp(zones: &Zones, question: &Question, mut resp: Message) -> Message {
    if let Some(zone) = zones.get(&question.name) {
        resp.header.aa = true;
        resp.answers.push(zone.soa().clone());
    }
    resp
}

#[cfg(test)]
mod tests;
