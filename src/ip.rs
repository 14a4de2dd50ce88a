//! Client IP normalization and CIDR matching (IPv4 and IPv6), per the rules' recipe:
//! `[v6]:port` → `v6`, `v4:port` → `v4`, `::ffff:v4` → `v4`; anything else is kept as written.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A client address field, read: an IP address, or a name that is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Client<'a> {
    /// Normalized, with the port that was attached to it.
    Ip(Cow<'a, str>, Option<u16>),
    /// A host name (`localhost`, `EXCH-FE01`), lowercased: never an IP to match.
    Host(Cow<'a, str>),
}

impl Client<'_> {
    pub fn into_owned(self) -> Client<'static> {
        match self {
            Client::Ip(ip, port) => Client::Ip(Cow::Owned(ip.into_owned()), port),
            Client::Host(h) => Client::Host(Cow::Owned(h.into_owned())),
        }
    }
}

/// Read a client address field. `EXCH-FE01 (203.0.113.77)` (a server and the address it
/// saw) is the address in parentheses.
pub fn classify(raw: &str) -> Option<Client<'_>> {
    let s = raw.trim();
    if let Some((_, inner)) = s.strip_suffix(')').and_then(|t| t.rsplit_once('(')) {
        if let Some(Client::Ip(ip, port)) = classify(inner) {
            return Some(Client::Ip(ip, port));
        }
    }
    let (out, port) = normalize(s)?;
    Some(if out.parse::<IpAddr>().is_ok() {
        Client::Ip(out, port)
    } else {
        Client::Host(out)
    })
}

/// The client of a record from its address fields in the rules' order (`ClientIPAddress`,
/// `ClientIP`, `ActorIpAddress`): the first that is an IP address, and the first name that is
/// not one (kept apart: a host name is never stored as the IP).
#[allow(clippy::type_complexity)]
pub fn pick<'a>(
    candidates: impl IntoIterator<Item = Cow<'a, str>>,
) -> (Option<(Cow<'a, str>, Option<u16>)>, Option<Cow<'a, str>>) {
    let (mut ip, mut host) = (None, None);
    for c in candidates {
        let read = match c {
            Cow::Borrowed(s) => classify(s),
            Cow::Owned(s) => classify(&s).map(Client::into_owned),
        };
        match read {
            Some(Client::Ip(a, p)) if ip.is_none() => ip = Some((a, p)),
            Some(Client::Host(h)) if host.is_none() => host = Some(h),
            _ => {}
        }
    }
    (ip, host)
}

/// Split a client IP field into (normalized address, port). The address is borrowed when it is
/// already in normal form (dotted IPv4 always is once it parses: leading zeros do not).
pub fn normalize(raw: &str) -> Option<(Cow<'_, str>, Option<u16>)> {
    let s = raw.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("null") {
        return None;
    }
    let (host, port) = split_port(s);
    let host = host.trim();
    let out = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => Cow::Owned(match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        }),
        Ok(IpAddr::V4(_)) => Cow::Borrowed(host),
        // Hostnames and oddities are kept, lowercased, so they can still be matched exactly.
        Err(_) if host.bytes().any(|b| b.is_ascii_uppercase()) => {
            Cow::Owned(host.to_ascii_lowercase())
        }
        Err(_) => Cow::Borrowed(host),
    };
    Some((out, port))
}

fn split_port(s: &str) -> (&str, Option<u16>) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((h, tail)) = rest.split_once(']') {
            let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
            return (h, port);
        }
        return (s, None);
    }
    // Exactly one colon: v4:port or host:port. More than one: bare IPv6.
    if s.matches(':').count() == 1 {
        let (h, p) = s.split_once(':').unwrap();
        if let Ok(port) = p.parse::<u16>() {
            return (h, Some(port));
        }
    }
    (s, None)
}

/// An IP address or CIDR block given as an indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpNet {
    pub text: String,
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(s: &str) -> Result<IpNet, String> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| format!("'{s}' is not an IP address or CIDR block"))?;
        let addr = match addr {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{s}': prefix length must be 0..={max}"))?,
            None => max,
        };
        Ok(IpNet {
            text: s.to_string(),
            addr,
            prefix,
        })
    }

    /// Does a normalized client IP (as produced by `normalize`) fall in this block?
    pub fn contains(&self, normalized: &str) -> bool {
        let Ok(ip) = normalized.parse::<IpAddr>() else {
            return false;
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => mask4(net, self.prefix) == mask4(ip, self.prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => mask6(net, self.prefix) == mask6(ip, self.prefix),
            _ => false,
        }
    }
}

fn mask4(a: Ipv4Addr, prefix: u8) -> u32 {
    let bits = u32::from(a);
    if prefix == 0 {
        0
    } else {
        bits & (u32::MAX << (32 - prefix as u32))
    }
}

fn mask6(a: Ipv6Addr, prefix: u8) -> u128 {
    let bits = u128::from(a);
    if prefix == 0 {
        0
    } else {
        bits & (u128::MAX << (128 - prefix as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> (String, Option<u16>) {
        let (ip, port) = normalize(s).unwrap();
        (ip.into_owned(), port)
    }

    #[test]
    fn normalizes_every_documented_shape() {
        assert_eq!(n("180.150.36.168"), ("180.150.36.168".into(), None));
        assert_eq!(
            n("185.73.124.135:19823"),
            ("185.73.124.135".into(), Some(19823))
        );
        assert_eq!(
            n("2001:bb6:5f4f:f058:4163:e14a:1332:27c7").0,
            "2001:bb6:5f4f:f058:4163:e14a:1332:27c7"
        );
        assert_eq!(n("::1").0, "::1");
        assert_eq!(
            n("[2001:db8::abcd]:12345"),
            ("2001:db8::abcd".into(), Some(12345))
        );
        assert_eq!(n("::ffff:10.11.12.13").0, "10.11.12.13");
        assert_eq!(
            n("[::ffff:10.11.12.13]:12345"),
            ("10.11.12.13".into(), Some(12345))
        );
        assert_eq!(n("[2001:DB8::ABCD]").0, "2001:db8::abcd");
        assert_eq!(
            n("cool.client.local:12345"),
            ("cool.client.local".into(), Some(12345))
        );
        assert!(normalize("").is_none());
        assert!(normalize("null").is_none());
    }

    #[test]
    fn names_with_addresses_and_names_without() {
        assert_eq!(
            classify("EXCH-FE01 (203.0.113.77)"),
            Some(Client::Ip("203.0.113.77".into(), None))
        );
        assert_eq!(
            classify("CORRECTIPV4 (10.90.0.1:443)"),
            Some(Client::Ip("10.90.0.1".into(), Some(443)))
        );
        assert_eq!(
            classify("localhost"),
            Some(Client::Host("localhost".into()))
        );
        let (ip, host) =
            pick(["LOCALHOST", "203.0.113.66:51234", "198.51.100.1"].map(Cow::Borrowed));
        assert_eq!(ip, Some(("203.0.113.66".into(), Some(51234))));
        assert_eq!(host.as_deref(), Some("localhost"));
    }

    #[test]
    fn cidr_matching() {
        let net = IpNet::parse("203.0.113.0/24").unwrap();
        assert!(net.contains("203.0.113.66"));
        assert!(!net.contains("203.0.114.1"));
        let one = IpNet::parse("2001:db8::1").unwrap();
        assert!(one.contains("2001:db8::1"));
        assert!(!one.contains("2001:db8::2"));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:ffff::9"));
        assert!(!v6.contains("10.0.0.1"));
        assert!(IpNet::parse("10.0.0.0/33").is_err());
        assert!(IpNet::parse("nonsense").is_err());
    }
}
