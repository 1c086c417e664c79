"""The node over real SQLite files: lifecycle of a transaction, restart, proofs."""

from __future__ import annotations

from pathlib import Path

import pytest

from salus.core.genesis import Genesis
from salus.core.proofs import verify_bundle
from salus.core.tx import SignedTransaction, Transaction, sign_transaction
from salus.errors import NotFound, StorageError
from salus.node import Node, NodeConfig, SqliteStore
from tests.support import genesis_data, key

GENESIS = Genesis.from_data(genesis_data(3))


def signed(signer_no: int, nonce: int, **args: object) -> SignedTransaction:
    signer = key(signer_no)
    body = {"kind": "grant_role", "params": {"subject": "red-cross", "role": "logistics"}}
    body.update(args)
    tx = Transaction(GENESIS.chain_id, signer.public_key, nonce, "identity", "propose", body)
    return sign_transaction(tx, signer)


def open_node(path: Path, **config: int) -> Node:
    return Node(GENESIS, SqliteStore(path / "ledger.sqlite"), key(9), config=NodeConfig(**config))


def test_transaction_lifecycle(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    stx = signed(1, 1)
    assert node.submit(stx.envelope).status == "pending"
    assert node.tx_status(stx.id)["status"] == "pending"
    header = node.produce_block(1_700_000_000_000)
    assert header is not None and header.tx_count == 1
    status = node.tx_status(stx.id)
    assert status["status"] == "committed" and status["height"] == 1
    assert [e["type"] for e in status["events"]] == ["proposed", "approved"]
    assert node.produce_block(1_700_000_001_000) is None  # nothing to do
    node.close()


def test_rejections_carry_reasons(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    outsider = signed(50, 1)
    result = node.submit(outsider.envelope)
    assert result.status == "rejected" and "'member'" in result.reason
    assert node.tx_status(outsider.id)["status"] == "rejected"
    garbage = node.submit(b"\x00\x01")
    assert garbage.status == "rejected" and garbage.id is None
    stx = signed(1, 1)
    bad_sig = SignedTransaction.decode(stx.envelope)
    tampered = bad_sig.envelope.replace(stx.signature, bytes(64))
    assert node.submit(tampered).code == "bad_signature"
    assert node.submit(stx.envelope).status == "pending"
    assert node.submit(stx.envelope).status == "pending"  # idempotent while pending
    node.produce_block(1_700_000_000_000)
    replay = node.submit(stx.envelope)
    assert replay.status == "rejected" and replay.code == "bad_nonce"
    with pytest.raises(NotFound):
        node.tx_status(bytes(32))
    node.close()


def test_out_of_order_nonces_are_refused_at_admission(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    assert node.submit(signed(1, 2).envelope).status == "pending"
    late = node.submit(signed(1, 1, params={"subject": "red-cross", "role": "x"}).envelope)
    assert late.code == "bad_nonce"
    assert node.next_nonce(key(1).public_key) == 3
    node.close()


def test_blocks_are_cut_by_size(tmp_path: Path) -> None:
    node = open_node(tmp_path, max_block_txs=4)
    for nonce in range(1, 11):
        role = f"role{nonce}"
        node.submit(signed(1, nonce, params={"subject": "red-cross", "role": role}).envelope)
    counts = []
    time_ms = 1_700_000_000_000
    while (header := node.produce_block(time_ms)) is not None:
        counts.append(header.tx_count)
        time_ms += 1
    assert counts == [4, 4, 2]
    node.close()


def test_restart_resumes_from_disk(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    ids = []
    for nonce in range(1, 4):
        stx = signed(1, nonce, params={"subject": "red-cross", "role": f"r{nonce}"})
        node.submit(stx.envelope)
        ids.append(stx.id)
        node.produce_block(1_700_000_000_000 + nonce)
    root, height = node.ledger.state_root, node.height
    node.close()

    again = open_node(tmp_path)
    assert (again.ledger.state_root, again.height) == (root, height)
    assert again.next_nonce(key(1).public_key) == 4
    assert all(again.tx_status(i)["status"] == "committed" for i in ids)
    assert again.submit(signed(1, 3).envelope).code == "bad_nonce"
    stx = signed(1, 4, params={"subject": "red-cross", "role": "r4"})
    again.submit(stx.envelope)
    assert again.produce_block(1_700_000_000_000).height == 4  # type: ignore[union-attr]
    assert again.ledger.last_time_ms > 1_700_000_000_003  # time never goes backwards
    again.close()


def test_a_data_directory_belongs_to_one_genesis(tmp_path: Path) -> None:
    open_node(tmp_path).close()
    other = Genesis.from_data(genesis_data(2))
    with pytest.raises(StorageError, match="different genesis"):
        Node(other, SqliteStore(tmp_path / "ledger.sqlite"), key(9))


def test_only_a_genesis_validator_may_produce(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="not a validator"):
        Node(GENESIS, SqliteStore(tmp_path / "x.sqlite"), key(1))


def test_proofs_from_the_node_verify_offline(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    with pytest.raises(NotFound, match="no block"):
        node.state_proof("identity", "members")
    txs = [signed(n, 1, params={"subject": "red-cross", "role": f"r{n}"}) for n in (1, 2, 3)]
    for stx in txs:
        node.submit(stx.envelope)
    node.produce_block(1_700_000_000_000)
    extra = signed(1, 2)
    node.submit(extra.envelope)
    with pytest.raises(NotFound, match="pending"):
        node.tx_proof(extra.id)
    for stx in txs:
        verdict = verify_bundle(node.tx_proof(stx.id), GENESIS)
        assert verdict.valid, verdict
        assert verdict.facts["tx_id"] == stx.id.hex()
    present = verify_bundle(node.state_proof("identity", "members"), GENESIS)
    assert present.valid and present.facts["value"] == [
        "city-hospital",
        "health-ministry",
        "red-cross",
    ]
    absent = verify_bundle(node.state_proof("identity", "org/none"), GENESIS)
    assert absent.valid and absent.facts["present"] is False
    nonce = verify_bundle(node.nonce_proof(key(1).public_key), GENESIS)
    assert nonce.valid and nonce.facts["value"] == 1
    node.close()


def test_two_nodes_reach_the_same_roots(tmp_path: Path) -> None:
    first, second = open_node(tmp_path / "a"), open_node(tmp_path / "b")
    for block in range(1, 6):
        batch = [
            signed(n, block, params={"subject": "red-cross", "role": f"b{block}"})
            for n in (1, 2, 3, 60)
        ]
        for node in (first, second):
            for stx in batch:
                node.submit(stx.envelope)
            node.produce_block(1_700_000_000_000 + block)
        assert first.ledger.state_root == second.ledger.state_root
        assert first.ledger.last_hash == second.ledger.last_hash
    first.close()
    second.close()


def test_events_and_transactions_are_indexed(tmp_path: Path) -> None:
    node = open_node(tmp_path)
    for n in (1, 2):
        node.submit(signed(n, 1, params={"subject": "red-cross", "role": f"r{n}"}).envelope)
    node.produce_block(1_700_000_000_000)
    proposed = node.store.events(contract="identity", type="proposed")
    assert [e.subject for e in proposed] == ["proposal/1", "proposal/2"]
    by_subject = node.store.events(subject="proposal/2")
    assert {e.type for e in by_subject} == {"proposed", "approved"}
    page = node.store.events(contract="identity", limit=1)
    rest = node.store.events(contract="identity", after=page[-1].seq)
    assert len(page) + len(rest) == 4
    mine = node.store.find_txs(
        contract=None, signer=key(2).public_key, before_height=None, limit=10
    )
    assert len(mine) == 1
    keys = node.store.state_keys(b"identity/org/", after=None, limit=2)
    assert keys == [b"identity/org/city-hospital", b"identity/org/health-ministry"]
    more = node.store.state_keys(b"identity/org/", after=keys[-1], limit=5)
    assert more == [b"identity/org/red-cross"]
    node.close()
