#!/usr/bin/env bash
# Compile time of 300 `#[hookflow::step]` functions against the same 300
# functions under `#[tracing::instrument]` (target: at most 1.1x, wall and CPU).
#
#   bash benches/compile_time.sh            # 300 functions, best of 3
#   STEPS=100 RUNS=5 bash benches/compile_time.sh
#   KEEP=1 bash benches/compile_time.sh     # keep the generated crates
#   COMPILE_TIME_TARGET=/tmp/ct bash benches/compile_time.sh  # reuse built deps
#
# It generates two library crates in a temporary directory, identical but for
# the attribute on each function; both depend on `hookflow` (by path: this
# repository) and on `tracing`, so their dependency graphs are the same. Each
# crate is built once (dependencies), then `src/lib.rs` is touched and the
# crate rebuilt, RUNS times (the two crates alternating); the best wall time
# of each counts. A no-op `cargo build`
# (nothing to do) is timed too and subtracted, leaving the time of the crate
# itself, and the median of each round's own ratio is printed too. Wall time is what the spec compares; CPU time (user + system, of
# cargo and rustc) is printed too, as it is less disturbed by other load on a
# shared machine. Debug profile (`cargo build`), without incremental compilation
# unless INCREMENTAL=1. Needs only crates.io (the versions
# are pinned by this repository's Cargo.lock).
#
# The functions are a mix, one third each (KINDS=plain,result,async; e.g.
# KINDS=async for async steps only):
#   plain   fn f_i(x: u64) -> u64                         on_success = hook
#   result  fn f_i(x: u64) -> Result<u64, StepFailed>     on_failure = hook
#   async   async fn f_i(x: u64) -> u64                   on_success = hook
#           (and a caller that makes its future a trait object, so
#           that its poll and drop code is built in the crate)
set -euo pipefail

STEPS=${STEPS:-300}
KINDS=${KINDS:-plain,result,async}
RUNS=${RUNS:-3}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hookflow-compile-time.XXXXXX")
if [[ -z "${KEEP:-}" ]]; then
    trap 'rm -rf "$WORK"' EXIT
else
    echo "generated crates kept in $WORK"
fi
# One target directory for both crates: the dependencies are built once and
# shared; each crate's own artifacts are separate (different package names).
export CARGO_TARGET_DIR="${COMPILE_TIME_TARGET:-$WORK/target}"
# A rebuild of an unchanged file with incremental compilation on reuses the
# previous codegen and mostly measures hashing: time a full compile of the
# crate instead (INCREMENTAL=1 to time the incremental rebuild).
export CARGO_INCREMENTAL=${INCREMENTAL:-0}

python3 - "$ROOT" "$WORK" "$STEPS" "$KINDS" <<'PY'
import os, sys

root, work, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
kinds = [k.strip() for k in sys.argv[4].split(",") if k.strip()]
for k in kinds:
    assert k in ("plain", "result", "async"), f"unknown kind {k!r} in KINDS"

def manifest(name):
    return f"""[package]
name = "{name}"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
path = "src/lib.rs"

[dependencies]
hookflow = {{ path = "{root}" }}
tracing = "0.1"

[workspace]
"""

HEADER = """#![allow(dead_code, clippy::all)]

#[derive(Debug)]
pub struct StepFailed(pub u64);

impl std::fmt::Display for StepFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step failed on {}", self.0)
    }
}

impl std::error::Error for StepFailed {}

pub fn hook() {}

fn erase<F: std::future::Future + 'static>(f: F) -> std::pin::Pin<Box<dyn std::future::Future<Output = F::Output>>> {
    Box::pin(f)
}

"""

def function(i, attr):
    kind = kinds[i % len(kinds)]
    if kind == "plain":
        a = attr("on_success")
        return f"""{a}
pub fn f_{i}(x: u64) -> u64 {{
    x.wrapping_mul({i + 3}).rotate_left({i % 63 + 1})
}}
"""
    if kind == "result":
        a = attr("on_failure")
        return f"""{a}
pub fn f_{i}(x: u64) -> Result<u64, StepFailed> {{
    if x % {i + 2} == 0 {{
        return Err(StepFailed(x));
    }}
    Ok(x ^ {i})
}}
"""
    a = attr("on_success")
    # The future is also made into a trait object here, as awaiting it
    # would: its poll and drop code is then built in this crate whichever
    # way the attribute shapes the function.
    return f"""{a}
pub async fn f_{i}(x: u64) -> u64 {{
    x.wrapping_add({i})
}}

pub fn poll_f_{i}(x: u64) {{
    drop(erase(f_{i}(x)));
}}
"""

variants = {
    "gen_hookflow": lambda event: f"#[hookflow::step({event} = hook)]",
    # `err` on the Result-returning functions, as a user would write it.
    "gen_tracing": lambda event: "#[tracing::instrument(err)]" if event == "on_failure" else "#[tracing::instrument]",
}

lock = os.path.join(root, "Cargo.lock")
for name, attr in variants.items():
    d = os.path.join(work, name)
    os.makedirs(os.path.join(d, "src"))
    with open(os.path.join(d, "Cargo.toml"), "w") as f:
        f.write(manifest(name))
    if os.path.exists(lock):
        # Same dependency versions as the repository (the lock file has more
        # packages than needed: cargo prunes them).
        with open(lock) as src, open(os.path.join(d, "Cargo.lock"), "w") as dst:
            dst.write(src.read())
    with open(os.path.join(d, "src", "lib.rs"), "w") as f:
        f.write(HEADER)
        for i in range(steps):
            f.write(function(i, attr))
            f.write("\n")
PY

echo "building dependencies (not timed) in $WORK ..." >&2
for c in gen_hookflow gen_tracing; do
    (cd "$WORK/$c" && cargo build --quiet) || { echo "build failed in $WORK/$c" >&2; exit 1; }
done

echo "timing $STEPS functions, best of $RUNS (touch src/lib.rs, cargo build, debug) ..." >&2
KINDS=$KINDS python3 - "$WORK" "$STEPS" "$RUNS" <<'PY'
import os, resource, subprocess, sys, time

work, steps, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def build(name, touch=True):
    """(wall, cpu) seconds of one `cargo build` of the crate `name`; cpu is
    user + system time of cargo and rustc, less disturbed than wall time by
    other load on the machine."""
    d = os.path.join(work, name)
    if touch:
        os.utime(os.path.join(d, "src", "lib.rs"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(["cargo", "build", "--quiet"], cwd=d, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"build failed in {d}:\n{r.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu

times = {"gen_hookflow": [], "gen_tracing": [], "noop": []}
# The two crates' rebuilds alternate, so that background load hits both alike.
for run in range(1, runs + 1):
    for name in ("gen_hookflow", "gen_tracing"):
        wall, cpu = build(name)
        times[name].append((wall, cpu))
        print(f"  run {run}  {name}: {wall:.3f} s wall, {cpu:.3f} s cpu", file=sys.stderr)
    times["noop"].append(build("gen_hookflow", touch=False))

best = {k: (min(w for w, _ in v), min(c for _, c in v)) for k, v in times.items()}
(hf, hf_cpu), (tr, tr_cpu), (noop, noop_cpu) = best["gen_hookflow"], best["gen_tracing"], best["noop"]
inc = "incremental" if os.environ.get("CARGO_INCREMENTAL") == "1" else "non-incremental"
kinds = os.environ.get("KINDS", "plain,result,async")
print()
print(f"compile time, {steps} functions ({kinds}), debug ({inc}), best of {runs} rebuilds of the crate alone")
print(f"  #[hookflow::step]        {hf:7.3f} s wall  {hf_cpu:7.3f} s cpu")
print(f"  #[tracing::instrument]   {tr:7.3f} s wall  {tr_cpu:7.3f} s cpu")
print(f"  no-op cargo build        {noop:7.3f} s wall  {noop_cpu:7.3f} s cpu")
print(f"  ratio hookflow / tracing {hf / tr:7.2f}x wall (net of the no-op build: {(hf - noop) / (tr - noop):.2f}x), "
      f"{hf_cpu / tr_cpu:.2f}x cpu; target <= 1.1x wall and cpu")
# Each round builds both crates back to back: the median of the rounds'
# own ratios is steadier than the ratio of two bests on a shared machine.
def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
pairs = list(zip(times["gen_hookflow"], times["gen_tracing"]))
print(f"  median of the {runs} rounds' ratios  {median([h[0] / t[0] for h, t in pairs]):.2f}x wall, "
      f"{median([h[1] / t[1] for h, t in pairs]):.2f}x cpu")
PY

# The code each crate hands LLVM, which does not depend on the machine's
# load: lines of LLVM IR and functions defined, in one codegen unit.
ir() { # crate -> "lines functions"
    (cd "$WORK/$1" && touch src/lib.rs \
        && cargo rustc --quiet --lib -- --emit=llvm-ir -C codegen-units=1) \
        || { echo "IR build failed in $WORK/$1" >&2; exit 1; }
    local ll
    ll=$(ls -t "$CARGO_TARGET_DIR"/debug/deps/"$1"-*.ll | head -1)
    echo "$(wc -l < "$ll") $(grep -c '^define ' "$ll")"
}
read -r hf_lines hf_fns <<< "$(ir gen_hookflow)"
read -r tr_lines tr_fns <<< "$(ir gen_tracing)"
python3 - "$hf_lines" "$hf_fns" "$tr_lines" "$tr_fns" "$STEPS" <<'PY'
import sys
hl, hf, tl, tf, steps = map(int, sys.argv[1:])
print(f"  LLVM IR (load-independent)  #[hookflow::step] {hl} lines, {hf} functions; "
      f"#[tracing::instrument] {tl} lines, {tf} functions; "
      f"ratio {hl / tl:.2f}x lines, {hf / tf:.2f}x functions "
      f"({(hl - tl) / steps:+.0f} lines per function)")
PY

