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

pub fn is_sign_in(op: &str) -> bool {
    SIGN_INS.iter().any(|c| c.eq_ignore_ascii_case(op))
}

/// The mailbox a record is about (lowercased), per the rules:
/// `MailboxOwnerUPN`, else `MailboxGuid`, else the XML `Owner`; for mailbox cmdlets the
/// `Identity`/`Mailbox` parameter (or an `ObjectId` that is an address), else the actor's own
/// mailbox; for sign-ins the actor's own mailbox. Other records (SharePoint, directory) have none.
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
        let named = params
            .iter()
            .find(|(n, v)| {
                (n.eq_ignore_ascii_case("Identity") || n.eq_ignore_ascii_case("Mailbox"))
                    && !v.trim().is_empty()
            })
            // Folder permissions name `alice@contoso.com:\Inbox`: the mailbox is before `:\`.
            .map(|(_, v)| v.split(":\\").next().unwrap_or(v).to_string());
        return named
            .as_deref()
            .and_then(clean)
            .or_else(|| object_id.filter(|o| o.contains('@')).and_then(clean))
            .or_else(actor_mailbox);
    }
    if is_sign_in(operation) {
        return actor_mailbox();
    }
    None
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
                Some("srv/org/guid\\rule"),
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
}
