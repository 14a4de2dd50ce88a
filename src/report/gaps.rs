//! The indicator-gaps section, built once as `Prose` for every format.

use super::view::Prose;
use crate::scope::findings::IndicatorGap;

/// What each signal means, in the report's words.
fn signal_text(signal: &str) -> &'static str {
    match signal {
        "same-session" => "the same session or token id as attacker records",
        "same-app" => "the same app (not Microsoft first-party) as attacker records",
        "same-scripting-client" => "the same scripting client as attacker records",
        "new-network" => {
            "a network first seen after the attack began, on a mailbox the attacker touched, during the attack"
        }
        "same-account-no-ip" => {
            "a content search or grant with no client IP (no IP indicator can match it) by an account the attacker used"
        }
        _ => "a signal shared with attacker records",
    }
}

/// One gap: the signal, the shared value, how many records, where and when.
pub fn line(g: &IndicatorGap) -> Prose {
    Prose::default()
        .tool(format!("{}: ", signal_text(g.signal)))
        .evidence(&g.value)
        .tool(format!("  {} record(s) ", g.records))
        .time(&g.first_seen)
        .tool(" … ")
        .time(&g.last_seen)
        .tool("  mailboxes: ")
        .evidence_list(g.mailboxes.iter().map(String::as_str), ", ")
        .tool("  ip: ")
        .evidence_list(g.client_ips.iter().map(String::as_str), ", ")
        .tool("  (records: ")
        .evidence_list(g.record_ids.iter().map(String::as_str), ", ")
        .tool(if g.records as usize > g.record_ids.len() {
            ", …)"
        } else {
            ")"
        })
}

pub const TITLE: &str = "Indicator gaps (records not attributed to the attacker that share a strong signal with the attacker's: review them with `mailscope hunt`)";
