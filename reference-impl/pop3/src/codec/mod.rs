//! Bytes <-> POP3 types, total and bounded: commands ([`decode_command`],
//! [`Command::encode`]), status lines ([`decode_status`], [`encode_status`]) and dot-terminated
//! bodies ([`decode_body`], [`encode_body`], [`encode_message`]). Nothing here does I/O or
//! keeps state; the harness frames POP3 replies with it.
//!
//! A client-side reader alternates: [`decode_status`]; if the status is `+OK` and
//! [`response_is_multiline`] says so for the command it answers, [`decode_body`].

mod command;
mod response;

pub use command::{Command, CommandError, decode_command, response_is_multiline};
pub use response::{
    Body, BodyLimits, ResponseError, Status, StatusKind, StuffingViolation, decode_body, decode_status, encode_body,
    encode_message, encode_status,
};
