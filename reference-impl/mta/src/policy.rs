//! Who may send to whom, and where accepted mail goes: the [`MailSink`] behind both
//! listeners.
//!
//! * **MX port** (RFC 5321 §3.6.2, no open relay): recipients in our domains that resolve
//!   to a user are accepted (`<Postmaster>` always, RFC 5321 §4.5.1), unknown local users
//!   get `550 5.1.1`, other domains `554 5.7.1` unless the client authenticated.
//! * **Submission port** (RFC 6409): the session requires AUTH before MAIL (`530 5.7.0`,
//!   §4.3); then any recipient is accepted. A missing `Date:` or `Message-ID:` is added
//!   (§8.2, §8.3).
//!
//! Delivery (RFC 5321 §6.1, "the receiver-SMTP MUST NOT lose the message"): local
//! recipients go into their maildir INBOX with a `Return-Path:` (§4.4), fsynced by the
//! store; remote recipients, and local ones whose delivery failed for now, go into the
//! queue, fsynced, in one entry. Only then does `deliver` return and the session send `250`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::SystemTime;

use wirecheck_smtp::codec::{ForwardPath, Ret, ReversePath};
use wirecheck_smtp::server::{
    DeliveryError, Envelope, MailSink, RcptVerdict, Recipient, VerifyVerdict, rfc5322_date,
};
use wirecheck_store::{StoreError, Uid};

use crate::Ctx;
use crate::dsn::{self, Action};
use crate::queue::{QueueEntry, QueueError, QueuedRecipient, RcptState, new_id};

/// Which listener a session came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// Mail from other MTAs for our domains (port 25's role).
    Mx,
    /// Mail from our users' clients (RFC 6409, port 587 / 465's role).
    Submission,
}

/// The sink of one SMTP session.
#[derive(Clone)]
pub struct Policy {
    ctx: Arc<Ctx>,
    port: Port,
}

/// Where a recipient's mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Into this user's maildir.
    Local(String),
    /// To another domain (lower case).
    Remote(String),
    /// One of our domains, no such user.
    Unknown,
}

impl Policy {
    pub(crate) fn new(ctx: Arc<Ctx>, port: Port) -> Policy {
        Policy { ctx, port }
    }
}

impl MailSink for Policy {
    fn check_rcpt(&mut self, envelope: &Envelope, rcpt: &Recipient) -> RcptVerdict {
        match classify(&self.ctx, &rcpt.path) {
            Destination::Local(_) => RcptVerdict::Local,
            // RFC 5321 §4.5.1: Postmaster must be accepted; with no user to take it, say
            // "not now" rather than "no such user".
            Destination::Unknown if rcpt.path.is_postmaster() => RcptVerdict::TemporaryFailure,
            Destination::Unknown => RcptVerdict::UnknownUser,
            // RFC 5321 §3.6.2: relaying only for clients we know (authenticated).
            Destination::Remote(_) if envelope.client.authenticated.is_some() => RcptVerdict::Relay,
            Destination::Remote(_) => RcptVerdict::RelayDenied,
        }
    }

    fn authenticate(&mut self, user: &str, password: &str) -> bool {
        self.ctx.store.users().verify(user, password.as_bytes())
    }

    /// RFC 5321 §7.3: VRFY may be refused to protect the user list; `252`.
    fn verify(&mut self, _argument: &str) -> VerifyVerdict {
        VerifyVerdict::CannotVerify
    }

    fn deliver(&mut self, envelope: &Envelope, message: &[u8]) -> Result<String, DeliveryError> {
        let ctx = &self.ctx;
        let hops = count_received(message);
        if hops > ctx.config.max_hops {
            // RFC 5321 §6.3: a message with too many Received: fields is looping.
            return Err(DeliveryError::Permanent(format!(
                "routing loop: {hops} Received fields"
            )));
        }
        let now = ctx.clock.now();
        let fixed;
        let message = if self.port == Port::Submission {
            fixed = submission_fixups(message, &ctx.config.hostname, now);
            fixed.as_slice()
        } else {
            message
        };
        let from = envelope.from.to_string();
        let mut queued = Vec::new();
        let mut succeeded = Vec::new();
        let mut done = HashSet::new();
        for rcpt in &envelope.recipients {
            match classify(ctx, &rcpt.path) {
                Destination::Local(user) => {
                    // One copy per mailbox, however many of its addresses were given.
                    if !done.insert(user.clone()) {
                        continue;
                    }
                    let mut q = QueuedRecipient::from_recipient(rcpt, Some(user.clone()));
                    match deliver_local(ctx, &user, &from, message) {
                        Ok(_) => {
                            q.state = RcptState::Delivered;
                            q.status = Some("2.0.0".into());
                            succeeded.push(q);
                        }
                        Err(e) => {
                            tracing::warn!(
                                "local delivery to {user} failed, queued for retry: {e}"
                            );
                            q.status = Some("4.3.0".into());
                            q.last_reply = Some(format!("local delivery failed: {e}"));
                            queued.push(q);
                        }
                    }
                }
                Destination::Remote(_) => queued.push(QueuedRecipient::from_recipient(rcpt, None)),
                // Accepted at RCPT, unknown now (cannot happen while users are fixed):
                // recorded as failed so the sender hears of it.
                Destination::Unknown => {
                    let mut q = QueuedRecipient::from_recipient(rcpt, None);
                    q.state = RcptState::Failed;
                    q.status = Some("5.1.1".into());
                    q.last_reply = Some("no such user here".into());
                    queued.push(q);
                }
            }
        }
        let ret = envelope.ret.map(|r| match r {
            Ret::Full => "FULL".to_string(),
            Ret::Hdrs => "HDRS".to_string(),
        });
        // RFC 3461 §4.1, §6.2: final delivery with NOTIFY=SUCCESS earns a "delivered" DSN.
        succeeded.retain(QueuedRecipient::wants_success_report);
        if !succeeded.is_empty() {
            let mut delivered = QueueEntry::new(&envelope.from, succeeded, now);
            delivered.id = new_id(now);
            delivered.ret = ret.clone();
            delivered.envid = envelope.envid.clone();
            delivered.last_attempt = Some(now);
            let all: Vec<&QueuedRecipient> = delivered.recipients.iter().collect();
            if let Err(e) = queue_report(ctx, &delivered, &all, Action::Delivered, message, now) {
                // The message itself is delivered; only the notice is lost.
                tracing::error!("cannot queue a delivery notice: {e}");
            }
        }
        if queued.is_empty() {
            return Ok(new_id(now));
        }
        let mut entry = QueueEntry::new(&envelope.from, queued, now);
        entry.ret = ret;
        entry.envid = envelope.envid.clone();
        // If some local copies went out and this fails, the client tries again and those
        // recipients get the message twice: RFC 5321 §6.1 prefers that to losing it.
        let id = ctx
            .queue
            .enqueue(entry, message)
            .map_err(|e| DeliveryError::Temporary(e.to_string()))?;
        ctx.wake.notify_one();
        Ok(id)
    }

    fn now(&self) -> SystemTime {
        self.ctx.clock.now()
    }
}

/// Where mail for `path` goes.
pub(crate) fn classify(ctx: &Ctx, path: &ForwardPath) -> Destination {
    let postmaster = || postmaster_user(ctx).map_or(Destination::Unknown, Destination::Local);
    let Some(m) = path.mailbox() else {
        return postmaster();
    };
    let domain = m.domain().as_str();
    if !ctx.config.is_local_domain(domain) {
        return Destination::Remote(domain.to_ascii_lowercase());
    }
    let address = format!("{}@{domain}", m.local_part_unquoted());
    match ctx.store.users().resolve(&address) {
        Some(u) => Destination::Local(u.name.clone()),
        None if path.is_postmaster() => postmaster(),
        None => Destination::Unknown,
    }
}

/// The user `<Postmaster>` goes to: configured, else whoever `postmaster` resolves to,
/// else the first user.
fn postmaster_user(ctx: &Ctx) -> Option<String> {
    let users = ctx.store.users();
    ctx.config
        .postmaster
        .clone()
        .or_else(|| users.resolve("postmaster").map(|u| u.name.clone()))
        .or_else(|| users.users.first().map(|u| u.name.clone()))
}

/// Final delivery into `user`'s INBOX with `Return-Path: <from>` on top (RFC 5321 §4.4:
/// "the final delivery SMTP server ... MUST insert a return-path line"). Durable on return.
pub(crate) fn deliver_local(
    ctx: &Ctx,
    user: &str,
    from: &str,
    message: &[u8],
) -> Result<Uid, StoreError> {
    let mut bytes = Vec::with_capacity(message.len() + from.len() + 16);
    bytes.extend_from_slice(format!("Return-Path: {from}\r\n").as_bytes());
    append_without_return_path(&mut bytes, message);
    ctx.store.deliver(user, "INBOX", &bytes)
}

/// `message` without the `Return-Path:` fields it arrived with. RFC 5321 §4.4: "exactly one"
/// return path SHOULD be present in a delivered message, and the final delivery server "MAY
/// remove Return-path header fields before adding its own". Only the header section is read.
fn append_without_return_path(out: &mut Vec<u8>, message: &[u8]) {
    let head = wirecheck_message::header::parse_header_section(message, 0);
    let mut at = 0;
    for f in head.fields.iter().filter(|f| f.is("Return-Path")) {
        out.extend_from_slice(message.get(at..f.range.start).unwrap_or_default());
        at = f.range.end;
    }
    out.extend_from_slice(message.get(at..).unwrap_or_default());
}

#[cfg(test)]
mod return_path_tests {
    use super::append_without_return_path;

    #[test]
    fn incoming_return_paths_are_dropped_and_the_rest_kept_byte_for_byte() {
        let msg = b"Received: x\r\nReturn-Path: <forged@x>\r\nSubject: s\r\nreturn-path:\r\n <y@z>\r\n\r\nReturn-Path: in the body stays\r\n";
        let mut out = Vec::new();
        append_without_return_path(&mut out, msg);
        assert_eq!(out, b"Received: x\r\nSubject: s\r\n\r\nReturn-Path: in the body stays\r\n".to_vec());
        let plain = b"Subject: s\r\n\r\nbody\r\n";
        let mut out = Vec::new();
        append_without_return_path(&mut out, plain);
        assert_eq!(out, plain.to_vec());
    }
}

/// The length of the header fields (each with its CRLF, without the empty line that ends
/// the header section), or the whole message when it has no empty line.
fn header_len(message: &[u8]) -> usize {
    if message.starts_with(b"\r\n") {
        return 0;
    }
    message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |i| i + 2)
}

/// The header field lines (each with its name) of the header section.
fn field_names(message: &[u8]) -> impl Iterator<Item = &[u8]> {
    let head = message.get(..header_len(message)).unwrap_or_default();
    head.split(|&b| b == b'\n')
        .filter(|l| l.first().is_some_and(|c| !c.is_ascii_whitespace()))
        .filter_map(|l| l.split(|&b| b == b':').next())
}

fn has_field(message: &[u8], name: &str) -> bool {
    field_names(message).any(|n| n.eq_ignore_ascii_case(name.as_bytes()))
}

/// `Received:` fields in the header (RFC 5321 §6.3 loop detection).
fn count_received(message: &[u8]) -> usize {
    field_names(message)
        .filter(|n| n.eq_ignore_ascii_case(b"Received"))
        .count()
}

/// RFC 6409 §8.2 / §8.3: add `Date:` and `Message-ID:` when missing, at the end of the
/// header section.
fn submission_fixups(message: &[u8], hostname: &str, now: SystemTime) -> Vec<u8> {
    let mut extra = String::new();
    if !has_field(message, "Date") {
        extra.push_str(&format!("Date: {}\r\n", rfc5322_date(now)));
    }
    if !has_field(message, "Message-ID") {
        extra.push_str(&format!("Message-ID: <{}@{hostname}>\r\n", new_id(now)));
    }
    if extra.is_empty() {
        return message.to_vec();
    }
    let (head, rest) = message.split_at(header_len(message));
    let mut out = Vec::with_capacity(message.len() + extra.len() + 2);
    out.extend_from_slice(head);
    if !head.is_empty() && !head.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(extra.as_bytes());
    // `rest` starts with the empty line that ends the header, when there is one.
    out.extend_from_slice(rest);
    out
}

/// The sender of a DSN for `entry` as a forward-path, when it has one.
fn sender_path(entry: &QueueEntry) -> Option<ForwardPath> {
    match entry.reverse_path()? {
        ReversePath::Null => None,
        ReversePath::Mailbox(m) => Some(ForwardPath::Mailbox(m)),
    }
}

/// Queue a DSN about `recipients` of `entry` (content `message`) for its sender, from
/// `<>`. Returns whether one was queued: never for a message with a null reverse-path
/// (RFC 5321 §6.1: notifications "MUST NOT" be answered with one), nor for an unknown
/// local sender.
pub(crate) fn queue_report(
    ctx: &Ctx,
    entry: &QueueEntry,
    recipients: &[&QueuedRecipient],
    action: Action,
    message: &[u8],
    now: SystemTime,
) -> Result<bool, QueueError> {
    if recipients.is_empty() {
        return Ok(false);
    }
    let Some(to) = sender_path(entry) else {
        tracing::warn!(
            "{}: no {action:?} DSN for a notification (null reverse-path)",
            entry.id
        );
        return Ok(false);
    };
    let local_user = match classify(ctx, &to) {
        Destination::Local(u) => Some(u),
        Destination::Remote(_) => None,
        Destination::Unknown => {
            tracing::warn!("{}: DSN for unknown local sender {to} discarded", entry.id);
            return Ok(false);
        }
    };
    let id = new_id(now);
    let hostname = &ctx.config.hostname;
    let bytes = match dsn::report(hostname, entry, recipients, action, message, now, &id) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("{}: cannot build DSN: {e}", entry.id);
            return Ok(false);
        }
    };
    let rcpt = Recipient {
        path: to,
        notify: None,
        orcpt: None,
    };
    let rcpt = QueuedRecipient::from_recipient(&rcpt, local_user);
    let report = QueueEntry::new(&ReversePath::Null, vec![rcpt], now);
    let dsn_id = ctx.queue.enqueue(report, &bytes)?;
    ctx.wake.notify_one();
    tracing::info!(
        "{}: {action:?} notification {dsn_id} to the sender",
        entry.id
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn header_scanning() {
        let m =
            b"Received: x\r\nreceived: y\r\n\tcontinued: z\r\nSubject: s\r\n\r\nReceived: body\r\n";
        assert_eq!(count_received(m), 2);
        assert!(has_field(m, "subject"));
        assert!(!has_field(m, "Date"));
        assert_eq!(header_len(b"\r\nbody"), 0);
        assert_eq!(header_len(b"A: b\r\n"), 6);
    }

    #[test]
    fn submission_adds_date_and_message_id_before_the_empty_line() {
        let now = UNIX_EPOCH + Duration::from_secs(1_704_067_200);
        let out = submission_fixups(
            b"Received: r\r\nSubject: s\r\n\r\nbody\r\n",
            "mx.alpha.test",
            now,
        );
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "Received: r\r\nSubject: s\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <"
            ),
            "{text}"
        );
        assert!(text.ends_with("@mx.alpha.test>\r\n\r\nbody\r\n"), "{text}");
        let complete = b"Date: d\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n";
        assert_eq!(submission_fixups(complete, "h", now), complete);
        // No empty line at all: the fields are appended to the header.
        let out = submission_fixups(b"Subject: s\r\nMessage-ID: <a@b>\r\n", "h", now);
        assert_eq!(
            out,
            b"Subject: s\r\nMessage-ID: <a@b>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        );
    }
}
