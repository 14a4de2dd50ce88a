//! What a mailbox's findings cannot show because of where its records came from: a SIEM that
//! dropped a field the rules use (`Format::dropped_fields`) cannot show what the field would
//! have shown. Said per mailbox, with the count of records concerned and their source shapes —
//! and only where no copy of the record held the field (`copies`).

use super::rules::{Access, Rows};
use crate::model::{DroppedField, Format};
use std::collections::BTreeSet;

/// The caveats of one mailbox: its records, and the attacker's among them.
pub fn source_caveats(r: Rows, mailbox_rows: &[usize], attacker_rows: &[usize]) -> Vec<String> {
    let lacking = |rows: &mut dyn Iterator<Item = usize>, field: DroppedField| {
        let mut formats = BTreeSet::new();
        let mut n = 0u64;
        for i in rows {
            let format = r.v.format.at(i).and_then(Format::from_name);
            // A record merged from copies may hold the field from another copy.
            let held = match field {
                DroppedField::SessionId => [&r.v.session_id, &r.v.aad_session_id, &r.v.token_id]
                    .iter()
                    .any(|c| c.at(i).is_some_and(|s| !s.is_empty())),
                DroppedField::OperationCount => r.v.operation_count[i].is_some(),
            };
            if held {
                continue;
            }
            if let Some(f) = format.filter(|f| f.dropped_fields().contains(&field)) {
                formats.insert(f.as_str());
                n += 1;
            }
        }
        (n, formats.into_iter().collect::<Vec<_>>().join(", "))
    };
    let mut caveats = Vec::new();
    let (n, formats) = lacking(&mut mailbox_rows.iter().copied(), DroppedField::SessionId);
    if n > 0 {
        caveats.push(format!(
            "Session linking could not run on {n} record(s) of this mailbox read from {formats}, which has no SessionId or AppAccessContext: records tied to the attacker only through a shared session are not found (name them by IP, client or app)."
        ));
    }
    let mut binds = attacker_rows
        .iter()
        .copied()
        .filter(|&i| r.access(i) == Access::Bind);
    let (n, formats) = lacking(&mut binds, DroppedField::OperationCount);
    if n > 0 {
        caveats.push(format!(
            "{n} attacker bind record(s) read from {formats}, which has no OperationCount: a bind that accessed more messages than it lists cannot be recognised, so the folders they name may hold more accessed messages than are listed."
        ));
    }
    caveats
}
