#!/usr/bin/python3
"""End-to-end workloads in PyTorch 1.13, the reference side of bench/e2e (protocol: PROTOCOL.md).

One JSON object per workload on stdout, e.g.
  {"impl": "pytorch", "workload": "mlp_train", "metric": "samples_per_s", "median": 51234.0, ...}

  torch_e2e.py [--workload NAME|all] [--threads N] [--reps R] [--warmup W] [--tiny] [--tag TAG]
  torch_e2e.py --list            # workload names, one a line
  torch_e2e.py --sgemm-peak      # GFLOP/s of a 1024^3 float32 matmul (the peak the report compares against)
"""
import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FMNIST_DIR = os.environ.get("EMBER_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
VOCAB, SEQ_LSTM, SEQ_TF, CLASSES = 10000, 100, 64, 10


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion_mnist(limit):
    x = read_idx(os.path.join(FMNIST_DIR, "train-images-idx3-ubyte.gz"))[:limit]
    y = read_idx(os.path.join(FMNIST_DIR, "train-labels-idx1-ubyte.gz"))[:limit]
    x = torch.from_numpy(x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return x, torch.from_numpy(y.astype(np.int64))


def tokens(n, seq, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, VOCAB, (n, seq), generator=g), torch.randint(0, CLASSES, (n,), generator=g)


# ---- models (shapes as in PROTOCOL.md) ----

def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def seed_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(5408, 128),
                         nn.ReLU(), nn.Linear(128, 10))


def keras_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(576, 64),
                         nn.ReLU(), nn.Linear(64, 10))


class LstmClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 64)
        self.lstm1 = nn.LSTM(64, 64, batch_first=True)
        self.lstm2 = nn.LSTM(64, 32, batch_first=True)
        self.fc = nn.Linear(32, CLASSES)

    def forward(self, x):
        h, _ = self.lstm1(self.emb(x))
        h, _ = self.lstm2(h)
        return self.fc(h[:, -1])


class TransformerClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, 128)
        self.pos = nn.Parameter(torch.randn(SEQ_TF, 128) * 0.02)
        layer = nn.TransformerEncoderLayer(128, 4, dim_feedforward=512, dropout=0.1, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.fc = nn.Linear(128, CLASSES)

    def forward(self, x):
        return self.fc(self.enc(self.emb(x) + self.pos).mean(dim=1))


# Forward FLOPs per sample (2 per multiply-add, matmul/conv/recurrent/attention products only); a training
# step is counted as 3x the forward.
def conv_flops(cin, cout, k, hout, wout):
    return 2 * cin * cout * k * k * hout * wout


FLOPS = {
    "mlp": 2 * (784 * 128 + 128 * 64 + 64 * 10),
    "seed_cnn": conv_flops(1, 32, 3, 26, 26) + 2 * (5408 * 128 + 128 * 10),
    "keras_cnn": conv_flops(1, 32, 3, 26, 26) + conv_flops(32, 64, 3, 11, 11) + conv_flops(64, 64, 3, 3, 3)
    + 2 * (576 * 64 + 64 * 10),
    "lstm": SEQ_LSTM * 2 * 4 * (64 * (64 + 64) + 32 * (64 + 32)) + 2 * 32 * 10,
    "transformer": 2 * (SEQ_TF * 2 * (4 * 128 * 128 + 2 * 128 * 512) + 2 * 2 * SEQ_TF * SEQ_TF * 128) + 2 * 128 * 10,
}

# name: (model, optimizer, batch, data, steps per repetition, kind)
WORKLOADS = {
    "mlp_train": ("mlp", "sgd", 128, "fmnist", 50, "train"),
    "seed_cnn_train": ("seed_cnn", "adam", 128, "fmnist", 8, "train"),
    "keras_cnn_train": ("keras_cnn", "adam", 64, "fmnist", 8, "train"),
    "lstm_train": ("lstm", "adam", 64, "tokens100", 3, "train"),
    "transformer_train": ("transformer", "adam", 32, "tokens64", 3, "train"),
    "mlp_infer_b1": ("mlp", None, 1, "fmnist", 200, "latency"),
    "seed_cnn_infer_b1": ("seed_cnn", None, 1, "fmnist", 50, "latency"),
    "seed_cnn_infer_b256": ("seed_cnn", None, 256, "fmnist", 4, "throughput"),
}

MODELS = {"mlp": mlp, "seed_cnn": seed_cnn, "keras_cnn": keras_cnn, "lstm": LstmClassifier,
          "transformer": TransformerClassifier}


def load_data(kind, tiny):
    if kind == "fmnist":
        return fashion_mnist(2048 if tiny else 60000)
    seq = SEQ_LSTM if kind == "tokens100" else SEQ_TF
    return tokens(512 if tiny else 8192, seq, 1)


def run(name, args):
    model_name, opt_name, batch, data_kind, steps, kind = WORKLOADS[name]
    torch.manual_seed(0)
    x, y = load_data(data_kind, args.tiny)
    model = MODELS[model_name]()
    n = x.shape[0]
    starts = list(range(0, n - batch + 1, batch))
    if args.tiny:
        steps = 2
    cursor = [0]

    def next_batch():
        s = starts[cursor[0] % len(starts)]
        cursor[0] += 1
        return x[s:s + batch], y[s:s + batch]

    last_loss = [None]
    if kind == "train":
        model.train()
        opt = (torch.optim.SGD(model.parameters(), lr=0.01) if opt_name == "sgd"
               else torch.optim.Adam(model.parameters(), lr=1e-3))

        def step():
            xb, yb = next_batch()
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            last_loss[0] = loss.item()
    else:
        model.eval()

        def step():
            xb, _ = next_batch()
            with torch.no_grad():
                model(xb)

    def rep():
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        return time.perf_counter() - t0

    for _ in range(args.warmup):
        rep()
    times = [rep() for _ in range(args.reps)]
    if kind == "latency":
        metric, vals = "latency_us", [t / steps * 1e6 for t in times]
    else:
        metric, vals = "samples_per_s", [steps * batch / t for t in times]
    mult = 3 if kind == "train" else 1
    return {
        "impl": "pytorch", "version": torch.__version__, "tag": args.tag, "workload": name, "kind": kind,
        "threads": torch.get_num_threads(), "batch": batch, "steps_per_rep": steps, "reps": args.reps,
        "warmup_reps": args.warmup, "tiny": args.tiny, "metric": metric, "median": statistics.median(vals),
        "min": min(vals), "max": max(vals), "values": vals,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "flops_per_sample": FLOPS[model_name] * mult, "final_loss": last_loss[0],
    }


def sgemm_peak(args):
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    n = 1 if args.tiny else 5
    torch.matmul(a, b)
    best = min(timed(lambda: torch.matmul(a, b)) for _ in range(n))
    return {"impl": "pytorch", "tag": args.tag, "workload": "sgemm_peak", "threads": torch.get_num_threads(),
            "metric": "gflops", "median": 2 * 1024 ** 3 / best / 1e9}


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", default="all")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--tag", default="")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--sgemm-peak", action="store_true")
    args = ap.parse_args()
    if args.list:
        print("\n".join(WORKLOADS))
        return
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.tiny:
        args.reps, args.warmup = min(args.reps, 2), min(args.warmup, 1)
    if args.sgemm_peak:
        print(json.dumps(sgemm_peak(args)), flush=True)
        return
    names = list(WORKLOADS) if args.workload == "all" else args.workload.split(",")
    for name in names:
        if name not in WORKLOADS:
            sys.exit(f"torch_e2e.py: unknown workload '{name}' (see --list)")
        print(json.dumps(run(name, args)), flush=True)


if __name__ == "__main__":
    main()
