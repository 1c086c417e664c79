"""Applying committed ``outbreak`` events to the figure index (see :mod:`.index`).

Rules this module obeys:
- Runs inside the index's sync transaction; a failure rolls the whole sync back.
- A batch's figures are indexed only when its blobs give back exactly what was anchored:
  the root, the row count, the figure count, and rows inside the batch's cover, dates
  and metrics, and no region twice. Otherwise the batch is ``invalid`` (with the reason)
  or, when a blob is missing from this node's store, ``unavailable``; see
  :meth:`IndexWriter.arrived` for how a late batch keeps ledger order.
- Versions: a figure re-stated with its current value adds nothing; a changed value adds
  a version (a batch's changed figures take the batch's reason, or "re-published in
  <file>"); a report or correction adds one per metric it states.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from typing import Any, Protocol

from salus.apps.outbreak.batches import Row, day_number, decode_chunk, decode_row
from salus.apps.outbreak.regions import (
    WORLD,
    ancestors,
    country_of,
    covers,
    describe,
    level,
    parent,
)
from salus.apps.outbreak.series import cumulative, daily_new, seven_day_average
from salus.core import merkle
from salus.errors import EncodingError, NotFound, SalusError

__all__ = ["BlobSource", "IndexWriter", "LedgerSource"]


class LedgerSource(Protocol):
    """What the index reads from a node: its genesis hash, committed height, events and
    state. :class:`salus.node.Node` is adapted by :meth:`FigureIndex.sync`."""

    def genesis_hash(self) -> str: ...

    def height(self) -> int: ...

    def events(self, after: int, to_height: int, limit: int) -> list[Any]: ...

    def read(self, key: str) -> Any: ...


class BlobSource(Protocol):
    def get(self, address: str) -> bytes: ...

    def has(self, address: str) -> bool: ...


class _Invalid(Exception):
    pass


class IndexWriter:
    """Applies events to the index inside the sync's SQLite transaction."""

    def __init__(self, conn: sqlite3.Connection, ledger: LedgerSource, blobs: BlobSource) -> None:
        self.conn = conn
        self.ledger = ledger
        self.blobs = blobs
        self.touched: set[tuple[str, str]] = set()
        self.changed = False
        self.last_update: dict[str, Any] | None = None
        (self.next_ord,) = conn.execute("SELECT COALESCE(MAX(ord), 0) + 1 FROM regions").fetchone()

    def handle(self, event: Any) -> None:
        kind = event.type
        if kind == "batch_anchored":
            self._batch(str(event.subject), event.seq)
        elif kind in ("reported", "corrected"):
            self._report(event.attrs)
        else:
            return
        self.changed = True

    # -- regions ----------------------------------------------------------------------

    def _region(self, region: str, labels: dict[str, str] | None, format: str | None) -> None:
        for place in ancestors(region)[:-1]:
            population = describe(place).population
            self.conn.execute(
                "INSERT INTO regions (region, ord, country, parent, level, population) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (region) DO NOTHING",
                (place, self.next_ord, country_of(place), parent(place), level(place), population),
            )
            self.next_ord += 1
        if labels and format:
            self.conn.execute(
                "INSERT INTO labels (region, format, ord, labels) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (region, format) DO UPDATE SET labels = excluded.labels",
                (region, format, self.next_ord, json.dumps(labels, sort_keys=True)),
            )
            self.next_ord += 1
            people = labels.get("Population", "").strip()
            if people.isdigit() and int(people) > 0:
                self.conn.execute(
                    "UPDATE regions SET population = ? WHERE region = ? AND population IS NULL",
                    (int(people), region),
                )

    # -- figures ----------------------------------------------------------------------

    def _add(self, reporter: str, items: list[tuple[Any, ...]]) -> int:
        """Add figure versions; items are (region, day, metric, value, basis, source, ref,
        pos, tx, height, time_ms, by, reason). Returns how many versions were added."""
        groups: dict[tuple[str, str], list[tuple[Any, ...]]] = defaultdict(list)
        for item in items:
            groups[(item[0], item[2])].append(item)
        retire: list[tuple[int]] = []
        insert: list[tuple[Any, ...]] = []
        for (region, metric), group in groups.items():
            existing = {
                day: (fid, value, basis, version)
                for fid, day, value, basis, version in self.conn.execute(
                    "SELECT id, day, value, basis, version FROM figures WHERE region = ? AND "
                    "metric = ? AND reporter = ? AND current = 1",
                    (region, metric, reporter),
                )
            }
            added = False
            for item in group:
                day, value, basis = item[1], item[3], item[4]
                old = existing.get(day)
                if old is not None and (old[1], old[2]) == (value, basis):
                    continue
                version = 1 if old is None else old[3] + 1
                if old is not None and old[0] is not None:
                    retire.append((old[0],))
                reason = item[12]
                if old is not None and not reason:
                    reason = "re-published with a different value"
                insert.append(
                    (region, day, metric, reporter, value, basis, version, *item[5:12], reason)
                )
                existing[day] = (None, value, basis, version)
                added = True
            if added:
                self.touched.add((region, metric))
        self.conn.executemany("UPDATE figures SET current = 0 WHERE id = ?", retire)
        self.conn.executemany(
            "INSERT INTO figures (region, day, metric, reporter, value, basis, version, source, "
            "ref, pos, tx, height, time_ms, by_did, reason, current) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            insert,
        )
        return len(insert)

    def _report(self, attrs: dict[str, Any]) -> None:
        region, date, reporter = attrs["region"], attrs["date"], attrs["reporter"]
        key = f"report/{region}/{date}/{reporter}"
        record = self.ledger.read(key)
        if record is None:
            return
        number = int(attrs["version"])
        version = record["versions"][number - 1]
        self._region(region, None, None)
        day = day_number(date)
        items = [
            (region, day, metric, figure["value"], figure["basis"], "report", key, number,
             version["tx"], version["height"], version["time_ms"], version["by"],
             version["reason"])
            for metric, figure in sorted(version["figures"].items())
        ]  # fmt: skip
        self._add(reporter, items)
        self._note_update(version["height"], version["time_ms"], version["tx"])

    def _note_update(self, height: int, time_ms: int, tx: str) -> None:
        self.last_update = {"height": height, "time_ms": time_ms, "tx_id": tx}

    # -- batches ----------------------------------------------------------------------

    def _batch(self, root: str, seq: int) -> None:
        record = self.ledger.read(f"batch/{root}")
        if record is None:
            return
        self.conn.execute(
            "INSERT INTO batches (root, seq, reporter, by_did, tx, height, time_ms, format, "
            "source, file_sha256, rows, figures, first_date, last_date, metrics, cover, reason, "
            "status, problem, versions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, 'pending', '', 0) ON CONFLICT (root) DO NOTHING",
            (
                root, seq, record["reporter"], record["by"], record["tx"], record["height"],
                record["time_ms"], record["format"], record["source"], record["file_sha256"],
                record["rows"], record["figures"], record["first_date"], record["last_date"],
                json.dumps(record["metrics"]), json.dumps(record["cover"]), record["reason"],
            ),
        )  # fmt: skip
        self._note_update(record["height"], record["time_ms"], record["tx"])
        self._index_batch(root, record)

    def arrived(self) -> list[tuple[str, int, str]]:
        """``(root, seq, reporter)`` of ``unavailable`` batches whose blobs are all in the
        blob store now, in ledger order."""
        out = []
        for root, seq, reporter in self.conn.execute(
            "SELECT root, seq, reporter FROM batches WHERE status = 'unavailable' ORDER BY seq"
        ).fetchall():
            record = self.ledger.read(f"batch/{root}")
            if record is not None and all(self.blobs.has(a) for a in record["blobs"]):
                out.append((root, seq, reporter))
        return out

    def restated_after(self, late: list[tuple[str, int, str]], target: int) -> bool:
        """Whether a reporter of a ``late`` batch stated figures after it on the ledger.

        Versions are numbered in ledger order and a re-statement of the current value
        adds none, so a late batch can change the numbering (and the dedup) of every
        later statement of its reporter: then only a rebuild in ledger order is right.
        Without later statements its figures simply come last, as they do on the ledger.
        """
        reporters = {reporter for _, _, reporter in late}
        after = min(seq for _, seq, _ in late)
        while True:
            events = self.ledger.events(after, target, 2000)
            for event in events:
                kind = event.type
                if kind in ("reported", "corrected", "batch_anchored") and (
                    event.attrs.get("reporter") in reporters
                ):
                    return True
                after = event.seq
            if len(events) < 2000:
                return False

    def index_late(self, root: str) -> None:
        record = self.ledger.read(f"batch/{root}")
        if record is not None:
            self._index_batch(root, record)

    def _set_status(self, root: str, status: str, problem: str, versions: int = 0) -> None:
        self.conn.execute(
            "UPDATE batches SET status = ?, problem = ?, versions = ? WHERE root = ?",
            (status, problem, versions, root),
        )

    def _index_batch(self, root: str, record: dict[str, Any]) -> None:
        try:
            chunks = [self.blobs.get(address) for address in record["blobs"]]
        except NotFound as exc:
            self._set_status(root, "unavailable", f"{exc.reason} in this node's blob store")
            return
        except SalusError as exc:
            self._set_status(root, "unavailable", exc.reason)
            return
        try:
            rows = self._checked_rows(root, record, chunks)
        except _Invalid as exc:
            self._set_status(root, "invalid", str(exc))
            self.changed = True
            return
        items = []
        source = record["source"]
        reason = record["reason"] or f"re-published in {source}"
        for index, (data, row) in enumerate(rows):
            self.conn.execute(
                "INSERT OR REPLACE INTO rows (root, idx, region, data, leaf) "
                "VALUES (?, ?, ?, ?, ?)",
                (root, index, row.region, data, merkle.leaf_hash(data)),
            )
            self._region(row.region, dict(row.labels), record["format"])
            start = day_number(row.start)
            for offset, metric, value, basis in row.figures():
                items.append(
                    (row.region, start + offset, metric, value, basis, "batch", root, index,
                     record["tx"], record["height"], record["time_ms"], record["by"], "")
                )  # fmt: skip
        added = self._add(record["reporter"], items)
        if added:
            # Only changed figures get the batch's reason; version 1 figures keep "".
            self.conn.execute(
                "UPDATE figures SET reason = ? WHERE ref = ? AND version > 1 AND reason = ?",
                (reason, root, "re-published with a different value"),
            )
        self._set_status(root, "indexed", "", added)
        self.changed = True

    def _checked_rows(
        self, root: str, record: dict[str, Any], chunks: list[bytes]
    ) -> list[tuple[bytes, Row]]:
        try:
            encoded = [row for chunk in chunks for row in decode_chunk(chunk)]
        except EncodingError as exc:
            raise _Invalid(f"a blob is not a row chunk: {exc.reason}") from None
        if len(encoded) != record["rows"]:
            raise _Invalid(f"the blobs hold {len(encoded)} rows, the batch {record['rows']}")
        calculated = merkle.merkle_root(encoded).hex()
        if calculated != root:
            raise _Invalid(f"the rows give root {calculated}, not the anchored {root}")
        rows = []
        figures = 0
        seen: dict[str, int] = {}
        for index, data in enumerate(encoded):
            try:
                row = decode_row(data)
            except EncodingError as exc:
                raise _Invalid(f"row {index}: {exc.reason}") from None
            # Two rows of one region would give two "current" figures for one (region,
            # date, metric, reporter): the importer never builds such a batch.
            if row.region in seen:
                raise _Invalid(
                    f"row {index} is of {row.region}, like row {seen[row.region]}: "
                    "a batch states each region once"
                )
            seen[row.region] = index
            if not any(covers(scope, row.region) for scope in record["cover"]):
                raise _Invalid(f"row {index} is of {row.region}, outside the batch's cover")
            if row.start < record["first_date"] or row.end > record["last_date"]:
                raise _Invalid(f"row {index} has dates outside the batch's range")
            if not set(row.metrics) <= set(record["metrics"]):
                raise _Invalid(f"row {index} holds metrics the batch does not name")
            figures += row.figure_count()
            rows.append((data, row))
        if figures != record["figures"]:
            raise _Invalid(f"the rows hold {figures} figures, the batch {record['figures']}")
        return rows

    # -- summaries --------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute ``latest`` and ``derived`` for what this sync touched."""
        series: dict[tuple[str, str], tuple[int, list[int | None]]] = {}
        for region, metric in sorted(self.touched):
            self._refresh_own(region, metric, series)
        dirty = {
            (above, metric) for region, metric in self.touched for above in ancestors(region)[1:]
        }
        for region, metric in sorted(dirty, key=lambda item: -len(ancestors(item[0]))):
            self._refresh_derived(region, metric, series)

    def _primary_series(
        self,
        region: str,
        metric: str,
        cache: dict[tuple[str, str], tuple[int, list[int | None]]],
    ) -> tuple[int, list[int | None]] | None:
        if (region, metric) in cache:
            return cache[(region, metric)]
        row = self.conn.execute(
            "SELECT reporter FROM latest WHERE region = ? AND metric = ? AND reporter != '' "
            "ORDER BY figures DESC, reporter LIMIT 1",
            (region, metric),
        ).fetchone()
        if row is None:
            return None
        points = self.conn.execute(
            "SELECT day, value, basis FROM figures WHERE region = ? AND metric = ? AND "
            "reporter = ? AND current = 1 ORDER BY day",
            (region, metric, row[0]),
        ).fetchall()
        first = points[0][0]
        values = cumulative(((d - first, v, b) for d, v, b in points), points[-1][0] - first + 1)
        cache[(region, metric)] = (first, values)
        return first, values

    def _refresh_own(
        self,
        region: str,
        metric: str,
        cache: dict[tuple[str, str], tuple[int, list[int | None]]],
    ) -> None:
        self.conn.execute(
            "DELETE FROM latest WHERE region = ? AND metric = ? AND reporter != ''",
            (region, metric),
        )
        rows = self.conn.execute(
            "SELECT reporter, day, value, basis FROM figures WHERE region = ? AND metric = ? "
            "AND current = 1 ORDER BY reporter, day",
            (region, metric),
        ).fetchall()
        by_reporter: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        by_day: dict[int, set[tuple[int, str]]] = defaultdict(set)
        for reporter, day, value, basis in rows:
            by_reporter[reporter].append((day, value, basis))
            by_day[day].add((value, basis))
        conflicts = sum(1 for values in by_day.values() if len(values) > 1)
        for reporter, points in by_reporter.items():
            first = points[0][0]
            shifted = [(d - first, v, b) for d, v, b in points]
            totals = cumulative(shifted, points[-1][0] - first + 1)
            self._store_latest(region, metric, reporter, len(points), first, totals, shifted,
                               conflicts, 0)  # fmt: skip
        cache.pop((region, metric), None)

    def _store_latest(
        self,
        region: str,
        metric: str,
        reporter: str,
        count: int,
        first: int,
        totals: list[int | None],
        points: list[tuple[int, int, str]],
        conflicts: int,
        contributors: int,
    ) -> None:
        new = daily_new(totals, points)
        average = seven_day_average(new)
        last = max(i for i, v in enumerate(totals) if v is not None)
        self.conn.execute(
            "INSERT OR REPLACE INTO latest (region, metric, reporter, figures, first_day, day, "
            "cumulative, new, avg7, conflicts, contributors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?)",
            (region, metric, reporter, count, first, first + last, totals[last], new[last],
             average[last], conflicts, contributors),
        )  # fmt: skip

    def _refresh_derived(
        self,
        region: str,
        metric: str,
        cache: dict[tuple[str, str], tuple[int, list[int | None]]],
    ) -> None:
        self.conn.execute("DELETE FROM derived WHERE region = ? AND metric = ?", (region, metric))
        self.conn.execute(
            "DELETE FROM latest WHERE region = ? AND metric = ? AND reporter = ''",
            (region, metric),
        )
        own = self.conn.execute(
            "SELECT 1 FROM latest WHERE region = ? AND metric = ? AND reporter != '' LIMIT 1",
            (region, metric),
        ).fetchone()
        if own is not None:
            return
        if region == WORLD:
            candidates = self.conn.execute(
                "SELECT DISTINCT region FROM latest WHERE metric = ? AND reporter != ''",
                (metric,),
            ).fetchall()
        else:
            candidates = self.conn.execute(
                "SELECT DISTINCT region FROM latest WHERE metric = ? AND reporter != '' AND "
                "(region GLOB ? OR region GLOB ?)",
                (metric, f"{region}-*", f"{region}:*"),
            ).fetchall()
        with_data = {r[0] for r in candidates}
        contributors = []
        for candidate in sorted(with_data):
            chain = ancestors(candidate)
            if region not in chain:
                continue
            between = chain[1 : chain.index(region)]
            if not any(place in with_data for place in between):
                contributors.append(candidate)
        if not contributors:
            return
        parts = [s for c in contributors if (s := self._primary_series(c, metric, cache))]
        first = min(start for start, _ in parts)
        last = max(start + len(values) - 1 for start, values in parts)
        days = last - first + 1
        total: list[int | None] = [None] * days
        for start, values in parts:
            carried: int | None = None
            offset = start - first
            for k in range(offset, days):
                inside = k - offset
                value = values[inside] if inside < len(values) else None
                if value is not None:
                    carried = value
                if carried is not None:
                    current = total[k]
                    total[k] = carried if current is None else current + carried
        self.conn.executemany(
            "INSERT INTO derived (region, metric, day, value) VALUES (?, ?, ?, ?)",
            [(region, metric, first + k, v) for k, v in enumerate(total) if v is not None],
        )
        self._store_latest(region, metric, "", 0, first, total, [], 0, len(contributors))
