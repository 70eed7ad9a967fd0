//! `/metrics` in the Prometheus text format: requests by route, method and status with a
//! latency histogram, commands by kind and outcome, and, read at scrape time, the outbox
//! depth, dead letters, stuck timers and the lag of the oldest due timer.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency histogram, seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Counters shared by every handler.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    commands: Mutex<BTreeMap<(String, String), u64>>,
}

impl Metrics {
    /// Records one request.
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let mut map = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let h = map
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default();
        h.count += 1;
        h.sum += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                h.counts[i] += 1;
            }
        }
    }

    /// Records one command and its outcome (`ok` or the refusal's code).
    pub fn command(&self, kind: &str, outcome: &str) {
        *self
            .commands
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry((kind.to_owned(), outcome.to_owned()))
            .or_default() += 1;
    }

    /// The text exposition, with the gauges read by the caller.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP tenderflow_http_requests_seconds Requests by route, method and status."
        );
        let _ = writeln!(out, "# TYPE tenderflow_http_requests_seconds histogram");
        let requests = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for ((route, method, status), h) in &requests {
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "tenderflow_http_requests_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "tenderflow_http_requests_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "tenderflow_http_requests_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "tenderflow_http_requests_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP tenderflow_commands_total Commands by kind and outcome (ok or the refusal's code)."
        );
        let _ = writeln!(out, "# TYPE tenderflow_commands_total counter");
        let commands = self
            .commands
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        for ((kind, outcome), n) in &commands {
            let _ = writeln!(
                out,
                "tenderflow_commands_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}
