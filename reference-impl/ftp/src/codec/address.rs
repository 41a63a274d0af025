//! Data-connection addresses: PORT / PASV (RFC 959 §4.1.2) and EPRT / EPSV (RFC 2428).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};

/// The address in a `227` reply's text: `h1,h2,h3,h4,p1,p2` anywhere in it.
///
/// RFC 959 §4.1.2 gives `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`; RFC 1123 §4.1.2.6
/// tells clients to scan for the first digit rather than rely on the parentheses, so any
/// six comma-separated numbers 0..=255 are taken, wherever they are.
pub fn parse_pasv(text: &str) -> Option<SocketAddrV4> {
    let b = text.as_bytes();
    (0..b.len())
        .filter(|&i| {
            b.get(i).is_some_and(u8::is_ascii_digit)
                && (i == 0 || !b.get(i - 1).is_some_and(|c| c.is_ascii_digit() || *c == b','))
        })
        .find_map(|i| parse_port_arg(text.get(i..)?, false))
}

/// The argument of a `PORT` command (RFC 959 §4.1.2): exactly `h1,h2,h3,h4,p1,p2`.
pub fn parse_port(arg: &str) -> Option<SocketAddrV4> {
    parse_port_arg(arg.trim(), true)
}

/// Six comma-separated decimal numbers 0..=255 at the start of `s` (and nothing after them
/// when `whole`).
fn parse_port_arg(s: &str, whole: bool) -> Option<SocketAddrV4> {
    let mut nums = [0u8; 6];
    let mut rest = s;
    for (i, slot) in nums.iter_mut().enumerate() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        *slot = rest.get(..digits)?.parse().ok()?;
        rest = rest.get(digits..)?;
        if i < 5 {
            rest = rest.strip_prefix(',')?;
        }
    }
    if whole && !rest.is_empty() {
        return None;
    }
    if !whole && rest.bytes().next().is_some_and(|c| c.is_ascii_digit() || c == b',') {
        return None;
    }
    let [h1, h2, h3, h4, p1, p2] = nums;
    Some(SocketAddrV4::new(
        Ipv4Addr::new(h1, h2, h3, h4),
        u16::from_be_bytes([p1, p2]),
    ))
}

/// The port in a `229` reply's text: `(|||port|)` (RFC 2428 §3). The delimiter may be any
/// printable ASCII character other than a digit, the same four times.
pub fn parse_epsv(text: &str) -> Option<u16> {
    let b = text.as_bytes();
    (0..b.len()).filter(|&i| b.get(i) == Some(&b'(')).find_map(|i| {
        let inner = text.get(i + 1..)?;
        let d = inner.chars().next()?;
        if !d.is_ascii_graphic() || d.is_ascii_digit() {
            return None;
        }
        let mut parts = inner.split(d);
        let (empty, net, addr, port, tail) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if !(empty.is_empty() && net.is_empty() && addr.is_empty() && tail.starts_with(')')) {
            return None;
        }
        parse_tcp_port(port)
    })
}

/// A TCP port 1..=65535 in decimal.
fn parse_tcp_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|&p| p != 0)
}

/// The argument of an `EPRT` command (RFC 2428 §2): `<d><net-prt><d><net-addr><d><tcp-port><d>`,
/// with net-prt 1 (IPv4) or 2 (IPv6).
pub fn parse_eprt(arg: &str) -> Option<SocketAddr> {
    let arg = arg.trim();
    let d = arg.chars().next()?;
    if !d.is_ascii_graphic() || d.is_ascii_digit() {
        return None;
    }
    let mut parts = arg.split(d);
    let (empty, proto, addr, port, tail) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if !empty.is_empty() || !tail.is_empty() || parts.next().is_some() {
        return None;
    }
    let port = parse_tcp_port(port)?;
    let ip: IpAddr = match proto {
        "1" => IpAddr::V4(addr.parse::<Ipv4Addr>().ok()?),
        "2" => IpAddr::V6(addr.parse::<Ipv6Addr>().ok()?),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// `h1,h2,h3,h4,p1,p2` for a `PORT` argument or a `227` reply (RFC 959 §4.1.2).
pub fn format_port(addr: SocketAddrV4) -> String {
    let [h1, h2, h3, h4] = addr.ip().octets();
    let [p1, p2] = addr.port().to_be_bytes();
    format!("{h1},{h2},{h3},{h4},{p1},{p2}")
}

/// `|1|127.0.0.1|port|` (or `|2|::1|port|`) for an `EPRT` argument (RFC 2428 §2).
pub fn format_eprt(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("|1|{}|{}|", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("|2|{}|{}|", a.ip(), a.port()),
    }
}

/// `(|||port|)`, the text a `229` reply carries (RFC 2428 §3).
pub fn format_epsv(port: u16) -> String {
    format!("(|||{port}|)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasv_anywhere_in_text() {
        let a = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1234);
        assert_eq!(parse_pasv("Entering Passive Mode (127,0,0,1,4,210)."), Some(a));
        assert_eq!(parse_pasv("Entering Passive Mode 127,0,0,1,4,210"), Some(a));
        assert_eq!(parse_pasv("=127,0,0,1,4,210"), Some(a));
        assert_eq!(parse_pasv("v2 mode (127,0,0,1,4,210)"), Some(a));
        assert_eq!(parse_pasv("(127,0,0,1,4)"), None);
        assert_eq!(parse_pasv("(127,0,0,1,4,256)"), None);
        assert_eq!(parse_pasv("(127,0,0,1,4,2,5)"), None);
        assert_eq!(parse_pasv("no address"), None);
        assert_eq!(parse_pasv(""), None);
    }

    #[test]
    fn port_argument_is_exact() {
        let a = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 65535);
        assert_eq!(parse_port("127,0,0,1,255,255"), Some(a));
        assert_eq!(format_port(a), "127,0,0,1,255,255");
        assert_eq!(parse_port(&format_port(a)), Some(a));
        assert_eq!(parse_port("127,0,0,1,255,255,"), None);
        assert_eq!(parse_port("127,0,0,1,255"), None);
        assert_eq!(parse_port("127,0,0,1,-1,2"), None);
        assert_eq!(parse_port("0127,0,0,1,2,2"), None);
    }

    #[test]
    fn epsv_reply() {
        assert_eq!(parse_epsv("Entering Extended Passive Mode (|||6446|)"), Some(6446));
        assert_eq!(parse_epsv("ok (!!!21!)"), Some(21));
        assert_eq!(parse_epsv("(|||0|)"), None);
        assert_eq!(parse_epsv("(|||70000|)"), None);
        assert_eq!(parse_epsv("(||6446|)"), None);
        assert_eq!(parse_epsv("(1116441)"), None);
        assert_eq!(parse_epsv("x (|||6446|"), None);
        assert_eq!(parse_epsv(&format_epsv(40000)), Some(40000));
    }

    #[test]
    fn eprt_round_trip() {
        let v4: SocketAddr = "127.0.0.1:5282".parse().unwrap();
        let v6: SocketAddr = "[::1]:5282".parse().unwrap();
        assert_eq!(format_eprt(v4), "|1|127.0.0.1|5282|");
        assert_eq!(format_eprt(v6), "|2|::1|5282|");
        assert_eq!(parse_eprt("|1|127.0.0.1|5282|"), Some(v4));
        assert_eq!(parse_eprt("|2|::1|5282|"), Some(v6));
        assert_eq!(parse_eprt("!1!127.0.0.1!5282!"), Some(v4));
        assert_eq!(parse_eprt("|3|127.0.0.1|5282|"), None);
        assert_eq!(parse_eprt("|1|::1|5282|"), None);
        assert_eq!(parse_eprt("|1|127.0.0.1|0|"), None);
        assert_eq!(parse_eprt("|1|127.0.0.1|5282"), None);
        assert_eq!(parse_eprt("|1|127.0.0.1|5282|x"), None);
        assert_eq!(parse_eprt(""), None);
    }
}
