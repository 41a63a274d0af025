//! The users a store serves: name, password, aliases; loadable from TOML.
//!
//! ```toml
//! domains = ["example.test"]      # optional: addresses in other domains are not ours
//!
//! [[user]]
//! name = "alice"
//! password = "secret"
//! aliases = ["postmaster", "a.liddell@example.test"]   # optional
//! ```

use std::path::Path;

use serde::Deserialize;

/// Why a users file could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UsersError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("users file: {0}")]
    Toml(#[from] toml::de::Error),
    /// A user name is empty, too long, or appears twice (also as an alias).
    #[error("users file: bad or duplicate name {0:?}")]
    BadName(String),
}

/// One user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The login name, and the name of the user's maildrop.
    pub name: String,
    /// The shared secret (USER/PASS, APOP, AUTH PLAIN/LOGIN all check it).
    pub password: String,
    /// Other local parts (or whole addresses) delivered to this user.
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// The configured users.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Users {
    /// Mail domains served; empty means any domain.
    #[serde(default)]
    pub domains: Vec<String>,
    /// The users.
    #[serde(default, rename = "user")]
    pub users: Vec<User>,
}

impl Users {
    /// Users from TOML text.
    pub fn from_toml(text: &str) -> Result<Users, UsersError> {
        let users: Users = toml::from_str(text)?;
        users.check()?;
        Ok(users)
    }

    /// Users from a TOML file.
    pub fn load(path: &Path) -> Result<Users, UsersError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| UsersError::Io { path: path.display().to_string(), source })?;
        Users::from_toml(&text)
    }

    /// Users from `(name, password)` pairs (tests, the demo).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Users, UsersError> {
        let users = Users {
            domains: Vec::new(),
            users: pairs
                .iter()
                .map(|(n, p)| User { name: n.to_string(), password: p.to_string(), aliases: Vec::new() })
                .collect(),
        };
        users.check()?;
        Ok(users)
    }

    fn check(&self) -> Result<(), UsersError> {
        let mut seen = std::collections::HashSet::new();
        for u in &self.users {
            if crate::names::check_user(&u.name).is_err() {
                return Err(UsersError::BadName(u.name.clone()));
            }
            for n in std::iter::once(&u.name).chain(&u.aliases) {
                if !seen.insert(n.to_ascii_lowercase()) {
                    return Err(UsersError::BadName(n.clone()));
                }
            }
        }
        Ok(())
    }

    /// The user called `name` (exact match: login names are case-sensitive).
    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// Whether `name` exists and `password` is its password (compared in constant time
    /// over the password's length).
    pub fn verify(&self, name: &str, password: &[u8]) -> bool {
        match self.get(name) {
            Some(u) => constant_time_eq(u.password.as_bytes(), password),
            None => {
                // Same amount of work for an unknown user.
                let _ = constant_time_eq(password, password);
                false
            }
        }
    }

    /// The user a recipient address (`local@domain` or a bare local part) is delivered to:
    /// the local part (or the whole address) matches a name or an alias, ignoring ASCII case;
    /// when `domains` is not empty, the domain must be one of them.
    pub fn resolve(&self, address: &str) -> Option<&User> {
        let (local, domain) = match address.rsplit_once('@') {
            Some((l, d)) => (l, Some(d)),
            None => (address, None),
        };
        if let Some(d) = domain
            && !self.domains.is_empty()
            && !self.domains.iter().any(|x| x.eq_ignore_ascii_case(d))
        {
            return None;
        }
        self.users.iter().find(|u| {
            std::iter::once(&u.name)
                .chain(&u.aliases)
                .any(|n| n.eq_ignore_ascii_case(local) || n.eq_ignore_ascii_case(address))
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, &x) in b.iter().enumerate() {
        diff |= x ^ a.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = r#"
domains = ["example.test"]
[[user]]
name = "alice"
password = "secret"
aliases = ["postmaster", "a.liddell@example.test"]
[[user]]
name = "bob"
password = "hunter2"
"#;

    #[test]
    fn loads_and_verifies() {
        let u = Users::from_toml(TOML).unwrap();
        assert!(u.verify("alice", b"secret"));
        assert!(!u.verify("alice", b"secret2"));
        assert!(!u.verify("alice", b"secre"));
        assert!(!u.verify("carol", b"secret"));
        assert_eq!(u.get("bob").map(|x| x.password.as_str()), Some("hunter2"));
    }

    #[test]
    fn resolves_addresses_and_aliases() {
        let u = Users::from_toml(TOML).unwrap();
        let name = |a: &str| u.resolve(a).map(|x| x.name.clone());
        assert_eq!(name("alice@example.test").as_deref(), Some("alice"));
        assert_eq!(name("Postmaster@EXAMPLE.test").as_deref(), Some("alice"));
        assert_eq!(name("a.liddell@example.test").as_deref(), Some("alice"));
        assert_eq!(name("bob").as_deref(), Some("bob"));
        assert_eq!(name("bob@elsewhere.test"), None);
        assert_eq!(name("carol@example.test"), None);
    }

    #[test]
    fn rejects_duplicates_and_unknown_keys() {
        assert!(Users::from_toml("[[user]]\nname='a'\npassword='x'\n[[user]]\nname='A'\npassword='y'").is_err());
        assert!(Users::from_toml("[[user]]\nname='a'\npassword='x'\nshell='/bin/sh'").is_err());
        assert!(Users::from_pairs(&[("", "x")]).is_err());
    }
}
