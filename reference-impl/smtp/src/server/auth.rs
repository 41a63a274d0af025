//! SASL for AUTH (RFC 4954): PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login),
//! as a small state machine over base64 lines.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Mechanisms offered in the EHLO `AUTH` keyword.
pub(crate) const MECHANISMS: &str = "PLAIN LOGIN";

/// Where a SASL exchange stands between lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Exchange {
    /// PLAIN after an empty challenge: waiting for `[authzid] NUL authcid NUL passwd`.
    Plain,
    /// LOGIN: waiting for the user name.
    LoginUser,
    /// LOGIN: waiting for the password of this user.
    LoginPassword(String),
}

/// What one client response leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Send `334 <base64 challenge>` and wait in this state.
    Challenge(&'static str, Exchange),
    /// Check these credentials.
    Credentials { user: String, password: String },
    /// `501 5.7.0`: the client sent `*` (RFC 4954 §4).
    Cancelled,
    /// `501 5.5.2`: not base64 (RFC 4954 §4 "MUST reject").
    BadBase64,
    /// `535 5.7.8`: malformed credentials, or an authorization identity other than the user
    /// (proxy authorization is not offered).
    Malformed,
}

/// LOGIN challenges: base64 of "Username:" and "Password:".
const USERNAME: &str = "VXNlcm5hbWU6";
const PASSWORD: &str = "UGFzc3dvcmQ6";

/// Decode a client response line: `*` cancels, `=` (initial response only) is empty.
fn decode(line: &[u8], initial: bool) -> Result<Vec<u8>, Step> {
    if line == b"*" && !initial {
        return Err(Step::Cancelled);
    }
    if line == b"=" && initial {
        return Ok(Vec::new());
    }
    let ok = std::str::from_utf8(line).is_ok_and(crate::codec::is_base64);
    if !ok {
        return Err(Step::BadBase64);
    }
    STANDARD.decode(line).map_err(|_| Step::BadBase64)
}

/// AUTH `mechanism` with an optional initial response (mechanism already upper-cased and
/// known to be offered).
pub(crate) fn start(mechanism: &str, initial: Option<&str>) -> Step {
    match (mechanism, initial) {
        ("PLAIN", None) => Step::Challenge("", Exchange::Plain),
        ("PLAIN", Some(ir)) => match decode(ir.as_bytes(), true) {
            Ok(b) => plain(&b),
            Err(s) => s,
        },
        ("LOGIN", None) => Step::Challenge(USERNAME, Exchange::LoginUser),
        ("LOGIN", Some(ir)) => match decode(ir.as_bytes(), true) {
            Ok(b) => login_user(b),
            Err(s) => s,
        },
        _ => Step::Malformed,
    }
}

/// The client's response line in state `ex`.
pub(crate) fn respond(ex: Exchange, line: &[u8]) -> Step {
    let b = match decode(line, false) {
        Ok(b) => b,
        Err(s) => return s,
    };
    match ex {
        Exchange::Plain => plain(&b),
        Exchange::LoginUser => login_user(b),
        Exchange::LoginPassword(user) => match String::from_utf8(b) {
            Ok(password) => Step::Credentials { user, password },
            Err(_) => Step::Malformed,
        },
    }
}

fn login_user(b: Vec<u8>) -> Step {
    match String::from_utf8(b) {
        Ok(u) if !u.is_empty() => Step::Challenge(PASSWORD, Exchange::LoginPassword(u)),
        _ => Step::Malformed,
    }
}

/// RFC 4616 §2: `message = [authzid] UTF8NUL authcid UTF8NUL passwd`.
fn plain(b: &[u8]) -> Step {
    let parts: Vec<&[u8]> = b.split(|&c| c == 0).collect();
    let [authzid, authcid, passwd] = parts.as_slice() else {
        return Step::Malformed;
    };
    let (Ok(authzid), Ok(user), Ok(password)) = (
        std::str::from_utf8(authzid),
        std::str::from_utf8(authcid),
        std::str::from_utf8(passwd),
    ) else {
        return Step::Malformed;
    };
    if user.is_empty() || (!authzid.is_empty() && authzid != user) {
        return Step::Malformed;
    }
    Step::Credentials {
        user: user.to_string(),
        password: password.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &[u8]) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn plain_initial_response() {
        let ir = b64(b"\0alice\0secret");
        assert_eq!(
            start("PLAIN", Some(&ir)),
            Step::Credentials {
                user: "alice".into(),
                password: "secret".into()
            }
        );
        let ir = b64(b"alice\0alice\0secret");
        assert!(matches!(
            start("PLAIN", Some(&ir)),
            Step::Credentials { .. }
        ));
        assert_eq!(
            start("PLAIN", Some(&b64(b"bob\0alice\0secret"))),
            Step::Malformed
        );
        assert_eq!(
            start("PLAIN", Some(&b64(b"alice\0secret"))),
            Step::Malformed
        );
        assert_eq!(start("PLAIN", Some("=")), Step::Malformed);
        assert_eq!(start("PLAIN", Some("*")), Step::BadBase64);
    }

    #[test]
    fn plain_with_challenge_and_cancel() {
        assert_eq!(start("PLAIN", None), Step::Challenge("", Exchange::Plain));
        assert_eq!(respond(Exchange::Plain, b"*"), Step::Cancelled);
        assert_eq!(respond(Exchange::Plain, b"not base64!"), Step::BadBase64);
        assert!(matches!(
            respond(Exchange::Plain, b64(b"\0u\0p").as_bytes()),
            Step::Credentials { .. }
        ));
    }

    #[test]
    fn login() {
        let Step::Challenge(c, ex) = start("LOGIN", None) else {
            panic!()
        };
        assert_eq!(STANDARD.decode(c).unwrap(), b"Username:");
        let Step::Challenge(c, ex) = respond(ex, b64(b"alice").as_bytes()) else {
            panic!()
        };
        assert_eq!(STANDARD.decode(c).unwrap(), b"Password:");
        assert_eq!(
            respond(ex, b64(b"pw").as_bytes()),
            Step::Credentials {
                user: "alice".into(),
                password: "pw".into()
            }
        );
        assert!(matches!(
            start("LOGIN", Some(&b64(b"alice"))),
            Step::Challenge(PASSWORD, _)
        ));
    }
}
