"""The outbreak package's public surface: every module declares what it exports."""

from __future__ import annotations

import importlib
import pkgutil

import salus.apps.outbreak


def test_every_module_declares_its_exports() -> None:
    for info in pkgutil.iter_modules(salus.apps.outbreak.__path__, "salus.apps.outbreak."):
        module = importlib.import_module(info.name)
        assert module.__all__, f"{info.name} has no __all__"
        for name in module.__all__:
            assert hasattr(module, name), f"{info.name}.__all__ names missing {name}"


def test_the_package_re_exports_the_library_surface() -> None:
    assert set(salus.apps.outbreak.__all__) == {
        "AUTHORITY", "METRICS", "OUTBREAK", "WORLD", "Batch", "FigureIndex", "FigureVerdict",
        "Issue", "JhuFormatError", "OutbreakContract", "ParsedFile", "Row", "build_batch",
        "check_region", "covers", "decode_row", "export_daily", "export_json",
        "export_time_series", "latest_figures", "parse_file", "verify_figure",
    }  # fmt: skip
    for name in salus.apps.outbreak.__all__:
        assert hasattr(salus.apps.outbreak, name), name
