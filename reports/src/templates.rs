//! The page templates: embedded in the binary (so `wirecheck` works from any directory),
//! each one overridable from a directory at run time (`--templates DIR`).
//!
//! Templates are minijinja with HTML auto-escaping: every value a template prints is
//! escaped unless the code marked it safe, and the only values marked safe are the page's
//! own style sheet and script.

use crate::error::RenderError;
use minijinja::{Environment, UndefinedBehavior, syntax::SyntaxConfig};
use std::path::{Path, PathBuf};

/// Options for the HTML renderers.
#[derive(Debug, Clone, Default)]
pub struct HtmlOptions {
    /// A directory whose files replace the embedded templates of the same name
    /// (`base.html`, `macros.html`, `target.html`, `index.html`, `coverage.html`, `style.css`,
    /// `script.js`); files it lacks fall back to the embedded ones.
    pub templates_dir: Option<PathBuf>,
}

/// The embedded templates, by name.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("target.html", include_str!("../templates/target.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("coverage.html", include_str!("../templates/coverage.html")),
    ("style.css", include_str!("../templates/style.css")),
    ("script.js", include_str!("../templates/script.js")),
];

/// A template's source: from `templates_dir` when it has the file, else embedded.
fn source(opts: &HtmlOptions, name: &str, embedded: &str) -> Result<String, RenderError> {
    if let Some(dir) = &opts.templates_dir {
        let path = dir.join(name);
        if path.is_file() {
            return std::fs::read_to_string(&path).map_err(RenderError::io(path));
        }
    }
    Ok(embedded.to_string())
}

/// The environment with every template loaded; `style.css` and `script.js` become the
/// globals `css` and `js` (inlined raw: pages have no external assets).
pub(crate) fn environment(opts: &HtmlOptions) -> Result<Environment<'static>, RenderError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    let (mut style_hash, mut script_hash) = (String::new(), String::new());
    for (name, embedded) in EMBEDDED {
        let src = source(opts, name, embedded)?;
        match *name {
            "style.css" => {
                style_hash = csp_hash(&src);
                env.add_global("css", minijinja::Value::from_safe_string(src));
            }
            "script.js" => {
                script_hash = csp_hash(&src);
                env.add_global("js", minijinja::Value::from_safe_string(src));
            }
            _ => env.add_template_owned(*name, src)?,
        }
    }
    env.add_global("csp", content_security_policy(&style_hash, &script_hash));
    Ok(env)
}

/// The page's Content-Security-Policy: nothing may load, and only the page's own style
/// sheet and script (by hash) may run. Escaping already keeps a target's bytes from
/// becoming markup; this is the second wall should a template ever print one unescaped:
/// an injected `<script>` or `onerror=` handler does not run.
fn content_security_policy(style_hash: &str, script_hash: &str) -> String {
    format!(
        "default-src 'none'; style-src '{style_hash}'; script-src '{script_hash}'; \
         img-src data:; base-uri 'none'; form-action 'none'"
    )
}

/// `sha256-<base64>` of `src`, a CSP hash source.
fn csp_hash(src: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(src.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Write `contents` to `path`, creating its directory.
pub(crate) fn write_file(path: &Path, contents: &str) -> Result<(), RenderError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(RenderError::io(dir))?;
    }
    std::fs::write(path, contents).map_err(RenderError::io(path))
}
