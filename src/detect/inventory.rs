//! Message inventories told by structure: a CSV header's columns, a JSON record's keys. Values
//! never count (an attacker writes them).

use crate::model::Format;

/// The header shapes, recognized by their columns (lowercased, quotes removed).
pub fn recognize(lower: &[String]) -> Option<Format> {
    let has = |n: &str| lower.iter().any(|c| c == n);
    if has("messagetraceid") && has("recipientaddress") && has("senderaddress") {
        Some(Format::MessageTraceCsv)
    } else if has("sender_address")
        && has("message_id")
        && (has("origin_timestamp_utc") || has("origin_timestamp") || has("date_time_utc"))
    {
        Some(Format::MessageTraceReportCsv)
    } else if has("subject or title")
        && (has("item identity") || has("export item id") || has("document id"))
    {
        Some(Format::EdiscoveryItemsCsv)
    } else if has("internetmessageid") && has("networkmessageid") && has("recipientemailaddress") {
        Some(Format::EmailEventsCsv)
    } else if has("date-time")
        && has("message-id")
        && has("recipient-address")
        && has("sender-address")
    {
        Some(Format::MessageTrackingLog)
    } else {
        None
    }
}

/// The message inventory a JSON record with these top-level keys is, rather than an audit
/// record (`detect` finds the record's keys; values never count): Graph `exchangeMessageTrace`
/// (camelCase), or a PowerShell / Reporting Web Service message trace (PascalCase).
pub fn json_inventory<K: AsRef<str>>(keys: &[K]) -> Option<Format> {
    let has_all = |names: [&str; 3]| {
        names
            .iter()
            .all(|k| keys.iter().any(|key| key.as_ref() == *k))
    };
    let has = |name: &str| keys.iter().any(|key| key.as_ref() == name);
    // Elastic's integration keeps the API's object under `microsoft.online_message_trace`
    // (dropped when empty, so any of its keys will do), or the ECS copy of its id.
    if keys.iter().any(|k| {
        k.as_ref()
            .strip_prefix("microsoft.online_message_trace.")
            .is_some_and(|rest| !rest.is_empty())
    }) || (has("email.message_id") && has("email.local_id"))
    {
        Some(Format::ElasticMessageTraceJson)
    } else if has_all(["messageId", "senderAddress", "recipientAddress"]) {
        Some(Format::GraphMessageTraceJson)
    } else if has_all(["MessageId", "SenderAddress", "RecipientAddress"]) {
        Some(Format::MessageTraceJson)
    } else if has_all([
        "properties.InternetMessageId",
        "properties.NetworkMessageId",
        "properties.RecipientEmailAddress",
    ]) {
        Some(Format::EmailEventsJson)
    } else {
        None
    }
}
