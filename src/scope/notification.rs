//! Which mail, about whom: the message inventories (`frame::messages`) joined to the scope.
//! Messages the audit records name get their subject, sender, recipients and date; mailboxes
//! whose whole content must be assumed compromised list the inventory's messages of that
//! mailbox up to the end of the exposure, apart from the named ones; and the notification
//! summary counts messages with and without metadata and the correspondents and their domains,
//! internal and external.

use super::findings::{
    AssumedMessage, ForwardingWindow, MailboxMessages, MailboxScope, Metadata, Verdict,
};
use super::forwarding::{Copies, find_sent, forwarded_by as forwarded_by_window, takes};
use crate::frame::messages::MessageRef;
use crate::model::Micros;
use crate::time::rfc3339;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct DomainCount {
    pub domain: String,
    pub internal: bool,
    /// Distinct addresses of this domain among the correspondents.
    pub addresses: u64,
    /// Messages (in scope or assumed) with a correspondent of this domain.
    pub messages: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct NotificationCounts {
    /// Messages the audit records name (in scope).
    pub messages_in_scope: u64,
    pub with_metadata: u64,
    pub without_metadata: u64,
    /// Inventory messages assumed compromised with their mailbox or folder.
    pub assumed_from_inventory: u64,
    /// Distinct addresses (senders and recipients) of those messages, the mailbox's own left out.
    pub correspondents: u64,
    pub internal_correspondents: u64,
    pub external_correspondents: u64,
    pub domains: Vec<DomainCount>,
    /// The recipients of mail the attacker sent from the mailbox (people to warn of fraud or
    /// phishing in the victim's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attacker_sent: Option<SentRecipients>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SentRecipients {
    pub messages: u64,
    /// Messages an inventory gives the recipients of.
    pub with_recipients: u64,
    pub recipients: u64,
    pub internal_recipients: u64,
    pub external_recipients: u64,
    pub domains: Vec<DomainCount>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct MailboxNotification {
    pub mailbox: String,
    #[serde(flatten)]
    pub counts: NotificationCounts,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Notification {
    /// The organization's domains: correspondents elsewhere are external.
    pub internal_domains: Vec<String>,
    /// `--internal-domain`, or `the domains of the mailboxes in the evidence`.
    pub internal_domains_from: String,
    /// Messages in the inventories.
    pub inventory_messages: u64,
    pub overall: NotificationCounts,
    pub mailboxes: Vec<MailboxNotification>,
    /// Messages in scope that no inventory knows (InternetMessageId or item id).
    pub without_metadata: Vec<String>,
}

fn domain_of(address: &str) -> Option<&str> {
    address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
}

/// A domain and every subdomain of it are internal (`contoso.com` takes `eu.contoso.com`).
pub(crate) fn is_internal(domain: &str, internal: &[String]) -> bool {
    internal
        .iter()
        .any(|d| domain == d || domain.ends_with(&format!(".{d}")))
}

/// An `--internal-domain` value as `is_internal` compares it: lowercased, without one
/// trailing dot (the DNS root) or a leading `@` (`@contoso.com`). A value that would match
/// nothing or every address of a top-level domain is refused, saying why.
pub fn internal_domain(text: &str) -> Result<String, String> {
    let refuse = |why: &str| Err(format!("'{text}' is not a domain: {why}"));
    let lower = text.trim().to_lowercase();
    let domain = lower.strip_suffix('.').unwrap_or(&lower);
    let domain = domain.strip_prefix('@').unwrap_or(domain);
    if domain.is_empty() {
        return refuse("it names no domain");
    }
    if domain.contains('*') {
        let parent = domain
            .strip_prefix("*.")
            .filter(|p| !p.contains('*'))
            .unwrap_or("contoso.com");
        return refuse(&format!(
            "wildcards are not supported; give the parent domain ('{parent}'), whose subdomains are internal already"
        ));
    }
    if domain.contains('@') {
        return refuse("give the domain of the address, the part after '@'");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.iter().any(|l| l.is_empty()) {
        return refuse("it has an empty label (two dots in a row, or a dot at the start)");
    }
    if let Some(c) = domain
        .chars()
        .find(|&c| !(c.is_alphanumeric() || c == '-' || c == '.'))
    {
        return refuse(&format!(
            "{c:?} is not a letter, a digit, '-' or '.' (the characters of a mail domain)"
        ));
    }
    if labels
        .iter()
        .any(|l| l.starts_with('-') || l.ends_with('-'))
    {
        return refuse("a label starts or ends with '-'");
    }
    if labels
        .last()
        .is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
    {
        return refuse("an IP address is no mail domain");
    }
    if labels.len() < 2 {
        return refuse(
            "a bare top-level domain would make every address under it internal; give the organization's domain (contoso.com)",
        );
    }
    Ok(domain.to_string())
}

/// An eDiscovery folder (`alice@contoso.com/Inbox`, `\Top of Information Store\Inbox`) is the
/// audit folder `\Inbox` when it ends with it.
fn folder_matches(inventory_folder: &str, scope_folder: &str) -> bool {
    let norm = |s: &str| s.replace('/', "\\").trim_matches('\\').to_lowercase();
    let (i, s) = (norm(inventory_folder), norm(scope_folder));
    !s.is_empty() && (i == s || i.ends_with(&format!("\\{s}")))
}

/// Correspondents of a set of messages, for one mailbox (its own address left out).
#[derive(Default)]
struct People {
    addresses: BTreeSet<String>,
    messages_per_domain: BTreeMap<String, BTreeSet<String>>,
}

impl People {
    fn add(&mut self, message_key: &str, own: &str, addresses: impl IntoIterator<Item = String>) {
        for a in addresses {
            if a == own {
                continue;
            }
            if let Some(d) = domain_of(&a) {
                self.messages_per_domain
                    .entry(d.to_string())
                    .or_default()
                    .insert(message_key.to_string());
            }
            self.addresses.insert(a);
        }
    }
    fn merge(&mut self, other: &People) {
        self.addresses.extend(other.addresses.iter().cloned());
        for (d, m) in &other.messages_per_domain {
            self.messages_per_domain
                .entry(d.clone())
                .or_default()
                .extend(m.iter().cloned());
        }
    }
    fn counts(&self, internal: &[String], base: NotificationCounts) -> NotificationCounts {
        let mut addresses_per_domain: BTreeMap<&str, u64> = BTreeMap::new();
        for a in &self.addresses {
            if let Some(d) = domain_of(a) {
                *addresses_per_domain.entry(d).or_default() += 1;
            }
        }
        let domains: Vec<DomainCount> = self
            .messages_per_domain
            .iter()
            .map(|(d, m)| DomainCount {
                domain: d.clone(),
                internal: is_internal(d, internal),
                addresses: addresses_per_domain.get(d.as_str()).copied().unwrap_or(0),
                messages: m.len() as u64,
            })
            .collect();
        let internal_n = self
            .addresses
            .iter()
            .filter(|a| domain_of(a).is_some_and(|d| is_internal(d, internal)))
            .count() as u64;
        NotificationCounts {
            correspondents: self.addresses.len() as u64,
            internal_correspondents: internal_n,
            external_correspondents: self.addresses.len() as u64 - internal_n,
            domains,
            ..base
        }
    }
}

impl People {
    fn sent_counts(&self, internal: &[String], (messages, with): (u64, u64)) -> SentRecipients {
        let c = self.counts(internal, NotificationCounts::default());
        SentRecipients {
            messages,
            with_recipients: with,
            recipients: c.correspondents,
            internal_recipients: c.internal_correspondents,
            external_recipients: c.external_correspondents,
            domains: c.domains,
        }
    }
}

/// The recipients of the mail the attacker sent from `mb`, from the inventory: the messages
/// sent and how many the inventory found, and the people they went to.
fn attacker_sent(
    mb: &mut MailboxScope,
    own: &str,
    by_id: &HashMap<&str, &MessageRef>,
    messages: &[MessageRef],
) -> (Option<(u64, u64)>, People) {
    let mut people = People::default();
    if mb.sent_messages.is_empty() {
        return (None, people);
    }
    let from_mailbox: Vec<&MessageRef> =
        messages.iter().filter(|m| m.sender == Some(own)).collect();
    let mut with = 0;
    for s in &mut mb.sent_messages {
        let Some((m, how)) = find_sent(s, own, by_id, &from_mailbox) else {
            continue;
        };
        with += 1;
        s.recipients = m.recipients().map(str::to_string).collect();
        s.recipients_from = Some(how.to_string());
        s.source = Some(format!("{}:{}", m.source_file, m.source_line));
        if s.subject.is_none() {
            s.subject = m.subject.map(str::to_string);
        }
        if s.internet_message_id.is_none() {
            s.internet_message_id = Some(m.internet_message_id.to_string());
        }
        people.add(m.internet_message_id, own, s.recipients.iter().cloned());
    }
    (Some((mb.sent_messages.len() as u64, with)), people)
}

/// Inventory messages by lowercased subject, for the subjects of the attacker's action items
/// that no id names (built only when there are such items: one pass, then lookups).
fn by_subject<'m, 'a>(
    mailboxes: &[MailboxScope],
    by_item: &HashMap<&str, &MessageRef>,
    messages: &'m [MessageRef<'a>],
) -> HashMap<String, Vec<&'m MessageRef<'a>>> {
    let wanted: BTreeSet<String> = mailboxes
        .iter()
        .flat_map(|m| m.actions.iter())
        .flat_map(|a| a.items.iter())
        .filter(|i| {
            i.internet_message_id.is_none()
                && i.item_id
                    .as_deref()
                    .is_none_or(|id| !by_item.contains_key(id))
        })
        .filter_map(|i| i.subject.as_deref().map(str::to_lowercase))
        .collect();
    let mut out: HashMap<String, Vec<&MessageRef>> = HashMap::new();
    if wanted.is_empty() {
        return out;
    }
    for m in messages {
        if let Some(subject) = m.subject {
            let lower = subject.to_lowercase();
            if wanted.contains(&lower) {
                out.entry(lower).or_default().push(m);
            }
        }
    }
    out
}

/// Items of the attacker's actions (deletions above all) that the record names without a
/// message id get it from the inventory: by the item id an inventory lists, else by the
/// subject of the one message with that subject the mailbox received (sent, for an item in
/// Sent Items) before the action (marked `by subject`).
fn name_deleted_items(
    mb: &mut MailboxScope,
    by_item: &HashMap<&str, &MessageRef>,
    by_subject: &HashMap<String, Vec<&MessageRef>>,
    source: &impl Fn(&MessageRef) -> String,
) {
    let own = mb.mailbox.clone();
    for action in mb.actions.iter_mut() {
        let at = crate::time::parse_iso(&action.time);
        for item in action.items.iter_mut() {
            if item.internet_message_id.is_some() {
                continue;
            }
            if let Some(m) = item.item_id.as_deref().and_then(|i| by_item.get(i)) {
                item.internet_message_id = Some(m.internet_message_id.to_string());
                if item.subject.is_none() {
                    item.subject = m.subject.map(str::to_string);
                }
                item.named_from = Some(source(m));
                continue;
            }
            let Some(subject) = item.subject.as_deref() else {
                continue;
            };
            let sent = super::forwarding::in_sent_items(item.folder.as_deref());
            let mut same = by_subject
                .get(&subject.to_lowercase())
                .into_iter()
                .flatten()
                .filter(|m| {
                    let ours = if sent {
                        m.sender == Some(own.as_str())
                    } else {
                        m.recipients().any(|r| r == own)
                            || (m.sender != Some(own.as_str()) && m.mailboxes().any(|x| x == own))
                    };
                    ours && match (m.received, at) {
                        (Some(r), Some(t)) => r <= t,
                        _ => true,
                    }
                });
            if let (Some(m), None) = (same.next(), same.next()) {
                item.internet_message_id = Some(m.internet_message_id.to_string());
                item.named_from = Some(format!("{} (by subject)", source(m)));
            }
        }
    }
}

/// Join the inventories' messages to the mailboxes' findings; the summary for the report.
/// `exposure_end` per mailbox bounds what its whole-mailbox exposure can have shown.
pub fn join(
    mailboxes: &mut [MailboxScope],
    tenant_forwarding: &mut [ForwardingWindow],
    messages: &[MessageRef],
    internal_domains: Vec<String>,
    internal_domains_from: &str,
) -> Notification {
    let destinations: BTreeSet<String> = mailboxes
        .iter()
        .flat_map(|m| m.forwarding.iter())
        .chain(tenant_forwarding.iter())
        .flat_map(|w| w.destinations.iter().map(|d| d.address.clone()))
        .collect();
    let copies = Copies::new(messages, &destinations.iter().map(String::as_str).collect());
    let last = messages.iter().filter_map(|m| m.received).max();
    for w in mailboxes
        .iter_mut()
        .flat_map(|m| m.forwarding.iter_mut())
        .chain(tenant_forwarding.iter_mut())
    {
        super::forwarding::mark_inventory_end(w, last);
    }
    for w in tenant_forwarding.iter_mut() {
        let taken: Vec<&MessageRef> = messages.iter().filter(|m| takes(w, m, None)).collect();
        w.forwarded_messages = Some(taken.len() as u64);
        w.confirmed = Some(
            taken
                .iter()
                .filter(|m| copies.confirmed(w, m, None))
                .count() as u64,
        );
        let mut per: BTreeMap<&str, u64> = BTreeMap::new();
        for m in &taken {
            let parties: BTreeSet<&str> = m.sender.into_iter().chain(m.recipients()).collect();
            for a in parties {
                if domain_of(a).is_some_and(|d| is_internal(d, &internal_domains)) {
                    *per.entry(a).or_default() += 1;
                }
            }
        }
        w.mailboxes = per
            .into_iter()
            .map(|(mailbox, messages)| MailboxMessages {
                mailbox: mailbox.to_string(),
                messages,
            })
            .collect();
    }
    let by_id: HashMap<&str, &MessageRef> = messages
        .iter()
        .map(|m| (m.internet_message_id, m))
        .collect();
    let mut by_item: HashMap<&str, &MessageRef> = HashMap::new();
    for m in messages {
        for id in m.item_ids() {
            by_item.entry(id).or_insert(m);
        }
    }
    let source = |m: &MessageRef| format!("{}:{}", m.source_file, m.source_line);
    let subjects = by_subject(mailboxes, &by_item, messages);
    let mut overall_people = People::default();
    let mut overall = NotificationCounts::default();
    let mut without_metadata = BTreeSet::new();
    let mut per_mailbox = Vec::new();
    let mut overall_sent: Option<(u64, u64)> = None;
    let mut overall_sent_people = People::default();
    for mb in mailboxes.iter_mut() {
        let own = mb.mailbox.clone();
        let mut people = People::default();
        let mut counts = NotificationCounts::default();
        let mut named = BTreeSet::new();
        for hit in mb.messages.iter_mut() {
            counts.messages_in_scope += 1;
            let found = by_id
                .get(hit.internet_message_id.as_str())
                .or_else(|| hit.item_id.as_deref().and_then(|i| by_item.get(i)))
                .copied();
            let key = hit.label();
            let Some(m) = found else {
                counts.without_metadata += 1;
                without_metadata.insert(key);
                continue;
            };
            counts.with_metadata += 1;
            named.insert(m.internet_message_id);
            if hit.subject.is_none() {
                hit.subject = m.subject.map(str::to_string);
            }
            hit.metadata = Some(Metadata {
                sender: m.sender.map(str::to_string),
                recipients: m.recipients().map(str::to_string).collect(),
                date: m.received.map(rfc3339),
                direction: m.direction.map(str::to_string),
                source: source(m),
            });
            people.add(
                m.internet_message_id,
                &own,
                m.sender
                    .into_iter()
                    .chain(m.recipients())
                    .map(str::to_string),
            );
        }
        // The mailbox's whole content, or its folders in scope, up to the end of the exposure.
        let whole = mb.verdict == Verdict::EntireMailbox;
        let folders: Vec<String> = mb
            .folders
            .iter()
            .map(|f| f.path.clone())
            .chain(mb.synced_folders.iter().map(|f| f.path.clone()))
            .collect();
        let rules: Vec<&str> = mb.reasons.iter().map(|r| r.rule.as_str()).collect();
        let mut assumed = Vec::new();
        let mut forwarded = vec![(0u64, 0u64); mb.forwarding.len()];
        // Searches whose query picks messages (one that takes all mail made the verdict the
        // entire mailbox): each inventory message up to the search's last taking that the
        // query does not certainly exclude.
        let queries: Vec<Option<super::kql::Query>> = mb
            .content_searches
            .iter()
            .map(|e| {
                (!e.all_mail).then(|| super::kql::Query::parse(e.query.as_deref().unwrap_or("")))
            })
            .collect();
        let mut searched = vec![0u64; mb.content_searches.len()];
        let mut inventoried = false;
        for m in messages {
            if !m.concerns(&own) {
                continue;
            }
            inventoried = true;
            let mut forwarded_by = Vec::new();
            for (k, w) in mb.forwarding.iter().enumerate() {
                if takes(w, m, Some(&own)) {
                    let confirmed = copies.confirmed(w, m, Some(&own));
                    forwarded[k].0 += 1;
                    forwarded[k].1 += u64::from(confirmed);
                    forwarded_by.push(forwarded_by_window(w, confirmed));
                }
            }
            // Transport rules take the organization's mail, sent or received.
            for w in tenant_forwarding.iter() {
                if takes(w, m, None) {
                    forwarded_by.push(forwarded_by_window(w, copies.confirmed(w, m, None)));
                }
            }
            let mut by_search: Vec<&str> = Vec::new();
            let recipients: Vec<&str> = if queries.iter().any(Option::is_some) {
                m.recipients().collect()
            } else {
                Vec::new()
            };
            let fields = super::kql::Fields {
                subject: m.subject,
                sender: m.sender,
                recipients: &recipients,
                date: m.received,
            };
            for (k, (e, q)) in mb.content_searches.iter().zip(&queries).enumerate() {
                let Some(q) = q else { continue };
                let before = m.received.is_none_or(|t| t <= e.until);
                if before && q.may_match(&fields) {
                    searched[k] += 1;
                    by_search.push(e.search.as_str());
                }
            }
            if named.contains(m.internet_message_id) {
                continue;
            }
            let in_exposure = match (mb.exposure_end, m.received) {
                (Some(end), Some(t)) => t < end,
                _ => true,
            };
            let folder = folders
                .iter()
                .find(|f| m.folders().any(|mf| folder_matches(mf, f)))
                .filter(|_| in_exposure);
            let why = match (folder, whole && in_exposure, forwarded_by.is_empty()) {
                (Some(f), _, _) => format!("folder {f}"),
                (None, true, _) => format!("entire mailbox ({})", rules.join(", ")),
                (None, false, _) if !by_search.is_empty() => {
                    format!("content-search-export ({})", by_search.join(", "))
                }
                (None, false, false) => "forwarded".to_string(),
                (None, false, true) => continue,
            };
            people.add(
                m.internet_message_id,
                &own,
                m.sender
                    .into_iter()
                    .chain(m.recipients())
                    .map(str::to_string),
            );
            assumed.push(AssumedMessage {
                internet_message_id: m.internet_message_id.to_string(),
                subject: m.subject.map(str::to_string),
                sender: m.sender.map(str::to_string),
                recipients: m.recipients().map(str::to_string).collect(),
                date: m.received.map(rfc3339),
                why,
                forwarded_by,
                source: source(m),
            });
        }
        for (e, n) in mb.content_searches.iter_mut().zip(searched) {
            if inventoried {
                e.unresolved = false;
                e.matched_messages = (!e.all_mail).then_some(n);
            }
        }
        // An inventory with no mail of this mailbox at all names nothing: the windows stay
        // unresolved rather than say "none forwarded".
        for (w, (n, confirmed)) in mb.forwarding.iter_mut().zip(forwarded) {
            w.forwarded_messages = inventoried.then_some(n);
            w.confirmed = inventoried.then_some(confirmed);
            if !inventoried {
                w.unresolved_after = None;
            }
        }
        let (sent, sent_people) = attacker_sent(mb, &own, &by_id, messages);
        counts.attacker_sent = sent.map(|n| sent_people.sent_counts(&internal_domains, n));
        if let Some((n, with)) = sent {
            let total = overall_sent.get_or_insert((0, 0));
            total.0 += n;
            total.1 += with;
        }
        overall_sent_people.merge(&sent_people);
        name_deleted_items(mb, &by_item, &subjects, &source);
        assumed.sort_by(|a, b| {
            (&a.date, &a.internet_message_id).cmp(&(&b.date, &b.internet_message_id))
        });
        counts.assumed_from_inventory = assumed.len() as u64;
        mb.assumed_messages = assumed;
        overall.messages_in_scope += counts.messages_in_scope;
        overall.with_metadata += counts.with_metadata;
        overall.without_metadata += counts.without_metadata;
        overall.assumed_from_inventory += counts.assumed_from_inventory;
        overall_people.merge(&people);
        per_mailbox.push(MailboxNotification {
            mailbox: own,
            counts: people.counts(&internal_domains, counts),
        });
    }
    overall.attacker_sent =
        overall_sent.map(|n| overall_sent_people.sent_counts(&internal_domains, n));
    Notification {
        overall: overall_people.counts(&internal_domains, overall),
        internal_domains,
        internal_domains_from: internal_domains_from.to_string(),
        inventory_messages: messages.len() as u64,
        mailboxes: per_mailbox,
        without_metadata: without_metadata.into_iter().collect(),
    }
}

/// The end of a mailbox's exposure: its last attacker activity, or the end of its last
/// throttled window (access unaudited until then), or the window's end when one was given.
pub fn exposure_end(
    attacker_times: impl Iterator<Item = Micros>,
    throttled_ends: impl Iterator<Item = Micros>,
    window_end: Option<Micros>,
) -> Option<Micros> {
    if window_end.is_some() {
        return window_end;
    }
    // Inclusive of the last activity's own second.
    attacker_times.map(|t| t + 1).chain(throttled_ends).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_domains_compare_as_mail_systems_write_them() {
        assert!(folder_matches("alice@contoso.com/Inbox", "\\Inbox"));
        assert!(folder_matches(
            "\\Top of Information Store\\Finance\\Contracts",
            "\\Finance\\Contracts"
        ));
        assert!(!folder_matches("alice@contoso.com/Inbox2", "\\Inbox"));
        let internal = vec!["contoso.com".to_string()];
        assert!(is_internal("eu.contoso.com", &internal));
        assert!(!is_internal("notcontoso.com", &internal));
    }

    #[test]
    fn internal_domains_are_normalized_or_refused_with_the_reason() {
        for (given, normal) in [
            ("Contoso.COM", "contoso.com"),
            ("contoso.com.", "contoso.com"),
            ("@contoso.com", "contoso.com"),
            (" eu.contoso.com ", "eu.contoso.com"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
            ("Bücher.example", "bücher.example"),
        ] {
            assert_eq!(internal_domain(given).as_deref(), Ok(normal), "{given}");
        }
        for (given, why) in [
            ("", "names no domain"),
            ("@", "names no domain"),
            (".", "names no domain"),
            ("*.contoso.com", "give the parent domain ('contoso.com')"),
            ("*", "give the parent domain"),
            ("com", "bare top-level domain"),
            ("com.", "bare top-level domain"),
            ("contoso..com", "empty label"),
            (".contoso.com", "empty label"),
            ("contoso.com..", "empty label"),
            ("alice@contoso.com", "the part after '@'"),
            ("@@contoso.com", "the part after '@'"),
            ("contoso.com/x", "'/' is not a letter"),
            ("con toso.com", "' ' is not a letter"),
            ("-contoso.com", "starts or ends with '-'"),
            ("10.0.0.1", "IP address"),
        ] {
            let err = internal_domain(given).unwrap_err();
            assert!(
                err.contains(why) && err.contains(&format!("'{given}'")),
                "{given}: {err}"
            );
        }
        // What is accepted matches what `is_internal` compares.
        let internal = vec![internal_domain("Contoso.com.").unwrap()];
        assert!(is_internal("eu.contoso.com", &internal));
    }
}
