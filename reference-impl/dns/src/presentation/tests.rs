use super::*;
use crate::codec;
use crate::message::RData;

#[test]
fn query_line_with_every_option() {
    let q = parse_query("example.test. MX +rd id=4242 edns=0 bufsize=1232 +do").unwrap();
    assert_eq!(q.header.id, 4242);
    assert!(q.header.rd && !q.header.qr && !q.header.cd);
    let question = q.question().unwrap();
    assert_eq!(question.name, Name::parse("example.test.").unwrap());
    assert_eq!(question.qtype, RecordType::MX);
    assert_eq!(question.qclass, Class::IN);
    let e = q.edns.as_ref().unwrap();
    assert_eq!((e.version, e.udp_size, e.dnssec_ok), (0, 1232, true));

    let q = parse_query(
        "version.bind TXT CH +cd +ad opcode=NOTIFY ednsopt=10:0102 ednsopt=3 ednsflags=0x5",
    )
    .unwrap();
    assert_eq!(q.question().unwrap().qclass, Class::CH);
    assert_eq!(q.header.opcode, 4);
    assert!(q.header.cd && q.header.ad);
    assert_eq!(
        q.edns.as_ref().unwrap().options,
        vec![(10, vec![1, 2]), (3, vec![])]
    );
    assert_eq!(q.edns.as_ref().unwrap().z, 5);

    let q = parse_query("www.example.test.").unwrap();
    assert_eq!(q.question().unwrap().qtype, RecordType::A);
    assert_eq!(q.header.id, 0);
    assert!(q.edns.is_none() && !q.header.rd);
    assert_eq!(
        parse_query("x. TYPE65280 class=CLASS3 opcode=9 edns=1")
            .unwrap()
            .header
            .opcode,
        9
    );
    assert_eq!(
        parse_query("x. TYPE65280")
            .unwrap()
            .question()
            .unwrap()
            .qtype,
        RecordType(65280)
    );

    assert_eq!(parse_query("  "), Err(PresentationError::Empty));
    assert!(parse_query("a..b MX").is_err());
    assert!(parse_query("a. +bogus").is_err());
    assert!(parse_query("a. id=70000").is_err());
    assert!(parse_query("a. opcode=16").is_err());
    assert!(parse_query("a. WHAT").is_err());
}

fn answer() -> Message {
    let mut m = parse_query("example.test. MX +rd id=4242 edns=0 bufsize=1232 +do").unwrap();
    m.header.qr = true;
    m.header.aa = true;
    let n = |s: &str| Name::parse(s).unwrap();
    m.answers = vec![
        Record {
            name: n("example.test."),
            class: Class::IN,
            ttl: 3600,
            rdata: RData::Mx {
                preference: 10,
                exchange: n("mail.example.test."),
            },
        },
        Record {
            name: n("example.test."),
            class: Class::IN,
            ttl: 3600,
            rdata: RData::Mx {
                preference: 20,
                exchange: n("mail2.example.test."),
            },
        },
    ];
    m.authorities = vec![crate::testutil::example_soa(300)];
    m.additionals = vec![
        Record {
            name: n("txt.example.test."),
            class: Class::IN,
            ttl: 3600,
            rdata: RData::Txt(vec![b"hello world".to_vec(), b"second \"string\"".to_vec()]),
        },
        Record {
            name: n("u.example.test."),
            class: Class(3),
            ttl: 0,
            rdata: RData::Unknown {
                rtype: RecordType(65280),
                data: vec![0xab, 0xcd],
            },
        },
    ];
    m
}

#[test]
fn render_is_dig_shaped() {
    let text = render(&answer());
    let expected = "\
;; opcode: QUERY, status: NOERROR, id: 4242
;; flags: qr aa rd; QUERY: 1, ANSWER: 2, AUTHORITY: 1, ADDITIONAL: 3
;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags: do; udp: 1232
;; QUESTION SECTION:
;example.test.\t\tIN\tMX
;; ANSWER SECTION:
example.test.\t3600\tIN\tMX\t10 mail.example.test.
example.test.\t3600\tIN\tMX\t20 mail2.example.test.
;; AUTHORITY SECTION:
example.test.\t300\tIN\tSOA\tns1.example.test. hostmaster.example.test. 2024010101 3600 900 604800 300
;; ADDITIONAL SECTION:
txt.example.test.\t3600\tIN\tTXT\t\"hello world\" \"second \\\"string\\\"\"
u.example.test.\t0\tCH\tTYPE65280\t\\# 2 ABCD
";
    assert_eq!(text, expected);
}

#[test]
fn render_no_flags_and_edns_details() {
    let mut m = parse_query("a.test. A edns=1 ednsflags=0x0005 ednsopt=10:0102").unwrap();
    m.header.rcode = 16;
    let text = render(&m);
    assert!(text.starts_with(";; opcode: QUERY, status: BADVERS, id: 0\n;; flags:; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1\n"), "{text}");
    assert!(
        text.contains("; EDNS: version: 1, flags:; MBZ: 0x0005, udp: 1232\n; OPT=10: 0102\n"),
        "{text}"
    );
}

#[test]
fn parse_message_inverts_render() {
    for m in [
        answer(),
        parse_query("a.test. A edns=1 ednsflags=0x0005 ednsopt=10:0102 +cd opcode=5").unwrap(),
        Message::default(),
    ] {
        let text = render(&m);
        assert_eq!(parse_message(&text).unwrap(), m, "{text}");
        // And through the wire.
        assert_eq!(codec::decode(&codec::encode(&m)).unwrap(), m);
    }
    // Counts, opcode and flags lines are optional; blank lines are ignored.
    let m = parse_message(
        ";; flags: qr aa\n\n;; ANSWER SECTION:\nwww.example.test. 60 IN A 127.0.0.10\n",
    )
    .unwrap();
    assert!(m.header.qr && m.header.aa);
    assert_eq!(m.answers.len(), 1);
    assert!(parse_message(";; ANSWER SECTION:\nwww.example.test. 60 IN A nope\n").is_err());
    assert!(parse_message("garbage\n").is_err());
}

#[test]
fn hex() {
    assert_eq!(
        parse_hex("0001 0000\n ab CD").unwrap(),
        vec![0, 1, 0, 0, 0xab, 0xcd]
    );
    assert!(parse_hex("abc").is_err());
    assert!(parse_hex("zz").is_err());
    assert_eq!(parse_hex("").unwrap(), Vec::<u8>::new());
}

#[test]
fn record_lines() {
    let r = parse_record("ftp.example.test.\t3600\tIN\tCNAME\twww.example.test.").unwrap();
    assert_eq!(
        render_record(&r),
        "ftp.example.test.\t3600\tIN\tCNAME\twww.example.test."
    );
}

#[test]
fn query_line_with_records_for_the_server_role() {
    let m = parse_query(
        "example.test. MX +qr +aa id=7 rcode=NOERROR ; answer example.test. 3600 IN MX 10 mail.example.test. \
         ; ns example.test. 3600 IN NS ns1.example.test. ; additional txt.test. 60 IN TXT \"a;b\" \"c\\\"d;\"",
    )
    .unwrap();
    assert!(m.header.qr && m.header.aa);
    assert_eq!(
        (m.answers.len(), m.authorities.len(), m.additionals.len()),
        (1, 1, 1)
    );
    assert_eq!(
        m.additionals[0].rdata,
        RData::Txt(vec![b"a;b".to_vec(), b"c\"d;".to_vec()])
    );
    assert_eq!(
        render_record(&m.answers[0]),
        "example.test.\t3600\tIN\tMX\t10 mail.example.test."
    );
    assert!(parse_query("a. ; bogus a. 1 IN A 127.0.0.1").is_err());
    assert!(parse_query("a. ; answer a. 1 IN A nope").is_err());
    let nx = parse_query("nope.test. A +qr id=1 rcode=NXDOMAIN ; authority test. 60 IN SOA a.test. b.test. 1 2 3 4 5").unwrap();
    assert_eq!((nx.rcode(), nx.authorities.len()), (Rcode::NXDOMAIN, 1));
}

/// The text parsers are total too: random lines built from the grammar's own characters never
/// panic (a cheap stand-in for a fuzz target).
#[test]
fn text_parsers_never_panic() {
    let alphabet: Vec<char> = "aZ09.;\\\"()@$*+= \t\n-:#xTYPE1CLASS"
        .chars()
        .chain(['é', '\u{0}'])
        .collect();
    let mut seed: u64 = 0x2545f4914f6cdd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let seeds = [
        "example.test. MX +rd id=1 edns=0 ; answer example.test. 60 IN MX 10 mail.example.test.",
        ";; opcode: QUERY, status: NOERROR, id: 1\n;; flags: qr\n;; ANSWER SECTION:\na. 1 IN TXT \"x\"\n",
        "$ORIGIN a.test.\n$TTL 60\n@ SOA ns hm ( 1 2 3 4 5 )\nb TXT \"q\\\"\" \\# 0\n",
    ];
    for _ in 0..5_000 {
        let base = seeds[(next() % 3) as usize];
        let mut chars: Vec<char> = base.chars().collect();
        for _ in 0..(next() % 6 + 1) {
            let i = (next() as usize) % (chars.len() + 1);
            let c = alphabet[(next() as usize) % alphabet.len()];
            if next() % 2 == 0 && i < chars.len() {
                chars[i] = c;
            } else {
                chars.insert(i, c);
            }
        }
        let text: String = chars.into_iter().collect();
        if let Ok(m) = parse_query(&text) {
            // Whatever parses renders and reads back.
            assert_eq!(parse_message(&render(&m)).unwrap(), m, "{text:?}");
        }
        let _ = parse_message(&text);
        let _ = crate::zone::Zone::parse(&text, None);
        let _ = parse_hex(&text);
    }
}
