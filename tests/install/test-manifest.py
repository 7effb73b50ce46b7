#!/usr/bin/env python3
"""Checks flatpak/io.github.convscope.Convscope.json without building it (TAP).

flatpak-builder needs the network to fetch the runtime and the archives, so this test checks
what can be checked offline: the manifest is well-formed JSON with the keys flatpak-builder
needs, its sandbox grants only what the app uses, every archive is pinned by an https URL and a
sha256, every local source exists, and its app ID and command agree with the meson build.
Usage: test-manifest.py [MANIFEST]. Standard library only.
"""

import configparser
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import taplib  # noqa: E402
from taplib import check, note  # noqa: E402

SRC = os.environ.get("CONVSCOPE_SOURCE_DIR",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("CONVSCOPE_BUILD_DIR")
MANIFEST = (sys.argv[1] if len(sys.argv) > 1
            else os.path.join(SRC, "flatpak", "io.github.convscope.Convscope.json"))
HEX64 = re.compile(r"^[0-9a-f]{64}$")

# Sandbox holes the app has no use for: its files come through the file chooser portal, and it
# never talks to the network or to the host's session.
FORBIDDEN_FILESYSTEMS = ("host", "host-os", "host-etc", "home")
FORBIDDEN_ARGS = ("--share=network", "--socket=session-bus", "--socket=system-bus",
                  "--device=all", "--talk-name=org.freedesktop.Flatpak", "--allow=devel")


def meson_app_id():
    """The release app ID meson.build configures (the non-.Devel branch of app_id)."""
    with open(os.path.join(SRC, "meson.build"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^app_id\s*=.*?:\s*'([^']+)'\s*$", text, re.M)
    return m.group(1) if m else None


def check_sources(module, manifest_dir):
    name = module.get("name", "?")
    for i, s in enumerate(module.get("sources", [])):
        kind = s.get("type")
        where = f"module {name}, source {i} ({kind})"
        if kind in ("archive", "file") and "url" in s:
            urls = [s["url"]] + list(s.get("mirror-urls", []))
            check(all(u.startswith("https://") for u in urls), f"{where}: https URLs only")
            check(bool(HEX64.match(s.get("sha256", ""))), f"{where}: pinned by a 64-hex sha256")
        elif kind in ("archive", "file", "patch", "dir"):
            paths = s.get("paths") or [s.get("path")]
            ok = all(p is not None and os.path.exists(os.path.join(manifest_dir, p)) for p in paths)
            check(ok, f"{where}: local path {paths} exists next to the manifest")
        elif kind in ("git",):
            check(bool(s.get("commit")) or bool(s.get("tag")), f"{where}: git source pinned")
        elif kind == "shell":
            check(isinstance(s.get("commands"), list) and len(s["commands"]) > 0,
                  f"{where}: shell source has commands")
        else:
            check(False, f"{where}: known source type")


def main():
    try:
        with open(MANIFEST, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        check(False, f"{os.path.basename(MANIFEST)} is readable, well-formed JSON: {e}")
        return taplib.done()
    check(isinstance(doc, dict), "manifest is a well-formed JSON object")
    manifest_dir = os.path.dirname(os.path.abspath(MANIFEST))

    for key in ("app-id", "runtime", "runtime-version", "sdk", "command", "finish-args", "modules"):
        check(key in doc, f"manifest has '{key}'")
    app_id = doc.get("app-id", "")
    check(os.path.basename(MANIFEST) == app_id + ".json", "file is named after the app ID")
    check(doc.get("runtime") == "org.gnome.Platform" and doc.get("sdk") == "org.gnome.Sdk",
          "GNOME runtime and SDK")
    check(isinstance(doc.get("runtime-version"), str) and doc.get("runtime-version") != "master",
          f"runtime pinned to a release ({doc.get('runtime-version')})")

    # The sandbox.
    args = doc.get("finish-args", [])
    check(isinstance(args, list) and all(isinstance(a, str) for a in args),
          "finish-args is a list of strings")
    for need in ("--share=ipc", "--socket=wayland", "--socket=fallback-x11", "--device=dri"):
        check(need in args, f"finish-args has {need}")
    fs = [a.split("=", 1)[1] for a in args if a.startswith("--filesystem=")]
    bad_fs = [v for v in fs if re.split(r"[:/]", v)[0] in FORBIDDEN_FILESYSTEMS or v.startswith("~")]
    check(not bad_fs, f"no home or host filesystem access (got {fs})")
    check(not [a for a in args if a in FORBIDDEN_ARGS or a.startswith("--share=network")],
          "no network, no session/system bus, no --device=all")
    check("--socket=x11" not in args, "X11 only as a fallback to Wayland")

    # Modules.
    modules = doc.get("modules", [])
    check(isinstance(modules, list) and len(modules) > 0, "modules is a non-empty list")
    names = [m.get("name") for m in modules if isinstance(m, dict)]
    check(len(names) == len(modules) and all(names) and len(set(names)) == len(names),
          f"every module is an object with a unique name: {names}")
    for m in modules:
        if not isinstance(m, dict):
            continue
        check("buildsystem" in m and m.get("sources"),
              f"module {m.get('name')}: buildsystem and sources")
        if m.get("buildsystem") == "simple":
            check(bool(m.get("build-commands")), f"module {m.get('name')}: simple has build-commands")
        check_sources(m, manifest_dir)
    for dep in ("openblas", "cjson", "protobuf-c"):
        check(dep in names, f"module for what the runtime lacks: {dep}")
    check(bool(names) and names[-1] == "convscope", "convscope is built last, on top of its dependencies")

    if "openblas" in names:
        ob = modules[names.index("openblas")]
        env = ob.get("build-options", {}).get("env", {})
        cmds = " ".join(ob.get("build-commands", []) + [str(v) for v in env.values()])
        check("DYNAMIC_ARCH=1" in cmds and "TARGET=GENERIC" in cmds,
              "OpenBLAS picks its kernel at run time (DYNAMIC_ARCH=1, TARGET=GENERIC)")
    if "protobuf" in names:
        check(modules[names.index("protobuf")].get("cleanup") == ["*"],
              "protobuf (only protoc-c needs it, at build time) is cleaned out of the app")

    if "convscope" in names:
        cs = modules[names.index("convscope")]
        check(cs.get("buildsystem") == "meson", "convscope module is built with meson")
        check("-Dapp=enabled" in cs.get("config-opts", []), "convscope module builds the app")
        src = cs.get("sources", [{}])
        ok = (len(src) == 1 and src[0].get("type") == "dir"
              and os.path.realpath(os.path.join(manifest_dir, src[0].get("path", "")))
              == os.path.realpath(SRC))
        check(ok, "convscope module builds this source tree (type dir, path ..)")
        skip = src[0].get("skip", []) if src else []
        check({".flatpak-builder", "build-flatpak"} <= set(skip),
              "the source copy skips flatpak-builder's own state and build dirs")

    # Agreement with the meson build.
    mid = meson_app_id()
    check(mid == app_id, f"app-id agrees with meson.build ({mid})")
    command = doc.get("command")
    desktop = None
    if BUILD:
        cand = os.path.join(BUILD, "data", app_id + ".desktop")
        desktop = cand if os.path.exists(cand) else None
    if desktop:
        cp = configparser.ConfigParser(interpolation=None, strict=False)
        cp.read(desktop, encoding="utf-8")
        exec_line = cp.get("Desktop Entry", "Exec", fallback="")
        check(exec_line.split()[:1] == [command],
              f"command agrees with the built .desktop file's Exec ({exec_line})")
        check(cp.get("Desktop Entry", "Icon", fallback="") == app_id,
              "the .desktop file's Icon is the app ID")
    else:
        # The app is not built here: compare with the executable name in src/ui/meson.build.
        ui = os.path.join(SRC, "src", "ui", "meson.build")
        text = open(ui, encoding="utf-8").read() if os.path.exists(ui) else ""
        exes = re.findall(r"executable\(\s*'([^']+)'", text)
        note(f"no built .desktop file; src/ui executables: {exes}")
        check(command in exes if exes else command == "convscope",
              f"command '{command}' is the app's executable")

    return taplib.done()


if __name__ == "__main__":
    sys.exit(main())
