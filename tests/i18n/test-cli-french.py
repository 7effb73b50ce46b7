#!/usr/bin/python3
"""convscope-cli in French: --help, usage errors and text output are translated, while what
scripts read (docs/cli/README.md) is byte-identical to English: --json, run-info --csv, the error prefix,
and bench's last line (with '.' decimals even under a French LC_ALL). TAP, standard library.
Usage: test-cli-french.py CONVSCOPE_CLI LOCALEDIR"""
import os, re, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check  # noqa: E402

cli, localedir = sys.argv[1], sys.argv[2]
src = os.environ.get("CONVSCOPE_SOURCE_DIR", ".")
onnx = os.path.join(src, "data", "examples", "tiny-cnn.onnx")
digit = os.path.join(src, "data", "examples", "digit-7.png")
demo = os.path.join(src, "data", "demo")


def have_locale(name):
    p = subprocess.run(["locale", "-a"], capture_output=True, text=True)
    return name.lower().replace("-", "") in [l.lower().replace("-", "") for l in p.stdout.split()]


base = {k: v for k, v in os.environ.items() if not k.startswith("LC_") and k not in ("LANG", "LANGUAGE")}
base["CONVSCOPE_LOCALEDIR"] = localedir
english = dict(base, LC_ALL="C.UTF-8")
# LANGUAGE is honoured whenever LC_MESSAGES is not "C": C.UTF-8 is enough, no fr_FR locale needed.
french = dict(base, LC_ALL="C.UTF-8", LANGUAGE="fr")
envs = [("LANGUAGE=fr", french)]
if have_locale("fr_FR.utf8"):
    envs.append(("LC_ALL=fr_FR.UTF-8", dict(base, LC_ALL="fr_FR.UTF-8")))
else:
    print("# no fr_FR.UTF-8 locale (tools/install-deps generates it): LANGUAGE=fr only")


def run(args, env):
    return subprocess.run([cli] + args, capture_output=True, text=True, env=env)


en_help = run(["--help"], english)
check(en_help.returncode == 0 and en_help.stdout.startswith("Usage: convscope-cli COMMAND"), "English --help")
for name, env in envs:
    p = run(["--help"], env)
    check(p.returncode == 0 and "Utilisation\u00a0: convscope-cli COMMAND" in p.stdout
          and "Options communes\u00a0:" in p.stdout and "Code de sortie" in p.stdout, name + ": --help in French")
    # The synopses are syntax: identical lines.
    en_syn = [l for l in en_help.stdout.splitlines() if l.startswith("  ") and "--" in l and "  --" not in l[:4]]
    check(all(l in p.stdout.splitlines() for l in en_syn), name + ": the synopses are unchanged")

    p = run(["inspect", onnx, "--top", "3"], env)
    check(p.returncode == 2 and p.stderr.startswith("convscope-cli: error: --top: option inconnue pour")
          and p.stdout == "", name + ": a usage error keeps the English prefix, the reason is French")
    p = run(["explain", onnx, digit, "--method", "saliency", "--layer", "/conv1/Conv"], env)
    check("convscope-cli: warning: --layer: saliency n’utilise pas de couche" in p.stderr,
          name + ": a warning keeps its prefix, the text is French")

    p = run(["inspect", onnx], env)
    check(p.returncode == 0 and re.search(r"^nœud\s+op\s+forme de sortie\s+paramètres\s+FLOPs$", p.stdout, re.M)
          and "total\u00a0: " in p.stdout, name + ": inspect's table in French")
    # The header is padded by characters, not bytes: columns line up as in English.
    lines = p.stdout.splitlines()
    check(len(lines) > 2 and lines[1].index("op") == lines[2].index("input", 5),
          name + ": inspect's French header lines up with the rows")

    for args in (["inspect", onnx, "--json"], ["predict", onnx, digit, "--json"],
                 ["run-info", demo, "--json"], ["run-info", demo, "--csv"]):
        e, f = run(args, english), run(args, env)
        check(e.returncode == 0 and e.stdout != "" and f.stdout == e.stdout,
              name + ": %s %s is byte-identical" % (args[0], args[-1]))

    p = run(["bench", onnx, "--task", "forward", "--repeat", "3"], env)
    last = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    check(p.returncode == 0 and re.match(r"^median_ms=\d+\.\d+ min_ms=\d+\.\d+ max_ms=\d+\.\d+$", last),
          name + ": bench's last line is unchanged, '.' decimals (%s)" % last)
    first = p.stdout.splitlines()[0] if p.stdout else ""
    check(first.startswith("model=") and " task=forward " in first, name + ": bench's key=value line is unchanged")

sys.exit(taplib.done(need_tests=False))
