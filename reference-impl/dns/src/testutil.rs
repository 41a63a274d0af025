//! Fixtures shared by the unit tests: the `example.test.` zone's SOA.

use crate::message::{Class, RData, Record, Soa};
use crate::name::Name;

/// `Name::parse` for tests.
pub fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
}

/// The SOA record of the shared `example.test.` zone (/work/shared/peers: `write_zone`).
pub fn example_soa(ttl: u32) -> Record {
    Record {
        name: n("example.test."),
        class: Class::IN,
        ttl,
        rdata: RData::Soa(Soa {
            mname: n("ns1.example.test."),
            rname: n("hostmaster.example.test."),
            serial: 2024010101,
            refresh: 3600,
            retry: 900,
            expire: 604800,
            minimum: 300,
        }),
    }
}
