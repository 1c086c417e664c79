"""Proofs in BFT mode: any node serves them, the offline verifier needs only the genesis."""

from __future__ import annotations

from pathlib import Path

import cbor2
import pytest
from click.testing import CliRunner

from salus.cli import cli
from salus.core.proofs import verify_bundle
from tests.cometbft.network import Net

pytestmark = [pytest.mark.cometbft, pytest.mark.slow]


def test_a_transaction_proof_from_any_node_verifies_offline(net: Net, tmp_path: Path) -> None:
    signer = net.org_keys["city-hospital"]
    with net.client(net.names[0]) as client:
        stx = net.anchor_tx(signer, net.next_nonce(signer), "proof")
        client.submit(stx)
        height = client.wait_for(stx.id_hex)["height"]
    for name in net.names:
        net.wait_salus_height([name], height)
        with net.client(name) as client:
            bundle = client.tx_proof(stx.id_hex)
        verdict = verify_bundle(bundle, net.genesis)
        assert verdict.valid, verdict
        assert verdict.facts["tx_id"] == stx.id_hex and verdict.facts["height"] == height
        assert cbor2.loads(bundle)["engine"] == "cometbft"
    # The same 'salus verify' command, with no node running anything for it.
    path = tmp_path / "receipt.cbor"
    path.write_bytes(bundle)
    genesis = net.testnet.genesis_path
    result = CliRunner().invoke(cli, ["verify", str(path), "--genesis", str(genesis)])
    assert result.exit_code == 0, result.output
    assert f"transaction {stx.id_hex} is in block {height}" in result.output
    # One flipped byte anywhere and the verdict names a failed step.
    broken = bytearray(bundle)
    broken[len(broken) // 2] ^= 0x01
    assert not verify_bundle(bytes(broken), net.genesis).valid


def test_a_state_proof_verifies_against_the_validators_commit(net: Net) -> None:
    with net.client(net.names[2]) as client:
        bundle = client.state_proof("identity", "members")
        absent = client.state_proof("identity", "org/nobody")
    verdict = verify_bundle(bundle, net.genesis)
    assert verdict.valid, verdict
    assert verdict.facts["present"] is True
    assert sorted(verdict.facts["value"]) == sorted(net.names[:4])
    missing = verify_bundle(absent, net.genesis)
    assert missing.valid and missing.facts["present"] is False
