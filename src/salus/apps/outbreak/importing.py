"""Importing files and reporting figures against a running node (the client side).

This is the I/O side of the outbreak app, over :class:`~salus.client.SalusClient`.
Theory of operation of :func:`import_parsed`:

1. Ask the node which organisation the signer belongs to (the reporter) and which
   regions that reporter may report for. Rows outside every scope are not sent: each is
   added to the import report as skipped, with its row number, so the contract never
   refuses a whole file for one stray row.
2. Build the batch (:func:`~.batches.build_batch`): canonical rows, their RFC 9162 root,
   and chunks for the blob store; ``cover`` is the set of scopes that cover the rows.
3. Upload the chunks (``POST /v1/blobs``), then send one ``outbreak.anchor_batch``
   transaction signed by the reporter's key and wait for it to commit.
4. Wait until the node's figure index has indexed the batch (``GET
   /v1/outbreak/batches/<root>``), so the figures are queryable and provable on return.

Progress is reported as ``progress(stage, done, total)`` with the stages ``read``,
``upload``, ``anchor`` and ``index``.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from salus.apps.outbreak.batches import build_batch
from salus.apps.outbreak.contract import OUTBREAK
from salus.apps.outbreak.jhu import Issue, ParsedFile, parse_file
from salus.apps.outbreak.regions import covers
from salus.client import ApiError, SalusClient
from salus.core.crypto import Signer
from salus.errors import SalusError
from salus.node.blobs import blob_address

__all__ = [
    "ImportResult",
    "OutbreakError",
    "StageProgress",
    "correct",
    "download",
    "figure_bundle",
    "figure_provenance",
    "get_json",
    "grant_scope",
    "import_file",
    "import_parsed",
    "latest_date",
    "report",
    "reporter_of_key",
    "reporter_scopes",
    "revoke_scope",
]

StageProgress = Callable[[str, int, int], None]


class OutbreakError(SalusError):
    """Raised when the node refuses an outbreak transaction or an import cannot proceed."""

    code = "outbreak"


@dataclass(slots=True)
class ImportResult:
    """What one import did: the anchored batch and the full import report."""

    parsed: ParsedFile
    root: str
    tx_id: str
    height: int
    rows: int
    figures: int
    batch: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.parsed.summary(),
            "root": self.root,
            "tx_id": self.tx_id,
            "height": self.height,
            "rows": self.rows,
            "figures": self.figures,
            "new_versions": self.batch.get("new_versions"),
            "index_status": self.batch.get("status"),
            "issues": [issue.to_json() for issue in self.parsed.issues],
        }


def get_json(client: SalusClient, path: str, **params: Any) -> Any:
    """GET a JSON document from the node (errors as :class:`~salus.client.ApiError`)."""
    # The SDK's request helper maps every failure to ApiError; reuse it.
    return client._request("GET", path, params=params or None).json()


def reporter_of_key(client: SalusClient, did: str) -> str:
    """The reporter a key signs for: its organisation, else the did:key itself."""
    organisation = client.account(did).get("organisation")
    return str(organisation) if organisation else did


def reporter_scopes(client: SalusClient, reporter: str) -> list[str]:
    """The regions ``reporter`` may report for (empty when it has no scope)."""
    try:
        record = client.state(OUTBREAK, f"scope/{reporter}")["value"]
    except ApiError as exc:
        if exc.status == 404:
            return []
        raise
    return sorted(record["regions"])


def _committed(
    client: SalusClient, submitted: dict[str, Any], what: str, timeout: float
) -> dict[str, Any]:
    status = client.wait_for(submitted["id"], timeout=timeout)
    if status["status"] != "committed":
        raise OutbreakError(f"the node refused to {what}: {status.get('reason')}")
    return status


def _send(
    client: SalusClient,
    signer: Signer,
    action: str,
    args: dict[str, Any],
    what: str,
    timeout: float,
) -> dict[str, Any]:
    try:
        submitted = client.send(signer, OUTBREAK, action, args)
    except ApiError as exc:
        if exc.tx_id is None:
            raise
        raise OutbreakError(f"the node refused to {what}: {exc.message}") from None
    status = _committed(client, submitted, what, timeout)
    _wait_as_of(client, int(status["height"]), timeout)
    return status


def _wait_as_of(client: SalusClient, height: int, timeout: float) -> None:
    """Wait until the node's figure index reflects ``height`` (its background indexer
    runs behind the ledger), so what the caller sent is readable on return."""
    deadline = time.monotonic() + timeout
    while get_json(client, "/v1/outbreak/status")["as_of"] < height:
        if time.monotonic() >= deadline:
            raise OutbreakError(f"the node's figure index has not reached block {height}")
        time.sleep(0.02)


def import_parsed(
    client: SalusClient,
    signer: Signer,
    parsed: ParsedFile,
    *,
    reason: str = "",
    progress: StageProgress | None = None,
    timeout: float = 120.0,
) -> ImportResult:
    """Anchor ``parsed``'s rows as one batch signed by ``signer`` and wait until indexed.

    Raises :class:`OutbreakError` when nothing is left to import or the node refuses
    the batch, :class:`~salus.client.ApiError` when the node cannot be reached.
    """
    report_progress: StageProgress = progress or (lambda stage, done, total: None)
    reporter = reporter_of_key(client, signer.did)
    scopes = reporter_scopes(client, reporter)
    kept, lines, cover = [], [], set()
    for row, line in zip(parsed.rows, parsed.row_lines, strict=True):
        scope = next((s for s in scopes if covers(s, row.region)), None)
        if scope is None:
            held = ", ".join(scopes) or "none"
            parsed.issues.append(
                Issue(line, None, None, f"region {row.region} is outside {reporter}'s reporting "
                      f"scopes ({held})", "skipped", "row")
            )  # fmt: skip
            continue
        kept.append(row)
        lines.append(line)
        cover.add(scope)
    parsed.issues.sort(key=lambda issue: -1 if issue.row is None else issue.row)
    parsed.rows, parsed.row_lines = kept, lines
    if not kept:
        raise OutbreakError(
            f"nothing to import from {parsed.source}: no row holds a figure {reporter} may "
            f"report (scopes: {', '.join(scopes) or 'none'})"
        )
    batch = build_batch(kept)
    for number, chunk in enumerate(batch.chunks, start=1):
        client.put_blob(chunk)
        report_progress("upload", number, len(batch.chunks))
    root = batch.root.hex()
    args = {
        "root": root,
        "file_sha256": parsed.file_sha256,
        "rows": len(kept),
        "figures": batch.figures,
        "format": parsed.format,
        "source": parsed.source[-200:] or "unnamed",
        "blobs": [blob_address(chunk) for chunk in batch.chunks],
        "cover": sorted(cover),
        "first_date": batch.first_date,
        "last_date": batch.last_date,
        "metrics": list(batch.metrics),
        "reason": reason,
    }
    report_progress("anchor", 0, 1)
    status = _send(client, signer, "anchor_batch", args, f"anchor {parsed.source}", timeout)
    report_progress("anchor", 1, 1)
    indexed = _wait_indexed(client, root, timeout, report_progress)
    return ImportResult(
        parsed, root, str(status["id"]), int(status["height"]), len(kept), batch.figures, indexed
    )


def _wait_indexed(
    client: SalusClient, root: str, timeout: float, progress: StageProgress
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    progress("index", 0, 1)
    while True:
        try:
            batch: dict[str, Any] = get_json(client, f"/v1/outbreak/batches/{root}")
        except ApiError as exc:
            if exc.status != 404:
                raise
            batch = {"status": "pending"}
        if batch["status"] in ("indexed", "invalid"):
            progress("index", 1, 1)
            if batch["status"] == "invalid":
                raise OutbreakError(f"the node could not index batch {root}: {batch['problem']}")
            return batch
        if time.monotonic() >= deadline:
            raise OutbreakError(
                f"batch {root} is anchored but not indexed after {timeout:g}s "
                f"(status {batch['status']}: {batch.get('problem') or 'waiting'})"
            )
        time.sleep(0.05)


def latest_date(client: SalusClient) -> str:
    """The last date figures may have now: the later of the node's last block date and
    today (UTC), as the next block, whose date the contract checks against, is no older."""
    last_ms = int(client.status().get("last_block_time_ms") or 0)
    block_day = datetime.datetime.fromtimestamp(last_ms // 1000, tz=datetime.UTC).date()
    return max(block_day, datetime.datetime.now(datetime.UTC).date()).isoformat()


def import_file(
    client: SalusClient,
    signer: Signer,
    data: bytes,
    name: str,
    *,
    metric: str | None = None,
    date: str | None = None,
    reason: str = "",
    progress: StageProgress | None = None,
    timeout: float = 120.0,
) -> ImportResult:
    """Read a JHU file (see :func:`~.jhu.parse_file`) and import it (:func:`import_parsed`)."""
    reading = None if progress is None else (lambda done, total: progress("read", done, total))
    parsed = parse_file(
        data, name, metric=metric, date=date, progress=reading, latest=latest_date(client)
    )
    return import_parsed(client, signer, parsed, reason=reason, progress=progress, timeout=timeout)


def _figures(figures: Mapping[str, tuple[int, str]]) -> dict[str, dict[str, Any]]:
    return {metric: {"value": value, "basis": basis} for metric, (value, basis) in figures.items()}


def report(
    client: SalusClient,
    signer: Signer,
    *,
    region: str,
    date: str,
    figures: Mapping[str, tuple[int, str]],
    note: str = "",
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Sign and send ``outbreak.report`` (figures as {metric: (value, basis)}); wait."""
    args = {"region": region, "date": date, "figures": _figures(figures), "note": note}
    return _send(client, signer, "report", args, f"record the report of {region}", timeout)


def correct(
    client: SalusClient,
    signer: Signer,
    *,
    region: str,
    date: str,
    figures: Mapping[str, tuple[int, str]],
    reason: str,
    batch: str | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Sign and send ``outbreak.correct`` with its reason; ``batch`` names the batch of an
    imported figure corrected for the first time."""
    args: dict[str, Any] = {
        "region": region,
        "date": date,
        "figures": _figures(figures),
        "reason": reason,
    }
    if batch is not None:
        args["batch"] = batch
    return _send(client, signer, "correct", args, f"record the correction of {region}", timeout)


def grant_scope(
    client: SalusClient, signer: Signer, *, subject: str, region: str, note: str = ""
) -> dict[str, Any]:
    """As a health authority, let ``subject`` report for ``region`` (``*``: everywhere)."""
    args = {"subject": subject, "region": region, "note": note}
    return _send(client, signer, "grant_scope", args, f"grant {subject} scope {region}", 30.0)


def revoke_scope(
    client: SalusClient, signer: Signer, *, subject: str, region: str, reason: str
) -> dict[str, Any]:
    """As a health authority, withdraw ``subject``'s scope ``region``."""
    args = {"subject": subject, "region": region, "reason": reason}
    return _send(client, signer, "revoke_scope", args, f"revoke {subject}'s scope {region}", 30.0)


def _figure_path(region: str, date: str, metric: str) -> str:
    return f"/v1/outbreak/figures/{quote(region, safe=':')}/{quote(date)}/{quote(metric)}"


def figure_provenance(client: SalusClient, region: str, date: str, metric: str) -> dict[str, Any]:
    """Every reporter's versions of one figure (``GET /v1/outbreak/figures/...``)."""
    result: dict[str, Any] = get_json(client, _figure_path(region, date, metric))
    return result


def figure_bundle(
    client: SalusClient,
    region: str,
    date: str,
    metric: str,
    *,
    reporter: str | None = None,
    version: int | None = None,
) -> bytes:
    """The figure's proof bundle (CBOR), for ``salus outbreak verify``."""
    params = {"format": "cbor", "reporter": reporter, "version": version}
    params = {k: v for k, v in params.items() if v is not None}
    return client._request(
        "GET", _figure_path(region, date, metric) + "/proof", params=params
    ).content


def download(client: SalusClient, filename: str) -> bytes:
    """A JHU-format CSV (or JSON) written by the node from its figures."""
    return client._request("GET", f"/v1/outbreak/download/{quote(filename)}").content
