"""``salus cert``: batch from CSV with bad rows, revoke, and offline verify exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from salus.cli._cert import cert
from salus.keystore import save_key
from tests.apps.learning.test_issuance import (
    LEARNERS,
    SCHOOL,
    SCHOOL_SIGNING,
    Served,
    served_node,
    setup_school,
)
from tests.cli.test_cli_help import _without_example

PASSPHRASE = "test passphrase"


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_node(tmp_path_factory.mktemp("cli-cert")) as served:
        setup_school(served.client)
        yield served


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    account, signing = tmp_path / "school.key", tmp_path / "signing.key"
    save_key(account, SCHOOL, PASSPHRASE, strength="interactive")
    save_key(signing, SCHOOL_SIGNING, PASSPHRASE, strength="interactive")
    return account, signing


def run(*args: str) -> Result:
    result = CliRunner().invoke(cert, list(args), env={"SALUS_PASSPHRASE": PASSPHRASE})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"salus cert {' '.join(args)} raised") from result.exception
    assert "Traceback" not in result.output
    return result


def test_every_cert_command_has_an_example() -> None:
    cert.name = "salus"  # the walker checks examples start with the root's name
    try:
        assert _without_example(cert) == []
    finally:
        cert.name = "cert"


def test_batch_revoke_and_verify(school: Served, keys: tuple[Path, Path], tmp_path: Path) -> None:
    account, signing = keys
    genesis = tmp_path / "genesis.json"
    genesis.write_text(school.genesis.model_dump_json())
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(
        "learner_did,learner_name,course_id,passed,score,max_score\n"
        f"{LEARNERS[0].did},Ada,first-aid-101,true,18,20\n"
        f"{LEARNERS[1].did},Bob,first-aid-101,false,5,20\n"
        f"{LEARNERS[2].did},Cy,unknown-course,true,,\n"
        f"{LEARNERS[3].did},Di,first-aid-101,true,,\n"
    )
    out = tmp_path / "certs"
    node = ("--node", school.url)
    result = run(
        "batch",
        *node,
        "--key",
        str(account),
        "--signing-key",
        str(signing),
        "--csv",
        str(cohort),
        "--out",
        str(out),
    )
    assert result.exit_code == 1, result.output
    assert "issued 2 certificate(s)" in result.output
    assert "line 3: the learner did not pass" in result.output
    assert "line 4: course 'unknown-course'" in result.output
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["line-00002.salus-cert", "line-00005.salus-cert"]

    valid = run("verify", str(files[0]), "--genesis", str(genesis))
    assert valid.exit_code == 0, valid.output
    assert valid.output.startswith("valid: ")
    for step in ("decode", "signature", "anchored", "ledger", "issuer", "key", "status"):
        assert f"ok  {step}" in valid.output

    revoked = run("revoke", *node, str(files[1]), "--key", str(account), "--reason", "misconduct")
    assert revoked.exit_code == 0, revoked.output
    # The package built before the revocation proves the old state; a refreshed one
    # carries the latest block, and the offline check then reports the revocation.
    bundle_path = tmp_path / "ada.json"
    exported = run(
        "export", *node, "--learner", LEARNERS[0].did, "--from", str(out), "--transcript",
        "-o", str(bundle_path),
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    bundle = json.loads(bundle_path.read_text())
    assert bundle["type"] == ["VerifiablePresentation"]
    assert bundle["holder"] == LEARNERS[0].did
    assert len(bundle["verifiableCredential"]) == 1
    assert len(bundle["salusPackages"]) == 1
    assert isinstance(bundle["salusTranscript"], list)
    assert run("export", "--learner", "not-a-did", "--from", str(out), "-o", "x").exit_code == 2
    stale = run("verify", str(files[1]), "--genesis", str(genesis))
    assert stale.exit_code == 0, stale.output
    fresh = tmp_path / "fresh.salus-cert"
    refreshed = run("refresh", *node, str(files[1]), "-o", str(fresh))
    assert refreshed.exit_code == 0, refreshed.output
    now = run("verify", str(fresh), "--genesis", str(genesis))
    assert now.exit_code == 1, now.output
    assert now.output.startswith("revoked"), now.output
    assert "misconduct" in now.output
    # Re-issue fresh proofs is a node feature; the old package still verifies, tampering fails.
    raw = bytearray(files[0].read_bytes())
    raw[len(raw) // 2] ^= 1
    tampered = tmp_path / "tampered.salus-cert"
    tampered.write_bytes(bytes(raw))
    bad = run("verify", str(tampered), "--genesis", str(genesis))
    assert bad.exit_code == 1 and bad.output.startswith("tampered"), bad.output
    as_json = run("verify", str(files[0]), "--genesis", str(genesis), "--json")
    assert as_json.exit_code == 0 and '"verdict": "valid"' in as_json.output
    junk = tmp_path / "genesis-junk.json"
    junk.write_text("{}")
    assert run("verify", str(files[0]), "--genesis", str(junk)).exit_code == 2


def test_issue_one_and_suspend_by_index(
    school: Served, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    account, signing = keys
    out = tmp_path / "one.salus-cert"
    result = run(
        "issue",
        "--node",
        school.url,
        "--key",
        str(account),
        "--signing-key",
        str(signing),
        "--learner",
        LEARNERS[4].did,
        "--course",
        "first-aid-101",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert out.exists()
    result = run(
        "suspend",
        "--node",
        school.url,
        "--status-index",
        "0",
        "--key",
        str(account),
        "--reason",
        "appeal",
    )
    assert result.exit_code == 0, result.output
    assert "suspended in block" in result.output
    result = run("suspend", "--node", school.url, "--key", str(account), "--reason", "x")
    assert result.exit_code == 2 and "PACKAGE file or --status-index" in result.output
