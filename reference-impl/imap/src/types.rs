//! The typed IMAP commands a client sends (RFC 3501 §6, RFC 9051 §6), apart from the codec
//! that parses them (`crate::codec`), in the imap-types / imap-codec manner.

/// One client command: its tag and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// RFC 9051 §2.2.1: "a short alphanumeric string" chosen by the client.
    pub tag: String,
    /// The command and its arguments.
    pub body: CommandBody,
}

/// Every command the reference server knows (RFC 9051 §6, RFC 3501 §6 and extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandBody {
    /// RFC 9051 §6.1.1.
    Capability,
    /// RFC 9051 §6.1.2.
    Noop,
    /// RFC 9051 §6.1.3.
    Logout,
    /// RFC 9051 §6.2.1.
    StartTls,
    /// RFC 9051 §6.2.2; `initial` is the SASL-IR initial response (RFC 4959), still base64.
    Authenticate {
        /// The SASL mechanism name, upper-cased.
        mechanism: String,
        /// The initial response as sent (`=` for an empty one).
        initial: Option<Vec<u8>>,
    },
    /// RFC 9051 §6.2.3.
    Login {
        /// The user name.
        username: Vec<u8>,
        /// The password.
        password: Vec<u8>,
    },
    /// RFC 5161 §3.1 / RFC 9051 §6.3.1.
    Enable(Vec<String>),
    /// RFC 9051 §6.3.2.
    Select(Mailbox),
    /// RFC 9051 §6.3.3.
    Examine(Mailbox),
    /// RFC 9051 §6.3.4.
    Create(Mailbox),
    /// RFC 9051 §6.3.5.
    Delete(Mailbox),
    /// RFC 9051 §6.3.6.
    Rename {
        /// Existing name.
        from: Mailbox,
        /// New name.
        to: Mailbox,
    },
    /// RFC 9051 §6.3.7.
    Subscribe(Mailbox),
    /// RFC 9051 §6.3.8.
    Unsubscribe(Mailbox),
    /// RFC 9051 §6.3.9 (with RFC 5258 selection and return options).
    List {
        /// Selection options (`LIST (SUBSCRIBED) …`).
        select: Vec<ListSelect>,
        /// The reference name.
        reference: Mailbox,
        /// One or more mailbox patterns (`%` and `*` wildcards).
        patterns: Vec<Mailbox>,
        /// Return options (`RETURN (CHILDREN STATUS (…))`).
        returns: Vec<ListReturn>,
    },
    /// RFC 3501 §6.3.9 (IMAP4rev1 only).
    Lsub {
        /// The reference name.
        reference: Mailbox,
        /// The pattern.
        pattern: Mailbox,
    },
    /// RFC 2342 §5 / RFC 9051 §6.3.10.
    Namespace,
    /// RFC 9051 §6.3.11.
    Status {
        /// The mailbox asked about.
        mailbox: Mailbox,
        /// The items asked for.
        items: Vec<StatusItem>,
    },
    /// RFC 9051 §6.3.12.
    Append {
        /// The destination.
        mailbox: Mailbox,
        /// Flags to set on the new message.
        flags: Vec<String>,
        /// The internal date to give it.
        date: Option<DateTime>,
        /// The message octets.
        message: Vec<u8>,
    },
    /// RFC 2177 / RFC 9051 §6.3.13.
    Idle,
    /// RFC 3501 §6.4.1 (rev1; rev2 keeps it as NOOP-like).
    Check,
    /// RFC 9051 §6.4.1.
    Close,
    /// RFC 3691 / RFC 9051 §6.4.2.
    Unselect,
    /// RFC 9051 §6.4.3.
    Expunge,
    /// RFC 4315 §2.1 / RFC 9051 §6.4.9: `UID EXPUNGE set`.
    UidExpunge(SequenceSet),
    /// RFC 9051 §6.4.4 (and §6.4.9 for `UID SEARCH`).
    Search {
        /// `UID SEARCH`.
        uid: bool,
        /// RFC 4731 / RFC 9051 `RETURN (…)` options; `None` = the classic `* SEARCH` reply.
        returns: Option<Vec<SearchReturn>>,
        /// `CHARSET` argument.
        charset: Option<String>,
        /// The criteria (an implicit AND of all keys).
        criteria: Vec<SearchKey>,
    },
    /// RFC 9051 §6.4.5.
    Fetch {
        /// `UID FETCH`.
        uid: bool,
        /// Which messages.
        set: SequenceSet,
        /// What to fetch (macros expanded).
        items: Vec<FetchItem>,
        /// The items were given as a macro (ALL / FAST / FULL).
        macro_used: bool,
    },
    /// RFC 9051 §6.4.6.
    Store {
        /// `UID STORE`.
        uid: bool,
        /// Which messages.
        set: SequenceSet,
        /// Replace, add or remove.
        mode: StoreMode,
        /// `.SILENT`.
        silent: bool,
        /// The flags.
        flags: Vec<String>,
    },
    /// RFC 9051 §6.4.7.
    Copy {
        /// `UID COPY`.
        uid: bool,
        /// Which messages.
        set: SequenceSet,
        /// The destination.
        mailbox: Mailbox,
    },
    /// RFC 6851 / RFC 9051 §6.4.8.
    Move {
        /// `UID MOVE`.
        uid: bool,
        /// Which messages.
        set: SequenceSet,
        /// The destination.
        mailbox: Mailbox,
    },
}

impl CommandBody {
    /// The command name as the RFC spells it.
    pub fn name(&self) -> &'static str {
        match self {
            CommandBody::Capability => "CAPABILITY",
            CommandBody::Noop => "NOOP",
            CommandBody::Logout => "LOGOUT",
            CommandBody::StartTls => "STARTTLS",
            CommandBody::Authenticate { .. } => "AUTHENTICATE",
            CommandBody::Login { .. } => "LOGIN",
            CommandBody::Enable(_) => "ENABLE",
            CommandBody::Select(_) => "SELECT",
            CommandBody::Examine(_) => "EXAMINE",
            CommandBody::Create(_) => "CREATE",
            CommandBody::Delete(_) => "DELETE",
            CommandBody::Rename { .. } => "RENAME",
            CommandBody::Subscribe(_) => "SUBSCRIBE",
            CommandBody::Unsubscribe(_) => "UNSUBSCRIBE",
            CommandBody::List { .. } => "LIST",
            CommandBody::Lsub { .. } => "LSUB",
            CommandBody::Namespace => "NAMESPACE",
            CommandBody::Status { .. } => "STATUS",
            CommandBody::Append { .. } => "APPEND",
            CommandBody::Idle => "IDLE",
            CommandBody::Check => "CHECK",
            CommandBody::Close => "CLOSE",
            CommandBody::Unselect => "UNSELECT",
            CommandBody::Expunge => "EXPUNGE",
            CommandBody::UidExpunge(_) => "UID EXPUNGE",
            CommandBody::Search { .. } => "SEARCH",
            CommandBody::Fetch { .. } => "FETCH",
            CommandBody::Store { .. } => "STORE",
            CommandBody::Copy { .. } => "COPY",
            CommandBody::Move { .. } => "MOVE",
        }
    }
}

/// A mailbox name as sent (RFC 9051 §5.1); `INBOX` in any case is normalised to `INBOX`
/// (RFC 9051 §5.1: "The case-insensitive mailbox name INBOX is a special name").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox(pub String);

impl Mailbox {
    /// A mailbox from its wire name.
    pub fn new(name: impl Into<String>) -> Mailbox {
        let name = name.into();
        if name.eq_ignore_ascii_case("INBOX") { Mailbox("INBOX".into()) } else { Mailbox(name) }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// RFC 5258 §3.1 selection options (RFC 9051 §6.3.9).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListSelect {
    /// `SUBSCRIBED`.
    Subscribed,
    /// `REMOTE`.
    Remote,
    /// `RECURSIVEMATCH`.
    RecursiveMatch,
    /// `SPECIAL-USE` (RFC 6154).
    SpecialUse,
}

/// RFC 5258 §3.2 / RFC 5819 return options.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListReturn {
    /// `SUBSCRIBED`.
    Subscribed,
    /// `CHILDREN`.
    Children,
    /// `SPECIAL-USE`.
    SpecialUse,
    /// `STATUS (…)` (RFC 5819).
    Status(Vec<StatusItem>),
}

/// RFC 9051 §6.3.11 status data items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    /// `MESSAGES`.
    Messages,
    /// `RECENT` (rev1 only).
    Recent,
    /// `UIDNEXT`.
    UidNext,
    /// `UIDVALIDITY`.
    UidValidity,
    /// `UNSEEN`.
    Unseen,
    /// `DELETED` (rev2).
    Deleted,
    /// `SIZE` (rev2).
    Size,
}

impl StatusItem {
    /// The item's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusItem::Messages => "MESSAGES",
            StatusItem::Recent => "RECENT",
            StatusItem::UidNext => "UIDNEXT",
            StatusItem::UidValidity => "UIDVALIDITY",
            StatusItem::Unseen => "UNSEEN",
            StatusItem::Deleted => "DELETED",
            StatusItem::Size => "SIZE",
        }
    }
}

/// One end of a sequence range: a number, or `*` (the largest number in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqNumber {
    /// A message sequence number or UID (non-zero).
    Value(u32),
    /// `*`.
    Largest,
}

/// RFC 9051 §9 `sequence-set`, or `$` (RFC 5182 SEARCHRES, part of rev2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SequenceSet {
    /// Ranges `a:b`, a single number being `a:a`.
    Ranges(Vec<(SeqNumber, SeqNumber)>),
    /// `$`: the result saved by the last `SEARCH RETURN (SAVE)`.
    Saved,
}

impl SequenceSet {
    /// Does the set hold `n`, with `largest` standing for `*`? RFC 9051 §9: "a range
    /// `a:b` holds every number between a and b, in either order".
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        match self {
            SequenceSet::Saved => false,
            SequenceSet::Ranges(r) => r.iter().any(|&(a, b)| {
                let v = |x: SeqNumber| match x {
                    SeqNumber::Value(v) => v,
                    SeqNumber::Largest => largest,
                };
                let (lo, hi) = (v(a).min(v(b)), v(a).max(v(b)));
                (lo..=hi).contains(&n)
            }),
        }
    }

    /// Every explicit number in the set is within `1..=largest` (RFC 9051 §6.4.5: a
    /// message sequence number out of range is an error; `*` always is).
    pub fn all_within(&self, largest: u32) -> bool {
        match self {
            SequenceSet::Saved => true,
            SequenceSet::Ranges(r) => r.iter().all(|&(a, b)| {
                [a, b].iter().all(|x| match x {
                    SeqNumber::Value(v) => *v <= largest,
                    SeqNumber::Largest => true,
                })
            }),
        }
    }
}

/// A calendar date (`date` in RFC 9051 §9, for SEARCH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year, four digits.
    pub year: u16,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
}

/// `date-time` (RFC 9051 §9): `"dd-Mon-yyyy hh:mm:ss +zzzz"`, as seconds since the epoch
/// (UTC) and the zone offset it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix: i64,
    /// Offset from UTC in minutes.
    pub offset_minutes: i32,
}

/// RFC 9051 §6.4.4 search keys (all of RFC 3501's, including the rev1-only ones).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchKey {
    /// `ALL`.
    All,
    /// `ANSWERED`.
    Answered,
    /// `BCC string`.
    Bcc(Vec<u8>),
    /// `BEFORE date` (internal date).
    Before(Date),
    /// `BODY string`.
    Body(Vec<u8>),
    /// `CC string`.
    Cc(Vec<u8>),
    /// `DELETED`.
    Deleted,
    /// `DRAFT`.
    Draft,
    /// `FLAGGED`.
    Flagged,
    /// `FROM string`.
    From(Vec<u8>),
    /// `HEADER field-name string`.
    Header(String, Vec<u8>),
    /// `KEYWORD flag`.
    Keyword(String),
    /// `LARGER n`.
    Larger(u32),
    /// `NEW` (rev1: RECENT UNSEEN).
    New,
    /// `NOT key`.
    Not(Box<SearchKey>),
    /// `OLD` (rev1).
    Old,
    /// `ON date`.
    On(Date),
    /// `OR key key`.
    Or(Box<SearchKey>, Box<SearchKey>),
    /// `RECENT` (rev1).
    Recent,
    /// `SEEN`.
    Seen,
    /// `SENTBEFORE date` (Date: header).
    SentBefore(Date),
    /// `SENTON date`.
    SentOn(Date),
    /// `SENTSINCE date`.
    SentSince(Date),
    /// `SINCE date`.
    Since(Date),
    /// `SMALLER n`.
    Smaller(u32),
    /// `SUBJECT string`.
    Subject(Vec<u8>),
    /// `TEXT string`.
    Text(Vec<u8>),
    /// `TO string`.
    To(Vec<u8>),
    /// `UID set`.
    Uid(SequenceSet),
    /// `UNANSWERED`.
    Unanswered,
    /// `UNDELETED`.
    Undeleted,
    /// `UNDRAFT`.
    Undraft,
    /// `UNFLAGGED`.
    Unflagged,
    /// `UNKEYWORD flag`.
    Unkeyword(String),
    /// `UNSEEN`.
    Unseen,
    /// A message sequence number set.
    SequenceSet(SequenceSet),
    /// `( key key … )`.
    And(Vec<SearchKey>),
}

/// RFC 4731 / RFC 9051 §6.4.4 `RETURN` options of an extended SEARCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchReturn {
    /// `MIN`.
    Min,
    /// `MAX`.
    Max,
    /// `ALL`.
    All,
    /// `COUNT`.
    Count,
    /// `SAVE` (RFC 5182).
    Save,
}

/// RFC 9051 §6.4.5 fetch data items (macros already expanded).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchItem {
    /// `FLAGS`.
    Flags,
    /// `INTERNALDATE`.
    InternalDate,
    /// `RFC822.SIZE`.
    Rfc822Size,
    /// `ENVELOPE`.
    Envelope,
    /// `BODY` (structure without extension data).
    Body,
    /// `BODYSTRUCTURE`.
    BodyStructure,
    /// `UID`.
    Uid,
    /// `RFC822` (rev1; = `BODY[]`, sets \Seen).
    Rfc822,
    /// `RFC822.HEADER` (rev1; = `BODY.PEEK[HEADER]`).
    Rfc822Header,
    /// `RFC822.TEXT` (rev1; = `BODY[TEXT]`).
    Rfc822Text,
    /// `BODY[section]<partial>` / `BODY.PEEK[…]`.
    BodySection {
        /// `.PEEK`: do not set \Seen.
        peek: bool,
        /// Which part.
        section: Section,
        /// `<origin.count>`.
        partial: Option<(u32, u32)>,
    },
    /// `BINARY[part]<partial>` / `BINARY.PEEK` (RFC 3516, rev2).
    Binary {
        /// `.PEEK`.
        peek: bool,
        /// The part path.
        part: Vec<u32>,
        /// `<origin.count>`.
        partial: Option<(u32, u32)>,
    },
    /// `BINARY.SIZE[part]`.
    BinarySize {
        /// The part path.
        part: Vec<u32>,
    },
}

/// RFC 9051 §6.4.5 `section`: a part path and what of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    /// `1.2.3`; empty for the whole message.
    pub part: Vec<u32>,
    /// `HEADER`, `TEXT`, … after the path.
    pub text: Option<SectionText>,
}

/// The non-numeric part of a section specifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    /// `HEADER`.
    Header,
    /// `HEADER.FIELDS (…)`.
    HeaderFields(Vec<String>),
    /// `HEADER.FIELDS.NOT (…)`.
    HeaderFieldsNot(Vec<String>),
    /// `TEXT`.
    Text,
    /// `MIME`.
    Mime,
}

/// RFC 9051 §6.4.6 STORE modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// `FLAGS`.
    Replace,
    /// `+FLAGS`.
    Add,
    /// `-FLAGS`.
    Remove,
}
