//! A saved case: the frame of a run in one Parquet file, with the provenance of every input in
//! its key-value metadata, so that `scope`, `contexts`, `timeline` and `inspect` can run again
//! from it without re-reading the evidence — and several cases (each a share of an evidence set,
//! parsed on its own machine) can be read together.
//!
//! Layout (schema `mailscope.case.v1`, the value of the metadata key `mailscope.case.schema`):
//! - the rows are the frame's `records` table, every column as `export` writes it;
//! - each `items` column is a list column `item.<name>` on its record's row (record_row and
//!   record_id follow from the row);
//! - the metadata key `mailscope.case` holds JSON: `schema`, `tool`, `inputs` (each input's
//!   `FileSummary`: path, SHA-256, format, encoding, bytes, rows, duplicates, rejected rows and
//!   notes), `skipped` (paths skipped, with why) and `messages` (the inventories' messages);
//! - the metadata key `mailscope.case.data_sha256` holds the SHA-256 of every byte before the
//!   footer, checked before any page is decoded.
//!
//! A case is recognized by content: the Parquet magic, then the schema key.

use crate::frame::{Columns, Frame, FrameBuilder, col, conform, messages};
use crate::provenance::{FileSummary, SkippedOut};
use polars::prelude::*;
use polars_arrow::array::{Array, ListArray};

type LargeListArray = ListArray<i64>;
use polars_arrow::offset::OffsetsBuffer;
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "mailscope.case.v1";
const SCHEMA_KEY: &str = "mailscope.case.schema";
const PROVENANCE_KEY: &str = "mailscope.case";
/// The SHA-256 of the file up to its footer (every data page), checked before a page is
/// decoded: a case damaged or altered after it was written is an error, and no damaged page
/// reaches the Parquet decoder (which trusts the sizes pages declare).
const DATA_SHA256_KEY: &str = "mailscope.case.data_sha256";
const DATA_SHA256_PLACEHOLDER: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";
const ITEM_PREFIX: &str = "item.";
/// The `items` columns carried as lists (record_row and record_id follow from the row).
const ITEM_COLUMNS: &[&str] = &[
    col::FOLDER_PATH,
    col::FOLDER_ID,
    col::INTERNET_MESSAGE_ID,
    col::INTERNET_MESSAGE_ID_RAW,
    col::SUBJECT,
    col::ITEM_ID,
    col::SIZE,
];

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
    messages: Vec<messages::Message>,
}

/// `Provenance` as read back: names the run keeps as `&'static str` arrive as text.
#[derive(Deserialize)]
struct ReadProvenance {
    inputs: Vec<ReadInput>,
    skipped: Vec<SkippedOut>,
    messages: Vec<messages::Message>,
}

#[derive(Deserialize)]
struct ReadInput {
    path: String,
    sha256: String,
    bytes: u64,
    format: crate::model::Format,
    encoding: String,
    rows: u64,
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
                .map(|n| crate::parse::FileNote {
                    code: intern(&n.code),
                    message: n.message,
                })
                .collect(),
        }
    }
}

/// What a case file holds.
pub struct Case {
    /// The SHA-256 of the case file itself.
    pub sha256: String,
    /// The original inputs, as the run that wrote the case read them.
    pub inputs: Vec<FileSummary>,
    pub skipped: Vec<SkippedOut>,
    pub messages: Vec<messages::Message>,
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

/// Write `frame` with the run's provenance as a case.
pub fn write(
    frame: &Frame,
    inputs: &[FileSummary],
    skipped: &[SkippedOut],
    out: impl std::io::Write,
) -> PolarsResult<()> {
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
    for name in ITEM_COLUMNS {
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
        messages: messages::read(&frame.messages)?,
    };
    let json = serde_json::to_string(&provenance)
        .map_err(|e| polars_err!(ComputeError: "case provenance: {e}"))?;
    let metadata = polars::prelude::KeyValueMetadata::from_static(vec![
        (SCHEMA_KEY.into(), SCHEMA.into()),
        (PROVENANCE_KEY.into(), json),
        // Last, so that it is the last occurrence of its placeholder in the file.
        (DATA_SHA256_KEY.into(), DATA_SHA256_PLACEHOLDER.into()),
    ]);
    // LZ4: a case is read far more often than written, and LZ4 pages decode several times
    // faster than zstd's for about 1.7x the size (0.13x the CSV instead of 0.08x).
    let mut file = Vec::new();
    ParquetWriter::new(&mut file)
        .with_compression(ParquetCompression::Lz4Raw)
        .with_key_value_metadata(Some(metadata))
        .finish(&mut records)?;
    // The data's SHA-256 goes over the placeholder (same length: the footer keeps its layout).
    let footer = footer_start(&file)
        .ok_or_else(|| polars_err!(ComputeError: "the Parquet writer wrote no footer"))?;
    let digest = crate::input::sha256_hex(&file[..footer]);
    let at = memchr::memmem::rfind(&file[footer..], DATA_SHA256_PLACEHOLDER.as_bytes())
        .ok_or_else(|| polars_err!(ComputeError: "the case checksum placeholder is missing"))?;
    file[footer + at..footer + at + digest.len()].copy_from_slice(digest.as_bytes());
    let mut out = out;
    out.write_all(&file)?;
    Ok(())
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

/// Read a case from its bytes, in the shape of `columns`.
pub fn read(bytes: &[u8], columns: Columns) -> Result<Case, NotRead> {
    let unreadable = |e: PolarsError| NotRead::Unreadable(format!("damaged mailscope case: {e}"));
    // polars' Parquet reader trusts the sizes a footer declares (a damaged one made it ask for
    // 111 GB and abort); they are checked against the bytes first.
    footer_is_sound(bytes).map_err(|why| {
        NotRead::Unreadable(format!(
            "a Parquet file that cannot be read (damaged or cut short?): {why}"
        ))
    })?;
    let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
    let metadata = reader.get_metadata().map_err(|e| {
        NotRead::Unreadable(format!(
            "a Parquet file that cannot be read (damaged or cut short?): {e}"
        ))
    })?;
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
        return Err(NotRead::Unreadable(format!(
            "a Parquet file that declares {rows} rows and {unpacked} bytes of data in {} bytes (damaged?)",
            bytes.len()
        )));
    }
    let value = |key: &str| {
        metadata
            .key_value_metadata()
            .as_ref()?
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.clone())
    };
    let Some(schema) = value(SCHEMA_KEY) else {
        return Err(NotRead::NotCase(
            "a Parquet file that is no mailscope case (no mailscope.case.schema metadata)".into(),
        ));
    };
    if schema != SCHEMA {
        return Err(NotRead::Unreadable(format!(
            "a mailscope case of schema '{}', which this mailscope ({}) does not read: it reads {SCHEMA}; export the case again from the evidence",
            schema.chars().take(60).collect::<String>(),
            env!("CARGO_PKG_VERSION")
        )));
    }
    let provenance: ReadProvenance = value(PROVENANCE_KEY)
        .ok_or_else(|| NotRead::Unreadable("a mailscope case without its provenance".into()))
        .and_then(|json| {
            serde_json::from_str(&json).map_err(|e| {
                NotRead::Unreadable(format!(
                    "a mailscope case whose provenance is unreadable: {e}"
                ))
            })
        })?;
    let written = value(DATA_SHA256_KEY).ok_or_else(|| {
        NotRead::Unreadable("a mailscope case without the checksum of its data".into())
    })?;
    let footer = footer_start(bytes)
        .ok_or_else(|| NotRead::Unreadable("a mailscope case without a footer".into()))?;
    // One pass gives both: the data's hash (checked here) and the file's (for the report).
    use crate::input::hex;
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(&bytes[..footer]);
    let data_sha256 = hex(&hasher.clone().finalize());
    hasher.update(&bytes[footer..]);
    let sha256 = hex(&hasher.finalize());
    if data_sha256 != written {
        return Err(NotRead::Unreadable(
            "a mailscope case whose data does not match the SHA-256 it was written with (damaged, or altered after it was written)".into(),
        ));
    }
    crate::timing::phase("case: checksum");
    // Only the columns the run builds are decoded (for `scope`, not the item ids and folder
    // ids that make up most of a case's bytes).
    let expected = FrameBuilder::new(&[], 0, 0, columns)
        .finish()
        .map_err(unreadable)?;
    let kept_items: Vec<&str> = ITEM_COLUMNS
        .iter()
        .copied()
        .filter(|name| columns.keeps(name, true))
        .collect();
    // Cases written before records were merged from copies have no `copies` column.
    let has_copies = reader.schema().map_err(unreadable)?.contains(col::COPIES);
    let wanted: Vec<String> = expected
        .records
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| has_copies || n != col::COPIES)
        .chain(kept_items.iter().map(|n| format!("{ITEM_PREFIX}{n}")))
        .collect();
    let mut records = reader
        .with_columns(Some(wanted))
        .finish()
        .map_err(unreadable)?;
    if !has_copies {
        let nulls = Column::full_null(col::COPIES.into(), records.height(), &DataType::String);
        let at = records
            .get_column_index(col::DETAIL)
            .map_or(records.width(), |i| i + 1);
        records.insert_column(at, nulls).map_err(unreadable)?;
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
    Ok(Case {
        sha256,
        inputs: provenance
            .inputs
            .into_iter()
            .map(ReadInput::into_summary)
            .collect(),
        skipped: provenance.skipped,
        messages: provenance.messages,
        frame,
    })
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
