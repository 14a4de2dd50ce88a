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
//!   notes), `skipped` (paths skipped, with why) and `messages` (the inventories' messages).
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
    ]);
    // LZ4: a case is read far more often than written, and LZ4 pages decode several times
    // faster than zstd's for about 1.7x the size (0.13x the CSV instead of 0.08x).
    ParquetWriter::new(out)
        .with_compression(ParquetCompression::Lz4Raw)
        .with_key_value_metadata(Some(metadata))
        .finish(&mut records)?;
    Ok(())
}

/// Read a case from its bytes, in the shape of `columns`.
pub fn read(bytes: &[u8], columns: Columns) -> Result<Case, NotRead> {
    let unreadable = |e: PolarsError| NotRead::Unreadable(format!("damaged mailscope case: {e}"));
    let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
    let metadata = reader.get_metadata().map_err(|e| {
        NotRead::Unreadable(format!(
            "a Parquet file that cannot be read (damaged or cut short?): {e}"
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
    let wanted: Vec<String> = expected
        .records
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .chain(kept_items.iter().map(|n| format!("{ITEM_PREFIX}{n}")))
        .collect();
    let mut records = reader
        .with_columns(Some(wanted))
        .finish()
        .map_err(unreadable)?;
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
