#!/usr/bin/env python3
"""The feature commands of convscope-cli against docs/cli/ (TAP): features sheets in PNG/PDF/SVG and
--json, top-examples --json and sheets on the demo run, --epoch on runs, errors and atomic outputs.

Usage: test-cli-features.py CONVSCOPE_CLI. Standard library only.
"""

import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check, note, skip  # noqa: E402
from clitest import TINY, DEMO, run, run_json, png_size, check_error, leftovers  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist"
# Few steps keep the suite quick; convergence is tested in the core.
FAST = ["--steps", "8", "--seed", "1"]
# A slice of the test split keeps top-examples quick; the ranking itself is tested in the core.
TOP = ["--layer", "conv2", "--unit", "3", "--dataset", "fashion-mnist", "--limit", "500"]


def is_pdf(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-64:] and b"/Font" in data


def is_svg(path):
    try:
        return ET.parse(path).getroot().tag.endswith("svg")
    except (ET.ParseError, OSError) as e:
        note(str(e))
        return False


def test_features(tmp):
    out = {ext: os.path.join(tmp, f"features.{ext}") for ext in ("png", "pdf", "svg")}
    docs = {}
    for ext, path in out.items():
        p, doc = run_json("features", TINY, "--layer", "/conv2/Conv", "--units", "0,1,2", *FAST, "--out", path)
        docs[ext] = doc
        check(p.returncode == 0 and os.path.exists(path) and doc is not None, f"features -> .{ext}: exit 0, written")
    size = png_size(out["png"])
    # Three 160-px panels in a row (2 margins, 2 gaps) under a header; not squashed.
    check(size is not None and 3 * 160 + 2 * 14 <= size[0] <= 900 and 160 + 40 < size[1] < 2 * 160,
          f"features: the PNG is one row of three panels ({size})")
    check(is_pdf(out["pdf"]), "features: a complete PDF with text as fonts")
    check(is_svg(out["svg"]), "features: well-formed SVG whose root is <svg>")
    doc = docs["png"]
    ok = (doc is not None and doc.get("layer") == "/conv2/Conv" and doc.get("out") == out["png"]
          and doc.get("steps") == 8 and doc.get("seconds", -1) >= 0
          and [u.get("unit") for u in doc.get("units", [])] == [0, 1, 2]
          and all(isinstance(u.get("activation"), (int, float)) and isinstance(u.get("initial_activation"), (int, float))
                  for u in doc["units"]))
    check(ok, "features --json: layer, out, steps, seconds, units [{unit, initial_activation, activation}]")
    check(docs["png"] is not None and docs["pdf"] is not None
          and [u["activation"] for u in docs["png"]["units"]] == [u["activation"] for u in docs["pdf"]["units"]],
          "features: the same seed gives the same activations whatever the format")

    p = run("features", TINY, "--layer", "/conv2/Conv", "--units", "2", *FAST, "--out", out["png"])
    check(p.returncode == 0 and re.search(r"^\s+unit\s+2\s+activation -?[0-9.]+ \(start -?[0-9.]+\)$", p.stdout, re.M),
          "features: text output, one line per unit")

    path = os.path.join(tmp, "all.png")
    p, doc = run_json("features", TINY, "--layer", "/conv2/Conv", "--units", "all", "--steps", "4", "--out", path)
    n = len(doc["units"]) if doc else 0
    size = png_size(path)
    check(p.returncode == 0 and n == 16 and [u["unit"] for u in doc["units"]] == list(range(16)) and size is not None
          and size[1] > 2 * 160, f"features --units all: 16 units, several rows ({size})")
    path = os.path.join(tmp, "cols.png")
    p = run("features", TINY, "--layer", "/conv2/Conv", "--units", "0-3", "--steps", "2", "--columns", "2",
            "--size", "96", "--out", path)
    size = png_size(path)
    # Two rows of 96-px pictures with their titles (the header may widen the sheet, not lengthen it).
    check(p.returncode == 0 and size is not None and 2 * (96 + 35) < size[1] < 3 * (96 + 35) and size[0] <= 900,
          f"features --columns 2 --size 96: two by two ({size})")

    # Errors: one line, exit 2 for usage, 1 for an unwritable output; nothing left behind.
    bad = os.path.join(tmp, "bad.png")
    check_error(run("features", TINY, "--layer", "nope", "--out", bad), 2, "features with an unknown layer",
                "--layer", "'nope'")
    check_error(run("features", TINY, "--layer", "/conv2/Conv", "--units", "0,99", "--out", bad), 2,
                "features with a unit out of range", "--units", "99")
    check_error(run("features", TINY, "--layer", "/conv2/Conv", "--units", "x", "--out", bad), 2,
                "features with a malformed --units", "--units")
    check_error(run("features", TINY, "--layer", "/conv2/Conv", "--out", os.path.join(tmp, "s.gif")), 2,
                "features to a .gif", "--out")
    check_error(run("features", TINY, "--layer", "/conv2/Conv"), 2, "features without --out", "--out")
    nodir = os.path.join(tmp, "no-such-dir", "s.pdf")
    check_error(run("features", TINY, "--layer", "/conv2/Conv", "--units", "0", *FAST, "--out", nodir), 1,
                "features into a missing directory", nodir)
    check(not os.path.exists(bad) and not os.path.exists(os.path.join(tmp, "s.gif")) and not leftovers(tmp),
          "features: nothing written on failure")


def test_features_run(tmp):
    # --epoch on a run: another checkpoint, other activations; a missing epoch is exit 1.
    acts = {}
    for epoch in (1, 30):
        path = os.path.join(tmp, f"demo-{epoch}.png")
        p, doc = run_json("features", DEMO, "--epoch", epoch, "--layer", "conv2", "--units", "0,5", *FAST, "--out", path)
        check(p.returncode == 0 and doc is not None and png_size(path) is not None,
              f"features on the demo run --epoch {epoch}")
        acts[epoch] = [u["activation"] for u in doc["units"]] if doc else None
    p, doc = run_json("features", DEMO, "--layer", "conv2", "--units", "0,5", *FAST,
                      "--out", os.path.join(tmp, "demo-last.png"))
    last = [u["activation"] for u in doc["units"]] if doc else None
    check(acts[1] is not None and acts[1] != acts[30] and last == acts[30],
          "features --epoch: epoch 1 differs from 30; the default is the last epoch")
    check_error(run("features", DEMO, "--epoch", 99, "--layer", "conv2", "--out", os.path.join(tmp, "e.png")), 1,
                "features --epoch 99 on a 31-epoch run", DEMO, "no epoch 99")


def test_top_examples(tmp):
    if not os.path.isdir(FASHION):
        skip("top-examples", f"no Fashion-MNIST at {FASHION}")
        return
    p, doc = run_json("top-examples", DEMO, *TOP, "--top", "5")
    ok = p.returncode == 0 and isinstance(doc, dict) and set(doc) == {"layer", "unit", "examples"}
    check(ok and doc["layer"] == "conv2" and doc["unit"] == 3 and len(doc["examples"]) == 5,
          "top-examples --json: {layer, unit, examples} with --top 5 examples")
    ex = doc["examples"] if ok else []
    check(all(set(e) == {"index", "label", "activation", "box"} for e in ex)
          and all(isinstance(e["index"], int) and 0 <= e["index"] < 500 and 0 <= e["label"] < 10 for e in ex)
          and len({e["index"] for e in ex}) == len(ex),
          "top-examples --json: index within --limit, label, activation, box; distinct images")
    acts = [e["activation"] for e in ex]
    check(len(acts) == 5 and all(a >= b for a, b in zip(acts, acts[1:])), "top-examples: decreasing activation")
    check(all(len(e["box"]) == 4 and 0 <= e["box"][0] < e["box"][2] <= 28 and 0 <= e["box"][1] < e["box"][3] <= 28
              for e in ex), "top-examples: boxes within the 28x28 image, non-empty")
    p, doc3 = run_json("top-examples", DEMO, *TOP, "--top", "3")
    check(p.returncode == 0 and doc3 is not None and doc3["examples"] == ex[:3], "top-examples: --top 3 is a prefix of --top 5")

    # --epoch: another checkpoint ranks other examples (or the same with other activations).
    p, doc1 = run_json("top-examples", DEMO, *TOP, "--top", "5", "--epoch", "1")
    check(p.returncode == 0 and doc1 is not None and doc1["examples"] != ex, "top-examples --epoch 1 differs from the last")

    p = run("top-examples", DEMO, *TOP, "--top", "5", "--layer", "relu2")
    check(p.returncode == 0 and len(re.findall(r"^\s+\d+\s+image\s+\d+\s+label ", p.stdout, re.M)) == 5,
          "top-examples on relu2: the text table, five rows")

    for ext in ("png", "pdf", "svg"):
        path = os.path.join(tmp, f"top.{ext}")
        p, d = run_json("top-examples", DEMO, *TOP, "--top", "5", "--out", path)
        check(p.returncode == 0 and d is not None and d["examples"] == ex and os.path.exists(path),
              f"top-examples --out top.{ext} with --json: the same examples, the sheet written")
    size = png_size(os.path.join(tmp, "top.png"))
    check(size is not None and 5 * 160 + 4 * 14 <= size[0] <= 5 * 160 + 4 * 14 + 40 and 160 + 40 < size[1] < 2 * 160,
          f"top-examples: the PNG is one row of five panels ({size})")
    check(is_pdf(os.path.join(tmp, "top.pdf")), "top-examples: a complete PDF")
    check(is_svg(os.path.join(tmp, "top.svg")), "top-examples: an SVG")

    # Errors.
    missing = os.path.join(tmp, "no-data")
    spec = f"fashion-mnist:{missing}"
    out = os.path.join(tmp, "never.png")
    p = run("top-examples", DEMO, "--layer", "conv2", "--unit", "3", "--dataset", spec, "--out", out)
    check_error(p, 1, "top-examples with a missing data set", spec, missing)
    check_error(run("top-examples", DEMO, *TOP[:4], "--dataset", "nosuch"), 1, "top-examples with an unknown data set",
                "nosuch")
    check_error(run("top-examples", DEMO, "--layer", "conv2", "--unit", "32", "--dataset", "fashion-mnist"), 2,
                "top-examples with a unit out of range", "--unit")
    check_error(run("top-examples", DEMO, "--layer", "nope", "--unit", "0", "--dataset", "fashion-mnist"), 2,
                "top-examples with an unknown layer", "--layer")
    check_error(run("top-examples", DEMO, *TOP, "--out", os.path.join(tmp, "t.jpg")), 2, "top-examples to a .jpg",
                "--out")
    nodir = os.path.join(tmp, "no-such-dir", "t.png")
    check_error(run("top-examples", DEMO, *TOP, "--out", nodir), 1, "top-examples into a missing directory", nodir)
    check(not os.path.exists(out) and not os.path.exists(os.path.join(tmp, "t.jpg")) and not leftovers(tmp),
          "top-examples: nothing written on failure")


def main():
    tmp = tempfile.mkdtemp(prefix="cli-features-", dir=os.environ.get("CONVSCOPE_BUILD_DIR"))
    try:
        for t in (test_features, test_features_run, test_top_examples):
            taplib.group(t, tmp)
    finally:
        if os.environ.get("KEEP"):
            note(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return taplib.done()


if __name__ == "__main__":
    sys.exit(main())
