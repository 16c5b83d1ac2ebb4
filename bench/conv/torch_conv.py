#!/usr/bin/python3
"""PyTorch side of bench/conv: the same workloads as bench_conv.cpp, 2 threads, median ms per iteration.

Prints one JSON object {benchmark name: ms}.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)
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
    x = torch.randn(128, 1, 28, 28)
    w = torch.randn(32, 1, 3, 3, requires_grad=True)
    b = torch.randn(32, requires_grad=True)
    gy = torch.randn(128, 32, 26, 26)
    with torch.no_grad():
        res["BM_Conv2dForward"] = timed(lambda: F.conv2d(x, w, b))

    def conv_fb():
        w.grad = None
        b.grad = None
        F.conv2d(x, w, b).backward(gy)
    res["BM_Conv2dForwardBackward"] = timed(conv_fb)

    x2 = torch.randn(128, 32, 13, 13)
    w2 = torch.randn(64, 32, 3, 3, requires_grad=True)
    b2 = torch.randn(64, requires_grad=True)
    g2 = torch.randn(128, 64, 11, 11)

    def conv2_fb():
        w2.grad = None
        b2.grad = None
        F.conv2d(x2, w2, b2).backward(g2)
    res["BM_Conv2dLayer2ForwardBackward"] = timed(conv2_fb)

    xp = torch.randn(128, 32, 26, 26)
    gp = torch.randn(128, 32, 13, 13)
    with torch.no_grad():
        res["BM_MaxPool2d/0"] = timed(lambda: F.max_pool2d(xp, 2))
    xg = xp.clone().requires_grad_()

    def pool_fb():
        xg.grad = None
        F.max_pool2d(xg, 2).backward(gp)
    res["BM_MaxPool2d/1"] = timed(pool_fb)

    bw = torch.ones(32, requires_grad=True)
    bb = torch.zeros(32, requires_grad=True)
    rm, rv = torch.zeros(32), torch.ones(32)
    with torch.no_grad():
        res["BM_BatchNorm/0"] = timed(lambda: F.batch_norm(xp, rm, rv, bw, bb, training=True))
    gb = torch.randn(128, 32, 26, 26)

    def bn_fb():
        xg.grad = None
        bw.grad = None
        bb.grad = None
        F.batch_norm(xg, rm, rv, bw, bb, training=True).backward(gb)
    res["BM_BatchNorm/1"] = timed(bn_fb)
    json.dump(res, sys.stdout)
    print()


if __name__ == "__main__":
    main()
