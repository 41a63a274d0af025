//! The store's guarantees, on a real file system (a temporary directory).

use std::collections::HashSet;
use std::fs;
use std::time::{Duration, SystemTime};

use wirecheck_store::{Flag, FlagOp, Flags, Store, StoreError, Users};

fn store(dir: &tempfile::TempDir) -> Store {
    let users = Users::from_pairs(&[("alice", "secret"), ("bob", "pw")]).unwrap();
    Store::open(dir.path(), users).unwrap()
}

fn files_in(p: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(p).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

#[test]
fn delivery_goes_through_tmp_into_new_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    let uid = s.deliver("alice", "INBOX", b"Subject: x\r\n\r\nbody\n").unwrap();
    assert_eq!(uid, 1);
    let inbox = dir.path().join("alice/folders/INBOX");
    assert!(files_in(&inbox.join("tmp")).is_empty(), "nothing left in tmp/");
    // 19 octets, one bare LF: 20 with CRLF line ends.
    assert_eq!(files_in(&inbox.join("new")), vec!["1,S=19,W=20".to_string()]);
    let f = s.folder("alice", "inbox").unwrap();
    assert_eq!(f.read(uid).unwrap(), b"Subject: x\r\n\r\nbody\n");
    let m = f.messages().unwrap();
    assert_eq!(m.len(), 1);
    assert!(m[0].recent && m[0].flags == Flags::new());
    assert_eq!((m[0].size, m[0].crlf_size), (19, 20));
}

#[test]
fn uncommitted_delivery_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    let f = s.folder("alice", "INBOX").unwrap();
    {
        let mut d = f.begin().unwrap();
        d.write(b"partial").unwrap();
    }
    assert!(files_in(&f.path().join("tmp")).is_empty());
    assert!(f.messages().unwrap().is_empty());
    // A streamed delivery counts bare LFs across writes (CR at the end of one, LF at the
    // start of the next is a CRLF).
    let mut d = f.begin().unwrap();
    d.write(b"a\r").unwrap();
    d.write(b"\nb\n").unwrap();
    let uid = d.commit(&Flags::new(), None).unwrap();
    let unterminated = f.deliver(b"x").unwrap();
    let m = f.messages().unwrap();
    assert_eq!((m[0].uid, m[0].size, m[0].crlf_size), (uid, 5, 6));
    assert_eq!((m[1].uid, m[1].size, m[1].crlf_size), (unterminated, 1, 3), "a CRLF is added when sent");
}

#[test]
fn uids_and_uidvalidity_persist_across_reopen_and_expunge() {
    let dir = tempfile::tempdir().unwrap();
    let (v, last) = {
        let s = store(&dir);
        for i in 0..3 {
            s.deliver("alice", "INBOX", format!("m{i}\r\n").as_bytes()).unwrap();
        }
        let f = s.folder("alice", "INBOX").unwrap();
        assert_eq!(f.remove(&[3]).unwrap(), vec![3]);
        (f.uidvalidity(), 3)
    };
    let s = store(&dir);
    let f = s.folder("alice", "INBOX").unwrap();
    assert_eq!(f.uidvalidity(), v);
    let st = f.status().unwrap();
    assert_eq!((st.messages, st.uidnext), (2, last + 1), "the removed UID 3 is not reused");
    assert_eq!(f.deliver(b"m3\r\n").unwrap(), 4);
    let uids: Vec<u32> = f.messages().unwrap().iter().map(|m| m.uid).collect();
    assert_eq!(uids, vec![1, 2, 4]);
}

#[test]
fn uidnext_recovers_from_a_stale_state_file() {
    // Simulates a crash that lost the in-place state write but kept the fsynced message.
    let dir = tempfile::tempdir().unwrap();
    {
        let s = store(&dir);
        s.deliver("alice", "INBOX", b"a\r\n").unwrap();
        s.deliver("alice", "INBOX", b"b\r\n").unwrap();
    }
    let state = dir.path().join("alice/folders/INBOX/state");
    fs::write(&state, format!("{:020} {:020}\n", 1, 0)).unwrap();
    let s = store(&dir);
    assert_eq!(s.deliver("alice", "INBOX", b"c\r\n").unwrap(), 3);
}

#[test]
fn flags_persist_and_move_messages_to_cur() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    let f = s.folder("alice", "INBOX").unwrap();
    let a = f.deliver(b"a\r\n").unwrap();
    let b = f.deliver(b"b\r\n").unwrap();
    let mut add = Flags::from_flags([Flag::Seen, Flag::Keyword("$Forwarded".into())]);
    let out = f.set_flags(&[a, 99], FlagOp::Add, &add).unwrap();
    assert_eq!(out, vec![(a, add.clone())], "missing UID 99 is skipped");
    add.remove(&Flag::Keyword("$Forwarded".into()));
    f.set_flags(&[a], FlagOp::Remove, &add).unwrap();
    f.set_flags(&[b], FlagOp::Set, &Flags::from_flags([Flag::Flagged, Flag::Answered, Flag::Draft])).unwrap();
    drop(s);
    let s = store(&dir);
    let f = s.folder("alice", "INBOX").unwrap();
    let m = f.messages().unwrap();
    assert_eq!(m[0].flags, Flags::from_flags([Flag::Keyword("$Forwarded".into())]));
    assert_eq!(m[1].flags, Flags::from_flags([Flag::Flagged, Flag::Answered, Flag::Draft]));
    assert!(!m[0].recent && !m[1].recent);
    assert!(files_in(&f.path().join("new")).is_empty());
    assert_eq!(files_in(&f.path().join("cur")), vec!["1,S=3,W=3:2,a", "2,S=3,W=3:2,DFR"]);
    let st = f.status().unwrap();
    assert_eq!((st.unseen, st.recent), (2, 0));
}

#[test]
fn bad_and_too_many_keywords_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    let f = s.folder("alice", "INBOX").unwrap();
    let a = f.deliver(b"a\r\n").unwrap();
    let bad = Flags::from_flags([Flag::Keyword("a b".into())]);
    assert!(matches!(f.set_flags(&[a], FlagOp::Add, &bad), Err(StoreError::BadKeyword(_))));
    for i in 0..26 {
        f.set_flags(&[a], FlagOp::Add, &Flags::from_flags([Flag::Keyword(format!("k{i}"))])).unwrap();
    }
    let one_more = Flags::from_flags([Flag::Keyword("k26".into())]);
    assert!(matches!(f.set_flags(&[a], FlagOp::Add, &one_more), Err(StoreError::TooManyKeywords)));
    assert_eq!(f.messages().unwrap()[0].flags.keywords.len(), 26);
}

#[test]
fn expunge_removes_only_deleted_and_counts_changes() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    let f = s.folder("alice", "INBOX").unwrap();
    let uids: Vec<u32> = (0..4).map(|i| f.deliver(format!("{i}\r\n").as_bytes()).unwrap()).collect();
    let c0 = f.changes().unwrap();
    let del = Flags::from_flags([Flag::Deleted]);
    f.set_flags(&[uids[1], uids[2], uids[3]], FlagOp::Add, &del).unwrap();
    let c1 = f.changes().unwrap();
    assert!(c1 > c0);
    assert_eq!(f.expunge(Some(&[uids[1], uids[0]])).unwrap(), vec![uids[1]], "UID EXPUNGE limits the set");
    assert_eq!(f.expunge(None).unwrap(), vec![uids[2], uids[3]]);
    assert!(f.changes().unwrap() > c1);
    assert_eq!(f.expunge(None).unwrap(), Vec::<u32>::new());
    assert_eq!(f.messages().unwrap().len(), 1);
    assert!(matches!(f.read(uids[1]), Err(StoreError::NoSuchMessage(_))));
}

#[test]
fn append_keeps_flags_and_internal_date_and_copy_keeps_them_too() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    let inbox = s.folder("alice", "INBOX").unwrap();
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let flags = Flags::from_flags([Flag::Seen, Flag::Keyword("work".into())]);
    let a = inbox.append(b"appended\r\n", &flags, Some(date)).unwrap();
    let b = inbox.deliver(b"plain\r\n").unwrap();
    let arch = s.create_folder("alice", "Archive/2024").unwrap();
    assert_eq!(s.list_folders("alice").unwrap(), vec!["Archive", "Archive/2024", "INBOX"]);
    let pairs = inbox.copy_to(&[b, a, 77], &arch).unwrap();
    assert_eq!(pairs, vec![(a, 1), (b, 2)]);
    let m = arch.messages().unwrap();
    assert_eq!(m[0].flags, flags);
    assert_eq!(m[0].internal_date, date);
    assert_eq!(arch.read(1).unwrap(), b"appended\r\n");
    assert_eq!(inbox.messages().unwrap().len(), 2, "copy leaves the source");
    let moved = arch.move_to(&[1], &inbox).unwrap();
    assert_eq!(moved, vec![(1, 3)]);
    assert_eq!(arch.messages().unwrap().len(), 1);
    assert_eq!(inbox.read(3).unwrap(), b"appended\r\n");
}

#[test]
fn folder_create_delete_rename() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    assert_eq!(s.list_folders("alice").unwrap(), vec!["INBOX"]);
    let a = s.create_folder("alice", "Work").unwrap();
    let v1 = a.uidvalidity();
    a.deliver(b"w\r\n").unwrap();
    s.create_folder("alice", "Work/Old").unwrap();
    assert!(matches!(s.create_folder("alice", "Work"), Err(StoreError::FolderExists(_))));
    assert!(matches!(s.create_folder("alice", "a//b"), Err(StoreError::BadFolderName { .. })));
    s.rename_folder("alice", "Work", "Jobs/Past").unwrap();
    assert_eq!(s.list_folders("alice").unwrap(), vec!["INBOX", "Jobs", "Jobs/Past", "Jobs/Past/Old"]);
    let moved = s.folder("alice", "Jobs/Past").unwrap();
    assert_eq!(moved.uidvalidity(), v1, "rename keeps UIDVALIDITY");
    assert_eq!(moved.messages().unwrap().len(), 1);
    assert!(matches!(s.folder("alice", "Work"), Err(StoreError::NoSuchFolder(_))));
    assert!(matches!(s.rename_folder("alice", "Jobs", "Jobs/X"), Err(StoreError::BadRename { .. })));
    s.delete_folder("alice", "Jobs/Past").unwrap();
    assert_eq!(s.list_folders("alice").unwrap(), vec!["INBOX", "Jobs", "Jobs/Past/Old"]);
    assert!(matches!(s.delete_folder("alice", "inbox"), Err(StoreError::InboxNotAllowed)));
    // Created again: a different UIDVALIDITY.
    let again = s.create_folder("alice", "Jobs/Past").unwrap();
    assert_ne!(again.uidvalidity(), v1);
    assert!(again.messages().unwrap().is_empty());
}

#[test]
fn renaming_inbox_moves_its_messages() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    s.deliver("alice", "INBOX", b"1\r\n").unwrap();
    s.deliver("alice", "INBOX", b"2\r\n").unwrap();
    s.rename_folder("alice", "INBOX", "Old").unwrap();
    assert!(s.folder("alice", "INBOX").unwrap().messages().unwrap().is_empty());
    assert_eq!(s.folder("alice", "Old").unwrap().messages().unwrap().len(), 2);
    assert_eq!(s.deliver("alice", "INBOX", b"3\r\n").unwrap(), 3, "INBOX's UIDs go on");
}

#[test]
fn unknown_users_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    assert!(matches!(s.deliver("carol", "INBOX", b"x"), Err(StoreError::NoSuchUser(_))));
    assert!(matches!(s.try_lock_maildrop("carol"), Err(StoreError::NoSuchUser(_))));
}

#[test]
fn maildrop_lock_is_exclusive_and_released_on_drop() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    let other = store(&dir); // a second Store on the same root: another process, in effect
    let lock = s.try_lock_maildrop("alice").unwrap();
    assert_eq!(lock.user(), "alice");
    assert!(matches!(other.try_lock_maildrop("alice"), Err(StoreError::MaildropLocked(_))));
    let t = std::thread::spawn(move || other.try_lock_maildrop("alice").is_err());
    assert!(t.join().unwrap(), "another thread is excluded too");
    assert!(s.try_lock_maildrop("bob").is_ok(), "other users are independent");
    drop(lock);
    assert!(s.try_lock_maildrop("alice").is_ok());
}

#[test]
fn concurrent_deliveries_get_distinct_increasing_uids() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| s.deliver("alice", "INBOX", format!("{t}-{i}\r\n").as_bytes()).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = HashSet::new();
    for t in threads {
        let uids = t.join().unwrap();
        assert!(uids.windows(2).all(|w| w[0] < w[1]), "each writer sees increasing UIDs");
        all.extend(uids);
    }
    assert_eq!(all.len(), 100);
    assert_eq!(all.iter().max(), Some(&100));
    assert_eq!(s.folder("alice", "INBOX").unwrap().messages().unwrap().len(), 100);
}

#[test]
fn claim_recent_moves_new_to_cur_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    let f = s.folder("alice", "INBOX").unwrap();
    f.deliver(b"1\r\n").unwrap();
    f.deliver(b"2\r\n").unwrap();
    assert_eq!(f.claim_recent().unwrap(), vec![1, 2]);
    assert_eq!(f.claim_recent().unwrap(), Vec::<u32>::new());
    assert!(f.messages().unwrap().iter().all(|m| !m.recent));
}

#[test]
fn foreign_files_in_the_maildir_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    let f = s.folder("alice", "INBOX").unwrap();
    fs::write(f.path().join("new/1700000000.M1P2.host"), b"x").unwrap();
    f.deliver(b"1\r\n").unwrap();
    assert_eq!(f.messages().unwrap().len(), 1);
}
