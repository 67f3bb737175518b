#!/usr/bin/env bash
# scripts/cu.sh -- regenerate bench/cu.json and bench/CU.md: every instruction run on the SBF binary
# in LiteSVM, compute units recorded. tests/program/tests/cu.rs holds each figure under a ceiling.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"
ensure_host_deps
"$ROOT/scripts/sbf.sh" build
build_workspace
target/debug/cu-bench "$ROOT/bench"
