//! DNS over TCP as a sans-IO [`Session`] (RFC 7766): 2-octet length-prefixed messages, several
//! per connection, pipelined queries answered in order.
//!
//! The session frames what arrives, hands each whole message to a responder function and
//! queues its answers, length prefix added. It keeps at most one partial message (≤ 65537
//! octets) plus what one read brings.

use std::collections::VecDeque;

use wirecheck_wire::{Output, Session};

use crate::codec::tcp_frame;

/// A TCP DNS connection around a responder (`query octets -> response messages`).
pub struct TcpSession<F> {
    respond: F,
    input: Vec<u8>,
    output: VecDeque<Output>,
}

impl<F: FnMut(&[u8]) -> Vec<Vec<u8>>> TcpSession<F> {
    /// A session that answers every framed message with `respond`.
    pub fn new(respond: F) -> TcpSession<F> {
        TcpSession {
            respond,
            input: Vec::new(),
            output: VecDeque::new(),
        }
    }
}

/// RFC 7766 §8: the 2-octet length, then the message (longer ones are cut at 65535 octets,
/// which encode never produces).
pub fn with_length_prefix(msg: &[u8]) -> Vec<u8> {
    let len = u16::try_from(msg.len()).unwrap_or(u16::MAX);
    let mut framed = Vec::with_capacity(msg.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(msg.get(..usize::from(len)).unwrap_or(msg));
    framed
}

impl<F: FnMut(&[u8]) -> Vec<Vec<u8>>> Session for TcpSession<F> {
    fn handle_input(&mut self, data: &[u8]) {
        self.input.extend_from_slice(data);
        let mut used = 0;
        while let Some((n, msg)) = self.input.get(used..).and_then(tcp_frame) {
            for resp in (self.respond)(msg) {
                self.output
                    .push_back(Output::Send(with_length_prefix(&resp)));
            }
            used += n;
        }
        self.input.drain(..used);
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.output.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_and_pipelined_messages() {
        let mut seen = Vec::new();
        let mut s = TcpSession::new(|m: &[u8]| {
            seen.push(m.to_vec());
            vec![m.iter().rev().copied().collect()]
        });
        s.handle_input(&[0, 3, 1, 2]);
        assert_eq!(s.poll_output(), None);
        s.handle_input(&[3, 0, 1, 9, 0]);
        assert_eq!(s.poll_output(), Some(Output::Send(vec![0, 3, 3, 2, 1])));
        assert_eq!(s.poll_output(), Some(Output::Send(vec![0, 1, 9])));
        assert_eq!(s.poll_output(), None);
        s.handle_input(&[2, 7, 7]);
        assert_eq!(s.poll_output(), Some(Output::Send(vec![0, 2, 7, 7])));
        drop(s);
        assert_eq!(seen, [vec![1, 2, 3], vec![9], vec![7, 7]]);
    }

    #[test]
    fn prefix() {
        assert_eq!(with_length_prefix(&[5; 3]), [0, 3, 5, 5, 5]);
        assert_eq!(with_length_prefix(&[]).len(), 2);
    }
}
