use std::net::{IpAddr, SocketAddr};

use super::*;
use crate::auth::{self, Transport};
use crate::codec;
use crate::hierarchy::{Layout, ROOT_ADDR, default_leaves};
use crate::testutil::n;
use crate::zone::Zone;

const PORT: u16 = 5353;

fn config() -> ResolverConfig {
    ResolverConfig::new(vec![SocketAddr::new(ROOT_ADDR.into(), PORT)], PORT)
}

type Tamper<'a> = Box<dyn FnMut(IpAddr, &mut Message) + 'a>;

/// Answers like the servers of `layout` would, through the codec and the UDP size limit;
/// `tamper` may change a response (poisoning attempts); unknown addresses never answer.
struct Net<'a> {
    layout: Layout,
    tamper: Tamper<'a>,
    log: Vec<(SocketAddr, String, bool)>,
}

impl<'a> Net<'a> {
    fn new(layout: Layout) -> Net<'a> {
        Net {
            layout,
            tamper: Box::new(|_, _| {}),
            log: Vec::new(),
        }
    }

    fn run(
        &mut self,
        r: &mut Resolution,
        cache: &mut Cache,
        now: Instant,
    ) -> Result<Answer, ResolveError> {
        for _ in 0..200 {
            match r.poll(cache, now) {
                Step::Done(result) => return result,
                Step::Wait => panic!("waiting with nothing outstanding"),
                Step::Send(out) => {
                    assert_eq!(out.to.port(), PORT);
                    assert!(out.to.ip().is_loopback(), "sent to {}", out.to);
                    assert!(!out.query.header.rd, "iterative queries have RD off");
                    let q = out.query.questions[0].clone();
                    self.log
                        .push((out.to, format!("{} {}", q.name, q.qtype), out.tcp));
                    let Some(zones) = self.layout.zones_at(out.to.ip()) else {
                        r.handle_timeout();
                        continue;
                    };
                    let transport = if out.tcp {
                        Transport::Tcp
                    } else {
                        Transport::Udp
                    };
                    let mut wire = Vec::new();
                    let mut query = out.query.clone();
                    query.header.id = 77;
                    assert!(auth::respond_into(
                        zones,
                        &codec::encode(&query),
                        transport,
                        &mut wire
                    ));
                    let mut resp = codec::decode(&wire).unwrap();
                    (self.tamper)(out.to.ip(), &mut resp);
                    r.handle_response(&resp, cache, now);
                }
            }
        }
        panic!("resolution did not end");
    }
}

fn resolve(
    net: &mut Net,
    cache: &mut Cache,
    name: &str,
    t: RecordType,
) -> Result<Answer, ResolveError> {
    let mut r = Resolution::new(n(name), t, &config());
    net.run(&mut r, cache, Instant::now())
}

fn rendered(a: &Answer) -> Vec<String> {
    a.records
        .iter()
        .map(crate::presentation::render_record)
        .collect()
}

#[test]
fn iterates_from_the_root_and_caches() {
    let mut net = Net::new(Layout::new(default_leaves()).unwrap());
    let mut cache = Cache::new(1000);
    let a = resolve(&mut net, &mut cache, "example.test.", RecordType::MX).unwrap();
    assert_eq!(a.rcode, Rcode::NOERROR);
    assert_eq!(
        rendered(&a),
        [
            "example.test.\t3600\tIN\tMX\t10 mail.example.test.",
            "example.test.\t3600\tIN\tMX\t20 mail2.example.test."
        ]
    );
    let asked: Vec<String> = net
        .log
        .iter()
        .map(|(to, _, _)| to.ip().to_string())
        .collect();
    assert_eq!(asked, ["127.0.0.11", "127.0.0.12", "127.0.0.53"]);
    // From the cache: no query.
    net.log.clear();
    assert_eq!(
        resolve(&mut net, &mut cache, "EXAMPLE.test.", RecordType::MX)
            .unwrap()
            .records
            .len(),
        2
    );
    assert!(net.log.is_empty());
    // Another name in the same zone goes straight to its servers (the NS and glue are cached).
    let a = resolve(&mut net, &mut cache, "mail.example.test.", RecordType::A).unwrap();
    assert_eq!(
        rendered(&a),
        ["mail.example.test.\t3600\tIN\tA\t127.0.0.25"]
    );
    assert_eq!(net.log.len(), 1);
}

#[test]
fn cname_chains_within_and_across_zones() {
    let mut net = Net::new(Layout::new(default_leaves()).unwrap());
    let mut cache = Cache::new(1000);
    let a = resolve(&mut net, &mut cache, "ftp.example.test.", RecordType::A).unwrap();
    assert_eq!(
        rendered(&a),
        [
            "ftp.example.test.\t3600\tIN\tCNAME\twww.example.test.",
            "www.example.test.\t3600\tIN\tCNAME\texample.test.",
            "example.test.\t3600\tIN\tA\t127.0.0.10"
        ]
    );
    let a = resolve(&mut net, &mut cache, "www.beta.test.", RecordType::A).unwrap();
    assert_eq!(
        rendered(&a),
        [
            "www.beta.test.\t3600\tIN\tCNAME\twww.alpha.test.",
            "www.alpha.test.\t3600\tIN\tA\t127.0.0.21"
        ]
    );
    // The chain is cached link by link.
    net.log.clear();
    assert_eq!(
        resolve(&mut net, &mut cache, "www.beta.test.", RecordType::A).unwrap(),
        a
    );
    assert!(net.log.is_empty());
}

#[test]
fn negative_answers_are_cached() {
    let mut net = Net::new(Layout::new(default_leaves()).unwrap());
    let mut cache = Cache::new(1000);
    let a = resolve(&mut net, &mut cache, "nope.example.test.", RecordType::A).unwrap();
    assert_eq!(a.rcode, Rcode::NXDOMAIN);
    assert_eq!(a.soa.as_ref().unwrap().ttl, 300);
    let a = resolve(
        &mut net,
        &mut cache,
        "mail2.example.test.",
        RecordType::AAAA,
    )
    .unwrap();
    assert_eq!((a.rcode, a.records.len()), (Rcode::NOERROR, 0));
    net.log.clear();
    // RFC 2308 §5: NXDOMAIN holds for every type of the name.
    assert_eq!(
        resolve(&mut net, &mut cache, "nope.example.test.", RecordType::MX)
            .unwrap()
            .rcode,
        Rcode::NXDOMAIN
    );
    assert_eq!(
        resolve(
            &mut net,
            &mut cache,
            "mail2.example.test.",
            RecordType::AAAA
        )
        .unwrap()
        .records
        .len(),
        0
    );
    assert!(net.log.is_empty());
    // A TLD that does not exist: NXDOMAIN from the root.
    assert_eq!(
        resolve(&mut net, &mut cache, "nowhere.", RecordType::A)
            .unwrap()
            .rcode,
        Rcode::NXDOMAIN
    );
}

#[test]
fn out_of_bailiwick_data_is_ignored() {
    let mut net = Net::new(Layout::new(default_leaves()).unwrap());
    // alpha.test's server tries to poison example.test in every section.
    net.tamper = Box::new(|from, m| {
        if from.to_string() == "127.0.0.13" {
            let evil =
                crate::presentation::parse_record("mail.example.test. 86400 IN A 127.0.0.66")
                    .unwrap();
            m.answers.push(evil.clone());
            m.additionals.push(evil.clone());
            m.authorities.push(
                crate::presentation::parse_record("example.test. 86400 IN NS mail.example.test.")
                    .unwrap(),
            );
        }
    });
    let mut cache = Cache::new(1000);
    assert_eq!(
        resolve(&mut net, &mut cache, "alpha.test.", RecordType::MX)
            .unwrap()
            .records
            .len(),
        1
    );
    let now = Instant::now();
    assert!(
        cache
            .get(&n("mail.example.test."), RecordType::A, now)
            .is_none()
    );
    assert!(
        cache
            .get(&n("example.test."), RecordType::NS, now)
            .is_none()
    );
    let a = resolve(&mut net, &mut cache, "mail.example.test.", RecordType::A).unwrap();
    assert_eq!(
        rendered(&a),
        ["mail.example.test.\t3600\tIN\tA\t127.0.0.25"]
    );
}

#[test]
fn referrals_that_go_up_or_sideways_are_lame() {
    let mut net = Net::new(Layout::new(default_leaves()).unwrap());
    // The TLD answers example.test questions with a referral back to the root.
    net.tamper = Box::new(|from, m| {
        if from.to_string() == "127.0.0.12" {
            m.authorities =
                vec![crate::presentation::parse_record(". 86400 IN NS root-ns.test.").unwrap()];
            m.additionals.clear();
        }
    });
    let mut cache = Cache::new(1000);
    let e = resolve(&mut net, &mut cache, "example.test.", RecordType::A).unwrap_err();
    assert_eq!(e, ResolveError::NoServers { zone: n("test.") });
}

#[test]
fn timeouts_move_to_the_next_server_and_retry() {
    // example.test has two servers; take .53 away: every query to it times out.
    let mut layout = Layout::new(default_leaves()).unwrap();
    layout
        .servers
        .retain(|s| s.addr.to_string() != "127.0.0.53");
    let mut net = Net::new(layout);
    let mut cache = Cache::new(1000);
    let a = resolve(&mut net, &mut cache, "example.test.", RecordType::A).unwrap();
    assert_eq!(a.records.len(), 1);
    // Both of the zone's servers are tried before a retry of the dead one.
    let to_example: Vec<String> = net
        .log
        .iter()
        .skip(2)
        .map(|(to, _, _)| to.ip().to_string())
        .collect();
    assert_eq!(to_example.iter().filter(|a| *a == "127.0.0.54").count(), 1);
    assert!(to_example.len() <= 2);
    // With no server alive at all, bounded retries then an error.
    let mut dead = Net::new(Layout { servers: vec![] });
    let e = resolve(
        &mut dead,
        &mut Cache::new(10),
        "example.test.",
        RecordType::A,
    )
    .unwrap_err();
    assert_eq!(e, ResolveError::NoServers { zone: Name::root() });
    assert_eq!(dead.log.len(), usize::from(config().attempts));
}

#[test]
fn non_loopback_servers_are_never_queried() {
    let layout = Layout::new(default_leaves()).unwrap();
    let mut net = Net::new(layout);
    let mut cfg = config();
    cfg.root_hints = vec!["10.1.2.3:53".parse().unwrap()];
    let mut r = Resolution::new(n("example.test."), RecordType::A, &cfg);
    let e = net
        .run(&mut r, &mut Cache::new(10), Instant::now())
        .unwrap_err();
    assert_eq!(e, ResolveError::NonLoopback("10.1.2.3:53".parse().unwrap()));
    assert!(net.log.is_empty());
    // A referral to a non-loopback server is refused too.
    net.tamper = Box::new(|from, m| {
        if from.to_string() == "127.0.0.12" {
            for r in &mut m.additionals {
                r.rdata = RData::A("10.9.9.9".parse().unwrap());
            }
        }
    });
    let e = resolve(
        &mut net,
        &mut Cache::new(10),
        "example.test.",
        RecordType::A,
    )
    .unwrap_err();
    assert!(matches!(e, ResolveError::NonLoopback(_)), "{e:?}");
    assert!(net.log.iter().all(|(to, _, _)| to.ip().is_loopback()));
}

#[test]
fn truncated_answers_are_retried_over_tcp() {
    let big: String = (0..30)
        .map(|i| format!("big TXT \"{}\"\n", "y".repeat(60 + i)))
        .collect();
    let leaf = Zone::parse(
        &format!(
            "$ORIGIN gamma.test.\n$TTL 60\n@ SOA ns hm 1 1 1 1 1\n@ NS ns\nns A 127.0.0.40\n{big}"
        ),
        None,
    )
    .unwrap();
    let mut net = Net::new(Layout::new(vec![leaf]).unwrap());
    let a = resolve(
        &mut net,
        &mut Cache::new(100),
        "big.gamma.test.",
        RecordType::TXT,
    )
    .unwrap();
    assert_eq!(a.records.len(), 30);
    let last_two: Vec<bool> = net
        .log
        .iter()
        .rev()
        .take(2)
        .map(|(_, _, tcp)| *tcp)
        .collect();
    assert_eq!(last_two, [true, false]);
}

#[test]
fn name_servers_without_glue_are_looked_up() {
    // delta.test's server is named in alpha.test, so the TLD has no glue for it.
    let soa = "$TTL 60\n@ SOA ns hm 1 1 1 1 60\n";
    let delta = Zone::parse(
        &format!("$ORIGIN delta.test.\n{soa}@ NS ns\nns A 127.0.0.41\nhost A 127.0.0.42\n"),
        None,
    )
    .unwrap();
    let mut layout = Layout::new(default_leaves()).unwrap();
    // Rewrite the TLD's delegation of delta to an out-of-zone name, and publish that name.
    let tld_text = "$ORIGIN test.\n$TTL 60\n@ SOA ns hm 1 1 1 1 60\n@ NS ns\nns A 127.0.0.12\n\
                    alpha NS ns.alpha.test.\nns.alpha A 127.0.0.13\ndelta NS dns.alpha.test.\n";
    layout.servers[1].zones = [Zone::parse(tld_text, None).unwrap()].into_iter().collect();
    let alpha = format!("{}dns A 127.0.0.41\n", crate::hierarchy::ALPHA_TEST_ZONE);
    layout
        .servers
        .retain(|s| s.addr.to_string() != "127.0.0.13");
    layout.servers.push(crate::hierarchy::ServerSpec {
        addr: "127.0.0.13".parse().unwrap(),
        zones: [Zone::parse(&alpha, None).unwrap()].into_iter().collect(),
    });
    layout.servers.push(crate::hierarchy::ServerSpec {
        addr: "127.0.0.41".parse().unwrap(),
        zones: [delta].into_iter().collect(),
    });
    let mut net = Net::new(layout);
    let a = resolve(
        &mut net,
        &mut Cache::new(100),
        "host.delta.test.",
        RecordType::A,
    )
    .unwrap();
    assert_eq!(rendered(&a), ["host.delta.test.\t60\tIN\tA\t127.0.0.42"]);
    assert!(net.log.iter().any(|(_, q, _)| q == "dns.alpha.test. A"));
}

#[test]
fn mismatched_and_failing_answers_mark_the_server_bad() {
    let mut net = Net::new(Layout::new(default_leaves()).unwrap());
    net.tamper = Box::new(|from, m| match from.to_string().as_str() {
        "127.0.0.53" => m.questions[0].name = n("other.example.test."),
        "127.0.0.54" => m.header.rcode = Rcode::SERVFAIL.0,
        _ => {}
    });
    let e = resolve(
        &mut net,
        &mut Cache::new(100),
        "example.test.",
        RecordType::A,
    )
    .unwrap_err();
    assert_eq!(
        e,
        ResolveError::NoServers {
            zone: n("example.test.")
        }
    );
    assert_eq!(net.log.len(), 4);
}

#[test]
fn query_budget_is_bounded() {
    let mut net = Net::new(Layout::new(default_leaves()).unwrap());
    let mut cfg = config();
    cfg.max_queries = 2;
    let mut r = Resolution::new(n("example.test."), RecordType::A, &cfg);
    assert_eq!(
        net.run(&mut r, &mut Cache::new(10), Instant::now()),
        Err(ResolveError::TooManyQueries)
    );
}
