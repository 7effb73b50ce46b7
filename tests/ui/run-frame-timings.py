#!/usr/bin/env python3
"""Exports torchvision's ResNet-18 (tools/make-reference.py bench, random weights, once per
build: a stamp keeps it), then runs the frame-timings test on it under a private session bus and
a virtual X server. Usage: run-frame-timings.py TEST_EXE OUTDIR [xvfb-run dbus-run-session]."""

import os
import subprocess
import sys


def main():
    exe, out = sys.argv[1], sys.argv[2]
    xvfb, dbus = sys.argv[3], sys.argv[4]
    src = os.environ.get("CONVSCOPE_SOURCE_DIR",
                         os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    torch_python = os.environ.get("CONVSCOPE_TORCH_PYTHON", "/usr/bin/python3")
    gen = subprocess.run([torch_python, os.path.join(src, "tools", "make-reference.py"), "bench",
                          "--out", out, "--models", "resnet18"],
                         stdout=sys.stderr, stderr=sys.stderr)
    if gen.returncode != 0:
        print("1..1\nnot ok 1 - tools/make-reference.py could not export ResNet-18")
        return 1
    sys.stdout.flush()
    os.execv(dbus, [dbus, "--", xvfb, "-a", "-s", "-screen 0 1600x1000x24", exe,
                    os.path.join(out, "resnet18.onnx")])


if __name__ == "__main__":
    sys.exit(main())
