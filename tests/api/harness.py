"""A real node over a real SQLite file, served by uvicorn on a free local port.

Blocks are produced by calling ``Node.produce_block`` directly, so every test
decides exactly what is in which block.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from salus.api import create_app
from salus.core.block import BlockHeader
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.core.tx import SignedTransaction, Transaction, sign_transaction
from salus.node import FileBlobStore, Node, NodeConfig, SqliteStore
from tests.support import key

MINISTRY = key(1)  # health-ministry, role admin
HOSPITAL = key(2)  # city-hospital
RED_CROSS = key(3)  # red-cross
OUTSIDER = key(7)  # an individual: role public only


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1 in a background thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class Harness:
    """The node under test, its HTTP client, and helpers to sign and commit."""

    def __init__(self, node: Node, blobs: FileBlobStore, client: httpx.Client) -> None:
        self.node = node
        self.blobs = blobs
        self.client = client
        self.genesis = node.genesis
        self.time_ms = node.genesis.genesis_time_ms
        self.nonces: dict[bytes, int] = {}

    def tx(
        self,
        signer: Signer,
        action: str,
        args: dict[str, Any],
        *,
        contract: str = "identity",
        nonce: int | None = None,
    ) -> SignedTransaction:
        """Sign a transaction; nonces count up per key unless one is given."""
        if nonce is None:
            nonce = self.nonces.get(signer.public_key, 0) + 1
            self.nonces[signer.public_key] = nonce
        body = Transaction(self.genesis.chain_id, signer.public_key, nonce, contract, action, args)
        return sign_transaction(body, signer)

    def submit(self, stx: SignedTransaction) -> httpx.Response:
        return self.client.post("/v1/txs", json={"tx": b64(stx.envelope)})

    def block(self) -> BlockHeader:
        """Commit whatever the mempool holds as the next block."""
        self.time_ms += 1000
        header = self.node.produce_block(self.time_ms)
        assert header is not None, "the mempool was empty"
        return header

    def populate(self) -> dict[str, SignedTransaction]:
        """Three blocks: a proposal, its approval (executed) plus a refused approval."""
        grant = {"kind": "grant_role", "params": {"subject": OUTSIDER.did, "role": "assessor"}}
        txs = {
            "propose": self.tx(MINISTRY, "propose", grant),
            "approve": self.tx(HOSPITAL, "approve", {"proposal": 1}),
            "late": self.tx(RED_CROSS, "approve", {"proposal": 1}),
        }
        assert self.submit(txs["propose"]).status_code == 202
        self.block()
        assert self.submit(txs["approve"]).status_code == 202
        assert self.submit(txs["late"]).status_code == 202  # admitted; refused in the block
        self.block()
        return txs


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@contextmanager
def running_node(
    genesis: Genesis,
    validator: Signer,
    data_dir: Path,
    *,
    max_body_bytes: int = 4 << 20,
    config: NodeConfig | None = None,
) -> Iterator[Harness]:
    node = Node(genesis, SqliteStore(data_dir / "node.db"), validator, config=config)
    blobs = FileBlobStore(data_dir / "blobs")
    app = create_app(node, blobs, max_body_bytes=max_body_bytes)
    try:
        with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield Harness(node, blobs, client)
    finally:
        node.close()


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> str:
    """Check the one error shape; return the message."""
    assert response.status_code == status, response.text
    body = response.json()
    error = body["error"]
    assert set(error) == {"code", "message"}
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code, body
    assert "Traceback" not in response.text
    return str(error["message"])
