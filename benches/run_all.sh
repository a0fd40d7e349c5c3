#!/usr/bin/env bash
# Runs every benchmark of hookflow once and writes benches/RESULTS.md.
#
#   bash benches/run_all.sh                  # a few minutes on 2 cores
#   SKIP_COMPILE_TIME=1 bash benches/run_all.sh
#
# Uses its own target directory (target-bench, git-ignored) so that it does
# not wait on the lock of the main one.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}
# anyhow captures a backtrace per error when RUST_BACKTRACE=1 is inherited
# (~5 µs, far more than everything measured here): measure without.
export RUST_LIB_BACKTRACE=0
OUT="$CARGO_TARGET_DIR/hookflow-bench"
mkdir -p "$OUT"

cargo bench --bench overhead
HOOKFLOW_MEMORY_JSON="$OUT/memory.json" cargo bench --bench memory
cargo test --release --test alloc -- --nocapture --test-threads=1 2>&1 | tee "$OUT/alloc-test.txt"
if [[ -z "${SKIP_COMPILE_TIME:-}" ]]; then
    # The generated crates' dependencies, built once and kept here.
    export COMPILE_TIME_TARGET="$OUT/compile-time-target"
    bash benches/compile_time.sh | tee "$OUT/compile-time.txt"
    # The same, rebuilding with incremental compilation on (cargo's debug
    # default): the touched file is re-expanded but most codegen is reused.
    INCREMENTAL=1 bash benches/compile_time.sh | tee "$OUT/compile-time-incremental.txt"
fi
python3 benches/summarize.py
