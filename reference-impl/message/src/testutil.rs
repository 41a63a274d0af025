//! A tiny deterministic generator for the property-style tests (xorshift64*, fixed seeds).

use std::ops::Range;

pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub fn len_in(&mut self, range: Range<usize>) -> usize {
        range.start + self.below(range.end.saturating_sub(range.start))
    }

    /// Random bytes, length in `len`.
    pub fn bytes(&mut self, len: Range<usize>) -> Vec<u8> {
        let n = self.len_in(len);
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// Random bytes drawn from `alphabet`.
    pub fn bytes_from(&mut self, len: Range<usize>, alphabet: &[u8]) -> Vec<u8> {
        let n = self.len_in(len);
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }

    /// A random string mixing ASCII, Latin, Cyrillic, symbols and astral characters.
    pub fn text(&mut self, len: Range<usize>) -> String {
        const POOL: &[char] = &[
            'a', 'Z', '0', ' ', ' ', '\t', '=', '?', '_', '"', '(', ')', ',', ';', ':', '<', '@',
            '.', '\\', 'é', 'ß', 'ÿ', '€', 'Ж', 'я', 'Ё', '№', '─', '“', '😀', '中', 'Š',
        ];
        let n = self.len_in(len);
        (0..n).map(|_| POOL[self.below(POOL.len())]).collect()
    }
}
