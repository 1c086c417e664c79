"""The background indexer: keeps a node's figure index up to its committed ledger.

Rules this module obeys:
- Indexing never runs in a request. One daemon thread per index syncs it
  (:meth:`.index.FigureIndex.sync`) whenever the node commits a block, and at least
  every ``retry_s`` seconds, so an ``unavailable`` batch whose blobs arrive (copied from
  another node) is indexed without anyone asking.
- Requests read the index's last committed state through their own SQLite connections
  (:meth:`.index.FigureIndex.snapshot`) and say the height it reflects (``as_of``); a
  long sync (a full-size JHU file: seconds) delays nothing but the index's freshness.
- A sync that fails is rolled back whole, its reason kept in ``index.error`` (shown by
  ``GET /v1/outbreak/status``) and logged, and retried at the next wake-up.
- :meth:`BackgroundIndexer.stop` (called by ``FigureIndex.close``) wakes the thread and
  waits for the sync in progress to end: nothing is left half-written.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from salus.apps.outbreak.index import FigureIndex, NodeLedger
from salus.apps.outbreak.indexing import BlobSource

if TYPE_CHECKING:  # salus.node imports the apps: no import cycle at run time
    from salus.node.node import Node

__all__ = ["BackgroundIndexer"]

_log = logging.getLogger(__name__)


class BackgroundIndexer:
    """Syncs ``index`` from ``node`` and ``blobs`` on its own thread."""

    def __init__(
        self, index: FigureIndex, node: Node, blobs: BlobSource, *, retry_s: float = 1.0
    ) -> None:
        self.index = index
        self.node = node
        self.blobs = blobs
        self.retry_s = retry_s
        self._ledger = NodeLedger(node)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="salus-outbreak-index", daemon=True)

    def start(self) -> BackgroundIndexer:
        """Start the thread; :meth:`stop` runs when the index is closed."""
        self.index.on_close(self.stop)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the sync in progress (if any) has committed or rolled back."""
        self._stop.set()
        with self.node.block_committed:
            self.node.block_committed.notify_all()
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.index.sync(self._ledger, self.blobs)
                self.index.error = None
            except Exception as exc:  # keep serving the last committed state
                self.index.error = f"{type(exc).__name__}: {exc}"
                _log.exception("outbreak index sync failed; retrying")
                self._stop.wait(self.retry_s)
                continue
            with self.node.block_committed:
                # Checked under the condition's lock: a block committed since the sync
                # has already moved the height, so no wake-up is lost.
                if not self._stop.is_set() and self.node.ledger.height == self.index.height:
                    self.node.block_committed.wait(self.retry_s)
