#!/usr/bin/env python3
"""Studies through the built convscope-cli (TAP): label noise makes a run overfit by validation
and lists exactly the labels it flipped; `study run` trains a grid in shards, skips finished runs
and resumes an interrupted one; `study report` fits on one half and scores the other, with JSON,
CSV and figures, and refuses bad inputs with one error line.

Usage: test-study.py CONVSCOPE_CLI. Standard library only; Debian's dataset-fashion-mnist.
"""

import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check, group, note  # noqa: E402

CLI = os.path.abspath(sys.argv[1])
FMNIST = "/usr/share/datasets/fashion-mnist"
ERROR_LINE = re.compile(r"^convscope-cli: error: (.+?): (.+)$")
ARCH = {"format": "convscope-model/1", "input": [1, 28, 28], "nodes": [
    {"name": "conv1", "op": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
    {"name": "relu1", "op": "relu"},
    {"name": "pool1", "op": "maxpool2d", "kernel": 2},
    {"name": "flat", "op": "flatten"},
    {"name": "fc1", "op": "linear", "out_features": 64},
    {"name": "relu2", "op": "relu"},
    {"name": "fc", "op": "linear", "out_features": 10}]}


def run(*args):
    return subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True, timeout=600)


def train_labels():
    with gzip.open(os.path.join(FMNIST, "train-labels-idx1-ubyte.gz"), "rb") as f:
        return f.read()[8:]


def label_noise(tmp):
    """40% flipped labels on 200 samples: the network memorises them and validation loss rises."""
    arch = os.path.join(tmp, "arch.json")
    out = os.path.join(tmp, "noisy")
    p = run("train", "--arch", arch, "--dataset", "fashion-mnist", "--out", out, "--epochs", 30,
            "--train-subset", 200, "--val-subset", 300, "--test-subset", 300, "--label-noise", 0.4,
            "--optimizer", "adam", "--lr", 0.005, "--threads", 1)
    if not check(p.returncode == 0, f"train --label-noise 0.4 succeeds ({p.stderr.strip()})"):
        return
    noise = json.load(open(os.path.join(out, "label-noise.json")))
    flipped = noise["flipped"]
    labels = train_labels()
    check(len(flipped) == 80, f"80 of 200 labels flipped ({len(flipped)})")
    check(all(o != n and labels[i] == o and 0 <= n < 10 for i, o, n in flipped),
          "each flipped entry names a training index, its true label and a different one")
    check(len({i for i, _, _ in flipped}) == 80, "no index is flipped twice")
    doc = json.load(open(os.path.join(out, "run.json")))
    ep = doc["epochs"]
    check(doc["train"]["label_noise"] == 0.4 and doc["dataset"]["test_subset"] == 300,
          "run.json records the noise and the test split")
    check(all("test_loss" in e and "test_accuracy" in e for e in ep), "every epoch has test metrics")
    check(all(isinstance(e.get("eb_criterion"), float) for e in ep[1:]), "every trained epoch has the EB criterion")
    val = [e["val_loss"] for e in ep]
    best = min(range(1, len(val)), key=lambda t: val[t])
    note(f"validation loss: best {val[best]:.3f} at epoch {best}, last {val[-1]:.3f}; "
         f"train accuracy {ep[-1]['train_accuracy']:.2f}")
    check(best < 20 and val[-1] > 1.1 * val[best],
          "label noise overfits: validation loss ends >10% above its minimum, reached before epoch 20")
    check(ep[-1]["train_accuracy"] > 0.75, "the noisy labels are memorised (train accuracy > 0.75)")
    # The same seed draws the same flips: a second run lists the same entries.
    p = run("train", "--arch", arch, "--dataset", "fashion-mnist", "--out", os.path.join(tmp, "noisy2"),
            "--epochs", 1, "--train-subset", 200, "--val-subset", 50, "--label-noise", 0.4, "--threads", 1)
    again = json.load(open(os.path.join(tmp, "noisy2", "label-noise.json")))["flipped"]
    check(p.returncode == 0 and again == flipped, "the flips depend on the seed alone")
    p = run("train", "--arch", arch, "--dataset", "fashion-mnist", "--out", os.path.join(tmp, "bad"),
            "--epochs", 1, "--label-noise", 1.5)
    check(p.returncode == 2 and ERROR_LINE.match(p.stderr.strip()) and "--label-noise" in p.stderr,
          "--label-noise 1.5 is a usage error naming the option")


def study(tmp):
    spec = {"dataset": "fashion-mnist", "arch": "arch.json", "train_subset": 150, "val_subset": 200,
            "test_subset": 200, "optimizer": ["sgd", "adam"], "label_noise": [0, 0.3],
            "seeds": [0, 1], "epochs": 8, "batch": 32}
    path = os.path.join(tmp, "spec.json")
    json.dump(spec, open(path, "w"))
    out = os.path.join(tmp, "study")
    # An interrupted run: run-0001 (seed 0, sgd, noise 0.3) trained for 3 of its 8 epochs.
    os.makedirs(out)
    p = run("train", "--arch", os.path.join(tmp, "arch.json"), "--dataset", "fashion-mnist",
            "--out", os.path.join(out, "run-0001"), "--epochs", 3, "--train-subset", 150, "--val-subset", 200,
            "--test-subset", 200, "--label-noise", 0.3, "--batch", 32, "--threads", 1)
    check(p.returncode == 0, "a partial run is prepared")
    ck = os.path.join(out, "run-0001", "checkpoints", "epoch-0002.safetensors")
    before = os.stat(ck).st_mtime_ns
    p = run("study", "run", path, "--out", out, "--shard", "0/2", "--threads", 1)
    check(p.returncode == 0 and "4 runs in this shard" in p.stdout, f"shard 0/2 trains its 4 runs ({p.stderr.strip()})")
    done = sorted(d for d in os.listdir(out) if d.startswith("run-"))
    check(done == ["run-0000", "run-0001", "run-0002", "run-0004", "run-0006"],
          f"shard 0/2 wrote the even points only (plus the prepared one): {done}")
    p = run("study", "run", path, "--out", out, "--shard", "1/2", "--jobs", 2, "--threads", 1)
    check(p.returncode == 0, "shard 1/2 with two jobs succeeds")
    r1 = json.load(open(os.path.join(out, "run-0001", "run.json")))
    check(len(r1["epochs"]) == 9 and os.stat(ck).st_mtime_ns == before,
          "the interrupted run was resumed to 8 epochs, its first epochs untouched")
    p = run("study", "run", path, "--out", out)
    check(p.returncode == 0 and "8 finished already, 0 to train" in p.stdout, "a finished study trains nothing")
    st = json.load(open(os.path.join(out, "study.json")))
    check(len(st["points"]) == 8 and st["points"][6]["optimizer"] == "adam" and st["points"][6]["seed"] == 1,
          "study.json lists the points, seeds varying slowest")

    p = run("study", "report", out, "--json", "--csv", os.path.join(tmp, "runs.csv"),
            "--out", os.path.join(tmp, "report.pdf"), "--threads", 1)
    if not check(p.returncode == 0, f"study report succeeds ({p.stderr.strip()})"):
        return
    rep = json.loads(p.stdout)
    sigs = {s["name"]: s for s in rep["signals"]}
    check(rep["n_runs"] == 8 and len(rep["runs"]) == 8 and set(sigs) >= {"knee", "eb", "update-cosine", "distance-growth", "rotation-rate",
                                             "alpha", "filter-dispersion", "train-saturation"},
          "the report covers 8 runs and every signal")
    check(all(s["fit"]["runs"] == 4 and s["held_out"]["runs"] == 4 for s in rep["signals"]),
          "runs split 4 fit / 4 held out (each grid point's seeds alternate)")
    halves = {r["config"]: set() for r in rep["runs"]}
    for r in rep["runs"]:
        halves[r["config"]].add(r["half"])
    check(all(h == {"fit", "held_out"} for h in halves.values()), "every configuration is in both halves")
    check(all((s["threshold"] is None) == s["fixed_rule"] for s in rep["signals"]),
          "every signal but the fixed knee rule has a fitted threshold")
    ag = sigs["eb"]["held_out"]["agreement"]["best-smoothed-val"]
    check(ag["within_1"] <= ag["within_2"] <= ag["within_3"] <= ag["runs_with_truth"] <= 4,
          "agreement counts grow with the tolerance and stay within the runs")
    rows = open(os.path.join(tmp, "runs.csv")).read().splitlines()
    check(len(rows) == 9 and rows[0].startswith("run,config,half"), "the CSV has a header and one row per run")
    pdf = open(os.path.join(tmp, "report.pdf"), "rb").read()
    check(pdf[:5] == b"%PDF-", "the figures are a PDF")
    check(len(re.findall(rb"/Type\s*/Page\b", pdf)) == 3, "the PDF has one page per figure (scatter, regret, small multiples)")
    p = run("study", "report", out, "--out", os.path.join(tmp, "report.gif"))
    check(p.returncode == 1 and ERROR_LINE.match(p.stderr.strip()) and not os.path.exists(os.path.join(tmp, "report.gif")),
          "an unknown figure format is one error line and no file")
    p = run("study", "report", tmp)
    check(p.returncode == 1 and ERROR_LINE.match(p.stderr.strip()) and "study.json" in p.stderr,
          "a directory without study.json is one error line naming it")
    bad = os.path.join(tmp, "bad.json")
    open(bad, "w").write('{"dataset": "fashion-mnist", "arch": "arch.json", "epochs": 3, "lr": ["x"]}')
    p = run("study", "run", bad, "--out", os.path.join(tmp, "bad-study"))
    check(p.returncode == 1 and '"lr"' in p.stderr and ERROR_LINE.match(p.stderr.strip()),
          "a spec with a wrong value is one error line naming the key")


def main():
    if not os.path.exists(os.path.join(FMNIST, "train-labels-idx1-ubyte.gz")):
        check(False, "dataset-fashion-mnist is installed (tools/install-deps)")
        return taplib.done()
    with tempfile.TemporaryDirectory(prefix="cs-test-study-") as tmp:
        json.dump(ARCH, open(os.path.join(tmp, "arch.json"), "w"))
        group(label_noise, tmp)
        group(study, tmp)
    return taplib.done()


if __name__ == "__main__":
    sys.exit(main())
