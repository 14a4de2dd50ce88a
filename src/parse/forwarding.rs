//! What a record changes about where a mailbox's mail goes: an inbox rule that forwards or
//! redirects (`New-`/`Set-`/`Enable-`/`Disable-`/`Remove-InboxRule`, Outlook's
//! `UpdateInboxRules`), a mailbox's forwarding address (`Set-Mailbox`), or a transport rule
//! (`New-`/`Set-`/`Enable-`/`Disable-`/`Remove-TransportRule`). Read from the record's
//! structure (parameter names, `OperationProperties`), never from its text: the rule's name,
//! subject words and addresses are the attacker's choice. The scope engine turns the changes
//! into exposure windows (`scope::forwarding`).

use super::mailbox::{recipient_addresses, rule_action_recipients};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardingKind {
    InboxRule,
    /// `ForwardingSmtpAddress` / `ForwardingAddress` of `Set-Mailbox` (two settings; the rule
    /// name is the parameter's).
    Mailbox,
    TransportRule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// Created or changed (only what the record gives is changed).
    Set,
    Enable,
    Disable,
    Remove,
}

/// One record's change, stored as JSON in the frame's `forwarding` column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardingChange {
    pub kind: ForwardingKind,
    /// The rule's name as later records name it (lowercased; `mailbox\name` and AD paths cut to
    /// the name); `None` when the record does not say which rule (then it matches none).
    pub rule: Option<String>,
    /// A new name the record gives the rule (`Set-InboxRule -Name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed: Option<String>,
    pub change: Change,
    /// Where the rule sends mail, by the parameter the record gives it in (`ForwardTo`,
    /// `RedirectTo` … ; Outlook's `RuleActions`); an empty list clears that parameter, one not
    /// given is left as it was.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub to: BTreeMap<String, Vec<String>>,
    /// Conditions the record sets, by the cmdlet's parameter name (Outlook's condition types
    /// mapped to them), each with its values; an exception is `ExceptIf…`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub conditions: BTreeMap<String, Vec<String>>,
    /// The record changed conditions in a way that cannot be read (an Outlook condition that
    /// is no JSON): every message counts as matching.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conditions_unreadable: bool,
    /// The record gives the rule's whole condition set and actions (Outlook), not only what
    /// changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replaces_conditions: bool,
}

/// Parameters that say where mail goes, by kind.
const INBOX_RULE_TO: &[&str] = &["ForwardTo", "RedirectTo", "ForwardAsAttachmentTo"];
const MAILBOX_TO: &[&str] = &["ForwardingSmtpAddress", "ForwardingAddress"];
const TRANSPORT_RULE_TO: &[&str] = &[
    "BlindCopyTo",
    "RedirectMessageTo",
    "AddToRecipients",
    "CopyTo",
    // The moderator and the incident report's recipient get the message too; a connector
    // (named, no address) can route it anywhere.
    "ModerateMessageByUser",
    "GenerateIncidentReport",
    "RouteMessageOutboundConnector",
];

/// A transport-rule parameter that sends mail to someone it does not name by address.
const TRANSPORT_RULE_TO_UNNAMED: &[(&str, &str)] =
    &[("AddManagerAsRecipientType", "(the sender's manager)")];

/// Conditions the engine can decide from a message inventory (subject, sender, recipients);
/// the others are named in the report and count as matching.
pub const DECIDABLE: &[&str] = &[
    "SubjectContainsWords",
    "SubjectOrBodyContainsWords",
    "From",
    "FromAddressContainsWords",
    "SentTo",
    "RecipientAddressContainsWords",
];

/// Rule parameters that are conditions or exceptions the inventory cannot decide: kept so the
/// report can say what was not evaluated.
const UNDECIDABLE: &[&str] = &[
    "BodyContainsWords",
    "HasAttachment",
    "HeaderContainsWords",
    "MyNameInToBox",
    "MyNameInCcBox",
    "MyNameInToOrCcBox",
    "MyNameNotInToBox",
    "SentOnlyToMe",
    "FlaggedForAction",
    "FromSubscription",
    "HasClassification",
    "MessageTypeMatches",
    "WithImportance",
    "WithSensitivity",
    "WithinSizeRangeMaximum",
    "WithinSizeRangeMinimum",
    "ReceivedAfterDate",
    "ReceivedBeforeDate",
    "FromScope",
    "SentToScope",
    "AttachmentContainsWords",
    "AttachmentNameMatchesPatterns",
    "SubjectMatchesPatterns",
    "SubjectOrBodyMatchesPatterns",
    "FromMemberOf",
    "SentToMemberOf",
    "RecipientDomainIs",
    "SenderDomainIs",
];

fn named<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Every value a parameter is given in the record (a parameter written twice gives both:
/// nothing is dropped).
fn all_named<'a>(params: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    params
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The destinations each forwarding parameter of `names` is given, by parameter.
fn destinations(params: &[(String, String)], names: &[&str]) -> BTreeMap<String, Vec<String>> {
    let mut to: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in names {
        for v in all_named(params, p) {
            let list = to.entry(p.to_string()).or_default();
            list.extend(addresses(v));
            list.sort();
            list.dedup();
        }
    }
    to
}

/// A rule's name as records name it: `alice@contoso.com\Rule`, `…/alias\Rule` → `rule`. The
/// mailbox ends at the first `\` (AD paths use `/`): a rule name may hold more
/// (`pia\Clients\Invoices` is the rule `clients\invoices`).
fn rule_name(identity: &str) -> Option<String> {
    name_of_rule(identity.split_once('\\').map_or(identity, |(_, name)| name))
}

/// A rule's name as `-Name` and `RuleName` give it: whole, backslashes included.
fn name_of_rule(name: &str) -> Option<String> {
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_lowercase())
}

/// Words of a multi-valued parameter as the audit log writes it (`invoice;payment`). A
/// condition splits on `,` too (more, shorter words match more mail); an exception only on
/// `;` (fewer matches exclude less): a doubt never narrows the scope.
fn words(value: &str, exception: bool) -> Vec<String> {
    let split: &[char] = if exception { &[';'] } else { &[';', ','] };
    let mut out: Vec<String> = value
        .split(split)
        .map(|w| w.trim().trim_matches(|c| c == '"' || c == '\'').trim())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The addresses of a recipient parameter, each `;`-separated part on its own: a part with no
/// address (a display name, a contact) is kept whole, so a condition that names one cannot be
/// decided from addresses (`scope::forwarding`).
fn addresses(value: &str) -> Vec<String> {
    let mut all: Vec<String> = value.split(';').flat_map(recipient_addresses).collect();
    all.sort();
    all.dedup();
    all
}

/// The record's change, if its operation changes forwarding. `params` are the cmdlet's
/// parameters; `property` reads `OperationProperties` (Outlook's `UpdateInboxRules`).
pub fn forwarding_change<'p>(
    operation: &str,
    params: &[(String, String)],
    property: impl Fn(&str) -> Option<&'p str>,
) -> Option<ForwardingChange> {
    let op = operation.to_ascii_lowercase();
    if op == "updateinboxrules" {
        return outlook_rule(&property);
    }
    if op == "set-mailbox" {
        return mailbox_forwarding(params);
    }
    let (verb, noun) = op.split_once('-')?;
    let (kind, to_params) = match noun {
        "inboxrule" => (ForwardingKind::InboxRule, INBOX_RULE_TO),
        "transportrule" => (ForwardingKind::TransportRule, TRANSPORT_RULE_TO),
        _ => return None,
    };
    let change = match verb {
        "new" | "set" => Change::Set,
        "enable" => Change::Enable,
        "disable" => Change::Disable,
        "remove" => Change::Remove,
        _ => return None,
    };
    let name = named(params, "Name").and_then(name_of_rule);
    let identity = named(params, "Identity").and_then(rule_name);
    let (rule, renamed) = match verb {
        "new" => (name, None),
        _ => (identity, name),
    };
    let renamed = renamed.filter(|n| Some(n) != rule.as_ref());
    let mut to = destinations(params, to_params);
    if kind == ForwardingKind::TransportRule {
        for (p, who) in TRANSPORT_RULE_TO_UNNAMED {
            if let Some(v) = named(params, p) {
                let given = !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("none");
                to.insert(
                    p.to_string(),
                    if given { vec![who.to_string()] } else { vec![] },
                );
            }
        }
    }
    let mut conditions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (n, v) in params {
        let base = n.strip_prefix("ExceptIf").unwrap_or(n);
        let exception = base.len() != n.len();
        let canonical = DECIDABLE
            .iter()
            .chain(UNDECIDABLE)
            .find(|c| c.eq_ignore_ascii_case(base));
        let Some(canonical) = canonical else { continue };
        let values = if matches!(*canonical, "From" | "SentTo") {
            addresses(v)
        } else {
            words(v, exception)
        };
        let key = if exception {
            format!("ExceptIf{canonical}")
        } else {
            canonical.to_string()
        };
        // A parameter written twice: both values count.
        let list = conditions.entry(key).or_default();
        list.extend(values);
        list.sort();
        list.dedup();
    }
    // A `New-` without forwarding and without a later `Set-` adding it never forwards; the
    // change is still kept so a later `Set-` knows the rule's conditions.
    Some(ForwardingChange {
        kind,
        rule,
        renamed,
        change,
        to,
        conditions,
        conditions_unreadable: false,
        replaces_conditions: false,
    })
}

fn mailbox_forwarding(params: &[(String, String)]) -> Option<ForwardingChange> {
    // Two settings, each its own destination: clearing one leaves the other forwarding.
    let to = destinations(params, MAILBOX_TO);
    if to.is_empty() {
        return None;
    }
    Some(ForwardingChange {
        kind: ForwardingKind::Mailbox,
        rule: Some("mailbox forwarding".into()),
        renamed: None,
        change: Change::Set,
        to,
        conditions: BTreeMap::new(),
        conditions_unreadable: false,
        replaces_conditions: false,
    })
}

/// Outlook's rule change: `RuleOperation` AddMailboxRule / ModifyMailboxRule /
/// RemoveMailboxRule, `RuleName`, `RuleState`, `RuleActions` and `RuleCondition` as JSON text.
fn outlook_rule<'p>(property: &impl Fn(&str) -> Option<&'p str>) -> Option<ForwardingChange> {
    let operation = property("RuleOperation").unwrap_or("").to_ascii_lowercase();
    let rule = property("RuleName")
        .or_else(|| property("Name"))
        .and_then(name_of_rule);
    let state_disabled =
        property("RuleState").is_some_and(|s| s.to_ascii_lowercase().contains("disabled"));
    let change = if operation.contains("remove") || operation.contains("delete") {
        Change::Remove
    } else if state_disabled {
        Change::Disable
    } else {
        Change::Set
    };
    let actions = property("RuleActions").or_else(|| property("Actions"));
    let to: BTreeMap<String, Vec<String>> = actions
        .map(|a| {
            let mut t = rule_action_recipients(a);
            t.sort();
            t.dedup();
            ("RuleActions".to_string(), t)
        })
        .into_iter()
        .collect();
    let mut conditions = BTreeMap::new();
    let mut conditions_unreadable = false;
    if let Some(text) = property("RuleCondition").or_else(|| property("Conditions")) {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => outlook_conditions(&v, &mut conditions),
            Err(_) => conditions_unreadable = !text.trim().is_empty(),
        }
    }
    if change != Change::Remove && to.is_empty() && rule.is_none() {
        return None;
    }
    Some(ForwardingChange {
        kind: ForwardingKind::InboxRule,
        rule,
        renamed: None,
        change,
        to,
        conditions,
        conditions_unreadable,
        replaces_conditions: change == Change::Set,
    })
}

/// Outlook's condition tree (`AndCondition` of `SubConditions`) as cmdlet conditions; a type
/// the inventory cannot decide is kept under its own name.
fn outlook_conditions(v: &serde_json::Value, out: &mut BTreeMap<String, Vec<String>>) {
    let kind = v.get("Type").and_then(|t| t.as_str()).unwrap_or("");
    if kind.eq_ignore_ascii_case("AndCondition") {
        for sub in v
            .get("SubConditions")
            .and_then(|s| s.as_array())
            .into_iter()
            .flatten()
        {
            outlook_conditions(sub, out);
        }
        return;
    }
    let strings = |key: &str| -> Vec<String> {
        let mut list = Vec::new();
        if let Some(x) = v.get(key) {
            collect_strings(x, &mut list);
        }
        list
    };
    let (name, values) = match kind {
        "ContainsSubjectCondition" | "ContainsSubjectStringsCondition" => (
            "SubjectContainsWords",
            strings("Words")
                .iter()
                .flat_map(|w| words(w, false))
                .collect(),
        ),
        "ContainsSubjectOrBodyCondition" | "ContainsSubjectOrBodyStringsCondition" => (
            "SubjectOrBodyContainsWords",
            strings("Words")
                .iter()
                .flat_map(|w| words(w, false))
                .collect(),
        ),
        "FromCondition" => (
            "From",
            strings("Recipients")
                .iter()
                .flat_map(|a| addresses(a))
                .collect(),
        ),
        "SentToCondition" => (
            "SentTo",
            strings("Recipients")
                .iter()
                .flat_map(|a| addresses(a))
                .collect(),
        ),
        "ContainsSenderStringsCondition" => (
            "FromAddressContainsWords",
            strings("Words")
                .iter()
                .flat_map(|w| words(w, false))
                .collect(),
        ),
        "ContainsRecipientStringsCondition" => (
            "RecipientAddressContainsWords",
            strings("Words")
                .iter()
                .flat_map(|w| words(w, false))
                .collect(),
        ),
        "" => return,
        other => (other, Vec::new()),
    };
    let mut values: Vec<String> = values;
    values.sort();
    values.dedup();
    out.insert(name.to_string(), values);
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// The column's text for a change.
pub fn to_column(change: &ForwardingChange) -> String {
    serde_json::to_string(change).expect("a change serializes")
}

/// A change read back from the column; `None` for text that is none (a damaged case is
/// refused when it is read, so this is only defensive).
pub fn from_column(text: &str) -> Option<ForwardingChange> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn cmdlet_rules_read_their_name_destinations_and_conditions() {
        let c = forwarding_change(
            "New-InboxRule",
            &p(&[
                ("Name", "Sync; SentTo=nobody@x.example"),
                ("SubjectContainsWords", "Invoice;payment, wire"),
                ("ExceptIfSubjectContainsWords", "news, letter"),
                ("RedirectTo", "\"Eve\" [SMTP:Eve@Evil.example];b@y.example"),
            ]),
            |_| None,
        )
        .unwrap();
        assert_eq!(c.kind, ForwardingKind::InboxRule);
        // The attacker's rule name is a name, never parameters.
        assert_eq!(c.rule.as_deref(), Some("sync; sentto=nobody@x.example"));
        assert_eq!(c.change, Change::Set);
        assert_eq!(
            c.to["RedirectTo"],
            vec!["b@y.example".to_string(), "eve@evil.example".into()]
        );
        assert_eq!(
            c.conditions["SubjectContainsWords"],
            vec!["invoice", "payment", "wire"]
        );
        assert_eq!(
            c.conditions["ExceptIfSubjectContainsWords"],
            vec!["news, letter"]
        );
        assert!(!c.conditions.contains_key("SentTo"));

        let r = forwarding_change(
            "Remove-InboxRule",
            &p(&[("Identity", "corp/Users/alice\\Sync"), ("Confirm", "False")]),
            |_| None,
        )
        .unwrap();
        assert_eq!(
            (r.rule.as_deref(), r.change),
            (Some("sync"), Change::Remove)
        );
        assert!(r.to.is_empty());
    }

    #[test]
    fn mailbox_forwarding_set_and_cleared() {
        let set = forwarding_change(
            "Set-Mailbox",
            &p(&[
                ("Identity", "heidi@contoso.com"),
                ("ForwardingSmtpAddress", "smtp:H@Drop.example"),
            ]),
            |_| None,
        )
        .unwrap();
        assert_eq!(set.kind, ForwardingKind::Mailbox);
        assert_eq!(
            set.to["ForwardingSmtpAddress"],
            vec!["h@drop.example".to_string()]
        );
        let cleared =
            forwarding_change("Set-Mailbox", &p(&[("ForwardingSmtpAddress", "")]), |_| {
                None
            })
            .unwrap();
        assert_eq!(cleared.to["ForwardingSmtpAddress"], Vec::<String>::new());
        assert!(forwarding_change("Set-Mailbox", &p(&[("Identity", "x")]), |_| None).is_none());
    }

    #[test]
    fn outlook_rules_map_their_conditions() {
        let props = |name: &str| match name {
            "RuleName" => Some("Invoices"),
            "RuleOperation" => Some("ModifyMailboxRule"),
            "RuleState" => Some("Enabled"),
            "RuleActions" => Some(
                r#"[{"ActionType":"Redirect","Recipients":["A@x.example"]},{"ActionType":"MarkAsRead"}]"#,
            ),
            "RuleCondition" => Some(
                r#"{"Type":"AndCondition","SubConditions":[{"Type":"FromCondition","Recipients":["Boss@Contoso.com"]},{"Type":"HasAttachmentCondition"}]}"#,
            ),
            _ => None,
        };
        let c = forwarding_change("UpdateInboxRules", &[], props).unwrap();
        assert_eq!(c.rule.as_deref(), Some("invoices"));
        assert_eq!(c.to["RuleActions"], vec!["a@x.example".to_string()]);
        assert_eq!(c.conditions["From"], vec!["boss@contoso.com"]);
        assert!(c.conditions.contains_key("HasAttachmentCondition"));
        let back = from_column(&to_column(&c)).unwrap();
        assert_eq!(back, c);
    }
}
