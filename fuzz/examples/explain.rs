//! Show how our codec and the independent one read an input of a differential target, to
//! classify a disagreement (`docs/fuzzing.md`).
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example explain -- dns|imap|mail HEX
//! ```

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(kind), Some(hex)) = (args.next(), args.next()) else {
        eprintln!("usage: explain dns|imap|mail HEX");
        std::process::exit(2);
    };
    let data: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect();
    match kind.as_str() {
        "dns" => {
            match wirecheck_dns::codec::decode(&data) {
                Ok(m) => println!("ours:\n{}{m:#?}", wirecheck_dns::presentation::render(&m)),
                Err(e) => println!("ours: {e}"),
            }
            match hickory_proto::op::Message::from_vec(&data) {
                Ok(m) => println!("hickory:\n{m}\n{m:#?}"),
                Err(e) => println!("hickory: {e:?}"),
            }
        }
        "imap" => {
            use imap_codec::decode::Decoder;
            println!("input: {:?}", String::from_utf8_lossy(&data));
            println!(
                "ours: {:#?}",
                wirecheck_imap::codec::decode_command(&data, &Default::default())
            );
            println!("imap-codec: {:#?}", imap_codec::CommandCodec::default().decode(&data));
        }
        "mail" => {
            println!("input: {:?}", String::from_utf8_lossy(&data));
            let ours = wirecheck_message::parse(&data);
            println!(
                "ours: subject {:?} date {:?} id {:?} to {:?}",
                ours.subject(),
                ours.date(),
                ours.message_id(),
                ours.addresses("To")
            );
            let theirs = mail_parser::MessageParser::default().parse(&data);
            if let Some(t) = theirs {
                println!(
                    "mail-parser: subject {:?} date {:?} id {:?} to {:?}",
                    t.subject(),
                    t.date(),
                    t.message_id(),
                    t.to()
                );
            }
        }
        other => eprintln!("unknown kind {other}"),
    }
}
