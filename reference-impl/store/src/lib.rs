//! The durable message store (maildir folders, UIDs, flags, fsync) shared by SMTP delivery, POP3 and IMAP.
//!
//! (Being built: see the crate owner's notes in docs/ARCHITECTURE.md.)
#![forbid(unsafe_code)]
