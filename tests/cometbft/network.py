"""Helpers for tests against real CometBFT networks on 127.0.0.1.

Every process a test starts is recorded by pid in its testnet directory and
stopped by pid in teardown (never by name).
"""

from __future__ import annotations

import hashlib
import random
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salus.client import ApiError, SalusClient
from salus.cometbft.home import NodePorts
from salus.cometbft.testnet import TESTNET_PASSPHRASE, Testnet, create_testnet
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.core.tx import SignedTransaction, Transaction, sign_transaction
from salus.keystore import load_key

TIMEOUT_COMMIT_MS = 200


def _free(ports: list[int]) -> bool:
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port_block(count: int) -> tuple[int, int]:
    """(base_port, api_port) with base+10i+{0,1,2} and api+i free for i < count + 2."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(10_000, 29_000, 10)  # below the ephemeral range
        api = rng.randrange(29_500, 32_000)
        spare = count + 2  # room for nodes that join later
        wanted = [base + 10 * i + k for i in range(spare) for k in range(3)]
        wanted += [api + i for i in range(spare)]
        if _free(wanted):
            return base, api
    raise RuntimeError("no free block of ports on 127.0.0.1")


def free_ports() -> tuple[NodePorts, int]:
    """Ports of one extra node: (p2p, rpc, abci), api."""
    base, api = free_port_block(1)
    return NodePorts(base, base + 1, base + 2), api


@dataclass
class Net:
    """A running testnet plus what tests need to drive it."""

    testnet: Testnet
    genesis: Genesis
    org_keys: dict[str, Signer]

    @property
    def names(self) -> list[str]:
        return [node.name for node in self.testnet.nodes]

    def client(self, name: str, timeout: float = 30.0) -> SalusClient:
        return SalusClient(self.testnet.node(name).api_url, timeout=timeout)

    def height(self, name: str) -> int:
        with self.testnet.rpc(name) as rpc:
            return rpc.latest_height()

    def salus_height(self, name: str) -> int:
        with self.client(name) as client:
            return int(client.status()["height"])

    def wait_until(
        self, predicate: Callable[[], bool], timeout: float, what: str, poll: float = 0.1
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(poll)

    def wait_salus_height(self, names: list[str], height: int, timeout: float = 30.0) -> None:
        def reached() -> bool:
            try:
                return all(self.salus_height(name) >= height for name in names)
            except Exception:
                return False

        self.wait_until(reached, timeout, f"Salus height {height} on {names}")

    def headers(self, name: str, upto: int) -> dict[int, dict[str, Any]]:
        """Salus headers 1..upto as the node serves them."""
        out: dict[int, dict[str, Any]] = {}
        before = upto + 1
        with self.client(name) as client:
            while before > 1:
                page = client._get("/v1/blocks", before=before, limit=100)["blocks"]
                if not page:
                    break
                for header in page:
                    out[int(header["height"])] = header
                before = min(int(h["height"]) for h in page)
        return out

    def assert_same_history(self, names: list[str] | None = None) -> int:
        """Every named node has the same header (so the same state root) at every height."""
        names = names or [n for n in self.names if self.testnet.running(n)]
        common = min(self.salus_height(name) for name in names)
        histories = {name: self.headers(name, common) for name in names}
        reference = histories[names[0]]
        assert sorted(reference) == list(range(1, common + 1)), "missing heights"
        for name in names[1:]:
            for height in range(1, common + 1):
                mine, theirs = histories[name][height], reference[height]
                assert mine["state_root"] == theirs["state_root"], (
                    f"{name} and {names[0]} disagree on the state root at height {height}"
                )
                assert mine["hash"] == theirs["hash"], f"header differs at height {height}"
        return common

    def next_nonce(self, signer: Signer) -> int:
        """The signer's next nonce as the most advanced reachable node sees it.

        Tests send one key's transactions through different nodes; a node a block
        behind the others would hand out a nonce that is already used.
        """
        seen = []
        for name in self.names:
            try:
                with self.client(name, timeout=5.0) as client:
                    seen.append(client.next_nonce(signer.did))
            except ApiError:
                continue  # a node the test stopped
        return max(seen)

    def anchor_tx(self, signer: Signer, nonce: int, label: str) -> SignedTransaction:
        digest = hashlib.sha256(f"{label} {time.time_ns()}".encode()).hexdigest()
        tx = Transaction(
            self.genesis.chain_id, signer.public_key, nonce, "notary", "anchor", {"digest": digest}
        )
        return sign_transaction(tx, signer)


@contextmanager
def running_testnet(
    root: Path, binary: Path, *, validators: int = 4, timeout_commit_ms: int = TIMEOUT_COMMIT_MS
) -> Iterator[Net]:
    base, api = free_port_block(validators)
    testnet = create_testnet(
        root,
        validators=validators,
        base_port=base,
        api_port=api,
        binary=binary,
        timeout_commit_ms=timeout_commit_ms,
        chain_id="salus-bft-test",
    )
    try:
        testnet.start(wait=90)
        genesis = Genesis.from_json(testnet.genesis_path.read_bytes())
        keys = {
            node.name: load_key(testnet.keys_dir / f"{node.name}.key", TESTNET_PASSPHRASE)
            for node in testnet.nodes
        }
        net = Net(testnet, genesis, keys)
        net.wait_salus_height(net.names, 2, timeout=60)
        yield net
    finally:
        testnet.stop()
