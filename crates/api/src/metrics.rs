//! `/metrics` in the OpenMetrics text format, written by the Prometheus project's own client
//! (`prometheus-client`): every request (pages and API) by route template, method and status
//! as a latency histogram with buckets past one second, commands by kind and outcome, the
//! build, and, read at scrape time with counts the database makes (no rows read), the
//! outbox, stuck timers, the timer lag and the tender cache.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds of the latency histogram, seconds: from a cached read to a slow upload.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    commit: String,
}

/// What a scrape reads at its time: the queues, the timers and the cache.
pub type Scrape = tenderflow_app::administration::Health;

/// The process's metrics that handlers record into.
#[derive(Debug)]
pub struct Metrics {
    requests: Family<RequestLabels, Histogram>,
    commands: Family<CommandLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: Family::new_with_constructor(|| Histogram::new(BUCKETS)),
            commands: Family::default(),
        }
    }
}

impl Metrics {
    /// Records one request.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .observe(seconds);
    }

    /// Records one command and its outcome (`ok` or the refusal's code).
    pub fn command(&self, kind: &str, outcome: &str) {
        self.commands
            .get_or_create(&CommandLabels {
                kind: kind.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The exposition, with what the scrape read and the commit the server was built from.
    pub fn render(&self, s: &Scrape, commit: &str) -> String {
        let mut r = Registry::default();
        r.register(
            "tenderflow_http_request_duration_seconds",
            "Requests (pages and API) by route template, method and status.",
            self.requests.clone(),
        );
        r.register(
            "tenderflow_commands",
            "Commands by kind and outcome (ok or the refusal's code).",
            self.commands.clone(),
        );
        let build = Family::<BuildLabels, ConstGaugeOne>::default();
        let _ = build.get_or_create(&BuildLabels {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: commit.to_owned(),
        });
        r.register(
            "tenderflow_build_info",
            "The running build: its version and commit (always 1).",
            build,
        );
        let gauges: [(&str, &str, u64); 4] = [
            (
                "tenderflow_outbox_pending",
                "Messages waiting to be sent.",
                s.outbox_pending,
            ),
            (
                "tenderflow_outbox_dead",
                "Messages that could not be delivered (dead letters).",
                s.outbox_dead,
            ),
            (
                "tenderflow_timers_stuck",
                "Deadlines that failed to fire.",
                s.timers_stuck,
            ),
            (
                "tenderflow_tender_cache_entries",
                "Tender states kept in memory (bounded by --tender-cache).",
                s.cache_entries,
            ),
        ];
        for (name, help, value) in gauges {
            r.register(
                name,
                help,
                ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX)),
            );
        }
        r.register(
            "tenderflow_timer_lag_seconds",
            "How long the oldest due deadline has waited to fire.",
            ConstGauge::new(s.timer_lag_seconds),
        );
        let counters: [(&str, &str, u64); 4] = [
            (
                "tenderflow_tender_replays",
                "Tenders replayed from their events since the process started.",
                s.replays,
            ),
            (
                "tenderflow_events_replayed",
                "Events those replays read.",
                s.events_replayed,
            ),
            (
                "tenderflow_tender_catch_ups",
                "Kept tender states brought up to date with the events another process wrote.",
                s.catch_ups,
            ),
            (
                "tenderflow_events_caught_up",
                "Events those catch-ups read.",
                s.events_caught_up,
            ),
        ];
        for (name, help, value) in counters {
            r.register(name, help, ConstCounter::new(value));
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &r);
        out
    }
}

/// A gauge that always reads 1 (an info metric's value).
#[derive(Debug, Default)]
struct ConstGaugeOne;

impl prometheus_client::metrics::TypedMetric for ConstGaugeOne {
    const TYPE: prometheus_client::metrics::MetricType =
        prometheus_client::metrics::MetricType::Gauge;
}

impl prometheus_client::encoding::EncodeMetric for ConstGaugeOne {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::MetricEncoder,
    ) -> Result<(), std::fmt::Error> {
        encoder.encode_gauge(&1_i64)
    }

    fn metric_type(&self) -> prometheus_client::metrics::MetricType {
        <Self as prometheus_client::metrics::TypedMetric>::TYPE
    }
}
