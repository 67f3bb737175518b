#!/usr/bin/env bash
# scripts/auction-study.sh -- regenerate bench/AUCTION.md: a market maker's loss to latency races
# in a continuous and a batch market, on the SBF binary in LiteSVM (tests/program/src/auction_study.rs).
# Arguments go to the study: SEED ROUNDS MAX_JUMP_TICKS [OUTPUT].
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"
ensure_host_deps
"$ROOT/scripts/sbf.sh" build
build_workspace
target/debug/auction-study "$@"
