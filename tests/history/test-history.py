#!/usr/bin/env python3
"""Each example's history and the prescriptive commands (TAP): `history` and `suspects` on a copy
of the demo run, checked against the trainer's own validation accuracy and against measures
recomputed here from the documented history.bin; the cache as untrusted input; label errors
recovered on a run trained with 10 % of its labels flipped (the flips known to this test only);
and `shortcuts` flagging the one class that carries a planted corner patch, and none on a clean run.

Usage: test-history.py CONVSCOPE_CLI [cache|noise|shortcuts]: the demo run, the cache and the
errors; the label-noise run; the shortcut runs (the last two train runs of their own). Needs numpy
(Debian: python3-numpy).
"""

import gzip
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check, note  # noqa: E402

CLI = os.path.abspath(sys.argv[1])
SRC = os.environ.get("CONVSCOPE_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEMO = os.path.join(SRC, "data", "demo")
FASHION = "/usr/share/datasets/fashion-mnist"
ERROR_LINE = re.compile(r"^convscope-cli: error: (.+?): (.+)$")
# The architecture of the trained runs, fixed here so that the demo run may change: two conv-BN-
# ReLU-pool stages and a linear classifier over the flattened 7x7 maps.
ARCH = {"format": "convscope-model/1", "input": [1, 28, 28], "nodes": [
    {"name": "conv1", "op": "conv2d", "out_channels": 16, "kernel": 3, "padding": 1},
    {"name": "bn1", "op": "batchnorm2d", "eps": 1e-05, "momentum": 0.1},
    {"name": "relu1", "op": "relu"},
    {"name": "pool1", "op": "maxpool2d", "kernel": 2},
    {"name": "conv2", "op": "conv2d", "out_channels": 32, "kernel": 3, "padding": 1},
    {"name": "bn2", "op": "batchnorm2d", "eps": 1e-05, "momentum": 0.1},
    {"name": "relu2", "op": "relu"},
    {"name": "pool2", "op": "maxpool2d", "kernel": 2},
    {"name": "flat", "op": "flatten"},
    {"name": "fc", "op": "linear", "out_features": 10}]}


def arch_file(tmp):
    path = os.path.join(tmp, "arch.json")
    if not os.path.exists(path):
        json.dump(ARCH, open(path, "w"))
    return path


def run(*args, timeout=900):
    return subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)


def one_error_line(p, code=1):
    lines = p.stderr.strip().splitlines()
    return p.returncode == code and len(lines) == 1 and ERROR_LINE.match(lines[0]) is not None


def read_history(path):
    """history.bin as docs/formats/history.md lays it out."""
    d = open(path, "rb").read()
    assert d[:8] == b"CSHISTv1"
    n_epochs, n_classes = struct.unpack_from("<II", d, 16)
    n = struct.unpack_from("<QQ", d, 24)
    spec_len = struct.unpack_from("<I", d, 40)[0]
    p = 64 + spec_len
    epochs = np.frombuffer(d, "<i4", n_epochs, p)
    p += 4 * n_epochs
    splits = []
    for s in range(2):
        k, cells = n[s], n[s] * n_epochs
        x = {"index": np.frombuffer(d, "<i8", k, p)}
        p += 8 * k
        x["label"] = np.frombuffer(d, "u1", k, p)
        p += k
        for name, dt, size in (("prob", "<f4", 4), ("margin", "<f4", 4), ("pred", "u1", 1), ("other", "u1", 1)):
            x[name] = np.frombuffer(d, dt, cells, p).reshape(k, n_epochs)
            p += size * cells
        splits.append(x)
    assert p == len(d)
    return epochs, n_classes, splits


def measures(epochs, x):
    """The papers' measures over the training epochs (epoch 0, the initialisation, left out)."""
    t = epochs >= 1
    prob, margin, right = x["prob"][:, t], x["margin"][:, t], x["pred"][:, t] == x["label"][:, None]
    forgetting = (right[:, :-1] & ~right[:, 1:]).sum(1)
    return {"confidence": prob.mean(1), "variability": prob.std(1), "correctness": right.mean(1),
            "aum": margin.mean(1), "forgetting": forgetting}


def test_demo(tmp):
    run_dir = os.path.join(tmp, "demo")
    shutil.copytree(DEMO, run_dir, ignore=shutil.ignore_patterns("analysis.json", "history.bin"))
    p = run("history", run_dir, "--json")
    if not check(p.returncode == 0, f"history --json on the demo run: {p.stderr.strip()[:200]}"):
        return
    info = json.loads(p.stdout)
    meta = json.load(open(os.path.join(run_dir, "run.json")))
    n_val = meta["dataset"]["val_subset"]
    check(info["train_examples"] == meta["dataset"]["train_subset"] and info["test_examples"] == n_val
          and [e["epoch"] for e in info["early_auroc"]] == [e["epoch"] for e in meta["epochs"]],
          "the history covers the run's training and validation subsets at every epoch")
    want = round((1 - meta["epochs"][-1]["val_accuracy"]) * n_val)
    check(info["final_test_errors"] == want,
          f"the last epoch's validation mistakes ({info['final_test_errors']}) are the trainer's own ({want})")
    auroc = [e["auroc"] for e in info["early_auroc"]]
    # At the last epoch the ranking uses the margins of every epoch, the last included (0.94 on
    # the demo run, whose validation predictions still swing from epoch to epoch).
    check(all(a is None or 0 <= a <= 1 for a in auroc) and auroc[-1] > 0.9,
          f"early AUROC in [0,1], the margins up to the last epoch rank its mistakes ({auroc[-1]:.3f})")
    note("early AUROC on the demo run by epoch: " + ", ".join(
        f"{e['epoch']}:{e['auroc']:.3f}" for e in info["early_auroc"] if e["auroc"] is not None))
    check(auroc[3] > 0.8, f"epoch 3 already anticipates the final mistakes (AUROC {auroc[3]:.3f} > 0.8)")

    p = run("run-info", run_dir, "--json")
    ri = json.loads(p.stdout)["overfitting"].get("early_auroc") if p.returncode == 0 else None
    check(ri is not None and len(ri) == len(auroc)
          and all((a is None and b is None) or abs(a - b) < 1e-9 for a, b in zip(ri, auroc)),
          "run-info --json reports the same early AUROC from the cached history")
    cache = os.path.join(run_dir, "history.bin")
    if not check(os.path.isfile(cache), "history.bin is written in the run directory"):
        return
    epochs, n_classes, splits = read_history(cache)
    x = splits[0]
    check(n_classes == 10 and np.all(np.diff(x["index"]) > 0) and np.all(x["prob"] >= 0)
          and np.all(x["prob"] <= 1) and np.all(x["other"] != x["label"][:, None]),
          "history.bin reads back as documented (ascending indices, probabilities, other != label)")
    # The documented margin and probability agree with each other: p(label) <= sigmoid-like bound.
    check(np.all((x["margin"] > 0) == (x["pred"] == x["label"][:, None])),
          "a positive margin is exactly a right prediction")

    # The history runs a copy of the model with its batch norms folded into the convolutions, on
    # worker threads: its last column agrees with predict's plain forward pass.
    t = splits[1]
    worst = 0.0
    for i in range(0, len(t["index"]), max(1, len(t["index"]) // 6)):
        p = run("predict", run_dir, f"test:{int(t['index'][i])}", "--json")
        z = np.array(json.loads(p.stdout)[0]["logits"]) if p.returncode == 0 else np.full(10, np.nan)
        lab = int(t["label"][i])
        pz = np.exp(z - z.max())
        worst = max(worst, abs(pz[lab] / pz.sum() - t["prob"][i, -1]),
                    abs(z[lab] - np.delete(z, lab).max() - t["margin"][i, -1]) / max(1.0, abs(z[lab])))
    check(worst < 1e-4, f"the history's last epoch matches predict's logits (max difference {worst:.1e})")

    p = run("history", run_dir, "--csv")
    rows = [r.split(",") for r in p.stdout.strip().splitlines()]
    header, rows = rows[0], rows[1:]
    train = [dict(zip(header, r)) for r in rows if r[0] == "train"]
    m = measures(epochs, x)
    ok = len(train) == len(x["index"])
    worst = 0.0
    for i, r in enumerate(train if ok else []):
        for k in ("confidence", "variability", "correctness", "aum"):
            worst = max(worst, abs(float(r[k]) - float(m[k][i])) / max(1.0, abs(float(m[k][i]))))
        ok = ok and int(r["forgetting"]) == int(m["forgetting"][i]) and int(r["index"]) == int(x["index"][i])
    check(ok and worst < 1e-5, f"history --csv: cartography, AUM and forgetting equal numpy's from the "
          f"raw history (max relative difference {worst:.1e})")

    before = p.stdout
    raw = open(cache, "rb").read()
    # the first training example's first probability
    prob0 = 64 + struct.unpack_from("<I", raw, 40)[0] + 4 * len(epochs) + 9 * len(x["index"])
    for name, mutate in (("truncated", lambda d: d[:len(d) // 2]), ("garbage", lambda d: b"\x00garbage" * 9),
                         ("a probability of 7", lambda d: d[:prob0] + struct.pack("<f", 7.0) + d[prob0 + 4:]),
                         ("a count of 2^40", lambda d: d[:24] + struct.pack("<Q", 1 << 40) + d[32:])):
        data = open(cache, "rb").read()
        open(cache, "wb").write(mutate(data))
        p = run("history", run_dir, "--csv")
        check(p.returncode == 0 and p.stdout == before,
              f"a damaged cache ({name}) is discarded and recomputed, same result")
    last = sorted(os.listdir(os.path.join(run_dir, "checkpoints")))[-1]
    os.utime(os.path.join(run_dir, "checkpoints", last), (1, 1))
    p = run("history", run_dir, "--csv")
    check(p.returncode == 0 and p.stdout == before, "a touched checkpoint invalidates the cache (same result)")


def write_idx(path, array, magic):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape))
        f.write(array.astype(np.uint8).tobytes())


def read_idx(path):
    with gzip.open(path, "rb") as f:
        d = f.read()
    ndim = d[3]
    dims = struct.unpack(">" + "I" * ndim, d[4:4 + 4 * ndim])
    return np.frombuffer(d, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def test_label_noise(tmp):
    """10 % of 2000 training labels flipped to another class at random: the top-200 suspects."""
    rng = np.random.default_rng(7)
    data = os.path.join(tmp, "noisy-data")
    os.makedirs(data)
    images = read_idx(os.path.join(FASHION, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(FASHION, "train-labels-idx1-ubyte.gz"))
    pick = rng.choice(len(labels), 2000, replace=False)
    images, labels = images[pick], labels[pick].copy()
    flipped = rng.choice(2000, 200, replace=False)
    labels[flipped] = (labels[flipped] + rng.integers(1, 10, 200)) % 10
    write_idx(os.path.join(data, "train-images-idx3-ubyte.gz"), images, 0x803)
    write_idx(os.path.join(data, "train-labels-idx1-ubyte.gz"), labels, 0x801)
    test_images = read_idx(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz"))[:1000]
    test_labels = read_idx(os.path.join(FASHION, "t10k-labels-idx1-ubyte.gz"))[:1000]
    write_idx(os.path.join(data, "t10k-images-idx3-ubyte.gz"), test_images, 0x803)
    write_idx(os.path.join(data, "t10k-labels-idx1-ubyte.gz"), test_labels, 0x801)
    run_dir = os.path.join(tmp, "noisy-run")
    p = run("train", "--arch", arch_file(tmp), "--dataset", f"fashion-mnist:{data}",
            "--out", run_dir, "--epochs", "12", "--optimizer", "adam", "--lr", "0.003", "--batch", "32",
            "--seed", "3")
    if not check(p.returncode == 0, f"train on the noisy labels: {p.stderr.strip()[-300:]}"):
        return
    p = run("suspects", run_dir, "--top", "200", "--json")
    if not check(p.returncode == 0, f"suspects --top 200 --json: {p.stderr.strip()[:200]}"):
        return
    sus = json.loads(p.stdout)["suspects"]
    found = {s["index"] for s in sus} & set(int(i) for i in flipped)
    precision = len(found) / 200
    note(f"label noise 10 %: precision@200 of the suspects {precision:.2f} (chance 0.10)")
    check(len(sus) == 200 and [s["aum"] for s in sus] == sorted(s["aum"] for s in sus),
          "200 suspects, lowest area under the margin first")
    check(precision >= 0.5, f"the suspects recover the flipped labels: precision@200 {precision:.2f} >= 0.5")
    right = [s for s in sus if s["index"] in found]
    truth = read_idx(os.path.join(FASHION, "train-labels-idx1-ubyte.gz"))[pick]
    fixed = sum(s["likely_label"] == int(truth[s["index"]]) for s in right)
    note(f"likely_label restores the true class of {fixed} of {len(right)} recovered flips")
    check(len(right) > 0 and fixed / len(right) >= 0.6,
          f"likely_label is the true class for most recovered flips ({fixed}/{len(right)})")
    p = run("suspects", run_dir, "--top", "5")
    check(p.returncode == 0 and len(p.stdout.strip().splitlines()) == 7, "suspects text: a header and 5 rows")


def shortcut_data(tmp, name, patched):
    """3000 training and 1000 test images; when patched, every Pullover (class 2) carries a
    white 4x4 patch in its top-left corner, in both splits."""
    rng = np.random.default_rng(5)
    data = os.path.join(tmp, name)
    os.makedirs(data)
    for split, prefix, n in (("train", "train", 3000), ("test", "t10k", 1000)):
        images = read_idx(os.path.join(FASHION, f"{prefix}-images-idx3-ubyte.gz"))
        labels = read_idx(os.path.join(FASHION, f"{prefix}-labels-idx1-ubyte.gz"))
        pick = rng.choice(len(labels), n, replace=False) if split == "train" else np.arange(n)
        images, labels = images[pick].copy(), labels[pick]
        if patched:
            images[labels == 2, 0:4, 0:4] = 255
        write_idx(os.path.join(data, f"{prefix}-images-idx3-ubyte.gz"), images, 0x803)
        write_idx(os.path.join(data, f"{prefix}-labels-idx1-ubyte.gz"), labels, 0x801)
    return data


def test_shortcuts(tmp):
    reports = {}
    for name, patched in (("patched", True), ("clean", False)):
        data = shortcut_data(tmp, name + "-data", patched)
        run_dir = os.path.join(tmp, name + "-run")
        p = run("train", "--arch", arch_file(tmp), "--dataset", f"fashion-mnist:{data}",
                "--out", run_dir, "--epochs", "6", "--optimizer", "adam", "--lr", "0.003", "--batch", "32",
                "--seed", "2")
        if not check(p.returncode == 0, f"train the {name} run: {p.stderr.strip()[-300:]}"):
            return
        p = run("shortcuts", run_dir, "--json")
        if not check(p.returncode == 0, f"shortcuts --json on the {name} run: {p.stderr.strip()[:200]}"):
            return
        reports[name] = json.loads(p.stdout)["classes"]
        note(f"{name}: " + "; ".join(f"{c['label']} box mass {c['box_mass']:.2f}, images {c['box_images']:.2f}"
                                     for c in reports[name]))
    flagged = [c for c in reports["patched"] if c["flagged"]]
    check([c["class"] for c in flagged] == [2], f"the patched run flags Pullover alone ({[c['label'] for c in flagged]})")
    box = flagged[0]["box"] if flagged else None
    check(box is not None and box[0] <= 1 and box[1] <= 1 and 2 <= box[2] <= 5 and 2 <= box[3] <= 5,
          f"its box {box} lies over the 4x4 patch at (0,0)-(3,3)")
    check(not any(c["flagged"] for c in reports["clean"]) and all(c["box"] is None for c in reports["clean"]),
          "the clean run flags no class")
    c2 = reports["patched"][2]
    check(sum(k["size"] for k in c2["clusters"]) == c2["images"] == 32
          and all(len(k["mean_map"]) == 28 * 28 for k in c2["clusters"]),
          f"SpRAy clusters partition the 32 explained images ({[k['size'] for k in c2['clusters']]}), 28x28 mean maps")


def test_errors(tmp):
    p = run("suspects", os.path.join(tmp, "no-such-run"))
    check(one_error_line(p), "suspects on a missing run: exit 1, one error line")
    bare = os.path.join(tmp, "bare-run")
    shutil.copytree(DEMO, bare, ignore=shutil.ignore_patterns("analysis.json", "history.bin"))
    meta = json.load(open(os.path.join(bare, "run.json")))
    del meta["dataset"]
    json.dump(meta, open(os.path.join(bare, "run.json"), "w"))
    p = run("history", bare)
    check(one_error_line(p) and "data set" in p.stderr, f"a run that names no data set: {p.stderr.strip()}")
    check(run("suspects", bare, "--top", "0").returncode == 2, "suspects --top 0: usage error")
    check(run("history").returncode == 2, "history without a run: usage error")
    check(run("history", DEMO, "--json", "--csv").returncode == 2, "history --json --csv: usage error")
    check(run("shortcuts", DEMO, "--method", "nope").returncode == 2, "shortcuts --method nope: usage error")
    check(run("shortcuts", DEMO, "--per-class", "2").returncode == 2, "shortcuts --per-class 2: usage error")
    p = run("shortcuts", bare)
    check(one_error_line(p) and "data set" in p.stderr, "shortcuts on a run that names no data set: one line")

    # A relative "dir" is relative to the run directory, not to the working directory: a run
    # holding a 40/25-image copy of Fashion-MNIST in "small/", history run from elsewhere.
    rel = os.path.join(tmp, "relative-run")
    shutil.copytree(DEMO, rel, ignore=shutil.ignore_patterns("analysis.json", "history.bin"))
    os.makedirs(os.path.join(rel, "small"))
    for prefix, n in (("train", 40), ("t10k", 25)):
        for kind, magic in (("images-idx3", 0x803), ("labels-idx1", 0x801)):
            a = read_idx(os.path.join(FASHION, f"{prefix}-{kind}-ubyte.gz"))[:n]
            write_idx(os.path.join(rel, "small", f"{prefix}-{kind}-ubyte.gz"), a, magic)
    meta = json.load(open(os.path.join(rel, "run.json")))
    meta["dataset"] = {"name": "fashion-mnist", "dir": "small"}
    json.dump(meta, open(os.path.join(rel, "run.json"), "w"))
    p = subprocess.run([CLI, "history", rel, "--json"], capture_output=True, text=True, cwd=tmp, timeout=300)
    info = json.loads(p.stdout) if p.returncode == 0 else {}
    check(info.get("train_examples") == 40 and info.get("test_examples") == 25,
          f"a relative data set dir resolves against the run directory: {p.stderr.strip()[:200]}")


def main():
    part = sys.argv[2] if len(sys.argv) > 2 else "cache"
    groups = {"cache": [test_demo, test_errors], "noise": [test_label_noise], "shortcuts": [test_shortcuts]}[part]
    with tempfile.TemporaryDirectory(prefix="convscope-history-") as tmp:
        for g in groups:
            taplib.group(g, tmp)
    return taplib.done()


if __name__ == "__main__":
    sys.exit(main())
