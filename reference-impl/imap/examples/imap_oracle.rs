//! Run the IMAP oracle by hand, seeded with the peers' fixture (user alice/secret, two
//! messages in INBOX, as `shared/peers/_lib.sh` write_msg makes them):
//!
//! ```text
//! cargo run -p wirecheck-imap --example imap_oracle -- 1143 [STORE_DIR] [IMAPS_PORT]
//! ```
//!
//! Plain IMAP with STARTTLS on the first port (self-signed certificate), implicit TLS on the
//! optional second one. Without STORE_DIR a temporary store is used.

use std::sync::Arc;

use wirecheck_imap::server::{ServeConfig, serve};
use wirecheck_imap::session::ServerConfig;
use wirecheck_store::{Store, fixture};
use wirecheck_wire::driver::TlsSide;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().as_deref().unwrap_or("1143").parse()?;
    let tmp;
    let dir = match args.next() {
        Some(d) if d != "-" => std::path::PathBuf::from(d),
        _ => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let imaps: Option<u16> = args.next().map(|p| p.parse()).transpose()?;
    let store = Store::open(&dir, fixture::peer_users()?)?;
    fixture::seed(&store)?;
    let tls = TlsSide::Server(wirecheck_wire::tls::self_signed_server_config()?);
    let session = Arc::new(ServerConfig { starttls: true, ..Default::default() });
    let cfg = ServeConfig { session, tls: Some(tls), ..Default::default() };
    if let Some(p) = imaps {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", p)).await?;
        tokio::spawn(serve(l, store.clone(), ServeConfig { implicit_tls: true, ..cfg.clone() }));
    }
    let l = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("imap oracle on 127.0.0.1:{port}, store {}", dir.display());
    serve(l, store, cfg).await?;
    Ok(())
}
