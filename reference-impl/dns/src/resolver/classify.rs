//! What a response means (RFC 1034 §5.3.3 step 4, RFC 2308 §2), with the bailiwick rules
//! (RFC 2181 §5.4.1): the part of [`Resolution`] that reads answers.

use std::net::SocketAddr;
use std::time::Instant;

use super::{Answer, Resolution, ResolveError, address, ns_targets};
use crate::cache::{Cache, Rank};
use crate::message::{Class, Message, RData, Rcode, Record, RecordType};
use crate::name::Name;

pub(super) enum Outcome {
    Finished(Answer),
    Failed(ResolveError),
    Restart,
    Referral {
        child: Name,
        addrs: Vec<SocketAddr>,
        ns_names: Vec<Name>,
    },
    BadServer,
}

impl Resolution {
    /// RFC 1034 §5.3.3 step 4 / RFC 2308 §2: what a response means.
    pub(super) fn classify(
        &mut self,
        resp: &Message,
        zone: &Name,
        cache: &mut Cache,
        now: Instant,
    ) -> Outcome {
        let rcode = resp.rcode();
        if rcode != Rcode::NOERROR && rcode != Rcode::NXDOMAIN {
            return Outcome::BadServer;
        }
        let in_bailiwick = |r: &&Record| r.name.is_subdomain_of(zone) && r.class == Class::IN;
        let rank = if resp.header.aa {
            Rank::Authoritative
        } else {
            Rank::Answer
        };
        // The answer section: follow the chain from the name asked.
        let mut followed = false;
        for _ in 0..=self.config.max_cname {
            let rrset: Vec<Record> = resp
                .answers
                .iter()
                .filter(in_bailiwick)
                .filter(|r| r.name == self.qname && r.rtype() == self.qtype)
                .cloned()
                .collect();
            if !rrset.is_empty() {
                cache.insert_rrset(rrset.clone(), rank, now);
                return Outcome::Finished(Answer {
                    rcode: Rcode::NOERROR,
                    records: rrset,
                    soa: None,
                });
            }
            let cname: Vec<Record> = resp
                .answers
                .iter()
                .filter(in_bailiwick)
                .filter(|r| r.name == self.qname && r.rtype() == RecordType::CNAME)
                .take(1)
                .cloned()
                .collect();
            let Some(RData::Cname(target)) = cname.first().map(|r| r.rdata.clone()) else {
                break;
            };
            cache.insert_rrset(cname.clone(), rank, now);
            if !self.follow(cname, target) {
                return Outcome::Failed(ResolveError::CnameLoop);
            }
            followed = true;
        }
        let soa = resp
            .authorities
            .iter()
            .filter(in_bailiwick)
            .find(|r| r.rtype() == RecordType::SOA && self.qname.is_subdomain_of(&r.name))
            .cloned();
        if rcode == Rcode::NXDOMAIN {
            if let Some(soa) = &soa {
                cache.insert_negative(self.qname.clone(), None, soa.clone(), now);
            }
            return Outcome::Finished(Answer {
                rcode,
                records: vec![],
                soa,
            });
        }
        let referral: Vec<&Record> = resp
            .authorities
            .iter()
            .filter(in_bailiwick)
            .filter(|r| r.rtype() == RecordType::NS)
            .collect();
        if let Some(soa) = soa.filter(|_| resp.header.aa || referral.is_empty()) {
            // RFC 2308 §2.2: NODATA.
            cache.insert_negative(self.qname.clone(), Some(self.qtype), soa.clone(), now);
            return Outcome::Finished(Answer {
                rcode,
                records: vec![],
                soa: Some(soa),
            });
        }
        if followed {
            // The chain left this server's zone: look the new name up from the top.
            return Outcome::Restart;
        }
        let Some(child) = referral.first().map(|r| r.name.clone()) else {
            if resp.header.aa {
                return Outcome::Finished(Answer {
                    rcode,
                    records: vec![],
                    soa: None,
                });
            }
            return Outcome::BadServer;
        };
        // A referral must lead down, towards the name (no upward or sideways referrals).
        if &child == zone || !child.is_subdomain_of(zone) || !self.qname.is_subdomain_of(&child) {
            return Outcome::BadServer;
        }
        let ns: Vec<Record> = referral
            .into_iter()
            .filter(|r| r.name == child)
            .cloned()
            .collect();
        let ns_names = ns_targets(&ns);
        cache.insert_rrset(ns, Rank::Glue, now);
        let mut addrs = Vec::new();
        for t in [RecordType::A, RecordType::AAAA] {
            let glue: Vec<Record> = resp
                .additionals
                .iter()
                .filter(in_bailiwick)
                .filter(|r| r.rtype() == t && ns_names.contains(&r.name))
                .cloned()
                .collect();
            addrs.extend(glue.iter().filter_map(|r| address(r, self.config.port)));
            // Group by owner: an RRset is one name.
            for name in &ns_names {
                let set: Vec<Record> = glue.iter().filter(|r| &r.name == name).cloned().collect();
                cache.insert_rrset(set, Rank::Glue, now);
            }
        }
        if addrs.is_empty() {
            addrs = self.cached_addresses(&ns_names, cache, now);
        }
        Outcome::Referral {
            child,
            addrs,
            ns_names,
        }
    }
}
