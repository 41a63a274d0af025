//! Every entry point is total: arbitrary and hostile inputs (random fragment soup, mutated RFC
//! examples, pathological nesting and sizes) go through every view without a panic, and the
//! message keeps its bytes. Loops are bounded and seeded.

#[path = "../src/testutil.rs"]
#[allow(dead_code)]
mod testutil;

use testutil::XorShift;
use wirecheck_message::{
    Part, address, base64, datetime, encoded_word, header, mime, msg_id, parse, qp,
};

const FRAGMENTS: &[&str] = &[
    "\r\n",
    "\r\n",
    "\n",
    "\r",
    " ",
    "\t",
    ":",
    ";",
    ",",
    "\"",
    "\\",
    "(",
    ")",
    "<",
    ">",
    "@",
    "[",
    "]",
    "=",
    "?",
    "--",
    "From: ",
    "To: ",
    "Date: ",
    "Subject: ",
    "Message-ID: ",
    "Content-Type: ",
    "Content-Transfer-Encoding: ",
    "multipart/mixed; boundary=b",
    "multipart/digest; boundary=\"b c\"",
    "message/rfc822",
    "text/plain; charset=koi8-r",
    "base64",
    "quoted-printable",
    "--b",
    "--b--",
    "--b c",
    "\r\n\r\n",
    "=?utf-8?B?",
    "=?iso-8859-1?Q?a=E9_",
    "?=",
    "Fri, 21 Nov 1997 09:55:06 -0600",
    "a@b.test",
    "Group:",
    "=41",
    "=\r\n",
    "QUJD",
    "\u{e9}",
    "\0",
    "\u{ff}",
    "x*0*=utf-8''%41; x*1=b",
    "Content-Disposition: attachment; filename*=",
    "name",
    "<id@host>",
];

fn soup(rng: &mut XorShift, pieces: usize) -> Vec<u8> {
    let n = rng.len_in(0..pieces);
    let mut out = Vec::new();
    for _ in 0..n {
        if rng.below(8) == 0 {
            out.push(rng.next_u64() as u8);
        } else {
            out.extend_from_slice(FRAGMENTS[rng.below(FRAGMENTS.len())].as_bytes());
        }
    }
    out
}

fn mutate(rng: &mut XorShift, base: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    for _ in 0..rng.len_in(1..8) {
        let at = rng.below(out.len() + 1);
        match rng.below(3) {
            0 if at < out.len() => {
                out.remove(at);
            }
            1 if at < out.len() => out[at] = rng.next_u64() as u8,
            _ => {
                let piece = soup(rng, 3);
                out.splice(at..at, piece);
            }
        }
    }
    out
}

/// Exercise every view of a parsed message.
fn exercise(bytes: &[u8]) {
    let m = parse(bytes);
    assert_eq!(m.raw(), bytes);
    let _ = m.validate().iter().map(ToString::to_string).count();
    let _ = m.envelope();
    let (_, _, _) = (m.subject(), m.date(), m.message_id());
    let _ = m.from();
    let mut paths = Vec::new();
    m.root().walk(&mut |path, part: &Part| {
        paths.push(path.to_vec());
        assert!(part.header.start <= part.header.end && part.header.end <= part.body.start);
        assert!(part.body.end <= bytes.len());
        let _ = m.decoded_body(part);
        let _ = m.text(part);
        let _ = part.description_decoded();
        let _ = part.envelope();
    });
    for path in paths {
        let _ = m.section(&path);
        let mut longer = path.clone();
        longer.extend([1, 0, u32::MAX]);
        let _ = m.section(&longer);
    }
}

fn exercise_value(value: &str) {
    let _ = address::parse_address_list(value);
    let _ = address::parse_mailbox(value);
    let _ = datetime::parse_detailed(value);
    let _ = msg_id::parse_msg_id_list(value);
    let _ = msg_id::parse_msg_id(value);
    let _ = mime::parse_content_type(value);
    let _ = mime::parse_content_disposition(value);
    let _ = mime::parse_content_language(value);
    let _ = mime::TransferEncoding::parse(value);
    let _ = encoded_word::decode_text(value);
    let _ = encoded_word::decode_word(value);
    let _ = base64::decode(value.as_bytes());
    let _ = base64::decode_mime(value.as_bytes());
    let _ = qp::decode(value.as_bytes());
    let _ = header::unfold(value.as_bytes());
}

#[test]
fn random_fragment_soup() {
    let mut rng = XorShift::new(0xF022);
    for _ in 0..1500 {
        let bytes = soup(&mut rng, 120);
        exercise(&bytes);
        exercise_value(&String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn mutated_rfc_examples() {
    let dir = format!("{}/tests/data", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| std::fs::read(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    assert!(files.len() >= 16);
    let mut rng = XorShift::new(0x2049);
    for round in 0..1500 {
        let base = &files[round % files.len()];
        exercise(&mutate(&mut rng, base));
    }
}

#[test]
fn pathological_inputs_complete() {
    let nested_comments = format!("From: {}a@b.test", "(".repeat(100_000));
    exercise_value(&nested_comments);
    exercise(nested_comments.as_bytes());
    let closed_comments = format!(
        "Date: {}{} 1 Jan 2000 00:00:00 +0000",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    exercise(closed_comments.as_bytes());
    let params = format!(
        "Content-Type: text/plain{}\r\n\r\nx",
        "; a*0=b; c=d".repeat(20_000)
    );
    let m = parse(params.as_bytes());
    assert!(m.root().issues.iter().any(|i| matches!(
        i,
        wirecheck_message::part::PartIssue::BadParameter(mime::MimeError::TooManyParameters)
    )));
    let many_fields = "X-A: b\r\n".repeat(50_000);
    assert_eq!(parse(many_fields.as_bytes()).fields().len(), 50_000);
    let long_line = "a".repeat(1 << 20);
    exercise(long_line.as_bytes());
    let commas = format!("To: {}\r\n\r\n", ",".repeat(100_000));
    exercise(commas.as_bytes());
    let words = format!("Subject: {}\r\n\r\n", "=?utf-8?Q?a?= ".repeat(20_000));
    assert_eq!(
        parse(words.as_bytes()).subject().map(|s| s.len()),
        Some(20_000)
    );
    // Nested multiparts whose boundaries are prefixes of each other.
    let mut nested = Vec::new();
    for _ in 0..200 {
        nested.extend_from_slice(b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n");
    }
    exercise(&nested);
    // message/rfc822 inside message/rfc822, deeper than the limit.
    let deep_messages = "Content-Type: message/rfc822\r\n\r\n".repeat(500);
    exercise(deep_messages.as_bytes());
}
