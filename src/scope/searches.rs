//! Content searches as objects (rule `content-search-export`): each search assembled from its
//! records — created, changed, started, exported, downloaded, previewed, purged — in (time,
//! record id) order, its locations and query replayed step by step. When an attacker or linked
//! record took the results (exported, downloaded, previewed, added to a review set), every
//! mailbox the search covered at that moment is exposed to the messages its query can match.
//! `All` locations, or locations no record gives, cover every mailbox of the evidence and of the
//! inventories (and the report says mailboxes outside the evidence are exposed too).

use super::attribution::Attribution;
use super::findings::{ContentSearch, Reason, Rule, SearchExposure, SearchStepSeen, SearchedFor};
use super::kql::Query;
use crate::frame::RecordsView;
use crate::model::Micros;
use crate::parse::exposure::{Exposure, SearchStep, Step};
use crate::time::rfc3339;
use std::collections::{BTreeMap, BTreeSet};

/// What the searches of the evidence expose.
#[derive(Default)]
pub struct Found {
    pub searches: Vec<ContentSearch>,
    /// Per mailbox (resolved name), its exposures, with the time up to which its mail was in
    /// the results.
    pub by_mailbox: BTreeMap<String, Vec<SearchExposure>>,
    /// Searches whose results the attacker purged: (search, record ids).
    pub purged: Vec<(String, Vec<String>)>,
}

/// A search's state while its records are replayed: its locations and query (`None`: no
/// record gives them, taken as all), and what its last export held.
#[derive(Default, Clone)]
struct State {
    display: Option<String>,
    case: Option<String>,
    locations: Option<Vec<String>>,
    query: Option<String>,
    /// Locations and query when the results were last exported: a download takes those, even
    /// after the search was changed.
    exported: Option<(Option<Vec<String>>, Option<String>)>,
}

impl State {
    fn apply(&mut self, s: &SearchStep) {
        if s.display.is_some() && self.display.is_none() {
            self.display = s.display.clone();
        }
        match s.step {
            // A search made (again) under this name: what an earlier one held is gone, and a
            // query not given is the empty query, all mail.
            Step::Created => {
                let exported = self.exported.take();
                *self = State {
                    display: self.display.take(),
                    query: Some(String::new()),
                    exported,
                    ..State::default()
                };
            }
            Step::Removed => {
                let exported = self.exported.take();
                *self = State {
                    display: self.display.take(),
                    exported,
                    ..State::default()
                };
            }
            _ => {}
        }
        if s.unreadable {
            // What the record changed cannot be read: the search may now cover anything.
            self.locations = None;
            self.query = None;
            return;
        }
        if s.case.is_some() {
            self.case = s.case.clone();
        }
        if let Some(l) = &s.locations {
            self.locations = Some(l.clone());
        }
        if let Some(l) = &mut self.locations {
            l.extend(s.add_locations.iter().cloned());
            l.retain(|x| !s.remove_locations.iter().any(|r| r.eq_ignore_ascii_case(x)));
        }
        if s.query.is_some() {
            self.query = s.query.clone();
        }
        if s.step == Step::Exported {
            self.exported = Some((self.locations.clone(), self.query.clone()));
        }
    }

    /// The state after steps of one instant: each applied alone, then merged: locations united
    /// (unknown if any is), a query kept only where all agree (else unknown: all mail).
    fn after<'s>(before: &State, steps: impl Iterator<Item = &'s SearchStep>) -> State {
        let outcomes: Vec<State> = steps
            .map(|s| {
                let mut st = before.clone();
                st.apply(s);
                st
            })
            .collect();
        let mut merged = match outcomes.first() {
            Some(first) => first.clone(),
            None => return before.clone(),
        };
        for o in &outcomes[1..] {
            merged.display = merged.display.take().or_else(|| o.display.clone());
            merged.case = merged.case.take().or_else(|| o.case.clone());
            (merged.locations, merged.query) = widest(
                (merged.locations.take(), merged.query.take()),
                (o.locations.clone(), o.query.clone()),
            );
            merged.exported = match (merged.exported.take(), o.exported.clone()) {
                (Some(a), Some(b)) => Some(widest(a, b)),
                (a, b) => a.or(b),
            };
        }
        merged
    }

    /// What an exposing step took: the search as it stands, and for a download (or a look at
    /// the exports) also what its last export held.
    fn taken(&self, step: Step) -> Vec<(Option<Vec<String>>, Option<String>)> {
        let mut out = vec![(self.locations.clone(), self.query.clone())];
        if step == Step::Downloaded {
            if let Some(e) = &self.exported {
                if *e != out[0] {
                    out.push(e.clone());
                }
            }
        }
        out
    }
}

type Snapshot = (Option<Vec<String>>, Option<String>);

/// Two states' locations and query as one, never narrower than either.
fn widest(a: Snapshot, b: Snapshot) -> Snapshot {
    let locations = match (a.0, b.0) {
        (Some(mut x), Some(y)) => {
            x.extend(y);
            x.sort();
            x.dedup();
            Some(x)
        }
        _ => None,
    };
    let query = if a.1 == b.1 { a.1 } else { None };
    (locations, query)
}

/// The mailbox a location names: itself when the evidence or the inventories have it, else the
/// one mailbox whose alias it is (an AD path by its last element, `SMTP:` taken off).
fn resolve(location: &str, known: &BTreeSet<String>) -> Option<String> {
    let l = location.trim().to_lowercase();
    let l = l.strip_prefix("smtp:").unwrap_or(&l);
    let l = l.rsplit(['/', '\\']).next().unwrap_or(l).trim().to_string();
    if known.contains(&l) {
        return Some(l);
    }
    if l.contains('@') {
        return None;
    }
    let mut by_alias = known
        .iter()
        .filter(|k| k.split_once('@').is_some_and(|(a, _)| a == l));
    match (by_alias.next(), by_alias.next()) {
        (Some(m), None) => Some(m.clone()),
        _ => None,
    }
}

fn step_of(v: &RecordsView, i: usize) -> Option<SearchStep> {
    match crate::parse::exposure::from_column(v.exposure.at(i)?)? {
        Exposure::Search(s) => Some(s),
        _ => None,
    }
}

/// Assemble the searches; `known` is every mailbox of the evidence and the inventories.
pub fn assemble(v: &RecordsView, attr: &[Attribution], known: &BTreeSet<String>) -> Found {
    let mut groups: BTreeMap<String, Vec<(Micros, &str, usize, SearchStep)>> = BTreeMap::new();
    for i in 0..v.time.len() {
        if v.exposure.at(i).is_none() {
            continue;
        }
        let Some(step) = step_of(v, i) else { continue };
        let id = v.record_id.text(i);
        // A step that names no search is a search of its own.
        let key = step
            .search
            .clone()
            .unwrap_or_else(|| format!("(unnamed search, record {id})"));
        groups
            .entry(key)
            .or_default()
            .push((v.time[i], id, i, step));
    }
    let mut found = Found::default();
    for (key, mut steps) in groups {
        // Time, record id, then content: two copies of one record that differ are both kept
        // (`copies`), and which comes first must not depend on the files' order.
        steps.sort_by_cached_key(|s| (s.0, s.1.to_string(), serde_json::to_string(&s.3).ok()));
        assemble_one(v, attr, known, &key, &steps, &mut found);
    }
    for list in found.by_mailbox.values_mut() {
        list.sort_by(|a, b| (&a.time, &a.search).cmp(&(&b.time, &b.search)));
    }
    found
}

fn assemble_one(
    v: &RecordsView,
    attr: &[Attribution],
    known: &BTreeSet<String>,
    key: &str,
    steps: &[(Micros, &str, usize, SearchStep)],
    found: &mut Found,
) {
    let mut state = State::default();
    let mut seen = Vec::new();
    // (mailbox or None for unresolved, query) → exposure under construction.
    let mut exposures: BTreeMap<(String, Option<String>), SearchExposure> = BTreeMap::new();
    let mut unresolved_locations = BTreeSet::new();
    let mut all_mailboxes = false;
    let mut exposed = false;
    let mut purged = Vec::new();
    let mut applied_until = 0;
    for (k, (t, id, i, step)) in steps.iter().enumerate() {
        if k >= applied_until {
            // Steps of one instant have no order between them: each is applied to the state
            // before them, and the results merged to the widest.
            let end = steps[k..]
                .iter()
                .position(|s| s.0 != *t)
                .map_or(steps.len(), |n| k + n);
            state = State::after(&state, steps[k..end].iter().map(|s| &s.3));
            applied_until = end;
        }
        let party = attr[*i].party();
        seen.push(SearchStepSeen {
            step: step.step.as_str().to_string(),
            time: rfc3339(*t),
            record_id: id.to_string(),
            attribution: party,
            source: format!("{}:{}", v.source_file.text(*i), v.source_line[*i]),
        });
        if !attr[*i].is_attacker_activity() {
            continue;
        }
        if step.step == Step::Purged {
            purged.push(id.to_string());
        }
        if !step.step.exposes() {
            continue;
        }
        exposed = true;
        let display = state.display.clone().unwrap_or_else(|| key.to_string());
        for (locations, query) in state.taken(step.step) {
            let taking = Taking {
                time: *t,
                id,
                step: step.step,
                display: &display,
            };
            expose(
                &taking,
                locations.as_deref(),
                query,
                known,
                &mut exposures,
                &mut unresolved_locations,
                &mut all_mailboxes,
            );
        }
    }
    let display = state.display.clone().unwrap_or_else(|| key.to_string());
    let mut mailboxes: BTreeSet<String> = BTreeSet::new();
    for ((mb, _), mut e) in exposures {
        e.records.sort();
        mailboxes.insert(mb.clone());
        found.by_mailbox.entry(mb).or_default().push(e);
    }
    if !purged.is_empty() {
        found.purged.push((display.clone(), purged.clone()));
    }
    found.searches.push(ContentSearch {
        search: display,
        case: state.case,
        locations: state.locations,
        unresolved_locations: unresolved_locations.into_iter().collect(),
        query: state.query,
        steps: seen,
        exposed,
        all_mailboxes,
        mailboxes: mailboxes.into_iter().collect(),
        purged: !purged.is_empty(),
    });
}

/// One exposing step of a search.
struct Taking<'a> {
    time: Micros,
    id: &'a str,
    step: Step,
    display: &'a str,
}

/// The mailboxes one taking of a search's results exposed, as exposures keyed by mailbox and
/// query.
fn expose(
    taking: &Taking,
    locations: Option<&[String]>,
    query: Option<String>,
    known: &BTreeSet<String>,
    exposures: &mut BTreeMap<(String, Option<String>), SearchExposure>,
    unresolved_locations: &mut BTreeSet<String>,
    all_mailboxes: &mut bool,
) {
    // A query never recorded (the search was made before the evidence) is taken as all mail;
    // one made in the evidence without a query is all mail.
    let query = query.filter(|q| !q.trim().is_empty());
    let all_mail = query
        .as_deref()
        .is_none_or(|q| Query::parse(q).matches_all());
    let by_all = match locations {
        None => true,
        Some(l) => l.iter().any(|x| x.trim().eq_ignore_ascii_case("all")),
    };
    let mut mailboxes: BTreeSet<String> = BTreeSet::new();
    if by_all {
        *all_mailboxes = true;
        mailboxes.extend(known.iter().cloned());
    }
    for l in locations.into_iter().flatten() {
        if l.trim().eq_ignore_ascii_case("all") {
            continue;
        }
        match resolve(l, known) {
            Some(m) => {
                mailboxes.insert(m);
            }
            None => {
                unresolved_locations.insert(l.trim().to_string());
            }
        }
    }
    for mb in mailboxes {
        let e = exposures
            .entry((mb, query.clone()))
            .or_insert_with(|| SearchExposure {
                search: taking.display.to_string(),
                steps: Vec::new(),
                time: rfc3339(taking.time),
                query: query.clone(),
                all_mail,
                by_all_locations: by_all,
                records: Vec::new(),
                matched_messages: None,
                unresolved: true,
                until: taking.time,
            });
        let name = taking.step.as_str().to_string();
        if !e.steps.contains(&name) {
            e.steps.push(name);
        }
        if !e.records.iter().any(|r| r == taking.id) {
            e.records.push(taking.id.to_string());
        }
        e.by_all_locations |= by_all;
        e.until = e.until.max(taking.time);
    }
}

/// The attacker's search texts among `rows`.
pub fn searched_for(
    v: &RecordsView,
    attr: &[Attribution],
    rows: &[usize],
    hide_text: bool,
) -> Vec<SearchedFor> {
    let mut out: Vec<SearchedFor> = rows
        .iter()
        .filter(|&&i| attr[i].is_attacker_activity() && v.exposure.at(i).is_some())
        .filter_map(|&i| {
            let Exposure::SearchText(s) = crate::parse::exposure::from_column(v.exposure.at(i)?)?
            else {
                return None;
            };
            Some(SearchedFor {
                time: rfc3339(v.time[i]),
                source: s.source.as_str().to_string(),
                text: (!hide_text).then_some(s.text),
                record_id: v.record_id.text(i).to_string(),
                attribution: attr[i].party(),
            })
        })
        .collect();
    // Two differing copies of one record are both kept: their text orders them.
    out.sort_by(|a, b| (&a.time, &a.record_id, &a.text).cmp(&(&b.time, &b.record_id, &b.text)));
    out
}

/// The mailbox's content-search exposures, and their reason in its place (before
/// `unauditable`, the order of `mailbox_scope`'s reasons), the verdict widened with it.
pub fn add(scope: &mut super::findings::MailboxScope, exposures: Vec<SearchExposure>) {
    if let Some(reason) = reason(&exposures) {
        let at = scope
            .reasons
            .iter()
            .position(|r| r.rule == Rule::Unauditable)
            .unwrap_or(scope.reasons.len());
        scope.reasons.insert(at, reason);
        scope.verdict = super::rules::verdict(&scope.reasons);
    }
    scope.content_searches = exposures;
}

/// The mailbox's reason: `content-search-export`, the entire mailbox when a query took all mail.
fn reason(exposures: &[SearchExposure]) -> Option<Reason> {
    if exposures.is_empty() {
        return None;
    }
    let all_mail = exposures.iter().any(|e| e.all_mail);
    let names: BTreeSet<&str> = exposures.iter().map(|e| e.search.as_str()).collect();
    let detail = if all_mail {
        format!(
            "the attacker took the results of content search(es) {} whose query selects all mail in this mailbox: every message in it up to then left the tenant",
            names.into_iter().collect::<Vec<_>>().join(", ")
        )
    } else {
        format!(
            "the attacker took the results of content search(es) {}: every message of this mailbox the query can match, up to then, left the tenant",
            names.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    let records: BTreeSet<&str> = exposures
        .iter()
        .flat_map(|e| e.records.iter().map(String::as_str))
        .collect();
    Some(Reason {
        rule: if all_mail {
            Rule::ContentSearchExportAllMail
        } else {
            Rule::ContentSearchExport
        },
        detail,
        records: records.into_iter().map(str::to_string).collect(),
    })
}
