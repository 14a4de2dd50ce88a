//! Records → polars columns, a block at a time. Each parallel parse chunk turns its records into
//! a block of columns at once, so the run never holds every record and every column together.
//!
//! Repeated strings (mailbox, IP, client, folder…) are stored once per block: the string column
//! is an Arrow view array, and every repeat is a 16-byte view pointing at the first copy.

use super::{Frame, col};
use crate::model::{Item, Micros, Record};
use polars::prelude::*;
use polars_arrow::array::{MutableBinaryViewArray, Utf8ViewArray, View};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::ArrowDataType;
use std::collections::HashMap;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// How a string column stores repeats.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Repeats {
    /// Mostly distinct values (ids): stored as they come.
    Rare,
    /// Few distinct values: each stored once per block.
    Interned,
    /// The same value on consecutive rows (a record's id on each of its items): reuse the last.
    Runs,
}

/// One string column under construction.
struct StrColumn {
    name: &'static str,
    repeats: Repeats,
    /// Owns the data buffers; the views are kept here, beside it.
    data: MutableBinaryViewArray<str>,
    views: Vec<View>,
    validity: MutableBitmap,
    has_null: bool,
    total_bytes: usize,
    seen: FastMap<Box<str>, View>,
    last: Option<(Box<str>, View)>,
}

impl StrColumn {
    fn new(name: &'static str, repeats: Repeats, capacity: usize) -> StrColumn {
        StrColumn {
            name,
            repeats,
            data: MutableBinaryViewArray::new(),
            views: Vec::with_capacity(capacity),
            validity: MutableBitmap::with_capacity(capacity),
            has_null: false,
            total_bytes: 0,
            seen: FastMap::default(),
            last: None,
        }
    }

    fn push(&mut self, value: Option<&str>) {
        let Some(s) = value else {
            self.views.push(View::default());
            self.validity.push(false);
            self.has_null = true;
            return;
        };
        let bytes = s.as_bytes();
        let view = if bytes.len() <= View::MAX_INLINE_SIZE as usize {
            View::new_inline(bytes)
        } else {
            match self.repeats {
                Repeats::Rare => self.data.push_value_into_buffer(bytes),
                Repeats::Interned => match self.seen.get(s) {
                    Some(v) => *v,
                    None => {
                        let v = self.data.push_value_into_buffer(bytes);
                        self.seen.insert(s.into(), v);
                        v
                    }
                },
                Repeats::Runs => match &self.last {
                    Some((last, v)) if **last == *s => *v,
                    _ => {
                        let v = self.data.push_value_into_buffer(bytes);
                        self.last = Some((s.into(), v));
                        v
                    }
                },
            }
        };
        self.views.push(view);
        self.validity.push(true);
        self.total_bytes += bytes.len();
    }

    fn finish(self) -> Column {
        let mut data = self.data;
        data.finish_in_progress();
        let (_, buffers) = data.take();
        let total_buffer_len = buffers.iter().map(|b| b.len()).sum();
        let validity = self.has_null.then(|| self.validity.into());
        // SAFETY: every view is inline or points into `buffers` at bytes copied from a `&str`
        // (valid UTF-8) by `push_value_into_buffer`, which made it; lengths and the validity
        // bitmap have one entry per view.
        let array = unsafe {
            Utf8ViewArray::new_unchecked(
                ArrowDataType::Utf8View,
                self.views.into(),
                buffers.into(),
                validity,
                Some(self.total_bytes),
                total_buffer_len,
            )
        };
        StringChunked::with_chunk(self.name.into(), array).into_column()
    }
}

/// Builds one block of the frame: `records` and `items` columns for the records pushed.
pub struct FrameBuilder<'f> {
    /// Input paths by file index; a record whose index is outside gets a null `source_file`
    /// (parse chunks do not know their path; the merge fills it in).
    files: &'f [String],
    rows: u32,
    time: Vec<Micros>,
    source_line: Vec<u64>,
    client_port: Vec<Option<u32>>,
    is_throttled: Vec<bool>,
    operation_count: Vec<Option<i64>>,
    strs: Vec<StrColumn>,
    record_row: Vec<u32>,
    size: Vec<Option<i64>>,
    item_strs: Vec<StrColumn>,
}

/// String columns of `records`, in frame order, each with how its values repeat.
const RECORD_STRS: &[(&str, Repeats)] = &[
    (col::TIME_SOURCE, Repeats::Interned),
    (col::RECORD_ID, Repeats::Rare),
    (col::SOURCE_FILE, Repeats::Interned),
    (col::FORMAT, Repeats::Interned),
    (col::WORKLOAD, Repeats::Interned),
    (col::OPERATION, Repeats::Interned),
    (col::RECORD_TYPE, Repeats::Interned),
    (col::MAILBOX, Repeats::Interned),
    (col::MAILBOX_GUID, Repeats::Interned),
    (col::ACTOR, Repeats::Interned),
    (col::ACTOR_SID, Repeats::Interned),
    (col::LOGON_TYPE, Repeats::Interned),
    (col::CLIENT_IP, Repeats::Interned),
    (col::CLIENT_INFO, Repeats::Interned),
    (col::SESSION_ID, Repeats::Interned),
    (col::AAD_SESSION_ID, Repeats::Interned),
    (col::TOKEN_ID, Repeats::Interned),
    (col::APP_ID, Repeats::Interned),
    (col::CLIENT_APP_ID, Repeats::Interned),
    (col::MAIL_ACCESS_TYPE, Repeats::Interned),
    (col::RESULT_STATUS, Repeats::Interned),
    (col::FOLDER_PATH, Repeats::Interned),
    (col::DETAIL, Repeats::Interned),
];

/// String columns of `items`, in frame order.
const ITEM_STRS: &[(&str, Repeats)] = &[
    (col::RECORD_ID, Repeats::Runs),
    (col::FOLDER_PATH, Repeats::Interned),
    (col::FOLDER_ID, Repeats::Interned),
    (col::INTERNET_MESSAGE_ID, Repeats::Rare),
    (col::INTERNET_MESSAGE_ID_RAW, Repeats::Rare),
    (col::SUBJECT, Repeats::Interned),
    (col::ITEM_ID, Repeats::Rare),
];

impl<'f> FrameBuilder<'f> {
    pub fn new(files: &'f [String], capacity: usize) -> FrameBuilder<'f> {
        FrameBuilder {
            files,
            rows: 0,
            time: Vec::with_capacity(capacity),
            source_line: Vec::with_capacity(capacity),
            client_port: Vec::with_capacity(capacity),
            is_throttled: Vec::with_capacity(capacity),
            operation_count: Vec::with_capacity(capacity),
            strs: RECORD_STRS
                .iter()
                .map(|(n, r)| StrColumn::new(n, *r, capacity))
                .collect(),
            record_row: Vec::new(),
            size: Vec::new(),
            item_strs: ITEM_STRS
                .iter()
                .map(|(n, r)| StrColumn::new(n, *r, 0))
                .collect(),
        }
    }

    pub fn push(&mut self, r: &Record) {
        self.time.push(r.time);
        self.source_line.push(r.line);
        self.client_port.push(r.client_port.map(u32::from));
        self.is_throttled.push(r.is_throttled);
        self.operation_count.push(r.operation_count);
        debug_assert!(
            r.time_source.is_empty() || crate::model::TIME_SOURCES.contains(&r.time_source)
        );
        let source = self.files.get(r.file as usize).map(String::as_str);
        let values: [Option<&str>; 23] = [
            Some(r.time_source),
            Some(&r.record_id),
            source,
            r.format.map(|f| f.as_str()),
            r.workload.as_deref(),
            Some(&r.operation),
            r.record_type.as_deref(),
            r.mailbox.as_deref(),
            r.mailbox_guid.as_deref(),
            r.actor.as_deref(),
            r.actor_sid.as_deref(),
            r.logon_type.as_deref(),
            r.client_ip.as_deref(),
            r.client_info.as_deref(),
            r.session_id.as_deref(),
            r.aad_session_id.as_deref(),
            r.token_id.as_deref(),
            r.app_id.as_deref(),
            r.client_app_id.as_deref(),
            r.mail_access_type.as_deref(),
            r.result_status.as_deref(),
            r.folder_path.as_deref(),
            r.detail.as_deref(),
        ];
        for (c, v) in self.strs.iter_mut().zip(values) {
            c.push(v);
        }
        for it in &r.items {
            self.push_item(self.rows, &r.record_id, it);
        }
        self.rows += 1;
    }

    fn push_item(&mut self, row: u32, record_id: &str, it: &Item) {
        self.record_row.push(row);
        self.size.push(it.size);
        let values: [Option<&str>; 7] = [
            Some(record_id),
            it.folder_path.as_deref(),
            it.folder_id.as_deref(),
            it.internet_message_id.as_deref(),
            it.internet_message_id_raw.as_deref(),
            it.subject.as_deref(),
            it.item_id.as_deref(),
        ];
        for (c, v) in self.item_strs.iter_mut().zip(values) {
            c.push(v);
        }
    }

    pub fn finish(self) -> PolarsResult<Frame> {
        let height = self.rows as usize;
        let mut strs = self.strs.into_iter().map(StrColumn::finish);
        let mut next = || strs.next().expect("one builder per string column");
        let time = Int64Chunked::from_vec(col::TIME.into(), self.time)
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_series()
            .into_column();
        // Frame order (documented in the module): strings interleave with typed columns.
        let mut columns = vec![time, next(), next(), next()];
        columns.push(Column::new(col::SOURCE_LINE.into(), self.source_line));
        columns.extend((0..10).map(|_| next())); // format … client_ip
        columns.push(Column::new(col::CLIENT_PORT.into(), self.client_port));
        columns.extend((0..7).map(|_| next())); // client_info … mail_access_type
        columns.push(Column::new(col::IS_THROTTLED.into(), self.is_throttled));
        columns.push(Column::new(
            col::OPERATION_COUNT.into(),
            self.operation_count,
        ));
        columns.extend((0..3).map(|_| next())); // result_status, folder_path, detail
        let records = DataFrame::new(height, columns)?;

        let item_height = self.record_row.len();
        let mut item_columns = vec![Column::new(col::RECORD_ROW.into(), self.record_row)];
        item_columns.extend(self.item_strs.into_iter().map(StrColumn::finish));
        item_columns.push(Column::new(col::SIZE.into(), self.size));
        let items = DataFrame::new(item_height, item_columns)?;
        Ok(Frame { records, items })
    }
}
