#!/usr/bin/python3
"""Regenerates tests/io/data: safetensors and .npy files written byte by byte from their specs
(Debian has no python3-safetensors), PNG/JPEG images of every colour type with the pixels a
decoder must produce, and PyTorch references (F.interpolate, a model.json network's logits).

Run with Debian's python (torch, numpy, PIL): /usr/bin/python3 tools/make-io-fixtures.py
"""
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "io", "data")
rng = np.random.default_rng(1234)


def path(name):
    return os.path.join(OUT, name)


# ---- safetensors: 8-byte LE header length, JSON header, packed data ----
DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8"}


def write_safetensors(name, tensors, metadata=None):
    """tensors: list of (name, dtype, ndarray) in data order."""
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for tname, dtype, arr in tensors:
        if dtype == "BF16":
            f32 = np.ascontiguousarray(arr, dtype="<f4").view("<u4")
            raw = (f32 >> 16).astype("<u2").tobytes()
        else:
            raw = np.ascontiguousarray(arr, dtype=DTYPES[dtype]).tobytes()
        header[tname] = {"dtype": dtype, "shape": list(arr.shape),
                         "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path(name), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# ---- a model.json network and the same network in PyTorch ----
MODEL = {"format": "convscope-model/1", "input": [3, 8, 8], "nodes": [
    {"name": "conv1", "op": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
    {"name": "bn1", "op": "batchnorm2d"},
    {"name": "relu1", "op": "relu"},
    {"name": "pool1", "op": "maxpool2d", "kernel": 2},
    {"name": "conv2", "op": "conv2d", "out_channels": 4, "kernel": [3, 1], "padding": [1, 0],
     "groups": 2, "bias": False},
    {"name": "lrelu", "op": "leaky_relu", "slope": 0.2},
    {"name": "add1", "op": "add", "inputs": ["pool1", "lrelu"]},
    {"name": "avg", "op": "avgpool2d", "kernel": 3, "stride": 1, "padding": 1},
    {"name": "cat", "op": "concat", "inputs": ["avg", "add1"]},
    {"name": "sig", "op": "sigmoid"},
    {"name": "gap", "op": "global_avgpool"},
    {"name": "flat", "op": "flatten"},
    {"name": "drop", "op": "dropout", "p": 0.3},
    {"name": "fc1", "op": "linear", "out_features": 6},
    {"name": "tanh1", "op": "tanh"},
    {"name": "fc", "op": "linear", "out_features": 5}]}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, (3, 1), padding=(1, 0), groups=2, bias=False)
        self.fc1 = nn.Linear(8, 6)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        p = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        a = p + F.leaky_relu(self.conv2(p), 0.2)
        c = torch.sigmoid(torch.cat([F.avg_pool2d(a, 3, 1, 1), a], 1))
        g = torch.flatten(F.adaptive_avg_pool2d(c, 1), 1)
        return self.fc(torch.tanh(self.fc1(g)))


def make_model_fixtures():
    with open(path("small-model.json"), "w") as f:
        json.dump(MODEL, f, indent=1)
    torch.manual_seed(7)
    net = Net()
    with torch.no_grad():
        net.bn1.running_mean.copy_(torch.randn(4) * 0.1)
        net.bn1.running_var.copy_(torch.rand(4) + 0.5)
        net.bn1.weight.copy_(torch.rand(4) + 0.5)
        net.bn1.bias.copy_(torch.randn(4) * 0.1)
    net.eval()
    sd = net.state_dict()
    write_safetensors("small-model.safetensors",
                      [(k, "I64" if v.dtype == torch.int64 else "F32", v.numpy())
                       for k, v in sd.items()], {"format": "pt"})
    x = torch.from_numpy(rng.standard_normal((1, 3, 8, 8)).astype(np.float32))
    with torch.no_grad():
        y = net(x)
    np.save(path("small-model-input.npy"), x.numpy())
    np.save(path("small-model-logits.npy"), y.numpy())
    # The same parameters in every float dtype, with values exact in all of them.
    def exact(shape, k):
        n = int(np.prod(shape))
        return ((np.arange(n) * 7 + k) % 23 - 11).astype(np.float32).reshape(shape) / 8
    kinds = ["F16", "BF16", "F64", "F32"]
    entries = []
    for i, (k, v) in enumerate(sd.items()):
        if v.dtype == torch.int64:
            entries.append((k, "I64", v.numpy()))
        else:
            entries.append((k, kinds[i % 4], exact(tuple(v.shape), i)))
    write_safetensors("small-model-dtypes.safetensors", entries)


# ---- .npy in versions 1.0, 2.0 and 3.0 ----
def make_npy_fixtures():
    a = (np.arange(24, dtype=np.float32) - 12) / 4
    a = a.reshape(2, 3, 4)
    for version in [(1, 0), (2, 0), (3, 0)]:
        with open(path("v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, a, version=version)
    np.save(path("f64.npy"), a.astype(np.float64))
    np.save(path("fortran.npy"), np.asfortranarray(a))
    np.save(path("int32.npy"), a.astype(np.int32))
    np.save(path("bigendian.npy"), a.astype(">f4"))
    np.save(path("scalar.npy"), np.float32(2.5))


# ---- PNG written by hand for what PIL cannot write (16-bit RGB, Adam7 interlacing) ----
def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def write_png(name, arr, color_type, depth, interlace=False, plte=None, trns=None, width=None):
    """arr: HxWxC array of samples (uint8 or uint16) in the file's own layout; width: the image
    width in pixels when samples are packed several to a byte."""
    h, w = arr.shape[:2]
    w = width or w
    dt = ">u2" if depth == 16 else "u1"
    def scanlines(sub):
        return b"".join(b"\x00" + np.ascontiguousarray(row, dtype=dt).tobytes() for row in sub)
    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = arr[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += scanlines(sub)
    else:
        raw = scanlines(arr)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    if plte is not None:
        data += png_chunk(b"PLTE", plte)
    if trns is not None:
        data += png_chunk(b"tRNS", trns)
    data += png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
    with open(path(name), "wb") as f:
        f.write(data)


def over_white(c, a):
    return (c.astype(np.int64) * a + 255 * (255 - a.astype(np.int64)) + 127) // 255


def save_expect(name, pixels):
    np.save(path(name + ".expect.npy"), pixels.astype(np.float32))


def make_image_fixtures():
    h, w = 10, 13
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    gray = rng.integers(0, 256, (h, w, 1), dtype=np.uint8)
    alpha = rng.integers(0, 256, (h, w, 1), dtype=np.uint8)
    Image.fromarray(gray[:, :, 0], "L").save(path("gray.png"))
    save_expect("gray.png", gray)
    Image.fromarray(rgb, "RGB").save(path("rgb.png"))
    save_expect("rgb.png", rgb)
    Image.fromarray(np.concatenate([rgb, alpha], 2), "RGBA").save(path("rgba.png"))
    save_expect("rgba.png", over_white(rgb, alpha))
    Image.fromarray(np.concatenate([gray, alpha], 2), "LA").save(path("gray-alpha.png"))
    save_expect("gray-alpha.png", over_white(gray, alpha))
    # palette of 16 colours, some translucent
    pal = rng.integers(0, 256, (16, 3), dtype=np.uint8)
    pal_alpha = np.array([255, 0, 128, 200] * 4, dtype=np.uint8)
    idx = rng.integers(0, 16, (h, w, 1), dtype=np.uint8)
    write_png("palette.png", idx, 3, 8, plte=pal.tobytes(), trns=pal_alpha.tobytes())
    save_expect("palette.png", over_white(pal[idx[:, :, 0]], pal_alpha[idx[:, :, 0]][:, :, None]))
    # 4-bit gray: samples packed two per byte
    g4 = rng.integers(0, 16, (h, w), dtype=np.uint8)
    packed = np.zeros((h, (w + 1) // 2), dtype=np.uint8)
    for x in range(w):
        packed[:, x // 2] |= g4[:, x] << (4 if x % 2 == 0 else 0)
    write_png("gray4.png", packed[:, :, None], 0, 4, width=w)
    save_expect("gray4.png", (g4 * 17)[:, :, None])
    rgb16 = rng.integers(0, 65536, (h, w, 3), dtype=np.uint16)
    write_png("rgb16.png", rgb16, 2, 16)
    save_expect("rgb16.png", rgb16 >> 8)
    gray16 = rng.integers(0, 65536, (h, w, 1), dtype=np.uint16)
    write_png("gray16.png", gray16, 0, 16)
    save_expect("gray16.png", gray16 >> 8)
    write_png("interlaced.png", rgb, 2, 8, interlace=True)
    save_expect("interlaced.png", rgb)
    rgba16 = rng.integers(0, 65536, (h, w, 4), dtype=np.uint16)
    write_png("rgba16-interlaced.png", rgba16, 6, 16, interlace=True)
    c8 = rgba16 >> 8
    save_expect("rgba16-interlaced.png", over_white(c8[:, :, :3], c8[:, :, 3:]))
    # JPEG: the expected pixels are what libjpeg-turbo (PIL's decoder too) produces
    smooth = np.clip(np.add.outer(np.arange(h) * 12, np.arange(w) * 9), 0, 255).astype(np.uint8)
    rgbj = np.stack([smooth, 255 - smooth, smooth // 2], 2)
    Image.fromarray(rgbj, "RGB").save(path("rgb.jpg"), quality=90)
    save_expect("rgb.jpg", np.asarray(Image.open(path("rgb.jpg")).convert("RGB")))
    Image.fromarray(smooth, "L").save(path("gray.jpg"), quality=90)
    save_expect("gray.jpg", np.asarray(Image.open(path("gray.jpg")))[:, :, None])
    Image.fromarray(rgbj, "RGB").save(path("progressive.jpg"), quality=90, progressive=True)
    save_expect("progressive.jpg", np.asarray(Image.open(path("progressive.jpg")).convert("RGB")))
    cmyk = np.stack([smooth, 255 - smooth, smooth // 2, smooth // 3], 2)
    Image.fromarray(cmyk, "CMYK").save(path("cmyk.jpg"), quality=95)
    dec = np.asarray(Image.open(path("cmyk.jpg"))).astype(np.int64)  # C, M, Y, K as PIL reads them
    save_expect("cmyk.jpg", ((255 - dec[:, :, :3]) * (255 - dec[:, :, 3:]) + 127) // 255)

    # Preprocessing references: PyTorch's bilinear resize with half-pixel centres.
    def reference(pixels, channels, size, mean, std, name):
        x = torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1)
        if channels == 3 and x.shape[0] == 1:
            x = x.repeat(3, 1, 1)
        if channels == 1 and x.shape[0] == 3:
            x = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2])[None]
        y = F.interpolate(x[None], size=size, mode="bilinear", align_corners=False)
        y = (y - torch.tensor(mean).view(1, -1, 1, 1)) / torch.tensor(std).view(1, -1, 1, 1)
        np.save(path(name), y.numpy().astype(np.float32))
    reference(rgb, 3, (7, 19), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], "rgb-7x19.npy")
    reference(rgb, 3, (23, 5), [0, 0, 0], [1, 1, 1], "rgb-23x5.npy")
    reference(gray, 3, (6, 6), [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], "gray-to-rgb-6x6.npy")
    reference(rgb, 1, (10, 13), [0.1], [0.3], "rgb-to-gray-10x13.npy")


# ---- seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/) ----
def make_fuzz_corpora():
    global OUT
    fixtures = OUT
    base = os.path.join(fixtures, "..", "..", "fuzz", "corpus")
    picks = {
        "npy": ["v1.npy", "v2.npy", "v3.npy", "f64.npy", "scalar.npy", "fortran.npy"],
        "image": ["gray.png", "palette.png", "gray4.png", "gray-alpha.png", "rgba16-interlaced.png",
                  "rgb.jpg", "gray.jpg", "progressive.jpg", "cmyk.jpg"],
        "model-json": ["small-model.json"],
    }
    for target, names in picks.items():
        os.makedirs(os.path.join(base, target), exist_ok=True)
        for name in names:
            with open(os.path.join(fixtures, name), "rb") as f:
                data = f.read()
            with open(os.path.join(base, target, name), "wb") as f:
                f.write(data)
    with open(os.path.join(base, "model-json", "every-op.json"), "w") as f:
        json.dump({"format": "convscope-model/1", "input": [2, 6, 6], "nodes": [
            {"name": "c", "op": "conv2d", "out_channels": 4, "kernel": [3, 1], "stride": 1,
             "padding": [1, 0], "dilation": 1, "groups": 2, "bias": False},
            {"name": "b", "op": "batchnorm2d", "eps": 0.001, "momentum": 0.2},
            {"name": "l", "op": "leaky_relu", "slope": 0.1},
            {"name": "m", "op": "maxpool2d", "kernel": 2, "stride": 1, "padding": 1, "ceil_mode": True},
            {"name": "a", "op": "avgpool2d", "kernel": 3, "count_include_pad": False},
            {"name": "t", "op": "tanh"}, {"name": "s", "op": "sigmoid"}, {"name": "r", "op": "relu"},
            {"name": "sum", "op": "add", "inputs": ["r", "t"]},
            {"name": "cat", "op": "concat", "inputs": ["sum", "s"], "axis": 1},
            {"name": "g", "op": "global_avgpool"}, {"name": "f", "op": "flatten"},
            {"name": "d", "op": "dropout", "p": 0.25},
            {"name": "fc", "op": "linear", "out_features": 3, "bias": True}]}, f)
    # the fuzz target's model: batchnorm "bn" over 2 channels, then flatten
    OUT = os.path.join(base, "safetensors")
    os.makedirs(OUT, exist_ok=True)
    two = np.array([0.5, -1.25], dtype=np.float32)
    write_safetensors("f32.safetensors", [(n, "F32", two) for n in
                      ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"]],
                      {"format": "pt"})
    write_safetensors("mixed.safetensors", [("bn.weight", "F16", two), ("bn.bias", "BF16", two),
                      ("bn.running_mean", "F64", two), ("bn.running_var", "F32", two),
                      ("bn.num_batches_tracked", "I64", np.array(3))])
    write_safetensors("partial.safetensors", [("bn.weight", "F32", two)])
    OUT = fixtures


def main():
    os.makedirs(OUT, exist_ok=True)
    make_model_fixtures()
    make_npy_fixtures()
    make_image_fixtures()
    make_fuzz_corpora()
    print("wrote", len(os.listdir(OUT)), "files to", os.path.normpath(OUT))


if __name__ == "__main__":
    sys.exit(main())
