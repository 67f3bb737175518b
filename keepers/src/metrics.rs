//! Prometheus text-format metrics on a tiny HTTP endpoint (GET anything -> the metrics).

use std::{collections::BTreeMap, sync::Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default)]
pub struct Metrics {
    /// (name, labels) -> (help, kind, value)
    values: Mutex<BTreeMap<(&'static str, String), (&'static str, &'static str, f64)>>,
}

impl Metrics {
    pub fn add(&self, name: &'static str, help: &'static str, labels: &str, delta: f64) {
        let mut v = self.values.lock().unwrap();
        v.entry((name, labels.to_string())).or_insert((help, "counter", 0.0)).2 += delta;
    }

    pub fn set(&self, name: &'static str, help: &'static str, labels: &str, value: f64) {
        let mut v = self.values.lock().unwrap();
        v.insert((name, labels.to_string()), (help, "gauge", value));
    }

    pub fn render(&self) -> String {
        let v = self.values.lock().unwrap();
        let mut out = String::new();
        let mut last = "";
        for ((name, labels), (help, kind, value)) in v.iter() {
            if *name != last {
                out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
                last = name;
            }
            let labels = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
            out.push_str(&format!("{name}{labels} {value}\n"));
        }
        out
    }
}

/// Serves `metrics` at `addr` until the process ends.
pub async fn serve(addr: String, metrics: std::sync::Arc<Metrics>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(%addr, "metrics endpoint listening");
    loop {
        let (mut socket, _) = listener.accept().await?;
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            let body = metrics.render();
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.add("meridian_events_consumed_total", "Events applied.", "market=\"BTC-PERP\"", 3.0);
        m.add("meridian_events_consumed_total", "Events applied.", "market=\"BTC-PERP\"", 2.0);
        m.set("meridian_event_queue_length", "Events waiting.", "market=\"BTC-PERP\"", 7.0);
        assert_eq!(
            m.render(),
            "# HELP meridian_event_queue_length Events waiting.\n# TYPE meridian_event_queue_length gauge\nmeridian_event_queue_length{market=\"BTC-PERP\"} 7\n\
             # HELP meridian_events_consumed_total Events applied.\n# TYPE meridian_events_consumed_total counter\nmeridian_events_consumed_total{market=\"BTC-PERP\"} 5\n"
        );
    }
}
