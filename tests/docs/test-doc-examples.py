#!/usr/bin/env python3
"""Runs every runnable shell example of README.md and docs/ (TAP) against this build: a ```sh
block right after a `<!-- runnable -->` line (the convention docs/README.md describes). The
blocks of one page run in order, one command per line, in a scratch directory holding `build`
(a link to the build tree) and a copy of data/demo and data/examples, so examples are written as
from the repository root and never touch the source tree. A command fails when it exits non-zero
or prints a convscope-cli error line.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, done, note  # noqa: E402

SRC = os.environ["CONVSCOPE_SOURCE_DIR"]
BUILD = os.environ["CONVSCOPE_BUILD_DIR"]
MARKER = "<!-- runnable -->"


def pages():
    out = [os.path.join(SRC, "README.md")]
    for root, dirs, names in os.walk(os.path.join(SRC, "docs")):
        dirs.sort()
        out += [os.path.join(root, n) for n in sorted(names) if n.endswith(".md")]
    return out


def runnable_blocks(path):
    """[(line number, [commands])] of the page; a marker not followed by a sh block is reported."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    blocks, i, fenced = [], 0, False
    while i < len(lines):
        if lines[i].lstrip().startswith("```"):
            fenced = not fenced  # a marker shown inside a code block is an example, not a marker
        if fenced or lines[i].strip() != MARKER:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j >= len(lines) or lines[j].strip() != "```sh":
            check(False, f"{os.path.relpath(path, SRC)}:{i + 1}: the runnable marker is followed by a ```sh block")
            i = j
            continue
        commands, current, k = [], "", j + 1
        while k < len(lines) and lines[k].strip() != "```":
            line = lines[k]
            if line.rstrip().endswith("\\"):
                current += line.rstrip()[:-1] + " "
            else:
                current += line
                if current.strip() and not current.strip().startswith("#"):
                    commands.append((k + 1, current.strip()))
                current = ""
            k += 1
        check(k < len(lines), f"{os.path.relpath(path, SRC)}:{j + 1}: the runnable block is closed")
        blocks.append(commands)
        i = k + 1
    return blocks


def scratch_dir():
    d = tempfile.mkdtemp(prefix="convscope-doc-")
    os.symlink(os.path.abspath(BUILD), os.path.join(d, "build"))
    ignore = shutil.ignore_patterns("analysis.json", "*.tmp-*")
    for sub in ("demo", "examples"):
        shutil.copytree(os.path.join(SRC, "data", sub), os.path.join(d, "data", sub), ignore=ignore)
    return d


def run_page(path):
    blocks = runnable_blocks(path)
    if not blocks:
        return 0
    rel = os.path.relpath(path, SRC)
    d = scratch_dir()
    n = 0
    try:
        for commands in blocks:
            for lineno, cmd in commands:
                n += 1
                t0 = time.monotonic()
                try:
                    p = subprocess.run(["bash", "-c", "set -o pipefail; " + cmd], cwd=d, capture_output=True,
                                       text=True, timeout=120)
                    rc, err = p.returncode, p.stderr
                except subprocess.TimeoutExpired:
                    rc, err = "timeout", ""
                ok = rc == 0 and "convscope-cli: error:" not in err
                if not ok:
                    note(f"exit {rc}; stderr:\n{err.strip()[:2000]}")
                check(ok, f"{rel}:{lineno}: {cmd[:90]} ({time.monotonic() - t0:.1f} s)")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return n


total = 0
t0 = time.monotonic()
for page in pages():
    total += run_page(page)
note(f"{total} commands in {time.monotonic() - t0:.1f} s")
check(total >= 20, f"the runnable examples were found ({total} commands)")
sys.exit(done())
