#!/usr/bin/python3
"""Frame timings of the app while jobs run on torchvision's ResNet-18: the longest interval
between two frames of the window's frame clock (goal: none over 100 ms).

It exports ResNet-18 once (tools/make-reference.py bench, random weights) into
build/bench-models/, then runs build/tests/ui/test-frame-timings under a private session bus and
a virtual X server with CONVSCOPE_FRAME_TIMINGS: the window opens the demo run, shows the
all-methods comparison grid and steps through its epochs, then opens ResNet-18 and lets the
grid compute for --seconds while stepping epochs. A tick callback keeps the frame clock running
all along, so there are no idle gaps: every interval is the main loop's latency. Each line of
the timings also holds the main thread's time waiting for a CPU over that interval (the
machine's load, not the app): the table shows both the raw interval and the interval less that
wait. Always run with Debian's /usr/bin/python3.

  /usr/bin/python3 bench/frame-timings.py [--build build] [--seconds 30]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile


def percentile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=30, help="grid time on ResNet-18")
    args = ap.parse_args()
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.path.abspath(args.build)
    models = os.path.join(build, "bench-models")
    exe = os.path.join(build, "tests", "ui", "test-frame-timings")
    if not os.path.exists(exe):
        sys.exit(f"frame-timings: {exe} is missing: build the app first (ninja -C {args.build})")
    subprocess.run(["/usr/bin/python3", os.path.join(src, "tools", "make-reference.py"), "bench",
                    "--out", models, "--models", "resnet18"], check=True, stdout=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        frames = os.path.join(tmp, "frames.txt")
        env = dict(os.environ, CONVSCOPE_FRAME_TIMINGS_KEEP=frames,
                   CONVSCOPE_FRAME_SECONDS=str(args.seconds),
                   CONVSCOPE_DATA_DIR=os.path.join(src, "data"), GSK_RENDERER="cairo",
                   GDK_DEBUG="gl-disable", GSETTINGS_BACKEND="memory", NO_AT_BRIDGE="1",
                   GSETTINGS_SCHEMA_DIR=os.path.join(build, "data"))
        run = subprocess.run(["dbus-run-session", "--", "xvfb-run", "-a", "-s",
                              "-screen 0 1600x1000x24", exe, os.path.join(models, "resnet18.onnx")],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        phases = [(m.group(1), float(m.group(2)), float(m.group(3)))
                  for m in re.finditer(r"# phase (\S+) ([\d.]+) ([\d.]+)", run.stdout)]
        notes = re.findall(r"# ((?:demo|resnet18): .*)", run.stdout)
        rows = [tuple(map(float, line.split())) for line in open(frames) if line.strip()]
    if not phases or not rows:
        sys.exit("frame-timings: the test recorded nothing:\n" + run.stdout[-2000:])

    print(f"OpenBLAS: {os.environ.get('OPENBLAS_CORETYPE', 'auto')}, load average: "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}, cores: {os.cpu_count()}\n")
    print("| phase | seconds | frames | max interval ms | p99 ms | intervals > 100 ms "
          "| max less CPU wait ms | > 100 ms less wait |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, start, end in phases:
        sel = [r for r in rows if start < r[0] <= end]
        dt = [r[1] for r in sel]
        own = [r[1] - min(r[3], r[1]) for r in sel]
        print(f"| {name} | {(end - start) / 1000:.1f} | {len(sel)} | {max(dt, default=0):.0f} "
              f"| {percentile(dt, 0.99):.0f} | {sum(d > 100 for d in dt)} "
              f"| {max(own, default=0):.0f} | {sum(d > 100 for d in own)} |")
    print()
    for n in notes:
        print(f"- {n}")
    return 0 if run.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
