//! The states of recently used tenders, so that deciding a command or answering a read does
//! not replay the tender's events each time; bounded, so that a database of many finished
//! tenders does not end up in memory. The least recently used states go first. What every
//! replay cost is counted ([`ReplayCounts`]) and shown on `/metrics`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use tenderflow_core::Tender;

/// The state of a tender as of a committed head, kept to decide the next command without a
/// replay.
#[derive(Clone)]
pub(crate) struct Cached {
    pub(crate) seq: i64,
    pub(crate) hash: String,
    pub(crate) tender: Tender,
}

/// Tender states by id, at most `capacity` of them.
pub(crate) struct TenderCache {
    capacity: usize,
    clock: u64,
    entries: HashMap<String, (u64, Cached)>,
}

impl TenderCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            clock: 0,
            entries: HashMap::new(),
        }
    }

    /// The state of `tender_id`, marked as just used.
    pub(crate) fn get(&mut self, tender_id: &str) -> Option<&Cached> {
        self.clock += 1;
        let now = self.clock;
        self.entries.get_mut(tender_id).map(|(used, c)| {
            *used = now;
            &*c
        })
    }

    /// Keeps `c` as the state of `tender_id`: what a write just committed.
    pub(crate) fn insert(&mut self, tender_id: String, c: Cached) {
        self.put(tender_id, c, true);
    }

    /// Keeps `c` unless a later head is already kept: what a reader replayed, which may
    /// finish after a writer moved the tender on.
    pub(crate) fn offer(&mut self, tender_id: String, c: Cached) {
        self.put(tender_id, c, false);
    }

    /// Makes room by dropping the least recently used eighth when full.
    fn put(&mut self, tender_id: String, c: Cached, replace: bool) {
        if self.capacity == 0 {
            return;
        }
        self.clock += 1;
        if let Some((used, kept)) = self.entries.get_mut(&tender_id) {
            *used = self.clock;
            if replace || kept.seq < c.seq {
                *kept = c;
            }
            return;
        }
        if self.entries.len() >= self.capacity {
            self.evict();
        }
        self.entries.insert(tender_id, (self.clock, c));
    }

    /// Forgets `tender_id` (tests that write behind the store's back).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn remove(&mut self, tender_id: &str) {
        self.entries.remove(tender_id);
    }

    /// States kept.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Drops the least recently used eighth (at least one): one sort per eighth of the
    /// capacity, not a scan per insert.
    fn evict(&mut self) {
        let mut ages: Vec<u64> = self.entries.values().map(|(used, _)| *used).collect();
        let drop = (self.capacity / 8).max(1).min(ages.len());
        let Some(cut) = drop.checked_sub(1) else {
            return;
        };
        let (_, oldest_kept, _) = ages.select_nth_unstable(cut);
        let cutoff = *oldest_kept;
        self.entries.retain(|_, (used, _)| *used > cutoff);
    }
}

/// What replaying tenders from their rows has cost since the process started.
#[derive(Debug, Default)]
pub(crate) struct ReplayCounts {
    pub(crate) replays: AtomicU64,
    pub(crate) events: AtomicU64,
    pub(crate) catch_ups: AtomicU64,
    pub(crate) events_caught_up: AtomicU64,
}

impl ReplayCounts {
    /// A whole replay of `events` events.
    pub(crate) fn add(&self, events: usize) {
        self.replays.fetch_add(1, Ordering::Relaxed);
        self.events.fetch_add(events as u64, Ordering::Relaxed);
    }

    /// A kept state brought up to date by the `events` another process wrote since.
    pub(crate) fn caught_up(&self, events: usize) {
        self.catch_ups.fetch_add(1, Ordering::Relaxed);
        self.events_caught_up
            .fetch_add(events as u64, Ordering::Relaxed);
    }
}

/// The cache's figures, for `/metrics` and the footprint benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Tender states kept.
    pub tenders: usize,
    /// At most this many are kept.
    pub capacity: usize,
    /// Tenders replayed from their rows since the process started.
    pub replays: u64,
    /// Events those replays read.
    pub events_replayed: u64,
    /// Kept states brought up to date by reading only the events written since (by another
    /// process sharing the database).
    pub catch_ups: u64,
    /// Events those catch-ups read.
    pub events_caught_up: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(seq: i64) -> Cached {
        Cached {
            seq,
            hash: String::new(),
            tender: Tender::default(),
        }
    }

    #[test]
    fn the_least_recently_used_go_first_and_the_bound_holds() {
        let mut c = TenderCache::new(16);
        for i in 0..16 {
            c.insert(format!("t{i}"), state(1));
        }
        // t0 is used again: t1 and t2 are now the oldest.
        assert!(c.get("t0").is_some());
        c.insert("t16".into(), state(1));
        assert!(c.len() <= 16);
        assert!(c.get("t0").is_some(), "recently used stays");
        assert!(c.get("t1").is_none() && c.get("t2").is_none(), "oldest go");
        assert!(c.get("t16").is_some());
        for i in 17..1000 {
            c.insert(format!("t{i}"), state(1));
            assert!(c.len() <= 16);
        }
    }

    #[test]
    fn a_reader_never_puts_back_an_older_head() {
        let mut c = TenderCache::new(4);
        c.insert("t".into(), state(7));
        c.offer("t".into(), state(5));
        assert_eq!(
            c.get("t").map(|c| c.seq),
            Some(7),
            "a reader's older replay"
        );
        c.offer("t".into(), state(9));
        assert_eq!(c.get("t").map(|c| c.seq), Some(9));
        c.insert("t".into(), state(2));
        assert_eq!(
            c.get("t").map(|c| c.seq),
            Some(2),
            "a commit is authoritative"
        );
        let mut off = TenderCache::new(0);
        off.insert("t".into(), state(1));
        assert_eq!(off.len(), 0);
    }
}
