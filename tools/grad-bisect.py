#!/usr/bin/python3
"""Locates where Convscope's gradients leave PyTorch's, node by node, on one ONNX model.

Usage: grad-bisect.py MODEL.onnx INPUT.npy TARGET.npy DUMPDIR [--all]
where DUMPDIR was written by `build/tests/reference/dump-grads MODEL INPUT TARGET DUMPDIR`
(every node's activation and gradient after back-propagating the one-hot seed on TARGET, as
tests/reference does). Run with Debian's /usr/bin/python3 (python3-torch).

The ONNX graph itself is interpreted in torch (float64, and float32 for comparison), so each of
our nodes is matched by name to the same computation. A deep net's float32 forward error can
flip a ReLU/Clip decision whose pre-activation is within ~1e-5 of the kink; one flip near the
output changes the gradient everywhere below it. So the float64 backward is also run a second
time with OUR activation decisions ("f64|ours"): if our gradients match that, every backward
op is right and the gap is float32 rounding in the forward; if not, the listed node nearest
the output (highest id) diverges first: the op consuming it is the one whose backward is wrong.
Max-pool argmax choices are not replayed (a flip there shows up as a divergence at the pool).
"""

import argparse
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def tensor(array, dtype):
    return torch.tensor(array, dtype=dtype) if array.dtype.kind == "f" else torch.tensor(array)


def kink_mask(op, x):
    """Where ReLU / Clip(0, 6) pass the gradient (PyTorch's rule: strictly inside)."""
    return (x > 0) & (x < 6) if op == "Clip" else x > 0


def run_onnx(model, x, target, dtype, decisions=None):
    """Runs the graph with autograd; returns {node name: output tensor with .grad}.
    decisions: {Relu/Clip node name: bool mask} replaces their backward gating."""
    env = {t.name: tensor(numpy_helper.to_array(t), dtype) for t in model.graph.initializer}
    xin = torch.tensor(x, dtype=dtype, requires_grad=True)
    env[model.graph.input[0].name] = xin
    outs = {"input": xin}
    for n in model.graph.node:
        a = {k.name: onnx.helper.get_attribute_value(k) for k in n.attribute}
        i = [env[name] if name else None for name in n.input]
        y = apply_op(n.op_type, a, i, dtype)
        if decisions is not None and n.name in decisions:
            gate = torch.tensor(decisions[n.name]).reshape(y.shape).to(dtype)
            y = y.detach() + (i[0] - i[0].detach()) * gate
        if y.is_floating_point() and y.requires_grad:
            y.retain_grad()
            outs[n.name] = y
        env[n.output[0]] = y
    logits = env[model.graph.output[0].name]
    logits.gather(1, target[:, None]).sum().backward()
    return outs


def apply_op(op, a, i, dtype):
    if op == "Constant":
        return tensor(numpy_helper.to_array(a["value"]), dtype)
    if op == "Conv":
        p = a.get("pads", [0, 0, 0, 0])
        if p[0] != p[2] or p[1] != p[3]:
            raise NotImplementedError("asymmetric Conv pads")
        return F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, a.get("strides", [1, 1]),
                        (p[0], p[1]), a.get("dilations", [1, 1]), a.get("group", 1))
    if op in ("MaxPool", "AveragePool"):
        p = a.get("pads", [0, 0, 0, 0])
        f = F.max_pool2d if op == "MaxPool" else F.avg_pool2d
        kw = {} if op == "MaxPool" else {"count_include_pad": bool(a.get("count_include_pad", 0))}
        return f(i[0], a["kernel_shape"], a.get("strides"), (p[0], p[1]),
                 ceil_mode=bool(a.get("ceil_mode", 0)), **kw)
    if op == "BatchNormalization":
        return F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
    if op == "Relu":
        return F.relu(i[0])
    if op == "Clip":  # torchvision's ReLU6 is hardtanh: gradient 0 at the bounds
        return F.hardtanh(i[0], float(i[1]), float(i[2]))
    if op == "Sigmoid":
        return torch.sigmoid(i[0])
    if op == "HardSigmoid":
        return torch.clamp(a.get("alpha", 0.2) * i[0] + a.get("beta", 0.5), 0, 1)
    if op == "HardSwish":
        return F.hardswish(i[0])
    if op == "Add":
        return i[0] + i[1]
    if op == "Sub":
        return i[0] - i[1]
    if op == "Mul":
        return i[0] * i[1]
    if op == "Div":
        return i[0] / i[1] if i[0].is_floating_point() else torch.div(i[0], i[1], rounding_mode="floor")
    if op == "Shape":
        return torch.tensor(i[0].shape, dtype=torch.int64)
    if op == "Gather":
        idx = i[1]
        y = torch.index_select(i[0], a.get("axis", 0), idx.reshape(-1))
        return y.reshape(idx.shape) if idx.dim() == 0 else y
    if op == "Unsqueeze":
        y = i[0]
        for ax in sorted(i[1].tolist()):
            y = y.unsqueeze(ax)
        return y
    if op == "Cast":
        return i[0].to(torch.int64) if a["to"] == onnx.TensorProto.INT64 else i[0].to(dtype)
    if op == "Concat":
        return torch.cat(i, a["axis"])
    if op == "Reshape":
        shape = [d if d != 0 else i[0].shape[k] for k, d in enumerate(i[1].tolist())]
        return i[0].reshape(shape)
    if op == "Flatten":
        return i[0].flatten(a.get("axis", 1))
    if op == "Transpose":
        return i[0].permute(a["perm"])
    if op == "Slice":
        starts, ends = i[1].tolist(), i[2].tolist()
        axes = i[3].tolist() if len(i) > 3 and i[3] is not None else list(range(len(starts)))
        y = i[0]
        for s, e, ax in zip(starts, ends, axes):
            e = min(e, y.shape[ax])
            y = y.narrow(ax, s, e - s)
        return y
    if op == "ReduceMean":
        return i[0].mean(dim=a["axes"], keepdim=bool(a.get("keepdims", 1)))
    if op == "GlobalAveragePool":
        return i[0].mean(dim=(2, 3), keepdim=True)
    if op == "Gemm":
        w = i[1].t() if a.get("transB", 0) else i[1]
        return a.get("alpha", 1.0) * (i[0] @ w) + (a.get("beta", 1.0) * i[2] if len(i) > 2 else 0)
    raise NotImplementedError(op)


def rel(a, b):
    """max|a - b| / max|b|, as tests/reference reports it."""
    return float(np.abs(a - b).max() / max(float(np.abs(b).max()), 1e-300))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("target")
    ap.add_argument("dump")
    ap.add_argument("--all", action="store_true", help="list every node, not only the divergent")
    args = ap.parse_args()

    model = onnx.load(args.model)
    x = np.load(args.input)
    target = torch.tensor(np.load(args.target)).long()
    manifest = [line.rstrip("\n").split("\t") for line in open(args.dump + "/manifest.tsv")]
    name_of = {int(f[0]): f[1] for f in manifest}
    ours_v = lambda k: np.load("%s/v%d.npy" % (args.dump, k))
    ours_g = lambda k: np.load("%s/g%d.npy" % (args.dump, k))

    r64 = run_onnx(model, x, target, torch.float64)
    r32 = run_onnx(model, x, target, torch.float32)

    # Our activation decisions, and where they differ from float64's.
    decisions, flips = {}, []
    for f in manifest:
        if f[2] not in ("Relu", "Clip") or f[1] not in r64:
            continue
        src = int(f[3].split(",")[0])
        v = ours_v(src)
        ref = r64[name_of[src] if src else "input"].detach().numpy().reshape(v.shape)
        mine, true = kink_mask(f[2], v), kink_mask(f[2], ref)
        decisions[f[1]] = mine
        for k in zip(*np.nonzero(mine != true)):
            v32 = r32[name_of[src]].detach().numpy().reshape(v.shape)[k]
            flips.append((f[1], k, v[k], ref[k], v32))
    rm = run_onnx(model, x, target, torch.float64, decisions)

    print("%5s %-56s %-10s %10s %10s %10s %10s %10s" % ("id", "node", "op", "grad:f64", "f64|ours",
                                                     "torch32", "value", "torch32"))
    for f in manifest:
        k, name = int(f[0]), f[1]
        if name != "input" and name not in r64:
            continue
        t64, t32, tm = r64[name], r32[name], rm[name]
        if t64.grad is None:
            continue
        g64 = t64.grad.numpy()
        g, v = ours_g(k).reshape(g64.shape), ours_v(k).reshape(g64.shape)
        e64, em, e32 = rel(g, g64), rel(g, tm.grad.numpy()), rel(t32.grad.double().numpy(), g64)
        if args.all or em > 1e-4:
            print("%5d %-56s %-10s %10.3g %10.3g %10.3g %10.3g %10.3g"
                  % (k, name[-56:], f[2], e64, em, e32, rel(v, t64.detach().numpy()),
                     rel(t32.detach().double().numpy(), t64.detach().numpy())))
    print("\nactivation decisions that differ from float64's: %d" % len(flips))
    for name, k, v, v64, v32 in flips:
        print("  %s %s: ours %.4g, float64 %.4g, torch float32 %.4g" % (name, k, v, v64, v32))
    gin = ours_g(0).reshape(x.shape)
    print("\ninput gradient vs float64:                 %.3g" % rel(gin, r64["input"].grad.numpy()))
    print("input gradient vs float64, our decisions:  %.3g" % rel(gin, rm["input"].grad.numpy()))
    print("torch float32 (this graph) vs float64:     %.3g"
          % rel(r32["input"].grad.double().numpy(), r64["input"].grad.numpy()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
