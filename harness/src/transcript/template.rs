//! Escapes, `${…}` expressions and the helpers they call.
//!
//! A [`Template`] is the text of a `C:` line (or of a `= TEXT` pattern, a `connect … to ADDR`):
//! literal bytes with the notation's escapes already applied, and expressions evaluated
//! against the case's [`Vars`] when the step runs. Every value is bytes: variables hold what
//! arrived on the wire, byte for byte.

use std::collections::BTreeMap;

use base64::Engine as _;

/// The largest value a helper may build (`repeat("x", 1e9)` must not exhaust memory).
pub const MAX_VALUE: usize = 64 * 1024 * 1024;

/// A parse error inside one script line; the caller adds the file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SyntaxError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError(msg.into()))
}

/// An evaluation error: an undefined variable, a bad helper argument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// `${name}` with no such variable.
    #[error("undefined variable `{0}`")]
    Undefined(String),
    /// A helper got an argument it cannot use.
    #[error("{0}")]
    Helper(String),
}

/// The variables of one case: names to bytes.
pub type Vars = BTreeMap<String, Vec<u8>>;

/// A value expression, the inside of `${…}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `"text"` with escapes applied, or a number (kept as its decimal text).
    Lit(Vec<u8>),
    /// A variable name.
    Var(String),
    /// A helper call.
    Call(Helper, Vec<Expr>),
    /// `a + b + …`: concatenation.
    Concat(Vec<Expr>),
}

/// The helpers available inside `${…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Helper {
    /// `base64(x)`: RFC 4648 §4, padded.
    Base64,
    /// `unbase64(x)`.
    Unbase64,
    /// `hex(x)`: lower-case hex digits.
    Hex,
    /// `unhex(x)`: white space between digits is ignored.
    Unhex,
    /// `repeat(x, n)`.
    Repeat,
    /// `len(x)`: the byte length, in decimal.
    Len,
    /// `lower(x)`: ASCII lower case.
    Lower,
    /// `upper(x)`: ASCII upper case.
    Upper,
    /// `crlf(x)`: every bare LF becomes CRLF.
    Crlf,
}

impl Helper {
    fn by_name(name: &str) -> Option<(Helper, usize)> {
        Some(match name {
            "base64" => (Helper::Base64, 1),
            "unbase64" => (Helper::Unbase64, 1),
            "hex" => (Helper::Hex, 1),
            "unhex" => (Helper::Unhex, 1),
            "repeat" => (Helper::Repeat, 2),
            "len" => (Helper::Len, 1),
            "lower" => (Helper::Lower, 1),
            "upper" => (Helper::Upper, 1),
            "crlf" => (Helper::Crlf, 1),
            _ => return None,
        })
    }
}

impl Expr {
    /// Evaluate against `vars`.
    pub fn eval(&self, vars: &Vars) -> Result<Vec<u8>, EvalError> {
        match self {
            Expr::Lit(b) => Ok(b.clone()),
            Expr::Var(name) => vars
                .get(name)
                .cloned()
                .ok_or_else(|| EvalError::Undefined(name.clone())),
            Expr::Concat(parts) => {
                let mut out = Vec::new();
                for p in parts {
                    out.extend_from_slice(&p.eval(vars)?);
                    if out.len() > MAX_VALUE {
                        return Err(EvalError::Helper(format!(
                            "value longer than {MAX_VALUE} bytes"
                        )));
                    }
                }
                Ok(out)
            }
            Expr::Call(h, args) => {
                let vals = args
                    .iter()
                    .map(|a| a.eval(vars))
                    .collect::<Result<Vec<_>, _>>()?;
                call(*h, &vals)
            }
        }
    }

    /// The variable names this expression reads.
    pub fn vars_used(&self, out: &mut Vec<String>) {
        match self {
            Expr::Lit(_) => {}
            Expr::Var(n) => out.push(n.clone()),
            Expr::Concat(v) | Expr::Call(_, v) => v.iter().for_each(|e| e.vars_used(out)),
        }
    }
}

fn call(h: Helper, v: &[Vec<u8>]) -> Result<Vec<u8>, EvalError> {
    let a = v.first().map(Vec::as_slice).unwrap_or_default();
    let helper_err = |m: String| EvalError::Helper(m);
    Ok(match h {
        Helper::Base64 => base64::engine::general_purpose::STANDARD
            .encode(a)
            .into_bytes(),
        Helper::Unbase64 => {
            let s: Vec<u8> = a
                .iter()
                .copied()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(&s)
                .map_err(|e| helper_err(format!("unbase64: {e}")))?
        }
        Helper::Hex => a
            .iter()
            .flat_map(|b| format!("{b:02x}").into_bytes())
            .collect(),
        Helper::Unhex => unhex(a).map_err(|e| helper_err(format!("unhex: {e}")))?,
        Helper::Repeat => {
            let n_text = v.get(1).map(Vec::as_slice).unwrap_or_default();
            let n: usize = std::str::from_utf8(n_text)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| {
                    helper_err(format!(
                        "repeat: count {:?} is not a number",
                        String::from_utf8_lossy(n_text)
                    ))
                })?;
            if a.len().saturating_mul(n) > MAX_VALUE {
                return Err(helper_err(format!(
                    "repeat: result longer than {MAX_VALUE} bytes"
                )));
            }
            a.repeat(n)
        }
        Helper::Len => a.len().to_string().into_bytes(),
        Helper::Lower => a.to_ascii_lowercase(),
        Helper::Upper => a.to_ascii_uppercase(),
        Helper::Crlf => {
            let mut out = Vec::with_capacity(a.len() + a.len() / 16);
            let mut prev = 0u8;
            for &c in a {
                if c == b'\n' && prev != b'\r' {
                    out.push(b'\r');
                }
                out.push(c);
                prev = c;
            }
            out
        }
    })
}

/// Hex digits to bytes; white space between digit pairs is ignored.
pub fn unhex(a: &[u8]) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = a
        .iter()
        .copied()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).map_err(|_| "not hex".to_string())?;
            u8::from_str_radix(s, 16).map_err(|_| format!("{s:?} is not a hex byte"))
        })
        .collect()
}

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Bytes, escapes applied.
    Lit(Vec<u8>),
    /// `${…}`.
    Expr(Expr),
}

/// Text with escapes applied and `${…}` expressions to evaluate when the step runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Template {
    /// The pieces, in order.
    pub parts: Vec<Part>,
}

impl Template {
    /// Parse `text`: escapes `\r \n \t \0 \\ \xHH \$ \#` and `${expr}`.
    pub fn parse(text: &str) -> Result<Template, SyntaxError> {
        let mut parts = Vec::new();
        let mut lit = Vec::new();
        let b = text.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' => {
                    let (byte, used) = escape(b, i, &[])?;
                    lit.push(byte);
                    i += used;
                }
                b'$' if b.get(i + 1) == Some(&b'{') => {
                    let (expr, used) = parse_braced(&text[i + 2..])?;
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Expr(expr));
                    i += 2 + used;
                }
                c => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { parts })
    }

    /// A template of fixed bytes.
    pub fn literal(b: &[u8]) -> Template {
        Template {
            parts: vec![Part::Lit(b.to_vec())],
        }
    }

    /// Evaluate against `vars`.
    pub fn render(&self, vars: &Vars) -> Result<Vec<u8>, EvalError> {
        let mut out = Vec::new();
        for p in &self.parts {
            match p {
                Part::Lit(b) => out.extend_from_slice(b),
                Part::Expr(e) => out.extend_from_slice(&e.eval(vars)?),
            }
            if out.len() > MAX_VALUE {
                return Err(EvalError::Helper(format!(
                    "value longer than {MAX_VALUE} bytes"
                )));
            }
        }
        Ok(out)
    }

    /// The variable names this template reads.
    pub fn vars_used(&self) -> Vec<String> {
        let mut v = Vec::new();
        for p in &self.parts {
            if let Part::Expr(e) = p {
                e.vars_used(&mut v);
            }
        }
        v
    }
}

/// Decode the escape starting at `b[i] == b'\\'`; `extra` lists further characters that may be
/// escaped to stand for themselves (the glob's `*` and `?`). Returns the byte and the length.
pub(crate) fn escape(b: &[u8], i: usize, extra: &[u8]) -> Result<(u8, usize), SyntaxError> {
    let Some(&c) = b.get(i + 1) else {
        return err("a lone `\\` at the end of the line (write `\\\\` for a backslash)");
    };
    Ok(match c {
        b'r' => (b'\r', 2),
        b'n' => (b'\n', 2),
        b't' => (b'\t', 2),
        b'0' => (0, 2),
        b'\\' => (b'\\', 2),
        b'$' => (b'$', 2),
        b'#' => (b'#', 2),
        b'x' => {
            let h = b
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok());
            match h.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(v) => (v, 4),
                None => return err("`\\x` must be followed by two hex digits"),
            }
        }
        c if extra.contains(&c) => (c, 2),
        c => {
            return err(format!(
                "unknown escape `\\{}`: expected one of \\r \\n \\t \\0 \\\\ \\xHH \\$ \\#",
                char::from(c)
            ));
        }
    })
}

/// Parse the inside of `${…}` up to its closing `}`; returns the expression and the bytes
/// used including the `}`.
pub(crate) fn parse_braced(s: &str) -> Result<(Expr, usize), SyntaxError> {
    let mut p = ExprParser {
        s: s.as_bytes(),
        i: 0,
    };
    let e = p.concat()?;
    p.ws();
    if p.peek() != Some(b'}') {
        return err(format!("expected `}}` to close `${{` at {:?}", p.rest()));
    }
    Ok((e, p.i + 1))
}

/// Parse a whole expression (the right side of `set`, the operands of `check`).
pub fn parse_expr(s: &str) -> Result<Expr, SyntaxError> {
    let mut p = ExprParser {
        s: s.as_bytes(),
        i: 0,
    };
    let e = p.concat()?;
    p.ws();
    if p.i != p.s.len() {
        return err(format!("unexpected {:?} after the expression", p.rest()));
    }
    Ok(e)
}

/// Parse an expression prefix of `s`, returning it and the bytes used (for `check A == B`).
pub(crate) fn parse_expr_prefix(s: &str) -> Result<(Expr, usize), SyntaxError> {
    let mut p = ExprParser {
        s: s.as_bytes(),
        i: 0,
    };
    let e = p.concat()?;
    Ok((e, p.i))
}

struct ExprParser<'a> {
    s: &'a [u8],
    i: usize,
}

/// The characters of a variable name after its first (dots and dashes allow
/// `${data.port-arg}`).
pub(crate) fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

impl ExprParser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn rest(&self) -> String {
        String::from_utf8_lossy(self.s.get(self.i..).unwrap_or_default()).into_owned()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }
    fn concat(&mut self) -> Result<Expr, SyntaxError> {
        let mut terms = vec![self.term()?];
        loop {
            self.ws();
            if self.peek() == Some(b'+') {
                self.i += 1;
                terms.push(self.term()?);
            } else {
                break;
            }
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Expr::Concat(terms)
        })
    }
    fn term(&mut self) -> Result<Expr, SyntaxError> {
        self.ws();
        match self.peek() {
            Some(b'"') => self.string(),
            Some(c) if c.is_ascii_digit() => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.i += 1;
                }
                Ok(Expr::Lit(self.s[start..self.i].to_vec()))
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.i;
                while self.peek().is_some_and(is_name_char) {
                    self.i += 1;
                }
                let name = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
                self.ws();
                if self.peek() != Some(b'(') {
                    return Ok(Expr::Var(name));
                }
                self.i += 1;
                let Some((helper, arity)) = Helper::by_name(&name) else {
                    return err(format!(
                        "unknown helper `{name}`: expected base64, unbase64, hex, unhex, repeat, len, lower, upper or crlf"
                    ));
                };
                let mut args = Vec::new();
                self.ws();
                if self.peek() == Some(b')') {
                    self.i += 1;
                } else {
                    loop {
                        args.push(self.concat()?);
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.i += 1,
                            Some(b')') => {
                                self.i += 1;
                                break;
                            }
                            _ => {
                                return err(format!(
                                    "expected `,` or `)` in `{name}(…)` at {:?}",
                                    self.rest()
                                ));
                            }
                        }
                    }
                }
                if args.len() != arity {
                    return err(format!(
                        "`{name}` takes {arity} argument(s), got {}",
                        args.len()
                    ));
                }
                Ok(Expr::Call(helper, args))
            }
            _ => err(format!(
                "expected a \"string\", a number, a variable or a helper call at {:?}",
                self.rest()
            )),
        }
    }
    fn string(&mut self) -> Result<Expr, SyntaxError> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return err("unterminated \"string\""),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Expr::Lit(out));
                }
                Some(b'\\') if self.s.get(self.i + 1) == Some(&b'"') => {
                    out.push(b'"');
                    self.i += 2;
                }
                Some(b'\\') => {
                    let (b, used) = escape(self.s, self.i, &[])?;
                    out.push(b);
                    self.i += used;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        let mut v = Vars::new();
        v.insert("user".into(), b"alice".to_vec());
        v.insert("pass".into(), b"secret".to_vec());
        v.insert("data.port-arg".into(), b"127,0,0,1,4,1".to_vec());
        v
    }

    fn render(s: &str) -> Vec<u8> {
        Template::parse(s).unwrap().render(&vars()).unwrap()
    }

    #[test]
    fn escapes_are_bytes() {
        assert_eq!(
            render(r"a\r\nb\t\0\\\x80\xff\$\#"),
            b"a\r\nb\t\0\\\x80\xff$#"
        );
        assert_eq!(render("plain $ sign"), b"plain $ sign");
        assert!(
            Template::parse(r"bad \q")
                .unwrap_err()
                .0
                .contains("unknown escape")
        );
        assert!(Template::parse(r"\x8").is_err());
        assert!(Template::parse("end\\").is_err());
    }

    #[test]
    fn auth_plain_example_from_the_spec() {
        let got = render(r#"AUTH PLAIN ${base64("\0" + user + "\0" + pass)}"#);
        assert_eq!(got, b"AUTH PLAIN AGFsaWNlAHNlY3JldA==");
    }

    #[test]
    fn helpers() {
        assert_eq!(render(r#"${repeat("ab", 3)}"#), b"ababab");
        assert_eq!(render(r#"${len(repeat("x", 1000))}"#), b"1000");
        assert_eq!(render(r#"${hex("A\xff")}"#), b"41ff");
        assert_eq!(render(r#"${unhex("41 ff")}"#), b"A\xff");
        assert_eq!(render(r#"${unbase64("AGFsaWNl")}"#), b"\0alice");
        assert_eq!(render(r#"${upper(user)}${lower("XY")}"#), b"ALICExy");
        assert_eq!(render(r#"${crlf("a\nb\r\nc")}"#), b"a\r\nb\r\nc");
        assert_eq!(render("PORT ${data.port-arg}"), b"PORT 127,0,0,1,4,1");
        assert_eq!(render(r#"${"say \"hi\""}"#), b"say \"hi\"");
    }

    #[test]
    fn bad_expressions_say_what_was_expected() {
        assert!(
            Template::parse("${nope(1)}")
                .unwrap_err()
                .0
                .contains("unknown helper")
        );
        assert!(
            Template::parse("${repeat(\"x\")}")
                .unwrap_err()
                .0
                .contains("takes 2")
        );
        assert!(
            Template::parse("${user")
                .unwrap_err()
                .0
                .contains("expected `}`")
        );
        assert!(
            Template::parse("${\"open}")
                .unwrap_err()
                .0
                .contains("unterminated")
        );
    }

    #[test]
    fn evaluation_errors() {
        let t = Template::parse("${missing}").unwrap();
        assert_eq!(
            t.render(&vars()),
            Err(EvalError::Undefined("missing".into()))
        );
        let t = Template::parse(r#"${repeat("x", 999999999999)}"#).unwrap();
        assert!(matches!(t.render(&vars()), Err(EvalError::Helper(_))));
        let t = Template::parse(r#"${unhex("zz")}"#).unwrap();
        assert!(t.render(&vars()).is_err());
    }

    #[test]
    fn whole_expressions() {
        let e = parse_expr(r#"user + "@" + "example.test""#).unwrap();
        assert_eq!(e.eval(&vars()).unwrap(), b"alice@example.test");
        assert!(parse_expr("user pass").is_err());
        let (e, used) = parse_expr_prefix("user == pass").unwrap();
        assert_eq!((e, used), (Expr::Var("user".into()), 5));
    }
}
