#!/usr/bin/python3
"""The catalogues: fr.po passes msgfmt -c --check-format with nothing untranslated or fuzzy, and
POTFILES.in lists exactly the existing files that mark strings (src/core marks none: the
library's messages are English by design). TAP, standard library only."""
import os, re, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check  # noqa: E402

src = os.environ.get("CONVSCOPE_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
po_dir = os.path.join(src, "po")

linguas = [l.split("#")[0].strip() for l in open(os.path.join(po_dir, "LINGUAS"))]
linguas = [l for l in linguas if l]
check("fr" in linguas, "LINGUAS lists fr")
for lang in linguas:
    po = os.path.join(po_dir, lang + ".po")
    p = subprocess.run(["msgfmt", "-c", "--check-format", "--statistics", "-o", os.devnull, po],
                       capture_output=True, text=True)
    check(p.returncode == 0, "%s.po: msgfmt -c --check-format (%s)" % (lang, p.stderr.strip()))
    stats = p.stderr.strip()
    check(re.match(r"^\d+ translated messages?\.$", stats) is not None,
          "%s.po: no fuzzy or untranslated messages (%s)" % (lang, stats))
    # Every msgid of the sources is in the catalogue: xgettext over POTFILES, msgcmp against it.
    if subprocess.run(["which", "xgettext"], capture_output=True).returncode == 0:
        pot = os.path.join(os.environ.get("TMPDIR", "/tmp"), "convscope-i18n-%d.pot" % os.getpid())
        x = subprocess.run(["xgettext", "--from-code=UTF-8", "--keyword=_", "--keyword=N_", "--keyword=C_:1c,2",
                            "--keyword=NC_:1c,2", "--keyword=g_dngettext:2,3", "--keyword=ngettext:1,2",
                            "-f", os.path.join(po_dir, "POTFILES.in"), "-D", src, "-o", pot],
                           capture_output=True, text=True)
        cmp = subprocess.run(["msgcmp", "--use-untranslated", po, pot], capture_output=True, text=True) \
            if x.returncode == 0 else None
        check(cmp is not None and cmp.returncode == 0,
              "%s.po holds every message of the sources (%s)" % (lang, (cmp.stderr if cmp else x.stderr).strip()[:300]))
        if os.path.exists(pot):
            os.unlink(pot)

listed = set()
for line in open(os.path.join(po_dir, "POTFILES.in")):
    line = line.split("#")[0].strip()
    if line:
        listed.add(line)
missing_files = sorted(f for f in listed if not os.path.exists(os.path.join(src, f)))
check(not missing_files, "every file in POTFILES.in exists %s" % (missing_files or ""))

mark = re.compile(r'(\b[NC]?_\s*\(\s*"|\b[NC]?_\s*\(\s*[a-z_]+\s*\(|translatable="yes"|\bngettext\s*\(|_\(\s*$)')
marking = set()
core_marking = []
for top in ("src", "data"):
    for root, dirs, files in os.walk(os.path.join(src, top)):
        for f in files:
            if not re.search(r"\.(c|h|ui|in|xml)$", f):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)
            try:
                text = open(path, encoding="utf-8").read()
            except UnicodeDecodeError:
                continue
            body = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#define"))
            if mark.search(body):
                if rel.startswith("src/core/"):
                    core_marking.append(rel)
                else:
                    marking.add(rel)
unlisted = sorted(marking - listed)
check(not unlisted, "every file that marks strings is in POTFILES.in %s" % (unlisted or ""))
check(not core_marking, "src/core marks no strings (its messages are English) %s" % (core_marking or ""))

sys.exit(taplib.done(need_tests=False))
