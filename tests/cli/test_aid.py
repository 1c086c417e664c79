"""``salus aid``: a plan driven from every role's seat through the commands, on a real node
whose block clock the test moves (``ClockedServer``), with errors as one clean line."""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from salus.apps.mutual_aid.rules import DAY_MS, format_time
from salus.cli import cli
from salus.core.crypto import Signer
from salus.keystore import save_key
from tests.api.mutual_aid_node import ClockedServer
from tests.apps.mutual_aid.plan import (
    ASSESSOR,
    ATTESTOR,
    CONDITIONS,
    COUNCIL,
    OPERATOR,
    REGULATOR,
    genesis,
    member_key,
    rules,
)
from tests.support import key

PASSPHRASE = "aid test passphrase"
PLAN = "xhb-cli"
MEMBERS = 10


@dataclass
class AidNetwork:
    url: str
    server: ClockedServer
    keys: Path
    genesis_file: Path
    runner: CliRunner

    def key(self, name: str) -> str:
        return str(self.keys / f"{name}.key")

    def run(self, *args: str, code: int = 0) -> Result:
        """``salus aid ARGS --node URL --plan xhb-cli`` (the options where they apply)."""
        result = self.runner.invoke(cli, ["aid", *args], env={"SALUS_PASSPHRASE": PASSPHRASE})
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"salus aid {' '.join(args)} raised") from result.exception
        assert "Traceback" not in result.output
        assert result.exit_code == code, result.output
        return result

    def on(self, *args: str, code: int = 0) -> Result:
        return self.run(*args, "--node", self.url, "--plan", PLAN, code=code)

    def error(self, *args: str, code: int = 1) -> str:
        """Run a command that must fail; its one ``error: ...`` line."""
        result = self.on(*args, code=code)
        lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
        assert len(lines) == 1, result.output
        return lines[0]


SIGNERS: dict[str, Signer] = {
    "red-cross": OPERATOR,
    "ministry": REGULATOR,
    "hospital": ASSESSOR,
    "attestor": ATTESTOR,
    "council": COUNCIL,
    **{f"member-{n}": member_key(n) for n in range(MEMBERS)},
    "outsider": key(77),
}


@pytest.fixture(scope="module")
def aid(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AidNetwork]:
    root = tmp_path_factory.mktemp("aid-cli")
    keys = root / "keys"
    keys.mkdir()
    for name, signer in SIGNERS.items():
        save_key(keys / f"{name}.key", signer, PASSPHRASE, strength="interactive")
    plan_genesis = genesis()
    genesis_file = root / "genesis.json"
    genesis_file.write_text(plan_genesis.to_json(), encoding="utf-8")
    # The clock starts now: attestations the commands sign are dated by the wall clock.
    server = ClockedServer(plan_genesis, key(9), root / "node", start_ms=int(time.time() * 1000))
    with server:
        yield AidNetwork(server.url, server, keys, genesis_file, CliRunner())


def test_every_role_through_the_commands(aid: AidNetwork, tmp_path: Path) -> None:
    # The operator creates the plan.
    (tmp_path / "rules.json").write_text(json.dumps(rules(member_cap=5_000_000)))
    (tmp_path / "conditions.json").write_text(json.dumps(CONDITIONS))
    created = aid.on(
        "create-plan", "--key", aid.key("red-cross"), "--name", "CLI plan", "--currency", "CNY",
        "--attestor", ATTESTOR.did, "--governor", "red-cross", "--governor", "health-ministry",
        "--governor", COUNCIL.did, "--approvals", "2",
        "--rules", f"@{tmp_path / 'rules.json'}",
        "--conditions", f"@{tmp_path / 'conditions.json'}",
    )  # fmt: skip
    assert f"created plan {PLAN}" in created.output
    assert PLAN in aid.run("plans", "--node", aid.url).output

    # Members: one joins with an attestation file, the others are enrolled from a CSV.
    record = tmp_path / "eligibility.txt"
    record.write_text("synthetic eligibility record\n")
    attestation = tmp_path / "member-0.json"
    aid.run(
        "attest", "--plan", PLAN, "--attestor-key", aid.key("attestor"),
        "--member", member_key(0).did, "--band", "18y-39y", "--evidence", str(record),
        "-o", str(attestation),
    )  # fmt: skip
    joined = aid.run(
        "join", "--node", aid.url, "--key", aid.key("member-0"), "--attestation", str(attestation)
    )
    assert f"joined plan {PLAN}" in joined.output
    with (tmp_path / "members.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["member", "band", "evidence"])
        for n in range(1, MEMBERS):
            writer.writerow([member_key(n).did, "40y-59y", "ab" * 32])
    enrolled = aid.on(
        "enrol", "--key", aid.key("red-cross"), "--csv", str(tmp_path / "members.csv"),
        "--attestor-key", aid.key("attestor"),
    )  # fmt: skip
    assert f"enrolled {MEMBERS - 1} member(s)" in enrolled.output

    # Governors add Covid-19, sponsor-funded.
    proposed = aid.on(
        "propose-condition", "--key", aid.key("red-cross"), "--code", "U07.1",
        "--name", "COVID-19, virus identified", "--max-payout", "100000",
        "--effective-from", "2020-01-01", "--funding", "sponsor", "--note", "Covid-19",
    )  # fmt: skip
    assert "proposal 1 is open" in proposed.output
    assert "salus aid approve --proposal 1" in proposed.output
    approved = aid.on("approve", "--key", aid.key("ministry"), "--proposal", "1")
    assert "proposal 1 executed" in approved.output
    shown = aid.on("show").output
    assert "U07.1" in shown and "up to 100000.00 CNY, sponsor-funded" in shown
    assert "add_condition by proposal 1" in shown
    assert "proposal 1: add_condition" in aid.on("proposals").output

    # A claim, investigated, objected to, judged by a jury.
    aid.server.advance(11 * DAY_MS)
    today = format_time(aid.server.clock_ms())[:10]
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF synthetic scan")
    submitted = aid.on(
        "claim-submit", "--key", aid.key("member-0"), "--code", "C34.1",
        "--diagnosed-on", today, "--amount", "100000.00",
        "--evidence", str(scan), "--secret-file", str(tmp_path / "claimant.secret"),
    )  # fmt: skip
    assert "submitted claim 1 for 100000.00 CNY" in submitted.output
    assert (tmp_path / "claimant.secret").stat().st_mode & 0o777 == 0o600
    investigating = aid.on("investigate", "--key", aid.key("hospital"), "--claim", "1")
    assert "investigating claim 1; findings due by" in investigating.output
    found = aid.on(
        "findings", "--key", aid.key("hospital"), "--claim", "1", "--supported",
        "--report", str(scan), "--reason", "biopsy confirms C34.1",
    )  # fmt: skip
    assert "claim 1 is in public notice until" in found.output
    objected = aid.on(
        "object", "--key", aid.key("member-1"), "--claim", "1",
        "--reason", "the scan predates joining", "--secret-file", str(tmp_path / "objector.secret"),
    )  # fmt: skip
    assert "objected to claim 1" in objected.output
    assert (tmp_path / "objector.secret").stat().st_mode & 0o777 == 0o600
    board = aid.on("board").output
    assert "claim    1  C34.1" in board and "objector 1: the scan predates joining" in board
    assert member_key(0).did not in board

    aid.server.advance(3 * DAY_MS)
    # Objected: no jury until the operator has committed its share (it still may now).
    early = aid.error("close-notice", "--key", aid.key("ministry"), "--claim", "1")
    assert "has not committed its jury seed share" in early
    mine = aid.error(
        "commit-seed", "--key", aid.key("member-0"), "--claim", "1",
        "--secret-file", str(tmp_path / "refused.secret"),
    )  # fmt: skip
    assert "only the operator of plan" in mine
    assert not (tmp_path / "refused.secret").exists()  # refused: the secret file is removed
    aid.on(
        "commit-seed", "--key", aid.key("red-cross"), "--claim", "1",
        "--secret-file", str(tmp_path / "operator.secret"),
    )  # fmt: skip
    assert (
        "claim 1 is now jury_review"
        in aid.on("close-notice", "--key", aid.key("ministry"), "--claim", "1").output
    )
    for who, secret in (
        ("member-0", "claimant"),
        ("red-cross", "operator"),
        ("member-1", "objector"),
    ):
        revealed = aid.on(
            "reveal-seed", "--key", aid.key(who), "--claim", "1",
            "--secret-file", str(tmp_path / f"{secret}.secret"),
        )  # fmt: skip
    assert "panel drawn: did:key:" in revealed.output
    jury = aid.on("jury", "1").output
    jurors = re.findall(r"^  (did:key:\S+) has not voted", jury, re.M)
    assert len(jurors) == 3
    names = {member_key(n).did: f"member-{n}" for n in range(MEMBERS)}
    first = aid.on(
        "vote", "--key", aid.key(names[jurors[0]]), "--claim", "1", "--approve",
        "--reason", "the hospital confirmed the dates",
    )  # fmt: skip
    assert "claim 1 is jury_review" in first.output
    twice = aid.error(
        "vote", "--key", aid.key(names[jurors[0]]), "--claim", "1", "--reject", "--reason", "again",
    )  # fmt: skip
    assert "already voted approve on claim 1" in twice and "a juror votes once" in twice
    second = aid.on(
        "vote", "--key", aid.key(names[jurors[1]]), "--claim", "1", "--approve", "--reason", "ok",
    )  # fmt: skip
    assert "claim 1 is approved" in second.output
    history = aid.on("claim", "1").output
    for status in ("submitted", "investigation", "public_notice", "jury_review", "approved"):
        assert status in history
    assert "panel 1: 2 approve, 0 reject" in history

    # The period closes; shares are paid; the payout is recorded; a sponsor deposits.
    aid.server.advance(2 * DAY_MS)
    closed = aid.on("close-period", "--key", aid.key("red-cross"))
    assert "closed period 1: 1 claims, 108000.00 CNY over 10 members" in closed.output
    assert "10800.00 CNY each" in aid.on("periods").output
    early = aid.error(
        "record-payout", "--key", aid.key("red-cross"), "--claim", "1", "--reference", "cd" * 32
    )
    assert "the member pool holds 0.00 CNY" in early
    unpaid = aid.error("leave", "--key", aid.key("member-9"))
    assert "owes 10800.00 CNY of shares of closed periods" in unpaid
    for n in range(MEMBERS - 1):
        paid = aid.on(
            "pay-share", "--key", aid.key("red-cross"), "--member", member_key(n).did,
            "--reference", str(record),
        )  # fmt: skip
        assert "recorded 10800.00 CNY" in paid.output and "still owed 0.00 CNY" in paid.output
    (tmp_path / "payments.csv").write_text(f"member,amount\n{member_key(9).did},10800.00\n")
    bulk = aid.on(
        "record-payments", "--key", aid.key("red-cross"), "--csv", str(tmp_path / "payments.csv"),
        "--reference", "ef" * 32,
    )  # fmt: skip
    assert "recorded 1 payment(s), 10800.00 CNY in all" in bulk.output
    payout = aid.on(
        "record-payout", "--key", aid.key("red-cross"), "--claim", "1", "--reference", "cd" * 32
    )
    assert "claim 1 paid: 100000.00 CNY" in payout.output
    deposit = aid.on(
        "sponsor-deposit", "--key", aid.key("red-cross"), "--sponsor", "covid-relief-fund",
        "--amount", "50000", "--reference", "ab" * 32,
    )  # fmt: skip
    assert "the sponsor pool holds 50000.00 CNY" in deposit.output
    fee = aid.on(
        "take-fee", "--key", aid.key("red-cross"), "--amount", "8000", "--reference", "ab" * 32
    )
    assert "recorded a fee of 8000.00 CNY" in fee.output
    left = aid.on("leave", "--key", aid.key("member-9"))
    assert f"left plan {PLAN}" in left.output

    # A member's statement, fetched and checked offline.
    member = aid.on("member", member_key(3).did).output
    assert "period 1: share 10800.00 CNY" in member and "owes 0.00 CNY" in member
    package = tmp_path / "statement.salus-statement"
    statement = aid.on("statement", member_key(3).did, "--period", "1", "-o", str(package))
    assert (
        "claim    1  C34" in statement.output and "index 3: share 10800.00 CNY" in statement.output
    )
    verified = aid.run("verify", str(package), "--genesis", str(aid.genesis_file))
    assert "valid: " in verified.output and "owes 10800.00 CNY for period 1" in verified.output
    lines = verified.output.splitlines()
    assert lines[0].startswith("valid: ")
    assert [line.split()[:2] for line in lines[1:5]] == [
        ["ok", "decode"],
        ["ok", "proofs"],
        ["ok", "period"],
        ["ok", "share"],
    ]
    as_json = json.loads(
        aid.run("verify", str(package), "--genesis", str(aid.genesis_file), "--json").output
    )
    assert as_json["valid"] and as_json["statement"]["share"] == 10_800_00
    broken = tmp_path / "broken.salus-statement"
    broken.write_bytes(package.read_bytes()[:-40])
    invalid = aid.run("verify", str(broken), "--genesis", str(aid.genesis_file), code=1)
    assert "invalid at step" in invalid.output

    # Rule changes can be proposed and withdrawn; anyone sees the diagram.
    rules_change = aid.on("propose-rules", "--key", aid.key("council"), "--set", "fee_bps=600")
    assert "proposal 2 is open" in rules_change.output
    assert (
        "proposal 2 cancelled"
        in aid.on("cancel", "--key", aid.key("council"), "--proposal", "2").output
    )
    assert "stateDiagram-v2" in aid.run("diagram").output
    assert "public_notice  -> approved" in aid.run("diagram", "--table").output


def test_refusals_are_one_error_line(aid: AidNetwork, tmp_path: Path) -> None:
    """Runs after the walk-through above (pytest keeps file order): the plan exists."""
    missing = aid.run("show", "--node", aid.url, "--plan", "no-such-plan", code=1)
    assert missing.output.strip().startswith("error: there is no mutual-aid plan 'no-such-plan'")
    outsider = aid.error(
        "claim-submit", "--key", aid.key("outsider"), "--code", "C34", "--diagnosed-on",
        "2020-01-01", "--amount", "10", "--evidence", "ab" * 32,
        "--secret-file", str(tmp_path / "outsider.secret"),
    )  # fmt: skip
    assert "is not a member of plan" in outsider or "there is no plan" in outsider
    assert not (tmp_path / "outsider.secret").exists()  # refused: nothing to keep
    nowhere = aid.error(
        "claim-submit", "--key", aid.key("member-0"), "--code", "C34", "--diagnosed-on",
        "2020-01-01", "--amount", "10", "--evidence", "ab" * 32,
        "--secret-file", str(tmp_path / "no-such-dir" / "claim.secret"), code=2,
    )  # fmt: skip
    assert "cannot create the secret file" in nowhere and "No such file" in nowhere
    precise = aid.error(
        "claim-submit", "--key", aid.key("member-0"), "--code", "C34", "--diagnosed-on",
        "2020-01-01", "--amount", "10.001", "--evidence", "ab" * 32,
        "--secret-file", str(tmp_path / "x.secret"), code=2,
    )  # fmt: skip
    assert "has more than 2 decimal places" in precise
    evidence = aid.error(
        "claim-submit", "--key", aid.key("member-0"), "--code", "C34", "--diagnosed-on",
        "2020-01-01", "--amount", "10", "--evidence", str(tmp_path / "nope.pdf"),
        "--secret-file", str(tmp_path / "y.secret"), code=2,
    )  # fmt: skip
    assert "is neither a file nor a SHA-256" in evidence
    secret = tmp_path / "taken.secret"
    secret.write_text("x")
    taken = aid.error(
        "object", "--key", aid.key("member-2"), "--claim", "1", "--reason", "r",
        "--secret-file", str(secret), code=2,
    )  # fmt: skip
    assert "is never overwritten" in taken
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"type": "something else"}')
    joined = aid.run(
        "join",
        "--node",
        aid.url,
        "--key",
        aid.key("member-2"),
        "--attestation",
        str(garbage),
        code=2,
    )
    assert "not a mutual-aid attestation" in joined.output
    bad_genesis = tmp_path / "genesis.json"
    bad_genesis.write_text("{}")
    unusable = aid.run("verify", str(garbage), "--genesis", str(bad_genesis), code=2)
    assert unusable.output.startswith("error: cannot use")
