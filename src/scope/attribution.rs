//! Attribution (scope-rules.md, "Attribution"): every record in the window is trusted, attacker,
//! linked (shares a session with an attacker record, transitively) or other — first match wins.

use super::ScopeConfig;
use super::findings::Party;
use super::indicators::{self, Matcher};
use crate::frame::RecordsView;
use crate::model::{Micros, lowercased};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;

use super::FastHash;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribution {
    OutOfWindow,
    Trusted(String),
    Attacker(String),
    Linked(String),
    Other,
}

impl Attribution {
    pub fn party(&self) -> Party {
        match self {
            Attribution::OutOfWindow => Party::OutOfWindow,
            Attribution::Trusted(_) => Party::Trusted,
            Attribution::Attacker(_) => Party::Attacker,
            Attribution::Linked(_) => Party::Linked,
            Attribution::Other => Party::Other,
        }
    }
    pub fn label(&self) -> &'static str {
        self.party().as_str()
    }
    pub fn why(&self) -> Option<&str> {
        match self {
            Attribution::Trusted(w) | Attribution::Attacker(w) | Attribution::Linked(w) => Some(w),
            _ => None,
        }
    }
    pub fn is_attacker_activity(&self) -> bool {
        matches!(self, Attribution::Attacker(_) | Attribution::Linked(_))
    }
}

fn sessions_of(v: &RecordsView, i: usize) -> [Option<&str>; 3] {
    [v.session_id.at(i), v.aad_session_id.at(i), v.token_id.at(i)]
}

fn in_window(t: Micros, cfg: &ScopeConfig) -> bool {
    cfg.start.is_none_or(|s| t >= s) && cfg.end.is_none_or(|e| t < e)
}

/// What the indicators are matched against, for record `i`.
pub fn context_of(v: &RecordsView, i: usize) -> indicators::Context<'_> {
    indicators::Context {
        ip: v.client_ip.at(i),
        sessions: sessions_of(v, i),
        client_info: v.client_info.at(i),
        apps: [v.app_id.at(i), v.client_app_id.at(i)],
        actors: [v.actor.at(i), v.actor_sid.at(i)],
    }
}

/// Records that `--trusted-ip` took although they match an attacker indicator: trusted wins
/// (rule 1), so a range too wide hides the attacker, and the report must say so.
pub fn trusted_over_attacker(
    v: &RecordsView,
    attr: &[Attribution],
    m: &Matcher,
    own: &(dyn Fn(usize) -> bool + Sync),
) -> u64 {
    attr.par_iter()
        .enumerate()
        .filter(|(i, a)| {
            matches!(a, Attribution::Trusted(_))
                && own(*i)
                && m.attacker(&context_of(v, *i)).is_some()
        })
        .count() as u64
}

/// Attribute every record exactly once.
pub fn attribute(v: &RecordsView, cfg: &ScopeConfig, m: &Matcher) -> Vec<Attribution> {
    let n = v.time.len();
    let mut out: Vec<Attribution> = (0..n)
        .into_par_iter()
        .map(|i| {
            if !in_window(v.time[i], cfg) {
                return Attribution::OutOfWindow;
            }
            let c = context_of(v, i);
            if let Some(w) = m.trusted(&c) {
                Attribution::Trusted(w)
            } else if let Some(w) = m.attacker(&c) {
                Attribution::Attacker(w)
            } else {
                Attribution::Other
            }
        })
        .collect();
    let keys: Vec<[Option<Cow<str>>; 3]> = if cfg.session_link {
        (0..n)
            .into_par_iter()
            .map(|i| sessions_of(v, i).map(|s| s.map(|s| lowercased(Cow::Borrowed(s)))))
            .collect()
    } else {
        Vec::new()
    };
    // Sessions and grants link in turn until neither links more: a grantee's session is the
    // attacker's too, and a linked record's grant hands over access like the attacker's own.
    loop {
        if cfg.session_link {
            link_sessions(v, &mut out, &keys);
        }
        if !cfg.grant_link || !super::grants::link(v, &mut out) {
            break;
        }
    }
    out
}

/// Linking is transitive over sessions only: grow the attacker session set to a fixed point.
/// Session ids compare case-insensitively; `keys` holds each lowercased once.
fn link_sessions(v: &RecordsView, out: &mut [Attribution], keys: &[[Option<Cow<str>>; 3]]) {
    let n = out.len();
    let mut sessions: HashMap<&str, &str, FastHash> = HashMap::default();
    for i in 0..n {
        if out[i].is_attacker_activity() {
            for k in keys[i].iter().flatten() {
                sessions.entry(k).or_insert(v.record_id.text(i));
            }
        }
    }
    loop {
        let mut changed = false;
        for i in 0..n {
            if out[i] != Attribution::Other {
                continue;
            }
            let hit = sessions_of(v, i)
                .into_iter()
                .zip(&keys[i])
                .find_map(|(s, k)| Some((s?, *sessions.get(k.as_deref()?)?)));
            if let Some((s, shared_with)) = hit {
                out[i] = Attribution::Linked(format!(
                    "session {s} (shared with attacker record {shared_with})"
                ));
                for k in keys[i].iter().flatten() {
                    sessions.entry(k).or_insert(v.record_id.text(i));
                }
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}
