#!/usr/bin/python3
"""Prints the micro-benchmark table from Google Benchmark JSON files (micro_ember, micro_torch) and the JSON
lines of torch_micro.py. Each (case, implementation) keeps its best repetition (minimum real time), which is
the most robust number on a shared machine.

  micro_report.py [--markdown] [--cpu-time] FILE...    (files ending in .json are Google Benchmark output, others JSON lines)
"""
import argparse
import json
import re

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
IMPLS = ["ember", "onednn", "openblas", "libtorch", "pytorch"]


def load(paths, field):
    best = {}  # (case, impl) -> (time_ns, flops per call)

    def put(name, t_ns, flops):
        case, _, impl = name.rpartition("/")
        key = (case, impl)
        if key not in best or t_ns < best[key][0]:
            best[key] = (t_ns, flops)

    for p in paths:
        with open(p) as f:
            text = f.read()
        if p.endswith(".json"):
            for b in json.loads(text).get("benchmarks", []):
                if b.get("run_type") == "aggregate" or b.get("error_occurred"):
                    continue
                name = re.sub(r"/(iterations|repeats|min_time|threads):[^/]+|/real_time", "", b["name"])
                t = b[field] * UNIT_NS[b.get("time_unit", "ns")]
                flops = b.get("flops", 0.0) * t * 1e-9  # the counter is a rate; back to flops per call
                put(name, t, flops)
        else:
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("{"):
                    r = json.loads(line)
                    put(r["name"], r["time_ns"], r.get("flops", 0.0))
    return best


def fmt_time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} us"
    return f"{ns:.0f} ns"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--cpu-time", action="store_true", help="use the calling thread's CPU time (1 thread only)")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    best = load(args.files, "cpu_time" if args.cpu_time else "real_time")
    cases = []
    for case, _ in best:
        if case not in cases:
            cases.append(case)

    head = ["case", "unit"] + IMPLS + ["Ember/LibTorch", "Ember/PyTorch", "Ember/best BLAS"]
    rows = []
    for case in cases:
        flops = max((best[(case, i)][1] for i in IMPLS if (case, i) in best), default=0.0)
        gemm = flops > 0
        row = [case, "GFLOP/s" if gemm else "time/op"]
        for impl in IMPLS:
            if (case, impl) not in best:
                row.append("-")
            elif gemm:
                row.append(f"{flops / best[(case, impl)][0]:.3g}")
            else:
                row.append(fmt_time(best[(case, impl)][0]))
        # Ratios are always Ember's time over the other's: below 1 means Ember is faster.
        def ratio(others):
            ts = [best[(case, o)][0] for o in others if (case, o) in best]
            if (case, "ember") not in best or not ts:
                return "-"
            return f"{best[(case, 'ember')][0] / min(ts):.2f}"

        row += [ratio(["libtorch"]), ratio(["pytorch"]), ratio(["onednn", "openblas"]) if gemm else "-"]
        rows.append(row)

    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
        for r in [head] + rows:
            print("  ".join(str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(r, widths))))
    print("\nRatios are Ember's time divided by the other's (below 1: Ember faster). best BLAS = faster of "
          "oneDNN dnnl_sgemm / OpenBLAS cblas_sgemm called directly; best of repetitions, " + ("CPU time of the calling thread." if args.cpu_time else "real time."))


if __name__ == "__main__":
    main()
