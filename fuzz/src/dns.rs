//! DNS (`wirecheck-dns`): the wire codec, its round trips, the presentation form, master
//! files, the authoritative answer logic, and a differential target against hickory-proto.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use hickory_proto::op::{Message as HMessage, MessageType};
use hickory_proto::rr::{RData as HRData, Record as HRecord};
use wirecheck_dns::auth::{self, Transport};
use wirecheck_dns::codec::{self, DecodeError};
use wirecheck_dns::message::{Class, Edns, Header, Message, Question, RData, Rcode, Record, RecordType, Soa};
use wirecheck_dns::name::Name;
use wirecheck_dns::presentation;
use wirecheck_dns::zone::{self, Zone, Zones};

use crate::{disagree, hex};

// ---------------------------------------------------------------------------------------------
// Codec

/// Equality that also sees the case of names (`Name`'s `Eq` ignores it, RFC 4343; the
/// encoding keeps it).
fn same(a: &Message, b: &Message) -> bool {
    a == b && codec::encode(a) == codec::encode(b)
}

/// `decode` on any bytes: never panics; a message it accepts encodes (with compression) to
/// bytes that decode to the same message (RFC 1035 §4.1).
pub fn decode_target(data: &[u8]) {
    let Ok(msg) = codec::decode(data) else { return };
    let wire = codec::encode(&msg);
    match codec::decode(&wire) {
        Ok(back) => assert!(
            same(&back, &msg),
            "decode(encode(decode({}))) = {back:?}, not {msg:?}",
            hex(data)
        ),
        Err(e) => panic!("our encoding of {} does not decode: {e} ({})", hex(data), hex(&wire)),
    }
    // RFC 7766 §8 framing of the same message.
    let mut framed = (wire.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&wire);
    if wire.len() <= usize::from(u16::MAX) {
        assert_eq!(codec::tcp_frame(&framed), Some((framed.len(), &wire[..])));
    }
}

/// A message built from arbitrary parts through the crate's validating constructors.
#[derive(Debug, Arbitrary)]
pub struct MessageSpec {
    id: u16,
    flags: u16,
    rcode: u16,
    questions: Vec<(NameSpec, u16, u16)>,
    answers: Vec<RecordSpec>,
    authorities: Vec<RecordSpec>,
    additionals: Vec<RecordSpec>,
    edns: Option<EdnsSpec>,
}

/// OPT: payload size, version, DO, Z, options.
type EdnsSpec = (u16, u8, bool, u16, Vec<(u16, Vec<u8>)>);

#[derive(Debug, Arbitrary)]
pub struct NameSpec(Vec<Vec<u8>>);

#[derive(Debug, Arbitrary)]
pub struct RecordSpec {
    name: NameSpec,
    class: u16,
    ttl: u32,
    rdata: RDataSpec,
}

#[derive(Debug, Arbitrary)]
pub enum RDataSpec {
    A([u8; 4]),
    Ns(NameSpec),
    Cname(NameSpec),
    Soa(NameSpec, NameSpec, [u32; 5]),
    Ptr(NameSpec),
    Mx(u16, NameSpec),
    Txt(Vec<Vec<u8>>),
    Aaaa([u8; 16]),
    Srv(u16, u16, u16, NameSpec),
    Unknown(u16, Vec<u8>),
}

impl NameSpec {
    fn build(&self) -> Option<Name> {
        Name::from_labels(
            self.0
                .iter()
                .take(10)
                .map(|l| &l[..l.len().min(63)])
                .filter(|l| !l.is_empty()),
        )
        .ok()
    }
}

impl RecordSpec {
    fn build(&self) -> Option<Record> {
        let rdata = match &self.rdata {
            RDataSpec::A(a) => RData::A(Ipv4Addr::from(*a)),
            RDataSpec::Ns(n) => RData::Ns(n.build()?),
            RDataSpec::Cname(n) => RData::Cname(n.build()?),
            RDataSpec::Soa(m, r, v) => RData::Soa(Soa {
                mname: m.build()?,
                rname: r.build()?,
                serial: v[0],
                refresh: v[1],
                retry: v[2],
                expire: v[3],
                minimum: v[4],
            }),
            RDataSpec::Ptr(n) => RData::Ptr(n.build()?),
            RDataSpec::Mx(p, n) => RData::Mx {
                preference: *p,
                exchange: n.build()?,
            },
            RDataSpec::Txt(t) => {
                // RFC 1035 §3.3.14: one or more character-strings of at most 255 octets.
                let strings: Vec<Vec<u8>> = t.iter().take(8).map(|s| s[..s.len().min(255)].to_vec()).collect();
                if strings.is_empty() {
                    return None;
                }
                RData::Txt(strings)
            }
            RDataSpec::Aaaa(a) => RData::Aaaa(Ipv6Addr::from(*a)),
            RDataSpec::Srv(p, w, port, t) => RData::Srv {
                priority: *p,
                weight: *w,
                port: *port,
                target: t.build()?,
            },
            RDataSpec::Unknown(t, d) => {
                // A type the codec does not interpret (RFC 3597), not OPT.
                let rtype = RecordType(*t);
                if rtype.mnemonic().is_some() {
                    return None;
                }
                RData::Unknown {
                    rtype,
                    data: d[..d.len().min(300)].to_vec(),
                }
            }
        };
        Some(Record {
            name: self.name.build()?,
            class: Class(self.class),
            ttl: self.ttl,
            rdata,
        })
    }
}

impl MessageSpec {
    fn build(&self) -> Option<Message> {
        let f = self.flags;
        let bit = |n: u16| f & (1 << n) != 0;
        let edns = self.edns.as_ref().map(|(size, version, dnssec_ok, z, options)| Edns {
            udp_size: *size,
            version: *version,
            dnssec_ok: *dnssec_ok,
            z: z & 0x7fff,
            options: options
                .iter()
                .take(4)
                .map(|(c, d)| (*c, d[..d.len().min(100)].to_vec()))
                .collect(),
        });
        // Without OPT the RCODE has 4 bits (RFC 1035 §4.1.1); with it 12 (RFC 6891 §6.1.3).
        let rcode = if edns.is_some() {
            self.rcode & 0xfff
        } else {
            self.rcode & 0xf
        };
        let header = Header {
            id: self.id,
            qr: bit(0),
            opcode: ((f >> 1) & 0xf) as u8,
            aa: bit(5),
            tc: bit(6),
            rd: bit(7),
            ra: bit(8),
            z: bit(9),
            ad: bit(10),
            cd: bit(11),
            rcode,
        };
        let questions = self
            .questions
            .iter()
            .take(4)
            .map(|(n, t, c)| {
                Some(Question {
                    name: n.build()?,
                    qtype: RecordType(*t),
                    qclass: Class(*c),
                })
            })
            .collect::<Option<Vec<_>>>()?;
        let records = |v: &[RecordSpec]| v.iter().take(6).map(RecordSpec::build).collect::<Option<Vec<_>>>();
        Some(Message {
            header,
            questions,
            answers: records(&self.answers)?,
            authorities: records(&self.authorities)?,
            additionals: records(&self.additionals)?,
            edns,
        })
    }
}

/// An arbitrary message: `decode(encode(m)) == m`, names' case included.
pub fn message_round_trip(spec: MessageSpec) {
    let Some(msg) = spec.build() else { return };
    let wire = codec::encode(&msg);
    match codec::decode(&wire) {
        Ok(back) => assert!(
            same(&back, &msg),
            "round trip: {back:?} is not {msg:?} ({})",
            hex(&wire)
        ),
        Err(e) => panic!("encoding of {msg:?} does not decode: {e} ({})", hex(&wire)),
    }
    // Truncation to a limit keeps the result within it (RFC 2181 §9) and decodable.
    let mut out = Vec::new();
    for limit in [512usize, 100] {
        codec::encode_into(&msg, limit, &mut out);
        let min = 12
            + msg.questions.iter().map(|q| q.name.wire_len() + 4).sum::<usize>()
            + msg
                .edns
                .as_ref()
                .map_or(0, |e| 11 + e.options.iter().map(|(_, d)| 4 + d.len()).sum::<usize>());
        assert!(
            out.len() <= limit.max(min),
            "{} octets over the limit {limit}",
            out.len()
        );
        assert!(
            codec::decode(&out).is_ok(),
            "truncated encoding does not decode: {}",
            hex(&out)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Presentation form and master files

/// `parse_query` / `parse_message` on any text: never panic; what they accept renders to text
/// that parses back to the same message, and encodes to wire that decodes to it.
pub fn presentation_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for msg in [
        presentation::parse_query(text).ok(),
        presentation::parse_message(text).ok(),
    ]
    .into_iter()
    .flatten()
    {
        let rendered = presentation::render(&msg);
        match presentation::parse_message(&rendered) {
            Ok(back) => assert!(
                same(&back, &msg),
                "render/parse of {text:?} gave {back:?}, not {msg:?}\n{rendered}"
            ),
            Err(e) => panic!("our rendering of {text:?} does not parse: {e}\n{rendered}"),
        }
        let _ = presentation::render_record;
    }
}

/// Master files: never panic; a zone that loads answers every query about its own names
/// without panicking, with responses that decode.
pub fn zone_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let origin = Name::parse("example.test.").ok();
    let _ = zone::parse_master_file(text, origin.as_ref());
    let Ok(z) = Zone::parse(text, origin.as_ref()) else {
        return;
    };
    let names: Vec<Name> = z.records().iter().take(16).map(|r| r.name.clone()).collect();
    let mut zones = Zones::new();
    zones.insert(z);
    for name in names {
        for t in [
            RecordType::A,
            RecordType::MX,
            RecordType::ANY,
            RecordType::CNAME,
            RecordType::AXFR,
        ] {
            let q = Message::query(7, name.clone(), t);
            if let Some(r) = auth::answer(&zones, &q, Transport::Tcp) {
                check_response(&q, &r, &codec::encode(&r), usize::from(u16::MAX));
            }
        }
    }
}

fn example_zones() -> &'static Zones {
    static Z: OnceLock<Zones> = OnceLock::new();
    Z.get_or_init(|| {
        let mut zones = Zones::new();
        zones.insert(zone::example_test_zone());
        zones
    })
}

/// What every response to a query must be (RFC 1035 §4.1.1, RFC 6891 §6.1.1).
fn check_response(q: &Message, r: &Message, wire: &[u8], limit: usize) {
    assert!(
        wire.len() <= limit,
        "response of {} octets over the limit {limit}",
        wire.len()
    );
    assert!(r.header.qr, "QR not set in a response");
    assert_eq!(r.header.id, q.header.id, "ID not copied (RFC 1035 §4.1.1)");
    assert_eq!(r.header.opcode, q.header.opcode, "OPCODE not copied");
    if q.edns.is_some() && r.header.rcode != 1 {
        // RFC 6891 §6.1.1: "compliant responders MUST include an OPT record".
        assert!(r.edns.is_some(), "query with OPT, response without");
    }
}

/// Any bytes as a query to the authoritative server with the `example.test.` zone, over UDP
/// and TCP: no panic; every response decodes, fits the transport, copies ID and OPCODE, sets
/// QR; a response (QR=1) is never answered (RFC 1035 §7.3).
pub fn auth_target(data: &[u8]) {
    let zones = example_zones();
    for transport in [Transport::Udp, Transport::Tcp] {
        let responses = auth::respond(zones, data, transport);
        let query = codec::decode(data);
        if let Ok(q) = &query
            && q.header.qr
        {
            assert!(responses.is_empty(), "a response was answered: {}", hex(data));
        }
        let other_opcode = codec::peek_header(data).filter(|(h, _)| !h.qr && h.opcode != 0);
        for wire in &responses {
            let r = match codec::decode(wire) {
                Ok(r) => r,
                Err(e) => panic!("response {} to {} does not decode: {e}", hex(wire), hex(data)),
            };
            if other_opcode.is_some() {
                // F1 (fixed): RFC 1035 §4.1.1, RFC 2136 §3: an OPCODE we do not implement is
                // NOTIMP, decided before the sections are read (an UPDATE's RDLENGTH 0 records
                // were once a FORMERR).
                assert_eq!(r.rcode(), Rcode::NOTIMP, "OPCODE {} not NOTIMP: {}", r.header.opcode, hex(data));
                continue;
            }
            match &query {
                Ok(q) => check_response(
                    q,
                    &r,
                    wire,
                    if transport == Transport::Udp {
                        auth::size_limit(q, transport)
                    } else {
                        65535
                    },
                ),
                Err(e) => {
                    // FORMERR for what does not decode: the ID is copied when there is one.
                    if let Some((h, _)) = codec::peek_header(data) {
                        assert_eq!(r.header.id, h.id, "FORMERR without the query's ID");
                    }
                    // RFC 6891 §7: a problem with the OPT record itself is answered with an OPT.
                    if matches!(
                        e,
                        DecodeError::MultipleOpt
                            | DecodeError::MisplacedOpt
                            | DecodeError::BadRdata {
                                rtype: RecordType::OPT,
                                ..
                            }
                    ) {
                        assert!(r.edns.is_some(), "FORMERR for a bad OPT without OPT: {}", hex(data));
                    }
                    assert!(wire.len() <= 512);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Differential: hickory-proto

/// Types hickory-proto 0.26 interprets (and validates) that our codec keeps opaque (RFC 3597).
const HICKORY_INTERPRETS: &[u16] = &[10, 13, 24, 35, 37, 44, 52, 53, 61, 62, 64, 65, 250, 257, 65305];

/// Known classes of disagreement with hickory-proto 0.26, each recorded in `docs/fuzzing.md`
/// with the RFC clause that decides it. Returns the class an input falls in, if any.
fn known_class(
    data: &[u8],
    ours: &Result<Message, DecodeError>,
    theirs: &Result<HMessage, String>,
) -> Option<&'static str> {
    match (ours, theirs) {
        (Ok(m), Err(e)) => {
            let records = || m.answers.iter().chain(&m.authorities).chain(&m.additionals);
            let opaque = |r: &Record| matches!(&r.rdata, RData::Unknown { .. });
            if e.starts_with("IncorrectRDataLengthRead") && records().any(|r| r.rtype().0 == 0) {
                // D2: hickory reads TYPE 0 as empty; RFC 3597 §2: unknown RDATA is opaque.
                return Some("hickory-type0");
            }
            if e.starts_with("InvalidEmptyRecord")
                && records().any(|r| matches!(&r.rdata, RData::Unknown { data, .. } if data.is_empty()))
            {
                // D3: RFC 1035 §3.2.1 / RFC 3597 §2 allow RDLENGTH 0 for opaque data.
                return Some("hickory-empty-rdata");
            }
            if e.starts_with("RecordNotInAdditionalSection") {
                // D4: SIG (RFC 2535 §4) may answer a query; only SIG(0)/TSIG must be last.
                return Some("hickory-sig-placement");
            }
            if e.starts_with("UnknownRecordTypeValue") && records().any(|r| (128..=255).contains(&r.rtype().0)) {
                // D5: a QTYPE (RFC 1035 §3.2.3) as the TYPE of a record: we keep it opaque.
                return Some("qtype-as-record-type");
            }
            if e.starts_with("LabelOverlapsWithOther") {
                // D7: a pointer into the middle of an earlier label's octets. RFC 1035 §4.1.4
                // means a prior occurrence of a name; we follow it (bounded), hickory refuses.
                return Some("pointer-into-label");
            }
            if records().any(|r| opaque(r) && HICKORY_INTERPRETS.contains(&r.rtype().0))
                || m.edns.as_ref().is_some_and(|e| !e.options.is_empty())
            {
                // D1: hickory validates RDATA / EDNS options we keep opaque (RFC 3597 §3,
                // RFC 6891 §6.1.2).
                return Some("hickory-validates-opaque");
            }
            None
        }
        (Err(DecodeError::BadPointer { target, .. }), Ok(_)) if *target < codec::HEADER_LEN => {
            // D6: RFC 1035 §4.1.4: a pointer names a prior occurrence of a name, never the header.
            Some("pointer-into-header")
        }
        (Err(DecodeError::BadRdata { rtype, .. }), Ok(_)) if *rtype == RecordType::OPT => {
            // D8: an OPT record whose options overrun its RDATA (RFC 6891 §6.1.2): we refuse
            // the message (FORMERR), hickory drops the options and goes on.
            Some("hickory-drops-malformed-options")
        }
        (Err(DecodeError::BadRdata { at, .. }), Ok(t))
            if u8::from(t.metadata.op_code) == 5 && at.checked_sub(2).and_then(|i| data.get(i..*at)) == Some(&[0, 0][..]) =>
        {
            // F1's remainder (docs/fuzzing.md, F1): in an UPDATE, RDLENGTH 0 is for CLASS ANY
            // and NONE (RFC 2136 §2.4.1, §2.4.3, §2.5.2-§2.5.4), which we take; with the zone's
            // or another class an RR carries RDATA (§2.4.2, §2.5.1), so we refuse it, hickory
            // takes any empty RDATA in an UPDATE.
            Some("hickory-empty-rdata-in-update")
        }
        _ => None,
    }
}

/// Our decoder and hickory-proto's on the same bytes: both accept or both refuse, and what
/// both accept has the same header, questions, sections, and RDATA for the types we know.
pub fn diff_hickory(data: &[u8]) {
    let ours = codec::decode(data);
    let theirs = HMessage::from_vec(data).map_err(|e| format!("{e:?}"));
    match (&ours, &theirs) {
        (Ok(o), Ok(t)) => compare(o, t, data),
        (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => disagree(
            known_class(data, &ours, &theirs),
            &format!("hickory refuses: {}", e.split(['(', ' ']).next().unwrap_or("")),
            || format!("we accept {}, hickory refuses: {e}", hex(data)),
        ),
        (Err(e), Ok(_)) => disagree(
            known_class(data, &ours, &theirs),
            format!("we refuse: {e:?}").split(['{', '(']).next().unwrap_or(""),
            || format!("hickory accepts {}, we refuse: {e}", hex(data)),
        ),
    }
}

fn labels_eq(ours: &Name, theirs: &hickory_proto::rr::Name) -> bool {
    let a: Vec<Vec<u8>> = ours.labels().map(|l| l.to_ascii_lowercase()).collect();
    let b: Vec<Vec<u8>> = theirs.iter().map(|l| l.to_ascii_lowercase()).collect();
    a == b
}

/// A field both decoders read differently.
fn differ(class: &str, data: &[u8], detail: impl FnOnce() -> String) {
    disagree(None, class, || format!("{} ({})", detail(), hex(data)));
}

fn compare(o: &Message, t: &HMessage, data: &[u8]) {
    let m = &t.metadata;
    let h = &o.header;
    if h.id != m.id || h.qr != (m.message_type == MessageType::Response) || h.opcode != u8::from(m.op_code) {
        differ("header", data, || format!("{h:?} vs {m:?}"));
    }
    if (h.aa, h.tc, h.rd, h.ra, h.ad, h.cd)
        != (
            m.authoritative,
            m.truncation,
            m.recursion_desired,
            m.recursion_available,
            m.authentic_data,
            m.checking_disabled,
        )
    {
        differ("flags", data, || format!("{h:?} vs {m:?}"));
    }
    if h.rcode != u16::from(m.response_code) {
        differ("rcode", data, || format!("{} vs {:?}", h.rcode, m.response_code));
    }
    if o.questions.len() != t.queries.len() {
        return differ("qdcount", data, || {
            format!("{} vs {}", o.questions.len(), t.queries.len())
        });
    }
    for (q, tq) in o.questions.iter().zip(&t.queries) {
        if !labels_eq(&q.name, &tq.name) {
            differ("qname", data, || format!("{} vs {}", q.name, tq.name));
        }
        if q.qtype.0 != u16::from(tq.query_type) || q.qclass.0 != u16::from(tq.query_class) {
            differ("qtype-qclass", data, || format!("{q:?} vs {tq:?}"));
        }
    }
    for (ours, theirs, section) in [
        (&o.answers, &t.answers, "answer"),
        (&o.authorities, &t.authorities, "authority"),
        (&o.additionals, &t.additionals, "additional"),
    ] {
        if ours.len() != theirs.len() {
            differ(&format!("{section}-count"), data, || {
                format!("{} vs {}", ours.len(), theirs.len())
            });
            continue;
        }
        for (r, tr) in ours.iter().zip(theirs) {
            compare_record(r, tr, data);
        }
    }
    match (&o.edns, &t.edns) {
        (Some(e), Some(te)) => {
            // RFC 6891 §6.2.5: a size below 512 is treated as 512; hickory stores it so.
            if (e.udp_size.max(512), e.version, e.dnssec_ok)
                != (te.max_payload().max(512), te.version(), te.flags().dnssec_ok)
            {
                differ("opt", data, || format!("{e:?} vs {te:?}"));
            }
        }
        (None, None) => {}
        (a, b) => differ("opt-presence", data, || format!("{a:?} vs {b:?}")),
    }
}

fn compare_record(r: &Record, tr: &HRecord, data: &[u8]) {
    if !labels_eq(&r.name, &tr.name) {
        differ("owner", data, || format!("{} vs {}", r.name, tr.name));
    }
    if r.rtype().0 != u16::from(tr.record_type()) || r.class.0 != u16::from(tr.dns_class) || r.ttl != tr.ttl {
        differ("type-class-ttl", data, || format!("{r:?} vs {tr:?}"));
    }
    let same = match (&r.rdata, &tr.data) {
        (RData::A(a), HRData::A(b)) => *a == b.0,
        (RData::Aaaa(a), HRData::AAAA(b)) => *a == b.0,
        (RData::Ns(a), HRData::NS(b)) => labels_eq(a, &b.0),
        (RData::Cname(a), HRData::CNAME(b)) => labels_eq(a, &b.0),
        (RData::Ptr(a), HRData::PTR(b)) => labels_eq(a, &b.0),
        (RData::Mx { preference, exchange }, HRData::MX(b)) => {
            *preference == b.preference && labels_eq(exchange, &b.exchange)
        }
        (RData::Soa(a), HRData::SOA(b)) => {
            labels_eq(&a.mname, &b.mname)
                && labels_eq(&a.rname, &b.rname)
                && (a.serial, a.refresh, a.retry, a.expire, a.minimum)
                    == (b.serial, b.refresh as u32, b.retry as u32, b.expire as u32, b.minimum)
        }
        (RData::Txt(a), HRData::TXT(b)) => a.iter().map(|s| &s[..]).eq(b.txt_data.iter().map(|s| &s[..])),
        (
            RData::Srv {
                priority,
                weight,
                port,
                target,
            },
            HRData::SRV(b),
        ) => (*priority, *weight, *port) == (b.priority, b.weight, b.port) && labels_eq(target, &b.target),
        // Types we keep opaque: hickory may interpret them; nothing to compare.
        (RData::Unknown { .. }, _) => true,
        _ => false,
    };
    if !same {
        differ(&format!("rdata-{}", r.rtype()), data, || {
            format!("{:?} vs {:?}", r.rdata, tr.data)
        });
    }
}
