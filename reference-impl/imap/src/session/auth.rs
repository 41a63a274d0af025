//! LOGIN and AUTHENTICATE PLAIN (RFC 9051 §6.2.2-6.2.3, RFC 4616, SASL-IR RFC 4959).

use super::{Input, ServerSession, State};

impl ServerSession {
    /// RFC 9051 §6.2.3 LOGIN.
    pub(super) fn login(&mut self, tag: &str, user: &[u8], pass: &[u8]) {
        if !self.login_allowed() {
            // RFC 9051 §6.2.3: "A server implementation MUST NOT allow plaintext LOGIN"
            // when it advertised LOGINDISABLED.
            self.tagged(tag, "NO", "[PRIVACYREQUIRED] LOGIN is disabled before STARTTLS");
            return;
        }
        self.finish_login(tag, user, pass);
    }

    /// RFC 9051 §6.2.2 AUTHENTICATE; only PLAIN (RFC 4616) is offered.
    pub(super) fn authenticate(&mut self, tag: &str, mechanism: &str, initial: Option<Vec<u8>>) {
        if mechanism != "PLAIN" {
            self.tagged(tag, "NO", "Unsupported authentication mechanism");
            return;
        }
        if !self.login_allowed() {
            self.tagged(tag, "NO", "[PRIVACYREQUIRED] Authentication is disabled before STARTTLS");
            return;
        }
        match initial {
            Some(resp) => self.plain_response(tag, &resp),
            None => {
                // RFC 4616 §2: PLAIN has no server challenge: an empty continuation.
                self.send(b"+ \r\n");
                self.input = Input::Authenticate { tag: tag.to_string(), mechanism: mechanism.to_string() };
            }
        }
    }

    /// The client's response line in an AUTHENTICATE exchange.
    pub(super) fn auth_line(&mut self, tag: &str, _mechanism: &str) -> bool {
        let Some(line) = self.exchange_line(tag, "Authentication response too long") else { return false };
        if line == b"*" {
            // RFC 9051 §6.2.2: "If the client wishes to cancel ... it issues a line
            // consisting of a single "*". ... the server MUST reject the AUTHENTICATE
            // command by sending a tagged BAD response."
            self.tagged(tag, "BAD", "Authentication cancelled");
        } else {
            self.plain_response(tag, &line);
        }
        true
    }

    fn plain_response(&mut self, tag: &str, b64: &[u8]) {
        let decoded = if b64 == b"=" { Ok(Vec::new()) } else { wirecheck_message::base64::decode(b64) };
        let Ok(msg) = decoded else {
            // RFC 9051 §6.2.2: a response that is not base64 is rejected with BAD.
            self.tagged(tag, "BAD", "Invalid base64 in authentication response");
            return;
        };
        // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd
        let parts: Vec<&[u8]> = msg.split(|&b| b == 0).collect();
        match parts.as_slice() {
            [authz, authc, pass] if authz.is_empty() || authz == authc => {
                let (authc, pass) = (authc.to_vec(), pass.to_vec());
                self.finish_login(tag, &authc, &pass);
            }
            _ => self.auth_failed(tag),
        }
    }

    fn finish_login(&mut self, tag: &str, user: &[u8], pass: &[u8]) {
        let name = String::from_utf8_lossy(user).into_owned();
        if self.store.users().verify(&name, pass) {
            self.user = Some(name);
            self.state = State::Authenticated;
            // RFC 9051 §6.2.3: the server MAY include a CAPABILITY response code.
            let caps = self.capabilities();
            self.tagged(tag, "OK", &format!("[CAPABILITY {caps}] Logged in"));
        } else {
            self.auth_failed(tag);
        }
    }

    fn auth_failed(&mut self, tag: &str) {
        self.auth_failures += 1;
        self.tagged(tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
        if self.auth_failures >= self.cfg.max_auth_failures {
            self.bye_and_close("Too many authentication failures");
        }
    }
}
