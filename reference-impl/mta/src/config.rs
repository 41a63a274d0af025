//! One MTA instance's configuration, read from TOML.
//!
//! ```toml
//! hostname = "mx.alpha.test"              # greeting, EHLO, Received:, Reporting-MTA
//! domains = ["alpha.test"]                # we are the final destination for these
//! store = "/var/tmp/alpha/mail"           # maildir store (wirecheck-store)
//! queue = "/var/tmp/alpha/queue"          # outgoing queue
//! users-file = "users.toml"               # optional; wirecheck-store's users format
//! mx-listen = "127.0.0.2:2525"            # MX port: mail for our domains only (RFC 5321 §3.6.2)
//! submission-listen = "127.0.0.2:5870"    # optional: RFC 6409 submission, AUTH required
//! submissions-listen = "127.0.0.2:4650"   # optional: the same over implicit TLS (RFC 8314)
//! source-address = "127.0.0.2"            # optional: bind outgoing connections here
//! max-message-size = 10485760
//! relay-port = 25                         # port for MX hosts / implicit MX without one
//! dns-resolver = "127.0.0.2:5353"          # optional: MX lookups through this recursive server
//!
//! [tls]                                   # optional; a self-signed certificate by default
//! cert = "cert.pem"
//! key = "key.pem"
//!
//! [retry]
//! schedule = ["1m", "5m", "15m", "30m"]   # delay after the 1st, 2nd, ... failed attempt
//! then-every = "30m"                      # after the schedule runs out
//! expire = "5d"                           # give up (bounce) this long after arrival
//! delay-warning = "4h"                    # "delayed" DSN (NOTIFY=DELAY) after this long
//! connect-timeout = "30s"
//! command-timeout = "5m"                  # RFC 5321 §4.5.3.2: the client's timeouts
//!
//! [mx]                                    # static next hops: domain -> host[:port] list
//! "beta.test" = ["127.0.0.3:2525"]        # (in preference order)
//!
//! [hosts]                                 # optional static A records (implicit MX)
//! "gamma.test" = ["127.0.0.4"]
//!
//! [[user]]                                # inline users (besides or instead of users-file)
//! name = "alice"
//! password = "secret"
//! aliases = ["postmaster"]
//! ```

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use wirecheck_store::{User, Users};

/// Why a configuration is not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML is malformed, has unknown keys or bad values.
    #[error("config: {0}")]
    Toml(#[from] toml::de::Error),
    /// The users file could not be loaded.
    #[error("users: {0}")]
    Users(#[from] wirecheck_store::UsersError),
    /// A value parses but makes no sense.
    #[error("config: {0}")]
    Invalid(String),
}

/// The configuration of one MTA instance (see the module docs for the TOML form).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Our host name: greeting, EHLO, `Received: by`, `Reporting-MTA`, DSN `From:`.
    pub hostname: String,
    /// Domains we are the final destination for (compared without ASCII case).
    pub domains: Vec<String>,
    /// Root of the maildir store.
    pub store: PathBuf,
    /// The outgoing queue directory.
    pub queue: PathBuf,
    /// A wirecheck-store users file, merged with the inline `[[user]]` entries.
    #[serde(default)]
    pub users_file: Option<PathBuf>,
    /// Inline users.
    #[serde(default, rename = "user")]
    pub users: Vec<User>,
    /// The user that `<Postmaster>` (RFC 5321 §4.5.1) is delivered to; by default whoever
    /// `postmaster` resolves to, else the first user.
    #[serde(default)]
    pub postmaster: Option<String>,
    /// The MX listener (port 0: an ephemeral port).
    pub mx_listen: SocketAddr,
    /// The submission listener (RFC 6409), if any.
    #[serde(default)]
    pub submission_listen: Option<SocketAddr>,
    /// The implicit-TLS submission listener (RFC 8314 §3.3), if any.
    #[serde(default)]
    pub submissions_listen: Option<SocketAddr>,
    /// Source address for relaying connections.
    #[serde(default)]
    pub source_address: Option<IpAddr>,
    /// Largest message accepted (RFC 1870 SIZE).
    #[serde(default = "default_max_message_size")]
    pub max_message_size: u64,
    /// AUTH only after STARTTLS (RFC 4954 §4) on the submission port.
    #[serde(default = "yes")]
    pub auth_requires_tls: bool,
    /// More `Received:` fields than this: a routing loop (RFC 5321 §6.3), refused.
    #[serde(default = "default_max_hops")]
    pub max_hops: usize,
    /// The port of next hops named without one (DNS MX targets, implicit MX).
    #[serde(default = "default_relay_port")]
    pub relay_port: u16,
    /// Relays run at once (one connection per destination domain).
    #[serde(default = "default_parallel")]
    pub max_parallel_relays: usize,
    /// TLS certificate; a self-signed one for `hostname` when absent.
    #[serde(default)]
    pub tls: Option<TlsFiles>,
    /// Retry and timeout policy.
    #[serde(default)]
    pub retry: RetryPolicy,
    /// Static MX map: domain -> next hops (`ip:port`, `ip`, or `host[:port]` resolved
    /// through `[hosts]`), in preference order.
    #[serde(default)]
    pub mx: BTreeMap<String, Vec<String>>,
    /// Static address records used by the static resolver (implicit MX, named hosts).
    #[serde(default)]
    pub hosts: BTreeMap<String, Vec<IpAddr>>,
    /// A recursive DNS server (loopback) to find next hops by MX lookup instead of the
    /// static `[mx]` / `[hosts]` maps, e.g. the resolver of `wirecheck serve --dns-hierarchy`.
    #[serde(default)]
    pub dns_resolver: Option<SocketAddr>,
}

/// PEM files for TLS.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// When to try again and when to give up.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RetryPolicy {
    /// Delay after the first, second, ... unsuccessful attempt.
    #[serde(default = "default_schedule", deserialize_with = "durations")]
    pub schedule: Vec<Duration>,
    /// Delay after every later attempt. RFC 5321 §4.5.4.1: "the retry interval SHOULD be
    /// at least 30 minutes".
    #[serde(default = "thirty_minutes", deserialize_with = "duration")]
    pub then_every: Duration,
    /// Give up this long after arrival. RFC 5321 §4.5.4.1: "the give-up time generally
    /// needs to be at least 4-5 days".
    #[serde(default = "five_days", deserialize_with = "duration")]
    pub expire: Duration,
    /// Send a "delayed" DSN (to recipients that asked with NOTIFY=DELAY) once a message
    /// has waited this long.
    #[serde(default = "four_hours", deserialize_with = "duration")]
    pub delay_warning: Duration,
    /// Connecting to one address.
    #[serde(default = "thirty_seconds", deserialize_with = "duration")]
    pub connect_timeout: Duration,
    /// Waiting for any one reply (RFC 5321 §4.5.3.2 asks for minutes; 5 is the DATA
    /// initiation / MAIL / RCPT figure).
    #[serde(default = "five_minutes", deserialize_with = "duration")]
    pub command_timeout: Duration,
    /// One whole SMTP connection at most.
    #[serde(default = "thirty_minutes", deserialize_with = "duration")]
    pub session_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            schedule: default_schedule(),
            then_every: thirty_minutes(),
            expire: five_days(),
            delay_warning: four_hours(),
            connect_timeout: thirty_seconds(),
            command_timeout: five_minutes(),
            session_timeout: thirty_minutes(),
        }
    }
}

impl RetryPolicy {
    /// The delay before the next attempt after `attempts` unsuccessful ones (1-based).
    pub fn delay_after(&self, attempts: u32) -> Duration {
        let i = usize::try_from(attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        self.schedule.get(i).copied().unwrap_or(self.then_every)
    }
}

impl Config {
    /// Parse TOML text. Relative paths stay relative (see [`Config::load`]).
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Read a TOML file; relative paths in it are taken from the file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut cfg = Config::from_toml(&text)?;
        if let Some(base) = path.parent() {
            let fix = |p: &mut PathBuf| {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            };
            fix(&mut cfg.store);
            fix(&mut cfg.queue);
            if let Some(p) = cfg.users_file.as_mut() {
                fix(p);
            }
            if let Some(t) = cfg.tls.as_mut() {
                fix(&mut t.cert);
                fix(&mut t.key);
            }
        }
        Ok(cfg)
    }

    /// A minimal configuration: one domain, listeners on `ip` with ephemeral ports, store
    /// and queue under `dir` (tests and the demo fill in users and the MX map).
    pub fn new(hostname: &str, domain: &str, ip: IpAddr, dir: &Path) -> Config {
        Config {
            hostname: hostname.to_string(),
            domains: vec![domain.to_string()],
            store: dir.join("mail"),
            queue: dir.join("queue"),
            users_file: None,
            users: Vec::new(),
            postmaster: None,
            mx_listen: SocketAddr::new(ip, 0),
            submission_listen: Some(SocketAddr::new(ip, 0)),
            submissions_listen: None,
            source_address: Some(ip),
            max_message_size: default_max_message_size(),
            auth_requires_tls: true,
            max_hops: default_max_hops(),
            relay_port: default_relay_port(),
            max_parallel_relays: default_parallel(),
            tls: None,
            retry: RetryPolicy::default(),
            mx: BTreeMap::new(),
            hosts: BTreeMap::new(),
            dns_resolver: None,
        }
    }

    /// Add an inline user.
    pub fn with_user(mut self, name: &str, password: &str) -> Config {
        self.users.push(User {
            name: name.to_string(),
            password: password.to_string(),
            aliases: Vec::new(),
        });
        self
    }

    /// The users: the users file (if any) and the inline ones, serving `domains`.
    pub fn load_users(&self) -> Result<Users, ConfigError> {
        let mut users = match &self.users_file {
            Some(p) => Users::load(p)?,
            None => Users::default(),
        };
        users.users.extend(self.users.iter().cloned());
        users.domains = self.domains.clone();
        let mut seen = std::collections::HashSet::new();
        for u in &users.users {
            let bad_name = u.name.is_empty()
                || u.name.len() > 255
                || u.name.starts_with('.')
                || u.name.chars().any(|c| c == '/' || c.is_control());
            if bad_name {
                return Err(ConfigError::Invalid(format!("bad user name {:?}", u.name)));
            }
            for n in std::iter::once(&u.name).chain(&u.aliases) {
                if !seen.insert(n.to_ascii_lowercase()) {
                    return Err(ConfigError::Invalid(format!(
                        "duplicate user name or alias {n:?}"
                    )));
                }
            }
        }
        Ok(users)
    }

    /// True when `domain` is one of ours.
    pub fn is_local_domain(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }

    /// Check values that parse but make no sense (also done by [`crate::Mta::start`] for
    /// configurations built in code).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.hostname.is_empty() || wirecheck_smtp::codec::Domain::parse(&self.hostname).is_err()
        {
            return Err(ConfigError::Invalid(format!(
                "hostname {:?} is not a domain",
                self.hostname
            )));
        }
        if self.max_message_size == 0 {
            return Err(ConfigError::Invalid("max-message-size must be > 0".into()));
        }
        let r = &self.retry;
        let all = [
            r.then_every,
            r.expire,
            r.delay_warning,
            r.connect_timeout,
            r.command_timeout,
            r.session_timeout,
        ];
        // Ten years is more than any mail system waits; it keeps time arithmetic in range.
        if all
            .iter()
            .chain(&r.schedule)
            .any(|d| *d > Duration::from_secs(3650 * 86400))
        {
            return Err(ConfigError::Invalid(
                "retry durations must be at most 3650 days".into(),
            ));
        }
        if self.retry.then_every.is_zero() || self.retry.schedule.iter().any(Duration::is_zero) {
            return Err(ConfigError::Invalid("retry delays must be > 0".into()));
        }
        Ok(())
    }
}

fn default_max_message_size() -> u64 {
    10 * 1024 * 1024
}
fn default_max_hops() -> usize {
    // RFC 5321 §6.3: "a relay limit of 100 hops" is the figure it suggests as a minimum.
    100
}
fn default_relay_port() -> u16 {
    25
}
fn default_parallel() -> usize {
    8
}
fn yes() -> bool {
    true
}
fn default_schedule() -> Vec<Duration> {
    [1, 5, 15, 30]
        .iter()
        .map(|m| Duration::from_secs(m * 60))
        .collect()
}
fn thirty_seconds() -> Duration {
    Duration::from_secs(30)
}
fn five_minutes() -> Duration {
    Duration::from_secs(5 * 60)
}
fn thirty_minutes() -> Duration {
    Duration::from_secs(30 * 60)
}
fn four_hours() -> Duration {
    Duration::from_secs(4 * 3600)
}
fn five_days() -> Duration {
    Duration::from_secs(5 * 24 * 3600)
}

/// A duration written like `"30m"`, `"1h 30m"`, `"5d"`, `"90s"`.
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse_duration(&s).map_err(serde::de::Error::custom)
}

fn durations<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    v.iter()
        .map(|s| parse_duration(s).map_err(serde::de::Error::custom))
        .collect()
}

/// Parse `"30m"`, `"5d"`, `"1h 30m"` (humantime syntax).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("expected a duration like \"30m\" or \"5d\", got {s:?} ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
hostname = "mx.alpha.test"
domains = ["alpha.test"]
store = "mail"
queue = "queue"
mx-listen = "127.0.0.2:2525"
submission-listen = "127.0.0.2:5870"
max-message-size = 1000

[retry]
schedule = ["10s", "1m"]
then-every = "1h"
expire = "2d"

[mx]
"beta.test" = ["127.0.0.3:2525", "127.0.0.4"]

[hosts]
"gamma.test" = ["127.0.0.5"]

[[user]]
name = "alice"
password = "secret"
aliases = ["postmaster"]
"#;

    #[test]
    fn parses_the_documented_form() {
        let c = Config::from_toml(FULL).unwrap();
        assert_eq!(c.hostname, "mx.alpha.test");
        assert_eq!(c.mx_listen, "127.0.0.2:2525".parse().unwrap());
        assert_eq!(
            c.retry.schedule,
            vec![Duration::from_secs(10), Duration::from_secs(60)]
        );
        assert_eq!(c.retry.expire, Duration::from_secs(2 * 86400));
        assert_eq!(
            c.retry.connect_timeout,
            Duration::from_secs(30),
            "default kept"
        );
        assert_eq!(c.mx["beta.test"].len(), 2);
        assert_eq!(
            c.hosts["gamma.test"],
            vec!["127.0.0.5".parse::<IpAddr>().unwrap()]
        );
        let users = c.load_users().unwrap();
        assert_eq!(
            users
                .resolve("Postmaster@ALPHA.test")
                .map(|u| u.name.as_str()),
            Some("alice")
        );
        assert!(
            users.resolve("alice@beta.test").is_none(),
            "domains come from the config"
        );
        assert!(c.is_local_domain("Alpha.Test"));
    }

    #[test]
    fn retry_schedule_then_every() {
        let r = RetryPolicy::default();
        let mins: Vec<u64> = (1..=6).map(|a| r.delay_after(a).as_secs() / 60).collect();
        assert_eq!(mins, [1, 5, 15, 30, 30, 30]);
        assert_eq!(r.expire, Duration::from_secs(5 * 86400));
    }

    #[test]
    fn rejects_bad_values() {
        assert!(Config::from_toml(&FULL.replace("\"1h\"", "\"soon\"")).is_err());
        assert!(Config::from_toml(&FULL.replace("mx-listen", "mx-lisen")).is_err());
        assert!(Config::from_toml(&FULL.replace("\"mx.alpha.test\"", "\"bad host\"")).is_err());
        assert!(Config::from_toml(&FULL.replace("\"10s\"", "\"0s\"")).is_err());
        assert!(Config::from_toml(&FULL.replace("\"2d\"", "\"100000000y\"")).is_err());
        let dup = format!("{FULL}\n[[user]]\nname = \"Postmaster\"\npassword = \"x\"\n");
        assert!(Config::from_toml(&dup).unwrap().load_users().is_err());
    }

    #[test]
    fn load_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mta.toml");
        std::fs::write(&p, FULL).unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(c.store, dir.path().join("mail"));
        assert_eq!(c.queue, dir.path().join("queue"));
    }
}
