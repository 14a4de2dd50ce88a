//! Each mailbox's records over time by attribution, for the report's charts. One time axis for
//! the whole report, so that mailboxes can be compared at a glance.

use super::ScopeConfig;
use super::attribution::Attribution;
use super::findings::{Timeline, TimelineBucket};
use crate::frame::RecordsView;
use crate::model::Micros;
use crate::time::rfc3339;

/// Bucket widths a chart can use; the smallest giving at most `MAX_BUCKETS` buckets is chosen.
const BUCKET_SECONDS: &[i64] = &[
    60,
    300,
    900,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
    86_400,
    7 * 86_400,
    30 * 86_400,
];
const MAX_BUCKETS: i64 = 48;

/// The fewest buckets a chart shows (a short incident still gets an axis, not one wide bar).
const MIN_BUCKETS: i64 = 24;

/// One time axis for every mailbox of a report: all records in the inputs and the window.
pub(super) fn timeline_axis(
    first: Micros,
    last: Micros,
    cfg: &ScopeConfig,
) -> Option<(Micros, Micros)> {
    Some((
        cfg.start.map_or(first, |s| s.min(first)),
        cfg.end.map_or(last, |e| (e - 1).max(last)),
    ))
}

pub(super) fn timeline(
    rows: &[usize],
    v: &RecordsView,
    attr: &[Attribution],
    axis: Option<(Micros, Micros)>,
) -> Timeline {
    let Some((first, last)) = axis else {
        return Timeline::default();
    };
    let span_s = (last - first).div_euclid(1_000_000) + 1;
    let width = BUCKET_SECONDS
        .iter()
        .copied()
        .find(|w| span_s / w < MAX_BUCKETS)
        .unwrap_or(365 * 86_400);
    // Buckets start on a whole multiple of the width (UTC).
    let start = first.div_euclid(1_000_000).div_euclid(width) * width;
    let n = ((last.div_euclid(1_000_000) - start) / width + 1).max(MIN_BUCKETS) as usize;
    let mut buckets = vec![TimelineBucket::default(); n];
    for &i in rows {
        let k = ((v.time[i].div_euclid(1_000_000) - start) / width).clamp(0, n as i64 - 1) as usize;
        let b = &mut buckets[k];
        match attr[i] {
            Attribution::Attacker(_) => b.attacker += 1,
            Attribution::Linked(_) => b.linked += 1,
            Attribution::Trusted(_) => b.trusted += 1,
            _ => b.other += 1,
        }
    }
    Timeline {
        start: rfc3339(start * 1_000_000),
        bucket_seconds: width,
        buckets,
    }
}
