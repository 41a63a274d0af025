//! Glob patterns with captures: `*`, `?`, `$(name)`, `${expr}`, escapes.
//!
//! Matching is a dynamic programme over (pattern position, text position), computed
//! backwards, so a hostile reply cannot make it exponential: the work is at most
//! tokens × text length cells, and that product is itself bounded ([`MAX_CELLS`]).
//! Captures are then read off forwards, each `$(name)` taking the shortest run that lets
//! the rest of the pattern match (the documented semantics).

use super::template::{Expr, SyntaxError, Vars, escape, is_name_char, parse_braced};

/// Captured variables, in pattern order.
pub type Captures = Vec<(String, Vec<u8>)>;

/// The largest (tokens + 1) × (text length + 1) table a match may use (one bit a cell:
/// 32 MiB at most).
pub const MAX_CELLS: usize = 256 * 1024 * 1024;

/// One element of a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Literal bytes.
    Lit(Vec<u8>),
    /// `*`: any run of bytes, new lines included.
    Star,
    /// `?`: one character (one UTF-8 sequence, or one byte where the text is not UTF-8).
    One,
    /// `$(name)`: like `*`, shortest, captured into `name`.
    Capture(String),
    /// `${expr}`: the value, literally.
    Value(Expr),
}

/// A parsed glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    /// The tokens, adjacent literals merged.
    pub tokens: Vec<Token>,
}

/// Why a glob could not be matched at all (as opposed to not matching).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GlobError {
    /// A `${…}` inside it could not be evaluated.
    #[error(transparent)]
    Eval(#[from] super::template::EvalError),
    /// The text is too large for this pattern.
    #[error("text of {0} bytes is too large to match against this pattern")]
    TooLarge(usize),
}

impl Glob {
    /// Parse a glob.
    pub fn parse(s: &str) -> Result<Glob, SyntaxError> {
        let b = s.as_bytes();
        let mut tokens = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        let flush = |lit: &mut Vec<u8>, tokens: &mut Vec<Token>| {
            if !lit.is_empty() {
                tokens.push(Token::Lit(std::mem::take(lit)));
            }
        };
        while i < b.len() {
            match b[i] {
                b'\\' => {
                    let (c, used) = escape(b, i, b"*?")?;
                    lit.push(c);
                    i += used;
                }
                b'*' => {
                    flush(&mut lit, &mut tokens);
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                    i += 1;
                }
                b'?' => {
                    flush(&mut lit, &mut tokens);
                    tokens.push(Token::One);
                    i += 1;
                }
                b'$' if b.get(i + 1) == Some(&b'(') => {
                    let start = i + 2;
                    let mut j = start;
                    while b.get(j).is_some_and(|&c| is_name_char(c)) {
                        j += 1;
                    }
                    if j == start || b.get(j) != Some(&b')') {
                        return Err(SyntaxError(format!(
                            "expected `$(name)` (a capture) at {:?}",
                            String::from_utf8_lossy(&b[i..])
                        )));
                    }
                    flush(&mut lit, &mut tokens);
                    tokens.push(Token::Capture(
                        String::from_utf8_lossy(&b[start..j]).into_owned(),
                    ));
                    i = j + 1;
                }
                b'$' if b.get(i + 1) == Some(&b'{') => {
                    let (e, used) = parse_braced(&s[i + 2..])?;
                    flush(&mut lit, &mut tokens);
                    tokens.push(Token::Value(e));
                    i += 2 + used;
                }
                c => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        flush(&mut lit, &mut tokens);
        Ok(Glob { tokens })
    }

    /// True for `*` alone: matches anything without looking.
    pub fn is_any(&self) -> bool {
        self.tokens == [Token::Star]
    }

    /// The capture names, in order.
    pub fn captures(&self) -> impl Iterator<Item = &str> {
        self.tokens.iter().filter_map(|t| match t {
            Token::Capture(n) => Some(n.as_str()),
            _ => None,
        })
    }

    /// Match `text`; on success the captures, in pattern order.
    pub fn matches(&self, text: &[u8], vars: &Vars) -> Result<Option<Captures>, GlobError> {
        if self.is_any() {
            return Ok(Some(Vec::new()));
        }
        // Resolve `${…}` to literals first.
        let mut toks: Vec<Tok<'_>> = Vec::with_capacity(self.tokens.len());
        let mut values = Vec::new();
        for t in &self.tokens {
            if let Token::Value(e) = t {
                values.push(e.eval(vars)?);
            }
        }
        let mut vi = values.iter();
        for t in &self.tokens {
            toks.push(match t {
                Token::Lit(l) => Tok::Lit(l),
                Token::Value(_) => Tok::Lit(vi.next().map(Vec::as_slice).unwrap_or_default()),
                Token::Star => Tok::Star,
                Token::One => Tok::One,
                Token::Capture(n) => Tok::Capture(n),
            });
        }
        let n = text.len();
        let cells = (toks.len() + 1).saturating_mul(n + 1);
        if cells > MAX_CELLS {
            return Err(GlobError::TooLarge(n));
        }
        // ok[k].get(p): toks[k..] matches text[p..]. One bit per cell.
        let mut ok: Vec<Bits> = (0..=toks.len()).map(|_| Bits::new(n + 1)).collect();
        ok[toks.len()].set(n, true);
        for k in (0..toks.len()).rev() {
            let (head, tail) = ok.split_at_mut(k + 1);
            let (row, next) = (&mut head[k], &tail[0]);
            match toks[k] {
                Tok::Lit(l) => {
                    for p in 0..=n.saturating_sub(l.len()) {
                        if next.get(p + l.len()) && text[p..].starts_with(l) {
                            row.set(p, true);
                        }
                    }
                }
                Tok::One => {
                    for p in 0..n {
                        row.set(p, next.get(p + char_len(text, p)));
                    }
                }
                Tok::Star | Tok::Capture(_) => {
                    row.set(n, next.get(n));
                    for p in (0..n).rev() {
                        let v = next.get(p) || row.get(p + 1);
                        row.set(p, v);
                    }
                }
            }
        }
        if !ok[0].get(0) {
            return Ok(None);
        }
        // Read the captures off forwards, shortest first.
        let mut caps = Vec::new();
        let mut p = 0;
        for (k, t) in toks.iter().enumerate() {
            let next = &ok[k + 1];
            match t {
                Tok::Lit(l) => p += l.len(),
                Tok::One => p += char_len(text, p),
                Tok::Star | Tok::Capture(_) => {
                    let end = (p..=n).find(|&q| next.get(q)).unwrap_or(n);
                    if let Tok::Capture(name) = t {
                        caps.push((name.to_string(), text[p..end].to_vec()));
                    }
                    p = end;
                }
            }
        }
        Ok(Some(caps))
    }
}

/// A fixed-size row of bits.
struct Bits(Vec<u64>);

impl Bits {
    fn new(len: usize) -> Bits {
        Bits(vec![0; len.div_ceil(64)])
    }
    fn get(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }
    fn set(&mut self, i: usize, v: bool) {
        if let Some(w) = self.0.get_mut(i / 64) {
            if v {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
            }
        }
    }
}

enum Tok<'a> {
    Lit(&'a [u8]),
    Star,
    One,
    Capture(&'a str),
}

/// The length of the character at `text[p]` (`p < text.len()`): a whole UTF-8 sequence when
/// one starts there, else one byte.
fn char_len(text: &[u8], p: usize) -> usize {
    let want = match text[p] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return 1,
    };
    match text.get(p..p + want) {
        Some(seq) if std::str::from_utf8(seq).is_ok() => want,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pat: &str, text: &str) -> Option<Vec<(String, Vec<u8>)>> {
        Glob::parse(pat)
            .unwrap()
            .matches(text.as_bytes(), &Vars::new())
            .unwrap()
    }

    #[test]
    fn star_question_and_literals() {
        assert!(m("*", "").is_some());
        assert!(m("mail.example.test *", "mail.example.test ESMTP ready").is_some());
        assert!(m("*ready", "x\ny ready").is_some(), "* crosses new lines");
        assert!(m("a?c", "abc").is_some());
        assert!(
            m("a?c", "aéc").is_some(),
            "? is one character, not one byte"
        );
        assert!(m("a?c", "ac").is_none());
        assert!(m(r"a\*b", "a*b").is_some());
        assert!(m(r"a\*b", "axb").is_none());
        assert!(m("abc", "abcd").is_none(), "anchored at both ends");
        assert!(m("", "").is_some());
    }

    #[test]
    fn captures_are_shortest() {
        let c = m(
            "Entering Passive Mode ($(h1),$(rest))",
            "Entering Passive Mode (127,0,0,1,4,1)",
        )
        .unwrap();
        assert_eq!(c[0], ("h1".to_string(), b"127".to_vec()));
        assert_eq!(c[1], ("rest".to_string(), b"0,0,1,4,1".to_vec()));
        let c = m("[UIDVALIDITY $(v)] *", "[UIDVALIDITY 42] UIDs valid").unwrap();
        assert_eq!(c[0].1, b"42");
        let c = m("$(x)", "all of it").unwrap();
        assert_eq!(c[0].1, b"all of it");
    }

    #[test]
    fn values_match_literally() {
        let mut v = Vars::new();
        v.insert("q".into(), b"a*b".to_vec());
        let g = Glob::parse("queued as ${q}").unwrap();
        assert!(g.matches(b"queued as a*b", &v).unwrap().is_some());
        assert!(g.matches(b"queued as aXb", &v).unwrap().is_none());
        assert!(g.matches(b"queued as a*b", &Vars::new()).is_err());
    }

    #[test]
    fn hostile_text_stays_polynomial() {
        // The classic exponential case for naive backtracking.
        let pat = "*a*a*a*a*a*a*a*a*a*a*b";
        let text = "a".repeat(50_000);
        assert!(m(pat, &text).is_none());
    }

    #[test]
    fn over_large_table_is_an_error_not_a_hang() {
        let g = Glob::parse("*a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*q*r*s*t*u*v*w*x*y*z*").unwrap();
        let text = vec![b'z'; 8 * 1024 * 1024];
        assert!(matches!(
            g.matches(&text, &Vars::new()),
            Err(GlobError::TooLarge(_))
        ));
    }

    #[test]
    fn parse_errors() {
        assert!(Glob::parse("$(").is_err());
        assert!(Glob::parse("$()").is_err());
        assert!(Glob::parse(r"\q").is_err());
        assert_eq!(Glob::parse("**").unwrap().tokens, vec![Token::Star]);
    }
}
