#!/usr/bin/python3
"""Fixtures for tests/analysis: random conv / linear / matmul weights over a few "epochs" and
their statistics computed independently with numpy (float64), including WeightWatcher's
power-law alpha with the KS choice of lambda_min.

Run with Debian's python (numpy): /usr/bin/python3 tools/make-analysis-reference.py
Writes tests/analysis/fixtures/weights.bin (float32, little-endian, layers and epochs in the
order of weights.json) and weights.json (shapes, layouts, expected values)."""
import json
import os

import numpy as np

MIN_TAIL = 10        # CS_POWERLAW_MIN_TAIL
ZERO = 1e-10         # eigenvalues below ZERO * max are dropped


def slices(w, kind):
    if kind == "conv":   # [M, C, kh, kw] -> kh*kw matrices M x C
        return [w[:, :, i, j] for i in range(w.shape[2]) for j in range(w.shape[3])]
    return [w]


def esd(w, kind):
    ev = []
    for a in slices(w.astype(np.float64), kind):
        s = np.linalg.svd(a, compute_uv=False)
        ev.append(s * s / max(a.shape))
    ev = np.sort(np.concatenate(ev))
    return ev[ev > ZERO * ev[-1]]


def powerlaw(ev):
    """Brute force over candidates, written independently of the C suffix-sum version."""
    best = None
    for xmin in np.unique(ev):
        tail = ev[ev >= xmin]
        n = len(tail)
        if n < MIN_TAIL:
            break
        s = np.sum(np.log(tail / xmin))
        if s <= 0:
            continue
        alpha = 1 + n / s
        cdf = 1 - (tail / xmin) ** (1 - alpha)
        # ECDF just after / just before each point (ties included)
        after = np.searchsorted(tail, tail, side="right") / n
        before = np.searchsorted(tail, tail, side="left") / n
        d = max(np.max(np.abs(after - cdf)), np.max(np.abs(cdf - before)))
        if best is None or d < best[2]:
            best = (alpha, xmin, d, n)
    return best


def filters(w, kind):
    if kind == "matmul":   # [in, out]: filter k is column k
        return w.T.reshape(w.shape[1], -1)
    return w.reshape(w.shape[0], -1)


def stats(ws, kind):
    out = {k: [] for k in ("norm", "relative_change", "cosine_to_previous", "distance_from_init",
                           "rotation", "alpha", "lambda_min", "ks", "stable_rank", "n_eigs",
                           "filter_change")}
    w0 = ws[0].astype(np.float64).ravel()
    for t, w in enumerate(ws):
        x = w.astype(np.float64).ravel()
        out["norm"].append(np.linalg.norm(x))
        out["distance_from_init"].append(np.linalg.norm(x - w0))
        out["rotation"].append(1 - x @ w0 / (np.linalg.norm(x) * np.linalg.norm(w0)))
        if t == 0:
            out["relative_change"].append(None)
            out["cosine_to_previous"].append(None)
            out["filter_change"].append(None)
        else:
            p = ws[t - 1].astype(np.float64)
            y = p.ravel()
            out["relative_change"].append(np.linalg.norm(x - y) / np.linalg.norm(y))
            out["cosine_to_previous"].append(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))
            fw, fp = filters(w.astype(np.float64), kind), filters(p, kind)
            out["filter_change"].append(list(np.linalg.norm(fw - fp, axis=1)
                                             / np.linalg.norm(fp, axis=1)))
        ev = esd(w, kind)
        fit = powerlaw(ev)
        out["alpha"].append(fit[0])
        out["lambda_min"].append(fit[1])
        out["ks"].append(fit[2])
        out["stable_rank"].append(ev.sum() / ev.max())
        out["n_eigs"].append(len(ev))
    return out


def heavy(rng, m, n, a):
    """A matrix whose squared singular values follow a Pareto law of exponent a."""
    u, _ = np.linalg.qr(rng.standard_normal((m, m)))
    v, _ = np.linalg.qr(rng.standard_normal((n, m)))
    lam = (1 - rng.random(m)) ** (-1 / (a - 1))
    return (u * np.sqrt(lam)) @ v.T


def main():
    rng = np.random.default_rng(20240)
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "analysis",
                        "fixtures")
    os.makedirs(here, exist_ok=True)
    layers = [("conv1", "conv", (16, 8, 3, 3), False),
              ("fc1", "linear", (40, 64), False),
              ("proj", "matmul", (64, 24), False),
              ("heavy", "linear", (48, 80), True)]
    epochs = 4
    meta, blob = [], []
    for name, kind, shape, is_heavy in layers:
        w = (heavy(rng, shape[0], shape[1], 3.0) * 0.3 if is_heavy
             else rng.standard_normal(shape) * 0.1)
        ws = []
        for t in range(epochs):
            if t > 0:   # shrinking random steps plus a drift, like training
                w = w * 0.98 + rng.standard_normal(shape) * 0.02 / t
            w32 = w.astype(np.float32)
            ws.append(w32)
            blob.append(w32.ravel())
        e = {"name": name, "kind": kind, "shape": list(shape)}
        for k, v in stats(ws, kind).items():
            e[k] = [None if x is None else (list(map(float, x)) if isinstance(x, list) else float(x))
                    for x in v]
        meta.append(e)
    np.concatenate(blob).astype("<f4").tofile(os.path.join(here, "weights.bin"))
    with open(os.path.join(here, "weights.json"), "w") as f:
        json.dump({"epochs": epochs, "min_tail": MIN_TAIL, "layers": meta}, f, indent=1)


if __name__ == "__main__":
    main()
