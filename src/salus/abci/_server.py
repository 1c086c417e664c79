"""The ABCI socket server: CometBFT connects to it and drives the application.

Rules this module obeys (CometBFT v0.38 ``abci/server/socket_server.go`` and
``spec/abci/abci++_client_server.md``):
- CometBFT opens four connections (consensus, mempool, info/query, snapshot) and
  may open them in any order; the server treats them alike and answers each one's
  requests strictly in the order they arrived on it.
- Every request gets exactly one response of the same kind. ``Flush`` is answered
  after every response before it, and only once those bytes are handed to the
  socket (``drain``): that is how CometBFT's client knows its asynchronous
  requests (CheckTx) have been answered.
- All application calls run on the event loop's thread, one at a time, so no two
  of them ever overlap — in particular CheckTx never runs while FinalizeBlock or
  Commit is changing state. The application stays a plain synchronous object.
- If the application raises, the server logs the traceback, answers
  ``ResponseException`` with the error text and closes that connection. CometBFT
  then stops the node: the protocol has no way to recover from an application
  that cannot answer, and carrying on would risk a fork.
- A malformed frame or protobuf message is treated the same way.

Theory of operation. One asyncio task per connection reads whatever the socket
has, hands it to a :class:`~salus.abci._wire.FrameDecoder`, and answers every
complete request before reading again, collecting the framed responses in one
buffer that is written with a single ``write`` (one system call per batch rather
than per response). A ``Flush`` writes the buffer and waits for ``drain``.
Responses are assembled from the application's response message by prefixing the
``Response`` oneof tag, which avoids copying large messages (a FinalizeBlock
response holds one result per transaction) into a ``Response`` object.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from google.protobuf.message import DecodeError

from salus.abci._base import APPLICATION_METHODS, Application
from salus.abci._wire import DEFAULT_MAX_MESSAGE_BYTES, FrameDecoder, FrameError, encode_uvarint
from salus.core.pb.tendermint.abci import types_pb2 as abci

__all__ = ["AbciServer", "AbciServerThread"]

log = logging.getLogger("salus.abci")

_READ_SIZE = 256 * 1024
_WRITE_HIGH_WATER = 1 << 20  # drain when this much is waiting even without a Flush

_LENGTH_DELIMITED = 2


def _tag(number: int) -> bytes:
    return encode_uvarint(number << 3 | _LENGTH_DELIMITED)


# The ``Response`` oneof tag of each application method, e.g. check_tx -> field 9.
_RESPONSE_TAGS = {
    name: _tag(abci.Response.DESCRIPTOR.fields_by_name[name].number) for name in APPLICATION_METHODS
}
_FLUSH_RESPONSE = abci.Response(flush=abci.ResponseFlush()).SerializeToString()


def _exception_response(error: str) -> bytes:
    return abci.Response(exception=abci.ResponseException(error=error)).SerializeToString()


class AbciServer:
    """Serves one :class:`~salus.abci._base.Application` to CometBFT over TCP.

    ``port=0`` picks a free port; read :attr:`port` after :meth:`start`. Use
    :meth:`start` / :meth:`stop` (or :meth:`serve_forever`) inside an event loop,
    or :meth:`start_in_thread` for a server on its own thread and loop.
    """

    def __init__(
        self,
        app: Application,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self.app = app
        self.host = host
        self._requested_port = port
        self.max_message_bytes = max_message_bytes
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._stopped: asyncio.Event | None = None
        self._methods = {name: getattr(app, name) for name in APPLICATION_METHODS}

    # -- life cycle ------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port the server listens on (the requested one until started)."""
        if self._server is None or not self._server.sockets:
            return self._requested_port
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        """Listen on ``host:port``; returns once CometBFT can connect."""
        if self._server is not None:
            raise RuntimeError("the ABCI server is already running")
        self._stopped = asyncio.Event()
        self._server = await asyncio.start_server(
            self._serve_connection, self.host, self._requested_port, reuse_address=True
        )
        log.info("ABCI server listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()
        if self._stopped is not None:
            self._stopped.set()
        log.info("ABCI server on %s:%d stopped", self.host, self._requested_port)

    async def serve_forever(self) -> None:
        """Start (if needed) and serve until :meth:`stop` is called."""
        if self._server is None:
            await self.start()
        assert self._stopped is not None
        await self._stopped.wait()

    def start_in_thread(self, timeout: float = 10.0) -> AbciServerThread:
        """Run this server on a new daemon thread with its own event loop.

        Returns once the server listens; stop it with the returned handle's
        :meth:`AbciServerThread.stop`.
        """
        return AbciServerThread(self, timeout)

    # -- requests --------------------------------------------------------------

    def answer(self, request: abci.Request) -> tuple[bytes, str | None]:
        """The encoded ``Response`` to one request, and its kind (``None`` for Exception)."""
        kind = request.WhichOneof("value")
        # Flush: CometBFT's client sends it after a batch of asynchronous requests
        # (CheckTx) and waits for its answer; answered here, after all before it.
        if kind == "flush":
            return _FLUSH_RESPONSE, kind
        # Echo: a liveness check (``cometbft`` tooling, abci-cli); the message comes back.
        if kind == "echo":
            echo = abci.ResponseEcho(message=request.echo.message)
            return abci.Response(echo=echo).SerializeToString(), kind
        if kind is None or kind not in self._methods:
            log.error("ABCI request of unknown kind %r", kind)
            return _exception_response(f"unknown ABCI request {kind!r}"), None
        try:
            result = self._methods[kind](getattr(request, kind))
            inner = result.SerializeToString()
        except Exception as exc:
            log.exception("ABCI %s failed; CometBFT will stop", kind)
            return _exception_response(f"{kind}: {type(exc).__name__}: {exc}"), None
        return _RESPONSE_TAGS[kind] + encode_uvarint(len(inner)) + inner, kind

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer = writer.get_extra_info("peername")
        log.debug("ABCI connection from %s", peer)
        decoder = FrameDecoder(self.max_message_bytes)
        try:
            while True:
                data = await reader.read(_READ_SIZE)
                if not data:
                    return  # CometBFT closed the connection
                out = bytearray()
                try:
                    payloads = decoder.feed(data)
                except FrameError as exc:
                    log.error("ABCI connection from %s sent a bad frame: %s", peer, exc.reason)
                    await self._send(writer, out, _exception_response(exc.reason))
                    return
                for payload in payloads:
                    try:
                        request = abci.Request.FromString(payload)
                    except DecodeError as exc:
                        log.error("ABCI connection from %s sent an undecodable request", peer)
                        reason = f"undecodable ABCI request: {exc}"
                        await self._send(writer, out, _exception_response(reason))
                        return
                    response, kind = self.answer(request)
                    out += encode_uvarint(len(response))
                    out += response
                    if kind is None:  # an Exception: CometBFT stops, so do we
                        await self._send(writer, out)
                        return
                    if kind == "flush" or len(out) >= _WRITE_HIGH_WATER:
                        await self._send(writer, out)
                        out = bytearray()
                if out:
                    writer.write(out)
        except ConnectionError as exc:
            log.info("ABCI connection from %s lost: %s", peer, exc)
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, out: bytearray, last: bytes = b"") -> None:
        if last:
            out += encode_uvarint(len(last))
            out += last
        writer.write(out)
        await writer.drain()


class AbciServerThread:
    """An :class:`AbciServer` running on its own thread and event loop."""

    def __init__(self, server: AbciServer, timeout: float = 10.0) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"salus-abci-{server.host}", daemon=True
        )
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError(f"the ABCI server did not start within {timeout} s")
        if self._error is not None:
            raise self._error

    @property
    def port(self) -> int:
        return self.server.port

    def _run(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self._error = exc
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.server.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and its loop, and wait for the thread to end."""
        if self._thread.is_alive() and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the ABCI server thread did not stop within {timeout} s")

    def __enter__(self) -> AbciServerThread:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
