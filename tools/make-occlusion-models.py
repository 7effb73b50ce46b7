#!/usr/bin/env python3
"""Exports the models of the incremental-occlusion test, then runs the test on them (TAP).

Usage: make-occlusion-models.py --out DIR [--run TEST_EXE]. Random-initialised (seeded)
torchvision models in eval mode, exported with torch.onnx: ResNet-18 at 224 x 224, MobileNetV2
at 112 x 112 and a DenseNet-121 block (stem, dense block 1, transition 1, global pooling, a
linear layer) at 64 x 64. With --run, execs TEST_EXE with MODEL:WINDOW:STRIDE:BATCH for each:
ResNet-18 with 48-pixel windows at stride 44 (25 windows: the full-forward reference stays
affordable, and the drops stay well above float32 rounding of the logit, which a 16-pixel
window's drops on a random network are not), the others with overlapping windows.
"""

import argparse
import importlib.util
import os
import sys

import torch
import torchvision

# name -> (builder, input side, window, stride, batch)
MODELS = {
    "resnet18": (lambda: torchvision.models.resnet18(weights=None), 224, 48, 44, 16),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None), 112, 16, 12, 16),
    "densenet_block": (None, 64, 8, 8, 16),
}


class DenseBlock(torch.nn.Module):
    """DenseNet-121 up to its first transition, then global pooling and a linear layer."""

    def __init__(self):
        super().__init__()
        features = torchvision.models.densenet121(weights=None).features
        self.features = torch.nn.Sequential(*list(features.children())[:6])
        self.fc = torch.nn.Linear(128, 10)

    def forward(self, x):
        x = torch.nn.functional.relu(self.features(x))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


def calibrate_bn():
    """tools/make-reference.py's batch-norm calibration (running statistics from a train-mode
    pass): without it a random MobileNetV2's logits hardly depend on the input."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "make-reference.py")
    spec = importlib.util.spec_from_file_location("make_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.calibrate_bn


def build(name, side, path):
    torch.manual_seed(20190630)
    builder = MODELS[name][0]
    model = builder() if builder is not None else DenseBlock()
    calibrate_bn()(model, (3, side, side), 20190630)
    model.eval()
    example = torch.zeros(1, 3, side, side)
    tmp = path + ".tmp"
    torch.onnx.export(model, example, tmp, input_names=["input"], output_names=["logits"],
                      opset_version=13, do_constant_folding=True)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--run", help="the test executable to exec on the exports")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    specs = []
    for name, (_, side, window, stride, batch) in MODELS.items():
        path = os.path.join(args.out, name + ".onnx")
        if not os.path.exists(path):
            build(name, side, path)
        specs.append(f"{path}:{window}:{stride}:{batch}")
    if args.run:
        sys.stdout.flush()
        os.execv(args.run, [args.run] + specs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
