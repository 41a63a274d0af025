//! DNS messages (RFC 1035 §4), framed by `wirecheck_dns::codec`: one UDP datagram, or one
//! length-prefixed message over TCP (RFC 7766 §8). Units are matched in the dig-like
//! presentation form of `wirecheck_dns::presentation`.

use wirecheck_dns::{Rcode, codec, presentation};

use super::{FrameError, Framer, Limits, Protocol, Transport, Unit, UnitLine};
use crate::transcript::Style;

/// The DNS adapter.
#[derive(Debug, Clone, Copy)]
pub struct Dns;

impl Protocol for Dns {
    fn name(&self) -> &'static str {
        "dns"
    }
    fn style(&self) -> Style {
        Style::Whole
    }
    fn reply_framer(&self, transport: Transport) -> Result<Box<dyn Framer>, FrameError> {
        Ok(Box::new(DnsFramer { transport }))
    }
    fn command_framer(&self, transport: Transport) -> Result<Box<dyn Framer>, FrameError> {
        Ok(Box::new(DnsFramer { transport }))
    }
    /// A query in presentation form (`example.test. MX +rd id=4242`) to wire bytes.
    fn encode_line(&self, text: &[u8]) -> Result<Vec<u8>, FrameError> {
        let text = std::str::from_utf8(text)
            .map_err(|_| FrameError::Encode("query is not UTF-8".into()))?;
        let msg = presentation::parse_query(text).map_err(|e| FrameError::Encode(e.to_string()))?;
        Ok(codec::encode(&msg))
    }
    /// A response in the one-line form with `; answer …` sections (the server role).
    fn encode_server_line(&self, text: &[u8]) -> Result<Vec<u8>, FrameError> {
        self.encode_line(text)
    }
    fn length_prefixed(&self) -> bool {
        true
    }
    fn default_transport(&self) -> Transport {
        Transport::Datagram
    }
}

struct DnsFramer {
    transport: Transport,
}

fn message_unit(wire: &[u8], raw: &[u8]) -> Result<Unit, FrameError> {
    let msg = codec::decode(wire).map_err(|e| FrameError::Malformed {
        protocol: "dns",
        reason: e.to_string(),
    })?;
    let text = presentation::render(&msg);
    let lines = text
        .lines()
        .map(|l| UnitLine {
            wire: l.as_bytes().to_vec(),
            text: l.as_bytes().to_vec(),
            ..Default::default()
        })
        .collect();
    Ok(Unit {
        raw: raw.to_vec(),
        subject: text.clone().into_bytes(),
        text: text.into_bytes(),
        lines,
        // RFC 1035 §4.1.1: RCODE 4, "Not Implemented".
        not_implemented: msg.rcode() == Rcode::NOTIMP,
        ..Default::default()
    })
}

impl Framer for DnsFramer {
    fn decode(&mut self, buf: &[u8], limits: &Limits) -> Result<Option<(usize, Unit)>, FrameError> {
        if self.transport == Transport::Datagram {
            return message_unit(buf, buf).map(|u| Some((buf.len(), u)));
        }
        match codec::tcp_frame(buf) {
            Some((used, msg)) => message_unit(msg, &buf[..used]).map(|u| Some((used, u))),
            None if buf.len() >= 2
                && usize::from(u16::from_be_bytes([buf[0], buf[1]])) > limits.max_reply =>
            {
                Err(FrameError::TooLarge(format!(
                    "DNS message longer than {} bytes (--max-reply)",
                    limits.max_reply
                )))
            }
            None => Ok(None),
        }
    }
    fn decode_datagram(&mut self, datagram: &[u8], _limits: &Limits) -> Result<Unit, FrameError> {
        message_unit(datagram, datagram)
    }
    fn completes_at_line_end(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trip_over_tcp_framing() {
        let q = Dns.encode_line(b"example.test. MX +rd id=4242").unwrap();
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        let mut f = DnsFramer {
            transport: Transport::Stream,
        };
        assert_eq!(f.decode(&framed[..5], &Limits::default()).unwrap(), None);
        let (used, u) = f.decode(&framed, &Limits::default()).unwrap().unwrap();
        assert_eq!(used, framed.len());
        assert!(String::from_utf8_lossy(&u.text).contains("id: 4242"));
        assert!(Dns.encode_line(b"").is_err());
    }

    #[test]
    fn garbage_datagram_is_malformed() {
        let mut f = DnsFramer {
            transport: Transport::Datagram,
        };
        assert!(f.decode_datagram(b"\x01\x02", &Limits::default()).is_err());
    }
}
