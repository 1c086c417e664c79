"""Figure proofs: one figure with everything needed to check it offline.

Rules this module obeys:
- Pure: a bundle is built from bytes the node produced and verified with nothing but
  the network's genesis and :func:`salus.core.proofs.verify_bundle`, the one verifier.
- A *figure bundle* is the canonical CBOR map::

      {"salus_figure": 1,
       "figure": {"region", "date", "metric", "reporter", "value", "basis"},
       "source": "batch",                 # a figure of an imported file
       "row": bytes, "index": int, "count": int, "path": [bytes(32)...],
       "ledger": state bundle of outbreak/batch/<root>,
       "digest": bytes(32)}

  or, for a figure reported (or corrected) on the ledger itself::

      {"salus_figure": 1, "figure": {...}, "source": "report", "version": int,
       "ledger": state bundle of outbreak/report/<region>/<date>/<reporter>,
       "digest": bytes(32)}

  ``digest`` is the SHA-256 of the canonical encoding of the rest, like a core bundle's:
  an integrity check that makes any accidental change fail loudly.
- :func:`verify_figure` runs named steps and stops at the first failure, never raising
  for bad input. Batch figures: ``decode`` → ``row`` (the row holds the figure) →
  ``anchored`` (RFC 9162 path from the row to a root) → ``ledger`` (the core verifier
  accepts the state proof of that root's batch record, which names the reporter and
  covers the row's region and date). Reported figures: ``decode`` → ``ledger`` →
  ``figure`` (the proven record's version states the figure).

A verified figure is genuine: that reporter anchored or signed it. Whether it is still
the reporter's latest value is a separate question: the bundle of a reported figure
carries the record's whole history at the proven block, so the verdict says when a later
version superseded it; a batch figure's later corrections are on the figure's provenance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from salus.apps.outbreak.batches import decode_row
from salus.apps.outbreak.contract import OUTBREAK, latest_figures
from salus.apps.outbreak.regions import covers
from salus.core import codec
from salus.core.crypto import sha256
from salus.core.genesis import Genesis
from salus.core.merkle import leaf_hash, root_from_inclusion_proof
from salus.core.proofs import MAX_BUNDLE_BYTES, verify_bundle
from salus.errors import SalusError

__all__ = [
    "FIGURE_STEPS",
    "MAX_FIGURE_BUNDLE_BYTES",
    "FigureVerdict",
    "decode_figure_bundle",
    "encode_batch_figure",
    "encode_report_figure",
    "verify_figure",
]

FIGURE_VERSION: Final = 1
MAX_FIGURE_BUNDLE_BYTES: Final = 3 * MAX_BUNDLE_BYTES
FIGURE_STEPS: Final = ("decode", "row", "anchored", "ledger", "figure")
_FIGURE_KEYS: Final = frozenset({"region", "date", "metric", "reporter", "value", "basis"})
_FIELDS: Final = {
    "batch": frozenset({"salus_figure", "figure", "source", "row", "index", "count"})
    | {"path", "ledger", "digest"},
    "report": frozenset({"salus_figure", "figure", "source", "version", "ledger", "digest"}),
}


@dataclass(frozen=True, slots=True)
class FigureVerdict:
    """Valid or not; ``step`` is the failed step (``"done"`` when valid), ``steps`` the
    steps that passed with what each showed, ``facts`` what the proof established."""

    valid: bool
    step: str
    reason: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "step": self.step,
            "reason": self.reason,
            "steps": [{"step": name, "detail": detail} for name, detail in self.steps],
            "facts": self.facts,
        }


def _figure(figure: Mapping[str, Any]) -> dict[str, Any]:
    if set(figure) != _FIGURE_KEYS:
        raise ValueError(f"figure must have exactly {', '.join(sorted(_FIGURE_KEYS))}")
    return dict(figure)


def _seal(fields: dict[str, Any]) -> bytes:
    return codec.encode({**fields, "digest": sha256(codec.encode(fields))})


def encode_batch_figure(
    *,
    figure: Mapping[str, Any],
    row: bytes,
    index: int,
    count: int,
    path: Sequence[bytes],
    ledger: bytes,
) -> bytes:
    """A bundle for a figure of row ``index`` of a ``count``-row batch.

    ``ledger`` is the state bundle of ``outbreak/batch/<root>`` from ``Node.state_proof``.
    """
    if not 0 <= index < count:
        raise ValueError(f"row {index} is not inside a batch of {count}")
    return _seal(
        {
            "salus_figure": FIGURE_VERSION,
            "figure": _figure(figure),
            "source": "batch",
            "row": bytes(row),
            "index": index,
            "count": count,
            "path": [bytes(p) for p in path],
            "ledger": bytes(ledger),
        }
    )


def encode_report_figure(*, figure: Mapping[str, Any], version: int, ledger: bytes) -> bytes:
    """A bundle for a reported figure: ``ledger`` proves its ``report/...`` record."""
    return _seal(
        {
            "salus_figure": FIGURE_VERSION,
            "figure": _figure(figure),
            "source": "report",
            "version": version,
            "ledger": bytes(ledger),
        }
    )


class _Failed(Exception):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.reason = reason


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Failed("decode", f"bundle field {what} is not an integer")
    return value


def _decode(data: bytes) -> dict[str, Any]:
    try:
        bundle = codec.decode(data, max_size=MAX_FIGURE_BUNDLE_BYTES, what="figure bundle")
    except SalusError as exc:
        raise _Failed("decode", exc.reason) from None
    if not isinstance(bundle, dict) or bundle.get("salus_figure") != FIGURE_VERSION:
        raise _Failed("decode", "not a version 1 figure bundle")
    source = bundle.get("source")
    if source not in _FIELDS:
        raise _Failed("decode", f"unknown figure source {source!r} (expected batch or report)")
    if set(bundle) != _FIELDS[source]:
        missing = sorted(_FIELDS[source] - set(bundle))
        extra = sorted(set(bundle) - _FIELDS[source])
        raise _Failed("decode", f"bundle fields wrong (missing {missing}, unknown {extra})")
    rest = {k: v for k, v in bundle.items() if k != "digest"}
    if bundle["digest"] != sha256(codec.encode(rest)):
        raise _Failed("decode", "bundle digest does not match its contents (the file was altered)")
    figure = bundle["figure"]
    if not isinstance(figure, dict) or set(figure) != _FIGURE_KEYS:
        raise _Failed("decode", "the figure must name region, date, metric, reporter, value, basis")
    for name in ("region", "date", "metric", "reporter", "basis"):
        if not isinstance(figure[name], str):
            raise _Failed("decode", f"figure {name} must be text")
    _int(figure["value"], "figure.value")
    if not isinstance(bundle["ledger"], bytes):
        raise _Failed("decode", "ledger must be a proof bundle")
    if source == "batch":
        _int(bundle["index"], "index")
        _int(bundle["count"], "count")
        path = bundle["path"]
        if not isinstance(bundle["row"], bytes) or not isinstance(path, list):
            raise _Failed("decode", "row must be bytes and path a list of hashes")
        if not all(isinstance(p, bytes) for p in path):
            raise _Failed("decode", "path must be a list of hashes")
    else:
        _int(bundle["version"], "version")
    return bundle


def decode_figure_bundle(data: bytes) -> dict[str, Any]:
    """Decode and shape-check a bundle; :class:`ValueError` names the problem."""
    try:
        return _decode(data)
    except _Failed as failed:
        raise ValueError(failed.reason) from None


def _ledger(bundle: bytes, genesis: Genesis, expected_key: str) -> dict[str, Any]:
    verdict = verify_bundle(bundle, genesis)
    if not verdict.valid:
        raise _Failed(
            "ledger", f"the ledger proof fails at its {verdict.step} step: {verdict.reason}"
        )
    facts = verdict.facts
    if facts.get("kind") != "state":
        raise _Failed("ledger", "the ledger proof is not a state proof")
    if facts["key"] != f"{OUTBREAK}/{expected_key}":
        raise _Failed("ledger", f"the ledger proof is about {facts['key']!r}, not {expected_key}")
    if not facts["present"] or not isinstance(facts["value"], dict):
        raise _Failed("ledger", f"{expected_key} is absent from the ledger at the proven block")
    return facts


def _describe(figure: Mapping[str, Any]) -> str:
    return (
        f"{figure['metric']} {figure['basis']} {figure['value']} for {figure['region']} "
        f"on {figure['date']}"
    )


def _run(
    data: bytes, genesis: Genesis, passed: list[tuple[str, str]], facts: dict[str, Any]
) -> str:
    bundle = _decode(data)
    figure: dict[str, Any] = bundle["figure"]
    facts["figure"] = figure
    facts["source"] = bundle["source"]
    passed.append(("decode", f"{bundle['source']} figure: {_describe(figure)}"))
    if bundle["source"] == "batch":
        return _run_batch(bundle, figure, genesis, passed, facts)
    return _run_report(bundle, figure, genesis, passed, facts)


def _run_batch(
    bundle: dict[str, Any],
    figure: dict[str, Any],
    genesis: Genesis,
    passed: list[tuple[str, str]],
    facts: dict[str, Any],
) -> str:
    try:
        row = decode_row(bundle["row"])
    except SalusError as exc:
        raise _Failed("row", exc.reason) from None
    if row.region != figure["region"]:
        raise _Failed("row", f"the row is of region {row.region}, not {figure['region']}")
    try:
        found = row.figure(figure["metric"], figure["date"])
    except ValueError:
        found = None
    if found != (figure["value"], figure["basis"]):
        shown = "no such figure" if found is None else f"{found[1]} {found[0]}"
        raise _Failed(
            "row",
            f"the row holds {shown} for {figure['metric']} on {figure['date']}, "
            f"not {figure['basis']} {figure['value']}",
        )
    passed.append(("row", f"row of {row.region} holds the figure"))

    index, count = bundle["index"], bundle["count"]
    try:
        root = root_from_inclusion_proof(index, count, leaf_hash(bundle["row"]), bundle["path"])
    except SalusError as exc:
        raise _Failed("anchored", exc.reason) from None
    facts["root"] = root.hex()
    facts["row"] = index
    passed.append(("anchored", f"row {index} of {count} under batch root {root.hex()}"))

    proven = _ledger(bundle["ledger"], genesis, f"batch/{root.hex()}")
    record = proven["value"]
    if record.get("rows") != count:
        raise _Failed("ledger", f"batch {root.hex()} holds {record.get('rows')} rows, not {count}")
    if record.get("reporter") != figure["reporter"]:
        raise _Failed(
            "ledger",
            f"batch {root.hex()} was anchored by {record.get('reporter')}, "
            f"not {figure['reporter']}",
        )
    cover = record.get("cover") or []
    if not any(covers(scope, row.region) for scope in cover):
        raise _Failed("ledger", f"batch {root.hex()} does not cover region {row.region}")
    if not str(record.get("first_date")) <= figure["date"] <= str(record.get("last_date")):
        raise _Failed("ledger", f"batch {root.hex()} does not hold {figure['date']}")
    # The index refuses a batch whose rows hold metrics its record does not name; so must
    # the verifier, or a row could prove a figure the anchored batch never declared.
    metrics = record.get("metrics")
    if not isinstance(metrics, list) or figure["metric"] not in metrics:
        raise _Failed("ledger", f"batch {root.hex()} holds no {figure['metric']} figures")
    facts.update(
        reporter=record["reporter"],
        signed_by=record.get("by"),
        tx_id=record.get("tx"),
        anchored_height=record.get("height"),
        anchored_time_ms=record.get("time_ms"),
        source_file=record.get("source"),
        proven_height=proven["height"],
        block_hash=proven["block_hash"],
    )
    passed.append(
        (
            "ledger",
            f"batch anchored by {record['reporter']} at block {record.get('height')} "
            f"(proven at block {proven['height']})",
        )
    )
    return f"{_describe(figure)}, reported by {record['reporter']} in {record.get('source')}"


def _run_report(
    bundle: dict[str, Any],
    figure: dict[str, Any],
    genesis: Genesis,
    passed: list[tuple[str, str]],
    facts: dict[str, Any],
) -> str:
    key = f"report/{figure['region']}/{figure['date']}/{figure['reporter']}"
    proven = _ledger(bundle["ledger"], genesis, key)
    record = proven["value"]
    facts.update(proven_height=proven["height"], block_hash=proven["block_hash"])
    passed.append(("ledger", f"{key} proven at block {proven['height']}"))
    number = bundle["version"]
    versions = record.get("versions") or []
    if not 1 <= number <= len(versions):
        raise _Failed("figure", f"the record has {len(versions)} versions, not {number}")
    version = versions[number - 1]
    stated = (version.get("figures") or {}).get(figure["metric"])
    if stated != {"value": figure["value"], "basis": figure["basis"]}:
        raise _Failed(
            "figure", f"version {number} does not state {figure['basis']} {figure['value']}"
        )
    facts.update(
        reporter=record.get("reporter"),
        version=number,
        reason=version.get("reason"),
        signed_by=version.get("by"),
        tx_id=version.get("tx"),
        anchored_height=version.get("height"),
        anchored_time_ms=version.get("time_ms"),
    )
    latest = latest_figures(record).get(figure["metric"])
    detail = f"version {number} at block {version.get('height')}"
    if latest is not None and latest["version"] != number:
        facts["superseded_by"] = latest
        detail += (
            f"; superseded by version {latest['version']} at block {latest['height']}: "
            f"{latest['value']} ({latest['reason']})"
        )
    passed.append(("figure", detail))
    return f"{_describe(figure)}, reported by {record.get('reporter')} ({detail})"


def verify_figure(data: bytes, genesis: Genesis) -> FigureVerdict:
    """Verify a figure bundle offline with only the network ``genesis``; never raises."""
    passed: list[tuple[str, str]] = []
    facts: dict[str, Any] = {}
    try:
        summary = _run(data, genesis, passed, facts)
    except _Failed as failed:
        return FigureVerdict(False, failed.step, failed.reason, passed, facts)
    return FigureVerdict(True, "done", summary, passed, facts)
