//! The oracle queried by a real client, `dig` (bind9-dnsutils), when it is installed: UDP, TCP,
//! AXFR. Without dig the test says so and passes.
#![cfg(feature = "server")]

use std::process::Command;
use std::sync::Arc;

use wirecheck_dns::server::{AuthServer, ServerConfig};
use wirecheck_dns::zone::{Zones, example_test_zone};

fn dig_available() -> bool {
    Command::new("dig")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn dig_queries_the_oracle() {
    if !dig_available() {
        eprintln!(
            "dig is not installed (apt-get install bind9-dnsutils): skipping the dig integration test"
        );
        return;
    }
    let zones: Zones = [example_test_zone()].into_iter().collect();
    let server = AuthServer::start(
        Arc::new(zones),
        "127.0.0.1:0".parse().unwrap(),
        ServerConfig::default(),
    )
    .await
    .unwrap();
    let port = server.local_addr().port().to_string();
    let dig = |args: &[&str]| {
        let port = port.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        async move {
            tokio::task::spawn_blocking(move || {
                let out = Command::new("dig")
                    .args(["@127.0.0.1", "-p", &port, "+time=2", "+tries=1"])
                    .args(&args)
                    .output()
                    .expect("run dig");
                String::from_utf8_lossy(&out.stdout).into_owned()
            })
            .await
            .unwrap()
        }
    };
    let mx = dig(&["example.test", "MX", "+norecurse"]).await;
    assert!(
        mx.contains("status: NOERROR") && mx.contains("flags: qr aa"),
        "{mx}"
    );
    assert!(
        mx.contains("10 mail.example.test.") && mx.contains("20 mail2.example.test."),
        "{mx}"
    );
    let tcp = dig(&["+tcp", "ftp.example.test", "A"]).await;
    assert!(tcp.contains("127.0.0.10") && tcp.contains("CNAME"), "{tcp}");
    let nx = dig(&["nope.example.test", "A"]).await;
    assert!(
        nx.contains("status: NXDOMAIN") && nx.contains("SOA"),
        "{nx}"
    );
    let axfr = dig(&["example.test", "AXFR"]).await;
    assert_eq!(axfr.matches("\tSOA\t").count(), 2, "{axfr}");
    let badvers = dig(&["+edns=1", "+noednsnegotiation", "example.test", "A"]).await;
    assert!(badvers.contains("status: BADVERS"), "{badvers}");
}
