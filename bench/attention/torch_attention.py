#!/usr/bin/python3
"""PyTorch side of bench/attention: the same workloads as bench_attention.cpp, 2 threads, median ms per
iteration. PyTorch 1.13 has no public scaled_dot_product_attention, so BM_SdpaForwardBackward uses the
private F._scaled_dot_product_attention (what nn.MultiheadAttention calls without weights).

Prints one JSON object {benchmark name: ms}.
"""
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
N, T, D, H = 32, 64, 128, 4


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


def fb(module, x, g, call):
    def step():
        module.zero_grad(set_to_none=True)
        x.grad = None
        call(x).backward(g)
    return step


def main():
    res = {}
    q, k, v = (torch.randn(N, H, T, D // H, requires_grad=True) for _ in range(3))
    gq = torch.randn(N, H, T, D // H)

    def sdpa_fb():
        for t in (q, k, v):
            t.grad = None
        F._scaled_dot_product_attention(q, k, v, None, 0.0, False)[0].backward(gq)
    res["BM_SdpaForwardBackward"] = timed(sdpa_fb)

    mha = nn.MultiheadAttention(D, H, batch_first=True)
    x = torch.randn(N, T, D, requires_grad=True)
    g = torch.randn(N, T, D)
    with torch.no_grad():
        res["BM_MHAForward"] = timed(lambda: mha(x, x, x, need_weights=False)[0])
    res["BM_MHAForwardBackward"] = timed(fb(mha, x, g, lambda x: mha(x, x, x, need_weights=False)[0]))
    enc = nn.TransformerEncoderLayer(D, H, 512, dropout=0.0, batch_first=True)
    res["BM_EncoderLayerForwardBackward"] = timed(fb(enc, x, g, lambda x: enc(x)))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
