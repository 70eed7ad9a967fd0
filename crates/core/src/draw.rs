//! The expert draw: the committee's experts drawn at random from a pool, by a seed nobody
//! chooses and everyone can recompute.
//!
//! The seed is the SHA-256 of the tender's id and its bids' commitments (fixed when the bids
//! were sealed, before anyone could know the pool's order). The pool is ordered by
//! `SHA-256(seed ‖ id)`; the draw walks that order, skipping an expert with a declared tie
//! to a bidder (the skip is recorded), until it has the number asked for. The record keeps
//! the pool (with each expert's fields and ties), the seed, the order, the skips and the
//! result; [`verify`] recomputes it.

use crate::model::ActorId;
pub use crate::model::{DrawRecord, PoolEntry, Skip};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

/// The seed of a tender's draw: SHA-256 of its id and its bids' commitments (sorted).
pub fn seed(tender_id: &str, commitments: &[&str]) -> String {
    let mut sorted: Vec<&str> = commitments.to_vec();
    sorted.sort_unstable();
    let mut h = Sha256::new();
    h.update(b"tenderflow expert draw v1\0");
    h.update(tender_id.as_bytes());
    for c in sorted {
        h.update([0]);
        h.update(c.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Draws `size` experts from `pool` with `seed`, passing over those tied to any of
/// `bidders`. Fewer than `size` are drawn when the pool runs out.
pub fn draw(pool: &[PoolEntry], size: u32, seed: &str, bidders: &BTreeSet<String>) -> DrawRecord {
    let rank = |id: &ActorId| {
        let mut h = Sha256::new();
        h.update(seed.as_bytes());
        h.update([0]);
        h.update(id.as_str().as_bytes());
        h.finalize()
    };
    let mut order: Vec<&PoolEntry> = pool.iter().collect();
    order.sort_by_cached_key(|e| (rank(&e.id), e.id.clone()));
    let mut skipped = Vec::new();
    let mut drawn = Vec::new();
    for e in &order {
        if drawn.len() as u32 >= size {
            break;
        }
        match e.ties.iter().find(|t| bidders.contains(*t)) {
            Some(b) => skipped.push(Skip {
                id: e.id.clone(),
                bidder: b.clone(),
            }),
            None => drawn.push(e.id.clone()),
        }
    }
    DrawRecord {
        pool: pool.to_vec(),
        size,
        seed: seed.to_owned(),
        order: order.iter().map(|e| e.id.clone()).collect(),
        skipped,
        drawn,
    }
}

/// Whether `record` is what the draw gives for this tender (its seed from the tender id
/// and commitments, its order, skips and result from the pool).
pub fn verify(
    record: &DrawRecord,
    tender_id: &str,
    commitments: &[&str],
    bidders: &BTreeSet<String>,
) -> bool {
    let s = seed(tender_id, commitments);
    record.seed == s && draw(&record.pool, record.size, &s, bidders) == *record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(n: usize) -> Vec<PoolEntry> {
        (0..n)
            .map(|i| PoolEntry {
                id: ActorId::parse(&format!("expert-{i:02}")).expect("id"),
                fields: vec!["arts".into()],
                ties: if i == 3 {
                    vec!["org-02".into()]
                } else {
                    Vec::new()
                },
            })
            .collect()
    }

    #[test]
    fn the_draw_is_reproducible_skips_ties_and_verifies() {
        let bidders: BTreeSet<String> = ["org-01", "org-02"].map(String::from).into();
        let s = seed("T-1", &["b", "a"]);
        assert_eq!(
            s,
            seed("T-1", &["a", "b"]),
            "the order of the bids does not matter"
        );
        assert_ne!(s, seed("T-2", &["a", "b"]));
        let r = draw(&pool(12), 5, &s, &bidders);
        assert_eq!(r.drawn.len(), 5);
        assert!(!r.drawn.iter().any(|d| d.as_str() == "expert-03"));
        assert_eq!(
            r,
            draw(&pool(12), 5, &s, &bidders),
            "the same inputs, the same draw"
        );
        assert!(verify(&r, "T-1", &["a", "b"], &bidders));
        let mut forged = r.clone();
        forged.drawn.swap(0, 1);
        assert!(!verify(&forged, "T-1", &["a", "b"], &bidders));
        assert!(!verify(&r, "T-1", &["a", "c"], &bidders), "another seed");
        // The tied expert, when the order reaches it, is skipped and recorded.
        let everyone = draw(&pool(12), 12, &s, &bidders);
        assert_eq!(everyone.drawn.len(), 11);
        assert_eq!(everyone.skipped.len(), 1);
        assert_eq!(everyone.skipped[0].bidder, "org-02");
    }

    #[test]
    fn different_seeds_give_different_orders() {
        let none = BTreeSet::new();
        let a = draw(&pool(12), 5, &seed("T-1", &["x"]), &none);
        let b = draw(&pool(12), 5, &seed("T-1", &["y"]), &none);
        assert_ne!(a.order, b.order);
    }
}
