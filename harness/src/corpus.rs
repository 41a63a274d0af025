//! A corpus: every transcript under a directory, in path order.
//!
//! ```no_run
//! let corpus = wirecheck::corpus::load("transcripts".as_ref()).expect("a valid corpus");
//! println!("{} transcripts", corpus.transcripts.len());
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::transcript::{ParseError, Transcript, load};

/// The transcripts of a corpus, in path order (the report's "corpus order").
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// The directory they were read from.
    pub root: PathBuf,
    /// The transcripts.
    pub transcripts: Vec<Transcript>,
}

/// A corpus that could not be loaded, with every problem found.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The directory could not be read.
    #[error("cannot read corpus {}: {message}", dir.display())]
    Io {
        /// The directory.
        dir: PathBuf,
        /// Why.
        message: String,
    },
    /// Some transcripts are invalid.
    #[error("{} problem(s) in the corpus:\n{}", problems.len(), problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// Every problem, in file order.
        problems: Vec<ParseError>,
    },
}

/// Directories at a corpus root that are not part of it: known deviations (not
/// transcripts), the harness's self-test transcripts (for its fake servers, loaded only
/// when named as the root), and the RFC requirements coverage is measured against.
const NOT_TRANSCRIPTS: [&str; 3] = ["deviations", "selftest", "requirements"];
/// Files at a corpus root that are not transcripts: the grading hints table.
const NOT_TRANSCRIPT_FILES: [&str; 1] = ["hints.toml"];
/// Bounds on the directory walk.
const MAX_FILES: usize = 100_000;
const MAX_DEPTH: usize = 16;

/// Every `*.toml` under `dir` (relative paths, sorted), skipping hidden entries, the
/// root's `deviations/`, `selftest/` and `requirements/` directories and its `hints.toml`.
pub fn transcript_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let io = |e: std::io::Error| LoadError::Io {
        dir: dir.to_path_buf(),
        message: e.to_string(),
    };
    let mut out = Vec::new();
    let mut stack = vec![(PathBuf::new(), 0usize)];
    while let Some((rel, depth)) = stack.pop() {
        for entry in std::fs::read_dir(dir.join(&rel)).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name();
            let name_s = name.to_string_lossy();
            if name_s.starts_with('.') {
                continue;
            }
            let path = rel.join(&name);
            let ft = entry.file_type().map_err(io)?;
            if ft.is_dir() {
                if depth < MAX_DEPTH && !(depth == 0 && NOT_TRANSCRIPTS.contains(&name_s.as_ref()))
                {
                    stack.push((path, depth + 1));
                }
            } else if name_s.ends_with(".toml")
                && out.len() < MAX_FILES
                && !(depth == 0 && NOT_TRANSCRIPT_FILES.contains(&name_s.as_ref()))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Parse every transcript under `dir`: the parsed ones (duplicates included) and the
/// problems of the others.
pub fn parse_all(dir: &Path) -> Result<(Vec<Transcript>, Vec<ParseError>), LoadError> {
    let mut transcripts = Vec::new();
    let mut problems = Vec::new();
    for rel in transcript_files(dir)? {
        match load::parse_file(dir, &rel) {
            Ok(t) => transcripts.push(t),
            Err(es) => problems.extend(es),
        }
    }
    Ok((transcripts, problems))
}

/// Load every transcript; the valid ones, and the problems of the others (duplicate ids
/// included).
pub fn load_lenient(dir: &Path) -> Result<(Corpus, Vec<ParseError>), LoadError> {
    let (mut transcripts, mut problems) = parse_all(dir)?;
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    transcripts.retain(|t| match seen.get(&t.meta.id) {
        Some(first) => {
            problems.push(ParseError {
                file: t.file.clone(),
                line: Some(1),
                message: format!(
                    "duplicate id `{}` (first in {})",
                    t.meta.id,
                    first.display()
                ),
            });
            false
        }
        None => {
            seen.insert(t.meta.id.clone(), t.file.clone());
            true
        }
    });
    Ok((
        Corpus {
            root: dir.to_path_buf(),
            transcripts,
        },
        problems,
    ))
}

/// Load every transcript under `dir`; any invalid one makes the whole load fail.
pub fn load(dir: &Path) -> Result<Corpus, LoadError> {
    let (corpus, problems) = load_lenient(dir)?;
    if problems.is_empty() {
        Ok(corpus)
    } else {
        Err(LoadError::Invalid { problems })
    }
}

impl Corpus {
    /// A corpus of already-parsed transcripts (for tests and generated cases).
    pub fn from_transcripts(transcripts: Vec<Transcript>) -> Corpus {
        Corpus {
            root: PathBuf::new(),
            transcripts,
        }
    }

    /// The transcript with this id.
    pub fn get(&self, id: &str) -> Option<&Transcript> {
        self.transcripts.iter().find(|t| t.meta.id == id)
    }
}
