//! The IMAP ENVELOPE of a message (RFC 3501 §7.4.2) as plain data; the IMAP codec renders it.
//!
//! String members are the field bodies as written (unfolded and trimmed, RFC 2047 words not
//! decoded: IMAP clients decode them). Address members follow §7.4.2: each mailbox is
//! (personal name, source route, mailbox name, host name); a group is a start marker (host
//! NIL, mailbox name = the group's name), its members, and an end marker (all NIL). An empty
//! list is IMAP's NIL. Sender and Reply-To default to From when absent or empty.

use crate::address::{self, Address, Mailbox};
use crate::header::HeaderField;
use crate::message::Message;
use crate::part::Part;

/// RFC 3501 §7.4.2 ENVELOPE.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope {
    pub date: Option<String>,
    pub subject: Option<String>,
    pub from: Vec<EnvelopeAddress>,
    pub sender: Vec<EnvelopeAddress>,
    pub reply_to: Vec<EnvelopeAddress>,
    pub to: Vec<EnvelopeAddress>,
    pub cc: Vec<EnvelopeAddress>,
    pub bcc: Vec<EnvelopeAddress>,
    pub in_reply_to: Option<String>,
    pub message_id: Option<String>,
}

/// One RFC 3501 address structure; `None` is NIL.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvelopeAddress {
    /// Personal name (the display name, RFC 2047 words not decoded).
    pub name: Option<String>,
    /// Source route (`@a.test,@b.test`), from obsolete route syntax.
    pub adl: Option<String>,
    /// Local part (unquoted); for a group start marker, the group name.
    pub mailbox: Option<String>,
    /// Domain; NIL for group markers.
    pub host: Option<String>,
}

impl EnvelopeAddress {
    fn mailbox(m: &Mailbox) -> Self {
        let adl = (!m.route.is_empty()).then(|| {
            m.route
                .iter()
                .map(|d| format!("@{d}"))
                .collect::<Vec<_>>()
                .join(",")
        });
        EnvelopeAddress {
            name: m.display_name_raw.clone(),
            adl,
            mailbox: Some(m.local_part.clone()),
            host: Some(m.domain.clone()),
        }
    }

    /// True for a group start or end marker.
    pub fn is_group_marker(&self) -> bool {
        self.host.is_none()
    }
}

/// Build the envelope from a header section's fields.
pub fn envelope(fields: &[HeaderField]) -> Envelope {
    let value = |name: &str| fields.iter().find(|f| f.is(name)).map(HeaderField::value);
    let addresses = |name: &str| {
        value(name)
            .map(|v| flatten(&address::parse_address_list(&v).addresses))
            .unwrap_or_default()
    };
    let from = addresses("From");
    let mut sender = addresses("Sender");
    if sender.is_empty() {
        sender = from.clone();
    }
    let mut reply_to = addresses("Reply-To");
    if reply_to.is_empty() {
        reply_to = from.clone();
    }
    Envelope {
        date: value("Date"),
        subject: value("Subject"),
        from,
        sender,
        reply_to,
        to: addresses("To"),
        cc: addresses("Cc"),
        bcc: addresses("Bcc"),
        in_reply_to: value("In-Reply-To"),
        message_id: value("Message-ID"),
    }
}

fn flatten(list: &[Address]) -> Vec<EnvelopeAddress> {
    let mut out = Vec::new();
    for a in list {
        match a {
            Address::Mailbox(m) => out.push(EnvelopeAddress::mailbox(m)),
            Address::Group(g) => {
                out.push(EnvelopeAddress {
                    mailbox: Some(g.display_name_raw.clone()),
                    ..Default::default()
                });
                out.extend(g.members.iter().map(EnvelopeAddress::mailbox));
                out.push(EnvelopeAddress::default());
            }
        }
    }
    out
}

impl Message {
    /// The IMAP ENVELOPE of this message.
    pub fn envelope(&self) -> Envelope {
        envelope(self.fields())
    }
}

impl Part {
    /// The envelope of this entity's header fields (for a message/rfc822 part, use it on
    /// [`Part::message`]).
    pub fn envelope(&self) -> Envelope {
        envelope(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message;

    fn addr(name: Option<&str>, mailbox: &str, host: &str) -> EnvelopeAddress {
        EnvelopeAddress {
            name: name.map(str::to_string),
            adl: None,
            mailbox: Some(mailbox.into()),
            host: Some(host.into()),
        }
    }

    #[test]
    fn reply_message_envelope() {
        let m = message::parse(include_bytes!("../tests/data/rfc5322_a2b.eml"));
        let e = m.envelope();
        assert_eq!(e.date.as_deref(), Some("Fri, 21 Nov 1997 10:01:10 -0600"));
        assert_eq!(e.subject.as_deref(), Some("Re: Saying Hello"));
        assert_eq!(
            e.from,
            vec![addr(Some("Mary Smith"), "mary", "example.net")]
        );
        assert_eq!(e.sender, e.from);
        assert_eq!(
            e.reply_to,
            vec![addr(
                Some("Mary Smith: Personal Account"),
                "smith",
                "home.example"
            )]
        );
        assert_eq!(
            e.to,
            vec![addr(Some("John Doe"), "jdoe", "machine.example")]
        );
        assert!(e.cc.is_empty() && e.bcc.is_empty());
        assert_eq!(
            e.in_reply_to.as_deref(),
            Some("<1234@local.machine.example>")
        );
        assert_eq!(e.message_id.as_deref(), Some("<3456@example.net>"));
    }

    #[test]
    fn groups_routes_and_encoded_names() {
        let m = message::parse(include_bytes!("../tests/data/rfc5322_a1_3.eml"));
        let e = m.envelope();
        assert_eq!(e.to.len(), 5);
        assert_eq!(
            e.to[0],
            EnvelopeAddress {
                mailbox: Some("A Group".into()),
                ..Default::default()
            }
        );
        assert_eq!(e.to[1], addr(Some("Ed Jones"), "c", "a.test"));
        assert_eq!(e.to[4], EnvelopeAddress::default());
        assert!(
            e.to[0].is_group_marker() && e.to[4].is_group_marker() && !e.to[1].is_group_marker()
        );
        assert_eq!(
            e.cc,
            vec![
                EnvelopeAddress {
                    mailbox: Some("Undisclosed recipients".into()),
                    ..Default::default()
                },
                EnvelopeAddress::default()
            ]
        );
        let m = message::parse(b"From: =?utf-8?Q?J=C3=B6rg?= <j@x.test>\r\nTo: <@a.test,@b.test:u@c.test>\r\nSender:\r\n\r\n");
        let e = m.envelope();
        assert_eq!(e.from[0].name.as_deref(), Some("=?utf-8?Q?J=C3=B6rg?="));
        assert_eq!(e.sender, e.from);
        assert_eq!(e.to[0].adl.as_deref(), Some("@a.test,@b.test"));
        assert_eq!(message::parse(b"\r\n").envelope(), Envelope::default());
    }
}
