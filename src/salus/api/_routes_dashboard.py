"""The outbreak dashboard page at ``/dashboard/``, and the public posts it shows.

The page (``salus/web/dashboard/``) is static: its third-party libraries and the
world map are vendored files (``vendor/``, see ``scripts/vendor_assets.py``),
served with the explorer's Content-Security-Policy, so it never loads anything from
another origin. Its figures come from the outbreak data API (``/v1/outbreak/...``).

``GET /v1/posts`` lists the public posts notarised by ``salus posts import``
(:mod:`salus.apps.outbreak.posts`): each is a ``notary`` anchor whose note starts
with ``public post:`` and whose canonical JSON is in this node's blob store. The
list is built from the notary's ``anchored`` events, scanned incrementally (events
never change once committed), so a request reads only what is new since the last.
A post whose document is not in this node's blob store (anchored through another
node) is listed with ``stored: false`` and its anchor only, until the document arrives;
an anchor whose document turns out not to be a well-formed public post is not listed
(:func:`salus.apps.outbreak.posts.read_post_document` checks every field's type and
length, and drops a link that is not http(s), saying so in ``link_refused``).

Who may publish. Anyone can notarise a document, so the list shows only anchors signed
by a key of an active member organisation of the consortium (``identity`` state
``key/<did>``, read at each request, so a key removed from its organisation stops
listing its posts), and names that organisation in ``anchor.org``. An individual
did:key's anchor stays on the ledger and provable; it is just not a public post here.
"""

from __future__ import annotations

import csv
import io
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from salus.api._errors import ERROR_RESPONSES, ApiError
from salus.api._explorer import _WithSecurityHeaders
from salus.apps.outbreak import tables
from salus.apps.outbreak.posts import NOTE_PREFIX, read_post_document
from salus.core.identity import IDENTITY
from salus.core.notary import NOTARY
from salus.errors import NotFound, SalusError
from salus.node.blobs import BlobStore
from salus.node.node import Node
from salus.web import STATIC_DIR

__all__ = ["DASHBOARD_DIR", "PostIndex", "dashboard_router", "mount_dashboard"]

DASHBOARD_DIR = STATIC_DIR.parent / "dashboard"
_SCAN_PAGE = 1000
_POST_FIELDS = ("source", "title", "summary", "url", "published", "guid", "link_refused")
_COUNTRY_CODES: dict[str, str] = {
    row["numeric"]: row["iso2"]
    for row in csv.DictReader(io.StringIO(tables.COUNTRIES))
    if row["numeric"].isdigit()
}


@dataclass(frozen=True, slots=True)
class _Entry:
    digest: str
    anchor: dict[str, Any]
    post: dict[str, Any] | None  # None: the document is not in this node's blob store

    def to_json(self, org: dict[str, str]) -> dict[str, Any]:
        fields = self.post or dict.fromkeys(_POST_FIELDS)
        return {
            "digest": self.digest,
            **fields,
            "stored": self.post is not None,
            "anchor": {**self.anchor, "org": org},
            "blob": f"/v1/blobs/{self.digest}",
            "proof": f"/v1/proofs/state/{NOTARY}/anchor/{self.digest}",
        }

    @property
    def sort_key(self) -> tuple[str, int]:
        published = (self.post or {}).get("published") or ""
        return (str(published), int(self.anchor["height"]))


class PostIndex:
    """Public posts anchored on the ledger, built incrementally from the notary's events."""

    def __init__(self, node: Node, blobs: BlobStore) -> None:
        self.node = node
        self.blobs = blobs
        self._after = 0
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def _load(self, digest: str, anchor: dict[str, Any]) -> _Entry | None:
        """The entry of an anchor; None when the stored document is not a public post."""
        try:
            data = self.blobs.get(digest)
        except (NotFound, SalusError):  # not on this node (yet), or unreadable here
            return _Entry(digest, anchor, None)
        post, _ = read_post_document(data)
        return None if post is None else _Entry(digest, anchor, post)

    def _put(self, entry: _Entry | None, digest: str) -> None:
        if entry is None:
            self._entries.pop(digest, None)
        else:
            self._entries[digest] = entry

    def refresh(self) -> None:
        """Take in the anchors committed since the last call; retry documents still missing."""
        with self._lock:
            while True:
                events = self.node.store.events(
                    contract=NOTARY, type="anchored", after=self._after, limit=_SCAN_PAGE
                )
                for event in events:
                    digest = event.subject or ""
                    with self.node.commit_lock:
                        value = self.node.ledger.read(NOTARY, f"anchor/{digest}")
                    if not isinstance(value, dict):
                        continue
                    note = str(value.get("note", ""))
                    if not note.startswith(NOTE_PREFIX):
                        continue
                    anchor = {
                        "by": value["by"],
                        "height": value["height"],
                        "time_ms": value["time_ms"],
                        "note": note,
                        "tx": event.tx_id,
                    }
                    self._put(self._load(digest, anchor), digest)
                if events:
                    self._after = events[-1].seq
                if len(events) < _SCAN_PAGE:
                    break
            for digest, entry in list(self._entries.items()):
                if entry.post is None and self.blobs.has(digest):
                    self._put(self._load(digest, entry.anchor), digest)

    def _publishers(self, entries: list[_Entry]) -> dict[str, dict[str, str]]:
        """{signer did: {"id", "name"}} of the signers that are keys of active members."""
        out: dict[str, dict[str, str]] = {}
        with self.node.commit_lock:
            for did in sorted({str(e.anchor["by"]) for e in entries}):
                binding = self.node.ledger.read(IDENTITY, f"key/{did}")
                if not isinstance(binding, dict):
                    continue
                org = self.node.ledger.read(IDENTITY, f"org/{binding.get('org')}")
                if isinstance(org, dict) and org.get("status") == "active":
                    out[did] = {"id": str(binding["org"]), "name": str(org.get("name", ""))}
        return out

    def _listed(self) -> tuple[list[_Entry], dict[str, dict[str, str]]]:
        self.refresh()
        with self._lock:
            entries = list(self._entries.values())
        publishers = self._publishers(entries)
        return [e for e in entries if e.anchor["by"] in publishers], publishers

    def page(self, *, offset: int, limit: int, source: str | None) -> dict[str, Any]:
        """Posts of member organisations, newest first (by publication time), filtered
        by source."""
        entries, publishers = self._listed()
        entries.sort(key=lambda e: e.sort_key, reverse=True)
        sources = sorted({str(e.post["source"]) for e in entries if e.post})
        if source is not None:
            entries = [e for e in entries if e.post is not None and e.post["source"] == source]
        return {
            "posts": [
                e.to_json(publishers[e.anchor["by"]]) for e in entries[offset : offset + limit]
            ],
            "total": len(entries),
            "offset": offset,
            "sources": sources,
            "height": self.node.height,
        }

    def get(self, digest: str) -> dict[str, Any]:
        entries, publishers = self._listed()
        for entry in entries:
            if entry.digest == digest:
                return entry.to_json(publishers[entry.anchor["by"]])
        raise NotFound(
            f"no public post with SHA-256 {digest} is anchored on this ledger by a member "
            "organisation"
        )


def dashboard_router(node: Node, blobs: BlobStore) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["outbreak dashboard"], responses=ERROR_RESPONSES)
    index = PostIndex(node, blobs)

    @router.get("/posts", summary="Public posts notarised on the ledger, newest first")
    def posts(
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        source: Annotated[str | None, Query(max_length=200)] = None,
    ) -> dict[str, Any]:
        """Each post with its text, link, source and anchor (block, time, signer, tx).

        ``blob`` fetches the exact bytes whose SHA-256 was anchored; ``proof`` is the
        state proof of the anchor, to check with ``POST /v1/verify`` or ``salus verify``.
        """
        return index.page(offset=offset, limit=limit, source=source)

    @router.get(
        "/dashboard/country-codes",
        summary="ISO 3166-1 numeric codes of countries, for the dashboard's world map",
    )
    def country_codes() -> dict[str, str]:
        """``{numeric: alpha-2}``: world-atlas names map shapes by ISO 3166-1 numeric code,
        the outbreak API names countries by alpha-2. Kosovo (``XK``, user-assigned, with
        JHU's code 383) has no id in world-atlas; the page matches it by name."""
        return _COUNTRY_CODES

    @router.get("/posts/{digest}", summary="One public post by its SHA-256")
    def post(digest: str) -> dict[str, Any]:
        """The post and its anchor; 404 when no public post with that hash is anchored."""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ApiError(400, "a post is named by its SHA-256: 64 lower-case hex characters")
        return index.get(digest)

    return router


def mount_dashboard(app: FastAPI, directory: Path = DASHBOARD_DIR) -> None:
    """Serve the outbreak dashboard at ``/dashboard/`` (the explorer's CSP, no CDN)."""

    @app.get("/dashboard", include_in_schema=False)
    def dashboard_slash() -> RedirectResponse:
        return RedirectResponse("/dashboard/", status_code=308)

    app.mount(
        "/dashboard",
        _WithSecurityHeaders(StaticFiles(directory=directory, html=True)),
        name="dashboard",
    )
