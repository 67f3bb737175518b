//! Graceful stop: SIGTERM or SIGINT sets the flag; loops stop taking new work at their next wait
//! (never in the middle of a transaction), so what is in flight lands or fails first, then the
//! process exits 0. A second signal exits at once.

use std::time::Duration;
use tokio::sync::watch;

#[derive(Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
    tx: std::sync::Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        let (tx, rx) = watch::channel(false);
        Shutdown { rx, tx: std::sync::Arc::new(tx) }
    }
}

impl Shutdown {
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_set(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once a stop was asked for.
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }

    /// Sleeps `d`; false if a stop was asked for meanwhile (or before).
    pub async fn sleep(&self, d: Duration) -> bool {
        if self.is_set() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => !self.is_set(),
            _ = self.wait() => false,
        }
    }

    /// Triggers on SIGTERM or SIGINT; exits the process (130) on a second one.
    pub fn listen_for_signals(&self) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM");
                    return;
                }
            };
            for n in 0.. {
                let which = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = tokio::signal::ctrl_c() => "SIGINT",
                };
                if n > 0 {
                    tracing::warn!(signal = which, "second signal: exiting now");
                    std::process::exit(130);
                }
                tracing::info!(signal = which, "stopping: finishing the work in flight");
                this.trigger();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_ends_waits_and_sleeps() {
        let s = Shutdown::default();
        assert!(!s.is_set());
        assert!(s.sleep(Duration::ZERO).await);
        let other = s.clone();
        let waiter = tokio::spawn(async move { other.sleep(Duration::from_secs(3600)).await });
        s.trigger();
        assert!(!waiter.await.unwrap(), "the sleep was cut short");
        assert!(s.is_set());
        s.wait().await;
        assert!(!s.sleep(Duration::from_secs(3600)).await);
    }
}
