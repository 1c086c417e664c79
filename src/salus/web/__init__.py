"""The ledger explorer: hand-written static pages the HTTP API serves at ``/explorer/``.

No framework, no CDN, no external fonts: everything the page needs ships in
``static/`` and is fetched from the node that serves it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["STATIC_DIR"]

STATIC_DIR = Path(__file__).parent / "static"
