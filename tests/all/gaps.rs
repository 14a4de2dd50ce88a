//! Scope says when its indicators look incomplete (#25): records left `other` that share a
//! session, an app, a scripting client or a new network with the attacker's are named, with a
//! caveat, in every format.

use crate::util::{assert_success, bin, fixture, scope_report};
use serde_json::Value;

fn tenant() -> std::path::PathBuf {
    fixture("hunt/purview_tenant.csv")
}

fn gaps(r: &Value) -> Vec<(String, String)> {
    r["indicator_gaps"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|g| {
                    (
                        g["signal"].as_str().unwrap().to_string(),
                        g["value"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_scope_on_one_of_the_attackers_addresses_names_the_other() {
    // The attacker replays alice's session from 203.0.113.66 and .77; the analyst named one.
    let r = scope_report(&[tenant()], &["--no-session-link"]);
    let found = gaps(&r);
    for (signal, value) in [
        ("new-network", "203.0.113.0/24"),
        ("same-session", "sess-alice-11"),
    ] {
        assert!(
            found.iter().any(|(s, v)| s == signal && v == value),
            "{signal} {value}: {found:?}"
        );
    }
    assert!(
        found
            .iter()
            .any(|(s, v)| s == "same-scripting-client" && v.contains("python-requests"))
    );
    let other_ip = r["indicator_gaps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["client_ips"].to_string().contains("203.0.113.77"));
    assert!(other_ip, "{}", r["indicator_gaps"]);
    assert!(
        r["caveats"]
            .to_string()
            .contains("indicators may be incomplete")
    );
    // The report lists the contexts the gaps fall in, with their signals, and counts the rest.
    let bob = r["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mailbox"] == "bob@contoso.com")
        .unwrap();
    let listed: Vec<(&str, &str, String)> = bob["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["client_ip"].as_str().unwrap(),
                c["attribution"].as_str().unwrap(),
                c["indicator_gaps"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            ("203.0.113.66", "attacker", "null".to_string()),
            (
                "203.0.113.77",
                "other",
                r#"["new-network","same-scripting-client","same-session"]"#.to_string()
            ),
        ]
    );
    assert_eq!(bob["contexts_left_out"]["contexts"], 16);
    // Given both addresses, the attacker's own network is no gap any more.
    let r = scope_report(
        &[tenant()],
        &["--no-session-link", "--attacker-ip", "203.0.113.77"],
    );
    let found = gaps(&r);
    assert!(
        !found
            .iter()
            .any(|(s, _)| s == "new-network" || s == "same-scripting-client"),
        "{found:?}"
    );
}

#[test]
fn session_linking_closes_the_gap_it_can_and_the_sample_has_none() {
    let r = scope_report(&[tenant()], &[]);
    assert!(
        !gaps(&r).iter().any(|(s, _)| s == "same-session"),
        "{:?}",
        gaps(&r)
    );
    let samples = scope_report(&[crate::util::sample("")], &[]);
    assert!(gaps(&samples).is_empty(), "{:?}", gaps(&samples));
}

#[test]
fn the_gaps_are_a_section_of_the_text_report() {
    let out = bin()
        .args([
            "scope",
            "-q",
            "--attacker-ip",
            "203.0.113.66",
            "--no-session-link",
        ])
        .arg(tenant())
        .output()
        .unwrap();
    assert_success(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Indicator gaps"), "{text}");
    assert!(text.contains("203.0.113.0/24"));
}
