"""One real CometBFT validator process driving the Salus app (in-process ABCI server).

Checks what a verifier relies on: CometBFT's header at H carries a data_hash over
the same transactions as the Salus tx_root of H, the header at H+1 carries
app_hash = the Salus state root after H and a last_results_hash over the Salus
results; a restart resumes through the
ABCI handshake without executing a committed block twice; and the node homes
``salus.cometbft.home`` writes are what the binary itself reads.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from salus.abci import AbciServer, AbciServerThread, SalusApp, abci_code
from salus.cometbft.home import (
    NodePorts,
    cometbft_address,
    cometbft_genesis,
    node_id,
    write_cometbft_home,
)
from salus.core import merkle
from salus.core.block import TxResult
from salus.core.crypto import sha256
from salus.core.genesis import Genesis
from salus.core.pb.tendermint.abci import types_pb2 as abci
from salus.core.tx import SignedTransaction
from salus.node import Node, SqliteStore
from tests.abci.helpers import VALIDATOR, envelope, make_genesis
from tests.support import key

pytestmark = [pytest.mark.cometbft, pytest.mark.slow]

NODE_KEY_SEED = bytes(range(32))


def free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_for(what: str, condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = condition()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class CountingApp(SalusApp):
    """Records the height of every FinalizeBlock it executes."""

    def __init__(self, node: Node, executed: list[int]) -> None:
        super().__init__(node)
        self.executed = executed

    def finalize_block(self, req: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        self.executed.append(req.height)
        return super().finalize_block(req)


@dataclass
class SingleNode:
    """A Salus app and a CometBFT process that can be stopped and started again."""

    root: Path
    binary: Path
    genesis: Genesis
    ports: NodePorts
    executed: list[int] = field(default_factory=list)
    node: Node | None = None
    server: AbciServerThread | None = None
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def home(self) -> Path:
        return self.root / "cometbft"

    @property
    def rpc(self) -> str:
        return f"http://127.0.0.1:{self.ports.rpc}"

    @property
    def log_path(self) -> Path:
        return self.root / f"cometbft-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        self.node = Node(self.genesis, SqliteStore(self.root / "ledger.sqlite"), None)
        server = AbciServer(CountingApp(self.node, self.executed), "127.0.0.1", self.ports.abci)
        self.server = server.start_in_thread()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(self.binary), "start", "--home", str(self.home)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for("CometBFT's RPC", lambda: httpx.get(f"{self.rpc}/status", timeout=2).is_success)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        server, self.server = self.server, None
        if server is not None:
            server.stop()
        node, self.node = self.node, None
        if node is not None:
            node.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def call(self, method: str, **params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        reply = httpx.post(self.rpc, json=body, timeout=10).json()
        assert "error" not in reply, reply
        return reply["result"]

    def header(self, height: int) -> dict[str, Any]:
        header: dict[str, Any] = self.call("block", height=str(height))["block"]["header"]
        return header

    def latest_height(self) -> int:
        return int(self.call("status")["sync_info"]["latest_block_height"])

    def broadcast(self, tx: bytes) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "broadcast_tx_sync", tx=base64.b64encode(tx).decode("ascii")
        )
        return result


@pytest.fixture
def single(tmp_path: Path, cometbft_binary: Path) -> Iterator[SingleNode]:
    genesis = make_genesis()
    p2p, rpc, abci_port = free_ports(3)
    ports = NodePorts(p2p=p2p, rpc=rpc, abci=abci_port)
    write_cometbft_home(
        tmp_path / "cometbft",
        genesis,
        VALIDATOR,
        NODE_KEY_SEED,
        ports,
        binary=cometbft_binary,
        moniker="solo-validator",
        timeout_commit_ms=100,
    )
    network = SingleNode(tmp_path, cometbft_binary, genesis, ports)
    try:
        yield network
    finally:
        network.stop()  # never leave a CometBFT process behind


def _shape(value: Any) -> Any:
    """The keys of a JSON document, recursively (values ignored)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def test_home_agrees_with_the_binary(single: SingleNode, tmp_path: Path) -> None:
    binary = single.binary
    shown_id = subprocess.run(
        [str(binary), "show-node-id", "--home", str(single.home)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert shown_id == node_id(NODE_KEY_SEED)
    shown_validator = subprocess.run(
        [str(binary), "show-validator", "--home", str(single.home)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert json.loads(shown_validator) == {
        "type": "tendermint/PubKeyEd25519",
        "value": base64.b64encode(VALIDATOR.public_key).decode(),
    }
    # Same document shape as `cometbft init` writes (values differ, keys must not).
    subprocess.run(
        [str(binary), "init", "--home", str(tmp_path / "reference")],
        capture_output=True,
        check=True,
    )
    reference = json.loads((tmp_path / "reference/config/genesis.json").read_text())
    ours = json.loads((single.home / "config/genesis.json").read_text())
    assert ours == cometbft_genesis(single.genesis)
    assert _shape(ours) == _shape(reference)
    assert ours["validators"][0]["address"] == cometbft_address(VALIDATOR.public_key).hex().upper()
    key_file = json.loads((single.home / "config/priv_validator_key.json").read_text())
    reference_key = json.loads((tmp_path / "reference/config/priv_validator_key.json").read_text())
    assert _shape(key_file) == _shape(reference_key)


def test_blocks_commit_to_salus_roots_and_restart_resumes(single: SingleNode) -> None:
    single.start()
    alice, bob = key(1), key(2)
    txs = [envelope(alice, n) for n in range(1, 6)] + [envelope(bob, 1)]
    for tx in txs:
        assert single.broadcast(tx)["code"] == 0
    replay = single.broadcast(envelope(alice, 3, args={"digest": "ab" * 32}))
    assert replay["code"] == 4 and replay["codespace"] == "salus"
    assert "not above the signer's last nonce" in replay["log"]

    assert single.node is not None
    node = single.node
    ids = [SignedTransaction.decode(tx).id for tx in txs]
    wait_for("the transactions to commit", lambda: all(node.store.get_tx(i) for i in ids))
    heights = sorted({node.store.get_tx(i).height for i in ids})  # type: ignore[union-attr]
    last = heights[-1]
    wait_for("the next block", lambda: single.latest_height() >= last + 1)

    for height in heights:
        salus_header = node.get_block(height).header
        cometbft_header = single.header(height)
        # CometBFT's data_hash is the RFC 6962 root over SHA-256 of each raw tx
        # (types.Txs.Hash: leaves are tmhash(tx)), not over the raw txs as the Salus
        # tx_root is. Same order, same hashing, one extra SHA-256 per leaf.
        envelopes = [stored.envelope for stored in node.store.block_txs(height)]
        assert salus_header.tx_root == merkle.merkle_root(envelopes)
        data_hash = merkle.merkle_root([sha256(envelope) for envelope in envelopes])
        assert cometbft_header["data_hash"] == data_hash.hex().upper()
        assert salus_header.tx_root != data_hash
        assert (
            cometbft_header["proposer_address"]
            == cometbft_address(VALIDATOR.public_key).hex().upper()
        )
        assert salus_header.proposer == VALIDATOR.public_key
        # The next header commits to the state root after this block and to its results.
        following = single.header(height + 1)
        assert following["app_hash"] == salus_header.state_root.hex().upper()
        leaves = [stored.result for stored in node.store.block_txs(height)]
        deterministic = [  # what CometBFT hashes: code, data, gas_wanted, gas_used
            abci.ExecTxResult(
                code=abci_code(TxResult.decode(leaf).code), data=sha256(leaf)
            ).SerializeToString()
            for leaf in leaves
        ]
        assert following["last_results_hash"] == merkle.merkle_root(deterministic).hex().upper()
        block_results = single.call("block_results", height=str(height))["txs_results"]
        assert [base64.b64decode(r["data"]) for r in block_results] == [
            sha256(leaf) for leaf in leaves
        ]
        events = block_results[0]["events"]
        assert events[0]["type"] == "notary.anchored"

    # Every header's app hash is the Salus state root of the height before.
    tip = min(single.latest_height(), node.height)
    for height in range(1, tip):
        expected = node.get_block(height).header.state_root.hex().upper()
        assert single.header(height + 1)["app_hash"] == expected

    # Queries go through CometBFT to the app.
    query = single.call("abci_query", path="/account", data=alice.did.encode().hex())
    account = json.loads(base64.b64decode(query["response"]["value"]))
    assert account["next_nonce"] == 6

    # Stop both, start both: the handshake resumes where the app stopped.
    single.stop()
    store = SqliteStore(single.root / "ledger.sqlite")
    try:
        committed = store.height()
    finally:
        store.close()
    executed_before = list(single.executed)
    assert sorted(set(executed_before)) == executed_before  # never twice
    single.start()
    assert re.search(
        rf"ABCI Handshake App Info\s+module=consensus height={committed} ", single.log()
    )
    wait_for("blocks after the restart", lambda: single.latest_height() >= committed + 3)
    assert single.broadcast(envelope(alice, 6))["code"] == 0
    resumed = single.executed[len(executed_before) :]
    assert resumed and min(resumed) == committed + 1
    assert sorted(set(single.executed)) == single.executed  # no height executed twice
    assert single.node is not None
    restarted = single.node
    tip = min(single.latest_height(), restarted.height)
    for height in range(committed, tip):
        expected = restarted.get_block(height).header.state_root.hex().upper()
        assert single.header(height + 1)["app_hash"] == expected
