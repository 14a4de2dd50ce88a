//! What left the mailbox, as report lines every format shares: forwarding windows and the
//! mail the attacker sent. Built once as `Prose`, so evidence text (rule names, addresses,
//! subjects, record ids) is escaped by each renderer for its target.

use super::view::Prose;
use crate::scope::findings::{ForwardingWindow, SentMessage};
use crate::scope::notification::SentRecipients;

/// How many values of a list a line shows before `(+n more)`.
const SHOWN: usize = 5;

/// Evidence values, the first few, then how many more.
pub(super) fn list(p: Prose, values: &[String]) -> Prose {
    let shown = values.iter().take(SHOWN).map(String::as_str);
    let p = p.evidence_list(shown, ", ");
    if values.len() > SHOWN {
        p.tool(format!(" (+{} more)", values.len() - SHOWN))
    } else {
        p
    }
}

/// One forwarding window: when, what, where to, on which mail, how it ended, what the
/// inventory shows it forwarded. `mailbox` is the mailbox whose delivered mail it took
/// (`None`: a transport rule, the organization's mail).
pub fn window(w: &ForwardingWindow, mailbox: Option<&str>) -> Prose {
    let mut p = Prose::default().tool("[").time(&w.start).tool(" … ");
    p = match &w.end {
        Some(end) => p.time(end),
        None => p.tool("still in place at the end of the evidence"),
    };
    p = p.tool(format!(")  {}", w.kind.as_str()));
    if let Some(rule) = &w.rule {
        p = p.tool(" '").evidence(rule).tool("'");
    }
    p = p.tool(" → ");
    for (n, d) in w.destinations.iter().enumerate() {
        if n > 0 {
            p = p.tool(", ");
        }
        p = p.evidence(&d.address).tool(match d.external {
            Some(true) => " (external)",
            Some(false) => " (internal)",
            None => "",
        });
    }
    p = p.tool(format!("  [{}]", w.attribution));
    if w.conditions.is_empty() {
        p = p.tool("  all mail");
    } else {
        p = p.tool("  mail matching ");
        for (n, c) in w.conditions.iter().enumerate() {
            if n > 0 {
                p = p.tool(" and ");
            }
            p = list(p.evidence(&c.name).tool("="), &c.values);
            if !c.decidable {
                p = p.tool(" (not decidable: counts as matching)");
            }
        }
        if w.all_mail {
            p = p.tool(" (unreadable conditions: all mail counts)");
        }
    }
    if let (Some(why), Some(record)) = (w.ended_by, &w.end_record) {
        p = p
            .tool(format!("; ended: {} by record ", why.as_str()))
            .evidence(record);
    }
    p = match (w.forwarded_messages, w.confirmed) {
        (Some(n), Some(c)) => p.tool(format!(
            "; {n} message(s) of the inventory forwarded ({c} confirmed arriving)"
        )),
        _ => match mailbox {
            Some(mb) => p
                .tool("; unresolved: no message inventory holds mail of this mailbox; a message trace of the mail delivered to ")
                .evidence(mb)
                .tool(" in this window would name the forwarded messages"),
            None => p.tool(
                "; unresolved: no message inventory; a message trace of the organization's mail in this window would name the messages",
            ),
        },
    };
    if let Some(after) = &w.unresolved_after {
        p = p
            .tool("; the inventories end at ")
            .time(after)
            .tool(": mail delivered later in the window is not named");
    }
    list(p.tool("  (records: "), &w.records).tool(")")
}

/// One message the attacker sent, with its recipients when an inventory gives them.
pub fn sent(s: &SentMessage) -> Prose {
    let mut p = Prose::default()
        .time(&s.time)
        .tool("  ")
        .evidence(&s.operation)
        .tool("  ");
    p = match (&s.internet_message_id, &s.item_id) {
        (Some(id), _) => p.evidence(id),
        (None, Some(item)) => p.tool("item ").evidence(item),
        (None, None) => p.tool("(no message id)"),
    };
    if let Some(subject) = &s.subject {
        p = p.tool("  \"").evidence(subject).tool("\"");
    }
    p = match s.recipients_from.as_deref() {
        Some(how) => {
            let p = list(p.tool("  to "), &s.recipients);
            match how {
                "internet-message-id" => p.tool(" (inventory, by message id)"),
                _ => p.tool(" (inventory, matched by sender, subject and time: check)"),
            }
        }
        None => p.tool("  recipients unknown (in no inventory)"),
    };
    p.tool(format!("  [{}; record ", s.attribution))
        .evidence(&s.record_id)
        .tool("]")
}

/// The notification line for mail the attacker sent.
pub fn sent_recipients(label: Prose, s: &SentRecipients) -> Prose {
    let external: Vec<String> = s
        .domains
        .iter()
        .filter(|d| !d.internal)
        .map(|d| d.domain.clone())
        .collect();
    let p = label.tool(format!(
        ": {} message(s) sent by the attacker, {} with recipients from the inventory; {} recipient(s): {} internal, {} external",
        s.messages, s.with_recipients, s.recipients, s.internal_recipients, s.external_recipients
    ));
    if external.is_empty() {
        p
    } else {
        list(p.tool(" (external domains: "), &external).tool(")")
    }
}
