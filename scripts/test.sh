#!/usr/bin/env bash
# scripts/test.sh -- the whole test suite; `.ci/run` runs exactly this.
#
# 1. installs what is missing (apt packages, the SBF toolchain; cached under ~/.cache; the
#    TypeScript example's npm packages),
# 2. builds target/deploy/meridian.so and target/idl/meridian.json (scripts/sbf.sh build),
# 3. builds the workspace once, checks style (`cargo fmt --check`; clippy and rustdoc with
#    warnings denied; clippy.toml holds the one setting), then runs every test: engine unit and
#    property tests, program tests on the SBF binary in LiteSVM (incl. CU ceilings), CLI tests,
#    end-to-end tests on a local validator,
# 4. smoke-tests the demo: validator, program, exchange, markets (a dated chain expiring 30 s in),
#    the keepers and simulated traders trade for 30 s; fails unless orders filled, the dated
#    markets expired, settled and closed, and the vault balances.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"
start=$(date +%s)

ensure_host_deps
ensure_ts_example
"$ROOT/scripts/sbf.sh" build
log "building the workspace (first run on a machine: ~40 min; cached afterwards)"
build_workspace
log "style gates: rustfmt, clippy and rustdoc, warnings denied"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
log "running the tests"
cargo test --workspace --locked
log "demo smoke test"
target/debug/meridian-localnet --rpc-port 0 --metrics-addr 127.0.0.1:0 --dir "$ROOT/target/demo-smoke" --run-for 30 --dated-expiry-secs 30
log "all tests passed in $(( $(date +%s) - start )) s"
