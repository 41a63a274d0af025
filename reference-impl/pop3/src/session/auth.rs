//! The AUTH command's SASL exchange (RFC 5034 §4): challenges, client response lines, cancel.

use super::{MAX_COMMAND_LINE, MAX_SASL_LINE, SaslStep, ServerSession, State};
use crate::sasl::{self, LOGIN_PASS_PROMPT, LOGIN_USER_PROMPT, Mechanism};

impl ServerSession {
    /// RFC 5034 §4 AUTH mechanism [initial-response].
    pub(super) fn auth(&mut self, mechanism: &str, initial: Option<String>) {
        let Some(mech) = Mechanism::from_name(mechanism) else {
            return self.err("unsupported SASL mechanism");
        };
        if self.plaintext_refused() {
            return;
        }
        let initial = match initial.map(|i| sasl::decode_response(i.as_bytes())) {
            Some(None) => return self.fail_sasl("[AUTH] invalid base64"),
            Some(Some(bytes)) => Some(bytes),
            None => None,
        };
        match (mech, initial) {
            // RFC 5034 §4: an empty challenge is "+" followed by a single space.
            (Mechanism::Plain, None) => {
                self.state = State::Sasl(SaslStep::Plain);
                self.challenge("");
            }
            (Mechanism::Plain, Some(msg)) => self.sasl_plain(&msg),
            (Mechanism::Login, None) => {
                self.state = State::Sasl(SaslStep::LoginUser);
                self.challenge(LOGIN_USER_PROMPT);
            }
            (Mechanism::Login, Some(user)) => self.login_user(&user),
        }
    }

    fn challenge(&mut self, b64: &str) {
        self.lines.set_max_line(MAX_SASL_LINE);
        self.send(format!("+ {b64}\r\n").into_bytes());
    }

    pub(super) fn sasl_response(&mut self, line: &[u8]) {
        // RFC 5034 §4: "*" cancels, and the server MUST reject the AUTH command.
        if line == b"*" {
            return self.fail_sasl("[AUTH] authentication cancelled");
        }
        let Some(bytes) = sasl::decode_response(line) else {
            return self.fail_sasl("[AUTH] invalid base64");
        };
        let step = std::mem::replace(&mut self.state, State::Authorization { user: None });
        self.lines.set_max_line(MAX_COMMAND_LINE - 2);
        match step {
            State::Sasl(SaslStep::Plain) => self.sasl_plain(&bytes),
            State::Sasl(SaslStep::LoginUser) => self.login_user(&bytes),
            State::Sasl(SaslStep::LoginPass(user)) => {
                if self.store.users().verify(&user, &bytes) {
                    self.open_maildrop(&user);
                } else {
                    self.auth_failed();
                }
            }
            other => self.state = other,
        }
    }

    fn login_user(&mut self, user: &[u8]) {
        match String::from_utf8(user.to_vec()) {
            Ok(u) if !u.is_empty() => {
                self.state = State::Sasl(SaslStep::LoginPass(u));
                self.challenge(LOGIN_PASS_PROMPT);
            }
            _ => self.fail_sasl("[AUTH] bad user name"),
        }
    }

    fn sasl_plain(&mut self, msg: &[u8]) {
        match sasl::parse_plain(msg) {
            Some((user, pass)) if self.store.users().verify(&user, &pass) => self.open_maildrop(&user),
            _ => self.auth_failed(),
        }
    }

    /// An AUTH exchange ends without success; RFC 5034 §4: the server "MUST behave as if the
    /// client had not issued the AUTH command".
    pub(super) fn fail_sasl(&mut self, text: &str) {
        self.lines.set_max_line(MAX_COMMAND_LINE - 2);
        self.state = State::Authorization { user: None };
        self.err(text);
    }
}
