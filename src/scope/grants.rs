//! Grant linking: a grant an attacker (or linked) record made — FullAccess, a folder permission,
//! SendAs, send on behalf, ApplicationImpersonation, consent to an app with mail permissions —
//! hands the attacker the grantee's access. From the grant's time until a record takes it away,
//! the grantee's records (its account, or the app by `AppId` / `ClientAppId`) in any mailbox are
//! the attacker's, from whatever address they come: attributed `linked`, citing the grant.

use super::attribution::Attribution;
use super::findings::GrantLink;
use crate::frame::RecordsView;
use crate::model::Micros;
use crate::parse::exposure::{AppChannel, Exposure, Grant, GrantKind};
use crate::time::rfc3339;
use std::collections::BTreeSet;

/// A grant an attacker record made, and the record that took it away.
pub struct Window {
    pub row: usize,
    pub grant: Grant,
    pub start: Micros,
    /// The removing record's row and time.
    pub end: Option<(usize, Micros)>,
}

impl Window {
    fn holds(&self, t: Micros) -> bool {
        t >= self.start && self.end.is_none_or(|(_, e)| t < e)
    }
}

fn grant_of(v: &RecordsView, i: usize) -> Option<Grant> {
    match crate::parse::exposure::from_column(v.exposure.at(i)?)? {
        Exposure::Grant(g) => Some(g),
        _ => None,
    }
}

/// One account named two ways: `bob`, `bob@contoso.com`, an AD path ending in `bob`.
pub fn same_account(grantee: &str, actor: &str) -> bool {
    let actor = actor.rsplit(['/', '\\']).next().unwrap_or(actor).trim();
    if actor.eq_ignore_ascii_case(grantee) {
        return true;
    }
    fn local(s: &str) -> Option<&str> {
        s.split_once('@').map(|(l, _)| l)
    }
    match (grantee.contains('@'), actor.contains('@')) {
        (false, true) => local(actor).is_some_and(|l| l.eq_ignore_ascii_case(grantee)),
        (true, false) => local(grantee).is_some_and(|l| l.eq_ignore_ascii_case(actor)),
        _ => false,
    }
}

/// The removal takes away what the grant gave: the same kind (for an app, the same way of
/// holding the permission, or the service principal itself), the same grantee and mailbox as
/// far as the inputs can tell (`canonical`), the same folder, and every right that read.
fn removes(grant: &Grant, removal: &Grant, canonical: &impl Fn(&str) -> String) -> bool {
    let same_kind = match (grant.kind, removal.app_channel) {
        (GrantKind::AppConsent, Some(AppChannel::ServicePrincipal)) => {
            removal.kind == GrantKind::AppConsent
        }
        (GrantKind::AppConsent, channel) => {
            removal.kind == GrantKind::AppConsent && channel == grant.app_channel
        }
        (k, _) => removal.kind == k,
    };
    let same_mailbox = match (&grant.mailbox, &removal.mailbox) {
        (Some(a), Some(b)) => canonical(a) == canonical(b),
        // A grant on every mailbox is removed only by a removal on every mailbox.
        (None, Some(_)) => false,
        _ => true,
    };
    let folder = |f: &Option<String>| f.as_deref().map(str::to_lowercase);
    let same_folder = folder(&grant.folder) == folder(&removal.folder);
    // A removal without rights removes them all; else every right the grant gave must go.
    let rights = removal.rights.is_empty()
        || grant.rights.iter().all(|g| {
            removal
                .rights
                .iter()
                .any(|r| r.trim().eq_ignore_ascii_case(g.trim()))
        });
    same_kind
        && same_mailbox
        && same_folder
        && rights
        && canonical(&grant.grantee) == canonical(&removal.grantee)
}

/// The grants attacker or linked records made, each with the first later record (by anyone)
/// that removed it; in (time, record id) order.
pub fn windows(v: &RecordsView, attr: &[Attribution]) -> Vec<Window> {
    let mut events: Vec<(Micros, &str, usize, Grant)> = (0..v.time.len())
        .filter(|&i| v.exposure.at(i).is_some())
        .filter_map(|i| Some((v.time[i], v.record_id.text(i), i, grant_of(v, i)?)))
        // A record that names several grantees is one grant each.
        .flat_map(|(t, id, i, mut first)| {
            let more = std::mem::take(&mut first.more);
            let each: Vec<Grant> = more
                .into_iter()
                .map(|grantee| Grant {
                    grantee,
                    ..first.clone()
                })
                .collect();
            std::iter::once(first)
                .chain(each)
                .map(move |g| (t, id, i, g))
        })
        .collect();
    if events.is_empty() {
        return Vec::new();
    }
    // Time, record id, then content: two differing copies of one record are both kept, and
    // their order must not be the files'.
    events.sort_by_cached_key(|e| (e.0, e.1, serde_json::to_string(&e.3).ok()));
    // An alias and a UPN are one account when the inputs (mailboxes and actors) have exactly
    // one UPN with that alias; otherwise names compare as written.
    let upns = aliases(v);
    let canonical = |name: &str| -> String {
        let n = name.trim().to_lowercase();
        let n = n.rsplit(['/', '\\']).next().unwrap_or(&n).to_string();
        if n.contains('@') {
            n
        } else {
            match upns.get(&n) {
                Some(Some(upn)) => upn.clone(),
                _ => n,
            }
        }
    };
    let mut out = Vec::new();
    for (k, (t, _, i, g)) in events.iter().enumerate() {
        if g.removes || !attr[*i].is_attacker_activity() {
            continue;
        }
        let end = events[k + 1..]
            .iter()
            .find(|(_, _, _, r)| r.removes && removes(g, r, &canonical))
            .map(|(rt, _, ri, _)| (*ri, *rt));
        out.push(Window {
            row: *i,
            grant: g.clone(),
            start: *t,
            end,
        });
    }
    out
}

/// Alias → the one UPN of the inputs' mailboxes and actors with it (`None`: more than one).
fn aliases(v: &RecordsView) -> std::collections::HashMap<String, Option<String>> {
    let mut upns: BTreeSet<String> = BTreeSet::new();
    let (mut last_mailbox, mut last_actor) = (None, None);
    for i in 0..v.time.len() {
        let (mb, actor) = (v.mailbox.at(i), v.actor.at(i));
        if mb != last_mailbox {
            upns.extend(mb.filter(|m| m.contains('@')).map(str::to_lowercase));
            last_mailbox = mb;
        }
        if actor != last_actor {
            upns.extend(actor.filter(|a| a.contains('@')).map(str::to_lowercase));
            last_actor = actor;
        }
    }
    let mut out: std::collections::HashMap<String, Option<String>> = Default::default();
    for upn in upns {
        let alias = upn.split('@').next().unwrap_or_default().to_string();
        out.entry(alias)
            .and_modify(|e| *e = None)
            .or_insert(Some(upn));
    }
    out
}

/// The grant whose grantee record `i` is, while it held: its window's index.
pub fn grantee_of(v: &RecordsView, i: usize, windows: &[Window]) -> Option<usize> {
    let t = v.time[i];
    let actor = v.actor.at(i);
    let apps = [v.app_id.at(i), v.client_app_id.at(i)];
    windows.iter().position(|w| {
        w.row != i
            && w.holds(t)
            && (actor.is_some_and(|a| same_account(&w.grant.grantee, a))
                || apps
                    .iter()
                    .flatten()
                    .any(|a| a.trim().eq_ignore_ascii_case(&w.grant.grantee)))
    })
}

/// Attribute the grantees' `other` records in their windows as linked; whether any changed.
pub fn link(v: &RecordsView, attr: &mut [Attribution]) -> bool {
    let windows = windows(v, attr);
    if windows.is_empty() {
        return false;
    }
    let mut changed = false;
    for (i, a) in attr.iter_mut().enumerate() {
        if *a != Attribution::Other {
            continue;
        }
        if let Some(k) = grantee_of(v, i, &windows) {
            let w = &windows[k];
            *a = Attribution::Linked(format!(
                "grantee {} of the {} grant in attacker record {}",
                w.grant.grantee,
                w.grant.kind.as_str(),
                v.record_id.text(w.row)
            ));
            changed = true;
        }
    }
    changed
}

/// The attacker's grants for the report: what each opened, until when, and what its grantee did
/// (records it linked, in which mailboxes).
pub(crate) fn report(
    v: &RecordsView,
    attr: &[Attribution],
    names: &super::MailboxNames,
) -> Vec<GrantLink> {
    let windows = windows(v, attr);
    if windows.is_empty() {
        return Vec::new();
    }
    let mut linked = vec![(0u64, BTreeSet::<String>::new()); windows.len()];
    for (i, a) in attr.iter().enumerate() {
        let Attribution::Linked(why) = a else {
            continue;
        };
        if !why.starts_with("grantee ") {
            continue;
        }
        if let Some(k) = grantee_of(v, i, &windows) {
            linked[k].0 += 1;
            linked[k].1.extend(names.of(v, i).map(str::to_string));
        }
    }
    windows
        .iter()
        .zip(linked)
        .map(|(w, (n, mailboxes))| GrantLink {
            kind: w.grant.kind.as_str().to_string(),
            grantee: w.grant.grantee.clone(),
            mailbox: w.grant.mailbox.as_ref().map(|m| match m.contains('@') {
                true => m.clone(),
                false => names
                    .upn_of_alias(m)
                    .map_or_else(|| m.clone(), str::to_string),
            }),
            folder: w.grant.folder.clone(),
            rights: w.grant.rights.clone(),
            time: rfc3339(w.start),
            record_id: v.record_id.text(w.row).to_string(),
            attribution: attr[w.row].party(),
            removed: w.end.map(|(_, t)| rfc3339(t)),
            removed_by: w.end.map(|(r, _)| v.record_id.text(r).to_string()),
            linked_records: n,
            mailboxes: mailboxes.into_iter().collect(),
        })
        .collect()
}
