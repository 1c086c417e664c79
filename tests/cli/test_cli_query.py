"""``salus query``, ``salus proof`` and ``salus verify``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from salus.client import SalusClient
from tests.cli.conftest import Salus
from tests.cli.running import Network, make_home


@pytest.fixture(scope="module")
def committed(network: Network) -> dict[str, Any]:
    """A committed governance proposal, opened through the SDK."""
    with SalusClient(network.url) as client:
        submitted = client.send(
            network.signer("health-ministry"),
            "identity",
            "propose",
            {"kind": "grant_role", "params": {"subject": "red-cross", "role": "courier"}},
        )
        return client.wait_for(submitted["id"], timeout=10)


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_query_commands(salus: Salus, network: Network, committed: dict[str, Any]) -> None:
    node = ("query", "--node", network.url)
    status = _json(salus(*node, "status"))
    assert status["chain_id"] == network.genesis.chain_id
    assert status["height"] >= committed["height"]
    assert _json(salus(*node, "genesis"))["chain_id"] == network.genesis.chain_id
    tx = _json(salus(*node, "tx", committed["id"]))
    assert tx["status"] == "committed"
    assert _json(salus(*node, "block", str(committed["height"])))
    headers = _json(salus(*node, "blocks", "--limit", "2"))
    assert 1 <= len(headers) <= 2
    org = _json(salus(*node, "state", "identity", "org/red-cross"))
    assert org["value"]["name"] == "Red Cross"
    ministry = network.signer("health-ministry").did
    account = _json(salus(*node, "account", ministry))
    assert account["organisation"] == "health-ministry"
    subject = committed["events"][0]["subject"]
    events = _json(
        salus(*node, "events", "--contract", "identity", "--subject", subject, "--limit", "5")
    )
    assert [e["type"] for e in events["events"]] == ["proposed", "approved"]
    # Output is indented, human-readable JSON.
    assert salus(*node, "status").stdout.startswith('{\n  "chain_id"')


def test_query_not_found_and_bad_input(salus: Salus, network: Network) -> None:
    node = ("query", "--node", network.url)
    missing = salus(*node, "tx", "ab" * 32)
    assert missing.exit_code == 1
    assert missing.stderr == (
        f"error: no transaction {'ab' * 32} is known to this node (HTTP 404 not_found)\n"
    )
    absent = salus(*node, "state", "identity", "org/nobody")
    assert absent.exit_code == 1
    assert "no state entry 'org/nobody'" in absent.stderr
    bad_did = salus(*node, "account", "not-a-did")
    assert bad_did.exit_code == 1
    assert "is not a did:key identifier" in bad_did.stderr
    bad_height = salus(*node, "block", "-1")
    assert bad_height.exit_code == 2


def test_proof_and_offline_verify(
    salus: Salus, network: Network, committed: dict[str, Any], tmp_path: Path
) -> None:
    proof_file = tmp_path / "p.cbor"
    result = salus("proof", "--node", network.url, "tx", committed["id"], "-o", str(proof_file))
    assert result.exit_code == 0, result.output
    assert f"it proves: transaction {committed['id']} is in block {committed['height']}" in (
        result.stderr
    )
    genesis = str(network.layout.genesis_path)
    verified = salus("verify", str(proof_file), "--genesis", genesis)
    assert verified.exit_code == 0, verified.output
    lines = verified.stdout.splitlines()
    assert lines[0] == f"valid: transaction {committed['id']} is in block {committed['height']}"
    assert any("identity.propose" in line for line in lines)
    assert any(line.split() == ["outcome", "applied"] for line in lines)

    as_json = _json(salus("verify", str(proof_file), "--genesis", genesis, "--json"))
    assert as_json["valid"] is True
    assert as_json["facts"]["tx_id"] == committed["id"]

    state_file = tmp_path / "s.cbor"
    result = salus(
        "proof", "--node", network.url, "state", "identity", "org/nobody", "-o", str(state_file)
    )
    assert result.exit_code == 0, result.output
    absent = salus("verify", str(state_file), "--genesis", genesis)
    assert absent.exit_code == 0
    assert "state key 'identity/org/nobody' is absent" in absent.stdout
    assert "(absent)" in absent.stdout


def test_proof_of_an_unknown_transaction(salus: Salus, network: Network, tmp_path: Path) -> None:
    out = tmp_path / "p.cbor"
    result = salus("proof", "--node", network.url, "tx", "cd" * 32, "-o", str(out))
    assert result.exit_code == 1
    assert "no committed transaction" in result.stderr
    assert not out.exists()


def test_verify_rejects_a_bundle_for_another_network(
    salus: Salus, network: Network, committed: dict[str, Any], tmp_path: Path
) -> None:
    proof_file = tmp_path / "p.cbor"
    salus("proof", "--node", network.url, "tx", committed["id"], "-o", str(proof_file))
    other = make_home(tmp_path / "other")  # same chain id, different validator
    result = salus("verify", str(proof_file), "--genesis", str(tmp_path / "other" / "genesis.json"))
    assert other.chain_id == network.genesis.chain_id
    assert result.exit_code == 1
    assert result.stdout.startswith("invalid at step signer: block ")

    tampered = tmp_path / "t.cbor"
    data = bytearray(proof_file.read_bytes())
    data[len(data) // 2] ^= 0x40
    tampered.write_bytes(bytes(data))
    result = salus("verify", str(tampered), "--genesis", str(network.layout.genesis_path), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["valid"] is False


def test_verify_usage_errors_exit_2(salus: Salus, network: Network, tmp_path: Path) -> None:
    genesis = str(network.layout.genesis_path)
    missing = salus("verify", str(tmp_path / "none.cbor"), "--genesis", genesis)
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr
    bundle = tmp_path / "b.cbor"
    bundle.write_bytes(b"\xa0")
    missing_genesis = salus("verify", str(bundle), "--genesis", str(tmp_path / "g.json"))
    assert missing_genesis.exit_code == 2
    bad_genesis = tmp_path / "bad.json"
    bad_genesis.write_text("{not json")
    unreadable = salus("verify", str(bundle), "--genesis", str(bad_genesis))
    assert unreadable.exit_code == 2
    assert unreadable.stderr.startswith(f"error: cannot use {bad_genesis} as genesis: genesis is")
    garbage = salus("verify", str(bundle), "--genesis", genesis)
    assert garbage.exit_code == 1
    assert garbage.stdout.startswith("invalid at step decode: ")
