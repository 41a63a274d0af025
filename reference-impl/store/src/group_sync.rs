//! Group commit for directory `fsync`s: when several threads need the same directory on disk
//! (concurrent deliveries into one folder), one `fsync` serves all of them.
//!
//! A caller makes its change (a rename into the directory) and then calls
//! [`sync_dir`]. It joins the *round* that has not started yet; the first caller of a round
//! to find no `fsync` of that directory running runs it for the whole round. A round's
//! `fsync` therefore starts after every change of its members was made, so when it returns
//! successfully all of them are durable; when it fails, every member gets the error. A caller
//! never returns before an `fsync` that started after its call, so the guarantee is the one a
//! plain `fsync` of its own gives, only shared.
//!
//! Nothing waits on a timer: a round holds whoever arrived while the previous `fsync` ran,
//! so a lone caller pays exactly one `fsync` and concurrent callers share them.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

use crate::{StoreError, io_err};

/// Directories with a group at a time before unused ones are dropped from the registry.
const REGISTRY_TRIM: usize = 256;

/// The groups, one per directory path, shared by every store of the process.
static GROUPS: LazyLock<Mutex<HashMap<PathBuf, Weak<DirGroup>>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// One round's outcome, shared by its members (`io::Error` is not `Clone`).
type RoundResult = Result<(), (io::ErrorKind, String)>;

/// The callers that one `fsync` will cover.
#[derive(Debug, Default)]
struct Round {
    result: OnceLock<RoundResult>,
}

#[derive(Debug, Default)]
struct State {
    /// The round new callers join; `None` until someone needs one.
    pending: Option<Arc<Round>>,
    /// An `fsync` of this directory is under way (for an earlier round).
    running: bool,
}

/// The group-commit state of one directory.
#[derive(Debug, Default)]
struct DirGroup {
    state: Mutex<State>,
    finished: Condvar,
    /// `fsync`s run (for tests and curiosity).
    syncs: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn group_of(dir: &Path) -> Arc<DirGroup> {
    let mut groups = lock(&GROUPS);
    if let Some(g) = groups.get(dir).and_then(Weak::upgrade) {
        return g;
    }
    if groups.len() >= REGISTRY_TRIM {
        groups.retain(|_, g| g.strong_count() > 0);
    }
    let g = Arc::new(DirGroup::default());
    groups.insert(dir.to_path_buf(), Arc::downgrade(&g));
    g
}

/// `fsync` `dir` so that the entries changed in it before this call survive a crash; shares
/// the `fsync` with concurrent callers for the same directory (see the module docs).
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    let group = group_of(dir);
    let mut st = lock(&group.state);
    let round = st.pending.get_or_insert_with(Default::default).clone();
    loop {
        if let Some(result) = round.result.get() {
            return result.clone().map_err(|(kind, msg)| io_err("fsync dir", dir, io::Error::new(kind, msg)));
        }
        if st.running {
            st = group.finished.wait(st).unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        // Nobody is syncing and our round has no result: it is still the pending one (a
        // round leaves `pending` only when its `fsync` starts, and gets its result before
        // `running` is cleared). Run it for everyone in it.
        let mine = st.pending.take().unwrap_or_else(|| round.clone());
        st.running = true;
        drop(st);
        let result = File::open(dir).and_then(|d| d.sync_all()).map_err(|e| (e.kind(), e.to_string()));
        group.syncs.fetch_add(1, Ordering::Relaxed);
        st = lock(&group.state);
        let _ = mine.result.set(result);
        st.running = false;
        group.finished.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_caller_syncs_and_a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        sync_dir(dir.path()).unwrap();
        sync_dir(dir.path()).unwrap();
        let gone = dir.path().join("missing");
        let e = sync_dir(&gone).unwrap_err();
        assert!(matches!(e, StoreError::Io { op: "fsync dir", .. }), "{e}");
        // The failed round does not poison the next one.
        std::fs::create_dir(&gone).unwrap();
        sync_dir(&gone).unwrap();
    }

    #[test]
    fn callers_that_arrive_during_an_fsync_share_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let group = group_of(&path);
        // Pretend an fsync is under way, so the callers below gather in one round.
        lock(&group.state).running = true;
        let callers: Vec<_> = (0..3)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    std::fs::write(path.join(i.to_string()), b"x").unwrap();
                    sync_dir(&path)
                })
            })
            .collect();
        // Wait (bounded) until all three are in the pending round.
        for _ in 0..1000 {
            let members = lock(&group.state).pending.as_ref().map_or(0, Arc::strong_count);
            if members == 4 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(lock(&group.state).pending.as_ref().map_or(0, Arc::strong_count), 4, "three callers waiting");
        {
            let mut st = lock(&group.state);
            st.running = false;
            group.finished.notify_all();
        }
        for c in callers {
            c.join().unwrap().unwrap();
        }
        assert_eq!(group.syncs.load(Ordering::Relaxed), 1, "one fsync for the three");
        sync_dir(&path).unwrap();
        assert_eq!(group.syncs.load(Ordering::Relaxed), 2, "a later caller gets an fsync of its own");
    }

    #[test]
    fn concurrent_callers_all_return() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let group = group_of(&path);
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for j in 0..20 {
                        std::fs::write(path.join(format!("{i}.{j}")), b"x").unwrap();
                        sync_dir(&path).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 160);
        let syncs = group.syncs.load(Ordering::Relaxed);
        assert!((1..=160).contains(&syncs), "{syncs} fsyncs for 160 calls");
        assert!(!lock(&group.state).running, "no fsync left running");
    }
}
