"""Rows of figures, their canonical encoding, and the Merkle batch of one imported file.

Rules this module obeys:
- Pure: no I/O. The caller stores the chunks in a blob store and anchors the root.
- A *row* is one region's figures over consecutive days, as one file line gives them
  (a time-series line: one metric over every date; a daily-report line: several metrics
  on one date)::

      {"salus_row": 1, "region": "FR", "start": "2020-01-22",
       "metrics": {"confirmed": {"basis": "cumulative", "values": [int | null, ...]}},
       "labels": {"Country/Region": "France", "Lat": "46.2276", ...}}

  ``values[i]`` is the figure for ``start + i`` days; ``null`` where the file had no
  usable figure (the import report says why). ``labels`` are the file's other columns,
  verbatim, so the file can be written back. A row's leaf data is its canonical CBOR
  (:mod:`salus.core.codec`), so one row has exactly one leaf hash.
- A batch is the rows of one file in file order; its root is the RFC 9162 Merkle tree
  hash over their leaves (:mod:`salus.core.merkle`, not re-implemented here). The rows
  are stored as *chunks* of at most :data:`CHUNK_BYTES`, each the canonical CBOR
  ``{"salus_outbreak_rows": 1, "rows": [row bytes...]}``, so the blob store can hold a
  file of any size and the leaves are the stored bytes themselves.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from salus.apps.outbreak.contract import BASES, MAX_VALUE, METRICS, check_date
from salus.apps.outbreak.regions import check_region
from salus.core import codec, merkle
from salus.errors import EncodingError

__all__ = [
    "CHUNK_BYTES",
    "MAX_ROW_BYTES",
    "Batch",
    "Row",
    "add_days",
    "build_batch",
    "day_number",
    "decode_chunk",
    "decode_row",
]

ROW_VERSION: Final = 1
CHUNK_VERSION: Final = 1
MAX_ROW_BYTES: Final = 1 << 20
CHUNK_BYTES: Final = 4 << 20
MAX_DAYS: Final = 20_000
_EPOCH = datetime.date(1970, 1, 1)


def day_number(date: str) -> int:
    """Days since 1970-01-01 of a ``YYYY-MM-DD`` date."""
    return (datetime.date.fromisoformat(date) - _EPOCH).days


def add_days(date: str, days: int) -> str:
    """The ``YYYY-MM-DD`` date ``days`` after ``date``."""
    return (datetime.date.fromisoformat(date) + datetime.timedelta(days=days)).isoformat()


@dataclass(frozen=True, slots=True)
class Row:
    """One region's figures over ``len(values)`` consecutive days from ``start``.

    ``metrics`` maps a metric to ``(basis, values)``; every values list has the same
    length. Build rows with plain lists; they are not copied.
    """

    region: str
    start: str
    metrics: Mapping[str, tuple[str, Sequence[int | None]]]
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def days(self) -> int:
        return max((len(values) for _, values in self.metrics.values()), default=0)

    @property
    def end(self) -> str:
        return add_days(self.start, self.days - 1)

    def figure(self, metric: str, date: str) -> tuple[int, str] | None:
        """``(value, basis)`` of ``metric`` on ``date``, or ``None`` if the row has none."""
        entry = self.metrics.get(metric)
        if entry is None:
            return None
        basis, values = entry
        offset = day_number(date) - day_number(self.start)
        if not 0 <= offset < len(values):
            return None
        value = values[offset]
        return None if value is None else (value, basis)

    def figures(self) -> Iterator[tuple[int, str, int, str]]:
        """Every figure as ``(offset from start, metric, value, basis)``."""
        for metric, (basis, values) in self.metrics.items():
            for offset, value in enumerate(values):
                if value is not None:
                    yield offset, metric, value, basis

    def figure_count(self) -> int:
        return sum(
            sum(value is not None for value in values) for _, values in self.metrics.values()
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "salus_row": ROW_VERSION,
            "region": self.region,
            "start": self.start,
            "metrics": {
                metric: {"basis": basis, "values": list(values)}
                for metric, (basis, values) in self.metrics.items()
            },
            "labels": dict(self.labels),
        }

    def encode(self) -> bytes:
        """The canonical CBOR of the row: its leaf data in the batch tree."""
        data = codec.encode(self.to_data())
        if len(data) > MAX_ROW_BYTES:
            raise EncodingError(f"row of {self.region} is {len(data)} bytes, over {MAX_ROW_BYTES}")
        return data

    @classmethod
    def from_data(cls, data: Any) -> Row:
        """Check the shape of decoded row data; :class:`EncodingError` names the problem."""
        if not isinstance(data, dict) or data.get("salus_row") != ROW_VERSION:
            raise EncodingError(f"not a version {ROW_VERSION} outbreak row")
        if set(data) != {"salus_row", "region", "start", "metrics", "labels"}:
            raise EncodingError(f"row fields are {sorted(data)}, not the row layout")
        try:
            region = check_region(data["region"])
            start = check_date(data["start"])
        except ValueError as exc:
            raise EncodingError(f"row: {exc}") from None
        if region != data["region"]:
            raise EncodingError(f"row region {data['region']!r} is not canonical")
        metrics = data["metrics"]
        if not isinstance(metrics, dict) or not metrics:
            raise EncodingError("row metrics must be a non-empty map")
        parsed: dict[str, tuple[str, list[int | None]]] = {}
        lengths = set()
        for metric, entry in metrics.items():
            if metric not in METRICS:
                raise EncodingError(f"row metric {metric!r} is not one of {', '.join(METRICS)}")
            if not isinstance(entry, dict) or set(entry) != {"basis", "values"}:
                raise EncodingError(f"row metric {metric} must hold basis and values")
            basis, values = entry["basis"], entry["values"]
            if basis not in BASES or not isinstance(values, list):
                raise EncodingError(f"row metric {metric}: bad basis or values")
            if not 1 <= len(values) <= MAX_DAYS:
                raise EncodingError(f"row metric {metric} holds {len(values)} days")
            for value in values:
                if value is not None and (
                    isinstance(value, bool)
                    or not isinstance(value, int)
                    or not -MAX_VALUE <= value <= MAX_VALUE
                    or (basis == "cumulative" and value < 0)
                ):
                    raise EncodingError(f"row metric {metric}: value {value!r} is not allowed")
            lengths.add(len(values))
            parsed[metric] = (basis, values)
        if len(lengths) != 1:
            raise EncodingError("row metrics cover different numbers of days")
        labels = data["labels"]
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise EncodingError("row labels must map column names to text")
        return cls(region, start, parsed, labels)


def decode_row(data: bytes) -> Row:
    """A row from its canonical CBOR; :class:`EncodingError` if it is not one."""
    return Row.from_data(codec.decode(data, max_size=MAX_ROW_BYTES, what="outbreak row"))


@dataclass(frozen=True, slots=True)
class Batch:
    """The rows of one file, their leaves, the root, and the chunks for the blob store."""

    encoded: tuple[bytes, ...]
    leaves: tuple[bytes, ...]
    root: bytes
    chunks: tuple[bytes, ...]
    figures: int
    first_date: str
    last_date: str
    metrics: tuple[str, ...]

    def path(self, index: int) -> tuple[bytes, ...]:
        """The RFC 9162 inclusion path of row ``index``."""
        return merkle.inclusion_proof(self.leaves, index)


def build_batch(rows: Sequence[Row]) -> Batch:
    """Encode, hash and chunk ``rows`` (at least one). Raises :class:`ValueError`."""
    if not rows:
        raise ValueError("a batch holds at least one row")
    encoded = tuple(row.encode() for row in rows)
    leaves = tuple(merkle.leaf_hash(data) for data in encoded)
    chunks: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for data in encoded:
        if current and size + len(data) > CHUNK_BYTES:
            chunks.append(_chunk(current))
            current, size = [], 0
        current.append(data)
        size += len(data) + 5
    chunks.append(_chunk(current))
    return Batch(
        encoded=encoded,
        leaves=leaves,
        root=merkle.root_from_leaf_hashes(leaves),
        chunks=tuple(chunks),
        figures=sum(row.figure_count() for row in rows),
        first_date=min(row.start for row in rows),
        last_date=max(row.end for row in rows),
        metrics=tuple(sorted({metric for row in rows for metric in row.metrics})),
    )


def _chunk(rows: list[bytes]) -> bytes:
    return codec.encode({"salus_outbreak_rows": CHUNK_VERSION, "rows": rows})


def decode_chunk(data: bytes) -> list[bytes]:
    """The row encodings held in a stored chunk; :class:`EncodingError` otherwise."""
    value = codec.decode(data, max_size=CHUNK_BYTES * 2, what="outbreak row chunk")
    if (
        not isinstance(value, dict)
        or value.get("salus_outbreak_rows") != CHUNK_VERSION
        or set(value) != {"salus_outbreak_rows", "rows"}
        or not isinstance(value["rows"], list)
        or not all(isinstance(row, bytes) for row in value["rows"])
    ):
        raise EncodingError("blob is not an outbreak row chunk")
    rows: list[bytes] = value["rows"]
    return rows
