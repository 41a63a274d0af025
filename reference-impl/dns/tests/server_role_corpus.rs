//! Runs the server-role transcripts of `transcripts/dns/resolver/` against this crate's
//! resolver, until the harness runs DNS server-role cases itself.
//!
//! A small interpreter for exactly the steps those transcripts use: `C: ~ REGEX` (the next
//! query, matched on its presentation form, named groups captured), `S: LINE` (a response in
//! the one-line form, `${var}` substituted, sent to the source of the last query), `check A !=
//! B`, and `expect silence DUR`. The client under test is the transcript's `target-cmd`
//! (`wirecheck-dns resolve --root {host}:{port} NAME [TYPE]...`), run in-process.
#![cfg(feature = "server")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::UdpSocket;
use wirecheck_dns::client::Resolver;
use wirecheck_dns::resolver::ResolverConfig;
use wirecheck_dns::{Name, RecordType, codec, presentation};

const STEP: Duration = Duration::from_secs(5);

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../transcripts/dns/resolver")
}

fn substitute(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("${{{k}}}"), v);
    }
    out
}

async fn run_case(path: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let doc: toml::Table = text.parse().map_err(|e| format!("toml: {e}"))?;
    let script = doc
        .get("script")
        .and_then(|v| v.as_str())
        .ok_or("no script")?;
    let cmd = doc
        .get("target-cmd")
        .and_then(|v| v.as_str())
        .ok_or("no target-cmd")?;
    let listener = UdpSocket::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The client under test: `... resolve --root {host}:{port} NAME [TYPE]...`.
    let args: Vec<&str> = cmd
        .split_whitespace()
        .skip_while(|w| *w != "{host}:{port}")
        .skip(1)
        .collect();
    let mut questions = Vec::new();
    let mut it = args.iter().peekable();
    while let Some(w) = it.next() {
        let t = it.peek().and_then(|t| RecordType::parse(t));
        if t.is_some() {
            it.next();
        }
        questions.push((
            Name::parse(w).map_err(|e| e.to_string())?,
            t.unwrap_or(RecordType::A),
        ));
    }
    let resolver = Resolver::iterative(ResolverConfig::new(vec![addr], addr.port()));
    let client = tokio::spawn(async move {
        for (name, qtype) in questions {
            let _ = resolver.resolve(&name, qtype).await;
        }
    });
    let mut vars: HashMap<String, String> = [
        ("host".to_string(), "127.0.0.1".to_string()),
        ("port".to_string(), addr.port().to_string()),
    ]
    .into();
    let mut last_peer: Option<SocketAddr> = None;
    let mut buf = vec![0u8; 65535];
    let result = async {
        for (i, raw) in script.lines().enumerate() {
            let line = raw.trim();
            let at = |m: String| format!("{}:{}: {m}", path.display(), i + 1);
            if let Some(re) = line.strip_prefix("C: ~ ") {
                let (n, peer) = tokio::time::timeout(STEP, listener.recv_from(&mut buf))
                    .await
                    .map_err(|_| at("no query".into()))?
                    .map_err(|e| at(e.to_string()))?;
                last_peer = Some(peer);
                let msg = codec::decode(&buf[..n]).map_err(|e| at(e.to_string()))?;
                let rendered = presentation::render(&msg);
                let re = regex::Regex::new(re).map_err(|e| at(e.to_string()))?;
                let caps = re
                    .captures(&rendered)
                    .ok_or_else(|| at(format!("no match in\n{rendered}")))?;
                for name in re.capture_names().flatten() {
                    if let Some(m) = caps.name(name) {
                        vars.insert(name.to_string(), m.as_str().to_string());
                    }
                }
            } else if let Some(send) = line.strip_prefix("S: ") {
                let msg = presentation::parse_query(&substitute(send, &vars))
                    .map_err(|e| at(e.to_string()))?;
                let peer = last_peer.ok_or_else(|| at("no client yet".into()))?;
                listener
                    .send_to(&codec::encode(&msg), peer)
                    .await
                    .map_err(|e| at(e.to_string()))?;
            } else if let Some(cmp) = line.strip_prefix("check ") {
                let (a, b) = cmp
                    .split_once(" != ")
                    .ok_or_else(|| at("only `check A != B`".into()))?;
                let value = |s: &str| {
                    let s = s.trim();
                    s.strip_prefix('"')
                        .and_then(|s| s.strip_suffix('"'))
                        .map(str::to_string)
                        .or_else(|| vars.get(s).cloned())
                };
                if value(a) == value(b) {
                    return Err(at(format!("check failed: {cmp}")));
                }
            } else if let Some(dur) = line.strip_prefix("expect silence ") {
                let d = if let Some(ms) = dur.strip_suffix("ms") {
                    Duration::from_millis(ms.parse().map_err(|_| at("bad duration".into()))?)
                } else {
                    Duration::from_secs(
                        dur.trim_end_matches('s')
                            .parse()
                            .map_err(|_| at("bad duration".into()))?,
                    )
                };
                if let Ok(Ok((n, _))) = tokio::time::timeout(d, listener.recv_from(&mut buf)).await
                {
                    let m = codec::decode(&buf[..n])
                        .map(|m| presentation::render(&m))
                        .unwrap_or_default();
                    return Err(at(format!("expected silence, got\n{m}")));
                }
            } else if !line.is_empty() {
                return Err(at(format!("step not understood here: {line}")));
            }
        }
        Ok(())
    }
    .await;
    client.abort();
    result
}

#[tokio::test]
async fn server_role_transcripts_pass_against_the_resolver() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("transcripts/dns/resolver")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "only {} server-role transcripts",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        if let Err(e) = run_case(f).await {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
