//! Which mailbox a record is about, and small value normalizations shared by every parser.

/// Cmdlets that act on one mailbox named by `-Identity` / `-Mailbox` (persistence and
/// exfiltration set-ups an attacker makes).
const MAILBOX_CMDLETS: &[&str] = &[
    "New-InboxRule",
    "Set-InboxRule",
    "Remove-InboxRule",
    "Enable-InboxRule",
    "Disable-InboxRule",
    "Set-Mailbox",
    "Set-CASMailbox",
    "Add-MailboxPermission",
    "Remove-MailboxPermission",
    "Add-RecipientPermission",
    "Remove-RecipientPermission",
    "Add-MailboxFolderPermission",
    "Set-MailboxFolderPermission",
    "Remove-MailboxFolderPermission",
    "Set-MailboxJunkEmailConfiguration",
    "Set-MailboxAutoReplyConfiguration",
    "New-MailboxExportRequest",
    "Set-MailboxMessageConfiguration",
];

/// Sign-ins put the signed-in user's own mailbox in play.
const SIGN_INS: &[&str] = &["UserLoggedIn", "MailboxLogin"];

pub fn is_mailbox_cmdlet(op: &str) -> bool {
    MAILBOX_CMDLETS.iter().any(|c| c.eq_ignore_ascii_case(op))
}

/// The mailbox of a rule's identity `mailbox\rule name` (`bob@contoso.com\sync2`,
/// `…/contoso.onmicrosoft.com/bob\sync2`): what stands before the first `\` (AD paths use `/`).
/// A rule name alone is no mailbox.
/// An AD path that ends in the user's object GUID names no alias to resolve: `None` (the
/// actor's own mailbox is taken, as before).
fn rule_mailbox(identity: &str) -> Option<&str> {
    let mailbox = match identity.split_once('\\') {
        Some((mailbox, _)) => mailbox.trim(),
        None => return identity.contains('@').then_some(identity),
    };
    let last = mailbox.rsplit('/').next().unwrap_or(mailbox);
    let is_guid = last.len() == 36
        && last.bytes().enumerate().all(|(i, b)| {
            matches!(i, 8 | 13 | 18 | 23) == (b == b'-') && (b == b'-' || b.is_ascii_hexdigit())
        });
    (!mailbox.is_empty() && !is_guid).then_some(mailbox)
}

/// The inbox-rule cmdlets, whose identities are `mailbox\rule name`.
pub fn is_rule_cmdlet(op: &str) -> bool {
    is_mailbox_cmdlet(op)
        && op
            .get(op.len().saturating_sub("-InboxRule".len())..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case("-InboxRule"))
}

pub fn is_sign_in(op: &str) -> bool {
    SIGN_INS.iter().any(|c| c.eq_ignore_ascii_case(op))
}

/// The mailbox a record is about (lowercased), per the rules:
/// `MailboxOwnerUPN`, else `MailboxGuid`, else the XML `Owner`; for mailbox cmdlets the
/// `Identity`/`Mailbox` parameter (or an `ObjectId` that is an address; a rule's identity is
/// `mailbox\rule name`, its mailbox part taken, an AD path resolved by alias later in
/// `scope::MailboxNames`), else the actor's own mailbox; for sign-ins the actor's own mailbox. Other records (SharePoint, directory) have none.
pub fn derive_mailbox(
    owner_upn: Option<&str>,
    guid: Option<&str>,
    xml_owner: Option<&str>,
    operation: &str,
    params: &[(String, String)],
    object_id: Option<&str>,
    actor: Option<&str>,
) -> Option<String> {
    let clean = |s: &str| {
        let t = s.trim();
        if t.is_empty() {
            None
        } else {
            Some(t.to_lowercase())
        }
    };
    if let Some(m) = owner_upn
        .and_then(clean)
        .or_else(|| guid.and_then(clean))
        .or_else(|| xml_owner.and_then(clean))
    {
        return Some(m);
    }
    let actor_mailbox = || actor.filter(|a| a.contains('@')).and_then(clean);
    if is_mailbox_cmdlet(operation) {
        let rule = is_rule_cmdlet(operation);
        let param = |name: &str| {
            params
                .iter()
                .find(|(n, v)| n.eq_ignore_ascii_case(name) && !v.trim().is_empty())
                .map(|(_, v)| v.as_str())
        };
        let named = match param("Mailbox").filter(|_| rule) {
            // A rule cmdlet's `-Mailbox` names the mailbox; its `-Identity` is the rule.
            Some(mailbox) => Some(mailbox),
            None => match param("Identity").or_else(|| param("Mailbox")) {
                Some(identity) if rule => rule_mailbox(identity),
                // Folder permissions name `alice@contoso.com:\Inbox`: the mailbox is before `:\`.
                other => other.map(|v| v.split(":\\").next().unwrap_or(v)),
            },
        };
        let object_id = match object_id {
            Some(o) if rule => rule_mailbox(o),
            other => other.filter(|o| o.contains('@')),
        };
        return named
            .and_then(clean)
            .or_else(|| object_id.and_then(clean))
            .or_else(actor_mailbox);
    }
    if is_sign_in(operation) {
        return actor_mailbox();
    }
    None
}

/// Cmdlet parameters that send a mailbox's mail elsewhere: inbox rules (`New-InboxRule`,
/// `Set-InboxRule`) and mailbox forwarding (`Set-Mailbox`).
const FORWARD_PARAMS: &[&str] = &[
    "ForwardTo",
    "RedirectTo",
    "ForwardAsAttachmentTo",
    "ForwardingSmtpAddress",
    "ForwardingAddress",
];

/// The recipients a recipient value names, lowercased, as cmdlets and rules write them:
/// `eve@evil.com`, `smtp:eve@evil.com`, `"Eve" [SMTP:eve@evil.com]`, `Eve <eve@evil.com>`,
/// several separated by `;`, `,` or spaces. A value with no address at all (`ForwardingAddress`
/// may name a contact) is kept whole: a recipient not understood is never dropped.
pub fn recipient_addresses(value: &str) -> Vec<String> {
    let value = value.trim();
    if value.is_empty() {
        return Vec::new();
    }
    if !value.contains('@') {
        return vec![value.to_lowercase()];
    }
    value
        .split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    ';' | ',' | '[' | ']' | '<' | '>' | '"' | '\'' | '(' | ')'
                )
        })
        .filter(|t| t.contains('@'))
        .map(|t| {
            let t = t.trim_matches(|c: char| c == '.' || c == ':');
            let t = match t.get(..5) {
                Some(p) if p.eq_ignore_ascii_case("smtp:") => &t[5..],
                _ => t,
            };
            t.to_lowercase()
        })
        .filter(|t| t.len() > 1)
        .collect()
}

/// Every recipient a rule's `RuleActions` (Outlook's `UpdateInboxRules`: a JSON list of
/// `{"ActionType": …, "Recipients": […]}`) forwards or redirects mail to. An action whose type
/// is missing counts when it names recipients; text that is no JSON is searched for addresses.
pub fn rule_action_recipients(actions: &str) -> Vec<String> {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(actions) else {
        return if actions.contains('@') {
            recipient_addresses(actions)
        } else {
            Vec::new()
        };
    };
    let list = match json {
        serde_json::Value::Array(list) => list,
        other => vec![other],
    };
    let mut out = Vec::new();
    for action in &list {
        let kind = action
            .get("ActionType")
            .and_then(|t| t.as_str())
            .map(str::to_ascii_lowercase);
        let sends = kind
            .as_deref()
            .is_none_or(|k| k.contains("forward") || k.contains("redirect"));
        if let (true, Some(recipients)) = (sends, action.get("Recipients")) {
            strings_in(recipients, &mut |s| out.extend(recipient_addresses(s)));
        }
    }
    out
}

/// Every string in a JSON value, however deep (recipients as strings or as objects). A
/// recipient object gives its address (`SmtpAddress`, `Address`, `EmailAddress`) when it has
/// one: its `DisplayName` is no destination.
fn strings_in(v: &serde_json::Value, f: &mut impl FnMut(&str)) {
    const ADDRESS_KEYS: [&str; 4] = [
        "SmtpAddress",
        "PrimarySmtpAddress",
        "Address",
        "EmailAddress",
    ];
    match v {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(a) => a.iter().for_each(|v| strings_in(v, f)),
        serde_json::Value::Object(o) => {
            let address = o.iter().find(|(k, v)| {
                ADDRESS_KEYS.iter().any(|a| a.eq_ignore_ascii_case(k))
                    && v.as_str().is_some_and(|s| s.contains('@'))
            });
            match address {
                Some((_, v)) => strings_in(v, f),
                None => o.values().for_each(|v| strings_in(v, f)),
            }
        }
        _ => {}
    }
}

/// The `forward_to` of a record: the recipients its forwarding parameters and rule actions
/// name, lowercased, sorted, once each, joined by `; `; `None` when there are none.
pub fn forward_to(params: &[(String, String)], rule_actions: Option<&str>) -> Option<String> {
    let mut all: Vec<String> = params
        .iter()
        .filter(|(n, _)| FORWARD_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(n)))
        .flat_map(|(_, v)| recipient_addresses(v))
        .chain(rule_actions.map(rule_action_recipients).unwrap_or_default())
        .collect();
    all.sort();
    all.dedup();
    (!all.is_empty()).then(|| all.join("; "))
}

/// A rule's `RuleActions` as a line: each action's type, then its other fields
/// (`Forward(Recipients=eve@evil.com), MoveToFolder(Folder=RSS)`); text that is no JSON list
/// is given as written.
pub fn summarize_rule_actions(actions: &str) -> String {
    let Ok(serde_json::Value::Array(list)) = serde_json::from_str::<serde_json::Value>(actions)
    else {
        return actions.trim().to_string();
    };
    let scalar = |v: &serde_json::Value| {
        let mut parts = Vec::new();
        strings_in(v, &mut |s| parts.push(s.to_string()));
        if parts.is_empty() && !v.is_null() {
            parts.push(v.to_string());
        }
        parts.join(", ")
    };
    list.iter()
        .map(|action| match action.as_object() {
            Some(o) => {
                let kind = o
                    .get("ActionType")
                    .map(scalar)
                    .unwrap_or_else(|| "(no ActionType)".into());
                let rest: Vec<String> = o
                    .iter()
                    .filter(|(k, v)| k.as_str() != "ActionType" && !v.is_null())
                    .map(|(k, v)| format!("{k}={}", scalar(v)))
                    .filter(|kv| !kv.ends_with('='))
                    .collect();
                if rest.is_empty() {
                    kind
                } else {
                    format!("{kind}({})", rest.join(" "))
                }
            }
            None => scalar(action),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// JSON logon types are numbers, XML and PowerShell use names: report names.
pub fn logon_type_name(v: &str) -> String {
    match v.trim() {
        "0" => "Owner".into(),
        "1" => "Admin".into(),
        "2" | "Delegated" => "Delegate".into(),
        "3" => "Transport".into(),
        "4" => "SystemService".into(),
        "5" => "BestAccess".into(),
        "6" => "DelegatedAdmin".into(),
        other => other.to_string(),
    }
}

/// `Name=Value; …` of cmdlet parameters, empty values left out, long values shortened.
pub fn summarize_params(params: &[(String, String)]) -> String {
    params
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(n, v)| {
            let v = v.trim();
            if v.chars().count() > 200 {
                format!("{n}={}…", v.chars().take(200).collect::<String>())
            } else {
                format!("{n}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_rules() {
        let p = |n: &str, v: &str| vec![(n.to_string(), v.to_string())];
        assert_eq!(
            derive_mailbox(
                Some("Alice@X.com"),
                Some("g"),
                None,
                "MailItemsAccessed",
                &[],
                None,
                Some("eve@x.com")
            )
            .as_deref(),
            Some("alice@x.com")
        );
        assert_eq!(
            derive_mailbox(
                None,
                None,
                None,
                "New-InboxRule",
                &[],
                Some("srv/org/5e1f0000-0000-4000-8000-00000000e410\\rule"),
                Some("Debra@X.com")
            )
            .as_deref(),
            Some("debra@x.com")
        );
        assert_eq!(
            derive_mailbox(
                None,
                None,
                None,
                "Set-Mailbox",
                &p("Identity", "Bob@x.com"),
                None,
                Some("admin@x.com")
            )
            .as_deref(),
            Some("bob@x.com")
        );
        assert_eq!(
            derive_mailbox(
                None,
                None,
                None,
                "Add-MailboxFolderPermission",
                &p("Identity", "carol@x.com:\\Inbox"),
                None,
                None
            )
            .as_deref(),
            Some("carol@x.com")
        );
        assert_eq!(
            derive_mailbox(
                None,
                None,
                None,
                "UserLoggedIn",
                &[],
                None,
                Some("Eve@X.com")
            )
            .as_deref(),
            Some("eve@x.com")
        );
        assert_eq!(
            derive_mailbox(
                None,
                None,
                None,
                "FileAccessed",
                &[],
                None,
                Some("eve@x.com")
            ),
            None
        );
    }

    #[test]
    fn a_rules_identity_names_its_mailbox_before_the_backslash() {
        let p = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        let derive = |op: &str, params: &[(String, String)], object: Option<&str>| {
            derive_mailbox(None, None, None, op, params, object, Some("admin@x.com"))
        };
        let path = "NAM/Microsoft Exchange Hosted Organizations/x.onmicrosoft.com";
        for (op, params, object, mailbox) in [
            (
                "Set-InboxRule",
                p(&[("Identity", "Bob@x.com\\sync2")]),
                None,
                "bob@x.com",
            ),
            (
                "Remove-InboxRule",
                p(&[]),
                Some("bob@x.com\\a\\b"),
                "bob@x.com",
            ),
            (
                "Disable-InboxRule",
                p(&[("Identity", format!("{path}/bob\\Inbox cleanup").as_str())]),
                None,
                format!("{}/bob", path.to_lowercase()).as_str(),
            ),
            // A rule named alone, or by its mailbox's object GUID: the mailbox comes from
            // elsewhere.
            (
                "Set-InboxRule",
                p(&[("Identity", "sync2"), ("Mailbox", "carol@x.com")]),
                None,
                "carol@x.com",
            ),
            (
                "Enable-InboxRule",
                p(&[("Identity", "sync2")]),
                None,
                "admin@x.com",
            ),
            (
                "New-InboxRule",
                p(&[("Name", "n")]),
                Some(format!("{path}/5e1f0000-0000-4000-8000-00000000ca40\\n").as_str()),
                "admin@x.com",
            ),
            // Other cmdlets keep their identities whole.
            (
                "Set-Mailbox",
                p(&[("Identity", "dave@x.com")]),
                None,
                "dave@x.com",
            ),
        ] {
            assert_eq!(
                derive(op, &params, object).as_deref(),
                Some(mailbox),
                "{op} {params:?}"
            );
        }
    }

    #[test]
    fn forwarding_recipients_are_read_from_parameters_and_rule_actions() {
        let p = |n: &str, v: &str| (n.to_string(), v.to_string());
        assert_eq!(
            forward_to(
                &[
                    p("ForwardTo", "\"Eve\" [SMTP:Eve@Evil.example];b@y.example"),
                    p("RedirectTo", "b@y.example"),
                    p("ForwardingSmtpAddress", "smtp:C@z.example"),
                    p("ForwardingAddress", "Offsite Contact"),
                    p("MoveToFolder", "x@y"),
                ],
                Some(r#"[{"ActionType":"Forward","Recipients":["D@w.example"]},{"ActionType":"MoveToFolder","Recipients":["not@forwarded.example"]},{"Recipients":[{"Address":"e@v.example"}]}]"#),
            )
            .as_deref(),
            Some(
                "b@y.example; c@z.example; d@w.example; e@v.example; eve@evil.example; offsite contact"
            )
        );
        assert_eq!(forward_to(&[p("ForwardingSmtpAddress", "")], None), None);
        // Text that is no JSON still gives its addresses.
        assert_eq!(
            forward_to(&[], Some("Forward to x@y.example")).as_deref(),
            Some("x@y.example")
        );
        assert_eq!(
            summarize_rule_actions(
                r#"[{"ActionType":"Redirect","Recipients":["a@b.example","c@d.example"]},{"ActionType":"Delete"}]"#
            ),
            "Redirect(Recipients=a@b.example, c@d.example), Delete"
        );
    }
}
