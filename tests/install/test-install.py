#!/usr/bin/env python3
"""`meson install` of the current build into a temporary DESTDIR gives a working CLI (and app) (TAP).

Usage: test-install.py MESON. Installs CONVSCOPE_BUILD_DIR with `MESON install --destdir TMP
--no-rebuild`, then runs the installed convscope-cli from that tree, from a directory outside
the source and build trees and without the test's CONVSCOPE_* variables, on copies of the
bundled example model and image. When the build has the GTK app, its executable, .desktop file,
metainfo, schema and icon must be installed too. Standard library only.
"""

import configparser
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check, note  # noqa: E402

MESON = sys.argv[1] if len(sys.argv) > 1 else "meson"
SRC = os.environ.get("CONVSCOPE_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("CONVSCOPE_BUILD_DIR")


def intro(name):
    with open(os.path.join(BUILD, "meson-info", f"intro-{name}.json"), encoding="utf-8") as f:
        return json.load(f)


def user_env():
    """The environment of someone who installed Convscope: none of the test harness's hints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVSCOPE_")}
    env.pop("LD_LIBRARY_PATH", None)
    return env


def run(argv, cwd):
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=user_env(),
                          timeout=300)


def unresolved_libraries(path):
    """Shared libraries the dynamic loader cannot find for PATH (None: ldd unavailable)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    p = subprocess.run([ldd, path], capture_output=True, text=True, env=user_env())
    return [line.strip() for line in p.stdout.splitlines() if "not found" in line]


def runpath_into(path, tree):
    """RPATH/RUNPATH entries of PATH that point into TREE (None: readelf unavailable)."""
    readelf = shutil.which("readelf")
    if readelf is None:
        return None
    p = subprocess.run([readelf, "-d", path], capture_output=True, text=True)
    return [line.strip() for line in p.stdout.splitlines()
            if ("RPATH" in line or "RUNPATH" in line) and os.path.realpath(tree) in line]


def installed_path(installed, destdir, target_name):
    """The DESTDIR path of the installed file built as TARGET_NAME (None if not installed)."""
    for built, dest in installed.items():
        if os.path.basename(built) == target_name:
            return destdir + dest
    return None


def test_cli(installed, destdir, version, work):
    cli = installed_path(installed, destdir, "convscope-cli")
    if not check(cli is not None and os.access(cli, os.X_OK),
                 f"convscope-cli is installed and executable ({cli})"):
        return
    missing = unresolved_libraries(cli)
    if missing is not None:
        check(not missing, f"installed convscope-cli finds all its shared libraries {missing}")
    rp = runpath_into(cli, BUILD)
    if rp is not None:
        check(not rp, f"installed convscope-cli has no RPATH into the build dir {rp}")

    v = run([cli, "--version"], work)
    check(v.returncode == 0 and version in v.stdout,
          f"installed convscope-cli --version names {version}: {v.stdout.strip()}")

    model = shutil.copy(os.path.join(SRC, "data", "examples", "tiny-cnn.onnx"), work)
    image = shutil.copy(os.path.join(SRC, "data", "examples", "digit-7.png"), work)
    p = run([cli, "predict", model, image], work)
    lines = p.stdout.splitlines()
    ok = p.returncode == 0 and len(lines) > 1 and lines[1].split()[:1] == ["7"]
    if not ok:
        note(f"stdout: {p.stdout[:500]}\nstderr: {p.stderr[:500]}")
    check(ok, "installed convscope-cli predict reads the example digit as 7")

    p = run([cli, "predict", model, image, "--json", "--top", "1"], work)
    try:
        doc = json.loads(p.stdout)
        top = doc[0]["top"][0]["class"]
    except (ValueError, LookupError, TypeError):
        top = None
    check(p.returncode == 0 and top == 7, "installed convscope-cli predict --json: top class 7")

    bad = run([cli, "predict", os.path.join(work, "missing.onnx"), image], work)
    check(bad.returncode == 1 and bad.stderr.startswith("convscope-cli: error: "),
          "installed convscope-cli reports a missing model as docs/cli/README.md says (exit 1)")


def test_app(installed, destdir, app_id, work):
    app = installed_path(installed, destdir, "convscope")
    if not check(app is not None, "the GTK app is part of this build and installed (-Dapp=enabled)"):
        return
    check(os.access(app, os.X_OK), f"the app is installed and executable ({app})")
    missing = unresolved_libraries(app)
    if missing is not None:
        check(not missing, f"installed app finds all its shared libraries {missing}")
    rp = runpath_into(app, BUILD)
    if rp is not None:
        check(not rp, f"installed app has no RPATH into the build dir {rp}")

    dests = list(installed.values())

    def find(suffix):
        return [destdir + d for d in dests if d.endswith(suffix)]

    desktop = find(f"/applications/{app_id}.desktop")
    if check(len(desktop) == 1, f"{app_id}.desktop is installed under share/applications"):
        cp = configparser.ConfigParser(interpolation=None, strict=False)
        cp.read(desktop[0], encoding="utf-8")
        exec_line = cp.get("Desktop Entry", "Exec", fallback="")
        check(exec_line.split()[:1] == [os.path.basename(app)],
              f"the installed .desktop file runs the installed app ({exec_line})")
    check(len(find(f"/metainfo/{app_id}.metainfo.xml")) == 1, "AppStream metainfo is installed")
    check(len(find(f"/glib-2.0/schemas/{app_id}.gschema.xml")) == 1, "GSettings schema is installed")
    check(len(find(f"/icons/hicolor/scalable/apps/{app_id}.svg")) == 1, "scalable icon is installed")
    schemas = find(f"/glib-2.0/schemas/{app_id}.gschema.xml")
    if schemas:
        smoke_app(app, os.path.dirname(schemas[0]), work)


def smoke_app(app, schema_src, work):
    """Start the installed app on the example model under a virtual X server; it must stay up."""
    xvfb_run, dbus_run = shutil.which("xvfb-run"), shutil.which("dbus-run-session")
    compile_schemas = shutil.which("glib-compile-schemas")
    if not check(bool(xvfb_run and dbus_run and compile_schemas),
                 "xvfb-run, dbus-run-session and glib-compile-schemas are installed (tools/install-deps)"):
        return
    # `meson install --destdir` skips the post-install schema compilation, as it should.
    schema_dir = os.path.join(work, "schemas")
    os.makedirs(schema_dir, exist_ok=True)
    c = subprocess.run([compile_schemas, "--strict", f"--targetdir={schema_dir}", schema_src],
                       capture_output=True, text=True)
    if not check(c.returncode == 0, "the installed GSettings schema compiles (--strict)"):
        note(c.stderr)
        return
    share = os.path.dirname(os.path.dirname(schema_src))
    env = user_env()
    env.update({"GSETTINGS_SCHEMA_DIR": schema_dir, "GSETTINGS_BACKEND": "memory",
                "GSK_RENDERER": "cairo", "NO_AT_BRIDGE": "1", "GTK_A11Y": "none",
                "G_DEBUG": "fatal-criticals", "OMP_NUM_THREADS": "1",
                "XDG_DATA_DIRS": share + ":" + env.get("XDG_DATA_DIRS", "/usr/share")})
    # Its own session, so that the app, Xvfb and the bus all go when the group is stopped.
    p = subprocess.Popen([xvfb_run, "-a", dbus_run, "--", app, "tiny-cnn.onnx"], cwd=work, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=8)
        alive = False
    except subprocess.TimeoutExpired:
        alive = True
        os.killpg(p.pid, signal.SIGTERM)
        try:
            out, _ = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
    if not alive:
        note(f"exit {p.returncode}: {out[-1500:]}")
    check(alive, "the installed app starts on the example model and keeps running (8 s, no critical)")


def main():
    if not BUILD or not os.path.isdir(os.path.join(BUILD, "meson-info")):
        print("1..1\nnot ok 1 - CONVSCOPE_BUILD_DIR is a meson build directory")
        return 1
    version = intro("projectinfo")["version"]
    options = {o["name"]: o["value"] for o in intro("buildoptions")}
    app_id = ("io.github.convscope.Convscope.Devel" if options.get("development")
              else "io.github.convscope.Convscope")
    tmp = tempfile.mkdtemp(prefix="install-test-")
    try:
        destdir = os.path.join(tmp, "dest")
        work = os.path.join(tmp, "work")
        os.makedirs(work)
        p = subprocess.run([MESON, "install", "-C", BUILD, "--destdir", destdir, "--no-rebuild",
                            "--quiet"], capture_output=True, text=True, timeout=300)
        if not check(p.returncode == 0, f"meson install --destdir into {destdir}"):
            note(p.stdout[-2000:] + p.stderr[-2000:])
            return 1
        installed = intro("installed")
        absent = [d for d in installed.values() if not os.path.lexists(destdir + d)]
        check(not absent, f"every file meson lists as installed is in DESTDIR {absent[:5]}")
        prefix = options.get("prefix", "/usr/local")
        outside = [d for d in installed.values()
                   if not os.path.abspath(d).startswith(prefix.rstrip("/") + "/")]
        check(not outside, f"everything installs under the prefix {prefix} {outside[:5]}")
        taplib.group(test_cli, installed, destdir, version, work)
        taplib.group(test_app, installed, destdir, app_id, work)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return taplib.done()


if __name__ == "__main__":
    sys.exit(main())
