"""The node-side figure index: every figure of every batch and report, queryable fast.

Rules this module obeys:
- It is a cache, never an authority. Everything in it is rebuilt from the ledger's
  ``outbreak`` events and state plus the blob store: delete the file and the next
  :meth:`FigureIndex.sync` builds it again (the genesis hash in its meta table also
  forces a rebuild when the node's data directory is replaced).
- It only ever indexes committed blocks (events up to the ledger's height, read under
  the node's commit lock), in ledger order, so versions are numbered the same way on
  every node.
- A batch whose blobs do not match its anchored root, row count, figure count, cover,
  dates or metrics, or that states a region twice, is marked ``invalid`` with the reason
  and none of its figures are indexed; one whose blobs are not in this node's blob store
  is ``unavailable`` (another node of the network may hold them). Every sync looks for
  its blobs, even when the ledger has not moved. When they arrive the batch takes its
  ledger place: if its reporter stated figures after it, the index is rebuilt in ledger
  order (a late batch may come before a correction, or make a later re-statement a new
  version); otherwise its figures are simply the reporter's latest. Until then the
  versions of figures it would touch are provisional on this node.

Theory of operation. A *figure* is (region, date, metric, reporter). Each value it ever
had is a row of ``figures`` with a per-figure version number; ``current`` marks the
latest. A batch re-stating a figure's current value adds no version; a batch or
correction changing it adds one, with the correction's reason (or, for a batch, its
``reason`` or "re-published in <file>"). After each sync the ``latest`` table (each
region's last figures per metric and reporter, for the map) and the ``derived`` table
(cumulative series of regions with no figures of their own, summed from the regions
below them, and of the whole world ``*``) are refreshed for what changed. Summing
carries each contributing region's last cumulative total forward over days it did not
report, so one missing cell does not dent a country or the world.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salus.apps.outbreak.batches import Row, add_days, day_number
from salus.apps.outbreak.contract import OUTBREAK
from salus.apps.outbreak.indexing import BlobSource, IndexWriter, LedgerSource
from salus.apps.outbreak.regions import (
    WORLD,
    describe,
)
from salus.apps.outbreak.series import cumulative
from salus.core import merkle
from salus.errors import NotFound

if TYPE_CHECKING:  # salus.node imports the apps: no import cycle at run time
    from salus.node.node import Node

__all__ = ["BlobSource", "FigureIndex", "IndexedFigure", "LedgerSource", "NodeLedger"]

SCHEMA_VERSION = "1"
_EPOCH_DAY = 0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    root TEXT PRIMARY KEY, seq INTEGER NOT NULL, reporter TEXT NOT NULL, by_did TEXT NOT NULL,
    tx TEXT NOT NULL, height INTEGER NOT NULL, time_ms INTEGER NOT NULL, format TEXT NOT NULL,
    source TEXT NOT NULL, file_sha256 TEXT NOT NULL, rows INTEGER NOT NULL,
    figures INTEGER NOT NULL, first_date TEXT NOT NULL, last_date TEXT NOT NULL,
    metrics TEXT NOT NULL, cover TEXT NOT NULL, reason TEXT NOT NULL, status TEXT NOT NULL,
    problem TEXT NOT NULL, versions INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rows (
    root TEXT NOT NULL, idx INTEGER NOT NULL, region TEXT NOT NULL, data BLOB NOT NULL,
    leaf BLOB NOT NULL, PRIMARY KEY (root, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS regions (
    region TEXT PRIMARY KEY, ord INTEGER NOT NULL, country TEXT NOT NULL, parent TEXT,
    level TEXT NOT NULL, population INTEGER
);
CREATE INDEX IF NOT EXISTS regions_parent ON regions(parent);
CREATE TABLE IF NOT EXISTS labels (
    region TEXT NOT NULL, format TEXT NOT NULL, ord INTEGER NOT NULL, labels TEXT NOT NULL,
    PRIMARY KEY (region, format)
);
CREATE TABLE IF NOT EXISTS figures (
    id INTEGER PRIMARY KEY, region TEXT NOT NULL, day INTEGER NOT NULL, metric TEXT NOT NULL,
    reporter TEXT NOT NULL, value INTEGER NOT NULL, basis TEXT NOT NULL, version INTEGER NOT NULL,
    source TEXT NOT NULL, ref TEXT NOT NULL, pos INTEGER NOT NULL, tx TEXT NOT NULL,
    height INTEGER NOT NULL, time_ms INTEGER NOT NULL, by_did TEXT NOT NULL,
    reason TEXT NOT NULL, current INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS figures_series ON figures(region, metric, reporter, day)
    WHERE current = 1;
CREATE INDEX IF NOT EXISTS figures_figure ON figures(region, day, metric);
CREATE TABLE IF NOT EXISTS derived (
    region TEXT NOT NULL, metric TEXT NOT NULL, day INTEGER NOT NULL, value INTEGER NOT NULL,
    PRIMARY KEY (region, metric, day)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS latest (
    region TEXT NOT NULL, metric TEXT NOT NULL, reporter TEXT NOT NULL, figures INTEGER NOT NULL,
    first_day INTEGER NOT NULL, day INTEGER NOT NULL, cumulative INTEGER NOT NULL,
    new INTEGER, avg7 REAL, conflicts INTEGER NOT NULL, contributors INTEGER NOT NULL,
    PRIMARY KEY (region, metric, reporter)
) WITHOUT ROWID;
"""


class NodeLedger:
    """The :class:`LedgerSource` of a node: committed events and state, read under its
    commit lock."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def genesis_hash(self) -> str:
        return self.node.genesis.hash.hex()

    def height(self) -> int:
        return self.node.ledger.height

    def events(self, after: int, to_height: int, limit: int) -> list[Any]:
        return self.node.store.events(
            contract=OUTBREAK, after=after, to_height=to_height, limit=limit
        )

    def read(self, key: str) -> Any:
        with self.node.commit_lock:
            return self.node.ledger.read(OUTBREAK, key)


@dataclass(frozen=True, slots=True)
class IndexedFigure:
    """One version of one figure, as the index holds it."""

    region: str
    date: str
    metric: str
    reporter: str
    value: int
    basis: str
    version: int
    source: str  # "batch" or "report"
    ref: str  # the batch root, or the report's state key
    pos: int  # the row in the batch, or the report record's version
    tx: str
    height: int
    time_ms: int
    by: str
    reason: str
    current: bool

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "version": self.version,
            "value": self.value,
            "basis": self.basis,
            "current": self.current,
            "source": self.source,
            "batch": self.ref if self.source == "batch" else None,
            "row": self.pos if self.source == "batch" else None,
            "ledger_version": self.pos if self.source == "report" else None,
            "tx_id": self.tx,
            "height": self.height,
            "time_ms": self.time_ms,
            "signed_by": self.by,
            "reason": self.reason,
        }
        return out


def _date(day: int) -> str:
    return add_days("1970-01-01", day)


class FigureIndex:
    """The figure index in one SQLite file (or in memory), safe to share across threads."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._finalizer = weakref.finalize(self, self._conn.close)
        if self.path != ":memory:":
            # A rebuildable cache: WAL for concurrent readers, no fsync per commit.
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        # Snapshots key caches by the stored generation: continue it, never restart at 0.
        self.generation = int(self._meta("generation") or 0)
        self._lock = threading.RLock()  # the writer's: held by a sync
        self._cache_lock = threading.Lock()
        self._local = threading.local()  # per thread: its reader, its active snapshot
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._on_close: list[Callable[[], None]] = []
        self.error: str | None = None  # the last background sync's failure, if any
        self._height = -1
        self._waiting: list[tuple[str, ...]] = []  # blob addresses of unavailable batches
        self._cache: dict[tuple[Any, ...], Any] = {}

    @classmethod
    def beside(cls, blobs: object) -> FigureIndex:
        """The index next to a file blob store (``<dir>/outbreak-index.sqlite``), else in
        memory."""
        root = getattr(blobs, "root", None)
        if isinstance(root, Path):
            return cls(root.parent / "outbreak-index.sqlite")
        return cls()

    def on_close(self, stop: Callable[[], None]) -> None:
        """Call ``stop`` (say, to stop a background indexer) first when closing."""
        self._on_close.append(stop)

    def close(self) -> None:
        for stop in self._on_close:
            stop()
        self._on_close.clear()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._finalizer()

    # -- meta ---------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT v FROM meta WHERE k = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: object) -> None:
        self._conn.execute(
            "INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
            (key, str(value)),
        )

    def _reset(self, genesis: str) -> None:
        for table in ("meta", "batches", "rows", "regions", "labels", "figures", "derived"):
            self._conn.execute(f"DELETE FROM {table}")
        self._conn.execute("DELETE FROM latest")
        self._set_meta("genesis", genesis)
        self._set_meta("schema", SCHEMA_VERSION)
        self._set_meta("cursor", 0)
        self._set_meta("height", 0)

    @property
    def height(self) -> int:
        """The ledger height the index reflects (-1 before the first sync)."""
        return self._height

    # -- sync ---------------------------------------------------------------------------

    def sync(self, ledger: LedgerSource, blobs: BlobSource) -> bool:
        """Index every committed ``outbreak`` event not yet indexed, and any ``unavailable``
        batch whose blobs have arrived since; ``True`` if anything changed. Cheap when the
        ledger has not moved and no waiting batch's blobs arrived (one blob-store lookup
        per waiting blob)."""
        target = ledger.height()
        if target == self._height and not self._arrived(blobs):
            return False
        with self._lock:
            if target == self._height and not self._arrived(blobs):
                return False
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                changed = self._sync(ledger, blobs, target)
                if changed:
                    self._set_meta("generation", self.generation + 1)
                waiting = [
                    tuple(ledger.read(f"batch/{root}")["blobs"])
                    for (root,) in self._conn.execute(
                        "SELECT root FROM batches WHERE status = 'unavailable'"
                    ).fetchall()
                ]
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self._height = target
            self._waiting = waiting
            if changed:
                self.generation += 1
                with self._cache_lock:
                    self._cache.clear()
            return changed

    def _arrived(self, blobs: BlobSource) -> bool:
        return any(all(blobs.has(a) for a in addresses) for addresses in self._waiting)

    def _sync(self, ledger: LedgerSource, blobs: BlobSource, target: int) -> bool:
        genesis = ledger.genesis_hash()
        stored_height = self._meta("height")
        if (
            self._meta("genesis") != genesis
            or self._meta("schema") != SCHEMA_VERSION
            or stored_height is None
            or int(stored_height) > target
        ):
            self._reset(genesis)
        cursor = int(self._meta("cursor") or 0)
        writer = IndexWriter(self._conn, ledger, blobs)
        cursor = self._apply(writer, ledger, cursor, target)
        late = writer.arrived()
        if late and writer.restated_after(late, target):
            # A late batch lands before statements already numbered: rebuild in ledger
            # order so every node, whenever its blobs arrived, numbers versions alike.
            self._reset(genesis)
            writer = IndexWriter(self._conn, ledger, blobs)
            cursor = self._apply(writer, ledger, 0, target)
            writer.changed = True
        else:
            for root, _, _ in late:
                writer.index_late(root)
        writer.refresh()
        self._set_meta("cursor", cursor)
        self._set_meta("height", target)
        if writer.last_update is not None:
            self._set_meta("last_update", json.dumps(writer.last_update))
        return bool(writer.changed)

    def _apply(self, writer: IndexWriter, ledger: LedgerSource, cursor: int, target: int) -> int:
        while True:
            events = ledger.events(cursor, target, 2000)
            for event in events:
                writer.handle(event)
                cursor = event.seq
            if len(events) < 2000:
                return cursor

    # -- reads ----------------------------------------------------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[tuple[int, int]]:
        """Read from one committed state of the index: ``(height, generation)`` of it.

        Every read method called on this thread inside the block sees that state, however
        far a sync running meanwhile has got (its own SQLite connection, WAL: readers never
        wait for the writer). An in-memory index has one connection, so there a snapshot
        holds the index lock instead."""
        active = getattr(self._local, "active", None)
        if active is not None:  # nested: the outer snapshot's state
            yield self._local.state
            return
        if self.path == ":memory:":
            with self._lock:
                self._local.active = self._conn
                try:
                    self._local.state = (self._height, self.generation)
                    yield self._local.state
                finally:
                    self._local.active = None
            return
        conn = self._reader()
        conn.execute("BEGIN")
        self._local.active = conn
        try:
            meta = dict(conn.execute("SELECT k, v FROM meta WHERE k IN ('height', 'generation')"))
            self._local.state = (int(meta.get("height", -1)), int(meta.get("generation", 0)))
            yield self._local.state
        finally:
            self._local.active = None
            conn.execute("COMMIT")

    def snapshot_state(self) -> tuple[int, int]:
        """``(height, generation)`` of the snapshot this thread is reading from."""
        if getattr(self._local, "active", None) is None:
            raise RuntimeError("not inside FigureIndex.snapshot()")
        state: tuple[int, int] = self._local.state
        return state

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if conn is None:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA query_only = ON")
            self._local.reader = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self.snapshot():
            yield self._local.active

    def cached(self, key: tuple[Any, ...], build: Any) -> Any:
        """``build()``, remembered under ``key`` until the index next changes (put the
        snapshot's generation in the key)."""
        with self._cache_lock:
            if key in self._cache:
                return self._cache[key]
        value = build()
        with self._cache_lock:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[key] = value
        return value

    def last_update(self) -> dict[str, Any] | None:
        """Height, block time and transaction of the last outbreak change indexed."""
        with self._reading() as conn:
            row = conn.execute("SELECT v FROM meta WHERE k = 'last_update'").fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def status(self) -> dict[str, Any]:
        """Batches by index status, current figures, versions and regions indexed."""
        with self._reading() as conn:
            height = self._local.state[0]
            counts = dict(conn.execute("SELECT status, COUNT(*) FROM batches GROUP BY status"))
            figures = _count(conn, "SELECT COUNT(*) FROM figures WHERE current = 1")
            versions = _count(conn, "SELECT COUNT(*) FROM figures")
            regions = _count(conn, "SELECT COUNT(*) FROM regions")
            last_update = self.last_update()
        return {
            "height": height,
            "batches": counts,
            "figures": figures,
            "figure_versions": versions,
            "regions": regions,
            "last_update": last_update,
            "indexer_error": self.error,
        }

    def known_region(self, region: str) -> bool:
        with self._reading() as conn:
            row = conn.execute("SELECT 1 FROM regions WHERE region = ?", (region,))
            return row.fetchone() is not None or region == WORLD

    def region_record(self, region: str) -> dict[str, Any]:
        """Name, level, parent, ISO codes, coordinates and population of an indexed region."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT population FROM regions WHERE region = ?", (region,)
            ).fetchone()
        if region == WORLD:
            info: dict[str, Any] = {"region": WORLD, "name": "World", "level": "world"}
            info.update(parent=None, iso2=None, iso3=None, lat=None, long=None)
            info["population"] = None
            return info
        if row is None:
            raise NotFound(f"no figures are indexed for region {region}")
        info = describe(region).to_json()
        if info["population"] is None and row[0] is not None:
            info["population"] = row[0]
        return info

    def latest(self, regions: Sequence[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """``latest`` rows of ``regions``: {region: {metric: [row...]}} (own reporters
        first by figure count, then the derived sum with reporter ``""``)."""
        out: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        with self._reading() as conn:
            for start in range(0, len(regions), 500):
                chunk = list(regions[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    "SELECT region, metric, reporter, figures, first_day, day, cumulative, new, "
                    f"avg7, conflicts, contributors FROM latest WHERE region IN ({marks}) "
                    "ORDER BY region, metric, reporter = '', figures DESC, reporter",
                    chunk,
                ).fetchall()
                for r in rows:
                    out[r[0]][r[1]].append(
                        {
                            "reporter": r[2] or None,
                            "figures": r[3],
                            "first_date": _date(r[4]),
                            "date": _date(r[5]),
                            "cumulative": r[6],
                            "new": r[7],
                            "avg7": r[8],
                            "conflicts": r[9],
                            "derived": r[2] == "",
                            "contributors": r[10],
                        }
                    )
        return out

    def children(self, region: str | None) -> list[str]:
        """Indexed regions directly below ``region`` (top-level regions for ``None``)."""
        with self._reading() as conn:
            if region is None or region == WORLD:
                rows = conn.execute(
                    "SELECT region FROM regions WHERE parent IS NULL ORDER BY region"
                )
            else:
                rows = conn.execute(
                    "SELECT region FROM regions WHERE parent = ? ORDER BY region", (region,)
                )
            return [r[0] for r in rows]

    def child_counts(self, regions: Sequence[str]) -> dict[str, int]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT parent, COUNT(*) FROM regions WHERE parent IS NOT NULL GROUP BY parent"
            ).fetchall()
        wanted = set(regions)
        return {p: n for p, n in rows if p in wanted}

    def reporters(self, region: str, metric: str) -> list[str]:
        """Reporters with figures for ``region`` and ``metric``, most figures first."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT reporter FROM latest WHERE region = ? AND metric = ? AND reporter != '' "
                "ORDER BY figures DESC, reporter",
                (region, metric),
            ).fetchall()
        return [r[0] for r in rows]

    def own_points(self, region: str, metric: str, reporter: str) -> list[tuple[int, int, str]]:
        """``(day, value, basis)`` of a reporter's current figures, by day."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT day, value, basis FROM figures WHERE region = ? AND metric = ? "
                "AND reporter = ? AND current = 1 ORDER BY day",
                (region, metric, reporter),
            ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def derived_points(self, region: str, metric: str) -> list[tuple[int, int]]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT day, value FROM derived WHERE region = ? AND metric = ? ORDER BY day",
                (region, metric),
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def disagreements(self, region: str, metric: str) -> dict[int, dict[str, tuple[int, str]]]:
        """Days on which reporters' current figures differ: {day: {reporter: (value, basis)}}."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT day, reporter, value, basis FROM figures WHERE region = ? AND metric = ? "
                "AND current = 1 AND day IN (SELECT day FROM figures WHERE region = ? AND "
                "metric = ? AND current = 1 GROUP BY day HAVING COUNT(*) > 1) ORDER BY day",
                (region, metric, region, metric),
            ).fetchall()
        days: dict[int, dict[str, tuple[int, str]]] = defaultdict(dict)
        for day, reporter, value, basis in rows:
            days[day][reporter] = (value, basis)
        return {d: v for d, v in days.items() if len(set(v.values())) > 1}

    def versions(self, region: str, date: str, metric: str) -> list[IndexedFigure]:
        """Every version of every reporter's figure, by reporter then version."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT region, day, metric, reporter, value, basis, version, source, ref, pos, "
                "tx, height, time_ms, by_did, reason, current FROM figures "
                "WHERE region = ? AND day = ? AND metric = ? ORDER BY reporter, version",
                (region, day_number(date), metric),
            ).fetchall()
        return [
            IndexedFigure(
                region=r[0], date=_date(r[1]), metric=r[2], reporter=r[3], value=r[4],
                basis=r[5], version=r[6], source=r[7], ref=r[8], pos=r[9], tx=r[10],
                height=r[11], time_ms=r[12], by=r[13], reason=r[14], current=bool(r[15]),
            )
            for r in rows
        ]  # fmt: skip

    def batch(self, root: str) -> dict[str, Any]:
        with self._reading() as conn:
            row = conn.execute(
                "SELECT root, seq, reporter, by_did, tx, height, time_ms, format, source, "
                "file_sha256, rows, figures, first_date, last_date, metrics, cover, reason, "
                "status, problem, versions FROM batches WHERE root = ?",
                (root,),
            ).fetchone()
        if row is None:
            raise NotFound(f"no batch {root} is indexed at height {self._local.state[0]}")
        return _batch_json(row)

    def batches(self, *, after: int, limit: int) -> list[dict[str, Any]]:
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT root, seq, reporter, by_did, tx, height, time_ms, format, source, "
                "file_sha256, rows, figures, first_date, last_date, metrics, cover, reason, "
                "status, problem, versions FROM batches WHERE seq > ? ORDER BY seq LIMIT ?",
                (after, limit),
            ).fetchall()
        return [_batch_json(row) for row in rows]

    def batch_row(self, root: str, index: int) -> tuple[bytes, int, tuple[bytes, ...]]:
        """``(row bytes, row count, inclusion path)`` of row ``index`` of a batch."""
        with self._reading() as conn:
            leaves = [
                bytes(r[0])
                for r in conn.execute("SELECT leaf FROM rows WHERE root = ? ORDER BY idx", (root,))
            ]
            data = conn.execute(
                "SELECT data FROM rows WHERE root = ? AND idx = ?", (root, index)
            ).fetchone()
        if data is None:
            raise NotFound(f"batch {root} has no indexed row {index}")
        return bytes(data[0]), len(leaves), merkle.inclusion_proof(leaves, index)

    def export_rows(
        self, format: str, *, metric: str | None = None, date: str | None = None
    ) -> list[Row]:
        """Rows to write a JHU file (or its JSON) from: each region's primary reporter's
        cumulative series, with the labels the region last came with in ``format``."""
        with self.snapshot():
            return _Exporter(self).rows(format, metric=metric, date=date)

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        with self._reading() as conn:
            return conn.execute(sql, tuple(params)).fetchall()


def _count(conn: sqlite3.Connection, sql: str) -> int:
    return int(conn.execute(sql).fetchone()[0])


def _batch_json(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "root": row[0],
        "seq": row[1],
        "reporter": row[2],
        "signed_by": row[3],
        "tx_id": row[4],
        "height": row[5],
        "time_ms": row[6],
        "format": row[7],
        "source": row[8],
        "file_sha256": row[9],
        "rows": row[10],
        "figures": row[11],
        "first_date": row[12],
        "last_date": row[13],
        "metrics": json.loads(row[14]),
        "cover": json.loads(row[15]),
        "reason": row[16],
        "status": row[17],
        "problem": row[18] or None,
        "new_versions": row[19],
    }


class _Exporter:
    """Builds export rows from the index (called under the index lock)."""

    def __init__(self, index: FigureIndex) -> None:
        self.index = index

    def _labelled(self, format: str) -> list[tuple[str, dict[str, str]]]:
        rows = self.index._execute(
            "SELECT region, labels FROM labels WHERE format = ? ORDER BY ord", (format,)
        )
        return [(r[0], json.loads(r[1])) for r in rows]

    def _series(self, region: str, metric: str) -> tuple[int, list[int | None]] | None:
        reporters = self.index.reporters(region, metric)
        if not reporters:
            return None
        points = self.index.own_points(region, metric, reporters[0])
        first = points[0][0]
        values = cumulative(((d - first, v, b) for d, v, b in points), points[-1][0] - first + 1)
        return first, values

    def rows(self, format: str, *, metric: str | None, date: str | None) -> list[Row]:
        labelled = self._labelled(format)
        seen = {region for region, _ in labelled}
        us_format = format == "jhu-us-ts"
        others = [
            r[0]
            for r in self.index._execute(
                "SELECT DISTINCT f.region FROM figures f JOIN regions g ON g.region = f.region "
                "WHERE f.current = 1 ORDER BY g.ord"
            )
            if r[0] not in seen
            and not self.index._execute("SELECT 1 FROM labels WHERE region = ?", (r[0],))
            and (r[0].startswith(("US-", "US:")) == us_format or format == "jhu-daily")
        ]
        order = [*labelled, *((region, {}) for region in others)]
        out: list[Row] = []
        if format == "jhu-daily" and date is not None:
            day = day_number(date)
            for region, labels in order:
                metrics: dict[str, tuple[str, list[int | None]]] = {}
                for name in ("confirmed", "deaths", "recovered"):
                    found = self._series(region, name)
                    if found is not None and 0 <= day - found[0] < len(found[1]):
                        value = found[1][day - found[0]]
                        if value is not None:
                            metrics[name] = ("cumulative", [value])
                if metrics:
                    out.append(Row(region, date, metrics, labels))
            return out
        if metric is None:
            return out
        for region, labels in order:
            found = self._series(region, metric)
            if found is not None:
                out.append(Row(region, _date(found[0]), {metric: ("cumulative", found[1])}, labels))
        return out
