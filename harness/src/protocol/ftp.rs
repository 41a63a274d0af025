//! FTP replies (RFC 959 §4.2), framed by `wirecheck_ftp::codec::decode_reply`: multi-line
//! replies are one unit, a `1xx` preliminary reply is a unit of its own.

use std::net::{SocketAddr, SocketAddrV4};

use wirecheck_ftp::codec::{
    Reply, ReplyError, decode_reply, format_eprt, format_port, parse_epsv, parse_pasv,
};

use super::smtp::{ReplyDecodeError, coded_unit, frame_coded_reply};
use super::{FrameError, Framer, Limits, Protocol, Transport, Unit, UnitLine};
use crate::transcript::Style;

/// The FTP adapter.
#[derive(Debug, Clone, Copy)]
pub struct Ftp;

impl Protocol for Ftp {
    fn name(&self) -> &'static str {
        "ftp"
    }
    fn style(&self) -> Style {
        Style::Code
    }
    fn reply_framer(&self, _transport: Transport) -> Result<Box<dyn Framer>, FrameError> {
        Ok(Box::new(FtpFramer))
    }

    /// RFC 959 §4.1.2 (`227 … (h1,h2,h3,h4,p1,p2)`) and RFC 2428 §3 (`229 … (|||port|)`,
    /// on the control connection's host).
    fn data_address(
        &self,
        unit: &Unit,
        control: SocketAddr,
    ) -> Result<Option<SocketAddr>, FrameError> {
        let text = String::from_utf8_lossy(&unit.subject);
        Ok(match unit.code {
            Some(227) => parse_pasv(&text).map(SocketAddr::V4),
            Some(229) => parse_epsv(&text).map(|p| SocketAddr::new(control.ip(), p)),
            _ => None,
        })
    }

    fn port_args(&self, addr: SocketAddr) -> Result<Vec<(&'static str, String)>, FrameError> {
        let mut v = vec![("eprt-arg", format_eprt(addr))];
        if let SocketAddr::V4(a) = addr {
            v.push((
                "port-arg",
                format_port(SocketAddrV4::new(*a.ip(), a.port())),
            ));
        }
        Ok(v)
    }
}

struct FtpFramer;

impl Framer for FtpFramer {
    fn decode(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<(usize, Unit)>, FrameError> {
        frame_coded_reply("ftp", buf, limits, decode_reply, reply_unit)
    }
}

impl ReplyDecodeError for ReplyError {
    fn exceeds_limits(&self) -> bool {
        matches!(self, ReplyError::LineTooLong { .. } | ReplyError::TooManyLines { .. })
    }
}

/// A unit from an FTP reply, whose middle lines need not carry the code.
fn reply_unit(reply: Reply) -> Unit {
    let code = reply.code;
    let prefix = format!("{code:03}");
    let lines = reply
        .lines
        .iter()
        .map(|wire| {
            // Lines with the reply's code carry text after `NNN-`/`NNN `; the middle lines
            // of a multi-line reply may be anything (RFC 959 §4.2).
            let coded = wire.starts_with(prefix.as_bytes())
                && matches!(wire.get(3), None | Some(b' ' | b'-'));
            let text = if coded {
                wire.get(4..).unwrap_or_default().to_vec()
            } else {
                wire.clone()
            };
            UnitLine {
                wire: wire.clone(),
                code: coded.then_some(code),
                text,
                status: None,
            }
        })
        .collect();
    let mut unit = coded_unit(code, lines, reply.raw);
    // RFC 959 §4.2 / RFC 2389 §3.2: besides 502 and 504, a server that does not know an
    // (optional, extension) command answers 500 "unrecognized"; for a case that names its
    // extension that is "not implemented", not a failure.
    unit.not_implemented |= code == 500;
    unit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preliminary_then_final_are_two_units() {
        let mut f = FtpFramer;
        let wire = b"150 Opening\r\n226 Done\r\n";
        let (used, u) = f.decode(wire, &Limits::default()).unwrap().unwrap();
        assert_eq!((u.code, used), (Some(150), 13));
        let (_, u) = f
            .decode(&wire[used..], &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(u.code, Some(226));
    }

    #[test]
    fn multi_line_with_uncoded_middle_lines() {
        let mut f = FtpFramer;
        let (_, u) = f
            .decode(b"211-Features:\r\n SIZE\r\n211 End\r\n", &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(u.subject, b"Features:\n SIZE\nEnd");
        assert_eq!(u.lines[1].code, None);
        assert_eq!(u.lines[1].wire, b" SIZE");
    }

    #[test]
    fn limits_and_malformed_lines() {
        let mut f = FtpFramer;
        let small = Limits {
            max_line: 8,
            max_reply: 64,
        };
        assert!(matches!(f.decode(b"220 0123456789", &small), Err(FrameError::TooLarge(_))));
        let endless = b"220-x\r\n".repeat(100);
        assert!(matches!(f.decode(&endless, &small), Err(FrameError::TooLarge(_))));
        // Regression: a malformed line quoting "longer than" was once called too large.
        assert!(matches!(
            f.decode(b"hello, longer than\r\n", &Limits::default()),
            Err(FrameError::Malformed { protocol: "ftp", .. })
        ));
    }

    #[test]
    fn unrecognized_500_counts_as_not_implemented() {
        let mut f = FtpFramer;
        let (_, u) = f.decode(b"500 Unknown command.\r\n", &Limits::default()).unwrap().unwrap();
        assert!(u.not_implemented, "RFC 2389 §3.2: 500 for an unknown extension command");
        let (_, u) = f.decode(b"550 No such file.\r\n", &Limits::default()).unwrap().unwrap();
        assert!(!u.not_implemented);
    }

    #[test]
    fn pasv_and_epsv_addresses() {
        let mut f = FtpFramer;
        let control: SocketAddr = "127.0.0.1:21".parse().unwrap();
        let (_, u) = f
            .decode(
                b"227 Entering Passive Mode (127,0,0,1,4,1)\r\n",
                &Limits::default(),
            )
            .unwrap()
            .unwrap();
        assert_eq!(
            Ftp.data_address(&u, control).unwrap(),
            Some("127.0.0.1:1025".parse().unwrap())
        );
        let (_, u) = f
            .decode(b"229 Extended (|||2000|)\r\n", &Limits::default())
            .unwrap()
            .unwrap();
        assert_eq!(
            Ftp.data_address(&u, control).unwrap(),
            Some("127.0.0.1:2000".parse().unwrap())
        );
        let args = Ftp.port_args("127.0.0.1:1025".parse().unwrap()).unwrap();
        assert!(args.contains(&("port-arg", "127,0,0,1,4,1".to_string())));
        assert!(args.contains(&("eprt-arg", "|1|127.0.0.1|1025|".to_string())));
    }
}
