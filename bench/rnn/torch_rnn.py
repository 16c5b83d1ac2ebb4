#!/usr/bin/python3
"""PyTorch side of bench/rnn: the same workloads as bench_rnn.cpp (nn.LSTM / nn.GRU 64 -> 64, x (64, 100, 64),
batch_first), 2 threads (or $BENCH_THREADS), median ms per iteration.

Prints one JSON object {benchmark name: ms}.
"""
import json
import os
import time

import torch

torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
torch.manual_seed(0)


def timed(fn, min_time=1.0):
    for _ in range(3):
        fn()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < min_time or len(times) < 5:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1e3


def main():
    res = {}
    x = torch.randn(64, 100, 64)
    gy = torch.randn(64, 100, 64)
    for name, cls in (("LSTM", torch.nn.LSTM), ("GRU", torch.nn.GRU)):
        m = cls(64, 64, batch_first=True)
        with torch.no_grad():
            res[f"BM_{name}Forward"] = timed(lambda: m(x))
        xg = x.clone().requires_grad_()

        def fb():
            m.zero_grad(set_to_none=True)
            xg.grad = None
            m(xg)[0].backward(gy)
        res[f"BM_{name}ForwardBackward"] = timed(fb)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
