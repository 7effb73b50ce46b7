#!/usr/bin/env python3
"""Generates PyTorch references into the build dir, then runs test-reference on them (TAP).

Usage: run-generated.py TEST_EXE OUTDIR SET NAME...  The generator runs under Debian's
/usr/bin/python3 (python3-torch); without torch the test is skipped. Regeneration is skipped
when the generator's stamp says the files are current.
"""

import os
import subprocess
import sys


def main():
    exe, out, set_name, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    src = os.environ.get("CONVSCOPE_SOURCE_DIR",
                         os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    torch_python = os.environ.get("CONVSCOPE_TORCH_PYTHON", "/usr/bin/python3")
    probe = subprocess.run([torch_python, "-c", "import torch, torchvision, onnx"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        print(f"1..0 # SKIP {torch_python} has no torch/torchvision/onnx")
        return 0
    gen = subprocess.run([torch_python, os.path.join(src, "tools", "make-reference.py"), set_name,
                          "--out", out, "--models", ",".join(names)],
                         stdout=sys.stderr, stderr=sys.stderr)
    if gen.returncode != 0:
        print("1..1\nnot ok 1 - tools/make-reference.py failed")
        return 1
    sys.stdout.flush()
    os.execv(exe, [exe, out] + names)


if __name__ == "__main__":
    sys.exit(main())
