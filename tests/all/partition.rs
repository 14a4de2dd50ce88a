//! A run shared out by mailbox gives the scope of the whole run. Each share holds whole
//! mailboxes plus the records every share must hold (`scope::shared_with_every_part`), is
//! attributed on its own and scopes its own mailboxes (`scope::part`); the parts merge
//! (`scope::finish`). This is the decomposition a distributed run (Spark) relies on, checked
//! here on the samples, the fixtures and a generated incident, for several numbers of shares:
//! the JSON report must be the one-machine report byte for byte.

use crate::synth;
use crate::util::{fixture, read, root, sample};
use mailscope::frame::Frame;
use mailscope::scope::{self, Globals, ScopeConfig};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// An indicator kind (`ip`, `user`, `app`) and its value.
type Indicator<'a> = (&'a str, &'a str);

fn config(indicators: &[Indicator]) -> ScopeConfig {
    let mut cfg = ScopeConfig {
        session_link: true,
        grant_link: true,
        ..Default::default()
    };
    for (kind, value) in indicators {
        let list = match *kind {
            "ip" => &mut cfg.indicators.attacker_ip,
            "user" => &mut cfg.indicators.attacker_user,
            "app" => &mut cfg.indicators.attacker_app,
            _ => unreachable!("indicator kind {kind}"),
        };
        list.push(value.to_string());
    }
    cfg
}

fn json(paths: &[PathBuf], scope: scope::Scope, cfg: &ScopeConfig) -> String {
    let ing = read(paths);
    let mut report = mailscope::report::build_report(ing.provenance(), scope, cfg, Vec::new());
    let mut out = Vec::new();
    report.write_json(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The scope of `frame` computed in `shares` shares, mailboxes dealt out round-robin in name
/// order (records of no mailbox go with the first share).
fn shared_out(frame: &Frame, cfg: &ScopeConfig, shares: usize) -> scope::Scope {
    let whole = scope::attributed(frame, cfg).unwrap();
    let globals = Globals::of(&whole.v);
    let mailbox_of = globals.mailbox_of_rows(&whole.v);
    let mut share_of_mailbox: BTreeMap<&str, usize> = BTreeMap::new();
    for mb in mailbox_of.iter().flatten() {
        share_of_mailbox.insert(mb, 0);
    }
    for (k, share) in share_of_mailbox.values_mut().enumerate() {
        *share = k % shares;
    }
    let share_of = |i: usize| {
        mailbox_of[i]
            .as_deref()
            .map_or(0, |mb| share_of_mailbox[mb])
    };
    let shared: Vec<u32> = (0..frame.height())
        .filter(|&i| scope::shared_with_every_part(&whole, i))
        .map(|i| i as u32)
        .collect();
    let mut parts = Vec::new();
    for share in 0..shares {
        // Its own records and the shared ones, in the run's order.
        let rows: Vec<u32> = (0..frame.height())
            .filter(|&i| share_of(i) == share || scope::shared_with_every_part(&whole, i))
            .map(|i| i as u32)
            .collect();
        let own: Vec<bool> = rows
            .iter()
            .map(|&i| share_of(i as usize) == share)
            .collect();
        let sub = frame.clone().select_rows(&rows).unwrap();
        let a = scope::attributed(&sub, cfg).unwrap();
        parts.push(scope::part(&a, cfg, &globals, &|i| own[i]).unwrap());
    }
    let sub = frame.clone().select_rows(&shared).unwrap();
    let a = scope::attributed(&sub, cfg).unwrap();
    scope::finish(&a, &sub, cfg, &globals, parts).unwrap()
}

fn assert_same_in_shares(paths: &[PathBuf], indicators: &[Indicator]) {
    let cfg = config(indicators);
    let frame = read(paths).frame;
    let one = json(paths, scope::compute(&frame, &cfg).unwrap(), &cfg);
    let report: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert!(
        report["mailboxes"]
            .as_array()
            .is_some_and(|m| !m.is_empty()),
        "{paths:?}: no mailbox in scope, nothing to compare"
    );
    for shares in [2, 3, 7] {
        let shared = json(paths, shared_out(&frame, &cfg, shares), &cfg);
        assert!(
            one == shared,
            "{paths:?} in {shares} shares differs from one machine:\n{}",
            first_difference(&one, &shared)
        );
    }
}

fn first_difference(a: &str, b: &str) -> String {
    let line = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or(a.lines().count().min(b.lines().count()));
    format!(
        "line {}:\n  one machine: {}\n  shares:      {}",
        line + 1,
        a.lines().nth(line).unwrap_or("(end)"),
        b.lines().nth(line).unwrap_or("(end)")
    )
}

#[test]
fn the_samples_shared_out_give_the_one_machine_scope() {
    assert_same_in_shares(&[root().join("samples")], &[("ip", "203.0.113.66")]);
}

#[test]
fn the_fixtures_shared_out_give_the_one_machine_scope() {
    let ip = [("ip", "203.0.113.66")];
    let sets: Vec<(Vec<PathBuf>, &[Indicator])> = vec![
        (vec![fixture("forwarding")], &ip),
        (vec![fixture("copies")], &ip),
        (vec![fixture("rules"), sample("SearchResult.xml")], &ip),
        (vec![fixture("siem"), fixture("inventory")], &ip),
        (vec![fixture("hunt")], &ip),
        (vec![fixture("admin")], &[("user", "it-admin@contoso.com")]),
        (
            vec![
                root().join("samples"),
                fixture("classic_portal.csv"),
                fixture("mailbox_audit_log_showdetails.csv"),
                fixture("purview_damaged.csv"),
                fixture("searchresult_admin.xml"),
                fixture("auditdata.jsonl"),
            ],
            &ip,
        ),
    ];
    for (paths, indicators) in sets {
        assert_same_in_shares(&paths, indicators);
    }
}

#[test]
fn a_generated_incident_shared_out_gives_the_one_machine_scope() {
    let dir = tempfile::tempdir().unwrap();
    synth::generate(3_000, 21, "csv", &dir.path().join("purview.csv"));
    synth::generate(500, 22, "jsonl", &dir.path().join("collector.jsonl"));
    assert_same_in_shares(&[dir.path().to_path_buf()], &[("ip", "203.0.113.66")]);
}
