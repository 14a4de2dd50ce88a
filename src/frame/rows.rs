//! Frame → records: the inverse of the builder, for callers that want rows (tests, small
//! inputs). The scope engine reads columns instead.

use super::{Frame, col, str_col, time_col};
use crate::model::{Format, Item, Record, time_source_name};
use polars::prelude::*;
use std::borrow::Cow;

fn owned(v: Option<&str>) -> Option<Cow<'static, str>> {
    v.map(|s| Cow::Owned(s.to_string()))
}

impl Frame {
    /// Every row as a `Record` with its items; `files` maps `source_file` back to file indices.
    pub fn to_records(&self, files: &[String]) -> PolarsResult<Vec<Record<'static>>> {
        let df = &self.records;
        let time = time_col(df)?;
        let s = |name| str_col(df, name);
        let (time_source, record_id, source_file, format) = (
            s(col::TIME_SOURCE)?,
            s(col::RECORD_ID)?,
            s(col::SOURCE_FILE)?,
            s(col::FORMAT)?,
        );
        let (workload, operation, record_type, mailbox, mailbox_guid) = (
            s(col::WORKLOAD)?,
            s(col::OPERATION)?,
            s(col::RECORD_TYPE)?,
            s(col::MAILBOX)?,
            s(col::MAILBOX_GUID)?,
        );
        let (actor, actor_sid, logon_type, client_ip, client_info) = (
            s(col::ACTOR)?,
            s(col::ACTOR_SID)?,
            s(col::LOGON_TYPE)?,
            s(col::CLIENT_IP)?,
            s(col::CLIENT_INFO)?,
        );
        let client_host = s(col::CLIENT_HOST)?;
        let (session_id, aad_session_id, token_id, app_id, client_app_id) = (
            s(col::SESSION_ID)?,
            s(col::AAD_SESSION_ID)?,
            s(col::TOKEN_ID)?,
            s(col::APP_ID)?,
            s(col::CLIENT_APP_ID)?,
        );
        let (mail_access_type, result_status, folder_path, detail) = (
            s(col::MAIL_ACCESS_TYPE)?,
            s(col::RESULT_STATUS)?,
            s(col::FOLDER_PATH)?,
            s(col::DETAIL)?,
        );
        // Cases written before the column read it as null.
        let forward_to = s(col::FORWARD_TO)?;
        let forwarding = s(col::FORWARDING)?;
        let exposure = s(col::EXPOSURE)?;
        let source_line: Vec<Option<u64>> = df.column(col::SOURCE_LINE)?.u64()?.iter().collect();
        let client_port: Vec<Option<u32>> = df.column(col::CLIENT_PORT)?.u32()?.iter().collect();
        let is_throttled: Vec<Option<bool>> =
            df.column(col::IS_THROTTLED)?.bool()?.iter().collect();
        let operation_count: Vec<Option<i64>> =
            df.column(col::OPERATION_COUNT)?.i64()?.iter().collect();

        let mut out: Vec<Record> = (0..df.height())
            .map(|i| Record {
                time: time[i],
                time_source: time_source_name(time_source[i].unwrap_or("")),
                record_id: record_id[i].unwrap_or("").to_string().into(),
                file: source_file[i]
                    .and_then(|p| files.iter().position(|f| f == p))
                    .unwrap_or(0) as u32,
                line: source_line[i].unwrap_or(0),
                format: format[i].and_then(Format::from_name),
                workload: owned(workload[i]),
                operation: operation[i].unwrap_or("").to_string().into(),
                record_type: owned(record_type[i]),
                mailbox: owned(mailbox[i]),
                mailbox_guid: owned(mailbox_guid[i]),
                actor: owned(actor[i]),
                actor_sid: owned(actor_sid[i]),
                logon_type: owned(logon_type[i]),
                client_ip: owned(client_ip[i]),
                client_port: client_port[i].and_then(|p| u16::try_from(p).ok()),
                client_host: owned(client_host[i]),
                client_info: owned(client_info[i]),
                session_id: owned(session_id[i]),
                aad_session_id: owned(aad_session_id[i]),
                token_id: owned(token_id[i]),
                app_id: owned(app_id[i]),
                client_app_id: owned(client_app_id[i]),
                mail_access_type: owned(mail_access_type[i]),
                is_throttled: is_throttled[i].unwrap_or(false),
                operation_count: operation_count[i],
                result_status: owned(result_status[i]),
                folder_path: owned(folder_path[i]),
                detail: owned(detail[i]),
                forward_to: owned(forward_to[i]),
                forwarding: owned(forwarding[i]),
                exposure: owned(exposure[i]),
                items: Vec::new(),
                // Counted into the file's warnings when read; not kept in the frame.
                flags: 0,
            })
            .collect();

        let it = &self.items;
        let rows: Vec<Option<u32>> = it.column(col::RECORD_ROW)?.u32()?.iter().collect();
        let si = |name| str_col(it, name);
        let (folder_path, folder_id, imid, imid_raw, subject, item_id) = (
            si(col::FOLDER_PATH)?,
            si(col::FOLDER_ID)?,
            si(col::INTERNET_MESSAGE_ID)?,
            si(col::INTERNET_MESSAGE_ID_RAW)?,
            si(col::SUBJECT)?,
            si(col::ITEM_ID)?,
        );
        let size: Vec<Option<i64>> = it.column(col::SIZE)?.i64()?.iter().collect();
        for i in 0..it.height() {
            let Some(r) = rows[i].and_then(|r| out.get_mut(r as usize)) else {
                continue;
            };
            r.items.push(Item {
                folder_path: owned(folder_path[i]),
                folder_id: owned(folder_id[i]),
                internet_message_id: owned(imid[i]),
                internet_message_id_raw: owned(imid_raw[i]),
                subject: owned(subject[i]),
                item_id: owned(item_id[i]),
                size: size[i],
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
