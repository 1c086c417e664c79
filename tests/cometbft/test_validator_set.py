"""Validator set changes by governance, applied by CometBFT (FinalizeBlock updates).

A fifth organisation's node joins as a full node, the consortium votes it in as a
validator (M-of-N), CometBFT makes it sign blocks, then the consortium votes it
out again and CometBFT stops counting it.
"""

from __future__ import annotations

from typing import Any

import cbor2
import pytest

from salus.client import ApiError
from salus.cometbft.home import cometbft_address
from salus.core.proofs import verify_bundle
from salus.keys import new_signer
from tests.cometbft.network import TIMEOUT_COMMIT_MS, Net, free_ports

pytestmark = [pytest.mark.cometbft, pytest.mark.slow]


def _govern(net: Net, kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Propose as the first organisation, approve by the next ones until executed."""
    names = net.names[:4]
    with net.client(names[0]) as client:
        proposer = net.org_keys[names[0]]
        sent = client.send(proposer, "identity", "propose", {"kind": kind, "params": params})
        status = client.wait_for(sent["id"])
        assert status["status"] == "committed", status
    number = next(
        int(event["subject"].removeprefix("proposal/"))
        for event in status["events"]
        if event["type"] == "proposed"
    )
    for name in names[1:]:
        # Read the proposal only once this node has the block of the last vote: a node
        # that lags would still show it open and its approval would come too late.
        net.wait_salus_height([name], int(status["height"]))
        with net.client(name) as client:
            proposal = client.state("identity", f"proposal/{number}")["value"]
            if proposal["status"] == "executed":
                return proposal
            sent = client.send(net.org_keys[name], "identity", "approve", {"proposal": number})
            status = client.wait_for(sent["id"])
            assert status["status"] == "committed", status
    with net.client(names[0]) as client:
        height = client.status()["height"]
    net.wait_salus_height(names, height)
    with net.client(names[0]) as client:
        proposal: dict[str, Any] = client.state("identity", f"proposal/{number}")["value"]
    return proposal


def _cometbft_powers(net: Net, name: str) -> dict[str, int]:
    with net.testnet.rpc(name) as rpc:
        validators = rpc.validators()["validators"]
    return {v["address"].lower(): int(v["voting_power"]) for v in validators}


def _signers(net: Net, name: str, height: int) -> set[str]:
    with net.testnet.rpc(name) as rpc:
        commit = rpc.commit(height)["signed_header"]["commit"]
    return {
        sig["validator_address"].lower()
        for sig in commit["signatures"]
        if sig["block_id_flag"] == 2
    }


def _assert_proof_follows_updates(net: Net, name: str, hops: int) -> None:
    bundle = b""

    def served() -> bool:
        # Right after a change the node may need a block or two to find a commit
        # that proves it (404 until then).
        nonlocal bundle
        with net.client(name) as client:
            try:
                bundle = client.state_proof("identity", "validators")
            except ApiError as exc:
                if exc.status != 404:
                    raise
                return False
        return True

    net.wait_until(served, 20, "a state proof across the validator set change", poll=0.3)
    assert len(cbor2.loads(bundle)["updates"]) == hops
    verdict = verify_bundle(bundle, net.genesis)
    assert verdict.valid, verdict


def test_governance_adds_a_fifth_validator_and_removes_it(net: Net) -> None:
    validator = new_signer()
    address = cometbft_address(validator.public_key).hex()
    ports, api_port = free_ports()
    node = net.testnet.add_node(
        "relief-bank",
        validator,
        ports=ports,
        api_port=api_port,
        timeout_commit_ms=TIMEOUT_COMMIT_MS,
    )
    observer = net.names[0]
    try:
        net.testnet.start([node.name], wait=60)
        net.wait_salus_height([node.name], net.salus_height(observer), timeout=60)
        assert address not in _cometbft_powers(net, observer)

        proposal = _govern(
            net, "add_validator", {"did": validator.did, "power": 10, "name": "relief-bank"}
        )
        assert proposal["status"] == "executed", proposal
        with net.client(observer) as client:
            powers = client.state("identity", "validators")["value"]
        assert powers[validator.did] == 10

        # CometBFT applies an update made at height H from H+2 on.
        net.wait_until(
            lambda: _cometbft_powers(net, observer).get(address) == 10, 30, "the 5th validator"
        )
        assert len(_cometbft_powers(net, observer)) == 5
        net.wait_until(
            lambda: address in _signers(net, observer, net.height(observer) - 1),
            30,
            "the 5th validator's signature on a commit",
        )
        # Every node, the newcomer included, agrees on the history.
        net.assert_same_history()
        # A proof now carries the set change; the genesis alone still verifies it.
        _assert_proof_follows_updates(net, node.name, hops=1)

        proposal = _govern(net, "remove_validator", {"did": validator.did})
        assert proposal["status"] == "executed", proposal
        net.wait_until(lambda: address not in _cometbft_powers(net, observer), 30, "the removal")
        assert len(_cometbft_powers(net, observer)) == 4
        _assert_proof_follows_updates(net, observer, hops=2)
        # The four remain able to commit on their own.
        net.testnet.stop_node(node.name)
        start = net.height(observer)
        net.testnet.wait_for_height(start + 3, net.names[:4], timeout=30)
    finally:
        net.testnet.stop_node(node.name)
        net.testnet.nodes.remove(node)
        net.testnet.save()
    net.assert_same_history()
