//! Records → polars columns, a block at a time. Each parallel parse chunk turns its records into
//! a block of columns at once, so the run never holds every record and every column together.
//!
//! Repeated strings (mailbox, IP, client, folder…) are stored once per block: the string column
//! is an Arrow view array, and every repeat is a 16-byte view pointing at the first copy. In a
//! frame built for the scope engine (`Columns::Views`), columns with few distinct values in a
//! whole run (operation, mailbox, client, folder…) are categorical instead: a 4-byte code a
//! cell into polars' global mapping, which holds each value once for the run.

use super::{Columns, Frame, col};
use crate::model::{Format, Item, Micros, Record, time_source_name};
use hashbrown::HashTable;
use polars::prelude::*;
use polars_arrow::array::{Array, PrimitiveArray, Utf8ViewArray, View};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::ArrowDataType;
use std::borrow::Cow;
use std::sync::Arc;

/// How a string column stores repeats.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Repeats {
    /// Mostly distinct values (ids): stored as they come.
    Rare,
    /// Few distinct values: each stored once per block.
    Interned,
    /// The same value on consecutive rows (a record's id on each of its items): reuse the last.
    Runs,
    /// Few distinct values in a whole run for its rows (mailboxes, clients, folders), or mostly
    /// null: interned per block, or categorical in a `Columns::Views` frame.
    Few,
}

/// One string column under construction: Arrow views over data buffers it owns, so that the
/// buffers end exactly as long as their data and an interned value is found again by its view
/// (no second copy of it as a map key).
pub(super) struct StrColumn {
    name: &'static str,
    /// Not built (`Columns`): pushes are ignored and `finish` gives no column.
    skipped: bool,
    repeats: Repeats,
    /// Data buffers, each filled to capacity but the last.
    buffers: Vec<Vec<u8>>,
    views: Vec<View>,
    /// `None` until the first null.
    validity: Option<MutableBitmap>,
    total_bytes: usize,
    /// Interned: the view of every value stored, by the hash of its bytes.
    seen: HashTable<View>,
    /// The last value stored or reused (not inline): tried before the table, since items of a
    /// record repeat their folder and records their session.
    last: Option<View>,
    /// Categorical storage instead of views (`Repeats::Few` in a `Columns::Views` frame).
    codes: Option<Codes>,
}

/// polars' global categorical mapping, held for the life of the process: polars keeps it only
/// while some column holds it, and two mappings under the same (global) categorical type
/// would stack as one with mismatched codes.
fn global_mapping() -> Arc<CategoricalMapping> {
    static MAPPING: std::sync::LazyLock<Arc<CategoricalMapping>> =
        std::sync::LazyLock::new(|| Categories::global().mapping());
    MAPPING.clone()
}

/// A categorical column under construction: codes into polars' global mapping, which is
/// shared by every block of the run (blocks stack without remapping) and safe to fill from
/// several threads.
struct Codes {
    mapping: Arc<CategoricalMapping>,
    codes: Vec<u32>,
    /// The last code pushed, tried before the mapping.
    last: Option<u32>,
}

impl Codes {
    fn push(&mut self, s: &str) {
        let mapping = &self.mapping;
        let code = match self.last.filter(|&c| mapping.cat_to_str(c) == Some(s)) {
            Some(c) => c,
            None => mapping
                .insert_cat(s)
                .expect("fewer than 2^32 distinct values in a run"),
        };
        self.last = Some(code);
        self.codes.push(code);
    }
}

/// Sizes of a string column's data buffers.
const MIN_BUFFER: usize = 8 << 10;
const MAX_BUFFER: usize = 1 << 20;

/// The bytes a stored (not inline) view points at.
#[inline]
fn stored<'b>(buffers: &'b [Vec<u8>], v: &View) -> &'b [u8] {
    let start = v.offset as usize;
    &buffers[v.buffer_idx as usize][start..start + v.length as usize]
}

/// Whether a stored view holds `bytes` (longer than inline): length and the four-byte prefix in
/// the view settle most misses without reading the buffer.
#[inline]
fn same(buffers: &[Vec<u8>], v: &View, bytes: &[u8]) -> bool {
    let prefix = u32::from_le_bytes(bytes[..4].try_into().expect("four bytes"));
    v.length as usize == bytes.len() && v.prefix == prefix && stored(buffers, v) == bytes
}

#[inline]
fn hash_of(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::default().hash_one(bytes)
}

impl StrColumn {
    pub(super) fn new(
        name: &'static str,
        repeats: Repeats,
        capacity: usize,
        columns: Columns,
        items: bool,
    ) -> StrColumn {
        let skipped = !columns.keeps(name, items);
        let codes =
            (repeats == Repeats::Few && columns == Columns::Views && !skipped).then(|| Codes {
                mapping: global_mapping(),
                codes: Vec::with_capacity(capacity),
                last: None,
            });
        let views = if skipped || codes.is_some() {
            0
        } else {
            capacity
        };
        StrColumn {
            name,
            skipped,
            repeats,
            buffers: Vec::new(),
            views: Vec::with_capacity(views),
            validity: None,
            total_bytes: 0,
            seen: HashTable::new(),
            last: None,
            codes,
        }
    }

    fn len(&self) -> usize {
        self.codes
            .as_ref()
            .map_or(self.views.len(), |c| c.codes.len())
    }

    /// Copy `bytes` into the buffer being filled. Buffers are filled to capacity and never
    /// grown (a grown vector keeps up to half its size spare): when a value does not fit, the
    /// next buffer is made, each twice the last up to `MAX_BUFFER`.
    fn store(&mut self, bytes: &[u8]) -> View {
        let (room, last_size) = self
            .buffers
            .last()
            .map_or((0, 0), |b| (b.capacity() - b.len(), b.capacity()));
        if room < bytes.len() {
            let size = (last_size * 2)
                .clamp(MIN_BUFFER, MAX_BUFFER)
                .max(bytes.len());
            self.buffers.push(Vec::with_capacity(size));
        }
        let index = self.buffers.len() - 1;
        let buffer = &mut self.buffers[index];
        let offset = buffer.len();
        buffer.extend_from_slice(bytes);
        View::new_from_bytes(bytes, index as u32, offset as u32)
    }

    pub(super) fn push(&mut self, value: Option<&str>) {
        if self.skipped {
            return;
        }
        let Some(s) = value else {
            let rows = self.len();
            let capacity = match &mut self.codes {
                Some(c) => {
                    c.codes.push(0);
                    c.codes.capacity()
                }
                None => {
                    self.views.push(View::default());
                    self.views.capacity()
                }
            };
            self.validity
                .get_or_insert_with(|| {
                    let mut bits = MutableBitmap::with_capacity(capacity);
                    bits.extend_constant(rows, true);
                    bits
                })
                .push(false);
            return;
        };
        let bytes = s.as_bytes();
        if let Some(codes) = &mut self.codes {
            codes.push(s);
            if let Some(bits) = &mut self.validity {
                bits.push(true);
            }
            return;
        }
        let view = if bytes.len() <= View::MAX_INLINE_SIZE as usize {
            View::new_inline(bytes)
        } else if let Some(last) = self
            .last
            .filter(|v| self.repeats != Repeats::Rare && same(&self.buffers, v, bytes))
        {
            last
        } else {
            let view = match self.repeats {
                Repeats::Rare | Repeats::Runs => self.store(bytes),
                Repeats::Interned | Repeats::Few => {
                    let hash = hash_of(bytes);
                    let buffers = &self.buffers;
                    match self.seen.find(hash, |v| same(buffers, v, bytes)) {
                        Some(v) => *v,
                        None => {
                            let v = self.store(bytes);
                            let buffers = &self.buffers;
                            self.seen
                                .insert_unique(hash, v, |v| hash_of(stored(buffers, v)));
                            v
                        }
                    }
                }
            };
            self.last = Some(view);
            view
        };
        self.views.push(view);
        if let Some(bits) = &mut self.validity {
            bits.push(true);
        }
        self.total_bytes += bytes.len();
    }

    pub(super) fn finish(self) -> Option<Column> {
        if self.skipped {
            return None;
        }
        if let Some(c) = self.codes {
            let validity = self.validity.map(Into::into);
            let codes = UInt32Chunked::from_vec_validity(self.name.into(), c.codes, validity);
            let dtype = DataType::Categorical(Categories::global(), c.mapping);
            // SAFETY: every code was given by this mapping (`insert_cat`), or is under a null.
            let cats = unsafe { Categorical32Chunked::from_cats_and_dtype_unchecked(codes, dtype) };
            return Some(cats.into_series().into_column());
        }
        let mut views = self.views;
        views.shrink_to_fit();
        let total_buffer_len = self.buffers.iter().map(Vec::len).sum();
        // Only the last buffer has room to spare: it is copied to its length.
        let buffers: Vec<_> = self
            .buffers
            .into_iter()
            .map(|b| {
                if b.len() < b.capacity() {
                    b.as_slice().to_vec()
                } else {
                    b
                }
                .into()
            })
            .collect();
        // SAFETY: every view is inline or points into `buffers` at bytes copied from a `&str`
        // (valid UTF-8) by `store`, which made it; the validity bitmap, when there is one, has
        // one entry per view.
        let array = unsafe {
            Utf8ViewArray::new_unchecked(
                ArrowDataType::Utf8View,
                views.into(),
                buffers.into(),
                self.validity.map(Into::into),
                Some(self.total_bytes),
                total_buffer_len,
            )
        };
        Some(StringChunked::with_chunk(self.name.into(), array).into_column())
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

/// A string column's value in a record; the second argument is the record's source path.
type Text = for<'r> fn(&'r Record<'_>, Option<&'r str>) -> Option<&'r str>;
/// A string column's value put back into a record (`Frame::to_records`).
pub(super) type SetText = fn(&mut Record<'static>, Option<&str>);

/// What a column of `records` holds, and how a record's value goes in and comes back out.
#[derive(Clone, Copy)]
enum Kind {
    /// `None` to set: the value is not the record's own (its source path, its merged copies).
    Str(Repeats, Text, Option<SetText>),
    Time,
    SourceLine,
    ClientPort,
    IsThrottled,
    OperationCount,
}

/// One column of `records`.
#[derive(Clone, Copy)]
pub(super) struct Def {
    pub name: &'static str,
    kind: Kind,
    /// Built in a `Columns::Views` frame (the scope engine's).
    pub viewed: bool,
    /// Added after cases of schema v2 were first written: an older case reads it as null.
    pub late: bool,
}

impl Def {
    const fn new(name: &'static str, kind: Kind) -> Def {
        Def {
            name,
            kind,
            viewed: true,
            late: false,
        }
    }
    const fn unviewed(mut self) -> Def {
        self.viewed = false;
        self
    }
    const fn late(mut self) -> Def {
        self.late = true;
        self
    }
}

/// A string column read from and written back to an optional text field of `Record`.
macro_rules! optional {
    ($name:expr, $repeats:ident, $field:ident) => {
        Def::new(
            $name,
            Kind::Str(
                Repeats::$repeats,
                |r, _| r.$field.as_deref(),
                Some(|r, v| r.$field = v.map(|s| Cow::Owned(s.to_string()))),
            ),
        )
    };
}

/// The columns of `records`, in frame order: the one place a column is declared. The builder,
/// `finish`, `conform`, `Columns::Views`, a case's reader and `Frame::to_records` follow it; a
/// new text column of `Record` is its name in `col` and one line here.
pub(super) const RECORDS: &[Def] = &[
    Def::new(col::TIME, Kind::Time),
    Def::new(
        col::TIME_SOURCE,
        Kind::Str(
            Repeats::Interned,
            |r, _| Some(r.time_source),
            Some(|r, v| r.time_source = time_source_name(v.unwrap_or(""))),
        ),
    )
    .unviewed(),
    Def::new(
        col::RECORD_ID,
        Kind::Str(
            Repeats::Rare,
            |r, _| Some(&r.record_id),
            Some(|r, v| r.record_id = Cow::Owned(v.unwrap_or("").to_string())),
        ),
    ),
    Def::new(
        col::SOURCE_FILE,
        Kind::Str(Repeats::Interned, |_, source| source, None),
    ),
    Def::new(col::SOURCE_LINE, Kind::SourceLine),
    Def::new(
        col::FORMAT,
        Kind::Str(
            Repeats::Few,
            |r, _| r.format.map(|f| f.as_str()),
            Some(|r, v| r.format = v.and_then(Format::from_name)),
        ),
    ),
    optional!(col::WORKLOAD, Interned, workload).unviewed(),
    Def::new(
        col::OPERATION,
        Kind::Str(
            Repeats::Few,
            |r, _| Some(&r.operation),
            Some(|r, v| r.operation = Cow::Owned(v.unwrap_or("").to_string())),
        ),
    ),
    optional!(col::RECORD_TYPE, Interned, record_type).unviewed(),
    optional!(col::MAILBOX, Few, mailbox),
    optional!(col::MAILBOX_GUID, Interned, mailbox_guid).unviewed(),
    optional!(col::ACTOR, Few, actor),
    optional!(col::ACTOR_SID, Few, actor_sid),
    optional!(col::LOGON_TYPE, Few, logon_type),
    optional!(col::CLIENT_IP, Few, client_ip),
    Def::new(col::CLIENT_PORT, Kind::ClientPort),
    optional!(col::CLIENT_HOST, Few, client_host).unviewed(),
    optional!(col::CLIENT_INFO, Few, client_info),
    optional!(col::SESSION_ID, Interned, session_id),
    optional!(col::AAD_SESSION_ID, Interned, aad_session_id),
    optional!(col::TOKEN_ID, Interned, token_id),
    optional!(col::APP_ID, Few, app_id),
    optional!(col::CLIENT_APP_ID, Few, client_app_id),
    optional!(col::MAIL_ACCESS_TYPE, Few, mail_access_type),
    Def::new(col::IS_THROTTLED, Kind::IsThrottled),
    Def::new(col::OPERATION_COUNT, Kind::OperationCount),
    optional!(col::RESULT_STATUS, Interned, result_status).unviewed(),
    optional!(col::FOLDER_PATH, Few, folder_path),
    optional!(col::DETAIL, Few, detail),
    optional!(col::FORWARD_TO, Few, forward_to)
        .unviewed()
        .late(),
    optional!(col::FORWARDING, Few, forwarding).late(),
    optional!(col::EXPOSURE, Rare, exposure).late(),
    // Copies are merged after parsing (`copies`).
    Def::new(col::COPIES, Kind::Str(Repeats::Rare, |_, _| None, None)).late(),
];

/// The string columns of `records`, in frame order, with how their values repeat and are read.
fn record_strs() -> impl Iterator<Item = (&'static str, Repeats, Text)> {
    RECORDS.iter().filter_map(|d| match d.kind {
        Kind::Str(repeats, text, _) => Some((d.name, repeats, text)),
        _ => None,
    })
}

/// The string columns of `records` that a record's own text field is read back from.
pub(super) fn record_setters() -> impl Iterator<Item = (&'static str, SetText)> {
    RECORDS.iter().filter_map(|d| match d.kind {
        Kind::Str(_, _, Some(set)) => Some((d.name, set)),
        _ => None,
    })
}

/// An `Item` text field: read, and written back (`Frame::to_records`).
type ItemText = (
    for<'r> fn(&'r Item<'_>) -> Option<&'r str>,
    fn(&mut Item<'static>, Option<&str>),
);

/// A string column of `items`.
pub(super) struct ItemDef {
    pub name: &'static str,
    repeats: Repeats,
    /// Built in a `Columns::Views` frame.
    pub viewed: bool,
    /// `None` for `record_id`: the item's record's, not the item's own.
    pub text: Option<ItemText>,
}

/// A string column read from and written back to an optional text field of `Item`.
macro_rules! item_text {
    ($name:expr, $repeats:ident, $field:ident, $viewed:expr) => {
        ItemDef {
            name: $name,
            repeats: Repeats::$repeats,
            viewed: $viewed,
            text: Some((
                |it| it.$field.as_deref(),
                |it, v| it.$field = v.map(|s| Cow::Owned(s.to_string())),
            )),
        }
    };
}

/// The string columns of `items`, in frame order, between `record_row` (first) and `size`
/// (last): the one place they are declared (the builder, `conform`, `Columns::Views`, a case's
/// item lists and `Frame::to_records` follow it).
pub(super) const ITEM_STRS: &[ItemDef] = &[
    ItemDef {
        name: col::RECORD_ID,
        repeats: Repeats::Runs,
        viewed: false,
        text: None,
    },
    item_text!(col::FOLDER_PATH, Few, folder_path, true),
    item_text!(col::FOLDER_ID, Interned, folder_id, false),
    item_text!(col::INTERNET_MESSAGE_ID, Rare, internet_message_id, true),
    item_text!(
        col::INTERNET_MESSAGE_ID_RAW,
        Rare,
        internet_message_id_raw,
        false
    ),
    item_text!(col::SUBJECT, Few, subject, true),
    item_text!(col::ITEM_ID, Rare, item_id, true),
];

impl<'f> FrameBuilder<'f> {
    /// A builder with room for `capacity` records with `items` items in all, of `columns`.
    pub fn new(
        files: &'f [String],
        capacity: usize,
        items: usize,
        columns: Columns,
    ) -> FrameBuilder<'f> {
        FrameBuilder {
            files,
            rows: 0,
            time: Vec::with_capacity(capacity),
            source_line: Vec::with_capacity(capacity),
            client_port: Vec::with_capacity(capacity),
            is_throttled: Vec::with_capacity(capacity),
            operation_count: Vec::with_capacity(capacity),
            strs: record_strs()
                .map(|(n, r, _)| StrColumn::new(n, r, capacity, columns, false))
                .collect(),
            record_row: Vec::with_capacity(items),
            size: Vec::with_capacity(items),
            item_strs: ITEM_STRS
                .iter()
                .map(|d| StrColumn::new(d.name, d.repeats, items, columns, true))
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
        for (c, (_, _, text)) in self.strs.iter_mut().zip(record_strs()) {
            c.push(text(r, source));
        }
        for it in &r.items {
            self.push_item(self.rows, &r.record_id, it);
        }
        self.rows += 1;
    }

    fn push_item(&mut self, row: u32, record_id: &str, it: &Item) {
        self.record_row.push(row);
        self.size.push(it.size);
        for (c, d) in self.item_strs.iter_mut().zip(ITEM_STRS) {
            c.push(match d.text {
                Some((text, _)) => text(it),
                None => Some(record_id),
            });
        }
    }

    pub fn finish(self) -> PolarsResult<Frame> {
        let height = self.rows as usize;
        // A column not built is left out where it would stand.
        let mut strs = self.strs.into_iter().map(StrColumn::finish);
        let (mut time, mut source_line, mut client_port) = (
            Some(self.time),
            Some(self.source_line),
            Some(self.client_port),
        );
        let (mut is_throttled, mut operation_count) =
            (Some(self.is_throttled), Some(self.operation_count));
        let once = "each typed column once in RECORDS";
        let columns: Vec<Option<Column>> = RECORDS
            .iter()
            .map(|&Def { name, kind, .. }| match kind {
                Kind::Str(..) => strs.next().expect("one builder per string column"),
                Kind::Time => Some(
                    Int64Chunked::from_vec(name.into(), time.take().expect(once))
                        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                        .into_series()
                        .into_column(),
                ),
                Kind::SourceLine => Some(Column::new(name.into(), source_line.take().expect(once))),
                Kind::ClientPort => Some(Column::new(name.into(), client_port.take().expect(once))),
                Kind::IsThrottled => {
                    Some(Column::new(name.into(), is_throttled.take().expect(once)))
                }
                Kind::OperationCount => Some(Column::new(
                    name.into(),
                    operation_count.take().expect(once),
                )),
            })
            .collect();
        let records = DataFrame::new(height, columns.into_iter().flatten().collect())?;

        let item_height = self.record_row.len();
        let mut item_columns = vec![Column::new(col::RECORD_ROW.into(), self.record_row)];
        item_columns.extend(self.item_strs.into_iter().filter_map(StrColumn::finish));
        item_columns.push(Column::new(col::SIZE.into(), self.size));
        let items = DataFrame::new(item_height, item_columns)?;
        Ok(Frame {
            records,
            items,
            messages: super::messages::empty(),
        })
    }
}

/// A table read back (a saved case: its columns as text, those `columns` leaves out perhaps not read) in the shape a run builds for
/// `columns`: the columns `Columns::Views` leaves out dropped, those it holds as categoricals
/// cast into polars' global mapping, so that it stacks with the blocks built from evidence.
pub(super) fn conform(mut df: DataFrame, columns: Columns, items: bool) -> PolarsResult<DataFrame> {
    let strs: Vec<(&str, Repeats)> = if items {
        ITEM_STRS.iter().map(|d| (d.name, d.repeats)).collect()
    } else {
        record_strs()
            .map(|(name, repeats, _)| (name, repeats))
            .collect()
    };
    for (name, repeats) in &strs {
        if !columns.keeps(name, items) {
            if df.get_column_index(name).is_some() {
                df = df.drop(name)?;
            }
        } else if *repeats == Repeats::Few && columns == Columns::Views {
            let cast = categorical(df.column(name)?)?;
            df.replace(name, cast)?;
        }
    }
    Ok(df)
}

/// A text column as a categorical of the global mapping. Read from Parquet, a dictionary page
/// decodes to one view per distinct value, repeated: each distinct view (per chunk, whose
/// buffers its views point into) is looked up in the mapping once, not each row's text as a
/// cast does (that was 0.1 s of reading a 200k-record case, 0.4 s at 1M).
fn categorical(column: &Column) -> PolarsResult<Column> {
    let dtype = DataType::Categorical(Categories::global(), global_mapping());
    if column.dtype() != &DataType::String {
        return column.cast(&dtype);
    }
    let mapping = global_mapping();
    let text = column.as_materialized_series().str()?.clone();
    let mut chunks: Vec<PrimitiveArray<u32>> = Vec::with_capacity(text.chunks().len());
    let mut code_of: std::collections::HashMap<u128, u32, foldhash::fast::FixedState> =
        Default::default();
    for array in text.downcast_iter() {
        code_of.clear();
        let mut last: Option<(u128, u32)> = None;
        let mut codes: Vec<u32> = Vec::with_capacity(array.len());
        for (i, view) in array.views().iter().enumerate() {
            if !array.is_valid(i) {
                codes.push(0);
                continue;
            }
            let key = view.as_u128();
            let code = match last.filter(|(k, _)| *k == key) {
                Some((_, c)) => c,
                None => match code_of.get(&key) {
                    Some(&c) => c,
                    None => {
                        // SAFETY: `i` is below the array's length.
                        let s = unsafe { array.value_unchecked(i) };
                        let c = mapping.insert_cat(s)?;
                        code_of.insert(key, c);
                        c
                    }
                },
            };
            last = Some((key, code));
            codes.push(code);
        }
        chunks.push(PrimitiveArray::new(
            ArrowDataType::UInt32,
            codes.into(),
            array.validity().cloned(),
        ));
    }
    let codes = UInt32Chunked::from_chunk_iter(column.name().clone(), chunks);
    // SAFETY: every code was given by this mapping (`insert_cat`), or is under a null.
    let cats = unsafe { Categorical32Chunked::from_cats_and_dtype_unchecked(codes, dtype) };
    Ok(cats.into_series().into_column())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Conversion by view gives the codes a cast gives, over several chunks (whose views point
    /// into different buffers), with nulls and with inline and stored values.
    #[test]
    fn a_text_column_becomes_the_categorical_a_cast_gives() {
        let long = "a value longer than twelve bytes";
        let mut text = Series::new("x".into(), &[Some(long), None, Some("b"), Some(long)]);
        text.append(&Series::new(
            "x".into(),
            &[Some("c"), Some(long), None, Some("b")],
        ))
        .unwrap();
        assert_eq!(text.chunks().len(), 2);
        let got = categorical(&text.clone().into_column()).unwrap();
        let dtype = DataType::Categorical(Categories::global(), global_mapping());
        let want = text.cast(&dtype).unwrap();
        assert_eq!(got.dtype(), want.dtype());
        let physical = |s: &Series| s.to_physical_repr().into_owned();
        assert!(physical(got.as_materialized_series()).equals_missing(&physical(&want)));
        let back = got.cast(&DataType::String).unwrap();
        assert!(back.as_materialized_series().equals_missing(&text));
    }

    /// The tables are the frame's layout: a frame built from them has their columns, in their
    /// order, each once.
    #[test]
    fn a_frame_has_the_columns_of_the_tables_in_their_order() {
        let frame = FrameBuilder::new(&[], 0, 0, Columns::All)
            .finish()
            .expect("consistent columns");
        let records: Vec<&str> = RECORDS.iter().map(|d| d.name).collect();
        let names = |df: &DataFrame| -> Vec<String> {
            df.get_column_names()
                .iter()
                .map(|n| n.to_string())
                .collect()
        };
        assert_eq!(names(&frame.records), records);
        let mut items = vec![col::RECORD_ROW];
        items.extend(ITEM_STRS.iter().map(|d| d.name));
        items.push(col::SIZE);
        assert_eq!(names(&frame.items), items);
        let mut unique = records.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), records.len());
    }
}
