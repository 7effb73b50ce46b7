#!/usr/bin/env python3
"""PyTorch's time for the example history's work on the demo CNN: every checkpoint of data/demo
over the whole of Fashion-MNIST (60,000 training and 10,000 test images), the label's
probability, the margin and the prediction per image, as `convscope-cli history` computes them
(bench/history-60k.py times that). The same machine, the same thread count: the yardstick for
the history's speed target.

PyTorch gets its best case: the images decoded and normalised once, outside the clock; eval
mode with each batch norm folded into its conv (torch.nn.utils.fusion.fuse_conv_bn_eval);
torch.inference_mode; large batches. What is timed is loading each checkpoint and the forwards.

Usage: bench/history-pytorch.py [--demo DIR] [--threads T] [--epochs K] [--batch B]
Prints `wall_s=... images=... us_per_image=...`. Needs Debian's python3-torch and
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
"""

import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", f"{path}: {name} is {t['dtype']}"
        a, b = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(body[a:b], dtype="<f4").reshape(t["shape"]).copy())
    return out


def demo_net():
    """The demo CNN (data/demo/model.json): three conv-BN-ReLU blocks, GAP, linear."""
    layers = {}
    chans = [(1, 16), (16, 32), (32, 64)]
    for i, (cin, cout) in enumerate(chans, 1):
        layers[f"conv{i}"] = nn.Conv2d(cin, cout, 3, padding=1)
        layers[f"bn{i}"] = nn.BatchNorm2d(cout, eps=1e-5)
    layers["fc"] = nn.Linear(64, 10)
    return nn.ModuleDict(layers)


def folded(net):
    c = [fuse_conv_bn_eval(net[f"conv{i}"], net[f"bn{i}"]) for i in (1, 2, 3)]
    return nn.Sequential(c[0], nn.ReLU(), nn.MaxPool2d(2), c[1], nn.ReLU(), nn.MaxPool2d(2), c[2], nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), net["fc"]).eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demo", default=os.path.join(ROOT, "data", "demo"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--epochs", type=int, default=0, help="only the first K checkpoints (default: all)")
    ap.add_argument("--batch", type=int, default=64, help="images per forward (64 ran fastest of 8..4096)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    meta = json.load(open(os.path.join(a.demo, "run.json")))
    epochs = meta["epochs"][:a.epochs] if a.epochs else meta["epochs"]
    mean, std = meta["input"]["mean"][0], meta["input"]["std"][0]
    images = np.concatenate([idx(f"{DATA}/train-images-idx3-ubyte.gz"), idx(f"{DATA}/t10k-images-idx3-ubyte.gz")])
    labels = torch.from_numpy(np.concatenate([idx(f"{DATA}/train-labels-idx1-ubyte.gz"),
                                              idx(f"{DATA}/t10k-labels-idx1-ubyte.gz")]).astype(np.int64))
    x = (torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1) - mean) / std
    net = demo_net().eval()
    t0 = time.monotonic()
    wrong = 0
    with torch.inference_mode():
        for e in epochs:
            net.load_state_dict(safetensors(os.path.join(a.demo, e["checkpoint"])), strict=False)
            model = folded(net)
            for s in range(0, len(x), a.batch):
                z = model(x[s:s + a.batch])
                y = labels[s:s + a.batch]
                prob = torch.softmax(z, 1).gather(1, y[:, None])[:, 0]
                label_logit = z.gather(1, y[:, None])
                other = z.scatter(1, y[:, None], float("-inf")).max(1).values
                margin = label_logit[:, 0] - other
                wrong += int((z.argmax(1) != y).sum()) + int(prob.isnan().sum()) + int(margin.isnan().sum())
    wall = time.monotonic() - t0
    n = len(x) * len(epochs)
    print(f"pytorch {torch.__version__} threads={a.threads} batch={a.batch} checkpoints={len(epochs)}")
    print(f"wall_s={wall:.1f} images={n} us_per_image={1e6 * wall / n:.1f} (errors counted: {wrong})")


if __name__ == "__main__":
    main()
