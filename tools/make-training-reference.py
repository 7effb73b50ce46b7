#!/usr/bin/python3
"""Writes tests/training/fixtures/reference.json: one batch through a small CNN in PyTorch
(train mode, batch norm with batch statistics), its softmax cross-entropy loss and parameter
gradients, and the weights after two SGD-momentum steps and two Adam steps with weight decay.

Run with Debian's python3-torch: /usr/bin/python3 tools/make-training-reference.py
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

MODEL = {
    "format": "convscope-model/1", "input": [1, 8, 8], "nodes": [
        {"name": "conv1", "op": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1, "bias": False},
        {"name": "bn1", "op": "batchnorm2d"},
        {"name": "relu1", "op": "relu"},
        {"name": "pool1", "op": "maxpool2d", "kernel": 2},
        {"name": "conv2", "op": "conv2d", "out_channels": 6, "kernel": 3},
        {"name": "relu2", "op": "relu"},
        {"name": "flat", "op": "flatten"},
        {"name": "fc", "op": "linear", "out_features": 5},
    ]}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.fc = nn.Linear(24, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


def state(net):
    return {k: v.detach().flatten().tolist() for k, v in net.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def run_steps(initial, x, y, make_opt, steps):
    net = Net()
    net.load_state_dict(initial)
    net.train()
    opt = make_opt(net.parameters())
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return state(net), losses


def main():
    torch.manual_seed(20240607)
    net = Net()
    # Non-trivial batch-norm affine parameters, so their gradients are exercised.
    with torch.no_grad():
        net.bn1.weight.uniform_(0.5, 1.5)
        net.bn1.bias.uniform_(-0.2, 0.2)
    initial = {k: v.clone() for k, v in net.state_dict().items()}
    x = torch.randn(6, 1, 8, 8)
    y = torch.tensor([0, 3, 1, 4, 2, 3])

    net.train()
    net.zero_grad()
    logits = net(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    correct = int((logits.argmax(dim=1) == y).sum())
    grads = {k: p.grad.flatten().tolist() for k, p in net.named_parameters()}

    sgd = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}
    adam = {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01}
    sgd_after, sgd_losses = run_steps(initial, x, y, lambda p: torch.optim.SGD(p, **sgd), 2)
    adam_after, adam_losses = run_steps(
        initial, x, y, lambda p: torch.optim.Adam(p, lr=adam["lr"], betas=tuple(adam["betas"]),
                                                  eps=adam["eps"], weight_decay=adam["weight_decay"]), 2)
    out = {
        "torch": torch.__version__,
        "model": MODEL,
        "params": {k: v.flatten().tolist() for k, v in initial.items() if not k.endswith("num_batches_tracked")},
        "input_shape": list(x.shape),
        "input": x.flatten().tolist(),
        "labels": y.tolist(),
        "loss": loss.item(),
        "correct": correct,
        "grads": grads,
        "sgd": dict(sgd, steps=2, losses=sgd_losses, after=sgd_after),
        "adam": dict(adam, steps=2, losses=adam_losses, after=adam_after),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "training", "fixtures",
                        "reference.json")
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
