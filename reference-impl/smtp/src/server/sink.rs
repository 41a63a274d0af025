//! The server session's world: who may send, who may receive, who may log in, where mail
//! goes, and what time it is. The MTA implements [`MailSink`] over its queue and maildirs;
//! [`MemorySink`] is the in-memory one for tests and the harness.

use std::net::SocketAddr;
use std::time::SystemTime;

use crate::codec::{Body, ForwardPath, Notify, Reply, Ret, ReversePath};
use wirecheck_wire::TlsInfo;

/// What the session knows about the client when it asks the sink something.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The peer's address, if the driver told the session.
    pub peer: Option<SocketAddr>,
    /// The EHLO / HELO argument (RFC 5321 §4.1.1.1), once given.
    pub helo: Option<String>,
    /// True when the client greeted with EHLO (not HELO).
    pub esmtp: bool,
    /// Set once TLS is up (RFC 3207).
    pub tls: Option<TlsInfo>,
    /// The authenticated user (RFC 4954), once AUTH succeeded.
    pub authenticated: Option<String>,
}

/// One accepted recipient with its DSN parameters (RFC 3461 §4.1, §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The forward-path as given in RCPT TO.
    pub path: ForwardPath,
    /// `NOTIFY=`, if given.
    pub notify: Option<Notify>,
    /// `ORCPT=addr-type;xtext`, if given (the xtext as sent).
    pub orcpt: Option<(String, String)>,
}

/// The envelope of one mail transaction (RFC 5321 §2.3.1, §3.3), handed to
/// [`MailSink::deliver`] with the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// MAIL FROM's reverse-path (`<>` for notifications, RFC 5321 §4.5.5).
    pub from: ReversePath,
    /// The accepted recipients, in RCPT order.
    pub recipients: Vec<Recipient>,
    /// `BODY=` (RFC 6152 / RFC 3030); `None` means 7BIT by default.
    pub body: Option<Body>,
    /// `SMTPUTF8` was given (RFC 6531 §3.4).
    pub smtputf8: bool,
    /// `SIZE=` as declared (RFC 1870).
    pub declared_size: Option<u64>,
    /// `RET=` (RFC 3461 §4.3).
    pub ret: Option<Ret>,
    /// `ENVID=` xtext as sent (RFC 3461 §4.4).
    pub envid: Option<String>,
    /// `AUTH=` as sent (RFC 4954 §5), kept only when the session is authenticated.
    pub auth: Option<String>,
    /// The client at the time of MAIL FROM.
    pub client: ClientInfo,
}

/// The sink's answer to MAIL FROM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailVerdict {
    /// `250 2.1.0`.
    Accept,
    /// Any other reply, e.g. `550 5.7.1` for a sender refused by policy, `451 4.3.0` for a
    /// temporary problem. Give the enhanced code in the text; the session strips it when
    /// the client did not ask for ENHANCEDSTATUSCODES.
    Reject(Reply),
}

/// The sink's answer to RCPT TO (RFC 5321 §3.3, §3.6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptVerdict {
    /// A local mailbox: `250 2.1.5`.
    Local,
    /// Not local but relaying is allowed (e.g. the client authenticated): `250 2.1.5`.
    Relay,
    /// No such local user: `550 5.1.1`.
    UnknownUser,
    /// Not local and relaying is not allowed: `554 5.7.1 Relay access denied`.
    RelayDenied,
    /// Mailbox temporarily unavailable (full, locked): `450 4.2.1`.
    TemporaryFailure,
    /// Any other reply (enhanced code in the text, as for [`MailVerdict::Reject`]).
    Reject(Reply),
}

/// The sink's answer to VRFY (RFC 5321 §3.5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyVerdict {
    /// `252 2.5.0`: cannot verify but will accept mail (the default, RFC 5321 §3.5.3 / §7.3).
    CannotVerify,
    /// `250 2.1.5` with this mailbox (e.g. `Alice <alice@example.org>`).
    Mailbox(String),
    /// `550 5.1.1`.
    Unknown,
}

/// Why [`MailSink::deliver`] did not take the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// Try again later (disk full, lock held): `451 4.3.0` after DATA.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Never (policy, content): `554 5.6.0` after DATA.
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// Storage quota exceeded: `552 5.2.2`.
    #[error("quota exceeded: {0}")]
    QuotaExceeded(String),
}

/// Everything the server session needs from outside. All calls are synchronous: the
/// driver runs the session with `DriverConfig { blocking: true }`, so a call may do file
/// I/O (and must not block on anything that can wait forever).
///
/// The session owns the protocol (sequence rules, syntax, limits, replies); the sink owns
/// policy and storage. Defaults accept senders, verify nobody (252), and authenticate
/// nobody.
pub trait MailSink {
    /// MAIL FROM (RFC 5321 §4.1.1.2), after the session checked syntax, sequence, SIZE and
    /// parameters. `envelope` has `from`, the parameters and `client` filled in and no
    /// recipients yet.
    fn check_mail(&mut self, envelope: &Envelope) -> MailVerdict {
        let _ = envelope;
        MailVerdict::Accept
    }

    /// RCPT TO (RFC 5321 §4.1.1.3): is `rcpt` a local user, may we relay to it, or neither?
    /// `envelope` holds the recipients accepted so far. `<Postmaster>` (RFC 5321 §4.5.1)
    /// is asked too: a sink MUST accept it (return `Local`).
    fn check_rcpt(&mut self, envelope: &Envelope, rcpt: &Recipient) -> RcptVerdict;

    /// AUTH PLAIN / LOGIN (RFC 4954, RFC 4616): true when `password` is right for `user`.
    /// The session only calls this over TLS when the config requires TLS for AUTH.
    fn authenticate(&mut self, user: &str, password: &str) -> bool {
        let _ = (user, password);
        false
    }

    /// VRFY (RFC 5321 §3.5.3).
    fn verify(&mut self, argument: &str) -> VerifyVerdict {
        let _ = argument;
        VerifyVerdict::CannotVerify
    }

    /// Take responsibility for a message (RFC 5321 §6.1): the session sends `250` only
    /// after this returned `Ok`, so an implementation MUST have the message on stable
    /// storage (written and fsynced) before it returns. `message` is the content as
    /// received (dot-stuffing removed, CRLF line ends), with the session's `Received:`
    /// trace header (RFC 5321 §4.4) already prepended; adding `Return-Path:` at final
    /// delivery is the sink's job (§4.4). Returns a queue id for the `250` reply.
    fn deliver(&mut self, envelope: &Envelope, message: &[u8]) -> Result<String, DeliveryError>;

    /// The current time, for the `Received:` header. Sessions never read the clock
    /// themselves, so tests are deterministic.
    fn now(&self) -> SystemTime;
}

/// One message [`MemorySink`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The queue id returned.
    pub id: String,
    /// The envelope.
    pub envelope: Envelope,
    /// The message bytes as delivered (with the `Received:` header).
    pub message: Vec<u8>,
}

/// An in-memory [`MailSink`] for tests: local users in `domains`, relaying for
/// authenticated clients only, a fixed clock.
#[derive(Debug, Clone)]
pub struct MemorySink {
    /// Domains we are the final destination for (compared case-insensitively).
    pub domains: Vec<String>,
    /// Local users (local parts, compared case-insensitively); empty = every local part.
    pub users: Vec<String>,
    /// `(user, password)` pairs for AUTH.
    pub credentials: Vec<(String, String)>,
    /// What [`MailSink::now`] returns.
    pub clock: SystemTime,
    /// When set, `deliver` fails with this error.
    pub fail_delivery: Option<DeliveryError>,
    /// Messages delivered, in order.
    pub delivered: Vec<Delivered>,
}

impl MemorySink {
    /// A sink for `domain` with any local part, no credentials, clock at 2024-01-01T00:00:00Z.
    pub fn new(domain: &str) -> MemorySink {
        MemorySink {
            domains: vec![domain.to_string()],
            users: Vec::new(),
            credentials: Vec::new(),
            clock: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_704_067_200),
            fail_delivery: None,
            delivered: Vec::new(),
        }
    }
}

impl MailSink for MemorySink {
    fn check_rcpt(&mut self, envelope: &Envelope, rcpt: &Recipient) -> RcptVerdict {
        let Some(mailbox) = rcpt.path.mailbox() else {
            return RcptVerdict::Local;
        };
        let domain = mailbox.domain().as_str();
        if self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
            let local = mailbox.local_part_unquoted();
            if rcpt.path.is_postmaster()
                || self.users.is_empty()
                || self.users.iter().any(|u| u.eq_ignore_ascii_case(&local))
            {
                RcptVerdict::Local
            } else {
                RcptVerdict::UnknownUser
            }
        } else if envelope.client.authenticated.is_some() {
            RcptVerdict::Relay
        } else {
            RcptVerdict::RelayDenied
        }
    }

    fn authenticate(&mut self, user: &str, password: &str) -> bool {
        self.credentials
            .iter()
            .any(|(u, p)| u == user && p == password)
    }

    fn deliver(&mut self, envelope: &Envelope, message: &[u8]) -> Result<String, DeliveryError> {
        if let Some(e) = &self.fail_delivery {
            return Err(e.clone());
        }
        let id = format!("M{}", self.delivered.len() + 1);
        self.delivered.push(Delivered {
            id: id.clone(),
            envelope: envelope.clone(),
            message: message.to_vec(),
        });
        Ok(id)
    }

    fn now(&self) -> SystemTime {
        self.clock
    }
}

/// A sink shared between connections (and a test that inspects it afterwards).
impl<S: MailSink> MailSink for std::sync::Arc<std::sync::Mutex<S>> {
    fn check_mail(&mut self, envelope: &Envelope) -> MailVerdict {
        match self.lock() {
            Ok(mut s) => s.check_mail(envelope),
            Err(_) => MailVerdict::Reject(Reply::single(451, "4.3.0 Local error")),
        }
    }
    fn check_rcpt(&mut self, envelope: &Envelope, rcpt: &Recipient) -> RcptVerdict {
        match self.lock() {
            Ok(mut s) => s.check_rcpt(envelope, rcpt),
            Err(_) => RcptVerdict::TemporaryFailure,
        }
    }
    fn authenticate(&mut self, user: &str, password: &str) -> bool {
        self.lock()
            .is_ok_and(|mut s| s.authenticate(user, password))
    }
    fn verify(&mut self, argument: &str) -> VerifyVerdict {
        match self.lock() {
            Ok(mut s) => s.verify(argument),
            Err(_) => VerifyVerdict::CannotVerify,
        }
    }
    fn deliver(&mut self, envelope: &Envelope, message: &[u8]) -> Result<String, DeliveryError> {
        match self.lock() {
            Ok(mut s) => s.deliver(envelope, message),
            Err(_) => Err(DeliveryError::Temporary("sink lock poisoned".into())),
        }
    }
    fn now(&self) -> SystemTime {
        self.lock().map_or(SystemTime::UNIX_EPOCH, |s| s.now())
    }
}
