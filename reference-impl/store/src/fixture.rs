//! The fixture every wirecheck target is expected to hold, identical to the one the real
//! peers are started with (`scripts/peers.sh`): user `alice` / `secret` in `example.test`,
//! with two messages in INBOX. Transcripts check these bytes exactly (sizes, headers), so
//! the oracle and the peer launcher must seed the very same messages.

use crate::{INBOX, Store, StoreError, Users, UsersError};

/// The test user.
pub const USER: &str = "alice";
/// Her password.
pub const PASSWORD: &str = "secret";
/// The mail domain.
pub const DOMAIN: &str = "example.test";

/// Test message `n` (1 or 2), LF line ends as the peers' maildirs hold them (servers send
/// CRLF on the wire).
pub fn peer_message(n: u32) -> Vec<u8> {
    let day = if n == 1 { "Mon" } else { "Tue" };
    format!(
        "Return-Path: <bob@{DOMAIN}>\nFrom: Bob <bob@{DOMAIN}>\nTo: Alice <{USER}@{DOMAIN}>\n\
         Subject: Test message {n}\nDate: {day}, 0{n} Jan 2024 10:00:00 +0000\n\
         Message-ID: <test{n}@{DOMAIN}>\nMIME-Version: 1.0\n\
         Content-Type: text/plain; charset=us-ascii\n\n\
         Hello Alice, this is test message number {n}.\nLine two of message {n}.\n"
    )
    .into_bytes()
}

/// The fixture's users: alice, with `postmaster` and `abuse` as her aliases.
pub fn peer_users() -> Result<Users, UsersError> {
    Users::from_toml(&format!(
        "domains = [\"{DOMAIN}\"]\n[[user]]\nname = \"{USER}\"\npassword = \"{PASSWORD}\"\naliases = [\"postmaster\", \"abuse\"]\n"
    ))
}

/// Deliver the two test messages into alice's INBOX when it is empty.
pub fn seed(store: &Store) -> Result<(), StoreError> {
    if store.folder(USER, INBOX)?.messages()?.is_empty() {
        for n in 1..=2 {
            store.deliver(USER, INBOX, &peer_message(n))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_two_messages_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), peer_users().unwrap()).unwrap();
        seed(&store).unwrap();
        seed(&store).unwrap();
        let msgs = store.folder(USER, INBOX).unwrap().messages().unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(store.folder(USER, INBOX).unwrap().read(msgs[0].uid).unwrap(), peer_message(1));
        assert!(store.users().verify("alice", b"secret"));
    }
}
