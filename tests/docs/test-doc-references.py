#!/usr/bin/env python3
"""The repository documents itself (TAP): no tracked file outside docs/ refers to design
documents kept outside the repository or to tracker issue numbers, and every relative link in
README.md and docs/ points at a file that exists.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from taplib import check, done, note  # noqa: E402

SRC = os.environ.get("CONVSCOPE_SOURCE_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

# Spelled in pieces so that this file does not match itself.
FORBIDDEN = [
    ("a path into the sibling shared folder", re.compile(r"\.\./" + "shared")),
    ("the old CLI contract", re.compile(r"\bCLI" + r"\.md\b")),
    ("the old design document", re.compile(r"\bDESIGN" + r"\.md\b")),
    ("the old style guide", re.compile(r"\bSTYLE" + r"\.md\b")),
    ("a tracker issue number", re.compile(r"(?i)\bissue" + r"\s*#?[0-9]")),
]


def tracked_files():
    """git's list of tracked files; a tree without git (a release tarball): every file but the
    build directories."""
    try:
        out = subprocess.run(["git", "-C", SRC, "ls-files", "-z"], capture_output=True, check=True).stdout
        files = [f for f in out.decode("utf-8", "surrogateescape").split("\0") if f]
        if files:
            return files, "git ls-files"
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for root, dirs, names in os.walk(SRC):
        dirs[:] = [d for d in dirs if d != ".git" and not d.startswith("build") and not d.startswith("_build")]
        for n in names:
            files.append(os.path.relpath(os.path.join(root, n), SRC))
    return files, "a walk of the source tree"


def test_no_outside_references():
    files, how = tracked_files()
    note(f"{len(files)} files from {how}")
    check(len(files) > 100, "the source tree was found")
    hits = []
    for rel in files:
        if rel.startswith("docs/"):
            continue
        path = os.path.join(SRC, rel)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            continue  # a tracked file deleted in the work tree
        if b"\0" in data[:8192]:
            continue  # binary
        text = data.decode("utf-8", "replace")
        for lineno, line in enumerate(text.splitlines(), 1):
            for what, rx in FORBIDDEN:
                if rx.search(line):
                    hits.append(f"{rel}:{lineno}: {what}: {line.strip()[:100]}")
    for h in hits:
        note(h)
    check(not hits, f"no file outside docs/ refers to documents outside the repository or to issue numbers ({len(hits)} hits)")


LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_links_resolve():
    pages = [os.path.join(SRC, "README.md")]
    for root, _, names in os.walk(os.path.join(SRC, "docs")):
        pages += [os.path.join(root, n) for n in sorted(names) if n.endswith(".md")]
    check(len(pages) > 10, f"README.md and docs/ pages found ({len(pages)})")
    broken = []
    for page in pages:
        with open(page, encoding="utf-8") as f:
            text = f.read()
        for m in LINK.finditer(text):
            target = m.group(1)
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a URL or an anchor on the same page
            target = target.split("#", 1)[0]
            if not os.path.exists(os.path.normpath(os.path.join(os.path.dirname(page), target))):
                broken.append(f"{os.path.relpath(page, SRC)}: {m.group(1)}")
    for b in broken:
        note(b)
    check(not broken, f"every relative link of README.md and docs/ resolves ({len(broken)} broken)")


test_no_outside_references()
test_links_resolve()
sys.exit(done())
