#!/usr/bin/env bash
# Times the liquidator's ranking (sdk/examples/liquidator_scan.rs) and rewrites bench/LIQUIDATOR.md.
# Meridian's own crates are built at opt-level 3 inside the dev profile: the figure is optimized
# code, and only those crates rebuild (a --release build would compile the whole Solana client
# stack again).
set -euo pipefail
cd "$(dirname "$0")/.."
opt() { printf -- "--config profile.dev.package.%s.opt-level=3 " "$@"; }
# shellcheck disable=SC2046
exec cargo run -p meridian-sdk --example liquidator_scan $(opt meridian-sdk meridian meridian-engine) -- bench/LIQUIDATOR.md
