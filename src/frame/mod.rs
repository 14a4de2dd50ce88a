//! The normalized columnar frame (polars): one `records` row per audit record and one `items`
//! row per item a record names. Column names are defined here, in one place, and documented.
//!
//! `records` columns:
//! | column | type | meaning |
//! |---|---|---|
//! | time | datetime[µs, UTC] | when the record was generated |
//! | time_source | str | which field/rule gave `time` |
//! | record_id | str | `AuditData.Id` / `RecordId` / `Identity`; XML: hash of the event |
//! | source_file | str | input path |
//! | source_line | u64 | 1-based line of the record in `source_file` |
//! | format | str | detected export format |
//! | workload, operation, record_type, result_status | str | as exported |
//! | mailbox | str | lowercased mailbox accessed (UPN, else GUID/owner; see rules) |
//! | mailbox_guid | str | |
//! | actor, actor_sid | str | who did it (`UserId`, `LogonUserDN`, …) |
//! | logon_type | str | Owner / Admin / Delegate / … |
//! | client_ip | str | normalized IP (port removed) |
//! | client_port | u32 | the port that was attached to the IP, if any |
//! | client_host | str | a name where an address was expected (`localhost`, a server); never an IP |
//! | client_info | str | `ClientInfoString` |
//! | session_id, aad_session_id, token_id | str | `SessionId`, `AppAccessContext.AADSessionId` / `UniqueTokenId` |
//! | app_id, client_app_id | str | |
//! | mail_access_type | str | `Bind` / `Sync` (MailItemsAccessed) |
//! | is_throttled | bool | `IsThrottled` = True |
//! | operation_count | i64 | `OperationCount` |
//! | folder_path | str | record-level folder (legacy `FolderPathName`, `Folder.Path`) |
//! | detail | str | cmdlet parameters and other detail, summarized |
//! | forward_to | str | where the record sends mail: recipients an inbox rule forwards or redirects to (`RuleActions` of `UpdateInboxRules`, `ForwardTo` / `RedirectTo` / `ForwardAsAttachmentTo` of `New-`/`Set-InboxRule`), a mailbox's `ForwardingSmtpAddress` / `ForwardingAddress`; lowercased, sorted, joined by `; `; null when none (and in cases written before the column) |
//! | forwarding | str | what the record changes about where mail goes (`parse::forwarding`): an inbox rule, a mailbox's forwarding or a transport rule set, enabled, disabled or removed, with its destinations and conditions; JSON; null when none (and in cases written before the column, which the scope says) |
//! | exposure | str | what the record does that exposes mail beyond the mailbox it names (`parse::exposure`): a content search's step (created, changed, started, exported, downloaded, previewed, purged …, with its locations and query), a grant that opens mailboxes to an account or app or its removal, or the text of a search (`SearchQueryInitiated…`); JSON; null when none (and in cases written before the column, which the scope says) |
//! | copies | str | for a record merged from several copies (files, SIEMs, cases): every copy's place, a JSON array of `path:line`, sorted; null for a record read once |
//!
//! `items` columns: record_row (u32 row in `records`), record_id, folder_path, folder_id,
//! internet_message_id (normalized), internet_message_id_raw, subject, item_id, size (i64).
//!
//! A frame built for the scope engine (`Columns::Views`) leaves out the string columns it does
//! not read, and holds those with few distinct values in a run (operation, mailbox, actor,
//! client, folder, subject…) as categoricals of polars' global mapping.

mod build;
pub mod messages;
mod rows;

pub use build::FrameBuilder;

/// Columns of `records` that cases written before them lack (read as null).
pub fn late_columns() -> impl Iterator<Item = &'static str> {
    build::RECORDS.iter().filter(|d| d.late).map(|d| d.name)
}

/// The columns of `items` that are the item's own (a case keeps them as a list per record;
/// `record_row` and `record_id` follow from the record).
pub fn item_own_columns() -> impl Iterator<Item = &'static str> {
    build::ITEM_STRS
        .iter()
        .filter(|d| d.text.is_some())
        .map(|d| d.name)
        .chain([col::SIZE])
}

/// See `build::conform`.
pub fn conform(df: DataFrame, columns: Columns, items: bool) -> PolarsResult<DataFrame> {
    build::conform(df, columns, items)
}

use crate::model::{Micros, Record};
use polars::prelude::*;
use polars_arrow::array::{Array, PrimitiveArray, Utf8ViewArray};
use polars_arrow::datatypes::ArrowDataType;
use std::sync::Arc;

pub mod col {
    pub const TIME: &str = "time";
    pub const TIME_SOURCE: &str = "time_source";
    pub const RECORD_ID: &str = "record_id";
    pub const SOURCE_FILE: &str = "source_file";
    pub const SOURCE_LINE: &str = "source_line";
    pub const FORMAT: &str = "format";
    pub const WORKLOAD: &str = "workload";
    pub const OPERATION: &str = "operation";
    pub const RECORD_TYPE: &str = "record_type";
    pub const MAILBOX: &str = "mailbox";
    pub const MAILBOX_GUID: &str = "mailbox_guid";
    pub const ACTOR: &str = "actor";
    pub const ACTOR_SID: &str = "actor_sid";
    pub const LOGON_TYPE: &str = "logon_type";
    pub const CLIENT_IP: &str = "client_ip";
    pub const CLIENT_PORT: &str = "client_port";
    pub const CLIENT_HOST: &str = "client_host";
    pub const CLIENT_INFO: &str = "client_info";
    pub const SESSION_ID: &str = "session_id";
    pub const AAD_SESSION_ID: &str = "aad_session_id";
    pub const TOKEN_ID: &str = "token_id";
    pub const APP_ID: &str = "app_id";
    pub const CLIENT_APP_ID: &str = "client_app_id";
    pub const MAIL_ACCESS_TYPE: &str = "mail_access_type";
    pub const IS_THROTTLED: &str = "is_throttled";
    pub const OPERATION_COUNT: &str = "operation_count";
    pub const RESULT_STATUS: &str = "result_status";
    pub const FOLDER_PATH: &str = "folder_path";
    pub const DETAIL: &str = "detail";
    pub const FORWARD_TO: &str = "forward_to";
    pub const FORWARDING: &str = "forwarding";
    pub const EXPOSURE: &str = "exposure";
    pub const COPIES: &str = "copies";
    // items
    pub const RECORD_ROW: &str = "record_row";
    pub const FOLDER_ID: &str = "folder_id";
    pub const INTERNET_MESSAGE_ID: &str = "internet_message_id";
    pub const INTERNET_MESSAGE_ID_RAW: &str = "internet_message_id_raw";
    pub const SUBJECT: &str = "subject";
    pub const ITEM_ID: &str = "item_id";
    pub const SIZE: &str = "size";
}

/// Which columns a frame is built with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Columns {
    /// Every column, as text (`export`).
    #[default]
    All,
    /// The typed columns and the string columns that `records_view` and `items_view` read, all
    /// that `scope`, `contexts`, `timeline` and `inspect` need: the others, never built, hold
    /// over a third of a full frame (the raw message id and folder id of every item above all).
    /// Columns with few distinct values are categorical: a 4-byte code a cell, each value once
    /// a run.
    Views,
}

impl Columns {
    /// Whether string column `name` of `records` (or of `items`) is built.
    pub fn keeps(self, name: &str, items: bool) -> bool {
        match self {
            Columns::All => true,
            // `record_row` links an item to its record without `record_id`.
            Columns::Views if items => build::ITEM_STRS
                .iter()
                .find(|d| d.name == name)
                .is_none_or(|d| d.viewed),
            Columns::Views => build::RECORDS
                .iter()
                .find(|d| d.name == name)
                .is_none_or(|d| d.viewed),
        }
    }
}

/// The tables of a run: audit records, the items they name, and the messages of the message
/// inventories given (`messages`).
#[derive(Clone)]
pub struct Frame {
    pub records: DataFrame,
    pub items: DataFrame,
    pub messages: DataFrame,
}

impl Frame {
    /// A frame with no rows (and every column).
    pub fn empty() -> Frame {
        FrameBuilder::new(&[], 0, 0, Columns::All)
            .finish()
            .expect("an empty frame has consistent columns")
    }

    /// Build the frame from records (`files[record.file]` names each record's source), in
    /// blocks built in parallel.
    pub fn from_records(records: &[Record], files: &[String]) -> PolarsResult<Frame> {
        let order: Vec<u32> = (0..records.len() as u32).collect();
        let records: Vec<&Record> = records.iter().collect();
        Frame::from_records_in(&records, &order, files, Columns::All)
    }

    /// `from_records` with the rows in `order` (indices into `records`), with `columns`.
    pub fn from_records_in(
        records: &[&Record],
        order: &[u32],
        files: &[String],
        columns: Columns,
    ) -> PolarsResult<Frame> {
        use rayon::prelude::*;
        const BLOCK: usize = 1 << 14;
        let build = |part: &[u32]| {
            let items = part.iter().map(|&i| records[i as usize].items.len()).sum();
            let mut b = FrameBuilder::new(files, part.len(), items, columns);
            part.iter().for_each(|&i| b.push(records[i as usize]));
            b.finish()
        };
        if order.len() <= BLOCK {
            return build(order);
        }
        let blocks: Vec<Frame> = order
            .par_chunks(BLOCK)
            .map(build)
            .collect::<PolarsResult<_>>()?;
        Frame::concat(blocks)
    }

    /// Stack blocks in order; each block's `items.record_row` is shifted to the rows its
    /// records take in the whole.
    pub fn concat(blocks: impl IntoIterator<Item = Frame>) -> PolarsResult<Frame> {
        let mut whole: Option<Frame> = None;
        let mut offset = 0u32;
        for block in blocks {
            let height = block.records.height() as u32;
            let mut items = block.items;
            if offset > 0 {
                let rows = items.column(col::RECORD_ROW)?.u32()? + offset;
                items.replace(col::RECORD_ROW, rows.into_column())?;
            }
            match &mut whole {
                None => {
                    whole = Some(Frame {
                        records: block.records,
                        items,
                        messages: block.messages,
                    })
                }
                Some(w) => {
                    w.records.vstack_mut_owned(block.records)?;
                    w.items.vstack_mut_owned(items)?;
                }
            }
            offset += height;
        }
        // The blocks stay separate chunks of each column: joining them would copy the whole
        // frame while the allocator still holds the blocks, for no gain in what follows.
        Ok(whole.unwrap_or_else(Frame::empty))
    }

    /// (time, record id) of a row, the frame's sort key.
    pub fn key_at(&self, row: usize) -> (Micros, String) {
        let time = self
            .records
            .column(col::TIME)
            .ok()
            .and_then(|c| c.datetime().ok()?.physical().get(row));
        let id = self
            .records
            .column(col::RECORD_ID)
            .ok()
            .and_then(|c| c.str().ok()?.get(row).map(str::to_string));
        (time.unwrap_or(i64::MIN), id.unwrap_or_default())
    }

    /// Set `source_file` on every row (blocks parsed before their path was known).
    pub fn set_source_file(&mut self, path: &str) -> PolarsResult<()> {
        let column = StringChunked::full(col::SOURCE_FILE.into(), path, self.records.height());
        self.records
            .replace(col::SOURCE_FILE, column.into_column())?;
        Ok(())
    }

    /// Rewrite each record's `source_line` (a workbook sheet's CSV lines back to sheet rows).
    pub fn map_source_lines(&mut self, f: impl Fn(u64) -> u64) -> PolarsResult<()> {
        let lines: UInt64Chunked = self
            .records
            .column(col::SOURCE_LINE)?
            .u64()?
            .iter()
            .map(|l| l.map(&f))
            .collect();
        self.records.replace(
            col::SOURCE_LINE,
            lines.with_name(col::SOURCE_LINE.into()).into_column(),
        )?;
        Ok(())
    }

    /// The rows `order` names, in that order, with their items (in their order within each
    /// record) and `items.record_row` renumbered to match.
    pub fn select_rows(self, order: &[u32]) -> PolarsResult<Frame> {
        self.select_merged(order, &[], order)
    }

    /// `select_rows`, where some cells come from other rows: `cells` lists (column, position in
    /// `order`, row it is taken from), and row `order[i]`'s items are those of `items_from[i]`.
    /// Copies of one record merged field by field (`copies`) are taken so.
    pub fn select_merged(
        self,
        order: &[u32],
        cells: &[(&str, usize, u32)],
        items_from: &[u32],
    ) -> PolarsResult<Frame> {
        let old_rows: Vec<u32> = self
            .items
            .column(col::RECORD_ROW)?
            .u32()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect();
        let items_of = ItemsOf::new(&old_rows, self.records.height()).ok_or_else(
            || polars_err!(ComputeError: "the frame's items are not grouped by record"),
        )?;
        let mut item_order = Vec::with_capacity(old_rows.len());
        let mut new_rows = Vec::with_capacity(old_rows.len());
        for (new, &old) in items_from.iter().enumerate() {
            for i in items_of.of(old as usize) {
                item_order.push(i as IdxSize);
                new_rows.push(new as u32);
            }
        }
        let mut by_column: std::collections::BTreeMap<&str, Vec<(usize, u32)>> = Default::default();
        for &(name, at, row) in cells {
            by_column.entry(name).or_default().push((at, row));
        }
        let order_idx = IdxCa::from_vec(PlSmallStr::EMPTY, order.to_vec());
        let columns = self
            .records
            .into_columns()
            .into_iter()
            .map(|c| match by_column.get(c.name().as_str()) {
                None => c.take(&order_idx),
                Some(from) => {
                    let mut idx = order.to_vec();
                    for &(at, row) in from {
                        idx[at] = row;
                    }
                    c.take(&IdxCa::from_vec(PlSmallStr::EMPTY, idx))
                }
            })
            .collect::<PolarsResult<Vec<_>>>()?;
        let records = DataFrame::new(order.len(), columns)?;
        let mut items = take_each(self.items, &IdxCa::from_vec(PlSmallStr::EMPTY, item_order))?;
        items.replace(
            col::RECORD_ROW,
            Column::new(col::RECORD_ROW.into(), new_rows),
        )?;
        Ok(Frame {
            records,
            items,
            messages: self.messages,
        })
    }

    pub fn height(&self) -> usize {
        self.records.height()
    }
}

/// `df.take(idx)` a column at a time, each old column freed as soon as its new one exists: a
/// reordered frame is never held twice.
fn take_each(df: DataFrame, idx: &IdxCa) -> PolarsResult<DataFrame> {
    let columns = df
        .into_columns()
        .into_iter()
        .map(|c| c.take(idx))
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(idx.len(), columns)
}

/// A string column read where it lies in the frame (the Arrow array of a single-chunk column is
/// shared, not copied): row `i`'s value is a view lookup, or a code looked up in its mapping.
pub enum Strs {
    Text(Utf8ViewArray),
    /// A categorical column (`Columns::Views`): its codes and the mapping they index.
    Codes(PrimitiveArray<u32>, Arc<CategoricalMapping>),
}

impl Strs {
    fn of(df: &DataFrame, name: &str) -> PolarsResult<Strs> {
        let column = df.column(name)?;
        // A frame from `ingest` is single-chunk; another is joined here (views or codes copied,
        // text not).
        if let Ok(cats) = column.cat32() {
            let codes = cats.physical().rechunk();
            let codes = match codes.downcast_iter().next() {
                Some(a) => a.clone(),
                None => PrimitiveArray::new_empty(ArrowDataType::UInt32),
            };
            return Ok(Strs::Codes(codes, cats.get_mapping().clone()));
        }
        let column = column.str()?;
        let joined;
        let column = if column.chunks().len() == 1 {
            column
        } else {
            joined = column.rechunk();
            joined.as_ref()
        };
        Ok(Strs::Text(match column.downcast_iter().next() {
            Some(a) => a.clone(),
            None => Utf8ViewArray::new_empty(ArrowDataType::Utf8View),
        }))
    }

    /// Row `i`'s value, `None` when null.
    #[inline]
    pub fn at(&self, i: usize) -> Option<&str> {
        match self {
            Strs::Text(array) => (!array.is_null(i)).then(|| array.value(i)),
            Strs::Codes(codes, mapping) => {
                if codes.is_null(i) {
                    None
                } else {
                    mapping.cat_to_str(codes.value(i))
                }
            }
        }
    }

    /// Row `i`'s value, `""` when null (for columns that always have one).
    #[inline]
    pub fn text(&self, i: usize) -> &str {
        self.at(i).unwrap_or("")
    }
}

/// Borrowed column vectors of the frame, for the scope engine's row-wise rules.
pub struct RecordsView {
    pub time: Vec<Micros>,
    pub record_id: Strs,
    pub operation: Strs,
    pub mailbox: Strs,
    pub actor: Strs,
    pub actor_sid: Strs,
    pub logon_type: Strs,
    pub client_ip: Strs,
    pub client_info: Strs,
    pub session_id: Strs,
    pub aad_session_id: Strs,
    pub token_id: Strs,
    pub app_id: Strs,
    pub client_app_id: Strs,
    pub mail_access_type: Strs,
    pub is_throttled: Vec<bool>,
    pub operation_count: Vec<Option<i64>>,
    pub folder_path: Strs,
    pub detail: Strs,
    pub forwarding: Strs,
    pub exposure: Strs,
    pub source_file: Strs,
    pub source_line: Vec<u64>,
    /// The source shape of each record (`Format::as_str`): what it could not carry.
    pub format: Strs,
}

pub struct ItemsView {
    pub record_row: Vec<u32>,
    pub folder_path: Strs,
    pub internet_message_id: Strs,
    pub subject: Strs,
    pub item_id: Strs,
}

/// Each record's items: the frame stores them grouped by record, in record order, so a record's
/// items are a range of rows in `items`.
pub struct ItemsOf {
    starts: Vec<u32>,
}

impl ItemsOf {
    /// `None` when `record_row` is not grouped by record in row order.
    pub fn new(record_row: &[u32], records: usize) -> Option<ItemsOf> {
        if record_row.windows(2).any(|w| w[0] > w[1])
            || record_row.last().is_some_and(|&r| r as usize >= records)
        {
            return None;
        }
        let mut starts = vec![0u32; records + 1];
        for &r in record_row {
            starts[r as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        Some(ItemsOf { starts })
    }

    /// The rows in `items` of record `i`.
    #[inline]
    pub fn of(&self, i: usize) -> std::ops::Range<usize> {
        self.starts[i] as usize..self.starts[i + 1] as usize
    }
}

pub(crate) fn str_col<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<Vec<Option<&'a str>>> {
    Ok(df.column(name)?.str()?.iter().collect())
}

/// The `time` column as microseconds (a missing time sorts first).
pub(crate) fn time_col(df: &DataFrame) -> PolarsResult<Vec<Micros>> {
    Ok(df
        .column(col::TIME)?
        .datetime()?
        .physical()
        .iter()
        .map(|t| t.unwrap_or(i64::MIN))
        .collect())
}

impl Frame {
    pub fn records_view(&self) -> PolarsResult<RecordsView> {
        let df = &self.records;
        let strs = |name: &str| Strs::of(df, name);
        Ok(RecordsView {
            time: time_col(df)?,
            record_id: strs(col::RECORD_ID)?,
            operation: strs(col::OPERATION)?,
            mailbox: strs(col::MAILBOX)?,
            actor: strs(col::ACTOR)?,
            actor_sid: strs(col::ACTOR_SID)?,
            logon_type: strs(col::LOGON_TYPE)?,
            client_ip: strs(col::CLIENT_IP)?,
            client_info: strs(col::CLIENT_INFO)?,
            session_id: strs(col::SESSION_ID)?,
            aad_session_id: strs(col::AAD_SESSION_ID)?,
            token_id: strs(col::TOKEN_ID)?,
            app_id: strs(col::APP_ID)?,
            client_app_id: strs(col::CLIENT_APP_ID)?,
            mail_access_type: strs(col::MAIL_ACCESS_TYPE)?,
            is_throttled: df
                .column(col::IS_THROTTLED)?
                .bool()?
                .iter()
                .map(|b| b.unwrap_or(false))
                .collect(),
            operation_count: df.column(col::OPERATION_COUNT)?.i64()?.iter().collect(),
            folder_path: strs(col::FOLDER_PATH)?,
            detail: strs(col::DETAIL)?,
            forwarding: strs(col::FORWARDING)?,
            exposure: strs(col::EXPOSURE)?,
            source_file: strs(col::SOURCE_FILE)?,
            format: strs(col::FORMAT)?,
            source_line: df
                .column(col::SOURCE_LINE)?
                .u64()?
                .iter()
                .map(|v| v.unwrap_or(0))
                .collect(),
        })
    }

    pub fn items_view(&self) -> PolarsResult<ItemsView> {
        let df = &self.items;
        Ok(ItemsView {
            record_row: df
                .column(col::RECORD_ROW)?
                .u32()?
                .iter()
                .map(|v| v.unwrap_or(0))
                .collect(),
            folder_path: Strs::of(df, col::FOLDER_PATH)?,
            internet_message_id: Strs::of(df, col::INTERNET_MESSAGE_ID)?,
            subject: Strs::of(df, col::SUBJECT)?,
            item_id: Strs::of(df, col::ITEM_ID)?,
        })
    }

    /// Bytes held by each column: (table, column, string view bytes, other bytes). polars'
    /// `estimated_size` counts a string column as its text's length, repeats included and views
    /// left out; here a string column is its 16-byte views and its data buffers.
    pub fn column_bytes(&self) -> Vec<(&'static str, String, usize, usize)> {
        let mut out = Vec::new();
        for (table, df) in [("records", &self.records), ("items", &self.items)] {
            for column in df.columns() {
                let (mut views, mut data) = (0, 0);
                match column.str() {
                    Ok(strings) => {
                        for array in strings.downcast_iter() {
                            views += array.len() * 16;
                            data += array.data_buffers().iter().map(|b| b.len()).sum::<usize>();
                        }
                    }
                    Err(_) => data = column.as_materialized_series().estimated_size(),
                }
                out.push((table, column.name().to_string(), views, data));
            }
        }
        out
    }

    /// Bytes held by the frame's arrays, and how many of them are string views.
    pub fn held_bytes(&self) -> (usize, usize) {
        self.column_bytes()
            .iter()
            .fold((0, 0), |(held, views), c| (held + c.2 + c.3, views + c.2))
    }

    /// Every column in one chunk (Arrow views are copied, text is not), so that the views above
    /// read the frame in place. A few columns at a time (one a thread), their old chunks handed
    /// back before the next are joined: the frame is never held twice.
    pub fn rechunk(&mut self) -> PolarsResult<()> {
        use rayon::prelude::*;
        let threads = rayon::current_num_threads().max(1);
        for df in [&mut self.records, &mut self.items] {
            let names: Vec<PlSmallStr> = df
                .get_column_names_owned()
                .into_iter()
                .filter(|n| df.column(n).is_ok_and(|c| c.n_chunks() > 1))
                .collect();
            // As many columns at once as there are threads.
            for group in names.chunks(threads) {
                let joined: Vec<Column> = group
                    .par_iter()
                    .map(|n| df.column(n).map(Column::rechunk))
                    .collect::<PolarsResult<_>>()?;
                for (name, column) in group.iter().zip(joined) {
                    df.replace(name, column)?;
                }
                crate::alloc::release_freed();
            }
        }
        Ok(())
    }
}

/// Output formats for `export`, chosen by the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Parquet,
    Csv,
    JsonLines,
}

impl ExportFormat {
    pub fn from_path(p: &std::path::Path) -> Option<ExportFormat> {
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "parquet" => Some(ExportFormat::Parquet),
            "csv" => Some(ExportFormat::Csv),
            "jsonl" | "ndjson" => Some(ExportFormat::JsonLines),
            _ => None,
        }
    }
}

/// Where the items table goes next to the records table: `case.parquet` → `case.items.parquet`.
pub fn items_path(records_path: &std::path::Path) -> std::path::PathBuf {
    table_path(records_path, "items")
}

/// The `messages` table's file beside the records' (`frame.parquet` → `frame.messages.parquet`).
pub fn messages_path(records_path: &std::path::Path) -> std::path::PathBuf {
    table_path(records_path, "messages")
}

fn table_path(records_path: &std::path::Path, table: &str) -> std::path::PathBuf {
    let stem = records_path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("frame");
    let ext = records_path
        .extension()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    records_path.with_file_name(format!("{stem}.{table}.{ext}"))
}

/// Write one table as CSV or JSON Lines (a Parquet export is a saved case: `case::write`).
pub fn write_table(
    df: &mut DataFrame,
    format: ExportFormat,
    out: impl std::io::Write,
) -> PolarsResult<()> {
    match format {
        // A Parquet export is one file with the provenance of every input: `case::write`.
        ExportFormat::Parquet => {
            polars_bail!(InvalidOperation: "a Parquet export is a saved case (case::write), not a table");
        }
        ExportFormat::Csv => {
            // A CSV is opened in spreadsheets: evidence text is neutralized as in every other
            // CSV mailscope writes (Parquet and JSON Lines keep the values as read).
            let mut neutralized = df.clone();
            for name in df.get_column_names_owned() {
                let column = df.column(&name)?;
                if column.dtype() == &DataType::String {
                    let cells: StringChunked = column
                        .str()?
                        .iter()
                        .map(|cell| cell.map(crate::escape::csv))
                        .collect();
                    neutralized.replace(&name, cells.with_name(name.clone()).into_column())?;
                }
            }
            CsvWriter::new(out)
                .include_header(true)
                .finish(&mut neutralized)?;
        }
        ExportFormat::JsonLines => {
            JsonWriter::new(out)
                .with_json_format(JsonFormat::JsonLines)
                .finish(df)?;
        }
    }
    Ok(())
}
