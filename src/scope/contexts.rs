//! Access contexts: a mailbox's records grouped by IP, session, client, app, actor and logon
//! type — what the analyst reads to choose indicators, and the report's evidence of who was in.

use super::attribution::Attribution;
use super::findings::{AccessContext, Party};
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
        attribution: BTreeMap<Party, Option<String>>,
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
            .entry(attr[i].party())
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
            let (party, why) = [Party::Attacker, Party::Linked, Party::Trusted, Party::Other]
                .into_iter()
                .find_map(|p| a.attribution.get(&p).map(|w| (p, w.clone())))
                .unwrap_or((Party::Other, None));
            AccessContext {
                client_ip: share(k.0),
                session_id: share(k.1),
                client_info: share(k.2),
                app_id: share(k.3),
                actor: share(k.4),
                logon_type: share(k.5),
                attribution: party,
                why,
                first_seen: rfc3339(a.span.first),
                last_seen: rfc3339(a.span.last),
                records: a.n,
                binds: a.binds,
                syncs: a.syncs,
                messages: a.messages.len() as u64,
                folders: a.folders.len() as u64,
                ip_info: None,
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
                contexts_of(&rows, &v, &items, &items_of, &attr),
            )
        })
        .collect())
}
