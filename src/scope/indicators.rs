//! Attacker and trusted indicators: from the command line or a TOML/JSON indicator file, validated
//! once and compiled into a matcher.

use crate::ip::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Indicators as given (echoed in the report). Case-file keys are the flag names with `_`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Indicators {
    #[serde(default)]
    pub attacker_ip: Vec<String>,
    #[serde(default)]
    pub attacker_session: Vec<String>,
    #[serde(default)]
    pub attacker_client: Vec<String>,
    #[serde(default)]
    pub attacker_app: Vec<String>,
    #[serde(default)]
    pub attacker_user: Vec<String>,
    #[serde(default)]
    pub trusted_ip: Vec<String>,
}

/// An indicator file (`--indicators`, TOML or JSON) may also carry the window.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorFile {
    #[serde(flatten)]
    pub indicators: Indicators,
    pub start: Option<String>,
    pub end: Option<String>,
}

impl IndicatorFile {
    pub fn parse(text: &str, is_json: bool) -> Result<IndicatorFile, String> {
        if is_json {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            toml::from_str(text).map_err(|e| e.to_string())
        }
    }
}

impl Indicators {
    pub fn is_empty(&self) -> bool {
        self.attacker_ip.is_empty()
            && self.attacker_session.is_empty()
            && self.attacker_client.is_empty()
            && self.attacker_app.is_empty()
            && self.attacker_user.is_empty()
    }

    /// Add another set (an indicator file's) to this one, keeping each value once, sorted.
    pub fn merge(&mut self, other: Indicators) {
        fn m(a: &mut Vec<String>, b: Vec<String>) {
            let set: BTreeSet<String> = a
                .drain(..)
                .chain(b)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            *a = set.into_iter().collect();
        }
        m(&mut self.attacker_ip, other.attacker_ip);
        m(&mut self.attacker_session, other.attacker_session);
        m(&mut self.attacker_client, other.attacker_client);
        m(&mut self.attacker_app, other.attacker_app);
        m(&mut self.attacker_user, other.attacker_user);
        m(&mut self.trusted_ip, other.trusted_ip);
    }

    pub fn compile(&self) -> Result<Matcher, String> {
        let nets = |v: &[String], flag: &str| {
            v.iter()
                .map(|s| IpNet::parse(s).map_err(|e| format!("{flag}: {e}")))
                .collect::<Result<Vec<_>, _>>()
        };
        let lower = |v: &[String]| {
            v.iter()
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        };
        Ok(Matcher {
            attacker_ips: nets(&self.attacker_ip, "--attacker-ip")?,
            trusted_ips: nets(&self.trusted_ip, "--trusted-ip")?,
            sessions: lower(&self.attacker_session),
            clients: lower(&self.attacker_client),
            apps: lower(&self.attacker_app),
            users: lower(&self.attacker_user),
        })
    }
}

pub struct Matcher {
    attacker_ips: Vec<IpNet>,
    trusted_ips: Vec<IpNet>,
    sessions: Vec<String>,
    clients: Vec<String>,
    apps: Vec<String>,
    users: Vec<String>,
}

/// The fields of one record an indicator can match.
pub struct Context<'a> {
    pub ip: Option<&'a str>,
    pub sessions: [Option<&'a str>; 3],
    pub client_info: Option<&'a str>,
    pub apps: [Option<&'a str>; 2],
    pub actors: [Option<&'a str>; 2],
}

impl Matcher {
    /// The trusted block the record's IP falls in.
    pub fn trusted(&self, c: &Context) -> Option<String> {
        let ip = c.ip?;
        self.trusted_ips
            .iter()
            .find(|n| n.contains(ip))
            .map(|n| format!("trusted-ip {}", n.text))
    }

    /// The first attacker indicator the record matches, described.
    pub fn attacker(&self, c: &Context) -> Option<String> {
        if let Some(ip) = c.ip {
            if let Some(n) = self.attacker_ips.iter().find(|n| n.contains(ip)) {
                return Some(format!("attacker-ip {}", n.text));
            }
        }
        for s in c.sessions.iter().flatten() {
            if let Some(m) = self.sessions.iter().find(|x| x.eq_ignore_ascii_case(s)) {
                return Some(format!("attacker-session {m}"));
            }
        }
        if let Some(ci) = c.client_info {
            let l = ci.to_lowercase();
            if let Some(m) = self.clients.iter().find(|x| l.contains(x.as_str())) {
                return Some(format!("attacker-client {m}"));
            }
        }
        for a in c.apps.iter().flatten() {
            if let Some(m) = self.apps.iter().find(|x| x.eq_ignore_ascii_case(a)) {
                return Some(format!("attacker-app {m}"));
            }
        }
        for a in c.actors.iter().flatten() {
            if let Some(m) = self.users.iter().find(|x| same_identity(a, x)) {
                return Some(format!("attacker-user {m}"));
            }
        }
        None
    }
}

/// The last element of an AD path (`corp.contoso.com/Users/david` → `david`), or the value.
pub fn last_element(s: &str) -> &str {
    s.rsplit(['/', '\\']).next().unwrap_or(s).trim()
}

/// The alias of a UPN (`david@contoso.com` → `david`); `None` for a value that is no UPN.
fn alias_of(s: &str) -> Option<&str> {
    s.split_once('@')
        .map(|(local, _)| local)
        .filter(|l| !l.is_empty())
}

/// Whether an actor as a record names it (UPN, SID, alias, AD path such as
/// `corp.contoso.com/Users/david` or `NAMPR…/Microsoft Exchange Hosted Organizations/…/david`)
/// is the user an indicator names (UPN, SID or alias), case-insensitively.
pub fn same_identity(actor: &str, indicator: &str) -> bool {
    let (a, i) = (actor.trim(), indicator.trim());
    if a.eq_ignore_ascii_case(i) {
        return true;
    }
    let last = last_element(a);
    let eq = |x: &str, y: &str| !x.is_empty() && x.eq_ignore_ascii_case(y);
    eq(last, i)
        || alias_of(i).is_some_and(|alias| eq(last, alias))
        || (!i.contains('@') && alias_of(last).is_some_and(|alias| eq(alias, i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_match_by_upn_alias_or_path() {
        for actor in [
            "David@Contoso.com",
            "corp.contoso.com/Users/david",
            "NAMPR01A001.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/David",
        ] {
            assert!(same_identity(actor, "david@contoso.com"), "{actor}");
            assert!(same_identity(actor, "david"), "{actor}");
        }
        assert!(!same_identity("davidson@contoso.com", "david"));
        assert!(!same_identity(
            "corp.contoso.com/Users/dave",
            "david@contoso.com"
        ));
        assert!(same_identity(
            "S-1-5-21-1000-2000-3000-1105",
            "s-1-5-21-1000-2000-3000-1105"
        ));
    }

    #[test]
    fn case_files_in_toml_and_json() {
        let t = IndicatorFile::parse("attacker_ip = [\"203.0.113.0/24\"]\ntrusted_ip = [\"10.0.0.0/8\"]\nstart = \"2024-01-01\"\n", false).unwrap();
        assert_eq!(t.indicators.attacker_ip, vec!["203.0.113.0/24"]);
        assert_eq!(t.start.as_deref(), Some("2024-01-01"));
        let j = IndicatorFile::parse(r#"{"attacker_session":["abc"]}"#, true).unwrap();
        assert_eq!(j.indicators.attacker_session, vec!["abc"]);
        assert!(IndicatorFile::parse("attacker_ipp = []", false).is_err());
    }

    #[test]
    fn matching() {
        let ind = Indicators {
            attacker_ip: vec!["203.0.113.0/24".into()],
            attacker_client: vec!["python".into()],
            ..Default::default()
        };
        let m = ind.compile().unwrap();
        let mut c = Context {
            ip: Some("203.0.113.9"),
            sessions: [None; 3],
            client_info: None,
            apps: [None; 2],
            actors: [None; 2],
        };
        assert_eq!(
            m.attacker(&c).as_deref(),
            Some("attacker-ip 203.0.113.0/24")
        );
        c.ip = Some("198.51.100.1");
        c.client_info = Some("Client=REST;Python-urllib/3.9");
        assert_eq!(m.attacker(&c).as_deref(), Some("attacker-client python"));
        assert!(
            Indicators {
                attacker_ip: vec!["x".into()],
                ..Default::default()
            }
            .compile()
            .is_err()
        );
    }
}
