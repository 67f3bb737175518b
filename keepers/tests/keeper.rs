use std::process::Command;

#[test]
fn help_names_the_roles() {
    let o = Command::new(env!("CARGO_BIN_EXE_meridian-keeper")).arg("--help").output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("status") && text.contains("crank"), "{text}");
}

#[test]
fn unreachable_rpc_is_an_error_exit() {
    let o = Command::new(env!("CARGO_BIN_EXE_meridian-keeper"))
        .args([
            "--url",
            "http://127.0.0.1:9",
            "-C",
            "/nonexistent",
            "--exchange",
            "Bxe38UGCwSGp5D6KgPxRwMwFsTE81Evkap8qMcUWPTdA",
            "status",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
}

/// GET `path` over plain HTTP/1.1, read to the end of the stream (the server closes it, as simple
/// scrapers expect; no `connection: close` asked for): (status code, body). None while nothing
/// listens.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nhost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

/// Kills the keeper if the test fails before it stops it.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn keypair_file(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("keeper.json");
    solana_sdk::signer::keypair::write_keypair_file(&solana_sdk::signature::Keypair::new(), &path).unwrap();
    path
}

#[test]
fn every_flag_has_an_environment_variable() {
    for role in ["crank", "oracle", "funding", "liquidate", "settle", "auction"] {
        let o = Command::new(env!("CARGO_BIN_EXE_meridian-keeper")).args([role, "--help"]).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        // every option (a line `-x, --flag <V>` and its description below) names its
        // `[env: MERIDIAN_...]`
        let mut options: Vec<String> = vec![];
        for line in text.lines() {
            if line.trim_start().starts_with('-') {
                options.push(line.to_string());
            } else if let Some(last) = options.last_mut() {
                last.push_str(line);
            }
        }
        let mut n = 0;
        for option in options.iter().filter(|o| !o.contains("--help") && !o.contains("--version")) {
            n += 1;
            assert!(option.contains("[env: MERIDIAN_"), "{role}: no environment variable for {option:?}");
        }
        assert!(n >= 10, "{role}: {n} options seen:\n{text}");
        assert!(text.contains("--priority-fee <PRIORITY_FEE>") && text.contains("--rescan-secs"), "{text}");
    }
}

#[test]
fn a_bad_priority_fee_from_the_environment_is_refused() {
    let o = Command::new(env!("CARGO_BIN_EXE_meridian-keeper"))
        .env("MERIDIAN_PRIORITY_FEE", "fast")
        .args([
            "--url",
            "http://127.0.0.1:9",
            "-C",
            "/nonexistent",
            "--exchange",
            "Bxe38UGCwSGp5D6KgPxRwMwFsTE81Evkap8qMcUWPTdA",
            "crank",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("auto") && err.contains("--priority-fee"), "{err}");
}

/// A crank whose RPC node is down keeps running: it retries with backoff, counts the failures,
/// reports 503 on /health, and stops cleanly (exit 0) on SIGTERM. With `--once` (here from the
/// environment) the same failure is an error exit instead.
#[test]
fn a_dead_rpc_node_is_retried_reported_and_a_sigterm_stops_cleanly() {
    let dir = std::env::temp_dir().join(format!("meridian-keeper-test-{}", std::process::id()));
    let key = keypair_file(&dir);
    let dead = format!("http://127.0.0.1:{}", free_port());
    let port = free_port();
    let base = ["--url", &dead, "-C", "/nonexistent", "--exchange", "Bxe38UGCwSGp5D6KgPxRwMwFsTE81Evkap8qMcUWPTdA"];
    let child = Command::new(env!("CARGO_BIN_EXE_meridian-keeper"))
        .args(base)
        .args(["--keypair", key.to_str().unwrap(), "--metrics-addr", &format!("127.0.0.1:{port}")])
        .args(["--health-max-lag-secs", "1", "--log-format", "json", "crank"])
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let child = &mut child.0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (health, metrics) = loop {
        let health = http_get(port, "/health");
        let metrics = http_get(port, "/metrics").map(|(_, b)| b).unwrap_or_default();
        let failures = metrics
            .lines()
            .find(|l| l.starts_with("meridian_rpc_failures_total{op=\"margin account\",role=\"crank\"}"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .unwrap_or(0.0);
        if matches!(health, Some((503, _))) && failures >= 2.0 {
            break (health.unwrap().1, metrics);
        }
        assert!(child.try_wait().unwrap().is_none(), "the keeper exited on an RPC failure");
        assert!(std::time::Instant::now() < deadline, "no 503 / failures counted: {health:?}\n{metrics}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(health.starts_with("behind"), "{health}");
    assert!(metrics.contains("meridian_keeper_healthy 0"), "{metrics}");
    let term = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(term.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "SIGTERM did not stop the keeper");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
    // the log is JSON, one object a line
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut log).unwrap();
    let first = log.lines().next().unwrap_or_default();
    assert!(first.starts_with('{') && first.contains("\"level\""), "{log}");

    // --once from the environment: the first failure ends it, non-zero
    let o = Command::new(env!("CARGO_BIN_EXE_meridian-keeper"))
        .args(base)
        .args(["--keypair", key.to_str().unwrap(), "crank"])
        .env("MERIDIAN_CRANK_ONCE", "true")
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
