//! POP3 responses (RFC 1939 §3): a status line, and for the commands that have one, the
//! dot-terminated, byte-stuffed body. Framed by `wirecheck_pop3::codec` once it exports
//! `decode_status` / `decode_body` / `response_is_multiline`.

use super::{FrameError, Framer, Protocol, Transport};
use crate::transcript::Style;

/// The POP3 adapter.
#[derive(Debug, Clone, Copy)]
pub struct Pop3;

impl Protocol for Pop3 {
    fn name(&self) -> &'static str {
        "pop3"
    }
    fn style(&self) -> Style {
        Style::Status
    }
    fn reply_framer(&self, _transport: Transport) -> Result<Box<dyn Framer>, FrameError> {
        Err(FrameError::Unavailable("pop3"))
    }
}
