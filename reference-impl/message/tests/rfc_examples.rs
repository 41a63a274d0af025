//! The example messages of RFC 5322 Appendix A, RFC 2046 §5.1.1 and RFC 2049 Appendix A
//! (copied verbatim into tests/data, CRLF line ends) through every view of the crate.

use wirecheck_message::validate::{Level, ViolationKind};
use wirecheck_message::{Address, Message, parse};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn must(m: &Message) -> Vec<String> {
    m.validate()
        .iter()
        .filter(|v| v.level == Level::Must)
        .map(ToString::to_string)
        .collect()
}

const CURRENT_SYNTAX: [&str; 11] = [
    "rfc5322_a1_1a.eml",
    "rfc5322_a1_1b.eml",
    "rfc5322_a1_2.eml",
    "rfc5322_a1_3.eml",
    "rfc5322_a2a.eml",
    "rfc5322_a2b.eml",
    "rfc5322_a2c.eml",
    "rfc5322_a3a.eml",
    "rfc5322_a3b.eml",
    "rfc5322_a4.eml",
    "rfc5322_a5.eml",
];

#[test]
fn appendix_a_messages_in_current_syntax_are_valid() {
    for name in CURRENT_SYNTAX {
        let raw = data(name);
        let m = parse(&raw);
        assert_eq!(m.raw(), &raw[..], "{name}: byte-exact");
        assert_eq!(m.validate(), vec![], "{name}");
        // Every field's range reproduces its bytes; fields + empty line + body is the message.
        let mut rebuilt = Vec::new();
        for f in m.fields() {
            rebuilt.extend_from_slice(m.bytes(&f.range));
        }
        rebuilt.extend_from_slice(b"\r\n");
        rebuilt.extend_from_slice(m.body_bytes());
        assert_eq!(rebuilt, raw, "{name}: fields and body");
        assert!(m.date().is_some() && !m.from().is_empty(), "{name}");
    }
}

#[test]
fn appendix_a6_obsolete_forms_are_read_and_reported() {
    for (name, fields, date) in [
        ("rfc5322_a6_1.eml", vec!["From", "To"], (2003, 7, 1)),
        ("rfc5322_a6_2.eml", vec!["Date"], (1997, 11, 21)),
        (
            "rfc5322_a6_3.eml",
            vec!["From", "Date", "Message-ID"],
            (1997, 11, 21),
        ),
    ] {
        let m = parse(&data(name));
        let obsolete: Vec<String> = m
            .validate()
            .into_iter()
            .filter_map(|v| match v.kind {
                ViolationKind::ObsoleteSyntax { field } => Some(field),
                _ => None,
            })
            .collect();
        assert_eq!(obsolete, fields, "{name}");
        // Read all the same.
        assert_eq!(
            m.date().map(|d| (d.year, d.month, d.day)),
            Some(date),
            "{name}"
        );
        assert!(!m.from().is_empty(), "{name}");
    }
    let m = parse(&data("rfc5322_a6_3.eml"));
    assert_eq!(m.from()[0].addr_spec(), "jdoe@machine.example");
    assert_eq!(
        m.message_id().map(|i| i.to_string()).as_deref(),
        Some("<1234@local.machine.example>")
    );
    let to = m.addresses("To");
    assert_eq!(
        to.mailboxes().map(|mb| mb.addr_spec()).collect::<Vec<_>>(),
        ["mary@example.net"]
    );
    // "From  :" is white space before the colon (RFC 5322 §4.5).
    assert!(m.validate().iter().any(|v| v.clause == "5322#4.5"));
    let a61 = parse(&data("rfc5322_a6_1.eml"));
    let to = a61.addresses("To");
    assert_eq!(
        to.mailboxes().map(|mb| mb.addr_spec()).collect::<Vec<_>>(),
        ["mary@example.net", "jdoe@test.example"]
    );
}

#[test]
fn appendix_a_structured_views() {
    let a12 = parse(&data("rfc5322_a1_2.eml"));
    let cc = a12.addresses("Cc");
    let names: Vec<Option<String>> = cc.mailboxes().map(|m| m.display_name.clone()).collect();
    assert_eq!(names, [None, Some(r#"Giant; "Big" Box"#.to_string())]);
    let a5 = parse(&data("rfc5322_a5.eml"));
    let to = a5.addresses("To");
    assert!(
        matches!(&to.addresses[..], [Address::Group(g)] if g.display_name == "A Group" && g.members.len() == 3)
    );
    assert_eq!(a5.date().map(|d| d.offset_minutes), Some(-210));
    let a4 = parse(&data("rfc5322_a4.eml"));
    assert_eq!(a4.fields_named("Received").count(), 2);
    assert!(
        a4.fields_named("received")
            .next()
            .is_some_and(|f| f.value().ends_with("21 Nov 1997 10:05:43 -0600"))
    );
    let a2c = parse(&data("rfc5322_a2c.eml"));
    let e = a2c.envelope();
    assert_eq!(e.in_reply_to.as_deref(), Some("<3456@example.net>"));
    assert_eq!(
        e.to[0].name.as_deref(),
        Some("Mary Smith: Personal Account")
    );
}

#[test]
fn rfc2046_and_rfc2049_multipart_examples() {
    let m = parse(&data("rfc2046_5_1_1.eml"));
    // Only the missing Message-ID (a SHOULD).
    assert_eq!(must(&m), Vec::<String>::new());
    assert_eq!(m.root().children().len(), 2);
    let m = parse(&data("rfc2049_appendix_a.eml"));
    assert_eq!(m.root().children().len(), 5);
    // The "base64" parts hold prose, which RFC 2045 §6.8 says is not base64.
    let base64: Vec<Vec<u32>> = m
        .validate()
        .into_iter()
        .filter(|v| v.clause == "2045#6.8")
        .map(|v| v.section)
        .collect();
    assert_eq!(base64, vec![vec![3, 1], vec![3, 2]]);
    let inner = m
        .section(&[5])
        .and_then(|p| p.message())
        .map(|p| p.envelope());
    assert_eq!(
        inner.and_then(|e| e.subject),
        Some("(subject in US-ASCII)".to_string())
    );
}

#[test]
fn validate_reports_line_and_field_problems() {
    let long = "x".repeat(1200);
    let raw = format!(
        "From: a@b.test\r\nSubject: {long}\r\nTo: c@d.test\nTo: e@f.test\r\n\r\nbody\rmore\r\né"
    );
    let m = parse(raw.as_bytes());
    let clauses: Vec<(&str, Level)> = m.validate().iter().map(|v| (v.clause, v.level)).collect();
    for expected in [
        ("5322#2.1.1", Level::Must),
        ("5322#2.1.1", Level::Should),
        ("5322#2.3", Level::Must),
        ("5322#3.6", Level::Must),
        ("5322#3.6.4", Level::Should),
    ] {
        assert!(clauses.contains(&expected), "{expected:?} in {clauses:?}");
    }
    let kinds: Vec<ViolationKind> = m.validate().into_iter().map(|v| v.kind).collect();
    assert!(kinds.contains(&ViolationKind::MissingField("Date")));
    assert!(kinds.contains(&ViolationKind::RepeatedField {
        field: "To",
        count: 2
    }));
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, ViolationKind::BareCr { count: 1, .. }))
    );
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, ViolationKind::BareLf { count: 1, .. }))
    );
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, ViolationKind::EightBit { count: 2, .. }))
    );
    let m =
        parse(b"From: a@b.test, c@d.test\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\nTo:\r\n\r\n");
    let kinds: Vec<ViolationKind> = m.validate().into_iter().map(|v| v.kind).collect();
    assert!(kinds.contains(&ViolationKind::SenderRequired));
    assert!(kinds.contains(&ViolationKind::EmptyAddressList { field: "To".into() }));
}
