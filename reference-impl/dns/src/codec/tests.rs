use super::*;
use crate::message::Opcode;

use crate::testutil::n;

fn rec(name: &str, ttl: u32, rdata: RData) -> Record {
    Record {
        name: n(name),
        class: Class::IN,
        ttl,
        rdata,
    }
}

fn sample() -> Message {
    let mut m = Message::query(4242, n("Example.TEST."), RecordType::MX);
    m.header.qr = true;
    m.header.aa = true;
    m.header.rd = true;
    m.answers = vec![
        rec(
            "Example.TEST.",
            3600,
            RData::Mx {
                preference: 10,
                exchange: n("mail.example.test."),
            },
        ),
        rec(
            "Example.TEST.",
            3600,
            RData::Mx {
                preference: 20,
                exchange: n("mail2.example.test."),
            },
        ),
    ];
    m.authorities = vec![
        rec("example.test.", 3600, RData::Ns(n("ns1.example.test."))),
        crate::testutil::example_soa(3600),
    ];
    m.additionals = vec![
        rec(
            "mail.example.test.",
            3600,
            RData::A("127.0.0.25".parse().unwrap()),
        ),
        rec(
            "mail.example.test.",
            3600,
            RData::Aaaa("::1".parse().unwrap()),
        ),
        rec(
            "txt.example.test.",
            60,
            RData::Txt(vec![b"hello world".to_vec(), b"".to_vec()]),
        ),
        rec(
            "_smtp._tcp.example.test.",
            60,
            RData::Srv {
                priority: 1,
                weight: 2,
                port: 25,
                target: n("mail.example.test."),
            },
        ),
        rec("x.example.test.", 60, RData::Ptr(n("y.example.test."))),
        rec("c.example.test.", 60, RData::Cname(n("example.test."))),
        rec(
            "u.example.test.",
            60,
            RData::Unknown {
                rtype: RecordType(65280),
                data: vec![1, 2, 3],
            },
        ),
        rec(
            "e.example.test.",
            60,
            RData::Unknown {
                rtype: RecordType(65281),
                data: vec![],
            },
        ),
    ];
    m.edns = Some(Edns {
        udp_size: 1232,
        version: 0,
        dnssec_ok: true,
        z: 0,
        options: vec![(10, vec![1; 8])],
    });
    m
}

#[test]
fn round_trip_every_type() {
    let m = sample();
    let wire = encode(&m);
    assert_eq!(decode(&wire).unwrap(), m);
    // Case is preserved through compression (RFC 4343 §4).
    let back = decode(&wire).unwrap();
    assert_eq!(back.answers[0].name.as_wire(), n("Example.TEST.").as_wire());
    assert_eq!(
        back.authorities[0].name.as_wire(),
        n("example.test.").as_wire()
    );
}

#[test]
fn compression_shrinks_and_points_backwards() {
    let mut m = Message::query(1, n("Example.TEST."), RecordType::NS);
    m.answers
        .push(rec("Example.TEST.", 60, RData::Ns(n("ns1.Example.TEST."))));
    m.answers
        .push(rec("example.test.", 60, RData::Ns(n("ns2.example.test."))));
    let wire = encode(&m);
    // header 12 + question 14+4; answer 1: pointer 2 + 10 + "ns1" 4 + pointer 2;
    // answer 2: a differently cased owner is written out (14) + 10 + "ns2" 4 + pointer 2.
    assert_eq!(wire.len(), 12 + 18 + 18 + 30);
    // The first answer's owner is a pointer to the question name at offset 12.
    assert_eq!(&wire[30..32], &[0xc0, 12]);
    assert_eq!(decode(&wire).unwrap(), m);
}

#[test]
fn srv_target_is_not_compressed() {
    let mut m = Message::query(1, n("mail.example.test."), RecordType::SRV);
    m.answers.push(rec(
        "s.example.test.",
        1,
        RData::Srv {
            priority: 0,
            weight: 0,
            port: 25,
            target: n("mail.example.test."),
        },
    ));
    let wire = encode(&m);
    let target = n("mail.example.test.");
    assert!(wire.ends_with(target.as_wire()));
}

/// RFC 1035 §4.1.4's example: F.ISI.ARPA at 20, FOO.F.ISI.ARPA with a pointer to 20, ARPA as
/// a pointer to 26, and the root.
#[test]
fn rfc1035_compression_example() {
    let mut buf = vec![0u8; 20];
    buf.extend_from_slice(&[1, b'F', 3, b'I', b'S', b'I', 4, b'A', b'R', b'P', b'A', 0]);
    buf.resize(40, 0);
    buf.extend_from_slice(&[3, b'F', b'O', b'O', 0xc0, 20]);
    buf.resize(64, 0);
    buf.extend_from_slice(&[0xc0, 26]);
    buf.resize(92, 0);
    buf.push(0);
    assert_eq!(read_name(&buf, 20).unwrap(), (n("F.ISI.ARPA."), 32));
    assert_eq!(read_name(&buf, 40).unwrap(), (n("FOO.F.ISI.ARPA."), 46));
    assert_eq!(read_name(&buf, 64).unwrap(), (n("ARPA."), 66));
    assert_eq!(read_name(&buf, 92).unwrap(), (Name::root(), 93));
}

fn header(qd: u16, an: u16, ns: u16, ar: u16) -> Vec<u8> {
    let mut v = vec![0x12, 0x34, 0x01, 0x00];
    for c in [qd, an, ns, ar] {
        v.extend_from_slice(&c.to_be_bytes());
    }
    v
}

#[test]
fn malformed_inputs_are_errors_not_panics() {
    assert_eq!(decode(&[0; 11]), Err(DecodeError::ShortHeader));
    // QDCOUNT 1 but nothing follows.
    assert_eq!(
        decode(&header(1, 0, 0, 0)),
        Err(DecodeError::Truncated { at: 12 })
    );
    // A pointer to itself: a loop.
    let mut m = header(1, 0, 0, 0);
    m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(
        decode(&m),
        Err(DecodeError::BadPointer { at: 12, target: 12 })
    );
    // A forward pointer.
    let mut m = header(1, 0, 0, 0);
    m.extend_from_slice(&[0xc0, 18, 0, 1, 0, 1, 0]);
    assert_eq!(
        decode(&m),
        Err(DecodeError::BadPointer { at: 12, target: 18 })
    );
    // Two pointers pointing at each other: the second jump is not below the first.
    let mut m = header(1, 0, 0, 0);
    m.extend_from_slice(&[1, b'a', 0xc0, 12, 0, 1, 0, 1]);
    assert!(matches!(decode(&m), Err(DecodeError::BadPointer { .. })));
    // A pointer into the header.
    let mut m = header(1, 0, 0, 0);
    m.extend_from_slice(&[0xc0, 2, 0, 1, 0, 1]);
    assert!(matches!(decode(&m), Err(DecodeError::BadPointer { .. })));
    // Extended label type 0b01.
    let mut m = header(1, 0, 0, 0);
    m.extend_from_slice(&[0x41, 0, 0, 1, 0, 1]);
    assert_eq!(decode(&m), Err(DecodeError::BadLabelType(0x41)));
    // A label running past the end.
    let mut m = header(1, 0, 0, 0);
    m.extend_from_slice(&[5, b'a', b'b']);
    assert!(matches!(decode(&m), Err(DecodeError::Truncated { .. })));
    // An A record with RDLENGTH 5.
    let mut m = header(0, 1, 0, 0);
    m.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 5, 127, 0, 0, 1, 9]);
    assert!(matches!(
        decode(&m),
        Err(DecodeError::BadRdata {
            rtype: RecordType::A,
            ..
        })
    ));
    // RDLENGTH beyond the message.
    let mut m = header(0, 1, 0, 0);
    m.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 9, 127, 0, 0, 1]);
    assert!(matches!(decode(&m), Err(DecodeError::Truncated { .. })));
    // An MX whose name runs past its RDLENGTH.
    let mut m = header(0, 1, 0, 0);
    m.extend_from_slice(&[
        0, 0, 15, 0, 1, 0, 0, 0, 1, 0, 4, 0, 10, 3, b'a', b'b', b'c', 0,
    ]);
    assert!(matches!(decode(&m), Err(DecodeError::BadRdata { .. })));
    // An empty TXT (RFC 1035 §3.3.14 needs one or more strings).
    let mut m = header(0, 1, 0, 0);
    m.extend_from_slice(&[0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 0]);
    assert!(matches!(decode(&m), Err(DecodeError::BadRdata { .. })));
}

#[test]
fn name_length_is_bounded_through_pointers() {
    // 4 labels of 63 = 256 octets with the lengths: too long even though each piece is fine.
    let mut m = header(1, 0, 0, 0);
    let label = [63u8].into_iter().chain([b'x'; 63]).collect::<Vec<_>>();
    for _ in 0..3 {
        m.extend_from_slice(&label);
    }
    m.push(0);
    let second = m.len();
    m.extend_from_slice(&label);
    m.extend_from_slice(&[0xc0, 12]);
    m.extend_from_slice(&[0, 1, 0, 1]);
    assert_eq!(read_name(&m, second), Err(DecodeError::NameTooLong));
}

#[test]
fn pointer_chains_are_bounded() {
    // 200 pointers each to the previous one, the first to a root label: legal backwards, but more
    // than MAX_POINTERS jumps.
    let mut m = header(0, 0, 0, 0);
    m.push(0);
    for i in 0..200usize {
        let target = if i == 0 { 12 } else { 13 + 2 * (i - 1) };
        m.extend_from_slice(&[0xc0 | (target >> 8) as u8, target as u8]);
    }
    let last = m.len() - 2;
    assert_eq!(read_name(&m, last), Err(DecodeError::TooManyPointers));
    assert_eq!(read_name(&m, 13).unwrap().0, Name::root());
}

#[test]
fn opt_rules() {
    let mut m = Message::query(7, n("example.test."), RecordType::A);
    m.edns = Some(Edns::default());
    let wire = encode(&m);
    // Two OPT records (RFC 6891 §6.1.1).
    let mut two = wire.clone();
    two[11] = 2;
    two.extend_from_slice(&wire[wire.len() - 11..]);
    assert_eq!(decode(&two), Err(DecodeError::MultipleOpt));
    // OPT in the answer section.
    let mut ans = wire.clone();
    ans[7] = 1;
    ans[11] = 0;
    assert_eq!(decode(&ans), Err(DecodeError::MisplacedOpt));
    // OPT with a non-root owner.
    let mut owner = wire[..wire.len() - 11].to_vec();
    owner.extend_from_slice(&[1, b'a', 0]);
    owner.extend_from_slice(&wire[wire.len() - 10..]);
    assert_eq!(decode(&owner), Err(DecodeError::MisplacedOpt));
}

#[test]
fn extended_rcode_travels_in_opt() {
    let mut m = Message::query(9, n("example.test."), RecordType::A);
    m.header.qr = true;
    m.header.rcode = 16; // BADVERS
    m.edns = Some(Edns::default());
    let wire = encode(&m);
    assert_eq!(wire[3] & 0x0f, 0);
    let back = decode(&wire).unwrap();
    assert_eq!(back.rcode(), crate::message::Rcode::BADVERS);
}

#[test]
fn header_bits_round_trip() {
    let mut m = Message::query(0xffff, n("a.test."), RecordType(65535));
    m.header = Header {
        id: 0xffff,
        qr: true,
        opcode: 15,
        aa: true,
        tc: true,
        rd: true,
        ra: true,
        z: true,
        ad: true,
        cd: true,
        rcode: 15,
    };
    assert_eq!(decode(&encode(&m)).unwrap(), m);
    assert_eq!(Opcode(m.header.opcode).to_string(), "RESERVED15");
}

#[test]
fn tcp_framing() {
    assert_eq!(tcp_frame(&[]), None);
    assert_eq!(tcp_frame(&[0]), None);
    assert_eq!(tcp_frame(&[0, 3, 1, 2]), None);
    assert_eq!(tcp_frame(&[0, 3, 1, 2, 3, 9]), Some((5, &[1u8, 2, 3][..])));
    assert_eq!(tcp_frame(&[0, 0, 7]), Some((2, &[][..])));
}

#[test]
fn truncation_to_a_limit() {
    let mut m = Message::query(1, n("big.example.test."), RecordType::TXT);
    m.header.qr = true;
    for i in 0..10u8 {
        m.answers.push(rec(
            "big.example.test.",
            60,
            RData::Txt(vec![vec![b'a' + i; 100]]),
        ));
    }
    m.edns = Some(Edns::default());
    let mut out = Vec::new();
    assert!(encode_into(&m, 512, &mut out));
    assert!(out.len() <= 512);
    let back = decode(&out).unwrap();
    assert!(back.header.tc);
    assert!(back.answers.is_empty());
    assert_eq!(back.questions, m.questions);
    assert!(back.edns.is_some(), "OPT kept (RFC 6891 §7)");
    // Additional records that do not fit are dropped without TC.
    let mut m2 = Message::query(1, n("x.example.test."), RecordType::A);
    m2.answers.push(rec(
        "x.example.test.",
        60,
        RData::A("127.0.0.1".parse().unwrap()),
    ));
    for i in 0..10u8 {
        m2.additionals.push(rec(
            "big.example.test.",
            60,
            RData::Txt(vec![vec![b'a' + i; 100]]),
        ));
    }
    assert!(!encode_into(&m2, 512, &mut out));
    let back = decode(&out).unwrap();
    assert!(!back.header.tc);
    assert_eq!(back.answers.len(), 1);
    assert!(back.additionals.len() < 10 && out.len() <= 512);
}

/// Decode is total: random and mutated inputs never panic (a cheap stand-in for the fuzz target).
#[test]
fn decode_never_panics_on_mutations() {
    let base = encode(&sample());
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let mut m = base.clone();
        for _ in 0..(next() % 8 + 1) {
            let i = (next() as usize) % m.len();
            m[i] = next() as u8;
        }
        let cut = (next() as usize) % (m.len() + 1);
        if let Ok(msg) = decode(&m[..cut]) {
            // Whatever decodes re-encodes to something that decodes to the same message.
            assert_eq!(decode(&encode(&msg)).unwrap(), msg);
        }
    }
}

#[test]
fn decode_rdata_generic() {
    assert_eq!(
        decode_rdata(RecordType::A, &[127, 0, 0, 1]),
        Some(RData::A("127.0.0.1".parse().unwrap()))
    );
    assert_eq!(decode_rdata(RecordType::A, &[127, 0, 0]), None);
    assert_eq!(decode_rdata(RecordType::NS, &[0xc0, 12]), None);
}

/// RFC 2136 §2.4.1, §2.4.3, §2.5.2: CLASS ANY / NONE records with RDLENGTH 0 decode (as empty
/// RDATA) and encode back to the same octets; CLASS IN with RDLENGTH 0 is still malformed for A.
#[test]
fn empty_rdata_with_class_any_or_none() {
    for class in [255u16, 254] {
        let mut wire = vec![0, 1, 0x28, 0, 0, 0, 0, 0, 0, 1, 0, 0];
        wire.extend_from_slice(b"\x03www\x07example\x04test\x00\x00\x01");
        wire.extend_from_slice(&class.to_be_bytes());
        wire.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let m = decode(&wire).unwrap();
        let r = &m.authorities[0];
        assert_eq!((r.rtype(), r.class), (RecordType::A, Class(class)));
        assert_eq!(
            r.rdata,
            RData::Unknown {
                rtype: RecordType::A,
                data: Vec::new()
            }
        );
        assert_eq!(encode(&m), wire);
        let last = wire.len() - 8;
        wire[last..last + 2].copy_from_slice(&1u16.to_be_bytes());
        assert!(matches!(decode(&wire), Err(DecodeError::BadRdata { .. })));
    }
}
