#!/usr/bin/python3
"""PyTorch reference attributions for tests/attribution/test-reference-methods.c.

Two small seeded models (a plain CNN on 1x28x28, a residual net with batch norm and a stride-2
stage on 3x32x32), briefly trained on synthetic data so their predictions are not degenerate,
exported to ONNX (opset 13), one fixed input each, and for each of the thirteen methods the raw
attribution and the displayed map exactly as docs/methods.md defines --save-raw / --save-map.

Every method is written here from its paper following docs/methods.md (no captum, no pytorch-grad-cam),
in float64 from the float32 weights and input, so the references carry no float32 rounding.

Run: /usr/bin/python3 tools/make-attribution-reference.py [--out tests/attribution/data]
"""

import argparse
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_CLASSES = 10

# --------------------------------------------------------------------------------------------
# ReLU rules: one ReLU module whose backward follows the rule of the method being computed.
# Guided backprop (Springenberg 2014): dy * (x > 0) * (dy > 0); deconvnet (Zeiler 2014): the
# backward ReLU applied to dy alone, dy * (dy > 0); otherwise the true gradient dy * (x > 0).

RULE = {"mode": "gradient"}


class _GuidedReLU (torch.autograd.Function):
    @staticmethod
    def forward (ctx, x):
        ctx.save_for_backward (x)
        return x.clamp (min=0)

    @staticmethod
    def backward (ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * (x > 0).to (dy.dtype) * (dy > 0).to (dy.dtype)


class _DeconvReLU (torch.autograd.Function):
    @staticmethod
    def forward (ctx, x):
        return x.clamp (min=0)

    @staticmethod
    def backward (ctx, dy):
        return dy.clamp (min=0)


class RuleReLU (nn.Module):
    def forward (self, x):
        if RULE["mode"] == "guided":
            return _GuidedReLU.apply (x)
        if RULE["mode"] == "deconvnet":
            return _DeconvReLU.apply (x)
        return F.relu (x)


# --------------------------------------------------------------------------------------------
# Models: features() ends at the CAM layer (the last node with a spatial output), head() maps
# it to the logits, so CAM methods read the activation and its gradient directly.

class PlainCNN (nn.Module):
    """conv-relu-maxpool-conv-relu-linear on 1x28x28."""

    def __init__ (self):
        super ().__init__ ()
        self.conv1 = nn.Conv2d (1, 8, 3, padding=1)
        self.relu1 = RuleReLU ()
        self.pool = nn.MaxPool2d (2)
        self.conv2 = nn.Conv2d (8, 8, 3, padding=1)
        self.relu2 = RuleReLU ()
        self.fc = nn.Linear (8 * 14 * 14, N_CLASSES)

    def features (self, x):
        return self.relu2 (self.conv2 (self.pool (self.relu1 (self.conv1 (x)))))

    def head (self, a):
        return self.fc (torch.flatten (a, 1))

    def forward (self, x):
        return self.head (self.features (x))


class Block (nn.Module):
    def __init__ (self, cin, cout, stride):
        super ().__init__ ()
        self.conv1 = nn.Conv2d (cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d (cout)
        self.relu1 = RuleReLU ()
        self.conv2 = nn.Conv2d (cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d (cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential (nn.Conv2d (cin, cout, 1, stride=stride, bias=False),
                                           nn.BatchNorm2d (cout))
        self.relu2 = RuleReLU ()

    def forward (self, x):
        y = self.bn2 (self.conv2 (self.relu1 (self.bn1 (self.conv1 (x)))))
        return self.relu2 (y + (x if self.shortcut is None else self.shortcut (x)))


class SmallResNet (nn.Module):
    """stem conv-bn-relu, an identity block at 32x32, a stride-2 block to 16x16, GAP, linear."""

    def __init__ (self):
        super ().__init__ ()
        self.conv = nn.Conv2d (3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d (8)
        self.relu = RuleReLU ()
        self.block1 = Block (8, 8, 1)
        self.block2 = Block (8, 16, 2)
        self.fc = nn.Linear (16, N_CLASSES)

    def features (self, x):
        return self.block2 (self.block1 (self.relu (self.bn (self.conv (x)))))

    def head (self, a):
        return self.fc (torch.flatten (F.adaptive_avg_pool2d (a, 1), 1))

    def forward (self, x):
        return self.head (self.features (x))


# --------------------------------------------------------------------------------------------
# Synthetic data: class k is a bright blob at one of ten places (and, in colour, of one of ten
# hues) on noise, so a trained model looks at a place and the attributions have something to
# find.

def synthetic (n, c, h, w, gen):
    labels = torch.randint (0, N_CLASSES, (n,), generator=gen)
    yy, xx = torch.meshgrid (torch.arange (h, dtype=torch.float32),
                             torch.arange (w, dtype=torch.float32), indexing="ij")
    x = 0.3 * torch.randn (n, c, h, w, generator=gen)
    for i in range (n):
        k = int (labels[i])
        cy = h * (0.25 + 0.5 * (k % 3) / 2) + float (torch.randn (1, generator=gen)) * 1.5
        cx = w * (0.2 + 0.6 * (k // 3) / 3) + float (torch.randn (1, generator=gen)) * 1.5
        blob = torch.exp (-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (h / 10) ** 2))
        for ch in range (c):
            hue = 1.0 if c == 1 else 0.5 + 0.5 * math.cos (2 * math.pi * (k / N_CLASSES + ch / 3))
            x[i, ch] += 1.5 * hue * blob
    return x, labels


def train (model, c, h, w, seed, steps=150):
    gen = torch.Generator ().manual_seed (seed)
    opt = torch.optim.Adam (model.parameters (), lr=3e-3)
    model.train ()
    for step in range (steps):
        x, y = synthetic (64, c, h, w, gen)
        loss = F.cross_entropy (model (x), y)
        opt.zero_grad ()
        loss.backward ()
        opt.step ()
    model.eval ()
    x, y = synthetic (256, c, h, w, gen)
    with torch.no_grad ():
        acc = float ((model (x).argmax (1) == y).double ().mean ())
    return acc


# --------------------------------------------------------------------------------------------
# Methods (docs/methods.md). x is [1,C,H,W] float64; the score is the target's
# logit unless said otherwise.

def input_grad (model, x, target, mode="gradient"):
    """d logit_target / d x for every row of x (rows are independent)."""
    RULE["mode"] = mode
    try:
        x = x.detach ().clone ().requires_grad_ (True)
        model (x)[:, target].sum ().backward ()
        return x.grad.detach ()
    finally:
        RULE["mode"] = "gradient"


def batched_grad (model, xs, target, chunk=500):
    return torch.cat ([input_grad (model, xs[i:i + chunk], target)
                       for i in range (0, xs.shape[0], chunk)])


def pixel_map (raw, reduce):
    """Channels reduced by max|.| ("max") or sum|.| ("sum"), scaled by the 99th percentile
    (numpy's default, linear interpolation between order statistics), clipped to [0,1]."""
    r = np.abs (raw)
    r = r.max (axis=0) if reduce == "max" else r.sum (axis=0)
    p = float (np.percentile (r, 99))
    if p <= 0:
        p = float (r.max ())
    if p <= 0:
        return np.zeros_like (r)
    return np.clip (r / p, 0.0, 1.0)


def minmax (m):
    lo, hi = float (m.min ()), float (m.max ())
    if hi <= lo:
        return np.zeros_like (m)
    return (m - lo) / (hi - lo)


def upsample (m, h, w):
    """Bilinear, half-pixel centres (align_corners=False); m is (h',w')."""
    return F.interpolate (m[None, None], size=(h, w), mode="bilinear", align_corners=False)[0, 0]


def saliency (model, x, t, prm):
    raw = input_grad (model, x, t)[0]
    return raw, pixel_map (raw.numpy (), "max")


def guided_backprop (model, x, t, prm):
    raw = input_grad (model, x, t, "guided")[0]
    return raw, pixel_map (raw.numpy (), "max")


def deconvnet (model, x, t, prm):
    raw = input_grad (model, x, t, "deconvnet")[0]
    return raw, pixel_map (raw.numpy (), "max")


def gradient_x_input (model, x, t, prm):
    raw = (x * input_grad (model, x, t))[0]
    return raw, pixel_map (raw.numpy (), "sum")


def smoothgrad (model, x, t, prm):
    gen = torch.Generator ().manual_seed (prm["torch_seed"])
    sigma = prm["noise"] * float (x.max () - x.min ())
    noisy = x + sigma * torch.randn ((prm["samples"],) + tuple (x.shape[1:]), generator=gen,
                                     dtype=x.dtype)
    raw = batched_grad (model, noisy, t).mean (0)
    return raw, pixel_map (raw.numpy (), "max")


def integrated_gradients (model, x, t, prm):
    steps = prm["steps"]
    base = torch.zeros_like (x)
    alphas = (torch.arange (steps, dtype=x.dtype) + 0.5) / steps
    pts = base + alphas[:, None, None, None] * (x - base)
    raw = ((x - base)[0] * batched_grad (model, pts, t).mean (0))
    return raw, pixel_map (raw.numpy (), "sum")


def cam_inputs (model, x, t):
    """The CAM layer's activation A (K,h,w) and g = dS/dA."""
    a = model.features (x).detach ().requires_grad_ (True)
    model.head (a)[0, t].backward ()
    return a.detach ()[0], a.grad.detach ()[0]


def cam_out (raw, x):
    return raw, minmax (upsample (raw, x.shape[2], x.shape[3]).numpy ())


def gradcam (model, x, t, prm):
    a, g = cam_inputs (model, x, t)
    w = g.mean ((1, 2))
    return cam_out (F.relu ((w[:, None, None] * a).sum (0)), x)


def gradcam_pp (model, x, t, prm):
    a, g = cam_inputs (model, x, t)
    g2, g3 = g ** 2, g ** 3
    denom = 2 * g2 + a.sum ((1, 2))[:, None, None] * g3
    alpha = torch.where ((g != 0) & (denom != 0), g2 / torch.where (denom != 0, denom, 1.0),
                         torch.zeros_like (g))
    w = (alpha * F.relu (g)).sum ((1, 2))
    return cam_out (F.relu ((w[:, None, None] * a).sum (0)), x)


def layercam (model, x, t, prm):
    a, g = cam_inputs (model, x, t)
    return cam_out (F.relu ((F.relu (g) * a).sum (0)), x)


def guided_gradcam (model, x, t, prm):
    gb, _ = guided_backprop (model, x, t, prm)
    _, cam_map = gradcam (model, x, t, prm)
    raw = gb * torch.from_numpy (cam_map)[None]
    return raw, pixel_map (raw.numpy (), "max")


def scorecam (model, x, t, prm):
    with torch.no_grad ():
        a = model.features (x)[0]
        h, w = x.shape[2], x.shape[3]
        weights = torch.zeros (a.shape[0], dtype=x.dtype)
        for k in range (a.shape[0]):
            up = upsample (a[k], h, w)
            lo, hi = float (up.min ()), float (up.max ())
            if hi <= lo:
                continue            # a constant map: weight zero (docs/methods.md)
            masked = x * ((up - lo) / (hi - lo))[None, None]
            weights[k] = F.softmax (model (masked), 1)[0, t]
        return cam_out (F.relu ((weights[:, None, None] * a).sum (0)), x)


def positions (n, k, s):
    p = list (range (0, n - k + 1, s))
    if p[-1] != n - k:
        p.append (n - k)
    return p


def occlusion (model, x, t, prm):
    k, s = prm["window"], prm["stride"]
    h, w = x.shape[2], x.shape[3]
    with torch.no_grad ():
        score = float (model (x)[0, t])
        total = torch.zeros (h, w, dtype=x.dtype)
        count = torch.zeros (h, w, dtype=x.dtype)
        for i in positions (h, k, s):
            for j in positions (w, k, s):
                occ = x.clone ()
                occ[:, :, i:i + k, j:j + k] = 0.0     # the zero baseline
                total[i:i + k, j:j + k] += score - float (model (occ)[0, t])
                count[i:i + k, j:j + k] += 1
    raw = total / count
    return raw, minmax (raw.numpy ())


def rise_masks (n, h, w, gen, s=7, p1=0.5):
    """As Petsiuk 2018's generate_masks: an s x s binary grid, upsampled (bilinear, half-pixel
    centres) to (s+1) cells, cropped at a random shift within one cell."""
    ch, cw = math.ceil (h / s), math.ceil (w / s)
    grid = (torch.rand (n, 1, s, s, generator=gen) < p1).double ()
    up = F.interpolate (grid, size=((s + 1) * ch, (s + 1) * cw), mode="bilinear",
                        align_corners=False)
    dy = torch.randint (0, ch, (n,), generator=gen)
    dx = torch.randint (0, cw, (n,), generator=gen)
    return torch.stack ([up[i, 0, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range (n)])


def rise (model, x, t, prm):
    n, h, w = prm["samples"], x.shape[2], x.shape[3]
    gen = torch.Generator ().manual_seed (prm["torch_seed"])
    total = torch.zeros (h, w, dtype=x.dtype)
    with torch.no_grad ():
        for i in range (0, n, 500):
            m = rise_masks (min (500, n - i), h, w, gen)
            prob = F.softmax (model (x * m[:, None]), 1)[:, t]
            total += (prob[:, None, None] * m).sum (0)
    raw = total / (n * 0.5)
    return raw, minmax (raw.numpy ())


METHODS = {
    "saliency": saliency, "guided-backprop": guided_backprop, "deconvnet": deconvnet,
    "gradient-x-input": gradient_x_input, "smoothgrad": smoothgrad,
    "integrated-gradients": integrated_gradients, "gradcam": gradcam, "gradcam++": gradcam_pp,
    "guided-gradcam": guided_gradcam, "scorecam": scorecam, "layercam": layercam,
    "occlusion": occlusion, "rise": rise,
}


def file_id (method):
    return method.replace ("++", "pp")


# --------------------------------------------------------------------------------------------

def correlation (a, b):
    a, b = a.ravel () - a.mean (), b.ravel () - b.mean ()
    return float ((a * b).sum () / math.sqrt ((a * a).sum () * (b * b).sum ()))


def export (model, x, path):
    RULE["mode"] = "gradient"
    # PRESERVE keeps BatchNormalization nodes (EVAL would fold them into the convolutions),
    # so our importer's batch norm is exercised; the model is in eval mode.
    torch.onnx.export (model, x, path, opset_version=13, input_names=["input"],
                       output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE,
                       do_constant_folding=True)


def cam_layer_names (path):
    """The ONNX node producing the CAM layer: the last node whose output is 4-D with H,W > 1.
    Our importer names a node after the ONNX node's name, else its first output."""
    import onnx
    m = onnx.shape_inference.infer_shapes (onnx.load (path))
    shapes = {}
    for v in list (m.graph.value_info) + list (m.graph.input) + list (m.graph.output):
        dims = [d.dim_value for d in v.type.tensor_type.shape.dim]
        shapes[v.name] = dims
    last = None
    for n in m.graph.node:
        s = shapes.get (n.output[0], [])
        if len (s) == 4 and s[2] > 1 and s[3] > 1:
            last = n
    ops = [n.op_type for n in m.graph.node]
    return {"onnx_node_name": last.name, "onnx_output_name": last.output[0],
            "onnx_op": last.op_type}, ops


MODELS = [
    # name, class, C, H, W, training seed, per-model method parameters
    ("cnn28", PlainCNN, 1, 28, 28, 1,
     {"occlusion": {"window": 6, "stride": 4}}),
    ("resnet32", SmallResNet, 3, 32, 32, 2,
     {"occlusion": {"window": 8, "stride": 5}}),
]

# Parameters shared by both models. smoothgrad: with noise 1e-6 of the range every sample's
# gradient is the gradient at x (a ReLU net is piecewise linear), so the mean is exactly the
# saliency gradient whatever the RNG; "smoothgrad-expect" is the real thing (noise 0.15) with
# many samples, an estimate of the expectation our own samples are compared to statistically.
# rise: our masks come from our RNG, so only the expectation can be compared; the reference
# uses many masks so its own Monte Carlo error is small.
PARAMS = {
    "saliency": {}, "guided-backprop": {}, "deconvnet": {}, "gradient-x-input": {},
    "smoothgrad": {"samples": 8, "noise": 1e-6, "torch_seed": 11},
    "integrated-gradients": {"steps": 32, "baseline": "zero"},
    "gradcam": {}, "gradcam++": {}, "guided-gradcam": {}, "scorecam": {}, "layercam": {},
    "occlusion": {"window": 8, "stride": 4, "baseline": "zero"},
    "rise": {"samples": 32000, "torch_seed": 13},
}
# Where docs/methods.md leaves a choice open, the choice made here (and by src/core/attribution).
CONVENTIONS = {
    "percentile": "99th percentile as numpy.percentile (linear between order statistics) "
                  "over the H*W reduced map; if it is 0, the maximum; if that is 0, all zeros",
    "minmax": "(m - min) / (max - min); all zeros when max == min",
    "guided-gradcam map": "a gradient-only method: channels reduced by max |.|",
    "occlusion map": "raw (H,W) min-max normalised, like a CAM map (signed drops kept)",
    "rise raw": "(H,W): sum of p_target * mask / (samples * 0.5), p_target the softmax "
                "probability (RISE's p; the 'logit' rule of docs/methods.md is for gradient methods)",
    "rise map": "raw min-max normalised",
    "rise masks": "cell = ceil(H/7); grid upsampled bilinearly (half-pixel centres) to "
                  "8 cells per side, cropped at a shift uniform in [0, cell) per axis",
    "scorecam constant map": "a channel whose upsampled map has max == min gets weight 0 "
                             "and is not run",
    "occlusion fill": "all channels of the window set to the baseline (0 for zero)",
    "cam layer": "the last ONNX node whose output is 4-D with H, W > 1; our importer names a "
                 "node after the ONNX node name, else its first output",
}
SMOOTHGRAD_EXPECT = {"samples": 8000, "noise": 0.15, "torch_seed": 12}


def save (path, a):
    a = a.numpy () if isinstance (a, torch.Tensor) else a
    np.save (path, np.ascontiguousarray (a, dtype=np.float32))


def main ():
    ap = argparse.ArgumentParser (description=__doc__.split ("\n")[0])
    ap.add_argument ("--out", default=os.path.join (os.path.dirname (__file__), "..", "tests",
                                                      "attribution", "data"))
    ap.add_argument ("--check-noise", action="store_true",
                     help="also measure torch-vs-torch agreement of the stochastic methods")
    args = ap.parse_args ()
    os.makedirs (args.out, exist_ok=True)
    torch.set_num_threads (1)
    torch.use_deterministic_algorithms (True)
    manifest = {"generator": "tools/make-attribution-reference.py",
                "torch": torch.__version__, "conventions": CONVENTIONS, "models": {}}

    for name, cls, c, h, w, seed, overrides in MODELS:
        torch.manual_seed (seed)
        model = cls ()
        acc = train (model, c, h, w, seed)
        onnx_path = os.path.join (args.out, name + ".onnx")
        gen = torch.Generator ().manual_seed (100 + seed)
        x32, labels = synthetic (1, c, h, w, gen)
        export (model, x32, onnx_path)
        layer, ops = cam_layer_names (onnx_path)
        save (os.path.join (args.out, name + ".input.npy"), x32)

        model = model.double ().eval ()
        x = x32.double ()
        with torch.no_grad ():
            logits = model (x)[0]
        target = int (logits.argmax ())
        save (os.path.join (args.out, name + ".logits.npy"), logits)
        entry = {"onnx": name + ".onnx", "input": name + ".input.npy",
                 "logits": name + ".logits.npy", "input_shape": [1, c, h, w],
                 "synthetic_label": int (labels[0]), "target": target,
                 "target_logit": float (logits[target]),
                 "target_probability": float (F.softmax (logits, 0)[target]),
                 "accuracy_on_synthetic": acc, "onnx_ops": sorted (set (ops)),
                 "cam_layer": dict (layer, cam_shape=list (model.features (x).shape[1:])),
                 "methods": {}}
        raws = {}
        for method, fn in METHODS.items ():
            prm = dict (PARAMS[method], **overrides.get (method, {}))
            raw, smap = fn (model, x, target, prm)
            raws[method] = raw
            base = os.path.join (args.out, "%s.%s" % (name, file_id (method)))
            save (base + ".raw.npy", raw)
            save (base + ".map.npy", smap)
            entry["methods"][method] = {"params": prm, "raw": os.path.basename (base) + ".raw.npy",
                                        "map": os.path.basename (base) + ".map.npy",
                                        "raw_shape": list (raw.shape)}
            print ("%s %-20s raw %-12s |raw|max %.4g" % (name, method, tuple (raw.shape),
                                                         float (raw.abs ().max ())))
        raw, smap = smoothgrad (model, x, target, SMOOTHGRAD_EXPECT)
        base = os.path.join (args.out, "%s.smoothgrad-expect" % name)
        save (base + ".raw.npy", raw)
        save (base + ".map.npy", smap)
        entry["methods"]["smoothgrad-expect"] = {"params": SMOOTHGRAD_EXPECT,
                                                 "raw": os.path.basename (base) + ".raw.npy",
                                                 "map": os.path.basename (base) + ".map.npy"}
        if args.check_noise:
            entry["noise_check"] = noise_check (model, x, target, raw, raws["rise"])
        manifest["models"][name] = entry
        print ("%s: target %d (label %d) p=%.3f acc %.3f cam layer %s" %
               (name, target, int (labels[0]), entry["target_probability"], acc, layer))

    with open (os.path.join (args.out, "reference.json"), "w") as f:
        json.dump (manifest, f, indent=1, sort_keys=True)
        f.write ("\n")


def noise_check (model, x, t, sg_ref, rise_ref):
    """Correlation of independent smaller runs with the committed references (what the C test
    can expect of its own RNG), to choose its bounds."""
    out = {}
    for n in (500, 1000):
        cs = [correlation (smoothgrad (model, x, t, dict (SMOOTHGRAD_EXPECT, samples=n,
                                                          torch_seed=s))[0].numpy (),
                           sg_ref.numpy ()) for s in range (100, 103)]
        out["smoothgrad_%d" % n] = [min (cs), max (cs)]
    for n in (4000, 8000):
        cs = [correlation (rise (model, x, t, {"samples": n, "torch_seed": s})[0].numpy (),
                           rise_ref.numpy ()) for s in range (200, 203)]
        out["rise_%d" % n] = [min (cs), max (cs)]
    print (out)
    return out


if __name__ == "__main__":
    main ()
