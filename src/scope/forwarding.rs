//! What left the mailbox (rule `forwarded` of `docs/scope-rules.md`, and the attacker's sent
//! mail). Forwarding changes (`parse::forwarding`) replayed in time order give exposure
//! windows: from the attacker's record that made a rule or a mailbox forward, until the
//! forwarding was removed, disabled, cleared or pointed elsewhere (by anyone), or still open
//! at the end of the evidence. A message inventory then names the mail each window forwarded:
//! delivered inside it and not excluded by a condition the inventory can decide.

use super::findings::{
    Destination, ForwardingKind, ForwardingWindow, Party, RuleCondition, SentMessage, WindowEnd,
};
use super::rules::Rows;
use crate::frame::messages::MessageRef;
use crate::model::Micros;
use crate::parse::forwarding::{Change, DECIDABLE, ForwardingChange, from_column};
use crate::time::rfc3339;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the evidence says of one rule so far.
#[derive(Default, Clone)]
struct RuleState {
    to: Vec<String>,
    conditions: BTreeMap<String, Vec<String>>,
    unreadable: bool,
    enabled: bool,
    /// The attacker's records that made it forward (for `Enable` after a `Disable`).
    attacker_set: Vec<String>,
    attacker_party: Option<Party>,
    /// The window open on it.
    open: Option<usize>,
}

/// The forwarding windows that `rows` (one mailbox's, or every transport-rule record) open,
/// in the order they opened.
pub fn windows(r: Rows, rows: &[usize], kinds: &[ForwardingKind]) -> Vec<ForwardingWindow> {
    let mut changes: Vec<(Micros, &str, usize, ForwardingChange)> = rows
        .iter()
        .filter_map(|&i| {
            let c = from_column(r.v.forwarding.at(i)?)?;
            kinds
                .contains(&c.kind)
                .then(|| (r.v.time[i], r.v.record_id.text(i), i, c))
        })
        .collect();
    if changes.is_empty() {
        return Vec::new();
    }
    // Time, then record id: the same for every order of the inputs.
    changes.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut states: HashMap<(ForwardingKind, String), RuleState> = HashMap::new();
    let mut out: Vec<ForwardingWindow> = Vec::new();
    for (t, id, i, c) in changes {
        let party = r.attr[i].party();
        let attacker = party.is_attacker_activity();
        let Some(name) = c.rule.clone() else {
            // A record that does not say which rule it changes closes nothing; one that sets
            // forwarding opens a window no later record can match, so it stays open.
            if attacker && c.change == Change::Set && c.to.as_ref().is_some_and(|t| !t.is_empty()) {
                let st = RuleState {
                    to: c.to.clone().unwrap_or_default(),
                    conditions: c.conditions.clone(),
                    unreadable: c.conditions_unreadable,
                    enabled: true,
                    ..RuleState::default()
                };
                out.push(open(&c, None, &st, t, party, vec![id.to_string()]));
            }
            continue;
        };
        let key = (c.kind, name);
        let st = states.entry(key.clone()).or_insert_with(|| RuleState {
            enabled: true,
            ..RuleState::default()
        });
        match c.change {
            Change::Remove | Change::Disable => {
                if let Some(w) = st.open.take() {
                    let why = if c.change == Change::Remove {
                        WindowEnd::Removed
                    } else {
                        WindowEnd::Disabled
                    };
                    close(&mut out[w], t, why, id);
                }
                st.enabled = false;
                if c.change == Change::Remove {
                    states.remove(&key);
                }
            }
            Change::Enable => {
                st.enabled = true;
                let owner = if attacker {
                    Some(party)
                } else {
                    st.attacker_party
                };
                if let (None, Some(p), false) = (st.open, owner, st.to.is_empty()) {
                    let mut records = st.attacker_set.clone();
                    records.push(id.to_string());
                    st.open = Some(out.len());
                    out.push(open(&c, Some(&key.1), st, t, p, records));
                }
            }
            Change::Set => {
                let before_to = st.to.clone();
                let before_conditions = (st.conditions.clone(), st.unreadable);
                if let Some(to) = &c.to {
                    st.to = to.clone();
                }
                // Outlook sends the whole rule; a cmdlet only what it changes.
                if c.replaces_conditions {
                    st.conditions.clear();
                    st.unreadable = false;
                }
                for (k, v) in &c.conditions {
                    if v.is_empty() {
                        st.conditions.remove(k);
                    } else {
                        st.conditions.insert(k.clone(), v.clone());
                    }
                }
                st.unreadable |= c.conditions_unreadable;
                st.enabled = true;
                let conditions_changed =
                    (st.conditions.clone(), st.unreadable) != before_conditions;
                let forwards = !st.to.is_empty();
                match st.open {
                    Some(w) if !forwards => {
                        close(&mut out[w], t, WindowEnd::Cleared, id);
                        st.open = None;
                    }
                    Some(w) if st.to != before_to => {
                        close(&mut out[w], t, WindowEnd::Overwritten, id);
                        st.open = None;
                    }
                    Some(w) if conditions_changed => {
                        // The rule takes other mail from now on: one window per set of
                        // conditions, the forwarding still the one the attacker set.
                        close(&mut out[w], t, WindowEnd::Changed, id);
                        let mut records = out[w].records.clone();
                        records.push(id.to_string());
                        let party = out[w].attribution;
                        st.open = Some(out.len());
                        out.push(open(&c, Some(&key.1), st, t, party, records));
                    }
                    Some(w) if attacker => out[w].records.push(id.to_string()),
                    Some(_) => {}
                    None => {}
                }
                if attacker && forwards {
                    st.attacker_set = vec![id.to_string()];
                    st.attacker_party = Some(party);
                } else if c.to.is_some() {
                    st.attacker_party = None;
                    st.attacker_set.clear();
                }
                if st.open.is_none() && forwards && attacker {
                    st.open = Some(out.len());
                    out.push(open(&c, Some(&key.1), st, t, party, vec![id.to_string()]));
                }
            }
        }
        // A rename moves the rule (and its open window) to its new name.
        if let Some(new) = &c.renamed {
            if let Some(st) = states.remove(&key) {
                states.insert((c.kind, new.clone()), st);
            }
        }
    }
    out
}

fn open(
    c: &ForwardingChange,
    rule: Option<&str>,
    st: &RuleState,
    t: Micros,
    party: Party,
    records: Vec<String>,
) -> ForwardingWindow {
    let mut conditions: Vec<RuleCondition> = st
        .conditions
        .iter()
        .map(|(name, values)| RuleCondition {
            name: name.clone(),
            values: values.clone(),
            decidable: DECIDABLE.contains(&name.strip_prefix("ExceptIf").unwrap_or(name)),
        })
        .collect();
    if st.unreadable {
        conditions.push(RuleCondition {
            name: "RuleCondition".into(),
            values: Vec::new(),
            decidable: false,
        });
    }
    ForwardingWindow {
        kind: c.kind,
        rule: match c.kind {
            ForwardingKind::Mailbox => None,
            _ => rule.map(str::to_string),
        },
        destinations: st
            .to
            .iter()
            .map(|a| Destination {
                address: a.clone(),
                external: None,
            })
            .collect(),
        start: rfc3339(t),
        end: None,
        ended_by: None,
        end_record: None,
        conditions,
        all_mail: st.unreadable,
        attribution: party,
        records,
        forwarded_messages: None,
        confirmed: None,
        unresolved_after: None,
        start_micros: t,
        end_micros: None,
    }
}

fn close(w: &mut ForwardingWindow, t: Micros, why: WindowEnd, id: &str) {
    w.end = Some(rfc3339(t));
    w.end_micros = Some(t);
    w.ended_by = Some(why);
    w.end_record = Some(id.to_string());
}

/// Marks a window that runs past the inventories' last message (`last`).
pub fn mark_inventory_end(w: &mut ForwardingWindow, last: Option<Micros>) {
    w.unresolved_after = match (last, w.end_micros) {
        (Some(last), Some(end)) if last >= end => None,
        (Some(last), _) => Some(rfc3339(last.max(w.start_micros))),
        (None, _) => None,
    };
}

/// Each destination's side: internal when its domain is one of the organization's.
pub fn mark_external(windows: &mut [ForwardingWindow], internal: &[String]) {
    for w in windows {
        for d in &mut w.destinations {
            d.external = d
                .address
                .rsplit_once('@')
                .map(|(_, dom)| !super::notification::is_internal(dom, internal));
        }
    }
}

/// A condition on a message: `Some(true)` met, `Some(false)` not met, `None` undecidable from
/// the inventory's fields.
fn condition(name: &str, values: &[String], m: &MessageRef) -> Option<bool> {
    if values.is_empty() {
        return None;
    }
    let contains_any = |text: &str| {
        let text = text.to_lowercase();
        values.iter().any(|w| text.contains(w.as_str()))
    };
    let is_any = |address: &str| values.iter().any(|v| v.eq_ignore_ascii_case(address));
    // A value with no address in it (a display name) cannot be compared.
    let all_addresses = values.iter().all(|v| v.contains('@'));
    match name {
        "SubjectContainsWords" => m.subject.map(contains_any),
        // The body is not in an inventory: a subject that does not match decides nothing.
        "SubjectOrBodyContainsWords" => m.subject.map(contains_any).filter(|&b| b),
        "From" => match m.sender {
            Some(s) if is_any(s) => Some(true),
            Some(_) if all_addresses => Some(false),
            _ => None,
        },
        "FromAddressContainsWords" => m.sender.map(contains_any),
        "SentTo" => {
            let mut recipients = m.recipients().peekable();
            recipients.peek()?;
            if m.recipients().any(is_any) {
                Some(true)
            } else {
                all_addresses.then_some(false)
            }
        }
        "RecipientAddressContainsWords" => {
            let mut recipients = m.recipients().peekable();
            recipients.peek()?;
            Some(m.recipients().any(contains_any))
        }
        _ => None,
    }
}

/// Whether window `w` took message `m`: delivered to `mailbox` (any message for a transport
/// rule, `mailbox` `None`) inside the window, and no condition the inventory can decide
/// excludes it. A message without a time is inside (undecidable).
pub fn takes(w: &ForwardingWindow, m: &MessageRef, mailbox: Option<&str>) -> bool {
    if let Some(own) = mailbox {
        let delivered = m.recipients().any(|r| r == own)
            || (m.sender != Some(own) && m.mailboxes().any(|x| x == own));
        if !delivered {
            return false;
        }
    }
    if let Some(t) = m.received {
        if t < w.start_micros || w.end_micros.is_some_and(|end| t >= end) {
            return false;
        }
    }
    if w.all_mail {
        return true;
    }
    w.conditions
        .iter()
        .filter(|c| c.decidable)
        .all(|c| match c.name.strip_prefix("ExceptIf") {
            Some(base) => condition(base, &c.values, m) != Some(true),
            None => condition(&c.name, &c.values, m) != Some(false),
        })
}

/// A subject without the reply and forward prefixes mail clients add.
fn subject_core(s: &str) -> String {
    let mut s = s.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let cut = ["fw:", "fwd:", "wg:", "tr:", "re:", "aw:"]
            .iter()
            .find(|p| lower.starts_with(*p));
        match cut {
            Some(p) => s = s[p.len()..].trim_start(),
            None => return s.to_lowercase(),
        }
    }
}

/// Within this long after delivery, a message from the mailbox to a destination with the same
/// subject is the forwarded copy.
const FORWARD_DELAY: Micros = 15 * 60 * 1_000_000;

/// Messages of the inventory by recipient, to find forwarded copies.
pub struct Copies<'m, 'a> {
    by_recipient: HashMap<&'a str, Vec<&'m MessageRef<'a>>>,
}

impl<'m, 'a> Copies<'m, 'a> {
    pub fn new(messages: &'m [MessageRef<'a>], destinations: &BTreeSet<&str>) -> Copies<'m, 'a> {
        let mut by_recipient: HashMap<&'a str, Vec<&'m MessageRef<'a>>> = HashMap::new();
        if !destinations.is_empty() {
            for m in messages {
                for rcpt in m.recipients() {
                    if destinations.contains(rcpt) {
                        by_recipient.entry(rcpt).or_default().push(m);
                    }
                }
            }
        }
        Copies { by_recipient }
    }

    /// Whether the inventory shows `m` reaching one of `w`'s destinations: the same message
    /// (redirect, blind copy), or a message from `mailbox` with its subject soon after.
    pub fn confirmed(&self, w: &ForwardingWindow, m: &MessageRef, mailbox: Option<&str>) -> bool {
        w.destinations.iter().any(|d| {
            self.by_recipient
                .get(d.address.as_str())
                .into_iter()
                .flatten()
                .any(|c| {
                    if c.internet_message_id == m.internet_message_id {
                        return true;
                    }
                    let (Some(own), Some(sent), Some(got)) = (mailbox, c.received, m.received)
                    else {
                        return false;
                    };
                    c.sender == Some(own)
                        && sent >= got
                        && sent - got <= FORWARD_DELAY
                        && match (c.subject, m.subject) {
                            (Some(a), Some(b)) => subject_core(a) == subject_core(b),
                            _ => false,
                        }
                })
        })
    }
}

const SEND_OPERATIONS: &[&str] = &["Send", "SendAs", "SendOnBehalf"];

/// The mail the attacker sent from the mailbox: each `Send`, `SendAs` or `SendOnBehalf`
/// record's message, in time order.
pub fn sent_messages(r: Rows, attacker_rows: &[usize]) -> Vec<SentMessage> {
    let mut out = Vec::new();
    for &i in attacker_rows {
        let op = r.v.operation.text(i);
        if !SEND_OPERATIONS.iter().any(|s| s.eq_ignore_ascii_case(op)) {
            continue;
        }
        let base = |mid: Option<&str>, item: Option<&str>, subject: Option<&str>| SentMessage {
            time: rfc3339(r.v.time[i]),
            operation: op.to_string(),
            internet_message_id: mid.map(str::to_string),
            item_id: item.map(str::to_string),
            subject: subject.map(str::to_string),
            attribution: r.attr[i].party(),
            record_id: r.v.record_id.text(i).to_string(),
            recipients: Vec::new(),
            recipients_from: None,
            source: None,
        };
        let mut any = false;
        for k in r.items_of.of(i) {
            any = true;
            out.push(base(
                r.items.internet_message_id.at(k),
                r.items.item_id.at(k),
                r.items.subject.at(k),
            ));
        }
        // A send record that lost its item is still a message sent.
        if !any {
            out.push(base(None, None, None));
        }
    }
    out.sort_by(|a, b| (&a.time, &a.record_id).cmp(&(&b.time, &b.record_id)));
    out
}

/// Within this long of the send record, the inventory's message from the mailbox with the same
/// subject is taken for the one sent (when the record names no message id).
const SEND_DELAY: Micros = 5 * 60 * 1_000_000;

/// The inventory's message for a sent message: by id, else by sender, subject and time.
pub fn find_sent<'m, 'a>(
    s: &SentMessage,
    mailbox: &str,
    by_id: &HashMap<&str, &'m MessageRef<'a>>,
    from_mailbox: &[&'m MessageRef<'a>],
) -> Option<(&'m MessageRef<'a>, &'static str)> {
    if let Some(m) = s
        .internet_message_id
        .as_deref()
        .and_then(|id| by_id.get(id))
    {
        return Some((m, "internet-message-id"));
    }
    if s.internet_message_id.is_some() {
        return None;
    }
    let subject = subject_core(s.subject.as_deref()?);
    let t = crate::time::parse_iso(&s.time)?;
    let mut found: Vec<&MessageRef> = from_mailbox
        .iter()
        .copied()
        .filter(|m| m.sender == Some(mailbox))
        .filter(|m| m.subject.is_some_and(|x| subject_core(x) == subject))
        .filter(|m| m.received.is_some_and(|r| (r - t).abs() <= SEND_DELAY))
        .collect();
    found.sort_by_key(|m| (m.received.map(|r| (r - t).abs()), m.internet_message_id));
    found.first().map(|m| (*m, "sender-subject-time"))
}

#[cfg(test)]
mod tests {
    use super::subject_core;

    #[test]
    fn forward_prefixes_are_cut() {
        assert_eq!(subject_core("FW: RE:  Invoice 7"), "invoice 7");
        assert_eq!(subject_core("Fwd:Invoice 7"), "invoice 7");
        assert_eq!(subject_core("Forward plan"), "forward plan");
    }
}
