"""The ``solo`` engine: one process proposes and commits every block.

The default engine for a single organisation or a laptop. A background thread
cuts a block when the mempool holds a full block's worth of transactions, or when
the oldest waiting transaction has waited ``block_interval_ms``; it stamps the
block with the wall clock (kept strictly increasing by the node). The clock is
injected so tests can drive time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from salus.node.node import Node

__all__ = ["SoloEngine"]

log = logging.getLogger("salus.solo")


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class SoloEngine:
    """Drives block production for a :class:`Node` on a background thread."""

    def __init__(
        self,
        node: Node,
        *,
        block_interval_ms: int = 200,
        clock_ms: Callable[[], int] = _wall_clock_ms,
        poll_s: float = 0.005,
    ) -> None:
        self.node = node
        self.block_interval_ms = block_interval_ms
        self.clock_ms = clock_ms
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="salus-solo", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def step(self) -> bool:
        """Produce a block now if one is due; returns whether one was produced.

        Due means a full block is waiting, or the oldest waiting transaction has
        waited ``block_interval_ms``. Under load the second holds right after each
        block, so blocks follow each other with no idle gap.
        """
        mempool = self.node.mempool
        waiting = len(mempool)
        if not waiting:
            return False
        full = waiting >= self.node.config.max_block_txs
        if not full and mempool.oldest_wait_s() * 1000 < self.block_interval_ms:
            return False
        return self.node.produce_block(self.clock_ms()) is not None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                produced = self.step()
            except Exception as exc:  # keep the engine alive; nothing half-applied
                # A failed block leaves committed state untouched (SQLite rolled back,
                # memory not yet swapped), so retrying later is safe.
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("block production failed; retrying")
                self._stop.wait(1.0)
                continue
            if not produced:
                self._stop.wait(self.poll_s)
