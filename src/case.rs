//! A saved case: the frame of a run in one Parquet file, with the provenance of every input in
//! its key-value metadata, so that `scope`, `contexts`, `timeline` and `inspect` can run again
//! from it without re-reading the evidence — and several cases (each a share of an evidence set,
//! parsed on its own machine) can be read together.
//!
//! Layout (schema `mailscope.case.v3`, the value of the metadata key `mailscope.case.schema`):
//! - the rows are the frame's `records` table, every column as `export` writes it;
//! - each `items` column is a list column `item.<name>` on its record's row (record_row and
//!   record_id follow from the row);
//! - the metadata key `mailscope.case` holds JSON: `schema`, `tool`, `inputs` (each input's
//!   `FileSummary`: path, SHA-256, format, encoding, bytes, rows, duplicates, rejected rows and
//!   notes) and `skipped` (paths skipped, with why);
//! - the inventories' messages are a Parquet file of their own (the frame's `messages` table)
//!   inside the case, between the last data page and the footer, where no Parquet reader of
//!   the records looks: the metadata key `mailscope.case.messages` says where
//!   (`OFFSET+LENGTH`, 20 digits each);
//! - the metadata key `mailscope.case.checksum` holds the SHA-256 of the whole file as it was
//!   written with 64 `0`s in place of that value: every data page, every metadata key and value,
//!   the schema and the row groups. It is checked before any page is decoded, then every field
//!   of the provenance is validated (`validate`).
//!
//! A `mailscope.case.v2` case (messages as JSON in the metadata, `messages`) and a
//! `mailscope.case.v1` one are read too: v1's checksum, `mailscope.case.data_sha256`, covers
//! the data pages only, and the run says so.
//!
//! A case is recognized by content: the Parquet magic, then the schema key.

use crate::frame::{Columns, Frame, FrameBuilder, col, conform, messages};
use crate::provenance::{FileSummary, SkippedOut};
use crate::warning::WarningCode;
use polars::prelude::*;
use polars_arrow::array::{Array, ListArray};

type LargeListArray = ListArray<i64>;
use polars_arrow::offset::OffsetsBuffer;
use serde::{Deserialize, Serialize};

/// The schema this build writes.
pub const SCHEMA: &str = "mailscope.case.v3";
/// The schema before the messages were a table of their own: they are JSON in the metadata.
pub const SCHEMA_V2: &str = "mailscope.case.v2";
/// The first schema, still read: its checksum covers the data pages only, not the metadata.
pub const SCHEMA_V1: &str = "mailscope.case.v1";
const SCHEMA_KEY: &str = "mailscope.case.schema";
const PROVENANCE_KEY: &str = "mailscope.case";
/// v3: where the messages' Parquet file is, `OFFSET+LENGTH` in bytes, 20 digits each.
const MESSAGES_KEY: &str = "mailscope.case.messages";
const MESSAGES_PLACEHOLDER: &str = "00000000000000000000+00000000000000000000";
/// v2: the SHA-256 of the whole file as written with `CHECKSUM_PLACEHOLDER` in place of this
/// value, checked before a page is decoded: a case damaged or altered after it was written (a
/// data page, an input's SHA-256, a count, a subject, a row group) is an error, and no damaged
/// page reaches the Parquet decoder (which trusts the sizes pages declare).
const CHECKSUM_KEY: &str = "mailscope.case.checksum";
/// v1: the SHA-256 of the file up to its footer (every data page), and nothing else.
const DATA_SHA256_KEY: &str = "mailscope.case.data_sha256";
const CHECKSUM_PLACEHOLDER: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";
/// The `items` columns are carried as lists under this prefix (`frame::item_own_columns`).
const ITEM_PREFIX: &str = "item.";

/// Whether bytes start like a Parquet file (a case, or some other Parquet file).
pub fn is_parquet(head: &[u8]) -> bool {
    head.starts_with(b"PAR1")
}

#[derive(Serialize)]
struct Provenance<'a> {
    schema: &'a str,
    tool: String,
    inputs: &'a [FileSummary],
    skipped: &'a [SkippedOut],
}

/// `Provenance` as read back: names the run keeps as `&'static str` arrive as text. Every field
/// is required and no other is allowed: a case holds what a build of its schema wrote, or it is
/// refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadProvenance {
    schema: String,
    tool: String,
    inputs: Vec<ReadInput>,
    skipped: Vec<SkippedOut>,
    /// v1 and v2 only (v3 has them as a table).
    #[serde(default)]
    messages: Option<Vec<messages::Message>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadInput {
    path: String,
    sha256: String,
    bytes: u64,
    format: crate::model::Format,
    encoding: String,
    rows: u64,
    records: u64,
    duplicates: u64,
    rejected: u64,
    #[serde(default)]
    not_mailbox_audit: u64,
    #[serde(default)]
    inventory_rows: u64,
    first_time: Option<String>,
    last_time: Option<String>,
    rejects: Vec<crate::parse::Reject>,
    notes: Vec<ReadNote>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadNote {
    code: String,
    message: String,
}

impl ReadInput {
    /// The input as the run that wrote the case summed it up; its records are counted again
    /// as the case's rows are merged (a record may be a duplicate of another case's).
    fn into_summary(self) -> FileSummary {
        use crate::provenance::intern;
        FileSummary {
            path: self.path,
            sha256: self.sha256,
            bytes: self.bytes,
            format: self.format,
            encoding: intern(&self.encoding),
            rows: self.rows,
            records: 0,
            duplicates: self.duplicates,
            rejected: self.rejected,
            not_mailbox_audit: self.not_mailbox_audit,
            inventory_rows: self.inventory_rows,
            first_time: self.first_time,
            last_time: self.last_time,
            first_micros: None,
            last_micros: None,
            rejects: self.rejects,
            notes: self
                .notes
                .into_iter()
                // `validate` refused a case with a code no version of mailscope writes.
                .filter_map(|n| {
                    Some(crate::parse::FileNote {
                        code: WarningCode::from_name(&n.code)?,
                        message: n.message,
                    })
                })
                .collect(),
        }
    }
}

/// What a case file holds.
pub struct Case {
    /// The SHA-256 of the case file itself.
    pub sha256: String,
    /// `SCHEMA`, `SCHEMA_V2`, or `SCHEMA_V1` (whose checksum left the metadata out).
    pub schema: &'static str,
    /// The size of the case file.
    pub bytes: u64,
    /// The original inputs, as the run that wrote the case read them.
    pub inputs: Vec<FileSummary>,
    pub skipped: Vec<SkippedOut>,
    pub messages: Vec<messages::Message>,
    /// Written before forwarding changes were read (no `forwarding` column): its records open
    /// no forwarding window.
    pub without_forwarding: bool,
    /// Written before content searches, grants and search texts were read (no `exposure`
    /// column): its records assemble no search and link no grantee.
    pub without_exposure: bool,
    /// The records and items, in the shape of `columns`, `source_file` the original input's.
    pub frame: Frame,
}

/// Why bytes are no case that can be read.
#[derive(Debug)]
pub enum NotRead {
    /// Parquet, but not a mailscope case (skipped like any other non-export).
    NotCase(String),
    /// A mailscope case this build cannot read, or a damaged one (an error).
    Unreadable(String),
}

/// Write `frame` with the run's provenance as a case; returns the SHA-256 of the file written.
pub fn write(
    frame: &Frame,
    inputs: &[FileSummary],
    skipped: &[SkippedOut],
    out: impl std::io::Write,
) -> PolarsResult<String> {
    let mut records = frame.records.clone();
    let height = records.height();
    let record_row: Vec<u32> = frame
        .items
        .column(col::RECORD_ROW)?
        .u32()?
        .iter()
        .map(|r| r.unwrap_or(0))
        .collect();
    // Items are grouped by record in row order: each record's list is a range of them.
    let mut offsets = vec![0i64; height + 1];
    for &r in &record_row {
        offsets[r as usize + 1] += 1;
    }
    for i in 0..height {
        offsets[i + 1] += offsets[i];
    }
    let offsets = OffsetsBuffer::try_from(offsets)?;
    for name in crate::frame::item_own_columns() {
        let values = frame.items.column(name)?.as_materialized_series().rechunk();
        let values: Box<dyn Array> = match values.chunks().first() {
            Some(a) => a.clone(),
            None => {
                polars_arrow::array::new_empty_array(values.dtype().to_arrow(CompatLevel::newest()))
            }
        };
        let dtype = LargeListArray::default_datatype(values.dtype().clone());
        let list = LargeListArray::try_new(dtype, offsets.clone(), values, None)?;
        let series = Series::from_arrow(format!("{ITEM_PREFIX}{name}").into(), Box::new(list))?;
        records.with_column(series.into_column())?;
    }
    let provenance = Provenance {
        schema: SCHEMA,
        tool: format!("mailscope {}", env!("CARGO_PKG_VERSION")),
        inputs,
        skipped,
    };
    let json = serde_json::to_string(&provenance)
        .map_err(|e| polars_err!(ComputeError: "case provenance: {e}"))?;
    let metadata = polars::prelude::KeyValueMetadata::from_static(vec![
        (SCHEMA_KEY.into(), SCHEMA.into()),
        (PROVENANCE_KEY.into(), json),
        (MESSAGES_KEY.into(), MESSAGES_PLACEHOLDER.into()),
        // Last, so that it is the last occurrence of its placeholder in the file.
        (CHECKSUM_KEY.into(), CHECKSUM_PLACEHOLDER.into()),
    ]);
    // LZ4: a case is read far more often than written, and LZ4 pages decode several times
    // faster than zstd's for about 1.7x the size (0.13x the CSV instead of 0.08x).
    let mut outer = Vec::new();
    ParquetWriter::new(&mut outer)
        .with_compression(ParquetCompression::Lz4Raw)
        .with_key_value_metadata(Some(metadata))
        .finish(&mut records)?;
    // The messages, a Parquet file of their own (zstd: read once a run, as a whole), go
    // between the records' last page and their footer; the footer's offsets are those of the
    // pages before, which do not move.
    let mut inner = Vec::new();
    ParquetWriter::new(&mut inner)
        .with_compression(ParquetCompression::Zstd(None))
        .finish(&mut frame.messages.clone())?;
    let footer = footer_start(&outer)
        .ok_or_else(|| polars_err!(ComputeError: "the Parquet writer wrote no footer"))?;
    let at = memchr::memmem::rfind(&outer[footer..], MESSAGES_PLACEHOLDER.as_bytes())
        .ok_or_else(|| polars_err!(ComputeError: "the case messages placeholder is missing"))?;
    let place = format!("{footer:020}+{:020}", inner.len());
    outer[footer + at..footer + at + place.len()].copy_from_slice(place.as_bytes());
    let mut file = Vec::with_capacity(outer.len() + inner.len());
    file.extend_from_slice(&outer[..footer]);
    file.extend_from_slice(&inner);
    file.extend_from_slice(&outer[footer..]);
    drop(outer);
    // The checksum of the whole file goes over its placeholder (same length: the footer keeps
    // its layout).
    let footer = footer_start(&file)
        .ok_or_else(|| polars_err!(ComputeError: "the Parquet writer wrote no footer"))?;
    let at = memchr::memmem::rfind(&file[footer..], CHECKSUM_PLACEHOLDER.as_bytes())
        .ok_or_else(|| polars_err!(ComputeError: "the case checksum placeholder is missing"))?;
    let checksum = crate::input::sha256_hex(&file);
    file[footer + at..footer + at + checksum.len()].copy_from_slice(checksum.as_bytes());
    let mut out = out;
    out.write_all(&file)?;
    Ok(crate::input::sha256_hex(&file))
}

/// The messages of a v3 case: the Parquet file at `place` (`OFFSET+LENGTH`), which lies
/// between the records' pages and their footer (at `footer`); its columns are the frame's
/// `messages` table's exactly. The bytes are those the checksum covered.
fn messages_table(
    bytes: &[u8],
    footer: usize,
    place: &str,
) -> Result<Vec<messages::Message>, NotRead> {
    let damaged = |why: String| {
        NotRead::Unreadable(format!(
            "a mailscope case whose messages table cannot be read (damaged?): {why}"
        ))
    };
    let (offset, len) = place
        .split_once('+')
        .filter(|(o, l)| o.len() == 20 && l.len() == 20)
        .and_then(|(o, l)| Some((o.parse::<usize>().ok()?, l.parse::<usize>().ok()?)))
        .ok_or_else(|| damaged(format!("its place {} is no OFFSET+LENGTH", quoted(place))))?;
    let inner = offset
        .checked_add(len)
        .filter(|&end| offset >= 4 && end <= footer)
        .map(|end| &bytes[offset..end])
        .ok_or_else(|| {
            damaged(format!(
                "{len} bytes at {offset} are not between the records and the footer (at {footer})"
            ))
        })?;
    if !is_parquet(inner) {
        return Err(damaged(format!("no Parquet file at {offset}")));
    }
    let (reader, _) = sound_reader(inner).map_err(damaged)?;
    let table = reader.finish().map_err(|e| damaged(e.to_string()))?;
    let want = messages::empty();
    let same = table.width() == want.width()
        && table
            .columns()
            .iter()
            .zip(want.columns())
            .all(|(g, w)| g.name() == w.name() && g.dtype() == w.dtype());
    if !same {
        return Err(damaged(format!(
            "its columns are not those of {SCHEMA}: {}",
            table
                .get_column_names()
                .iter()
                .take(40)
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    messages::read(&table).map_err(|e| damaged(e.to_string()))
}

type SliceReader<'b> = ParquetReader<std::io::Cursor<&'b [u8]>>;

/// A Parquet reader of `bytes` and their footer's metadata, once the footer is sound (polars'
/// Parquet reader trusts the sizes a footer declares: a damaged one made it ask for 111 GB and
/// abort) and declares no more rows or data than the bytes can unpack to.
fn sound_reader(bytes: &[u8]) -> Result<(SliceReader<'_>, FileMetadataRef), String> {
    footer_is_sound(bytes)?;
    let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
    let metadata = reader.get_metadata().map_err(|e| e.to_string())?.clone();
    let (rows, unpacked) = metadata
        .row_groups
        .iter()
        .fold((0usize, 0usize), |(r, b), g| {
            (
                r.saturating_add(g.num_rows()),
                b.saturating_add(g.total_byte_size()),
            )
        });
    let bound = bytes
        .len()
        .saturating_mul(MAX_EXPANSION)
        .saturating_add(1 << 20);
    if rows > bound || unpacked > bound || metadata.num_rows > bound {
        return Err(format!(
            "it declares {rows} rows and {unpacked} bytes of data in {} bytes (damaged?)",
            bytes.len()
        ));
    }
    Ok((reader, metadata))
}

/// Where a Parquet file's footer starts (its data pages end), if its length fits the file.
fn footer_start(bytes: &[u8]) -> Option<usize> {
    let n = bytes.len();
    if n < 12 {
        return None;
    }
    let len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().ok()?) as usize;
    (n - 8).checked_sub(len).filter(|&start| start >= 4)
}

/// Read the case at `path`, in the shape of `columns`. A case is evidence too: whatever its
/// bytes, this answers — a panic inside the Parquet reader is caught and is an answer too.
pub fn open(path: &std::path::Path, columns: Columns, use_mmap: bool) -> Result<Case, NotRead> {
    let bytes = crate::input::read_file(path, use_mmap)
        .map_err(|e| NotRead::Unreadable(format!("cannot read: {e}")))?;
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read(&bytes, columns))).unwrap_or_else(
        |_| {
            Err(NotRead::Unreadable(
                "a Parquet file the Parquet reader failed on (damaged case?)".into(),
            ))
        },
    )
}

/// Read a case from its bytes, in the shape of `columns`.
pub fn read(bytes: &[u8], columns: Columns) -> Result<Case, NotRead> {
    let unreadable = |e: PolarsError| NotRead::Unreadable(format!("damaged mailscope case: {e}"));
    let (mut reader, metadata) = sound_reader(bytes).map_err(|why| {
        NotRead::Unreadable(format!(
            "a Parquet file that cannot be read (damaged or cut short?): {why}"
        ))
    })?;
    let value = |key: &str| {
        metadata
            .key_value_metadata()
            .as_ref()?
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.clone())
    };
    let Some(schema) = value(SCHEMA_KEY) else {
        // Other keys of a case without the schema's: a case altered until it was none.
        let case_keys = metadata.key_value_metadata().as_ref().is_some_and(|kvs| {
            kvs.iter()
                .any(|kv| kv.key == PROVENANCE_KEY || kv.key.starts_with("mailscope.case."))
        });
        if case_keys {
            return Err(NotRead::Unreadable(
                "a mailscope case without its schema key (damaged, or altered after it was written)".into(),
            ));
        }
        return Err(NotRead::NotCase(
            "a Parquet file that is no mailscope case (no mailscope.case.schema metadata)".into(),
        ));
    };
    let schema: &'static str = match schema.as_str() {
        SCHEMA => SCHEMA,
        SCHEMA_V2 => SCHEMA_V2,
        SCHEMA_V1 => SCHEMA_V1,
        other => {
            return Err(NotRead::Unreadable(format!(
                "a mailscope case of schema '{}', which this mailscope ({}) does not read: it reads {SCHEMA}, {SCHEMA_V2} and {SCHEMA_V1}; export the case again from the evidence",
                other.chars().take(60).collect::<String>(),
                env!("CARGO_PKG_VERSION")
            )));
        }
    };
    let footer = footer_start(bytes)
        .ok_or_else(|| NotRead::Unreadable("a mailscope case without a footer".into()))?;
    // Checked before anything in the metadata is believed: the checksum and the file's SHA-256
    // (for the report) in one pass over the bytes.
    let sha256 = if schema != SCHEMA_V1 {
        let written = value(CHECKSUM_KEY)
            .ok_or_else(|| NotRead::Unreadable("a mailscope case without its checksum".into()))?;
        checked_sha256(bytes, footer, &written)?
    } else {
        let written = value(DATA_SHA256_KEY).ok_or_else(|| {
            NotRead::Unreadable("a mailscope case without the checksum of its data".into())
        })?;
        checked_sha256_v1(bytes, footer, &written)?
    };
    let mut provenance: ReadProvenance = value(PROVENANCE_KEY)
        .ok_or_else(|| NotRead::Unreadable("a mailscope case without its provenance".into()))
        .and_then(|json| {
            serde_json::from_str(&json).map_err(|e| {
                NotRead::Unreadable(format!(
                    "a mailscope case whose provenance is unreadable: {e}"
                ))
            })
        })?;
    let altered = |why: String| {
        NotRead::Unreadable(format!(
            "a mailscope case whose metadata is not what mailscope writes (altered?): {why}"
        ))
    };
    validate(&provenance, schema).map_err(altered)?;
    let case_messages = match (schema, provenance.messages.take()) {
        (SCHEMA, None) => match value(MESSAGES_KEY) {
            Some(place) => messages_table(bytes, footer, &place)?,
            None => return Err(altered("no mailscope.case.messages".into())),
        },
        (SCHEMA, Some(_)) => {
            return Err(altered(format!(
                "messages in the provenance, which {SCHEMA} keeps as a table"
            )));
        }
        (_, Some(listed)) => listed,
        (_, None) => return Err(altered("no messages".into())),
    };
    validate_messages(&case_messages, &provenance.inputs).map_err(altered)?;
    crate::timing::phase("case: checksum");
    // Only the columns the run builds are decoded (for `scope`, not the item ids and folder
    // ids that make up most of a case's bytes).
    let expected = FrameBuilder::new(&[], 0, 0, columns)
        .finish()
        .map_err(unreadable)?;
    let kept_items: Vec<&str> = crate::frame::item_own_columns()
        .filter(|name| columns.keeps(name, true))
        .collect();
    // Columns added after v2 was first written: older cases read them as null (`copies`
    // before records were merged from copies, `forward_to` and `forwarding` before they were
    // derived).
    let written = reader.schema().map_err(unreadable)?;
    let without_forwarding = !written.contains(col::FORWARDING);
    let without_exposure = !written.contains(col::EXPOSURE);
    let absent: Vec<String> = crate::frame::late_columns()
        .filter(|name| !written.contains(name))
        .map(str::to_string)
        .collect();
    let in_order: Vec<String> = expected
        .records
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .chain(kept_items.iter().map(|n| format!("{ITEM_PREFIX}{n}")))
        .collect();
    let wanted: Vec<String> = in_order
        .iter()
        .filter(|n| !absent.contains(n))
        .cloned()
        .collect();
    let mut records = reader
        .with_columns(Some(wanted))
        .finish()
        .map_err(unreadable)?;
    if in_order.iter().any(|n| absent.contains(n)) {
        for name in in_order.iter().filter(|n| absent.contains(n)) {
            let nulls = Column::full_null(name.into(), records.height(), &DataType::String);
            records.with_column(nulls).map_err(unreadable)?;
        }
        records = records.select(in_order).map_err(unreadable)?;
    }
    crate::timing::phase("case: Parquet read");
    let mut items: Vec<Column> = Vec::new();
    let mut record_row: Option<Vec<u32>> = None;
    for name in &kept_items {
        let list_name = format!("{ITEM_PREFIX}{name}");
        let list = records
            .column(&list_name)
            .and_then(|c| c.list().cloned())
            .map_err(unreadable)?;
        let list = list.rechunk();
        let array = list
            .downcast_iter()
            .next()
            .ok_or_else(|| NotRead::Unreadable("a case with an empty item column".into()))?;
        if record_row.is_none() {
            let offsets = array.offsets().as_slice();
            let mut rows = Vec::with_capacity(array.values().len());
            for (r, w) in offsets.windows(2).enumerate() {
                rows.extend(std::iter::repeat_n(r as u32, (w[1] - w[0]) as usize));
            }
            record_row = Some(rows);
        }
        let start = *array.offsets().first() as usize;
        let end = *array.offsets().last() as usize;
        let values = array.values().sliced(start, end - start);
        items.push(
            Series::from_arrow((*name).into(), values)
                .map_err(unreadable)?
                .into_column(),
        );
        records = records.drop(&list_name).map_err(unreadable)?;
    }
    let record_row = record_row.unwrap_or_default();
    let ids = if columns.keeps(col::RECORD_ID, true) {
        let rows: Vec<IdxSize> = record_row.iter().map(|&r| r as IdxSize).collect();
        let ids = records
            .column(col::RECORD_ID)
            .and_then(|c| c.take_slice(&rows))
            .map_err(unreadable)?;
        Some(ids.with_name(col::RECORD_ID.into()))
    } else {
        None
    };
    let mut item_columns = vec![Column::new(col::RECORD_ROW.into(), record_row)];
    item_columns.extend(ids);
    item_columns.extend(items);
    // The frame's item column order: record_row, the strings, size.
    let size = item_columns.remove(item_columns.len() - 1);
    item_columns.push(size);
    let height = item_columns[0].len();
    let items = DataFrame::new(height, item_columns).map_err(unreadable)?;
    crate::timing::phase("case: items unnested");
    let frame = Frame {
        records: conform(records, columns, false).map_err(unreadable)?,
        items: conform(items, columns, true).map_err(unreadable)?,
        messages: messages::empty(),
    };
    crate::timing::phase("case: columns conformed");
    // Stacked with frames built from evidence, a case must have their columns exactly.
    for (table, got, want) in [
        ("records", &frame.records, &expected.records),
        ("items", &frame.items, &expected.items),
    ] {
        let differs = |(g, w): (&Column, &Column)| g.name() != w.name() || g.dtype() != w.dtype();
        if got.width() != want.width() || got.columns().iter().zip(want.columns()).any(differs) {
            return Err(NotRead::Unreadable(format!(
                "a mailscope case whose {table} columns are not those of {SCHEMA} (altered?): {}",
                got.get_column_names()
                    .iter()
                    .take(40)
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    records_agree(&frame.records, &provenance.inputs).map_err(|why| {
        NotRead::Unreadable(format!(
            "a mailscope case whose rows do not agree with its metadata (altered?): {why}"
        ))
    })?;
    Ok(Case {
        sha256,
        schema,
        bytes: bytes.len() as u64,
        inputs: provenance
            .inputs
            .into_iter()
            .map(ReadInput::into_summary)
            .collect(),
        skipped: provenance.skipped,
        messages: case_messages,
        without_forwarding,
        without_exposure,
        frame,
    })
}

/// The file's SHA-256, once the v2 checksum `written` (found in the footer, which starts at
/// `footer`) is that of the file with the placeholder in its place.
fn checked_sha256(bytes: &[u8], footer: usize, written: &str) -> Result<String, NotRead> {
    use sha2::{Digest, Sha256};
    let altered = || {
        NotRead::Unreadable(
            "a mailscope case whose bytes (data or metadata) do not match the SHA-256 it was written with (damaged, or altered after it was written)".into(),
        )
    };
    if !is_sha256_hex(written) {
        return Err(altered());
    }
    // The value is the last of the metadata, after which the writer puts no text of its own:
    // its last occurrence in the footer is where it was written.
    let at =
        footer + memchr::memmem::rfind(&bytes[footer..], written.as_bytes()).ok_or_else(altered)?;
    let end = at + written.len();
    let mut file = Sha256::new();
    file.update(&bytes[..at]);
    let mut check = file.clone();
    check.update(CHECKSUM_PLACEHOLDER.as_bytes());
    check.update(&bytes[end..]);
    if crate::input::hex(&check.finalize()) != written {
        return Err(altered());
    }
    file.update(&bytes[at..]);
    Ok(crate::input::hex(&file.finalize()))
}

/// The file's SHA-256, once the v1 checksum `written` is that of the bytes before the footer.
fn checked_sha256_v1(bytes: &[u8], footer: usize, written: &str) -> Result<String, NotRead> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(&bytes[..footer]);
    let data_sha256 = crate::input::hex(&hasher.clone().finalize());
    hasher.update(&bytes[footer..]);
    if data_sha256 != written {
        return Err(NotRead::Unreadable(
            "a mailscope case whose data does not match the SHA-256 it was written with (damaged, or altered after it was written)".into(),
        ));
    }
    Ok(crate::input::hex(&hasher.finalize()))
}

/// 64 lowercase hex digits, as mailscope writes every SHA-256.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The encodings `input::decode` names (a case names one of them for each input).
const ENCODINGS: &[&str] = &[
    "utf-8",
    "utf-8-bom",
    "utf-8-with-invalid-bytes",
    "utf-16le",
    "utf-16be",
    "utf-16le-bom",
    "utf-16be-bom",
    "windows-1252",
];

/// No count in a case is larger (2^48 rows is far beyond any export): sums over any number of
/// inputs stay far from overflowing.
const MAX_COUNT: u64 = 1 << 48;

/// A value from a case, short and on one line, to say what is wrong with it.
fn quoted(s: &str) -> String {
    let mut q: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        q.push('…');
    }
    format!("'{}'", q.escape_debug())
}

/// A path from a case, on one line and at most its last 80 characters.
fn quoted_path(s: &str) -> String {
    let n = s.chars().count();
    let tail: String = s.chars().skip(n.saturating_sub(80)).collect();
    format!("'{}{}'", if n > 80 { "…" } else { "" }, tail.escape_debug())
}

/// Every field of a case's provenance as a run of `schema` writes it: the first one that is
/// not, said with where it is. What the rest of the run does with a case (index its rejects,
/// shorten its hashes, sum its counts, intern its names) may then rely on it.
fn validate(p: &ReadProvenance, schema: &str) -> Result<(), String> {
    if p.schema != schema {
        return Err(format!(
            "the provenance says schema {}, the file {schema}",
            quoted(&p.schema)
        ));
    }
    if p.tool.is_empty() || p.tool.len() > 200 || p.tool.chars().any(char::is_control) {
        return Err(format!("the tool {} is no tool name", quoted(&p.tool)));
    }
    for (n, input) in p.inputs.iter().enumerate() {
        validate_input(input)
            .map_err(|why| format!("input {} ({}): {why}", n + 1, quoted_path(&input.path)))?;
    }
    for (n, s) in p.skipped.iter().enumerate() {
        if s.path.is_empty() || s.reason.is_empty() {
            return Err(format!(
                "skipped path {}: a path and a reason are required",
                n + 1
            ));
        }
    }
    Ok(())
}

/// Each message of a case has an id, one of the case's inputs as its source, a line and a
/// source count.
fn validate_messages(messages: &[messages::Message], inputs: &[ReadInput]) -> Result<(), String> {
    let paths: std::collections::HashSet<&str> = inputs.iter().map(|i| i.path.as_str()).collect();
    for (n, m) in messages.iter().enumerate() {
        let why = if m.internet_message_id.is_empty() {
            Some("no message id".to_string())
        } else if !paths.contains(m.source_file.as_str()) {
            Some(format!(
                "its source file {} is none of the case's inputs",
                quoted_path(&m.source_file)
            ))
        } else if m.source_line == 0 {
            Some("source line 0 (lines count from 1)".into())
        } else if m.sources == 0 {
            Some("0 sources (a message comes from one row at least)".into())
        } else {
            None
        };
        if let Some(why) = why {
            return Err(format!("message {}: {why}", n + 1));
        }
    }
    Ok(())
}

fn validate_input(i: &ReadInput) -> Result<(), String> {
    if i.path.is_empty() || i.path.len() > 32_768 || i.path.contains('\0') {
        return Err("the path is empty, longer than 32768 bytes or holds a NUL".into());
    }
    if !is_sha256_hex(&i.sha256) {
        return Err(format!(
            "sha256 {} is not 64 lowercase hex digits",
            quoted(&i.sha256)
        ));
    }
    // A workbook's sheet names the kind of workbook it was read from (`workbook::KINDS`).
    let encoding = i.encoding.as_str();
    if !ENCODINGS.contains(&encoding) && !crate::workbook::KINDS.contains(&encoding) {
        return Err(format!("unknown encoding {}", quoted(&i.encoding)));
    }
    let counts = [
        ("bytes", i.bytes),
        ("rows", i.rows),
        ("records", i.records),
        ("duplicates", i.duplicates),
        ("rejected", i.rejected),
        ("not_mailbox_audit", i.not_mailbox_audit),
        ("inventory_rows", i.inventory_rows),
    ];
    if let Some((name, n)) = counts.iter().find(|(_, n)| *n > MAX_COUNT) {
        return Err(format!("{name} {n} is beyond any export (at most 2^48)"));
    }
    // Every row read is a record, a duplicate, a rejection, a row of another application or a
    // message inventory's row (a Defender streaming file can hold both kinds).
    let accounted = i.records + i.duplicates + i.rejected + i.not_mailbox_audit + i.inventory_rows;
    if accounted != i.rows {
        return Err(format!(
            "{} rows, of which {} records, {} duplicates, {} rejected, {} not mailbox audit, {} inventory rows: the counts do not add up",
            i.rows, i.records, i.duplicates, i.rejected, i.not_mailbox_audit, i.inventory_rows
        ));
    }
    if i.rejects.len() as u64 > i.rejected || (i.rejected > 0 && i.rejects.is_empty()) {
        return Err(format!(
            "{} rejected rows but {} listed",
            i.rejected,
            i.rejects.len()
        ));
    }
    if let Some(r) = i.rejects.iter().find(|r| r.line == 0) {
        return Err(format!(
            "a rejected row at line 0 (lines count from 1): {}",
            quoted(&r.reason)
        ));
    }
    let time = |t: &Option<String>, what: &str| -> Result<Option<crate::model::Micros>, String> {
        t.as_deref()
            .map(|t| {
                crate::time::parse_iso(t).ok_or_else(|| format!("{what} {} is no time", quoted(t)))
            })
            .transpose()
    };
    match (
        time(&i.first_time, "first_time")?,
        time(&i.last_time, "last_time")?,
    ) {
        (Some(a), Some(b)) if a > b => {
            return Err("first_time is after last_time".into());
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err("one of first_time and last_time without the other".into());
        }
        _ => {}
    }
    for n in &i.notes {
        if WarningCode::from_name(&n.code).is_none() {
            return Err(format!(
                "a note of code {}, which no version of mailscope writes",
                quoted(&n.code)
            ));
        }
    }
    Ok(())
}

/// Each input's records are the rows that name it as their source file, and every row names
/// one of the inputs.
fn records_agree(records: &DataFrame, inputs: &[ReadInput]) -> Result<(), String> {
    use std::collections::HashMap;
    let files = crate::frame::str_col(records, col::SOURCE_FILE).map_err(|e| e.to_string())?;
    let mut rows: HashMap<&str, u64> = HashMap::new();
    for (row, file) in files.iter().enumerate() {
        match file {
            Some(f) => *rows.entry(f).or_default() += 1,
            None => return Err(format!("row {} names no source file", row + 1)),
        }
    }
    let mut listed: HashMap<&str, u64> = HashMap::new();
    for i in inputs {
        *listed.entry(i.path.as_str()).or_default() += i.records;
    }
    if let Some(path) = rows.keys().find(|p| !listed.contains_key(*p)) {
        return Err(format!(
            "rows name {}, an input the case does not list",
            quoted_path(path)
        ));
    }
    for (path, n) in listed {
        let found = rows.get(path).copied().unwrap_or(0);
        if found != n {
            return Err(format!(
                "{} lists {n} records, and {found} rows name it",
                quoted_path(path)
            ));
        }
    }
    Ok(())
}

/// How many times its size a Parquet file may unpack to (LZ4 at most 255x).
const MAX_EXPANSION: usize = 256;

/// The footer of a Parquet file, checked before a reader decodes it: its length fits the file,
/// and every list, map and string the Thrift compact encoding declares fits in the bytes left,
/// nested at most 32 deep. A reader that sizes its buffers from those numbers then cannot be
/// made to ask for more memory than the footer's size allows.
fn footer_is_sound(bytes: &[u8]) -> Result<(), String> {
    let n = bytes.len();
    if n < 12 || !bytes.ends_with(b"PAR1") {
        return Err("the file does not end with the Parquet magic".into());
    }
    let len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().expect("4 bytes")) as usize;
    if len > n - 12 {
        return Err(format!("a footer of {len} bytes in a file of {n}"));
    }
    let mut walk = Thrift {
        bytes: &bytes[n - 8 - len..n - 8],
        at: 0,
    };
    walk.value(STRUCT, 0)
}

const STRUCT: u8 = 12;

/// A walk over Thrift compact-protocol bytes that only checks them.
struct Thrift<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Thrift<'_> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self
            .bytes
            .get(self.at)
            .ok_or_else(|| format!("the footer ends inside a value at byte {}", self.at))?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(format!(
            "an over-long number in the footer at byte {}",
            self.at
        ))
    }

    fn skip(&mut self, count: u64, what: &str) -> Result<(), String> {
        if count > self.left() as u64 {
            return Err(format!(
                "the footer declares a {what} of {count} at byte {}, with {} bytes left",
                self.at,
                self.left()
            ));
        }
        self.at += count as usize;
        Ok(())
    }

    /// A collection of `count` elements: each takes a byte at least.
    fn collection(&mut self, count: u64, kinds: &[u8], depth: u32) -> Result<(), String> {
        if count > self.left() as u64 {
            return Err(format!(
                "the footer declares a list of {count} elements at byte {}, with {} bytes left",
                self.at,
                self.left()
            ));
        }
        for _ in 0..count {
            for &kind in kinds {
                match kind {
                    // In a collection a boolean is a byte of its own.
                    1 | 2 => self.skip(1, "boolean")?,
                    _ => self.value(kind, depth + 1)?,
                }
            }
        }
        Ok(())
    }

    fn value(&mut self, kind: u8, depth: u32) -> Result<(), String> {
        if depth > 32 {
            return Err("the footer nests more than 32 deep".into());
        }
        match kind {
            1 | 2 => Ok(()),
            3 => self.skip(1, "byte"),
            4..=6 => self.varint().map(|_| ()),
            7 => self.skip(8, "double"),
            8 => {
                let len = self.varint()?;
                self.skip(len, "string")
            }
            9 | 10 => {
                let head = self.byte()?;
                let count = match head >> 4 {
                    15 => self.varint()?,
                    short => u64::from(short),
                };
                self.collection(count, &[head & 0x0f], depth)
            }
            11 => {
                let count = self.varint()?;
                if count == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                self.collection(count, &[kinds >> 4, kinds & 0x0f], depth)
            }
            STRUCT => loop {
                let head = self.byte()?;
                if head == 0 {
                    return Ok(());
                }
                if head >> 4 == 0 {
                    self.varint()?; // the field id, written in full
                }
                self.value(head & 0x0f, depth + 1)?;
            },
            13 => self.skip(16, "UUID"),
            other => Err(format!(
                "an unknown value type {other} in the footer at byte {}",
                self.at
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case_bytes() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/case/samples_v1.parquet"
        );
        std::fs::read(path).unwrap()
    }

    #[test]
    fn every_encoding_the_reader_names_is_one_a_case_may_list() {
        let named: std::collections::BTreeSet<&str> = [
            &b"a,b"[..],
            b"\xef\xbb\xbfa,b",
            b"\xff\xfea\0,\0b\0",
            b"\xfe\xff\0a\0,\0b",
            b"a\0,\0b\0c\0",
            b"\0a\0,\0b\0c",
            b"caf\xc3\xa9 \xff",
            b"caf\xe9",
        ]
        .iter()
        .map(|b| crate::input::decode(b).encoding)
        .collect();
        let listed: std::collections::BTreeSet<&str> = ENCODINGS.iter().copied().collect();
        assert_eq!(named, listed);
    }

    /// A case of no records whose messages table holds `message`, from one input.
    fn case_with_message(message: messages::Message) -> Vec<u8> {
        let mut frame = Frame::empty();
        frame.messages = messages::table(&[message]).unwrap();
        let input = FileSummary {
            path: "trace.csv".into(),
            sha256: "0".repeat(64),
            bytes: 100,
            format: crate::model::Format::MessageTraceCsv,
            encoding: "utf-8",
            rows: 1,
            records: 0,
            duplicates: 0,
            rejected: 0,
            not_mailbox_audit: 0,
            inventory_rows: 1,
            first_time: None,
            last_time: None,
            first_micros: None,
            last_micros: None,
            rejects: Vec::new(),
            notes: Vec::new(),
        };
        let mut out = Vec::new();
        write(&frame, &[input], &[], &mut out).unwrap();
        out
    }

    #[test]
    fn the_messages_table_of_a_case_is_validated_as_the_metadata_is() {
        let good = messages::Message {
            internet_message_id: "a@b".into(),
            subject: Some("Q1".into()),
            recipients: vec!["bob@contoso.com".into()],
            source_file: "trace.csv".into(),
            source_line: 2,
            sources: 1,
            ..messages::Message::default()
        };
        let case = read(&case_with_message(good.clone()), Columns::All)
            .ok()
            .unwrap();
        assert_eq!((case.schema, case.messages), (SCHEMA, vec![good.clone()]));
        for (bad, why) in [
            (
                messages::Message {
                    source_file: "/etc/passwd".into(),
                    ..good.clone()
                },
                "none of the case's inputs",
            ),
            (
                messages::Message {
                    source_line: 0,
                    ..good.clone()
                },
                "source line 0",
            ),
            (
                messages::Message {
                    internet_message_id: String::new(),
                    ..good.clone()
                },
                "no message id",
            ),
        ] {
            match read(&case_with_message(bad), Columns::All) {
                Err(NotRead::Unreadable(said)) => assert!(said.contains(why), "{said}"),
                _ => panic!("read: {why}"),
            }
        }
        // A byte of the table flipped: the checksum says so before the table is decoded.
        let bytes = case_with_message(good);
        let footer = footer_start(&bytes).unwrap();
        let mut flipped = bytes.clone();
        flipped[footer - 20] ^= 0x01;
        match read(&flipped, Columns::All) {
            Err(NotRead::Unreadable(said)) => assert!(said.contains("SHA-256"), "{said}"),
            _ => panic!("a flipped byte was read"),
        }
    }

    #[test]
    fn a_written_case_has_a_sound_footer() {
        assert_eq!(footer_is_sound(&case_bytes()), Ok(()));
    }

    #[test]
    fn a_footer_that_declares_more_than_it_holds_is_refused() {
        let bytes = case_bytes();
        let n = bytes.len();
        let len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
        let start = n - 8 - len;
        // The footer's first field is the version (i32); the second its schema list, whose
        // size byte says "15 or more, in a number that follows": make that number huge.
        let mut found = false;
        for i in start..n - 8 {
            if bytes[i] == 0x19 && bytes[i + 1] & 0xf0 == 0xf0 {
                let mut damaged = bytes[..i + 2].to_vec();
                damaged.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
                damaged.extend_from_slice(&bytes[i + 2..]);
                let total = (len + 5) as u32;
                let m = damaged.len();
                damaged[m - 8..m - 4].copy_from_slice(&total.to_le_bytes());
                let why = footer_is_sound(&damaged).unwrap_err();
                assert!(why.contains("declares a list of"), "{why}");
                found = true;
                break;
            }
        }
        assert!(found, "the schema list header was not found");
        // Cut short: the footer's length runs past the file.
        let mut cut = bytes.clone();
        cut[n - 8..n - 4].copy_from_slice(&(n as u32).to_le_bytes());
        assert!(footer_is_sound(&cut).unwrap_err().contains("a footer of"));
    }

    #[test]
    fn a_footer_damaged_anywhere_is_an_error_or_a_case_never_an_abort() {
        let bytes = case_bytes();
        // Bytes of the footer changed in turn: an answer, or a panic inside polars' reader
        // that ingest catches as it is caught here — never an abort, which nothing catches.
        let n = bytes.len();
        let len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
        let mut refused = 0;
        for i in (n - 8 - len..n - 8).step_by(7) {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0xf7;
            let read = std::panic::catch_unwind(|| read(&damaged, Columns::Views));
            refused += matches!(read, Ok(Err(_)) | Err(_)) as usize;
        }
        assert!(refused > 0);
    }
}
