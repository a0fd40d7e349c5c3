#!/usr/bin/env bash
# The overhead ratios of this tree against another commit, measured in
# interleaved criterion runs on the same machine: each round runs this
# tree's `overhead` bench, then the other commit's, so that both see the
# same machine states; prints each run and the median ratio per side.
#
#   bash benches/against.sh c773de4                  # 5 rounds, default clock
#   ROUNDS=9 FEATURES=tsc-clock bash benches/against.sh c773de4
#   FILTER='pipeline/hookflow' bash benches/against.sh c773de4
#
# A ratio is hookflow's time over the hand-written wrapper's in the same
# run (for the pipeline group: a step inside a run over the step alone).
# Pinned with taskset, when it exists, to one core: CPU, by default the
# last one (the first usually takes more of the machine's interrupts).
set -euo pipefail
BASE=${1:?usage: against.sh COMMIT}
ROUNDS=${ROUNDS:-5}
FILTER=${FILTER:-(sync|async)_success/(hand_written|hookflow)$}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hookflow-against.XXXXXX")
trap 'git -C "$ROOT" worktree remove --force "$WORK/base" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
export RUST_LIB_BACKTRACE=0

build() { # repository -> path of its overhead bench binary
    (cd "$1" && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target-bench}-against-$2 \
        cargo bench --bench overhead ${FEATURES:+--features "$FEATURES"} --no-run \
        --message-format=json 2>/dev/null) | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "overhead" and m.get("executable"):
        print(m["executable"])' | tail -1
}

git -C "$ROOT" worktree add --detach --quiet "$WORK/base" "$BASE"
HEAD_BIN=$(build "$ROOT" head)
BASE_BIN=$(build "$WORK/base" base)
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c "${CPU:-$(($(nproc) - 1))}")

for _ in $(seq "$ROUNDS"); do
    for side in head base; do
        bin=$HEAD_BIN
        [[ $side == base ]] && bin=$BASE_BIN
        "${PIN[@]}" "$bin" --bench "$FILTER" --noplot 2>/dev/null | sed "s/^/$side /"
    done
done > "$WORK/runs.txt"

python3 - "$WORK/runs.txt" "$BASE" <<'PY'
import re, statistics, sys
from collections import defaultdict

UNIT = {"ps": 1e-3, "ns": 1.0, "µs": 1e3, "ms": 1e6, "s": 1e9}
runs = defaultdict(list)  # side -> [ {bench: ns} ]
name = None
for line in open(sys.argv[1]):
    side, _, rest = line.partition(" ")
    m = re.match(r"(\S+/\S+)", rest)
    if m:
        name = m.group(1)
    t = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+)", rest)
    if t and name:
        if not runs[side] or name in runs[side][-1]:
            runs[side].append({})
        runs[side][-1][name] = float(t.group(1)) * UNIT[t.group(2)]
        name = None

def ratios(run):
    out = {}
    for group in ("sync_success", "async_success", "sync_error", "async_error"):
        h, w = run.get(f"{group}/hookflow"), run.get(f"{group}/hand_written")
        if h and w:
            out[group] = h / w
    for n in ("10", "1000", "100000"):
        p, a = run.get(f"pipeline/hookflow_pipeline/{n}"), run.get(f"pipeline/hookflow_no_pipeline/{n}")
        if p and a:
            out[f"pipeline/{n}"] = p / a
    return out

label = {"head": "this tree", "base": sys.argv[2]}
for side in ("head", "base"):
    per = [ratios(r) for r in runs[side]]
    for r in per:
        print(f"{label[side]:>12}: " + "  ".join(f"{k} {v:.3f}x" for k, v in r.items()))
for side in ("head", "base"):
    per = [ratios(r) for r in runs[side]]
    keys = sorted({k for r in per for k in r})
    med = "  ".join(f"{k} {statistics.median(r[k] for r in per if k in r):.3f}x" for k in keys)
    print(f"median of {len(per)} runs, {label[side]}: {med}")
PY
