//! What left the mailbox (rule `forwarded` of `docs/scope-rules.md`, and the attacker's sent
//! mail). Forwarding changes (`parse::forwarding`) replayed in time order give exposure
//! windows: from the attacker's record that made a rule or a mailbox forward, until the
//! forwarding was removed, disabled, cleared or pointed elsewhere (by anyone), or still open
//! at the end of the evidence. A message inventory then names the mail each window forwarded:
//! delivered inside it and not excluded by a condition the inventory can decide.

use super::findings::{
    Destination, ForwardedBy, ForwardingKind, ForwardingWindow, Party, RuleCondition, SentMessage,
    WindowEnd,
};
use super::rules::Rows;
use crate::frame::messages::MessageRef;
use crate::model::Micros;
use crate::parse::forwarding::{Change, DECIDABLE, ForwardingChange, from_column};
use crate::time::rfc3339;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// What the evidence says of one rule so far.
#[derive(Default, Clone)]
struct RuleState {
    /// Destinations by the parameter that gives them.
    to: BTreeMap<String, Vec<String>>,
    conditions: BTreeMap<String, Vec<String>>,
    unreadable: bool,
    enabled: bool,
    /// Every destination the attacker set on the rule: known to be the attacker's whoever
    /// points the rule at it again.
    attacker_dests: BTreeSet<String>,
    /// The attacker's last record that made it forward, and its attribution.
    attacker_set: Option<(String, Party)>,
    /// The window open on it.
    open: Option<usize>,
}

impl RuleState {
    /// Every destination the rule sends to now.
    fn all_to(&self) -> Vec<String> {
        let all: BTreeSet<&String> = self.to.values().flatten().collect();
        all.into_iter().cloned().collect()
    }

    /// The destinations the rule sends to now that the attacker set.
    fn attackers_now(&self) -> Vec<String> {
        self.all_to()
            .into_iter()
            .filter(|d| self.attacker_dests.contains(d))
            .collect()
    }

    fn apply(&mut self, c: &ForwardingChange) {
        // Outlook sends the whole rule; a cmdlet only what it changes. A record without the
        // rule's actions leaves its destinations as they were.
        if c.replaces_conditions {
            if !c.to.is_empty() {
                self.to.clear();
            }
            self.conditions.clear();
            self.unreadable = false;
        }
        for (param, list) in &c.to {
            self.to.insert(param.clone(), list.clone());
        }
        for (k, v) in &c.conditions {
            if v.is_empty() {
                self.conditions.remove(k);
            } else {
                self.conditions.insert(k.clone(), v.clone());
            }
        }
        self.unreadable |= c.conditions_unreadable;
        self.enabled = true;
    }
}

/// One change in replay order.
struct Step<'v> {
    t: Micros,
    id: &'v str,
    party: Party,
    c: ForwardingChange,
}

/// The forwarding windows that `rows` (one mailbox's, or every transport-rule record) open,
/// in the order they opened.
pub fn windows(r: Rows, rows: &[usize], kinds: &[ForwardingKind]) -> Vec<ForwardingWindow> {
    let mut steps: Vec<Step> = rows
        .iter()
        .filter_map(|&i| {
            let c = from_column(r.v.forwarding.at(i)?)?;
            kinds.contains(&c.kind).then(|| Step {
                t: r.v.time[i],
                id: r.v.record_id.text(i),
                party: r.attr[i].party(),
                c,
            })
        })
        .collect();
    // Time, then record id: the same for every order of the inputs.
    steps.sort_by(|a, b| (a.t, a.id).cmp(&(b.t, b.id)));
    let mut states: HashMap<(ForwardingKind, String), RuleState> = HashMap::new();
    let mut out: Vec<ForwardingWindow> = Vec::new();
    for step in &steps {
        let attacker = step.party.is_attacker_activity();
        let c = &step.c;
        let Some(name) = c.rule.clone() else {
            // A record that does not say which rule it changes closes nothing; one that sets
            // forwarding opens a window no later record can match, so it stays open.
            let mut st = RuleState::default();
            st.apply(c);
            let to = st.all_to();
            if attacker && c.change == Change::Set && !to.is_empty() {
                out.push(open(
                    c.kind,
                    None,
                    &st,
                    to,
                    step,
                    step.party,
                    vec![step.id.to_string()],
                ));
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
                    close(&mut out[w], step.t, why, step.id);
                }
                st.enabled = false;
                if c.change == Change::Remove {
                    states.remove(&key);
                }
            }
            Change::Enable => {
                st.enabled = true;
                let (to, owner) = if attacker && !st.all_to().is_empty() {
                    (st.all_to(), Some((step.id.to_string(), step.party)))
                } else {
                    (st.attackers_now(), st.attacker_set.clone())
                };
                if let (None, Some((first, party)), false) = (st.open, owner, to.is_empty()) {
                    let mut records = vec![first];
                    records.push(step.id.to_string());
                    records.dedup();
                    open_on(st, &mut out, c.kind, &key.1, to, step, party, records);
                }
            }
            Change::Set => set(st, &key.1, step, attacker, &mut out),
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

/// A change that sets destinations or conditions: the open window goes on, ends, or gives way
/// to one with the new destinations or conditions; an attacker's forwarding opens one.
fn set(
    st: &mut RuleState,
    name: &str,
    step: &Step,
    attacker: bool,
    out: &mut Vec<ForwardingWindow>,
) {
    let c = &step.c;
    let before = (st.conditions.clone(), st.unreadable);
    st.apply(c);
    let conditions_changed = (st.conditions.clone(), st.unreadable) != before;
    let all = st.all_to();
    if attacker && !all.is_empty() {
        st.attacker_dests.extend(all.iter().cloned());
        st.attacker_set = Some((step.id.to_string(), step.party));
    }
    // Another's change leaves forwarding to the attacker's destinations that are still there
    // (or that it points the rule at again).
    let remaining = if attacker {
        all.clone()
    } else {
        st.attackers_now()
    };
    if let Some(w) = st.open {
        let same_to = out[w]
            .destinations
            .iter()
            .map(|d| &d.address)
            .eq(remaining.iter());
        if remaining.is_empty() {
            let why = if all.is_empty() {
                WindowEnd::Cleared
            } else {
                WindowEnd::Overwritten
            };
            close(&mut out[w], step.t, why, step.id);
            st.open = None;
        } else if !same_to || conditions_changed {
            let why = if same_to {
                WindowEnd::Changed
            } else {
                WindowEnd::Overwritten
            };
            close(&mut out[w], step.t, why, step.id);
            // The next window cites the record that set the forwarding up and this change.
            let first = out[w].records[0].clone();
            let party = if attacker {
                step.party
            } else {
                out[w].attribution
            };
            let records = vec![first, step.id.to_string()];
            open_on(st, out, c.kind, name, remaining, step, party, records);
        } else if attacker && out[w].records.last().map(String::as_str) != Some(step.id) {
            out[w].records.push(step.id.to_string());
        }
    } else if !remaining.is_empty() && st.enabled {
        // The attacker's forwarding, set now, or re-enabled or pointed at the attacker's
        // destination again by another record.
        let (party, records) = match (&st.attacker_set, attacker) {
            (Some((first, party)), false) => (*party, vec![first.clone(), step.id.to_string()]),
            _ => (step.party, vec![step.id.to_string()]),
        };
        open_on(st, out, c.kind, name, remaining, step, party, records);
    }
}

/// Opens a window on the rule: the rule's open window from now on.
#[allow(clippy::too_many_arguments)]
fn open_on(
    st: &mut RuleState,
    out: &mut Vec<ForwardingWindow>,
    kind: ForwardingKind,
    rule: &str,
    to: Vec<String>,
    step: &Step,
    party: Party,
    records: Vec<String>,
) {
    st.open = Some(out.len());
    out.push(open(kind, Some(rule), st, to, step, party, records));
}

fn open(
    kind: ForwardingKind,
    rule: Option<&str>,
    st: &RuleState,
    to: Vec<String>,
    step: &Step,
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
    // No condition (Outlook's `{}`, mailbox forwarding) takes all mail, as the text says.
    let all_mail = st.unreadable || conditions.is_empty();
    if st.unreadable {
        conditions.push(RuleCondition {
            name: "RuleCondition".into(),
            values: Vec::new(),
            decidable: false,
        });
    }
    ForwardingWindow {
        kind,
        rule: match kind {
            ForwardingKind::Mailbox => None,
            _ => rule.map(str::to_string),
        },
        destinations: to
            .into_iter()
            .map(|address| Destination {
                address,
                external: None,
            })
            .collect(),
        start: rfc3339(step.t),
        end: None,
        ended_by: None,
        end_record: None,
        conditions,
        all_mail,
        attribution: party,
        records,
        forwarded_messages: None,
        confirmed: None,
        unresolved_after: None,
        mailboxes: Vec::new(),
        start_micros: step.t,
        end_micros: None,
    }
}

fn close(w: &mut ForwardingWindow, t: Micros, why: WindowEnd, id: &str) {
    w.end = Some(rfc3339(t));
    w.end_micros = Some(t);
    w.ended_by = Some(why);
    w.end_record = Some(id.to_string());
}

/// How a message that window `w` took says so.
pub fn forwarded_by(w: &ForwardingWindow, confirmed: bool) -> ForwardedBy {
    ForwardedBy {
        kind: w.kind,
        rule: w.rule.clone(),
        record: w.records.first().cloned().unwrap_or_default(),
        destinations: w.destinations.iter().map(|d| d.address.clone()).collect(),
        confirmed,
    }
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

/// Whether `word` occurs in `text` (both lowercased) as a whole word: not inside a longer one.
fn has_word(text: &str, word: &str) -> bool {
    let is_word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    text.match_indices(word).any(|(at, w)| {
        !is_word(text[..at].chars().next_back()) && !is_word(text[at + w.len()..].chars().next())
    })
}

/// An envelope sender that is not the header From a rule sees: a bounce or VERP/SRS address
/// of a mailing service (`bounces+123-judy=contoso.com@…`, `SRS0=…`, `prvs=…`).
fn rewritten_sender(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or("");
    local.contains('=') || local.contains('+') || local.starts_with("bounce")
}

/// A condition on a message: `Some(true)` met, `Some(false)` not met, `None` undecidable from
/// the inventory's fields. `exception`: the condition of an `ExceptIf…`, which excludes mail
/// only when surely met (whole words), where a condition includes mail when it may be met
/// (any substring).
///
/// A message trace gives the envelope: the sender a bounce address may replace, the recipients
/// after distribution lists were expanded, Bcc among them; the rule sees the headers. So a
/// sender that does not match decides only when it is no rewritten address, and recipients
/// never decide that an inbox rule's `SentTo` or recipient-words condition is not met (a
/// transport rule's `SentTo` is about the envelope, and decides).
fn condition(
    name: &str,
    values: &[String],
    m: &MessageRef,
    exception: bool,
    transport: bool,
) -> Option<bool> {
    if values.is_empty() {
        return None;
    }
    let contains_any = |text: &str| {
        let text = text.to_lowercase();
        values.iter().any(|w| {
            if exception {
                has_word(&text, w)
            } else {
                text.contains(w.as_str())
            }
        })
    };
    let is_any = |address: &str| values.iter().any(|v| v.eq_ignore_ascii_case(address));
    // A value with no address in it (a display name) cannot be compared.
    let all_addresses = values.iter().all(|v| v.contains('@'));
    let met_or_unknown = |met: bool| if met { Some(true) } else { None };
    match name {
        "SubjectContainsWords" => m.subject.map(contains_any),
        // The body is not in an inventory: a subject that does not match decides nothing.
        "SubjectOrBodyContainsWords" => m.subject.map(contains_any).and_then(met_or_unknown),
        "From" => match m.sender {
            Some(s) if is_any(s) => Some(true),
            Some(s) if all_addresses && !rewritten_sender(s) => Some(false),
            _ => None,
        },
        "FromAddressContainsWords" => match m.sender {
            Some(s) if contains_any(s) => Some(true),
            Some(s) if !rewritten_sender(s) => Some(false),
            _ => None,
        },
        // A transport rule sees the envelope's recipients, as the trace does; an inbox rule
        // sees the headers, which the trace's recipients decide neither way (an exception
        // met on them could be a Bcc or a list member).
        "SentTo" if transport && all_addresses => Some(m.recipients().any(is_any)),
        "SentTo" | "RecipientAddressContainsWords" if exception && !transport => None,
        "SentTo" => met_or_unknown(m.recipients().any(is_any)),
        "RecipientAddressContainsWords" => met_or_unknown(m.recipients().any(contains_any)),
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
    let transport = w.kind == ForwardingKind::TransportRule;
    w.conditions
        .iter()
        .filter(|c| c.decidable)
        .all(|c| match c.name.strip_prefix("ExceptIf") {
            Some(base) => condition(base, &c.values, m, true, transport) != Some(true),
            None => condition(&c.name, &c.values, m, false, transport) != Some(false),
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

/// The inventory's messages to forwarding destinations, to find forwarded copies: by
/// (message id, destination), and by (sender, destination, subject) with their times sorted,
/// so that each check is a lookup, not a scan.
pub struct Copies<'a> {
    by_id: HashSet<(&'a str, &'a str)>,
    by_subject: HashMap<(&'a str, &'a str, String), Vec<Micros>>,
}

impl<'a> Copies<'a> {
    pub fn new(messages: &[MessageRef<'a>], destinations: &BTreeSet<&str>) -> Copies<'a> {
        let mut by_id = HashSet::new();
        let mut by_subject: HashMap<(&'a str, &'a str, String), Vec<Micros>> = HashMap::new();
        if !destinations.is_empty() {
            for m in messages {
                for rcpt in m.recipients() {
                    if !destinations.contains(rcpt) {
                        continue;
                    }
                    by_id.insert((m.internet_message_id, rcpt));
                    if let (Some(sender), Some(subject), Some(t)) =
                        (m.sender, m.subject, m.received)
                    {
                        by_subject
                            .entry((sender, rcpt, subject_core(subject)))
                            .or_default()
                            .push(t);
                    }
                }
            }
        }
        for times in by_subject.values_mut() {
            times.sort_unstable();
        }
        Copies { by_id, by_subject }
    }

    /// Whether the inventory shows `m` reaching one of `w`'s destinations: the same message
    /// (redirect, blind copy), or a message from `mailbox` with its subject soon after.
    pub fn confirmed(&self, w: &ForwardingWindow, m: &MessageRef, mailbox: Option<&str>) -> bool {
        let core = match (mailbox, m.subject, m.received) {
            (Some(_), Some(subject), Some(_)) => Some(subject_core(subject)),
            _ => None,
        };
        w.destinations.iter().any(|d| {
            let dest = d.address.as_str();
            if self.by_id.contains(&(m.internet_message_id, dest)) {
                return true;
            }
            let (Some(own), Some(core), Some(got)) = (mailbox, &core, m.received) else {
                return false;
            };
            self.by_subject
                .get(&(own, dest, core.clone()))
                .is_some_and(|times| {
                    let from = times.partition_point(|&t| t < got);
                    times.get(from).is_some_and(|&t| t - got <= FORWARD_DELAY)
                })
        })
    }
}

const SEND_OPERATIONS: &[&str] = &["Send", "SendAs", "SendOnBehalf"];

/// The operation that puts a new message in a folder: one the attacker created in Sent Items
/// was sent (an `Update` changes a message that was already there).
const CREATE_OPERATIONS: &[&str] = &["Create"];

/// The Sent Items folder's path in the mailbox languages most often met: a top-level folder
/// of that name (a folder the user made under another is not it).
const SENT_ITEMS: &[&str] = &[
    "sent items",
    "sentitems",
    "gesendete elemente",
    "éléments envoyés",
    "elementos enviados",
    "posta inviata",
    "verzonden items",
    "skickat",
    "sendte elementer",
    "sendt post",
    "lähetetyt",
    "itens enviados",
    "wysłane elementy",
    "odeslaná pošta",
    "elküldött elemek",
    "отправленные",
    "送信済みアイテム",
    "已发送邮件",
    "보낸 편지함",
];

pub(crate) fn in_sent_items(folder: Option<&str>) -> bool {
    folder.is_some_and(|f| {
        let top = f.trim_matches(['\\', '/']).to_lowercase();
        SENT_ITEMS.contains(&top.as_str())
    })
}

/// The mail the attacker sent from the mailbox: each `Send`, `SendAs` or `SendOnBehalf`
/// record's message, in time order.
pub fn sent_messages(r: Rows, attacker_rows: &[usize]) -> Vec<SentMessage> {
    let mut out = Vec::new();
    for &i in attacker_rows {
        let op = r.v.operation.text(i);
        let send = SEND_OPERATIONS.iter().any(|s| s.eq_ignore_ascii_case(op));
        let create = CREATE_OPERATIONS.iter().any(|s| s.eq_ignore_ascii_case(op));
        if !send && !create {
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
            let folder = r.items.folder_path.at(k).or(r.v.folder_path.at(i));
            if create && !in_sent_items(folder) {
                continue;
            }
            any = true;
            out.push(base(
                r.items.internet_message_id.at(k),
                r.items.item_id.at(k),
                r.items.subject.at(k),
            ));
        }
        // A send record that lost its item is still a message sent.
        if send && !any {
            out.push(base(None, None, None));
        }
    }
    out.sort_by(|a, b| (&a.time, &a.record_id).cmp(&(&b.time, &b.record_id)));
    // A message both sent and created in Sent Items is one message: the send record's line
    // stays (send operations sort before Create/Update by the rank below).
    let rank = |s: &SentMessage| {
        let send = SEND_OPERATIONS
            .iter()
            .any(|o| o.eq_ignore_ascii_case(&s.operation));
        (!send, s.time.clone(), s.record_id.clone())
    };
    // One message: the same message id, else the same store item id.
    let key = |s: &SentMessage| {
        s.internet_message_id
            .as_ref()
            .map(|id| format!("id {id}"))
            .or_else(|| s.item_id.as_ref().map(|i| format!("item {i}")))
    };
    let mut seen: BTreeMap<String, (bool, String, String)> = BTreeMap::new();
    for s in &out {
        if let Some(k) = key(s) {
            let r = rank(s);
            let e = seen.entry(k).or_insert_with(|| r.clone());
            if r < *e {
                *e = r;
            }
        }
    }
    out.retain(|s| match key(s) {
        Some(k) => seen.get(&k) == Some(&rank(s)),
        None => true,
    });
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
