"""What the CLI test scripts share (imported from their own directory): the CLI under test
(argv[1]), the source tree's example files, running a command, its JSON, its one-line errors,
and reading .npy/PNG outputs without numpy. Standard library only.
"""

import json
import os
import re
import struct
import subprocess
import sys
import zlib
from array import array

from taplib import check, note

CLI = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None
SRC = os.environ.get("CONVSCOPE_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TINY = os.path.join(SRC, "data", "examples", "tiny-cnn.onnx")
DIGIT = os.path.join(SRC, "data", "examples", "digit-7.png")
DEMO = os.path.join(SRC, "data", "demo")
ERROR_LINE = re.compile(r"^convscope-cli: error: (.+?): (.+)$")


def run(*args, env=None):
    """Runs the CLI with args (and env added to the environment); the CompletedProcess."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([CLI] + [str(a) for a in args], capture_output=True, text=True, env=e,
                          timeout=600)


def run_json(*args, env=None):
    """Runs the CLI with args and --json: the process and its parsed output (None if not JSON)."""
    p = run(*args, "--json", env=env)
    try:
        return p, json.loads(p.stdout)
    except ValueError:
        note(f"stdout: {p.stdout[:500]}\nstderr: {p.stderr[:500]}")
        return p, None


def check_error(p, code, what, subject=None, reason=None):
    """Exit code `code`, exactly one stderr line in the contract's format, about `subject`, whose
    reason contains `reason`."""
    lines = p.stderr.splitlines()
    m = ERROR_LINE.match(lines[0]) if len(lines) == 1 else None
    ok = (p.returncode == code and m is not None and (subject is None or m.group(1) == subject)
          and (reason is None or reason in m.group(2)))
    if not ok:
        note(f"exit {p.returncode}, stderr: {p.stderr!r}")
    return check(ok, f"{what}: exit {code}, one error line about {subject or '<what>'}")


def leftovers(tmp):
    """Temporary files an atomic writer left behind in tmp."""
    return [f for f in os.listdir(tmp) if ".tmp-" in f]


def rel_error(a, b):
    return max(abs(x - y) for x, y in zip(a, b)) / max(max(abs(y) for y in b), 1e-30)


def npy_read(path):
    """A little-endian float32 C-order .npy (what the CLI writes): (shape, values)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    major = data[6]
    hlen = struct.unpack("<H" if major == 1 else "<I", data[8:10] if major == 1 else data[8:12])[0]
    start = (10 if major == 1 else 12) + hlen
    header = data[(10 if major == 1 else 12):start].decode("latin1")
    shape = tuple(int(s) for s in re.search(r"\(([^)]*)\)", header).group(1).split(",") if s.strip())
    assert "'<f4'" in header and "'fortran_order': False" in header, header
    a = array("f")
    a.frombytes(data[start:])
    return shape, list(a)


def npy_write(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(array("f", values).tobytes())


def png_size(path):
    """(width, height) of a PNG, or None when path is missing or not a PNG."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def png_rgba(path):
    """The pixels of an 8-bit RGBA non-interlaced PNG (what the CLI writes), as rows of bytes."""
    with open(path, "rb") as f:
        data = f.read()
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour == 6, "not RGBA8"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * 4, [], bytearray(w * 4)
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 4] if i >= 4 else 0
            b, c = prev[i], prev[i - 4] if i >= 4 else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows
