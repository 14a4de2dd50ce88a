//! `--tz`: times shown in the analyst's zone in text and Markdown. Reports keep UTC underneath;
//! JSON, CSV and HTML stay UTC.

use chrono::{DateTime, FixedOffset};

/// A zone for display: a fixed offset or a named IANA zone (daylight saving applied per time).
#[derive(Debug, Clone, Copy)]
pub enum DisplayZone {
    Fixed(FixedOffset),
    Named(chrono_tz::Tz),
}

/// Parse `--tz`: `UTC`, a fixed offset `+02:00` / `-0800`, or an IANA name (`Europe/Berlin`).
pub fn parse_tz(s: &str) -> Result<Option<DisplayZone>, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("utc") || t == "Z" {
        return Ok(None);
    }
    let sign = match t.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => {
            return t.parse::<chrono_tz::Tz>().map(|z| Some(DisplayZone::Named(z))).map_err(|_| {
                format!("--tz '{s}': use UTC, a fixed offset such as +02:00, or an IANA zone such as Europe/Berlin")
            });
        }
    };
    let digits: String = t[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!("--tz '{s}': expected ±HH:MM"));
    }
    let secs =
        digits[..2].parse::<i32>().unwrap() * 3600 + digits[2..].parse::<i32>().unwrap() * 60;
    FixedOffset::east_opt(sign * secs)
        .map(|o| Some(DisplayZone::Fixed(o)))
        .ok_or_else(|| format!("--tz '{s}': offset out of range"))
}

/// An RFC 3339 UTC time as the analyst asked to see it (unchanged without a zone, or if it does not
/// parse).
pub fn show(t: &str, tz: Option<DisplayZone>) -> String {
    let fmt = chrono::SecondsFormat::AutoSi;
    match (tz, DateTime::parse_from_rfc3339(t)) {
        (Some(DisplayZone::Fixed(z)), Ok(dt)) => dt.with_timezone(&z).to_rfc3339_opts(fmt, true),
        (Some(DisplayZone::Named(z)), Ok(dt)) => {
            format!(
                "{} {}",
                dt.with_timezone(&z).to_rfc3339_opts(fmt, true),
                z.name()
            )
        }
        _ => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_zones() {
        let summer = "2024-07-01T12:00:00Z";
        let winter = "2024-01-01T12:00:00Z";
        let berlin = parse_tz("Europe/Berlin").unwrap();
        assert_eq!(
            show(summer, berlin),
            "2024-07-01T14:00:00+02:00 Europe/Berlin"
        );
        assert_eq!(
            show(winter, berlin),
            "2024-01-01T13:00:00+01:00 Europe/Berlin"
        );
        assert_eq!(
            show(winter, parse_tz("-08:00").unwrap()),
            "2024-01-01T04:00:00-08:00"
        );
        assert_eq!(show(winter, parse_tz("UTC").unwrap()), winter);
        assert!(parse_tz("Mars/Olympus").is_err());
    }
}
