//! The scope engine: a pure function of the frame and the indicators (rules in
//! `shared/docs/scope-rules.md`). Attribution first (trusted → attacker → linked → other), then per
//! mailbox: throttling, Sync, Bind, unresolved binds, legacy actions, auditability, verdict.

pub mod indicators;

use crate::frame::{Frame, ItemsOf, ItemsView, RecordsView};
use crate::ingest::Warning;
use crate::model::{Micros, is_mail_items_accessed, lowercased};
use crate::report::*;
use crate::time::{DAY, rfc3339};
use indicators::{Indicators, Matcher};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// A fast hash for lookups keyed by ids (never iterated, so its order cannot reach a report).
type FastHash = foldhash::fast::FixedState;

#[derive(Debug, Clone, Default)]
pub struct ScopeConfig {
    pub indicators: Indicators,
    pub start: Option<Micros>,
    pub end: Option<Micros>,
    /// Limit the report to these mailboxes (lowercased); empty = all.
    pub mailboxes: Vec<String>,
    pub session_link: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribution {
    OutOfWindow,
    Trusted(String),
    Attacker(String),
    Linked(String),
    Other,
}

impl Attribution {
    pub fn label(&self) -> &'static str {
        match self {
            Attribution::OutOfWindow => "out-of-window",
            Attribution::Trusted(_) => "trusted",
            Attribution::Attacker(_) => "attacker",
            Attribution::Linked(_) => "linked",
            Attribution::Other => "other",
        }
    }
    pub fn why(&self) -> Option<&str> {
        match self {
            Attribution::Trusted(w) | Attribution::Attacker(w) | Attribution::Linked(w) => Some(w),
            _ => None,
        }
    }
    fn is_attacker_activity(&self) -> bool {
        matches!(self, Attribution::Attacker(_) | Attribution::Linked(_))
    }
}

/// What the engine found, before inputs and provenance are added.
pub struct Scope {
    pub mailboxes: Vec<MailboxScope>,
    pub counts: RecordCounts,
    pub mailboxes_without_attacker_activity: u64,
    pub warnings: Vec<Warning>,
}

fn sessions_of(v: &RecordsView, i: usize) -> [Option<&str>; 3] {
    [v.session_id.at(i), v.aad_session_id.at(i), v.token_id.at(i)]
}

fn in_window(t: Micros, cfg: &ScopeConfig) -> bool {
    cfg.start.is_none_or(|s| t >= s) && cfg.end.is_none_or(|e| t < e)
}

/// Attribute every record exactly once.
pub fn attribute(v: &RecordsView, cfg: &ScopeConfig, m: &Matcher) -> Vec<Attribution> {
    let n = v.time.len();
    let mut out: Vec<Attribution> = (0..n)
        .into_par_iter()
        .map(|i| {
            if !in_window(v.time[i], cfg) {
                return Attribution::OutOfWindow;
            }
            let c = indicators::Context {
                ip: v.client_ip.at(i),
                sessions: sessions_of(v, i),
                client_info: v.client_info.at(i),
                apps: [v.app_id.at(i), v.client_app_id.at(i)],
                actors: [v.actor.at(i), v.actor_sid.at(i)],
            };
            if let Some(w) = m.trusted(&c) {
                Attribution::Trusted(w)
            } else if let Some(w) = m.attacker(&c) {
                Attribution::Attacker(w)
            } else {
                Attribution::Other
            }
        })
        .collect();
    if !cfg.session_link {
        return out;
    }
    // Linking is transitive over sessions only: grow the attacker session set to a fixed point.
    // Session ids compare case-insensitively; each is lowercased once, here.
    let keys: Vec<[Option<Cow<str>>; 3]> = (0..n)
        .into_par_iter()
        .map(|i| sessions_of(v, i).map(|s| s.map(|s| lowercased(Cow::Borrowed(s)))))
        .collect();
    let mut sessions: HashMap<&str, &str, FastHash> = HashMap::default();
    for i in 0..n {
        if let Attribution::Attacker(_) = out[i] {
            for k in keys[i].iter().flatten() {
                sessions.entry(k).or_insert(v.record_id.text(i));
            }
        }
    }
    loop {
        let mut changed = false;
        for i in 0..n {
            if out[i] != Attribution::Other {
                continue;
            }
            let hit = sessions_of(v, i)
                .into_iter()
                .zip(&keys[i])
                .find_map(|(s, k)| Some((s?, *sessions.get(k.as_deref()?)?)));
            if let Some((s, shared_with)) = hit {
                out[i] = Attribution::Linked(format!(
                    "session {s} (shared with attacker record {shared_with})"
                ));
                for k in keys[i].iter().flatten() {
                    sessions.entry(k).or_insert(v.record_id.text(i));
                }
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    out
}

/// The in-window records of each mailbox the configuration asks for (all when it names none),
/// in row order; mailboxes in name order.
fn rows_by_mailbox<'v>(
    v: &'v RecordsView,
    attr: &[Attribution],
    cfg: &ScopeConfig,
) -> Vec<(&'v str, Vec<usize>)> {
    let keep = |mb: &str| cfg.mailboxes.is_empty() || cfg.mailboxes.iter().any(|m| m == mb);
    let mut rows: HashMap<&str, Vec<usize>, FastHash> = HashMap::default();
    for (i, a) in attr.iter().enumerate() {
        match v.mailbox.at(i) {
            Some(mb) if *a != Attribution::OutOfWindow && keep(mb) => {
                rows.entry(mb).or_default().push(i)
            }
            _ => {}
        }
    }
    let mut groups: Vec<(&str, Vec<usize>)> = rows.into_iter().collect();
    // Mailbox names are unique here: the order is total.
    groups.sort_unstable_by(|a, b| a.0.cmp(b.0));
    groups
}

fn is_legacy(op: &str, name: &str) -> bool {
    op.eq_ignore_ascii_case(name)
}

fn is_access_audit(op: &str) -> bool {
    is_mail_items_accessed(op) || is_legacy(op, "FolderBind") || is_legacy(op, "MessageBind")
}

/// Sorted, de-duplicated record ids.
fn ids<'a>(it: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    it.into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(str::to_string)
        .collect()
}

#[derive(Default)]
struct Span {
    first: Micros,
    last: Micros,
    records: BTreeSet<String>,
}

impl Span {
    fn new(t: Micros) -> Span {
        Span {
            first: t,
            last: t,
            records: BTreeSet::new(),
        }
    }
    fn hit(&mut self, t: Micros, id: &str) {
        self.first = self.first.min(t);
        self.last = self.last.max(t);
        self.records.insert(id.to_string());
    }
}

/// What every attribution-based output starts from: the frame's columns, each record's
/// attribution, and each record's items (indices into `items`).
pub struct Attributed {
    pub v: RecordsView,
    pub items: ItemsView,
    pub attr: Vec<Attribution>,
    pub items_of: ItemsOf,
}

pub fn attributed(frame: &Frame, cfg: &ScopeConfig) -> Result<Attributed, String> {
    let v = frame.records_view().map_err(|e| e.to_string())?;
    let items = frame.items_view().map_err(|e| e.to_string())?;
    crate::timing::phase("columns viewed");
    let matcher = cfg.indicators.compile()?;
    let attr = attribute(&v, cfg, &matcher);
    crate::timing::phase("records attributed");
    let items_of = ItemsOf::new(&items.record_row, v.time.len())
        .ok_or("the frame's items are not grouped by record")?;
    Ok(Attributed {
        v,
        items,
        attr,
        items_of,
    })
}

pub fn compute(frame: &Frame, cfg: &ScopeConfig) -> Result<Scope, String> {
    let Attributed {
        v,
        items,
        attr,
        items_of,
    } = attributed(frame, cfg)?;
    let n = v.time.len();

    let mut counts = RecordCounts {
        unique: n as u64,
        ..RecordCounts::default()
    };
    for a in &attr {
        match a {
            Attribution::OutOfWindow => counts.out_of_window += 1,
            Attribution::Trusted(_) => counts.trusted += 1,
            Attribution::Attacker(_) => counts.attacker += 1,
            Attribution::Linked(_) => counts.linked += 1,
            Attribution::Other => counts.other += 1,
        }
    }

    // Access auditing is a configuration fact: any such record for the mailbox, in any context
    // and at any time in the inputs.
    let mut audited: HashSet<&str, FastHash> = HashSet::default();
    let mut last_audited = None;
    for i in 0..n {
        let mb = v.mailbox.at(i);
        if mb.is_some() && mb != last_audited && is_access_audit(v.operation.text(i)) {
            audited.extend(mb);
            last_audited = mb;
        }
    }
    let groups = rows_by_mailbox(&v, &attr, cfg);

    crate::timing::phase("mailboxes grouped");
    let axis = timeline_axis(&v, cfg);
    let mut warnings = Vec::new();
    let mut mailboxes = Vec::new();
    let mut without = 0u64;
    // Mailboxes are independent: scope them in parallel, then take the results in mailbox order.
    let scoped: Vec<(Option<MailboxScope>, Option<Warning>)> = groups
        .par_iter()
        .map(|(mb, rows)| {
            let attacker_rows: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|i| attr[*i].is_attacker_activity())
                .collect();
            let throttled: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|i| is_mail_items_accessed(v.operation.text(*i)) && v.is_throttled[*i])
                .collect();
            if attacker_rows.is_empty() {
                let warning = (!throttled.is_empty()).then(|| Warning {
                    code: "throttled-no-attacker".into(),
                    message: format!(
                        "{mb}: {} throttled MailItemsAccessed record(s) but no attacker activity: 24 h of access went unaudited; verdict stays none",
                        throttled.len()
                    ),
                    path: None,
                    line: None,
                });
                return (None, warning);
            }
            let scope = mailbox_scope(
                mb,
                rows,
                &attacker_rows,
                &throttled,
                &v,
                &items,
                &items_of,
                &attr,
                audited.contains(mb),
                axis,
            );
            let warning = (!scope.access_auditing).then(|| Warning {
                code: "no-access-auditing".into(),
                message: format!(
                    "{mb}: attacker activity but no MailItemsAccessed or FolderBind/MessageBind records at all: access cannot be scoped from audit data (licence or audit configuration); assume the entire mailbox"
                ),
                path: None,
                line: None,
            });
            (Some(scope), warning)
        })
        .collect();
    for (scope, warning) in scoped {
        match scope {
            Some(scope) => mailboxes.push(scope),
            None => without += 1,
        }
        warnings.extend(warning);
    }
    if counts.attacker == 0 {
        warnings.push(Warning {
            code: "no-attacker-activity".into(),
            message: "no record in the window matches an attacker indicator; check the indicators with `mailscope contexts`".into(),
            path: None,
            line: None,
        });
    }
    Ok(Scope {
        mailboxes,
        counts,
        mailboxes_without_attacker_activity: without,
        warnings,
    })
}

#[allow(clippy::too_many_arguments)]
fn mailbox_scope(
    mb: &str,
    rows: &[usize],
    attacker_rows: &[usize],
    throttled: &[usize],
    v: &RecordsView,
    items: &ItemsView,
    items_of: &ItemsOf,
    attr: &[Attribution],
    access_auditing: bool,
    axis: Option<(Micros, Micros)>,
) -> MailboxScope {
    let mut reasons = Vec::new();

    // 1. Throttling: [t, t+24h) per throttled record, overlapping windows merged.
    let mut windows: Vec<(Micros, Micros, Vec<&str>)> = Vec::new();
    let mut sorted: Vec<usize> = throttled.to_vec();
    sorted.sort_by_key(|i| (v.time[*i], v.record_id.text(*i)));
    for i in sorted {
        let (s, e) = (v.time[i], v.time[i] + DAY);
        match windows.last_mut() {
            Some(w) if s <= w.1 => {
                w.1 = w.1.max(e);
                w.2.push(v.record_id.text(i));
            }
            _ => windows.push((s, e, vec![v.record_id.text(i)])),
        }
    }
    let throttled_windows: Vec<ThrottledWindow> = windows
        .iter()
        .map(|(s, e, r)| ThrottledWindow {
            start: rfc3339(*s),
            end: rfc3339(*e),
            record_id: r[0].to_string(),
            records: ids(r.iter().copied()),
        })
        .collect();
    if !throttled.is_empty() {
        reasons.push(Reason {
            rule: "throttled",
            detail: format!(
                "{} throttled MailItemsAccessed record(s): for 24 h after each, access was not audited; all mail is assumed compromised",
                throttled.len()
            ),
            records: ids(throttled.iter().map(|i| v.record_id.text(*i))),
        });
    }

    let mut synced: BTreeMap<String, Span> = BTreeMap::new();
    let mut folders: BTreeMap<(String, &'static str), Span> = BTreeMap::new();
    struct Msg {
        span: Span,
        folder: Option<String>,
        subject: Option<String>,
        access: BTreeSet<&'static str>,
        attribution: BTreeSet<&'static str>,
    }
    let mut messages: BTreeMap<String, Msg> = BTreeMap::new();
    let mut unresolved = Vec::new();
    let mut actions = Vec::new();

    let folder_list = |i: usize| -> Vec<String> {
        let mut f: BTreeSet<String> = items_of
            .of(i)
            .filter_map(|k| items.folder_path.at(k))
            .map(str::to_string)
            .collect();
        if let Some(p) = v.folder_path.at(i) {
            f.insert(p.to_string());
        }
        f.into_iter().collect()
    };
    let mut add_message =
        |id: &str, folder: Option<&str>, subject: Option<&str>, i: usize, access: &'static str| {
            let m = messages.entry(id.to_string()).or_insert_with(|| Msg {
                span: Span::new(v.time[i]),
                folder: folder.map(str::to_string),
                subject: subject.map(str::to_string),
                access: BTreeSet::new(),
                attribution: BTreeSet::new(),
            });
            m.span.hit(v.time[i], v.record_id.text(i));
            if m.folder.is_none() {
                m.folder = folder.map(str::to_string);
            }
            if m.subject.is_none() {
                m.subject = subject.map(str::to_string);
            }
            m.access.insert(access);
            m.attribution.insert(attr[i].label());
        };

    for &i in attacker_rows {
        let op = v.operation.text(i);
        let id = v.record_id.text(i);
        let t = v.time[i];
        if is_mail_items_accessed(op) {
            let is_sync = v
                .mail_access_type
                .at(i)
                .is_some_and(|a| a.eq_ignore_ascii_case("sync"));
            if is_sync {
                let fl = folder_list(i);
                let paths = if fl.is_empty() {
                    vec!["(folder not recorded)".to_string()]
                } else {
                    fl
                };
                for p in paths {
                    synced.entry(p).or_insert_with(|| Span::new(t)).hit(t, id);
                }
                continue;
            }
            // Bind (and MailItemsAccessed without an access type, which names messages the same way).
            let mut listed: BTreeSet<&str> = BTreeSet::new();
            for k in items_of.of(i) {
                if let Some(mid) = items.internet_message_id.at(k) {
                    listed.insert(mid);
                    add_message(mid, items.folder_path.at(k), items.subject.at(k), i, "bind");
                }
            }
            let count = v.operation_count[i];
            let short = count.is_some_and(|c| c > listed.len() as i64);
            if listed.is_empty() || short {
                let fl = folder_list(i);
                for p in &fl {
                    folders
                        .entry((p.clone(), "unresolved-bind"))
                        .or_insert_with(|| Span::new(t))
                        .hit(t, id);
                }
                unresolved.push(Unresolved {
                    record_id: id.to_string(),
                    time: rfc3339(t),
                    folders: fl,
                    operation_count: count,
                    message_ids_listed: listed.len() as u64,
                    reason: if listed.is_empty() {
                        "bind record names no message ids".into()
                    } else {
                        format!(
                            "OperationCount {} is larger than the {} message id(s) listed",
                            count.unwrap_or(0),
                            listed.len()
                        )
                    },
                });
            }
            continue;
        }
        if is_legacy(op, "FolderBind") {
            let fl = folder_list(i);
            let paths = if fl.is_empty() {
                vec!["(folder not recorded)".to_string()]
            } else {
                fl
            };
            for p in paths {
                folders
                    .entry((p, "folder-bind"))
                    .or_insert_with(|| Span::new(t))
                    .hit(t, id);
            }
            continue;
        }
        let mut action_items = Vec::new();
        for k in items_of.of(i) {
            let mid = items.internet_message_id.at(k);
            if is_legacy(op, "MessageBind") {
                if let Some(m) = mid {
                    add_message(
                        m,
                        items.folder_path.at(k),
                        items.subject.at(k),
                        i,
                        "message-bind",
                    );
                    continue;
                }
            }
            action_items.push(ActionItem {
                internet_message_id: mid.map(str::to_string),
                subject: items.subject.at(k).map(str::to_string),
                item_id: items.item_id.at(k).map(str::to_string),
                folder: items.folder_path.at(k).map(str::to_string),
            });
        }
        if is_legacy(op, "MessageBind") && action_items.is_empty() && !items_of.of(i).is_empty() {
            continue;
        }
        actions.push(Action {
            time: rfc3339(t),
            operation: op.to_string(),
            record_id: id.to_string(),
            attribution: attr[i].label().to_string(),
            client_ip: v.client_ip.at(i).map(str::to_string),
            session_id: v.session_id.at(i).map(str::to_string),
            folder: v.folder_path.at(i).map(str::to_string),
            items: action_items,
            detail: v.detail.at(i).map(str::to_string),
            source: format!(
                "{}:{}",
                v.source_file.at(i).unwrap_or("?"),
                v.source_line[i]
            ),
        });
    }

    let synced_folders: Vec<FolderHit> = synced
        .into_iter()
        .map(|(path, s)| FolderHit {
            path,
            reason: "attacker-sync",
            first_seen: rfc3339(s.first),
            last_seen: rfc3339(s.last),
            records: s.records.into_iter().collect(),
        })
        .collect();
    if !synced_folders.is_empty() {
        reasons.push(Reason {
            rule: "attacker-sync",
            detail: format!(
                "the attacker synced {} folder(s): assume all mail was synced to the attacker's client",
                synced_folders.len()
            ),
            records: ids(synced_folders.iter().flat_map(|f| f.records.iter().map(String::as_str))),
        });
    }
    let folder_hits: Vec<FolderHit> = folders
        .into_iter()
        .map(|((path, reason), s)| FolderHit {
            path,
            reason,
            first_seen: rfc3339(s.first),
            last_seen: rfc3339(s.last),
            records: s.records.into_iter().collect(),
        })
        .collect();
    for (rule, what) in [
        (
            "folder-bind",
            "folder(s) opened by the attacker (FolderBind)",
        ),
        (
            "unresolved-bind",
            "folder(s) with attacker binds whose messages are not all named",
        ),
    ] {
        let hits: Vec<&FolderHit> = folder_hits.iter().filter(|f| f.reason == rule).collect();
        if !hits.is_empty() {
            reasons.push(Reason {
                rule,
                detail: format!("{} {what}", hits.len()),
                records: ids(hits
                    .iter()
                    .flat_map(|f| f.records.iter().map(String::as_str))),
            });
        }
    }
    let message_hits: Vec<MessageHit> = messages
        .into_iter()
        .map(|(mid, m)| MessageHit {
            internet_message_id: mid,
            folder: m.folder,
            subject: m.subject,
            first_seen: rfc3339(m.span.first),
            last_seen: rfc3339(m.span.last),
            access: m.access.into_iter().collect::<Vec<_>>().join(","),
            attribution: m.attribution.into_iter().collect::<Vec<_>>().join(","),
            records: m.span.records.into_iter().collect(),
        })
        .collect();
    if !message_hits.is_empty() {
        reasons.push(Reason {
            rule: "bind",
            detail: format!(
                "{} message(s) named by attacker bind records",
                message_hits.len()
            ),
            records: ids(message_hits
                .iter()
                .flat_map(|m| m.records.iter().map(String::as_str))),
        });
    }
    if !access_auditing {
        reasons.push(Reason {
            rule: "unauditable",
            detail: "attacker activity, but the inputs hold no MailItemsAccessed or FolderBind/MessageBind record for this mailbox: absence of records is not absence of access".into(),
            records: ids(attacker_rows.iter().map(|i| v.record_id.text(*i))),
        });
    }

    let has = |rule: &str| reasons.iter().any(|r| r.rule == rule);
    let verdict = if has("throttled") || has("attacker-sync") || has("unauditable") {
        Verdict::EntireMailbox
    } else if !folder_hits.is_empty() {
        Verdict::Folders
    } else if !message_hits.is_empty() {
        Verdict::Messages
    } else {
        Verdict::None
    };
    actions.sort_by(|a, b| {
        (a.time.as_str(), a.record_id.as_str()).cmp(&(b.time.as_str(), b.record_id.as_str()))
    });
    unresolved.sort_by(|a, b| {
        (a.time.as_str(), a.record_id.as_str()).cmp(&(b.time.as_str(), b.record_id.as_str()))
    });

    MailboxScope {
        mailbox: mb.to_string(),
        verdict,
        reasons,
        throttled_windows,
        synced_folders,
        folders: folder_hits,
        messages: message_hits,
        unresolved,
        actions,
        contexts: contexts_of(rows, v, items, items_of, attr),
        timeline: timeline(rows, v, attr, axis),
        access_auditing,
    }
}

/// Bucket widths a chart can use; the smallest giving at most `MAX_BUCKETS` buckets is chosen.
const BUCKET_SECONDS: &[i64] = &[
    60,
    300,
    900,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    7 * 86_400,
    30 * 86_400,
];
const MAX_BUCKETS: i64 = 48;

/// The fewest buckets a chart shows (a short incident still gets an axis, not one wide bar).
const MIN_BUCKETS: i64 = 24;

/// One time axis for every mailbox of a report: all records in the inputs and the window.
fn timeline_axis(v: &RecordsView, cfg: &ScopeConfig) -> Option<(Micros, Micros)> {
    let first = v.time.iter().copied().min()?;
    let last = v.time.iter().copied().max()?;
    Some((
        cfg.start.map_or(first, |s| s.min(first)),
        cfg.end.map_or(last, |e| (e - 1).max(last)),
    ))
}

fn timeline(
    rows: &[usize],
    v: &RecordsView,
    attr: &[Attribution],
    axis: Option<(Micros, Micros)>,
) -> Timeline {
    let Some((first, last)) = axis else {
        return Timeline::default();
    };
    let span_s = (last - first).div_euclid(1_000_000) + 1;
    let width = BUCKET_SECONDS
        .iter()
        .copied()
        .find(|w| span_s / w < MAX_BUCKETS)
        .unwrap_or(365 * 86_400);
    // Buckets start on a whole multiple of the width (UTC).
    let start = first.div_euclid(1_000_000).div_euclid(width) * width;
    let n = ((last.div_euclid(1_000_000) - start) / width + 1).max(MIN_BUCKETS) as usize;
    let mut buckets = vec![TimelineBucket::default(); n];
    for &i in rows {
        let k = ((v.time[i].div_euclid(1_000_000) - start) / width).clamp(0, n as i64 - 1) as usize;
        let b = &mut buckets[k];
        match attr[i] {
            Attribution::Attacker(_) => b.attacker += 1,
            Attribution::Linked(_) => b.linked += 1,
            Attribution::Trusted(_) => b.trusted += 1,
            _ => b.other += 1,
        }
    }
    Timeline {
        start: rfc3339(start * 1_000_000),
        bucket_seconds: width,
        buckets,
    }
}

type ContextKey<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

/// Group a mailbox's records by access context (IP, session, client, app, actor, logon type).
pub fn contexts_of<'v>(
    rows: &[usize],
    v: &'v RecordsView,
    items: &'v ItemsView,
    items_of: &ItemsOf,
    attr: &[Attribution],
) -> Vec<AccessContext> {
    struct Acc<'a> {
        span: Span,
        n: u64,
        binds: u64,
        syncs: u64,
        // Only counted: hash sets (every item of every record of the mailbox goes in).
        messages: HashSet<&'a str, FastHash>,
        folders: HashSet<&'a str, FastHash>,
        attribution: BTreeMap<&'static str, Option<String>>,
    }
    let mut groups: Vec<(ContextKey, Acc)> = Vec::new();
    let mut index: HashMap<ContextKey, usize, FastHash> = HashMap::default();
    // A session's records come in runs: the last context is tried before the hash map.
    let mut last: Option<usize> = None;
    for &i in rows {
        let key = (
            v.client_ip.at(i),
            v.session_id.at(i).or(v.aad_session_id.at(i)),
            v.client_info.at(i),
            v.app_id.at(i).or(v.client_app_id.at(i)),
            v.actor.at(i),
            v.logon_type.at(i),
        );
        let k = match last.filter(|&k| groups[k].0 == key) {
            Some(k) => k,
            None => *index.entry(key).or_insert_with(|| {
                groups.push((
                    key,
                    Acc {
                        span: Span::new(v.time[i]),
                        n: 0,
                        binds: 0,
                        syncs: 0,
                        messages: HashSet::default(),
                        folders: HashSet::default(),
                        attribution: BTreeMap::new(),
                    },
                ));
                groups.len() - 1
            }),
        };
        last = Some(k);
        let a = &mut groups[k].1;
        a.span.first = a.span.first.min(v.time[i]);
        a.span.last = a.span.last.max(v.time[i]);
        a.n += 1;
        if is_mail_items_accessed(v.operation.text(i)) {
            if v.mail_access_type
                .at(i)
                .is_some_and(|x| x.eq_ignore_ascii_case("sync"))
            {
                a.syncs += 1;
            } else {
                a.binds += 1;
            }
        }
        // A record's items are mostly in one folder: it is hashed once.
        let mut last_folder = None;
        for k in items_of.of(i) {
            if let Some(m) = items.internet_message_id.at(k) {
                a.messages.insert(m);
            }
            let folder = items.folder_path.at(k);
            if let Some(f) = folder.filter(|_| folder != last_folder) {
                a.folders.insert(f);
                last_folder = folder;
            }
        }
        if let Some(f) = v.folder_path.at(i) {
            a.folders.insert(f);
        }
        a.attribution
            .entry(attr[i].label())
            .or_insert_with(|| attr[i].why().map(str::to_string));
    }
    // A mailbox has hundreds of thousands of contexts at tenant scale, mostly with the same
    // client, app, actor and logon type: each value is held once.
    let mut shared: HashMap<&str, Arc<str>, FastHash> = HashMap::default();
    let mut share =
        |s: Option<&'v str>| s.map(|s| shared.entry(s).or_insert_with(|| Arc::from(s)).clone());
    let mut out: Vec<AccessContext> = groups
        .into_iter()
        .map(|(k, a)| {
            // A context whose records differ in attribution (linked and other in one session)
            // reports the strongest one.
            let (label, why) = ["attacker", "linked", "trusted", "other"]
                .iter()
                .find_map(|l| a.attribution.get(l).map(|w| (*l, w.clone())))
                .unwrap_or(("other", None));
            AccessContext {
                client_ip: share(k.0),
                session_id: share(k.1),
                client_info: share(k.2),
                app_id: share(k.3),
                actor: share(k.4),
                logon_type: share(k.5),
                attribution: label,
                why,
                first_seen: rfc3339(a.span.first),
                last_seen: rfc3339(a.span.last),
                records: a.n,
                binds: a.binds,
                syncs: a.syncs,
                messages: a.messages.len() as u64,
                folders: a.folders.len() as u64,
            }
        })
        .collect();
    // Every field of the context is in the key, so that the order does not depend on the
    // hash map's.
    out.sort_by(|a, b| {
        (
            a.first_seen.as_str(),
            &a.client_ip,
            &a.session_id,
            &a.client_info,
            &a.actor,
            &a.app_id,
            &a.logon_type,
        )
            .cmp(&(
                b.first_seen.as_str(),
                &b.client_ip,
                &b.session_id,
                &b.client_info,
                &b.actor,
                &b.app_id,
                &b.logon_type,
            ))
    });
    out
}

/// Contexts of every mailbox (for `mailscope contexts`).
pub fn all_contexts(
    frame: &Frame,
    cfg: &ScopeConfig,
) -> Result<Vec<(String, Vec<AccessContext>)>, String> {
    let Attributed {
        v,
        items,
        attr,
        items_of,
    } = attributed(frame, cfg)?;
    let groups = rows_by_mailbox(&v, &attr, cfg);
    Ok(groups
        .into_iter()
        .map(|(mb, rows)| {
            (
                mb.to_string(),
                contexts_of(&rows, &v, &items, &items_of, &attr),
            )
        })
        .collect())
}
