//! Message flags: the five IMAP system flags a store keeps (RFC 9051 §2.3.2; `\Recent` is
//! the maildir `new/` directory instead) and keywords.
//!
//! On disk they are the Maildir info suffix `:2,` + letters in ASCII order: `D` \Draft,
//! `F` \Flagged, `R` \Answered (replied), `S` \Seen, `T` \Deleted (trashed), and `a`..`z` for
//! the folder's keywords, letter *n* being line *n* of the folder's `keywords` file (the
//! convention Dovecot uses), so at most 26 keywords per folder.

use std::collections::BTreeSet;

/// One flag.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flag {
    /// `\Seen`: the message has been read.
    Seen,
    /// `\Answered`: the message has been answered.
    Answered,
    /// `\Flagged`: marked for attention.
    Flagged,
    /// `\Deleted`: marked for removal by a later expunge.
    Deleted,
    /// `\Draft`: not complete.
    Draft,
    /// A keyword (an IMAP flag without a backslash, e.g. `$Forwarded`).
    Keyword(String),
}

/// The flags of one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// `\Seen`.
    pub seen: bool,
    /// `\Answered`.
    pub answered: bool,
    /// `\Flagged`.
    pub flagged: bool,
    /// `\Deleted`.
    pub deleted: bool,
    /// `\Draft`.
    pub draft: bool,
    /// Keywords, in sorted order.
    pub keywords: BTreeSet<String>,
}

/// How [`crate::Folder::set_flags`] combines the given flags with the current ones
/// (IMAP `STORE FLAGS`, `+FLAGS`, `-FLAGS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    /// Replace the flags.
    Set,
    /// Add these flags.
    Add,
    /// Remove these flags.
    Remove,
}

/// Longest keyword accepted, in bytes.
pub const MAX_KEYWORD: usize = 64;

impl Flags {
    /// No flags.
    pub fn new() -> Self {
        Flags::default()
    }

    /// Flags from a list.
    pub fn from_flags<I: IntoIterator<Item = Flag>>(flags: I) -> Self {
        let mut f = Flags::new();
        for x in flags {
            f.insert(x);
        }
        f
    }

    /// Whether `flag` is set.
    pub fn contains(&self, flag: &Flag) -> bool {
        match flag {
            Flag::Seen => self.seen,
            Flag::Answered => self.answered,
            Flag::Flagged => self.flagged,
            Flag::Deleted => self.deleted,
            Flag::Draft => self.draft,
            Flag::Keyword(k) => self.keywords.contains(k),
        }
    }

    /// Set `flag`.
    pub fn insert(&mut self, flag: Flag) {
        match flag {
            Flag::Seen => self.seen = true,
            Flag::Answered => self.answered = true,
            Flag::Flagged => self.flagged = true,
            Flag::Deleted => self.deleted = true,
            Flag::Draft => self.draft = true,
            Flag::Keyword(k) => {
                self.keywords.insert(k);
            }
        }
    }

    /// Clear `flag`.
    pub fn remove(&mut self, flag: &Flag) {
        match flag {
            Flag::Seen => self.seen = false,
            Flag::Answered => self.answered = false,
            Flag::Flagged => self.flagged = false,
            Flag::Deleted => self.deleted = false,
            Flag::Draft => self.draft = false,
            Flag::Keyword(k) => {
                self.keywords.remove(k);
            }
        }
    }

    /// Every flag set, system flags first.
    pub fn iter(&self) -> impl Iterator<Item = Flag> + '_ {
        [
            (self.seen, Flag::Seen),
            (self.answered, Flag::Answered),
            (self.flagged, Flag::Flagged),
            (self.deleted, Flag::Deleted),
            (self.draft, Flag::Draft),
        ]
        .into_iter()
        .filter_map(|(on, f)| on.then_some(f))
        .chain(self.keywords.iter().cloned().map(Flag::Keyword))
    }

    /// `self` combined with `other` by `op`.
    pub fn apply(&self, op: FlagOp, other: &Flags) -> Flags {
        match op {
            FlagOp::Set => other.clone(),
            FlagOp::Add => {
                let mut f = self.clone();
                for x in other.iter() {
                    f.insert(x);
                }
                f
            }
            FlagOp::Remove => {
                let mut f = self.clone();
                for x in other.iter() {
                    f.remove(&x);
                }
                f
            }
        }
    }

    /// The Maildir info letters for the system flags, in ASCII order.
    pub(crate) fn system_letters(&self) -> String {
        let mut s = String::new();
        for (on, c) in
            [(self.draft, 'D'), (self.flagged, 'F'), (self.answered, 'R'), (self.seen, 'S'), (self.deleted, 'T')]
        {
            if on {
                s.push(c);
            }
        }
        s
    }
}

/// A keyword the store can keep: 1..=64 printable ASCII characters, none of
/// `( ) { % * " \ ]` or space (IMAP `atom`, RFC 9051 §9 `flag-keyword`).
pub fn valid_keyword(k: &str) -> bool {
    !k.is_empty() && k.len() <= MAX_KEYWORD && k.bytes().all(|b| b.is_ascii_graphic() && !b"(){%*\"\\]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_set_add_remove() {
        let a = Flags::from_flags([Flag::Seen, Flag::Keyword("x".into())]);
        let b = Flags::from_flags([Flag::Deleted, Flag::Keyword("x".into())]);
        assert_eq!(a.apply(FlagOp::Set, &b), b);
        let added = a.apply(FlagOp::Add, &b);
        assert!(added.seen && added.deleted && added.keywords.contains("x"));
        let removed = a.apply(FlagOp::Remove, &b);
        assert_eq!(removed, Flags::from_flags([Flag::Seen]));
    }

    #[test]
    fn letters_are_in_ascii_order() {
        let f = Flags::from_flags([Flag::Deleted, Flag::Seen, Flag::Draft, Flag::Answered, Flag::Flagged]);
        assert_eq!(f.system_letters(), "DFRST");
    }

    #[test]
    fn keyword_syntax() {
        assert!(valid_keyword("$Forwarded"));
        assert!(!valid_keyword(""));
        assert!(!valid_keyword("a b"));
        assert!(!valid_keyword("\\Seen"));
        assert!(!valid_keyword(&"k".repeat(65)));
    }
}
