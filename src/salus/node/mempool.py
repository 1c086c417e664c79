"""The mempool: admitted transactions waiting for a block, in arrival order.

Admission order per signer is nonce order (the ledger's ``check_tx`` is given the
highest pending nonce of the signer), so a block built from a prefix of the
mempool never holds a signer's transactions out of order.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from salus.core.tx import SignedTransaction

__all__ = ["Mempool", "MempoolFull"]


class MempoolFull(Exception):
    """Raised when the mempool holds its maximum number of transactions."""


class Mempool:
    """Thread-safe FIFO of admitted transactions, indexed by id and by signer."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._txs: OrderedDict[bytes, SignedTransaction] = OrderedDict()
        self._arrived: dict[bytes, float] = {}
        self._pending_nonce: dict[bytes, int] = {}
        self._bytes = 0
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._txs)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __contains__(self, tx_id: bytes) -> bool:
        return tx_id in self._txs

    def pending_nonce(self, signer: bytes) -> int:
        """Highest nonce of ``signer`` waiting here (0 if none). Call under ``lock``."""
        return self._pending_nonce.get(signer, 0)

    def add(self, stx: SignedTransaction) -> None:
        """Append an admitted transaction. Call under ``lock``."""
        if len(self._txs) >= self.capacity:
            raise MempoolFull(f"the mempool is full ({self.capacity} transactions); retry later")
        self._txs[stx.id] = stx
        self._arrived[stx.id] = time.monotonic()
        self._bytes += len(stx.envelope)
        signer = stx.tx.signer
        if stx.tx.nonce > self._pending_nonce.get(signer, 0):
            self._pending_nonce[signer] = stx.tx.nonce

    def oldest_wait_s(self) -> float:
        """How long the oldest waiting transaction has waited, in seconds (0 if none)."""
        with self.lock:
            if not self._txs:
                return 0.0
            return time.monotonic() - self._arrived[next(iter(self._txs))]

    def peek(self, max_txs: int, max_bytes: int) -> list[SignedTransaction]:
        """The oldest transactions that fit in one block (at least one if any)."""
        with self.lock:
            batch: list[SignedTransaction] = []
            size = 0
            for stx in self._txs.values():
                if len(batch) >= max_txs or (batch and size + len(stx.envelope) > max_bytes):
                    break
                batch.append(stx)
                size += len(stx.envelope)
            return batch

    def remove(self, txs: list[SignedTransaction]) -> None:
        """Drop transactions that made it into a committed block."""
        with self.lock:
            for stx in txs:
                if self._txs.pop(stx.id, None) is not None:
                    self._bytes -= len(stx.envelope)
                    del self._arrived[stx.id]
                signer = stx.tx.signer
                if self._pending_nonce.get(signer) == stx.tx.nonce:
                    # The signer's newest pending nonce is now committed.
                    del self._pending_nonce[signer]
