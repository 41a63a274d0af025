//! The FTP oracle as a process, for `wirecheck run ftp --target-cmd` and by hand:
//!
//! ```text
//! cargo run -p wirecheck-ftp --example ftp-oracle -- --port 2121 [--root DIR] [--no-tls]
//! ```
//!
//! Serves the real peers' fixture tree (a fresh temporary copy unless `--root` names a
//! directory, which is then served as it is) on 127.0.0.1, user alice/secret, anonymous
//! read-only, `upload/` writable, AUTH TLS with a self-signed certificate.

use std::time::Duration;

use tokio::net::TcpListener;
use wirecheck_ftp::fixtures::create_peer_tree;
use wirecheck_ftp::server::{ServeConfig, serve};
use wirecheck_wire::driver::TlsSide;

fn usage() -> ! {
    eprintln!("usage: ftp-oracle --port PORT [--host 127.0.0.1] [--root DIR] [--no-tls]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut port: Option<u16> = None;
    let mut host = "127.0.0.1".to_owned();
    let mut root = None;
    let mut tls = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()),
            "--host" => host = args.next().unwrap_or_else(|| usage()),
            "--root" => root = Some(args.next().unwrap_or_else(|| usage())),
            "--no-tls" => tls = false,
            _ => usage(),
        }
    }
    let Some(port) = port else { usage() };
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let root = match root {
        Some(r) => std::path::PathBuf::from(r),
        None => {
            create_peer_tree(tmp.path()).unwrap_or_else(|e| panic!("fixture tree: {e}"));
            tmp.path().to_path_buf()
        }
    };
    let mut cfg = ServeConfig::new(&root);
    if tls {
        let side = wirecheck_wire::tls::self_signed_server_config().unwrap_or_else(|e| panic!("TLS: {e}"));
        cfg.tls = Some(TlsSide::Server(side));
    }
    cfg.data_timeout = Duration::from_secs(10);
    let listener = TcpListener::bind((host.as_str(), port))
        .await
        .unwrap_or_else(|e| panic!("bind {host}:{port}: {e}"));
    let handle = serve(listener, cfg).unwrap_or_else(|e| panic!("serve: {e}"));
    eprintln!("ftp-oracle: serving {} on {}", root.display(), handle.local_addr());
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
}
