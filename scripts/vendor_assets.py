"""Reproduce every third-party file Salus ships from pinned npm packages.

    .venv/bin/python scripts/vendor_assets.py            # fetch, check, copy, write manifests
    .venv/bin/python scripts/vendor_assets.py --check    # offline: committed files = manifests

Salus serves its pages with no internet access at all and never loads anything from a
CDN, so the few third-party files it needs are committed to the repository:

- the outbreak dashboard's map and chart libraries (``src/salus/web/dashboard/vendor/``);
- jsQR, the QR decoder the /verify/ page runs in the browser (``src/salus/web/verify/vendor/``);
- the DejaVu Sans fonts the printable certificate embeds (``src/salus/apps/learning/fonts/``).

This script is how they got there: for each pin below it runs ``npm pack NAME@VERSION``
into a temporary directory, checks the tarball against the pinned npm integrity and the
package's declared licence, copies the listed files and the licence, and records every
file's SHA-256 in a ``manifest.json`` in each target directory.

``--check`` needs no network: it re-hashes the committed files and fails if any differs
from its manifest, is missing, or is not listed (``tests/test_vendored_assets.py`` runs
the same check).

To update a library: change its version and integrity below (``npm view NAME@VERSION
dist.integrity``), run the script, and review the diff.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "src" / "salus" / "web" / "dashboard" / "vendor"
VERIFY = ROOT / "src" / "salus" / "web" / "verify" / "vendor"
FONTS = ROOT / "src" / "salus" / "apps" / "learning" / "fonts"
TARGETS = (DASHBOARD, VERIFY, FONTS)
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Pin:
    """One npm package: which version, its published integrity, and what to copy."""

    name: str
    version: str
    integrity: str
    licence: str  # as the package declares it (an SPDX id where it has one)
    files: tuple[tuple[str, str], ...]  # (path inside the package, name in the target)
    target: Path = DASHBOARD
    licence_file: tuple[str, str] | None = None  # default: LICENSE -> NAME.LICENSE.txt

    @property
    def licence_copy(self) -> tuple[str, str]:
        return self.licence_file or ("LICENSE", f"{self.name}.LICENSE.txt")


PINS: tuple[Pin, ...] = (
    Pin(
        "world-atlas",
        "2.0.2",
        "sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5lFHcYa5ChG0LQ==",
        "ISC",
        (("countries-110m.json", "countries-110m.json"),),
    ),
    Pin(
        "topojson-client",
        "3.1.0",
        "sha512-605uxS6bcYxGXw9qi62XyrV6Q3xwbndjachmNxu8HWTtVPxZfEJN9fd/SZS1Q54Sn2y0TMyMxFj/cJINqGHrKw==",
        "ISC",
        (("dist/topojson-client.min.js", "topojson-client.min.js"),),
    ),
    Pin(
        "d3-array",
        "3.2.5",
        "sha512-Th8qGXoBalmWsstpkuhmBuTsBQIFqYOJtjlBvNVvBfJ8E3uYusBUwUR8HU20U0qKKQkgCvKyR1YjiozWadk5QA==",
        "ISC",
        (("dist/d3-array.min.js", "d3-array.min.js"),),
    ),
    Pin(
        "d3-geo",
        "3.1.2",
        "sha512-5R8ZgDQorIxmauv7R6gpE/ndz+Z0qAZssigq0aXFdvPHdY41RqtW02jrRUQAL724NdPABYXo1+gQEGBBr7uKNg==",
        "ISC",
        (("dist/d3-geo.min.js", "d3-geo.min.js"),),
    ),
    Pin(
        "uplot",
        "1.6.32",
        "sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==",
        "MIT",
        (("dist/uPlot.iife.min.js", "uPlot.iife.min.js"), ("dist/uPlot.min.css", "uPlot.min.css")),
    ),
    Pin(
        "jsqr",
        "1.4.0",
        "sha512-dxLob7q65Xg2DvstYkRpkYtmKm2sPJ9oFhrhmudT1dZvNFFTlroai3AWSpLey/w5vMcLBXRgOJsbXpdN9HzU/A==",
        "Apache-2.0",
        (("dist/jsQR.js", "jsQR.js"),),
        target=VERIFY,
        licence_file=("LICENSE", "jsQR-LICENSE.txt"),
    ),
    Pin(
        "dejavu-fonts-ttf",
        "2.37.3",
        "sha512-f1hd7jJbeQa1VWcw+K2KrTXS50zTMaHpVC4XIKJpNcDeYR5ajMtj/iLlQDYNvLOKamUB3ARVVCf79lNwNVztSQ==",
        # Bitstream Vera + Arev fonts licences, DejaVu changes in the public domain.
        "SEE LICENSE IN README.md AND LICENSE",
        (
            ("ttf/DejaVuSans.ttf", "DejaVuSans.ttf"),
            ("ttf/DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf"),
        ),
        target=FONTS,
        licence_file=("LICENSE", "DejaVu-LICENSE.txt"),
    ),
)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _npm_pack(pin: Pin, into: Path) -> tuple[Path, str]:
    """``npm pack`` one pinned package into ``into``; the tarball and npm's integrity."""
    spec = f"{pin.name}@{pin.version}"
    result = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"npm pack {spec} failed:\n{result.stderr}")
    (info,) = json.loads(result.stdout)
    if info["version"] != pin.version:
        raise SystemExit(f"npm pack {spec} gave version {info['version']}")
    return into / info["filename"], str(info["integrity"])


def _extract(tarball: Path, into: Path) -> Path:
    with tarfile.open(tarball) as archive:
        # The "data" filter refuses absolute paths, links out of the tree and devices.
        archive.extractall(into, filter="data")
    return into / "package"


def vendor() -> dict[Path, dict[str, Any]]:
    """Fetch every pin, copy its files into its target; the new manifest of each target."""
    manifests: dict[Path, dict[str, Any]] = {
        target: {
            "comment": "Written by scripts/vendor_assets.py; do not edit by hand.",
            "packages": {},
        }
        for target in TARGETS
    }
    with tempfile.TemporaryDirectory(prefix="salus-vendor-") as tmp:
        work = Path(tmp)
        staged = {target: work / "staged" / str(i) for i, target in enumerate(TARGETS)}
        for folder in staged.values():
            folder.mkdir(parents=True)
        for pin in PINS:
            tarball, integrity = _npm_pack(pin, work)
            if integrity != pin.integrity:
                raise SystemExit(
                    f"{pin.name}@{pin.version}: integrity {integrity} is not the pinned "
                    f"{pin.integrity}"
                )
            package = _extract(tarball, work / pin.name)
            declared = json.loads((package / "package.json").read_text(encoding="utf-8"))
            if declared.get("license") != pin.licence:
                raise SystemExit(
                    f"{pin.name} now declares licence {declared.get('license')!r}, "
                    f"not {pin.licence!r}: review it before vendoring"
                )
            files: dict[str, str] = {}
            for source, target in (*pin.files, pin.licence_copy):
                shutil.copyfile(package / source, staged[pin.target] / target)
                files[target] = sha256_file(staged[pin.target] / target)
            manifests[pin.target]["packages"][pin.name] = {
                "version": pin.version,
                "license": pin.licence,
                "integrity": integrity,
                "files": files,
            }
        for target, folder in staged.items():
            target.mkdir(parents=True, exist_ok=True)
            for old in target.iterdir():
                old.unlink()
            for path in folder.iterdir():
                shutil.copyfile(path, target / path.name)
            text = json.dumps(manifests[target], indent=2) + "\n"
            (target / MANIFEST).write_text(text, encoding="utf-8")
    return manifests


def check(target: Path, folder: Path | None = None) -> list[str]:
    """Every difference between the files in ``folder`` (default ``target``) and the manifest
    and pins of ``target`` (empty when they match)."""
    folder = folder or target
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    problems: list[str] = []
    listed: set[str] = {MANIFEST}
    pinned = {pin.name: pin for pin in PINS if pin.target == target}
    for name, package in manifest["packages"].items():
        pin = pinned.get(name)
        if pin is None:
            problems.append(f"{name} is in the manifest but not pinned in this script")
        elif package["version"] != pin.version:
            problems.append(f"{name}: manifest has {package['version']}, pin is {pin.version}")
        for filename, digest in package["files"].items():
            listed.add(filename)
            path = folder / filename
            if not path.is_file():
                problems.append(f"{filename} ({name}) is missing")
            elif sha256_file(path) != digest:
                problems.append(f"{filename} ({name}) differs from the manifest")
    problems.extend(
        f"{path.name} is not in the manifest"
        for path in sorted(folder.iterdir())
        if path.name not in listed
    )
    problems.extend(
        f"{name} is pinned but not vendored" for name in pinned.keys() - manifest["packages"].keys()
    )
    return [f"{target.relative_to(ROOT)}: {problem}" for problem in problems]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare files with the manifest")
    options = parser.parse_args()
    if options.check:
        problems = [problem for target in TARGETS for problem in check(target)]
        for problem in problems:
            print(f"vendor: {problem}", file=sys.stderr)
        raise SystemExit(1 if problems else 0)
    for target, manifest in vendor().items():
        for name, package in manifest["packages"].items():
            where = target.relative_to(ROOT)
            print(f"{name}@{package['version']} -> {where}: {', '.join(package['files'])}")


if __name__ == "__main__":
    main()
