//! `hunt` (issue #25): a small tenant written as a Purview audit export — users with ordinary
//! noise (office, home, phone, a new laptop, travel), a backup service reading every mailbox
//! from the start, and an attacker replaying alice's session from two addresses of another
//! network with python-requests, reading alice's and bob's mail and setting an inbox rule —
//! then one test per signal on frames built in memory.

use crate::util::*;
use mailscope::frame::Frame;
use mailscope::hunt::{Hunt, Kind, hunt_view};
use mailscope::model::Record;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const ORG: &str = "4f1c2a9e-0000-4000-8000-00000000c0de";
const EXO: &str = "00000002-0000-0ff1-ce00-000000000000";
const OUTLOOK_MOBILE: &str = "27922004-5251-4030-b22d-91ecd9a37ea4";
const BACKUP_APP: &str = "9b5e2c47-1d3a-4f60-8e21-b4c7a0d1e5f3";
const OWA: &str = "Client=OWA;Action=ViaProxy";
const PYTHON: &str = "Client=REST;Client=RESTSystem;python-requests/2.31.0;";
const USERS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

fn upn(u: &str) -> String {
    format!("{u}@contoso.com")
}

fn sid(u: &str) -> String {
    let n: u32 = u.bytes().map(u32::from).sum();
    format!("S-1-5-21-1000-2000-3000-{n}")
}

struct Mia<'a> {
    actor: &'a str,
    mailbox: &'a str,
    ip: &'a str,
    client: &'a str,
    session: &'a str,
    app: &'a str,
    access: &'a str,
    items: usize,
}

/// A MailItemsAccessed record's AuditData, as Exchange writes it.
fn mia(id: &str, time: &str, m: &Mia) -> Value {
    let items: Vec<Value> = (0..m.items)
        .map(|k| {
            json!({"InternetMessageId": format!("<{id}-{k}@AM0PR01MB1234.eurprd01.prod.outlook.com>"), "SizeInBytes": 20_000 + k})
        })
        .collect();
    let folder = if m.access == "Sync" {
        json!({"Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHHAAAB", "Path": "\\Inbox"})
    } else {
        json!({"Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHHAAAB", "Path": "\\Inbox", "FolderItems": items})
    };
    let delegate = !m.actor.eq_ignore_ascii_case(m.mailbox) && !m.actor.starts_with("svc-");
    json!({
        "CreationTime": time, "Id": id, "Operation": "MailItemsAccessed", "OrganizationId": ORG,
        "RecordType": 50, "ResultStatus": "Succeeded", "UserKey": format!("1003BFFD{:08X}", m.actor.len()),
        "UserType": 0, "Version": 1, "Workload": "Exchange", "UserId": m.actor,
        "ClientIPAddress": m.ip, "ClientInfoString": m.client, "ExternalAccess": false,
        "InternalLogonType": 0, "LogonType": if delegate { 2 } else { 0 },
        "LogonUserSid": sid(m.actor), "MailboxGuid": format!("{:08x}-0000-4000-8000-00000000abcd", m.mailbox.len()),
        "MailboxOwnerSid": sid(m.mailbox), "MailboxOwnerUPN": m.mailbox,
        "OperationProperties": [{"Name": "MailAccessType", "Value": m.access}, {"Name": "IsThrottled", "Value": "False"}],
        "OrganizationName": "contoso.onmicrosoft.com", "OriginatingServer": "AM0PR01MB1234 (15.20.7409.012)\r\n",
        "SessionId": m.session, "AppId": m.app, "ClientAppId": "",
        "AppAccessContext": {"AADSessionId": format!("aad-{}", m.session), "IssuedAtTime": time},
        "Folders": [folder], "OperationCount": m.items.max(1)
    })
}

/// A New-InboxRule record (ExchangeAdmin), as the sample's.
fn inbox_rule(id: &str, time: &str, user: &str, ip: &str, session: &str, name: &str) -> Value {
    json!({
        "CreationTime": time, "Id": id, "Operation": "New-InboxRule", "OrganizationId": ORG,
        "RecordType": 1, "ResultStatus": "True", "UserKey": "1003BFFD0000A1C0", "UserType": 0,
        "Version": 1, "Workload": "Exchange", "UserId": user, "ClientIP": format!("{ip}:51877"),
        "ObjectId": format!("{user}\\{name}"), "AppId": EXO, "ClientAppId": "", "ExternalAccess": false,
        "OrganizationName": "contoso.onmicrosoft.com", "OriginatingServer": "AM0PR01MB1234 (15.20.7409.012)\r\n",
        "Parameters": [{"Name": "Name", "Value": name}, {"Name": "MoveToFolder", "Value": "RSS Feeds"}, {"Name": "MarkAsRead", "Value": "True"}],
        "SessionId": session
    })
}

/// A SoftDelete record (mailbox audit), as Exchange writes it.
fn soft_delete(id: &str, time: &str, user: &str, ip: &str, session: &str) -> Value {
    json!({
        "CreationTime": time, "Id": id, "Operation": "SoftDelete", "OrganizationId": ORG,
        "RecordType": 2, "ResultStatus": "Succeeded", "UserKey": "1003BFFD0000A1C0", "UserType": 0,
        "Version": 1, "Workload": "Exchange", "UserId": user, "ClientIPAddress": ip,
        "ClientInfoString": OWA, "ExternalAccess": false, "InternalLogonType": 0, "LogonType": 0,
        "LogonUserSid": sid(user), "MailboxGuid": "a40df04b-212b-4d7e-8e27-84b50e221de7",
        "MailboxOwnerSid": sid(user), "MailboxOwnerUPN": user, "OrganizationName": "contoso.onmicrosoft.com",
        "OriginatingServer": "AM0PR01MB1234 (15.20.7409.012)\r\n", "SessionId": session, "AppId": EXO, "ClientAppId": "",
        "Folder": {"Id": "LgAAAAB+7ILpFNx8TrktaK8VYWerAQBe9CuwLc2fTK7W46L1SAp9AAAA2lHHAAAB", "Path": "\\Inbox"},
        "AffectedItems": [{"Id": "RgAAAAB00000001", "InternetMessageId": format!("<{id}@contoso.com>"), "Subject": "Newsletter", "ParentFolder": {"Path": "\\Inbox"}}]
    })
}

/// The tenant's records, March 2024: a list of AuditData objects.
fn tenant() -> Vec<Value> {
    let mut out = Vec::new();
    let mut n = 0u32;
    let mut id = |tag: &str| {
        n += 1;
        format!("{tag}{n:04}-0000-4000-8000-{n:012x}")
    };
    let t = |day: u32, hm: &str| format!("2024-03-{day:02}T{hm}:00");
    for day in 1..=14 {
        // The backup service: every mailbox, every night, from the first night.
        for (k, u) in USERS.iter().enumerate() {
            let m = Mia {
                actor: "svc-backup@contoso.com",
                mailbox: &upn(u),
                ip: "40.90.10.5",
                client: "Client=REST;Client=RESTSystem;;",
                session: "backup-session",
                app: BACKUP_APP,
                access: "Sync",
                items: 0,
            };
            out.push(mia(&id("bac0"), &t(day, &format!("00:3{k}")), &m));
        }
        // Everyone at the office, a session a day.
        for (k, u) in USERS.iter().enumerate() {
            let mb = upn(u);
            let session = format!("sess-{u}-{day:02}");
            let ip = format!("198.51.100.{}", 10 + k);
            let client = if *u == "carol" && day >= 8 {
                // Carol's new laptop.
                "Client=WebServices;Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15;"
            } else {
                OWA
            };
            for hm in ["09:0", "14:1"] {
                let m = Mia {
                    actor: &mb,
                    mailbox: &mb,
                    ip: &ip,
                    client,
                    session: &session,
                    app: EXO,
                    access: "Bind",
                    items: 3,
                };
                out.push(mia(&id("0ff1"), &t(day, &format!("{hm}{k}")), &m));
            }
        }
        // Alice at home, twice; one evening she deletes a newsletter.
        if day == 3 || day == 6 {
            let m = Mia {
                actor: "alice@contoso.com",
                mailbox: "alice@contoso.com",
                ip: "192.0.2.50",
                client: OWA,
                session: &format!("sess-alice-home-{day:02}"),
                app: EXO,
                access: "Bind",
                items: 2,
            };
            out.push(mia(&id("a0e0"), &t(day, "20:00"), &m));
            if day == 6 {
                out.push(soft_delete(
                    &id("a0e1"),
                    &t(day, "20:05"),
                    "alice@contoso.com",
                    "192.0.2.50",
                    m.session,
                ));
            }
        }
        // Bob's phone on the mobile network, every other morning.
        if day % 2 == 0 {
            let m = Mia {
                actor: "bob@contoso.com",
                mailbox: "bob@contoso.com",
                ip: "100.64.10.20",
                client: "Client=OutlookService;Outlook-iOS/2.0;",
                session: "sess-bob-phone",
                app: OUTLOOK_MOBILE,
                access: "Sync",
                items: 0,
            };
            out.push(mia(&id("b0b0"), &t(day, "07:30"), &m));
        }
        // Dave travels: a hotel network at night; a rule he made at the office on day 5.
        if day == 9 || day == 10 {
            let m = Mia {
                actor: "dave@contoso.com",
                mailbox: "dave@contoso.com",
                ip: "198.18.7.7",
                client: OWA,
                session: &format!("sess-dave-travel-{day:02}"),
                app: EXO,
                access: "Bind",
                items: 4,
            };
            out.push(mia(&id("da0e"), &t(day, "03:00"), &m));
        }
        if day == 5 {
            out.push(inbox_rule(
                &id("da0f"),
                &t(day, "09:30"),
                "dave@contoso.com",
                "198.51.100.13",
                "sess-dave-05",
                "Newsletters",
            ));
        }
        // The attacker: alice's session of day 11 replayed from two addresses of another
        // network, reading alice's and bob's mail, then an inbox rule.
        if day == 11 {
            for k in 0..8 {
                let (ip, mailbox) = match k % 4 {
                    0 => ("203.0.113.66", "alice@contoso.com"),
                    1 => ("203.0.113.77", "alice@contoso.com"),
                    2 => ("203.0.113.66", "bob@contoso.com"),
                    _ => ("203.0.113.77", "bob@contoso.com"),
                };
                let m = Mia {
                    actor: "alice@contoso.com",
                    mailbox,
                    ip,
                    client: PYTHON,
                    session: "sess-alice-11",
                    app: EXO,
                    access: "Bind",
                    items: 10,
                };
                out.push(mia(
                    &id("e0e0"),
                    &t(day, &format!("22:{:02}", 10 + k * 5)),
                    &m,
                ));
            }
            out.push(inbox_rule(
                &id("e0e1"),
                &t(day, "23:05"),
                "alice@contoso.com",
                "203.0.113.77",
                "sess-alice-11",
                ".",
            ));
        }
    }
    out
}

/// The tenant written to `dir` as one Purview export, records in the order given.
fn write_tenant(dir: &Path, records: &[Value]) -> PathBuf {
    let evidence = dir.join("evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    let path = evidence.join("purview_audit_export.csv");
    std::fs::write(&path, purview_export(records)).unwrap();
    evidence
}

fn hunt_json(evidence: &Path, extra: &[&str]) -> Value {
    let out = bin()
        .arg("hunt")
        .arg(evidence)
        .args(["--format", "json", "-q"])
        .args(extra)
        .output()
        .unwrap();
    assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rank(h: &Value, kind: &str, value: &str) -> Option<usize> {
    h["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["kind"] == kind && s["value"] == value)
}

fn codes(h: &Value, kind: &str, value: &str) -> Vec<String> {
    let i = rank(h, kind, value).unwrap_or_else(|| panic!("{kind} {value} not a suspect"));
    h["suspects"][i]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn hunt_ranks_the_attacker_above_every_benign_oddity() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = write_tenant(dir.path(), &tenant());
    let h = hunt_json(&evidence, &[]);
    let attacker = [
        ("network", "203.0.113.0/24"),
        ("ip", "203.0.113.66"),
        ("ip", "203.0.113.77"),
        ("session", "sess-alice-11"),
    ];
    let benign = [
        ("network", "192.0.2.0/24"),   // alice at home
        ("ip", "192.0.2.50"),          //
        ("network", "100.64.10.0/24"), // bob's phone
        ("session", "sess-bob-phone"), //
        ("network", "198.18.7.0/24"),  // dave travelling
        ("session", "sess-dave-travel-09"),
    ];
    let worst_attacker = attacker
        .iter()
        .map(|(k, v)| rank(&h, k, v).unwrap_or_else(|| panic!("{k} {v} not ranked: {h:#}")))
        .max()
        .unwrap();
    for (k, v) in benign {
        let r = rank(&h, k, v).unwrap_or_else(|| panic!("{k} {v} should be a (weak) suspect"));
        assert!(
            r > worst_attacker,
            "{k} {v} at {r}, above the attacker: {h:#}"
        );
    }
    // Every suspect that is not the attacker's or a victim account scores below them.
    let suspects = h["suspects"].as_array().unwrap();
    let weakest = suspects[worst_attacker]["score"].as_u64().unwrap();
    for s in suspects {
        let attackerish = s["value"].as_str().unwrap().starts_with("203.0.113.")
            || s["value"].as_str().unwrap().contains("sess-alice-11")
            || s["value"] == PYTHON
            || s["value"] == "alice@contoso.com";
        if !attackerish {
            assert!(s["score"].as_u64().unwrap() < weakest, "{s:#}");
        }
    }
    assert!(codes(&h, "session", "sess-alice-11").contains(&"session-replay".to_string()));
    let net = codes(&h, "network", "203.0.113.0/24");
    for c in [
        "session-replay",
        "scripting-client",
        "mail-rule",
        "many-mailboxes",
        "new-network-tenant",
    ] {
        assert!(net.contains(&c.to_string()), "{c} missing from {net:?}");
    }
    // The backup service is ordinary, not a suspect.
    for s in suspects {
        let v = s["value"].as_str().unwrap();
        assert!(
            !v.contains("40.90.10.")
                && v != BACKUP_APP
                && v != "svc-backup@contoso.com"
                && v != "backup-session",
            "{s:#}"
        );
    }
    let ordinary: Vec<&str> = h["ordinary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert!(
        ordinary.contains(&BACKUP_APP) && ordinary.contains(&"40.90.10.5"),
        "{ordinary:?}"
    );
    // Every reason names records, and every suspect its mailboxes and times.
    for s in suspects {
        for r in s["reasons"].as_array().unwrap() {
            assert!(!r["records"].as_array().unwrap().is_empty(), "{s:#}");
            assert!(r["weight"].as_u64().unwrap() > 0 && r["text"].is_string());
        }
        assert!(s["first_seen"].as_str().unwrap() <= s["last_seen"].as_str().unwrap());
        assert!(s["records"].as_u64().unwrap() > 0);
    }
}

#[test]
fn hunt_suggest_scopes_exactly_the_victims() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = write_tenant(dir.path(), &tenant());
    let suggest = dir.path().join("out/suspects.toml");
    let out = bin()
        .arg("hunt")
        .arg(&evidence)
        .args(["-q", "--suggest"])
        .arg(&suggest)
        .output()
        .unwrap();
    assert_success(&out);
    let text = std::fs::read_to_string(&suggest).unwrap();
    assert!(
        text.contains("# ") && text.contains("session-replay"),
        "{text}"
    );
    let parsed = mailscope::scope::indicators::IndicatorFile::parse(&text, false).unwrap();
    assert!(
        parsed
            .indicators
            .attacker_ip
            .contains(&"203.0.113.0/24".to_string()),
        "{text}"
    );
    assert!(parsed.indicators.attacker_user.is_empty());
    let out = bin()
        .arg("scope")
        .arg(&evidence)
        .args(["--format", "json", "-q", "--indicators"])
        .arg(&suggest)
        .output()
        .unwrap();
    assert_success(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    for (mailbox, verdict) in verdicts(&report) {
        let victim = mailbox == "alice@contoso.com" || mailbox == "bob@contoso.com";
        assert_eq!(victim, verdict != "none", "{mailbox}: {verdict}\n{text}");
    }
    // Writing it again needs --force; next to the evidence never.
    let again = bin()
        .arg("hunt")
        .arg(&evidence)
        .args(["-q", "--suggest"])
        .arg(&suggest)
        .output()
        .unwrap();
    assert_ne!(again.status.code(), Some(0));
    let inside = bin()
        .arg("hunt")
        .arg(&evidence)
        .args(["-q", "--force", "--output"])
        .arg(evidence.join("hunt.txt"))
        .output()
        .unwrap();
    assert_ne!(inside.status.code(), Some(0));
    assert!(!evidence.join("hunt.txt").exists());
}

#[test]
fn hunt_is_the_same_for_records_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let records = tenant();
    let a = hunt_json(&write_tenant(&dir.path().join("a"), &records), &[]);
    let mut reversed = records.clone();
    reversed.reverse();
    // Two files, interleaved differently.
    let b_dir = dir.path().join("b/evidence");
    std::fs::create_dir_all(&b_dir).unwrap();
    let (odd, even): (Vec<_>, Vec<_>) = reversed
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 1);
    let strip = |v: Vec<(usize, Value)>| v.into_iter().map(|(_, r)| r).collect::<Vec<_>>();
    std::fs::write(b_dir.join("z.csv"), purview_export(&strip(odd))).unwrap();
    std::fs::write(b_dir.join("a.csv"), purview_export(&strip(even))).unwrap();
    let b = hunt_json(&b_dir, &[]);
    assert_eq!(a, b);
}

#[test]
fn hunt_text_and_csv_escape_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = tenant();
    // The attacker's user agent carries terminal escapes and a spreadsheet formula.
    for r in &mut records {
        if r["ClientInfoString"] == PYTHON {
            r["ClientInfoString"] =
                json!("=HYPERLINK(\"x\")\u{1b}[2J\u{202e}python-requests/2.31.0");
        }
    }
    let evidence = write_tenant(dir.path(), &records);
    let text = bin()
        .arg("hunt")
        .arg(&evidence)
        .args(["-q", "--top", "5"])
        .output()
        .unwrap();
    assert_success(&text);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text}"
    );
    assert!(
        text.contains("203.0.113.0/24") && text.contains("scripting-client"),
        "{text}"
    );
    assert_eq!(
        text.matches("\n 1. ").count() + text.matches("\n 5. ").count(),
        2,
        "{text}"
    );
    // The suggestion file keeps the value exactly (a TOML string) and comments stay comments.
    let suggest = dir.path().join("suspects.toml");
    let out = bin()
        .arg("hunt")
        .arg(&evidence)
        .args(["-q", "--format", "json", "--top", "3", "--suggest"])
        .arg(&suggest)
        .output()
        .unwrap();
    assert_success(&out);
    let top: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(top["suspects"].as_array().unwrap().len(), 3);
    let text = std::fs::read_to_string(&suggest).unwrap();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{202e}'),
        "{text}"
    );
    let parsed = mailscope::scope::indicators::IndicatorFile::parse(&text, false).unwrap();
    assert!(
        parsed.indicators.attacker_client
            == vec!["=HYPERLINK(\"x\")\u{1b}[2J\u{202e}python-requests/2.31.0".to_string()],
        "{text}"
    );
    let csv_out = bin()
        .arg("hunt")
        .arg(&evidence)
        .args(["-q", "--format", "csv"])
        .output()
        .unwrap();
    assert_success(&csv_out);
    let mut rd = csv::Reader::from_reader(csv_out.stdout.as_slice());
    assert_eq!(rd.headers().unwrap().iter().next(), Some("rank"));
    for row in rd.records() {
        let row = row.unwrap();
        for cell in row.iter() {
            assert!(!cell.starts_with('=') && !cell.contains('\u{1b}'), "{cell}");
        }
    }
}

// One test per signal, on frames built in memory.

struct R(Record<'static>);

impl R {
    fn new(id: &str, time: &str, user: &str, ip: &str, op: &str) -> R {
        R(Record {
            record_id: id.to_string().into(),
            time: t(time),
            time_source: "test",
            mailbox: Some(user.to_string().into()),
            actor: Some(user.to_string().into()),
            client_ip: Some(ip.to_string().into()),
            operation: op.to_string().into(),
            client_info: Some(OWA.into()),
            app_id: Some(EXO.into()),
            ..Record::default()
        })
    }
    fn read(id: &str, time: &str, user: &str, ip: &str) -> R {
        let mut r = R::new(id, time, user, ip, "MailItemsAccessed");
        r.0.mail_access_type = Some("Bind".into());
        r.0.operation_count = Some(1);
        r
    }
    fn mailbox(mut self, m: &str) -> R {
        self.0.mailbox = Some(m.to_string().into());
        self
    }
    fn session(mut self, s: &str) -> R {
        self.0.session_id = Some(s.to_string().into());
        self
    }
    fn client(mut self, c: &str) -> R {
        self.0.client_info = Some(c.to_string().into());
        self
    }
    fn app(mut self, a: &str) -> R {
        self.0.app_id = Some(a.to_string().into());
        self
    }
    fn sync(mut self) -> R {
        self.0.mail_access_type = Some("Sync".into());
        self
    }
    fn throttled(mut self) -> R {
        self.0.is_throttled = true;
        self
    }
    fn count(mut self, n: i64) -> R {
        self.0.operation_count = Some(n);
        self
    }
    fn forwarding(mut self, f: &str) -> R {
        self.0.forwarding = Some(f.to_string().into());
        self
    }
}

fn run(records: Vec<R>) -> Hunt {
    let recs: Vec<Record> = records.into_iter().map(|r| r.0).collect();
    let frame = Frame::from_records(&recs, &["test".to_string()]).unwrap();
    hunt_view(&frame.records_view().unwrap())
}

fn reasons_of(h: &Hunt, kind: Kind, value: &str) -> Vec<&'static str> {
    h.suspects
        .iter()
        .find(|s| s.kind == kind && s.value == value)
        .map(|s| s.reasons.iter().map(|r| r.code).collect())
        .unwrap_or_default()
}

/// Alice's and bob's office history, then `more`.
fn with_history(more: Vec<R>) -> Hunt {
    let mut v = vec![
        R::read("h1", "2024-03-01T09:00:00", "alice@x.com", "198.51.100.10").session("s-a1"),
        R::read("h2", "2024-03-01T09:05:00", "bob@x.com", "198.51.100.11").session("s-b1"),
        R::read("h3", "2024-03-02T09:00:00", "alice@x.com", "198.51.100.10").session("s-a2"),
    ];
    v.extend(more);
    run(v)
}

#[test]
fn hunt_signal_new_network_for_user_and_tenant() {
    let h = with_history(vec![
        // Bob's office network is new to alice, but not to the tenant.
        R::read("n1", "2024-03-03T09:00:00", "alice@x.com", "198.51.100.11"),
        R::read("n2", "2024-03-03T10:00:00", "alice@x.com", "192.0.2.7"),
    ]);
    let office = reasons_of(&h, Kind::Network, "198.51.100.0/24");
    assert!(office.is_empty(), "{office:?}");
    let home = reasons_of(&h, Kind::Network, "192.0.2.0/24");
    assert!(
        home.contains(&"new-network-user")
            && home.contains(&"new-network-tenant")
            && home.contains(&"mail-read"),
        "{home:?}"
    );
}

#[test]
fn hunt_signal_session_replay() {
    let h = with_history(vec![
        R::read("r1", "2024-03-03T09:00:00", "alice@x.com", "198.51.100.10").session("tok"),
        R::read("r2", "2024-03-03T09:01:00", "alice@x.com", "203.0.113.5").session("tok"),
    ]);
    assert!(reasons_of(&h, Kind::Session, "tok").contains(&"session-replay"));
    assert!(reasons_of(&h, Kind::Ip, "203.0.113.5").contains(&"session-replay"));
    // The owner's own network is not blamed for it.
    assert!(!reasons_of(&h, Kind::Ip, "198.51.100.10").contains(&"session-replay"));
}

#[test]
fn hunt_signal_scripting_client_and_rest() {
    let h = with_history(vec![
        R::read("c1", "2024-03-03T09:00:00", "alice@x.com", "203.0.113.5").client(PYTHON),
    ]);
    let c = reasons_of(&h, Kind::Client, PYTHON);
    assert!(
        c.contains(&"scripting-client")
            && c.contains(&"new-client-tenant")
            && c.contains(&"rest-new"),
        "{c:?}"
    );
    // A scripting client the user always had is the baseline.
    let h = run(vec![
        R::read("c2", "2024-03-01T09:00:00", "svc@x.com", "198.51.100.9").client(PYTHON),
        R::read("c3", "2024-03-02T09:00:00", "svc@x.com", "198.51.100.9").client(PYTHON),
    ]);
    assert!(h.suspects.is_empty(), "{:?}", h.suspects);
}

#[test]
fn hunt_signal_rules_permissions_deletes_only_from_unfamiliar_contexts() {
    let h = with_history(vec![
        R::new(
            "d1",
            "2024-03-03T09:00:00",
            "alice@x.com",
            "198.51.100.10",
            "New-InboxRule",
        ),
        R::new(
            "d2",
            "2024-03-03T22:00:00",
            "alice@x.com",
            "203.0.113.5",
            "New-InboxRule",
        ),
        R::new(
            "d3",
            "2024-03-03T22:01:00",
            "alice@x.com",
            "203.0.113.5",
            "Set-Mailbox",
        )
        .forwarding("x@evil.example"),
        R::new(
            "d4",
            "2024-03-03T22:02:00",
            "alice@x.com",
            "203.0.113.5",
            "Add-MailboxPermission",
        ),
        R::new(
            "d5",
            "2024-03-03T22:03:00",
            "alice@x.com",
            "203.0.113.5",
            "HardDelete",
        ),
    ]);
    assert!(reasons_of(&h, Kind::Ip, "198.51.100.10").is_empty());
    let ip = reasons_of(&h, Kind::Ip, "203.0.113.5");
    for c in ["mail-rule", "permission-grant", "mail-deleted"] {
        assert!(ip.contains(&c), "{c}: {ip:?}");
    }
}

#[test]
fn hunt_signal_foreign_app_sync_throttle_burst_many_mailboxes() {
    let evil = "6b1f2a3c-0000-4000-8000-00000000dead";
    let h = with_history(vec![
        R::read("f1", "2024-03-03T22:00:00", "alice@x.com", "203.0.113.5")
            .app(evil)
            .sync(),
        R::read("f2", "2024-03-03T22:10:00", "alice@x.com", "203.0.113.5")
            .app(evil)
            .count(60)
            .throttled(),
        R::read("f3", "2024-03-03T22:20:00", "alice@x.com", "203.0.113.5")
            .app(evil)
            .mailbox("bob@x.com"),
    ]);
    let app = reasons_of(&h, Kind::App, evil);
    assert!(
        app.contains(&"foreign-app") && app.contains(&"new-app-user"),
        "{app:?}"
    );
    let ip = reasons_of(&h, Kind::Ip, "203.0.113.5");
    for c in [
        "foreign-app",
        "sync-new",
        "throttled",
        "bind-burst",
        "many-mailboxes",
        "mail-read",
    ] {
        assert!(ip.contains(&c), "{c}: {ip:?}");
    }
    // First-party apps are never scored as apps.
    assert!(reasons_of(&h, Kind::App, EXO).is_empty());
}

#[test]
fn hunt_discounts_a_service_on_every_mailbox_since_the_start() {
    let mut v = Vec::new();
    for (k, u) in ["a@x.com", "b@x.com", "c@x.com", "d@x.com"]
        .iter()
        .enumerate()
    {
        v.push(
            R::read(
                &format!("s{k}"),
                &format!("2024-03-01T00:0{k}:00"),
                "svc-backup@x.com",
                "40.90.10.5",
            )
            .mailbox(u)
            .app(BACKUP_APP),
        );
        v.push(R::read(
            &format!("o{k}"),
            &format!("2024-03-01T09:0{k}:00"),
            u,
            "198.51.100.10",
        ));
        v.push(
            R::read(
                &format!("l{k}"),
                &format!("2024-03-09T00:0{k}:00"),
                "svc-backup@x.com",
                "40.90.10.5",
            )
            .mailbox(u)
            .app(BACKUP_APP),
        );
    }
    let h = run(v);
    assert!(h.suspects.is_empty(), "{:?}", h.suspects);
    assert!(
        h.ordinary
            .iter()
            .any(|o| o.kind == Kind::App && o.value == BACKUP_APP)
    );
}

/// The tenant is committed as tests/fixtures/hunt/purview_tenant.csv, for reading and for the
/// README's example; `MAILSCOPE_BLESS=1 cargo test --release hunt` rewrites it.
#[test]
fn hunt_fixture_is_the_generated_tenant() {
    let path = fixture("hunt/purview_tenant.csv");
    let now = purview_export(&tenant());
    if std::env::var_os("MAILSCOPE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &now).unwrap();
    }
    let committed =
        std::fs::read_to_string(&path).expect("run MAILSCOPE_BLESS=1 cargo test --release hunt");
    assert!(
        committed == now,
        "tests/fixtures/hunt/purview_tenant.csv differs from tenant(): MAILSCOPE_BLESS=1 cargo test --release hunt"
    );
}

#[test]
fn hunt_signal_new_client_and_logon_type() {
    let mut delegate = R::read("l1", "2024-03-03T09:00:00", "alice@x.com", "203.0.113.5")
        .client("Client=WebServices;Mozilla/5.0 (X11; Linux x86_64) Firefox/123.0;");
    delegate.0.logon_type = Some("Delegate".into());
    let mut h = with_history(vec![delegate]);
    let client = reasons_of(
        &h,
        Kind::Client,
        "Client=WebServices;Mozilla/5.0 (X11; Linux x86_64) Firefox/123.0;",
    );
    assert!(
        client.contains(&"new-client-user") && client.contains(&"new-client-tenant"),
        "{client:?}"
    );
    assert!(reasons_of(&h, Kind::Ip, "203.0.113.5").contains(&"new-logon-type"));
    // Reasons carry their record ids; suspects their mailboxes.
    let s = h.suspects.remove(0);
    assert!(
        s.reasons
            .iter()
            .all(|r| r.records == vec!["l1".to_string()])
    );
    assert_eq!(s.mailboxes, vec!["alice@x.com".to_string()]);
}
