//! RFC coverage: which MUST and SHOULD clauses of the RFCs the corpus checks, and which
//! none of its cases does.
//!
//! The clauses are data: `transcripts/requirements/rfcNNNN.toml`, one `[[req]]` per
//! distinct requirement (`id = "5321#4.1.1.4-lf-dot-lf"`, `section`, `level`, `who`,
//! `text` — a paraphrase), found with `transcripts/requirements/extract.py`. A transcript
//! covers a requirement when one of its `rfc` references names the requirement's section
//! (a paragraph suffix `-pN` is ignored) and its role can check the party the requirement
//! binds (client-role cases check servers, server-role cases check clients), or when its
//! `covers` key lists the requirement's id. `wirecheck coverage` prints what is not covered; run and grade reports get a
//! `coverage.html` page and `coverage.json`.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;
use wirecheck_reports::{Coverage, HtmlOptions, Level, Report, Requirement};

use crate::grade::hints::TableError;
use crate::transcript::{Role, Transcript};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    req: Vec<RawReq>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReq {
    id: String,
    section: String,
    level: String,
    #[serde(default)]
    who: String,
    text: String,
}

/// The order of sections: numeric parts by value (`4.10` after `4.9`), appendices after.
fn section_key(s: &str) -> Vec<(u8, u32, String)> {
    s.split('.')
        .map(|p| match p.parse::<u32>() {
            Ok(n) => (0, n, String::new()),
            Err(_) => (1, 0, p.to_string()),
        })
        .collect()
}

/// Parse one requirements file of RFC `rfc`; `file` names it in messages.
pub fn parse(text: &str, rfc: u32, file: &str) -> Result<Vec<Requirement>, TableError> {
    let err = |message: String| TableError {
        file: file.to_string(),
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| err(e.to_string()))?;
    let mut out = Vec::with_capacity(raw.req.len());
    for r in raw.req {
        let level = match r.level.as_str() {
            "MUST" => Level::Must,
            "SHOULD" => Level::Should,
            l => {
                return Err(err(format!(
                    "{}: level {l:?}, expected MUST or SHOULD",
                    r.id
                )));
            }
        };
        let prefix = format!("{rfc}#{}-", r.section);
        if !r.id.starts_with(&prefix) || r.id.len() == prefix.len() {
            return Err(err(format!("{}: the id should be {prefix}<name>", r.id)));
        }
        if r.text.trim().is_empty() {
            return Err(err(format!("{}: empty `text`", r.id)));
        }
        out.push(Requirement {
            id: r.id,
            rfc,
            section: r.section,
            level,
            who: r.who,
            text: r.text,
            cases: Vec::new(),
        });
    }
    Ok(out)
}

/// Every requirement in `dir` (`rfcNNNN.toml` files), in RFC and section order.
pub fn load_dir(dir: &Path) -> Result<Vec<Requirement>, TableError> {
    let err = |file: &Path, message: String| TableError {
        file: file.display().to_string(),
        message,
    };
    let mut all = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| err(dir, e.to_string()))?;
    for entry in entries {
        let path = entry.map_err(|e| err(dir, e.to_string()))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(rfc) = name
            .strip_prefix("rfc")
            .and_then(|n| n.strip_suffix(".toml"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(|e| err(&path, e.to_string()))?;
        all.extend(parse(&text, rfc, &path.display().to_string())?);
    }
    let mut seen = HashSet::new();
    if let Some(dup) = all.iter().find(|r| !seen.insert(r.id.clone())) {
        return Err(err(dir, format!("duplicate requirement id {}", dup.id)));
    }
    all.sort_by_key(|r| (r.rfc, section_key(&r.section)));
    Ok(all)
}

/// Can a transcript in `role` check a requirement on `who`? wirecheck as the client
/// (the usual case) checks servers; as the server it checks clients; relays and resolvers
/// act as both; gateways only through an explicit `covers`.
fn role_fits(role: Role, who: &str) -> bool {
    match role {
        Role::Client => matches!(who, "server" | "relay" | "resolver" | "any" | ""),
        Role::Server => matches!(who, "client" | "relay" | "resolver" | "any" | ""),
    }
}

/// Does `t` cover `r`: does it name `r` in `covers`, or cite `r`'s section and play the
/// role that can check the party `r` binds?
pub fn covers(t: &Transcript, r: &Requirement) -> bool {
    t.meta.covers.iter().any(|id| id == &r.id)
        || role_fits(t.meta.role, &r.who)
            && t.meta.rfc.iter().any(|have| {
                let section = have
                    .section
                    .rsplit_once("-p")
                    .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
                    .map_or(have.section.as_str(), |(s, _)| s);
                have.rfc == r.rfc && section == r.section
            })
}

/// `requirements` with the ids of the transcripts that cover each.
pub fn cover(requirements: &[Requirement], transcripts: &[&Transcript]) -> Coverage {
    Coverage {
        requirements: requirements
            .iter()
            .map(|r| Requirement {
                cases: transcripts
                    .iter()
                    .filter(|t| covers(t, r))
                    .map(|t| t.meta.id.clone())
                    .collect(),
                ..r.clone()
            })
            .collect(),
    }
}

/// The `covers` ids of `transcripts` that name no requirement: (transcript id, bad id).
pub fn unknown_covers(
    requirements: &[Requirement],
    transcripts: &[&Transcript],
) -> Vec<(String, String)> {
    let ids: HashSet<&str> = requirements.iter().map(|r| r.id.as_str()).collect();
    transcripts
        .iter()
        .flat_map(|t| {
            t.meta
                .covers
                .iter()
                .filter(|c| !ids.contains(c.as_str()))
                .map(|c| (t.meta.id.clone(), c.clone()))
        })
        .collect()
}

/// The coverage of a run's cases: the requirements (from `corpus/requirements`) of the RFCs
/// the run's transcripts cite. `None` when the corpus has no requirements for them.
pub fn for_report(
    report: &Report,
    transcripts: &[&Transcript],
    corpus: &Path,
) -> anyhow::Result<Option<Coverage>> {
    let dir = corpus.join("requirements");
    if !dir.is_dir() {
        return Ok(None);
    }
    let reqs = load_dir(&dir)?;
    let ran: HashSet<&str> = report
        .targets
        .iter()
        .flat_map(|t| &t.cases)
        .map(|c| c.id.as_str())
        .collect();
    let run: Vec<&Transcript> = transcripts
        .iter()
        .copied()
        .filter(|t| ran.contains(t.meta.id.as_str()))
        .collect();
    let cited: BTreeSet<u32> = run
        .iter()
        .flat_map(|t| t.meta.rfc.iter().map(|r| r.rfc))
        .collect();
    let in_scope: Vec<Requirement> = reqs
        .into_iter()
        .filter(|r| cited.contains(&r.rfc))
        .collect();
    if in_scope.is_empty() {
        return Ok(None);
    }
    Ok(Some(cover(&in_scope, &run)))
}

/// Write a run's HTML report into `dir` (index, target pages) with `coverage.html` and
/// `coverage.json` when the corpus has requirements for the run's RFCs; returns the index.
pub fn write_html_report(
    report: &Report,
    transcripts: &[&Transcript],
    corpus: &Path,
    dir: &Path,
) -> anyhow::Result<PathBuf> {
    let coverage = for_report(report, transcripts, corpus)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let index = wirecheck_reports::index::write_all_with_coverage(
        report,
        coverage.as_ref(),
        dir,
        &HtmlOptions::default(),
    )
    .with_context(|| format!("writing {}", dir.display()))?;
    if let Some(c) = &coverage {
        let json = serde_json::to_string_pretty(c)?;
        std::fs::write(dir.join("coverage.json"), json)
            .with_context(|| format!("writing {}", dir.display()))?;
    }
    Ok(index)
}

/// `wirecheck coverage`.
#[derive(Debug, Clone, clap::Args)]
pub struct CoverageArgs {
    /// Only these RFCs (repeatable).
    #[arg(long, value_name = "N")]
    pub rfc: Vec<u32>,
    /// Only this level: MUST or SHOULD.
    #[arg(long, value_name = "LEVEL")]
    pub level: Option<String>,
    /// Only requirements on this party: server, client, relay, gateway, resolver, any.
    #[arg(long, value_name = "WHO")]
    pub who: Option<String>,
    /// List covered requirements too, with their cases.
    #[arg(long)]
    pub all: bool,
    /// The corpus (its `requirements/` directory holds the clauses).
    #[arg(long, default_value = "transcripts")]
    pub corpus: PathBuf,
    /// Also write the coverage as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// Run `wirecheck coverage`: a summary per RFC and every uncovered requirement.
pub fn main(a: &CoverageArgs) -> anyhow::Result<u8> {
    let corpus = crate::corpus::load(&a.corpus)
        .with_context(|| format!("loading {}", a.corpus.display()))?;
    let reqs = load_dir(&a.corpus.join("requirements"))?;
    let all: Vec<&Transcript> = corpus.transcripts.iter().collect();
    for (t, id) in unknown_covers(&reqs, &all) {
        eprintln!("warning: {t}: covers {id:?}, which is no requirement");
    }
    let level = match a.level.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None => None,
        Some("MUST") => Some(Level::Must),
        Some("SHOULD") => Some(Level::Should),
        Some(l) => anyhow::bail!("--level {l}: expected MUST or SHOULD"),
    };
    let chosen: Vec<Requirement> = reqs
        .into_iter()
        .filter(|r| a.rfc.is_empty() || a.rfc.contains(&r.rfc))
        .filter(|r| level.is_none_or(|l| r.level == l))
        .filter(|r| a.who.as_ref().is_none_or(|w| &r.who == w))
        .collect();
    let cov = cover(&chosen, &all);
    print!("{}", render(&cov, a.all));
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&cov)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(0)
}

/// The console text: per RFC a summary line, then the uncovered requirements (and the
/// covered ones, with `all`).
pub fn render(cov: &Coverage, all: bool) -> String {
    let mut out = String::new();
    let rfcs: BTreeSet<u32> = cov.requirements.iter().map(|r| r.rfc).collect();
    for rfc in rfcs {
        let reqs: Vec<&Requirement> = cov.requirements.iter().filter(|r| r.rfc == rfc).collect();
        let covered = reqs.iter().filter(|r| !r.cases.is_empty()).count();
        let open = |l: Level| {
            reqs.iter()
                .filter(|r| r.level == l && r.cases.is_empty())
                .count()
        };
        out.push_str(&format!(
            "RFC {rfc}: {covered} of {} requirements covered; not covered: {} MUST, {} SHOULD\n",
            reqs.len(),
            open(Level::Must),
            open(Level::Should)
        ));
        for r in reqs.iter().filter(|r| all || r.cases.is_empty()) {
            let level = if r.level == Level::Must {
                "MUST  "
            } else {
                "SHOULD"
            };
            out.push_str(&format!("  {level} {:<44} {}\n", r.id, r.text));
            if all && !r.cases.is_empty() {
                out.push_str(&format!("         covered by {}\n", r.cases.join(", ")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, rfc: &str, covers: &str) -> Transcript {
        let s = format!(
            "id = {id:?}\ntitle = \"t\"\nrfc = {rfc}\nlevel = \"MUST\"\ncovers = [{covers}]\nscript = '''\nS: 220 *\n'''\n"
        );
        crate::transcript::parse_str(&s, Path::new("smtp/x.toml"), Some("smtp")).unwrap()
    }

    const REQS: &str = r#"
[[req]]
id = "5321#4.1.1.4-lf-dot-lf"
section = "4.1.1.4"
level = "MUST"
who = "server"
text = "LF . LF does not end the data."
[[req]]
id = "5321#4.1.1.5-rset-250"
section = "4.1.1.5"
level = "MUST"
text = "RSET gets 250."
[[req]]
id = "5321#4.1-commands"
section = "4.1"
level = "SHOULD"
text = "Something about commands."
"#;

    #[test]
    fn sections_paragraphs_and_covers_keys_cover() {
        let reqs = parse(REQS, 5321, "t").unwrap();
        let a = t("smtp.a", "\"5321#4.1.1.4-p2\"", "");
        let b = t(
            "smtp.b",
            "[\"5321#4.1.1\", \"1939#3\"]",
            "\"5321#4.1.1.5-rset-250\"",
        );
        let c = t("smtp.c", "\"5321#4.1.1.40\"", "\"5321#nope-x\"");
        let cov = cover(&reqs, &[&a, &b, &c]);
        let cases: Vec<Vec<String>> = cov.requirements.iter().map(|r| r.cases.clone()).collect();
        assert_eq!(
            cases,
            vec![
                vec!["smtp.a".to_string()],
                vec!["smtp.b".to_string()],
                vec![]
            ]
        );
        assert_eq!(
            unknown_covers(&reqs, &[&a, &b, &c]),
            [("smtp.c".to_string(), "5321#nope-x".to_string())]
        );
        let text = render(&cov, false);
        assert!(
            text.contains("RFC 5321: 2 of 3 requirements covered; not covered: 0 MUST, 1 SHOULD"),
            "{text}"
        );
        assert!(text.contains("5321#4.1-commands"));
        assert!(!text.contains("rset-250"));
        assert!(render(&cov, true).contains("covered by smtp.b"));
    }

    #[test]
    fn bad_entries_are_named() {
        let e = |s: &str| parse(s, 5321, "f").unwrap_err().message;
        assert!(
            e("[[req]]\nid = \"5321#4.1-x\"\nsection = \"4.1\"\nlevel = \"MAY\"\ntext = \"t\"\n")
                .contains("MAY")
        );
        assert!(
            e("[[req]]\nid = \"5321#4.2-x\"\nsection = \"4.1\"\nlevel = \"MUST\"\ntext = \"t\"\n")
                .contains("5321#4.1-")
        );
        assert!(e("[[req]]\nid = \"5321#4.1-x\"\nsection = \"4.1\"\nlevel = \"MUST\"\ntext = \"t\"\ncolour = 1\n").contains("colour"));
    }

    #[test]
    fn the_corpus_requirements_load_in_order_and_every_covers_key_is_known() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../transcripts");
        let reqs = load_dir(&root.join("requirements")).unwrap();
        assert!(reqs.len() > 250, "{}", reqs.len());
        assert!(
            reqs.windows(2)
                .all(|w| (w[0].rfc, section_key(&w[0].section))
                    <= (w[1].rfc, section_key(&w[1].section)))
        );
        let corpus = crate::corpus::load(&root).unwrap();
        let all: Vec<&Transcript> = corpus.transcripts.iter().collect();
        assert_eq!(unknown_covers(&reqs, &all), Vec::<(String, String)>::new());
        let cov = cover(&reqs, &all);
        let lf = cov
            .requirements
            .iter()
            .find(|r| r.id == "5321#4.1.1.4-lf-dot-lf")
            .unwrap();
        assert!(
            lf.cases.iter().any(|c| c == "smtp.smuggling.lf-dot-lf"),
            "{:?}",
            lf.cases
        );
    }
}
