#!/usr/bin/python3
"""The README's example: a tiny CNN (data/examples/tiny-cnn.onnx) and a 28x28 digit (digit-7.png).

The CNN is trained for a few seconds on synthetic digits (PIL's built-in font, randomly scaled,
shifted and noised) so that its predictions and saliency maps mean something; everything is
seeded. Run with Debian's /usr/bin/python3 (python3-torch); the outputs are committed.
"""

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont


class TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


FONT = ImageFont.load_default()


def glyph(d):
    """The digit d as a small white-on-black bitmap, cropped to its ink."""
    img = Image.new("L", (16, 16), 0)
    ImageDraw.Draw(img).text((2, 1), str(d), fill=255, font=FONT)
    return img.crop(img.getbbox())


GLYPHS = [glyph(d) for d in range(10)]


def render(d, rng):
    """A 28x28 float image of digit d, MNIST-like: 14-22 px tall, thick strokes, jittered."""
    g = GLYPHS[d]
    h = int(rng.integers(14, 23))
    w = max(4, int(round(g.width * h / g.height * rng.uniform(0.8, 1.3))))
    g = g.resize((w, h), Image.BILINEAR)
    canvas = Image.new("L", (28, 28), 0)
    x0 = int(rng.integers(0, max(1, 28 - w)))
    y0 = int(rng.integers(0, max(1, 28 - h)))
    canvas.paste(g, (x0, y0))
    a = np.asarray(canvas, dtype=np.float32) / 255.0
    a = np.clip(a * 1.6, 0, 1)
    return a


def batch(rng, n):
    labels = rng.integers(0, 10, n)
    x = np.stack([render(int(d), rng) for d in labels])[:, None]
    x += rng.normal(0, 0.05, x.shape).astype(np.float32)
    return torch.from_numpy(np.clip(x, 0, 1).astype(np.float32)), torch.from_numpy(labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "examples"))
    ap.add_argument("--steps", type=int, default=400)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    torch.manual_seed(7)
    torch.set_num_threads(1)
    rng = np.random.default_rng(7)
    model = TinyCNN()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for step in range(args.steps):
        x, y = batch(rng, 64)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x, y = batch(rng, 500)
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    print(f"tiny-cnn: loss {loss.item():.3f}, synthetic accuracy {acc:.3f}", file=sys.stderr)

    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), os.path.join(args.out, "tiny-cnn.onnx"),
                      opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    # The example image: a centred 7, drawn like the training data but without noise.
    g = GLYPHS[7].resize((int(round(GLYPHS[7].width * 20 / GLYPHS[7].height)), 20), Image.BILINEAR)
    canvas = Image.new("L", (28, 28), 0)
    canvas.paste(g, ((28 - g.width) // 2, 4))
    a = np.clip(np.asarray(canvas, dtype=np.float32) / 255.0 * 1.6, 0, 1)
    Image.fromarray((a * 255).round().astype(np.uint8), "L").save(os.path.join(args.out, "digit-7.png"))
    with torch.no_grad():
        p = F.softmax(model(torch.from_numpy(a)[None, None]), 1)[0]
    print(f"digit-7.png: predicted {p.argmax().item()} (p={p.max().item():.3f})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
