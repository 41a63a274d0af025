//! A miniature DNS on loopback: a root, the `test.` TLD, and leaf zones such as `example.test.`,
//! `alpha.test.` and `beta.test.`, each served from its own 127.0.0.x address, plus a caching
//! resolver that starts from the root.
//!
//! # Design
//!
//! Real resolvers send every query to port 53; glue records carry addresses, not ports. To keep
//! that shape without privileges, every server of one hierarchy listens on **the same port P**,
//! each on its own loopback address, and the resolver is told P
//! ([`ResolverConfig::port`](crate::resolver::ResolverConfig::port)). P is found free on all
//! addresses at once (bounded retries), UDP and TCP.
//!
//! | server | address | zones |
//! |---|---|---|
//! | root | [`ROOT_ADDR`] 127.0.0.11 | `.` (delegates `test.`) |
//! | TLD | [`TLD_ADDR`] 127.0.0.12 | `test.` (delegates each leaf, with glue) |
//! | leaves | the addresses of each leaf's in-zone NS names | e.g. `example.test.` on 127.0.0.53 and .54 (its `ns1`/`ns2`), `alpha.test.` on .13, `beta.test.` on .14 |
//! | resolver | [`RESOLVER_ADDR`] 127.0.0.2 | recursive service (RD/RA) for stub clients |
//!
//! A leaf zone says where it is served: its apex NS names must be inside it, with A records in
//! 127.0.0.0/8; the TLD's delegation and glue are built from them. Every address in every zone
//! must be loopback ([`HierarchyError::NotLoopback`]). This module's layout part is sans-IO (so
//! tests can run the resolver against it in memory); `Hierarchy::start` (feature `server`) binds
//! the sockets.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use crate::message::{RData, RecordType};
use crate::name::Name;
use crate::zone::{Zone, ZoneError, Zones, example_test_zone};

/// The root server's address.
pub const ROOT_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);
/// The `test.` server's address.
pub const TLD_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 12);
/// The recursive resolver's address.
pub const RESOLVER_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// Why a hierarchy could not be laid out or started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HierarchyError {
    /// A generated or given zone did not load.
    #[error("zone: {0}")]
    Zone(#[from] ZoneError),
    /// A leaf that is not a child of `test.`.
    #[error("{0} is not directly below test.")]
    NotUnderTest(Name),
    /// A leaf whose NS names have no in-zone loopback address.
    #[error("{0}: no in-zone NS name with a 127.0.0.0/8 address")]
    NoServerAddress(Name),
    /// An address outside loopback in a zone.
    #[error("{0}: address {1} is not loopback")]
    NotLoopback(Name, IpAddr),
    /// A leaf server on an address the root, TLD or resolver use.
    #[error("{0}: address {1} is reserved for the root, TLD or resolver")]
    ReservedAddress(Name, Ipv4Addr),
    /// Binding the sockets failed.
    #[error("binding: {0}")]
    Io(#[from] std::io::Error),
}

/// One server of the hierarchy: where it listens and what it serves.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// Its loopback address.
    pub addr: Ipv4Addr,
    /// Its zones.
    pub zones: Zones,
}

/// The servers of a hierarchy, without sockets.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Root, TLD, then one per leaf address.
    pub servers: Vec<ServerSpec>,
}

/// The `alpha.test.` demo zone: MX to `mx.alpha.test.` (127.0.0.21), a `www`.
pub const ALPHA_TEST_ZONE: &str = "\
$ORIGIN alpha.test.
$TTL 3600
@    IN SOA ns.alpha.test. hostmaster.alpha.test. ( 1 3600 900 604800 300 )
@    IN NS  ns
@    IN MX  10 mx
@    IN A   127.0.0.21
ns   IN A   127.0.0.13
mx   IN A   127.0.0.21
www  IN A   127.0.0.21
";

/// The `beta.test.` demo zone: two MX (one in `alpha.test.`), a CNAME into `alpha.test.`.
pub const BETA_TEST_ZONE: &str = "\
$ORIGIN beta.test.
$TTL 3600
@    IN SOA ns.beta.test. hostmaster.beta.test. ( 1 3600 900 604800 300 )
@    IN NS  ns
@    IN MX  10 mx
@    IN MX  20 mx.alpha.test.
ns   IN A   127.0.0.14
mx   IN A   127.0.0.22
www  IN CNAME www.alpha.test.
";

/// The default leaves: `example.test.` (the peers' zone), `alpha.test.`, `beta.test.`.
pub fn default_leaves() -> Vec<Zone> {
    let mut leaves = vec![example_test_zone()];
    for text in [ALPHA_TEST_ZONE, BETA_TEST_ZONE] {
        // Constant text, checked by the tests.
        if let Ok(z) = Zone::parse(text, None) {
            leaves.push(z);
        }
    }
    leaves
}

impl Layout {
    /// Lays out a root, `test.` and the given leaves (each a child of `test.`).
    pub fn new(leaves: Vec<Zone>) -> Result<Layout, HierarchyError> {
        let test = Name::from_labels([&b"test"[..]])
            .map_err(|_| HierarchyError::NotUnderTest(Name::root()))?;
        let mut tld = format!(
            "$ORIGIN test.\n$TTL 86400\n\
             @ SOA ns.test. hostmaster.test. 1 1800 900 604800 3600\n\
             @ NS ns.test.\nns A {TLD_ADDR}\nroot-ns A {ROOT_ADDR}\n"
        );
        let mut by_addr: BTreeMap<Ipv4Addr, Zones> = BTreeMap::new();
        for leaf in leaves {
            let origin = leaf.origin().clone();
            if origin.parent().as_ref() != Some(&test) {
                return Err(HierarchyError::NotUnderTest(origin));
            }
            check_loopback(&leaf)?;
            let ns_names: Vec<Name> = leaf
                .node(&origin)
                .and_then(|n| n.rrset(RecordType::NS))
                .map(|set| {
                    set.records
                        .iter()
                        .filter_map(|r| match &r.rdata {
                            RData::Ns(n) => Some(n.clone()),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut addrs = Vec::new();
            for ns in &ns_names {
                tld.push_str(&format!("{origin} NS {ns}\n"));
                let Some(set) = leaf.node(ns).and_then(|n| n.rrset(RecordType::A)) else {
                    continue;
                };
                for rec in &set.records {
                    if let RData::A(a) = rec.rdata {
                        tld.push_str(&format!("{ns} A {a}\n"));
                        addrs.push(a);
                    }
                }
            }
            if addrs.is_empty() {
                return Err(HierarchyError::NoServerAddress(origin));
            }
            for a in addrs {
                if [ROOT_ADDR, TLD_ADDR, RESOLVER_ADDR].contains(&a) {
                    return Err(HierarchyError::ReservedAddress(origin, a));
                }
                by_addr.entry(a).or_default().insert(leaf.clone());
            }
        }
        let root = format!(
            "$ORIGIN .\n$TTL 86400\n\
             . SOA root-ns.test. hostmaster.test. 1 1800 900 604800 86400\n\
             . NS root-ns.test.\ntest. NS ns.test.\nns.test. A {TLD_ADDR}\nroot-ns.test. A {ROOT_ADDR}\n"
        );
        let mut servers = vec![
            ServerSpec {
                addr: ROOT_ADDR,
                zones: [Zone::parse(&root, None)?].into_iter().collect(),
            },
            ServerSpec {
                addr: TLD_ADDR,
                zones: [Zone::parse(&tld, None)?].into_iter().collect(),
            },
        ];
        servers.extend(
            by_addr
                .into_iter()
                .map(|(addr, zones)| ServerSpec { addr, zones }),
        );
        Ok(Layout { servers })
    }

    /// The zones served at `addr`, if a server is there.
    pub fn zones_at(&self, addr: IpAddr) -> Option<&Zones> {
        self.servers
            .iter()
            .find(|s| IpAddr::V4(s.addr) == addr)
            .map(|s| &s.zones)
    }
}

/// Every A/AAAA in the zone must be loopback (this project's network rule).
fn check_loopback(zone: &Zone) -> Result<(), HierarchyError> {
    for rec in zone.records() {
        let ip: IpAddr = match rec.rdata {
            RData::A(a) => a.into(),
            RData::Aaaa(a) => a.into(),
            _ => continue,
        };
        if !ip.is_loopback() {
            return Err(HierarchyError::NotLoopback(rec.name.clone(), ip));
        }
    }
    Ok(())
}

#[cfg(feature = "server")]
pub use running::{Hierarchy, HierarchyConfig};

#[cfg(feature = "server")]
mod running {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use super::{HierarchyError, Layout, RESOLVER_ADDR, ROOT_ADDR, default_leaves};
    use crate::client::{LookupError, RecursiveServer, Resolver};
    use crate::name::Name;
    use crate::resolver::ResolverConfig;
    use crate::server::{AuthServer, ServerConfig, Sockets, bind_pair};
    use crate::zone::Zone;

    /// How to start a hierarchy.
    #[derive(Debug, Clone)]
    pub struct HierarchyConfig {
        /// The one port every server listens on; 0 finds one free on every address.
        pub port: u16,
        /// The leaf zones (children of `test.`); [`default_leaves`] by default.
        pub leaves: Vec<Zone>,
        /// Also run the recursive service on [`RESOLVER_ADDR`].
        pub recursive_service: bool,
    }

    impl Default for HierarchyConfig {
        fn default() -> HierarchyConfig {
            HierarchyConfig {
                port: 0,
                leaves: default_leaves(),
                recursive_service: true,
            }
        }
    }

    /// A running hierarchy: every server, and a resolver that starts at its root. Dropping it
    /// stops every server.
    pub struct Hierarchy {
        port: u16,
        layout: Layout,
        resolver: Resolver,
        servers: Vec<AuthServer>,
        recursive: Option<RecursiveServer>,
    }

    impl Hierarchy {
        /// Binds every server of the layout on its address and one shared port (UDP and TCP),
        /// and the recursive service if asked; see the module docs for the design.
        pub async fn start(config: HierarchyConfig) -> Result<Hierarchy, HierarchyError> {
            let layout = Layout::new(config.leaves)?;
            let mut addrs: Vec<std::net::Ipv4Addr> =
                layout.servers.iter().map(|s| s.addr).collect();
            if config.recursive_service {
                addrs.push(RESOLVER_ADDR);
            }
            let (port, sockets) = bind_all(&addrs, config.port)?;
            let resolver = Resolver::iterative(ResolverConfig::new(
                vec![SocketAddr::new(ROOT_ADDR.into(), port)],
                port,
            ));
            let cfg = ServerConfig {
                udp_workers: 1,
                ..ServerConfig::default()
            };
            // `bind_all` bound one pair per address, in order: the servers', then the resolver's.
            let mut sockets = sockets.into_iter();
            let mut servers = Vec::new();
            for (spec, socks) in layout.servers.iter().zip(sockets.by_ref()) {
                servers.push(AuthServer::serve(
                    Arc::new(spec.zones.clone()),
                    socks,
                    cfg.clone(),
                )?);
            }
            let recursive = match sockets.next() {
                Some(socks) => Some(RecursiveServer::serve(resolver.clone(), socks)?),
                None => None,
            };
            Ok(Hierarchy {
                port,
                layout,
                resolver,
                servers,
                recursive,
            })
        }

        /// The port every server listens on.
        pub fn port(&self) -> u16 {
            self.port
        }

        /// The root hints (the root server's address and the port).
        pub fn root_hints(&self) -> Vec<SocketAddr> {
            vec![SocketAddr::new(ROOT_ADDR.into(), self.port)]
        }

        /// A configuration for another resolver of this hierarchy (its own cache).
        pub fn resolver_config(&self) -> ResolverConfig {
            ResolverConfig::new(self.root_hints(), self.port)
        }

        /// The in-process iterative resolver (shares its cache with the recursive service).
        pub fn resolver(&self) -> &Resolver {
            &self.resolver
        }

        /// The recursive service's address (UDP and TCP), if it runs.
        pub fn resolver_addr(&self) -> Option<SocketAddr> {
            self.recursive.as_ref().map(RecursiveServer::local_addr)
        }

        /// Every authoritative server: its address and the zones it serves.
        pub fn servers(&self) -> Vec<(SocketAddr, Vec<Name>)> {
            self.servers
                .iter()
                .zip(&self.layout.servers)
                .map(|(srv, spec)| {
                    (
                        srv.local_addr(),
                        spec.zones.iter().map(|z| z.origin().clone()).collect(),
                    )
                })
                .collect()
        }

        /// The layout (zones per address) this hierarchy serves.
        pub fn layout(&self) -> &Layout {
            &self.layout
        }

        /// [`Resolver::lookup_mx`] through this hierarchy.
        pub async fn lookup_mx(&self, domain: &str) -> Result<Vec<(u16, String)>, LookupError> {
            self.resolver.lookup_mx(domain).await
        }

        /// [`Resolver::lookup_ip`] through this hierarchy.
        pub async fn lookup_ip(&self, host: &str) -> Result<Vec<std::net::IpAddr>, LookupError> {
            self.resolver.lookup_ip(host).await
        }
    }

    /// Binds UDP+TCP on every address with one port: the given one, or (0) the first address's
    /// ephemeral port, retried a bounded number of times when another address has it taken.
    fn bind_all(
        addrs: &[std::net::Ipv4Addr],
        port: u16,
    ) -> Result<(u16, Vec<Sockets>), HierarchyError> {
        let mut last = None;
        for _ in 0..20 {
            let Some(first) = addrs.first() else {
                return Ok((port, Vec::new()));
            };
            let first = bind_pair(SocketAddr::new((*first).into(), port), 1)?;
            let chosen = first.1.local_addr()?.port();
            let mut all = vec![first];
            let rest: Result<Vec<Sockets>, std::io::Error> = addrs
                .iter()
                .skip(1)
                .map(|a| bind_pair(SocketAddr::new((*a).into(), chosen), 1))
                .collect();
            match rest {
                Ok(more) => {
                    all.extend(more);
                    return Ok((chosen, all));
                }
                Err(e) if port == 0 && e.kind() == std::io::ErrorKind::AddrInUse => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last
            .unwrap_or_else(|| std::io::Error::other("no common free port"))
            .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::n;

    #[test]
    fn default_layout() {
        assert_eq!(default_leaves().len(), 3);
        let l = Layout::new(default_leaves()).unwrap();
        let addrs: Vec<String> = l.servers.iter().map(|s| s.addr.to_string()).collect();
        assert_eq!(
            addrs,
            [
                "127.0.0.11",
                "127.0.0.12",
                "127.0.0.13",
                "127.0.0.14",
                "127.0.0.53",
                "127.0.0.54"
            ]
        );
        let tld = l
            .zones_at(TLD_ADDR.into())
            .unwrap()
            .get(&n("test."))
            .unwrap();
        let glue = tld
            .node(&n("ns1.example.test."))
            .unwrap()
            .rrset(RecordType::A)
            .unwrap();
        assert_eq!(
            glue.records[0].rdata,
            RData::A(Ipv4Addr::new(127, 0, 0, 53))
        );
        assert!(
            l.zones_at("127.0.0.53".parse().unwrap())
                .unwrap()
                .get(&n("example.test."))
                .is_some()
        );
        assert!(l.zones_at("127.0.0.99".parse().unwrap()).is_none());
    }

    #[test]
    fn bad_leaves_are_refused() {
        let z = |t: &str| Zone::parse(t, None).unwrap();
        let soa = "$TTL 60\n@ SOA ns hm 1 1 1 1 1\n";
        let deep = z(&format!(
            "$ORIGIN a.b.test.\n{soa}@ NS ns\nns A 127.0.0.40\n"
        ));
        assert!(matches!(
            Layout::new(vec![deep]),
            Err(HierarchyError::NotUnderTest(_))
        ));
        let far = z(&format!("$ORIGIN far.test.\n{soa}@ NS ns\nns A 10.0.0.1\n"));
        assert!(matches!(
            Layout::new(vec![far]),
            Err(HierarchyError::NotLoopback(..))
        ));
        let glueless = z(&format!("$ORIGIN g.test.\n{soa}@ NS ns.elsewhere.test.\n"));
        assert!(matches!(
            Layout::new(vec![glueless]),
            Err(HierarchyError::NoServerAddress(_))
        ));
        let clash = z(&format!("$ORIGIN c.test.\n{soa}@ NS ns\nns A 127.0.0.11\n"));
        assert!(matches!(
            Layout::new(vec![clash]),
            Err(HierarchyError::ReservedAddress(..))
        ));
    }
}
