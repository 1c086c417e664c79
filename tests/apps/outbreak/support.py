"""Test support for the outbreak app: a consortium with a health authority, served nodes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salus.api import create_app
from salus.client import SalusClient
from salus.core.genesis import Genesis
from salus.node import FileBlobStore, Node, SqliteStore
from tests.api.harness import serving
from tests.support import genesis_data, key

DATA = Path(__file__).parent / "data"
MINISTRY = key(1)  # health-ministry: admin and health_authority
HOSPITAL = key(2)  # city-hospital
RED_CROSS = key(3)  # red-cross
VOLUNTEER = key(60)  # an individual did:key
# The members other than the ministry: 2 of the 3 organisations, the consortium's M of N,
# approve the ministry's own scopes (no authority grants itself a scope).
CONSORTIUM = (HOSPITAL, RED_CROSS)


def outbreak_genesis() -> Genesis:
    data = genesis_data(3)
    data["consortium"]["organisations"][0]["roles"] = ["admin", "health_authority"]
    return Genesis.from_data(data)


@dataclass
class Served:
    node: Node
    genesis: Genesis
    url: str
    client: SalusClient
    blobs: FileBlobStore
    data_dir: Path
    index: Any  # the app's FigureIndex


@contextmanager
def served_node(data_dir: Path, *, interval: float = 0.02) -> Iterator[Served]:
    """A node with every network contract and the full API, a block every 20 ms."""
    genesis = outbreak_genesis()
    node = Node(genesis, SqliteStore(data_dir / "node.db"), key(9))
    blobs = FileBlobStore(data_dir / "blobs")
    app = create_app(node, blobs)
    stop = threading.Event()

    def produce() -> None:
        time_ms = 1_700_000_000_000  # 2023-11-14: after every date in the test files
        while not stop.wait(interval):
            time_ms += 1000
            node.produce_block(time_ms)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        with serving(app) as url, SalusClient(url) as client:
            yield Served(node, genesis, url, client, blobs, data_dir, app.state.outbreak_index)
    finally:
        stop.set()
        producer.join(5)
        app.state.outbreak_index.close()
        node.close()


def send(client: SalusClient, signer: Any, action: str, args: dict[str, Any]) -> dict[str, Any]:
    """Send an outbreak action and wait; the final status (committed or rejected)."""
    submitted = client.send(signer, "outbreak", action, args)
    status = client.wait_for(submitted["id"], timeout=30)
    # The figure index follows the ledger on a background thread: wait until it has
    # taken in this block, so the test reads what it sent.
    deadline = time.monotonic() + 30
    from salus.apps.outbreak.importing import get_json

    while get_json(client, "/v1/outbreak/status")["as_of"] < int(status.get("height") or 0):
        assert time.monotonic() < deadline, "the figure index did not catch up"
        time.sleep(0.01)
    return status


def grant(client: SalusClient, subject: str, region: str) -> None:
    """Grant a scope: the ministry's own by the consortium (M of N), others by the ministry."""
    signers = CONSORTIUM if subject == "health-ministry" else (MINISTRY,)
    for signer in signers:
        status = send(client, signer, "grant_scope", {"subject": subject, "region": region})
        assert status["status"] == "committed", status


class LocalNode:
    """A node in memory with a figure index, driven block by block (no HTTP)."""

    def __init__(self) -> None:
        from salus.apps.outbreak.index import FigureIndex, NodeLedger
        from salus.node import MemoryBlobStore

        self.genesis = outbreak_genesis()
        self.node = Node(self.genesis, SqliteStore(":memory:"), key(9))
        self.blobs = MemoryBlobStore()
        self.index = FigureIndex()
        self.ledger = NodeLedger(self.node)
        self.nonces: dict[bytes, int] = {}
        self.time_ms = 1_700_000_000_000

    def close(self) -> None:
        self.index.close()
        self.node.close()

    def run(self, signer: Any, action: str, args: dict[str, Any]) -> dict[str, Any]:
        """One outbreak transaction in its own block; its status."""
        from salus.core.tx import Transaction, sign_transaction

        nonce = self.nonces.get(signer.public_key, 0) + 1
        self.nonces[signer.public_key] = nonce
        tx = Transaction(self.genesis.chain_id, signer.public_key, nonce, "outbreak", action, args)
        stx = sign_transaction(tx, signer)
        assert self.node.submit(stx.envelope).status == "pending"
        self.time_ms += 1000
        self.node.produce_block(self.time_ms)
        return self.node.tx_status(stx.id)

    def ok(self, signer: Any, action: str, args: dict[str, Any]) -> dict[str, Any]:
        status = self.run(signer, action, args)
        assert status["status"] == "committed", status
        return status

    def scope_ministry(self, region: str = "*") -> None:
        """The consortium (M of N members) grants the ministry a scope."""
        for signer in CONSORTIUM:
            self.ok(signer, "grant_scope", {"subject": "health-ministry", "region": region})

    def anchor(self, signer: Any, parsed: Any, *, cover: list[str], reason: str = "") -> str:
        """Store ``parsed``'s rows in the blob store and anchor them; the root."""
        from salus.apps.outbreak.batches import build_batch

        batch = build_batch(parsed.rows)
        addresses = [self.blobs.put(chunk) for chunk in batch.chunks]
        self.ok(
            signer,
            "anchor_batch",
            {
                "root": batch.root.hex(),
                "file_sha256": parsed.file_sha256,
                "rows": len(parsed.rows),
                "figures": batch.figures,
                "format": parsed.format,
                "source": parsed.source,
                "blobs": addresses,
                "cover": cover,
                "first_date": batch.first_date,
                "last_date": batch.last_date,
                "metrics": list(batch.metrics),
                "reason": reason,
            },
        )
        return batch.root.hex()

    def sync(self) -> bool:
        return self.index.sync(self.ledger, self.blobs)


def parsed(name: str, **kwargs: Any) -> Any:
    from salus.apps.outbreak.jhu import parse_file

    return parse_file((DATA / name).read_bytes(), name, **kwargs)
