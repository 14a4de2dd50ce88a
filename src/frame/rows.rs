//! Frame → records: the inverse of the builder, for callers that want rows (tests, small
//! inputs). The scope engine reads columns instead.

use super::{Frame, build, col, str_col, time_col};
use crate::model::{Item, Record};
use polars::prelude::*;

impl Frame {
    /// Every row as a `Record` with its items; `files` maps `source_file` back to file indices.
    pub fn to_records(&self, files: &[String]) -> PolarsResult<Vec<Record<'static>>> {
        let df = &self.records;
        let time = time_col(df)?;
        let source_file = str_col(df, col::SOURCE_FILE)?;
        let source_line: Vec<Option<u64>> = df.column(col::SOURCE_LINE)?.u64()?.iter().collect();
        let client_port: Vec<Option<u32>> = df.column(col::CLIENT_PORT)?.u32()?.iter().collect();
        let is_throttled: Vec<Option<bool>> =
            df.column(col::IS_THROTTLED)?.bool()?.iter().collect();
        let operation_count: Vec<Option<i64>> =
            df.column(col::OPERATION_COUNT)?.i64()?.iter().collect();
        let mut out: Vec<Record> = (0..df.height())
            .map(|i| Record {
                time: time[i],
                file: source_file[i]
                    .and_then(|p| files.iter().position(|f| f == p))
                    .unwrap_or(0) as u32,
                line: source_line[i].unwrap_or(0),
                client_port: client_port[i].and_then(|p| u16::try_from(p).ok()),
                is_throttled: is_throttled[i].unwrap_or(false),
                operation_count: operation_count[i],
                // Counted into the file's warnings when read; not kept in the frame.
                flags: 0,
                ..Record::default()
            })
            .collect();
        for (name, set) in build::record_setters() {
            // Cases written before a late column read it as null.
            for (r, v) in out.iter_mut().zip(str_col(df, name)?) {
                set(r, v);
            }
        }

        let it = &self.items;
        let rows: Vec<Option<u32>> = it.column(col::RECORD_ROW)?.u32()?.iter().collect();
        let size: Vec<Option<i64>> = it.column(col::SIZE)?.i64()?.iter().collect();
        let mut items: Vec<Item> = size
            .into_iter()
            .map(|size| Item {
                size,
                ..Item::default()
            })
            .collect();
        for d in build::ITEM_STRS {
            if let Some((_, set)) = d.text {
                for (item, v) in items.iter_mut().zip(str_col(it, d.name)?) {
                    set(item, v);
                }
            }
        }
        for (row, item) in rows.into_iter().zip(items) {
            if let Some(r) = row.and_then(|r| out.get_mut(r as usize)) {
                r.items.push(item);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Format;

    fn record(i: u32) -> Record<'static> {
        let long = "a value longer than twelve bytes";
        Record {
            time: 1_700_000_000_000_000 + i as i64,
            time_source: crate::model::time_source::AUDITDATA_CREATION_TIME,
            record_id: format!("id-{i:040}").into(),
            file: i % 2,
            line: i as u64 + 2,
            format: Some(Format::PurviewCsv),
            operation: "MailItemsAccessed".into(),
            mailbox: Some(format!("user{}@contoso.com", i % 3).into()),
            client_ip: (i % 4 != 0).then(|| "2001:db8::1".into()),
            client_port: (i % 5 == 0).then_some(443),
            client_info: Some(long.into()),
            is_throttled: i % 7 == 0,
            operation_count: Some(i as i64),
            items: (0..i % 3)
                .map(|k| Item {
                    folder_path: Some("\\Inbox".into()),
                    folder_id: Some(long.into()),
                    internet_message_id: Some(format!("m{i}.{k}@example.com").into()),
                    internet_message_id_raw: Some(format!("<M{i}.{k}@example.com>").into()),
                    size: Some(k as i64),
                    ..Item::default()
                })
                .collect(),
            ..Record::default()
        }
    }

    #[test]
    fn records_round_trip_through_interned_columns() {
        let files = vec!["/evidence/a.csv".to_string(), "/evidence/b.csv".to_string()];
        let records: Vec<Record> = (0..40_000).map(record).collect();
        let frame = Frame::from_records(&records, &files).unwrap();
        assert_eq!(frame.records.height(), records.len());
        assert_eq!(frame.to_records(&files).unwrap(), records);
    }

    #[test]
    fn views_read_the_frame_in_place_chunked_or_joined() {
        let files = vec!["/evidence/a.csv".to_string()];
        let records: Vec<Record> = (0..40_000).map(record).collect();
        let mut frame = Frame::from_records(&records, &files).unwrap();
        for joined in [false, true] {
            if joined {
                frame.rechunk().unwrap();
            } else {
                assert!(frame.records.column(col::MAILBOX).unwrap().n_chunks() > 1);
            }
            let v = frame.records_view().unwrap();
            let items = frame.items_view().unwrap();
            let items_of = crate::frame::ItemsOf::new(&items.record_row, records.len()).unwrap();
            for (i, r) in records.iter().enumerate() {
                assert_eq!(v.record_id.text(i), r.record_id);
                assert_eq!(v.mailbox.at(i), r.mailbox.as_deref());
                assert_eq!(v.client_ip.at(i), r.client_ip.as_deref());
                let ids: Vec<Option<&str>> = items_of
                    .of(i)
                    .map(|k| items.internet_message_id.at(k))
                    .collect();
                let expected: Vec<Option<&str>> = r
                    .items
                    .iter()
                    .map(|it| it.internet_message_id.as_deref())
                    .collect();
                assert_eq!(ids, expected);
            }
        }
        assert_eq!(frame.records.column(col::MAILBOX).unwrap().n_chunks(), 1);
        // Items out of record order are refused, not misread.
        assert!(crate::frame::ItemsOf::new(&[1, 0], 2).is_none());
    }

    #[test]
    fn selected_rows_keep_their_items() {
        let files = vec!["f".to_string()];
        let records: Vec<Record> = (0..50).map(record).collect();
        let frame = Frame::from_records(&records, &files).unwrap();
        let order: Vec<u32> = (0..50).rev().filter(|i| i % 4 != 1).collect();
        let picked = frame
            .select_rows(&order)
            .unwrap()
            .to_records(&files)
            .unwrap();
        let expected: Vec<Record> = order
            .iter()
            .map(|&i| Record {
                file: 0,
                ..records[i as usize].clone()
            })
            .collect();
        assert_eq!(picked, expected);
    }
}
