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

import hashlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salus.core import merkle
from salus.core.block import BlockHeader, TxResult
from salus.core.ledger import PendingBlock
from salus.core.tx import SignedTransaction
from salus.errors import StorageError

__all__ = ["EventRecord", "SqliteStore", "StoredBlock", "StoredTx"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    header BLOB NOT NULL,
    signature BLOB NOT NULL,
    first_tx INTEGER NOT NULL
);
-- One row per transaction, appended in (height, index) order, so ``seq`` order is
-- block order and a block's transactions are the range first_tx .. first_tx+n-1.
-- Ids, signers and subjects are indexed by an 8-byte prefix (``*8`` columns) to keep
-- the indexes small; every lookup then confirms the full value.
CREATE TABLE IF NOT EXISTS txs (
    seq INTEGER PRIMARY KEY,
    id8 INTEGER NOT NULL,
    height INTEGER NOT NULL,
    contract TEXT NOT NULL,
    signer8 INTEGER NOT NULL,
    envelope BLOB NOT NULL,
    result BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS txs_id ON txs(id8);
CREATE INDEX IF NOT EXISTS txs_contract ON txs(contract, seq);
CREATE INDEX IF NOT EXISTS txs_signer ON txs(signer8, seq);
-- Event attributes live in the transaction's result; this table is the index.
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    tx_seq INTEGER NOT NULL,
    ev_idx INTEGER NOT NULL,
    height INTEGER NOT NULL,
    contract TEXT NOT NULL,
    type TEXT NOT NULL,
    subject TEXT,
    subject8 INTEGER
);
CREATE INDEX IF NOT EXISTS events_contract ON events(contract, type, seq);
CREATE INDEX IF NOT EXISTS events_subject ON events(subject8, seq);
CREATE TABLE IF NOT EXISTS state (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
"""


def _prefix8(data: bytes) -> int:
    """First 8 bytes as a signed 64-bit integer (SQLite INTEGER range)."""
    return int.from_bytes(data[:8], "big", signed=True)


def _subject8(subject: str | None) -> int | None:
    return None if subject is None else _prefix8(hashlib.sha256(subject.encode()).digest())


@dataclass(frozen=True, slots=True)
class StoredBlock:
    header: BlockHeader
    signature: bytes


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
        upserts = [(k, v) for k, v in pending.changes.items() if v is not None]
        deletes = [(k,) for k, v in pending.changes.items() if v is None]
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                tip, last_seq = conn.execute(
                    "SELECT COALESCE(MAX(height), 0), "
                    "(SELECT COALESCE(MAX(seq), 0) FROM txs) FROM blocks"
                ).fetchone()
                if header.height != tip + 1:
                    raise StorageError(f"block {header.height} does not follow stored tip {tip}")
                first = last_seq + 1
                tx_rows = []
                event_rows = []
                for index, (stx, result, leaf) in enumerate(
                    zip(pending.txs, pending.results, pending.result_leaves, strict=True)
                ):
                    seq = first + index
                    tx_rows.append(
                        (
                            seq,
                            _prefix8(stx.id),
                            header.height,
                            stx.tx.contract,
                            _prefix8(stx.tx.signer),
                            stx.envelope,
                            leaf,
                        )
                    )
                    for ev_idx, event in enumerate(result.events):
                        event_rows.append(
                            (
                                seq,
                                ev_idx,
                                header.height,
                                event.contract,
                                event.type,
                                event.subject,
                                _subject8(event.subject),
                            )
                        )
                conn.execute(
                    "INSERT INTO blocks VALUES (?, ?, ?, ?)",
                    (header.height, header.encode(), signature, first),
                )
                conn.executemany("INSERT INTO txs VALUES (?, ?, ?, ?, ?, ?, ?)", tx_rows)
                conn.executemany(
                    "INSERT INTO events (tx_seq, ev_idx, height, contract, type, subject, "
                    "subject8) VALUES (?, ?, ?, ?, ?, ?, ?)",
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

    def total_txs(self) -> int:
        """Transactions in all committed blocks."""
        with self._read() as conn:
            return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM txs").fetchone()[0])

    def load_state(self) -> dict[bytes, bytes]:
        with self._read() as conn:
            return {bytes(k): bytes(v) for k, v in conn.execute("SELECT key, value FROM state")}

    def get_block(self, height: int) -> StoredBlock | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT header, signature FROM blocks WHERE height = ?", (height,)
            ).fetchone()
        if row is None:
            return None
        return StoredBlock(BlockHeader.decode(bytes(row[0])), bytes(row[1]))

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

    def _first_tx(self, conn: sqlite3.Connection, height: int) -> int | None:
        row = conn.execute("SELECT first_tx FROM blocks WHERE height = ?", (height,)).fetchone()
        return None if row is None else int(row[0])

    def block_txs(self, height: int, *, offset: int = 0, limit: int = 1 << 30) -> list[StoredTx]:
        """A block's transactions in block order (a page of them)."""
        with self._read() as conn:
            first = self._first_tx(conn, height)
            if first is None:
                return []
            rows = conn.execute(
                "SELECT seq, height, envelope, result FROM txs WHERE seq >= ? AND height = ? "
                "ORDER BY seq LIMIT ?",
                (first + max(offset, 0), height, limit),
            ).fetchall()
        return [self._stored(first, r) for r in rows]

    def block_tx_ids(self, height: int) -> list[bytes]:
        return [tx.id for tx in self.block_txs(height)]

    def block_leaves(self, height: int) -> tuple[list[bytes], list[bytes]]:
        """Leaf hashes of a block's transaction tree and result tree (RFC 9162)."""
        with self._read() as conn:
            first = self._first_tx(conn, height)
            rows = conn.execute(
                "SELECT envelope, result FROM txs WHERE seq >= ? AND height = ? ORDER BY seq",
                (first or 0, height),
            ).fetchall()
        return (
            [merkle.leaf_hash(bytes(envelope)) for envelope, _ in rows],
            [merkle.leaf_hash(bytes(result)) for _, result in rows],
        )

    @staticmethod
    def _stored(first: int, row: Any) -> StoredTx:
        seq, height, envelope, result = row
        tx_id = TxResult.decode(bytes(result)).tx_id
        return StoredTx(tx_id, height, seq - first, bytes(envelope), bytes(result))

    def _stored_by_seq(self, conn: sqlite3.Connection, rows: list[Any]) -> list[StoredTx]:
        firsts: dict[int, int] = {}
        out = []
        for row in rows:
            height = row[1]
            if height not in firsts:
                firsts[height] = self._first_tx(conn, height) or 0
            out.append(self._stored(firsts[height], row))
        return out

    def get_tx(self, tx_id: bytes) -> StoredTx | None:
        """The first inclusion of a transaction (a replay later in the chain is not it)."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT seq, height, envelope, result FROM txs WHERE id8 = ? ORDER BY seq",
                (_prefix8(tx_id),),
            ).fetchall()
            for tx in self._stored_by_seq(conn, rows):
                if tx.id == tx_id:
                    return tx
        return None

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
            clauses.append("signer8 = ?")
            params.append(_prefix8(signer))
        query = (
            "SELECT seq, height, envelope, result FROM txs WHERE "
            + " AND ".join(clauses)
            + " ORDER BY seq DESC LIMIT ?"
        )
        with self._read() as conn:
            rows = conn.execute(query, (*params, limit)).fetchall()
            found = self._stored_by_seq(conn, rows)
        if signer is not None:
            found = [
                tx for tx in found if SignedTransaction.decode(tx.envelope).tx.signer == signer
            ]
        return found

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
        clauses = ["e.seq > ?"]
        params: list[int | str | bytes | None] = [after]
        for column, value in (("e.contract", contract), ("e.type", type)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if subject is not None:
            clauses.append("e.subject8 = ? AND e.subject = ?")
            params.extend([_subject8(subject), subject])
        if tx_id is not None:
            clauses.append("t.id8 = ?")
            params.append(_prefix8(tx_id))
        if from_height is not None:
            clauses.append("e.height >= ?")
            params.append(from_height)
        if to_height is not None:
            clauses.append("e.height <= ?")
            params.append(to_height)
        query = (
            "SELECT e.seq, e.height, e.tx_seq - b.first_tx, e.ev_idx, t.result "
            "FROM events e JOIN txs t ON t.seq = e.tx_seq JOIN blocks b ON b.height = e.height "
            "WHERE " + " AND ".join(clauses) + " ORDER BY e.seq LIMIT ?"
        )
        with self._read() as conn:
            rows = conn.execute(query, (*params, limit)).fetchall()
        records = []
        for seq, height, tx_index, ev_idx, raw_result in rows:
            result = TxResult.decode(bytes(raw_result))
            if tx_id is not None and result.tx_id != tx_id:
                continue
            event = result.events[ev_idx]
            records.append(
                EventRecord(
                    seq,
                    height,
                    tx_index,
                    result.tx_id.hex(),
                    event.contract,
                    event.type,
                    event.subject,
                    event.attrs,
                )
            )
        return records

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
