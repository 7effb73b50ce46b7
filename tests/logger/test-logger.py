#!/usr/bin/python3
"""tools/convscope_logger.py end to end (TAP): the safetensors writer, the ONNX export's names,
a short seeded PyTorch run logged with RunLogger, and that run read back by convscope-cli
(inspect, predict at epochs 0 and 3 against PyTorch's logits, run-info).

argv[1]: the convscope-cli executable.
"""

import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("CONVSCOPE_SOURCE_DIR", os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE, "tools"))
sys.path.insert(0, os.path.join(HERE, ".."))

import taplib  # noqa: E402
from taplib import check, skip  # noqa: E402

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:
    print("1..0 # SKIP needs torch and numpy (Debian: python3-torch): %s" % e)
    sys.exit(0)

import convscope_logger as cl


def read_safetensors(path):
    """An independent reader: {name: (dtype, shape, raw bytes)}, checking the layout rules."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    spans = sorted(tuple(v["data_offsets"]) for v in header.values())
    contiguous = all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    covered = (spans[0][0] == 0 and spans[-1][1] == len(body)) if spans else len(body) == 0
    out = {k: (v["dtype"], v["shape"], body[v["data_offsets"][0]:v["data_offsets"][1]])
           for k, v in header.items()}
    return out, (8 + n) % 8 == 0, contiguous and covered


def test_safetensors(tmp):
    g = torch.Generator().manual_seed(7)
    tensors = {
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 3),
        "odd": torch.randn(7, generator=g),                       # 28 bytes: misaligns the rest
        "five_d": torch.randn(2, 1, 3, 1, 5, generator=g),
        "strided": torch.randn(4, 6, generator=g).t(),           # not contiguous
        "f64": torch.randn(3, 3, generator=g, dtype=torch.float64),
        "f16": torch.randn(5, generator=g).half(),
        "bf16": torch.randn(5, generator=g).bfloat16(),
        "steps": torch.tensor(12345678901, dtype=torch.int64),
        "i32": torch.arange(-3, 2, dtype=torch.int32),
        "mask": torch.tensor([True, False, True]),
        "bytes": torch.arange(5, dtype=torch.uint8),
        "np": np.arange(6, dtype=np.float32).reshape(2, 3),
        "unicode.é": torch.ones(2),
    }
    path = os.path.join(tmp, "t.safetensors")
    cl.save_safetensors(tensors, path)
    back, aligned, packed = read_safetensors(path)
    check(aligned, "safetensors: the data starts 8-byte aligned")
    check(packed, "safetensors: data_offsets are back to back and cover the data")
    check(set(back) == set(tensors), "safetensors: every tensor is in the header")
    expect = {"I64": ("<i8", torch.int64), "I32": ("<i4", torch.int32),
              "BOOL": ("?", torch.bool), "U8": ("u1", torch.uint8), "F32": ("<f4", None)}
    ok = True
    for name, t in tensors.items():
        t = torch.as_tensor(t)
        dtype, shape, raw = back[name]
        np_dtype, keep = expect.get(dtype, (None, None))
        want_dtype = keep if keep is not None else torch.float32
        if np_dtype is None or list(t.shape) != shape or (t.is_floating_point() != (dtype == "F32")):
            ok = False
            print("# %s: dtype %s shape %s" % (name, dtype, shape))
            continue
        got = torch.from_numpy(np.frombuffer(raw, np_dtype).copy().reshape(shape))
        if not torch.equal(got, t.to(want_dtype)):
            ok = False
            print("# %s: values differ" % name)
    check(ok, "safetensors: odd shapes and dtypes round-trip (floats as F32, ints as themselves)")
    check(not [f for f in os.listdir(tmp) if f.endswith(".tmp")],
          "safetensors: no temporary file left behind")
    try:
        cl.save_safetensors({"c": torch.zeros(2, dtype=torch.complex64)}, path)
        check(False, "safetensors: a complex tensor is refused")
    except TypeError as e:
        check("'c'" in str(e), "safetensors: a complex tensor is refused, naming it")
    check(read_safetensors(path)[0].keys() == back.keys(),
          "safetensors: a refused write leaves the old file")


class TinyCNN(nn.Module):
    """Odd sizes on purpose (5 and 6 channels, 7 classes), BN with and without conv bias,
    dropout, and a view() flatten (Shape/Gather arithmetic in the ONNX graph)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 5, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(5)
        self.conv2 = nn.Conv2d(5, 6, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(6)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(6 * 3 * 3, 7)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = torch.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2)
        return self.fc(self.drop(x.view(x.size(0), -1)))


def logits_of(model, x):
    was = model.training
    model.eval()
    with torch.no_grad():
        y = model(x).numpy().astype(np.float64)
    model.train(was)
    return y


def train_run(run_dir):
    """3 short epochs on seeded synthetic data; returns {epoch: logits on probe inputs}."""
    torch.manual_seed(0)
    n, classes = 512, 7
    labels = torch.randint(0, classes, (n,))
    templates = torch.randn(classes, 3, 12, 12)
    data = templates[labels] + 0.8 * torch.randn(n, 3, 12, 12)
    train_x, train_y, val_x, val_y = data[:384], labels[:384], data[384:], labels[384:]
    probe = data[:4].clone()
    model = TinyCNN()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    log = cl.RunLogger(run_dir, model, probe[:1],
                       classes=["class %d" % k for k in range(classes)],
                       mean=[0.5, 0.25, 0.125], std=[0.5, 1.0, 2.0],
                       dataset={"name": "synthetic", "train_size": 384, "val_size": 128},
                       train={"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "batch": 32,
                              "seed": 0})
    logits = {0: logits_of(model, probe)}
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, 4):
        model.train()
        perm = torch.randperm(len(train_x))
        total, right = 0.0, 0
        for i in range(0, len(perm), 32):
            idx = perm[i:i + 32]
            out = model(train_x[idx])
            loss = loss_fn(out, train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            right += (out.argmax(1) == train_y[idx]).sum().item()
        model.eval()
        with torch.no_grad():
            vo = model(val_x)
            val_loss = loss_fn(vo, val_y)
            val_acc = (vo.argmax(1) == val_y).float().mean()
        log.log_epoch(epoch, train_loss=total / len(train_x), train_accuracy=right / len(train_x),
                      val_loss=val_loss, val_accuracy=val_acc,
                      learning_rate=opt.param_groups[0]["lr"])
        logits[epoch] = logits_of(model, probe)
    return model, log, probe, logits


def test_run_files(run_dir, model, log):
    with open(os.path.join(run_dir, "run.json")) as f:
        run = json.load(f)
    check(run["format"] == "convscope-run/1" and run["model"] == "model.onnx"
          and run["name"] == os.path.basename(run_dir),
          "run.json: format, model and name (the directory's)")
    check(len(run["created"]) == 20 and run["created"].endswith("Z") and run["created"][10] == "T",
          "run.json: created is ISO 8601 UTC")
    check(run["input"] == {"channels": 3, "height": 12, "width": 12,
                           "mean": [0.5, 0.25, 0.125], "std": [0.5, 1.0, 2.0]},
          "run.json: input size and normalisation")
    check(run["classes"] == ["class %d" % k for k in range(7)] and run["dataset"]["name"] == "synthetic"
          and run["train"]["seed"] == 0, "run.json: classes, dataset, train")
    eps = run["epochs"]
    keys = ["epoch", "checkpoint", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
            "learning_rate", "seconds"]
    check([e["epoch"] for e in eps] == [0, 1, 2, 3] and all(list(e) == keys for e in eps),
          "run.json: epochs 0 to 3 with every metric field")
    check(all(eps[0][k] is None for k in keys[2:]), "run.json: epoch 0 (the initialisation) has "
          "null metrics")
    check(all(isinstance(e[k], float) for e in eps[1:] for k in keys[2:])
          and all(0 <= e[k] <= 1 for e in eps[1:] for k in ("train_accuracy", "val_accuracy")),
          "run.json: epochs 1 to 3 have numeric metrics, accuracies in [0, 1]")
    check(all(os.path.isfile(os.path.join(run_dir, e["checkpoint"]))
              and e["checkpoint"] == "checkpoints/epoch-%04d.safetensors" % e["epoch"] for e in eps),
          "run.json: every checkpoint exists under its contract name")
    leftovers = [f for d in (run_dir, os.path.join(run_dir, "checkpoints"))
                 for f in os.listdir(d) if f.endswith(".tmp")]
    check(not leftovers, "no temporary file left in the run directory")

    state = model.state_dict()
    back, aligned, packed = read_safetensors(os.path.join(run_dir, eps[-1]["checkpoint"]))
    check(aligned and packed and set(back) == set(state),
          "last checkpoint: a valid safetensors file holding exactly the state_dict")
    ok = all(back[k][0] == "F32" and np.array_equal(
        np.frombuffer(back[k][2], "<f4").reshape(back[k][1]), v.numpy())
        for k, v in state.items() if v.is_floating_point())
    check(ok, "last checkpoint: float tensors (BN running stats included) equal the model's, F32")
    check(back["bn1.num_batches_tracked"][0] == "I64"
          and np.frombuffer(back["bn1.num_batches_tracked"][2], "<i8")[0] == 3 * 12,
          "last checkpoint: num_batches_tracked kept as I64")

    try:
        import onnx
    except ImportError:
        skip("model.onnx: initializer names are the state_dict's", "no onnx package")
        return
    proto = onnx.load(os.path.join(run_dir, "model.onnx"))
    onnx.checker.check_model(proto)
    inits = {i.name: i for i in proto.graph.initializer}
    floats = {k for k, v in state.items() if v.is_floating_point()}
    missing = sorted(floats - set(inits))
    extra = sorted(k for k, i in inits.items()
                   if i.data_type == onnx.TensorProto.FLOAT and k not in floats)
    if missing or extra:
        print("# not initializers: %s; initializers not in the state_dict: %s" % (missing, extra))
    check(not missing and not extra, "model.onnx: float initializers are exactly the state_dict's "
          "floats, by name (BN neither folded nor deduplicated)")
    check(proto.opset_import[0].version == 13 and proto.graph.input[0].name == "input"
          and proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param != "",
          "model.onnx: opset 13, input \"input\" with a dynamic batch")
    ours = cl.onnx_initializers(open(os.path.join(run_dir, "model.onnx"), "rb").read())
    check({k: (v[0], v[1]) for k, v in ours.items()}
          == {k: (i.data_type, list(i.dims)) for k, i in inits.items()},
          "the logger's protobuf reader agrees with the onnx package")
    check(not log._constants and not log._extra and not log.unused,
          "the logger found nothing to patch up in the export")


def run_cli(cli, *args):
    p = subprocess.run([cli] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        print("# %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()))
    return p


def test_cli(cli, tmp, run_dir, probe, logits):
    p = run_cli(cli, "inspect", run_dir)
    check(p.returncode == 0 and "conv1" in p.stdout, "convscope-cli inspect RUN")
    p = run_cli(cli, "inspect", run_dir, "--json")
    ok = p.returncode == 0
    if ok:
        info = json.loads(p.stdout)
        ok = any(n.get("op") for n in info["nodes"]) and info["parameters"] > 0
    check(ok, "convscope-cli inspect RUN --json")

    paths = []
    for i in range(len(probe)):
        paths.append(os.path.join(tmp, "x%d.npy" % i))
        np.save(paths[-1], probe[i].numpy().astype(np.float32))     # (C, H, W)
    for epoch, extra in ((0, ["--epoch", "0"]), (3, ["--epoch", "3"]), (3, [])):
        p = run_cli(cli, "predict", run_dir, *paths, "--json", *extra)
        what = "predict RUN x.npy --json %s= PyTorch's logits of epoch %d within 1e-4" % (
            " ".join(extra) + " " if extra else "(default: the last epoch) ", epoch)
        if p.returncode != 0:
            check(False, what)
            continue
        got = np.array([r["logits"] for r in json.loads(p.stdout)], dtype=np.float64)
        want = logits[epoch]
        err = np.abs(got - want).max() / max(1.0, np.abs(want).max()) if got.shape == want.shape \
            else float("inf")
        print("# epoch %d: relative error %.3g" % (epoch, err))
        check(err <= 1e-4, what)
    check(np.abs(logits[3] - logits[0]).max() > 1e-2, "training moved the logits (the epochs "
          "are not interchangeable)")

    p = run_cli(cli, "run-info", run_dir, "--json")
    ok = p.returncode == 0
    if ok:
        info = json.loads(p.stdout)
        layers = {l["name"]: l for l in info["layers"]}
        ok = ([e["epoch"] for e in info["epochs"]] == [0, 1, 2, 3]
              and abs(info["epochs"][3]["val_loss"] - json.load(
                  open(os.path.join(run_dir, "run.json")))["epochs"][3]["val_loss"]) < 1e-9
              and len(layers) > 0 and all(len(l["norm"]) == 4 for l in layers.values())
              and "overfitting" in info)
        if not ok:
            print("# run-info: %s" % p.stdout[:2000])
    check(ok, "convscope-cli run-info RUN --json: 4 epochs, per-layer statistics")
    p = run_cli(cli, "run-info", run_dir)
    check(p.returncode == 0, "convscope-cli run-info RUN (text)")


def test_errors(tmp, run_dir):
    try:
        cl.RunLogger(run_dir, TinyCNN(), torch.zeros(1, 3, 12, 12))
        check(False, "an existing run is not overwritten by default")
    except FileExistsError:
        check(True, "an existing run is not overwritten by default")
    try:
        cl.RunLogger(os.path.join(tmp, "bad"), TinyCNN(), torch.zeros(1, 3, 12, 12),
                     classes=["a", "b"])
        check(False, "classes must match the model's outputs")
    except ValueError as e:
        check("7 outputs" in str(e), "classes must match the model's outputs")
    try:
        cl.RunLogger(os.path.join(tmp, "bad"), TinyCNN(), torch.zeros(1, 3, 12, 12),
                     mean=[0.5, 0.5])
        check(False, "mean must have one value per channel")
    except ValueError:
        check(True, "mean must have one value per channel")

    class FoldMe(nn.Module):
        """A freshly initialised BN (weight = running_var = 1, bias = running_mean = 0) that
        PyTorch's eval-mode export would fold into the conv or deduplicate."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.bn = nn.BatchNorm2d(2)
            self.fc = nn.Linear(2, 3)

        def forward(self, x):
            return self.fc(self.bn(self.conv(x)).mean((2, 3)))

    m = FoldMe()
    m.train()
    d = os.path.join(tmp, "fold")
    rng = torch.get_rng_state()
    log = cl.RunLogger(d, m, torch.zeros(1, 1, 5, 5), overwrite=True)
    check(torch.equal(rng, torch.get_rng_state()), "creating a logger consumes no random numbers")
    inits = cl.onnx_initializers(open(os.path.join(d, "model.onnx"), "rb").read())
    check({"bn.running_mean", "bn.running_var", "bn.weight", "bn.bias"} <= set(inits)
          and m.training and m.bn.training and not log.unused,
          "fresh BN keeps its four tensors by name; the model's train mode is restored")
    log.log_epoch(0, val_loss=1.5)
    run = json.load(open(os.path.join(d, "run.json")))
    check(len(run["epochs"]) == 1 and run["epochs"][0]["val_loss"] == 1.5,
          "logging epoch 0 again replaces its entry")
    try:
        log.log_epoch(-1)
        check(False, "epochs must not go back")
    except ValueError:
        check(True, "epochs must not go back")
    cl.RunLogger(d, m, torch.zeros(1, 1, 5, 5), overwrite=True)
    run = json.load(open(os.path.join(d, "run.json")))
    check(len(run["epochs"]) == 1 and run["epochs"][0]["val_loss"] is None,
          "overwrite=True starts a fresh run")


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else ""
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="convscope-logger-") as tmp:
        test_safetensors(tmp)
        run_dir = os.path.join(tmp, "tiny-run")
        model, log, probe, logits = train_run(run_dir)
        test_run_files(run_dir, model, log)
        check(bool(cli) and os.access(cli, os.X_OK), f"convscope-cli is built ({cli!r})")
        if cli and os.access(cli, os.X_OK):
            test_cli(cli, tmp, run_dir, probe, logits)
        test_errors(tmp, run_dir)
    return taplib.done(need_tests=False)


if __name__ == "__main__":
    sys.exit(main())
