//! `wirecheck-dns`: run the DNS oracle by hand or as a transcript target.
//!
//! ```text
//! wirecheck-dns serve [--listen 127.0.0.1:5300] [--zone FILE]...   authoritative (default zone: example.test.)
//! wirecheck-dns recursive --root HOST:PORT [--listen 127.0.0.1:5300] recursive service from those root hints
//! wirecheck-dns resolve --root HOST:PORT NAME [TYPE]...              iterative lookups (one cache), printed like dig
//! wirecheck-dns hierarchy [--port P]                                 root, test., leaves and a resolver on 127.0.0.x
//! ```
//!
//! Every address is loopback unless `--allow-non-loopback` is given. Servers run until killed;
//! the first line on stdout says where they listen.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use wirecheck_dns::client::{RecursiveServer, Resolver, parse_questions, resolve_questions};
use wirecheck_dns::hierarchy::{Hierarchy, HierarchyConfig};
use wirecheck_dns::resolver::ResolverConfig;
use wirecheck_dns::server::{AuthServer, ServerConfig};
use wirecheck_dns::zone::{Zone, Zones, example_test_zone};

struct Args {
    command: String,
    listen: SocketAddr,
    zones: Vec<String>,
    roots: Vec<SocketAddr>,
    port: u16,
    allow_non_loopback: bool,
    rest: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let command = it
        .next()
        .ok_or("usage: wirecheck-dns serve|recursive|resolve|hierarchy [options]")?;
    let mut a = Args {
        command,
        listen: SocketAddr::from(([127, 0, 0, 1], 5300)),
        zones: Vec::new(),
        roots: Vec::new(),
        port: 0,
        allow_non_loopback: false,
        rest: Vec::new(),
    };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--listen" => {
                a.listen = value("--listen")?
                    .parse()
                    .map_err(|e| format!("--listen: {e}"))?
            }
            "--zone" => a.zones.push(value("--zone")?),
            "--root" => a.roots.push(
                value("--root")?
                    .parse()
                    .map_err(|e| format!("--root: {e}"))?,
            ),
            "--port" => {
                a.port = value("--port")?
                    .parse()
                    .map_err(|e| format!("--port: {e}"))?
            }
            "--allow-non-loopback" => a.allow_non_loopback = true,
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => a.rest.push(arg),
        }
    }
    let mut addrs = vec![a.listen];
    addrs.extend(&a.roots);
    if !a.allow_non_loopback && addrs.iter().any(|s| !s.ip().is_loopback()) {
        return Err("only loopback addresses (or --allow-non-loopback)".into());
    }
    Ok(a)
}

fn resolver_config(a: &Args) -> Result<ResolverConfig, String> {
    let first = a.roots.first().ok_or("--root HOST:PORT is required")?;
    let port = if a.port == 0 { first.port() } else { a.port };
    let mut cfg = ResolverConfig::new(a.roots.clone(), port);
    cfg.allow_non_loopback = a.allow_non_loopback;
    Ok(cfg)
}

async fn run(a: Args) -> Result<(), String> {
    match a.command.as_str() {
        "serve" => {
            let zones: Zones = if a.zones.is_empty() {
                [example_test_zone()].into_iter().collect()
            } else {
                let loaded: Result<Vec<Zone>, _> = a
                    .zones
                    .iter()
                    .map(|f| Zone::load(std::path::Path::new(f), None))
                    .collect();
                loaded.map_err(|e| e.to_string())?.into_iter().collect()
            };
            let s = AuthServer::start(Arc::new(zones), a.listen, ServerConfig { udp_threads: true, ..ServerConfig::default() })
                .await
                .map_err(|e| e.to_string())?;
            println!("authoritative on {} (udp+tcp)", s.local_addr());
            std::future::pending::<()>().await;
            Ok(())
        }
        "recursive" => {
            let resolver = Resolver::iterative(resolver_config(&a)?);
            let s = RecursiveServer::start(resolver, a.listen)
                .await
                .map_err(|e| e.to_string())?;
            println!("recursive on {} (udp+tcp)", s.local_addr());
            std::future::pending::<()>().await;
            Ok(())
        }
        "resolve" => {
            // NAME [TYPE] [NAME [TYPE]]...: one resolver, so later lookups can use the cache.
            let questions = parse_questions(&a.rest).map_err(|e| format!("resolve: {e}"))?;
            print!("{}", resolve_questions(resolver_config(&a)?, &questions).await?);
            Ok(())
        }
        "hierarchy" => {
            let h = Hierarchy::start(HierarchyConfig {
                port: a.port,
                ..HierarchyConfig::default()
            })
            .await
            .map_err(|e| e.to_string())?;
            println!(
                "hierarchy on port {}; resolver {:?}",
                h.port(),
                h.resolver_addr()
            );
            for (addr, zones) in h.servers() {
                let names: Vec<String> = zones.iter().map(ToString::to_string).collect();
                println!("  {addr}  {}", names.join(" "));
            }
            std::future::pending::<()>().await;
            Ok(())
        }
        other => Err(format!("unknown command {other}")),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("wirecheck-dns: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wirecheck-dns: {e}");
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wirecheck-dns: {e}");
            ExitCode::from(1)
        }
    }
}
