"""Running a node from its home: storage, solo engine and HTTP API in one process.

Theory of operation. :class:`NodeServer` opens the home's SQLite store and blob
store, builds the :class:`~salus.node.Node`, starts the solo engine's block
thread, then serves the HTTP API with uvicorn on a second thread. The listening
socket is bound here, before uvicorn starts, so "port in use" is a clean error
rather than a log line. The caller's thread stays free: ``salus node`` waits
there for SIGINT/SIGTERM, ``salus demo`` first seeds activity over HTTP, and tests
drive the node with a client. :meth:`NodeServer.stop` shuts down in the order that
loses nothing: stop accepting requests, let the engine finish its block, then
close the store.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from salus.api.serving import ApiServerThread, ServedNode, bind_listener
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.node.blobs import FileBlobStore
from salus.node.node import Node
from salus.node.solo import SoloEngine
from salus.node.storage import SqliteStore

__all__ = ["NodeServer", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class NodeServer(ServedNode):
    """A node, its solo engine and its HTTP API, started and stopped together."""

    def __init__(
        self,
        genesis: Genesis,
        validator: Signer,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        block_interval_ms: int = 200,
        log_level: str = "warning",
    ) -> None:
        self.genesis = genesis
        self.validator = validator
        self.data_dir = data_dir
        self.host = host
        self.port = port
        self.block_interval_ms = block_interval_ms
        self.log_level = log_level
        self.store: SqliteStore | None = None
        self.node: Node | None = None
        self.blobs: FileBlobStore | None = None
        self.engine: SoloEngine | None = None
        self._http: ApiServerThread | None = None
        self._sock: socket.socket | None = None
        self._stopped = False

    def start(self, *, timeout: float = 15.0) -> None:
        """Open the node, bind the socket and serve; returns when the API answers."""
        self._sock = sock = self._bind()
        try:
            self._serve(sock, timeout)
        except BaseException:
            self.stop()
            raise

    def _serve(self, sock: socket.socket, timeout: float) -> None:
        from salus.api import create_app

        self.store = SqliteStore(self.data_dir / "ledger.sqlite")
        self.node = node = Node(self.genesis, self.store, self.validator)
        self.blobs = blobs = FileBlobStore(self.data_dir / "blobs")
        self.engine = SoloEngine(node, block_interval_ms=self.block_interval_ms)
        self.engine.start()
        self._http = ApiServerThread(create_app(node, blobs), sock, log_level=self.log_level)
        self._http.start(url=self.url, timeout=timeout)

    def _bind(self) -> socket.socket:
        sock = bind_listener(self.host, self.port)
        self.port = sock.getsockname()[1]  # resolves port 0 to the one the OS chose
        return sock

    @property
    def alive(self) -> bool:
        """Whether the HTTP thread is still serving."""
        return self._http is not None and self._http.alive

    @property
    def failure(self) -> str | None:
        """``"server stopped"`` once the HTTP thread has ended, else ``None``."""
        return None if self.alive else "server stopped"

    def stop(self) -> None:
        """Stop serving, stop the engine after its current block, close the store."""
        if self._stopped:
            return
        self._stopped = True
        if self._http is not None:
            self._http.stop()
        if self.engine is not None:
            self.engine.stop()
        if self.store is not None:
            self.store.close()
        if self._sock is not None:
            self._sock.close()
