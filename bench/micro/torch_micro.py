#!/usr/bin/python3
"""The PyTorch (Python) side of the micro-benchmarks: the same cases and names as micro_ember and
micro_torch ("<case>/pytorch"), one JSON object per line on stdout:

  {"name": "matmul_256x256x256/pytorch", "time_ns": 1234.5, "flops": 3.3e7, "iterations": 100}

time_ns is the best (minimum) over repetitions of the mean wall-clock time per call (with --cpu-time: the
calling thread's CPU time, robust on a loaded machine but only meaningful at one thread); flops is per call.
Usage: torch_micro.py [--threads N] [--quick] [--reps R] [--min-time SECONDS] [--cpu-time]
"""
import argparse
import json
import time

import torch


clock = time.perf_counter_ns


def time_call(fn, quick, reps, min_time):
    if quick:
        t0 = clock()
        fn()
        return clock() - t0, 1
    for _ in range(3):
        fn()
    # Choose an iteration count that fills min_time, then keep the best of `reps` runs.
    n = 1
    while True:
        t0 = clock()
        for _ in range(n):
            fn()
        dt = clock() - t0
        if dt >= min_time * 1e9 or n >= 1 << 24:
            break
        n *= 2 if dt < min_time * 1e8 else max(2, int(min_time * 1e9 / max(dt, 1)) + 1)
    best = dt / n
    for _ in range(reps - 1):
        t0 = clock()
        for _ in range(n):
            fn()
        best = min(best, (clock() - t0) / n)
    return best, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--cpu-time", action="store_true")
    args = ap.parse_args()
    if args.cpu_time:
        global clock
        clock = time.thread_time_ns
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    mms = [(128, 784, 128), (256, 256, 256), (1024, 1024, 1024)]
    nb, bmm = 32, (64, 64, 64)
    if args.quick:
        mms, nb, bmm = [(8, 16, 8)], 2, (4, 4, 4)

    cases = []
    with torch.no_grad():
        for m, k, n in mms:
            a, b = torch.randn(m, k), torch.randn(k, n)
            cases.append((f"matmul_{m}x{k}x{n}", (lambda a=a, b=b: torch.matmul(a, b)), 2.0 * m * n * k))
        m, k, n = bmm
        a, b = torch.randn(nb, m, k), torch.randn(nb, k, n)
        cases.append((f"bmm_{nb}x{m}x{k}x{n}", (lambda a=a, b=b: torch.matmul(a, b)), 2.0 * nb * m * n * k))
    a, b = torch.ones(1), torch.ones(1)
    cases.append(("add_1", (lambda: torch.add(a, b)), 0.0))
    ga, gb = torch.ones(1, requires_grad=True), torch.ones(1, requires_grad=True)
    cases.append(("add_1_grad", (lambda: torch.add(ga, gb)), 0.0))

    for name, fn, flops in cases:
        if name.startswith("add"):
            t, n = time_call(fn, args.quick, args.reps, args.min_time)
        else:
            with torch.no_grad():
                t, n = time_call(fn, args.quick, args.reps, args.min_time)
        print(json.dumps({"name": name + "/pytorch", "time_ns": t, "flops": flops, "iterations": n}), flush=True)


if __name__ == "__main__":
    main()
