//! Baselines from the evidence itself, in one pass in time order: what each user (the acting
//! account, else the mailbox) showed before a value first appeared for them. A value first seen on a user's
//! first record is their baseline; one first seen later is new to them; one no user had in their
//! baseline is new to the tenant.

use std::collections::{HashMap, HashSet};

type FastHash = foldhash::fast::FixedState;

/// What a baseline is kept of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dim {
    Network,
    Client,
    App,
    LogonType,
    Rest,
    /// From `--ip-db`.
    Country,
    Asn,
}

#[derive(Default)]
pub struct Baseline<'a> {
    seen_users: HashSet<&'a str, FastHash>,
    /// (dimension, user, value) → new to the user when it first appeared.
    pair_new: HashMap<(Dim, &'a str, &'a str), bool, FastHash>,
    /// Values in some user's baseline.
    known: HashSet<(Dim, &'a str), FastHash>,
}

impl<'a> Baseline<'a> {
    /// Learn one record (called in time order): its values for `user`.
    pub fn learn(&mut self, user: Option<&'a str>, values: &[(Dim, &'a str)]) {
        let Some(u) = user else { return };
        let had_history = self.seen_users.contains(u);
        for &(d, x) in values {
            let known = &mut self.known;
            self.pair_new.entry((d, u, x)).or_insert_with(|| {
                if !had_history {
                    known.insert((d, x));
                }
                had_history
            });
        }
        self.seen_users.insert(u);
    }

    /// Was `x` new to `user` when it first appeared for them?
    pub fn new_to_user(&self, d: Dim, user: Option<&str>, x: &str) -> bool {
        user.is_some_and(|u| self.pair_new.get(&(d, u, x)).copied().unwrap_or(false))
    }

    /// Was `x` in no user's baseline?
    pub fn new_to_tenant(&self, d: Dim, x: &str) -> bool {
        !self.known.contains(&(d, x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_record_is_the_baseline() {
        let mut b = Baseline::default();
        b.learn(Some("a"), &[(Dim::Network, "office")]);
        b.learn(Some("a"), &[(Dim::Network, "home")]);
        b.learn(Some("b"), &[(Dim::Network, "home")]);
        b.learn(Some("b"), &[(Dim::Network, "evil")]);
        assert!(!b.new_to_user(Dim::Network, Some("a"), "office"));
        assert!(b.new_to_user(Dim::Network, Some("a"), "home"));
        assert!(!b.new_to_tenant(Dim::Network, "home"));
        assert!(b.new_to_tenant(Dim::Network, "evil"));
        assert!(!b.new_to_user(Dim::Network, None, "evil"));
    }
}
