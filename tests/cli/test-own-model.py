#!/usr/bin/python3
"""A user's own ImageNet model on the CLI (TAP): torchvision's ResNet-18 exported during the test
(tools/make-own-model-fixture.py). --preset imagenet gives PyTorch's prediction and ImageNet class
name, with one stderr note saying what the model sees; layers go by their PyTorch names
(--layer layer4.1.conv2) or the ONNX node names; labels.txt beside a model and the remembered
settings (<model>.convscope.json) are honoured; NaN weights and NaN outputs exit 1 with one line.

Usage: test-own-model.py CONVSCOPE_CLI. Runs the fixture script with Debian's /usr/bin/python3.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check, note  # noqa: E402
from clitest import SRC, run, run_json  # noqa: E402


def one_error(p, code, what):
    lines = p.stderr.splitlines()
    ok = p.returncode == code and p.stdout == "" and len(lines) == 1 \
        and lines[0].startswith("convscope-cli: error: ")
    if not ok:
        note(f"exit {p.returncode}, stderr {p.stderr!r}")
    return ok and what in lines[0]


def main():
    tmp = tempfile.mkdtemp(prefix="convscope-own-model-")
    try:
        gen = subprocess.run(["/usr/bin/python3", os.path.join(SRC, "tools", "make-own-model-fixture.py"),
                              tmp], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if gen.returncode != 0:
            print("1..1\nnot ok 1 - tools/make-own-model-fixture.py: " + gen.stderr[-300:].replace("\n", " "))
            return 1
        checks(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return taplib.done()


def checks(tmp):
    model, photo = os.path.join(tmp, "resnet18.onnx"), os.path.join(tmp, "photo.png")
    with open(os.path.join(tmp, "reference.json")) as f:
        ref = json.load(f)

    p, doc = run_json("predict", model, photo, "--preset", "imagenet", "--top", "5")
    top = doc[0]["top"] if doc else []
    check(p.returncode == 0 and top and top[0]["class"] == ref["class"]
          and top[0]["label"] == ref["label"] and abs(top[0]["probability"] - ref["probability"]) < 1e-4
          and [t["class"] for t in top] == ref["top5"],
          f"predict --preset imagenet: PyTorch's class {ref['class']} '{ref['label']}' "
          f"p={ref['probability']:.4f} (got {top[:1]})")
    notes = [ln for ln in p.stderr.splitlines() if ln.startswith("convscope-cli: note: ")]
    check(len(notes) == 1 and "resized to 341x256" in notes[0] and "centre-cropped to 224x224" in notes[0],
          f"one stderr note says the 320x240 photo is resized and cropped ({p.stderr.strip()!r})")
    p, doc = run_json("predict", model, photo)
    first = doc[0]["top"][0] if doc else {}
    check(p.returncode == 0 and first.get("label", str(first.get("class"))) == str(first.get("class")),
          "predict without preset or labels: no invented class name")

    p, doc = run_json("inspect", model)
    names = {n["name"]: n.get("alias") for n in doc["nodes"]} if doc else {}
    check(names.get("layer4.1.conv2") == "/layer4/layer4.1/conv2/Conv"
          and names.get("layer2.0.downsample.0") == "/layer2/layer2.0/downsample/downsample.0/Conv"
          and "fc" in names, "inspect: PyTorch module names, the ONNX node name as alias")
    for layer in ("layer4.1.conv2", "/layer4/layer4.1/conv2/Conv"):
        p, doc = run_json("explain", model, photo, "--preset", "imagenet", "--method", "gradcam",
                          "--layer", layer)
        check(p.returncode == 0 and doc and doc["layer"] == "layer4.1.conv2"
              and doc["label"] == ref["label"], f"explain --layer {layer}: Grad-CAM at layer4.1.conv2")

    # A labels.txt beside the model names its classes.
    lab = os.path.join(tmp, "labelled")
    os.makedirs(lab)
    shutil.copy(model, lab)
    with open(os.path.join(lab, "labels.txt"), "w") as f:
        f.write("".join(f"thing {i}\n" for i in range(1000)))
    p, doc = run_json("predict", os.path.join(lab, "resnet18.onnx"), photo)
    k = doc[0]["top"][0]["class"] if doc else -1
    check(p.returncode == 0 and doc[0]["top"][0]["label"] == f"thing {k}", "labels.txt beside the model is honoured")
    with open(os.path.join(lab, "labels.txt"), "w") as f:
        f.write("a\nb\n")
    check(one_error(run("predict", os.path.join(lab, "resnet18.onnx"), photo), 1, "labels.txt: 2 labels"),
          "labels.txt of the wrong length: exit 1, one line naming it")

    # Remembered settings: the app's sidecar applies to the CLI too.
    with open(model + ".convscope.json", "w") as f:
        json.dump({"format": "convscope-model-settings/1", "preset": "imagenet",
                   "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "resize": 256}, f)
    p, doc = run_json("predict", model, photo)
    check(p.returncode == 0 and doc and doc[0]["top"][0]["class"] == ref["class"]
          and doc[0]["top"][0]["label"] == ref["label"], "the model's .convscope.json sidecar is used")
    with open(model + ".convscope.json", "w") as f:
        f.write('{"format": "convscope-model-settings/1", "mean": [0.5], "std": [0]}')
    check(one_error(run("predict", model, photo), 1, "convscope.json"), "a bad sidecar: exit 1, one line naming it")
    os.unlink(model + ".convscope.json")

    # test:N / train:N: examples of the data set a run records (the demo, trained by `train`).
    demo = os.path.join(SRC, "data", "demo")
    p, doc = run_json("predict", demo, "test:0", "train:3")
    check(p.returncode == 0 and doc and [d["input"] for d in doc] == ["test:0", "train:3"]
          and all(d["top"][0]["label"] for d in doc), "predict RUN test:0 train:3: the run's own examples")
    for cmd in (["explain", demo, "test:2", "--method", "gradcam"],
                ["compare", demo, "test:2", "--methods", "saliency,gradcam", "--out", os.path.join(tmp, "s.png")],
                ["evaluate", demo, "test:2", "--methods", "saliency", "--metric", "deletion"]):
        p = run(*cmd)
        check(p.returncode == 0, f"{cmd[0]} RUN test:2 (exit {p.returncode}, {p.stderr.strip()[:200]!r})")
    logged = os.path.join(tmp, "logged-run")
    p, doc = run_json("predict", logged, "test:7")
    check(p.returncode == 0 and doc and doc[0]["input"] == "test:7"
          and doc[0]["top"][0]["label"] in ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                            "Shirt", "Sneaker", "Bag", "Ankle boot"),
          "predict on a run logged from PyTorch (tools/convscope_logger.py): test:7 of Fashion-MNIST")
    check(one_error(run("predict", demo, "test:10000"), 1, "has 10000 examples"),
          "test:N beyond the split: exit 1, one line with the split's size")
    check(one_error(run("predict", model, "test:0"), 2, "need a run"),
          "test:N with a bare model: exit 2, one line")

    # Non-finite weights and outputs.
    nan = os.path.join(tmp, "nan.onnx")
    for cmd in (["predict", nan, photo], ["explain", nan, photo, "--method", "saliency"], ["inspect", nan]):
        p = run(*cmd)
        check(one_error(p, 1, "3 of the 36864 values") and "layer1.0.conv1" in p.stderr and "nan" not in p.stdout,
              f"{cmd[0]} on NaN weights: exit 1, one line naming the tensor and the count")
    big = os.path.join(tmp, "big.npy")
    with open(big, "wb") as f:  # a (3,224,224) float32 input of 3e38: the forward overflows
        header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 224, 224), }"
        header += " " * (117 - len(header)) + "\n"
        f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
        f.write(b"\x99\x76\x7f\x7f" * (3 * 224 * 224))
    p = run("predict", model, big)
    check(one_error(p, 1, "NaN or infinite"), "predict with an overflowing input: exit 1, no NaN printed")


if __name__ == "__main__":
    sys.exit(main())
