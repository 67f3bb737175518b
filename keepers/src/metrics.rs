//! Metrics and health on one HTTP address: `GET /metrics` (Prometheus text format, from the
//! `prometheus` crate's registry and encoder: typed counters, gauges and histograms, escaped label
//! values) and `GET /health` (200 while every part of the keeper made progress within the allowed
//! lag, 503 otherwise), served by axum.
//!
//! Metrics are created on first use (name, help, label names) and registered once; a later call
//! with other label names for the same metric is a programming error, logged and ignored.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::IntoResponse,
    routing::get,
    Router,
};
use prometheus::{CounterVec, Encoder, GaugeVec, HistogramOpts, HistogramVec, Opts, Registry, TextEncoder};
use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Label pairs, name then value.
pub type Labels<'a> = &'a [(&'a str, &'a str)];

/// Buckets for transaction latencies (send to confirmation), seconds.
pub const LATENCY_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
/// Buckets for latencies counted in slots.
pub const SLOT_BUCKETS: &[f64] = &[0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 64.0];

pub struct Metrics {
    registry: Registry,
    counters: Mutex<HashMap<&'static str, CounterVec>>,
    gauges: Mutex<HashMap<&'static str, GaugeVec>>,
    histograms: Mutex<HashMap<&'static str, HistogramVec>>,
    pub health: Health,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            registry: Registry::new(),
            counters: Mutex::default(),
            gauges: Mutex::default(),
            histograms: Mutex::default(),
            health: Health::new(Duration::from_secs(60)),
        }
    }
}

fn names<'a>(labels: Labels<'a>) -> Vec<&'a str> {
    labels.iter().map(|(n, _)| *n).collect()
}

fn values<'a>(labels: Labels<'a>) -> HashMap<&'a str, &'a str> {
    labels.iter().copied().collect()
}

impl Metrics {
    /// The vector of `name`, created and registered on first use.
    fn vec<V: Clone + prometheus::core::Collector + 'static>(
        &self,
        map: &Mutex<HashMap<&'static str, V>>,
        name: &'static str,
        make: impl FnOnce() -> prometheus::Result<V>,
    ) -> Option<V> {
        let mut map = map.lock().unwrap();
        if let Some(v) = map.get(name) {
            return Some(v.clone());
        }
        let v = make().and_then(|v| self.registry.register(Box::new(v.clone())).map(|_| v));
        match v {
            Ok(v) => {
                map.insert(name, v.clone());
                Some(v)
            }
            Err(e) => {
                tracing::warn!(metric = name, error = %e, "metric not registered");
                None
            }
        }
    }

    /// Adds `delta` (>= 0) to a counter.
    pub fn add(&self, name: &'static str, help: &'static str, labels: Labels, delta: f64) {
        let Some(v) = self.vec(&self.counters, name, || CounterVec::new(Opts::new(name, help), &names(labels))) else {
            return;
        };
        match v.get_metric_with(&values(labels)) {
            Ok(c) if delta >= 0.0 => c.inc_by(delta),
            Ok(_) => tracing::warn!(metric = name, delta, "a counter only grows"),
            Err(e) => tracing::warn!(metric = name, error = %e, "counter labels"),
        }
    }

    pub fn set(&self, name: &'static str, help: &'static str, labels: Labels, value: f64) {
        let Some(v) = self.vec(&self.gauges, name, || GaugeVec::new(Opts::new(name, help), &names(labels))) else {
            return;
        };
        match v.get_metric_with(&values(labels)) {
            Ok(g) => g.set(value),
            Err(e) => tracing::warn!(metric = name, error = %e, "gauge labels"),
        }
    }

    /// Records `value` in a histogram with `buckets` (fixed by the first call).
    pub fn observe(&self, name: &'static str, help: &'static str, labels: Labels, buckets: &[f64], value: f64) {
        let make = || HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), &names(labels));
        let Some(v) = self.vec(&self.histograms, name, make) else {
            return;
        };
        match v.get_metric_with(&values(labels)) {
            Ok(h) => h.observe(value),
            Err(e) => tracing::warn!(metric = name, error = %e, "histogram labels"),
        }
    }

    /// Drops one labelled series (a market that closed).
    pub fn remove_gauge(&self, name: &'static str, labels: Labels) {
        if let Some(v) = self.gauges.lock().unwrap().get(name) {
            let _ = v.remove(&values(labels));
        }
    }

    /// The Prometheus text exposition of every metric, with the health gauges brought up to date.
    pub fn render(&self) -> String {
        let report = self.health.report();
        self.set(
            "meridian_keeper_healthy",
            "1 while every part of the keeper made progress recently (/health answers 200).",
            &[],
            report.ok as u8 as f64,
        );
        // only the components watched now (a closed market's crank is gone)
        if let Some(ages) = self.gauges.lock().unwrap().get("meridian_keeper_progress_age_seconds") {
            ages.reset();
        }
        for (component, age) in &report.components {
            self.set(
                "meridian_keeper_progress_age_seconds",
                "Seconds since each part of the keeper (discovery, a market's crank, an oracle, a round) last made progress.",
                &[("component", component)],
                age.as_secs_f64(),
            );
        }
        let mut out = vec![];
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "encoding metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Liveness of the keeper's loops: each part (component) reports progress; the keeper is healthy
/// while every part it watches made progress within `max_lag`.
pub struct Health {
    max_lag: Mutex<Duration>,
    components: Mutex<BTreeMap<String, Instant>>,
}

pub struct HealthReport {
    pub ok: bool,
    pub max_lag: Duration,
    /// Each component and the time since its last progress.
    pub components: Vec<(String, Duration)>,
}

impl Health {
    pub fn new(max_lag: Duration) -> Health {
        Health { max_lag: Mutex::new(max_lag), components: Mutex::default() }
    }

    pub fn set_max_lag(&self, max_lag: Duration) {
        *self.max_lag.lock().unwrap() = max_lag;
    }

    /// Starts watching `component`: it must make progress within the lag from now on.
    pub fn watch(&self, component: &str) {
        self.components.lock().unwrap().entry(component.to_string()).or_insert_with(Instant::now);
    }

    pub fn progress(&self, component: &str) {
        self.components.lock().unwrap().insert(component.to_string(), Instant::now());
    }

    /// Stops watching `component` (a market that closed, an oracle that is gone).
    pub fn forget(&self, component: &str) {
        self.components.lock().unwrap().remove(component);
    }

    pub fn report(&self) -> HealthReport {
        let max_lag = *self.max_lag.lock().unwrap();
        let components: Vec<(String, Duration)> =
            self.components.lock().unwrap().iter().map(|(c, at)| (c.clone(), at.elapsed())).collect();
        let ok = components.iter().all(|(_, age)| *age <= max_lag);
        HealthReport { ok, max_lag, components }
    }
}

impl HealthReport {
    pub fn text(&self) -> String {
        let mut out = format!("{} (max lag {} s)\n", if self.ok { "ok" } else { "behind" }, self.max_lag.as_secs_f64());
        for (c, age) in &self.components {
            let state = if *age <= self.max_lag { "ok" } else { "behind" };
            out.push_str(&format!("{c}: {state}, last progress {:.1} s ago\n", age.as_secs_f64()));
        }
        out
    }
}

// Each answer closes its connection (as a one-shot exporter does): scrapers that read to the end
// of the stream work, and an idle keeper holds no sockets open.
const CLOSE: (header::HeaderName, &str) = (header::CONNECTION, "close");

async fn metrics_handler(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT), CLOSE], m.render())
}

async fn health_handler(State(m): State<Arc<Metrics>>) -> impl IntoResponse {
    let report = m.health.report();
    let status = if report.ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), CLOSE], report.text())
}

/// Binds `addr` (a bind failure is a configuration error: reported at start).
pub async fn bind(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "metrics (/metrics) and health (/health) listening");
    Ok(listener)
}

/// Serves `/metrics` (also at `/`) and `/health` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Metrics>) {
    let app = Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/", get(metrics_handler))
        .route("/health", get(health_handler))
        .with_state(metrics);
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "metrics endpoint stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text_with_escaped_labels() {
        let m = Metrics::default();
        m.add("meridian_events_consumed_total", "Events applied.", &[("market", "BTC-PERP")], 3.0);
        m.add("meridian_events_consumed_total", "Events applied.", &[("market", "BTC-PERP")], 2.0);
        m.set("meridian_event_queue_length", "Events waiting.", &[("market", "A\"B\\C")], 7.0);
        m.observe("meridian_tx_confirm_seconds", "Latency.", &[("role", "crank")], LATENCY_BUCKETS, 0.3);
        let text = m.render();
        assert!(text.contains("# TYPE meridian_events_consumed_total counter\n"), "{text}");
        assert!(text.contains("meridian_events_consumed_total{market=\"BTC-PERP\"} 5\n"), "{text}");
        assert!(text.contains("meridian_event_queue_length{market=\"A\\\"B\\\\C\"} 7\n"), "{text}");
        assert!(text.contains("# TYPE meridian_tx_confirm_seconds histogram\n"), "{text}");
        assert!(text.contains("meridian_tx_confirm_seconds_bucket{role=\"crank\",le=\"0.5\"} 1\n"), "{text}");
        assert!(text.contains("meridian_tx_confirm_seconds_bucket{role=\"crank\",le=\"0.25\"} 0\n"), "{text}");
        assert!(text.contains("meridian_tx_confirm_seconds_count{role=\"crank\"} 1\n"), "{text}");
        // no components watched yet: healthy
        assert!(text.contains("meridian_keeper_healthy 1\n"), "{text}");
        // a component forgotten leaves the age series
        m.health.watch("startup");
        assert!(m.render().contains("meridian_keeper_progress_age_seconds{component=\"startup\"}"));
        m.health.forget("startup");
        assert!(!m.render().contains("component=\"startup\""));
        // a wrong label set is ignored, not a panic
        m.add("meridian_events_consumed_total", "Events applied.", &[("oracle", "SOL")], 1.0);
        m.add("meridian_events_consumed_total", "Events applied.", &[("market", "BTC-PERP")], -1.0);
        assert!(m.render().contains("meridian_events_consumed_total{market=\"BTC-PERP\"} 5\n"));
    }

    #[test]
    fn health_fails_when_a_watched_component_is_behind() {
        let h = Health::new(Duration::from_secs(3600));
        h.watch("discovery");
        h.progress("crank BTC-PERP");
        assert!(h.report().ok);
        // a zero lag: anything watched is behind
        h.set_max_lag(Duration::ZERO);
        std::thread::sleep(Duration::from_millis(2));
        let r = h.report();
        assert!(!r.ok);
        assert!(r.text().starts_with("behind"), "{}", r.text());
        h.forget("discovery");
        h.forget("crank BTC-PERP");
        assert!(h.report().ok, "nothing watched");
    }
}
