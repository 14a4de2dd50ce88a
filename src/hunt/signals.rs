//! The signals `hunt` scores, each with its weight (docs/hunting.md says why), and the tests on
//! one record's fields that they rest on.

/// One kind of evidence against a suspect. A suspect scores each signal once, whatever the
/// number of records behind it (those are listed, up to `MAX_RECORDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Signal {
    SessionReplay,
    ScriptingClient,
    ImpossibleTravel,
    MailRule,
    PermissionGrant,
    ForeignApp,
    Throttled,
    NewCountryUser,
    NewAsnUser,
    NewNetworkTenant,
    NewNetworkUser,
    NewClientTenant,
    NewClientUser,
    NewAppUser,
    NewLogonType,
    RestNew,
    SyncNew,
    BindBurst,
    ManyMailboxes,
    MailRead,
    MailDeleted,
}

/// Every signal, in the order reasons are listed (strongest first).
pub const ALL: [Signal; 21] = [
    Signal::SessionReplay,
    Signal::ScriptingClient,
    Signal::ImpossibleTravel,
    Signal::MailRule,
    Signal::PermissionGrant,
    Signal::ForeignApp,
    Signal::Throttled,
    Signal::NewCountryUser,
    Signal::NewAsnUser,
    Signal::NewNetworkTenant,
    Signal::NewNetworkUser,
    Signal::NewClientTenant,
    Signal::NewClientUser,
    Signal::NewAppUser,
    Signal::NewLogonType,
    Signal::RestNew,
    Signal::SyncNew,
    Signal::BindBurst,
    Signal::ManyMailboxes,
    Signal::MailRead,
    Signal::MailDeleted,
];

/// Record ids kept per reason.
pub const MAX_RECORDS: usize = 5;

/// Impossible travel: faster than this between two places of one user …
pub const TRAVEL_KMH: f64 = 1000.0;
/// … and farther apart than this (City coordinates are often a region's or a country's centre).
pub const TRAVEL_MIN_KM: f64 = 200.0;

/// Mail items accessed in one clock hour, by unfamiliar records of one suspect, that make a burst.
pub const BURST_ITEMS_PER_HOUR: u64 = 50;

impl Signal {
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn code(self) -> &'static str {
        match self {
            Signal::SessionReplay => "session-replay",
            Signal::ScriptingClient => "scripting-client",
            Signal::ImpossibleTravel => "impossible-travel",
            Signal::NewCountryUser => "new-country-user",
            Signal::NewAsnUser => "new-asn-user",
            Signal::MailRule => "mail-rule",
            Signal::PermissionGrant => "permission-grant",
            Signal::ForeignApp => "foreign-app",
            Signal::Throttled => "throttled",
            Signal::NewNetworkTenant => "new-network-tenant",
            Signal::NewNetworkUser => "new-network-user",
            Signal::NewClientTenant => "new-client-tenant",
            Signal::NewClientUser => "new-client-user",
            Signal::NewAppUser => "new-app-user",
            Signal::NewLogonType => "new-logon-type",
            Signal::RestNew => "rest-new",
            Signal::SyncNew => "sync-new",
            Signal::BindBurst => "bind-burst",
            Signal::ManyMailboxes => "many-mailboxes",
            Signal::MailRead => "mail-read",
            Signal::MailDeleted => "mail-deleted",
        }
    }

    /// The weight: docs/hunting.md gives the reasoning for each.
    pub fn weight(self) -> u32 {
        match self {
            Signal::SessionReplay => 40,
            Signal::ScriptingClient => 30,
            Signal::ImpossibleTravel => 30,
            Signal::NewCountryUser => 15,
            Signal::NewAsnUser => 10,
            Signal::MailRule => 30,
            Signal::PermissionGrant => 25,
            Signal::ForeignApp => 20,
            Signal::Throttled => 20,
            Signal::NewNetworkTenant => 10,
            Signal::NewNetworkUser => 10,
            Signal::NewClientTenant => 10,
            Signal::NewClientUser => 5,
            Signal::NewAppUser => 5,
            Signal::NewLogonType => 5,
            Signal::RestNew => 10,
            Signal::SyncNew => 15,
            Signal::BindBurst => 15,
            Signal::ManyMailboxes => 15,
            Signal::MailRead => 10,
            Signal::MailDeleted => 10,
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Signal::SessionReplay => {
                "one session or token id seen from two or more networks (token theft, AiTM)"
            }
            Signal::ScriptingClient => {
                "a scripting user agent (python-requests, curl, axios, Go-http-client, PowerShell …)"
            }
            Signal::ImpossibleTravel => {
                "impossible travel (--ip-db City coordinates): the user seen from two places more than 1000 km/h apart"
            }
            Signal::NewCountryUser => "a country (--ip-db) new to these users",
            Signal::NewAsnUser => "an ASN (--ip-db) new to these users",
            Signal::MailRule => {
                "an inbox rule or forwarding change from a network, client or app new to the user"
            }
            Signal::PermissionGrant => {
                "a mailbox, folder or SendAs permission granted from an unfamiliar context"
            }
            Signal::ForeignApp => "an app that is not first-party and new to the user",
            Signal::Throttled => "MailItemsAccessed throttled (more than 1,000 records in 24 h)",
            Signal::NewNetworkTenant => "a network no user of the tenant showed before",
            Signal::NewNetworkUser => "a network new to these users",
            Signal::NewClientTenant => "a client no user of the tenant showed before",
            Signal::NewClientUser => "a client new to these users",
            Signal::NewAppUser => "an app new to these users",
            Signal::NewLogonType => "a logon type new to the user",
            Signal::RestNew => {
                "REST/Graph access from a context, by a user who never used REST before it"
            }
            Signal::SyncNew => "MailItemsAccessed Sync (whole folders) from an unfamiliar context",
            Signal::BindBurst => "a burst of mail read: 50 or more items in one hour",
            Signal::ManyMailboxes => "an unfamiliar context reading two or more mailboxes",
            Signal::MailRead => "mail read (MailItemsAccessed) from an unfamiliar context",
            Signal::MailDeleted => {
                "mail deleted (HardDelete, SoftDelete, MoveToDeletedItems) from an unfamiliar context"
            }
        }
    }
}

pub use crate::context::{
    FIRST_PARTY_APPS, GRAPH_APP, is_first_party, is_scripting_client, network_of,
};

/// REST or Graph access: `Client=REST` in ClientInfoString, or Microsoft Graph as the app.
pub fn is_rest(client: Option<&str>, apps: [Option<&str>; 2]) -> bool {
    client.is_some_and(|c| c.to_ascii_lowercase().contains("client=rest"))
        || apps
            .iter()
            .flatten()
            .any(|a| a.eq_ignore_ascii_case(GRAPH_APP))
}

/// Operations that make an inbox rule or change where mail goes.
pub fn is_rule_change(op: &str, forwarding: Option<&str>) -> bool {
    forwarding.is_some()
        || [
            "New-InboxRule",
            "Set-InboxRule",
            "Enable-InboxRule",
            "UpdateInboxRules",
            "Set-Mailbox",
            "New-TransportRule",
            "Set-TransportRule",
        ]
        .iter()
        .any(|o| o.eq_ignore_ascii_case(op))
}

pub fn is_permission_grant(op: &str) -> bool {
    [
        "Add-MailboxPermission",
        "Add-RecipientPermission",
        "Add-MailboxFolderPermission",
        "Set-MailboxFolderPermission",
        "Add-ADPermission",
    ]
    .iter()
    .any(|o| o.eq_ignore_ascii_case(op))
}

pub fn is_deletion(op: &str) -> bool {
    ["HardDelete", "SoftDelete", "MoveToDeletedItems"]
        .iter()
        .any(|o| o.eq_ignore_ascii_case(op))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(
            network_of("203.0.113.66").as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            network_of("2001:db8:1:2::5").as_deref(),
            Some("2001:db8:1::/48")
        );
        assert_eq!(network_of("exch-fe01"), None);
    }

    #[test]
    fn tooling_and_apps() {
        assert!(is_scripting_client("Client=REST;python-requests/2.31.0"));
        assert!(is_scripting_client(
            "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1"
        ));
        assert!(!is_scripting_client("Client=OWA;Action=ViaProxy"));
        assert!(is_first_party("00000002-0000-0FF1-CE00-000000000000"));
        assert!(!is_first_party("6b1f2a3c-0000-4000-8000-00000000dead"));
        assert!(is_rule_change("New-InboxRule", None));
        assert!(is_rule_change("Update", Some("x@y")));
        assert!(is_deletion("HardDelete"));
        for (i, s) in ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
    }
}
