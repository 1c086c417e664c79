"""Serving the API on a background thread, on a socket bound up front.

Both node runners (the solo ``NodeServer`` and the CometBFT ``CometNode``) bind the
listening socket themselves before anything else starts, so "port in use" is a
clean error instead of a log line, then hand it to uvicorn on a thread of its own;
the caller's thread stays free to wait for signals or to seed a demo.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Mapping
from types import FrameType, MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Self

from salus.errors import SalusError

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

__all__ = ["ApiServerThread", "ServedNode", "bind_listener"]


def bind_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: the OS chooses)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio enables TCP_NODELAY only on sockets whose proto
    # is TCP, and without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        hint = " (is another node running? try --port)" if "in use" in reason else ""
        raise SalusError(f"cannot listen on {host}:{port}: {reason}{hint}") from None
    except OverflowError:
        sock.close()
        raise SalusError(f"port {port} is not a valid TCP port") from None
    sock.set_inheritable(True)
    return sock


class ApiServerThread:
    """uvicorn serving ``app`` on an already bound socket, on a daemon thread."""

    def __init__(self, app: FastAPI, sock: socket.socket, *, log_level: str = "warning") -> None:
        import uvicorn

        config = uvicorn.Config(
            app,
            log_level=log_level,
            access_log=log_level in ("info", "debug", "trace"),
            ws="none",
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        self._server: uvicorn.Server = uvicorn.Server(config)
        self._sock = sock
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="salus-http", daemon=True
        )

    def start(self, *, url: str, timeout: float = 15.0) -> None:
        """Start serving; return once uvicorn reports it started."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise SalusError(f"the HTTP server at {url} did not start")
            time.sleep(0.01)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, *, timeout: float = 15.0) -> None:
        """Stop accepting requests and wait for the server thread."""
        self._server.should_exit = True
        if self._thread.ident is not None:
            self._thread.join(timeout=timeout)


class ServedNode:
    """What the node runners share: a URL from host and port, ``with`` support, and
    waiting for a stop signal.

    Subclasses set ``host`` and ``port``, define ``start()`` and ``stop()``, and may say
    why the node can no longer work in ``failure``.
    """

    host: str
    port: int
    # Handlers wait_for_signal replaced, restored by release_signals. The class-level
    # empty mapping is only ever read; each instance gets its own dict.
    _previous_handlers: Mapping[signal.Signals, Any] = MappingProxyType({})

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def failure(self) -> str | None:
        """Why the node can no longer work, else ``None``."""
        return None

    def wait_for_signal(self) -> str:
        """Block the calling (main) thread until SIGINT or SIGTERM or a failure; name the cause.

        The handlers stay installed after it returns, so a second Ctrl+C while the node
        is stopping is noted and ignored instead of interrupting the stop half way; call
        :meth:`shutdown` (stop, then restore the previous handlers).
        """
        received: list[str] = []

        # The handler runs in the main thread, between any two bytecodes, so it must take
        # no lock: a threading.Event set here deadlocks when the signal lands while the
        # main thread holds that Event's lock inside Event.wait. It only appends, and the
        # loop polls.
        def handler(signum: int, frame: FrameType | None) -> None:
            received.append(signal.Signals(signum).name)

        saved = dict(self._previous_handlers)  # never mutate the class-level default
        for sig in (signal.SIGINT, signal.SIGTERM):
            saved.setdefault(sig, signal.signal(sig, handler))
        self._previous_handlers = saved
        while not received:
            failure = self.failure
            if failure is not None:
                return failure
            time.sleep(0.1)
        return received[0]

    def shutdown(self) -> None:
        """Stop the node, then put back the signal handlers :meth:`wait_for_signal` replaced."""
        try:
            self.stop()
        finally:
            self.release_signals()

    def release_signals(self) -> None:
        """Restore the signal handlers in place before :meth:`wait_for_signal`."""
        previous, self._previous_handlers = self._previous_handlers, {}
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(sig, old)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
