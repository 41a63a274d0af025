//! Driving a sans-IO session the way its driver would, and splitting what it wrote into the
//! events a model checks.

use arbitrary::Arbitrary;
use wirecheck_wire::{Output, Session};

/// What a session target runs: a configuration (each target has a few) and the steps of one
/// connection, each step's bytes cut into reads at the places `cuts` says (see [`pieces`]).
#[derive(Debug, Arbitrary)]
pub struct Script<A> {
    pub config: u8,
    pub steps: Vec<Step<A>>,
}

/// One thing the client does.
#[derive(Debug, Arbitrary)]
pub struct Step<A> {
    pub action: A,
    pub cuts: [u8; 3],
}

impl<A> Script<A> {
    /// Any bytes as everything one client sends (for seeds from the transcripts): the first
    /// octet picks the configuration, the next three the cuts, `raw` makes the one step.
    pub fn from_bytes(data: &[u8], raw: impl FnOnce(Vec<u8>) -> A) -> Script<A> {
        let (head, bytes) = data.split_at(data.len().min(4));
        let mut h = [0u8; 4];
        h[..head.len()].copy_from_slice(head);
        Script {
            config: h[0],
            steps: vec![Step {
                action: raw(bytes.to_vec()),
                cuts: [h[1], h[2], h[3]],
            }],
        }
    }
}

/// What a session asked for, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Bytes written to the peer.
    Send(Vec<u8>),
    /// Start TLS now.
    StartTls,
    /// Close the connection.
    Close,
}

/// Every output the session has queued, merging adjacent sends.
pub fn drain<S: Session>(session: &mut S, events: &mut Vec<Event>) {
    while let Some(o) = session.poll_output() {
        match o {
            Output::Send(b) => match events.last_mut() {
                Some(Event::Send(prev)) => prev.extend_from_slice(&b),
                _ => events.push(Event::Send(b)),
            },
            Output::StartTls => events.push(Event::StartTls),
            Output::Close => events.push(Event::Close),
        }
    }
}

/// A context for assertion messages, formatted only when one fails (formatting it for every
/// step would cost more than running the session).
pub struct Lazy<F: Fn() -> String>(pub F);

impl<F: Fn() -> String> std::fmt::Display for Lazy<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&(self.0)())
    }
}

/// The context type the session models pass around.
pub type Ctx<'a> = &'a dyn std::fmt::Display;

/// Feed `bytes` to the session in the reads `cuts` makes, collecting its output. After a
/// `StartTls` the driver completes the handshake (`handle_tls`) and sends nothing more of
/// `bytes` in the clear. Returns the output and the pieces that were fed.
pub fn feed<'a, S: Session>(s: &mut S, bytes: &'a [u8], cuts: [u8; 3]) -> (Vec<Event>, Vec<&'a [u8]>) {
    let mut events = Vec::new();
    let mut fed = Vec::new();
    for piece in pieces(bytes, cuts) {
        s.handle_input(piece);
        fed.push(piece);
        drain(s, &mut events);
        if events.contains(&Event::StartTls) {
            s.handle_tls(wirecheck_wire::TlsInfo::default());
            break;
        }
    }
    (events, fed)
}

/// Cut `bytes` into at most four pieces at places chosen by `cuts` (each a fraction of the
/// length in 1/256ths), so framing across separate reads is exercised.
pub fn pieces(bytes: &[u8], cuts: [u8; 3]) -> Vec<&[u8]> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|&c| bytes.len() * usize::from(c) / 256)
        .filter(|&i| i > 0 && i < bytes.len())
        .collect();
    at.sort_unstable();
    at.dedup();
    let mut out = Vec::with_capacity(at.len() + 1);
    let mut start = 0;
    for i in at {
        out.push(&bytes[start..i]);
        start = i;
    }
    out.push(&bytes[start..]);
    out
}

/// `bytes` made into the content of one line: every CRLF inside is broken (its LF becomes a
/// space), so appending CRLF gives exactly one line.
pub fn one_line(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 2);
    for &b in bytes {
        if b == b'\n' && out.last() == Some(&b'\r') {
            out.push(b' ');
        } else {
            out.push(b);
        }
    }
    // A final CR would join the CRLF we add into "\r\r\n": still one line, but keep it plain.
    if out.last() == Some(&b'\r') {
        out.push(b' ');
    }
    out
}

/// `line` + CRLF.
pub fn crlf(line: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(line.len() + 2);
    v.extend_from_slice(line);
    v.extend_from_slice(b"\r\n");
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_the_input() {
        let b = b"0123456789";
        let p = pieces(b, [200, 10, 128]);
        assert_eq!(p.concat(), b);
        assert_eq!(p.len(), 3);
        assert_eq!(pieces(b"", [1, 2, 3]), vec![&b""[..]]);
    }

    #[test]
    fn one_line_has_no_crlf() {
        let l = crlf(&one_line(b"a\r\nb\r"));
        assert_eq!(l.windows(2).filter(|w| w == b"\r\n").count(), 1);
    }
}
