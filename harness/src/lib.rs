//! wirecheck: a conformance test harness for SMTP, POP3, IMAP, FTP and DNS.
#![forbid(unsafe_code)]

pub mod corpus;
pub mod demo;
pub mod lint;
pub mod oracle;
pub mod protocol;
pub mod runner;
pub mod select;
pub mod serve;
pub mod target;
pub mod transcript;
