//! The server's command handlers: sequence rules (RFC 5321 §4.1.4), replies (§4.2, §4.3.2)
//! and the extensions' commands and parameters.

use wirecheck_wire::Output;

use super::data::{MessageBuffer, received_header, with_protocol};
use super::{
    DeliveryError, Envelope, MailSink, MailVerdict, RcptVerdict, Recipient, ServerSession, State,
    Transaction, VerifyVerdict, auth, is_binary, shutting_down,
};
use crate::codec::{Body, Command, CommandError, Domain, Param, Reply, decode_command};

/// RFC 5321 §4.5.3.1.3: "The maximum total length of a reverse-path or forward-path is
/// 256 octets (including the punctuation and element separators)."
const MAX_PATH: usize = 256;

impl<S: MailSink> ServerSession<S> {
    pub(super) fn command_line(&mut self, line: &[u8]) {
        if shutting_down(&self.shutdown) {
            self.reply(
                421,
                "4.3.2",
                &format!(
                    "{} Service shutting down, closing connection",
                    self.cfg.hostname
                ),
            );
            self.close();
            return;
        }
        let is_auth = line
            .get(..5)
            .is_some_and(|v| v.eq_ignore_ascii_case(b"AUTH "));
        if !is_auth && line.len() + 2 > self.cfg.max_command_line {
            // RFC 5321 §4.5.3.1.9: "500 Line too long".
            return self.error(500, "5.5.2", "Line too long");
        }
        match decode_command(line) {
            Ok(cmd) => self.command(cmd),
            Err(e) => self.command_error(e),
        }
    }

    fn command_error(&mut self, e: CommandError) {
        match e {
            CommandError::Unrecognized { .. } => {
                self.error(500, "5.5.2", "Syntax error, command unrecognized")
            }
            CommandError::NotImplemented { verb } => {
                self.error(502, "5.5.1", &format!("{verb} not implemented"))
            }
            CommandError::Path { verb: "MAIL", .. } => {
                self.error(501, "5.1.7", "Bad sender address syntax")
            }
            CommandError::Path { .. } => self.error(501, "5.1.3", "Bad recipient address syntax"),
            CommandError::Param { source, .. } => self.error(
                501,
                "5.5.4",
                &format!("Syntax error in parameters: {source}"),
            ),
            CommandError::Syntax { verb, reason } => {
                self.error(501, "5.5.4", &format!("Syntax error in {verb}: {reason}"))
            }
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Ehlo(d) => self.ehlo(d, true),
            Command::Helo(d) => self.ehlo(d, false),
            Command::Mail { from, params } => self.mail(from, params),
            Command::Rcpt { to, params } => self.rcpt(to, params),
            Command::Data => self.data(),
            Command::Bdat { size, last } => self.bdat(size, last),
            Command::Rset => {
                // RFC 5321 §4.1.1.5: abort the transaction, keep the greeting.
                self.tx = None;
                self.reply(250, "2.0.0", "Ok");
            }
            Command::Noop(_) => self.reply(250, "2.0.0", "Ok"),
            Command::Vrfy(arg) => match self.sink.verify(&arg) {
                VerifyVerdict::CannotVerify => self.reply(
                    252,
                    "2.5.0",
                    "Cannot VRFY user, but will accept message and attempt delivery",
                ),
                VerifyVerdict::Mailbox(m) => self.reply(250, "2.1.5", &m),
                VerifyVerdict::Unknown => self.reply(550, "5.1.1", "User unknown"),
            },
            // RFC 5321 §3.5.2 / §7.3: EXPN may be disabled; there are no lists here.
            Command::Expn(_) => self.error(502, "5.5.1", "EXPN not implemented"),
            Command::Help(_) => self.help(),
            Command::Quit => {
                // RFC 5321 §4.1.1.10: 221, then close.
                self.reply(221, "2.0.0", "Bye");
                self.close();
            }
            Command::StartTls => self.starttls(),
            Command::Auth {
                mechanism,
                initial_response,
            } => self.auth(&mechanism, initial_response.as_deref()),
        }
    }

    /// RFC 5321 §4.1.1.1 / §4.1.4: EHLO and HELO reset the state as RSET does.
    fn ehlo(&mut self, domain: Domain, esmtp: bool) {
        self.tx = None;
        self.client.helo = Some(domain.to_string());
        self.client.esmtp = esmtp;
        let host = self.cfg.hostname.clone();
        if !esmtp {
            return self.send(Reply::single(250, &host));
        }
        let x = &self.cfg.extensions;
        let mut lines = vec![format!("{host} greets {domain}")];
        let tls_active = self.client.tls.is_some();
        for (on, kw) in [
            (x.pipelining, "PIPELINING".to_string()),
            (true, format!("SIZE {}", self.cfg.max_message_size)),
            (x.eightbitmime, "8BITMIME".into()),
            (x.enhanced_status_codes, "ENHANCEDSTATUSCODES".into()),
            (x.smtputf8, "SMTPUTF8".into()),
            (x.chunking, "CHUNKING".into()),
            (x.chunking && x.binarymime, "BINARYMIME".into()),
            (x.dsn, "DSN".into()),
            (self.cfg.starttls && !tls_active, "STARTTLS".into()),
            (self.auth_offered(), format!("AUTH {}", auth::MECHANISMS)),
            (true, "HELP".into()),
        ] {
            if on {
                lines.push(kw);
            }
        }
        self.send(Reply::new(250, &lines));
    }

    fn auth_offered(&self) -> bool {
        self.cfg.auth && (self.client.tls.is_some() || !self.cfg.auth_requires_tls)
    }

    /// Checks shared by MAIL, RCPT, DATA and BDAT: greeted first (RFC 5321 §4.1.4).
    fn greeted(&mut self) -> bool {
        if self.client.helo.is_none() {
            self.error(503, "5.5.1", "Send HELO/EHLO first");
            return false;
        }
        true
    }

    /// RFC 5321 §4.1.1.2, with SIZE (RFC 1870 §6), BODY (RFC 6152, 3030), SMTPUTF8 (RFC 6531
    /// §3.4), RET/ENVID (RFC 3461 §4.3, §4.4), AUTH= (RFC 4954 §5).
    fn mail(&mut self, from: crate::codec::ReversePath, params: Vec<Param>) {
        if !self.greeted() {
            return;
        }
        if self.tx.is_some() {
            return self.error(503, "5.5.1", "Nested MAIL command");
        }
        if self.cfg.require_auth && self.client.authenticated.is_none() {
            return self.error(530, "5.7.0", "Authentication required");
        }
        let mut env = Envelope {
            from: from.clone(),
            recipients: Vec::new(),
            body: None,
            smtputf8: false,
            declared_size: None,
            ret: None,
            envid: None,
            auth: None,
            client: self.client.clone(),
        };
        if let Err((code, enh, text)) = self.mail_params(&params, &mut env) {
            return self.error(code, enh, &text);
        }
        if let Some(size) = env.declared_size
            && size > self.cfg.max_message_size
        {
            // RFC 1870 §6.1 (3).
            return self.reply(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            );
        }
        if let Some(m) = from.mailbox() {
            if m.to_string().len() + 2 > MAX_PATH {
                return self.error(501, "5.1.7", "Path too long");
            }
            if !m.is_ascii() && !env.smtputf8 {
                // RFC 6531 §3.5: "550" for MAIL, X.6.7.
                return self.reply(
                    550,
                    "5.6.7",
                    "Non-ASCII addresses not permitted without SMTPUTF8",
                );
            }
        }
        match self.sink.check_mail(&env) {
            MailVerdict::Accept => {
                self.tx = Some(Transaction {
                    envelope: env,
                    bdat: None,
                });
                self.reply(250, "2.1.0", "Ok");
            }
            MailVerdict::Reject(r) => self.sink_reply(r),
        }
    }

    fn mail_params(
        &self,
        params: &[Param],
        env: &mut Envelope,
    ) -> Result<(), (u16, &'static str, String)> {
        let x = &self.cfg.extensions;
        let mut seen: Vec<String> = Vec::new();
        for p in params {
            let kw = p.keyword();
            if seen.contains(&kw) {
                return Err((501, "5.5.4", format!("Duplicate {kw} parameter")));
            }
            seen.push(kw.clone());
            let offered = self.client.esmtp
                && match p {
                    Param::Size(_) => true,
                    Param::Body(Body::SevenBit) => true,
                    Param::Body(Body::EightBitMime) => x.eightbitmime,
                    Param::Body(Body::BinaryMime) => x.chunking && x.binarymime,
                    Param::SmtpUtf8 => x.smtputf8,
                    Param::Ret(_) | Param::EnvId(_) => x.dsn,
                    Param::Auth(_) => self.auth_offered(),
                    _ => false,
                };
            if !offered {
                // RFC 5321 §4.1.1.11: unrecognised or unimplemented parameters get 555.
                return Err((
                    555,
                    "5.5.4",
                    format!("{kw} parameter not recognized or not implemented"),
                ));
            }
            match p {
                Param::Size(n) => env.declared_size = Some(*n),
                Param::Body(b) => env.body = Some(*b),
                Param::SmtpUtf8 => env.smtputf8 = true,
                Param::Ret(r) => env.ret = Some(*r),
                Param::EnvId(e) => env.envid = Some(e.clone()),
                // RFC 4954 §5: only trusted (authenticated) sessions keep AUTH=.
                Param::Auth(a) => env.auth = self.client.authenticated.as_ref().map(|_| a.clone()),
                _ => {}
            }
        }
        Ok(())
    }

    /// RFC 5321 §4.1.1.3, with NOTIFY / ORCPT (RFC 3461 §4.1, §4.2).
    fn rcpt(&mut self, to: crate::codec::ForwardPath, params: Vec<Param>) {
        if !self.greeted() {
            return;
        }
        let Some(tx) = self.tx.as_ref() else {
            return self.error(503, "5.5.1", "Need MAIL command");
        };
        let smtputf8 = tx.envelope.smtputf8;
        let count = tx.envelope.recipients.len();
        let mut rcpt = Recipient {
            path: to,
            notify: None,
            orcpt: None,
        };
        let mut seen: Vec<String> = Vec::new();
        for p in &params {
            let kw = p.keyword();
            if seen.contains(&kw) {
                return self.error(501, "5.5.4", &format!("Duplicate {kw} parameter"));
            }
            seen.push(kw.clone());
            match p {
                Param::Notify(n) if self.cfg.extensions.dsn && self.client.esmtp => {
                    rcpt.notify = Some(*n)
                }
                Param::Orcpt { addr_type, addr }
                    if self.cfg.extensions.dsn && self.client.esmtp =>
                {
                    rcpt.orcpt = Some((addr_type.clone(), addr.clone()))
                }
                _ => {
                    return self.error(
                        555,
                        "5.5.4",
                        &format!("{kw} parameter not recognized or not implemented"),
                    );
                }
            }
        }
        if count >= self.cfg.max_recipients {
            // RFC 5321 §4.5.3.1.10: "it MUST use a response code of 452".
            return self.reply(452, "4.5.3", "Too many recipients");
        }
        if let Some(m) = rcpt.path.mailbox() {
            if m.to_string().len() + 2 > MAX_PATH {
                return self.error(501, "5.1.3", "Path too long");
            }
            if !m.is_ascii() && !smtputf8 {
                // RFC 6531 §3.5: "553" for RCPT, X.6.7.
                return self.reply(
                    553,
                    "5.6.7",
                    "Non-ASCII addresses not permitted without SMTPUTF8",
                );
            }
        }
        let Some(tx) = self.tx.as_ref() else { return };
        match self.sink.check_rcpt(&tx.envelope, &rcpt) {
            RcptVerdict::Local | RcptVerdict::Relay => {
                if let Some(tx) = self.tx.as_mut() {
                    tx.envelope.recipients.push(rcpt);
                }
                self.reply(250, "2.1.5", "Ok");
            }
            RcptVerdict::UnknownUser => {
                self.reply(550, "5.1.1", "Recipient address rejected: User unknown")
            }
            RcptVerdict::RelayDenied => self.reply(554, "5.7.1", "Relay access denied"),
            RcptVerdict::TemporaryFailure => {
                self.reply(450, "4.2.1", "Mailbox temporarily unavailable")
            }
            RcptVerdict::Reject(r) => self.sink_reply(r),
        }
    }

    /// The transaction is ready for content: MAIL given and at least one RCPT accepted
    /// (RFC 5321 §3.3: 503 without MAIL, 554 "no valid recipients").
    fn ready_for_content(&mut self) -> bool {
        if !self.greeted() {
            return false;
        }
        match &self.tx {
            None => {
                self.error(503, "5.5.1", "Need MAIL command");
                false
            }
            Some(tx) if tx.envelope.recipients.is_empty() => {
                self.reply(554, "5.5.1", "No valid recipients");
                false
            }
            Some(_) => true,
        }
    }

    /// RFC 5321 §4.1.1.4.
    fn data(&mut self) {
        if !self.ready_for_content() {
            return;
        }
        if self
            .tx
            .as_ref()
            .is_some_and(|t| t.bdat.is_some() || is_binary(t))
        {
            // RFC 3030 §2 / §3: no DATA after BDAT, nor with BODY=BINARYMIME.
            return self.error(
                503,
                "5.5.1",
                "DATA not allowed with BDAT or BODY=BINARYMIME",
            );
        }
        self.reply(354, "", "End data with <CR><LF>.<CR><LF>");
        self.set_state(State::Data(MessageBuffer::new(
            self.cfg.max_message_size,
            self.cfg.bare_newline,
        )));
    }

    /// RFC 3030 §2: the chunk is always read, even when refused.
    fn bdat(&mut self, size: u64, last: bool) {
        let refuse = if !self.cfg.extensions.chunking {
            Some(Reply::single(502, "5.5.1 BDAT not implemented"))
        } else if self.client.helo.is_none() {
            Some(Reply::single(503, "5.5.1 Send HELO/EHLO first"))
        } else {
            match &self.tx {
                None => Some(Reply::single(503, "5.5.1 Need MAIL command")),
                Some(t) if t.envelope.recipients.is_empty() => {
                    Some(Reply::single(554, "5.5.1 No valid recipients"))
                }
                Some(_) => None,
            }
        };
        if refuse.is_none()
            && let Some(tx) = self.tx.as_mut()
            && tx.bdat.is_none()
        {
            tx.bdat = Some(MessageBuffer::new(
                self.cfg.max_message_size,
                super::BareNewline::Accept,
            ));
        }
        self.set_state(State::Bdat {
            remaining: size,
            last,
            discard: refuse,
        });
        if size == 0 {
            self.end_of_chunk();
        }
    }

    /// A BDAT chunk has been read completely.
    pub(super) fn end_of_chunk(&mut self) {
        let State::Bdat { last, discard, .. } = std::mem::replace(&mut self.state, State::Command)
        else {
            return;
        };
        self.set_state(State::Command);
        if let Some(r) = discard {
            self.sink_reply(r);
            return self.count_error();
        }
        let exceeded = self
            .tx
            .as_ref()
            .and_then(|t| t.bdat.as_ref())
            .is_some_and(|b| b.flaws.exceeded);
        if exceeded {
            // RFC 3030 §2 + RFC 1870: the transaction fails; later chunks get 503.
            self.tx = None;
            return self.reply(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            );
        }
        if !last {
            let n = self
                .tx
                .as_ref()
                .and_then(|t| t.bdat.as_ref())
                .map_or(0, |b| b.bytes.len());
            return self.reply(250, "2.0.0", &format!("{n} octets received"));
        }
        if let Some(msg) = self.tx.as_mut().and_then(|t| t.bdat.take()) {
            self.end_of_message(msg);
        }
    }

    /// End of DATA or the last BDAT chunk: refuse or deliver, then end the transaction.
    pub(super) fn end_of_message(&mut self, msg: MessageBuffer) {
        let Some(tx) = self.tx.take() else { return };
        if msg.flaws.exceeded {
            return self.reply(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            );
        }
        if msg.flaws.line_too_long {
            return self.reply(500, "5.5.2", "Line too long");
        }
        if msg.flaws.bare_newline {
            return self.reply(
                554,
                "5.5.2",
                "Message contains bare CR or LF (RFC 5321 section 2.3.8)",
            );
        }
        let env = tx.envelope;
        let with = with_protocol(
            self.client.esmtp,
            self.client.tls.is_some(),
            self.client.authenticated.is_some(),
            env.smtputf8,
        );
        let for_path = match env.recipients.as_slice() {
            [one] => Some(one.path.to_string()),
            _ => None,
        };
        let helo = self.client.helo.clone().unwrap_or_default();
        let mut message = received_header(
            &helo,
            self.client.peer.map(|p| p.ip()),
            &self.cfg.hostname,
            &with,
            for_path.as_deref(),
            self.sink.now(),
        );
        message.extend_from_slice(&msg.bytes);
        match self.sink.deliver(&env, &message) {
            Ok(id) => self.reply(250, "2.0.0", &format!("Ok: queued as {id}")),
            Err(DeliveryError::Temporary(_)) => self.reply(
                451,
                "4.3.0",
                "Requested action aborted: local error in processing",
            ),
            Err(DeliveryError::QuotaExceeded(_)) => self.reply(552, "5.2.2", "Mailbox full"),
            Err(_) => self.reply(554, "5.6.0", "Transaction failed"),
        }
    }

    fn help(&mut self) {
        let enh = if self.enhanced() { "2.0.0 " } else { "" };
        let lines = [
            format!("{enh}Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT"),
            format!("{enh}          VRFY EXPN HELP STARTTLS AUTH"),
            format!("{enh}See RFC 5321"),
        ];
        self.send(Reply::new(214, &lines));
    }

    /// RFC 3207 §4.
    fn starttls(&mut self) {
        if !self.cfg.starttls {
            return self.error(502, "5.5.1", "STARTTLS not available");
        }
        if self.client.tls.is_some() {
            return self.error(503, "5.5.1", "TLS already active");
        }
        if self.tx.is_some() {
            return self.error(
                503,
                "5.5.1",
                "STARTTLS not allowed during a mail transaction",
            );
        }
        self.reply(220, "2.0.0", "Ready to start TLS");
        self.out.push_back(Output::StartTls);
        // RFC 3207 §4.2: "the server MUST discard any knowledge obtained from the client";
        // the client must EHLO again. Buffered input is dropped (the injection attack).
        self.discard_input = true;
        self.client.helo = None;
        self.client.esmtp = false;
        self.client.authenticated = None;
        self.tx = None;
    }

    /// RFC 4954 §4.
    fn auth(&mut self, mechanism: &str, initial: Option<&str>) {
        if !self.cfg.auth {
            return self.error(502, "5.5.1", "AUTH not available");
        }
        if self.client.helo.is_none() || !self.client.esmtp {
            return self.error(503, "5.5.1", "Send EHLO first");
        }
        if self.client.authenticated.is_some() {
            return self.error(503, "5.5.1", "Already authenticated");
        }
        if self.tx.is_some() {
            return self.error(503, "5.5.1", "AUTH not permitted during a mail transaction");
        }
        if self.cfg.auth_requires_tls && self.client.tls.is_none() {
            // RFC 4954 §6 deprecates 538; 530 5.7.0 as Postfix and others send.
            return self.error(530, "5.7.0", "Must issue a STARTTLS command first");
        }
        if !auth::MECHANISMS.split(' ').any(|m| m == mechanism) {
            return self.error(504, "5.5.4", "Unrecognized authentication type");
        }
        if let Some(ir) = initial
            && ir.len() + 2 > self.cfg.max_auth_line
        {
            return self.error(500, "5.5.6", "Authentication Exchange line is too long");
        }
        let step = auth::start(mechanism, initial);
        self.auth_step(step);
    }

    pub(super) fn auth_step(&mut self, step: auth::Step) {
        match step {
            auth::Step::Challenge(c, ex) => {
                // RFC 4954 §4: continue-req = "334" SP [base64] CRLF (the SP is kept).
                self.out
                    .push_back(Output::Send(format!("334 {c}\r\n").into_bytes()));
                self.set_state(State::Auth(ex));
            }
            auth::Step::Credentials { user, password } => {
                if self.sink.authenticate(&user, &password) {
                    self.client.authenticated = Some(user);
                    self.reply(235, "2.7.0", "Authentication successful");
                } else {
                    self.error(535, "5.7.8", "Authentication credentials invalid");
                }
            }
            auth::Step::Cancelled => self.error(501, "5.7.0", "Authentication cancelled"),
            auth::Step::BadBase64 => self.error(501, "5.5.2", "Cannot decode response"),
            auth::Step::Malformed => self.error(535, "5.7.8", "Authentication credentials invalid"),
        }
    }
}
