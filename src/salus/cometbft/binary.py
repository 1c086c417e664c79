"""Where the pinned CometBFT binary is.

Looked up in order: the ``SALUS_COMETBFT`` environment variable (an explicit path),
``.tools/bin/cometbft`` in the current directory or any parent, or in the source
checkout the package runs from (where ``make cometbft`` builds it with ``go
install``), then ``cometbft`` on ``PATH``. Only the
pinned version is accepted: the ABCI adapter speaks v0.38's protocol.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from salus.errors import CometBFTMissing

__all__ = ["COMETBFT_VERSION", "HOW_TO_GET", "CometBFTMissing", "find_cometbft"]

COMETBFT_VERSION = "0.38.26"
HOW_TO_GET = (
    f"CometBFT {COMETBFT_VERSION} is needed: run 'make cometbft' (builds it with "
    f"'go install github.com/cometbft/cometbft/cmd/cometbft@v{COMETBFT_VERSION}' into "
    ".tools/bin), or set SALUS_COMETBFT=/path/to/cometbft"
)


def _version(binary: Path) -> str | None:
    try:
        result = subprocess.run(
            [str(binary), "version"], capture_output=True, text=True, timeout=20, check=False
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def find_cometbft(start: Path | None = None) -> Path:
    """The pinned CometBFT binary, or :class:`CometBFTMissing` saying how to get it."""
    candidates: list[Path] = []
    explicit = os.environ.get("SALUS_COMETBFT")
    if explicit:
        candidates.append(Path(explicit))
    here = (start or Path.cwd()).resolve()
    # The working directory and its parents, then the source checkout this package
    # runs from (an editable install), so 'salus testnet up' works from anywhere.
    package = Path(__file__).resolve()
    for folder in [here, *here.parents, *package.parents]:
        candidates.append(folder / ".tools" / "bin" / "cometbft")
    on_path = shutil.which("cometbft")
    if on_path:
        candidates.append(Path(on_path))
    seen_versions = []
    for candidate in candidates:
        if candidate.is_file():
            version = _version(candidate)
            if version == COMETBFT_VERSION:
                return candidate
            seen_versions.append(f"{candidate} is version {version or 'unknown'}")
            if explicit and candidate == Path(explicit):
                break
    found = f" (found: {'; '.join(seen_versions)})" if seen_versions else ""
    raise CometBFTMissing(HOW_TO_GET + found)
