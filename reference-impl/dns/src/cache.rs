//! The resolver's cache (RFC 1034 §5.3, RFC 2181 §5.4.1 ranking, RFC 2308 §5 negative caching).
//!
//! Keys are (name, type) for RRsets and NODATA, the name alone for NXDOMAIN. Every entry has an
//! expiry instant given by the caller's clock; reads return TTLs counted down. The number of
//! entries is bounded: when full, expired entries go first, then the ones closest to expiry.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::message::{RData, Record, RecordType};
use crate::name::Name;

/// RFC 2181 §8: TTLs are capped; we cap positive ones at a day.
pub const MAX_TTL: u32 = 86_400;
/// RFC 2308 §5: negative answers are cached at most this long (3 hours).
pub const MAX_NEGATIVE_TTL: u32 = 10_800;

/// RFC 2181 §5.4.1 trustworthiness, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// Glue and other ADDITIONAL / non-authoritative AUTHORITY data.
    Glue,
    /// The answer section of a non-authoritative answer.
    Answer,
    /// The answer section of an authoritative answer.
    Authoritative,
}

/// What the cache knows about a (name, type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    /// The RRset, TTLs counted down.
    Records(Vec<Record>),
    /// RFC 2308 §5: the name does not exist; the SOA that said so (TTL counted down).
    NxDomain(Record),
    /// RFC 2308 §5: the name has no records of this type.
    NoData(Record),
}

#[derive(Debug, Clone)]
struct Entry {
    data: Cached,
    stored: Instant,
    expires: Instant,
    rank: Rank,
}

/// A bounded TTL cache.
#[derive(Debug)]
pub struct Cache {
    rrsets: HashMap<(Name, RecordType), Entry>,
    nxdomain: HashMap<Name, Entry>,
    max_entries: usize,
}

impl Cache {
    /// A cache holding at most `max_entries` entries.
    pub fn new(max_entries: usize) -> Cache {
        Cache {
            rrsets: HashMap::new(),
            nxdomain: HashMap::new(),
            max_entries: max_entries.max(1),
        }
    }

    /// Entries held (expired ones included until they are pushed out).
    pub fn len(&self) -> usize {
        self.rrsets.len() + self.nxdomain.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What is known about `name`/`rtype` at `now`: an NXDOMAIN for the name wins.
    pub fn get(&self, name: &Name, rtype: RecordType, now: Instant) -> Option<Cached> {
        if let Some(e) = self.nxdomain.get(name).filter(|e| e.expires > now) {
            return Some(count_down(e, now));
        }
        self.rrsets
            .get(&(name.clone(), rtype))
            .filter(|e| e.expires > now)
            .map(|e| count_down(e, now))
    }

    /// Stores an RRset (all records of one name and type) unless a fresher entry of higher rank
    /// is there (RFC 2181 §5.4.1). TTLs: RFC 2181 §8 (≥ 2^31 means 0), capped at [`MAX_TTL`], one
    /// TTL for the set (the smallest, §5.2).
    pub fn insert_rrset(&mut self, records: Vec<Record>, rank: Rank, now: Instant) {
        let Some(first) = records.first() else { return };
        let key = (first.name.clone(), first.rtype());
        if self
            .rrsets
            .get(&key)
            .is_some_and(|e| e.expires > now && e.rank > rank)
        {
            return;
        }
        let ttl = records
            .iter()
            .map(|r| clamp_ttl(r.ttl, MAX_TTL))
            .min()
            .unwrap_or(0);
        if ttl == 0 {
            return;
        }
        let records = records.into_iter().map(|r| Record { ttl, ..r }).collect();
        // A positive answer ends an NXDOMAIN for the name.
        self.nxdomain.remove(&key.0);
        self.put(key, Cached::Records(records), ttl, rank, now);
    }

    /// RFC 2308 §5: caches "no such name" (`rtype` None) or "no such data" with the SOA from the
    /// AUTHORITY section; the TTL is min(SOA TTL, SOA MINIMUM), capped.
    pub fn insert_negative(
        &mut self,
        name: Name,
        rtype: Option<RecordType>,
        soa: Record,
        now: Instant,
    ) {
        let minimum = match &soa.rdata {
            RData::Soa(s) => s.minimum,
            _ => return,
        };
        let ttl = clamp_ttl(soa.ttl.min(minimum), MAX_NEGATIVE_TTL);
        if ttl == 0 {
            return;
        }
        let soa = Record { ttl, ..soa };
        let expires = now + Duration::from_secs(u64::from(ttl));
        match rtype {
            None => {
                self.make_room(now);
                let entry = Entry {
                    data: Cached::NxDomain(soa),
                    stored: now,
                    expires,
                    rank: Rank::Authoritative,
                };
                self.nxdomain.insert(name, entry);
            }
            Some(t) => self.put(
                (name, t),
                Cached::NoData(soa),
                ttl,
                Rank::Authoritative,
                now,
            ),
        }
    }

    fn put(&mut self, key: (Name, RecordType), data: Cached, ttl: u32, rank: Rank, now: Instant) {
        if !self.rrsets.contains_key(&key) {
            self.make_room(now);
        }
        let expires = now + Duration::from_secs(u64::from(ttl));
        self.rrsets.insert(
            key,
            Entry {
                data,
                stored: now,
                expires,
                rank,
            },
        );
    }

    /// Frees at least one slot when full: the expired entries, else the soonest to expire.
    fn make_room(&mut self, now: Instant) {
        if self.len() < self.max_entries {
            return;
        }
        self.rrsets.retain(|_, e| e.expires > now);
        self.nxdomain.retain(|_, e| e.expires > now);
        while self.len() >= self.max_entries {
            let soonest_rr = self
                .rrsets
                .iter()
                .min_by_key(|(_, e)| e.expires)
                .map(|(k, e)| (k.clone(), e.expires));
            let soonest_nx = self
                .nxdomain
                .iter()
                .min_by_key(|(_, e)| e.expires)
                .map(|(k, e)| (k.clone(), e.expires));
            match (soonest_rr, soonest_nx) {
                (Some((k, a)), Some((_, b))) if a <= b => {
                    self.rrsets.remove(&k);
                }
                (_, Some((k, _))) => {
                    self.nxdomain.remove(&k);
                }
                (Some((k, _)), None) => {
                    self.rrsets.remove(&k);
                }
                (None, None) => return,
            }
        }
    }
}

/// RFC 2181 §8: a TTL with the top bit set is 0; then capped.
fn clamp_ttl(ttl: u32, cap: u32) -> u32 {
    if ttl >= 1 << 31 { 0 } else { ttl.min(cap) }
}

fn count_down(e: &Entry, now: Instant) -> Cached {
    let elapsed =
        u32::try_from(now.saturating_duration_since(e.stored).as_secs()).unwrap_or(u32::MAX);
    let fix = |r: &Record| Record {
        ttl: r.ttl.saturating_sub(elapsed),
        ..r.clone()
    };
    match &e.data {
        Cached::Records(rs) => Cached::Records(rs.iter().map(fix).collect()),
        Cached::NxDomain(soa) => Cached::NxDomain(fix(soa)),
        Cached::NoData(soa) => Cached::NoData(fix(soa)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Class;
    use crate::testutil::{example_soa, n};

    fn a(name: &str, ttl: u32, last: u8) -> Record {
        Record {
            name: n(name),
            class: Class::IN,
            ttl,
            rdata: RData::A(std::net::Ipv4Addr::new(127, 0, 0, last)),
        }
    }

    #[test]
    fn ttls_count_down_and_expire() {
        let t0 = Instant::now();
        let mut c = Cache::new(100);
        c.insert_rrset(
            vec![a("x.test.", 60, 1), a("x.test.", 30, 2)],
            Rank::Authoritative,
            t0,
        );
        let Some(Cached::Records(rs)) =
            c.get(&n("X.test."), RecordType::A, t0 + Duration::from_secs(10))
        else {
            panic!()
        };
        assert_eq!(rs.iter().map(|r| r.ttl).collect::<Vec<_>>(), [20, 20]);
        assert_eq!(
            c.get(&n("x.test."), RecordType::A, t0 + Duration::from_secs(30)),
            None
        );
        assert_eq!(c.get(&n("x.test."), RecordType::AAAA, t0), None);
        // RFC 2181 §8: a TTL with the high bit set is zero: not cached.
        c.insert_rrset(vec![a("y.test.", 0x8000_0000, 1)], Rank::Authoritative, t0);
        assert_eq!(c.get(&n("y.test."), RecordType::A, t0), None);
        // Capped at a day.
        c.insert_rrset(vec![a("z.test.", 1_000_000, 1)], Rank::Authoritative, t0);
        assert!(
            c.get(
                &n("z.test."),
                RecordType::A,
                t0 + Duration::from_secs(86_401)
            )
            .is_none()
        );
    }

    #[test]
    fn ranking_keeps_authoritative_data() {
        let t0 = Instant::now();
        let mut c = Cache::new(100);
        c.insert_rrset(vec![a("x.test.", 60, 1)], Rank::Authoritative, t0);
        c.insert_rrset(vec![a("x.test.", 60, 9)], Rank::Glue, t0);
        assert_eq!(
            c.get(&n("x.test."), RecordType::A, t0),
            Some(Cached::Records(vec![a("x.test.", 60, 1)]))
        );
        c.insert_rrset(vec![a("x.test.", 60, 2)], Rank::Authoritative, t0);
        assert_eq!(
            c.get(&n("x.test."), RecordType::A, t0),
            Some(Cached::Records(vec![a("x.test.", 60, 2)]))
        );
    }

    #[test]
    fn negative_caching_uses_the_soa_minimum() {
        let t0 = Instant::now();
        let mut c = Cache::new(100);
        c.insert_negative(n("nope.example.test."), None, example_soa(3600), t0);
        let Some(Cached::NxDomain(soa)) = c.get(&n("nope.example.test."), RecordType::MX, t0)
        else {
            panic!()
        };
        assert_eq!(soa.ttl, 300);
        assert!(
            c.get(
                &n("nope.example.test."),
                RecordType::A,
                t0 + Duration::from_secs(300)
            )
            .is_none()
        );
        c.insert_negative(
            n("mail2.example.test."),
            Some(RecordType::AAAA),
            example_soa(60),
            t0,
        );
        assert!(
            matches!(c.get(&n("mail2.example.test."), RecordType::AAAA, t0), Some(Cached::NoData(s)) if s.ttl == 60)
        );
        assert!(
            c.get(&n("mail2.example.test."), RecordType::A, t0)
                .is_none()
        );
        // A later positive answer replaces an NXDOMAIN.
        c.insert_negative(n("late.test."), None, example_soa(60), t0);
        c.insert_rrset(vec![a("late.test.", 60, 1)], Rank::Authoritative, t0);
        assert!(matches!(
            c.get(&n("late.test."), RecordType::A, t0),
            Some(Cached::Records(_))
        ));
    }

    #[test]
    fn size_is_bounded() {
        let t0 = Instant::now();
        let mut c = Cache::new(10);
        for i in 0..100u32 {
            c.insert_rrset(
                vec![a(&format!("h{i}.test."), 100 + i, 1)],
                Rank::Answer,
                t0,
            );
        }
        assert_eq!(c.len(), 10);
        // The longest-lived ones stay.
        assert!(c.get(&n("h99.test."), RecordType::A, t0).is_some());
        assert!(c.get(&n("h0.test."), RecordType::A, t0).is_none());
    }
}
