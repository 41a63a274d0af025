//! Which transcripts a run includes: protocol, name filters (libtest semantics), `--skip`,
//! `--tag` and `--rfc`, all decided before anything runs.

use crate::corpus::Corpus;
use crate::transcript::Transcript;

/// A selection of transcripts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only this protocol (`smtp`, …; `scenario` and `scenarios` are the same).
    pub protocol: Option<String>,
    /// Keep a case whose id contains any of these (equals, with `exact`). Empty: all.
    pub filters: Vec<String>,
    /// Filters and skips compare whole ids.
    pub exact: bool,
    /// Drop a case whose id contains (equals, with `exact`) any of these.
    pub skip: Vec<String>,
    /// Keep a case with any of these tags. Empty: all.
    pub tags: Vec<String>,
    /// Keep a case citing any of these: `5321`, `5321#4.1`, `5321#4.1.4` (sub-sections and
    /// paragraphs of a section are in it). Empty: all.
    pub rfc: Vec<String>,
}

fn canonical_protocol(p: &str) -> &str {
    if p == "scenario" { "scenarios" } else { p }
}

/// Does the reference `have` (`5321#4.1.4.2-p3`) fall under the selector `want`
/// (`5321`, `5321#4.1.4`)?
pub fn rfc_matches(want: &str, have_rfc: u32, have_section: &str) -> bool {
    let (n, sec) = match want.split_once('#') {
        Some((n, s)) => (n, Some(s)),
        None => (want, None),
    };
    if n.trim().parse::<u32>().ok() != Some(have_rfc) {
        return false;
    }
    let Some(sec) = sec else { return true };
    let rest = match have_section.strip_prefix(sec) {
        Some(r) => r,
        None => return false,
    };
    rest.is_empty() || rest.starts_with('.') || rest.starts_with('-')
}

impl Selection {
    /// Everything.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// Does this transcript belong to the selection?
    pub fn matches(&self, t: &Transcript) -> bool {
        let id = t.meta.id.as_str();
        let hit = |f: &String| {
            if self.exact {
                id == f
            } else {
                id.contains(f.as_str())
            }
        };
        if let Some(p) = &self.protocol
            && canonical_protocol(p) != canonical_protocol(&t.meta.protocol)
        {
            return false;
        }
        if !self.filters.is_empty() && !self.filters.iter().any(hit) {
            return false;
        }
        if self.skip.iter().any(hit) {
            return false;
        }
        if !self.tags.is_empty() && !self.tags.iter().any(|tag| t.meta.tags.contains(tag)) {
            return false;
        }
        if !self.rfc.is_empty()
            && !self
                .rfc
                .iter()
                .any(|w| t.meta.rfc.iter().any(|r| rfc_matches(w, r.rfc, &r.section)))
        {
            return false;
        }
        true
    }

    /// The selected transcripts, in corpus order.
    pub fn apply<'a>(&self, corpus: &'a Corpus) -> Vec<&'a Transcript> {
        corpus
            .transcripts
            .iter()
            .filter(|t| self.matches(t))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn t(id: &str, tags: &[&str], rfc: &str) -> Transcript {
        let tags = tags
            .iter()
            .map(|t| format!("{t:?}"))
            .collect::<Vec<_>>()
            .join(",");
        let s = format!(
            "id = {id:?}\ntitle = \"t\"\nrfc = {rfc:?}\nlevel = \"MUST\"\ntags = [{tags}]\nscript = '''\nS: 220 *\n'''\n"
        );
        crate::transcript::parse_str(&s, Path::new("smtp/x.toml"), Some("smtp")).unwrap()
    }

    #[test]
    fn rfc_sections_include_their_subsections() {
        assert!(rfc_matches("5321", 5321, "4.1.4"));
        assert!(rfc_matches("5321#4.1", 5321, "4.1.4"));
        assert!(rfc_matches("5321#4.1.4", 5321, "4.1.4"));
        assert!(rfc_matches("5321#4.1.4", 5321, "4.1.4-p3"));
        assert!(!rfc_matches("5321#4.1", 5321, "4.10"));
        assert!(!rfc_matches("5321#4.1.4", 5321, "4.1"));
        assert!(!rfc_matches("1939", 5321, "4.1"));
    }

    #[test]
    fn filters_skips_tags() {
        let a = t(
            "smtp.sequence.rcpt-before-mail",
            &["sequence"],
            "5321#4.1.4",
        );
        let b = t(
            "smtp.sequence.data-before-rcpt",
            &["sequence", "data"],
            "5321#4.1.1.4",
        );
        let c = t("smtp.greeting.code", &[], "5321#4.2");
        let corpus = Corpus::from_transcripts(vec![a, b, c]);
        let ids = |s: &Selection| {
            s.apply(&corpus)
                .iter()
                .map(|t| t.meta.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&Selection::all()).len(), 3);
        assert_eq!(
            ids(&Selection {
                filters: vec!["sequence".into()],
                ..Default::default()
            })
            .len(),
            2
        );
        assert_eq!(
            ids(&Selection {
                filters: vec!["sequence".into()],
                exact: true,
                ..Default::default()
            })
            .len(),
            0
        );
        assert_eq!(
            ids(&Selection {
                skip: vec!["data".into()],
                ..Default::default()
            })
            .len(),
            2
        );
        assert_eq!(
            ids(&Selection {
                tags: vec!["data".into()],
                ..Default::default()
            }),
            vec!["smtp.sequence.data-before-rcpt"]
        );
        assert_eq!(
            ids(&Selection {
                rfc: vec!["5321#4.1".into()],
                ..Default::default()
            })
            .len(),
            2
        );
        assert_eq!(
            ids(&Selection {
                protocol: Some("pop3".into()),
                ..Default::default()
            })
            .len(),
            0
        );
    }
}
