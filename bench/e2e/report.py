#!/usr/bin/python3
"""Writes the end-to-end results table (Markdown, stdout) from the JSON lines of run_e2e.sh.

  report.py results.jsonl > bench/RESULTS.md
"""
import datetime
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def machine():
    model, cores = "unknown CPU", 0
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "unknown CPU":
                    model = line.split(":", 1)[1].strip()
                if line.startswith("processor"):
                    cores += 1
    except OSError:
        pass
    return model, cores


def commit():
    try:
        c = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                           check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return c + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def fmt(r):
    if r is None:
        return "-"
    unit = " µs" if r["metric"] == "latency_us" else "/s"
    p = 1 if r["median"] < 100 else 0
    return f"{r['median']:.{p}f}{unit} ({r['min']:.{p}f}–{r['max']:.{p}f})"


def speed(r):
    """Higher is better: samples per second."""
    if r is None:
        return None
    return 1e6 / r["median"] if r["metric"] == "latency_us" else r["median"]


def gflops(r, peak):
    s = speed(r)
    if s is None or not r.get("flops_per_sample"):
        return "-"
    g = s * r["flops_per_sample"] / 1e9
    return f"{g:.1f} ({100 * g / peak:.0f}%)" if peak else f"{g:.1f}"


def main():
    rows = []
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    peak = {r["threads"]: r["median"] for r in rows if r["workload"] == "sgemm_peak"}
    load = {r["when"]: r["loadavg"] for r in rows if r["workload"] == "loadavg"}
    rows = [r for r in rows if r["workload"] != "loadavg"]
    by = {}
    order = []
    for r in rows:
        if r["workload"] == "sgemm_peak":
            continue
        key = (r["workload"], r["threads"])
        if key not in order:
            order.append(key)
        impl = r.get("impl")
        side = impl if impl in ("ember", "libtorch") else r.get("tag") or "default"
        by[(key, side)] = r
    tiny = any(r.get("tiny") for r in rows)
    model, cores = machine()
    print("# Ember end-to-end benchmark results\n")
    print(f"- machine: {model}, {cores} logical CPUs")
    print(f"- commit: {commit()}")
    print(f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
    versions = sorted({r.get("version", "?") for r in rows if r.get("impl") == "pytorch" and "version" in r})
    lt_versions = sorted({r.get("version", "?") for r in rows if r.get("impl") == "libtorch" and "version" in r})
    print(f"- PyTorch: {', '.join(versions) or '-'}; LibTorch (C++): {', '.join(lt_versions) or 'not run'}; "
          "sgemm peak (torch.matmul 1024^3, GFLOP/s): "
          + ", ".join(f"{t} thr {p:.1f}" for t, p in sorted(peak.items())))
    if load:
        print("- load average (1/5/15 min) at " + ", ".join(f"{k}: {v}" for k, v in load.items())
              + " — on 2 cores anything above ~1 means other processes shared the CPU and slowed every number")
    if tiny:
        print("- **tiny run (smoke test): numbers are meaningless**")
    print("\nMedian over repetitions after warm-up, (min–max) in brackets. Training and batch-256 rows are "
          "samples/s (higher is better), batch-1 rows are latency in µs (lower is better). Ember/PyTorch is "
          "Ember's speed over PyTorch-at-its-best's (above 1: Ember faster). GFLOP/s counts matmul/conv/"
          "recurrent/attention products (a training step as 3x the forward); the % is of the sgemm peak at the "
          "same thread count. PyTorch best = OPENBLAS_NUM_THREADS=1 + GLIBC_TUNABLES malloc thresholds; "
          "default = out of the box; LibTorch = the same models in C++ (libtorch_e2e), in the best environment; "
          "Ember/LibTorch is Ember's speed over LibTorch's (see bench/e2e/PROTOCOL.md).\n")
    print("| workload | threads | Ember | PyTorch best | PyTorch default | LibTorch | Ember/PyTorch | "
          "Ember/LibTorch | peak RSS MB (Ember / PyTorch / LibTorch) | GFLOP/s Ember | GFLOP/s PyTorch best |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for key in order:
        e, b, d, lt = (by.get((key, side)) for side in ("ember", "best", "default", "libtorch"))
        ratio = f"{speed(e) / speed(b):.2f}" if e and b else "-"
        lt_ratio = f"{speed(e) / speed(lt):.2f}" if e and lt else "-"
        rss = " / ".join(f"{r['peak_rss_mb']:.0f}" if r else "-" for r in (e, b, lt))
        pk = peak.get(key[1])
        print(f"| {key[0]} | {key[1]} | {fmt(e)} | {fmt(b)} | {fmt(d)} | {fmt(lt)} | {ratio} | {lt_ratio} | "
              f"{rss} | {gflops(e, pk)} | {gflops(b, pk)} |")
    print("\nBatch-1 latency target: Ember's latency at most 1/8 of LibTorch's (at its best, 1 thread), i.e. "
          "Ember/LibTorch ≥ 8 on the `*_infer_b1` rows (the ratio is a speed ratio: LibTorch µs / Ember µs).")


if __name__ == "__main__":
    main()
