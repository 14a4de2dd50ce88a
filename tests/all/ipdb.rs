//! `--ip-db` (issue #25): offline IP enrichment from MMDB databases the tests write themselves
//! (tests/all/mmdb_writer.rs), on the hunt tenant (tests/fixtures/hunt/purview_tenant.csv):
//! the attacker's 203.0.113.0/24 abroad on a hosting ASN, the users' networks at home.

use crate::mmdb_writer::{V, ipv4_db};
use crate::util::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn tenant() -> PathBuf {
    fixture("hunt/purview_tenant.csv")
}

/// A GeoLite2-ASN-shaped and a GeoLite2-City-shaped database, written to `dir`.
fn maxmind_dbs(dir: &Path) -> (PathBuf, PathBuf) {
    let asn = |n: u32, org: &'static str| {
        V::Map(vec![
            ("autonomous_system_number", V::U32(n)),
            ("autonomous_system_organization", V::Str(org)),
        ])
    };
    let asn_db = ipv4_db(
        "GeoLite2-ASN",
        vec![
            ("198.51.100.0/24", asn(64500, "Contoso Telecom")),
            ("203.0.113.0/24", asn(64666, "Bulletproof Hosting")),
            ("40.90.10.0/24", asn(8075, "MICROSOFT-CORP-MSN-AS-BLOCK")),
            ("100.64.10.0/24", asn(64501, "Mobile Carrier")),
            ("192.0.2.0/24", asn(64502, "Home Broadband")),
            ("198.18.7.0/24", asn(64503, "Hotel Wifi")),
        ],
    );
    let place = |cc: &'static str, lat: f64, lon: f64| {
        V::Map(vec![
            ("country", V::Map(vec![("iso_code", V::Str(cc))])),
            (
                "location",
                V::Map(vec![("latitude", V::F64(lat)), ("longitude", V::F64(lon))]),
            ),
        ])
    };
    let country =
        |cc: &'static str| V::Map(vec![("country", V::Map(vec![("iso_code", V::Str(cc))]))]);
    let city_db = ipv4_db(
        "GeoLite2-City",
        vec![
            ("198.51.100.0/24", place("NL", 52.37, 4.89)),
            ("203.0.113.0/24", place("BR", -23.55, -46.63)),
            ("40.90.10.0/24", country("NL")),
            ("100.64.10.0/24", country("NL")),
            ("192.0.2.0/24", country("NL")),
            ("198.18.7.0/24", country("NL")),
        ],
    );
    let (a, c) = (
        dir.join("GeoLite2-ASN.mmdb"),
        dir.join("GeoLite2-City.mmdb"),
    );
    std::fs::write(&a, asn_db).unwrap();
    std::fs::write(&c, city_db).unwrap();
    (a, c)
}

fn run(args: &[&str]) -> std::process::Output {
    bin().args(args).arg("-q").output().unwrap()
}

fn stdout(out: &std::process::Output) -> String {
    assert_success(out);
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn suspect<'h>(h: &'h Value, kind: &str, value: &str) -> &'h Value {
    h["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == kind && s["value"] == value)
        .unwrap_or_else(|| panic!("no {kind} {value} suspect"))
}

fn codes(s: &Value) -> Vec<&str> {
    s["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect()
}

#[test]
fn ipdb_contexts_show_asn_org_and_country() {
    let dir = tempfile::tempdir().unwrap();
    let (asn, city) = maxmind_dbs(dir.path());
    let t = tenant();
    let (t, asn, city) = (
        t.to_str().unwrap(),
        asn.to_str().unwrap(),
        city.to_str().unwrap(),
    );
    let text = stdout(&run(&["contexts", t, "--ip-db", asn, "--ip-db", city]));
    let line = text
        .lines()
        .find(|l| l.contains("203.0.113.66"))
        .expect("a context of the attacker's IP");
    assert!(line.contains("[AS64666 Bulletproof Hosting, BR]"), "{line}");
    let json: Value = serde_json::from_str(&stdout(&run(&[
        "contexts", t, "--ip-db", asn, "--ip-db", city, "--format", "json",
    ])))
    .unwrap();
    let contexts: Vec<&Value> = json["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["contexts"].as_array().unwrap())
        .collect();
    let home = contexts
        .iter()
        .find(|c| c["client_ip"] == "198.51.100.10")
        .unwrap();
    assert_eq!(home["ip_info"]["asn"], 64500);
    assert_eq!(home["ip_info"]["as_org"], "Contoso Telecom");
    assert_eq!(home["ip_info"]["country"], "NL");
    let csv = stdout(&run(&[
        "contexts", t, "--ip-db", asn, "--ip-db", city, "--format", "csv",
    ]));
    assert!(csv.lines().next().unwrap().ends_with(",asn,as_org,country"));
    assert!(csv.contains(",AS64666,Bulletproof Hosting,BR"), "{csv}");
    // Without --ip-db: no new field, no new column.
    let plain = stdout(&run(&["contexts", t, "--format", "json"]));
    assert!(!plain.contains("ip_info"));
    let plain_csv = stdout(&run(&["contexts", t, "--format", "csv"]));
    assert!(plain_csv.lines().next().unwrap().ends_with(",folders"));
}

#[test]
fn ipdb_hunt_enriches_ip_and_network_suspects_and_flags_the_new_country() {
    let dir = tempfile::tempdir().unwrap();
    let (asn, city) = maxmind_dbs(dir.path());
    let t = tenant();
    let (t, asn, city) = (
        t.to_str().unwrap(),
        asn.to_str().unwrap(),
        city.to_str().unwrap(),
    );
    let h: Value = serde_json::from_str(&stdout(&run(&[
        "hunt", t, "--ip-db", asn, "--ip-db", city, "--format", "json",
    ])))
    .unwrap();
    for (kind, value) in [("network", "203.0.113.0/24"), ("ip", "203.0.113.66")] {
        let s = suspect(&h, kind, value);
        assert_eq!(s["ip_info"]["asn"], 64666, "{s}");
        assert_eq!(s["ip_info"]["as_org"], "Bulletproof Hosting");
        assert_eq!(s["ip_info"]["country"], "BR");
        let c = codes(s);
        assert!(c.contains(&"new-country-user"), "{c:?}");
        assert!(c.contains(&"new-asn-user"), "{c:?}");
        // alice at home (Amsterdam) at 14:10, the attacker in São Paulo at 22:10 as alice.
        assert!(c.contains(&"impossible-travel"), "{c:?}");
    }
    // The users' own networks are at home: no country or travel reason on any of them.
    for s in h["suspects"].as_array().unwrap() {
        if s["value"].as_str().unwrap().starts_with("203.0.113.") {
            continue;
        }
        let c = codes(s);
        assert!(
            !c.contains(&"new-country-user") && !c.contains(&"impossible-travel"),
            "{s}"
        );
    }
    // The attacker's network is still first.
    assert_eq!(h["suspects"][0]["value"], "203.0.113.0/24", "{h}");
    let text = stdout(&run(&["hunt", t, "--ip-db", asn, "--ip-db", city]));
    assert!(
        text.contains("ip-db: AS64666 Bulletproof Hosting, BR"),
        "{text}"
    );
    let csv = stdout(&run(&[
        "hunt", t, "--ip-db", asn, "--ip-db", city, "--format", "csv",
    ]));
    assert!(csv.lines().next().unwrap().ends_with(",asn,as_org,country"));
    assert!(csv.contains(",AS64666,Bulletproof Hosting,BR"), "{csv}");
}

#[test]
fn ipdb_ipinfo_lite_shape_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ipinfo_lite.mmdb");
    std::fs::write(
        &db,
        ipv4_db(
            "ipinfo lite",
            vec![(
                "203.0.113.0/24",
                V::Map(vec![
                    ("asn", V::Str("AS64666")),
                    ("as_name", V::Str("Bulletproof Hosting")),
                    ("as_domain", V::Str("example.net")),
                    ("country_code", V::Str("BR")),
                    ("country", V::Str("Brazil")),
                ]),
            )],
        ),
    )
    .unwrap();
    let t = tenant();
    let h: Value = serde_json::from_str(&stdout(&run(&[
        "hunt",
        t.to_str().unwrap(),
        "--ip-db",
        db.to_str().unwrap(),
        "--format",
        "json",
    ])))
    .unwrap();
    let s = suspect(&h, "network", "203.0.113.0/24");
    assert_eq!(s["ip_info"]["asn"], 64666);
    assert_eq!(s["ip_info"]["country"], "BR");
    assert!(codes(s).contains(&"new-country-user"));
}

#[test]
fn ipdb_a_file_that_is_no_mmdb_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-a-database.mmdb");
    std::fs::write(&bad, "this is not a MaxMind database\n").unwrap();
    let t = tenant();
    for cmd in ["hunt", "contexts"] {
        let out = run(&[cmd, t.to_str().unwrap(), "--ip-db", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("not-a-database.mmdb") && err.contains("not a MaxMind DB"),
            "{cmd}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn ipdb_hunt_is_unchanged_without_it() {
    let t = tenant();
    let t = t.to_str().unwrap();
    let json = stdout(&run(&["hunt", t, "--format", "json"]));
    assert!(!json.contains("ip_info"));
    for code in ["new-country-user", "new-asn-user", "impossible-travel"] {
        assert!(!json.contains(code));
    }
    let csv = stdout(&run(&["hunt", t, "--format", "csv"]));
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",mailboxes,record_ids")
    );
    let text = stdout(&run(&["hunt", t]));
    assert!(!text.contains("ip-db:"));
    // The library without databases is the library with none.
    let ing = read_one(Path::new(t));
    let v = ing.frame.records_view().unwrap();
    let a = serde_json::to_string(&mailscope::hunt::hunt_view(&v)).unwrap();
    let b = serde_json::to_string(&mailscope::hunt::hunt_view_with(&v, None)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn ipdb_timeline_rows_carry_asn_org_and_country() {
    let dir = tempfile::tempdir().unwrap();
    let (asn, city) = maxmind_dbs(dir.path());
    let t = tenant();
    let out = dir.path().join("timeline.csv");
    let plain = dir.path().join("plain.csv");
    let (t, asn, city) = (
        t.to_str().unwrap(),
        asn.to_str().unwrap(),
        city.to_str().unwrap(),
    );
    stdout(&run(&[
        "timeline",
        t,
        "--output",
        out.to_str().unwrap(),
        "--ip-db",
        asn,
        "--ip-db",
        city,
    ]));
    stdout(&run(&["timeline", t, "--output", plain.to_str().unwrap()]));
    let csv = std::fs::read_to_string(&out).unwrap();
    let plain = std::fs::read_to_string(&plain).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",asn,as_org,country"));
    assert!(plain.lines().next().unwrap().ends_with(",source_line"));
    assert_eq!(csv.lines().count(), plain.lines().count());
    let attacker = csv
        .lines()
        .find(|l| l.contains(",203.0.113.77,"))
        .expect("an attacker row");
    assert!(
        attacker.ends_with(",AS64666,Bulletproof Hosting,BR"),
        "{attacker}"
    );
    // Each row is the plain row with the three cells added.
    for (a, b) in csv.lines().zip(plain.lines()).skip(1) {
        assert!(a.starts_with(b), "{a}\n{b}");
    }
}

#[test]
fn ipdb_scope_contexts_carry_asn_org_and_country() {
    let dir = tempfile::tempdir().unwrap();
    let (asn, city) = maxmind_dbs(dir.path());
    let t = tenant();
    let (asn, city) = (asn.to_str().unwrap(), city.to_str().unwrap());
    let report = scope_report(std::slice::from_ref(&t), &["--ip-db", asn, "--ip-db", city]);
    let alice = mailbox(&report, "alice@contoso.com");
    let attacker = alice["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["client_ip"] == "203.0.113.66")
        .expect("the attacker's context");
    assert_eq!(attacker["ip_info"]["asn"], 64666);
    assert_eq!(attacker["ip_info"]["country"], "BR");
    let plain = scope_report(std::slice::from_ref(&t), &[]);
    assert!(!plain.to_string().contains("ip_info"));
    let html = dir.path().join("scope.html");
    stdout(&run(&[
        "scope",
        t.to_str().unwrap(),
        "--attacker-ip",
        "203.0.113.66",
        "--format",
        "html",
        "--output",
        html.to_str().unwrap(),
        "--ip-db",
        asn,
        "--ip-db",
        city,
    ]));
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.contains("203.0.113.66 (AS64666 Bulletproof Hosting, BR)"));
}
