//! The scope rules, one scenario each, on frames built in memory (no files) unless the rule is
//! about a file format.

use crate::util::*;
use mailscope::frame::Frame;
use mailscope::model::{Item, Record, normalize_message_id};
use mailscope::scope::findings::{MailboxScope, Verdict};
use mailscope::scope::indicators::Indicators;
use mailscope::scope::{ScopeConfig, compute};

const ATTACKER: &str = "203.0.113.66";
const OWNER: &str = "198.51.100.10";

/// A message line as the report shows it: id, folder, first seen, access, records.
type MessageRow<'a> = (&'a str, Option<&'a str>, &'a str, &'a str, Vec<String>);

struct R(Record<'static>);

impl R {
    fn new(id: &str, time: &str, mailbox: &str, ip: &str, op: &str) -> R {
        R(Record {
            record_id: id.to_string().into(),
            time: t(time),
            time_source: "test",
            mailbox: Some(mailbox.to_string().into()),
            client_ip: Some(ip.to_string().into()),
            operation: op.to_string().into(),
            actor: Some(mailbox.to_string().into()),
            ..Record::default()
        })
    }
    fn mia(id: &str, time: &str, mailbox: &str, ip: &str, access: &str) -> R {
        let mut r = R::new(id, time, mailbox, ip, "MailItemsAccessed");
        r.0.mail_access_type = Some(access.to_string().into());
        r
    }
    fn msg(mut self, folder: &str, id: &str) -> R {
        self.0.items.push(Item {
            folder_path: Some(folder.to_string().into()),
            internet_message_id: normalize_message_id(id).map(|m| m.into_owned().into()),
            internet_message_id_raw: Some(id.to_string().into()),
            ..Item::default()
        });
        self
    }
    fn folder(mut self, folder: &str) -> R {
        self.0.items.push(Item {
            folder_path: Some(folder.to_string().into()),
            ..Item::default()
        });
        self
    }
    fn session(mut self, s: &str) -> R {
        self.0.session_id = Some(s.to_string().into());
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
}

fn cfg(ind: Indicators) -> ScopeConfig {
    ScopeConfig {
        indicators: ind,
        session_link: true,
        ..ScopeConfig::default()
    }
}

fn attacker_ip() -> ScopeConfig {
    cfg(Indicators {
        attacker_ip: vec![ATTACKER.into()],
        ..Default::default()
    })
}

fn run(records: Vec<R>, cfg: &ScopeConfig) -> mailscope::scope::Scope {
    let mut recs: Vec<Record> = records.into_iter().map(|r| r.0).collect();
    recs.sort_by(|a, b| (a.time, &a.record_id).cmp(&(b.time, &b.record_id)));
    let frame = Frame::from_records(&recs, &["test".to_string()]).unwrap();
    compute(&frame, cfg).unwrap()
}

fn mailbox<'a>(s: &'a mailscope::scope::Scope, mb: &str) -> &'a MailboxScope {
    s.mailboxes
        .iter()
        .find(|m| m.mailbox == mb)
        .unwrap_or_else(|| panic!("{mb} not in report"))
}

#[test]
fn attacker_binds_only_give_the_exact_message_set_with_folders() {
    let s = run(
        vec![
            R::mia("o1", "2024-03-11T08:00:00", "alice@x.com", OWNER, "Bind")
                .msg("\\Inbox", "<owner-only@x>"),
            R::mia("a1", "2024-03-12T02:00:00", "alice@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<M1@X>")
                .msg("\\Sent Items", "m2@x"),
            R::mia("a2", "2024-03-12T03:00:00", "alice@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<m1@x>"),
        ],
        &attacker_ip(),
    );
    let m = mailbox(&s, "alice@x.com");
    assert_eq!(m.verdict, Verdict::Messages);
    let got: Vec<MessageRow> = m
        .messages
        .iter()
        .map(|x| {
            (
                x.internet_message_id.as_str(),
                x.folder.as_deref(),
                x.first_seen.as_str(),
                x.last_seen.as_str(),
                x.records.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "m1@x",
                Some("\\Inbox"),
                "2024-03-12T02:00:00Z",
                "2024-03-12T03:00:00Z",
                vec!["a1".to_string(), "a2".to_string()]
            ),
            (
                "m2@x",
                Some("\\Sent Items"),
                "2024-03-12T02:00:00Z",
                "2024-03-12T02:00:00Z",
                vec!["a1".to_string()]
            ),
        ]
    );
    assert!(m.folders.is_empty() && m.synced_folders.is_empty() && m.unresolved.is_empty());
    assert_eq!(
        m.reasons
            .iter()
            .map(|r| r.rule.as_str())
            .collect::<Vec<_>>(),
        vec!["bind"]
    );
}

#[test]
fn attacker_sync_is_entire_mailbox_with_the_synced_folders_listed() {
    let s = run(
        vec![
            R::mia("s1", "2024-03-12T03:00:00", "bob@x.com", ATTACKER, "Sync").folder("\\Inbox"),
            R::mia("s2", "2024-03-12T03:00:05", "bob@x.com", ATTACKER, "Sync").folder("\\Archive"),
            R::mia("b1", "2024-03-12T03:01:00", "bob@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<b@x>"),
        ],
        &attacker_ip(),
    );
    let m = mailbox(&s, "bob@x.com");
    assert_eq!(m.verdict, Verdict::EntireMailbox);
    assert_eq!(
        m.synced_folders
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        vec!["\\Archive", "\\Inbox"]
    );
    assert_eq!(m.reasons[0].rule.as_str(), "attacker-sync");
    // Evidence below the verdict is still listed.
    assert_eq!(m.messages.len(), 1);
}

#[test]
fn owner_sync_does_not_widen_the_scope() {
    let s = run(
        vec![
            R::mia("s1", "2024-03-12T03:00:00", "bob@x.com", OWNER, "Sync").folder("\\Inbox"),
            R::mia("b1", "2024-03-12T03:01:00", "bob@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<b@x>"),
        ],
        &attacker_ip(),
    );
    assert_eq!(mailbox(&s, "bob@x.com").verdict, Verdict::Messages);
}

#[test]
fn a_throttled_record_opens_a_24h_window_and_scopes_the_entire_mailbox() {
    let s = run(
        vec![
            R::mia("a1", "2024-03-12T04:00:00", "carol@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<c@x>"),
            R::mia("t1", "2024-03-12T05:30:00", "carol@x.com", OWNER, "Bind").throttled(),
            R::mia("t2", "2024-03-13T01:00:00", "carol@x.com", OWNER, "Bind").throttled(),
            R::mia("t3", "2024-03-20T00:00:00", "carol@x.com", OWNER, "Bind").throttled(),
        ],
        &attacker_ip(),
    );
    let m = mailbox(&s, "carol@x.com");
    assert_eq!(m.verdict, Verdict::EntireMailbox);
    let w: Vec<(&str, &str, &str)> = m
        .throttled_windows
        .iter()
        .map(|w| (w.start.as_str(), w.end.as_str(), w.record_id.as_str()))
        .collect();
    // t1 and t2 overlap and merge; t3 is a window of its own.
    assert_eq!(
        w,
        vec![
            ("2024-03-12T05:30:00Z", "2024-03-14T01:00:00Z", "t1"),
            ("2024-03-20T00:00:00Z", "2024-03-21T00:00:00Z", "t3")
        ]
    );
    assert_eq!(m.reasons[0].rule.as_str(), "throttled");
}

#[test]
fn a_throttled_mailbox_without_attacker_activity_stays_out_with_a_warning() {
    let s = run(
        vec![
            R::mia("t1", "2024-03-12T05:30:00", "dan@x.com", OWNER, "Bind").throttled(),
            R::mia("a1", "2024-03-12T04:00:00", "carol@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<c@x>"),
        ],
        &attacker_ip(),
    );
    assert!(s.mailboxes.iter().all(|m| m.mailbox != "dan@x.com"));
    assert!(
        s.warnings
            .iter()
            .any(|w| w.code == "throttled-no-attacker" && w.message.contains("dan@x.com"))
    );
}

#[test]
fn an_owner_only_mailbox_is_not_in_scope() {
    let s = run(
        vec![
            R::mia("o1", "2024-03-12T01:00:00", "grace@x.com", OWNER, "Bind")
                .msg("\\Inbox", "<g@x>"),
            R::mia("a1", "2024-03-12T04:00:00", "carol@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<c@x>"),
        ],
        &attacker_ip(),
    );
    assert!(s.mailboxes.iter().all(|m| m.mailbox != "grace@x.com"));
    assert_eq!(s.mailboxes_without_attacker_activity, 1);
    assert_eq!((s.counts.attacker, s.counts.other), (1, 1));
}

#[test]
fn a_session_that_moves_to_another_ip_is_linked() {
    let s = run(
        vec![
            R::mia("a1", "2024-03-12T02:00:00", "alice@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<m1@x>")
                .session("S-ATT"),
            R::mia(
                "l1",
                "2024-03-12T09:00:00",
                "alice@x.com",
                "192.0.2.200",
                "Bind",
            )
            .msg("\\Inbox", "<m9@x>")
            .session("s-att"),
            R::mia("o1", "2024-03-12T09:30:00", "alice@x.com", OWNER, "Bind")
                .msg("\\Inbox", "<m8@x>")
                .session("S-OWNER"),
        ],
        &attacker_ip(),
    );
    let m = mailbox(&s, "alice@x.com");
    let ids: Vec<&str> = m
        .messages
        .iter()
        .map(|x| x.internet_message_id.as_str())
        .collect();
    assert_eq!(ids, vec!["m1@x", "m9@x"]);
    assert_eq!(m.messages[1].attribution.to_string(), "linked");
    assert_eq!(
        (s.counts.attacker, s.counts.linked, s.counts.other),
        (1, 1, 1)
    );
    let ctx = m
        .contexts
        .iter()
        .find(|c| c.client_ip.as_deref() == Some("192.0.2.200"))
        .unwrap();
    assert_eq!(ctx.attribution.as_str(), "linked");
    assert!(
        ctx.why.as_deref().unwrap().contains("s-att"),
        "{:?}",
        ctx.why
    );

    let mut off = attacker_ip();
    off.session_link = false;
    let s = run(
        vec![
            R::mia("a1", "2024-03-12T02:00:00", "alice@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<m1@x>")
                .session("S-ATT"),
            R::mia(
                "l1",
                "2024-03-12T09:00:00",
                "alice@x.com",
                "192.0.2.200",
                "Bind",
            )
            .msg("\\Inbox", "<m9@x>")
            .session("S-ATT"),
        ],
        &off,
    );
    assert_eq!(mailbox(&s, "alice@x.com").messages.len(), 1);
}

/// The report lists the contexts that bear on the verdict (attacker, linked, or named by an
/// indicator gap) and only counts the others (`mailscope contexts` lists them all).
#[test]
fn only_attacker_linked_and_gap_contexts_are_listed_the_rest_counted() {
    let mut off = attacker_ip();
    off.session_link = false;
    let s = run(
        vec![
            R::mia("a1", "2024-03-12T02:00:00", "alice@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<m1@x>")
                .session("S-ATT"),
            R::mia("a2", "2024-03-12T04:00:00", "alice@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<m2@x>")
                .session("S-ATT"),
            // The attacker's session from a network new during the attack, which the indicators
            // do not name: two gaps.
            R::mia(
                "g1",
                "2024-03-12T03:00:00",
                "alice@x.com",
                "192.0.2.200",
                "Bind",
            )
            .msg("\\Inbox", "<m9@x>")
            .session("S-ATT"),
            R::mia("o1", "2024-03-11T09:00:00", "alice@x.com", OWNER, "Bind")
                .msg("\\Inbox", "<m8@x>")
                .session("S-OWNER"),
            R::mia("o2", "2024-03-12T09:30:00", "alice@x.com", OWNER, "Bind")
                .msg("\\Inbox", "<m7@x>")
                .session("S-OWNER"),
        ],
        &off,
    );
    let m = mailbox(&s, "alice@x.com");
    let listed: Vec<(Option<&str>, &str, &[&str])> = m
        .contexts
        .iter()
        .map(|c| {
            (
                c.client_ip.as_deref(),
                c.attribution.as_str(),
                c.indicator_gaps.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            (Some(ATTACKER), "attacker", &[][..]),
            (
                Some("192.0.2.200"),
                "other",
                &["new-network", "same-session"][..]
            ),
        ]
    );
    assert!(s.indicator_gaps.iter().any(|g| g.signal == "same-session"));
    let left_out = m.contexts_left_out.as_ref().expect("the owner's context");
    assert_eq!((left_out.contexts, left_out.records), (1, 2));

    // Nothing left out: no count.
    let s = run(
        vec![
            R::mia("a1", "2024-03-12T02:00:00", "alice@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<m1@x>"),
        ],
        &attacker_ip(),
    );
    let m = mailbox(&s, "alice@x.com");
    assert_eq!(m.contexts.len(), 1);
    assert!(m.contexts_left_out.is_none());
}

#[test]
fn trusted_ip_overrides_every_attacker_indicator() {
    let mut c = cfg(Indicators {
        attacker_ip: vec!["203.0.113.0/24".into()],
        attacker_user: vec!["alice@x.com".into()],
        trusted_ip: vec!["203.0.113.66/32".into()],
        ..Default::default()
    });
    c.session_link = true;
    let s = run(
        vec![
            R::mia("a1", "2024-03-12T02:00:00", "alice@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<m1@x>")
                .session("S1"),
            R::mia(
                "a2",
                "2024-03-12T02:05:00",
                "alice@x.com",
                "203.0.113.7",
                "Bind",
            )
            .msg("\\Inbox", "<m2@x>"),
        ],
        &c,
    );
    let m = mailbox(&s, "alice@x.com");
    assert_eq!(
        m.messages
            .iter()
            .map(|x| x.internet_message_id.as_str())
            .collect::<Vec<_>>(),
        vec!["m2@x"]
    );
    assert_eq!(s.counts.trusted, 1);
}

#[test]
fn records_outside_the_window_are_counted_and_ignored() {
    let mut c = attacker_ip();
    c.start = Some(t("2024-03-12"));
    c.end = Some(t("2024-03-13"));
    let s = run(
        vec![
            R::mia(
                "before",
                "2024-03-11T23:59:59",
                "alice@x.com",
                ATTACKER,
                "Bind",
            )
            .msg("\\Inbox", "<early@x>"),
            R::mia("in", "2024-03-12T00:00:00", "alice@x.com", ATTACKER, "Bind")
                .msg("\\Inbox", "<in@x>"),
            R::mia(
                "end",
                "2024-03-13T00:00:00",
                "alice@x.com",
                ATTACKER,
                "Sync",
            )
            .folder("\\Inbox"),
        ],
        &c,
    );
    let m = mailbox(&s, "alice@x.com");
    assert_eq!(m.verdict, Verdict::Messages);
    assert_eq!(
        m.messages
            .iter()
            .map(|x| x.internet_message_id.as_str())
            .collect::<Vec<_>>(),
        vec!["in@x"]
    );
    assert_eq!(s.counts.out_of_window, 2);
}

#[test]
fn binds_that_do_not_name_their_messages_are_unresolved_and_scope_the_folder() {
    let s = run(
        vec![
            R::mia("u1", "2024-03-12T02:00:00", "erin@x.com", ATTACKER, "Bind").folder("\\Finance"),
            R::mia("u2", "2024-03-12T02:05:00", "erin@x.com", ATTACKER, "Bind")
                .msg("\\Drafts", "<d1@x>")
                .count(4),
        ],
        &attacker_ip(),
    );
    let m = mailbox(&s, "erin@x.com");
    assert_eq!(m.verdict, Verdict::Folders);
    assert_eq!(m.unresolved.len(), 2);
    assert_eq!(m.unresolved[1].message_ids_listed, 1);
    assert_eq!(m.unresolved[1].operation_count, Some(4));
    let f: Vec<(&str, &str)> = m
        .folders
        .iter()
        .map(|f| (f.path.as_str(), f.reason.as_str()))
        .collect();
    assert_eq!(
        f,
        vec![
            ("\\Drafts", "unresolved-bind"),
            ("\\Finance", "unresolved-bind")
        ]
    );
    assert_eq!(m.messages.len(), 1);
}

#[test]
fn admin_activity_without_any_access_auditing_is_unauditable() {
    let mut rule = R::new(
        "r1",
        "2024-03-12T01:56:15",
        "erin@x.com",
        ATTACKER,
        "New-InboxRule",
    );
    rule.0.detail = Some("Name=.; MoveToFolder=RSS Feeds".into());
    let s = run(
        vec![
            rule,
            R::mia("o1", "2024-03-12T01:00:00", "frank@x.com", OWNER, "Bind")
                .msg("\\Inbox", "<f@x>"),
        ],
        &attacker_ip(),
    );
    let m = mailbox(&s, "erin@x.com");
    assert_eq!(m.verdict, Verdict::EntireMailbox);
    assert_eq!(
        m.reasons
            .iter()
            .map(|r| r.rule.as_str())
            .collect::<Vec<_>>(),
        vec!["unauditable"]
    );
    assert!(!m.access_auditing);
    assert_eq!(m.actions[0].operation, "New-InboxRule");
    assert!(s.warnings.iter().any(|w| w.code == "no-access-auditing"));
}

#[test]
fn attacker_sign_in_to_an_audited_mailbox_is_none_with_the_action_listed() {
    let s = run(
        vec![
            R::new(
                "l1",
                "2024-03-12T06:10:00",
                "frank@x.com",
                ATTACKER,
                "UserLoggedIn",
            ),
            R::mia("o1", "2024-03-11T10:00:00", "frank@x.com", OWNER, "Bind")
                .msg("\\Inbox", "<f@x>"),
        ],
        &attacker_ip(),
    );
    let m = mailbox(&s, "frank@x.com");
    assert_eq!(m.verdict, Verdict::None);
    assert_eq!(m.actions.len(), 1);
}

#[test]
fn legacy_folderbind_with_an_utc_offset_decides_in_or_out_of_window() {
    // dave's attacker FolderBinds are 16:30 and 16:31 on 11 March at -08:00: 00:30 UTC on the 12th.
    let ing = read_one(&sample("SearchResult.xml"));
    let frame = Frame::from_records(&ing.records(), &ing.file_paths()).unwrap();
    let mut c = attacker_ip();
    c.start = Some(t("2024-03-12T00:00:00Z"));
    let s = compute(&frame, &c).unwrap();
    let m = mailbox(&s, "dave@contoso.com");
    assert_eq!(m.verdict, Verdict::Folders);
    assert_eq!(
        m.folders
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>(),
        vec!["\\Finance\\Contracts", "\\Inbox"]
    );
    assert_eq!(m.folders[1].first_seen, "2024-03-12T00:30:00.125Z");
    assert_eq!(m.actions[0].operation, "HardDelete");
    assert_eq!(
        m.actions[0].items[0].subject.as_deref(),
        Some("Security alert: new sign-in to your account")
    );

    // Read as local time the binds would fall on the 11th; with the offset they are after this end.
    c.start = None;
    c.end = Some(t("2024-03-12T00:30:00Z"));
    let s = compute(&frame, &c).unwrap();
    assert!(s.mailboxes.iter().all(|m| m.mailbox != "dave@contoso.com"));
}

#[test]
fn json_report_written_in_parallel_is_serde_json_pretty_byte_for_byte() {
    let ing = read(&[sample("")]);
    let cfg = attacker_ip();
    let scope = compute(&ing.frame, &cfg).unwrap();
    let mut report =
        mailscope::report::build_report(ing.provenance(), scope, &cfg, vec!["mailscope".into()]);
    assert!(report.mailboxes.len() > 1);
    let expected = serde_json::to_string_pretty(&report).unwrap() + "\n";
    let mut written = Vec::new();
    report.write_json(&mut written).unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), expected);
    // Over several batches of mailboxes.
    report.mailboxes = report.mailboxes.iter().cycle().take(40).cloned().collect();
    let expected = serde_json::to_string_pretty(&report).unwrap() + "\n";
    let mut written = Vec::new();
    report.write_json(&mut written).unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), expected);
    // And with no mailbox at all.
    report.mailboxes.clear();
    let expected = serde_json::to_string_pretty(&report).unwrap() + "\n";
    let mut written = Vec::new();
    report.write_json(&mut written).unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), expected);
}

/// `scope` builds only the columns the engine reads, the repetitive ones categorical
/// (`Columns::Views`): on the bundled samples, the test fixtures and the real export, the
/// findings are those of a frame with every column as text, and the columns left out are not
/// there.
#[test]
fn a_scope_frame_gives_the_findings_of_a_full_frame() {
    use mailscope::frame::{Columns, col};
    use mailscope::ingest::{IngestOptions, ingest};
    use mailscope::progress::NoProgress;
    let mut paths = vec![root().join("samples"), root().join("tests/fixtures")];
    let real = root().join("../shared/samples/real");
    if real.is_dir() {
        paths.push(real);
    }
    let read = |columns| {
        let opts = IngestOptions {
            columns,
            ..IngestOptions::default()
        };
        ingest(&paths, &opts, &NoProgress).frame
    };
    let (full, lean) = (read(Columns::All), read(Columns::Views));
    assert_eq!(full.height(), lean.height());
    assert!(lean.items.column(col::INTERNET_MESSAGE_ID_RAW).is_err());
    assert!(lean.records.column(col::MAILBOX_GUID).is_err());
    // Columns with few distinct values are categorical there.
    let mailbox = lean.records.column(col::MAILBOX).unwrap();
    assert!(mailbox.dtype().is_categorical(), "{:?}", mailbox.dtype());
    let cfg = attacker_ip();
    let (a, b) = (compute(&full, &cfg).unwrap(), compute(&lean, &cfg).unwrap());
    assert!(
        !a.mailboxes.is_empty(),
        "the samples have attacker activity"
    );
    let json = |s: &mailscope::scope::Scope| {
        serde_json::to_string_pretty(&(&s.mailboxes, &s.counts, &s.warnings)).unwrap()
    };
    assert_eq!(json(&a), json(&b));
}
