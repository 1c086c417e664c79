"""Admission through CometBFT's mempool: the node's ``forward`` hook and its forwarder.

No processes: the forwarder is a fake, blocks are executed and committed the way
the ABCI application does it (``execute_block`` then ``commit_block``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from salus.cometbft.rpc import BroadcastResult, CometBFTUnreachable
from salus.cometbft.runner import MempoolForwarder
from salus.core.genesis import Genesis
from salus.core.tx import SignedTransaction, Transaction, sign_transaction
from salus.errors import NotFound
from salus.node import Node, SqliteStore, SubmitResult
from tests.support import genesis_data, key

GENESIS = Genesis.from_data(genesis_data(3))


def anchor(signer_no: int, nonce: int, digest: str | None = None) -> SignedTransaction:
    signer = key(signer_no)
    args = {"digest": digest or f"{signer_no:02x}{nonce:062x}"}
    tx = Transaction(GENESIS.chain_id, signer.public_key, nonce, "notary", "anchor", args)
    return sign_transaction(tx, signer)


class FakeMempool:
    """Records what the node forwards; refuses nonces listed in ``refuse``."""

    def __init__(self) -> None:
        self.received: list[SignedTransaction] = []
        self.refuse: dict[int, tuple[str, str]] = {}

    def __call__(self, stxs: Sequence[SignedTransaction]) -> list[SubmitResult]:
        out = []
        for stx in stxs:
            self.received.append(stx)
            refusal = self.refuse.get(stx.tx.nonce)
            if refusal is None:
                out.append(SubmitResult(stx.id_hex, "pending"))
            else:
                out.append(SubmitResult(stx.id_hex, "rejected", *refusal))
        return out


def bft_node(forward: Any) -> Node:
    return Node(GENESIS, SqliteStore(":memory:"), None, forward=forward)


def commit(node: Node, *stxs: SignedTransaction) -> None:
    """What SalusApp does for a decided block: FinalizeBlock, then Commit."""
    time_ms = node.ledger.last_time_ms + 1000
    pending = node.ledger.execute_block(list(stxs), time_ms=time_ms, proposer=key(9).public_key)
    node.commit_block(pending, b"")


def test_a_forwarded_transaction_is_pending_until_a_block_commits_it() -> None:
    mempool = FakeMempool()
    node = bft_node(mempool)
    stx = anchor(50, 1)
    assert node.submit(stx.envelope) == SubmitResult(stx.id_hex, "pending")
    assert mempool.received == [stx]
    assert len(node.mempool) == 0  # CometBFT's mempool holds it, not the node's
    assert node.tx_status(stx.id)["status"] == "pending"
    assert node.status()["mempool"] == 1
    assert node.next_nonce(key(50).public_key) == 2
    with pytest.raises(NotFound, match="pending"):
        node.tx_proof(stx.id)
    # Submitting it again while pending does not forward it twice.
    assert node.submit(stx.envelope).status == "pending"
    assert len(mempool.received) == 1
    commit(node, stx)
    assert node.tx_status(stx.id)["status"] == "committed"
    assert node.status()["mempool"] == 0
    assert node.next_nonce(key(50).public_key) == 2
    node.close()


def test_a_committed_nonce_is_refused_as_a_replay_without_forwarding() -> None:
    mempool = FakeMempool()
    node = bft_node(mempool)
    stx = anchor(50, 1)
    node.submit(stx.envelope)
    commit(node, stx)
    again = node.submit(stx.envelope)
    assert again.status == "rejected" and again.code == "bad_nonce"
    assert "replay" in again.reason
    assert mempool.received == [stx]
    assert node.tx_status(stx.id)["status"] == "committed"  # the record wins
    node.close()


def test_stateless_and_committed_state_refusals_never_reach_cometbft() -> None:
    mempool = FakeMempool()
    node = bft_node(mempool)
    stx = anchor(50, 1)
    tampered = stx.envelope.replace(stx.signature, bytes(64))
    assert node.submit(tampered).code == "bad_signature"
    assert node.submit(b"\x00").status == "rejected"
    outsider = sign_transaction(
        Transaction(
            GENESIS.chain_id,
            key(50).public_key,
            1,
            "identity",
            "propose",
            {"kind": "remove_org", "params": {"org": "red-cross"}},
        ),
        key(50),
    )
    refused = node.submit(outsider.envelope)
    assert refused.code == "permission_denied"
    assert node.tx_status(outsider.id)["status"] == "rejected"
    assert mempool.received == []
    node.close()


def test_checktx_refusals_come_back_with_their_reason() -> None:
    mempool = FakeMempool()
    mempool.refuse[2] = ("bad_nonce", "nonce 2 is not above the signer's last nonce 3")
    mempool.refuse[3] = ("mempool_full", "mempool is full")
    node = bft_node(mempool)
    results = node.submit_many([anchor(50, 1).envelope, anchor(51, 2).envelope, b"junk"])
    assert [r.status for r in results] == ["pending", "rejected", "rejected"]
    assert results[1].code == "bad_nonce" and "last nonce 3" in results[1].reason
    assert node.tx_status(anchor(51, 2).id)["status"] == "rejected"
    full = node.submit(anchor(52, 3).envelope)
    assert full.code == "mempool_full"
    with pytest.raises(NotFound):  # busy, not wrong: nothing is remembered
        node.tx_status(anchor(52, 3).id)
    node.close()


def test_a_large_batch_is_forwarded_in_order() -> None:
    mempool = FakeMempool()
    node = bft_node(mempool)
    envelopes = [anchor(60 + n % 7, n // 7 + 1).envelope for n in range(700)]
    results = node.submit_many(envelopes)
    assert all(r.status == "pending" for r in results)
    assert [stx.envelope for stx in mempool.received] == envelopes
    node.close()


class FakeRpc:
    """broadcast_txs_sync with canned answers by nonce; records calls per thread."""

    def __init__(self, answers: dict[int, BroadcastResult] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[list[bytes]] = []
        self.threads: set[str] = set()
        self.down = False
        self._lock = threading.Lock()

    def broadcast_txs_sync(self, txs: Sequence[bytes]) -> list[BroadcastResult]:
        if self.down:
            raise CometBFTUnreachable("CometBFT at http://x is unreachable")
        with self._lock:
            self.calls.append(list(txs))
            self.threads.add(threading.current_thread().name)
        out = []
        for tx in txs:
            nonce = SignedTransaction.decode(tx).tx.nonce
            out.append(self.answers.get(nonce, BroadcastResult("H", 0, "")))
        return out


def test_the_forwarder_maps_cometbft_answers_to_admission_results() -> None:
    rpc = FakeRpc(
        {
            2: BroadcastResult("", -1, "tx already exists in cache"),
            3: BroadcastResult("", -1, "mempool is full: number of txs 5000 (max: 5000)"),
            4: BroadcastResult("H", 4, "nonce 4 is not above 9", "salus"),
            5: BroadcastResult("H", 5, "requires role 'member'", "salus"),
            6: BroadcastResult("", -1, "tx too large"),
        }
    )
    forwarder = MempoolForwarder(rpc, lanes=1)  # type: ignore[arg-type]
    stxs = [anchor(50, nonce) for nonce in range(1, 7)]
    results = forwarder(stxs)
    assert [r.status for r in results] == [
        "pending",
        "pending",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert [r.code for r in results[2:]] == [
        "mempool_full",
        "bad_nonce",
        "permission_denied",
        "engine_refused",
    ]
    assert results[3].reason == "nonce 4 is not above 9"
    rpc.down = True
    unavailable = forwarder([anchor(50, 7)])[0]
    assert unavailable.code == "engine_unavailable" and "may or may not" in unavailable.reason
    forwarder.close()


def test_the_forwarder_keeps_each_signers_order_across_lanes() -> None:
    rpc = FakeRpc()
    forwarder = MempoolForwarder(rpc, lanes=8)  # type: ignore[arg-type]
    stxs = [anchor(40 + n % 20, n // 20 + 1) for n in range(2000)]
    results = forwarder(stxs)
    assert [r.id for r in results] == [stx.id_hex for stx in stxs]  # answers in input order
    assert len(rpc.calls) > 1 and len(rpc.threads) > 1
    for call in rpc.calls:
        decoded = [SignedTransaction.decode(tx).tx for tx in call]
        by_signer: dict[bytes, list[int]] = {}
        for tx in decoded:
            by_signer.setdefault(tx.signer, []).append(tx.nonce)
        assert all(nonces == sorted(nonces) for nonces in by_signer.values())
    # A signer's transactions all travel in one lane.
    lanes_of: dict[bytes, set[int]] = {}
    for number, call in enumerate(rpc.calls):
        for tx in call:
            lanes_of.setdefault(SignedTransaction.decode(tx).tx.signer, set()).add(number)
    assert all(len(calls) == 1 for calls in lanes_of.values())
    forwarder.close()


class FakeProofs:
    def __init__(self) -> None:
        self.asked: list[Any] = []

    def tx_proof(self, node: Node, tx_id: bytes) -> bytes:
        self.asked.append(("tx", tx_id))
        return b"tx-bundle"

    def state_proof(self, node: Node, raw_key: bytes) -> bytes:
        self.asked.append(("state", raw_key))
        return b"state-bundle"


def test_proofs_come_from_the_proof_source() -> None:
    node = bft_node(FakeMempool())
    node.proof_source = FakeProofs()
    stx = anchor(50, 1)
    node.submit(stx.envelope)
    commit(node, stx)
    assert node.tx_proof(stx.id) == b"tx-bundle"
    assert node.state_proof("identity", "members") == b"state-bundle"
    with pytest.raises(NotFound):
        node.tx_proof(bytes(32))  # unknown ids never reach the source
    node.close()
