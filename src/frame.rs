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
//! | client_info | str | `ClientInfoString` |
//! | session_id, aad_session_id, token_id | str | `SessionId`, `AppAccessContext.AADSessionId` / `UniqueTokenId` |
//! | app_id, client_app_id | str | |
//! | mail_access_type | str | `Bind` / `Sync` (MailItemsAccessed) |
//! | is_throttled | bool | `IsThrottled` = True |
//! | operation_count | i64 | `OperationCount` |
//! | folder_path | str | record-level folder (legacy `FolderPathName`, `Folder.Path`) |
//! | detail | str | cmdlet parameters and other detail, summarized |
//!
//! `items` columns: record_row (u32 row in `records`), record_id, folder_path, folder_id,
//! internet_message_id (normalized), internet_message_id_raw, subject, item_id, size (i64).

use crate::model::{Micros, Record};
use polars::prelude::*;

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
    // items
    pub const RECORD_ROW: &str = "record_row";
    pub const FOLDER_ID: &str = "folder_id";
    pub const INTERNET_MESSAGE_ID: &str = "internet_message_id";
    pub const INTERNET_MESSAGE_ID_RAW: &str = "internet_message_id_raw";
    pub const SUBJECT: &str = "subject";
    pub const ITEM_ID: &str = "item_id";
    pub const SIZE: &str = "size";
}

/// The two tables of a run.
#[derive(Clone)]
pub struct Frame {
    pub records: DataFrame,
    pub items: DataFrame,
}

fn strs<'a>(name: &str, it: impl Iterator<Item = Option<&'a str>>) -> Column {
    Column::new(name.into(), it.collect::<Vec<Option<&str>>>())
}

impl Frame {
    /// Build the frame from parsed records (`files[record.file]` names each record's source).
    pub fn from_records(records: &[Record], files: &[String]) -> PolarsResult<Frame> {
        Self::build(records, files, 0)
    }

    /// Build the frame from records it may consume: they are turned into columns a block at a
    /// time from the end, and each block's strings are freed as soon as its columns exist, so
    /// records and frame are never both whole in memory.
    pub fn from_records_owned(mut records: Vec<Record>, files: &[String]) -> PolarsResult<Frame> {
        const BLOCK: usize = 1 << 16;
        let mut parts = Vec::new();
        while !records.is_empty() {
            let at = records.len().saturating_sub(BLOCK);
            let block = records.split_off(at);
            parts.push(Self::build(&block, files, at as u32)?);
        }
        drop(records);
        let Some(mut frame) = parts.pop() else {
            return Self::build(&[], files, 0);
        };
        while let Some(p) = parts.pop() {
            frame.records.vstack_mut_owned(p.records)?;
            frame.items.vstack_mut_owned(p.items)?;
        }
        frame.records.rechunk_mut_par();
        frame.items.rechunk_mut_par();
        Ok(frame)
    }

    /// Columns for `records`, whose first record is row `row_offset` of the whole frame.
    fn build(records: &[Record], files: &[String], row_offset: u32) -> PolarsResult<Frame> {
        let r = records;
        let s = |f: fn(&Record) -> Option<&str>| r.iter().map(f);
        // Columns are independent: build them in parallel.
        type Build<'a> = Box<dyn Fn() -> Column + Send + Sync + 'a>;
        let builders: Vec<Build> = vec![
            Box::new(move || {
                let times: Vec<i64> = r.iter().map(|x| x.time).collect();
                Int64Chunked::from_vec(col::TIME.into(), times)
                    .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                    .into_series()
                    .into_column()
            }),
            Box::new(move || strs(col::TIME_SOURCE, s(|x| Some(x.time_source)))),
            Box::new(move || strs(col::RECORD_ID, s(|x| Some(x.record_id.as_str())))),
            Box::new(move || {
                strs(
                    col::SOURCE_FILE,
                    r.iter()
                        .map(|x| files.get(x.file as usize).map(String::as_str)),
                )
            }),
            Box::new(move || {
                Column::new(
                    col::SOURCE_LINE.into(),
                    r.iter().map(|x| x.line).collect::<Vec<u64>>(),
                )
            }),
            Box::new(move || strs(col::FORMAT, s(|x| x.format.map(|f| f.as_str())))),
            Box::new(move || strs(col::WORKLOAD, s(|x| x.workload.as_deref()))),
            Box::new(move || strs(col::OPERATION, s(|x| Some(x.operation.as_str())))),
            Box::new(move || strs(col::RECORD_TYPE, s(|x| x.record_type.as_deref()))),
            Box::new(move || strs(col::MAILBOX, s(|x| x.mailbox.as_deref()))),
            Box::new(move || strs(col::MAILBOX_GUID, s(|x| x.mailbox_guid.as_deref()))),
            Box::new(move || strs(col::ACTOR, s(|x| x.actor.as_deref()))),
            Box::new(move || strs(col::ACTOR_SID, s(|x| x.actor_sid.as_deref()))),
            Box::new(move || strs(col::LOGON_TYPE, s(|x| x.logon_type.as_deref()))),
            Box::new(move || strs(col::CLIENT_IP, s(|x| x.client_ip.as_deref()))),
            Box::new(move || {
                Column::new(
                    col::CLIENT_PORT.into(),
                    r.iter()
                        .map(|x| x.client_port.map(u32::from))
                        .collect::<Vec<Option<u32>>>(),
                )
            }),
            Box::new(move || strs(col::CLIENT_INFO, s(|x| x.client_info.as_deref()))),
            Box::new(move || strs(col::SESSION_ID, s(|x| x.session_id.as_deref()))),
            Box::new(move || strs(col::AAD_SESSION_ID, s(|x| x.aad_session_id.as_deref()))),
            Box::new(move || strs(col::TOKEN_ID, s(|x| x.token_id.as_deref()))),
            Box::new(move || strs(col::APP_ID, s(|x| x.app_id.as_deref()))),
            Box::new(move || strs(col::CLIENT_APP_ID, s(|x| x.client_app_id.as_deref()))),
            Box::new(move || strs(col::MAIL_ACCESS_TYPE, s(|x| x.mail_access_type.as_deref()))),
            Box::new(move || {
                Column::new(
                    col::IS_THROTTLED.into(),
                    r.iter().map(|x| x.is_throttled).collect::<Vec<bool>>(),
                )
            }),
            Box::new(move || {
                Column::new(
                    col::OPERATION_COUNT.into(),
                    r.iter()
                        .map(|x| x.operation_count)
                        .collect::<Vec<Option<i64>>>(),
                )
            }),
            Box::new(move || strs(col::RESULT_STATUS, s(|x| x.result_status.as_deref()))),
            Box::new(move || strs(col::FOLDER_PATH, s(|x| x.folder_path.as_deref()))),
            Box::new(move || strs(col::DETAIL, s(|x| x.detail.as_deref()))),
        ];
        let columns: Vec<Column> = {
            use rayon::prelude::*;
            builders.par_iter().map(|b| b()).collect()
        };
        let records_df = DataFrame::new(r.len(), columns)?;

        let items: Vec<(u32, &Record, &crate::model::Item)> = r
            .iter()
            .enumerate()
            .flat_map(|(i, rec)| {
                rec.items
                    .iter()
                    .map(move |it| (row_offset + i as u32, rec, it))
            })
            .collect();
        let is =
            |f: fn(&crate::model::Item) -> Option<&str>| items.iter().map(move |(_, _, it)| f(it));
        let item_cols = vec![
            Column::new(
                col::RECORD_ROW.into(),
                items.iter().map(|x| x.0).collect::<Vec<u32>>(),
            ),
            strs(
                col::RECORD_ID,
                items.iter().map(|x| Some(x.1.record_id.as_str())),
            ),
            strs(col::FOLDER_PATH, is(|i| i.folder_path.as_deref())),
            strs(col::FOLDER_ID, is(|i| i.folder_id.as_deref())),
            strs(
                col::INTERNET_MESSAGE_ID,
                is(|i| i.internet_message_id.as_deref()),
            ),
            strs(
                col::INTERNET_MESSAGE_ID_RAW,
                is(|i| i.internet_message_id_raw.as_deref()),
            ),
            strs(col::SUBJECT, is(|i| i.subject.as_deref())),
            strs(col::ITEM_ID, is(|i| i.item_id.as_deref())),
            Column::new(
                col::SIZE.into(),
                items.iter().map(|x| x.2.size).collect::<Vec<Option<i64>>>(),
            ),
        ];
        let items_df = DataFrame::new(items.len(), item_cols)?;
        Ok(Frame {
            records: records_df,
            items: items_df,
        })
    }

    pub fn height(&self) -> usize {
        self.records.height()
    }
}

/// Borrowed column vectors of the frame, for the scope engine's row-wise rules.
pub struct RecordsView<'a> {
    pub time: Vec<Micros>,
    pub record_id: Vec<&'a str>,
    pub operation: Vec<&'a str>,
    pub mailbox: Vec<Option<&'a str>>,
    pub actor: Vec<Option<&'a str>>,
    pub actor_sid: Vec<Option<&'a str>>,
    pub logon_type: Vec<Option<&'a str>>,
    pub client_ip: Vec<Option<&'a str>>,
    pub client_info: Vec<Option<&'a str>>,
    pub session_id: Vec<Option<&'a str>>,
    pub aad_session_id: Vec<Option<&'a str>>,
    pub token_id: Vec<Option<&'a str>>,
    pub app_id: Vec<Option<&'a str>>,
    pub client_app_id: Vec<Option<&'a str>>,
    pub mail_access_type: Vec<Option<&'a str>>,
    pub is_throttled: Vec<bool>,
    pub operation_count: Vec<Option<i64>>,
    pub folder_path: Vec<Option<&'a str>>,
    pub detail: Vec<Option<&'a str>>,
    pub source_file: Vec<Option<&'a str>>,
    pub source_line: Vec<u64>,
}

pub struct ItemsView<'a> {
    pub record_row: Vec<u32>,
    pub folder_path: Vec<Option<&'a str>>,
    pub internet_message_id: Vec<Option<&'a str>>,
    pub subject: Vec<Option<&'a str>>,
    pub item_id: Vec<Option<&'a str>>,
}

fn str_col<'a>(df: &'a DataFrame, name: &str) -> PolarsResult<Vec<Option<&'a str>>> {
    Ok(df.column(name)?.str()?.iter().collect())
}

impl Frame {
    pub fn records_view(&self) -> PolarsResult<RecordsView<'_>> {
        let df = &self.records;
        let time = df
            .column(col::TIME)?
            .datetime()?
            .physical()
            .iter()
            .map(|t| t.unwrap_or(i64::MIN))
            .collect();
        Ok(RecordsView {
            time,
            record_id: str_col(df, col::RECORD_ID)?
                .into_iter()
                .map(|s| s.unwrap_or(""))
                .collect(),
            operation: str_col(df, col::OPERATION)?
                .into_iter()
                .map(|s| s.unwrap_or(""))
                .collect(),
            mailbox: str_col(df, col::MAILBOX)?,
            actor: str_col(df, col::ACTOR)?,
            actor_sid: str_col(df, col::ACTOR_SID)?,
            logon_type: str_col(df, col::LOGON_TYPE)?,
            client_ip: str_col(df, col::CLIENT_IP)?,
            client_info: str_col(df, col::CLIENT_INFO)?,
            session_id: str_col(df, col::SESSION_ID)?,
            aad_session_id: str_col(df, col::AAD_SESSION_ID)?,
            token_id: str_col(df, col::TOKEN_ID)?,
            app_id: str_col(df, col::APP_ID)?,
            client_app_id: str_col(df, col::CLIENT_APP_ID)?,
            mail_access_type: str_col(df, col::MAIL_ACCESS_TYPE)?,
            is_throttled: df
                .column(col::IS_THROTTLED)?
                .bool()?
                .iter()
                .map(|b| b.unwrap_or(false))
                .collect(),
            operation_count: df.column(col::OPERATION_COUNT)?.i64()?.iter().collect(),
            folder_path: str_col(df, col::FOLDER_PATH)?,
            detail: str_col(df, col::DETAIL)?,
            source_file: str_col(df, col::SOURCE_FILE)?,
            source_line: df
                .column(col::SOURCE_LINE)?
                .u64()?
                .iter()
                .map(|v| v.unwrap_or(0))
                .collect(),
        })
    }

    pub fn items_view(&self) -> PolarsResult<ItemsView<'_>> {
        let df = &self.items;
        Ok(ItemsView {
            record_row: df
                .column(col::RECORD_ROW)?
                .u32()?
                .iter()
                .map(|v| v.unwrap_or(0))
                .collect(),
            folder_path: str_col(df, col::FOLDER_PATH)?,
            internet_message_id: str_col(df, col::INTERNET_MESSAGE_ID)?,
            subject: str_col(df, col::SUBJECT)?,
            item_id: str_col(df, col::ITEM_ID)?,
        })
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
    let stem = records_path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("frame");
    let ext = records_path
        .extension()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    records_path.with_file_name(format!("{stem}.items.{ext}"))
}

/// Write one table in the chosen format.
pub fn write_table(
    df: &mut DataFrame,
    format: ExportFormat,
    out: impl std::io::Write,
) -> PolarsResult<()> {
    match format {
        ExportFormat::Parquet => {
            ParquetWriter::new(out).finish(df)?;
        }
        ExportFormat::Csv => {
            CsvWriter::new(out).include_header(true).finish(df)?;
        }
        ExportFormat::JsonLines => {
            JsonWriter::new(out)
                .with_json_format(JsonFormat::JsonLines)
                .finish(df)?;
        }
    }
    Ok(())
}
