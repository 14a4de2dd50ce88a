//! Copies of one record: which rows of the stacked frame are one record, and what the merged
//! record holds. Analysts hold the same records from several sources (the Purview download, a
//! Sentinel or Defender copy, a collector's JSON, an earlier case); a SIEM drops fields, a
//! PowerShell export destroys nested ones. Copies are merged field by field: each field comes
//! from a copy that has it, so the merged record is never poorer than any copy, and which file
//! was read first decides nothing.
//!
//! Two rows with one record id are copies of one record when every field both of them hold
//! agrees. A field a copy does not hold is null, empty, or lost in the export
//! (`model::flag::ACCESS_TYPE_LOST`, `FOLDER_LOST`): it neither conflicts nor wins. Rows with
//! one id that truly conflict stay separate records (an id collision, said in a warning).
//!
//! Order independence: the copies of an id are taken in a canonical order — the richer copy
//! first (a shape that drops no field, then fewer fields missing), then by source path, line
//! and content — never in the order the files were given or read.

use crate::frame::{ItemsOf, ItemsView, RecordsView, Strs, col};
use crate::model::{Format, flag};
use rayon::prelude::*;
use std::collections::HashMap;

/// The fields two copies must agree on where both hold them, with the frame columns each one
/// carries (a field's columns always come from one copy together: an IP with its port).
const FIELDS: &[(Field, &[&str])] = &[
    (Field::Time, &[col::TIME]),
    (Field::Operation, &[col::OPERATION]),
    (Field::Mailbox, &[col::MAILBOX]),
    (Field::Actor, &[col::ACTOR]),
    (Field::ActorSid, &[col::ACTOR_SID]),
    (Field::LogonType, &[col::LOGON_TYPE]),
    (
        Field::ClientIp,
        &[col::CLIENT_IP, col::CLIENT_PORT, col::CLIENT_HOST],
    ),
    (Field::ClientInfo, &[col::CLIENT_INFO]),
    (Field::SessionId, &[col::SESSION_ID]),
    (Field::AadSessionId, &[col::AAD_SESSION_ID]),
    (Field::TokenId, &[col::TOKEN_ID]),
    (Field::AppId, &[col::APP_ID]),
    (Field::ClientAppId, &[col::CLIENT_APP_ID]),
    (Field::Access, &[col::MAIL_ACCESS_TYPE, col::IS_THROTTLED]),
    (Field::OperationCount, &[col::OPERATION_COUNT]),
    (Field::FolderPath, &[col::FOLDER_PATH]),
    // The forwarding change is read from the same parameters as the detail.
    (Field::Detail, &[col::DETAIL, col::FORWARDING]),
    // Not so the exposure: an eDiscovery record's locations and query, a consent's
    // permissions are in no detail, and copies that differ there are two records.
    (Field::Exposure, &[col::EXPOSURE]),
];

/// Columns only a full frame (`export`) holds: filled from the first copy that has them, never
/// a reason to keep copies apart (the scope engine's frame does not build them, and both frames
/// must find the same records).
pub const FILL_ONLY: &[&str] = &[
    col::MAILBOX_GUID,
    col::WORKLOAD,
    col::RECORD_TYPE,
    col::RESULT_STATUS,
    col::FORWARD_TO,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Time,
    Operation,
    Mailbox,
    Actor,
    ActorSid,
    LogonType,
    ClientIp,
    ClientInfo,
    SessionId,
    AadSessionId,
    TokenId,
    AppId,
    ClientAppId,
    Access,
    OperationCount,
    FolderPath,
    Detail,
    Exposure,
}

/// One field's value in one copy, `None` where the copy does not hold it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Value<'v> {
    Text(&'v str),
    /// MailAccessType with IsThrottled.
    Access(&'v str, bool),
    Count(i64),
}

/// An item as copies are compared: folder, message id, item id.
type ItemKey<'v> = (Option<&'v str>, Option<&'v str>, Option<&'v str>);

/// What one copy holds.
struct Copy<'v> {
    row: u32,
    values: Vec<Option<Value<'v>>>,
    /// Its items, sorted; `None` when the export lost them.
    items: Option<Vec<ItemKey<'v>>>,
}

fn text(s: &Strs, row: usize) -> Option<Value<'_>> {
    s.at(row).filter(|t| !t.is_empty()).map(Value::Text)
}

impl<'v> Copy<'v> {
    fn read(v: &'v RecordsView, items: &'v ItemsView, items_of: &ItemsOf, row: usize) -> Copy<'v> {
        let values: Vec<Option<Value>> = FIELDS
            .iter()
            .map(|(field, _)| match field {
                Field::Time => Some(Value::Count(v.time[row])),
                Field::Operation => text(&v.operation, row),
                Field::Mailbox => text(&v.mailbox, row),
                Field::Actor => text(&v.actor, row),
                Field::ActorSid => text(&v.actor_sid, row),
                Field::LogonType => text(&v.logon_type, row),
                Field::ClientIp => text(&v.client_ip, row),
                Field::ClientInfo => text(&v.client_info, row),
                Field::SessionId => text(&v.session_id, row),
                Field::AadSessionId => text(&v.aad_session_id, row),
                Field::TokenId => text(&v.token_id, row),
                Field::AppId => text(&v.app_id, row),
                Field::ClientAppId => text(&v.client_app_id, row),
                Field::Access => v
                    .mail_access_type
                    .at(row)
                    .filter(|a| !a.is_empty() && *a != flag::ACCESS_TYPE_LOST)
                    .map(|a| Value::Access(a, v.is_throttled[row])),
                Field::OperationCount => v.operation_count[row].map(Value::Count),
                Field::FolderPath => text(&v.folder_path, row),
                Field::Detail => text(&v.detail, row),
                Field::Exposure => text(&v.exposure, row),
            })
            .collect();
        let range = items_of.of(row);
        let lost_folders = !range.is_empty()
            && range
                .clone()
                .all(|k| items.folder_path.at(k) == Some(flag::FOLDER_LOST));
        // A record whose access type was lost has unknown items too, listed or not.
        let lost_access = v.mail_access_type.at(row) == Some(flag::ACCESS_TYPE_LOST);
        let items_lost = lost_folders || (lost_access && range.is_empty());
        let items = (!items_lost).then(|| {
            let mut keys: Vec<ItemKey> = range
                .map(|k| {
                    (
                        items.folder_path.at(k),
                        items.internet_message_id.at(k),
                        items.item_id.at(k),
                    )
                })
                .collect();
            keys.sort_unstable();
            keys
        });
        let mut values = values;
        if lost_access && items.is_none() {
            // Neither the access nor the items were exported (a Graph record without its
            // auditData): its mailbox is the parser's widest guess, not the record's word.
            let mailbox = FIELDS.iter().position(|(f, _)| *f == Field::Mailbox);
            values[mailbox.expect("mailbox is a field")] = None;
        }
        Copy {
            row: row as u32,
            values,
            items,
        }
    }

    /// How much the copy lacks: fields it does not hold, and lost items.
    fn missing(&self) -> usize {
        self.values.iter().filter(|v| v.is_none()).count() + usize::from(self.items.is_none())
    }
}

/// Whether items `a` name folders only (no message or item id), each one a folder of `b`: what
/// a copy whose FolderItems were destroyed (`System.Object[]` past ConvertTo-Json's depth) still
/// holds of a Bind, which the full copy's items do not contradict.
fn only_folders_of(a: &[ItemKey], b: &[ItemKey]) -> bool {
    !a.is_empty()
        && a.iter()
            .all(|(_, message, item)| message.is_none() && item.is_none())
        && a.iter()
            .all(|(folder, _, _)| b.iter().any(|(f, _, _)| f == folder))
}

/// One record made of one or more copies.
struct Cluster<'v> {
    /// Rows in canonical order; the first is the base.
    rows: Vec<u32>,
    values: Vec<Option<Value<'v>>>,
    /// For each field, the row its value came from (the base where it holds it).
    sources: Vec<u32>,
    items: Option<Vec<ItemKey<'v>>>,
    items_source: u32,
}

impl<'v> Cluster<'v> {
    fn new(c: Copy<'v>) -> Cluster<'v> {
        Cluster {
            rows: vec![c.row],
            sources: vec![c.row; c.values.len()],
            values: c.values,
            items: c.items,
            items_source: c.row,
        }
    }

    fn agrees(&self, c: &Copy) -> bool {
        let fields = self.values.iter().zip(&c.values);
        fields.into_iter().all(|(a, b)| match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }) && match (&self.items, &c.items) {
            (Some(a), Some(b)) => a == b || only_folders_of(a, b) || only_folders_of(b, a),
            _ => true,
        }
    }

    fn absorb(&mut self, c: Copy<'v>) {
        for (i, value) in c.values.into_iter().enumerate() {
            if self.values[i].is_none() && value.is_some() {
                self.values[i] = value;
                self.sources[i] = c.row;
            }
        }
        let names_more = match (&self.items, &c.items) {
            (None, Some(_)) => true,
            (Some(a), Some(b)) => a != b && only_folders_of(a, b),
            _ => false,
        };
        if names_more {
            self.items = c.items;
            self.items_source = c.row;
        }
        self.rows.push(c.row);
    }
}

/// The records the rows of a stacked frame are.
pub struct Records {
    /// The base row of each record (all rows when every id is unique), in row order.
    pub kept: Vec<u32>,
    /// Records made of more than one copy, by base row.
    pub merged: HashMap<u32, MergedCopies>,
    /// Ids carried by records that conflict: the base rows of each id's records.
    pub collisions: Vec<Vec<u32>>,
}

/// What a record made of several copies takes from copies other than its base.
pub struct MergedCopies {
    /// Every row that is a copy of the record, the base first.
    pub rows: Vec<u32>,
    /// (frame column, row it is taken from) where that is not the base.
    pub columns: Vec<(&'static str, u32)>,
    /// The row whose items the record has.
    pub items_from: u32,
}

/// The frame as `records` reads it.
pub struct Rows<'a> {
    pub v: &'a RecordsView,
    pub items: &'a ItemsView,
    pub items_of: &'a ItemsOf,
    /// The `record_id` column.
    pub ids: &'a [&'a str],
    /// Each row's source path and line: the tie-break after richness.
    pub place: &'a (dyn Fn(usize) -> (&'a str, u64) + Sync),
    /// Whether the frame has column `name`.
    pub has_column: &'a dyn Fn(&str) -> bool,
    /// Whether column `name` (of `FILL_ONLY`) is null in `row`; `None` when the frame lacks it.
    pub is_null: &'a dyn Fn(&str, usize) -> Option<bool>,
}

/// Which rows are one record, and what each merged record takes from which copy.
pub fn records(rows: &Rows) -> Records {
    let Rows {
        v,
        items,
        items_of,
        ids,
        place,
        has_column,
        is_null,
    } = *rows;
    // Counted first: every id unique (the usual case) costs one pass and no list per id.
    let mut seen: HashMap<&str, u32, foldhash::fast::FixedState> =
        HashMap::with_capacity_and_hasher(ids.len(), Default::default());
    for id in ids {
        *seen.entry(id).or_insert(0) += 1;
    }
    if seen.len() == ids.len() {
        return Records {
            kept: (0..ids.len() as u32).collect(),
            merged: HashMap::new(),
            collisions: Vec::new(),
        };
    }
    let mut kept: Vec<u32> = Vec::with_capacity(seen.len());
    let mut rows_of: HashMap<&str, Vec<u32>, foldhash::fast::FixedState> = HashMap::default();
    for (row, id) in ids.iter().enumerate() {
        if seen[id] == 1 {
            kept.push(row as u32);
        } else {
            rows_of.entry(id).or_default().push(row as u32);
        }
    }
    let repeated: Vec<&Vec<u32>> = rows_of.values().collect();
    let clustered: Vec<Vec<Cluster>> = repeated
        .par_iter()
        .map(|rows| {
            let mut copies: Vec<Copy> = rows
                .iter()
                .map(|&r| Copy::read(v, items, items_of, r as usize))
                .collect();
            let rank = |c: &Copy| {
                let row = c.row as usize;
                let format = v.format.at(row).and_then(Format::from_name);
                let lossy = format.is_some_and(|f| !f.dropped_fields().is_empty());
                // Between equally rich copies, a fixed order of shapes (Microsoft's own
                // exports first), so that names decide only between copies of one shape.
                let shape = format.and_then(|f| Format::ALL.iter().position(|a| *a == f));
                let (path, line) = place(row);
                (lossy, c.missing(), shape, path, line)
            };
            copies.sort_by(|a, b| {
                rank(a).cmp(&rank(b)).then_with(|| {
                    // One path and line twice (the same input in two cases): by content.
                    let content = |c: &Copy| format!("{:?}", (&c.values, &c.items));
                    content(a).cmp(&content(b))
                })
            });
            let mut clusters: Vec<Cluster> = Vec::new();
            for c in copies {
                match clusters.iter_mut().find(|k| k.agrees(&c)) {
                    Some(k) => k.absorb(c),
                    None => clusters.push(Cluster::new(c)),
                }
            }
            clusters
        })
        .collect();
    let mut merged = HashMap::new();
    let mut collisions = Vec::new();
    for clusters in clustered {
        if clusters.len() > 1 {
            let mut bases: Vec<u32> = clusters.iter().map(|k| k.rows[0]).collect();
            bases.sort_unstable();
            collisions.push(bases);
        }
        for k in clusters {
            let base = k.rows[0];
            kept.push(base);
            if k.rows.len() == 1 {
                continue;
            }
            let mut columns = Vec::new();
            for ((_, names), &source) in FIELDS.iter().zip(&k.sources) {
                if source != base {
                    columns.extend(names.iter().filter(|n| has_column(n)).map(|n| (*n, source)));
                }
            }
            for name in FILL_ONLY {
                if is_null(name, base as usize) == Some(true) {
                    let from = k.rows[1..]
                        .iter()
                        .find(|&&r| is_null(name, r as usize) == Some(false));
                    columns.extend(from.map(|&r| (*name, r)));
                }
            }
            merged.insert(
                base,
                MergedCopies {
                    rows: k.rows,
                    columns,
                    items_from: k.items_source,
                },
            );
        }
    }
    kept.sort_unstable();
    collisions.sort_unstable();
    Records {
        kept,
        merged,
        collisions,
    }
}
