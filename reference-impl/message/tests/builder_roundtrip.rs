//! Property-style round trips through the builder and the parser: generated trees of parts
//! with generated content come back with the same types, the same decoded content, and no
//! MUST-level violation. Seeded, bounded.

#[path = "../src/testutil.rs"]
#[allow(dead_code)]
mod testutil;

use testutil::XorShift;
use wirecheck_message::validate::Level;
use wirecheck_message::{
    DateTime, Mailbox, Message, MessageBuilder, MessageId, Part, PartBuilder, parse,
};

/// What a generated part should come back as.
enum Expect {
    Text(String),
    Bytes(Vec<u8>),
    Multipart(Vec<Expect>),
    Message(Vec<u8>),
}

fn generate(rng: &mut XorShift, depth: usize) -> (PartBuilder, Expect) {
    match rng.below(if depth < 3 { 5 } else { 3 }) {
        0 => {
            let text = rng.text(0..300);
            // The canonical form the builder writes: CRLF line ends.
            let canonical = text
                .replace("\r\n", "\n")
                .replace('\r', "\n")
                .replace('\n', "\r\n");
            (PartBuilder::text("plain", &text), Expect::Text(canonical))
        }
        1 => {
            let data = rng.bytes(0..400);
            (
                PartBuilder::bytes("application", "octet-stream", data.clone()),
                Expect::Bytes(data),
            )
        }
        2 => {
            let data = rng.bytes_from(0..300, b"ab -=\r\n.");
            (
                PartBuilder::bytes("text", "x-data", data.clone()),
                Expect::Bytes(data),
            )
        }
        3 => {
            let n = rng.len_in(1..4);
            let (builders, expects) = (0..n).map(|_| generate(rng, depth + 1)).unzip();
            (
                PartBuilder::multipart("mixed", builders),
                Expect::Multipart(expects),
            )
        }
        _ => {
            let inner = MessageBuilder::new()
                .field("Subject", "inner")
                .body(generate(rng, depth + 1).0);
            let bytes = inner.build().unwrap_or_default();
            (PartBuilder::message(bytes.clone()), Expect::Message(bytes))
        }
    }
}

fn check(m: &Message, part: &Part, expect: &Expect, where_: &str) {
    match expect {
        Expect::Text(text) => assert_eq!(m.text(part).as_deref(), Some(text.as_str()), "{where_}"),
        Expect::Bytes(data) => assert_eq!(&m.decoded_body(part).data, data, "{where_}"),
        Expect::Message(bytes) => {
            assert_eq!(m.bytes(&part.body), &bytes[..], "{where_}");
            assert!(part.message().is_some(), "{where_}");
        }
        Expect::Multipart(children) => {
            assert_eq!(part.children().len(), children.len(), "{where_}");
            for (i, (c, e)) in part.children().iter().zip(children).enumerate() {
                check(m, c, e, &format!("{where_}.{}", i + 1));
            }
        }
    }
}

#[test]
fn generated_messages_round_trip() {
    let mut rng = XorShift::new(0x3464);
    for round in 0..300 {
        let (body, expect) = generate(&mut rng, 0);
        let date = DateTime::from_unix(900_000_000 + round, 60);
        let mut builder = MessageBuilder::new()
            .mailboxes(
                "From",
                &[Mailbox::new("sender", "example.test")
                    .with_name(rng.text(0..30).replace(['\r', '\n'], " "))],
            )
            .field("To", "rcpt@example.test")
            .subject(&rng.text(0..100).replace(['\r', '\n'], " "))
            .message_id(&MessageId {
                left: format!("r{round}"),
                right: "example.test".into(),
            })
            .body(body);
        if let Some(date) = date {
            builder = builder.date(&date);
        }
        let bytes = builder
            .build()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let m = parse(&bytes);
        let must: Vec<String> = m
            .validate()
            .into_iter()
            .filter(|v| v.level == Level::Must)
            .map(|v| v.to_string())
            .collect();
        assert_eq!(
            must,
            Vec::<String>::new(),
            "round {round}:\n{}",
            String::from_utf8_lossy(&bytes)
        );
        check(&m, m.root(), &expect, &format!("round {round}"));
    }
}

#[test]
fn generated_subjects_and_names_round_trip() {
    let mut rng = XorShift::new(5322);
    for _ in 0..500 {
        let subject = rng.text(0..150).replace(['\r', '\n'], " ");
        let name = rng.text(1..40).replace(['\r', '\n'], " ");
        let mailbox = Mailbox::new("x", "example.test").with_name(&name);
        let bytes = MessageBuilder::new()
            .subject(&subject)
            .mailboxes("From", [&mailbox])
            .build()
            .unwrap_or_default();
        let m = parse(&bytes);
        // Leading and trailing white space of a field body is not kept (it is not content).
        assert_eq!(
            m.subject().as_deref(),
            Some(subject.trim_matches([' ', '\t'])),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        let from = m.from();
        assert_eq!(
            from.first().and_then(|f| f.display_name.as_deref()),
            Some(name.as_str()),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        assert!(bytes.split(|&b| b == b'\n').all(|l| l.len() <= 998));
    }
}
