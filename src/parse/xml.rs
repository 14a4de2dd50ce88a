//! `SearchResult.xml`, mailbox and admin audit variants. Events are found by their `<Event` start
//! tags and parsed independently (in parallel) with quick-xml's streaming reader; nothing outside
//! an `<Event>` (XML declaration, DOCTYPE, entity declarations) is ever interpreted, so entity
//! expansion attacks have nothing to expand. Attributes are read with a tolerant scanner because
//! Microsoft's own documented example is not well-formed (`<ItemId="…" Subject="…" />`).

use super::mailbox::{derive_mailbox, forward_to, logon_type_name, summarize_params};
use super::{ParseOptions, ParsedFile, Reject, RejectKind, RowOutcome, derived_id, finish};
use crate::detect::find_event_tag;
use crate::ip;
use crate::model::{Format, Item, Record, normalized_message_id, time_source};
use std::borrow::Cow;

fn own(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_string())
}
use quick_xml::events::Event;
use rayon::prelude::*;

use crate::detect::xml_tag::{Attrs, scan_attributes};

/// One `<Event>` read: its attributes and its children's attributes, by container.
#[derive(Default, Debug)]
struct RawEvent {
    attrs: Attrs,
    /// (container element, child attributes), e.g. ("sourceitems", {itemid, subject, …}).
    children: Vec<(String, Attrs)>,
}

fn read_event(slice: &str) -> Result<RawEvent, String> {
    let mut reader = quick_xml::Reader::from_str(slice);
    reader.config_mut().check_end_names = false;
    let mut ev = RawEvent::default();
    let mut stack: Vec<String> = Vec::new();
    let mut started = false;
    loop {
        let pos = reader.buffer_position();
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if !started => {
                let raw: &str = &e;
                ev.attrs = scan_attributes(raw.strip_prefix("Event").unwrap_or(raw));
                started = true;
                // A self-closing `<Event …/>` is complete here.
                if slice[pos as usize..].trim_start().starts_with("<Event")
                    && is_self_closing(slice, pos as usize)
                {
                    return Ok(ev);
                }
                stack.push("event".into());
            }
            Ok(Event::Start(e)) => {
                let raw: &str = &e;
                push_child(&mut ev, &stack, raw);
                stack.push(element_name(raw));
            }
            Ok(Event::Empty(e)) => {
                let raw: &str = &e;
                push_child(&mut ev, &stack, raw);
            }
            Ok(Event::End(_)) => {
                stack.pop();
                if stack.is_empty() {
                    return Ok(ev);
                }
            }
            Ok(Event::Eof) => {
                return Err(if started {
                    "event not closed before end of file (truncated)".into()
                } else {
                    "no <Event> start tag".into()
                });
            }
            Ok(_) => {}
            Err(e) => {
                let what = format!(
                    "XML error at byte {} of the event: {e}",
                    reader.error_position()
                );
                return Err(if slice.contains("</Event") {
                    what
                } else {
                    format!("event not closed (truncated): {what}")
                });
            }
        }
    }
}

fn is_self_closing(slice: &str, pos: usize) -> bool {
    let rest = &slice[pos..];
    // The first '>' outside quotes ends the start tag.
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return rest[..i].ends_with('/'),
            _ => {}
        }
    }
    false
}

fn element_name(raw: &str) -> String {
    raw.split(|c: char| c.is_whitespace() || c == '=')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn push_child(ev: &mut RawEvent, stack: &[String], raw: &str) {
    let container = stack.last().cloned().unwrap_or_default();
    let attrs = scan_attributes(raw);
    if !attrs.is_empty() {
        ev.children.push((container, attrs));
    } else if container == "event" {
        // Container elements themselves (`<SourceItems>`) carry no attributes.
    }
}

pub fn parse(text: &str, admin: bool, opts: &ParseOptions) -> ParsedFile {
    // Event boundaries and their line numbers in one sequential pass.
    let mut starts: Vec<(usize, u64)> = Vec::new();
    let mut from = 0usize;
    let mut line = 1u64;
    let mut counted_to = 0usize;
    while let Some(i) = find_event_tag(&text[from..]) {
        let at = from + i;
        line += crate::input::count_newlines(&text.as_bytes()[counted_to..at]);
        counted_to = at;
        starts.push((at, line));
        from = at + 6;
    }
    let format = if admin {
        Format::AdminAuditXml
    } else {
        Format::MailboxAuditXml
    };
    let outcomes: Vec<RowOutcome> = (0..starts.len())
        .into_par_iter()
        .map(|k| {
            let (start, line) = starts[k];
            let end = starts.get(k + 1).map(|s| s.0).unwrap_or(text.len());
            match read_event(&text[start..end]) {
                Ok(ev) => {
                    let (mut r, date) = if admin {
                        admin_record(&ev)
                    } else {
                        mailbox_record(&ev)
                    };
                    r.line = line;
                    r.format = Some(format);
                    match date {
                        None => RowOutcome::Rejected(
                            Reject::new(line, RejectKind::BadTime, "event has no time attribute")
                                .at(start),
                        ),
                        Some(d) => match crate::time::parse_iso(&d) {
                            Some(t) => {
                                r.time = t;
                                r.time_source = if admin {
                                    time_source::RUN_DATE
                                } else {
                                    time_source::LAST_ACCESSED_WITH_OFFSET
                                };
                                RowOutcome::Ok(r)
                            }
                            None => RowOutcome::NeedsDate(r, d),
                        },
                    }
                }
                Err(reason) => {
                    RowOutcome::Rejected(Reject::new(line, RejectKind::BadXml, reason).at(start))
                }
            }
        })
        .collect();
    let rows = outcomes.len() as u64;
    finish(outcomes, rows, opts, Vec::new())
}

fn canonical(ev: &RawEvent) -> String {
    let mut s = String::new();
    for (k, v) in &ev.attrs {
        s.push_str(k);
        s.push('=');
        s.push_str(v);
        s.push('\u{1f}');
    }
    for (c, a) in &ev.children {
        s.push_str(c);
        for (k, v) in a {
            s.push_str(k);
            s.push('=');
            s.push_str(v);
            s.push('\u{1f}');
        }
    }
    s
}

fn mailbox_record(ev: &RawEvent) -> (Record<'static>, Option<String>) {
    let a = |k: &str| ev.attrs.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let s = |k: &str| a(k).map(own);
    let mut r = Record {
        record_id: derived_id("xml", &canonical(ev)).into(),
        operation: s("operation").unwrap_or_default(),
        result_status: s("operationresult"),
        logon_type: a("logontype").map(|t| logon_type_name(t).into()),
        folder_path: s("folderpathname"),
        client_info: s("clientinfostring"),
        mailbox_guid: a("mailboxguid").map(|g| g.to_ascii_lowercase().into()),
        actor: s("logonuserdn").or_else(|| s("logonuserdisplayname")),
        actor_sid: s("logonusersid"),
        session_id: s("sessionid"),
        app_id: s("appid"),
        client_app_id: s("clientappid"),
        workload: Some("Exchange".into()),
        ..Record::default()
    };
    r.set_client(ip::pick(
        [a("clientipaddress"), a("clientip")]
            .into_iter()
            .flatten()
            .map(|s| Cow::Owned(s.to_string())),
    ));
    if let Some(p) = a("operationproperties") {
        let l = p.to_ascii_lowercase();
        if l.contains("mailaccesstype:sync") {
            r.mail_access_type = Some("Sync".into());
        } else if l.contains("mailaccesstype:bind") {
            r.mail_access_type = Some("Bind".into());
        }
        r.is_throttled = l.contains("isthrottled:true");
    }
    r.mailbox = derive_mailbox(
        a("mailboxownerupn"),
        r.mailbox_guid.as_deref(),
        a("owner"),
        &r.operation,
        &[],
        None,
        r.actor.as_deref(),
    )
    .map(Cow::Owned);
    if a("itemsubject").is_some() || a("iteminternetmessageid").is_some() || a("itemid").is_some() {
        r.items.push(item_from(&ev.attrs, r.folder_path.as_deref()));
    }
    for (container, attrs) in &ev.children {
        if container.contains("folder")
            && !attrs
                .keys()
                .any(|k| k.contains("subject") || k.contains("messageid"))
        {
            let path = attrs.get("folderpathname").or(attrs.get("path"));
            r.items.push(Item {
                folder_path: path.map(|p| own(p)),
                folder_id: attrs.get("folderid").or(attrs.get("id")).map(|p| own(p)),
                ..Item::default()
            });
        } else {
            r.items.push(item_from(attrs, r.folder_path.as_deref()));
        }
    }
    (r, a("lastaccessed").map(str::to_string))
}

fn item_from(attrs: &Attrs, default_folder: Option<&str>) -> Item<'static> {
    let g = |k: &str| {
        attrs
            .get(k)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(own)
    };
    let raw = g("internetmessageid").or_else(|| g("iteminternetmessageid"));
    Item {
        folder_path: g("folderpathname").or_else(|| default_folder.map(own)),
        folder_id: g("folderid"),
        internet_message_id: raw.as_ref().and_then(normalized_message_id),
        internet_message_id_raw: raw,
        subject: g("subject").or_else(|| g("itemsubject")),
        item_id: g("itemid").or_else(|| g("id")),
        size: g("size")
            .or_else(|| g("sizeinbytes"))
            .and_then(|v| v.parse().ok()),
    }
}

fn admin_record(ev: &RawEvent) -> (Record<'static>, Option<String>) {
    let s = |k: &str| {
        ev.attrs
            .get(k)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let params: Vec<(String, String)> = ev
        .children
        .iter()
        .filter(|(c, _)| c == "cmdletparameters")
        .filter_map(|(_, a)| {
            Some((
                a.get("name")?.clone(),
                a.get("value").cloned().unwrap_or_default(),
            ))
        })
        .collect();
    let mut r = Record {
        record_id: derived_id("xml", &canonical(ev)).into(),
        operation: s("cmdlet").unwrap_or_default().into(),
        actor: s("caller").map(Cow::Owned),
        result_status: s("succeeded").map(Cow::Owned),
        workload: Some("Exchange".into()),
        record_type: Some("ExchangeAdmin".into()),
        ..Record::default()
    };
    r.mailbox = derive_mailbox(
        None,
        None,
        None,
        &r.operation,
        &params,
        s("objectmodified").as_deref(),
        r.actor.as_deref(),
    )
    .map(Cow::Owned);
    r.forward_to = forward_to(&params, None).map(Cow::Owned);
    r.forwarding = crate::parse::forwarding::forwarding_change(&r.operation, &params, |_| None)
        .map(|c| Cow::Owned(crate::parse::forwarding::to_column(&c)));
    let mut detail = summarize_params(&params);
    if let Some(o) = s("objectmodified") {
        detail = if detail.is_empty() {
            format!("ObjectModified={o}")
        } else {
            format!("{detail}; ObjectModified={o}")
        };
    }
    r.detail = if detail.is_empty() {
        None
    } else {
        Some(Cow::Owned(detail))
    };
    (r, s("rundate"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC_EXAMPLE: &str = r#"<Event MailboxGuid="6d4fbdae-e3ae-4530-8d0b-f62a14687939"
  Owner="PPLNSL-dom\david50001-1363917750"
  LastAccessed="2010-04-30T11:01:55.140625-07:00"
  Operation="HardDelete"
  OperationResult="Succeeded"
  LogonType="Admin"
 FolderId="0000000073098C3277988F4CB882F5B82EBF64610100A7C317F68C24304BBD18ABE1F185E79B00000026BD4F0000"
  FolderPathName="\Recoverable Items\Deletions"
  ClientInfoString="Client=OWA;Action=ViaProxy"
  ClientIPAddress="10.196.241.168"
  InternalLogonType="Owner"
  MailboxOwnerUPN="david@contoso.com"
  MailboxOwnerSid="S-1-5-21-290112810-296651436-1966561949-1151"
  CrossMailboxOperation="false"
  LogonUserDN="Administraor"
  LogonUserSid="S-1-5-21-290112810-296651436-1966561949-1149">
<SourceItems>
<ItemId="0000000073098C3277988F4CB882F5B82EBF64610700A7C317F68C24304BBD18ABE1F185E79B00000026BD4F0000A7C317F68C24304BBD18ABE1F185E79B00000026BD540"
   Subject="Notification of litigation hold"
   FolderPathName="\Recoverable Items\Deletions" />
</SourceItems>
</Event>"#;

    #[test]
    fn reads_microsofts_malformed_documentation_example() {
        let opts = ParseOptions::default();
        let p = parse(DOC_EXAMPLE, false, &opts);
        assert_eq!(p.rejects, vec![]);
        let r = &p.records[0];
        assert_eq!(crate::time::rfc3339(r.time), "2010-04-30T18:01:55.140625Z");
        assert_eq!(r.mailbox.as_deref(), Some("david@contoso.com"));
        assert_eq!(r.logon_type.as_deref(), Some("Admin"));
        assert_eq!(r.actor.as_deref(), Some("Administraor"));
        assert_eq!(r.items.len(), 1);
        assert_eq!(
            r.items[0].subject.as_deref(),
            Some("Notification of litigation hold")
        );
        assert!(
            r.items[0]
                .item_id
                .as_deref()
                .unwrap()
                .starts_with("0000000073098C")
        );
        assert_eq!(
            r.items[0].folder_path.as_deref(),
            Some("\\Recoverable Items\\Deletions")
        );
    }

    #[test]
    fn entities_are_not_expanded_and_truncation_is_reported() {
        let opts = ParseOptions::default();
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<SearchResults><Event MailboxOwnerUPN="x@y.com" Operation="FolderBind" LastAccessed="2024-01-01T00:00:00Z" FolderPathName="&b;"/>
<Event MailboxOwnerUPN="x@y.com" Operation="FolderBind" LastAccessed="2024-01-01T00:00:00Z"><SourceItems><Item Subject="s"#;
        let p = parse(bomb, false, &opts);
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].folder_path.as_deref(), Some("&b;"));
        assert_eq!(p.rejects.len(), 1);
        assert_eq!(p.rejects[0].line, 3);
        assert!(
            p.rejects[0].reason.contains("truncated"),
            "{}",
            p.rejects[0].reason
        );
    }
}
