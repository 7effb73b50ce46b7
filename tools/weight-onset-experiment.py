#!/usr/bin/python3
"""The experiment behind the validation-free overfitting rule (src/core/analysis/overfitting.c).

Trains a small CNN with PyTorch on a Fashion-MNIST subset (Debian's dataset-fashion-mnist) long
enough to overfit, and records per epoch the train/validation loss and, per layer weight, the
relative change ||W_t - W_{t-1}|| / ||W_{t-1}|| and the distance from initialisation. tests/analysis uses the result to check both onset rules on a real run.

  /usr/bin/python3 tools/weight-onset-experiment.py SEED sgd|adam TRAIN_SUBSET [OUT.json]
(default OUT: tests/analysis/fixtures/fmnist-<opt>-curves.json; a few minutes on one core)."""
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist/"


def idx(path):
    with gzip.open(path) as f:
        d = f.read()
    nd = d[3]
    dims = [int.from_bytes(d[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(d, np.uint8, offset=4 + 4 * nd).reshape(dims)


def main():
    seed, opt_name, ntr = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[4] if len(sys.argv) > 4 else os.path.join(
        here, "..", "tests", "analysis", "fixtures", "fmnist-%s-curves.json" % opt_name)
    torch.set_num_threads(1)
    X = idx(DATA + "train-images-idx3-ubyte.gz")
    Y = idx(DATA + "train-labels-idx1-ubyte.gz")
    perm = np.random.default_rng(seed).permutation(len(X))
    tr, va = perm[:ntr], perm[ntr:ntr + 2000]

    def tensors(ix):
        x = (torch.tensor(X[ix], dtype=torch.float32).unsqueeze(1) / 255. - 0.286) / 0.353
        return x, torch.tensor(Y[ix].astype(np.int64))

    xtr, ytr = tensors(tr)
    xva, yva = tensors(va)
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(32 * 49, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = (torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) if opt_name == "sgd"
           else torch.optim.Adam(m.parameters(), lr=1e-3))

    def snap():
        return {n: p.detach().numpy().copy() for n, p in m.named_parameters()
                if n.endswith("weight")}

    def losses():
        m.eval()
        with torch.no_grad():
            r = (F.cross_entropy(m(xtr), ytr).item(), F.cross_entropy(m(xva), yva).item())
        m.train()
        return r

    W, L = [snap()], [losses()]
    for ep in range(40):
        p = torch.randperm(ntr, generator=torch.Generator().manual_seed(seed * 100 + ep))
        for i in range(0, ntr, 64):
            b = p[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(m(xtr[b]), ytr[b]).backward()
            opt.step()
        W.append(snap())
        L.append(losses())
    res = {"seed": seed, "optimizer": opt_name, "train_subset": ntr,
           "train_loss": [a for a, _ in L], "val_loss": [b for _, b in L], "layers": []}
    for n in W[0]:
        res["layers"].append({
            "name": n,
            "relative_change": [None] + [float(np.linalg.norm(W[t][n] - W[t - 1][n])
                                               / np.linalg.norm(W[t - 1][n]))
                                         for t in range(1, len(W))],
            "distance_from_init": [float(np.linalg.norm(W[t][n] - W[0][n]))
                                   for t in range(len(W))]})
    with open(out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
