//! Plays the seed case (draft to award) `N` times in memory and prints the time per tender:
//! a fixed amount of work, so that `valgrind --tool=callgrind` counts the same instructions
//! on every run whatever else the machine does (docs/PERFORMANCE.md).
//!
//! `cargo run --release -p tenderflow-core --features scenario --example play -- 200`

use tenderflow_core::scenario::{self, Params};
use tenderflow_core::{Tender, apply};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let bytes = include_bytes!("../../../workflows/partner-recruitment.json");
    let wf = tenderflow_core::load("partner-recruitment.json", bytes).expect("valid");
    let steps = scenario::script(&wf, &Params::default());
    let start = std::time::Instant::now();
    let mut events = 0;
    for _ in 0..n {
        let mut t = Tender::default();
        for s in &steps {
            for e in s.decide(&wf, &t).expect("accepted") {
                t = apply(t, &e);
                events += 1;
            }
        }
        assert_eq!(t.state, "awarded");
        std::hint::black_box(t);
    }
    let per = start.elapsed().as_secs_f64() / n as f64;
    println!(
        "{n} tenders, {} commands and {} events each: {:.1} µs per tender",
        steps.len(),
        events / n,
        per * 1e6
    );
}
