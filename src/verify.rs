//! `verify`: does a saved case hold exactly what the evidence gives? The case as read
//! (`case::read`) against what `export` would write from the evidence now (`ingest`, the same
//! reading), by content — never by the Parquet bytes, which may differ between two writes of
//! the same frame: the inputs, the paths skipped, every record with its items, and the
//! inventories' messages.
//!
//! A case lists its inputs' paths as `export` was given them, perhaps in another folder or on
//! another machine: a case input and an evidence file are the same input when their paths end
//! alike (`pair_paths`).

use crate::case::Case;
use crate::frame::{Frame, ItemsOf, col, messages, str_col, time_col};
use crate::ingest::Ingest;
use crate::provenance::{FileSummary, SkippedOut};
use polars::prelude::*;
use std::collections::HashMap;

/// What `compare` found.
#[derive(Debug)]
pub struct Comparison {
    /// The first differences, a line each, at most the limit asked for.
    pub shown: Vec<String>,
    /// How many differences there are in all.
    pub total: usize,
}

impl Comparison {
    pub fn same(&self) -> bool {
        self.total == 0
    }
}

/// Differences as they are found: each counted, the first `limit` said.
struct Found {
    shown: Vec<String>,
    total: usize,
    limit: usize,
}

impl Found {
    fn push(&mut self, line: impl FnOnce() -> String) {
        self.total += 1;
        if self.shown.len() < self.limit {
            self.shown.push(line());
        }
    }
}

/// Compare `case` with `fresh`, what the evidence gives now (read with every column, as
/// `export` reads it); say at most `limit` differences.
pub fn compare(case: &Case, fresh: &Ingest, limit: usize) -> PolarsResult<Comparison> {
    let mut found = Found {
        shown: Vec::new(),
        total: 0,
        limit,
    };
    let pairs = pair_inputs(&case.inputs, &fresh.files);
    // The evidence's paths as the case names them, where an input was found.
    let mut rename: HashMap<&str, &str> = HashMap::new();
    for (c, f) in pairs.iter().enumerate() {
        if let Some(f) = f {
            rename.insert(fresh.files[*f].path.as_str(), case.inputs[c].path.as_str());
        }
    }
    let case_records = records_per_path(&case.frame)?;
    for (c, f) in pairs.iter().enumerate() {
        let a = &case.inputs[c];
        match f {
            None => found.push(|| {
                format!(
                    "input {}: in the case only, not in the evidence (SHA-256 {})",
                    a.path, a.sha256
                )
            }),
            Some(f) => {
                let b = &fresh.files[*f];
                let records = case_records.get(a.path.as_str()).copied().unwrap_or(0);
                compare_inputs(a, records, b, &mut found);
            }
        }
    }
    for (f, b) in fresh.files.iter().enumerate() {
        if !pairs.contains(&Some(f)) {
            found.push(|| {
                format!(
                    "input {}: in the evidence only, not in the case (SHA-256 {}, {} rows)",
                    b.path, b.sha256, b.rows
                )
            });
        }
    }
    compare_skipped(&case.skipped, &fresh.skipped, &mut found);
    compare_records(&case.frame, &fresh.frame, &rename, &mut found)?;
    let fresh_messages = messages::read(&fresh.frame.messages)?;
    compare_messages(&case.messages, &fresh_messages, &rename, &mut found);
    Ok(Comparison {
        shown: found.shown,
        total: found.total,
    })
}

/// The evidence paths that cannot be read now and that the case does not list as unreadable
/// alike: with them, whether the case holds what the evidence gives cannot be told.
pub fn unreadable<'a>(case: &Case, fresh: &'a Ingest) -> Vec<&'a SkippedOut> {
    fresh
        .skipped
        .iter()
        .filter(|s| s.error)
        .filter(|s| {
            !case.skipped.iter().any(|c| {
                c.error
                    && c.reason == s.reason
                    && common_ending(&components(&c.path), &components(&s.path)) > 0
            })
        })
        .collect()
}

/// A path's parts, whichever separator wrote it.
fn components(path: &str) -> Vec<&str> {
    path.split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// How many trailing parts two paths share.
fn common_ending(a: &[&str], b: &[&str]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// Pair each of `left` with at most one of `right`: paths that share their file name at least,
/// the longest common ending first, then those that `same` says hold the same content. For each
/// of `left`, the index of its pair in `right`.
pub fn pair_paths(
    left: &[&str],
    right: &[&str],
    same: impl Fn(usize, usize) -> bool,
) -> Vec<Option<usize>> {
    let lc: Vec<Vec<&str>> = left.iter().map(|p| components(p)).collect();
    let rc: Vec<Vec<&str>> = right.iter().map(|p| components(p)).collect();
    let mut candidates = Vec::new();
    for (i, l) in lc.iter().enumerate() {
        for (j, r) in rc.iter().enumerate() {
            let n = common_ending(l, r);
            if n > 0 {
                candidates.push((n, same(i, j), i, j));
            }
        }
    }
    candidates.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    let mut pairs = vec![None; left.len()];
    let mut taken = vec![false; right.len()];
    for (_, _, i, j) in candidates {
        if pairs[i].is_none() && !taken[j] {
            pairs[i] = Some(j);
            taken[j] = true;
        }
    }
    pairs
}

/// Inputs paired by path (`pair_paths`, equal SHA-256 breaking ties), then what is left by
/// equal SHA-256 alone (a file renamed: said as a difference by `compare_inputs`).
fn pair_inputs(case: &[FileSummary], fresh: &[FileSummary]) -> Vec<Option<usize>> {
    let left: Vec<&str> = case.iter().map(|f| f.path.as_str()).collect();
    let right: Vec<&str> = fresh.iter().map(|f| f.path.as_str()).collect();
    let mut pairs = pair_paths(&left, &right, |i, j| case[i].sha256 == fresh[j].sha256);
    let mut taken: Vec<bool> = vec![false; fresh.len()];
    for j in pairs.iter().flatten() {
        taken[*j] = true;
    }
    for (i, pair) in pairs.iter_mut().enumerate() {
        if pair.is_none() {
            if let Some(j) =
                (0..fresh.len()).find(|&j| !taken[j] && fresh[j].sha256 == case[i].sha256)
            {
                *pair = Some(j);
                taken[j] = true;
            }
        }
    }
    pairs
}

/// Rows of a frame per `source_file`.
fn records_per_path(frame: &Frame) -> PolarsResult<HashMap<&str, u64>> {
    let mut n = HashMap::new();
    for f in str_col(&frame.records, col::SOURCE_FILE)? {
        *n.entry(f.unwrap_or("")).or_default() += 1;
    }
    Ok(n)
}

fn compare_inputs(a: &FileSummary, a_records: u64, b: &FileSummary, found: &mut Found) {
    let name = &a.path;
    if components(&a.path).last() != components(&b.path).last() {
        found.push(|| {
            format!(
                "input {name}: is {} in the evidence (the same SHA-256 under another name)",
                b.path
            )
        });
    }
    let mut field = |what: &str, x: String, y: String| {
        if x != y {
            found.push(|| format!("input {name}: {what} differs: case {x}, evidence {y}"));
        }
    };
    field("SHA-256", a.sha256.clone(), b.sha256.clone());
    field("format", a.format.as_str().into(), b.format.as_str().into());
    field("encoding", a.encoding.into(), b.encoding.into());
    field("size in bytes", a.bytes.to_string(), b.bytes.to_string());
    field("rows", a.rows.to_string(), b.rows.to_string());
    field("records", a_records.to_string(), b.records.to_string());
    field(
        "duplicates",
        a.duplicates.to_string(),
        b.duplicates.to_string(),
    );
    field(
        "rejected rows",
        a.rejected.to_string(),
        b.rejected.to_string(),
    );
    field(
        "rows of other applications",
        a.not_mailbox_audit.to_string(),
        b.not_mailbox_audit.to_string(),
    );
    field(
        "inventory rows",
        a.inventory_rows.to_string(),
        b.inventory_rows.to_string(),
    );
    field(
        "first time",
        show_opt(&a.first_time),
        show_opt(&b.first_time),
    );
    field("last time", show_opt(&a.last_time), show_opt(&b.last_time));
    if a.rejects != b.rejects {
        let at = a
            .rejects
            .iter()
            .zip(&b.rejects)
            .position(|(x, y)| x != y)
            .unwrap_or(a.rejects.len().min(b.rejects.len()));
        let show = |r: Option<&crate::parse::Reject>| match r {
            Some(r) => format!("line {}: {}", r.line, quoted(&r.reason)),
            None => "none".into(),
        };
        found.push(|| {
            format!(
                "input {name}: rejected row {} differs: case {}, evidence {}",
                at + 1,
                show(a.rejects.get(at)),
                show(b.rejects.get(at))
            )
        });
    }
    let notes = |f: &FileSummary| -> Vec<(String, String)> {
        f.notes
            .iter()
            .map(|n| (n.code.to_string(), n.message.clone()))
            .collect()
    };
    let (x, y) = (notes(a), notes(b));
    if x != y {
        let codes = |n: &[(String, String)]| {
            let c: Vec<&str> = n.iter().map(|(c, _)| c.as_str()).collect();
            format!("[{}]", c.join(", "))
        };
        found.push(|| {
            format!(
                "input {name}: notes differ: case {}, evidence {}",
                codes(&x),
                codes(&y)
            )
        });
    }
}

fn show_opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "none".into())
}

/// A value from the evidence, short and on one line.
fn quoted(s: &str) -> String {
    let mut q: String = s.chars().take(60).collect();
    if s.chars().nth(60).is_some() {
        q.push('…');
    }
    format!("'{}'", q.escape_debug())
}

fn compare_skipped(case: &[SkippedOut], fresh: &[SkippedOut], found: &mut Found) {
    let left: Vec<&str> = case.iter().map(|s| s.path.as_str()).collect();
    let right: Vec<&str> = fresh.iter().map(|s| s.path.as_str()).collect();
    let pairs = pair_paths(&left, &right, |i, j| case[i].reason == fresh[j].reason);
    for (i, pair) in pairs.iter().enumerate() {
        let a = &case[i];
        match pair {
            None => found.push(|| {
                format!(
                    "skipped {}: in the case only ({})",
                    a.path,
                    quoted(&a.reason)
                )
            }),
            Some(j) => {
                let b = &fresh[*j];
                if a.reason != b.reason || a.error != b.error {
                    found.push(|| {
                        format!(
                            "skipped {}: why differs: case {}, evidence {}",
                            a.path,
                            quoted(&a.reason),
                            quoted(&b.reason)
                        )
                    });
                }
            }
        }
    }
    for (j, b) in fresh.iter().enumerate() {
        if !pairs.contains(&Some(j)) {
            found.push(|| {
                format!(
                    "skipped {}: in the evidence only ({})",
                    b.path,
                    quoted(&b.reason)
                )
            });
        }
    }
}

/// A cell for a difference line.
fn cell(v: &AnyValue) -> String {
    match v {
        AnyValue::Null => "none".into(),
        AnyValue::String(s) => quoted(s),
        AnyValue::StringOwned(s) => quoted(s),
        AnyValue::Datetime(t, ..) | AnyValue::DatetimeOwned(t, ..) => crate::time::rfc3339(*t),
        other => other.to_string(),
    }
}

/// Both frames are sorted by time, then record id: walked side by side, a record is in one
/// only, or in both and compared column by column, items included. `rename` gives the case's
/// path of an evidence file (`source_file`).
fn compare_records(
    case: &Frame,
    fresh: &Frame,
    rename: &HashMap<&str, &str>,
    found: &mut Found,
) -> PolarsResult<()> {
    let (ct, ft) = (time_col(&case.records)?, time_col(&fresh.records)?);
    let (cid, fid) = (
        str_col(&case.records, col::RECORD_ID)?,
        str_col(&fresh.records, col::RECORD_ID)?,
    );
    let (cfile, ffile) = (
        str_col(&case.records, col::SOURCE_FILE)?,
        str_col(&fresh.records, col::SOURCE_FILE)?,
    );
    let lines = |df: &DataFrame| -> PolarsResult<Vec<Option<u64>>> {
        Ok(df.column(col::SOURCE_LINE)?.u64()?.iter().collect())
    };
    let (cline, fline) = (lines(&case.records)?, lines(&fresh.records)?);
    let item_rows = |f: &Frame| -> PolarsResult<ItemsOf> {
        let rows: Vec<u32> = f
            .items
            .column(col::RECORD_ROW)?
            .u32()?
            .iter()
            .map(|r| r.unwrap_or(0))
            .collect();
        ItemsOf::new(&rows, f.records.height())
            .ok_or_else(|| polars_err!(ComputeError: "items not grouped by record"))
    };
    let (citems, fitems) = (item_rows(case)?, item_rows(fresh)?);
    let names: Vec<PlSmallStr> = case.records.get_column_names_owned();
    // Cases written before forwarding changes were read hold the column as nulls only.
    let case_has_forwarding = case
        .records
        .column(col::FORWARDING)
        .is_ok_and(|c| c.null_count() < c.len());
    let case_has_exposure = case
        .records
        .column(col::EXPOSURE)
        .is_ok_and(|c| c.null_count() < c.len());
    let columns = |df: &DataFrame, names: &[PlSmallStr]| -> PolarsResult<Vec<Column>> {
        names
            .iter()
            .map(|n| df.column(n).map(|c| c.rechunk()))
            .collect()
    };
    let (crec, frec) = (
        columns(&case.records, &names)?,
        columns(&fresh.records, &names)?,
    );
    let item_names: Vec<PlSmallStr> = case
        .items
        .get_column_names_owned()
        .into_iter()
        .filter(|n| n.as_str() != col::RECORD_ROW)
        .collect();
    let (cit, fit) = (
        columns(&case.items, &item_names)?,
        columns(&fresh.items, &item_names)?,
    );
    let record = |id: Option<&str>, t: i64| {
        format!(
            "record {} at {}",
            quoted(id.unwrap_or("")),
            crate::time::rfc3339(t)
        )
    };
    let (n, m) = (ct.len(), ft.len());
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        let order = if i == n {
            std::cmp::Ordering::Greater
        } else if j == m {
            std::cmp::Ordering::Less
        } else {
            (ct[i], cid[i]).cmp(&(ft[j], fid[j]))
        };
        match order {
            std::cmp::Ordering::Less => {
                found.push(|| {
                    format!(
                        "{}: in the case only ({}:{})",
                        record(cid[i], ct[i]),
                        cfile[i].unwrap_or(""),
                        cline[i].unwrap_or(0)
                    )
                });
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                found.push(|| {
                    format!(
                        "{}: in the evidence only ({}:{})",
                        record(fid[j], ft[j]),
                        ffile[j].unwrap_or(""),
                        fline[j].unwrap_or(0)
                    )
                });
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let mut differ: Vec<(&str, String, String)> = Vec::new();
                for (k, name) in names.iter().enumerate() {
                    let (a, b) = (crec[k].get(i)?, frec[k].get(j)?);
                    let same = if name.as_str() == col::SOURCE_FILE {
                        let b = ffile[j].map(|f| rename.get(f).copied().unwrap_or(f));
                        cfile[i] == b
                    } else if name.as_str() == col::COPIES {
                        same_copies(&a, &b, rename)
                    } else if name.as_str() == col::FORWARDING
                        && a.is_null()
                        && !case_has_forwarding
                    {
                        // A case written before the column cannot hold it (read as null).
                        true
                    } else if name.as_str() == col::EXPOSURE && a.is_null() && !case_has_exposure {
                        true
                    } else {
                        a == b
                    };
                    if !same {
                        differ.push((name.as_str(), cell(&a), cell(&b)));
                    }
                }
                let (ci, fi) = (citems.of(i), fitems.of(j));
                if ci.len() != fi.len() {
                    differ.push((
                        "items",
                        format!("{} items", ci.len()),
                        format!("{} items", fi.len()),
                    ));
                } else {
                    'items: for (x, y) in ci.zip(fi) {
                        for (k, name) in item_names.iter().enumerate() {
                            let (a, b) = (cit[k].get(x)?, fit[k].get(y)?);
                            if a != b {
                                differ.push((name.as_str(), cell(&a), cell(&b)));
                                break 'items;
                            }
                        }
                    }
                }
                if let Some((first, a, b)) = differ.first() {
                    let all: Vec<&str> = differ.iter().map(|d| d.0).collect();
                    found.push(|| {
                        format!(
                            "{}: {} differ{} — {first}: case {a}, evidence {b}",
                            record(cid[i], ct[i]),
                            all.join(", "),
                            if all.len() == 1 { "s" } else { "" }
                        )
                    });
                }
                i += 1;
                j += 1;
            }
        }
    }
    Ok(())
}

/// Messages are sorted by id in both.
fn compare_messages(
    case: &[messages::Message],
    fresh: &[messages::Message],
    rename: &HashMap<&str, &str>,
    found: &mut Found,
) {
    let (mut i, mut j) = (0, 0);
    while i < case.len() || j < fresh.len() {
        let order = if i == case.len() {
            std::cmp::Ordering::Greater
        } else if j == fresh.len() {
            std::cmp::Ordering::Less
        } else {
            case[i]
                .internet_message_id
                .cmp(&fresh[j].internet_message_id)
        };
        match order {
            std::cmp::Ordering::Less => {
                let id = &case[i].internet_message_id;
                found.push(|| format!("message {}: in the case only", quoted(id)));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                let id = &fresh[j].internet_message_id;
                found.push(|| format!("message {}: in the evidence only", quoted(id)));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (a, mut b) = (&case[i], fresh[j].clone());
                if let Some(p) = rename.get(b.source_file.as_str()) {
                    b.source_file = p.to_string();
                }
                let fields = [
                    (
                        "subject",
                        format!("{:?}", a.subject),
                        format!("{:?}", b.subject),
                    ),
                    (
                        "sender",
                        format!("{:?}", a.sender),
                        format!("{:?}", b.sender),
                    ),
                    (
                        "recipients",
                        format!("{:?}", a.recipients),
                        format!("{:?}", b.recipients),
                    ),
                    (
                        "received",
                        format!("{:?}", a.received),
                        format!("{:?}", b.received),
                    ),
                    ("size", format!("{:?}", a.size), format!("{:?}", b.size)),
                    (
                        "direction",
                        format!("{:?}", a.direction),
                        format!("{:?}", b.direction),
                    ),
                    (
                        "mailboxes",
                        format!("{:?}", a.mailboxes),
                        format!("{:?}", b.mailboxes),
                    ),
                    (
                        "folders",
                        format!("{:?}", a.folders),
                        format!("{:?}", b.folders),
                    ),
                    (
                        "item_ids",
                        format!("{:?}", a.item_ids),
                        format!("{:?}", b.item_ids),
                    ),
                    (
                        "source_file",
                        format!("{:?}", a.source_file),
                        format!("{:?}", b.source_file),
                    ),
                    (
                        "source_line",
                        a.source_line.to_string(),
                        b.source_line.to_string(),
                    ),
                    ("sources", a.sources.to_string(), b.sources.to_string()),
                ];
                let differ: Vec<&(&str, String, String)> =
                    fields.iter().filter(|(_, x, y)| x != y).collect();
                if let Some((first, x, y)) = differ.first() {
                    let all: Vec<&str> = differ.iter().map(|d| d.0).collect();
                    found.push(|| {
                        format!(
                            "message {}: {} differ{} — {first}: case {}, evidence {}",
                            quoted(&a.internet_message_id),
                            all.join(", "),
                            if all.len() == 1 { "s" } else { "" },
                            short(x),
                            short(y)
                        )
                    });
                }
                i += 1;
                j += 1;
            }
        }
    }
}

/// A rendered value cut to 80 characters.
fn short(s: &str) -> String {
    let mut q: String = s.chars().take(80).collect();
    if s.chars().nth(80).is_some() {
        q.push('…');
    }
    q
}

/// Two `copies` cells (JSON lists of `path:line`) name the same places, the evidence's paths
/// read as the case's inputs they pair with.
fn same_copies(case: &AnyValue, fresh: &AnyValue, rename: &HashMap<&str, &str>) -> bool {
    let places = |v: &AnyValue| -> Option<Vec<String>> {
        let text = v.get_str()?;
        serde_json::from_str(text).ok()
    };
    let renamed: Option<Vec<String>> = places(fresh).map(|list| {
        let mut list: Vec<String> = list
            .into_iter()
            .map(|place| match place.rsplit_once(':') {
                Some((path, line)) => match rename.get(path) {
                    Some(to) => format!("{to}:{line}"),
                    None => place,
                },
                None => place,
            })
            .collect();
        list.sort();
        list
    });
    let mut in_case = places(case);
    if let Some(list) = in_case.as_mut() {
        list.sort();
    }
    in_case == renamed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_pair_by_their_longest_common_ending_then_by_content() {
        let case = [
            "samples/purview.csv",
            "C:\\cases\\2024\\a.csv",
            "/old/ev/2025/a.csv",
            "gone.csv",
        ];
        let here = [
            "/mnt/copy/ev/2025/a.csv",
            "/mnt/copy/ev/2024/a.csv",
            "./purview.csv",
            "new.csv",
        ];
        let pairs = pair_paths(&case, &here, |_, _| false);
        assert_eq!(pairs, vec![Some(2), Some(1), Some(0), None]);
        // Equal endings: content decides.
        let pairs = pair_paths(&["a/x.csv", "b/x.csv"], &["x.csv", "y/x.csv"], |i, j| {
            (i, j) == (0, 1) || (i, j) == (1, 0)
        });
        assert_eq!(pairs, vec![Some(1), Some(0)]);
    }
}
