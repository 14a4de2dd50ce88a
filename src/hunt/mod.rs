//! `hunt`: with no indicator given, rank the suspects of the evidence — IPs, networks, sessions,
//! apps, clients, actor accounts — by how strongly the records say "compromise", each with its
//! reasons and the records behind them (docs/hunting.md). A starting point for the analyst,
//! never a verdict.
//!
//! Two passes over the records in time order (hash maps, no pairwise loops): the first learns
//! the baselines and who touched what, the second scores each record's suspects.

pub mod baseline;
pub mod render;
pub mod signals;

use crate::frame::{Frame, RecordsView};
use crate::model::{Micros, is_mail_items_accessed};
use crate::time::rfc3339;
use baseline::{Baseline, Dim};
use serde::Serialize;
use signals::Signal;
use std::collections::{BTreeSet, HashMap, HashSet};

type FastHash = foldhash::fast::FixedState;

/// What a suspect is. The order breaks ties between equal scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Session,
    Network,
    Ip,
    App,
    Client,
    User,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Session => "session",
            Kind::Network => "network",
            Kind::Ip => "ip",
            Kind::App => "app",
            Kind::Client => "client",
            Kind::User => "user",
        }
    }
}

/// One signal found on a suspect, with the first records that show it.
#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub weight: u32,
    pub text: String,
    pub records: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suspect {
    pub kind: Kind,
    pub value: String,
    pub score: u32,
    pub reasons: Vec<Reason>,
    pub mailboxes: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub records: u64,
}

/// A value seen for (nearly) every mailbox since the start of the evidence: a backup,
/// archiving or eDiscovery service. Never scored.
#[derive(Debug, Clone, Serialize)]
pub struct Ordinary {
    pub kind: Kind,
    pub value: String,
    pub mailboxes: u64,
    pub first_seen: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hunt {
    /// Suspects with a score above 0, best first.
    pub suspects: Vec<Suspect>,
    /// Values discounted as ordinary everywhere since the start.
    pub ordinary: Vec<Ordinary>,
}

/// Share of all mailboxes a value must touch, from the start of the evidence, to be ordinary.
pub const ORDINARY_SHARE: f64 = 0.8;
/// Suspects at or above this score go into `--suggest` files.
pub const SUGGEST_THRESHOLD: u32 = 50;

struct Hit<'a> {
    records: Vec<&'a str>,
    detail: BTreeSet<String>,
}

struct Acc<'a> {
    kind: Kind,
    value: &'a str,
    first: Micros,
    last: Micros,
    records: u64,
    mailboxes: HashSet<&'a str, FastHash>,
    unfamiliar_mailboxes: BTreeSet<&'a str>,
    hits: Vec<Option<Hit<'a>>>,
    ordinary: bool,
}

impl<'a> Acc<'a> {
    fn hit(&mut self, s: Signal, record: &'a str, detail: Option<&str>) {
        let h = self.hits[s.index()].get_or_insert_with(|| Hit {
            records: Vec::new(),
            detail: BTreeSet::new(),
        });
        if h.records.len() < signals::MAX_RECORDS && h.records.last() != Some(&record) {
            h.records.push(record);
        }
        if let Some(d) = detail {
            if h.detail.len() <= signals::MAX_RECORDS && !h.detail.contains(d) {
                h.detail.insert(d.to_string());
            }
        }
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The suspects of record `i` (each once).
fn keys_of<'a>(v: &'a RecordsView, nets: &'a [Option<String>], i: usize) -> Vec<(Kind, &'a str)> {
    let mut out: Vec<(Kind, &str)> = Vec::with_capacity(9);
    let mut push = |k: Kind, s: Option<&'a str>| {
        if let Some(s) = non_empty(s) {
            if !out.contains(&(k, s)) {
                out.push((k, s));
            }
        }
    };
    push(Kind::Ip, v.client_ip.at(i));
    push(Kind::Network, nets[i].as_deref());
    push(Kind::Session, v.session_id.at(i));
    push(Kind::Session, v.aad_session_id.at(i));
    push(Kind::Session, v.token_id.at(i));
    push(Kind::App, v.app_id.at(i));
    push(Kind::App, v.client_app_id.at(i));
    push(Kind::Client, v.client_info.at(i));
    push(Kind::User, v.actor.at(i));
    out
}

fn apps_of(v: &RecordsView, i: usize) -> [Option<&str>; 2] {
    [non_empty(v.app_id.at(i)), non_empty(v.client_app_id.at(i))]
}

/// Rank the suspects of a frame.
pub fn hunt(frame: &Frame) -> Result<Hunt, String> {
    let v = frame.records_view().map_err(|e| e.to_string())?;
    Ok(hunt_view(&v))
}

pub fn hunt_view(v: &RecordsView) -> Hunt {
    let n = v.time.len();
    // Time order, then content: the same evidence in any order gives the same ranking.
    let mut order: Vec<usize> = (0..n).collect();
    let sort_key = |i: usize| {
        (
            v.time[i],
            v.record_id.text(i),
            v.mailbox.text(i),
            v.operation.text(i),
        )
    };
    order.sort_by(|&a, &b| sort_key(a).cmp(&sort_key(b)));
    // Baselines are per acting account (a service reading every mailbox has its own), else
    // per mailbox.
    let users: Vec<Option<String>> = (0..n)
        .map(|i| non_empty(v.actor.at(i).or(v.mailbox.at(i))).map(str::to_lowercase))
        .collect();
    let nets: Vec<Option<String>> = (0..n)
        .map(|i| v.client_ip.at(i).and_then(signals::network_of))
        .collect();
    let dims_of = |i: usize| -> Vec<(Dim, &str)> {
        let mut d = Vec::with_capacity(5);
        if let Some(x) = nets[i].as_deref() {
            d.push((Dim::Network, x));
        }
        if let Some(x) = non_empty(v.client_info.at(i)) {
            d.push((Dim::Client, x));
        }
        for a in apps_of(v, i).into_iter().flatten() {
            d.push((Dim::App, a));
        }
        if let Some(x) = non_empty(v.logon_type.at(i)) {
            d.push((Dim::LogonType, x));
        }
        d
    };

    // Pass 1: baselines, suspects with their mailboxes and spans, sessions' networks.
    let mut base = Baseline::default();
    let mut index: HashMap<(Kind, &str), usize, FastHash> = HashMap::default();
    let mut accs: Vec<Acc> = Vec::new();
    let mut all_mailboxes: HashSet<&str, FastHash> = HashSet::default();
    let mut session_nets: HashMap<&str, BTreeSet<&str>, FastHash> = HashMap::default();
    let mut keys: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &i in &order {
        let u = users[i].as_deref();
        base.learn(u, &dims_of(i));
        let mailbox = non_empty(v.mailbox.at(i));
        if let Some(m) = mailbox {
            all_mailboxes.insert(m);
        }
        for (k, x) in keys_of(v, &nets, i) {
            let s = *index.entry((k, x)).or_insert_with(|| {
                accs.push(Acc {
                    kind: k,
                    value: x,
                    first: v.time[i],
                    last: v.time[i],
                    records: 0,
                    mailboxes: HashSet::default(),
                    unfamiliar_mailboxes: BTreeSet::new(),
                    hits: (0..signals::ALL.len()).map(|_| None).collect(),
                    ordinary: false,
                });
                accs.len() - 1
            });
            let a = &mut accs[s];
            a.last = a.last.max(v.time[i]);
            a.records += 1;
            if let Some(m) = mailbox {
                a.mailboxes.insert(m);
            }
            keys[i].push(s);
            if k == Kind::Session {
                if let Some(net) = nets[i].as_deref() {
                    session_nets.entry(x).or_default().insert(net);
                }
            }
        }
    }
    // A user's REST use from a familiar context (before which REST elsewhere is new).
    let mut rest_familiar: HashMap<&str, Micros, FastHash> = HashMap::default();
    for &i in &order {
        let Some(u) = users[i].as_deref() else {
            continue;
        };
        if signals::is_rest(v.client_info.at(i), apps_of(v, i))
            && !dims_of(i)
                .iter()
                .any(|&(d, x)| d != Dim::LogonType && base.new_to_user(d, Some(u), x))
        {
            rest_familiar.entry(u).or_insert(v.time[i]);
        }
    }

    // Ordinary everywhere since the start: never new, never scored.
    let start = order.first().map(|&i| v.time[i]).unwrap_or(0);
    let end = order.last().map(|&i| v.time[i]).unwrap_or(0);
    let early = start + ((end - start) / 10).max(3_600_000_000);
    let need = ((all_mailboxes.len() as f64 * ORDINARY_SHARE).ceil() as usize).max(3);
    for a in &mut accs {
        a.ordinary = a.mailboxes.len() >= need && a.first <= early;
    }
    let ordinary_set: HashSet<(Kind, &str), FastHash> = accs
        .iter()
        .filter(|a| a.ordinary)
        .map(|a| (a.kind, a.value))
        .collect();
    let ordinary = |k: Kind, x: &str| ordinary_set.contains(&(k, x));
    let dim_kind = |d: Dim| match d {
        Dim::Network => Some(Kind::Network),
        Dim::Client => Some(Kind::Client),
        Dim::App => Some(Kind::App),
        _ => None,
    };
    let is_new = |d: Dim, u: Option<&str>, x: &str| {
        base.new_to_user(d, u, x) && !dim_kind(d).is_some_and(|k| ordinary(k, x))
    };
    let ordinary_flags: Vec<bool> = accs.iter().map(|a| a.ordinary).collect();

    // Pass 2: each record's signals, to each of its suspects.
    let mut burst: HashMap<(usize, i64), u64, FastHash> = HashMap::default();
    for &i in &order {
        let u = users[i].as_deref();
        let id = v.record_id.text(i);
        let net = nets[i].as_deref();
        let client = non_empty(v.client_info.at(i));
        let apps = apps_of(v, i);
        let new_net = net.is_some_and(|x| is_new(Dim::Network, u, x));
        let tenant_net = new_net && net.is_some_and(|x| base.new_to_tenant(Dim::Network, x));
        let new_client = client.is_some_and(|x| is_new(Dim::Client, u, x));
        let tenant_client =
            new_client && client.is_some_and(|x| base.new_to_tenant(Dim::Client, x));
        let new_app = |a: &str| is_new(Dim::App, u, a);
        let any_new_app = apps.iter().flatten().any(|a| new_app(a));
        let foreign = apps
            .iter()
            .flatten()
            .any(|a| new_app(a) && !signals::is_first_party(a));
        let new_logon = non_empty(v.logon_type.at(i)).is_some_and(|x| is_new(Dim::LogonType, u, x));
        let unfamiliar = new_net || new_client || any_new_app;
        let op = v.operation.text(i);
        let mia = is_mail_items_accessed(op);
        let sync = mia
            && v.mail_access_type
                .at(i)
                .is_some_and(|x| x.eq_ignore_ascii_case("sync"));
        let items = v.operation_count[i].unwrap_or(1).max(1) as u64;
        let scripting = client.is_some_and(signals::is_scripting_client);
        let rest = signals::is_rest(client, apps)
            && u.is_some_and(|u| rest_familiar.get(u).is_none_or(|&t| t > v.time[i]));
        let replayed: Vec<&str> = [v.session_id.at(i), v.aad_session_id.at(i), v.token_id.at(i)]
            .into_iter()
            .filter_map(non_empty)
            .filter(|s| session_nets.get(s).is_some_and(|n| n.len() >= 2))
            .collect();
        let mailbox = non_empty(v.mailbox.at(i));
        for &s in &keys[i] {
            if ordinary_flags[s] {
                continue;
            }
            let a = &mut accs[s];
            let anomalous = match a.kind {
                Kind::Network | Kind::Ip | Kind::Session => new_net,
                Kind::Client => new_client,
                // Every mailbox is read through first-party apps: their novelty is the
                // network's or the client's to show.
                Kind::App => new_app(a.value) && !signals::is_first_party(a.value),
                Kind::User => unfamiliar,
            };
            if a.kind == Kind::Session && replayed.contains(&a.value) {
                let nets = session_nets[a.value].iter().copied().collect::<Vec<_>>();
                a.hit(Signal::SessionReplay, id, Some(&nets.join(", ")));
            }
            if !anomalous {
                continue;
            }
            let who = u.map(|u| format!("new to {u}"));
            match a.kind {
                Kind::Network | Kind::Ip | Kind::Session | Kind::User => {
                    if new_net {
                        a.hit(Signal::NewNetworkUser, id, who.as_deref());
                        if tenant_net {
                            a.hit(Signal::NewNetworkTenant, id, None);
                        }
                    }
                    if a.kind == Kind::User {
                        if new_client {
                            a.hit(Signal::NewClientUser, id, client);
                        }
                        if any_new_app {
                            a.hit(Signal::NewAppUser, id, None);
                        }
                    }
                    if new_logon {
                        a.hit(Signal::NewLogonType, id, v.logon_type.at(i));
                    }
                }
                Kind::Client => {
                    a.hit(Signal::NewClientUser, id, who.as_deref());
                    if tenant_client {
                        a.hit(Signal::NewClientTenant, id, None);
                    }
                }
                Kind::App => a.hit(Signal::NewAppUser, id, who.as_deref()),
            }
            if !replayed.is_empty() && a.kind != Kind::Session {
                a.hit(Signal::SessionReplay, id, Some(replayed[0]));
            }
            if scripting {
                a.hit(Signal::ScriptingClient, id, client);
            }
            if foreign && (a.kind != Kind::App || !signals::is_first_party(a.value)) {
                a.hit(Signal::ForeignApp, id, None);
            }
            if signals::is_rule_change(op, non_empty(v.forwarding.at(i))) {
                a.hit(Signal::MailRule, id, Some(op));
            }
            if signals::is_permission_grant(op) {
                a.hit(Signal::PermissionGrant, id, Some(op));
            }
            if signals::is_deletion(op) {
                a.hit(Signal::MailDeleted, id, Some(op));
            }
            if v.is_throttled[i] {
                a.hit(Signal::Throttled, id, None);
            }
            if rest {
                a.hit(Signal::RestNew, id, None);
            }
            if mia {
                if sync {
                    a.hit(Signal::SyncNew, id, mailbox);
                } else {
                    a.hit(Signal::MailRead, id, mailbox);
                    let hour = v.time[i].div_euclid(3_600_000_000);
                    let b = burst.entry((s, hour)).or_insert(0);
                    *b += items;
                    if *b >= signals::BURST_ITEMS_PER_HOUR {
                        a.hit(Signal::BindBurst, id, Some(&rfc3339(hour * 3_600_000_000)));
                    }
                }
                if let Some(m) = mailbox {
                    a.unfamiliar_mailboxes.insert(m);
                }
            }
        }
    }

    let mut suspects = Vec::new();
    let mut ordinary_out = Vec::new();
    for a in accs {
        if a.ordinary {
            if matches!(a.kind, Kind::Ip | Kind::Network | Kind::App | Kind::Client) {
                ordinary_out.push(Ordinary {
                    kind: a.kind,
                    value: a.value.to_string(),
                    mailboxes: a.mailboxes.len() as u64,
                    first_seen: rfc3339(a.first),
                });
            }
            continue;
        }
        let mut a = a;
        if a.unfamiliar_mailboxes.len() >= 2 {
            let list: Vec<&str> = a.unfamiliar_mailboxes.iter().copied().collect();
            let first = a.hits[Signal::MailRead.index()]
                .as_ref()
                .or(a.hits[Signal::SyncNew.index()].as_ref())
                .map(|h| h.records.clone())
                .unwrap_or_default();
            a.hits[Signal::ManyMailboxes.index()] = Some(Hit {
                records: first,
                detail: [format!("{} mailboxes: {}", list.len(), list.join(", "))]
                    .into_iter()
                    .collect(),
            });
        }
        let reasons: Vec<Reason> = signals::ALL
            .iter()
            .filter_map(|&s| {
                let h = a.hits[s.index()].as_ref()?;
                let mut text = s.text().to_string();
                if !h.detail.is_empty() {
                    let shown: Vec<&str> = h
                        .detail
                        .iter()
                        .take(signals::MAX_RECORDS)
                        .map(String::as_str)
                        .collect();
                    let more = if h.detail.len() > signals::MAX_RECORDS {
                        ", …"
                    } else {
                        ""
                    };
                    text = format!("{text}: {}{more}", shown.join("; "));
                }
                Some(Reason {
                    code: s.code(),
                    weight: s.weight(),
                    text,
                    records: h.records.iter().map(|r| r.to_string()).collect(),
                })
            })
            .collect();
        let score: u32 = reasons.iter().map(|r| r.weight).sum();
        if score == 0 {
            continue;
        }
        let mut mailboxes: Vec<String> = a.mailboxes.iter().map(|m| m.to_string()).collect();
        mailboxes.sort();
        suspects.push(Suspect {
            kind: a.kind,
            value: a.value.to_string(),
            score,
            reasons,
            mailboxes,
            first_seen: rfc3339(a.first),
            last_seen: rfc3339(a.last),
            records: a.records,
        });
    }
    suspects.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.value.cmp(&b.value))
    });
    ordinary_out.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| a.value.cmp(&b.value)));
    Hunt {
        suspects,
        ordinary: ordinary_out,
    }
}
