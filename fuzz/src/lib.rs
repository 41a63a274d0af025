//! The fuzzing rig for wirecheck's oracle (`reference-impl/`): every codec and every sans-IO
//! session, run in process by libFuzzer through `cargo fuzz`.
//!
//! # Layout
//!
//! Each fuzz target is one line in `fuzz_targets/<name>.rs`:
//!
//! ```ignore
//! #![no_main]
//! wirecheck_fuzz::fuzz_target!(smtp_session);
//! ```
//!
//! The line names a function of [`targets`], which is where the target list lives (one
//! [`targets!`] entry per target). A target is one of four kinds:
//!
//! * **decode**: arbitrary bytes into a decoder; it must never panic, must stay within its
//!   limits, and what it accepts must survive `decode -> encode -> decode` unchanged;
//! * **round trip**: an [`arbitrary::Arbitrary`] value, built through the codec's own
//!   validating constructors, `encode -> decode` must give the value back;
//! * **session**: an arbitrary sequence of protocol steps into a sans-IO server session
//!   ([`wirecheck_wire::Session`]), checked against a small model of the protocol: every
//!   command gets exactly one final reply, every reply is well formed, and the state machine
//!   only takes the transitions the RFC allows;
//! * **differential**: the same bytes into our codec and into an independent crate
//!   (hickory-proto, mail-parser, imap-codec, base64); each class of disagreement is either
//!   our bug or a documented deviation of the other crate (`docs/fuzzing.md`), and the
//!   documented classes are filtered by name in the target so new ones stand out.
//!
//! The checks are plain `assert!`s: libFuzzer reports a panic as a crash and keeps the input.
//! `cargo test --lib` replays every seed and regression input through every target without
//! libFuzzer (see `tests` below), so a fixed finding stays fixed.
#![forbid(unsafe_code)]

pub mod dns;
pub mod ftp;
pub mod imap;
pub mod message;
pub mod pop3;
pub mod smtp;
pub mod targets;

mod memfs;
mod stream;

/// Declares the libFuzzer entry point of a fuzz target: one line per `fuzz_targets/*.rs`.
#[macro_export]
macro_rules! fuzz_target {
    ($name:ident) => {
        libfuzzer_sys::fuzz_target!(|data: &[u8]| $crate::targets::$name(data));
    };
}

/// Runs `check` on a value built from the fuzzer's bytes (all of them), or does nothing when
/// the bytes do not make one.
pub fn structured<T: for<'a> arbitrary::Arbitrary<'a>>(data: &[u8], check: impl FnOnce(T)) {
    if let Ok(value) = T::arbitrary_take_rest(arbitrary::Unstructured::new(data)) {
        check(value);
    }
}

/// Lower-case hex of `bytes`, for assertion messages and `docs/fuzzing.md`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Report a disagreement of a differential target. A class listed in `docs/fuzzing.md` is
/// passed as `known` and ignored (one named `ours-…` only until fixed, see [`open_finding`]); a new one panics (libFuzzer keeps the input), or, with
/// `WIRECHECK_FUZZ_SURVEY=1`, is printed once per class so one run shows every class.
pub fn disagree(known: Option<&str>, class: &str, detail: impl FnOnce() -> String) {
    // Classes named "ours-…" are open findings in our codecs: failing again in strict mode.
    if let Some(k) = known
        && (!k.starts_with("ours-") || open_finding(k))
    {
        return;
    }
    if std::env::var_os("WIRECHECK_FUZZ_SURVEY").is_some() {
        static SEEN: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> =
            std::sync::OnceLock::new();
        let mut seen = SEEN
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if seen.insert(class.to_string()) {
            eprintln!("DISAGREEMENT [{class}] {}", detail());
        }
        return;
    }
    panic!("disagreement [{class}]: {}", detail());
}

/// Whether to let an input through that hits an open finding: a bug in the oracle that
/// `docs/fuzzing.md` records (with its id) and its owner has not fixed yet. Targets skip such
/// inputs so the fuzzer keeps looking for new bugs; with `WIRECHECK_FUZZ_STRICT=1` they fail
/// on them again (to check a fix). Delete the call once the finding is fixed.
pub fn open_finding(id: &str) -> bool {
    let _ = id;
    std::env::var_os("WIRECHECK_FUZZ_STRICT").is_none()
}
