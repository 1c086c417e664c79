"""Fault tests with real processes: four validators, each a Salus + CometBFT pair.

Total voting power 40 (10 each); a block needs more than 2/3, i.e. three validators.
Each test leaves all four validators running for the next one.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from salus.client import ApiError
from tests.cometbft.network import Net

pytestmark = [pytest.mark.cometbft, pytest.mark.slow]


def test_a_transaction_sent_to_any_node_is_committed_once_everywhere(net: Net) -> None:
    signer = net.org_keys["red-cross"]
    ids: list[tuple[Any, int]] = []
    for name in net.names:
        if ids:
            # Ask this node for the next nonce only once it has the previous block:
            # a node one block behind would hand out a nonce that is already used.
            net.wait_salus_height([name], ids[-1][1])
        with net.client(name) as client:
            nonce = net.next_nonce(signer)
            stx = net.anchor_tx(signer, nonce, f"via {name}")
            assert client.submit(stx)["status"] == "pending"
            assert client.tx(stx.id_hex)["status"] == "pending"
            committed = client.wait_for(stx.id_hex, timeout=30)
            assert committed["status"] == "committed", committed
            ids.append((stx, committed["height"]))
    for name in net.names:
        with net.client(name) as client:
            for stx, height in ids:
                net.wait_salus_height([name], height)
                seen = client.tx(stx.id_hex)
                assert seen["status"] == "committed" and seen["height"] == height
            # Exactly once: the signer's committed transactions list each id one time.
            listed = client._get("/v1/txs", signer=signer.did, limit=500)["txs"]
            listed_ids = [tx["id"] for tx in listed]
            for stx, _ in ids:
                assert listed_ids.count(stx.id_hex) == 1


def test_resubmitting_a_committed_transaction_is_a_replay(net: Net) -> None:
    signer = net.org_keys["city-lab"]
    first, second = net.names[0], net.names[2]
    with net.client(first) as client:
        stx = net.anchor_tx(signer, net.next_nonce(signer), "replay")
        client.submit(stx)
        height = client.wait_for(stx.id_hex)["height"]
    net.wait_salus_height(net.names, height)
    for name in (first, second):
        with net.client(name) as client, pytest.raises(ApiError) as refused:
            client.submit(stx)
        assert refused.value.code == "bad_nonce"
        assert "replay" in refused.value.message
        with net.client(name) as client:
            assert client.tx(stx.id_hex)["status"] == "committed"
    # Straight into CometBFT's mempool, past the Salus API: CometBFT's cache or
    # CheckTx refuses it, and no block ever holds it twice.
    with net.testnet.rpc(net.names[1]) as rpc:
        assert not rpc.broadcast_tx_sync(stx.envelope).accepted
    later = net.height(first) + 3
    net.testnet.wait_for_height(later)
    with net.client(net.names[1]) as client:
        listed = client._get("/v1/txs", signer=signer.did, limit=500)["txs"]
    assert [tx["id"] for tx in listed].count(stx.id_hex) == 1


def test_every_node_reports_the_same_state_root_at_every_height(net: Net) -> None:
    top = net.height(net.names[0])
    net.wait_salus_height(net.names, top)
    assert net.assert_same_history() >= top
    assert net.testnet.app_hash_disagreements() == []


def test_one_validator_down_blocks_keep_committing(net: Net) -> None:
    down = net.names[3]
    up = net.names[:3]
    net.testnet.kill_node(down)  # a crash: SIGKILL, no clean shutdown
    try:
        start = net.height(up[0])
        net.testnet.wait_for_height(start + 5, up, timeout=30)
        signer = net.org_keys["health-ministry"]
        with net.client(up[1]) as client:
            stx = net.anchor_tx(signer, net.next_nonce(signer), "one down")
            client.submit(stx)
            assert client.wait_for(stx.id_hex)["status"] == "committed"
    finally:
        net.testnet.start([down], wait=60)
    # The crashed validator catches up, to the same history.
    top = net.height(up[0])
    net.wait_salus_height([down], top, timeout=60)
    net.assert_same_history()


def test_two_validators_down_commits_halt_without_fork_then_resume(net: Net) -> None:
    down = net.names[2:]
    up = net.names[:2]
    for name in down:
        net.testnet.stop_node(name)
    try:
        # A block already in flight may still finish; then nothing can commit.
        time.sleep(1.5)
        halted = [net.height(name) for name in up]
        signer = net.org_keys["city-hospital"]
        with net.client(up[0]) as client:
            stx = net.anchor_tx(signer, net.next_nonce(signer), "two down")
            assert client.submit(stx)["status"] == "pending"
        time.sleep(3)
        assert [net.height(name) for name in up] == halted, "blocks committed without 2/3"
        with net.client(up[0]) as client:
            assert client.tx(stx.id_hex)["status"] == "pending"
        # No fork: the two live validators hold the same blocks.
        net.assert_same_history(up)
        # One returns: three of four validators, more than 2/3, so commits resume.
        net.testnet.start([down[0]], wait=60)
        net.testnet.wait_for_height(max(halted) + 2, up, timeout=60)
        with net.client(up[1]) as client:
            assert client.wait_for(stx.id_hex, timeout=30)["status"] == "committed"
    finally:
        net.testnet.start(down, wait=60)
    top = net.height(up[0])
    net.wait_salus_height(net.names, top, timeout=60)
    net.assert_same_history()


def test_a_validator_restarted_from_wiped_salus_state_catches_up(net: Net) -> None:
    victim = net.names[1]
    before = net.salus_height(victim)
    net.testnet.stop_node(victim)
    try:
        net.testnet.wipe_salus_state(victim)
        assert not net.testnet.node(victim).layout.data_dir.exists()
    finally:
        # CometBFT's Info handshake finds the app at height 0 and replays every block.
        net.testnet.start([victim], wait=120)
    net.wait_salus_height([victim], before, timeout=90)
    top = net.height(net.names[0])
    net.wait_salus_height(net.names, top, timeout=60)
    net.assert_same_history()
    with net.client(victim) as client:
        assert client.status()["total_txs"] >= 1
