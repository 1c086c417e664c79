"""An independent VC verifier in Node.js (did-jwt-vc), installed on first use.

``package.json`` and ``package-lock.json`` here pin the JavaScript libraries;
:func:`vc_verifier` installs them with ``npm ci`` into ``.tools/interop-js/`` (ignored by
git, like the CometBFT build) the first time, and again whenever the lock file changes,
so ``make test`` needs no extra step. Without Node.js the tests skip loudly on a
developer's machine and fail in CI (``CI=true``), where interoperability is required.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
TOOLS = HERE.parent.parent / ".tools" / "interop-js"
FILES = ("package.json", "package-lock.json", "verify.mjs")

VcVerifier = Callable[[dict[str, Any]], dict[str, Any]]


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"interoperability tests cannot run: {reason}")
    pytest.skip(f"interoperability tests skipped: {reason}")


def _install(node: str, npm: str) -> None:
    TOOLS.mkdir(parents=True, exist_ok=True)
    with (TOOLS / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one installer at a time (parallel test runs)
        for name in FILES:
            shutil.copyfile(HERE / name, TOOLS / name)
        wanted = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
        stamp = TOOLS / ".installed"
        if (TOOLS / "node_modules").is_dir() and stamp.is_file() and stamp.read_text() == wanted:
            return
        done = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=TOOLS,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci in {TOOLS} failed:\n{done.stdout}\n{done.stderr}")
        stamp.write_text(wanted)


@pytest.fixture(scope="session")
def vc_verifier() -> VcVerifier:
    """Run ``verify.mjs`` (see its header) on one input; returns its JSON answer."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _missing("Node.js (node and npm) is not installed")
    assert node is not None and npm is not None
    _install(node, npm)

    def run(request: dict[str, Any]) -> dict[str, Any]:
        done = subprocess.run(
            [node, str(TOOLS / "verify.mjs")],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        answer: dict[str, Any] = json.loads(done.stdout)
        return answer

    return run
