#!/usr/bin/env bash
# scripts/fuzz.sh N [SEED] -- the invariant fuzzer: N random operations (every instruction, absurd
# inputs included) on the SBF binary in LiteSVM, the exchange's invariants checked after each
# (tests/program/src/fuzz.rs). Prints successes and errors per instruction; on a violation prints a
# shrunk replay and exits 1. The default seed is the one bench/FUZZ.md records.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"
[ $# -ge 1 ] || die "usage: scripts/fuzz.sh OPERATIONS [SEED]"
ensure_host_deps
"$ROOT/scripts/sbf.sh" build
build_workspace
exec target/debug/meridian-fuzz "$@"
