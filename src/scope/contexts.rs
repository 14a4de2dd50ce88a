//! Access contexts: a mailbox's records grouped by IP, session, client, app, actor and logon
//! type — what the analyst reads to choose indicators, and the report's evidence of who was in.

use super::attribution::Attribution;
use super::findings::{AccessContext, ContextsLeftOut, Party};
use super::gaps::signals_of;
use super::{Attributed, FastHash, MailboxNames, ScopeConfig, Span, attributed, rows_by_mailbox};
use crate::frame::{Frame, ItemsOf, ItemsView, RecordsView};
use crate::model::is_mail_items_accessed;
use crate::time::rfc3339;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

type ContextKey<'a> = (
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

/// Which contexts `contexts_of` describes in full.
#[derive(Clone, Copy)]
pub enum Listed<'a> {
    /// Every context (`mailscope contexts`).
    All,
    /// Those with attacker or linked records or records an indicator gap cites (each record's
    /// signals, as `gaps::indicator_gaps` marks them); the others are only counted.
    Verdict { gap_marks: &'a [u8] },
}

/// Group a mailbox's records by access context (IP, session, client, app, actor, logon type):
/// the contexts `listed` asks for, and what was left out.
pub fn contexts_of<'v>(
    rows: &[usize],
    v: &'v RecordsView,
    items: &'v ItemsView,
    items_of: &ItemsOf,
    attr: &[Attribution],
    listed: Listed,
) -> (Vec<AccessContext>, Option<ContextsLeftOut>) {
    struct Acc {
        span: Span,
        n: u64,
        binds: u64,
        syncs: u64,
        gap_marks: u8,
        gap_citations: Vec<(&'static str, String)>,
        attribution: BTreeMap<Party, Option<String>>,
    }
    let mut groups: Vec<(ContextKey, Acc)> = Vec::new();
    let mut index: HashMap<ContextKey, usize, FastHash> = HashMap::default();
    // Each row's context, for the second pass.
    let mut of_row: Vec<u32> = Vec::with_capacity(rows.len());
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
                        gap_marks: 0,
                        gap_citations: Vec::new(),
                        attribution: BTreeMap::new(),
                    },
                ));
                groups.len() - 1
            }),
        };
        last = Some(k);
        of_row.push(k as u32);
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
        if let Listed::Verdict { gap_marks } = listed {
            let marks = gap_marks.get(i).copied().unwrap_or(0);
            if marks != 0 {
                a.gap_marks |= marks;
                for signal in signals_of(marks) {
                    a.gap_citations
                        .push((signal, v.record_id.text(i).to_string()));
                }
            }
        }
        a.attribution
            .entry(attr[i].party())
            .or_insert_with(|| attr[i].why().map(str::to_string));
    }
    // A context whose records differ in attribution (linked and other in one session) reports
    // the strongest one.
    let strongest = |a: &Acc| {
        [Party::Attacker, Party::Linked, Party::Trusted, Party::Other]
            .into_iter()
            .find_map(|p| a.attribution.get(&p).map(|w| (p, w.clone())))
            .unwrap_or((Party::Other, None))
    };
    let keep: Vec<bool> = groups
        .iter()
        .map(|(_, a)| match listed {
            Listed::All => true,
            Listed::Verdict { .. } => a.gap_marks != 0 || strongest(a).0.is_attacker_activity(),
        })
        .collect();
    // Messages and folders are only counted, but every item of every record goes into a hash
    // set: only for the contexts listed.
    let mut messages: Vec<HashSet<&str, FastHash>> = vec![HashSet::default(); groups.len()];
    let mut folders: Vec<HashSet<&str, FastHash>> = vec![HashSet::default(); groups.len()];
    for (&i, &k) in rows.iter().zip(&of_row) {
        let k = k as usize;
        if !keep[k] {
            continue;
        }
        // A record's items are mostly in one folder: it is hashed once.
        let mut last_folder = None;
        for it in items_of.of(i) {
            if let Some(m) = items.internet_message_id.at(it) {
                messages[k].insert(m);
            }
            let folder = items.folder_path.at(it);
            if let Some(f) = folder.filter(|_| folder != last_folder) {
                folders[k].insert(f);
                last_folder = folder;
            }
        }
        if let Some(f) = v.folder_path.at(i) {
            folders[k].insert(f);
        }
    }
    // A mailbox has hundreds of thousands of contexts at tenant scale, mostly with the same
    // client, app, actor and logon type: each value is held once.
    let mut shared: HashMap<&str, Arc<str>, FastHash> = HashMap::default();
    let mut share =
        |s: Option<&'v str>| s.map(|s| shared.entry(s).or_insert_with(|| Arc::from(s)).clone());
    let mut left_out = ContextsLeftOut {
        contexts: 0,
        records: 0,
        listed_by: ContextsLeftOut::LISTED_BY,
    };
    let mut out: Vec<AccessContext> = Vec::new();
    for (k, (key, a)) in groups.into_iter().enumerate() {
        if !keep[k] {
            left_out.contexts += 1;
            left_out.records += a.n;
            continue;
        }
        let (party, why) = strongest(&a);
        out.push(AccessContext {
            client_ip: share(key.0),
            session_id: share(key.1),
            client_info: share(key.2),
            app_id: share(key.3),
            actor: share(key.4),
            logon_type: share(key.5),
            attribution: party,
            why,
            first_seen: rfc3339(a.span.first),
            last_seen: rfc3339(a.span.last),
            records: a.n,
            binds: a.binds,
            syncs: a.syncs,
            messages: messages[k].len() as u64,
            folders: folders[k].len() as u64,
            ip_info: None,
            indicator_gaps: signals_of(a.gap_marks),
            gap_citations: a.gap_citations,
        });
    }
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
    (out, (left_out.contexts > 0).then_some(left_out))
}

/// A run in several shares: a share listed the contexts of the records its own gaps cite, a
/// superset of those the run's gaps cite that fall in it (the run cites the smallest ids of all
/// shares' smallest). Keep the contexts the run's citations or attacker activity bear on, and
/// count the others as left out. On one machine (one share) this changes nothing.
pub fn keep_the_runs_citations(
    mailboxes: &mut [super::findings::MailboxScope],
    gaps: &[super::findings::IndicatorGap],
) {
    let cited: HashSet<(&str, &str)> = gaps
        .iter()
        .flat_map(|g| g.record_ids.iter().map(|id| (g.signal, id.as_str())))
        .collect();
    for m in mailboxes {
        let mut left_out = (0u64, 0u64);
        m.contexts.retain_mut(|c| {
            if c.gap_citations.is_empty() {
                return true;
            }
            c.gap_citations
                .retain(|(signal, id)| cited.contains(&(*signal, id.as_str())));
            let mut signals: Vec<&'static str> = c.gap_citations.iter().map(|c| c.0).collect();
            signals.sort_unstable();
            signals.dedup();
            c.indicator_gaps = signals;
            let keep = !c.indicator_gaps.is_empty() || c.attribution.is_attacker_activity();
            if !keep {
                left_out.0 += 1;
                left_out.1 += c.records;
            }
            keep
        });
        if left_out.0 > 0 {
            let l = m.contexts_left_out.get_or_insert(ContextsLeftOut {
                contexts: 0,
                records: 0,
                listed_by: ContextsLeftOut::LISTED_BY,
            });
            l.contexts += left_out.0;
            l.records += left_out.1;
        }
    }
}

/// Add what the `--ip-db` databases say of each context's IP (each address looked up once).
pub fn enrich<'c>(
    contexts: impl IntoIterator<Item = &'c mut AccessContext>,
    db: &crate::ipdb::IpDbs,
) {
    let mut seen: HashMap<Arc<str>, Option<crate::ipdb::IpInfo>, FastHash> = HashMap::default();
    for c in contexts {
        if let Some(ip) = &c.client_ip {
            c.ip_info = seen
                .entry(ip.clone())
                .or_insert_with(|| db.lookup(ip))
                .clone();
        }
    }
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
    let names = MailboxNames::new(&v);
    let groups = rows_by_mailbox(&v, &attr, cfg, &names, &|_| true);
    Ok(groups
        .into_iter()
        .map(|(mb, rows)| {
            (
                mb.to_string(),
                contexts_of(&rows, &v, &items, &items_of, &attr, Listed::All).0,
            )
        })
        .collect())
}
