use super::*;
use crate::testutil::n;

#[test]
fn example_zone_loads_with_everything_the_peers_serve() {
    let z = example_test_zone();
    assert_eq!(z.origin(), &n("example.test."));
    assert_eq!(z.records().len(), 16);
    assert_eq!(z.records()[0].rtype(), RecordType::SOA);
    assert_eq!(z.soa_data().unwrap().minimum, 300);
    let apex = z.node(&n("EXAMPLE.test.")).unwrap();
    assert_eq!(apex.rrset(RecordType::MX).unwrap().records.len(), 2);
    assert_eq!(apex.rrset(RecordType::NS).unwrap().records.len(), 2);
    let ftp = z.node(&n("ftp.example.test.")).unwrap();
    assert_eq!(
        ftp.rrset(RecordType::CNAME).unwrap().records[0].rdata,
        RData::Cname(n("www.example.test."))
    );
    let txt = z.node(&n("txt.example.test.")).unwrap();
    assert_eq!(
        txt.rrset(RecordType::TXT).unwrap().records[0].rdata,
        RData::Txt(vec![b"hello world".to_vec(), b"second string".to_vec()])
    );
    assert!(z.records().iter().all(|r| r.ttl == 3600));
}

#[test]
fn master_file_syntax() {
    let text = "\
$TTL 1h
$ORIGIN zone.test.
@ 60 IN SOA ns hostmaster ( 1   ; serial
        2h 15m 1w        ; timers
        30 )             ; minimum
  IN NS ns              ; blank owner: @
ns IN 120 A 127.0.0.1   ; class before TTL
ns 120 IN AAAA ::1
a.b CH 5 TXT \"x y\" z
$ORIGIN sub.zone.test.
c A 127.0.0.2
d.zone.test. TYPE65280 \\# 2 abcd
e TYPE1 \\# 4 7f000003
";
    let recs = parse_master_file(text, None).unwrap();
    let s: Vec<String> = recs
        .iter()
        .map(crate::presentation::render_record)
        .collect();
    assert_eq!(
        s,
        [
            "zone.test.\t60\tIN\tSOA\tns.zone.test. hostmaster.zone.test. 1 7200 900 604800 30",
            "zone.test.\t3600\tIN\tNS\tns.zone.test.",
            "ns.zone.test.\t120\tIN\tA\t127.0.0.1",
            "ns.zone.test.\t120\tIN\tAAAA\t::1",
            "a.b.zone.test.\t5\tCH\tTXT\t\"x y\" \"z\"",
            "c.sub.zone.test.\t3600\tCH\tA\t127.0.0.2",
            "d.zone.test.\t3600\tCH\tTYPE65280\t\\# 2 ABCD",
            "e.sub.zone.test.\t3600\tCH\tA\t127.0.0.3",
        ]
    );
}

#[test]
fn ttl_defaults_follow_the_last_explicit_one_without_dollar_ttl() {
    let recs =
        parse_master_file("a.test. 10 IN A 127.0.0.1\nb.test. IN A 127.0.0.2\n", None).unwrap();
    assert_eq!(recs[1].ttl, 10);
    assert!(matches!(
        parse_master_file("b.test. IN A 127.0.0.2\n", None),
        Err(ZoneError::Entry { line: 1, .. })
    ));
}

#[test]
fn syntax_errors_name_the_line() {
    for (text, line) in [
        ("$TTL 1\na.test. IN A 1.2.3\n", 2),
        ("$TTL 1\n\n\na.test. IN BOGUS x\n", 4),
        ("$INCLUDE /etc/passwd\n", 1),
        ("$TTL 1\nrel IN A 127.0.0.1\n", 2),
        ("$TTL 1\n  IN A 127.0.0.1\n", 2),
        ("$TTL 1\na.test. IN MX 10\n", 2),
    ] {
        match parse_master_file(text, None) {
            Err(ZoneError::Entry { line: l, .. }) | Err(ZoneError::Syntax { line: l, .. }) => {
                assert_eq!(l, line, "{text}")
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    assert!(parse_master_file("a.test. 1 IN SOA ( a b 1 2 3 4 5\n", None).is_err());
}

#[test]
fn zone_rules() {
    let soa = "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n";
    let origin = n("z.test.");
    let parse = |extra: &str| Zone::parse(&format!("{soa}{extra}"), Some(&origin));
    assert!(parse("").is_ok());
    assert!(matches!(
        Zone::parse("$TTL 60\na.z.test. A 127.0.0.1\n", None),
        Err(ZoneError::Soa)
    ));
    assert!(matches!(
        parse("@ SOA ns hm 2 2 3 4 5\n"),
        Err(ZoneError::Soa)
    ));
    assert!(matches!(
        parse("other.test. A 127.0.0.1\n"),
        Err(ZoneError::OutOfZone(_))
    ));
    assert!(matches!(
        parse("w CNAME @\nw A 127.0.0.1\n"),
        Err(ZoneError::CnameAndOtherData(_))
    ));
    // RFC 2181 §5: duplicates dropped; §5.2: one TTL per RRset.
    let z = parse("w A 127.0.0.1\nw A 127.0.0.1\nw 30 A 127.0.0.2\n").unwrap();
    let set = z
        .node(&n("w.z.test."))
        .unwrap()
        .rrset(RecordType::A)
        .unwrap();
    assert_eq!(set.records.len(), 2);
    assert!(set.records.iter().all(|r| r.ttl == 30));
    // Empty non-terminals exist.
    let z = parse("a.b.c A 127.0.0.1\n").unwrap();
    assert_eq!(z.node(&n("b.c.z.test.")), Some(&Node::default()));
    assert_eq!(z.node(&n("c.z.test.")), Some(&Node::default()));
    assert!(z.node(&n("x.z.test.")).is_none());
}

#[test]
fn zones_find_the_closest_enclosing_zone() {
    let mut zones = Zones::new();
    zones.insert(Zone::parse("$TTL 1\ntest. SOA a.test. b.test. 1 2 3 4 5\n", None).unwrap());
    zones.insert(example_test_zone());
    assert_eq!(
        zones.find(&n("www.Example.Test.")).unwrap().origin(),
        &n("example.test.")
    );
    assert_eq!(zones.find(&n("alpha.test.")).unwrap().origin(), &n("test."));
    assert!(zones.find(&n("example.org.")).is_none());
    assert!(zones.find(&Name::root()).is_none());
}
