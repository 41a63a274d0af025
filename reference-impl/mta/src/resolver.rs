//! Finding the next hop for a domain: the [`MxResolver`] trait (DNS is one implementation,
//! [`StaticResolver`] the config-driven one), and the resolver-neutral routing rules of
//! RFC 5321 §5.1 in [`route`]: MX records sorted by preference (equal ones shuffled),
//! the implicit MX (no MX records: the domain's own address), RFC 7505 null MX, address
//! literals, and dropping ourselves and everything less preferred from the list.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;

use rand::seq::SliceRandom;

/// A boxed future, so resolvers can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One mail exchanger for a domain (RFC 5321 §5.1, RFC 1035 §3.3.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxHost {
    /// Lower is preferred.
    pub preference: u16,
    /// The exchanger's name (or `ip:port` text for static entries).
    pub host: String,
    /// Its addresses with the port to use; empty when the resolver did not know them
    /// (then [`route`] asks [`MxResolver::lookup_host`]).
    pub addrs: Vec<SocketAddr>,
}

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The name does not exist (NXDOMAIN, RFC 1035 §4.1.1 RCODE 3): permanent.
    #[error("no such domain: {0}")]
    NoSuchDomain(String),
    /// No answer now (SERVFAIL, timeout): try again later.
    #[error("temporary resolver failure: {0}")]
    Temporary(String),
}

/// Looks up MX and address records. Implementations: [`StaticResolver`]; a DNS-backed one
/// (wirecheck-dns) plugs in the same way.
pub trait MxResolver: Send + Sync {
    /// The MX records of `domain`. `Ok(vec![])` means the domain exists but has no MX
    /// records (NODATA): the implicit MX rule applies.
    fn lookup_mx<'a>(&'a self, domain: &'a str)
    -> BoxFuture<'a, Result<Vec<MxHost>, ResolveError>>;

    /// The addresses (A / AAAA) of `host`.
    fn lookup_host<'a>(&'a self, host: &'a str)
    -> BoxFuture<'a, Result<Vec<IpAddr>, ResolveError>>;
}

/// Why no next hop could be found, with the RFC 3463 status for a DSN or a retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {message}")]
pub struct RouteError {
    /// Permanent (bounce) or temporary (retry).
    pub permanent: bool,
    /// RFC 3463 enhanced status code, e.g. `5.1.2`.
    pub status: &'static str,
    /// What went wrong.
    pub message: String,
}

impl RouteError {
    fn permanent(status: &'static str, message: String) -> RouteError {
        RouteError {
            permanent: true,
            status,
            message,
        }
    }
    fn temporary(status: &'static str, message: String) -> RouteError {
        RouteError {
            permanent: false,
            status,
            message,
        }
    }
}

/// The hosts to try for `domain`, in order, each with its addresses.
///
/// * RFC 5321 §5.1: MX records sorted by preference, "randomized" among equal preferences;
///   no MX records: the domain itself is the single, implicit MX (preference 0).
/// * RFC 5321 §5.1: when one of the MX hosts is this MTA (`own_name` or an address in
///   `own_addrs`), it and every MX with an equal or higher preference value are dropped;
///   nothing left is a routing loop (`5.4.6`).
/// * RFC 7505 §3: a single MX of "." (null MX) means the domain accepts no mail (`5.1.10`).
/// * RFC 5321 §4.1.3: an address literal (`[127.0.0.3]`) is the address itself.
pub async fn route(
    resolver: &dyn MxResolver,
    domain: &str,
    default_port: u16,
    own_name: &str,
    own_addrs: &[SocketAddr],
) -> Result<Vec<MxHost>, RouteError> {
    if let Some(ip) = address_literal(domain) {
        let addr = SocketAddr::new(ip, default_port);
        if own_addrs.contains(&addr) {
            return Err(RouteError::permanent(
                "5.4.6",
                format!("mail for {domain} loops back to myself"),
            ));
        }
        return Ok(vec![MxHost {
            preference: 0,
            host: ip.to_string(),
            addrs: vec![addr],
        }]);
    }
    let mut hosts = match resolver.lookup_mx(domain).await {
        Ok(h) => h,
        Err(ResolveError::NoSuchDomain(_)) => {
            return Err(RouteError::permanent(
                "5.1.2",
                format!("domain {domain} not found"),
            ));
        }
        Err(ResolveError::Temporary(e)) => {
            return Err(RouteError::temporary(
                "4.4.3",
                format!("cannot look up MX for {domain}: {e}"),
            ));
        }
    };
    if hosts.len() == 1
        && hosts
            .first()
            .is_some_and(|h| h.host.trim_end_matches('.').is_empty())
    {
        return Err(RouteError::permanent(
            "5.1.10",
            format!("domain {domain} accepts no mail (null MX)"),
        ));
    }
    if hosts.is_empty() {
        // RFC 5321 §5.1: "the domain name ... MUST be treated as if it was associated with
        // an implicit MX RR with a preference of 0, pointing to that host".
        hosts.push(MxHost {
            preference: 0,
            host: domain.to_string(),
            addrs: Vec::new(),
        });
    }
    hosts.shuffle(&mut rand::rng());
    hosts.sort_by_key(|h| h.preference);
    let is_self = |h: &MxHost| {
        h.host.trim_end_matches('.').eq_ignore_ascii_case(own_name)
            || h.addrs.iter().any(|a| own_addrs.contains(a))
    };
    if let Some(own_pref) = hosts
        .iter()
        .filter(|h| is_self(h))
        .map(|h| h.preference)
        .min()
    {
        hosts.retain(|h| h.preference < own_pref);
        if hosts.is_empty() {
            return Err(RouteError::permanent(
                "5.4.6",
                format!("mail for {domain} loops back to myself"),
            ));
        }
    }
    let mut out = Vec::with_capacity(hosts.len());
    let mut temporary = None;
    for mut h in hosts {
        if h.addrs.is_empty() {
            match resolver.lookup_host(&h.host).await {
                Ok(ips) => {
                    h.addrs = ips
                        .into_iter()
                        .map(|ip| SocketAddr::new(ip, default_port))
                        .collect()
                }
                Err(ResolveError::Temporary(e)) => temporary = Some(e),
                Err(ResolveError::NoSuchDomain(_)) => {}
            }
            h.addrs.retain(|a| !own_addrs.contains(a));
        }
        if !h.addrs.is_empty() {
            out.push(h);
        }
    }
    if !out.is_empty() {
        return Ok(out);
    }
    match temporary {
        Some(e) => Err(RouteError::temporary(
            "4.4.3",
            format!("cannot look up the mail exchangers of {domain}: {e}"),
        )),
        // RFC 5321 §5.1: no usable address at all is an error for this domain.
        None => Err(RouteError::permanent(
            "5.4.4",
            format!("no address for any mail exchanger of {domain}"),
        )),
    }
}

/// `[127.0.0.1]` or `[IPv6:::1]` (RFC 5321 §4.1.3) as an address.
fn address_literal(domain: &str) -> Option<IpAddr> {
    let inner = domain.strip_prefix('[')?.strip_suffix(']')?;
    match inner.get(..5) {
        Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => {
            inner.get(5..)?.parse().ok().map(IpAddr::V6)
        }
        _ => inner.parse().ok().map(IpAddr::V4),
    }
}

/// Next hops from the configuration: `[mx]` (domain -> entries in preference order, each
/// `ip:port`, `ip`, `host` or `host:port`, hosts resolved through `[hosts]`) and `[hosts]`
/// (name -> addresses). A domain in `[hosts]` but not in `[mx]` has no MX records (so the
/// implicit MX applies); a domain in neither does not exist.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    mx: HashMap<String, Vec<String>>,
    hosts: HashMap<String, Vec<IpAddr>>,
    default_port: u16,
}

impl StaticResolver {
    /// A resolver over these maps; `default_port` is used for entries without a port.
    pub fn new(
        mx: &BTreeMap<String, Vec<String>>,
        hosts: &BTreeMap<String, Vec<IpAddr>>,
        default_port: u16,
    ) -> Self {
        StaticResolver {
            mx: mx.iter().map(|(k, v)| (normalise(k), v.clone())).collect(),
            hosts: hosts
                .iter()
                .map(|(k, v)| (normalise(k), v.clone()))
                .collect(),
            default_port,
        }
    }

    fn entry(&self, i: usize, entry: &str) -> MxHost {
        let preference = u16::try_from(i.saturating_mul(10)).unwrap_or(u16::MAX);
        let (host, port) = if let Ok(sa) = entry.parse::<SocketAddr>() {
            return MxHost {
                preference,
                host: entry.to_string(),
                addrs: vec![sa],
            };
        } else if let Ok(ip) = entry.parse::<IpAddr>() {
            return MxHost {
                preference,
                host: entry.to_string(),
                addrs: vec![SocketAddr::new(ip, self.default_port)],
            };
        } else {
            match entry
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
            {
                Some((h, p)) => (h, p),
                None => (entry, self.default_port),
            }
        };
        let addrs = self
            .hosts
            .get(&normalise(host))
            .map(|ips| ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
            .unwrap_or_default();
        MxHost {
            preference,
            host: host.to_string(),
            addrs,
        }
    }
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl MxResolver for StaticResolver {
    fn lookup_mx<'a>(
        &'a self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<Vec<MxHost>, ResolveError>> {
        let key = normalise(domain);
        let result = match self.mx.get(&key) {
            Some(entries) => Ok(entries
                .iter()
                .enumerate()
                .map(|(i, e)| self.entry(i, e))
                .collect()),
            None if self.hosts.contains_key(&key) => Ok(Vec::new()),
            None => Err(ResolveError::NoSuchDomain(domain.to_string())),
        };
        Box::pin(std::future::ready(result))
    }

    fn lookup_host<'a>(
        &'a self,
        host: &'a str,
    ) -> BoxFuture<'a, Result<Vec<IpAddr>, ResolveError>> {
        let result = match host.parse::<IpAddr>() {
            Ok(ip) => Ok(vec![ip]),
            Err(_) => self
                .hosts
                .get(&normalise(host))
                .cloned()
                .ok_or_else(|| ResolveError::NoSuchDomain(host.to_string())),
        };
        Box::pin(std::future::ready(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver() -> StaticResolver {
        let mut mx = BTreeMap::new();
        mx.insert(
            "beta.test".to_string(),
            vec!["127.0.0.3:2525".to_string(), "127.0.0.4".to_string()],
        );
        mx.insert(
            "named.test".to_string(),
            vec!["mx1.named.test:2600".to_string(), "ghost.test".to_string()],
        );
        mx.insert("null.test".to_string(), vec![".".to_string()]);
        mx.insert(
            "loop.test".to_string(),
            vec!["127.0.0.9:25".to_string(), "mx.self.test".to_string()],
        );
        mx.insert("self.test".to_string(), vec!["mx.self.test".to_string()]);
        let mut hosts = BTreeMap::new();
        hosts.insert("gamma.test".to_string(), vec!["127.0.0.5".parse().unwrap()]);
        hosts.insert(
            "mx1.named.test".to_string(),
            vec!["127.0.0.6".parse().unwrap()],
        );
        StaticResolver::new(&mx, &hosts, 25)
    }

    fn run<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn addrs(hops: &[MxHost]) -> Vec<String> {
        hops.iter()
            .flat_map(|h| h.addrs.iter().map(|a| a.to_string()))
            .collect()
    }

    #[test]
    fn static_map_in_preference_order() {
        let hops = run(route(&resolver(), "Beta.Test.", 25, "mx.alpha.test", &[])).unwrap();
        assert_eq!(addrs(&hops), ["127.0.0.3:2525", "127.0.0.4:25"]);
        assert!(hops[0].preference < hops[1].preference);
    }

    #[test]
    fn implicit_mx_is_the_domains_address() {
        // RFC 5321 §5.1: no MX records -> the domain's A record, preference 0.
        let hops = run(route(&resolver(), "gamma.test", 2525, "mx.alpha.test", &[])).unwrap();
        assert_eq!(hops.len(), 1);
        assert_eq!(hops[0].host, "gamma.test");
        assert_eq!(addrs(&hops), ["127.0.0.5:2525"]);
    }

    #[test]
    fn named_exchangers_are_looked_up_and_unknown_ones_skipped() {
        let hops = run(route(&resolver(), "named.test", 25, "mx.alpha.test", &[])).unwrap();
        assert_eq!(addrs(&hops), ["127.0.0.6:2600"]);
    }

    #[test]
    fn unknown_domain_and_null_mx_are_permanent() {
        let e = run(route(&resolver(), "nowhere.test", 25, "h", &[])).unwrap_err();
        assert!(e.permanent);
        assert_eq!(e.status, "5.1.2");
        let e = run(route(&resolver(), "null.test", 25, "h", &[])).unwrap_err();
        assert_eq!((e.permanent, e.status), (true, "5.1.10"));
    }

    #[test]
    fn ourselves_and_less_preferred_hosts_are_dropped() {
        let hops = run(route(&resolver(), "loop.test", 25, "mx.self.test", &[])).unwrap();
        assert_eq!(addrs(&hops), ["127.0.0.9:25"]);
        let e = run(route(&resolver(), "self.test", 25, "MX.self.test", &[])).unwrap_err();
        assert_eq!((e.permanent, e.status), (true, "5.4.6"));
        let own: SocketAddr = "127.0.0.3:2525".parse().unwrap();
        let hops = run(route(&resolver(), "beta.test", 25, "h", &[own])).unwrap_err();
        assert_eq!(hops.status, "5.4.6");
    }

    #[test]
    fn address_literals() {
        let hops = run(route(&resolver(), "[127.0.0.7]", 2525, "h", &[])).unwrap();
        assert_eq!(addrs(&hops), ["127.0.0.7:2525"]);
        let hops = run(route(&resolver(), "[IPv6:::1]", 25, "h", &[])).unwrap();
        assert_eq!(addrs(&hops), ["[::1]:25"]);
    }

    struct Failing;
    impl MxResolver for Failing {
        fn lookup_mx<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Vec<MxHost>, ResolveError>> {
            Box::pin(std::future::ready(Err(ResolveError::Temporary(
                "SERVFAIL".into(),
            ))))
        }
        fn lookup_host<'a>(
            &'a self,
            _: &'a str,
        ) -> BoxFuture<'a, Result<Vec<IpAddr>, ResolveError>> {
            Box::pin(std::future::ready(Err(ResolveError::Temporary(
                "SERVFAIL".into(),
            ))))
        }
    }

    #[test]
    fn resolver_failures_are_temporary() {
        let e = run(route(&Failing, "beta.test", 25, "h", &[])).unwrap_err();
        assert_eq!((e.permanent, e.status), (false, "4.4.3"));
    }
}
