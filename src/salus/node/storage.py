"""SQLite storage for blocks, transactions, events and current state.

Rules this module obeys:
- One SQLite transaction per block: the header, every transaction with its
  result, every event and every state change commit together or not at all.
  The database runs in WAL mode with ``synchronous=FULL``, so a block reported
  committed survives ``kill -9`` and power loss, and a crash mid-write leaves the
  previous block as the tip — never half a block.
- The state table holds the *current* value of every key; the state tree is
  rebuilt from it at start-up and its root checked against the last header.
- Each thread gets its own connection (SQLite connections are not shared across
  threads); WAL lets readers run while the block producer writes.
- ``path=":memory:"`` gives the same store in memory, for fast tests.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salus.core import merkle
from salus.core.block import BlockHeader
from salus.core.ledger import PendingBlock
from salus.errors import StorageError

__all__ = ["EventRecord", "SqliteStore", "StoredBlock", "StoredTx"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    header BLOB NOT NULL,
    signature BLOB NOT NULL,
    time_ms INTEGER NOT NULL,
    tx_count INTEGER NOT NULL,
    tx_leaves BLOB NOT NULL,
    result_leaves BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
    id BLOB PRIMARY KEY,
    height INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    envelope BLOB NOT NULL,
    result BLOB NOT NULL,
    contract TEXT NOT NULL,
    action TEXT NOT NULL,
    signer BLOB NOT NULL,
    ok INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS txs_block ON txs(height, idx);
CREATE INDEX IF NOT EXISTS txs_contract ON txs(contract, height);
CREATE INDEX IF NOT EXISTS txs_signer ON txs(signer, height);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    height INTEGER NOT NULL,
    tx_idx INTEGER NOT NULL,
    tx_id BLOB NOT NULL,
    contract TEXT NOT NULL,
    type TEXT NOT NULL,
    subject TEXT,
    attrs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_contract ON events(contract, type, seq);
CREATE INDEX IF NOT EXISTS events_subject ON events(subject, seq);
CREATE TABLE IF NOT EXISTS state (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class StoredBlock:
    header: BlockHeader
    signature: bytes
    tx_leaves: tuple[bytes, ...]
    result_leaves: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class StoredTx:
    id: bytes
    height: int
    index: int
    envelope: bytes
    result: bytes


@dataclass(frozen=True, slots=True)
class EventRecord:
    seq: int
    height: int
    tx_index: int
    tx_id: str
    contract: str
    type: str
    subject: str | None
    attrs: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "height": self.height,
            "tx_index": self.tx_index,
            "tx_id": self.tx_id,
            "contract": self.contract,
            "type": self.type,
            "subject": self.subject,
            "attrs": self.attrs,
        }


def _split(blob: bytes) -> tuple[bytes, ...]:
    return tuple(blob[i : i + 32] for i in range(0, len(blob), 32))


class SqliteStore:
    """Blocks, transactions, events and state of one node, in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all_conns: list[sqlite3.Connection] = []
        self._memory_conn: sqlite3.Connection | None = None
        if self.path == ":memory:":
            # One shared connection: an in-memory database is private to it.
            self._memory_conn = sqlite3.connect(
                ":memory:", check_same_thread=False, isolation_level=None
            )
            self._lock = threading.RLock()
        else:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._lock = threading.RLock()
        conn = self._conn()
        conn.executescript(_SCHEMA)
        row = conn.execute("SELECT v FROM meta WHERE k = 'schema'").fetchone()
        if row is None:
            with conn:
                conn.execute("INSERT INTO meta VALUES ('schema', ?)", (b"%d" % SCHEMA_VERSION,))
        elif int(row[0]) != SCHEMA_VERSION:
            raise StorageError(f"database schema {row[0]} is not the supported {SCHEMA_VERSION}")

    # -- connections ------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._memory_conn is not None:
            return self._memory_conn
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._lock:
                self._all_conns.append(conn)
        return conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        if self._memory_conn is not None:
            with self._lock:
                yield self._memory_conn
        else:
            yield self._conn()

    def close(self) -> None:
        """Close every connection this store opened, from any thread."""
        with self._lock:
            for conn in self._all_conns:
                conn.close()
            self._all_conns.clear()
        self._local = threading.local()
        if self._memory_conn is not None:
            self._memory_conn.close()

    # -- meta -------------------------------------------------------------------

    def get_meta(self, key: str) -> bytes | None:
        with self._read() as conn:
            row = conn.execute("SELECT v FROM meta WHERE k = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def set_meta(self, key: str, value: bytes) -> None:
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- writes -----------------------------------------------------------------

    def initialise(self, genesis_hash: bytes, values: dict[bytes, bytes]) -> None:
        """Record the genesis hash and the genesis state, atomically, once."""
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("SELECT 1 FROM meta WHERE k = 'genesis_hash'").fetchone():
                    raise StorageError("this store is already initialised")
                conn.execute("INSERT INTO meta VALUES ('genesis_hash', ?)", (genesis_hash,))
                conn.executemany("INSERT INTO state VALUES (?, ?)", list(values.items()))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def commit_block(self, pending: PendingBlock, signature: bytes) -> None:
        """Persist a block and its state changes atomically."""
        header = pending.header
        tx_rows = []
        event_rows = []
        for index, (stx, result, leaf) in enumerate(
            zip(pending.txs, pending.results, pending.result_leaves, strict=True)
        ):
            tx = stx.tx
            tx_rows.append(
                (
                    stx.id,
                    header.height,
                    index,
                    stx.envelope,
                    leaf,
                    tx.contract,
                    tx.action,
                    tx.signer,
                    int(result.ok),
                )
            )
            for event in result.events:
                event_rows.append(
                    (
                        header.height,
                        index,
                        stx.id,
                        event.contract,
                        event.type,
                        event.subject,
                        json.dumps(event.attrs, sort_keys=True, separators=(",", ":")),
                    )
                )
        tx_leaves = b"".join(merkle.leaf_hash(stx.envelope) for stx in pending.txs)
        result_leaves = b"".join(merkle.leaf_hash(leaf) for leaf in pending.result_leaves)
        upserts = [(k, v) for k, v in pending.changes.items() if v is not None]
        deletes = [(k,) for k, v in pending.changes.items() if v is None]
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                tip = conn.execute("SELECT MAX(height) FROM blocks").fetchone()[0] or 0
                if header.height != tip + 1:
                    raise StorageError(f"block {header.height} does not follow stored tip {tip}")
                conn.execute(
                    "INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        header.height,
                        header.hash,
                        header.encode(),
                        signature,
                        header.time_ms,
                        header.tx_count,
                        tx_leaves,
                        result_leaves,
                    ),
                )
                conn.executemany(
                    "INSERT OR IGNORE INTO txs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", tx_rows
                )
                conn.executemany(
                    "INSERT INTO events (height, tx_idx, tx_id, contract, type, subject, attrs) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    event_rows,
                )
                conn.executemany("INSERT OR REPLACE INTO state VALUES (?, ?)", upserts)
                conn.executemany("DELETE FROM state WHERE key = ?", deletes)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- reads ------------------------------------------------------------------

    def height(self) -> int:
        with self._read() as conn:
            return int(conn.execute("SELECT COALESCE(MAX(height), 0) FROM blocks").fetchone()[0])

    def load_state(self) -> dict[bytes, bytes]:
        with self._read() as conn:
            return {bytes(k): bytes(v) for k, v in conn.execute("SELECT key, value FROM state")}

    def get_block(self, height: int) -> StoredBlock | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT header, signature, tx_leaves, result_leaves FROM blocks WHERE height = ?",
                (height,),
            ).fetchone()
        if row is None:
            return None
        return StoredBlock(
            BlockHeader.decode(bytes(row[0])), bytes(row[1]), _split(row[2]), _split(row[3])
        )

    def last_block(self) -> StoredBlock | None:
        height = self.height()
        return self.get_block(height) if height else None

    def list_headers(self, *, before: int | None, limit: int) -> list[BlockHeader]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT header FROM blocks WHERE height < ? ORDER BY height DESC LIMIT ?",
                (before if before is not None else 1 << 62, limit),
            ).fetchall()
        return [BlockHeader.decode(bytes(row[0])) for row in rows]

    def block_tx_ids(self, height: int) -> list[bytes]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id FROM txs WHERE height = ? ORDER BY idx", (height,)
            ).fetchall()
        return [bytes(row[0]) for row in rows]

    def block_txs(self, height: int, *, offset: int, limit: int) -> list[StoredTx]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, height, idx, envelope, result FROM txs WHERE height = ? "
                "ORDER BY idx LIMIT ? OFFSET ?",
                (height, limit, offset),
            ).fetchall()
        return [StoredTx(bytes(r[0]), r[1], r[2], bytes(r[3]), bytes(r[4])) for r in rows]

    def get_tx(self, tx_id: bytes) -> StoredTx | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT id, height, idx, envelope, result FROM txs WHERE id = ?", (tx_id,)
            ).fetchone()
        if row is None:
            return None
        return StoredTx(bytes(row[0]), row[1], row[2], bytes(row[3]), bytes(row[4]))

    def find_txs(
        self,
        *,
        contract: str | None,
        signer: bytes | None,
        before_height: int | None,
        limit: int,
    ) -> list[StoredTx]:
        """Transactions by contract and/or signer, newest first."""
        clauses = ["height < ?"]
        params: list[int | str | bytes] = [before_height if before_height is not None else 1 << 62]
        if contract is not None:
            clauses.append("contract = ?")
            params.append(contract)
        if signer is not None:
            clauses.append("signer = ?")
            params.append(signer)
        query = (
            "SELECT id, height, idx, envelope, result FROM txs WHERE "
            + " AND ".join(clauses)
            + " ORDER BY height DESC, idx DESC LIMIT ?"
        )
        with self._read() as conn:
            rows = conn.execute(query, (*params, limit)).fetchall()
        return [StoredTx(bytes(r[0]), r[1], r[2], bytes(r[3]), bytes(r[4])) for r in rows]

    def events(
        self,
        *,
        contract: str | None = None,
        type: str | None = None,
        subject: str | None = None,
        tx_id: bytes | None = None,
        from_height: int | None = None,
        to_height: int | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[EventRecord]:
        """Events matching every given filter, oldest first, after cursor ``after``."""
        clauses = ["seq > ?"]
        params: list[int | str | bytes] = [after]
        for column, value in (
            ("contract", contract),
            ("type", type),
            ("subject", subject),
            ("tx_id", tx_id),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if from_height is not None:
            clauses.append("height >= ?")
            params.append(from_height)
        if to_height is not None:
            clauses.append("height <= ?")
            params.append(to_height)
        query = (
            "SELECT seq, height, tx_idx, tx_id, contract, type, subject, attrs FROM events WHERE "
            + " AND ".join(clauses)
            + " ORDER BY seq LIMIT ?"
        )
        with self._read() as conn:
            rows = conn.execute(query, (*params, limit)).fetchall()
        return [
            EventRecord(r[0], r[1], r[2], bytes(r[3]).hex(), r[4], r[5], r[6], json.loads(r[7]))
            for r in rows
        ]

    def state_keys(self, prefix: bytes, *, after: bytes | None, limit: int) -> list[bytes]:
        """Current state keys starting with ``prefix``, in byte order, for listings."""
        # Keys sharing a prefix are contiguous in byte order: scan from the prefix
        # (or the cursor) and stop at the first key outside it.
        with self._read() as conn:
            rows = conn.execute(
                "SELECT key FROM state WHERE key >= ? AND key > ? ORDER BY key LIMIT ?",
                (prefix, after or b"", limit),
            ).fetchall()
        keys = []
        for (key,) in rows:
            if not bytes(key).startswith(prefix):
                break
            keys.append(bytes(key))
        return keys

    def size_bytes(self) -> int:
        """Bytes on disk: the database plus its WAL."""
        if self._memory_conn is not None:
            return 0
        total = 0
        for suffix in ("", "-wal", "-shm"):
            p = Path(self.path + suffix)
            if p.exists():
                total += p.stat().st_size
        return total
