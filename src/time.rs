//! Time parsing: ISO 8601 (with or without zone), and the culture-rendered forms PowerShell and
//! the portals write. Ambiguous day/month order is never guessed silently: the caller decides
//! the order per file from evidence (`date_order_hint`) and reports the rule it used.

use crate::model::Micros;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// month/day/year (en-US)
    Mdy,
    /// day/month/year (most of Europe, en-GB, en-AU)
    Dmy,
}

impl DateOrder {
    pub fn as_str(self) -> &'static str {
        match self {
            DateOrder::Mdy => "month/day/year",
            DateOrder::Dmy => "day/month/year",
        }
    }
}

/// Parse an ISO 8601 timestamp. No zone means UTC (AuditData.CreationTime is UTC without a
/// designator). Accepts a space for `T`, 0–9 fraction digits, `Z`, `±HH:MM`, `±HHMM`, and
/// surrounding whitespace (the 2026 Purview rendering has a trailing space).
pub fn parse_iso(s: &str) -> Option<Micros> {
    let s = s.trim();
    // Byte 10 must be a character boundary: non-ASCII text there is not a date (found by fuzzing).
    if s.len() < 10 || !s.is_char_boundary(10) {
        return None;
    }
    let b = s.as_bytes();
    if !(b[4] == b'-' && b[7] == b'-') {
        return None;
    }
    let date =
        iso_date(&b[..10]).or_else(|| NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").ok())?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(to_micros(&date.and_time(NaiveTime::MIN)));
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    // Split the zone off the time.
    let (time_part, offset_secs) = split_zone(rest)?;
    let time = parse_hms_fraction(time_part)?;
    let naive = date.and_time(time);
    Some(to_micros(&naive) - offset_secs as i64 * 1_000_000)
}

/// `YYYY-MM-DD` of plain digits, read directly (chrono's format parser is the slow way to the
/// same date; other text is left to it).
fn iso_date(b: &[u8]) -> Option<NaiveDate> {
    let digits = [0, 1, 2, 3, 5, 6, 8, 9];
    if !digits.iter().all(|&i| b[i].is_ascii_digit()) {
        return None;
    }
    let n = |range: std::ops::Range<usize>| {
        b[range]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    NaiveDate::from_ymd_opt(n(0..4) as i32, n(5..7), n(8..10))
}

fn split_zone(s: &str) -> Option<(&str, i32)> {
    if let Some(t) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return Some((t, 0));
    }
    // A sign after the seconds starts an offset.
    if let Some(pos) = s.rfind(['+', '-']) {
        if pos >= 5 {
            let (t, z) = s.split_at(pos);
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i32 = digits[..2].parse().ok()?;
            let m: i32 = digits[2..].parse().ok()?;
            if h > 14 || m > 59 {
                return None;
            }
            return Some((t, sign * (h * 3600 + m * 60)));
        }
    }
    Some((s, 0))
}

fn parse_hms_fraction(s: &str) -> Option<NaiveTime> {
    let (hms, frac) = match s.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (s, None),
    };
    let mut parts = hms.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let sec: u32 = match parts.next() {
        Some(x) => x.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let mut micros = 0u32;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let mut padded = f.to_string();
        while padded.len() < 6 {
            padded.push('0');
        }
        micros = padded[..6].parse().ok()?;
    }
    NaiveTime::from_hms_micro_opt(h, m, sec, micros)
}

fn to_micros(n: &NaiveDateTime) -> Micros {
    Utc.from_utc_datetime(n).timestamp_micros()
}

/// What a culture-rendered date says about its own day/month order, if anything:
/// `13/1/2024` can only be day-first, `1/13/2024` only month-first, `1/2/2024` says nothing.
pub fn date_order_hint(s: &str) -> Option<DateOrder> {
    let (a, b, _) = split_numeric_date(s.split_whitespace().next()?)?;
    if a > 12 && b <= 12 {
        Some(DateOrder::Dmy)
    } else if b > 12 && a <= 12 {
        Some(DateOrder::Mdy)
    } else {
        None
    }
}

/// True when the value is a culture form whose day/month order matters (not ISO, not year-first).
pub fn is_order_dependent(s: &str) -> bool {
    s.split_whitespace()
        .next()
        .and_then(split_numeric_date)
        .is_some()
}

/// `a/b/yyyy` (or with `.`/`-`) → (a, b, year). Year-first dates are not culture-ambiguous.
fn split_numeric_date(d: &str) -> Option<(u32, u32, i32)> {
    let sep = d.chars().find(|c| matches!(c, '/' | '.' | '-'))?;
    let mut it = d.split(sep);
    let a = it.next()?;
    let b = it.next()?;
    let y = it.next()?.trim_end_matches('.');
    if it.next().is_some() || a.len() > 2 || b.len() > 2 || y.len() != 4 {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?, y.parse().ok()?))
}

/// Parse a culture-rendered date-time (`9/20/2023 4:05:03 AM`, `20.09.2023 16:05:03`,
/// `2022-09-15 5:49:22 PM`) as UTC, with the given day/month order for numeric dates.
pub fn parse_culture(s: &str, order: DateOrder) -> Option<Micros> {
    let s = s.trim();
    let mut words = s.split_whitespace();
    let date_word = words.next()?;
    let time_word = words.next();
    let ampm = words.next();
    if words.next().is_some() {
        return None;
    }
    let date = if let Some((a, b, y)) = split_numeric_date(date_word) {
        let (m, d) = match order {
            DateOrder::Mdy => (a, b),
            DateOrder::Dmy => (b, a),
        };
        NaiveDate::from_ymd_opt(y, m, d)?
    } else {
        // Year first: yyyy-MM-dd or yyyy/MM/dd.
        let norm = date_word.replace(['/', '.'], "-");
        NaiveDate::parse_from_str(&norm, "%Y-%m-%d").ok()?
    };
    let time = match time_word {
        None => NaiveTime::MIN,
        Some(t) => {
            let t = parse_hms_fraction(t)?;
            match ampm.map(|x| x.to_ascii_uppercase()) {
                None => t,
                Some(p) => {
                    use chrono::Timelike;
                    let h = t.hour();
                    if h == 0 || h > 12 {
                        return None;
                    }
                    let h24 = match (p.as_str(), h) {
                        ("AM", 12) => 0,
                        ("AM", h) => h,
                        ("PM", 12) => 12,
                        ("PM", h) => h + 12,
                        _ => return None,
                    };
                    t.with_hour(h24)?
                }
            }
        }
    };
    Some(to_micros(&date.and_time(time)))
}

/// RFC 3339 in UTC with `Z`, fraction only when present.
pub fn rfc3339(t: Micros) -> String {
    match DateTime::<Utc>::from_timestamp_micros(t) {
        Some(dt) => dt.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => format!("invalid-time({t})"),
    }
}

/// Parse a window bound given on the command line: RFC 3339 or `YYYY-MM-DD` (UTC midnight).
pub fn parse_bound(s: &str) -> Option<Micros> {
    parse_iso(s)
}

pub const HOUR: Micros = 3_600_000_000;
pub const DAY: Micros = 24 * HOUR;

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> String {
        rfc3339(parse_iso(s).unwrap())
    }

    #[test]
    fn iso_forms() {
        assert_eq!(iso("2023-09-26T01:56:15"), "2023-09-26T01:56:15Z");
        assert_eq!(iso("2026-01-24T06:54:24.0000000Z "), "2026-01-24T06:54:24Z");
        assert_eq!(
            iso("2010-04-30T11:01:55.140625-07:00"),
            "2010-04-30T18:01:55.140625Z"
        );
        assert_eq!(iso("2024-03-01"), "2024-03-01T00:00:00Z");
        assert_eq!(iso("2024-03-01T23:30:00+0130"), "2024-03-01T22:00:00Z");
        assert!(parse_iso("2024-13-01T00:00:00").is_none());
        assert!(parse_iso("9/20/2023 4:05:03 AM").is_none());
        assert!(parse_iso("2021-11-0½2T14:00:00").is_none());
    }

    #[test]
    fn culture_forms() {
        let us = |s| rfc3339(parse_culture(s, DateOrder::Mdy).unwrap());
        let eu = |s| rfc3339(parse_culture(s, DateOrder::Dmy).unwrap());
        assert_eq!(us("9/20/2023 4:05:03 AM"), "2023-09-20T04:05:03Z");
        assert_eq!(us("9/20/2023 12:05:03 AM"), "2023-09-20T00:05:03Z");
        assert_eq!(us("9/20/2023 12:05:03 PM"), "2023-09-20T12:05:03Z");
        assert_eq!(us("2022-09-15 5:49:22 PM"), "2022-09-15T17:49:22Z");
        assert_eq!(eu("20.09.2023 16:05:03"), "2023-09-20T16:05:03Z");
        assert_eq!(eu("01/02/2024 10:00"), "2024-02-01T10:00:00Z");
        assert!(parse_culture("13/20/2023 1:00:00", DateOrder::Mdy).is_none());
    }

    #[test]
    fn order_hints() {
        assert_eq!(date_order_hint("13/1/2024 1:00"), Some(DateOrder::Dmy));
        assert_eq!(date_order_hint("1/13/2024 1:00 PM"), Some(DateOrder::Mdy));
        assert_eq!(date_order_hint("1/2/2024 1:00"), None);
        assert_eq!(date_order_hint("2024-01-02 1:00"), None);
    }
}
