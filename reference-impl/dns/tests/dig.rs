//! The oracle queried by a real client, `dig` (bind9-dnsutils), when it is installed: UDP, TCP,
//! AXFR. Without dig the test says so and passes.
#![cfg(feature = "server")]

mod common;

#[tokio::test]
async fn dig_queries_the_oracle() {
    if !common::available("dig", "-v") {
        eprintln!(
            "dig is not installed (apt-get install bind9-dnsutils): skipping the dig integration test"
        );
        return;
    }
    let server = common::oracle().await;
    let port = server.local_addr().port().to_string();
    let at: Vec<String> = ["@127.0.0.1", "-p", &port, "+time=2", "+tries=1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let dig = |args: &'static [&'static str]| common::run("dig", at.clone(), args);
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
