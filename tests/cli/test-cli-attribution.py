#!/usr/bin/env python3
"""The attribution commands of convscope-cli against docs/cli/ (TAP): explain with every method and
every output, compare sheets in PNG/PDF/SVG, evaluate's table and --json, budgets (--budget,
"completed"), bench's method tasks.

Usage: test-cli-attribution.py CONVSCOPE_CLI. Standard library only.
"""

import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check, note  # noqa: E402
from clitest import TINY, DIGIT, run, run_json, npy_read, npy_write, png_size, png_rgba, check_error, leftovers  # noqa: E402

LAST_LINE = re.compile(r"median_ms=[0-9.]+ min_ms=[0-9.]+ max_ms=[0-9.]+")

METHODS = ["saliency", "guided-backprop", "deconvnet", "gradient-x-input", "smoothgrad",
           "integrated-gradients", "gradcam", "gradcam++", "guided-gradcam", "scorecam",
           "layercam", "occlusion", "rise"]
CAM = {"gradcam", "gradcam++", "scorecam", "layercam"}
# Small sample counts keep the suite quick; the defaults are tested in the core.
FAST = ["--samples", "64", "--steps", "8", "--seed", "3"]


def test_explain(tmp):
    for m in METHODS:
        out, mp, sm, sr = (os.path.join(tmp, f"{m}.{s}") for s in ("overlay.png", "map.png", "map.npy", "raw.npy"))
        p, doc = run_json("explain", TINY, DIGIT, "--method", m, *FAST, "--out", out, "--map", mp,
                          "--save-map", sm, "--save-raw", sr)
        ok = p.returncode == 0 and doc is not None and all(os.path.exists(f) for f in (out, mp, sm, sr))
        if not ok:
            note(p.stderr)
        check(ok, f"explain {m}: exit 0, all four outputs written")
        if not ok:
            continue
        ms, mv = npy_read(sm)
        rs, rv = npy_read(sr)
        want_raw = ((7, 7) if m in CAM else (28, 28) if m in ("occlusion", "rise") else (1, 28, 28))
        check(ms == (28, 28) and min(mv) >= 0 and max(mv) <= 1 and png_size(out) == (28, 28)
              and png_size(mp) == (28, 28) and rs == want_raw and list(rs) == doc["raw_shape"],
              f"explain {m}: map (28,28) in [0,1], raw {rs}, PNGs 28x28")
        check(doc["method"] == m and doc["target"] == 7 and doc["prediction"]["class"] == 7
              and 0 < doc["probability"] <= 1 and doc["milliseconds"] >= 0
              and isinstance(doc["parameters"], dict) and (doc["layer"] is not None) == (m in CAM or m == "guided-gradcam"),
              f"explain {m} --json: prediction, target, parameters, time, layer")
    p, doc = run_json("explain", TINY, DIGIT, "--method", "smoothgrad", "--samples", "10", "--noise", "0.3", "--seed", "9")
    check(p.returncode == 0 and doc["parameters"].get("samples") == 10
          and abs(doc["parameters"].get("noise") - 0.3) < 1e-6 and doc["parameters"].get("seed") == 9,
          "explain --json: the method's parameters as used")
    p, doc = run_json("explain", TINY, DIGIT, "--method", "integrated-gradients")
    check(p.returncode == 0 and doc["parameters"].get("steps") == 50 and doc["parameters"].get("baseline") == "zero",
          "explain --json: defaults filled in (IG: 50 steps, zero baseline)")

    # Seeds: the same seed gives the same raw attribution, another seed another one.
    raws = []
    for seed in (5, 5, 6):
        f = os.path.join(tmp, f"sg-{len(raws)}.npy")
        run("explain", TINY, DIGIT, "--method", "smoothgrad", "--samples", "16", "--seed", seed, "--save-raw", f)
        raws.append(npy_read(f)[1] if os.path.exists(f) else None)
    check(raws[0] is not None and raws[0] == raws[1] and raws[0] != raws[2], "smoothgrad: --seed reproducible")

    # Layers by name: a spatial one works, unknown or non-spatial ones are named in the error.
    f = os.path.join(tmp, "l.npy")
    p, doc = run_json("explain", TINY, DIGIT, "--method", "gradcam", "--layer", "/conv1/Conv", "--save-raw", f)
    check(p.returncode == 0 and doc["layer"] == "conv1" and npy_read(f)[0] == (28, 28),
          "explain --layer /conv1/Conv (the ONNX name, alias of conv1): raw at the layer's 28x28")
    check_error(run("explain", TINY, DIGIT, "--method", "gradcam", "--layer", "nope"), 2,
                "unknown --layer", "--layer", "'nope'")
    check_error(run("explain", TINY, DIGIT, "--method", "gradcam", "--layer", "/fc/Gemm"), 2,
                "non-spatial --layer", "--layer", "'/fc/Gemm' is not a spatial layer")
    check_error(run("explain", TINY, DIGIT, "--method", "occlusion", "--window", "99"), 2,
                "--window beyond the input", "--window")
    check_error(run("explain", TINY, DIGIT, "--method", "integrated-gradients", "--baseline", "mean"), 2,
                "bad --baseline", "--baseline")
    check_error(run("explain", TINY, DIGIT, "--method", "gradcam,saliency"), 2, "two methods", "--method")

    # Diverging colormap for signed maps; --batch sets the chunk without changing the result.
    d = os.path.join(tmp, "div.png")
    p = run("explain", TINY, DIGIT, "--method", "gradient-x-input", "--colormap", "diverging", "--map", d)
    check(p.returncode == 0 and png_size(d) == (28, 28), "explain --colormap diverging")
    a, b = os.path.join(tmp, "b1.npy"), os.path.join(tmp, "b7.npy")
    run("explain", TINY, DIGIT, "--method", "occlusion", "--batch", "1", "--save-raw", a)
    run("explain", TINY, DIGIT, "--method", "occlusion", "--batch", "7", "--save-raw", b)
    ra, rb = (npy_read(x)[1] if os.path.exists(x) else None for x in (a, b))
    check(ra is not None and rb is not None and max(abs(x - y) for x, y in zip(ra, rb)) < 1e-4,
          "explain --batch 1 and 7 agree (occlusion)")
    # A .npy input: the overlay is drawn on the de-normalised tensor.
    shape_values = npy_read(os.path.join(tmp, "saliency.raw.npy"))
    npy_write(os.path.join(tmp, "in.npy"), (1, 28, 28), [abs(v) * 100 for v in shape_values[1]])
    o = os.path.join(tmp, "npy-overlay.png")
    p = run("explain", TINY, os.path.join(tmp, "in.npy"), "--method", "layercam", "--out", o, "--grayscale")
    check(p.returncode == 0 and png_size(o) == (28, 28), "explain on a .npy input, --grayscale overlay")

    # --size: the overlay at 112 px; averaged back over 4x4 blocks it is the 28 px overlay.
    small, big = os.path.join(tmp, "size28.png"), os.path.join(tmp, "size112.png")
    p = run("explain", TINY, DIGIT, "--method", "layercam", "--out", small)
    q = run("explain", TINY, DIGIT, "--method", "layercam", "--out", big, "--size", "112")
    check(p.returncode == 0 and q.returncode == 0 and png_size(big) == (112, 112), "explain --out --size 112")
    if png_size(big) == (112, 112) and png_size(small) == (28, 28):
        _, _, s_rows = png_rgba(small)
        _, _, b_rows = png_rgba(big)
        diff = [abs(sum(b_rows[y * 4 + j][(x * 4 + i) * 4 + c] for j in range(4) for i in range(4)) / 16
                    - s_rows[y][x * 4 + c]) for y in range(28) for x in range(28) for c in range(3)]
        note(f"--size 112 vs 28: mean |diff| {sum(diff) / len(diff):.2f}, max {max(diff):.1f} (of 255)")
        check(sum(diff) / len(diff) < 6 and all(b_rows[y][x * 4 + 3] == 255 for y in range(112) for x in range(112)),
              "--size 112 shows the same overlay as the input size, opaque")
    check_error(run("explain", TINY, DIGIT, "--method", "saliency", "--size", "112"), 2, "--size without --out",
                "--size")
    check_error(run("explain", TINY, DIGIT, "--method", "saliency", "--out", big, "--size", "8"), 2,
                "--size below 16", "--size")

    # --unit: the explained score is a unit's mean activation, for gradient and CAM methods.
    ru, rl = os.path.join(tmp, "unit.raw.npy"), os.path.join(tmp, "logit.raw.npy")
    p, doc = run_json("explain", TINY, DIGIT, "--method", "saliency", "--unit", "/conv2/Conv:3", "--save-raw", ru)
    run("explain", TINY, DIGIT, "--method", "saliency", "--save-raw", rl)
    unit_raw, logit_raw = npy_read(ru), npy_read(rl)
    check(p.returncode == 0 and doc["parameters"]["unit"] == {"layer": "conv2", "channel": 3}
          and unit_raw is not None and logit_raw is not None and unit_raw[1] != logit_raw[1],
          "explain --unit LAYER:CHANNEL explains the unit, not the logit")
    p, doc = run_json("explain", TINY, DIGIT, "--method", "gradcam", "--unit", "/conv2/Conv:3")
    check(p.returncode == 0 and doc["layer"] not in (None, "maxpool_1"),
          "explain --unit with a CAM method picks a layer before the unit's")
    check_error(run("explain", TINY, DIGIT, "--method", "saliency", "--unit", "/conv2/Conv:99"), 2,
                "explain --unit with a channel out of range", "--unit")
    check_error(run("explain", TINY, DIGIT, "--method", "gradcam", "--unit", "/conv2/Conv:3",
                    "--layer", "/MaxPool_1"), 1, "explain --unit with a CAM layer after the unit", "gradcam")

    p = run("explain", "--help")
    check(p.returncode == 0 and all(m in p.stdout for m in METHODS) and "99th percentile" in p.stdout
          and "align_corners" in p.stdout, "explain --help lists every method with its conventions")


def test_compare(tmp):
    sizes = {}
    for ext in ("png", "pdf", "svg"):
        out = os.path.join(tmp, f"sheet.{ext}")
        p, doc = run_json("compare", TINY, DIGIT, "--methods", "saliency,gradcam,occlusion", "--out", out)
        ok = p.returncode == 0 and os.path.exists(out) and doc is not None
        check(ok and [m["method"] for m in doc["methods"]] == ["saliency", "gradcam", "occlusion"]
              and doc["predicted"] == 7, f"compare -> {ext}: exit 0, three methods in --json")
        sizes[ext] = os.path.getsize(out) if os.path.exists(out) else 0
    check(png_size(os.path.join(tmp, "sheet.png")) is not None and sizes["png"] > 2000,
          f"compare: the PNG is a PNG ({png_size(os.path.join(tmp, 'sheet.png'))})")
    with open(os.path.join(tmp, "sheet.pdf"), "rb") as f:
        pdf = f.read()
    check(pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:] and len(pdf) > 2000, "compare: a complete PDF")
    try:
        root = ET.parse(os.path.join(tmp, "sheet.svg")).getroot()
        ok = root.tag.endswith("svg")
    except ET.ParseError as e:
        note(str(e))
        ok = False
    check(ok, "compare: well-formed SVG whose root is <svg>")

    out = os.path.join(tmp, "all.png")
    p = run("compare", TINY, DIGIT, "--methods", "all", "--samples", "200", "--out", out)
    check(p.returncode == 0 and png_size(out) is not None and all(m in p.stdout for m in METHODS),
          "compare --methods all: every method timed, sheet written")
    check_error(run("compare", TINY, DIGIT, "--methods", "saliency"), 2, "compare without --out", "--out")
    check_error(run("compare", TINY, DIGIT, "--out", os.path.join(tmp, "x.gif")), 2, "compare to .gif", "--out")
    check_error(run("compare", TINY, DIGIT, "--methods", "saliency,bogus", "--out", out), 2,
                "compare with an unknown method", "--methods", "'bogus'")
    bad = os.path.join(tmp, "no-such-dir", "s.pdf")
    p = run("compare", TINY, DIGIT, "--methods", "saliency", "--out", bad)
    check_error(p, 1, "compare into a missing directory", bad)
    check(not os.path.exists(bad) and not leftovers(tmp), "compare: nothing left behind on failure")


def test_evaluate(tmp):
    npy = os.path.join(tmp, "in2.npy")
    npy_write(npy, (1, 28, 28), [((i % 28) * (i // 28)) / 400.0 - 0.4 for i in range(784)])
    p, doc = run_json("evaluate", TINY, DIGIT, npy, "--methods", "saliency,gradcam,occlusion")
    ok = p.returncode == 0 and isinstance(doc, dict) and {"inputs", "metrics", "steps", "methods"} <= set(doc)
    check(ok and doc["inputs"] == [DIGIT, npy] and doc["metrics"] == ["deletion", "insertion", "randomization"]
          and doc["steps"] == 50 and len(doc["methods"]) == 3, "evaluate --json: inputs, metrics, steps, methods")
    if ok:
        good = True
        for m in doc["methods"]:
            for k in ("deletion", "insertion"):
                c = m.get(k, {})
                good = good and 0 <= c.get("auc", -1) <= 1 and len(c.get("per_input", [])) == 2 \
                    and len(c.get("curve", [])) == 51
            r = m.get("randomization", {})
            good = good and r.get("layers") == ["fc", "conv2", "conv1"] \
                and all(-1 <= s <= 1 for s in r.get("spearman", [])) and len(r.get("per_input", [])) == 2
        check(good, "evaluate --json: AUCs in [0,1] per input, 51-point curves, 3 layers of Spearman in [-1,1]")
    p, doc = run_json("evaluate", TINY, DIGIT, "--methods", "gradcam", "--metric", "deletion")
    check(p.returncode == 0 and doc["metrics"] == ["deletion"] and "insertion" not in doc["methods"][0]
          and "randomization" not in doc["methods"][0], "evaluate --metric deletion: only deletion")
    p = run("evaluate", TINY, DIGIT, "--methods", "saliency,gradcam", "--metric", "deletion,randomization")
    check(p.returncode == 0 and re.search(r"^method\s+deletion\s+insertion\s+randomization", p.stdout, re.M)
          and re.search(r"^gradcam\s+[0-9.]+\s+-\s+-?[0-9.]+$", p.stdout, re.M), "evaluate: the table")
    check_error(run("evaluate", TINY, DIGIT), 2, "evaluate without --methods", "--methods")
    check_error(run("evaluate", TINY, DIGIT, "--methods", "all", "--metric", "accuracy"), 2,
                "evaluate --metric accuracy", "--metric")
    check_error(run("evaluate", TINY, "--methods", "all"), 2, "evaluate without INPUT")


def test_budget(tmp):
    p, doc = run_json("explain", TINY, DIGIT, "--method", "rise", "--samples", "200000", "--batch", "4",
                      "--budget", "0.05")
    check(p.returncode == 0 and doc is not None and 0 < doc["completed"] < 1 and 0 < doc["passes"] < 200000,
          f"explain --budget 0.05: stops early and says how far (completed {doc and doc.get('completed')})")
    p, doc = run_json("explain", TINY, DIGIT, "--method", "rise", "--samples", "64")
    check(p.returncode == 0 and doc is not None and doc["completed"] == 1, "explain without a budget: completed 1")
    out = os.path.join(tmp, "budget.png")
    p, doc = run_json("compare", TINY, DIGIT, "--methods", "saliency,rise", "--samples", "200000", "--batch", "4",
                      "--budget", "0.1", "--out", out)
    ok = p.returncode == 0 and doc is not None and doc.get("budget_seconds") == 0.1
    got = {m["method"]: m.get("completed") for m in doc["methods"]} if ok else {}
    check(ok and got.get("saliency") == 1 and 0 < got.get("rise", 1) < 1 and os.path.exists(out),
          f"compare --budget: one-pass methods complete, RISE stops early, the sheet is written ({got})")
    p = run("compare", TINY, DIGIT, "--methods", "rise", "--samples", "200000", "--batch", "4",
            "--budget", "0.05", "--out", out)
    check(p.returncode == 0 and re.search(r"^rise\s+[0-9.]+ m?s  \(budget: [0-9.]+% done\)$", p.stdout, re.M),
          "compare --budget: the text report says where RISE stopped")
    check_error(run("explain", TINY, DIGIT, "--method", "rise", "--budget", "-1"), 2, "explain --budget -1",
                "--budget")
    check_error(run("compare", TINY, DIGIT, "--budget", "soon", "--out", out), 2, "compare --budget soon",
                "--budget")


def test_bench(tmp):
    for task in ("gradcam", "smoothgrad", "integrated-gradients", "scorecam", "occlusion", "occlusion-full", "rise",
                 "compare-all"):
        p = run("bench", TINY, "--task", task, "--repeat", "2")
        last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        check(p.returncode == 0 and LAST_LINE.fullmatch(last), f"bench --task {task}: last line '{last}'")
    p, doc = run_json("bench", TINY, "--task", "scorecam", "--batch", "4", "--repeat", "1")
    check(p.returncode == 0 and doc["batch"] == 4 and doc["min_ms"] <= doc["median_ms"] <= doc["max_ms"],
          "bench --task scorecam --batch 4 --json")


def main():
    tmp = tempfile.mkdtemp(prefix="cli-attr-", dir=os.environ.get("CONVSCOPE_BUILD_DIR"))
    try:
        for t in (test_explain, test_compare, test_budget, test_evaluate, test_bench):
            taplib.group(t, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return taplib.done()


if __name__ == "__main__":
    sys.exit(main())
