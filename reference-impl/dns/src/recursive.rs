//! The recursive service's message rules (RFC 1034 §4.3.1, §5), sans-IO: what to do with a stub
//! client's query, and the response to send once resolution is done.
//!
//! * RD set: resolve (iteratively, [`crate::resolver`]); RD clear: answer from the cache only,
//!   REFUSED when it has nothing. Responses always have RA set and AA clear.
//! * The same header rules as the authoritative server: NOTIMP for other opcodes, BADVERS for
//!   EDNS versions above 0, FORMERR for QDCOUNT ≠ 1, REFUSED for classes other than IN and for
//!   zone transfers; resolution failures are SERVFAIL (RFC 1035 §4.1.1).

use crate::message::{Class, Message, Opcode, Rcode, RecordType};
use crate::name::Name;
use crate::resolver::{Answer, ResolveError};

/// What to do with a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Send this response now.
    Reply(Message),
    /// Resolve `name`/`qtype`; `cache_only` when RD is clear.
    Resolve {
        /// The name.
        name: Name,
        /// The type.
        qtype: RecordType,
        /// Answer from the cache only (RD clear).
        cache_only: bool,
    },
}

/// Decides what a query needs; `None` for messages that get no response (QR set).
pub fn plan(query: &Message) -> Option<Plan> {
    if query.header.qr {
        return None;
    }
    let refuse = |rcode: Rcode| Some(Plan::Reply(error_response(query, rcode)));
    if query.header.opcode() != Opcode::QUERY {
        return refuse(Rcode::NOTIMP);
    }
    if query.edns.as_ref().is_some_and(|e| e.version > 0) {
        return refuse(Rcode::BADVERS);
    }
    let [q] = query.questions.as_slice() else {
        let mut r = error_response(query, Rcode::FORMERR);
        r.questions.clear();
        return Some(Plan::Reply(r));
    };
    match q.qtype {
        RecordType::OPT => return refuse(Rcode::FORMERR),
        RecordType::AXFR | RecordType::IXFR => return refuse(Rcode::REFUSED),
        RecordType(253 | 254) => return refuse(Rcode::NOTIMP),
        _ => {}
    }
    if q.qclass != Class::IN {
        return refuse(Rcode::REFUSED);
    }
    Some(Plan::Resolve {
        name: q.name.clone(),
        qtype: q.qtype,
        cache_only: !query.header.rd,
    })
}

/// The response to `query` from a resolution's result. For `cache_only` plans a cache miss is
/// passed as `None` and answered REFUSED.
pub fn response(query: &Message, result: Option<&Result<Answer, ResolveError>>) -> Message {
    let mut resp = skeleton(query);
    match result {
        None => resp.header.rcode = Rcode::REFUSED.0,
        Some(Err(_)) => resp.header.rcode = Rcode::SERVFAIL.0,
        Some(Ok(a)) => {
            resp.header.rcode = a.rcode.0;
            resp.answers = a.records.clone();
            resp.authorities.extend(a.soa.clone());
        }
    }
    resp
}

fn error_response(query: &Message, rcode: Rcode) -> Message {
    let mut r = skeleton(query);
    r.header.rcode = rcode.0;
    r
}

/// The authoritative server's response skeleton, with RA set (RFC 1035 §4.1.1).
fn skeleton(query: &Message) -> Message {
    let mut m = crate::auth::skeleton(query);
    m.header.ra = true;
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presentation::{parse_query, parse_record};

    #[test]
    fn plans() {
        let p = |q: &str| plan(&parse_query(q).unwrap());
        assert_eq!(
            p("example.test. MX +rd"),
            Some(Plan::Resolve {
                name: Name::parse("example.test.").unwrap(),
                qtype: RecordType::MX,
                cache_only: false
            })
        );
        assert!(matches!(
            p("example.test. MX"),
            Some(Plan::Resolve {
                cache_only: true,
                ..
            })
        ));
        assert!(p("example.test. +qr").is_none());
        let rcode = |q: &str| match p(q) {
            Some(Plan::Reply(m)) => {
                assert!(m.header.ra && m.header.qr && !m.header.aa);
                m.rcode()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(rcode("example.test. A +rd opcode=NOTIFY"), Rcode::NOTIMP);
        assert_eq!(rcode("example.test. A +rd edns=2"), Rcode::BADVERS);
        assert_eq!(rcode("example.test. AXFR +rd"), Rcode::REFUSED);
        assert_eq!(rcode("example.test. TXT CH +rd"), Rcode::REFUSED);
        let mut two = parse_query("a.test. A +rd").unwrap();
        two.questions.push(two.questions[0].clone());
        assert!(
            matches!(plan(&two), Some(Plan::Reply(m)) if m.rcode() == Rcode::FORMERR && m.questions.is_empty())
        );
    }

    #[test]
    fn responses() {
        let q = parse_query("www.example.test. A +rd id=9 edns=0").unwrap();
        let answer = Answer {
            rcode: Rcode::NOERROR,
            records: vec![parse_record("www.example.test. 60 IN A 127.0.0.10").unwrap()],
            soa: None,
        };
        let r = response(&q, Some(&Ok(answer)));
        assert!(r.header.ra && r.header.rd && !r.header.aa);
        assert_eq!(
            (r.header.id, r.answers.len(), r.edns.is_some()),
            (9, 1, true)
        );
        assert_eq!(
            response(&q, Some(&Err(ResolveError::TooManyQueries))).rcode(),
            Rcode::SERVFAIL
        );
        assert_eq!(response(&q, None).rcode(), Rcode::REFUSED);
    }
}
