//! [`MxResolver`] over real DNS: wirecheck-dns's resolver, either a stub asking a recursive
//! server (the config's `dns-resolver`) or any [`wirecheck_dns::client::Resolver`] the caller
//! built (e.g. the iterative one of a loopback hierarchy).

use std::net::{IpAddr, SocketAddr};

use wirecheck_dns::client::{LookupError, Resolver};

use crate::resolver::{BoxFuture, MxHost, MxResolver, ResolveError};

/// Next hops found through DNS (RFC 5321 §5.1: MX records, then the domain's addresses).
#[derive(Debug, Clone)]
pub struct DnsResolver {
    resolver: Resolver,
}

impl DnsResolver {
    /// Ask the recursive server at `server` (loopback only unless `allow_non_loopback`).
    pub fn stub(server: SocketAddr, allow_non_loopback: bool) -> Result<DnsResolver, ResolveError> {
        let resolver = Resolver::stub(server, allow_non_loopback).map_err(|e| ResolveError::Temporary(e.to_string()))?;
        Ok(DnsResolver { resolver })
    }

    /// Use `resolver` as it is.
    pub fn new(resolver: Resolver) -> DnsResolver {
        DnsResolver { resolver }
    }
}

fn map_err(e: LookupError) -> ResolveError {
    match e {
        // RFC 5321 §5.1: a name that does not exist is a permanent failure.
        LookupError::NxDomain(d) => ResolveError::NoSuchDomain(d),
        LookupError::InvalidName(d) => ResolveError::NoSuchDomain(d),
        other => ResolveError::Temporary(other.to_string()),
    }
}

impl MxResolver for DnsResolver {
    fn lookup_mx<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<Vec<MxHost>, ResolveError>> {
        Box::pin(async move {
            let mx = self.resolver.lookup_mx(domain).await.map_err(map_err)?;
            // Addresses are left to `route`, which asks lookup_host with the relay port.
            Ok(mx.into_iter().map(|(preference, host)| MxHost { preference, host, addrs: Vec::new() }).collect())
        })
    }

    fn lookup_host<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Vec<IpAddr>, ResolveError>> {
        Box::pin(async move { self.resolver.lookup_ip(host).await.map_err(map_err) })
    }
}
