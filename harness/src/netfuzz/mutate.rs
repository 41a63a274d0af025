//! Mutations of a session: of its commands (drop, repeat, swap, insert, pipeline two in
//! one write, split one over two writes) and of the bytes of one command (case, white
//! space, line ends — bare LF, bare CR —, NUL, 8-bit bytes, over-long lines, numbers,
//! truncation, and the SMTP end-of-data variants behind smuggling).

use super::Sequence;
use super::grammar;
use super::rng::Rng;

/// The most bytes one session may hold after mutation.
pub const MAX_SESSION_BYTES: usize = 128 * 1024;

/// Line lengths around the RFC limits (RFC 5321 §4.5.3.1: 512 for commands, 1000 for text
/// lines; RFC 2449: 255 for POP3; common buffer sizes).
const LENGTHS: &[usize] = &[
    254, 255, 256, 510, 511, 512, 513, 998, 999, 1000, 1001, 2048, 4096, 8192, 65536,
];

/// Ends of SMTP data that are not `<CRLF>.<CRLF>` (RFC 5321 §4.1.1.4), and the real one.
const DATA_ENDS: &[&[u8]] = &[
    b"\n.\n",
    b"\r.\r",
    b"\n.\r\n",
    b"\r\n.\n",
    b"\r\n.\r",
    b"\r.\r\n",
    b"\r\n. \r\n",
    b"\r\n.\0\r\n",
    b"\r\n\0.\r\n",
    b"\r\n.\r\n",
];

/// Interesting numbers for arguments.
const NUMBERS: &[&[u8]] = &[
    b"0",
    b"-1",
    b"1",
    b"2",
    b"3",
    b"255",
    b"256",
    b"65536",
    b"2147483648",
    b"4294967296",
    b"18446744073709551616",
    b"00000001",
];

/// Apply `n` random mutations to `seq`.
pub fn mutate(protocol: &str, seq: &mut Sequence, rng: &mut Rng, n: usize) {
    for _ in 0..n {
        if protocol == "dns" {
            dns(seq, rng);
        } else if seq.is_empty() || rng.chance(2, 5) {
            structural(protocol, seq, rng);
        } else {
            let i = rng.below(seq.len());
            if let Some(c) = seq.get_mut(i) {
                bytes(protocol, c, rng);
            }
        }
    }
    let mut total = 0;
    seq.retain(|c| {
        total += c.len();
        total <= MAX_SESSION_BYTES && !c.is_empty()
    });
}

fn structural(protocol: &str, seq: &mut Sequence, rng: &mut Rng) {
    let len = seq.len();
    let i = rng.below(len.max(1));
    let mut tag = 900;
    match rng.below(7) {
        0 if len > 1 => {
            seq.remove(i);
        }
        1 if len > 0 => {
            let c = seq[i].clone();
            let times = *rng.pick(&[1usize, 2, 5, 25]).unwrap_or(&1);
            for _ in 0..times {
                seq.insert(i, c.clone());
            }
        }
        2 if len > 1 => {
            let j = (i + 1) % len;
            seq.swap(i, j);
        }
        3 if len > 1 && i + 1 < len => {
            // Two commands in one write (pipelining inside a packet).
            let next = seq.remove(i + 1);
            seq[i].extend_from_slice(&next);
        }
        4 if len > 0 && seq[i].len() > 1 => {
            // One command over two writes.
            let at = 1 + rng.below(seq[i].len() - 1);
            let tail = seq[i].split_off(at);
            seq.insert(i + 1, tail);
        }
        5 if protocol == "smtp" => {
            // A message whose end hides a second transaction.
            let end = rng.pick(DATA_ENDS).copied().unwrap_or(b"\r\n.\r\n");
            let mut content = b"Subject: x\r\n\r\nbody".to_vec();
            content.extend_from_slice(end);
            content.extend_from_slice(b"MAIL FROM:<smuggled@example.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\n.\r\n");
            let at = i.min(len);
            seq.insert(at, b"DATA\r\n".to_vec());
            seq.insert(at + 1, content);
        }
        _ => {
            if let Some(c) = grammar::command(protocol, rng, &mut tag) {
                seq.insert(i.min(len), c);
            }
        }
    }
}

fn bytes(protocol: &str, c: &mut Vec<u8>, rng: &mut Rng) {
    let len = c.len();
    let at = rng.below(len + 1);
    match rng.below(13) {
        0 => {
            // Case of letters.
            for b in c.iter_mut().take(rng.below(len + 1)) {
                if b.is_ascii_alphabetic() && rng.chance(1, 2) {
                    *b ^= 0x20;
                }
            }
        }
        1 => {
            let ws: &[&[u8]] = &[b" ", b"  ", b"\t", b" \t "];
            let w = rng.pick(ws).copied().unwrap_or(b" ");
            let at = match c.iter().position(|&b| b == b' ') {
                Some(sp) if rng.chance(1, 2) => sp,
                _ => at,
            };
            c.splice(at..at, w.iter().copied());
        }
        2 => replace_line_ends(c, rng),
        3 => c.insert(at, 0),
        4 => {
            let eight: &[&[u8]] = &[
                b"\x80",
                b"\xff",
                b"\xc3\xa9",
                b"\xc3",
                b"\xe2\x80\xa8",
                b"\xef\xbb\xbf",
            ];
            c.splice(
                at..at,
                rng.pick(eight).copied().unwrap_or(b"\x80").iter().copied(),
            );
        }
        5 => {
            // Over-long: pad the line (before its end) to a length around a limit.
            let target = rng.pick(LENGTHS).copied().unwrap_or(512);
            let end = c
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
                .unwrap_or(len);
            if target > end {
                let fill = if rng.chance(1, 2) { b'A' } else { b' ' };
                c.splice(end..end, std::iter::repeat_n(fill, target - end));
            }
        }
        6 => {
            // A number replaced.
            if let Some(s) = c.iter().position(u8::is_ascii_digit) {
                let e = c[s..]
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .map_or(len, |n| s + n);
                let n = rng.pick(NUMBERS).copied().unwrap_or(b"0");
                c.splice(s..e, n.iter().copied());
            } else {
                let n = rng.pick(NUMBERS).copied().unwrap_or(b"0");
                let end = c
                    .iter()
                    .position(|&b| b == b'\r' || b == b'\n')
                    .unwrap_or(len);
                c.splice(end..end, [b' '].iter().chain(n.iter()).copied());
            }
        }
        7 if len > 1 => c.truncate(at.max(1)),
        8 if len > 0 => {
            // A slice repeated.
            let s = rng.below(len);
            let e = (s + 1 + rng.below(8)).min(len);
            let piece = c[s..e].to_vec();
            c.splice(e..e, piece);
        }
        9 if protocol == "smtp" => {
            // End-of-data variants inside content, or a terminator replaced.
            let end = rng.pick(DATA_ENDS).copied().unwrap_or(b"\n.\n");
            match find(c, b"\r\n.\r\n") {
                Some(p) if rng.chance(1, 2) => {
                    c.splice(p..p + 5, end.iter().copied());
                }
                _ => {
                    c.splice(at..at, end.iter().copied());
                }
            }
        }
        10 => {
            let ctl: &[u8] = &[b'\r', b'\n', 0x7f, 0x1b, 0x08, b'\x0b', b'\x0c'];
            c.insert(at, rng.pick(ctl).copied().unwrap_or(b'\r'));
        }
        11 if len > 0 => {
            // A byte flipped.
            let i = rng.below(len);
            c[i] ^= 1 << rng.below(8);
        }
        _ => {
            // Leading white space or an empty line first.
            let pre: &[&[u8]] = &[b" ", b"\r\n", b"\n", b"\t"];
            c.splice(0..0, rng.pick(pre).copied().unwrap_or(b" ").iter().copied());
        }
    }
}

/// CRLF → LF, CR, CRCRLF, LFCR or nothing; or a bare LF → CRLF.
fn replace_line_ends(c: &mut Vec<u8>, rng: &mut Rng) {
    let ends: &[&[u8]] = &[b"\n", b"\r", b"\r\r\n", b"\n\r", b"", b"\r\n\r\n"];
    let with = rng.pick(ends).copied().unwrap_or(b"\n");
    let crlfs: Vec<usize> = c
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w == b"\r\n")
        .map(|(i, _)| i)
        .collect();
    match rng.pick(&crlfs) {
        Some(&p) => {
            c.splice(p..p + 2, with.iter().copied());
        }
        None => {
            if let Some(p) = c.iter().position(|&b| b == b'\n') {
                c.splice(p..=p, b"\r\n".iter().copied());
            }
        }
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// DNS mutations on one message: header fields and counts (RFC 1035 §4.1.1), truncation,
/// label lengths and compression pointers (§4.1.4), trailing garbage, a flipped byte.
fn dns(seq: &mut Sequence, rng: &mut Rng) {
    if seq.is_empty() {
        let mut tag = 0;
        if let Some(q) = grammar::command("dns", rng, &mut tag) {
            seq.push(q);
        }
        return;
    }
    let i = rng.below(seq.len());
    let m = &mut seq[i];
    let len = m.len();
    match rng.below(9) {
        0 if len >= 12 => {
            // A count: QDCOUNT, ANCOUNT, NSCOUNT or ARCOUNT.
            let at = 4 + 2 * rng.below(4);
            let v: u16 = *rng.pick(&[0u16, 1, 2, 0xffff]).unwrap_or(&0);
            m[at..at + 2].copy_from_slice(&v.to_be_bytes());
        }
        1 if len >= 4 => {
            // Flags: QR, opcode, AA, TC, RD / RA, Z, AD, CD, RCODE.
            let at = 2 + rng.below(2);
            m[at] ^= 1 << rng.below(8);
        }
        2 if len > 12 => m.truncate(12 + rng.below(len - 12)),
        3 if len > 12 => {
            // A label length byte in the question made too long or a pointer.
            let v = *rng.pick(&[63u8, 64, 0xc0, 0x80, 0x40, 0]).unwrap_or(&64);
            m[12] = v;
        }
        4 if len > 13 => {
            // A compression pointer to itself, or past the end.
            m.truncate(12);
            let target: u16 = *rng.pick(&[12u16, 0x3fff, 0]).unwrap_or(&12);
            m.extend_from_slice(&(0xc000 | target).to_be_bytes());
            m.extend_from_slice(&[0, 1, 0, 1]);
        }
        5 => {
            let n = 1 + rng.below(16);
            m.extend((0..n).map(|_| rng.below(256) as u8));
        }
        6 if len > 0 => {
            let at = rng.below(len);
            m[at] ^= 1 << rng.below(8);
        }
        7 => {
            let dup = m.clone();
            seq.insert(i, dup);
        }
        _ => {
            let mut tag = 0;
            if let Some(q) = grammar::command("dns", rng, &mut tag) {
                seq.push(q);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutation_is_deterministic_and_bounded() {
        for p in ["smtp", "pop3", "imap", "ftp", "dns"] {
            for seed in 0..200 {
                let base = grammar::session(p, &mut Rng::new(seed), 5);
                let mut a = base.clone();
                let mut b = base.clone();
                mutate(p, &mut a, &mut Rng::new(seed + 1), 4);
                mutate(p, &mut b, &mut Rng::new(seed + 1), 4);
                assert_eq!(a, b);
                assert!(a.iter().map(Vec::len).sum::<usize>() <= MAX_SESSION_BYTES);
                assert!(a.iter().all(|c| !c.is_empty()));
            }
        }
    }

    #[test]
    fn line_ends_are_replaced() {
        let mut c = b"NOOP\r\n".to_vec();
        replace_line_ends(&mut c, &mut Rng::new(3));
        assert_ne!(c, b"NOOP\r\n");
        assert!(c.starts_with(b"NOOP"));
    }
}
