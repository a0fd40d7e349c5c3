#!/usr/bin/env bash
# Instructions per call of a step, counted by callgrind (repeatable whatever
# else the machine does), for the default clock and for `tsc-clock`.
#
#   bash benches/instructions.sh            # needs valgrind
#   N=20000 bash benches/instructions.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}
N=${N:-10000}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

count() { # binary mode -> total instructions
    valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.out" "$1" "$2" "$N" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

for features in "" "tsc-clock"; do
    label=${features:-default clock}
    bin=$(cargo bench --bench instructions --no-run --message-format=json ${features:+--features $features} 2>/dev/null \
        | python3 -c 'import json,sys
for l in sys.stdin:
    m=json.loads(l)
    if m.get("reason")=="compiler-artifact" and m["target"]["name"]=="instructions" and m.get("executable"): print(m["executable"])' | tail -1)
    base=$(count "$bin" none)
    declare -A per
    for mode in hand hand_async bare sync async pipeline; do
        total=$(count "$bin" "$mode")
        per[$mode]=$(( (total - base) / N ))
    done
    echo "### $label ($N calls each; instructions per call)"
    printf '| variant | instructions | ratio |\n|---|---:|---:|\n'
    printf '| hand-written sync wrapper | %d | 1.00x |\n' "${per[hand]}"
    printf '| #[step] without hooks | %d | %s |\n' "${per[bare]}" "$(python3 -c "print(f'{${per[bare]}/${per[hand]}:.2f}x')")"
    printf '| #[step(on_success = noop)] | %d | %s |\n' "${per[sync]}" "$(python3 -c "print(f'{${per[sync]}/${per[hand]}:.2f}x')")"
    printf '| hand-written async wrapper | %d | 1.00x |\n' "${per[hand_async]}"
    printf '| async #[step(on_success = noop)] | %d | %s |\n' "${per[async]}" "$(python3 -c "print(f'{${per[async]}/${per[hand_async]}:.2f}x')")"
    printf '| the sync step inside a pipeline | %d | %s of the step alone |\n' "${per[pipeline]}" "$(python3 -c "print(f'{${per[pipeline]}/${per[sync]}:.2f}x')")"
    echo
done
