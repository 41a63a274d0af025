//! Bytes <-> SMTP types, total and bounded: replies ([`decode_reply`], [`Reply::encode`]),
//! commands ([`decode_command`], [`Command::encode`]), paths and mailboxes, ESMTP
//! parameters. Nothing here does I/O or keeps state.

mod address;
mod command;
mod param;
mod reply;

pub use address::{AddressError, Domain, ForwardPath, Mailbox, ReversePath};
pub use command::{Command, CommandError, decode_command};
pub use param::{Body, Notify, Param, ParamError, Ret, xtext_decode, xtext_encode};
pub use reply::{Reply, ReplyError, ReplyLimits, decode_reply, parse_enhanced};

#[allow(unused_imports)]
pub(crate) use command::is_base64;
