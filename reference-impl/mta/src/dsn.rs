//! Delivery status notifications: RFC 3464 `multipart/report; report-type=delivery-status`
//! messages (RFC 6522) with the RFC 3461 §6 rules for mail that arrived by SMTP.
//!
//! A report has three parts: a human-readable explanation, the `message/delivery-status`
//! fields (per-message, then one group per recipient), and the original message
//! (`message/rfc822`) or only its header (`text/rfc822-headers`) as `RET=` asks.

use std::time::SystemTime;

use wirecheck_message::builder::{BuildError, MessageBuilder, PartBuilder};
use wirecheck_message::msg_id::MessageId;
use wirecheck_smtp::codec::{Ret, xtext_decode};
use wirecheck_smtp::server::rfc5322_date;

use crate::queue::{QueueEntry, QueuedRecipient};

/// RFC 3464 §2.3.3 `Action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Could not be delivered and will not be tried again.
    Failed,
    /// Not delivered yet; still being tried.
    Delayed,
    /// Delivered to the recipient's mailbox.
    Delivered,
    /// Handed on to a system that does not send DSNs.
    Relayed,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
        }
    }
}

/// Messages larger than this are returned as headers only even with `RET=FULL`
/// (RFC 3461 §6.2 lets an MTA choose such a length).
pub const MAX_RETURNED_MESSAGE: usize = 1024 * 1024;

/// Build the report for `recipients` of `entry` (whose content is `message`) as
/// `reporting_mta` at `now`; `id` goes into the report's Message-ID. The caller decides
/// whether a report is due at all (never for a null reverse-path, RFC 5321 §6.1, and only
/// as the recipients' NOTIFY asks, RFC 3461 §4.1).
pub fn report(
    reporting_mta: &str,
    entry: &QueueEntry,
    recipients: &[&QueuedRecipient],
    action: Action,
    message: &[u8],
    now: SystemTime,
    id: &str,
) -> Result<Vec<u8>, BuildError> {
    let sender = entry.from.trim_start_matches('<').trim_end_matches('>');
    let original = wirecheck_message::parse(message);
    let full = match entry.ret_param() {
        Some(Ret::Hdrs) => false,
        // RFC 3461 §6.2: FULL "SHOULD" return the whole message for failures; without RET
        // the choice is ours: the whole message for failures, headers otherwise.
        _ => action == Action::Failed && message.len() <= MAX_RETURNED_MESSAGE,
    };
    let returned = if full {
        PartBuilder::message(message.to_vec())
    } else {
        PartBuilder::bytes("text", "rfc822-headers", original.header_bytes().to_vec())
    };
    let subject = match action {
        Action::Failed => "Undelivered Mail Returned to Sender",
        Action::Delayed => "Delayed Mail (still being retried)",
        Action::Delivered | Action::Relayed => "Successful Mail Delivery Report",
    };
    let mut builder = MessageBuilder::new()
        .field(
            "From",
            format!("Mail Delivery System <MAILER-DAEMON@{reporting_mta}>"),
        )
        .field("To", format!("<{sender}>"))
        .subject(subject)
        .field("Date", rfc5322_date(now))
        .message_id(&MessageId {
            left: format!("{id}.dsn"),
            right: reporting_mta.to_string(),
        })
        // RFC 3834 §5: a message generated in response to another one.
        .field("Auto-Submitted", "auto-replied");
    if let Some(orig_id) = original.message_id() {
        builder = builder.field("In-Reply-To", orig_id.to_string());
    }
    let body = PartBuilder::multipart(
        "report",
        vec![
            PartBuilder::text("plain", &explanation(reporting_mta, recipients, action)),
            PartBuilder::bytes(
                "message",
                "delivery-status",
                delivery_status(reporting_mta, entry, recipients, action),
            ),
            returned,
        ],
    )
    .param("report-type", "delivery-status");
    builder.body(body).build()
}

/// The human-readable part (RFC 6522 §3: "the first body part ... human readable").
fn explanation(reporting_mta: &str, recipients: &[&QueuedRecipient], action: Action) -> String {
    let mut s = format!("This is the mail system at host {reporting_mta}.\n\n");
    s.push_str(match action {
        Action::Failed => "Your message could not be delivered to one or more recipients.\nIt is attached below.\n\n",
        Action::Delayed => "Your message has not been delivered yet; delivery will be retried.\n\n",
        Action::Delivered | Action::Relayed => "Your message was delivered to the recipients below.\n\n",
    });
    for r in recipients {
        s.push_str(&format!("<{}>", bare(&r.address)));
        if let Some(reply) = &r.last_reply {
            let host = r
                .remote_mta
                .as_deref()
                .map(|h| format!("host {h} said: "))
                .unwrap_or_default();
            s.push_str(&format!(": {host}{}", ascii(reply)));
        }
        s.push('\n');
    }
    s
}

/// The `message/delivery-status` body (RFC 3464 §2.1): per-message fields, an empty line,
/// then per-recipient fields, groups separated by empty lines.
fn delivery_status(
    reporting_mta: &str,
    entry: &QueueEntry,
    recipients: &[&QueuedRecipient],
    action: Action,
) -> Vec<u8> {
    let mut fields: Vec<String> = Vec::new();
    // RFC 3461 §6.3 (a): the ENVID, decoded from xtext; only when one was given.
    if let Some(envid) = &entry.envid {
        fields.push(format!("Original-Envelope-Id: {}", decoded(envid)));
    }
    // RFC 3461 §6.3 (b).
    fields.push(format!("Reporting-MTA: dns; {reporting_mta}"));
    fields.push(format!("Arrival-Date: {}", rfc5322_date(entry.arrived)));
    let mut out = lines(&fields);
    for r in recipients {
        let mut f = Vec::new();
        // RFC 3461 §6.3 (d): only when ORCPT was given.
        if let Some((t, a)) = r.orcpt.as_deref().and_then(|o| o.split_once(';')) {
            f.push(format!("Original-Recipient: {t};{}", decoded(a)));
        }
        // RFC 3461 §6.3 (e): the envelope address, type rfc822.
        f.push(format!(
            "Final-Recipient: rfc822; {}",
            ascii(bare(&r.address))
        ));
        f.push(format!("Action: {}", action.as_str()));
        // RFC 3461 §6.3 (g): 4.0.0 / 5.0.0 when nothing more specific is known.
        let fallback = if action == Action::Failed {
            "5.0.0"
        } else {
            "2.0.0"
        };
        f.push(format!(
            "Status: {}",
            r.status.as_deref().unwrap_or(fallback)
        ));
        // RFC 3461 §6.3 (h), (i): Remote-MTA and an "smtp" Diagnostic-Code for relays.
        if let Some(h) = &r.remote_mta {
            f.push(format!("Remote-MTA: dns; {}", ascii(h)));
        }
        // RFC 3464 §2.3.6: "smtp" for a remote server's reply; a locally made diagnostic
        // (no route, no connection, local delivery) gets an "X-" type of its own.
        if let Some(reply) = &r.last_reply {
            let kind = if r.remote_mta.is_some() {
                "smtp"
            } else {
                "X-wirecheck"
            };
            f.push(format!("Diagnostic-Code: {kind}; {}", ascii(reply)));
        }
        if let Some(t) = entry.last_attempt {
            f.push(format!("Last-Attempt-Date: {}", rfc5322_date(t)));
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&lines(&f));
    }
    out
}

/// Fields as CRLF lines, folded at spaces so no line passes 78 characters where possible
/// (RFC 5322 §2.1.1; the fields follow RFC 822 header syntax, RFC 3464 §2.1).
fn lines(fields: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        let mut line_len = 0;
        for (i, word) in f.split(' ').enumerate() {
            if i > 0 {
                if line_len + 1 + word.len() > 78 && line_len > 0 {
                    out.extend_from_slice(b"\r\n ");
                    line_len = 1;
                } else {
                    out.push(b' ');
                    line_len += 1;
                }
            }
            out.extend_from_slice(word.as_bytes());
            line_len += word.len();
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// xtext decoded when that gives printable ASCII; the xtext itself otherwise.
fn decoded(xtext: &str) -> String {
    match xtext_decode(xtext) {
        Some(b) if b.iter().all(|&c| (0x20..0x7f).contains(&c)) => {
            String::from_utf8_lossy(&b).into_owned()
        }
        _ => ascii(xtext),
    }
}

/// Printable ASCII only (DSN fields are US-ASCII, RFC 3464 §2.1).
fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

fn bare(path: &str) -> &str {
    path.trim_start_matches('<').trim_end_matches('>')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::RcptState;
    use std::time::{Duration, UNIX_EPOCH};
    use wirecheck_smtp::codec::ReversePath;

    const ORIGINAL: &[u8] = b"Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n\
From: Alice <alice@alpha.test>\r\nTo: nobody@beta.test\r\nSubject: hello\r\n\
Message-ID: <m1@alpha.test>\r\n\r\nHi there.\r\n";

    fn entry(ret: Option<&str>) -> (QueueEntry, QueuedRecipient) {
        let now = UNIX_EPOCH + Duration::from_secs(1_704_067_200);
        let rcpt = QueuedRecipient {
            address: "<nobody@beta.test>".into(),
            local_user: None,
            notify: None,
            orcpt: Some("rfc822;nobody+2Bx@beta.test".into()),
            state: RcptState::Failed,
            status: Some("5.1.1".into()),
            last_reply: Some("550 5.1.1 Recipient address rejected: User unknown".into()),
            remote_mta: Some("127.0.0.3".into()),
            delay_reported: false,
        };
        let mut e = QueueEntry::new(
            &ReversePath::parse("<alice@alpha.test>").unwrap(),
            vec![rcpt.clone()],
            now,
        );
        e.id = "ID1".into();
        e.ret = ret.map(str::to_string);
        e.envid = Some("QQ+2B314159".into());
        e.last_attempt = Some(now);
        (e, rcpt)
    }

    fn failure(e: &QueueEntry, r: &QueuedRecipient, now: SystemTime) -> Vec<u8> {
        report(
            "mx.alpha.test",
            e,
            &[r],
            Action::Failed,
            ORIGINAL,
            now,
            "ID1",
        )
        .unwrap()
    }

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn failure_report_structure() {
        let (e, r) = entry(None);
        let now = UNIX_EPOCH + Duration::from_secs(1_704_070_000);
        let bytes = failure(&e, &r, now);
        let m = wirecheck_message::parse(&bytes);
        let ct = m.value("Content-Type").unwrap();
        assert!(ct.starts_with("multipart/report"), "{ct}");
        assert!(ct.contains("report-type=delivery-status"), "{ct}");
        assert_eq!(m.value("To").as_deref(), Some("<alice@alpha.test>"));
        assert_eq!(m.value("Auto-Submitted").as_deref(), Some("auto-replied"));
        assert_eq!(m.value("In-Reply-To").as_deref(), Some("<m1@alpha.test>"));
        let parts = m.root().children();
        assert_eq!(parts.len(), 3);
        let status = text(m.bytes(&parts[1].body));
        for want in [
            "Original-Envelope-Id: QQ+314159\r\n",
            "Reporting-MTA: dns; mx.alpha.test\r\n",
            "\r\n\r\nOriginal-Recipient: rfc822;nobody+x@beta.test\r\n",
            "Final-Recipient: rfc822; nobody@beta.test\r\n",
            "Action: failed\r\n",
            "Status: 5.1.1\r\n",
            "Remote-MTA: dns; 127.0.0.3\r\n",
            "Diagnostic-Code: smtp; 550 5.1.1 Recipient address rejected: User unknown\r\n",
        ] {
            assert!(status.contains(want), "{want:?} missing in {status}");
        }
        // Without RET the whole message comes back, byte for byte.
        assert_eq!(m.bytes(&parts[2].body), ORIGINAL);
        assert!(text(m.bytes(&parts[2].header)).contains("message/rfc822"));
    }

    #[test]
    fn ret_hdrs_returns_only_the_header() {
        let (e, r) = entry(Some("HDRS"));
        let bytes = failure(&e, &r, UNIX_EPOCH);
        let m = wirecheck_message::parse(&bytes);
        let parts = m.root().children();
        assert!(text(m.bytes(&parts[2].header)).contains("text/rfc822-headers"));
        let returned = text(m.bytes(&parts[2].body));
        assert!(returned.contains("Subject: hello\r\n"));
        assert!(!returned.contains("Hi there."));
    }

    #[test]
    fn long_diagnostics_are_folded_and_ascii() {
        let (e, mut r) = entry(None);
        r.last_reply = Some(format!("550 5.7.1 {} \u{e9}t\u{e9}", "word ".repeat(40)));
        r.orcpt = None;
        let bytes = failure(&e, &r, UNIX_EPOCH);
        let m = wirecheck_message::parse(&bytes);
        let status = text(m.bytes(&m.root().children()[1].body));
        assert!(status.lines().all(|l| l.len() <= 78), "{status}");
        assert!(status.is_ascii());
        assert!(
            !status.contains("Original-Recipient"),
            "RFC 3461 §6.3 (d): only with ORCPT"
        );
    }
}
