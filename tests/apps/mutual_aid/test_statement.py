"""Member statements from a real node's state proofs, verified offline with the genesis only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from salus.apps.mutual_aid import (
    MUTUAL_AID,
    build_statement,
    compute_statement,
    sign_attestation,
    verify_statement,
)
from salus.apps.mutual_aid.rules import DAY_MS
from salus.core import codec
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.core.tx import Transaction, sign_transaction
from salus.node import Node, SqliteStore
from tests.apps.mutual_aid.plan import (
    ASSESSOR,
    ATTESTOR,
    CONDITIONS,
    EVIDENCE,
    OPERATOR,
    PLAN,
    REPORT,
    contracts,
    genesis,
    member_key,
    rules,
)
from tests.support import genesis_data, key

MEMBERS = 9


class Driver:
    """Signed transactions into a node, one block each, with block time we control."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.nonces: dict[bytes, int] = {}
        self.time_ms = node.genesis.genesis_time_ms

    def run(self, who: Signer, action: str, **args: Any) -> Any:
        nonce = self.nonces.get(who.public_key, 0) + 1
        self.nonces[who.public_key] = nonce
        tx = Transaction(
            self.node.genesis.chain_id, who.public_key, nonce, MUTUAL_AID, action, args
        )
        stx = sign_transaction(tx, who)
        assert self.node.submit(stx.envelope).status == "pending", action
        self.time_ms += 1000
        self.node.produce_block(self.time_ms)
        status = self.node.tx_status(stx.id)
        assert status["status"] == "committed", (action, status.get("reason"))
        return status

    def package(self, member: Signer, period: int) -> bytes:
        return build_statement(self.node, plan=PLAN, member=member.did, period=period)


def claim(driver: Driver, who: Signer, code: str, amount: int) -> int:
    status = driver.run(
        who,
        "submit_claim",
        plan=PLAN,
        code=code,
        diagnosed_on="2020-10-01",
        amount=amount,
        evidence=[EVIDENCE],
        commitment="c" * 64,
    )
    number = int(status["events"][0]["attrs"]["claim"])
    driver.run(ASSESSOR, "start_investigation", plan=PLAN, claim=number)
    driver.run(
        ASSESSOR,
        "record_findings",
        plan=PLAN,
        claim=number,
        report=REPORT,
        supported=True,
        reason="confirmed",
    )
    return number


@pytest.fixture
def closed(tmp_path: Path) -> Any:
    """A node whose plan closed period 1: 9 members (2 left during it, before any claim
    was approved: they do not share it), 2 claims."""
    node = Node(genesis(), SqliteStore(tmp_path / "ledger.sqlite"), key(9), contracts=contracts())
    driver = Driver(node)
    driver.run(
        OPERATOR,
        "create_plan",
        plan=PLAN,
        name="Plan",
        currency="CNY",
        attestor=ATTESTOR.did,
        governors=["red-cross"],
        approvals_required=1,
        rules=rules(member_cap=10**9),
        conditions=CONDITIONS,
    )
    entries = [
        sign_attestation(
            ATTESTOR,
            plan=PLAN,
            member=member_key(n).did,
            band="18y-39y",
            issued_ms=driver.time_ms,
            evidence=EVIDENCE,
        ).enrolment_entry()
        for n in range(MEMBERS)
    ]
    driver.run(OPERATOR, "enrol_members", plan=PLAN, members=entries)
    driver.time_ms += 18 * DAY_MS  # 2020-10-01: past the waiting period
    numbers = [
        claim(driver, member_key(0), "C34", 123_456_78),
        claim(driver, member_key(1), "I21", 9_99),
    ]
    driver.run(member_key(3), "leave", plan=PLAN)
    before_close = driver.node.state_proof(MUTUAL_AID, f"member/{PLAN}/{member_key(4).did}")
    driver.run(member_key(4), "leave", plan=PLAN)
    driver.time_ms += 3 * DAY_MS
    for number in numbers:
        driver.run(ASSESSOR, "close_notice", plan=PLAN, claim=number)
    driver.run(OPERATOR, "close_period", plan=PLAN)
    yield driver, before_close
    node.close()


def test_every_statement_verifies_offline_and_they_sum_to_the_charge(closed: Any) -> None:
    driver, _ = closed
    packages = {n: driver.package(member_key(n), 1) for n in range(MEMBERS)}
    gen = driver.node.genesis
    driver.node.close()  # offline from here: the genesis and the packages only
    verdicts = {n: verify_statement(packages[n], gen) for n in range(MEMBERS)}
    assert all(v.valid for v in verdicts.values()), [v.reason for v in verdicts.values()]
    statements = {n: v.statement for n, v in verdicts.items() if v.statement is not None}
    charged = statements[0].charged
    payouts = 123_456_78 + 9_99
    assert charged == payouts + payouts * 800 // 10_000  # no cap binds here
    assert sum(s.share for s in statements.values()) == charged  # not a fen lost or invented
    assert sorted(s.index for s in statements.values() if s.index is not None) == list(range(7))
    # The two who left before the claims were approved do not share the period.
    assert (statements[3].index, statements[4].index) == (None, None)
    assert (statements[3].share, statements[4].share) == (0, 0)
    first = statements[0]
    assert first.claims == [(1, 123_456_78), (2, 9_99)]
    assert "Period 1: 2 member-funded claims of 123466.77 CNY" in first.explain()
    assert verdicts[0].reason.startswith(f"{member_key(0).did} owes ")


def test_statements_stay_provable_after_members_move(closed: Any) -> None:
    driver, _ = closed
    before = {
        n: verify_statement(driver.package(member_key(n), 1), driver.node.genesis)
        for n in range(MEMBERS)
    }
    # Members 2 and 5 pay and leave: the last members move into their slots.
    for n in (2, 5):
        share = before[n].statement.share  # type: ignore[union-attr]
        driver.run(
            OPERATOR,
            "record_payments",
            plan=PLAN,
            payments=[{"member": member_key(n).did, "amount": share}],
            reference="d" * 64,
        )
        driver.run(member_key(n), "leave", plan=PLAN)
    moved = driver.node.ledger.read(MUTUAL_AID, f"member/{PLAN}/{member_key(6).did}")
    assert moved["slots"] == [[1, 6], [2, 2]]  # index 6 at the close of 1, 2 from period 2
    after = {
        n: verify_statement(driver.package(member_key(n), 1), driver.node.genesis)
        for n in range(MEMBERS)
    }
    for n in range(MEMBERS):
        assert after[n].valid and before[n].valid
        assert after[n].statement.share == before[n].statement.share  # type: ignore[union-attr]
        assert after[n].statement.index == before[n].statement.index  # type: ignore[union-attr]
    assert after[2].statement.paid_to_date == before[2].statement.share  # type: ignore[union-attr]


def test_a_member_who_joined_later_owes_nothing_for_the_period(closed: Any) -> None:
    driver, _ = closed
    late = member_key(20)
    attestation = sign_attestation(
        ATTESTOR,
        plan=PLAN,
        member=late.did,
        band="18y-39y",
        issued_ms=driver.time_ms,
        evidence=EVIDENCE,
    )
    driver.run(late, "join", **attestation.join_args())
    verdict = verify_statement(driver.package(late, 1), driver.node.genesis)
    assert verdict.valid and verdict.statement is not None
    assert (verdict.statement.shared, verdict.statement.share) == (False, 0)
    assert "did not share period 1" in verdict.statement.explain()


def test_bad_packages_fail_at_a_named_step(closed: Any) -> None:
    driver, before_close = closed
    gen = driver.node.genesis
    good = driver.package(member_key(4), 1)
    data = codec.decode(good, max_size=1 << 22, what="statement")

    def altered(**changes: Any) -> bytes:
        return codec.encode({**data, **changes})

    other = driver.node.state_proof(MUTUAL_AID, f"member/{PLAN}/{member_key(5).did}")
    cases = {
        "decode": [good[:-1], good + b"\x00", altered(salus_statement=2), altered(period="1")],
        "proofs": [
            altered(proofs={**data["proofs"], "member": other}),  # someone else's record
            altered(proofs={**data["proofs"], "member": before_close}),  # before it left
            altered(period=2),  # proves period 1's key, not period 2's
            altered(proofs={**data["proofs"], "period": data["proofs"]["period"][:-3] + b"abc"}),
        ],
    }
    for step, packages in cases.items():
        for package in packages:
            verdict = verify_statement(package, gen)
            assert (verdict.valid, verdict.step) == (False, step), verdict.reason
    stranger = Genesis.from_data(genesis_data(4, chain_id="another-network"))
    verdict = verify_statement(good, stranger)
    assert (verdict.valid, verdict.step) == (False, "proofs")
    assert "chain" in verdict.reason
    assert verify_statement(good, gen).valid


def test_a_period_record_that_does_not_add_up_is_caught() -> None:
    period = {
        "number": 1,
        "currency": "CNY",
        "minor_units": 2,
        "fee_bps": 800,
        "cap": 1_000,
        "active": 3,
        "leavers": 0,
        "members": 3,
        "member_claims": [[1, 1_000]],
        "sponsor_claims": [],
        "payouts": 1_000,
        "sponsor_payouts": 0,
        "fee": 80,
        "carry_in": 0,
        "due": 1_080,
        "charged": 1_080,
        "base": 360,
        "remainder": 0,
        "carry_out": 0,
        "closed_ms": 0,
    }
    member = {
        "joined_period": 1,
        "left_period": None,
        "leaver_ordinal": None,
        "slots": [[1, 2]],
        "paid": 0,
    }
    assert compute_statement(plan=PLAN, member="m", period=period, record=member).share == 360
    with pytest.raises(ValueError, match=r"does not add up: fee$"):
        compute_statement(plan=PLAN, member="m", period={**period, "fee": 81}, record=member)
    with pytest.raises(ValueError, match="does not add up: payouts"):
        compute_statement(
            plan=PLAN, member="m", period={**period, "member_claims": [[1, 999]]}, record=member
        )
    with pytest.raises(ValueError, match="not one of the 3 members"):
        compute_statement(
            plan=PLAN, member="m", period=period, record={**member, "slots": [[1, 3]]}
        )
