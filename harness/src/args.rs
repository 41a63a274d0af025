//! Command-line argument groups shared by `wirecheck run` and `wirecheck diff` (flattened
//! into both with `#[command(flatten)]`), so the two parse and mean the same flags.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rustls_pki_types::CertificateDer;

use crate::runner::Fixtures;

/// What the target holds: `${user}`, `${pass}`, `${domain}` and the `requires` facts
/// (docs/transcripts.md "Fixtures").
#[derive(Debug, Clone, clap::Args)]
pub struct FixtureArgs {
    /// ${user} for log-ins.
    #[arg(long, default_value = "alice")]
    pub user: String,
    /// ${pass}.
    #[arg(long, default_value = "secret")]
    pub pass: String,
    /// ${domain}.
    #[arg(long, default_value = "example.test")]
    pub domain: String,
    /// Messages in the user's maildrop (cases that require `mailbox:N` need it).
    #[arg(long, value_name = "N")]
    pub mailbox_count: Option<u32>,
    /// The target offers TLS (cases that require `tls`).
    #[arg(long)]
    pub tls: bool,
}

impl FixtureArgs {
    /// The fixtures these flags describe (never "everything": that is the oracle's alone).
    #[must_use]
    pub fn fixtures(&self) -> Fixtures {
        Fixtures {
            user: self.user.clone(),
            pass: self.pass.clone(),
            domain: self.domain.clone(),
            mailbox_count: self.mailbox_count,
            tls: self.tls,
            everything: false,
        }
    }
}

/// Which TLS certificates of the target to trust.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustArgs {
    /// Accept any TLS certificate (self-signed test servers).
    #[arg(long)]
    pub insecure: bool,
    /// Trust the certificates in this PEM file.
    #[arg(long, value_name = "PEM")]
    pub ca: Option<PathBuf>,
}

impl TrustArgs {
    /// The certificates of `--ca` (none without it).
    ///
    /// # Errors
    /// The file cannot be read or holds no valid PEM.
    pub fn roots(&self) -> anyhow::Result<Vec<CertificateDer<'static>>> {
        self.ca.as_deref().map_or_else(|| Ok(Vec::new()), read_pem)
    }
}

/// PEM certificates from a file.
///
/// # Errors
/// The file cannot be read or holds no valid PEM.
pub fn read_pem(p: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    use rustls_pki_types::pem::PemObject;
    let pem = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
    CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Both {
        #[command(flatten)]
        fixtures: FixtureArgs,
        #[command(flatten)]
        trust: TrustArgs,
    }

    #[test]
    fn defaults_are_the_reference_fixture_and_no_extra_trust() {
        let b = Both::try_parse_from(["x"]).unwrap();
        let f = b.fixtures.fixtures();
        assert_eq!((f.user.as_str(), f.pass.as_str()), ("alice", "secret"));
        assert_eq!(f.domain, "example.test");
        assert!(!f.tls && !f.everything && f.mailbox_count.is_none());
        assert!(!b.trust.insecure);
        assert!(b.trust.roots().unwrap().is_empty());
    }

    #[test]
    fn flags_reach_the_fixtures_and_a_bad_ca_is_an_error() {
        let b = Both::try_parse_from([
            "x", "--user", "bob", "--mailbox-count", "3", "--tls", "--ca", "/nonexistent.pem",
        ])
        .unwrap();
        let f = b.fixtures.fixtures();
        assert_eq!(f.user, "bob");
        assert_eq!(f.mailbox_count, Some(3));
        assert!(f.tls);
        let e = b.trust.roots().unwrap_err().to_string();
        assert!(e.contains("/nonexistent.pem"), "{e}");
    }
}
