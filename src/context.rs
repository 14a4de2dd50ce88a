//! What a record's access context is, for every engine that judges one (`hunt`, and the
//! scope's indicator gaps): its network, whether its app is Microsoft's own, whether its client
//! is a script.

/// Microsoft first-party application ids that mail is commonly read through (from
/// merill/microsoft-info `_info/MicrosoftApps.csv`): not foreign, never suggested.
pub const FIRST_PARTY_APPS: &[&str] = &[
    "00000002-0000-0ff1-ce00-000000000000", // Office 365 Exchange Online
    "00000003-0000-0000-c000-000000000000", // Microsoft Graph
    "00000003-0000-0ff1-ce00-000000000000", // Office 365 SharePoint Online
    "00000006-0000-0ff1-ce00-000000000000", // Microsoft Office 365 Portal
    "27922004-5251-4030-b22d-91ecd9a37ea4", // Outlook Mobile
    "d3590ed6-52b3-4102-aeff-aad2292ab01c", // Microsoft Office
    "1fec8e78-bce4-4aaf-ab1b-5451cc387264", // Microsoft Teams
    "5e3ce6c0-2b1f-4285-8d4b-75ee78787346", // Microsoft Teams Web Client
    "00000004-0000-0ff1-ce00-000000000000", // Skype for Business Online
    "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", // Azure Portal
    "1b730954-1685-4b74-9bfd-dac224a7b894", // Azure Active Directory PowerShell
    "fb78d390-0c51-40cd-8e17-fdbfab77341b", // Microsoft Exchange REST API Based Powershell
    "a0c73c16-a7e3-4564-9a95-2bdf47383716", // Microsoft Exchange Online Remote PowerShell
    "9199bf20-a13f-4107-85dc-02114787ef48", // One Outlook Web
    "5d661950-3475-41cd-a2c3-d671a3162bc1", // Outlook (new) for Windows
    "bc59ab01-8403-45c6-8796-ac3ef710b3e3", // Outlook Online Add-in App
    "82d8ab62-be52-a567-14ea-1616c4ee06c4", // Outlook web (OWA) client
    "00b41c95-dab0-4487-9791-b9d2c32c80f2", // Office 365 Management
    "4765445b-32c6-49b0-83e6-1d93765276ca", // OfficeHome
];

pub const GRAPH_APP: &str = "00000003-0000-0000-c000-000000000000";

pub fn is_first_party(app: &str) -> bool {
    FIRST_PARTY_APPS
        .iter()
        .any(|a| a.eq_ignore_ascii_case(app.trim()))
}

/// Scripting and HTTP-library user agents: attacker tooling far more often than people.
const SCRIPTING: &[&str] = &[
    "python-requests",
    "python-urllib",
    "python/",
    "aiohttp",
    "httpx",
    "axios",
    "curl/",
    "wget/",
    "go-http-client",
    "postmanruntime",
    "windowspowershell",
    "powershell/",
    "node-fetch",
    "okhttp",
    "libwww-perl",
    "java/",
    "ruby",
];

pub fn is_scripting_client(client: &str) -> bool {
    let l = client.to_ascii_lowercase();
    SCRIPTING.iter().any(|s| l.contains(s))
}

/// The network of a normalized IP: IPv4 /24, IPv6 /48; `None` for a host name.
pub fn network_of(ip: &str) -> Option<String> {
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(format!("{}.{}.{}.0/24", o[0], o[1], o[2]))
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
            Some(format!("{net}/48"))
        }
    }
}
