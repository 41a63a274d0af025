//! Iterative resolution (RFC 1034 §5.3.3) as a sans-IO state machine.
//!
//! A [`Resolution`] answers one question. The caller loops: [`Resolution::poll`] says what to
//! do next — send a query ([`Step::Send`]), wait, or it is done — and feeds back what happened
//! with [`Resolution::handle_response`] or [`Resolution::handle_timeout`]. The clock (`now`) and
//! the [`Cache`] are the caller's. Transaction matching (random ID, random source port, reply
//! from the address asked, RFC 5452 §9) is the driver's job, since it owns the sockets; this
//! machine re-checks the question and applies the data rules:
//!
//! * bailiwick (RFC 2181 §5.4.1, RFC 5452 §6): only records at or below the zone the answering
//!   server was asked as are used or cached; a referral must go down, towards the name;
//! * CNAMEs are followed (RFC 1034 §3.6.2), from the answer or by a new lookup, at most
//!   [`ResolverConfig::max_cname`];
//! * NXDOMAIN and NODATA are cached with the SOA (RFC 2308 §5);
//! * a truncated UDP answer is retried over TCP (RFC 7766 §5);
//! * name servers without glue are looked up by a nested resolution (bounded depth);
//! * every query goes to a loopback address unless `allow_non_loopback` is set.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::cache::{Cache, Cached};
use crate::message::{Class, Edns, Header, Message, Question, RData, Rcode, Record, RecordType};
use crate::name::Name;
use classify::Outcome;

/// How the resolver works.
#[derive(Debug, Clone)]
pub struct ResolverConfig {
    /// Where the root servers are (the "hints", RFC 1034 §5.3.2). Loopback in this project.
    pub root_hints: Vec<SocketAddr>,
    /// The port for every name server learnt from glue or lookups (the loopback hierarchy runs
    /// every server on one port).
    pub port: u16,
    /// Allow queries to addresses outside 127.0.0.0/8 and ::1. Off by default: this resolver
    /// only talks to loopback unless told otherwise.
    pub allow_non_loopback: bool,
    /// Wait this long for each answer.
    pub timeout: Duration,
    /// Tries per server address (the first plus retries).
    pub attempts: u8,
    /// Queries sent for one resolution at most (nested lookups included).
    pub max_queries: usize,
    /// CNAMEs followed at most.
    pub max_cname: usize,
    /// Nested name-server address lookups at most this deep.
    pub max_depth: usize,
}

impl ResolverConfig {
    /// Defaults with these root hints and port.
    pub fn new(root_hints: Vec<SocketAddr>, port: u16) -> ResolverConfig {
        ResolverConfig {
            root_hints,
            port,
            allow_non_loopback: false,
            timeout: Duration::from_millis(800),
            attempts: 2,
            max_queries: 48,
            max_cname: 8,
            max_depth: 3,
        }
    }
}

/// The outcome of a successful resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// NOERROR (data or NODATA) or NXDOMAIN, for the last name of the CNAME chain (RFC 6604).
    pub rcode: Rcode,
    /// The CNAME chain, then the RRset asked for (empty for NXDOMAIN / NODATA).
    pub records: Vec<Record>,
    /// For NXDOMAIN / NODATA: the SOA that said so (RFC 2308).
    pub soa: Option<Record>,
}

impl Answer {
    /// The records of the type asked for (the chain left out).
    pub fn data(&self, rtype: RecordType) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(move |r| r.rtype() == rtype)
    }
}

/// Why a resolution failed (a stub client sees SERVFAIL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// No server for some zone answered usefully.
    #[error("no server answered for {zone}")]
    NoServers {
        /// The zone.
        zone: Name,
    },
    /// The query budget ran out.
    #[error("too many queries")]
    TooManyQueries,
    /// Too many CNAMEs, or a CNAME loop.
    #[error("CNAME chain too long or looping")]
    CnameLoop,
    /// Name-server lookups nested too deep.
    #[error("name-server lookups nested too deep")]
    TooDeep,
    /// A server address outside loopback, refused by configuration.
    #[error("refusing to query non-loopback address {0}")]
    NonLoopback(SocketAddr),
    /// The driver could not send (socket error).
    #[error("transport: {0}")]
    Transport(String),
}

/// A query to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The server.
    pub to: SocketAddr,
    /// The query, ID 0: the driver sets a random one.
    pub query: Message,
    /// Send over TCP (after a truncated UDP answer).
    pub tcp: bool,
    /// How long to wait for the answer.
    pub timeout: Duration,
}

/// What the driver must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Send this query, then call `handle_response` or `handle_timeout`.
    Send(Outgoing),
    /// A query is outstanding: wait for its answer or timeout.
    Wait,
    /// Finished.
    Done(Result<Answer, ResolveError>),
}

#[derive(Debug, Clone)]
struct Server {
    addr: SocketAddr,
    tries: u8,
    failed: bool,
    tcp: bool,
}

#[derive(Debug)]
enum State {
    /// Look in the cache, then pick the closest known servers.
    Start,
    /// Ask the servers of `zone`.
    Query {
        zone: Name,
        servers: Vec<Server>,
        outstanding: Option<usize>,
    },
    /// Find an address for one of `ns_names` (the servers of `zone`).
    FindServer {
        zone: Name,
        ns_names: Vec<Name>,
        sub: Box<Resolution>,
    },
    /// Finished.
    Done(Option<Result<Answer, ResolveError>>),
}

/// One question being resolved.
#[derive(Debug)]
pub struct Resolution {
    config: ResolverConfig,
    qname: Name,
    qtype: RecordType,
    chain: Vec<Record>,
    state: State,
    sent: usize,
    depth: usize,
}

impl Resolution {
    /// Starts resolving `name`/`qtype` (class IN).
    pub fn new(name: Name, qtype: RecordType, config: &ResolverConfig) -> Resolution {
        Resolution::nested(name, qtype, config.clone(), 0)
    }

    fn nested(qname: Name, qtype: RecordType, config: ResolverConfig, depth: usize) -> Resolution {
        Resolution {
            config,
            qname,
            qtype,
            chain: Vec::new(),
            state: State::Start,
            sent: 0,
            depth,
        }
    }

    /// Queries sent so far (nested lookups included).
    pub fn queries_sent(&self) -> usize {
        self.sent
    }

    /// The next thing to do. Call again after each `Send` is answered or timed out.
    pub fn poll(&mut self, cache: &mut Cache, now: Instant) -> Step {
        // Each pass either returns or changes state; the bound is a safety net.
        for _ in 0..64 {
            match &mut self.state {
                State::Done(result) => {
                    return match result.take() {
                        Some(r) => Step::Done(r),
                        None => Step::Wait,
                    };
                }
                State::Start => self.start(cache, now),
                State::Query {
                    outstanding: Some(_),
                    ..
                } => return Step::Wait,
                State::Query { .. } => {
                    if let Some(out) = self.next_query() {
                        return Step::Send(out);
                    }
                }
                State::FindServer { sub, .. } => match sub.poll(cache, now) {
                    Step::Send(out) => {
                        self.sent += 1;
                        if self.sent > self.config.max_queries {
                            self.finish(Err(ResolveError::TooManyQueries));
                            continue;
                        }
                        return Step::Send(out);
                    }
                    Step::Wait => return Step::Wait,
                    Step::Done(result) => self.found_server(result),
                },
            }
        }
        self.finish(Err(ResolveError::TooManyQueries));
        match &mut self.state {
            State::Done(r) => r.take().map_or(Step::Wait, Step::Done),
            _ => Step::Wait,
        }
    }

    /// The answer to the last [`Step::Send`] (already matched by ID, port and address).
    pub fn handle_response(&mut self, response: &Message, cache: &mut Cache, now: Instant) {
        if let State::FindServer { sub, .. } = &mut self.state {
            sub.handle_response(response, cache, now);
            return;
        }
        let State::Query {
            zone,
            servers,
            outstanding,
        } = &mut self.state
        else {
            return;
        };
        let Some(i) = outstanding.take() else { return };
        let zone = zone.clone();
        let question_ok = response.header.qr
            && response.questions.len() == 1
            && response.questions.first().is_some_and(|q| {
                q.name == self.qname && q.qtype == self.qtype && q.qclass == Class::IN
            });
        if !question_ok {
            fail_server(servers, i);
            return;
        }
        if response.header.tc {
            // RFC 7766 §5: retry over TCP.
            if let Some(s) = servers.get_mut(i).filter(|s| !s.tcp) {
                s.tcp = true;
                s.tries = 0;
            } else {
                fail_server(servers, i);
            }
            return;
        }
        match self.classify(response, &zone, cache, now) {
            Outcome::Finished(answer) => self.finish(Ok(answer)),
            Outcome::Failed(error) => self.finish(Err(error)),
            Outcome::Restart => self.state = State::Start,
            Outcome::Referral {
                child,
                addrs,
                ns_names,
            } => self.go_to(child, addrs, ns_names),
            Outcome::BadServer => {
                if let State::Query { servers, .. } = &mut self.state {
                    fail_server(servers, i);
                }
            }
        }
    }

    /// No answer to the last [`Step::Send`] in time.
    pub fn handle_timeout(&mut self) {
        match &mut self.state {
            State::FindServer { sub, .. } => sub.handle_timeout(),
            State::Query { outstanding, .. } => *outstanding = None,
            _ => {}
        }
    }

    fn finish(&mut self, result: Result<Answer, ResolveError>) {
        let result = result.map(|mut a| {
            let mut records = std::mem::take(&mut self.chain);
            records.append(&mut a.records);
            a.records = records;
            a
        });
        self.state = State::Done(Some(result));
    }

    /// Cache first (RFC 1034 §5.3.3 step 1), then the closest enclosing zone whose servers we
    /// know an address for (step 2), else the root hints.
    fn start(&mut self, cache: &mut Cache, now: Instant) {
        for _ in 0..=self.config.max_cname {
            match cache.get(&self.qname, self.qtype, now) {
                Some(Cached::Records(records)) => {
                    return self.finish(Ok(Answer {
                        rcode: Rcode::NOERROR,
                        records,
                        soa: None,
                    }));
                }
                Some(Cached::NxDomain(soa)) => {
                    return self.finish(Ok(Answer {
                        rcode: Rcode::NXDOMAIN,
                        records: vec![],
                        soa: Some(soa),
                    }));
                }
                Some(Cached::NoData(soa)) => {
                    return self.finish(Ok(Answer {
                        rcode: Rcode::NOERROR,
                        records: vec![],
                        soa: Some(soa),
                    }));
                }
                None => {}
            }
            if self.qtype == RecordType::CNAME {
                break;
            }
            let Some(Cached::Records(cname)) = cache.get(&self.qname, RecordType::CNAME, now)
            else {
                break;
            };
            let Some(RData::Cname(target)) = cname.first().map(|r| r.rdata.clone()) else {
                break;
            };
            if !self.follow(cname, target) {
                return self.finish(Err(ResolveError::CnameLoop));
            }
        }
        let mut zone = Some(self.qname.clone());
        while let Some(z) = zone {
            if let Some(Cached::Records(ns)) = cache.get(&z, RecordType::NS, now) {
                let ns_names: Vec<Name> = ns_targets(&ns);
                let addrs = self.cached_addresses(&ns_names, cache, now);
                if !addrs.is_empty() {
                    return self.go_to(z, addrs, Vec::new());
                }
            }
            zone = z.parent();
        }
        let servers = self
            .config
            .root_hints
            .iter()
            .map(|&addr| new_server(addr))
            .collect();
        self.state = State::Query {
            zone: Name::root(),
            servers,
            outstanding: None,
        };
    }

    fn follow(&mut self, cname: Vec<Record>, target: Name) -> bool {
        let looped = self.chain.iter().any(|r| r.name == target) || target == self.qname;
        self.chain.extend(cname);
        self.qname = target;
        !looped && self.chain.len() <= self.config.max_cname
    }

    fn cached_addresses(&self, names: &[Name], cache: &Cache, now: Instant) -> Vec<SocketAddr> {
        let mut out = Vec::new();
        for n in names {
            for t in [RecordType::A, RecordType::AAAA] {
                if let Some(Cached::Records(rs)) = cache.get(n, t, now) {
                    out.extend(rs.iter().filter_map(|r| address(r, self.config.port)));
                }
            }
        }
        out
    }

    /// Moves to the servers of `zone`: `addrs` if any, else a lookup of one of `ns_names`.
    fn go_to(&mut self, zone: Name, addrs: Vec<SocketAddr>, ns_names: Vec<Name>) {
        if !addrs.is_empty() {
            let servers = addrs.into_iter().map(new_server).collect();
            self.state = State::Query {
                zone,
                servers,
                outstanding: None,
            };
            return;
        }
        // Names below the zone itself cannot be found without glue.
        let ns_names: Vec<Name> = ns_names
            .into_iter()
            .filter(|n| !n.is_subdomain_of(&zone))
            .collect();
        let Some(first) = ns_names.first().cloned() else {
            return self.finish(Err(ResolveError::NoServers { zone }));
        };
        if self.depth >= self.config.max_depth {
            return self.finish(Err(ResolveError::TooDeep));
        }
        let sub = Resolution::nested(first, RecordType::A, self.config.clone(), self.depth + 1);
        self.state = State::FindServer {
            zone,
            ns_names,
            sub: Box::new(sub),
        };
    }

    fn found_server(&mut self, result: Result<Answer, ResolveError>) {
        let State::FindServer { zone, ns_names, .. } = &mut self.state else {
            return;
        };
        let zone = zone.clone();
        let mut rest = std::mem::take(ns_names);
        if !rest.is_empty() {
            rest.remove(0);
        }
        let addrs: Vec<SocketAddr> = match result {
            Ok(a) => a
                .data(RecordType::A)
                .filter_map(|r| address(r, self.config.port))
                .collect(),
            Err(_) => Vec::new(),
        };
        if addrs.is_empty() && rest.is_empty() {
            return self.finish(Err(ResolveError::NoServers { zone }));
        }
        self.go_to(zone, addrs, rest);
    }

    /// The next server to ask, or finishes with an error when none is left.
    fn next_query(&mut self) -> Option<Outgoing> {
        let State::Query {
            zone,
            servers,
            outstanding,
        } = &mut self.state
        else {
            return None;
        };
        let attempts = self.config.attempts.max(1);
        let mut refused = None;
        // Round-robin over servers: the least-tried usable one.
        let pick = loop {
            let candidate = servers
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.failed && s.tries < attempts)
                .min_by_key(|(_, s)| s.tries)
                .map(|(i, _)| i);
            let Some(i) = candidate else { break None };
            let addr = servers.get(i).map(|s| s.addr)?;
            if !self.config.allow_non_loopback && !addr.ip().is_loopback() {
                refused = Some(addr);
                fail_server(servers, i);
                continue;
            }
            break Some(i);
        };
        let Some(i) = pick else {
            let zone = zone.clone();
            self.finish(Err(refused.map_or(
                ResolveError::NoServers { zone },
                ResolveError::NonLoopback,
            )));
            return None;
        };
        self.sent += 1;
        if self.sent > self.config.max_queries {
            self.finish(Err(ResolveError::TooManyQueries));
            return None;
        }
        let server = servers.get_mut(i)?;
        server.tries += 1;
        *outstanding = Some(i);
        Some(Outgoing {
            to: server.addr,
            query: iterative_query(&self.qname, self.qtype),
            tcp: server.tcp,
            timeout: self.config.timeout,
        })
    }
}

fn new_server(addr: SocketAddr) -> Server {
    Server {
        addr,
        tries: 0,
        failed: false,
        tcp: false,
    }
}

fn fail_server(servers: &mut [Server], i: usize) {
    if let Some(s) = servers.get_mut(i) {
        s.failed = true;
    }
}

fn ns_targets(ns: &[Record]) -> Vec<Name> {
    ns.iter()
        .filter_map(|r| match &r.rdata {
            RData::Ns(n) => Some(n.clone()),
            _ => None,
        })
        .collect()
}

fn address(r: &Record, port: u16) -> Option<SocketAddr> {
    match r.rdata {
        RData::A(a) => Some(SocketAddr::new(a.into(), port)),
        RData::Aaaa(a) => Some(SocketAddr::new(a.into(), port)),
        _ => None,
    }
}

/// An iterative query: RD off, EDNS with our size (RFC 6891).
fn iterative_query(name: &Name, qtype: RecordType) -> Message {
    Message {
        header: Header::default(),
        questions: vec![Question {
            name: name.clone(),
            qtype,
            qclass: Class::IN,
        }],
        edns: Some(Edns {
            udp_size: crate::auth::EDNS_UDP_SIZE,
            ..Edns::default()
        }),
        ..Message::default()
    }
}

mod classify;

#[cfg(test)]
mod tests;
