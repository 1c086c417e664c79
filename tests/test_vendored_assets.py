"""Third-party files shipped in the repository are exactly the pinned npm packages' files."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _vendor_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "vendor_assets", ROOT / "scripts" / "vendor_assets.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


SCRIPT = _vendor_script()


@pytest.mark.parametrize("target", SCRIPT.TARGETS, ids=lambda path: path.parent.name)
def test_committed_files_match_their_manifest_and_pins(target: Path) -> None:
    assert SCRIPT.check(target) == []
    names = {path.name for path in target.iterdir()}
    for pin in SCRIPT.PINS:
        if pin.target == target:
            assert pin.licence_copy[1] in names, f"{pin.name} ships without its licence"


def test_a_changed_missing_or_extra_file_is_caught(tmp_path: Path) -> None:
    copy = tmp_path / "vendor"
    shutil.copytree(SCRIPT.DASHBOARD, copy)
    data = bytearray((copy / "d3-geo.min.js").read_bytes())
    data[100] ^= 1
    (copy / "d3-geo.min.js").write_bytes(bytes(data))
    (copy / "uPlot.min.css").unlink()
    (copy / "extra.js").write_text("alert(1)")
    where = "src/salus/web/dashboard/vendor"
    assert SCRIPT.check(SCRIPT.DASHBOARD, copy) == [
        f"{where}: d3-geo.min.js (d3-geo) differs from the manifest",
        f"{where}: uPlot.min.css (uplot) is missing",
        f"{where}: extra.js is not in the manifest",
    ]
