#!/usr/bin/python3
"""Times the same workloads in PyTorch and in `convscope-cli bench`, and prints a table with ratios.

Workloads (batch 1, same thread count on both sides): ResNet-18 at 224x224 forward and saliency
(the input gradient of the predicted logit), LeNet at 28x28 saliency. Models are exported by
tools/make-reference.py (set "bench"), so both sides run the same seeded weights.

  /usr/bin/python3 bench/compare-pytorch.py [--cli build/src/cli/convscope-cli] [--threads 2]

Both sides exclude model loading and one warm-up run and report the median of --repeat runs.
PyTorch's forward runs under no_grad and its saliency computes no parameter gradients, matching
what convscope does for these tasks.
"""

import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import time

import torch

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def load_make_reference():
    spec = importlib.util.spec_from_file_location("make_reference",
                                                  os.path.join(ROOT, "tools", "make-reference.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def torch_model(ref, name, seed):
    """The model exactly as make-reference.py builds it for the "bench" set."""
    torch.manual_seed(seed)
    model, shape = ref.make_small(name) if name == "lenet" else ref.make_zoo(name)
    model.eval()
    ref.calibrate_bn(model, shape, seed)
    for p in model.parameters():
        p.requires_grad_(False)
    return model, shape


def time_torch(model, shape, task, batch, repeat):
    g = torch.Generator().manual_seed(42)
    x = torch.rand((batch,) + shape, generator=g) * 2 - 1

    def once():
        if task == "forward":
            with torch.no_grad():
                model(x)
        else:
            xg = x.clone().requires_grad_(True)
            logits = model(xg)
            target = logits.detach().argmax(dim=1)
            logits.gather(1, target[:, None]).sum().backward()

    once()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        once()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times), max(times)


def time_cli(cli, path, task, batch, repeat, threads):
    p = subprocess.run([cli, "bench", path, "--task", task, "--batch", str(batch), "--repeat",
                        str(repeat), "--threads", str(threads)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"convscope-cli bench failed: {p.stderr.strip()}")
    lines = p.stdout.strip().splitlines()
    m = re.fullmatch(r"median_ms=(\S+) min_ms=(\S+) max_ms=(\S+)", lines[-1])
    if not m:
        sys.exit(f"unexpected bench output: {p.stdout!r}")
    kernel = re.search(r"blas_kernel=(\S+)", p.stdout)
    return tuple(float(v) for v in m.groups()), kernel.group(1) if kernel else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "src", "cli", "convscope-cli"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--models", default=os.path.join(ROOT, "build", "bench-models"),
                    help="where the ONNX exports go (generated once, then reused)")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()

    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make-reference.py"), "bench",
                    "--out", args.models, "--seed", str(args.seed)], check=True)
    ref = load_make_reference()
    torch.set_num_threads(args.threads)

    workloads = [("ResNet-18 224x224", "resnet18", "forward", 1),
                 ("ResNet-18 224x224", "resnet18", "saliency", 1),
                 ("LeNet 28x28", "lenet", "saliency", 1)]
    rows = []
    kernel = "?"
    for label, name, task, batch in workloads:
        model, shape = torch_model(ref, name, args.seed)
        # Small models are fast and noisy: more repetitions.
        repeat = args.repeat * (10 if name == "lenet" else 1)
        pt = time_torch(model, shape, task, batch, repeat)
        cs, kernel = time_cli(args.cli, os.path.join(args.models, name + ".onnx"), task, batch,
                              repeat, args.threads)
        rows.append((label, task, batch, cs, pt))
        print(f"{label} {task}: convscope {cs[0]:.3f} ms, PyTorch {pt[0]:.3f} ms", file=sys.stderr)

    print(f"threads={args.threads}, OpenBLAS kernel {kernel}, torch {torch.__version__}, "
          f"median of {args.repeat} runs (LeNet: {args.repeat * 10}), ms\n")
    print("| workload | task | batch | convscope median (min-max) | PyTorch median (min-max) | convscope / PyTorch |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, task, batch, cs, pt in rows:
        print(f"| {label} | {task} | {batch} | {cs[0]:.2f} ({cs[1]:.2f}-{cs[2]:.2f}) | "
              f"{pt[0]:.2f} ({pt[1]:.2f}-{pt[2]:.2f}) | {cs[0] / pt[0]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
