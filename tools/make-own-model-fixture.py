#!/usr/bin/python3
"""A user's own ImageNet model for the tests: torchvision's ResNet-18 exported to ONNX, a photo
that is not 224x224, and PyTorch's prediction under torchvision's evaluation transform.

Writes into OUTDIR:
  resnet18.onnx       seeded weights (no download); the classifier is scaled so that the top
                      class is decisive and comparisons do not hinge on float rounding
  photo.png           320x240 RGB, seeded
  reference.json      {"class", "label", "probability", "top5"} for photo.png after
                      Resize(256) + CenterCrop(224) + Normalize(ImageNet), with Resize as
                      F.interpolate(bilinear, align_corners=False, antialias=False): the
                      resampling Convscope documents (docs/models.md)
  nan.onnx            the same model with 3 NaN values in layer1.0.conv1's weight
  logged-run/         a small CNN's run logged by tools/convscope_logger.py (2 epochs on random
                      28x28 data; run.json names Fashion-MNIST as its data set)
Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision, python3-onnx).
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import torchvision
from onnx import numpy_helper
from PIL import Image
from torchvision.models._meta import _IMAGENET_CATEGORIES

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def photo(path):
    rng = np.random.default_rng(11)
    y, x = np.mgrid[0:240, 0:320]
    img = np.stack([128 + 100 * np.sin(x / 23.0), 128 + 100 * np.cos(y / 17.0),
                    128 + 60 * np.sin((x + y) / 31.0)], axis=-1)
    img += rng.normal(0, 12, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").save(path)


def transform(path):
    x = torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0)
    x = x.permute(2, 0, 1).unsqueeze(0)
    h, w = x.shape[2:]
    size = (256, int(256 * w / h)) if h <= w else (int(256 * h / w), 256)
    x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=False)
    top, left = int(round((size[0] - 224) / 2.0)), int(round((size[1] - 224) / 2.0))
    x = x[:, :, top:top + 224, left:left + 224]
    return (x - MEAN) / STD


def logged_run(path):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
    import convscope_logger as cl
    from torchvision.datasets import FashionMNIST  # noqa: F401 (only its class names below)
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 10))
    log = cl.RunLogger(path, model, torch.zeros(1, 1, 28, 28), classes=list(FashionMNIST.classes),
                       mean=[0.2860], std=[0.3530], dataset={"name": "fashion-mnist"},
                       train={"optimizer": "sgd", "lr": 0.1, "seed": 1})
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    for epoch in (1, 2):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        log.log_epoch(epoch, train_loss=float(loss), train_accuracy=0.1, val_loss=float(loss),
                      val_accuracy=0.1, learning_rate=0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("outdir")
    out = ap.parse_args().outdir
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    with torch.no_grad():
        model.fc.weight.mul_(6.0)
    onnx_path = os.path.join(out, "resnet18.onnx")
    torch.onnx.export(model, torch.zeros(1, 3, 224, 224), onnx_path, opset_version=13,
                      input_names=["input"], output_names=["logits"], do_constant_folding=True)
    photo(os.path.join(out, "photo.png"))
    with torch.no_grad():
        p = torch.softmax(model(transform(os.path.join(out, "photo.png"))).double(), dim=1)[0]
    top = torch.topk(p, 5)
    k = int(top.indices[0])
    ref = {"class": k, "label": _IMAGENET_CATEGORIES[k], "probability": float(p[k]),
           "top5": [int(i) for i in top.indices]}
    with open(os.path.join(out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)

    m = onnx.load(onnx_path)
    conv = next(n for n in m.graph.node if n.name == "/layer1/layer1.0/conv1/Conv")
    init = next(i for i in m.graph.initializer if i.name == conv.input[1])
    w = numpy_helper.to_array(init).copy()
    w.flat[[0, 5, 9]] = np.nan
    init.CopyFrom(numpy_helper.from_array(w, init.name))
    onnx.save(m, os.path.join(out, "nan.onnx"))
    logged_run(os.path.join(out, "logged-run"))


if __name__ == "__main__":
    main()
