//! The scope engine: a pure function of the frame and the indicators (rules in
//! `shared/docs/scope-rules.md`). Attribution first (`attribution`: trusted → attacker → linked →
//! other), then per mailbox the rules (`rules`: throttling, Sync, Bind, unresolved binds, legacy
//! actions, auditability) and the widest verdict; `contexts` and `timeline` describe each mailbox's
//! records for the analyst. What it finds is in `findings`.

mod attribution;
mod caveats;
mod contexts;
pub mod findings;
mod forwarding;
mod gaps;
pub mod grants;
pub mod indicators;
pub mod kql;
pub mod notification;
pub mod rules;
pub mod searches;
mod timeline;

pub use attribution::{Attribution, attribute};
pub use contexts::{Listed, all_contexts, contexts_of, enrich};

use crate::frame::{Frame, ItemsOf, ItemsView, RecordsView};
use crate::model::Micros;
use crate::warning::Warning;
use crate::warning::WarningCode;
use findings::*;
use indicators::Indicators;
use rayon::prelude::*;
use rules::{Access, Rows};
use std::collections::{BTreeSet, HashMap, HashSet};
use timeline::{timeline, timeline_axis};

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
    /// Grantees of the attacker's grants are linked (`grants`).
    pub grant_link: bool,
    /// Leave the attacker's search texts out of the report.
    pub no_search_text: bool,
    /// The organization's mail domains (lowercased); empty = those of the evidence's mailboxes.
    pub internal_domains: Vec<String>,
    /// Leave message subjects out of the report.
    pub no_subjects: bool,
}

/// What the engine found, before inputs and provenance are added.
pub struct Scope {
    pub mailboxes: Vec<MailboxScope>,
    /// The attacker's records that name no mailbox (`rules::tenant_actions`).
    pub tenant_actions: Vec<Action>,
    /// Transport rules the attacker set to copy or redirect the organization's mail.
    pub tenant_forwarding: Vec<ForwardingWindow>,
    /// Records left `other` that share a strong signal with the attacker's.
    pub indicator_gaps: Vec<IndicatorGap>,
    pub counts: RecordCounts,
    pub mailboxes_without_attacker_activity: u64,
    pub warnings: Vec<Warning>,
    /// The message inventories joined to the findings, when any was given.
    pub notification: Option<notification::Notification>,
    /// Content searches of the evidence (`searches`), exposed by the attacker or not.
    pub content_searches: Vec<ContentSearch>,
    /// Grants attacker records made, and what their grantees did (`grants`).
    pub grants: Vec<GrantLink>,
    /// The attacker's search texts in records that name no mailbox (SharePoint searches).
    pub searched_for: Vec<SearchedFor>,
}

/// Every mailbox name the records give, as they give it (a mailbox's records come in runs: each
/// run is hashed once).
fn distinct_mailboxes(v: &RecordsView) -> HashSet<&str, FastHash> {
    let mut names: HashSet<&str, FastHash> = HashSet::default();
    let mut last = None;
    for i in 0..v.time.len() {
        let mb = v.mailbox.at(i);
        if mb != last {
            names.extend(mb);
            last = mb;
        }
    }
    names
}

/// Mailbox names as the records give them, resolved to one identity: admin cmdlets name a
/// mailbox by an AD path or an alias (`…/Microsoft Exchange Hosted
/// Organizations/contoso.onmicrosoft.com/david`, `corp.contoso.com/Users/david`); that is the
/// mailbox whose UPN has that alias, when exactly one in the inputs has. The original stays in
/// the record (its detail, and the frame). A mailbox cmdlet or sign-in whose record names no
/// mailbox and whose actor is an alias (`david`, or such an AD path) is the record of that
/// alias's mailbox, on the same terms (`MailboxNames::of`).
pub(crate) struct MailboxNames<'v> {
    resolved: HashMap<&'v str, &'v str, FastHash>,
    /// Alias → the one UPN of the inputs with that alias.
    by_alias: HashMap<&'v str, &'v str, FastHash>,
    /// Every mailbox name of the run.
    names: HashSet<&'v str, FastHash>,
}

impl<'v> MailboxNames<'v> {
    pub(crate) fn new(v: &'v RecordsView) -> MailboxNames<'v> {
        Self::of_names(distinct_mailboxes(v))
    }

    /// The resolution over `names`, every mailbox name of the run (`Globals::mailbox_names`):
    /// a share of the records resolves as the whole run does.
    pub(crate) fn of_names(names: impl IntoIterator<Item = &'v str>) -> MailboxNames<'v> {
        let names: HashSet<&str, FastHash> = names.into_iter().collect();
        let mut by_alias: HashMap<&str, Vec<&str>, FastHash> = HashMap::default();
        for n in &names {
            if let Some((alias, _)) = n.split_once('@') {
                by_alias.entry(alias).or_default().push(n);
            }
        }
        let by_alias: HashMap<&str, &str, FastHash> = by_alias
            .into_iter()
            .filter(|(_, upns)| upns.len() == 1)
            .map(|(alias, upns)| (alias, upns[0]))
            .collect();
        let resolved = names
            .iter()
            .filter(|n| !n.contains('@'))
            .filter_map(|n| Some((*n, *by_alias.get(indicators::last_element(n))?)))
            .collect();
        MailboxNames {
            resolved,
            by_alias,
            names,
        }
    }

    /// The mailbox of record `i`: its own, resolved; else, for a mailbox cmdlet or a sign-in
    /// whose actor is an alias of one mailbox of the inputs, that mailbox.
    pub(crate) fn of(&self, v: &'v RecordsView, i: usize) -> Option<&'v str> {
        if let Some(mb) = v.mailbox.at(i) {
            let resolved = self.resolve(mb);
            if resolved.contains('@') {
                return Some(resolved);
            }
            // An inbox rule's identity whose mailbox part is an AD path or alias that no
            // mailbox of the inputs has (`…/NKowalski\rule` by nina@): the actor's mailbox, as
            // when the path ends in a GUID; never a mailbox named by the path.
            let own = v
                .actor
                .at(i)
                .filter(|a| a.contains('@'))
                .filter(|_| {
                    v.operation
                        .at(i)
                        .is_some_and(crate::parse::mailbox::is_rule_cmdlet)
                })
                .and_then(|a| self.names.get(a.to_lowercase().as_str()).copied());
            return Some(own.unwrap_or(resolved));
        }
        let actor = v.actor.at(i)?;
        if actor.contains('@') || self.by_alias.is_empty() {
            return None;
        }
        let op = v.operation.at(i)?;
        if !(crate::parse::mailbox::is_mailbox_cmdlet(op) || crate::parse::mailbox::is_sign_in(op))
        {
            return None;
        }
        let alias = indicators::last_element(actor).to_lowercase();
        self.by_alias.get(alias.as_str()).copied()
    }

    /// The one mailbox of the inputs whose alias (or AD path's last element) `name` is.
    pub(crate) fn upn_of_alias(&self, name: &str) -> Option<&'v str> {
        let alias = indicators::last_element(name).to_lowercase();
        self.by_alias.get(alias.as_str()).copied()
    }

    pub(crate) fn resolve(&self, mailbox: &'v str) -> &'v str {
        if self.resolved.is_empty() {
            return mailbox;
        }
        self.resolved.get(mailbox).copied().unwrap_or(mailbox)
    }
}

/// The in-window records of each mailbox the configuration asks for (all when it names none),
/// in row order; mailboxes in name order (names resolved, see `MailboxNames`).
fn rows_by_mailbox<'v>(
    v: &'v RecordsView,
    attr: &[Attribution],
    cfg: &ScopeConfig,
    names: &MailboxNames<'v>,
    own: &(dyn Fn(usize) -> bool + Sync),
) -> Vec<(&'v str, Vec<usize>)> {
    let keep = |mb: &str| cfg.mailboxes.is_empty() || cfg.mailboxes.iter().any(|m| m == mb);
    let mut rows: HashMap<&str, Vec<usize>, FastHash> = HashMap::default();
    for (i, a) in attr.iter().enumerate() {
        if !own(i) {
            continue;
        }
        match names.of(v, i) {
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

impl Attributed {
    fn rows(&self) -> Rows<'_> {
        Rows {
            v: &self.v,
            items: &self.items,
            items_of: &self.items_of,
            attr: &self.attr,
        }
    }
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

/// What crosses mailboxes, gathered over every record of the run before any mailbox is scoped:
/// with these, a share of the records that holds whole mailboxes (and every attacker record of
/// the run) scopes those mailboxes exactly as the whole run does (`part`), and the shares'
/// parts merge into the run's scope (`finish`). One machine runs it with one share, all of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Globals {
    /// Every mailbox name the records give, as they give it: aliases and AD paths resolve
    /// against these (`MailboxNames`), and the organization's domains are theirs.
    pub mailbox_names: BTreeSet<String>,
    /// The first and last record time: the one time axis of every mailbox's timeline.
    pub first: Option<Micros>,
    pub last: Option<Micros>,
    /// When each client network first appears in the records (indicator gaps' `new-network`).
    pub network_first_seen: std::collections::BTreeMap<String, Micros>,
}

impl Globals {
    pub fn of(v: &RecordsView) -> Globals {
        Globals {
            mailbox_names: distinct_mailboxes(v)
                .into_iter()
                .map(str::to_string)
                .collect(),
            first: v.time.iter().copied().min(),
            last: v.time.iter().copied().max(),
            network_first_seen: gaps::network_first_seen(v),
        }
    }

    /// The globals of two shares together.
    pub fn merge(mut self, other: Globals) -> Globals {
        self.mailbox_names.extend(other.mailbox_names);
        self.first = self.first.into_iter().chain(other.first).min();
        self.last = self.last.into_iter().chain(other.last).max();
        for (net, t) in other.network_first_seen {
            self.network_first_seen
                .entry(net)
                .and_modify(|f| *f = (*f).min(t))
                .or_insert(t);
        }
        self
    }

    /// The mailbox each record belongs to (resolved over the run's names): a share holds whole
    /// mailboxes, so this is what records are shared out by. `None`: a record of no mailbox.
    pub fn mailbox_of_rows(&self, v: &RecordsView) -> Vec<Option<String>> {
        let names = self.names();
        (0..v.time.len())
            .map(|i| names.of(v, i).map(str::to_string))
            .collect()
    }

    fn names(&self) -> MailboxNames<'_> {
        MailboxNames::of_names(self.mailbox_names.iter().map(String::as_str))
    }

    fn axis(&self, cfg: &ScopeConfig) -> Option<(Micros, Micros)> {
        timeline_axis(self.first?, self.last?, cfg)
    }
}

/// What one share of the records found for the mailboxes it holds, and its share of the run's
/// counts and indicator gaps.
#[derive(Debug, Clone, Default)]
pub struct Part {
    /// Its mailboxes with attacker activity or a content search's exposure, in name order.
    pub mailboxes: Vec<MailboxScope>,
    /// Its mailboxes with records in the window, scoped or not.
    pub mailboxes_with_records: BTreeSet<String>,
    /// Its mailboxes with any access-auditing record (at any time).
    pub audited: BTreeSet<String>,
    pub counts: RecordCounts,
    pub mailboxes_without_attacker_activity: u64,
    /// Warnings about one of its mailboxes, with the mailbox (the run lists them in its order).
    pub warnings: Vec<(String, Warning)>,
    /// Its records that match an attacker indicator but a trusted one first.
    pub trusted_over_attacker: u64,
    pub gaps: gaps::GapParts,
}

/// The scope of the whole frame: one share, all of it.
pub fn compute(frame: &Frame, cfg: &ScopeConfig) -> Result<Scope, String> {
    let attributed = attributed(frame, cfg)?;
    let globals = Globals::of(&attributed.v);
    crate::timing::phase("globals gathered");
    let part = part(&attributed, cfg, &globals, &|_| true)?;
    finish(&attributed, frame, cfg, &globals, vec![part])
}

/// Scope the mailboxes of the records `own` takes. `a` holds them, and every attacker record of
/// the run, and every record that opens a search, a grant or a forwarding window (their
/// attribution is that of the run, since every record linking can go through is there); the
/// records `own` does not take are read for those and counted by the share they belong to.
pub fn part(
    a: &Attributed,
    cfg: &ScopeConfig,
    globals: &Globals,
    own: &(dyn Fn(usize) -> bool + Sync),
) -> Result<Part, String> {
    let (v, attr) = (&a.v, &a.attr);
    let n = v.time.len();
    let r = a.rows();
    let mut counts = RecordCounts::default();
    for (i, a) in attr.iter().enumerate() {
        if !own(i) {
            continue;
        }
        counts.unique += 1;
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
    let names = globals.names();
    let mut audited: HashSet<&str, FastHash> = HashSet::default();
    let mut last_audited = None;
    for i in 0..n {
        if !own(i) || r.access(i) == Access::Other {
            continue;
        }
        let mb = names.of(v, i);
        if mb.is_some() && mb != last_audited {
            audited.extend(mb);
            last_audited = mb;
        }
    }
    // Every mailbox a share holds is one of the run's: its exposures are the run's.
    let found = searches::assemble(v, attr, &known_mailboxes(globals, &names, &[]));
    let groups = rows_by_mailbox(v, attr, cfg, &names, own);
    // Before the mailboxes: their reports list the contexts the gaps fall in.
    let (gaps, gap_marks) = gaps::indicator_gaps(v, attr, &names, &globals.network_first_seen, own);
    crate::timing::phase("mailboxes grouped");
    let setting = Setting {
        cfg,
        axis: globals.axis(cfg),
        gap_marks: &gap_marks,
    };
    let scoped: Vec<(&str, Option<MailboxScope>, Option<Warning>)> = groups
        .par_iter()
        .map(|(mb, rows)| {
            let exposures = found.by_mailbox.get(*mb).cloned().unwrap_or_default();
            let (scope, warning) =
                scope_mailbox(mb, rows, r, setting, audited.contains(mb), exposures);
            (*mb, scope, warning)
        })
        .collect();
    let mut part = Part {
        mailboxes_with_records: groups.iter().map(|(mb, _)| mb.to_string()).collect(),
        audited: audited.iter().map(|mb| mb.to_string()).collect(),
        counts,
        ..Part::default()
    };
    for (mb, scope, warning) in scoped {
        match scope {
            Some(scope) => part.mailboxes.push(scope),
            None => part.mailboxes_without_attacker_activity += 1,
        }
        part.warnings.extend(warning.map(|w| (mb.to_string(), w)));
    }
    let matcher = cfg.indicators.compile()?;
    part.trusted_over_attacker = attribution::trusted_over_attacker(v, attr, &matcher, own);
    part.gaps = gaps;
    Ok(part)
}

/// Whether every share must hold record `i` (besides the share of its mailbox): attacker
/// activity, whose sessions and grants link records anywhere, and the records that open a
/// content search, a grant or a forwarding window, which concern other mailboxes than their own.
pub fn shared_with_every_part(a: &Attributed, i: usize) -> bool {
    let opens_exposure = a.v.exposure.at(i).is_some();
    let opens_forwarding = a.v.forwarding.at(i).is_some();
    a.attr[i].is_attacker_activity() || opens_exposure || opens_forwarding
}

/// One mailbox's scope from its records in the window (none for a mailbox only a content
/// search exposed), or none when the attacker neither touched it nor exposed it.
/// What every mailbox of a share is scoped with.
#[derive(Clone, Copy)]
struct Setting<'a> {
    cfg: &'a ScopeConfig,
    /// The run's one time axis.
    axis: Option<(Micros, Micros)>,
    /// Each record's indicator-gap citations (`gaps::indicator_gaps`).
    gap_marks: &'a [u8],
}

fn scope_mailbox(
    mb: &str,
    rows: &[usize],
    r: Rows,
    set: Setting,
    audited: bool,
    exposures: Vec<SearchExposure>,
) -> (Option<MailboxScope>, Option<Warning>) {
    let Setting {
        cfg,
        axis,
        gap_marks,
    } = set;
    let v = r.v;
    let attacker_rows: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|i| r.attr[*i].is_attacker_activity())
        .collect();
    let throttled = rules::throttled_rows(r, rows);
    if attacker_rows.is_empty() && exposures.is_empty() {
        let warning = (!throttled.is_empty()).then(|| Warning {
            code: WarningCode::ThrottledNoAttacker,
            message: format!(
                "{mb}: {} throttled MailItemsAccessed record(s) but no attacker activity: 24 h of access went unaudited; verdict stays none",
                throttled.len()
            ),
            path: None,
            line: None,
        });
        return (None, warning);
    }
    let mut scope = mailbox_scope(mb, r, rows, &attacker_rows, &throttled, audited, axis);
    (scope.contexts, scope.contexts_left_out) = contexts_of(
        rows,
        v,
        r.items,
        r.items_of,
        r.attr,
        Listed::Verdict { gap_marks },
    );
    searches::add(&mut scope, exposures);
    scope.searched_for = searches::searched_for(v, r.attr, rows, cfg.no_search_text);
    if cfg.no_search_text {
        hide_search_text(&mut scope.actions);
    }
    scope.exposure_end = notification::exposure_end(
        attacker_rows
            .iter()
            .map(|&i| v.time[i])
            .chain(scope.content_searches.iter().map(|e| e.until)),
        scope
            .throttled_windows
            .iter()
            .filter_map(|w| crate::time::parse_iso(&w.end)),
        cfg.end,
    );
    let warning = (!scope.access_auditing && !attacker_rows.is_empty()).then(|| Warning {
        code: WarningCode::NoAccessAuditing,
        message: format!(
            "{mb}: attacker activity but no MailItemsAccessed or FolderBind/MessageBind records at all: access cannot be scoped from audit data (licence or audit configuration); assume the entire mailbox"
        ),
        path: None,
        line: None,
    });
    (Some(scope), warning)
}

/// The run's scope from its shares' parts. `a` holds every attacker record of the run and every
/// record that opens a search, a grant or a forwarding window (all records, on one machine);
/// `frame` gives the message inventories.
pub fn finish(
    a: &Attributed,
    frame: &Frame,
    cfg: &ScopeConfig,
    globals: &Globals,
    parts: Vec<Part>,
) -> Result<Scope, String> {
    let (v, attr) = (&a.v, &a.attr);
    let n = v.time.len();
    let r = a.rows();
    let mut counts = RecordCounts::default();
    let mut mailboxes = Vec::new();
    let mut with_records = BTreeSet::new();
    let mut audited = BTreeSet::new();
    let mut mailbox_warnings = Vec::new();
    let mut without = 0u64;
    let mut hidden = 0u64;
    let mut gap_parts = Vec::new();
    for p in parts {
        counts.unique += p.counts.unique;
        counts.out_of_window += p.counts.out_of_window;
        counts.trusted += p.counts.trusted;
        counts.attacker += p.counts.attacker;
        counts.linked += p.counts.linked;
        counts.other += p.counts.other;
        mailboxes.extend(p.mailboxes);
        with_records.extend(p.mailboxes_with_records);
        audited.extend(p.audited);
        mailbox_warnings.extend(p.warnings);
        without += p.mailboxes_without_attacker_activity;
        hidden += p.trusted_over_attacker;
        gap_parts.push(p.gaps);
    }
    let names = globals.names();
    let messages = crate::frame::messages::view(&frame.messages).map_err(|e| e.to_string())?;
    let found = searches::assemble(v, attr, &known_mailboxes(globals, &names, &messages));
    // Mailboxes a search exposed need no record of their own.
    let keep = |mb: &str| cfg.mailboxes.is_empty() || cfg.mailboxes.iter().any(|m| m == mb);
    let axis = globals.axis(cfg);
    for (mb, exposures) in &found.by_mailbox {
        if keep(mb) && !with_records.contains(mb) {
            let setting = Setting {
                cfg,
                axis,
                gap_marks: &[],
            };
            let (scope, warning) =
                scope_mailbox(mb, &[], r, setting, audited.contains(mb), exposures.clone());
            mailboxes.extend(scope);
            mailbox_warnings.extend(warning.map(|w| (mb.clone(), w)));
        }
    }
    // Mailbox names are unique across shares: the order is total.
    mailboxes.sort_by(|a, b| a.mailbox.cmp(&b.mailbox));
    mailbox_warnings.sort_by(|a, b| a.0.cmp(&b.0));
    let mut warnings: Vec<Warning> = mailbox_warnings.into_iter().map(|(_, w)| w).collect();
    if hidden > 0 {
        warnings.push(Warning {
            code: WarningCode::TrustedHidesAttacker,
            message: format!(
                "{hidden} record(s) match an attacker indicator but are attributed trusted, because their IP is in a --trusted-ip range (trusted wins): check that the trusted ranges are not too wide ({})",
                cfg.indicators.trusted_ip.join(", ")
            ),
            path: None,
            line: None,
        });
    }
    if counts.attacker == 0 {
        warnings.push(Warning {
            code: WarningCode::NoAttackerActivity,
            message: "no record in the window matches an attacker indicator; check the indicators with `mailscope contexts`".into(),
            path: None,
            line: None,
        });
    }
    // Attacker activity without a mailbox must still be in the report.
    let tenant_rows: Vec<usize> = (0..n)
        .filter(|&i| attr[i].is_attacker_activity() && names.of(v, i).is_none())
        .collect();
    let mut tenant_actions = rules::tenant_actions(r, &tenant_rows);
    let searched_for = searches::searched_for(v, attr, &tenant_rows, cfg.no_search_text);
    if cfg.no_search_text {
        hide_search_text(&mut tenant_actions);
    }
    for (search, records) in &found.purged {
        warnings.push(Warning {
            code: WarningCode::AttackerPurgedSearch,
            message: format!(
                "the attacker purged the items content search '{search}' found (record {}): mail was deleted from the searched mailboxes, and with it evidence; recover the purged items before relying on the inventories",
                records.join(", ")
            ),
            path: None,
            line: None,
        });
    }
    let grants = grants::report(v, attr, &names);
    let indicator_gaps = gaps::merge(gap_parts);
    contexts::keep_the_runs_citations(&mut mailboxes, &indicator_gaps);
    let transport_rows: Vec<usize> = (0..n)
        .filter(|&i| attr[i] != Attribution::OutOfWindow && v.forwarding.at(i).is_some())
        .collect();
    let mut tenant_forwarding =
        forwarding::windows(r, &transport_rows, &[ForwardingKind::TransportRule]);
    let any_forwarding =
        !tenant_forwarding.is_empty() || mailboxes.iter().any(|m| !m.forwarding.is_empty());
    let internal = (any_forwarding || !messages.is_empty()).then(|| {
        if cfg.internal_domains.is_empty() {
            let domains: BTreeSet<String> = globals
                .mailbox_names
                .iter()
                .filter_map(|m| m.rsplit_once('@'))
                .map(|(_, d)| d.to_string())
                .collect();
            (
                domains.into_iter().collect::<Vec<String>>(),
                "the domains of the mailboxes in the evidence",
            )
        } else {
            (cfg.internal_domains.clone(), "--internal-domain")
        }
    });
    if let Some((domains, _)) = &internal {
        forwarding::mark_external(&mut tenant_forwarding, domains);
        for m in &mut mailboxes {
            forwarding::mark_external(&mut m.forwarding, domains);
        }
    }
    let notification = match internal {
        Some((domains, from)) if !messages.is_empty() => Some(notification::join(
            &mut mailboxes,
            &mut tenant_forwarding,
            &messages,
            domains,
            from,
        )),
        _ => None,
    };
    Ok(Scope {
        mailboxes,
        tenant_actions,
        tenant_forwarding,
        indicator_gaps,
        counts,
        mailboxes_without_attacker_activity: without,
        warnings,
        notification,
        content_searches: found.searches,
        grants,
        searched_for,
    })
}

/// Every mailbox of the evidence (records' resolved mailboxes) and of the inventories: what
/// `All` locations cover.
fn known_mailboxes(
    globals: &Globals,
    names: &MailboxNames,
    messages: &[crate::frame::messages::MessageRef],
) -> BTreeSet<String> {
    let mut known: BTreeSet<String> = globals
        .mailbox_names
        .iter()
        .map(|m| names.resolve(m).to_string())
        .collect();
    for m in messages {
        known.extend(m.mailboxes().map(str::to_lowercase));
    }
    known
}

/// `--no-search-text`: the detail of the attacker's searches says it was left out.
fn hide_search_text(actions: &mut [Action]) {
    for a in actions {
        if a.operation
            .to_ascii_lowercase()
            .starts_with("searchqueryinitiated")
        {
            a.detail = Some("(search text left out: --no-search-text)".into());
        }
    }
}

/// One mailbox's scope: the rules of scope-rules.md in the doc's order, then the widest verdict.
fn mailbox_scope(
    mailbox: &str,
    r: Rows,
    mailbox_rows: &[usize],
    attacker_rows: &[usize],
    throttled: &[usize],
    access_auditing: bool,
    axis: Option<(Micros, Micros)>,
) -> MailboxScope {
    let (throttled_windows, throttling) = rules::throttling(r, throttled);
    let sync = rules::attacker_sync(r, attacker_rows);
    let bound = rules::bind(r, attacker_rows);
    let (unresolved, unresolved_folders) = rules::unresolved_binds(r, attacker_rows);
    let folder_binds = rules::legacy_folder_bind(r, attacker_rows);
    let message_binds = rules::legacy_message_bind(r, attacker_rows);
    let attachments = rules::attachment_access(r, attacker_rows);
    let actions = rules::legacy_actions(r, attacker_rows);
    // A mailbox only a content search exposed was not accessed: nothing to audit.
    let unauditable = (!attacker_rows.is_empty())
        .then(|| rules::unauditable(r, attacker_rows, access_auditing))
        .flatten();
    let forwarding = forwarding::windows(
        r,
        mailbox_rows,
        &[ForwardingKind::InboxRule, ForwardingKind::Mailbox],
    );
    let forwarded = (!forwarding.is_empty()).then(|| Reason {
        rule: Rule::Forwarded,
        detail: format!(
            "{} forwarding window(s) set by the attacker: mail delivered to the mailbox while one was in place and that its conditions can match left the mailbox",
            forwarding.len()
        ),
        records: ids(forwarding.iter().flat_map(|w| w.records.iter().map(String::as_str))),
    });
    let sent_messages = forwarding::sent_messages(r, attacker_rows);

    let (messages, named) = rules::named_messages(r, [bound, message_binds, attachments].concat());
    let mut folders = [folder_binds.folders, unresolved_folders.folders].concat();
    folders.sort_by(|a, b| (&a.path, a.reason).cmp(&(&b.path, b.reason)));
    // Widest first, the order reports have always listed them in.
    let reasons: Vec<Reason> = [
        throttling,
        sync.reason,
        folder_binds.reason,
        unresolved_folders.reason,
        named,
        forwarded,
        unauditable,
    ]
    .into_iter()
    .flatten()
    .collect();

    MailboxScope {
        mailbox: mailbox.to_string(),
        verdict: rules::verdict(&reasons),
        reasons,
        throttled_windows,
        synced_folders: sync.folders,
        folders,
        messages,
        unresolved,
        actions,
        // Set by `scope_mailbox`, which has each record's indicator-gap signals.
        contexts: Vec::new(),
        contexts_left_out: None,
        timeline: timeline(mailbox_rows, r.v, r.attr, axis),
        access_auditing,
        caveats: caveats::source_caveats(r, mailbox_rows, attacker_rows),
        assumed_messages: Vec::new(),
        forwarding,
        sent_messages,
        content_searches: Vec::new(),
        searched_for: Vec::new(),
        exposure_end: None,
    }
}
