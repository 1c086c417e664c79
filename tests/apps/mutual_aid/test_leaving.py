"""Leaving a plan owes nothing, now or later (review of issue #6: finding 2)."""

from __future__ import annotations

from salus.apps.mutual_aid.records import member_balance
from salus.apps.mutual_aid.rules import DAY_MS
from salus.apps.mutual_aid.sharing import member_share
from tests.apps.mutual_aid.plan import (
    OPERATOR,
    PLAN,
    REFERENCE,
    PlanChain,
    member_key,
    rules,
)

LEAVER = 3


class _Records:
    def __init__(self, p: PlanChain) -> None:
        self.p = p

    def get(self, key: str) -> object:
        return self.p.read(key)


def pay_all(p: PlanChain, members: range) -> None:
    records = _Records(p)
    payments = []
    for n in members:
        due = member_balance(records, PLAN, member_key(n).did)["outstanding"]
        if due:
            payments.append({"member": member_key(n).did, "amount": due})
    if payments:
        p.ok(OPERATOR, "record_payments", plan=PLAN, payments=payments, reference=REFERENCE)


def close(p: PlanChain) -> None:
    end = p.read(f"books/{PLAN}")["period_end_ms"]
    if p.now < end:
        p.advance(end - p.now)
    p.ok(OPERATOR, "close_period", plan=PLAN)


def test_no_leaving_with_an_approved_claim_unbilled() -> None:
    """/tmp/rev/leave.py: a member left with an approved claim in the queue, was billed at
    the close and never paid."""
    p = PlanChain(4)
    p.advance(11 * DAY_MS)
    claim = p.submit(0, amount=100_000_00)
    p.approve(claim)
    p.refused(
        member_key(LEAVER),
        "leave",
        f"claim {claim} is approved and members share it at the close of period 1",
        plan=PLAN,
    )
    close(p)
    p.refused(member_key(LEAVER), "leave", "owes 100.00 CNY of shares", plan=PLAN)
    pay_all(p, range(4))
    # The cap (100.00 CNY) held most of the claim back: it is carried, still unbilled.
    p.refused(
        member_key(LEAVER),
        "leave",
        "the plan carries 107600.00 CNY of approved claims the per-member cap held back",
        plan=PLAN,
    )


def test_leaving_once_everything_approved_is_billed_and_paid() -> None:
    p = PlanChain(4, plan_rules=rules(member_cap=10**9))
    p.advance(11 * DAY_MS)
    p.approve(p.submit(0, amount=1_000_00))
    close(p)
    pay_all(p, range(4))
    p.ok(member_key(LEAVER), "leave", plan=PLAN)
    gone = p.read(f"member/{PLAN}/{member_key(LEAVER).did}")
    # A claim approved after it left is shared by the three who stayed, not by the leaver.
    p.approve(p.submit(1, amount=3_000_00))
    close(p)
    period = p.read(f"period/{PLAN}/2")
    assert (period["members"], period["leavers"]) == (3, 1)
    assert member_share(gone, period) == 0
    balance = member_balance(_Records(p), PLAN, member_key(LEAVER).did)
    assert balance["outstanding"] == 0
    shares = [member_share(p.read(f"member/{PLAN}/{member_key(n).did}"), period) for n in range(4)]
    assert sum(shares) == period["charged"] == 3_000_00 + 3_000_00 * 800 // 10_000


def test_a_sponsor_funded_claim_waiting_does_not_block_leaving() -> None:
    covid = {
        "code": "U07.1",
        "name": "COVID-19",
        "max_payout": 100_000_00,
        "effective_from": "2020-01-01",
        "funding": "sponsor",
    }
    p = PlanChain(4, conditions=[covid])
    p.advance(11 * DAY_MS)
    p.approve(p.submit(0, "U07.1", amount=50_000_00))
    assert p.read(f"queue/{PLAN}") != []
    p.ok(member_key(LEAVER), "leave", plan=PLAN)
