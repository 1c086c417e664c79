"""The ABCI socket server over real TCP connections, with a small client."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from salus.abci import AbciServer, AbciServerThread, BaseApplication, FrameDecoder, frame
from salus.abci._wire import encode_uvarint
from salus.core.pb.tendermint.abci import types_pb2 as abci


class RecordingApp(BaseApplication):
    """Answers CheckTx with code = len(tx), fails on b"boom", records who called."""

    def __init__(self) -> None:
        self.threads: set[int] = set()
        self.active = 0
        self.overlaps = 0
        self.checked: list[bytes] = []

    def check_tx(self, req: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        self.active += 1
        try:
            if self.active > 1:
                self.overlaps += 1
            self.threads.add(threading.get_ident())
            if req.tx == b"boom":
                raise RuntimeError("the app broke")
            self.checked.append(req.tx)
            return abci.ResponseCheckTx(code=len(req.tx))
        finally:
            self.active -= 1

    def query(self, req: abci.RequestQuery) -> abci.ResponseQuery:
        return abci.ResponseQuery(value=req.data, height=7)


class Client:
    """A blocking ABCI client: framed requests out, framed responses in."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.decoder = FrameDecoder()
        self.received: list[bytes] = []

    def send(self, *requests: abci.Request) -> None:
        self.send_bytes(b"".join(frame(r.SerializeToString()) for r in requests))

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def receive(self, count: int) -> list[abci.Response]:
        while len(self.received) < count:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"closed after {len(self.received)} responses")
            self.received += self.decoder.feed(data)
        out, self.received = self.received[:count], self.received[count:]
        return [abci.Response.FromString(payload) for payload in out]

    def at_eof(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


@contextmanager
def running(app: BaseApplication, **kwargs: int) -> Iterator[AbciServerThread]:
    handle = AbciServer(app, "127.0.0.1", 0, **kwargs).start_in_thread()
    try:
        yield handle
    finally:
        handle.stop()


@contextmanager
def client(port: int) -> Iterator[Client]:
    c = Client(port)
    try:
        yield c
    finally:
        c.close()


def check_tx(tx: bytes) -> abci.Request:
    return abci.Request(check_tx=abci.RequestCheckTx(tx=tx))


FLUSH = abci.Request(flush=abci.RequestFlush())


def test_responses_come_in_request_order_and_flush_last() -> None:
    app = RecordingApp()
    with running(app) as server, client(server.port) as c:
        txs = [b"x" * n for n in range(1, 51)]
        c.send(
            abci.Request(echo=abci.RequestEcho(message="hi")),
            abci.Request(info=abci.RequestInfo()),
            *[check_tx(tx) for tx in txs],
            abci.Request(query=abci.RequestQuery(data=b"q")),
            FLUSH,
        )
        responses = c.receive(54)
    kinds = [r.WhichOneof("value") for r in responses]
    assert kinds == ["echo", "info", *["check_tx"] * 50, "query", "flush"]
    assert responses[0].echo.message == "hi"
    assert [r.check_tx.code for r in responses[2:52]] == list(range(1, 51))
    assert responses[52].query.value == b"q" and responses[52].query.height == 7
    assert app.checked == txs


def test_requests_split_into_single_bytes() -> None:
    app = RecordingApp()
    with running(app) as server, client(server.port) as c:
        stream = b"".join(frame(r.SerializeToString()) for r in [check_tx(b"abc"), FLUSH])
        for index in range(len(stream)):
            c.send_bytes(stream[index : index + 1])
        responses = c.receive(2)
    assert responses[0].check_tx.code == 3
    assert responses[1].WhichOneof("value") == "flush"


def test_app_failure_answers_exception_and_closes_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = RecordingApp()
    with running(app) as server:
        with client(server.port) as c, caplog.at_level(logging.ERROR, "salus.abci"):
            c.send(check_tx(b"ok"), check_tx(b"boom"), check_tx(b"never"), FLUSH)
            first, failure = c.receive(2)
            assert first.check_tx.code == 2
            assert failure.WhichOneof("value") == "exception"
            assert "RuntimeError: the app broke" in failure.exception.error
            assert "check_tx" in failure.exception.error
            assert c.at_eof()
        assert app.checked == [b"ok"]
        assert "check_tx failed" in caplog.text and "the app broke" in caplog.text
        # The server itself carries on: a new connection is served.
        with client(server.port) as c:
            c.send(check_tx(b"again"), FLUSH)
            assert c.receive(2)[0].check_tx.code == 5


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (abci.Request().SerializeToString(), "unknown ABCI request None"),
        (b"\xff\xff\xff", "undecodable ABCI request"),
    ],
    ids=["empty-request", "not-protobuf"],
)
def test_malformed_requests_get_an_exception(payload: bytes, message: str) -> None:
    with running(RecordingApp()) as server, client(server.port) as c:
        c.send_bytes(frame(payload) + frame(FLUSH.SerializeToString()))
        (response,) = c.receive(1)
        assert response.WhichOneof("value") == "exception"
        assert message in response.exception.error
        assert c.at_eof()


def test_oversized_message_is_refused() -> None:
    with running(RecordingApp(), max_message_bytes=100) as server, client(server.port) as c:
        c.send_bytes(encode_uvarint(101) + b"x" * 101)
        (response,) = c.receive(1)
        assert "101 bytes exceeds the maximum of 100 bytes" in response.exception.error
        assert c.at_eof()


def test_connections_are_served_one_call_at_a_time() -> None:
    app = RecordingApp()
    with running(app) as server, client(server.port) as one, client(server.port) as two:
        for round_ in range(5):
            batch = [check_tx(bytes([round_]) * 3) for _ in range(200)]
            one.send(*batch, FLUSH)
            two.send(*batch, FLUSH)
        for c in (one, two):
            responses = c.receive(5 * 201)
            assert [r.WhichOneof("value") for r in responses].count("check_tx") == 1000
    assert len(app.checked) == 2000
    assert app.overlaps == 0
    assert len(app.threads) == 1  # every call on the server's loop thread


def test_stop_closes_open_connections() -> None:
    server = AbciServer(RecordingApp(), "127.0.0.1", 0).start_in_thread()
    with client(server.port) as c:
        c.send(check_tx(b"a"), FLUSH)
        c.receive(2)
        server.stop()
        assert c.at_eof()
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", server.port)),
    ):
        pass


def test_a_busy_port_is_reported() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=r"(?i)address already in use"):
            AbciServer(RecordingApp(), "127.0.0.1", port).start_in_thread()


def test_server_inside_an_existing_event_loop() -> None:
    async def scenario() -> list[abci.Response]:
        server = AbciServer(RecordingApp(), "127.0.0.1", 0)
        await server.start()
        assert server.port != 0
        serving = asyncio.create_task(server.serve_forever())
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(frame(check_tx(b"abcd").SerializeToString()))
        writer.write(frame(FLUSH.SerializeToString()))
        decoder = FrameDecoder()
        payloads: list[bytes] = []
        while len(payloads) < 2:
            payloads += decoder.feed(await reader.read(4096))
        await server.stop()
        await serving
        assert await reader.read() == b""  # the server closed our connection
        writer.close()
        await writer.wait_closed()
        return [abci.Response.FromString(p) for p in payloads]

    responses = asyncio.run(scenario())
    assert responses[0].check_tx.code == 4
    assert responses[1].WhichOneof("value") == "flush"
