#!/usr/bin/python3
"""PyTorch's side of bench-conv: the same ResNet-18 conv layers, forward and input gradient.

Usage: /usr/bin/python3 bench/bench-conv-torch.py [threads [repeats]]
Also times the whole torchvision ResNet-18 (forward, and forward + input gradient) as a reference
for the end-to-end targets."""
import sys
import time

import torch
import torch.nn.functional as F

LAYERS = [  # name, c, hw, m, k, stride, pad, count
    ("conv1 7x7/2", 3, 224, 64, 7, 2, 3, 1),
    ("layer1 3x3", 64, 56, 64, 3, 1, 1, 4),
    ("layer2.0 3x3/2", 64, 56, 128, 3, 2, 1, 1),
    ("layer2.0 down 1x1/2", 64, 56, 128, 1, 2, 0, 1),
    ("layer2 3x3", 128, 28, 128, 3, 1, 1, 3),
    ("layer3.0 3x3/2", 128, 28, 256, 3, 2, 1, 1),
    ("layer3.0 down 1x1/2", 128, 28, 256, 1, 2, 0, 1),
    ("layer3 3x3", 256, 14, 256, 3, 1, 1, 3),
    ("layer4.0 3x3/2", 256, 14, 512, 3, 2, 1, 1),
    ("layer4.0 down 1x1/2", 256, 14, 512, 1, 2, 0, 1),
    ("layer4 3x3", 512, 7, 512, 3, 1, 1, 3),
]


def best(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    torch.set_num_threads(threads)
    print(f"# PyTorch {torch.__version__} conv2d, {threads} threads, best of {repeats} (ms)")
    for n in (1, 8):
        print(f"{'layer':22} {'batch':>5} {'forward':>10} {'back-dx':>10} {'back-all':>10}")
        tot = [0.0, 0.0, 0.0]
        for name, c, hw, m, k, s, p, count in LAYERS:
            x = torch.rand(n, c, hw, hw) - 0.5
            w = torch.rand(m, c, k, k) - 0.5
            with torch.no_grad():
                fwd = best(lambda: F.conv2d(x, w, None, s, p), repeats)
            y = F.conv2d(x, w, None, s, p)
            dy = torch.rand_like(y)
            # grad_input only, then grad_input + grad_weight (aten's backward directly, no forward)
            bdx = best(lambda: torch.ops.aten.convolution_backward(
                dy, x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1, [True, False, False]), repeats)
            ball = best(lambda: torch.ops.aten.convolution_backward(
                dy, x, w, None, [s, s], [p, p], [1, 1], False, [0, 0], 1, [True, True, False]), repeats)
            print(f"{name:22} {n:5d} {fwd * 1e3:10.3f} {bdx * 1e3:10.3f} {ball * 1e3:10.3f}")
            tot[0] += count * fwd
            tot[1] += count * bdx
            tot[2] += count * ball
        print(f"{'all 20 convs':22} {n:5d} {tot[0] * 1e3:10.3f} {tot[1] * 1e3:10.3f} {tot[2] * 1e3:10.3f}\n")
    try:
        import torchvision
        model = torchvision.models.resnet18().eval()
        for p in model.parameters():
            p.requires_grad_(False)
        x = torch.rand(1, 3, 224, 224)
        with torch.no_grad():
            fwd = best(lambda: model(x), repeats)

        def grad():
            xi = x.clone().requires_grad_(True)
            model(xi)[0, 0].backward()
        g = best(grad, repeats)
        print(f"torchvision resnet18 batch 1: forward {fwd * 1e3:.1f} ms, forward + input gradient {g * 1e3:.1f} ms")
    except ImportError:
        pass


if __name__ == "__main__":
    main()
