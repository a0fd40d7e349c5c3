#!/usr/bin/env python3
"""Turns one benchmark run into benches/RESULTS.md (ratios, side by side).

Reads criterion's estimates from $CARGO_TARGET_DIR/criterion (default:
<repo>/target-bench/criterion), the memory bench's JSON and, when present,
the saved output of the alloc test and of benches/compile_time.sh (all
written by benches/run_all.sh).

    python3 benches/summarize.py [--out benches/RESULTS.md]
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target-bench"))
if not os.path.isabs(TARGET):
    TARGET = os.path.join(ROOT, TARGET)
CRITERION = os.path.join(TARGET, "criterion")
EXTRA = os.path.join(TARGET, "hookflow-bench")

VARIANTS = [
    ("plain", "plain function"),
    ("hand_written", "hand-written (catch_unwind + 2x Instant::now + hook call)"),
    ("tracing_instrument", "#[tracing::instrument], no subscriber"),
    ("hookflow", "#[hookflow::step]"),
]


def estimate(*parts):
    """Criterion's estimate in ns (slope when sampled linearly, else mean),
    with its 95% confidence interval."""
    path = os.path.join(CRITERION, *parts, "new", "estimates.json")
    with open(path) as f:
        est = json.load(f)
    e = est.get("slope") or est["mean"]
    ci = e["confidence_interval"]
    return e["point_estimate"], ci["lower_bound"], ci["upper_bound"]


def fmt_ns(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    if ns >= 10:
        return f"{ns:.1f} ns"
    return f"{ns:.2f} ns"


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    clock = ""
    try:
        with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
            clock = f.read().strip()
    except OSError:
        pass
    return {
        "nproc": sh("nproc"),
        "cpu": cpu or platform.processor(),
        "os": f"{platform.system()} {platform.release()}",
        "rustc": sh(f"cd {ROOT} && rustc --version"),
        "clocksource": clock,
        "commit": sh(f"cd {ROOT} && git rev-parse --short HEAD") + (" + uncommitted changes" if sh(f"cd {ROOT} && git status --porcelain") else ""),
    }


def overhead_tables(lines, verdicts):
    for group, title in [
        ("sync_success", "Sync step, success path (`on_success = noop`)"),
        ("sync_error", "Sync step, error path (body returns `Err`, `on_failure = noop` fires)"),
        ("async_success", "Async step, success path, awaited on a current-thread Tokio runtime"),
        ("async_error", "Async step, error path, current-thread Tokio runtime"),
    ]:
        try:
            t = {v: estimate(group, v) for v, _ in VARIANTS}
        except FileNotFoundError as e:
            lines.append(f"_{group}: no data ({e.filename})_\n")
            continue
        hand = t["hand_written"][0]
        tr = t["tracing_instrument"][0]
        plain = t["plain"][0]
        lines.append(f"### {title}\n")
        lines.append("| variant | time per call (95% CI) | ÷ hand-written | ÷ tracing | ÷ plain |")
        lines.append("|---|---:|---:|---:|---:|")
        for v, label in VARIANTS:
            p, lo, hi = t[v]
            bold = "**" if v == "hookflow" else ""
            lines.append(
                f"| {bold}{label}{bold} | {bold}{fmt_ns(p)}{bold} ({fmt_ns(lo)} – {fmt_ns(hi)}) "
                f"| {bold}{p / hand:.2f}×{bold} | {p / tr:.1f}× | {p / plain:.0f}× |"
            )
        ratio = t["hookflow"][0] / hand
        lines.append("")
        if group.endswith("success"):
            verdicts.append((f"{group.replace('_', ' ')}: hookflow ÷ hand-written", ratio, 1.3))
        else:
            verdicts.append((f"{group.replace('_', ' ')}: hookflow ÷ hand-written (not a spec target)", ratio, None))


def pipeline_table(lines, verdicts):
    lines.append("### Steps inside a pipeline (sync, `on_success = noop`), per step\n")
    lines.append(
        "| steps per run | hand-written loop | hookflow, no pipeline | **hookflow, in a pipeline** "
        "| pipeline ÷ hand-written | pipeline ÷ no pipeline |"
    )
    lines.append("|---:|---:|---:|---:|---:|---:|")
    for n in (10, 1000, 100000):
        try:
            hand = estimate("pipeline", "hand_written_loop", str(n))[0] / n
            direct = estimate("pipeline", "hookflow_no_pipeline", str(n))[0] / n
            pipe = estimate("pipeline", "hookflow_pipeline", str(n))[0] / n
        except FileNotFoundError as e:
            lines.append(f"| {n} | no data ({e.filename}) | | | | |")
            continue
        lines.append(
            f"| {n:,} | {fmt_ns(hand)} | {fmt_ns(direct)} | **{fmt_ns(pipe)}** "
            f"| {pipe / hand:.2f}× | {pipe / direct:.2f}× |".replace(",", " ")
        )
    lines.append("\nFor 10 steps the per-step figure includes the run's own start and end "
                 "(run id, span, `Arc`s), spread over 10 steps.\n")


def memory_table(lines):
    path = os.path.join(EXTRA, "memory.json")
    lines.append("### Heap memory of a pipeline run, per step (net of an empty run)\n")
    if not os.path.exists(path):
        lines.append(f"_no data: run `cargo bench --bench memory` with HOOKFLOW_MEMORY_JSON={path}_\n")
        return
    with open(path) as f:
        rows = json.load(f)
    lines.append("| pipeline | steps | allocations / step | bytes allocated / step | peak live bytes / step |")
    lines.append("|---|---:|---:|---:|---:|")
    for r in rows:
        lines.append(
            f"| {r['pipeline']} | {r['steps']:,} | {r['allocs_per_step']:.3f} | "
            f"{r['bytes_per_step']:.1f} | {r['peak_per_step']:.1f} |".replace(",", " ")
        )
    lines.append("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "benches", "RESULTS.md"))
    args = ap.parse_args()

    m = machine()
    lines = [
        "# hookflow benchmark results",
        "",
        "Generated by `benches/run_all.sh` (`benches/summarize.py`) from one run; "
        "every row of a table was measured in the same `cargo bench` run, side by side.",
        "",
        f"- machine: {m['nproc']} cores (`nproc`), {m['cpu']}, {m['os']}, clocksource `{m['clocksource']}`",
        f"- {m['rustc']}, `bench` profile (release), no `tracing` subscriber, `RUST_LIB_BACKTRACE=0`",
        f"- commit {m['commit']}, {datetime.date.today().isoformat()}",
        "",
        "## Overhead per call\n",
    ]
    verdicts = []
    overhead_tables(lines, verdicts)
    lines.append("## Pipelines\n")
    pipeline_table(lines, verdicts)
    memory_table(lines)

    alloc = os.path.join(EXTRA, "alloc-test.txt")
    lines.append("## Heap allocations per call (`tests/alloc.rs`)\n")
    if os.path.exists(alloc):
        with open(alloc) as f:
            keep = [l.rstrip() for l in f if l.startswith(("test ", "sync ", "async ", "pipeline "))]
        lines.append("```text")
        lines.extend(keep)
        lines.append("```\n")
    else:
        lines.append("_not run_\n")

    lines.append("## Compile time (`benches/compile_time.sh`)\n")
    found = False
    for fname, label in [("compile-time.txt", "clean compile of the crate (non-incremental)"),
                         ("compile-time-incremental.txt", "incremental rebuild after `touch`")]:
        ct = os.path.join(EXTRA, fname)
        if not os.path.exists(ct):
            continue
        found = True
        with open(ct) as f:
            out = [l for l in f.read().strip().splitlines() if not l.startswith("generated crates kept")]
        lines.append("```text")
        lines.extend(out)
        lines.append("```\n")
        for l in out:
            if "ratio hookflow / tracing" in l:
                target = 1.1 if fname == "compile-time.txt" else None
                name = f"compile time, {label}: hookflow ÷ tracing::instrument"
                verdicts.append((name + ("" if target else " (not the spec measure)"), float(l.split()[4].rstrip("x")), target))
    if not found:
        lines.append("_not run_\n")

    summary = ["## Against the targets of spec §6\n", "| measure | ratio | target | |", "|---|---:|---:|---|"]
    for name, ratio, target in verdicts:
        if target is None:
            summary.append(f"| {name} | {ratio:.2f}× | – | |")
        else:
            ok = "met" if ratio <= target else "**missed**"
            summary.append(f"| {name} | {ratio:.2f}× | ≤ {target}× | {ok} |")
    summary.append("")
    lines[8:8] = summary

    notes = [
        "## How to read this\n",
        "- *hand-written* is `catch_unwind` + two `Instant::now()` + a real (not inlined) call of the hook "
        "with a small context; on the error path it also converts the error into `anyhow::Error`, formats "
        "its message and shares it in an `Arc`, as `StepError` does. The spec's overhead target compares hookflow with it.",
        "- *plain* and *tracing* are shown for scale: `#[tracing::instrument]` without a subscriber reads no clock and "
        "catches no panic, so it is not the work hookflow does.",
    ]
    try:
        clock = estimate("baseline", "instant_now_x2")[0]
        notes.append(f"- Two `Instant::now()` alone take {fmt_ns(clock)} on this machine: most of the hand-written cost.")
    except FileNotFoundError:
        pass
    notes += [
        "- `RUST_LIB_BACKTRACE=0`: with `RUST_BACKTRACE=1` inherited, anyhow captures a backtrace for every "
        "error (≈ 5 µs here), which would swamp both error paths alike.",
        "- Compile time is wall time of `cargo build` (debug) of a generated crate of 300 functions, a third each "
        "`fn -> u64` (`on_success`), `fn -> Result` (`on_failure`) and `async fn` (`on_success`), best of 3, "
        "dependencies prebuilt; CPU time is shown too because the machine is shared.",
        "",
    ]
    lines += notes
    lines += [
        "## Reproduce",
        "",
        "```sh",
        "bash benches/run_all.sh          # everything below, then writes benches/RESULTS.md",
        "# or piece by piece:",
        "export CARGO_TARGET_DIR=target-bench RUST_LIB_BACKTRACE=0",
        "cargo bench --bench overhead",
        "HOOKFLOW_MEMORY_JSON=target-bench/hookflow-bench/memory.json cargo bench --bench memory",
        "cargo test --release --test alloc -- --nocapture --test-threads=1",
        "bash benches/compile_time.sh",
        "python3 benches/summarize.py",
        "```",
        "",
    ]
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
