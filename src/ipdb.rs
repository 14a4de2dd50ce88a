//! Offline IP enrichment (issue #25, `--ip-db FILE`): the ASN, AS organisation, country and
//! (City databases) coordinates of an address, from MaxMind GeoLite2 / GeoIP2 (ASN, City,
//! Country) or ipinfo lite databases in MMDB format that the analyst already has. Read-only,
//! into memory; never a network call.
//!
//! Either vendor's record shape is read leniently (as JSON values): GeoLite2-ASN
//! `autonomous_system_number` / `autonomous_system_organization`; GeoLite2-City/Country
//! `country.iso_code`, City `location.latitude` / `location.longitude`; ipinfo lite `asn`
//! ("AS15169"), `as_name`, `country_code`. With several databases each field comes from the
//! first that has it.

use serde::Serialize;
use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// What the databases say of one address. Absent fields are left out of JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IpInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
}

// Coordinates come from the database, never NaN: equality is total in practice (reports that
// hold an `IpInfo` compare as `Eq`).
impl Eq for IpInfo {}

impl IpInfo {
    /// `AS64500 Example Org, NL` (the parts known), for text and CSV.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let asn = match (self.asn, self.as_org.as_deref()) {
            (Some(n), Some(o)) => Some(format!("AS{n} {o}")),
            (Some(n), None) => Some(format!("AS{n}")),
            (None, Some(o)) => Some(o.to_string()),
            (None, None) => None,
        };
        parts.extend(asn);
        parts.extend(self.country.clone());
        parts.join(", ")
    }

    /// Coordinates, when both are known.
    pub fn location(&self) -> Option<(f64, f64)> {
        Some((self.latitude?, self.longitude?))
    }

    fn is_empty(&self) -> bool {
        self.asn.is_none()
            && self.as_org.is_none()
            && self.country.is_none()
            && self.location().is_none()
    }
}

/// The `--ip-db` databases, in the order given.
pub struct IpDbs {
    readers: Vec<(PathBuf, maxminddb::Reader<Vec<u8>>)>,
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn asn_of(v: Option<&Value>) -> Option<u32> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => {
            let s = s.trim();
            let digits = s
                .strip_prefix("AS")
                .or_else(|| s.strip_prefix("as"))
                .unwrap_or(s);
            digits.parse().ok()
        }
        _ => None,
    }
}

/// The fields of one database record, whichever vendor's shape it has.
fn info_of(v: &Value) -> IpInfo {
    let at = |path: &[&str]| path.iter().try_fold(v, |v, k| v.get(k));
    IpInfo {
        asn: asn_of(at(&["autonomous_system_number"])).or_else(|| asn_of(at(&["asn"]))),
        as_org: text(at(&["autonomous_system_organization"])).or_else(|| text(at(&["as_name"]))),
        country: text(at(&["country", "iso_code"])).or_else(|| text(at(&["country_code"]))),
        latitude: at(&["location", "latitude"]).and_then(Value::as_f64),
        longitude: at(&["location", "longitude"]).and_then(Value::as_f64),
    }
}

impl IpDbs {
    /// Open each database (read into memory, read-only). A file that is no MMDB is an error
    /// naming it.
    pub fn open(paths: &[PathBuf]) -> crate::error::Result<IpDbs> {
        let mut readers = Vec::with_capacity(paths.len());
        for p in paths {
            readers.push((p.clone(), Self::open_one(p)?));
        }
        Ok(IpDbs { readers })
    }

    fn open_one(p: &Path) -> crate::error::Result<maxminddb::Reader<Vec<u8>>> {
        use crate::error::Error;
        let path = p.display().to_string();
        let bytes = std::fs::read(p).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        maxminddb::Reader::from_source(bytes).map_err(|e| Error::Invalid {
            path,
            detail: format!("not a MaxMind DB (MMDB) file: {e}"),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.readers.is_empty()
    }

    /// What the databases say of `ip` (each field from the first database that has it);
    /// `None` for a host name or an address none of them knows.
    pub fn lookup(&self, ip: &str) -> Option<IpInfo> {
        let addr: IpAddr = ip.trim().parse().ok()?;
        let mut out = IpInfo::default();
        for (_, r) in &self.readers {
            // An IPv6 address in an IPv4-only database is an error: that database has nothing.
            let Ok(found) = r.lookup(addr) else { continue };
            let Ok(Some(v)) = found.decode::<Value>() else {
                continue;
            };
            let i = info_of(&v);
            if out.location().is_none() && i.location().is_some() {
                out.latitude = i.latitude;
                out.longitude = i.longitude;
            }
            out.asn = out.asn.or(i.asn);
            out.as_org = out.as_org.or(i.as_org);
            out.country = out.country.or(i.country);
        }
        (!out.is_empty()).then_some(out)
    }

    /// What the databases say of a network (`203.0.113.0/24`): its first address's.
    pub fn lookup_network(&self, net: &str) -> Option<IpInfo> {
        self.lookup(net.split('/').next()?)
    }
}

/// Great-circle distance in km (haversine, mean Earth radius).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1) = (a.0.to_radians(), a.1.to_radians());
    let (la2, lo2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_shapes() {
        let maxmind = serde_json::json!({"autonomous_system_number": 64500,
            "autonomous_system_organization": "Example Org"});
        let i = info_of(&maxmind);
        assert_eq!(
            (i.asn, i.as_org.as_deref()),
            (Some(64500), Some("Example Org"))
        );
        let ipinfo = serde_json::json!({"asn": "AS15169", "as_name": "Google LLC",
            "country_code": "US", "country": "United States"});
        let i = info_of(&ipinfo);
        assert_eq!(i.summary(), "AS15169 Google LLC, US");
        let city = serde_json::json!({"country": {"iso_code": "NL"},
            "location": {"latitude": 52.37, "longitude": 4.89}});
        assert_eq!(info_of(&city).location(), Some((52.37, 4.89)));
        let km = distance_km((52.37, 4.89), (40.71, -74.01));
        assert!((5800.0..5900.0).contains(&km), "{km}");
    }
}
