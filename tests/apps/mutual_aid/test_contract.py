"""The mutual_aid contract: plans, membership, payments, sharing periods, payouts."""

from __future__ import annotations

from typing import Any

from salus.apps.mutual_aid import MUTUAL_AID, member_balance, member_share
from salus.apps.mutual_aid.rules import DAY_MS
from salus.core.crypto import sha256
from salus.core.ledger import Ledger
from tests.apps.mutual_aid.plan import (
    ASSESSOR,
    ATTESTOR,
    COUNCIL,
    EVIDENCE,
    OPERATOR,
    PLAN,
    REFERENCE,
    REGULATOR,
    PlanChain,
    member_key,
    rules,
)
from tests.support import key


class Records:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def get(self, key: str, /) -> Any:
        return self.ledger.read(MUTUAL_AID, key)


def create_args(**changes: Any) -> dict[str, Any]:
    args = {
        "plan": "other",
        "name": "Another plan",
        "currency": "CNY",
        "attestor": ATTESTOR.did,
        "governors": ["red-cross"],
        "approvals_required": 1,
        "rules": rules(),
    }
    return {**args, **changes}


def test_plan_is_ledger_data() -> None:
    p = PlanChain(0)
    plan = p.read(f"plan/{PLAN}")
    assert plan["operator"] == "red-cross"
    assert (plan["currency"], plan["minor_units"]) == ("CNY", 2)
    assert plan["rules"] == rules()
    assert plan["conditions"]["C34"] == [
        {
            "name": "Malignant neoplasm of bronchus and lung",
            "max_payout": 300_000_00,
            "effective_from": "2018-10-16",
            "effective_until": None,
            "funding": "members",
            "added_by": 0,
        }
    ]
    books = p.read(f"books/{PLAN}")
    assert (books["members"], books["period"], books["carry"]) == (0, 1, 0)
    assert p.read(f"queue/{PLAN}") == []


def test_plan_creation_is_checked() -> None:
    p = PlanChain(0)
    result = p.refused(REGULATOR, "create_plan", "'mutual_aid_operator'", **create_args())
    assert result.code == "permission_denied"
    p.refused(OPERATOR, "create_plan", "plan 'xhb' already exists", **create_args(plan=PLAN))
    p.refused(OPERATOR, "create_plan", "'XXX' is not an ISO 4217", **create_args(currency="XXX"))
    p.refused(
        OPERATOR,
        "create_plan",
        "governor 'no-such-org' is not an active organisation",
        **create_args(governors=["no-such-org"]),
    )
    p.refused(
        OPERATOR,
        "create_plan",
        "approvals_required 2 exceeds the 1 governors",
        **create_args(approvals_required=2),
    )
    p.refused(
        OPERATOR,
        "create_plan",
        "jury_quorum 5 exceeds jury_size 3",
        **create_args(rules=rules(jury_quorum=5)),
    )
    p.refused(
        OPERATOR,
        "create_plan",
        "rules.fee_bps",
        **create_args(rules=rules(fee_bps=10_001)),
    )
    p.ok(OPERATOR, "create_plan", **create_args(currency="JPY"))
    assert p.read("plan/other")["minor_units"] == 0


def test_join_with_an_attestation() -> None:
    p = PlanChain(0)
    me = member_key(0)
    attestation = p.attestation(0, band="40y-59y")
    result = p.ok(me, "join", **attestation.join_args())
    assert [e.type for e in result.events] == ["member_joined"]
    record = p.read(f"member/{PLAN}/{me.did}")
    assert record["band"] == "40y-59y"
    assert record["attestation"] == attestation.hash == sha256(attestation.message()).hex()
    assert record["eligible_from_ms"] == record["joined_ms"] + 10 * DAY_MS
    assert record["slots"] == [[1, 0]]
    assert p.read(f"slot/{PLAN}/0") == me.did
    # Nothing personal on the ledger: band, hashes, times, the did:key.
    assert set(record) == {
        "band",
        "attestation",
        "via",
        "joined_ms",
        "joined_period",
        "eligible_from_ms",
        "status",
        "slots",
        "left_ms",
        "left_period",
        "paid",
        "claims",
    }
    p.refused(me, "join", "is already a member", **p.attestation(0).join_args())


def test_join_refuses_bad_attestations() -> None:
    p = PlanChain(0)
    me = member_key(1)
    p.refused(
        me, "join", "age band '60y+' is not eligible", **p.attestation(1, band="60y+").join_args()
    )
    stale = p.attestation(1, issued_ms=p.now - 31 * DAY_MS)
    p.refused(me, "join", "is older than the plan accepts", **stale.join_args())
    future = p.attestation(1, issued_ms=p.now + DAY_MS)
    p.refused(me, "join", "in the future", **future.join_args())
    # Someone else's attestation: the signed message names another did:key.
    p.refused(me, "join", "not signed by the plan's attestor", **p.attestation(2).join_args())
    forged = p.attestation(1).join_args() | {"signature": "00" * 64}
    p.refused(me, "join", "not signed by the plan's attestor", **forged)
    p.refused(me, "join", "evidence", **(p.attestation(1).join_args() | {"evidence": "xyz"}))


def test_bulk_enrolment_is_all_or_nothing() -> None:
    p = PlanChain(0)
    entries = [p.attestation(n).enrolment_entry() for n in range(5)]
    bad = [*entries[:2], p.attestation(2, band="60y+").enrolment_entry(), *entries[3:]]
    p.refused(OPERATOR, "enrol_members", "entry 2 (", plan=PLAN, members=bad)
    twice = [*entries, entries[0]]
    p.refused(OPERATOR, "enrol_members", "entry 5 (", plan=PLAN, members=twice)
    p.refused(
        REGULATOR, "enrol_members", "only the operator of plan 'xhb'", plan=PLAN, members=entries
    )
    p.ok(OPERATOR, "enrol_members", plan=PLAN, members=entries)
    assert p.read(f"books/{PLAN}")["members"] == 5
    assert [p.read(f"slot/{PLAN}/{i}") for i in range(5)] == [member_key(n).did for n in range(5)]


def test_leaving_moves_the_last_member_into_the_gap() -> None:
    p = PlanChain(5)
    p.ok(member_key(1), "leave", plan=PLAN)
    assert p.read(f"slot/{PLAN}/1") == member_key(4).did
    assert p.read(f"slot/{PLAN}/4") is None
    moved = p.read(f"member/{PLAN}/{member_key(4).did}")
    assert moved["slots"] == [[1, 4], [1, 1]]
    gone = p.read(f"member/{PLAN}/{member_key(1).did}")
    assert (gone["status"], gone["left_period"]) == ("left", 1)
    books = p.read(f"books/{PLAN}")
    assert (books["members"], books["leavers"]) == (4, 1)
    # The last member (index 3) leaving needs no move.
    p.ok(member_key(3), "leave", plan=PLAN)
    assert p.read(f"slot/{PLAN}/3") is None
    assert p.read(f"slot/{PLAN}/1") == member_key(4).did
    assert p.read(f"books/{PLAN}")["members"] == 3
    p.refused(member_key(3), "leave", "left plan 'xhb'", plan=PLAN)
    p.refused(
        member_key(3), "join", "a key that left cannot rejoin", **p.attestation(3).join_args()
    )


def close(p: PlanChain) -> Any:
    """Close the open period at its scheduled end; returns the closing block."""
    books = p.read(f"books/{PLAN}")
    end = books["period_end_ms"]
    if p.now < end:
        p.advance(end - p.now)
    return p.pending(OPERATOR, "close_period", plan=PLAN)


def all_members(p: PlanChain, count: int) -> list[dict[str, Any]]:
    return [p.read(f"member/{PLAN}/{member_key(n).did}") for n in range(count)]


def test_close_shares_exactly_among_members_not_leavers() -> None:
    p = PlanChain(9, plan_rules=rules(member_cap=1_000_000))
    p.advance(11 * DAY_MS)
    claims = [p.submit(0, amount=1_000_01), p.submit(1, "I21", amount=333_33)]
    # Two leave while nothing is approved yet: they owe nothing, now or at the close.
    p.ok(member_key(7), "leave", plan=PLAN)
    p.ok(member_key(8), "leave", plan=PLAN)
    for claim in claims:
        p.approve(claim)
    closed = close(p)
    period = p.read(f"period/{PLAN}/1")
    assert period["member_claims"] == [[claims[0], 1_000_01], [claims[1], 333_33]]
    assert period["payouts"] == 1_333_34
    assert period["fee"] == 1_333_34 * 800 // 10_000 == 10_666
    assert (period["active"], period["leavers"], period["members"]) == (7, 2, 7)
    assert period["due"] == 1_333_34 + 10_666
    assert period["carry_out"] == 0
    shares = [member_share(m, period) for m in all_members(p, 9)]
    assert shares[7:] == [0, 0]
    shares = shares[:7]
    assert sum(shares) == period["charged"] == period["due"]
    # 144,000 fen over 7 members: 20,571 each, remainder 3 (indices 0-2 pay 1 fen more).
    assert sorted(shares) == [20_571] * 4 + [20_572] * 3
    for claim in claims:
        record = p.claim(claim)
        assert (record["status"], record["period"]) == ("included", 1)
    # O(claims) writes: the period, the books, the queue, each claim, the operator's nonce.
    assert sorted(closed.changes) == sorted(
        [
            f"mutual_aid/period/{PLAN}/1".encode(),
            f"mutual_aid/books/{PLAN}".encode(),
            f"mutual_aid/queue/{PLAN}".encode(),
            *(f"mutual_aid/claim/{PLAN}/{n}".encode() for n in claims),
            b"sys/nonce/" + OPERATOR.public_key,
        ]
    )
    events = [e.type for e in closed.results[0].events]
    assert events == ["claim_included"] * 2 + ["period_closed"]
    books = p.read(f"books/{PLAN}")
    assert (books["period"], books["leavers"], books["members"], books["carry"]) == (2, 0, 7, 0)
    assert p.read(f"queue/{PLAN}") == []


def test_close_writes_do_not_grow_with_members() -> None:
    writes = []
    for members in (3, 60):
        p = PlanChain(members)
        p.advance(11 * DAY_MS)
        p.approve(p.submit(0, amount=5_000))
        writes.append(len(close(p).changes))
    assert writes[0] == writes[1] == 5


def test_close_waits_for_the_end_of_the_period() -> None:
    p = PlanChain(2)
    p.refused(OPERATOR, "close_period", "period 1 of plan 'xhb' runs until", plan=PLAN)
    p.advance(15 * DAY_MS)
    p.refused(REGULATOR, "close_period", "only the operator", plan=PLAN)
    close(p)
    # The next period starts where the last one was scheduled to end, not at the close.
    period = p.read(f"period/{PLAN}/1")
    books = p.read(f"books/{PLAN}")
    assert books["period_start_ms"] == period["end_ms"]
    assert books["period_end_ms"] == period["end_ms"] + 15 * DAY_MS
    assert period["charged"] == 0 and period["members"] == 2


def test_cap_binds_and_the_excess_is_carried() -> None:
    p = PlanChain(4, plan_rules=rules(member_cap=50_000, fee_bps=0))
    p.advance(11 * DAY_MS)
    p.approve(p.submit(0, amount=300_000))
    close(p)
    first = p.read(f"period/{PLAN}/1")
    assert (first["due"], first["charged"], first["carry_out"]) == (300_000, 200_000, 100_000)
    assert {member_share(m, first) for m in all_members(p, 4)} == {50_000}
    close(p)
    second = p.read(f"period/{PLAN}/2")
    assert (second["carry_in"], second["charged"], second["carry_out"]) == (100_000, 100_000, 0)
    assert sum(member_share(m, second) for m in all_members(p, 4)) == 100_000


def test_payments_balances_payouts_and_fees() -> None:
    p = PlanChain(3)
    p.advance(11 * DAY_MS)
    claim = p.submit(0, amount=3_000)
    p.approve(claim)
    close(p)
    period = p.read(f"period/{PLAN}/1")
    assert (period["fee"], period["charged"]) == (240, 3_240)
    records = Records(p.chain.ledger)
    balance = member_balance(records, PLAN, member_key(1).did)
    assert balance == {
        "member": member_key(1).did,
        "charges": [{"period": 1, "share": 1_080}],
        "billed": 1_080,
        "paid": 0,
        "outstanding": 1_080,
    }
    p.refused(
        OPERATOR,
        "record_payout",
        "the member pool holds 0.00 CNY; it stays included",
        plan=PLAN,
        claim=claim,
        reference=REFERENCE,
    )
    too_much = [{"member": member_key(1).did, "amount": 1_081}]
    p.refused(
        OPERATOR,
        "record_payments",
        f"payment 0: {member_key(1).did} owes 10.80 CNY, not 10.81 CNY",
        plan=PLAN,
        payments=too_much,
        reference=REFERENCE,
    )
    twice = [{"member": member_key(1).did, "amount": 1_000}] * 2
    p.refused(
        OPERATOR, "record_payments", "payment 1:", plan=PLAN, payments=twice, reference=REFERENCE
    )
    stranger = [{"member": key(99).did, "amount": 1}]
    p.refused(
        OPERATOR,
        "record_payments",
        "is not a member",
        plan=PLAN,
        payments=stranger,
        reference=REFERENCE,
    )
    payments = [{"member": member_key(n).did, "amount": 1_080} for n in range(3)]
    p.ok(OPERATOR, "record_payments", plan=PLAN, payments=payments, reference=REFERENCE)
    assert member_balance(records, PLAN, member_key(1).did)["outstanding"] == 0
    # The fee is the operator's: taking it leaves 3,000 for the payout.
    p.refused(
        OPERATOR,
        "take_fee",
        "only 2.40 CNY of billed fees",
        plan=PLAN,
        amount=241,
        reference=REFERENCE,
    )
    p.ok(OPERATOR, "take_fee", plan=PLAN, amount=240, reference=REFERENCE)
    p.ok(OPERATOR, "record_payout", plan=PLAN, claim=claim, reference=REFERENCE)
    record = p.claim(claim)
    assert record["status"] == "paid"
    assert record["payout"]["amount"] == 3_000 and record["payout"]["reference"] == REFERENCE
    pool = p.read(f"books/{PLAN}")["pool"]
    assert pool == {
        "received": 3_240,
        "paid_out": 3_000,
        "billed": 3_240,
        "fees_billed": 240,
        "fees_taken": 240,
    }
    p.refused(
        OPERATOR,
        "record_payout",
        "record_payout cannot move a claim that is paid",
        plan=PLAN,
        claim=claim,
        reference=REFERENCE,
    )


def test_leaving_needs_shares_paid_and_no_claim_in_progress() -> None:
    p = PlanChain(3)
    p.advance(11 * DAY_MS)
    claim = p.submit(0, amount=3_000)
    p.refused(member_key(0), "leave", f"claim {claim} of", plan=PLAN)
    p.approve(claim)
    close(p)
    p.refused(member_key(1), "leave", "owes 10.80 CNY of shares of closed periods", plan=PLAN)
    p.ok(
        OPERATOR,
        "record_payments",
        plan=PLAN,
        payments=[{"member": member_key(1).did, "amount": 1_080}],
        reference=REFERENCE,
    )
    p.ok(member_key(1), "leave", plan=PLAN)


def test_governors_include_organisations_and_individuals() -> None:
    p = PlanChain(0)
    plan = p.read(f"plan/{PLAN}")
    assert plan["governors"] == ["red-cross", "health-ministry", COUNCIL.did]
    assert ASSESSOR.did not in plan["governors"]
    assert EVIDENCE not in str(plan)
