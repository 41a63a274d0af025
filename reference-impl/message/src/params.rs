//! MIME parameters (RFC 2045 §5.1 `parameter`) and their RFC 2231 extensions: continuations
//! (`name*0`, `name*1`), charset and language (`name*=utf-8'en'%E2%82%AC`).

use std::fmt;

use crate::charset::Charset;
use crate::mime::{MAX_PARAMETERS, MimeError, is_token_char, read_token};
use crate::syntax::{self, Cursor};

/// One parameter, after RFC 2231 sections are joined and decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// Lower case, without RFC 2231 `*n` / `*` suffixes.
    pub name: String,
    /// The value: unquoted, and for RFC 2231 values percent-decoded and charset-decoded.
    pub value: String,
    /// RFC 2231 charset, if the value was extended.
    pub charset: Option<String>,
    /// RFC 2231 language, if given.
    pub language: Option<String>,
}

/// A parameter as written, before RFC 2231 processing (name lower-cased, value unquoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawParameter {
    pub name: String,
    pub value: String,
}

/// The parameters of a field, and the first problem met reading them (the ones before it
/// are kept).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parameters {
    pub params: Vec<Parameter>,
    pub raw: Vec<RawParameter>,
    pub errors: Vec<MimeError>,
}

impl Parameters {
    /// The value of a parameter (name case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_str())
    }
}

pub(crate) fn write_params(f: &mut fmt::Formatter<'_>, params: &Parameters) -> fmt::Result {
    for p in &params.params {
        if !p.value.is_empty() && p.value.chars().all(is_token_char) {
            write!(f, "; {}={}", p.name, p.value)?;
        } else {
            write!(f, "; {}={}", p.name, syntax::quote(&p.value))?;
        }
    }
    Ok(())
}

/// `*(";" parameter)` up to the end of the field.
pub(crate) fn parse_parameters(c: &mut Cursor<'_>) -> Parameters {
    let mut out = Parameters::default();
    if let Err(e) = read_raw_parameters(c, &mut out.raw) {
        out.errors.push(e);
    }
    combine_rfc2231(&mut out);
    out
}

fn read_raw_parameters(c: &mut Cursor<'_>, raw: &mut Vec<RawParameter>) -> Result<(), MimeError> {
    loop {
        c.skip_cfws()?;
        if c.is_at_end() {
            return Ok(());
        }
        if !c.eat(';') {
            return Err(MimeError::Expected("';' before a parameter"));
        }
        c.skip_cfws()?;
        // A trailing ';' (common, harmless) ends the list.
        if c.is_at_end() {
            return Ok(());
        }
        if raw.len() == MAX_PARAMETERS {
            return Err(MimeError::TooManyParameters);
        }
        let name = read_token(c, "a parameter name")?;
        c.skip_cfws()?;
        if !c.eat('=') {
            return Err(MimeError::Expected("'=' after a parameter name"));
        }
        c.skip_cfws()?;
        let value = if c.peek() == Some('"') {
            c.quoted_string()?
        } else {
            let token = c.take_while(is_token_char);
            if token.is_empty() {
                return Err(MimeError::Expected(
                    "a token or quoted string as parameter value",
                ));
            }
            token.to_string()
        };
        raw.push(RawParameter { name, value });
    }
}

/// RFC 2231 §3 and §4: join `name*0`, `name*1*`... sections in order, decode `name*` values
/// (`charset'language'percent-encoded`). A plain parameter and an extended one of the same
/// name: the extended one wins. Sections beyond 999 are ignored (bounded work).
fn combine_rfc2231(out: &mut Parameters) {
    struct Section<'a> {
        index: u32,
        extended: bool,
        value: &'a str,
    }
    let mut groups: Vec<(String, Vec<Section<'_>>)> = Vec::new();
    let mut plain: Vec<Parameter> = Vec::new();
    for raw in &out.raw {
        let (base, index, extended) = split_section(&raw.name);
        match index {
            None if !extended => {
                if plain.iter().any(|p| p.name == base) {
                    out.errors
                        .push(MimeError::DuplicateParameter(base.to_string()));
                } else {
                    plain.push(Parameter {
                        name: base.to_string(),
                        value: raw.value.clone(),
                        charset: None,
                        language: None,
                    });
                }
            }
            _ => {
                let section = Section {
                    index: index.unwrap_or(0),
                    extended,
                    value: &raw.value,
                };
                match groups.iter_mut().find(|(name, _)| name == base) {
                    Some((_, sections)) => sections.push(section),
                    None => groups.push((base.to_string(), vec![section])),
                }
            }
        }
    }
    for (name, mut sections) in groups {
        sections.retain(|s| s.index < 1000);
        sections.sort_by_key(|s| s.index);
        if sections
            .iter()
            .enumerate()
            .any(|(i, s)| s.index as usize != i)
        {
            out.errors.push(MimeError::BadContinuation(name.clone()));
            // Keep the contiguous run from 0.
            let run = sections
                .iter()
                .enumerate()
                .take_while(|(i, s)| s.index as usize == *i)
                .count();
            sections.truncate(run);
        }
        if sections.is_empty() {
            continue;
        }
        let (mut charset, mut language) = (None, None);
        let mut bytes = Vec::new();
        for (i, s) in sections.iter().enumerate() {
            let mut text = s.value;
            if s.extended && i == 0 {
                let mut parts = text.splitn(3, '\'');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some(cs), Some(lang), Some(rest)) => {
                        charset = Some(cs.to_string()).filter(|c| !c.is_empty());
                        language = Some(lang.to_string()).filter(|l| !l.is_empty());
                        text = rest;
                    }
                    _ => out.errors.push(MimeError::BadExtendedValue(name.clone())),
                }
            }
            if s.extended {
                percent_decode(text, &mut bytes);
            } else {
                bytes.extend_from_slice(text.as_bytes());
            }
        }
        let value = match charset.as_deref().and_then(Charset::from_name) {
            Some(cs) => cs.decode(&bytes).text,
            None => String::from_utf8_lossy(&bytes).into_owned(),
        };
        plain.retain(|p| p.name != name);
        plain.push(Parameter {
            name,
            value,
            charset,
            language,
        });
    }
    out.params = plain;
}

/// `name*2*` -> (`name`, Some(2), true); `name*` -> (`name`, None, true).
fn split_section(name: &str) -> (&str, Option<u32>, bool) {
    let (rest, extended) = match name.strip_suffix('*') {
        Some(r) => (r, true),
        None => (name, false),
    };
    if let Some((base, digits)) = rest.rsplit_once('*')
        && !digits.is_empty()
        && digits.len() <= 4
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return (base, digits.parse().ok(), extended);
    }
    (rest, None, extended)
}

/// `%XX` to bytes; a `%` not followed by two hex digits stays as it is.
fn percent_decode(text: &str, out: &mut Vec<u8>) {
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(&byte) = b.get(i) {
        if byte == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(byte);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use crate::mime::{ContentType, MimeError, parse_content_disposition, parse_content_type};

    #[test]
    fn rfc2231_continuations_and_charsets() {
        // RFC 2231 §3 example.
        let ct = parse_content_type(
            "message/external-body; access-type=URL;\r\n URL*0=\"ftp://\";\r\n URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
        );
        let ct = ct.unwrap_or_else(|_| ContentType::default_text());
        assert_eq!(
            ct.param("url"),
            Some("ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar")
        );
        assert_eq!(ct.param("access-type"), Some("URL"));
        // RFC 2231 §4 example.
        let ct = parse_content_type(
            "application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A",
        );
        let ct = ct.unwrap_or_else(|_| ContentType::default_text());
        let title = ct.params.params.iter().find(|p| p.name == "title").cloned();
        assert_eq!(
            title.as_ref().map(|p| p.value.as_str()),
            Some("This is ***fun***")
        );
        assert_eq!(title.and_then(|p| p.language), Some("en-us".to_string()));
        // RFC 2231 §4.1 example: mixed extended and plain sections.
        let ct = parse_content_type(
            "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
        );
        assert_eq!(
            ct.ok()
                .and_then(|c| c.param("title").map(str::to_string))
                .as_deref(),
            Some("This is even more ***fun*** isn't it!")
        );
        let cd = parse_content_disposition(
            "attachment; filename*=UTF-8''%D0%96%C3%A9.txt; filename=\"fallback.txt\"",
        );
        assert_eq!(cd.as_ref().ok().and_then(|d| d.filename()), Some("Жé.txt"));
        let cd = parse_content_disposition("attachment; filename*=windows-1251''%C0.txt");
        assert_eq!(
            cd.ok()
                .and_then(|d| d.filename().map(str::to_string))
                .as_deref(),
            Some("А.txt")
        );
        let ct =
            parse_content_type("a/b; x*0=a; x*2=c").unwrap_or_else(|_| ContentType::default_text());
        assert_eq!(ct.param("x"), Some("a"));
        assert_eq!(
            ct.params.errors,
            vec![MimeError::BadContinuation("x".into())]
        );
        let ct =
            parse_content_type("a/b; x=1; X=2").unwrap_or_else(|_| ContentType::default_text());
        assert_eq!(
            ct.params.errors,
            vec![MimeError::DuplicateParameter("x".into())]
        );
    }
}
