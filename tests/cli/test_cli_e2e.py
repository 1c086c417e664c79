"""What a new user does, as real processes: init, run a node, send, prove, stop, verify."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import pytest

from salus.core.genesis import Genesis
from salus.core.proofs import verify_bundle
from tests.cli.running import Process, salus_command, subprocess_env

PASSPHRASE = "e2e passphrase"


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*salus_command(), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_init_node_send_proof_stop_verify(tmp_path: Path) -> None:
    env = subprocess_env(SALUS_PASSPHRASE=PASSPHRASE)
    home = tmp_path / "home"
    init = _run(
        "init", "--home", str(home), "--chain-id", "e2e-net",
        "--org", "health-ministry:Health Ministry:admin",
        "--org", "city-hospital:City Hospital",
        "--org", "red-cross:Red Cross",
        "--kdf-strength", "interactive",
        env=env,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert "salus node --home" in init.stdout

    node = Process(["node", "--home", str(home), "--port", "0"], env)
    try:
        line = node.wait_for_line("Listening on http://", timeout=30)
        match = re.search(r"Listening on (http://\S+)", line)
        assert match is not None
        url = match.group(1)

        proposal = json.dumps(
            {"kind": "grant_role", "params": {"subject": "red-cross", "role": "courier"}}
        )
        sent = _run(
            "tx", "send", "--node", url, "--key", str(home / "keys" / "health-ministry.key"),
            "--contract", "identity", "--action", "propose", "--args", proposal, "--wait",
            env=env,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        status = json.loads(sent.stdout)
        assert status["status"] == "committed"

        proof = tmp_path / "p.cbor"
        proved = _run("proof", "--node", url, "tx", status["id"], "-o", str(proof), env=env)
        assert proved.returncode == 0, proved.stderr
        assert "it proves: transaction" in proved.stderr
    finally:
        code = node.stop(signal.SIGTERM)
    assert code == 0, node.output()
    assert "Stopped (SIGTERM)" in node.output()
    assert "Traceback" not in node.output()

    # The node is gone: verification needs only the bundle and the genesis.
    genesis_file = str(home / "genesis.json")
    verified = _run("verify", str(proof), "--genesis", genesis_file, env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"valid: transaction {status['id']} is in block")

    # Flip every byte, one at a time: the one verifier refuses every variant...
    genesis = Genesis.from_json(Path(genesis_file).read_bytes())
    original = proof.read_bytes()
    for position in range(len(original)):
        for mask in (0x01, 0xFF):
            mutated = bytearray(original)
            mutated[position] ^= mask
            verdict = verify_bundle(bytes(mutated), genesis)
            assert not verdict.valid, f"byte {position} ^ {mask:#x} still verifies"

    # ...and so does the command, with a non-zero exit status and no traceback.
    for position in (0, len(original) // 3, len(original) // 2, len(original) - 1):
        mutated = bytearray(original)
        mutated[position] ^= 0xFF
        flipped = tmp_path / f"flipped-{position}.cbor"
        flipped.write_bytes(bytes(mutated))
        result = _run("verify", str(flipped), "--genesis", genesis_file, env=env)
        assert result.returncode == 1, (position, result.stdout, result.stderr)
        assert result.stdout.startswith("invalid at step ")
        assert "Traceback" not in result.stderr
