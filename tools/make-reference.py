#!/usr/bin/python3
"""PyTorch reference fixtures for tests/reference and bench: ONNX exports plus PyTorch's outputs.

For each model NAME it writes into --out:
  NAME.onnx          opset 13, constant folding on (the default export)
  NAME-nofold.onnx   the same with do_constant_folding=False      (--variants all)
  NAME-bn.onnx       training=PRESERVE: BatchNormalization kept, not fused into Conv (--variants all)
  NAME.input.npy     a fixed float32 input, shape (N, C, H, W)
  NAME.target.npy    float32 class index per sample (argmax of the logits; argmin for odd samples)
  NAME.logits.npy    PyTorch's logits, (N, classes), computed in float64 (stored as float32)
  NAME.grad.npy      d(sum_n logits[n, target[n]]) / d input, (N, C, H, W), float64 likewise
  NAME.tolerance.npy how far PyTorch's own float32 run is from those: [logits relative error,
                     gradient relative error, 1 - gradient correlation]
Everything is seeded, so re-running gives the same files. A stamp file records the script's
hash and the arguments, so a test run regenerates only when the script changed.

Sets:
  small   lenet (1x28x28) and resnet-small (3x32x32, BN with running stats) -- committed
  zoo     torchvision's classification zoo at 224x224, random init, seeded (BN stats calibrated)
  bench   resnet18 and lenet, exported only (no reference outputs)
Always run with Debian's /usr/bin/python3 (python3-torch 1.13, torchvision 0.14).
"""

import argparse
import copy
import hashlib
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OPSET = 13


class LeNet(nn.Module):
    """LeNet-5 size on 1x28x28: conv/relu/maxpool twice, three linear layers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size(0), -1)  # as user code often writes it: Shape/Gather/Reshape in ONNX
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNetSmall(nn.Module):
    """A small residual net on 3x32x32: stem, two stages (the second with stride 2), GAP, fc."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.layer1 = Block(8, 8, 1)
        self.layer2 = Block(8, 16, 2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        x = self.layer2(self.layer1(x))
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


def calibrate_bn(model, shape, seed):
    """Gives every batch norm non-trivial running statistics: one train-mode pass over random
    data with cumulative averaging, then random perturbation so scale/shift are not identity."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    g = torch.Generator().manual_seed(seed + 1)
    saved = []
    for m in bns:
        saved.append(m.momentum)
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        model(torch.randn((4,) + tuple(shape), generator=g))
    for m, mom in zip(bns, saved):
        m.momentum = mom
        with torch.no_grad():
            m.weight.mul_(1 + 0.2 * torch.randn(m.weight.shape, generator=g))
            m.bias.add_(0.1 * torch.randn(m.bias.shape, generator=g))
    model.eval()


def make_small(name):
    if name == "lenet":
        return LeNet(), (1, 28, 28)
    if name == "resnet-small":
        return ResNetSmall(), (3, 32, 32)
    raise KeyError(name)


def make_zoo(name):
    import torchvision.models as tvm
    ctor = getattr(tvm, name.replace("-", "_"))
    return ctor(weights=None), (3, 224, 224)


ZOO = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
       "densenet121", "squeezenet1_1", "shufflenet_v2_x0_5"]
SMALL = ["lenet", "resnet-small"]


def export(model, example, path, fold=True, preserve=False):
    kwargs = dict(opset_version=OPSET, do_constant_folding=fold,
                  input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    if preserve:
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    tmp = path + ".tmp"
    torch.onnx.export(model, example, tmp, **kwargs)
    os.replace(tmp, path)


def save_npy(path, array):
    tmp = path + ".tmp.npy"
    np.save(tmp, np.ascontiguousarray(array, dtype=np.float32))
    os.replace(tmp, path)


def build(name, out, seed, batch, variants, outputs=True, zoo=False):
    torch.manual_seed(seed)
    model, shape = make_zoo(name) if zoo else make_small(name)
    model.eval()
    calibrate_bn(model, shape, seed)
    g = torch.Generator().manual_seed(seed + 2)
    x = torch.rand((batch,) + shape, generator=g) * 2 - 1  # a normalised-image-like range

    export(model, x, os.path.join(out, name + ".onnx"))
    if variants == "all":
        export(model, x, os.path.join(out, name + "-nofold.onnx"), fold=False)
        if any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
            export(model, x, os.path.join(out, name + "-bn.onnx"), fold=False, preserve=True)
    if not outputs:
        return
    for p in model.parameters():  # only input gradients are compared: skip parameter ones
        p.requires_grad_(False)
    # Even samples explain their predicted class, odd ones the least likely class, so that a
    # batch needs a different seed per sample.
    with torch.no_grad():
        logits32 = model(x)
    target = logits32.argmax(dim=1)
    target[1::2] = logits32[1::2].argmin(dim=1)
    logits32, grad32 = logits_and_grad(model, x, target)
    # The references are computed in float64: near ReLU / max-pool kinks float32 rounding flips
    # decisions, so PyTorch's own float32 gradients of deep nets can be 1e-2 off the true value.
    # How far PyTorch's float32 is from it goes into NAME.tolerance.npy, so that the test can
    # hold us to "no worse than a few times PyTorch's own float32 error".
    logits64, grad64 = logits_and_grad(copy.deepcopy(model).double(), x.double(), target)
    save_npy(os.path.join(out, name + ".input.npy"), x.numpy())
    save_npy(os.path.join(out, name + ".target.npy"), target.numpy().astype(np.float32))
    save_npy(os.path.join(out, name + ".logits.npy"), logits64.numpy())
    save_npy(os.path.join(out, name + ".grad.npy"), grad64.numpy())
    tol = [relative_error(logits32, logits64), relative_error(grad32, grad64),
           1.0 - correlation(grad32, grad64)]
    save_npy(os.path.join(out, name + ".tolerance.npy"), np.array(tol))
    print(f"{name}: logits max|.| {logits64.abs().max().item():.4g}, targets {target.tolist()}, "
          f"PyTorch float32 vs float64: logits {tol[0]:.3g}, gradient {tol[1]:.3g}, "
          f"1 - correlation {tol[2]:.3g}", file=sys.stderr)


def logits_and_grad(model, x, target):
    """Logits and d(sum_n logits[n, target[n]]) / dx."""
    xg = x.clone().requires_grad_(True)
    logits = model(xg)
    logits.gather(1, target[:, None]).sum().backward()
    return logits.detach(), xg.grad.detach()


def relative_error(a, b):
    """max|a - b| / max|b|, the relative error the reference suite uses."""
    a, b = a.double(), b.double()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item()


def correlation(a, b):
    a, b = a.double().flatten(), b.double().flatten()
    a, b = a - a.mean(), b - b.mean()
    return (a @ b / (a.norm() * b.norm()).clamp_min(1e-300)).item()


def script_hash():
    with open(os.path.abspath(__file__), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("set", choices=["small", "zoo", "bench"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", help="comma-separated subset of the set")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--force", action="store_true", help="regenerate even if the stamp matches")
    args = ap.parse_args()

    if args.set == "small":
        names, batch, variants, zoo = SMALL, 2, "all", False
    elif args.set == "zoo":
        names, batch, variants, zoo = ZOO, 1, "default", True
    else:
        names, batch, variants, zoo = ["resnet18", "lenet"], 1, "default", None
    if args.models:
        names = args.models.split(",")

    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    for name in names:
        stamp_path = os.path.join(args.out, name + ".stamp")
        stamp = json.dumps({"script": script_hash(), "set": args.set, "seed": args.seed})
        if not args.force and os.path.exists(stamp_path):
            with open(stamp_path) as f:
                if f.read() == stamp:
                    print(f"{name}: up to date", file=sys.stderr)
                    continue
        is_zoo = zoo if zoo is not None else name != "lenet"
        # mobilenet_v2 is architecture (c) of the reference suite: every export variant.
        v = "all" if name == "mobilenet_v2" else variants
        build(name, args.out, args.seed, batch, v, outputs=args.set != "bench", zoo=is_zoo)
        with tempfile.NamedTemporaryFile("w", dir=args.out, delete=False) as f:
            f.write(stamp)
        os.replace(f.name, stamp_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
