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
use crate::ipdb::{IpDbs, IpInfo, distance_km};
use crate::model::{Micros, is_mail_items_accessed, lowercased};
use crate::time::rfc3339;
use baseline::{Baseline, Dim};
use serde::Serialize;
use signals::Signal;
use std::borrow::Cow;
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
    /// ASN, organisation and country of an IP or network suspect, from `--ip-db`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_info: Option<IpInfo>,
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
    /// Whether `--ip-db` databases were given (the CSV then has their columns).
    #[serde(skip)]
    pub ip_db: bool,
}

/// Share of all mailboxes a value must touch, from the start of the evidence, to be ordinary.
pub const ORDINARY_SHARE: f64 = 0.8;
/// Suspects at or above this score go into `--suggest` files.
pub const SUGGEST_THRESHOLD: u32 = 50;

struct Hit<'a> {
    records: Vec<&'a str>,
    detail: BTreeSet<String>,
}

/// A suspect while the records are read. Most suspects (a token id per record) have one record
/// and no signal: nothing is allocated for them but this.
struct Acc<'a> {
    kind: Kind,
    value: &'a str,
    first: Micros,
    last: Micros,
    records: u64,
    mailboxes: u32,
    /// The mailbox of the suspect's last record: runs of one mailbox are counted once.
    last_mailbox: &'a str,
    unfamiliar_mailboxes: BTreeSet<&'a str>,
    hits: Vec<(Signal, Hit<'a>)>,
    ordinary: bool,
}

impl<'a> Acc<'a> {
    fn hit(&mut self, s: Signal, record: &'a str, detail: Option<&str>) {
        let k = match self.hits.iter().position(|(x, _)| *x == s) {
            Some(k) => k,
            None => {
                self.hits.push((
                    s,
                    Hit {
                        records: Vec::new(),
                        detail: BTreeSet::new(),
                    },
                ));
                self.hits.len() - 1
            }
        };
        let h = &mut self.hits[k].1;
        if h.records.len() < signals::MAX_RECORDS && h.records.last() != Some(&record) {
            h.records.push(record);
        }
        if let Some(d) = detail {
            if h.detail.len() <= signals::MAX_RECORDS && !h.detail.contains(d) {
                h.detail.insert(d.to_string());
            }
        }
    }

    fn get(&self, s: Signal) -> Option<&Hit<'a>> {
        self.hits.iter().find(|(x, _)| *x == s).map(|(_, h)| h)
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// The suspects of record `i` (each once), given its network.
fn keys_of<'a>(v: &'a RecordsView, net: Option<&'a str>, i: usize) -> Vec<(Kind, &'a str)> {
    let mut out: Vec<(Kind, &str)> = Vec::with_capacity(9);
    let mut push = |k: Kind, s: Option<&'a str>| {
        if let Some(s) = non_empty(s) {
            if !out.contains(&(k, s)) {
                out.push((k, s));
            }
        }
    };
    push(Kind::Ip, v.client_ip.at(i));
    push(Kind::Network, net);
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
    hunt_with(frame, None)
}

/// Rank the suspects of a frame, with the `--ip-db` databases if any.
pub fn hunt_with(frame: &Frame, ipdb: Option<&IpDbs>) -> Result<Hunt, String> {
    let v = frame.records_view().map_err(|e| e.to_string())?;
    Ok(hunt_view_with(&v, ipdb))
}

pub fn hunt_view(v: &RecordsView) -> Hunt {
    hunt_view_with(v, None)
}

/// An address's `--ip-db` record, with its ASN as the baseline's value (`AS64500`).
struct Geo {
    info: IpInfo,
    asn: Option<String>,
}

pub fn hunt_view_with(v: &RecordsView, ipdb: Option<&IpDbs>) -> Hunt {
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
    crate::timing::phase("hunt: records ordered");
    // Baselines are per acting account (a service reading every mailbox has its own), else
    // per mailbox.
    let users: Vec<Option<Cow<str>>> = (0..n)
        .map(|i| non_empty(v.actor.at(i).or(v.mailbox.at(i))).map(|u| lowercased(Cow::Borrowed(u))))
        .collect();
    // Each address's network, computed once per distinct address.
    let mut net_names: Vec<String> = Vec::new();
    let mut net_of_ip: HashMap<&str, Option<u32>, FastHash> = HashMap::default();
    let net_ids: Vec<Option<u32>> = (0..n)
        .map(|i| {
            let ip = v.client_ip.at(i)?;
            *net_of_ip.entry(ip).or_insert_with(|| {
                let net = signals::network_of(ip)?;
                net_names.push(net);
                Some(net_names.len() as u32 - 1)
            })
        })
        .collect();
    drop(net_of_ip);
    let net_of = |i: usize| net_ids[i].map(|k| net_names[k as usize].as_str());
    // Each address's --ip-db record, looked up once per distinct address.
    let mut geo: Vec<Geo> = Vec::new();
    let geo_ids: Vec<Option<u32>> = match ipdb {
        None => Vec::new(),
        Some(db) => {
            let mut of_ip: HashMap<&str, Option<u32>, FastHash> = HashMap::default();
            (0..n)
                .map(|i| {
                    let ip = v.client_ip.at(i)?;
                    *of_ip.entry(ip).or_insert_with(|| {
                        let info = db.lookup(ip)?;
                        let asn = info.asn.map(|n| format!("AS{n}"));
                        geo.push(Geo { info, asn });
                        Some(geo.len() as u32 - 1)
                    })
                })
                .collect()
        }
    };
    let geo_of = |i: usize| geo_ids.get(i).copied().flatten().map(|k| &geo[k as usize]);
    let geo_dims = |i: usize| -> Vec<(Dim, &str)> {
        let mut d = Vec::new();
        if let Some(g) = geo_of(i) {
            if let Some(c) = g.info.country.as_deref() {
                d.push((Dim::Country, c));
            }
            if let Some(a) = g.asn.as_deref() {
                d.push((Dim::Asn, a));
            }
        }
        d
    };
    let dims_of = |i: usize| -> Vec<(Dim, &str)> {
        let mut d = Vec::with_capacity(5);
        if let Some(x) = net_of(i) {
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
    let mut suspect_mailboxes: HashSet<(u32, &str), FastHash> = HashSet::default();
    // A session's first network, and all its networks once it has two.
    let mut session_first: HashMap<&str, &str, FastHash> = HashMap::default();
    let mut session_nets: HashMap<&str, BTreeSet<&str>, FastHash> = HashMap::default();
    // The suspects of each record, flat: those of record i at key_starts[i]..key_starts[i + 1].
    let mut key_rows: Vec<u32> = Vec::with_capacity(n * 6);
    let mut key_starts: Vec<usize> = vec![0; n + 1];
    let mut rank_of: Vec<usize> = vec![0; n];
    for (r, &i) in order.iter().enumerate() {
        rank_of[i] = r;
        let u = users[i].as_deref();
        let mut dims = dims_of(i);
        dims.extend(geo_dims(i));
        base.learn(u, &dims);
        let mailbox = non_empty(v.mailbox.at(i));
        if let Some(m) = mailbox {
            all_mailboxes.insert(m);
        }
        let net = net_of(i);
        for (k, x) in keys_of(v, net, i) {
            let s = *index.entry((k, x)).or_insert_with(|| {
                accs.push(Acc {
                    kind: k,
                    value: x,
                    first: v.time[i],
                    last: v.time[i],
                    records: 0,
                    mailboxes: 0,
                    last_mailbox: "",
                    unfamiliar_mailboxes: BTreeSet::new(),
                    hits: Vec::new(),
                    ordinary: false,
                });
                accs.len() - 1
            });
            let a = &mut accs[s];
            a.last = a.last.max(v.time[i]);
            a.records += 1;
            if let Some(m) = mailbox.filter(|m| *m != a.last_mailbox) {
                a.last_mailbox = m;
                if suspect_mailboxes.insert((s as u32, m)) {
                    a.mailboxes += 1;
                }
            }
            key_rows.push(s as u32);
            if k == Kind::Session {
                if let Some(net) = net {
                    let first = *session_first.entry(x).or_insert(net);
                    if first != net {
                        let nets = session_nets.entry(x).or_default();
                        nets.insert(first);
                        nets.insert(net);
                    }
                }
            }
        }
        key_starts[r + 1] = key_rows.len();
    }
    drop(session_first);
    crate::timing::phase("hunt: baselines learnt"); // A user's REST use from a familiar context (before which REST elsewhere is new).
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
        a.ordinary = a.mailboxes as usize >= need && a.first <= early;
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

    crate::timing::phase("hunt: ordinary values found");
    // Pass 2: each record's signals, to each of its suspects.
    let mut burst: HashMap<(usize, i64), u64, FastHash> = HashMap::default();
    // Each user's last place (--ip-db City coordinates): time, coordinates, address.
    let mut last_place: HashMap<&str, (Micros, (f64, f64), &str), FastHash> = HashMap::default();
    for &i in &order {
        let u = users[i].as_deref();
        let id = v.record_id.text(i);
        let net = net_of(i);
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
            .filter(|s| session_nets.contains_key(s))
            .collect();
        let mailbox = non_empty(v.mailbox.at(i));
        let g = geo_of(i);
        let new_country = g
            .and_then(|g| g.info.country.as_deref())
            .filter(|&c| base.new_to_user(Dim::Country, u, c))
            .map(|c| format!("{c} for {}", u.unwrap_or("-")));
        let new_asn = g
            .and_then(|g| g.asn.as_deref())
            .filter(|&x| base.new_to_user(Dim::Asn, u, x))
            .map(|x| format!("{x} for {}", u.unwrap_or("-")));
        // Impossible travel: from the user's last place to this one faster than TRAVEL_KMH,
        // arriving on a network new to the user (the way back home is not a signal).
        let here = g.and_then(|g| g.info.location());
        let travel = match (u, here, non_empty(v.client_ip.at(i))) {
            (Some(u), Some(here), Some(ip)) => last_place
                .insert(u, (v.time[i], here, ip))
                .and_then(|(t, there, from)| {
                    let km = distance_km(there, here);
                    let hours = (v.time[i] - t) as f64 / 3.6e9;
                    (new_net && km > signals::TRAVEL_MIN_KM && km > signals::TRAVEL_KMH * hours)
                        .then(|| {
                            format!(
                                "{u}: {from} to {ip}, {km:.0} km in {} min",
                                (v.time[i] - t) / 60_000_000
                            )
                        })
                }),
            _ => None,
        };
        let r = rank_of[i];
        for &s in &key_rows[key_starts[r]..key_starts[r + 1]] {
            let s = s as usize;
            let a = &mut accs[s];
            if a.ordinary {
                continue;
            }
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
            if matches!(a.kind, Kind::Ip | Kind::Network) {
                if let Some(c) = &new_country {
                    a.hit(Signal::NewCountryUser, id, Some(c));
                }
                if let Some(x) = &new_asn {
                    a.hit(Signal::NewAsnUser, id, Some(x));
                }
                if let Some(t) = &travel {
                    a.hit(Signal::ImpossibleTravel, id, Some(t));
                }
            }
            if !anomalous {
                continue;
            }
            let who = u;
            match a.kind {
                Kind::Network | Kind::Ip | Kind::Session | Kind::User => {
                    if new_net {
                        a.hit(Signal::NewNetworkUser, id, who);
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
                    a.hit(Signal::NewClientUser, id, who);
                    if tenant_client {
                        a.hit(Signal::NewClientTenant, id, None);
                    }
                }
                Kind::App => a.hit(Signal::NewAppUser, id, who),
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
                        // The hour is named once, when its burst is reached.
                        let hour_text = (*b - items < signals::BURST_ITEMS_PER_HOUR)
                            .then(|| rfc3339(hour * 3_600_000_000));
                        a.hit(Signal::BindBurst, id, hour_text.as_deref());
                    }
                }
                if let Some(m) = mailbox {
                    a.unfamiliar_mailboxes.insert(m);
                }
            }
        }
    }

    crate::timing::phase("hunt: records scored");
    // Mailboxes of the suspects that are listed.
    let mut listed_mailboxes: HashMap<u32, Vec<&str>, FastHash> = HashMap::default();
    for &(s, m) in &suspect_mailboxes {
        let a = &accs[s as usize];
        if !a.ordinary && !a.hits.is_empty() {
            listed_mailboxes.entry(s).or_default().push(m);
        }
    }
    drop(suspect_mailboxes);
    let mut suspects = Vec::new();
    let mut ordinary_out = Vec::new();
    for (k, mut a) in accs.into_iter().enumerate() {
        if a.ordinary {
            if matches!(a.kind, Kind::Ip | Kind::Network | Kind::App | Kind::Client) {
                ordinary_out.push(Ordinary {
                    kind: a.kind,
                    value: a.value.to_string(),
                    mailboxes: u64::from(a.mailboxes),
                    first_seen: rfc3339(a.first),
                });
            }
            continue;
        }
        if a.hits.is_empty() {
            continue;
        }
        if a.unfamiliar_mailboxes.len() >= 2 {
            let list: Vec<&str> = a.unfamiliar_mailboxes.iter().copied().collect();
            let first = a
                .get(Signal::MailRead)
                .or(a.get(Signal::SyncNew))
                .map(|h| h.records.clone())
                .unwrap_or_default();
            a.hits.push((
                Signal::ManyMailboxes,
                Hit {
                    records: first,
                    detail: [format!("{} mailboxes: {}", list.len(), list.join(", "))]
                        .into_iter()
                        .collect(),
                },
            ));
        }
        let reasons: Vec<Reason> = signals::ALL
            .iter()
            .filter_map(|&s| {
                let h = a.get(s)?;
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
        let mut mailboxes: Vec<String> = listed_mailboxes
            .remove(&(k as u32))
            .unwrap_or_default()
            .into_iter()
            .map(str::to_string)
            .collect();
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
            ip_info: match (ipdb, a.kind) {
                (Some(db), Kind::Ip) => db.lookup(a.value),
                (Some(db), Kind::Network) => db.lookup_network(a.value),
                _ => None,
            },
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
        ip_db: ipdb.is_some(),
    }
}
