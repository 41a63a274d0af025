//! The oracle queried by Knot's clients (knot-dnsutils, installed by scripts/deps.sh) when they
//! are installed: `kdig` over UDP and TCP, an AXFR, EDNS version 1, and a `knsupdate` UPDATE
//! (NOTIMP: we implement no RFC 2136). Without kdig the test says so and passes.
#![cfg(feature = "server")]

mod common;

#[tokio::test]
async fn kdig_queries_the_oracle() {
    if !common::available("kdig", "-V") {
        eprintln!(
            "kdig is not installed (apt-get install knot-dnsutils): skipping the kdig integration test"
        );
        return;
    }
    let server = common::oracle().await;
    let port = server.local_addr().port().to_string();
    let at = vec![
        "@127.0.0.1".to_string(),
        "-p".to_string(),
        port.clone(),
        "+timeout=2".to_string(),
        "+retry=0".to_string(),
    ];
    let kdig = |args: &'static [&'static str]| common::run("kdig", at.clone(), args);

    let mx = kdig(&["example.test", "MX", "+norecurse"]).await;
    assert!(
        mx.contains("status: NOERROR") && mx.contains("Flags: qr aa;"),
        "{mx}"
    );
    assert!(mx.contains("(UDP)"), "{mx}");
    assert!(
        mx.contains("MX\t10 mail.example.test.") && mx.contains("MX\t20 mail2.example.test."),
        "{mx}"
    );

    // RFC 7766: over TCP, the CNAME chain ftp -> www -> apex inside the zone.
    let tcp = kdig(&["+tcp", "ftp.example.test", "A"]).await;
    assert!(
        tcp.contains("(TCP)") && tcp.contains("A\t127.0.0.10"),
        "{tcp}"
    );
    assert_eq!(tcp.matches("\tCNAME\t").count(), 2, "{tcp}");

    // RFC 2308 §3: NXDOMAIN with the SOA in the authority section.
    let nx = kdig(&["nope.example.test", "A"]).await;
    assert!(
        nx.contains("status: NXDOMAIN") && nx.contains("\tSOA\t"),
        "{nx}"
    );

    // RFC 5936 §2.2: the transfer starts and ends with the SOA.
    let axfr = kdig(&["example.test", "AXFR"]).await;
    assert_eq!(axfr.matches("\tSOA\t").count(), 2, "{axfr}");
    assert!(
        axfr.contains("(TCP)") && axfr.contains("\"hello world\" \"second string\""),
        "{axfr}"
    );

    // RFC 6891 §6.1.3: EDNS version 1 gets BADVERS with our version 0.
    let badvers = kdig(&["+edns=1", "example.test", "A"]).await;
    assert!(
        badvers.contains("status: BADVERS") && badvers.contains("Version: 0;"),
        "{badvers}"
    );

    // RFC 2136 §3 / RFC 1035 §4.1.1: an UPDATE deleting an RRset (CLASS ANY, RDLENGTH 0) is
    // "not implemented" (fuzz finding F1 once made it a FORMERR).
    if common::available("knsupdate", "-V") {
        let script = format!(
            "server 127.0.0.1 {port}\nzone example.test.\nupdate delete www.example.test. A\nsend\nquit\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("update.txt");
        std::fs::write(&file, script).unwrap();
        let path = file.to_string_lossy().into_owned();
        let upd = common::run(
            "knsupdate",
            vec!["-t".into(), "2".into(), "-r".into(), "0".into(), path],
            &[],
        )
        .await;
        assert!(upd.contains("NOTIMP"), "{upd}");
    }
}
