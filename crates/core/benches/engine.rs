//! Criterion benchmarks of the pure engine: applying events, and deciding a whole seed-case
//! tender (18 bids, 5 evaluators, 7 partners) from draft to award.
//!
//! `cargo bench -p tenderflow-core --bench engine`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use tenderflow_core::scenario::{self, Params};
use tenderflow_core::{Tender, Workflow, apply};

fn workflow() -> Workflow {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows/partner-recruitment.json");
    let bytes = std::fs::read(path).expect("definition");
    tenderflow_core::load("partner-recruitment.json", &bytes).expect("valid")
}

fn play(wf: &Workflow, steps: &[scenario::Step]) -> (Tender, Vec<tenderflow_core::Event>) {
    let mut t = Tender::default();
    let mut all = Vec::with_capacity(256);
    for s in steps {
        let events = s.decide(wf, &t).expect("accepted");
        for e in &events {
            t = apply(t, e);
        }
        all.extend(events);
    }
    (t, all)
}

fn benches(c: &mut Criterion) {
    let wf = workflow();
    let steps = scenario::script(&wf, &Params::default());
    let (final_state, events) = play(&wf, &steps);
    assert_eq!(final_state.state, "awarded");

    let mut g = c.benchmark_group("apply");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("seed_case_events", |b| {
        b.iter(|| {
            let mut t = Tender::default();
            for e in &events {
                t = apply(t, e);
            }
            black_box(t)
        });
    });
    g.finish();

    let mut g = c.benchmark_group("decide_apply");
    g.throughput(Throughput::Elements(steps.len() as u64));
    // Freeing the finished tender and its events is the caller's business, not deciding:
    // `iter_with_large_drop` leaves it out of the timing.
    g.bench_function("seed_case_draft_to_award", |b| {
        b.iter_with_large_drop(|| play(&wf, &steps));
    });
    g.finish();

    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../workflows/partner-recruitment.json"),
    )
    .expect("definition");
    c.bench_function("load_and_validate_definition", |b| {
        b.iter_batched(
            || bytes.clone(),
            |b| black_box(tenderflow_core::load("x", &b).is_ok()),
            BatchSize::SmallInput,
        );
    });
}

criterion_group!(engine, benches);
criterion_main!(engine);
