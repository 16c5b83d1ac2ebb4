#!/usr/bin/python3
"""PyTorch side of bench/layers: the same workloads as bench_layers.cpp, 2 threads, median ms per iteration.

Prints one JSON object {benchmark name: ms}.
"""
import json
import time

import torch
import torch.nn as nn

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


class BasicBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + x)


def main():
    res = {}
    conv = nn.Conv2d(1, 32, 3)
    x = torch.randn(128, 1, 28, 28)
    gy = torch.randn(128, 32, 26, 26)
    with torch.no_grad():
        res["BM_Conv2dModuleForward"] = timed(lambda: conv(x))

    def conv_fb():
        conv.zero_grad(set_to_none=True)
        conv(x).backward(gy)
    res["BM_Conv2dModuleForwardBackward"] = timed(conv_fb)

    block = BasicBlock(64)
    xb = torch.randn(32, 64, 16, 16, requires_grad=True)
    gb = torch.randn(32, 64, 16, 16)
    with torch.no_grad():
        res["BM_ResidualBlockForward"] = timed(lambda: block(xb))

    def block_fb():
        block.zero_grad(set_to_none=True)
        xb.grad = None
        block(xb).backward(gb)
    res["BM_ResidualBlockForwardBackward"] = timed(block_fb)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
