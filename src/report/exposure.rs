//! Exposure at admin scale, as report lines every format shares: content searches the attacker
//! took the results of, the grants that opened mailboxes to someone else, and what the attacker
//! searched for. Built once as `Prose`: search names, queries, locations, grantees and search
//! texts are evidence, escaped by each renderer for its target.

use super::outbound::list;
use super::view::Prose;
use crate::scope::findings::{ContentSearch, GrantLink, SearchExposure, SearchedFor};

fn query(p: Prose, query: Option<&str>) -> Prose {
    match query {
        Some(q) if !q.trim().is_empty() => p.tool("query '").evidence(q).tool("'"),
        Some(_) => p.tool("an empty query (all mail)"),
        None => p.tool("a query no record gives (taken as all mail)"),
    }
}

/// One search's exposure of one mailbox.
pub fn search_exposure(e: &SearchExposure, mailbox: &str) -> Prose {
    let mut p = Prose::default()
        .time(&e.time)
        .tool("  content search '")
        .evidence(&e.search)
        .tool(format!("' {} by the attacker; ", e.steps.join(", ")));
    p = query(p, e.query.as_deref());
    if e.by_all_locations {
        p = p.tool(" over all mailboxes");
    }
    p = if e.all_mail {
        p.tool(": the entire mailbox")
    } else {
        match e.matched_messages {
            Some(n) => p.tool(format!(
                ": {n} message(s) of the inventory the query can match (listed as assumed)"
            )),
            None => p
                .tool(": unresolved: all mail matching the query in ")
                .evidence(mailbox)
                .tool(" (no message inventory holds mail of this mailbox)"),
        }
    };
    if e.unresolved && e.all_mail {
        p = p.tool(" (no inventory lists its messages)");
    }
    list(p.tool("  (records: "), &e.records).tool(")")
}

/// A search text of the attacker.
pub fn searched_for(s: &SearchedFor) -> Prose {
    let p = Prose::default()
        .time(&s.time)
        .tool(format!("  searched {} for ", s.source));
    let p = match &s.text {
        Some(t) if t.is_empty() => p.tool("(empty text)"),
        Some(t) => p.tool("'").evidence(t).tool("'"),
        None => p.tool("(text left out: --no-search-text)"),
    };
    p.tool(format!("  [{}; record ", s.attribution))
        .evidence(&s.record_id)
        .tool("]")
}

/// A content search of the evidence (tenant section).
pub fn content_search(c: &ContentSearch) -> Prose {
    let mut p = Prose::default().tool("'").evidence(&c.search).tool("'");
    if let Some(case) = &c.case {
        p = p.tool(" (case ").evidence(case).tool(")");
    }
    p = p.tool(": ");
    p = match &c.locations {
        Some(l) if l.is_empty() => p.tool("no mailbox location"),
        Some(l) => list(p.tool("locations "), l),
        None => p.tool("locations no record gives (taken as all mailboxes)"),
    };
    p = query(p.tool("; "), c.query.as_deref());
    p = p.tool("; steps: ");
    for (n, s) in c.steps.iter().enumerate() {
        if n > 0 {
            p = p.tool(", ");
        }
        p = p
            .tool(format!("{} ", s.step))
            .time(&s.time)
            .tool(format!(" [{}; record ", s.attribution))
            .evidence(&s.record_id)
            .tool("]");
    }
    if c.exposed {
        p = p.tool(format!(
            "; EXPOSED by the attacker: {} mailbox(es) of the report",
            c.mailboxes.len()
        ));
        if c.all_mailboxes {
            p = p.tool(
                "; it covered every mailbox, so mailboxes outside the evidence are exposed too",
            );
        }
    } else {
        p = p.tool("; not exported, downloaded or previewed by the attacker");
    }
    if !c.unresolved_locations.is_empty() {
        p = list(
            p.tool("; locations that name no mailbox of the evidence (exposed, not listed): "),
            &c.unresolved_locations,
        );
    }
    if c.purged {
        p = p.tool("; PURGED by the attacker: evidence destroyed");
    }
    p
}

/// A grant the attacker made, and what its grantee did with it (tenant section).
pub fn grant(g: &GrantLink) -> Prose {
    let mut p = Prose::default()
        .time(&g.time)
        .tool(format!("  {} to ", g.kind))
        .evidence(&g.grantee);
    p = match &g.mailbox {
        Some(mb) => p.tool(" on ").evidence(mb),
        None => p.tool(" on every mailbox"),
    };
    if let Some(f) = &g.folder {
        p = p.tool(" folder ").evidence(f);
    }
    if !g.rights.is_empty() {
        p = list(p.tool(" ("), &g.rights).tool(")");
    }
    p = p
        .tool(format!("  [{}; record ", g.attribution))
        .evidence(&g.record_id)
        .tool("]");
    p = match (&g.removed, &g.removed_by) {
        (Some(t), Some(r)) => p.tool("; removed ").time(t).tool(" by record ").evidence(r),
        _ => p.tool("; still in place at the end of the evidence"),
    };
    p = p.tool(format!(
        "; the grantee's {} record(s) in the meantime attributed linked",
        g.linked_records
    ));
    if !g.mailboxes.is_empty() {
        p = list(p.tool(", in "), &g.mailboxes);
    }
    p
}
