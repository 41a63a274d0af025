//! ESMTP parameters of MAIL and RCPT (RFC 5321 §4.1.2 `esmtp-param`) and the ones this
//! oracle understands: SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531),
//! RET / ENVID / NOTIFY / ORCPT (RFC 3461) and AUTH (RFC 4954 §5).

use std::fmt;

/// Why a parameter is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// Not `esmtp-keyword ["=" esmtp-value]`.
    #[error("malformed ESMTP parameter {0:?}")]
    Syntax(String),
    /// A known keyword with a value its RFC does not allow.
    #[error("bad value for {keyword}")]
    BadValue { keyword: &'static str },
}

/// `BODY=` values (RFC 6152 §2, RFC 3030 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `7BIT`.
    SevenBit,
    /// `8BITMIME` (RFC 6152).
    EightBitMime,
    /// `BINARYMIME` (RFC 3030 §3: only with BDAT).
    BinaryMime,
}

/// `RET=` (RFC 3461 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    /// `FULL`: return the whole message in a failure DSN.
    Full,
    /// `HDRS`: only the headers.
    Hdrs,
}

/// `NOTIFY=` (RFC 3461 §4.1): `NEVER` or a list of SUCCESS, FAILURE, DELAY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Notify {
    /// `NEVER` (exclusive of the others).
    pub never: bool,
    /// `SUCCESS`.
    pub success: bool,
    /// `FAILURE`.
    pub failure: bool,
    /// `DELAY`.
    pub delay: bool,
}

/// One ESMTP parameter of MAIL FROM or RCPT TO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// `SIZE=n` (RFC 1870 §6), `size-value ::= 1*20DIGIT`.
    Size(u64),
    /// `BODY=...` (RFC 6152, RFC 3030).
    Body(Body),
    /// `SMTPUTF8` (RFC 6531 §3.4), no value.
    SmtpUtf8,
    /// `RET=FULL|HDRS` (RFC 3461 §4.3), MAIL only.
    Ret(Ret),
    /// `ENVID=xtext` (RFC 3461 §4.4), MAIL only, the xtext as sent.
    EnvId(String),
    /// `AUTH=xtext / "<>"` (RFC 4954 §5), MAIL only, as sent.
    Auth(String),
    /// `NOTIFY=` (RFC 3461 §4.1), RCPT only.
    Notify(Notify),
    /// `ORCPT=addr-type ";" xtext` (RFC 3461 §4.2), RCPT only.
    Orcpt { addr_type: String, addr: String },
    /// Any other (well-formed) parameter; the server answers 555 (RFC 5321 §4.1.1.11).
    Other {
        keyword: String,
        value: Option<String>,
    },
}

impl Param {
    /// The keyword in upper case.
    pub fn keyword(&self) -> String {
        match self {
            Param::Size(_) => "SIZE".into(),
            Param::Body(_) => "BODY".into(),
            Param::SmtpUtf8 => "SMTPUTF8".into(),
            Param::Ret(_) => "RET".into(),
            Param::EnvId(_) => "ENVID".into(),
            Param::Auth(_) => "AUTH".into(),
            Param::Notify(_) => "NOTIFY".into(),
            Param::Orcpt { .. } => "ORCPT".into(),
            Param::Other { keyword, .. } => keyword.to_ascii_uppercase(),
        }
    }

    /// Parse one `esmtp-param`.
    pub fn parse(s: &str) -> Result<Param, ParamError> {
        let (kw, value) = match s.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (s, None),
        };
        let kw_ok = kw.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && kw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        // esmtp-value = 1*(%d33-60 / %d62-126), plus UTF8-non-ascii (RFC 6531 §3.3) but no
        // C1 control, which no command line may carry (RFC 5321 §4.1.2, as for domains).
        let value_ok = value.is_none_or(|v| {
            !v.is_empty()
                && v.chars().all(|c| {
                    (!c.is_ascii() && !c.is_control()) || (('!'..='~').contains(&c) && c != '=')
                })
        });
        if !kw_ok || !value_ok {
            return Err(ParamError::Syntax(s.to_string()));
        }
        let upper = kw.to_ascii_uppercase();
        let v = value.unwrap_or("");
        let need = |keyword: &'static str| {
            value
                .map(str::to_string)
                .ok_or(ParamError::BadValue { keyword })
        };
        Ok(match upper.as_str() {
            "SIZE" => {
                let ok = !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit());
                Param::Size(if ok {
                    v.parse().unwrap_or(u64::MAX)
                } else {
                    return Err(ParamError::BadValue { keyword: "SIZE" });
                })
            }
            "BODY" => Param::Body(match v.to_ascii_uppercase().as_str() {
                "7BIT" => Body::SevenBit,
                "8BITMIME" => Body::EightBitMime,
                "BINARYMIME" => Body::BinaryMime,
                _ => return Err(ParamError::BadValue { keyword: "BODY" }),
            }),
            "SMTPUTF8" if value.is_none() => Param::SmtpUtf8,
            "SMTPUTF8" => {
                return Err(ParamError::BadValue {
                    keyword: "SMTPUTF8",
                });
            }
            "RET" => Param::Ret(match v.to_ascii_uppercase().as_str() {
                "FULL" => Ret::Full,
                "HDRS" => Ret::Hdrs,
                _ => return Err(ParamError::BadValue { keyword: "RET" }),
            }),
            "ENVID" => {
                let v = need("ENVID")?;
                if v.len() > 100 || xtext_decode(&v).is_none() {
                    return Err(ParamError::BadValue { keyword: "ENVID" });
                }
                Param::EnvId(v)
            }
            "AUTH" => {
                let v = need("AUTH")?;
                if v != "<>" && xtext_decode(&v).is_none() {
                    return Err(ParamError::BadValue { keyword: "AUTH" });
                }
                Param::Auth(v)
            }
            "NOTIFY" => {
                Param::Notify(parse_notify(v).ok_or(ParamError::BadValue { keyword: "NOTIFY" })?)
            }
            "ORCPT" => {
                let (t, a) = v
                    .split_once(';')
                    .ok_or(ParamError::BadValue { keyword: "ORCPT" })?;
                let t_ok =
                    !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
                if !t_ok || v.len() > 500 || a.is_empty() || xtext_decode(a).is_none() {
                    return Err(ParamError::BadValue { keyword: "ORCPT" });
                }
                Param::Orcpt {
                    addr_type: t.to_string(),
                    addr: a.to_string(),
                }
            }
            _ => Param::Other {
                keyword: kw.to_string(),
                value: value.map(str::to_string),
            },
        })
    }
}

fn parse_notify(v: &str) -> Option<Notify> {
    let mut n = Notify::default();
    for item in v.split(',') {
        let flag = match item.to_ascii_uppercase().as_str() {
            "NEVER" => &mut n.never,
            "SUCCESS" => &mut n.success,
            "FAILURE" => &mut n.failure,
            "DELAY" => &mut n.delay,
            _ => return None,
        };
        if *flag {
            return None;
        }
        *flag = true;
    }
    // RFC 3461 §4.1: NEVER stands alone.
    if n.never && (n.success || n.failure || n.delay) {
        return None;
    }
    Some(n)
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Param::Size(n) => write!(f, "SIZE={n}"),
            Param::Body(Body::SevenBit) => f.write_str("BODY=7BIT"),
            Param::Body(Body::EightBitMime) => f.write_str("BODY=8BITMIME"),
            Param::Body(Body::BinaryMime) => f.write_str("BODY=BINARYMIME"),
            Param::SmtpUtf8 => f.write_str("SMTPUTF8"),
            Param::Ret(Ret::Full) => f.write_str("RET=FULL"),
            Param::Ret(Ret::Hdrs) => f.write_str("RET=HDRS"),
            Param::EnvId(v) => write!(f, "ENVID={v}"),
            Param::Auth(v) => write!(f, "AUTH={v}"),
            Param::Notify(n) => {
                let mut items = Vec::new();
                for (on, name) in [
                    (n.never, "NEVER"),
                    (n.success, "SUCCESS"),
                    (n.failure, "FAILURE"),
                    (n.delay, "DELAY"),
                ] {
                    if on {
                        items.push(name);
                    }
                }
                write!(f, "NOTIFY={}", items.join(","))
            }
            Param::Orcpt { addr_type, addr } => write!(f, "ORCPT={addr_type};{addr}"),
            Param::Other {
                keyword,
                value: Some(v),
            } => write!(f, "{keyword}={v}"),
            Param::Other {
                keyword,
                value: None,
            } => f.write_str(keyword),
        }
    }
}

/// Decode RFC 3461 §4 xtext: `xchar` is `!`..`~` but `+` and `=`; `+XX` is a hex octet
/// (upper-case hex). `None` when malformed.
pub fn xtext_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'+' {
            let hex = |x: u8| match x {
                b'0'..=b'9' => Some(x - b'0'),
                b'A'..=b'F' => Some(x - b'A' + 10),
                _ => None,
            };
            let hi = hex(*b.get(i + 1)?)?;
            let lo = hex(*b.get(i + 2)?)?;
            out.push(hi * 16 + lo);
            i += 3;
        } else if (b'!'..=b'~').contains(&c) && c != b'=' {
            out.push(c);
            i += 1;
        } else if c >= 0x80 {
            // UTF-8 in esmtp-value (RFC 6531 §3.3); kept as is.
            out.push(c);
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

/// Encode bytes as RFC 3461 xtext.
pub fn xtext_encode(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for &c in b {
        if (b'!'..=b'~').contains(&c) && c != b'+' && c != b'=' {
            out.push(char::from(c));
        } else {
            out.push_str(&format!("+{c:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5321 §4.1.2 esmtp-value and RFC 6531 §3.3: UTF-8 yes, C1 controls no (found with
    /// F6 in docs/fuzzing.md: `S3=\u{97}d` made a MAIL command `decode_command` refuses).
    #[test]
    fn no_control_characters_in_values() {
        assert!(Param::parse("S3=\u{97}d").is_err());
        assert!(Param::parse("X=a\u{1}").is_err());
        assert!(Param::parse("X=caf\u{e9}").is_ok());
    }

    #[test]
    fn known_params_round_trip() {
        for s in [
            "SIZE=1000",
            "BODY=8BITMIME",
            "BODY=7BIT",
            "BODY=BINARYMIME",
            "SMTPUTF8",
            "RET=HDRS",
            "ENVID=QQ314159",
            "AUTH=<>",
            "AUTH=e+3Dmc2@example.com",
            "NOTIFY=SUCCESS,FAILURE",
            "NOTIFY=NEVER",
            "ORCPT=rfc822;a@b.example",
            "X-FOO=bar",
            "XVERP",
        ] {
            let p = Param::parse(s).unwrap();
            assert_eq!(p.to_string(), s);
        }
        assert_eq!(Param::parse("size=12"), Ok(Param::Size(12)));
    }

    #[test]
    fn bad_params() {
        for s in [
            "SIZE=",
            "SIZE=x",
            "SIZE=123456789012345678901",
            "BODY=9BIT",
            "SMTPUTF8=1",
            "RET=ALL",
            "NOTIFY=NEVER,SUCCESS",
            "NOTIFY=SUCCESS,SUCCESS",
            "ORCPT=;a",
            "ORCPT=rfc822",
            "ENVID=a+zz",
            "=x",
            "-A=1",
            "A=",
            "A=b=c",
            "AUTH",
        ] {
            assert!(Param::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn xtext() {
        assert_eq!(xtext_decode("a+2Bb+3D").unwrap(), b"a+b=");
        assert_eq!(xtext_encode(b"a+b= c"), "a+2Bb+3D+20c");
        assert!(xtext_decode("+2b").is_none());
        assert!(xtext_decode("+2").is_none());
    }
}
