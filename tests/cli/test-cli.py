#!/usr/bin/env python3
"""Drives the built convscope-cli against docs/cli/: outputs, --json shapes, exit codes, errors (TAP).

Usage: test-cli.py CONVSCOPE_CLI. Needs only the standard library (no torch, no numpy); the
models and reference outputs come from tests/reference/data and data/examples.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check, note  # noqa: E402
from clitest import CLI, SRC, TINY, DIGIT, run, run_json, npy_read, npy_write, png_size, rel_error, check_error  # noqa: E402

REF = os.path.join(SRC, "tests", "reference", "data")
LENET = os.path.join(REF, "lenet.onnx")
RESNET = os.path.join(REF, "resnet-small.onnx")


# --- .npy and PNG without numpy ---------------------------------------------------------------

# --- the tests ---------------------------------------------------------------------------------

def test_inspect(tmp):
    p = run("inspect", LENET)
    check(p.returncode == 0, "inspect: exit 0")
    check(re.search(r"^total: 61706 parameters", p.stdout, re.M) is not None,
          "inspect: total line with LeNet's 61706 parameters")
    check(re.search(r"Conv\s+\[N, 6, 28, 28\]\s+156\b", p.stdout) is not None,
          "inspect: the first conv's op, per-sample shape [N, 6, 28, 28] and 156 parameters")
    p, doc = run_json("inspect", LENET)
    ok = (p.returncode == 0 and isinstance(doc, dict)
          and {"nodes", "parameters", "flops"} <= set(doc) and isinstance(doc["nodes"], list))
    check(ok, "inspect --json: {nodes, parameters, flops}")
    if not ok:
        return
    keys = all({"name", "op", "inputs", "output_shape", "parameters"} <= set(n) for n in doc["nodes"])
    check(keys, "inspect --json: every node has name, op, inputs, output_shape, parameters")
    check(doc["parameters"] == 61706 == sum(n["parameters"] for n in doc["nodes"]),
          "inspect --json: parameters = 61706 = the sum over nodes")
    # conv1: 2*156*28*28-ish multiply-adds; the total must at least cover the convolutions.
    check(doc["flops"] >= 2 * (6 * 25 * 28 * 28 + 16 * 150 * 10 * 10), f"inspect --json: flops {doc['flops']}")
    check(all(isinstance(n["inputs"], list) and all(isinstance(i, str) for i in n["inputs"])
              for n in doc["nodes"]) and any("conv1.weight" in n["inputs"] for n in doc["nodes"]),
          "inspect --json: inputs are lists of node names (parameters included)")
    check(not any(n["name"] in ("conv1.weight", "fc3.bias") for n in doc["nodes"]),
          "inspect: parameter nodes are not listed")


def test_predict(tmp):
    p = run("predict", TINY, DIGIT)
    check(p.returncode == 0 and p.stdout.splitlines()[1].split()[0] == "7",
          "predict: the example model reads digit-7.png as 7")
    p, doc = run_json("predict", TINY, DIGIT, DIGIT, "--top", "3")
    ok = p.returncode == 0 and isinstance(doc, list) and len(doc) == 2
    check(ok, "predict --json: one entry per INPUT")
    if ok:
        e = doc[0]
        check({"input", "logits", "probabilities", "top"} <= set(e) and e["input"] == DIGIT
              and len(e["logits"]) == 10 and len(e["probabilities"]) == 10,
              "predict --json: input, logits[10], probabilities[10]")
        check(abs(sum(e["probabilities"]) - 1) < 1e-4, "predict --json: probabilities sum to 1")
        top = e["top"]
        check(len(top) == 3 and all({"class", "label", "probability"} <= set(t) for t in top)
              and top[0]["class"] == 7
              and all(top[i]["probability"] >= top[i + 1]["probability"] for i in range(2)),
              "predict --json --top 3: three classes by decreasing probability, 7 first")
    # A .npy input is used exactly as given: PyTorch's logits for LeNet's first reference sample.
    shape, x = npy_read(os.path.join(REF, "lenet.input.npy"))
    _, logits = npy_read(os.path.join(REF, "lenet.logits.npy"))
    n = shape[1] * shape[2] * shape[3]
    chw = os.path.join(tmp, "sample.npy")
    npy_write(chw, shape[1:], x[:n])
    nchw = os.path.join(tmp, "sample4.npy")
    npy_write(nchw, (1,) + tuple(shape[1:]), x[:n])
    p, doc = run_json("predict", LENET, chw, nchw)
    ok = p.returncode == 0 and doc is not None
    if ok:
        r0, r1 = rel_error(doc[0]["logits"], logits[:10]), rel_error(doc[1]["logits"], logits[:10])
        note(f"lenet .npy logits vs PyTorch: relative error {r0:.3g}")
        ok = r0 <= 1e-4 and r1 <= 1e-4
    check(ok, "predict: .npy inputs (C,H,W) and (1,C,H,W) give PyTorch's logits within 1e-4")
    # A grey PNG into a 3-channel model, with normalisation flags.
    p = run("predict", RESNET, DIGIT, "--preset", "imagenet")
    check(p.returncode == 0, "predict: grey PNG into a 3-channel model with --preset imagenet")
    p = run("predict", RESNET, DIGIT, "--mean", "0.5,0.5,0.5", "--std", "0.25")
    check(p.returncode == 0, "predict: --mean a,b,c --std s")
    p = run("predict", RESNET, DIGIT, "--mean", "0.5,0.5")
    check_error(p, 2, "predict --mean with 2 values for 3 channels", "--mean")


def test_explain(tmp):
    raw, smap = os.path.join(tmp, "raw.npy"), os.path.join(tmp, "map.npy")
    mpng, over = os.path.join(tmp, "map.png"), os.path.join(tmp, "overlay.png")
    p = run("explain", TINY, DIGIT, "--method", "saliency", "--save-raw", raw, "--save-map", smap,
            "--map", mpng, "--out", over)
    check(p.returncode == 0, "explain saliency: exit 0")
    ok = all(os.path.exists(f) for f in (raw, smap, mpng, over))
    check(ok, "explain: --save-raw, --save-map, --map and --out written")
    if ok:
        rs, rv = npy_read(raw)
        ms, mv = npy_read(smap)
        check(rs == (1, 28, 28) and ms == (28, 28), f"explain: raw (C,H,W) {rs}, map (H,W) {ms}")
        check(min(mv) >= 0 and max(mv) == 1.0 and any(v < 0 for v in rv),
              "explain: map in [0,1] reaching 1, raw gradient signed")
        check(png_size(mpng) == (28, 28) and png_size(over) == (28, 28),
              "explain: map.png and overlay.png are 28x28 PNGs")
    p, doc = run_json("explain", TINY, DIGIT, "--method", "saliency", "--colormap", "viridis",
                      "--alpha", "0.3", "--map", mpng)
    check(p.returncode == 0 and doc is not None and doc.get("target") == 7
          and {"method", "target", "logit", "probability", "outputs"} <= set(doc),
          "explain --json: method, target (auto = 7), logit, probability, outputs")
    # The raw saliency is PyTorch's input gradient of the chosen logit.
    shape, x = npy_read(os.path.join(REF, "lenet.input.npy"))
    _, grad = npy_read(os.path.join(REF, "lenet.grad.npy"))
    _, target = npy_read(os.path.join(REF, "lenet.target.npy"))
    n = shape[1] * shape[2] * shape[3]
    inp = os.path.join(tmp, "lenet1.npy")
    npy_write(inp, (1,) + tuple(shape[1:]), x[n:2 * n])
    p = run("explain", LENET, inp, "--method", "saliency", "--target", int(target[1]),
            "--save-raw", raw, "--out", over, "--colormap", "gray")
    check(p.returncode == 0 and png_size(over) == (28, 28), "explain: overlay over a .npy input")
    ok = p.returncode == 0
    if ok:
        _, rv = npy_read(raw)
        r = rel_error(rv, grad[n:2 * n])
        note(f"lenet saliency vs PyTorch input gradient: relative error {r:.3g}")
        ok = r <= 1e-3
    check(ok, "explain --target N --save-raw: PyTorch's input gradient within 1e-3")


def test_bench(tmp):
    p = run("bench", LENET, "--task", "forward", "--repeat", "3", "--threads", "1")
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    check(p.returncode == 0 and re.fullmatch(r"median_ms=[0-9.]+ min_ms=[0-9.]+ max_ms=[0-9.]+", last),
          f"bench forward: last line '{last}'")
    p = run("bench", LENET, "--task", "saliency", "--batch", "2", "--repeat", "2")
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    check(p.returncode == 0 and last.startswith("median_ms="), "bench saliency --batch 2")
    p, doc = run_json("bench", LENET, "--task", "forward", "--repeat", "2")
    check(p.returncode == 0 and doc is not None and {"median_ms", "min_ms", "max_ms"} <= set(doc)
          and doc["min_ms"] <= doc["median_ms"] <= doc["max_ms"], "bench --json")
    check_error(run("bench", LENET, "--task", "nonsense"), 2, "bench --task nonsense", "--task")
    check_error(run("bench", LENET), 2, "bench without --task", "--task")


def test_errors(tmp):
    missing = os.path.join(tmp, "missing.onnx")
    check_error(run("inspect", missing), 1, "missing model file", missing)
    garbage = os.path.join(tmp, "garbage.onnx")
    with open(garbage, "wb") as f:
        f.write(bytes((i * 97 + 13) % 256 for i in range(4096)))
    check_error(run("inspect", garbage), 1, "garbage .onnx", garbage)
    truncated = os.path.join(tmp, "truncated.onnx")
    with open(LENET, "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[: len(data) // 2])
    check_error(run("predict", truncated, DIGIT), 1, "truncated .onnx", truncated)
    fake = os.path.join(tmp, "fake.png")
    with open(fake, "w") as f:
        f.write("this is not a PNG\n")
    check_error(run("predict", TINY, fake), 1, "a .png that is not one", fake)
    check_error(run("predict", TINY, os.path.join(tmp, "nope.png")), 1, "missing input image",
                os.path.join(tmp, "nope.png"))
    check_error(run("explain", TINY, DIGIT, "--method", "nonsense"), 2, "bad --method", "--method")
    check_error(run("explain", TINY, DIGIT), 2, "missing --method", "--method")
    check_error(run("explain", TINY, DIGIT, "--method", "saliency", "--target", "abc"), 2,
                "--target abc", "--target")
    check_error(run("explain", TINY, DIGIT, "--method", "saliency", "--target", "10"), 2,
                "--target beyond the classes", "--target")
    check_error(run("explain", TINY, DIGIT, "--method", "saliency", "--colormap", "rainbow"), 2,
                "bad --colormap", "--colormap")
    check_error(run("explain", TINY, DIGIT, "--method", "saliency", "--alpha", "2"), 2,
                "--alpha out of range", "--alpha")
    check_error(run("frobnicate"), 2, "unknown command", "frobnicate")
    check_error(run("inspect", LENET, "--bogus"), 2, "unknown option", "--bogus")
    check_error(run("predict", TINY), 2, "predict without INPUT")
    check_error(run("predict", TINY, DIGIT, "--top", "0"), 2, "--top 0", "--top")
    check_error(run("inspect", LENET, "--threads", "x"), 2, "--threads x", "--threads")
    p = run()
    check(p.returncode == 2, "no command: exit 2")
    check(run("--help").returncode == 0 and run("explain", "--help").returncode == 0, "--help: exit 0")

    # Nothing is written unless the command succeeds.
    outs = [os.path.join(tmp, n) for n in ("f-overlay.png", "f-map.png", "f-map.npy", "f-raw.npy")]
    flags = ["--out", outs[0], "--map", outs[1], "--save-map", outs[2], "--save-raw", outs[3]]
    cases = [
        ("garbage model", [garbage, DIGIT, "--method", "saliency"]),
        ("fake PNG input", [TINY, fake, "--method", "saliency"]),
        ("bad target", [TINY, DIGIT, "--method", "saliency", "--target", "99"]),
        ("unwritable last output", [TINY, DIGIT, "--method", "saliency",
                                    "--out", os.path.join(tmp, "no-such-dir", "o.png")]),
    ]
    for what, args in cases:
        a = list(args) + (flags[2:] if what == "unwritable last output" else flags)
        p = run("explain", *a)
        leftovers = [f for f in outs + [os.path.join(tmp, "no-such-dir")] if os.path.exists(f)]
        leftovers += [f for f in os.listdir(tmp) if ".tmp-" in f]
        check(p.returncode != 0 and not leftovers,
              f"explain failing on {what}: exit {p.returncode}, no output or temp file left {leftovers}")
    # A failed run leaves an existing file as it was.
    with open(outs[2], "wb") as f:
        f.write(b"old")
    run("explain", TINY, fake, "--method", "saliency", "--save-map", outs[2])
    with open(outs[2], "rb") as f:
        check(f.read() == b"old", "a failed explain leaves an existing output untouched")
    os.remove(outs[2])


def test_kernel_selection(tmp):
    """OpenBLAS's generic Prescott kernel and the default (auto-selected) one agree."""
    p1, d1 = run_json("predict", RESNET, os.path.join(tmp, "rs.npy"))
    p2, d2 = run_json("predict", RESNET, os.path.join(tmp, "rs.npy"), env={"OPENBLAS_CORETYPE": "Prescott"})
    ok = p1.returncode == 0 and p2.returncode == 0 and d1 and d2
    if ok:
        r = rel_error(d2[0]["logits"], d1[0]["logits"])
        note(f"Prescott vs default kernel: relative difference {r:.3g}")
        ok = r <= 1e-5
    check(ok, "OPENBLAS_CORETYPE=Prescott vs default: logits within 1e-5 relative")
    # The re-exec path of cs_blas_select_kernel (forced on CPUs OpenBLAS knows): same answer.
    p3, d3 = run_json("predict", RESNET, os.path.join(tmp, "rs.npy"),
                      env={"CONVSCOPE_BLAS_ASSUME_MISDETECTED": "1"})
    check(p3.returncode == 0 and d1 and d3 and rel_error(d3[0]["logits"], d1[0]["logits"]) <= 1e-5,
          "kernel re-exec (CONVSCOPE_BLAS_ASSUME_MISDETECTED=1): same logits, exit 0")
    # On an AVX-512 CPU that OpenBLAS misdetects, the product's choice is an AVX-512 kernel.
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    if all(f" {x}" in flags for x in ("avx512f", "avx512bw", "avx512dq", "avx512vl")):
        env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        env["CONVSCOPE_BLAS_ASSUME_MISDETECTED"] = "1"
        p4 = subprocess.run([CLI, "--version"], capture_output=True, text=True, env=env, timeout=600)
        check(p4.returncode == 0 and ("SkylakeX" in p4.stdout or "Cooperlake" in p4.stdout),
              f"AVX-512 CPU, OpenBLAS misdetection assumed: an AVX-512 kernel ({p4.stdout.strip()})")
    v = run("--version", env={"OPENBLAS_CORETYPE": "Prescott"})
    check(v.returncode == 0 and "Prescott" in v.stdout, f"--version names the kernel: {v.stdout.strip()}")
    note(f"default: {run('--version').stdout.strip()}")


def main():
    tmp = tempfile.mkdtemp(prefix="cli-test-", dir=os.environ.get("CONVSCOPE_BUILD_DIR"))
    try:
        shape, x = npy_read(os.path.join(REF, "resnet-small.input.npy"))
        n = shape[1] * shape[2] * shape[3]
        npy_write(os.path.join(tmp, "rs.npy"), shape[1:], x[:n])
        for t in (test_inspect, test_predict, test_explain, test_bench, test_errors,
                  test_kernel_selection):
            taplib.group(t, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return taplib.done()


if __name__ == "__main__":
    sys.exit(main())
