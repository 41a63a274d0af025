//! The SASL mechanisms the server offers through AUTH (RFC 5034): PLAIN (RFC 4616) and
//! LOGIN (the widely deployed draft-murchison-sasl-login), and their base64 framing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A SASL mechanism we implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// RFC 4616 PLAIN.
    Plain,
    /// LOGIN: user name and password, each answering a prompt.
    Login,
}

impl Mechanism {
    /// Every mechanism, in the order CAPA lists them.
    pub const ALL: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

    /// The mechanism named `name` (SASL names are case-insensitive, RFC 4422 §3.1).
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::ALL.into_iter().find(|m| m.name().eq_ignore_ascii_case(name))
    }

    /// Its registered name.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
        }
    }
}

/// The LOGIN prompts, base64: "Username:" and "Password:".
pub const LOGIN_USER_PROMPT: &str = "VXNlcm5hbWU6";
/// See [`LOGIN_USER_PROMPT`].
pub const LOGIN_PASS_PROMPT: &str = "UGFzc3dvcmQ6";

/// Decode a client response line or initial response (RFC 5034 §4): strict base64 (no
/// characters outside the alphabet, padding only at the end), `=` for the empty response.
pub fn decode_response(s: &[u8]) -> Option<Vec<u8>> {
    if s == b"=" {
        return Some(Vec::new());
    }
    STANDARD.decode(s).ok()
}

/// Credentials from a PLAIN message (RFC 4616 §2: `[authzid] NUL authcid NUL passwd`).
/// An authorization identity other than the authentication identity is refused (we do not
/// let one user act as another).
pub fn parse_plain(msg: &[u8]) -> Option<(String, Vec<u8>)> {
    let mut parts = msg.split(|&b| b == 0);
    let (authzid, authcid, passwd) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || authcid.is_empty() || passwd.is_empty() {
        return None;
    }
    if !authzid.is_empty() && authzid != authcid {
        return None;
    }
    let user = String::from_utf8(authcid.to_vec()).ok()?;
    Some((user, passwd.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_strict() {
        assert_eq!(decode_response(b"YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(decode_response(b"=").as_deref(), Some(&b""[..]));
        // RFC 5034 §4: "=AAA" and "AAA=BBB" are not allowed, nor characters outside base64.
        for bad in [&b"=AAA"[..], b"AAA=BBB", b"YW Jj", b"YWJj!", b"YWJ"] {
            assert_eq!(decode_response(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn plain_messages() {
        assert_eq!(parse_plain(b"\0alice\0secret"), Some(("alice".into(), b"secret".to_vec())));
        assert_eq!(parse_plain(b"alice\0alice\0secret"), Some(("alice".into(), b"secret".to_vec())));
        assert_eq!(parse_plain(b"bob\0alice\0secret"), None, "no proxy authorization");
        assert_eq!(parse_plain(b"\0alice\0"), None);
        assert_eq!(parse_plain(b"\0alice"), None);
        assert_eq!(parse_plain(b"\0alice\0a\0b"), None);
    }

    #[test]
    fn prompts_decode_to_their_words() {
        assert_eq!(decode_response(LOGIN_USER_PROMPT.as_bytes()).as_deref(), Some(&b"Username:"[..]));
        assert_eq!(decode_response(LOGIN_PASS_PROMPT.as_bytes()).as_deref(), Some(&b"Password:"[..]));
        assert_eq!(Mechanism::from_name("plain"), Some(Mechanism::Plain));
        assert_eq!(Mechanism::from_name("CRAM-MD5"), None);
    }
}
