#!/usr/bin/env python3
"""Times `convscope-cli history` on the demo CNN's checkpoints over the whole of Fashion-MNIST
(60,000 training and 10,000 test images, every checkpoint of data/demo): a run directory is made in
a temporary directory whose run.json points at data/demo's model and checkpoints and names only
the data set, so that the history takes both splits whole (docs/cli/history.md).

Usage: bench/history-60k.py [--cli PATH] [--demo DIR] [--threads T] [--epochs K] [--keep DIR]
Prints the CLI's first line and `user_s=... sys_s=... wall_s=... images=...`. Needs Debian's
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist). --keep DIR writes the run there and
keeps it (its history.bin too): the app's Data view at 60,000 points (bench/README.md).
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def make_run(demo, out, epochs):
    meta = json.load(open(os.path.join(demo, "run.json")))
    meta["model"] = os.path.abspath(os.path.join(demo, meta["model"]))
    meta["dataset"] = {"name": "fashion-mnist", "dir": "/usr/share/datasets/fashion-mnist"}
    meta["epochs"] = meta["epochs"][:epochs] if epochs else meta["epochs"]
    for e in meta["epochs"]:
        e["checkpoint"] = os.path.abspath(os.path.join(demo, e["checkpoint"]))
    meta["name"] = "demo CNN over the whole of Fashion-MNIST"
    os.makedirs(out, exist_ok=True)
    json.dump(meta, open(os.path.join(out, "run.json"), "w"), indent=1)
    return len(meta["epochs"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "src", "cli", "convscope-cli"))
    ap.add_argument("--demo", default=os.path.join(ROOT, "data", "demo"))
    ap.add_argument("--threads", type=int, default=0, help="--threads of the CLI (default: all cores)")
    ap.add_argument("--epochs", type=int, default=0, help="only the first K checkpoints (default: all)")
    ap.add_argument("--keep", help="write the run here and keep it")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="convscope-history-bench-") as tmp:
        run_dir = os.path.abspath(a.keep) if a.keep else os.path.join(tmp, "run")
        n_epochs = make_run(a.demo, run_dir, a.epochs)
        cache = os.path.join(run_dir, "history.bin")
        if os.path.exists(cache):
            os.unlink(cache)
        cmd = [a.cli, "history", run_dir] + (["--threads", str(a.threads)] if a.threads else [])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            sys.exit(f"history-60k: {p.stderr.strip()}")
        print(p.stdout.splitlines()[0])
        print(f"user_s={after.ru_utime - before.ru_utime:.1f} sys_s={after.ru_stime - before.ru_stime:.1f} "
              f"wall_s={wall:.1f} images={70000 * n_epochs}")


if __name__ == "__main__":
    main()
