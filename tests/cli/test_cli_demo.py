"""``salus demo``: the seeding library in-process, and the command as a real process."""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from salus import demo
from salus.cli.home import NodeHome, OrganisationPlan, create_home
from salus.cli.server import NodeServer
from salus.client import SalusClient
from salus.keystore import load_key
from tests.cli.running import Process, subprocess_env


def _demo_home(home: Path) -> None:
    create_home(
        home,
        chain_id=demo.DEMO_CHAIN_ID,
        organisations=[OrganisationPlan(*org) for org in demo.DEMO_ORGANISATIONS],
        threshold=demo.DEMO_THRESHOLD,
        passphrase=demo.DEMO_PASSPHRASE,
        genesis_time_ms=1_700_000_000_000,
        strength="interactive",
    )


def test_seeding_through_the_api_happens_once(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    _demo_home(home)
    assert demo.is_demo_home(home)
    layout = NodeHome(home)
    validator = load_key(layout.validator_key_path, demo.DEMO_PASSPHRASE)
    server = NodeServer(
        layout.load_genesis(), validator, layout.data_dir, port=0, block_interval_ms=20
    )
    with server, SalusClient(server.url) as client:
        lines: list[str] = []
        seed, seeded = demo.ensure_seeded(client, home, log=lines.append)
        assert seeded
        assert len(lines) == 9

        org = client.state("identity", f"org/{demo.NEW_ORGANISATION}")["value"]
        assert org["status"] == "active"
        proposal = client.state("identity", f"proposal/{seed.add_org_proposal}")["value"]
        assert proposal["status"] == "executed"
        assert proposal["approvals"] == ["city-hospital", "health-ministry"]

        volunteer = client.account(seed.volunteer_did)
        assert demo.GRANTED_ROLE in volunteer["roles"]
        assert volunteer["organisation"] is None

        refused = client.tx(seed.refused_tx)
        assert refused["status"] == "rejected"
        assert refused["code"] == "permission_denied"
        rejected = client.tx(seed.rejected_tx)
        assert rejected["status"] == "rejected"
        assert rejected["height"] == seed.rejected_height
        assert "is executed, not open" in rejected["reason"]

        assert client.get_blob(seed.blob_address) == demo.DEMO_DOCUMENT
        anchor = client.state("notary", f"anchor/{seed.blob_address}")["value"]
        assert anchor["by"] == client.tx(seed.anchor_tx)["tx"]["signer"]
        height = client.status()["height"]

        again, seeded_again = demo.ensure_seeded(client, home)
        assert not seeded_again
        assert again == seed
        assert client.status()["height"] == height

    guide = demo.demo_guide(home, "http://127.0.0.1:9", seed)
    assert "http://127.0.0.1:9/explorer/" in guide
    assert f"salus query --node http://127.0.0.1:9 tx {seed.rejected_tx}" in guide
    assert f"--genesis {home.resolve() / 'genesis.json'}" in guide
    assert "SALUS_PASSPHRASE=demo salus tx send" in guide


def test_a_non_demo_home_is_not_taken_for_one(tmp_path: Path) -> None:
    assert not demo.is_demo_home(tmp_path)
    create_home(
        tmp_path / "real",
        chain_id="real-net",
        organisations=[OrganisationPlan(*org) for org in demo.DEMO_ORGANISATIONS],
        passphrase="pw",
        genesis_time_ms=1,
        strength="interactive",
    )
    assert not demo.is_demo_home(tmp_path / "real")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_demo_command_seeds_serves_and_stops_cleanly(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    port = _free_port()
    process = Process(["demo", "--home", str(home), "--port", str(port)], subprocess_env())
    try:
        line = process.wait_for_line("/explorer/", timeout=60)
        match = re.search(r"(http://\S+/explorer/)", line)
        assert match is not None
        explorer = match.group(1)
        assert explorer == f"http://127.0.0.1:{port}/explorer/"
        process.wait_for_line("Press Ctrl+C to stop.", timeout=10)
        base = explorer.removesuffix("/explorer/")
        with httpx.Client(base_url=base, timeout=5) as http:
            deadline = time.monotonic() + 10
            while http.get("/explorer/").status_code != 200:
                assert time.monotonic() < deadline, "the explorer never answered"
                time.sleep(0.1)
            org = http.get("/v1/state/identity/org/open-university").json()
            assert org["value"]["status"] == "active"
            seed = json.loads((home / "demo.json").read_text())
            rejected = http.get(f"/v1/txs/{seed['rejected_tx']}").json()
            assert rejected["status"] == "rejected"
            assert rejected["reason"]
            refused = http.get(f"/v1/txs/{seed['refused_tx']}").json()
            assert refused["status"] == "rejected"
            assert http.get("/openapi.json").status_code == 200
    finally:
        code = process.stop(signal.SIGINT)
    output = process.output()
    assert code == 0, output
    assert 'passphrase "demo"' in output and "DEMO ONLY" in output
    assert f"salus query --node {base} state identity org/open-university" in output
    assert f"salus verify proof.cbor --genesis {home.resolve() / 'genesis.json'}" in output
    assert f"{base}/verify/" in output
    assert "demo-certificates/revoked" not in output  # files are named by learner
    assert "salus cert verify" in output and "# revoked at block N: reason" in output
    assert "Stopped (SIGINT)" in output
    assert "Traceback" not in output


def test_application_demos_seed_once_and_their_certificates_verify_offline(
    tmp_path: Path,
) -> None:
    from salus.apps.learning.certificate import verify_certificate

    home = tmp_path / "demo"
    _demo_home(home)
    layout = NodeHome(home)
    validator = load_key(layout.validator_key_path, demo.DEMO_PASSPHRASE)
    genesis = layout.load_genesis()
    server = NodeServer(genesis, validator, layout.data_dir, port=0, block_interval_ms=20)
    with server, SalusClient(server.url) as client:
        seed, _ = demo.ensure_seeded(client, home)
        records, seeded = demo.seed_apps(client, home, server.url, demo.DEMO_APPS)
        assert seeded == [app.name for app in demo.DEMO_APPS]
        height = client.status()["height"]
        again, seeded_again = demo.seed_apps(client, home, server.url, demo.DEMO_APPS)
        assert seeded_again == []
        assert again == records
        assert client.status()["height"] == height

    learning = records["learning"]
    verdicts = [
        verify_certificate(Path(path).read_bytes(), genesis) for path in learning["certificates"]
    ]
    assert [v.verdict for v in verdicts] == ["valid", "valid", "suspended", "revoked"]
    assert "not invigilated" in verdicts[3].reason
    assert Path(learning["pdf"]).read_bytes().startswith(b"%PDF-")
    guide = demo.demo_guide(home, server.url, seed, records)
    assert f"{server.url}/verify/" in guide
    assert f"salus cert verify {learning['revoked']}" in guide
