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
pub fn parse_tz(s: &str) -> crate::error::Result<Option<DisplayZone>> {
    parse_zone("--tz", s)
}

/// Parse the value of a zone option (`--tz`, `--input-tz`); an error names the option.
pub fn parse_zone(flag: &str, s: &str) -> crate::error::Result<Option<DisplayZone>> {
    zone_of(s).map_err(|why| crate::error::Error::Usage(format!("{flag} '{s}': {why}")))
}

fn zone_of(s: &str) -> Result<Option<DisplayZone>, &'static str> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("utc") || t == "Z" {
        return Ok(None);
    }
    let sign = match t.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => {
            return t
                .parse::<chrono_tz::Tz>()
                .map(|z| Some(DisplayZone::Named(z)))
                .map_err(|_| "use UTC, a fixed offset such as +02:00, or an IANA zone such as Europe/Berlin");
        }
    };
    let digits: String = t[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err("expected ±HH:MM");
    }
    let secs =
        digits[..2].parse::<i32>().unwrap() * 3600 + digits[2..].parse::<i32>().unwrap() * 60;
    FixedOffset::east_opt(sign * secs)
        .map(|o| Some(DisplayZone::Fixed(o)))
        .ok_or("offset out of range")
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

/// A wall-clock time in `zone` (microseconds of the clock reading taken as UTC) as UTC. An hour
/// that a change to winter time repeats is read as its first occurrence; one that the change to
/// summer time skips, as an hour later (no such time was shown).
pub fn local_to_utc(local: crate::model::Micros, zone: DisplayZone) -> crate::model::Micros {
    use chrono::TimeZone;
    let Some(naive) = DateTime::from_timestamp_micros(local).map(|t| t.naive_utc()) else {
        return local;
    };
    let utc = match zone {
        DisplayZone::Fixed(z) => z
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.timestamp_micros()),
        DisplayZone::Named(z) => z
            .from_local_datetime(&naive)
            .earliest()
            .or_else(|| {
                z.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.timestamp_micros()),
    };
    utc.unwrap_or(local)
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

    #[test]
    fn local_times_to_utc() {
        let t = |s: &str| crate::time::parse_iso(s).unwrap();
        let berlin = parse_tz("Europe/Berlin").unwrap().unwrap();
        let utc = |local: &str| crate::time::rfc3339(local_to_utc(t(local), berlin));
        assert_eq!(utc("2024-03-12T03:56:15"), "2024-03-12T02:56:15Z");
        assert_eq!(utc("2024-07-01T14:00:00"), "2024-07-01T12:00:00Z");
        // 02:30 on 31 March 2024 was never shown (clocks went 02:00 to 03:00); 02:30 on
        // 27 October was shown twice: the first.
        assert_eq!(utc("2024-03-31T02:30:00"), "2024-03-31T01:30:00Z");
        assert_eq!(utc("2024-10-27T02:30:00"), "2024-10-27T00:30:00Z");
        let minus5 = parse_tz("-05:00").unwrap().unwrap();
        assert_eq!(
            crate::time::rfc3339(local_to_utc(t("2024-01-01T20:00:00"), minus5)),
            "2024-01-02T01:00:00Z"
        );
    }
}
