//! Tests of command framing and the command grammar.

mod grammar {
    use crate::codec::command::*;
    use crate::types::*;
    use crate::types::{Mailbox, SeqNumber, SequenceSet};

    fn dec(b: &[u8]) -> Result<CommandDecode, CommandError> {
        decode_command(b, &CommandLimits::default())
    }

    fn body(b: &[u8]) -> CommandBody {
        match dec(b) {
            Ok(CommandDecode::Complete(n, c)) => {
                assert_eq!(n, b.len());
                c.body
            }
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(b)),
        }
    }

    #[test]
    fn simple_commands() {
        assert_eq!(body(b"a1 capability\r\n"), CommandBody::Capability);
        assert_eq!(
            body(b"a2 LOGIN alice \"se cret\"\r\n"),
            CommandBody::Login { username: b"alice".to_vec(), password: b"se cret".to_vec() }
        );
        assert_eq!(body(b"a3 select inbox\r\n"), CommandBody::Select(Mailbox::new("INBOX")));
        assert_eq!(
            body(b"a4 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
            CommandBody::Authenticate { mechanism: "PLAIN".into(), initial: Some(b"AGFsaWNlAHNlY3JldA==".to_vec()) }
        );
        assert!(matches!(body(b"a UID EXPUNGE 1:*\r\n"), CommandBody::UidExpunge(_)));
    }

    #[test]
    fn incomplete_and_literals() {
        assert_eq!(dec(b"a1 NOOP"), Ok(CommandDecode::Incomplete));
        assert_eq!(
            dec(b"a1 LOGIN {5}\r\n"),
            Ok(CommandDecode::LiteralFound { tag: "a1".into(), length: 5, non_sync: false, at: 14 })
        );
        assert_eq!(
            dec(b"a1 LOGIN {5+}\r\nal"),
            Ok(CommandDecode::LiteralFound { tag: "a1".into(), length: 5, non_sync: true, at: 15 })
        );
        assert_eq!(dec(b"a1 LOGIN {5}\r\nalice"), Ok(CommandDecode::Incomplete));
        let full = b"a1 LOGIN {5}\r\nalice {6}\r\nsecret\r\n";
        assert_eq!(body(full), CommandBody::Login { username: b"alice".to_vec(), password: b"secret".to_vec() });
        // Every split of a command with literals is Incomplete or LiteralFound until the end.
        for cut in 0..full.len() {
            assert!(matches!(dec(&full[..cut]), Ok(CommandDecode::Incomplete | CommandDecode::LiteralFound { .. })));
        }
    }

    #[test]
    fn append_with_flags_date_and_literal() {
        let b = body(b"A003 APPEND saved-messages (\\Seen) \"05-Jan-2024 10:00:00 +0000\" {7}\r\nSubj: x\r\n");
        let CommandBody::Append { mailbox, flags, date, message } = b else { panic!() };
        assert_eq!(mailbox.as_str(), "saved-messages");
        assert_eq!(flags, ["\\Seen"]);
        assert!(date.is_some());
        assert_eq!(message, b"Subj: x");
    }

    #[test]
    fn fetch_items() {
        let b = body(
            b"a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (Subject From)]<0.100> BODY[1.2.MIME] BINARY[1] UID)\r\n",
        );
        let CommandBody::Fetch { items, .. } = b else { panic!() };
        assert_eq!(items.len(), 5);
        assert_eq!(
            items[1],
            FetchItem::BodySection {
                peek: true,
                section: Section {
                    part: vec![],
                    text: Some(SectionText::HeaderFields(vec!["Subject".into(), "From".into()]))
                },
                partial: Some((0, 100))
            }
        );
        assert_eq!(
            items[2],
            FetchItem::BodySection {
                peek: false,
                section: Section { part: vec![1, 2], text: Some(SectionText::Mime) },
                partial: None
            }
        );
        let CommandBody::Fetch { items, macro_used, .. } = body(b"a UID FETCH 1 full\r\n") else { panic!() };
        assert!(macro_used);
        assert_eq!(items.len(), 5);
        assert!(matches!(body(b"a FETCH 2 body[]\r\n"), CommandBody::Fetch { .. }));
        assert!(dec(b"a FETCH 2 BODY[MIME]\r\n").is_err());
    }

    #[test]
    fn search_program() {
        let b = body(b"a UID SEARCH CHARSET UTF-8 OR FROM bob (SEEN SINCE 1-Jan-2024) NOT 2:4 HEADER X-Y \"\"\r\n");
        let CommandBody::Search { uid, charset, criteria, returns } = b else { panic!() };
        assert!(uid);
        assert_eq!(returns, None);
        assert_eq!(charset.as_deref(), Some("UTF-8"));
        assert_eq!(criteria.len(), 3);
        assert_eq!(
            criteria[1],
            SearchKey::Not(Box::new(SearchKey::SequenceSet(SequenceSet::Ranges(vec![(
                SeqNumber::Value(2),
                SeqNumber::Value(4)
            )]))))
        );
        let CommandBody::Search { returns, .. } = body(b"a SEARCH RETURN (MIN COUNT) ALL\r\n") else { panic!() };
        assert_eq!(returns, Some(vec![SearchReturn::Min, SearchReturn::Count]));
        let deep = format!("a SEARCH {}ALL\r\n", "NOT ".repeat(100));
        assert!(matches!(dec(deep.as_bytes()), Err(CommandError::Syntax { .. })));
    }

    #[test]
    fn store_list_status() {
        assert_eq!(
            body(b"a STORE 1 +FLAGS.SILENT (\\Deleted)\r\n"),
            CommandBody::Store {
                uid: false,
                set: SequenceSet::Ranges(vec![(SeqNumber::Value(1), SeqNumber::Value(1))]),
                mode: StoreMode::Add,
                silent: true,
                flags: vec!["\\Deleted".into()]
            }
        );
        let CommandBody::List { select, patterns, returns, .. } =
            body(b"a LIST (SUBSCRIBED) \"\" (INBOX \"a*\") RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n")
        else {
            panic!()
        };
        assert_eq!(select, [ListSelect::Subscribed]);
        assert_eq!(patterns.len(), 2);
        assert_eq!(returns.len(), 2);
        assert!(matches!(body(b"a LIST \"\" %\r\n"), CommandBody::List { .. }));
        assert!(matches!(body(b"a STATUS INBOX (MESSAGES UIDNEXT)\r\n"), CommandBody::Status { .. }));
    }

    #[test]
    fn errors_carry_tag_and_length() {
        assert_eq!(
            dec(b"a1 FROB\r\nnext"),
            Err(CommandError::Syntax {
                tag: Some("a1".into()),
                consumed: 9,
                reason: "expected a known command at octet 7".into()
            })
        );
        let lim = CommandLimits { max_line: 10, max_literal: 4, max_total: 100 };
        assert_eq!(
            decode_command(b"a2 0123456789", &lim),
            Err(CommandError::LineTooLong { tag: Some("a2".into()), max: 10, consumed: None })
        );
        assert_eq!(
            decode_command(b"a APPEND x {5}\r\n", &CommandLimits { max_line: 100, ..lim }),
            Err(CommandError::LiteralTooLarge { tag: Some("a".into()), length: 5, non_sync: false, consumed: 16 })
        );
        assert!(matches!(dec(b"\r\n"), Err(CommandError::Syntax { tag: None, consumed: 2, .. })));
        assert!(matches!(dec(b"a+ NOOP\r\n"), Err(CommandError::Syntax { tag: None, .. })));
    }

    fn dec_as(b: &[u8], grammar: crate::codec::Grammar) -> Result<CommandDecode, CommandError> {
        crate::codec::decode_command_as(b, &CommandLimits::default(), grammar)
    }

    fn refused(r: Result<CommandDecode, CommandError>) -> bool {
        matches!(r, Err(CommandError::Syntax { tag: Some(_), .. }))
    }

    /// RFC 9051 §9 (RFC 3501 §9 alike): `initial-resp = base64 / "="`, `base64 =
    /// *(4base64-char) [base64-terminal]`: whole quanta, `=` only as padding at the end
    /// (F2 in docs/fuzzing.md: `AIN` used to pass a per-character check).
    #[test]
    fn authenticate_initial_response_is_whole_base64() {
        for ok in [&b"AGFsaWNlAHNlY3JldA=="[..], b"=", b"YWI=", b"YQ==", b"YWJj"] {
            let mut line = b"a AUTHENTICATE PLAIN ".to_vec();
            line.extend_from_slice(ok);
            line.extend_from_slice(b"\r\n");
            assert!(matches!(dec(&line), Ok(CommandDecode::Complete(..))), "{:?}", String::from_utf8_lossy(ok));
        }
        for bad in [&b"AIN"[..], b"A", b"AB=", b"A===", b"====", b"AB=C", b"YQ==YQ==", b"==", b"YWJ*"] {
            let mut line = b"a AUTHENTICATE PLAIN ".to_vec();
            line.extend_from_slice(bad);
            line.extend_from_slice(b"\r\n");
            assert!(refused(dec(&line)), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    /// RFC 9051 §9 `charset = atom / quoted` (F7: we read an astring, so `A]B` and literals
    /// passed); RFC 3501 §9 `"CHARSET" SP astring` still holds for IMAP4rev1 clients.
    #[test]
    fn search_charset_follows_the_version() {
        use crate::codec::Grammar::{Imap4rev1, Imap4rev2};
        let charset = |r: Result<CommandDecode, CommandError>| match r {
            Ok(CommandDecode::Complete(_, Command { body: CommandBody::Search { charset, .. }, .. })) => charset,
            other => panic!("{other:?}"),
        };
        assert_eq!(charset(dec_as(b"a SEARCH CHARSET \"UTF-8\" ALL\r\n", Imap4rev2)).as_deref(), Some("UTF-8"));
        assert_eq!(charset(dec_as(b"a SEARCH CHARSET utf-8 ALL\r\n", Imap4rev2)).as_deref(), Some("utf-8"));
        assert!(refused(dec_as(b"a SEARCH CHARSET A]B ALL\r\n", Imap4rev2)));
        assert!(refused(dec_as(b"a SEARCH CHARSET {5}\r\nUTF-8 ALL\r\n", Imap4rev2)));
        assert_eq!(charset(dec_as(b"a SEARCH CHARSET A]B ALL\r\n", Imap4rev1)).as_deref(), Some("A]B"));
        assert_eq!(charset(dec_as(b"a SEARCH CHARSET {5}\r\nUTF-8 ALL\r\n", Imap4rev1)).as_deref(), Some("UTF-8"));
    }

    /// RFC 9051 §9 QUOTED-CHAR: UTF-8 only (F8: `"\xfa"` used to pass); RFC 3501 §9
    /// `TEXT-CHAR`/`CHAR`: 7-bit only. A literal may carry 8-bit text in either.
    #[test]
    fn quoted_strings_follow_the_version() {
        use crate::codec::Grammar::{Imap4rev1, Imap4rev2};
        let utf8 = "a SEARCH SUBJECT \"caf\u{e9}\"\r\n".as_bytes();
        let latin1 = b"a SEARCH SUBJECT \"\xfa\"\r\n";
        assert!(matches!(dec_as(utf8, Imap4rev2), Ok(CommandDecode::Complete(..))));
        assert!(refused(dec_as(latin1, Imap4rev2)));
        assert!(refused(dec_as(utf8, Imap4rev1)));
        assert!(refused(dec_as(latin1, Imap4rev1)));
        assert!(refused(dec_as(b"a LOGIN \"al\xc3\" x\r\n", Imap4rev2)));
        let literal = b"a SEARCH SUBJECT {2}\r\n\xfa!\r\n";
        assert!(matches!(dec_as(literal, Imap4rev1), Ok(CommandDecode::Complete(..))));
        assert!(matches!(dec_as(b"a LOGIN \"alice\" \"s\\\"cret\"\r\n", Imap4rev1), Ok(CommandDecode::Complete(..))));
    }
}

mod robustness {
    use crate::codec::command::*;
    use crate::codec::{ResponseLimits, decode_response};

    #[test]
    fn decoders_are_total_on_noise() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let alphabet = b"a1 {}~+*\r\n\"\\()[]<>.:0123456789FETCHBODYUID$%";
        for len in 0..400usize {
            let buf: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            let limits = CommandLimits { max_line: 64, max_literal: 32, max_total: 256 };
            let _ = decode_command(&buf, &limits);
            let _ = decode_command(&buf, &CommandLimits::default());
            let _ = decode_response(&buf, &ResponseLimits { max_line: 64, max_literal: 32, max_total: 256 });
        }
    }
}
