#!/usr/bin/python3
"""Times the same workloads in PyTorch and in convscope-cli, and prints one Markdown table of ratios.

Workloads (same thread count on both sides, same seeded weights, warm-up excluded, median of N):
  ResNet-18 224x224, batch 1: forward; saliency; Grad-CAM on layer4; SmoothGrad (50 samples) and
    Integrated Gradients (50 steps), PyTorch doing them as one batch of 50; Score-CAM on layer4
    (512 maps), PyTorch running the masked inputs in batches of --scorecam-batch; for these
    three also an info row against PyTorch at the fastest of --pytorch-chunks (one big batch
    is not PyTorch's fastest way on every machine); occlusion
    16/8 (729 windows) by convscope's incremental inference and by its full forwards
    (`bench --task occlusion-full`), PyTorch as Captum (full forwards in batches of
    --occlusion-batch); RISE 4000 masks.
  LeNet 28x28, batch 1: saliency.
  Tiny CNN 28x28: the whole `convscope-cli compare --methods all` sheet (wall time of the command,
    best of 3; an absolute target, no PyTorch side).
  Training CNN 1x28x28, batch 64: one SGD step (forward in training mode, cross-entropy, backward
    with parameter gradients, update; lr 0.01, momentum 0.9) -- `convscope-cli bench --task
    train-step` on data/demo/model.json (the demo run's architecture; bench/train-lenet.json if
    absent), PyTorch on the same architecture built from that file, same initial weights.

  /usr/bin/python3 bench/compare-pytorch.py [--cli build/src/cli/convscope-cli] [--threads 2]
                                            [--repeat 20] [--repeat-heavy 3] [--only a,b]

Saliency has two PyTorch baselines: (a) the input gradient only (parameters requires_grad=False:
the same work convscope does) and (b) what most user code does: parameters left requiring grad
and .backward() on the logit, which also computes every weight gradient. The target is judged
against (a); (b) is reported for information. Every other PyTorch side (Grad-CAM, SmoothGrad,
IG, Score-CAM) is input-gradient-only too: parameters never require grad there.

The header names the OpenBLAS kernel convscope ran with and the OPENBLAS_CORETYPE /
OPENBLAS_L2_SIZE it saw; to measure OpenBLAS's own choice, unset them for that command only:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/compare-pytorch.py
"""

import argparse
import importlib.util
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def load_make_reference():
    spec = importlib.util.spec_from_file_location("make_reference",
                                                  os.path.join(ROOT, "tools", "make-reference.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def torch_model(ref, name, seed):
    """The model exactly as make-reference.py builds it for the "bench" set (same weights as
    the ONNX export convscope runs)."""
    torch.manual_seed(seed)
    model, shape = ref.make_small(name) if name == "lenet" else ref.make_zoo(name)
    model.eval()
    ref.calibrate_bn(model, shape, seed)
    set_requires_grad(model, False)
    return model, shape


def set_requires_grad(model, flag):
    for p in model.parameters():
        p.requires_grad_(flag)


def fixed_input(shape, batch=1):
    """A fixed pseudo-random input in a normalised image's range, like convscope's bench."""
    g = torch.Generator().manual_seed(42)
    return torch.rand((batch,) + tuple(shape), generator=g) * 2 - 1


def time_fn(fn, repeat):
    fn()  # warm-up: allocator, thread pool, caches
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times), max(times)


# ---------------------------------------------------------------------------------------------
# PyTorch implementations, written as a careful user would (the conventions of docs/methods.md).

def predict(model, x):
    with torch.no_grad():
        return int(model(x).argmax(dim=1)[0])


def pt_forward(model, x):
    with torch.no_grad():
        model(x)


def pt_saliency(model, x):
    """The input gradient of the predicted logit; whether weight gradients are computed too
    depends on the parameters' requires_grad (baselines a and b)."""
    model.zero_grad(set_to_none=True)
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    target = logits.detach().argmax(dim=1)
    logits.gather(1, target[:, None]).sum().backward()
    return xg.grad


class LayerTap:
    """Captures a module's output; with grad=True it becomes a leaf requiring grad, so autograd
    stops there (nothing before it is recorded or differentiated)."""

    def __init__(self, module, grad):
        self.out = None
        self.grad = grad
        self.handle = module.register_forward_hook(self.hook)

    def hook(self, module, inputs, output):
        if self.grad:
            output = output.detach().requires_grad_(True)
        self.out = output
        return output

    def remove(self):
        self.handle.remove()


def normalise_map(cam, size):
    """Bilinear upsampling (align_corners=False) and min-max normalisation: the displayed map."""
    up = F.interpolate(cam[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
    lo, hi = up.min(), up.max()
    return (up - lo) / (hi - lo) if hi > lo else torch.zeros_like(up)


def pt_gradcam(model, tap, x):
    logits = model(x)
    target = int(logits.detach().argmax(dim=1)[0])
    a = tap.out
    (g,) = torch.autograd.grad(logits[0, target], a)
    with torch.no_grad():
        w = g[0].mean(dim=(1, 2))
        cam = F.relu((w[:, None, None] * a[0]).sum(0))
        return normalise_map(cam, x.shape[2:])


def pt_smoothgrad(model, x, samples=50, noise=0.15, gen=None):
    target = predict(model, x)
    sigma = noise * float(x.max() - x.min())
    batch = x.repeat(samples, 1, 1, 1)
    batch = (batch + sigma * torch.randn(batch.shape, generator=gen)).requires_grad_(True)
    model(batch)[:, target].sum().backward()
    return batch.grad.mean(dim=0)


def pt_integrated_gradients(model, x, steps=50):
    target = predict(model, x)
    baseline = torch.zeros_like(x)
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    batch = (baseline + alphas[:, None, None, None] * (x - baseline)).requires_grad_(True)
    model(batch)[:, target].sum().backward()
    return (x - baseline)[0] * batch.grad.mean(dim=0)


def pt_smoothgrad_chunked(model, x, chunk, samples=50, noise=0.15, gen=None):
    """SmoothGrad with the noisy copies in chunks of `chunk`, each its own forward and backward."""
    target = predict(model, x)
    sigma = noise * float(x.max() - x.min())
    total = torch.zeros_like(x[0])
    for i in range(0, samples, chunk):
        n = min(chunk, samples - i)
        batch = x.repeat(n, 1, 1, 1)
        batch = (batch + sigma * torch.randn(batch.shape, generator=gen)).requires_grad_(True)
        model(batch)[:, target].sum().backward()
        total += batch.grad.sum(dim=0)
    return total / samples


def pt_integrated_gradients_chunked(model, x, chunk, steps=50):
    """Integrated Gradients with the path's points in chunks of `chunk`."""
    target = predict(model, x)
    baseline = torch.zeros_like(x)
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    total = torch.zeros_like(x[0])
    for i in range(0, steps, chunk):
        a = alphas[i:i + chunk]
        batch = (baseline + a[:, None, None, None] * (x - baseline)).requires_grad_(True)
        model(batch)[:, target].sum().backward()
        total += batch.grad.sum(dim=0)
    return (x - baseline)[0] * total / steps


def pt_scorecam(model, tap, x, chunk):
    with torch.no_grad():
        target = int(model(x).argmax(dim=1)[0])
        a = tap.out[0]
        k = a.shape[0]
        up = F.interpolate(a[None], size=x.shape[2:], mode="bilinear", align_corners=False)[0]
        lo = up.amin(dim=(1, 2), keepdim=True)
        span = up.amax(dim=(1, 2), keepdim=True) - lo
        masks = (up - lo) / torch.where(span > 0, span, torch.ones_like(span))
        w = torch.empty(k)
        for i in range(0, k, chunk):
            masked = x * masks[i:i + chunk, None]
            w[i:i + chunk] = F.softmax(model(masked), dim=1)[:, target]
        w[span.flatten() <= 0] = 0  # constant maps carry no information (docs/methods.md)
        cam = F.relu((w[:, None, None] * a).sum(0))
        return normalise_map(cam, x.shape[2:])


def occlusion_positions(length, k, stride):
    """Window offsets 0, S, 2S, ... <= length - K, then length - K if missed (as convscope)."""
    pos = list(range(0, length - k + 1, stride))
    if pos[-1] != length - k:
        pos.append(length - k)
    return pos


def pt_occlusion(model, x, window, stride, chunk):
    """Occlusion as Captum's Occlusion runs it: every occluded input through a full forward, in
    batches of `chunk`; the mean logit drop over the windows covering each pixel."""
    with torch.no_grad():
        logits = model(x)
        target = int(logits.argmax(dim=1)[0])
        clean = logits[0, target]
        h, w = x.shape[2:]
        pos = [(y, xo) for y in occlusion_positions(h, window, stride)
               for xo in occlusion_positions(w, window, stride)]
        sums = torch.zeros(h, w)
        hits = torch.zeros(h, w)
        for i in range(0, len(pos), chunk):
            part = pos[i:i + chunk]
            batch = x.repeat(len(part), 1, 1, 1)
            for j, (y, xo) in enumerate(part):
                batch[j, :, y:y + window, xo:xo + window] = 0
            drops = clean - model(batch)[:, target]
            for j, (y, xo) in enumerate(part):
                sums[y:y + window, xo:xo + window] += drops[j]
                hits[y:y + window, xo:xo + window] += 1
        return torch.where(hits > 0, sums / hits.clamp(min=1), torch.zeros_like(sums))


def pt_rise(model, x, samples, chunk, gen):
    """RISE (Petsiuk 2018): 7x7 binary grids (p = 0.5) upsampled bilinearly to one cell more than
    the input and cropped at a random shift; the softmax-weighted mean mask."""
    with torch.no_grad():
        target = int(model(x).argmax(dim=1)[0])
        h, w = x.shape[2:]
        ch, cw = -(-h // 7), -(-w // 7)
        total = torch.zeros(h, w)
        for i in range(0, samples, chunk):
            n = min(chunk, samples - i)
            grid = (torch.rand(n, 1, 7, 7, generator=gen) < 0.5).float()
            up = F.interpolate(grid, size=(h + ch, w + cw), mode="bilinear", align_corners=False)
            dy = torch.randint(0, ch, (n,), generator=gen)
            dx = torch.randint(0, cw, (n,), generator=gen)
            masks = torch.stack([up[j, 0, dy[j]:dy[j] + h, dx[j]:dx[j] + w] for j in range(n)])
            p = F.softmax(model(x * masks[:, None]), dim=1)[:, target]
            total += (p[:, None, None] * masks).sum(0)
        return total / (samples * 0.5)


# ---------------------------------------------------------------------------------------------
# The training CNN: built in PyTorch from a convscope model.json (sequential nodes), with its
# weights written as safetensors so both sides start from the same parameters.

def model_from_json(path, seed):
    with open(path) as f:
        doc = json.load(f)
    torch.manual_seed(seed)
    c, h, w = doc["input"]
    names, layers = [], []
    for node in doc["nodes"]:
        if "inputs" in node:
            raise ValueError(f"{path}: node {node['name']}: only sequential model.json is supported")
        op = node["op"]
        pair = lambda v: tuple(v) if isinstance(v, list) else (v, v)
        if op == "conv2d":
            k, s = pair(node["kernel"]), pair(node.get("stride", 1))
            p, d = pair(node.get("padding", 0)), pair(node.get("dilation", 1))
            layer = nn.Conv2d(c, node["out_channels"], k, s, p, d, node.get("groups", 1),
                              bias=node.get("bias", True))
            c = node["out_channels"]
            h = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
            w = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
        elif op in ("maxpool2d", "avgpool2d"):
            if node.get("ceil_mode") or node.get("padding"):
                raise ValueError(f"{path}: node {node['name']}: pool padding/ceil_mode not supported here")
            k = pair(node["kernel"])
            s = pair(node.get("stride", node["kernel"]))
            layer = (nn.MaxPool2d if op == "maxpool2d" else nn.AvgPool2d)(k, s)
            h, w = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
        elif op == "batchnorm2d":
            layer = nn.BatchNorm2d(c, eps=node.get("eps", 1e-5), momentum=node.get("momentum", 0.1))
        elif op == "relu":
            layer = nn.ReLU()
        elif op == "dropout":
            layer = nn.Dropout(node.get("p", 0.5))
        elif op == "global_avgpool":
            layer, h, w = nn.AdaptiveAvgPool2d(1), 1, 1
        elif op == "flatten":
            layer, c, h, w = nn.Flatten(), c * h * w, 1, 1
        elif op == "linear":
            layer, c = nn.Linear(c, node["out_features"], bias=node.get("bias", True)), node["out_features"]
        else:
            raise ValueError(f"{path}: node {node['name']}: op {op} not supported here")
        names.append(node["name"])
        layers.append(layer)
    model = nn.Sequential()
    for name, layer in zip(names, layers):
        model.add_module(name, layer)
    return model, tuple(doc["input"])


def write_safetensors(model, path):
    """state_dict as safetensors (float32, '<node>.weight' etc.), without the safetensors package."""
    header, blobs, offset = {}, [], 0
    for key, t in model.state_dict().items():
        if not t.is_floating_point():
            continue  # num_batches_tracked
        data = t.detach().contiguous().float().numpy().tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def pt_train_step_fn(model, shape, batch):
    model.train()
    set_requires_grad(model, True)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)  # convscope's SGD defaults
    g = torch.Generator().manual_seed(3)
    x = torch.randn((batch,) + shape, generator=g)
    y = torch.arange(batch) % 10

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return step


# ---------------------------------------------------------------------------------------------
# convscope side

class Unavailable(Exception):
    pass


_cli_cache = {}


def time_cli(cli, model, task, repeat, threads, batch=None, extra=()):
    """`convscope-cli bench`: (median, min, max) ms and the exec's batch (a method's chunk).
    The same workload is measured once even when two rows compare against it."""
    cmd = [cli, "bench", model, "--task", task, "--repeat", str(repeat), "--threads", str(threads)]
    if batch is not None:
        cmd += ["--batch", str(batch)]
    key = tuple(cmd) + tuple(extra)
    if key not in _cli_cache:
        _cli_cache[key] = _run_cli_bench(cmd + list(extra))
    return _cli_cache[key]


def _run_cli_bench(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise Unavailable(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}")
    lines = p.stdout.strip().splitlines()
    m = re.fullmatch(r"median_ms=(\S+) min_ms=(\S+) max_ms=(\S+)", lines[-1])
    if not m:
        raise Unavailable(f"unexpected bench output: {p.stdout!r}")
    chunk = re.search(r"\bbatch=(\d+)", p.stdout)
    return tuple(float(v) for v in m.groups()), int(chunk.group(1)) if chunk else None


def time_command(cmd, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        times.append((time.perf_counter() - t0) * 1e3)
        if p.returncode != 0:
            raise Unavailable(p.stderr.strip().splitlines()[-1] if p.stderr.strip() else f"exit {p.returncode}")
    return (min(times), min(times), max(times)), None


# ---------------------------------------------------------------------------------------------

def fmt(t):
    return f"{t[0]:.2f} ({t[1]:.2f}–{t[2]:.2f})" if t else "—"


def blas_kernel(cli):
    """The kernel OpenBLAS runs in convscope-cli, as `--version` reports it (after the CLI's own
    kernel choice, under this environment)."""
    v = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"OpenBLAS kernel (\w+)", v)
    return m.group(1) if m else "unknown"


def parallel_summary():
    keep = ("at::get_num_threads", "at::get_num_interop_threads", "OpenMP", "MKL", "ATen parallel backend",
            "std::thread::hardware_concurrency")
    lines = [l.strip() for l in torch.__config__.parallel_info().splitlines()]
    return "; ".join(l for l in lines if l.startswith(keep))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "src", "cli", "convscope-cli"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=20, help="runs of the light workloads (LeNet-size: x10)")
    ap.add_argument("--repeat-heavy", type=int, default=3,
                    help="runs of SmoothGrad, IG and Score-CAM on ResNet-18 (seconds each)")
    ap.add_argument("--scorecam-batch", type=int, default=64, help="PyTorch's batch of masked inputs")
    ap.add_argument("--pytorch-chunks", default="4,8,16",
                    help="also time PyTorch's SmoothGrad, IG and Score-CAM in chunks of each of these sizes "
                         "and report the fastest as an info row (empty: skip)")
    ap.add_argument("--occlusion-batch", type=int, default=32,
                    help="PyTorch's batch of occluded inputs (Captum: perturbations_per_eval)")
    ap.add_argument("--train-arch", default=None,
                    help="model.json of the training CNN (default: data/demo/model.json if present, "
                         "else bench/train-lenet.json)")
    ap.add_argument("--train-batch", type=int, default=64)
    ap.add_argument("--models", default=os.path.join(ROOT, "build", "bench-models"),
                    help="where the ONNX exports go (generated once, then reused)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--only", default=None,
                    help="comma-separated subset: forward,saliency,gradcam,smoothgrad,ig,scorecam,"
                         "occlusion,rise,lenet,compare,train")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    want = lambda key: only is None or key in only

    torch.set_num_threads(args.threads)
    os.makedirs(args.models, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make-reference.py"), "bench",
                    "--out", args.models, "--seed", str(args.seed)], check=True)
    ref = load_make_reference()
    version = subprocess.run([args.cli, "--version"], capture_output=True, text=True).stdout.strip()
    t_start = time.perf_counter()
    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())

    rows = []  # (workload, task, batch, cs, pt, target, note); target: ratio bound, or ("abs", ms)

    def record(workload, task, batch, cs_thunk, pt_thunk, target, note=""):
        try:
            cs, chunk = cs_thunk()
            if chunk is not None and str(chunk) != batch.split()[0]:
                batch += f"; convscope in chunks of {chunk}"
        except Unavailable as e:
            cs, note = None, f"convscope: {e}"
        pt = pt_thunk() if pt_thunk else None
        rows.append((workload, task, batch, cs, pt, target, note))
        print(f"{workload} {task}: convscope {fmt(cs)} ms, PyTorch {fmt(pt)} ms  "
              f"[{time.perf_counter() - t_start:.0f} s]", file=sys.stderr)

    # ResNet-18 224x224, batch-1 input
    resnet_onnx = os.path.join(args.models, "resnet18.onnx")
    resnet, rshape = torch_model(ref, "resnet18", args.seed)
    x = fixed_input(rshape)
    R, H = args.repeat, args.repeat_heavy

    def cs(task, repeat, model=resnet_onnx, batch=None):
        return lambda: time_cli(args.cli, model, task, repeat, args.threads, batch)

    if want("forward"):
        record("ResNet-18 224×224", "forward", "1", cs("forward", R),
               lambda: time_fn(lambda: pt_forward(resnet, x), R), 0.7)
    if want("saliency"):
        record("ResNet-18 224×224", "saliency vs (a) PyTorch input grad only", "1", cs("saliency", R),
               lambda: time_fn(lambda: pt_saliency(resnet, x), R), 0.7)
        set_requires_grad(resnet, True)
        record("ResNet-18 224×224", "saliency vs (b) PyTorch params requiring grad", "1",
               cs("saliency", R), lambda: time_fn(lambda: pt_saliency(resnet, x), R), None,
               "(b) = parameters left requiring grad: PyTorch also computes every weight gradient, as "
               "typical user code does; same convscope run as (a)")
        set_requires_grad(resnet, False)
    if want("gradcam"):
        tap = LayerTap(resnet.layer4, grad=True)
        record("ResNet-18 224×224", "Grad-CAM layer4", "1", cs("gradcam", R),
               lambda: time_fn(lambda: pt_gradcam(resnet, tap, x), R), 0.7)
        tap.remove()
    chunks = [int(c) for c in args.pytorch_chunks.split(",") if c.strip()]

    def once(thunk):
        """The same convscope run for a judged row and its info row."""
        memo = []

        def run():
            if not memo:
                memo.append(thunk())
            return memo[0]
        return run

    def best_chunk(workload, task, cs_run, pt_for_chunk):
        """An info row: PyTorch at the fastest of --pytorch-chunks against the same convscope run."""
        if not chunks:
            return
        timed = []
        for c in chunks:
            timed.append((pt_for_chunk(c), c))
            print(f"  PyTorch {task} in chunks of {c}: {fmt(timed[-1][0])} ms", file=sys.stderr)
        best, c = min(timed, key=lambda t: t[0][0])
        record(workload, f"{task} vs PyTorch's fastest chunking", f"1 (PyTorch: chunks of {c}, fastest of {args.pytorch_chunks})",
               cs_run, lambda: best, None,
               "PyTorch's one big batch is not its fastest way on every machine; this row is PyTorch at its "
               "best chunk size, for information")

    if want("smoothgrad"):
        gen = torch.Generator().manual_seed(7)
        run = once(cs("smoothgrad", H))
        record("ResNet-18 224×224", "SmoothGrad 50 samples", "1 (PyTorch: one batch of 50)",
               run, lambda: time_fn(lambda: pt_smoothgrad(resnet, x, gen=gen), H), 0.4)
        best_chunk("ResNet-18 224×224", "SmoothGrad 50 samples", run,
                   lambda c: time_fn(lambda: pt_smoothgrad_chunked(resnet, x, c, gen=gen), H))
    if want("ig"):
        run = once(cs("integrated-gradients", H))
        record("ResNet-18 224×224", "Integrated Gradients 50 steps", "1 (PyTorch: one batch of 50)",
               run, lambda: time_fn(lambda: pt_integrated_gradients(resnet, x), H), 0.4)
        best_chunk("ResNet-18 224×224", "Integrated Gradients 50 steps", run,
                   lambda c: time_fn(lambda: pt_integrated_gradients_chunked(resnet, x, c), H))
    if want("scorecam"):
        tap = LayerTap(resnet.layer4, grad=False)
        run = once(cs("scorecam", H))
        record("ResNet-18 224×224", "Score-CAM layer4 (512 maps)",
               f"1 (PyTorch: masked inputs in batches of {args.scorecam_batch})",
               run, lambda: time_fn(lambda: pt_scorecam(resnet, tap, x, args.scorecam_batch), H),
               0.5)
        best_chunk("ResNet-18 224×224", "Score-CAM layer4 (512 maps)", run,
                   lambda c: time_fn(lambda: pt_scorecam(resnet, tap, x, c), H))
        tap.remove()
    if want("occlusion"):
        # convscope's default at 224x224: window 16, stride 8 (729 windows), zero baseline
        pt_once = []

        def pt_occ():
            if not pt_once:
                pt_once.append(time_fn(lambda: pt_occlusion(resnet, x, 16, 8, args.occlusion_batch), 1))
            return pt_once[0]

        record("ResNet-18 224×224", "occlusion 16/8 (729 windows), one run",
               f"1 (PyTorch: occluded inputs in batches of {args.occlusion_batch})",
               cs("occlusion", 1), pt_occ, 0.2,
               "incremental inference: each window recomputes only the region it changes")
        # the same windows by full forwards, convscope's reference path: what incremental saves
        record("ResNet-18 224×224", "occlusion 16/8, full forwards (convscope's reference path)",
               f"1 (PyTorch: occluded inputs in batches of {args.occlusion_batch})",
               cs("occlusion-full", 1), pt_occ, None, "same PyTorch run as the row above")
    if want("rise"):
        gen = torch.Generator().manual_seed(7)
        # the CLI's default, the paper's 4000 masks
        record("ResNet-18 224×224", "RISE 4000 masks, one run",
               f"1 (PyTorch: masked inputs in batches of {args.occlusion_batch})",
               cs("rise", 1), lambda: time_fn(lambda: pt_rise(resnet, x, 4000, args.occlusion_batch, gen), 1),
               1.0)
    del resnet

    # LeNet 28x28 saliency, both PyTorch baselines
    if want("lenet"):
        lenet, lshape = torch_model(ref, "lenet", args.seed)
        lx = fixed_input(lshape)
        lenet_onnx = os.path.join(args.models, "lenet.onnx")
        record("LeNet 28×28", "saliency vs (a) PyTorch input grad only", "1", cs("saliency", 10 * R, lenet_onnx),
               lambda: time_fn(lambda: pt_saliency(lenet, lx), 10 * R), 0.3)
        set_requires_grad(lenet, True)
        record("LeNet 28×28", "saliency vs (b) PyTorch params requiring grad", "1",
               cs("saliency", 10 * R, lenet_onnx), lambda: time_fn(lambda: pt_saliency(lenet, lx), 10 * R),
               None)

    # The whole compare sheet on the tiny 28x28 model: wall time of the command, best of 3.
    if want("compare"):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [args.cli, "compare", os.path.join(ROOT, "data", "examples", "tiny-cnn.onnx"),
                   os.path.join(ROOT, "data", "examples", "digit-7.png"), "--methods", "all",
                   "--threads", str(args.threads), "--out", os.path.join(tmp, "sheet.png")]
            record("tiny-cnn 28×28 (data/examples)", "`compare --methods all` → PNG, whole command", "1",
                   lambda: time_command(cmd, 3), None, ("abs", 1000.0),
                   "wall time incl. process start, model load, all 13 methods, rendering; best of 3")

    # One training step, batch 64
    if want("train"):
        arch = args.train_arch
        if arch is None:
            demo = os.path.join(ROOT, "data", "demo", "model.json")
            arch = demo if os.path.exists(demo) else os.path.join(ROOT, "bench", "train-lenet.json")
        net, tshape = model_from_json(arch, args.seed)
        weights = os.path.join(args.models, "train-" + os.path.splitext(os.path.basename(arch))[0] + ".safetensors")
        write_safetensors(net, weights)

        def cs_train():
            return time_cli(args.cli, arch, "train-step", R, args.threads, args.train_batch,
                            ["--weights", weights])
        record(f"train CNN {os.path.relpath(arch, ROOT)}", "train-step (SGD, momentum 0.9)",
               str(args.train_batch), cs_train,
               lambda: time_fn(pt_train_step_fn(net, tshape, args.train_batch), R), 1 / 1.5,
               "target: ≥ 1.5× PyTorch's images/s")

    # ------------------------------------------------------------------------------ the table
    blas_env = ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"))
    print(f"\n{version}; torch {torch.__version__}, torch.set_num_threads({args.threads}); "
          f"{parallel_summary()}\n")
    print(f"OpenBLAS kernel used by convscope: {blas_kernel(args.cli)} ({blas_env}); load average before the run: "
          f"{load_before}\n")
    print(f"Median (min–max) ms of {R} runs ({10 * R} for LeNet, {H} for SmoothGrad/IG/Score-CAM), "
          f"one warm-up run excluded; compare: best of 3. Total {time.perf_counter() - t_start:.0f} s.\n")
    print("| workload | task | batch | convscope ms | PyTorch ms | ratio | target | met? |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    notes = []
    for workload, task, batch, c, p, target, note in rows:
        ratio = (f"{c[0] / p[0]:.2f}" if c[0] / p[0] >= 0.1 else f"{c[0] / p[0]:.3f}") if c and p else "—"
        if isinstance(target, tuple):
            tgt = f"< {target[1]:.0f} ms"
            met = ("yes" if c[0] < target[1] else "no") if c else "n/a"
        elif target is None:
            tgt, met = "info", "—"
        else:
            tgt = f"≤ {target:.2f}"
            met = ("yes" if c[0] / p[0] <= target else "no") if c and p else "n/a"
        if note:
            notes.append(f"{workload}, {task}: {note}")
        print(f"| {workload} | {task} | {batch} | {fmt(c)} | {fmt(p)} | {ratio} | {tgt} | {met} |")
        if task.startswith("train-step") and p:
            n = int(batch.split()[0])
            cs_ips = f"{n * 1e3 / c[0]:.0f}" if c else "—"
            notes.append(f"train-step images/s (median): convscope {cs_ips}, PyTorch {n * 1e3 / p[0]:.0f}")
    if notes:
        print()
        for n in notes:
            print(f"- {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
