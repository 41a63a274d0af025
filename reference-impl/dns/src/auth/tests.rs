use super::*;
use crate::presentation::{parse_query, render};
use crate::testutil::n;
use crate::zone::example_test_zone;

fn zones() -> Zones {
    let big: String = (0..14)
        .map(|i| format!("big TXT \"{}\"\n", "x".repeat(50 + i)))
        .collect();
    let extra = Zone::parse(
        &format!(
            "$ORIGIN z.test.\n$TTL 60\n\
             @ SOA ns.z.test. hm.z.test. 7 1 1 1 30\n\
             @ NS ns\n\
             ns A 127.0.0.31\n\
             child NS ns.child\n\
             child NS ns.other.test.\n\
             ns.child A 127.0.0.32\n\
             *.wild A 127.0.0.33\n\
             *.wild MX 5 mx\n\
             mx A 127.0.0.34\n\
             *.cn CNAME target\n\
             target TXT \"t\"\n\
             a.b.ent A 127.0.0.35\n\
             loop1 CNAME loop2\n\
             loop2 CNAME loop1\n\
             out CNAME www.example.test.\n\
             dangling CNAME nothing\n\
             tochild CNAME host.child\n\
             _smtp._tcp SRV 0 1 25 mx\n\
             {big}"
        ),
        None,
    )
    .unwrap();
    [example_test_zone(), extra].into_iter().collect()
}

fn ask(q: &str) -> Message {
    let query = parse_query(q).unwrap();
    answer(&zones(), &query, Transport::Udp).unwrap()
}

fn answers(m: &Message) -> Vec<String> {
    m.answers
        .iter()
        .map(crate::presentation::render_record)
        .collect()
}

#[test]
fn positive_answer_is_authoritative_with_additional_addresses() {
    let r = ask("example.test. MX +rd id=4242");
    assert!(r.header.qr && r.header.aa && r.header.rd && !r.header.ra);
    assert_eq!(r.header.id, 4242);
    assert_eq!(r.rcode(), Rcode::NOERROR);
    assert_eq!(
        answers(&r),
        [
            "example.test.\t3600\tIN\tMX\t10 mail.example.test.",
            "example.test.\t3600\tIN\tMX\t20 mail2.example.test."
        ]
    );
    assert!(r.authorities.is_empty());
    let add: Vec<String> = r
        .additionals
        .iter()
        .map(crate::presentation::render_record)
        .collect();
    assert_eq!(
        add,
        [
            "mail.example.test.\t3600\tIN\tA\t127.0.0.25",
            "mail.example.test.\t3600\tIN\tAAAA\t::1",
            "mail2.example.test.\t3600\tIN\tA\t127.0.0.26"
        ]
    );
}

#[test]
fn case_of_the_query_is_kept() {
    let r = ask("ExAmPlE.TeSt. A");
    assert_eq!(r.questions[0].name.to_string(), "ExAmPlE.TeSt.");
    assert_eq!(answers(&r), ["ExAmPlE.TeSt.\t3600\tIN\tA\t127.0.0.10"]);
}

#[test]
fn nxdomain_and_nodata_carry_the_soa() {
    let r = ask("nope.example.test. A");
    assert_eq!(r.rcode(), Rcode::NXDOMAIN);
    assert!(r.header.aa && r.answers.is_empty());
    assert_eq!(
        r.authorities
            .iter()
            .map(crate::presentation::render_record)
            .collect::<Vec<_>>(),
        [
            "example.test.\t300\tIN\tSOA\tns1.example.test. hostmaster.example.test. 2024010101 3600 900 604800 300"
        ]
    );
    let r = ask("mail2.example.test. AAAA");
    assert_eq!(r.rcode(), Rcode::NOERROR);
    assert!(r.answers.is_empty());
    assert_eq!(r.authorities.len(), 1);
    assert_eq!(r.authorities[0].rtype(), RecordType::SOA);
}

#[test]
fn cname_chain_is_followed_inside_the_zone() {
    let r = ask("ftp.example.test. A");
    assert_eq!(
        answers(&r),
        [
            "ftp.example.test.\t3600\tIN\tCNAME\twww.example.test.",
            "www.example.test.\t3600\tIN\tCNAME\texample.test.",
            "example.test.\t3600\tIN\tA\t127.0.0.10"
        ]
    );
    // Asking for the CNAME itself does not follow it.
    assert_eq!(
        answers(&ask("ftp.example.test. CNAME")),
        ["ftp.example.test.\t3600\tIN\tCNAME\twww.example.test."]
    );
    // A chain to a name that does not exist: NXDOMAIN for the last name (RFC 6604).
    let r = ask("dangling.z.test. A");
    assert_eq!(r.rcode(), Rcode::NXDOMAIN);
    assert_eq!(r.answers.len(), 1);
    // Loops end.
    let r = ask("loop1.z.test. A");
    assert_eq!(r.answers.len(), 2);
    assert_eq!(r.rcode(), Rcode::NOERROR);
    // Out of the zone: not followed (another zone of ours is not consulted either).
    assert_eq!(ask("out.z.test. A").answers.len(), 1);
}

#[test]
fn delegation_is_a_referral_with_glue() {
    for q in [
        "child.z.test. A",
        "deep.host.child.z.test. MX",
        "child.z.test. NS",
    ] {
        let r = ask(q);
        assert!(!r.header.aa, "{q}");
        assert_eq!(r.rcode(), Rcode::NOERROR);
        assert!(r.answers.is_empty());
        let auth: Vec<String> = r
            .authorities
            .iter()
            .map(crate::presentation::render_record)
            .collect();
        assert_eq!(
            auth,
            [
                "child.z.test.\t60\tIN\tNS\tns.child.z.test.",
                "child.z.test.\t60\tIN\tNS\tns.other.test."
            ]
        );
        assert_eq!(
            answers(&Message {
                answers: r.additionals.clone(),
                ..Message::default()
            }),
            ["ns.child.z.test.\t60\tIN\tA\t127.0.0.32"]
        );
    }
    // A CNAME into the delegation: the CNAME alone.
    let r = ask("tochild.z.test. A");
    assert!(r.header.aa);
    assert_eq!(r.answers.len(), 1);
}

#[test]
fn wildcards_synthesise_and_empty_non_terminals_exist() {
    let r = ask("Anything.wild.z.test. A");
    assert_eq!(
        answers(&r),
        ["Anything.wild.z.test.\t60\tIN\tA\t127.0.0.33"]
    );
    let r = ask("x.wild.z.test. MX");
    assert_eq!(answers(&r), ["x.wild.z.test.\t60\tIN\tMX\t5 mx.z.test."]);
    assert_eq!(r.additionals.len(), 1);
    // Wildcard NODATA.
    let r = ask("x.wild.z.test. TXT");
    assert_eq!(
        (r.rcode(), r.answers.len(), r.authorities.len()),
        (Rcode::NOERROR, 0, 1)
    );
    // Wildcard CNAME followed.
    assert_eq!(answers(&ask("q.cn.z.test. TXT")).len(), 2);
    // An empty non-terminal is NODATA, not NXDOMAIN; below it, NXDOMAIN.
    let r = ask("b.ent.z.test. A");
    assert_eq!((r.rcode(), r.answers.len()), (Rcode::NOERROR, 0));
    assert_eq!(ask("c.b.ent.z.test. A").rcode(), Rcode::NXDOMAIN);
    // The wildcard owner itself matches literally.
    assert_eq!(answers(&ask("*.wild.z.test. A")).len(), 1);
}

#[test]
fn srv_and_any() {
    let r = ask("_smtp._tcp.z.test. SRV");
    assert_eq!(
        answers(&r),
        ["_smtp._tcp.z.test.\t60\tIN\tSRV\t0 1 25 mx.z.test."]
    );
    assert_eq!(r.additionals.len(), 1);
    assert_eq!(ask("_tcp.z.test. A").rcode(), Rcode::NOERROR);
    let r = ask("example.test. ANY");
    assert_eq!(r.answers.len(), 8);
}

#[test]
fn refused_formerr_notimp_badvers() {
    assert_eq!(ask("example.org. A").rcode(), Rcode::REFUSED);
    assert_eq!(ask("example.test. A class=CH").rcode(), Rcode::REFUSED);
    assert_eq!(ask("example.test. A class=ANY").rcode(), Rcode::NOERROR);
    let r = ask("example.test. SOA opcode=NOTIFY");
    assert_eq!(r.rcode(), Rcode::NOTIMP);
    assert_eq!(r.questions.len(), 1);
    assert_eq!(ask("example.test. A opcode=UPDATE").rcode(), Rcode::NOTIMP);
    assert_eq!(ask("example.test. A opcode=3").rcode(), Rcode::NOTIMP);
    let r = ask("example.test. A edns=1 +do");
    assert_eq!(r.rcode(), Rcode::BADVERS);
    let e = r.edns.as_ref().unwrap();
    assert_eq!(
        (e.version, e.dnssec_ok, e.udp_size),
        (0, true, EDNS_UDP_SIZE)
    );
    assert!(r.answers.is_empty());
    assert_eq!(ask("example.test. OPT").rcode(), Rcode::FORMERR);
    assert_eq!(ask("example.test. TYPE253").rcode(), Rcode::NOTIMP);
    // QDCOUNT 0 and 2.
    let mut q = parse_query("example.test. A id=5").unwrap();
    q.questions.clear();
    let r = answer(&zones(), &q, Transport::Udp).unwrap();
    assert_eq!((r.rcode(), r.header.id), (Rcode::FORMERR, 5));
    q.questions = vec![parse_query("a.example.test.").unwrap().questions.remove(0); 2];
    assert_eq!(
        answer(&zones(), &q, Transport::Udp).unwrap().rcode(),
        Rcode::FORMERR
    );
    // Responses are not answered.
    assert!(
        answer(
            &zones(),
            &parse_query("example.test. A +qr").unwrap(),
            Transport::Udp
        )
        .is_none()
    );
}

#[test]
fn wire_level_formerr_and_silence() {
    let z = zones();
    let mut out = Vec::new();
    // A compression loop in the question: FORMERR with the id, no question.
    let raw = [
        0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1,
    ];
    assert!(respond_into(&z, &raw, Transport::Udp, &mut out));
    let r = codec::decode(&out).unwrap();
    assert_eq!(
        (r.header.id, r.rcode(), r.header.qr, r.header.rd),
        (0xabcd, Rcode::FORMERR, true, true)
    );
    assert!(r.questions.is_empty() && r.edns.is_none());
    // Two OPT records: FORMERR with an OPT (RFC 6891 §6.1.1, §7).
    let mut q = codec::encode(&parse_query("example.test. A edns=0").unwrap());
    let opt = q[q.len() - 11..].to_vec();
    q[11] = 2;
    q.extend_from_slice(&opt);
    assert!(respond_into(&z, &q, Transport::Udp, &mut out));
    let r = codec::decode(&out).unwrap();
    assert_eq!(r.rcode(), Rcode::FORMERR);
    assert!(r.edns.is_some());
    // Fewer than 12 octets, or a response: nothing.
    assert!(!respond_into(&z, &[1, 2, 3], Transport::Udp, &mut out));
    let mut resp = raw;
    resp[2] |= 0x80;
    assert!(!respond_into(&z, &resp, Transport::Udp, &mut out));
}

#[test]
fn udp_truncation_and_tcp_full_answer() {
    let z = zones();
    let q = codec::encode(&parse_query("big.z.test. TXT id=9").unwrap());
    let mut out = Vec::new();
    assert!(respond_into(&z, &q, Transport::Udp, &mut out));
    let r = codec::decode(&out).unwrap();
    assert!(r.header.tc && r.answers.is_empty() && out.len() <= 512);
    // With EDNS 1232 it fits.
    let q2 = codec::encode(&parse_query("big.z.test. TXT id=9 bufsize=1232").unwrap());
    assert!(respond_into(&z, &q2, Transport::Udp, &mut out));
    let r = codec::decode(&out).unwrap();
    assert!(!r.header.tc && r.answers.len() == 14);
    // A bufsize under 512 counts as 512 (RFC 6891 §6.2.5).
    let q3 = codec::encode(&parse_query("example.test. MX bufsize=100").unwrap());
    assert!(respond_into(&z, &q3, Transport::Udp, &mut out));
    let r = codec::decode(&out).unwrap();
    assert!(out.len() > 100 && !r.header.tc && r.answers.len() == 2);
    // Over TCP, the whole answer.
    let all = respond(&z, &q, Transport::Tcp);
    assert_eq!(codec::decode(&all[0]).unwrap().answers.len(), 14);
}

#[test]
fn axfr_over_tcp_only() {
    let z = zones();
    let q = codec::encode(&parse_query("example.test. AXFR id=77").unwrap());
    let msgs = respond(&z, &q, Transport::Tcp);
    assert_eq!(msgs.len(), 1);
    let m = codec::decode(&msgs[0]).unwrap();
    assert!(m.header.aa);
    assert_eq!(m.answers.len(), 17);
    assert_eq!(m.answers.first().unwrap().rtype(), RecordType::SOA);
    assert_eq!(m.answers.last().unwrap().rtype(), RecordType::SOA);
    let udp = codec::decode(&respond(&z, &q, Transport::Udp)[0]).unwrap();
    assert_eq!(udp.rcode(), Rcode::FORMERR);
    let not_apex = codec::encode(&parse_query("www.example.test. AXFR").unwrap());
    assert_eq!(
        codec::decode(&respond(&z, &not_apex, Transport::Tcp)[0])
            .unwrap()
            .rcode(),
        Rcode::NOTAUTH
    );
    // IXFR over UDP: the SOA alone.
    let ixfr = codec::encode(&parse_query("example.test. IXFR").unwrap());
    let r = codec::decode(&respond(&z, &ixfr, Transport::Udp)[0]).unwrap();
    assert_eq!(r.answers.len(), 1);
    // A big zone is split; the question only in the first message.
    let mut text = String::from("$TTL 60\nbig.test. SOA a.big.test. b.big.test. 1 1 1 1 1\n");
    for i in 0..2000 {
        text.push_str(&format!("h{i}.big.test. A 127.0.1.{}\n", i % 250));
    }
    let big: Zones = [Zone::parse(&text, None).unwrap()].into_iter().collect();
    let msgs = respond(
        &big,
        &codec::encode(&parse_query("big.test. AXFR").unwrap()),
        Transport::Tcp,
    );
    assert!(msgs.len() > 1);
    let decoded: Vec<Message> = msgs.iter().map(|m| codec::decode(m).unwrap()).collect();
    assert_eq!(decoded.iter().map(|m| m.answers.len()).sum::<usize>(), 2002);
    assert_eq!(decoded[1].questions.len(), 0);
    assert!(msgs.iter().all(|m| m.len() < 65535));
}

#[test]
fn renders_like_the_transcripts_expect() {
    let text = render(&ask("example.test. MX +rd id=4242 edns=0 bufsize=1232 +do"));
    assert!(text.starts_with(";; opcode: QUERY, status: NOERROR, id: 4242\n;; flags: qr aa rd; QUERY: 1, ANSWER: 2, AUTHORITY: 0, ADDITIONAL: 4\n"), "{text}");
    assert!(text.contains("\nexample.test.\t3600\tIN\tMX\t10 mail.example.test.\n"));
    let _ = n("x.");
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Fuzz finding F1 (docs/fuzzing.md): an UPDATE is NOTIMP, whatever its sections hold.
#[test]
fn update_is_notimp_before_its_sections_are_read() {
    // RFC 2136 §2.5.2 "delete an RRset": CLASS ANY, TYPE A, RDLENGTH 0 (fuzz/regressions/dns_*/F1).
    let f1 = unhex(
        "000128000001000000010000076578616d706c650474657374000006000103777777c00c000100ff000000000000",
    );
    // The same UPDATE with its last record cut short: the sections do not decode at all.
    let cut = f1.get(..f1.len() - 3).unwrap().to_vec();
    // Opcode 3 (unassigned), one question, then garbage where the question's name should end.
    let other = unhex("abcd1800000100000000000003777777ff");
    for (what, raw, opcode) in [("F1", &f1, 5), ("cut", &cut, 5), ("opcode 3", &other, 3)] {
        for transport in [Transport::Udp, Transport::Tcp] {
            let out = respond(&zones(), raw, transport);
            let [wire] = out.as_slice() else {
                panic!("{what}: {} responses", out.len())
            };
            let r = codec::decode(wire).unwrap();
            assert_eq!(r.rcode(), Rcode::NOTIMP, "{what} over {transport:?}");
            assert_eq!((r.header.opcode, r.header.qr), (opcode, true), "{what}");
            assert_eq!(r.header.id, codec::peek_header(raw).unwrap().0.id);
        }
    }
    // A response with another opcode is still never answered (RFC 1035 §7.3).
    let mut resp = cut.clone();
    resp[2] |= 0x80;
    assert!(respond(&zones(), &resp, Transport::Udp).is_empty());
    // A malformed QUERY is still a format error.
    let mut query = cut;
    query[2] &= !0x78;
    let out = respond(&zones(), &query, Transport::Udp);
    assert_eq!(codec::decode(&out[0]).unwrap().rcode(), Rcode::FORMERR);
}
