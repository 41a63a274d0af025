//! Expectations: `S:` (with `S|` lines), `S?`, `S!`, `unordered { … }`, `expect close`,
//! `expect silence`, and IMAP's `skip-untagged`.

use std::time::Duration;

use tokio::time::Instant;

use super::case::{Exec, Failure, Stop, shown};
use crate::protocol::{Unit, UnitKind};
use crate::transcript::pattern::{Captures, MatchError};
use crate::transcript::{Expect, Pattern, Vars};

/// How an expectation fared against one unit.
enum Verdict {
    Match(Captures),
    NoMatch(String),
}

fn match_expect(e: &Expect, unit: &Unit, vars: &Vars) -> Result<Verdict, MatchError> {
    if e.lines.is_empty() {
        return Ok(match e.pattern.match_unit(unit, vars)? {
            Some(c) => Verdict::Match(c),
            None => Verdict::NoMatch("the reply does not match".into()),
        });
    }
    let want = e.lines.len() + 1;
    if unit.lines.len() != want {
        return Ok(Verdict::NoMatch(format!(
            "expected {want} lines, got {}",
            unit.lines.len()
        )));
    }
    let mut caps = Vec::new();
    let patterns =
        std::iter::once((e.line, &e.pattern)).chain(e.lines.iter().map(|(l, p)| (*l, p)));
    for (i, ((line, p), ul)) in patterns.zip(&unit.lines).enumerate() {
        match p.match_line(ul, vars)? {
            Some(c) => caps.extend(c),
            None => {
                return Ok(Verdict::NoMatch(format!(
                    "line {} of the reply (script line {line}) does not match `{}`: {}",
                    i + 1,
                    p.source,
                    shown(&ul.wire)
                )));
            }
        }
    }
    Ok(Verdict::Match(caps))
}

impl Exec<'_> {
    fn match_error(&self, e: MatchError) -> Stop {
        Stop::Error(Failure {
            line: self.line,
            message: e.to_string(),
            ..Failure::default()
        })
    }

    /// Read one unit on `conn`.
    async fn read_unit(
        &mut self,
        conn: &str,
        deadline: Instant,
        expected: &str,
    ) -> Result<Unit, Stop> {
        let line = self.line;
        let limits = self.env.options.limits;
        let (c, rec) = self.conn_rec(conn)?;
        let r = c.next_unit(deadline, &limits, rec).await;
        r.map_err(|e| self.read_failure(e, line, expected, conn))
    }

    /// The active `S!` patterns against a unit that no expectation takes.
    fn check_must_not(&mut self, conn: &str, unit: &Unit) -> Result<(), Stop> {
        let Some(c) = self.conns.get(conn) else {
            return Ok(());
        };
        for (line, p) in &c.must_not {
            if p.match_unit(unit, &self.vars)
                .map_err(|e| self.match_error(e))?
                .is_some()
            {
                return Err(Stop::Mismatch(Failure {
                    line: *line,
                    message: "a reply that must not arrive did".into(),
                    expected: Some(format!("no reply matching `{}`", p.source)),
                    actual: Some(shown(&unit.text)),
                    not_implemented: unit.not_implemented,
                    ..Failure::default()
                }));
            }
        }
        Ok(())
    }

    /// A unit matched: its captures, `${_reply}`, `${_body}`, PASV/EPSV, `S!` cleared.
    fn accept_unit(
        &mut self,
        conn: &str,
        unit: &Unit,
        caps: Captures,
        line: u32,
        source: &str,
    ) -> Result<(), Stop> {
        if let Some(v) = unit.violations.first() {
            return Err(Stop::Mismatch(Failure {
                line,
                message: v.clone(),
                expected: Some(source.to_string()),
                actual: Some(shown(&unit.raw)),
                ..Failure::default()
            }));
        }
        self.vars.extend(caps);
        self.vars.insert("_reply".into(), unit.text.clone());
        if let Some(b) = &unit.body {
            self.vars.insert("_body".into(), b.clone());
        }
        if let Some(c) = self.conns.get_mut(conn) {
            c.must_not.clear();
            if matches!(unit.code, Some(227 | 229)) {
                self.last_data_reply = Some((unit.clone(), c.peer));
            }
        }
        Ok(())
    }

    fn no_match(&self, line: u32, source: &str, unit: &Unit, why: String) -> Stop {
        Stop::Mismatch(Failure {
            line,
            message: why,
            expected: Some(source.to_string()),
            actual: Some(shown(&unit.text)),
            hint: None,
            not_implemented: unit.not_implemented,
        })
    }

    fn skippable(&self, unit: &Unit) -> bool {
        self.skip_untagged && unit.kind == UnitKind::Untagged
    }

    /// `S: PATTERN` (and its `S|` lines).
    pub(crate) async fn expect(
        &mut self,
        conn: &str,
        e: &Expect,
        source: &str,
    ) -> Result<(), Stop> {
        let deadline = self.deadline();
        let mut skipped = 0usize;
        loop {
            let unit = self.read_unit(conn, deadline, source).await?;
            let verdict = match_expect(e, &unit, &self.vars).map_err(|x| self.match_error(x))?;
            if matches!(verdict, Verdict::NoMatch(_)) {
                self.check_must_not(conn, &unit)?;
            }
            match verdict {
                Verdict::Match(caps) => return self.accept_unit(conn, &unit, caps, e.line, source),
                Verdict::NoMatch(_)
                    if self.skippable(&unit) && skipped < self.env.options.limits.max_lines() =>
                {
                    skipped += 1;
                }
                Verdict::NoMatch(why) => return Err(self.no_match(e.line, source, &unit, why)),
            }
        }
    }

    /// `S? PATTERN`: consume the next unit if it matches, else leave it.
    pub(crate) async fn optional(
        &mut self,
        conn: &str,
        p: &Pattern,
        source: &str,
    ) -> Result<(), Stop> {
        let line = self.line;
        let limits = self.env.options.limits;
        let deadline = self.deadline();
        let (c, rec) = self.conn_rec(conn)?;
        let unit = match c.next_unit(deadline, &limits, rec).await {
            Ok(u) => u,
            // Nothing came (or the peer closed): the optional unit is absent; the next step
            // sees the same state.
            Err(super::conn::ReadError::Timeout { .. } | super::conn::ReadError::Closed { .. }) => {
                return Ok(());
            }
            Err(e) => return Err(self.read_failure(e, line, source, conn)),
        };
        match p
            .match_unit(&unit, &self.vars)
            .map_err(|x| self.match_error(x))?
        {
            Some(caps) => self.accept_unit(conn, &unit, caps, line, source),
            None => {
                self.conn(conn)?.pushed_back.push_front(unit);
                Ok(())
            }
        }
    }

    /// `unordered { … }`: the next N units match the N expectations in some order.
    pub(crate) async fn unordered(&mut self, conn: &str, list: &[Expect]) -> Result<(), Stop> {
        let deadline = self.deadline();
        let source = format!(
            "unordered {{ {} }}",
            list.iter()
                .map(|e| e.pattern.source.as_str())
                .collect::<Vec<_>>()
                .join(" ; ")
        );
        let mut units: Vec<(Unit, Vec<Option<Captures>>)> = Vec::new();
        let mut skipped = 0usize;
        while units.len() < list.len() {
            let unit = self.read_unit(conn, deadline, &source).await?;
            let mut fits = Vec::with_capacity(list.len());
            for e in list {
                fits.push(
                    match match_expect(e, &unit, &self.vars).map_err(|x| self.match_error(x))? {
                        Verdict::Match(c) => Some(c),
                        Verdict::NoMatch(_) => None,
                    },
                );
            }
            if fits.iter().any(Option::is_some) {
                units.push((unit, fits));
                continue;
            }
            self.check_must_not(conn, &unit)?;
            if self.skippable(&unit) && skipped < self.env.options.limits.max_lines() {
                skipped += 1;
            } else {
                let line = list.first().map_or(self.line, |e| e.line);
                return Err(self.no_match(
                    line,
                    &source,
                    &unit,
                    "the reply matches none of the unordered patterns".into(),
                ));
            }
        }
        let adj: Vec<Vec<bool>> = units
            .iter()
            .map(|(_, f)| f.iter().map(Option::is_some).collect())
            .collect();
        let Some(assign) = perfect_matching(&adj) else {
            let line = list.first().map_or(self.line, |e| e.line);
            let got: Vec<String> = units.iter().map(|(u, _)| shown(&u.text)).collect();
            return Err(Stop::Mismatch(Failure {
                line,
                message: "the replies cannot be paired one to one with the unordered patterns"
                    .into(),
                expected: Some(source),
                actual: Some(got.join(" | ")),
                ..Failure::default()
            }));
        };
        for (ui, pi) in assign.into_iter().enumerate() {
            let (unit, fits) = &mut units[ui];
            let caps = fits.get_mut(pi).and_then(Option::take).unwrap_or_default();
            let (line, src) = (list[pi].line, list[pi].pattern.source.clone());
            let unit = unit.clone();
            self.accept_unit(conn, &unit, caps, line, &src)?;
        }
        Ok(())
    }

    /// `expect close`.
    pub(crate) async fn expect_close(&mut self, conn: &str, source: &str) -> Result<(), Stop> {
        let line = self.line;
        let deadline = self.deadline();
        let after = humantime::format_duration(self.step_timeout).to_string();
        let (c, rec) = self.conn_rec(conn)?;
        match c.expect_close(deadline, rec).await {
            Ok(()) => {
                self.conns.remove(conn);
                Ok(())
            }
            Err(super::conn::ReadError::Timeout { .. }) => Err(Stop::Mismatch(Failure {
                line,
                message: format!("connection `{conn}` still open after {after}"),
                expected: Some(source.to_string()),
                ..Failure::default()
            })),
            Err(e) => Err(self.read_failure(e, line, source, conn)),
        }
    }

    /// `expect silence DUR`.
    pub(crate) async fn expect_silence(
        &mut self,
        conn: &str,
        d: Duration,
        source: &str,
    ) -> Result<(), Stop> {
        let line = self.line;
        let (c, rec) = self.conn_rec(conn)?;
        match c.expect_silence(Instant::now() + d, rec).await {
            Ok(()) => Ok(()),
            Err(e) => Err(self.read_failure(e, line, source, conn)),
        }
    }

    /// `S!` as the last step: nothing already received may match.
    pub(crate) fn check_trailing_must_not(&mut self) -> Result<(), Stop> {
        let limits = self.env.options.limits;
        let names: Vec<String> = self.conns.keys().cloned().collect();
        for name in names {
            for _ in 0..limits.max_lines() {
                let Some(c) = self.conns.get_mut(&name) else {
                    break;
                };
                if c.must_not.is_empty() {
                    break;
                }
                match c.buffered_unit(&limits) {
                    Ok(Some(u)) => self.check_must_not(&name, &u)?,
                    _ => break,
                }
            }
        }
        Ok(())
    }
}

/// A perfect matching of units (rows) to patterns (columns), Kuhn's algorithm: for each
/// unit, the pattern it takes. `None` when there is none.
fn perfect_matching(adj: &[Vec<bool>]) -> Option<Vec<usize>> {
    let n = adj.len();
    let mut owner: Vec<Option<usize>> = vec![None; n];
    fn augment(
        u: usize,
        adj: &[Vec<bool>],
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for p in 0..adj[u].len() {
            if adj[u][p] && !seen[p] {
                seen[p] = true;
                if owner[p].is_none_or(|o| augment(o, adj, seen, owner)) {
                    owner[p] = Some(u);
                    return true;
                }
            }
        }
        false
    }
    for u in 0..n {
        let mut seen = vec![false; n];
        if !augment(u, adj, &mut seen, &mut owner) {
            return None;
        }
    }
    let mut out = vec![0; n];
    for (p, o) in owner.iter().enumerate() {
        out[(*o)?] = p;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_needs_backtracking() {
        // Unit 0 fits both patterns, unit 1 only the first: greedy would fail.
        let adj = vec![vec![true, true], vec![true, false]];
        assert_eq!(perfect_matching(&adj), Some(vec![1, 0]));
        assert_eq!(
            perfect_matching(&[vec![true, false], vec![true, false]]),
            None
        );
    }
}
