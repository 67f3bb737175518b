#!/usr/bin/env bash
# scripts/book-compare.sh -- measure the order book's tree choice on the SBF binary: builds the
# program twice (red-black, the default; critbit, feature book-critbit), runs book-bench on each at
# several depths and writes bench/BOOK.md. Takes ~10 minutes the first time (a second SBF build).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
source "$ROOT/scripts/lib.sh"
cd "$ROOT"
"$ROOT/scripts/sbf.sh" program
MERIDIAN_SBF_FEATURES=book-critbit MERIDIAN_SBF_OUT="$ROOT/target/deploy/meridian-critbit.so" "$ROOT/scripts/sbf.sh" program
build_workspace
depths=${BOOK_DEPTHS:-"16 256 1024 4096"}
# shellcheck disable=SC2086
rb=$(MERIDIAN_SO=target/deploy/meridian.so target/debug/book-bench red-black $depths)
# shellcheck disable=SC2086
cb=$(MERIDIAN_SO=target/deploy/meridian-critbit.so target/debug/book-bench critbit $depths)
python3 - "$rb" "$cb" > bench/BOOK.md <<'PY'
import json, sys
runs = [json.loads(a) for a in sys.argv[1:]]
print("# Order book: red-black tree vs critbit, measured\n")
print("Compute units on the SBF binary (LiteSVM, mainnet features) with each side of the book holding")
print("`depth` orders at distinct prices; `place` rests a bid in the middle of the bids, `cancel` removes")
print("it, `fill` is an IOC taking the best ask. Regenerate with `scripts/book-compare.sh`.\n")
print("| depth / side | tree | place resting | cancel | fill 1 maker | book account | rent (SOL) |")
print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
for i, row in enumerate(runs[0]["rows"]):
    for run in runs:
        r = run["rows"][i]
        print(f"| {r['depth']} | {run['tree']} | {r['place_resting']} | {r['cancel']} | {r['fill_1']} | {r['book_bytes']} | {r['rent_sol']} |")
PY
cat bench/BOOK.md
