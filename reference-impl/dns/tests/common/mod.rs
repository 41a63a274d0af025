//! Shared by the real-client tests (dig, kdig): the oracle on an ephemeral loopback port and a
//! way to run a client against it. (Each test crate uses part of it.)
#![allow(dead_code)]

use std::process::Command;
use std::sync::Arc;

use wirecheck_dns::server::{AuthServer, ServerConfig};
use wirecheck_dns::zone::{Zones, example_test_zone};

/// Whether `program ARG` runs and exits 0 (the client is installed).
pub fn available(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The authoritative oracle for example.test. on 127.0.0.1, UDP and TCP, an ephemeral port.
pub async fn oracle() -> AuthServer {
    let zones: Zones = [example_test_zone()].into_iter().collect();
    AuthServer::start(
        Arc::new(zones),
        "127.0.0.1:0".parse().unwrap(),
        ServerConfig::default(),
    )
    .await
    .unwrap()
}

/// Runs `program` with `fixed` then `args` (off the runtime's threads); its stdout and stderr.
pub async fn run(program: &'static str, fixed: Vec<String>, args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = Command::new(program)
            .args(&fixed)
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
    .await
    .unwrap()
}
