//! Indicator gaps: records the indicators left `other` that share a strong signal with the
//! attacker's records, so that a scope built on an incomplete list of indicators says so
//! instead of quietly stopping short. One pass over the records, lookups only:
//! - the same session or token id as an attacker record (when session linking is off, or the
//!   id is one linking does not follow);
//! - the same app as an attacker record, when it is no Microsoft first-party app;
//! - the same scripting client (`python-requests`, `curl` …) as an attacker record;
//! - a network first seen in the evidence after the attacker's first record, on a mailbox the
//!   attacker touched, between the attacker's first and last record;
//! - a content-search step or a grant with no client IP (Security & Compliance cmdlet records
//!   carry none, so no IP indicator can match them) by an account that made attacker records.

use super::MailboxNames;
use super::attribution::Attribution;
use super::findings::IndicatorGap;
use crate::context::{is_first_party, is_scripting_client, network_of};
use crate::frame::RecordsView;
use crate::model::Micros;
use crate::time::rfc3339;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// How many record ids and client IPs a gap cites: the smallest, so that the citation is the
/// same whichever share of the records (a partition of a distributed run) held them.
const CITED: usize = 5;

/// The signals, in name order (the order of the gaps and of a context's `indicator_gaps`); a
/// record's signals are a bit set over this list.
pub const SIGNALS: [&str; 5] = [
    "new-network",
    "same-account-no-ip",
    "same-app",
    "same-scripting-client",
    "same-session",
];

/// The signals of a bit set over `SIGNALS`.
pub fn signals_of(marks: u8) -> Vec<&'static str> {
    (0..SIGNALS.len())
        .filter(|b| marks & (1 << b) != 0)
        .map(|b| SIGNALS[b])
        .collect()
}

pub(crate) fn bit(signal: &str) -> u8 {
    1 << SIGNALS
        .iter()
        .position(|s| *s == signal)
        .expect("a known signal")
}

/// One gap as a share of the records found it: merged with the other shares' by `merge`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GapPart {
    records: u64,
    ids: BTreeSet<String>,
    mailboxes: BTreeSet<String>,
    ips: BTreeSet<String>,
    first: Option<Micros>,
    last: Option<Micros>,
}

impl GapPart {
    fn cite(set: &mut BTreeSet<String>, value: &str) {
        if set.len() < CITED || set.last().is_some_and(|l| value < l.as_str()) {
            set.insert(value.to_string());
            if set.len() > CITED {
                set.pop_last();
            }
        }
    }

    fn merge(&mut self, other: GapPart) {
        self.records += other.records;
        for id in &other.ids {
            Self::cite(&mut self.ids, id);
        }
        for ip in &other.ips {
            Self::cite(&mut self.ips, ip);
        }
        self.mailboxes.extend(other.mailboxes);
        self.first = self.first.into_iter().chain(other.first).min();
        self.last = self.last.into_iter().chain(other.last).max();
    }
}

/// The gaps a share of the records found, by signal then value.
pub type GapParts = BTreeMap<(&'static str, String), GapPart>;

/// Merge the gaps of every share into the run's.
pub fn merge(parts: impl IntoIterator<Item = GapParts>) -> Vec<IndicatorGap> {
    let mut all = GapParts::new();
    for part in parts {
        for (key, gap) in part {
            all.entry(key).or_default().merge(gap);
        }
    }
    all.into_iter()
        .map(|((signal, value), g)| IndicatorGap {
            signal,
            value,
            records: g.records,
            record_ids: g.ids.into_iter().collect(),
            mailboxes: g.mailboxes.into_iter().collect(),
            client_ips: g.ips.into_iter().collect(),
            first_seen: g.first.map(rfc3339).unwrap_or_default(),
            last_seen: g.last.map(rfc3339).unwrap_or_default(),
        })
        .collect()
}

/// When each client network first appears in the records (any record, any attribution): by
/// address first (few distinct ones), then by network. A run's is the earliest of its shares'.
pub fn network_first_seen(v: &RecordsView) -> BTreeMap<String, Micros> {
    let mut ip_first: HashMap<&str, Micros> = HashMap::new();
    for i in 0..v.time.len() {
        if let Some(ip) = v.client_ip.at(i) {
            let t = v.time[i];
            ip_first
                .entry(ip)
                .and_modify(|f| *f = (*f).min(t))
                .or_insert(t);
        }
    }
    let mut first_seen: BTreeMap<String, Micros> = BTreeMap::new();
    for (ip, t) in ip_first {
        if let Some(net) = network_of(ip) {
            first_seen
                .entry(net)
                .and_modify(|f| *f = (*f).min(t))
                .or_insert(t);
        }
    }
    first_seen
}

/// The gaps of the records `own` takes, by signal then value, and the signals of each record a
/// gap cites (a bit set over `SIGNALS`; empty when no gap): the report lists the contexts of
/// the cited records, as many as the gaps cite, where every record with a signal would be most
/// of a tenant's contexts when users roam across networks during a long attack. Every attacker
/// record of the run must be in `v` (their signals are what the others are checked against);
/// `first_seen` is the run's. A share's citations hold the run's that fall in it: the run cites
/// the smallest ids of all shares' smallest.
pub fn indicator_gaps(
    v: &RecordsView,
    attr: &[Attribution],
    names: &MailboxNames,
    first_seen: &BTreeMap<String, Micros>,
    own: &(dyn Fn(usize) -> bool + Sync),
) -> (GapParts, Vec<u8>) {
    let n = v.time.len();
    let attacker: Vec<usize> = (0..n).filter(|&i| attr[i].is_attacker_activity()).collect();
    let times = attacker.iter().map(|&i| v.time[i]);
    let (Some(start), Some(end)) = (times.clone().min(), times.max()) else {
        return (GapParts::new(), Vec::new());
    };
    let mut sessions: HashSet<&str> = HashSet::new();
    let mut apps: HashSet<&str> = HashSet::new();
    let mut clients: HashSet<&str> = HashSet::new();
    let mut attacked: HashSet<&str> = HashSet::new();
    let mut accounts: HashSet<String> = HashSet::new();
    for &i in &attacker {
        accounts.extend(v.actor.at(i).map(str::to_lowercase));
        sessions.extend(
            [v.session_id.at(i), v.aad_session_id.at(i), v.token_id.at(i)]
                .into_iter()
                .flatten(),
        );
        apps.extend(
            [v.app_id.at(i), v.client_app_id.at(i)]
                .into_iter()
                .flatten()
                .filter(|a| !a.is_empty() && !is_first_party(a)),
        );
        clients.extend(v.client_info.at(i).filter(|c| is_scripting_client(c)));
        attacked.extend(names.of(v, i));
    }
    let mut gaps = GapParts::new();
    // Each record with a signal, for its marks once the citations are known (a smaller id
    // seen later takes a citation from a larger one).
    let mut signalled: Vec<(usize, &'static str, String)> = Vec::new();
    for (i, a) in attr.iter().enumerate() {
        if *a != Attribution::Other || !own(i) {
            continue;
        }
        let mut hits: Vec<(&'static str, String)> = Vec::new();
        for s in [v.session_id.at(i), v.aad_session_id.at(i), v.token_id.at(i)]
            .into_iter()
            .flatten()
        {
            if sessions.contains(s) {
                hits.push(("same-session", s.to_string()));
            }
        }
        for a in [v.app_id.at(i), v.client_app_id.at(i)]
            .into_iter()
            .flatten()
        {
            if apps.contains(a) {
                hits.push(("same-app", a.to_string()));
            }
        }
        if let Some(c) = v.client_info.at(i).filter(|c| clients.contains(c)) {
            hits.push(("same-scripting-client", c.to_string()));
        }
        if v.exposure.at(i).is_some() && v.client_ip.at(i).is_none() {
            if let Some(actor) = v.actor.at(i) {
                if accounts.contains(&actor.to_lowercase()) {
                    hits.push(("same-account-no-ip", actor.to_string()));
                }
            }
        }
        let mailbox = names.of(v, i);
        let t = v.time[i];
        let during = mailbox.is_some_and(|mb| attacked.contains(mb)) && (start..=end).contains(&t);
        if let Some(net) = v.client_ip.at(i).filter(|_| during).and_then(network_of) {
            if first_seen.get(&net).is_some_and(|&f| f >= start) {
                hits.push(("new-network", net));
            }
        }
        hits.sort();
        hits.dedup();
        for key in hits {
            signalled.push((i, key.0, key.1.clone()));
            let g = gaps.entry(key).or_default();
            g.records += 1;
            GapPart::cite(&mut g.ids, v.record_id.text(i));
            g.mailboxes.extend(mailbox.map(str::to_string));
            if let Some(ip) = v.client_ip.at(i) {
                GapPart::cite(&mut g.ips, ip);
            }
            g.first = Some(g.first.map_or(t, |f| f.min(t)));
            g.last = Some(g.last.map_or(t, |l| l.max(t)));
        }
    }
    let mut marks = Vec::new();
    for (i, signal, value) in signalled {
        let id = v.record_id.text(i);
        if gaps[&(signal, value)].ids.contains(id) {
            if marks.is_empty() {
                marks = vec![0u8; n];
            }
            marks[i] |= bit(signal);
        }
    }
    (gaps, marks)
}
