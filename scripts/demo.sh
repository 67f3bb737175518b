#!/usr/bin/env bash
# scripts/demo.sh -- the local demo: a validator on 127.0.0.1:8899 with the Meridian program, an
# exchange on a test USDC mint and a funded demo wallet; prints how to use the CLI; Ctrl-C stops.
# Extra arguments go to meridian-localnet (see `target/debug/meridian-localnet --help`).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"
ensure_host_deps
"$ROOT/scripts/sbf.sh" build
build_workspace
exec target/debug/meridian-localnet "$@"
