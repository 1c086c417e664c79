"""``salus tx build | sign | submit | send`` against a served node."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

from salus.core.tx import SignedTransaction
from tests.cli.conftest import Salus
from tests.cli.running import Network
from tests.support import key

OUTSIDER = key(41)


def _grant(subject: str, role: str = "auditor") -> str:
    return json.dumps({"kind": "grant_role", "params": {"subject": subject, "role": role}})


def _next_nonce(salus: Salus, network: Network, did: str) -> int:
    result = salus("query", "--node", network.url, "account", did)
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["next_nonce"])


def test_build_sign_submit_wait(
    salus: Salus, network: Network, tmp_path: Path, passphrase_file: Path
) -> None:
    ministry = network.signer("health-ministry")
    nonce = _next_nonce(salus, network, ministry.did)
    unsigned = tmp_path / "tx.json"
    built = salus(
        "tx", "build",
        "--chain-id", network.genesis.chain_id,
        "--signer", ministry.did,
        "--nonce", str(nonce),
        "--contract", "identity",
        "--action", "propose",
        "--args", _grant(OUTSIDER.did),
        "-o", str(unsigned),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    assert json.loads(unsigned.read_text())["signer"] == ministry.did

    signed = tmp_path / "signed.json"
    result = salus(
        "tx", "sign", "--key", str(network.key_file("health-ministry")), str(unsigned),
        "-o", str(signed), "--passphrase-file", str(passphrase_file),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(signed.read_text())
    stx = SignedTransaction.decode(base64.b64decode(document["tx"]))
    assert stx.id_hex == document["id"]
    stx.verify_signature()
    assert f"signed transaction {stx.id_hex}" in result.stderr

    submitted = salus("tx", "submit", "--node", network.url, str(signed), "--wait")
    assert submitted.exit_code == 0, submitted.output
    status = json.loads(submitted.stdout)
    assert status["id"] == stx.id_hex
    assert status["status"] == "committed"
    assert f"committed in block {status['height']}" in submitted.stderr

    # The same envelope again: replay protection refuses it by name.
    again = salus("tx", "submit", "--node", network.url, str(signed))
    assert again.exit_code == 1
    assert again.stderr.startswith(f"error: the node refused transaction {stx.id_hex}: nonce")


def test_pipeline_through_stdin_with_bare_base64_and_cbor(
    salus: Salus, network: Network, pass_env: dict[str, str], tmp_path: Path
) -> None:
    hospital = network.signer("city-hospital")
    nonce = _next_nonce(salus, network, hospital.did)
    built = salus(
        "tx", "build", "--chain-id", network.genesis.chain_id, "--signer", hospital.did,
        "--nonce", str(nonce), "--contract", "identity", "--action", "propose",
        "--args", _grant("city-hospital"),
    )  # fmt: skip
    assert built.exit_code == 0
    signed = salus(
        "tx", "sign", "--key", str(network.key_file("city-hospital")), "-",
        input=built.stdout, env=pass_env,
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    document = json.loads(signed.stdout)
    pending = salus("tx", "submit", "--node", network.url, "-", input=document["tx"] + "\n")
    assert pending.exit_code == 0, pending.output
    assert json.loads(pending.stdout) == {"id": document["id"], "status": "pending"}

    # A raw CBOR envelope file is accepted too (and is already known: still pending or done).
    raw = tmp_path / "tx.cbor"
    raw.write_bytes(base64.b64decode(document["tx"]))
    resubmitted = salus("tx", "submit", "--node", network.url, str(raw), "--wait")
    assert resubmitted.exit_code in (0, 1)
    assert document["id"] in resubmitted.output


def test_send_with_wait_and_explicit_nonce(
    salus: Salus, network: Network, pass_env: dict[str, str], tmp_path: Path
) -> None:
    args_file = tmp_path / "args.json"
    args_file.write_text(_grant("red-cross", "logistics"))
    result = salus(
        "tx", "send", "--node", network.url, "--key", str(network.key_file("red-cross")),
        "--contract", "identity", "--action", "propose", "--args", f"@{args_file}", "--wait",
        env=pass_env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["status"] == "committed"
    assert status["tx"]["args"]["params"]["role"] == "logistics"

    stale = salus(
        "tx", "send", "--node", network.url, "--key", str(network.key_file("red-cross")),
        "--contract", "identity", "--action", "propose", "--args", f"@{args_file}",
        "--nonce", str(status["tx"]["nonce"]), env=pass_env,
    )  # fmt: skip
    assert stale.exit_code == 1
    assert "is not above the signer's last nonce" in stale.stderr


def test_send_rejected_in_a_block_exits_1_with_the_reason(
    salus: Salus, network: Network, pass_env: dict[str, str]
) -> None:
    result = salus(
        "tx", "send", "--node", network.url, "--key", str(network.key_file("city-hospital")),
        "--contract", "identity", "--action", "approve", "--args", '{"proposal": 4242}', "--wait",
        env=pass_env,
    )  # fmt: skip
    assert result.exit_code == 1
    assert json.loads(result.stdout)["status"] == "rejected"
    assert "was rejected in block" in result.stderr
    assert "there is no proposal 4242" in result.stderr


def test_send_refused_at_admission(
    salus: Salus, network: Network, pass_env: dict[str, str]
) -> None:
    result = salus(
        "tx", "send", "--node", network.url, "--key", str(network.key_file("city-hospital")),
        "--contract", "identity", "--action", "propose", "--args", '{"kind": "nonsense"}',
        env=pass_env,
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the node refused transaction ")
    assert "invalid_arguments" in result.stderr
    assert result.stderr.count("\n") == 1


def test_bad_args_json_is_named_before_any_passphrase(salus: Salus, network: Network) -> None:
    base = ("tx", "send", "--node", network.url, "--key", str(network.key_file("red-cross")),
            "--contract", "identity", "--action", "propose")  # fmt: skip
    result = salus(*base, "--args", '{"kind": }')
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --args is not valid JSON: Expecting value at line 1")
    result = salus(*base, "--args", "[1, 2]")
    assert result.exit_code == 2
    assert "--args must be a JSON object" in result.stderr and "not a list" in result.stderr
    result = salus(*base, "--args", "@/nonexistent/args.json")
    assert result.exit_code == 2
    assert "error: --args file /nonexistent/args.json does not exist" in result.stderr


def test_build_errors(salus: Salus) -> None:
    common = ("tx", "build", "--chain-id", "c", "--nonce", "1", "--contract", "identity",
              "--action", "propose")  # fmt: skip
    result = salus(*common, "--signer", "did:web:example.org")
    assert result.exit_code == 1
    assert "is not a did:key identifier" in result.stderr
    result = salus(*common, "--signer", OUTSIDER.did, "--args", '{"x": 1.5}')
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    result = salus(*common, "--signer", OUTSIDER.did, "--contract", "Bad-Name")
    assert result.exit_code == 1
    assert "contract must be lower-case" in result.stderr


def test_sign_errors(
    salus: Salus, network: Network, tmp_path: Path, pass_env: dict[str, str]
) -> None:
    ministry_key = str(network.key_file("health-ministry"))
    unsigned = tmp_path / "tx.json"
    unsigned.write_text(
        json.dumps(
            {
                "chain_id": network.genesis.chain_id,
                "signer": OUTSIDER.did,
                "nonce": 1,
                "contract": "identity",
                "action": "propose",
                "args": {},
            }
        )
    )
    mismatch = salus("tx", "sign", "--key", ministry_key, str(unsigned), env=pass_env)
    assert mismatch.exit_code == 1
    assert f"but the transaction's signer is {OUTSIDER.did}" in mismatch.stderr

    wrong = salus("tx", "sign", "--key", ministry_key, str(unsigned), env={"SALUS_PASSPHRASE": "x"})
    assert wrong.exit_code == 1
    assert "wrong passphrase" in wrong.stderr

    missing_key = salus(
        "tx", "sign", "--key", str(tmp_path / "no.key"), str(unsigned), env=pass_env
    )
    assert missing_key.exit_code == 1
    assert "no.key does not exist" in missing_key.stderr

    bad = tmp_path / "bad.json"
    bad.write_text('{"chain_id": "c"}')
    incomplete = salus("tx", "sign", "--key", ministry_key, str(bad), env=pass_env)
    assert incomplete.exit_code == 1
    assert "is missing signer, nonce, contract, action, args" in incomplete.stderr

    bad.write_text("not json")
    garbage = salus("tx", "sign", "--key", ministry_key, str(bad), env=pass_env)
    assert garbage.exit_code == 1
    assert "is not valid JSON" in garbage.stderr

    missing_file = salus("tx", "sign", "--key", ministry_key, str(tmp_path / "none.json"))
    assert missing_file.exit_code == 2
    assert "No such file" in missing_file.stderr


def test_submit_garbage(salus: Salus, network: Network, tmp_path: Path) -> None:
    garbage = tmp_path / "g.txt"
    garbage.write_text("definitely not base64 !!!")
    result = salus("tx", "submit", "--node", network.url, str(garbage))
    assert result.exit_code == 1
    assert "is not a signed transaction" in result.stderr
    garbage.write_text(base64.b64encode(b"\x01\x02").decode())
    result = salus("tx", "submit", "--node", network.url, str(garbage))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "HTTP 400" in result.stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_node_is_a_clean_error(
    salus: Salus, network: Network, pass_env: dict[str, str]
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    result = salus(
        "tx", "send", "--node", url, "--key", str(network.key_file("red-cross")),
        "--contract", "identity", "--action", "propose", "--args", _grant("red-cross"),
        env=pass_env,
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: the Salus node at {url} is unreachable")
    assert result.stderr.count("\n") == 1


def test_node_url_from_environment(salus: Salus, network: Network) -> None:
    result = salus("query", "status", env={"SALUS_NODE": network.url})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["chain_id"] == network.genesis.chain_id
    result = salus("query", "--node", "ftp://example.org", "status")
    assert result.exit_code == 2
    assert "must be an http:// or https:// URL" in result.stderr
