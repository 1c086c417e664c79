"""Rule changes by M-of-N governor approval, the Covid-19 change and the sponsor pool."""

from __future__ import annotations

from typing import Any

from salus.apps.mutual_aid.rules import DAY_MS
from tests.apps.mutual_aid.plan import (
    ASSESSOR,
    COUNCIL,
    OPERATOR,
    PLAN,
    REFERENCE,
    REGULATOR,
    SPONSOR,
    PlanChain,
    member_key,
)
from tests.support import key

COVID = {
    "code": "U07.1",
    "name": "COVID-19, virus identified",
    "max_payout": 100_000_00,
    "effective_from": "2020-10-01",
    "funding": "sponsor",
}


def propose(p: PlanChain, who: Any, kind: str, params: dict[str, Any], **extra: Any) -> int:
    result = p.ok(who, "propose_rule_change", plan=PLAN, kind=kind, params=params, **extra)
    return int(result.events[0].subject.rsplit("/", 1)[1])


def test_covid_19_added_as_a_sponsor_funded_condition() -> None:
    p = PlanChain(4)
    number = propose(p, OPERATOR, "add_condition", COVID, note="Covid-19, sponsor-funded")
    proposal = p.read(f"proposal/{PLAN}/{number}")
    assert (proposal["status"], proposal["approvals"]) == ("open", ["red-cross"])
    assert "U07.1" not in p.read(f"plan/{PLAN}")["conditions"]
    # The elected member representative approves: 2 of 3 governors, the change applies.
    result = p.ok(COUNCIL, "approve_rule_change", plan=PLAN, proposal=number)
    assert [e.type for e in result.events] == ["rule_change_approved", "rule_change_executed"]
    plan = p.read(f"plan/{PLAN}")
    assert plan["conditions"]["U07.1"][0]["funding"] == "sponsor"
    assert plan["conditions"]["U07.1"][0]["added_by"] == number
    assert plan["changes"][-1]["kind"] == "add_condition"
    assert p.read(f"proposal/{PLAN}/{number}")["status"] == "executed"

    p.advance(22 * DAY_MS)  # 2020-10-05: past the waiting period and the effective date
    p.refused(
        member_key(0),
        "submit_claim",
        "U07.1 is covered only for diagnoses from 2020-10-01",
        plan=PLAN,
        code="U07.1",
        diagnosed_on="2020-09-28",
        amount=50_000_00,
        evidence=["e" * 64],
        commitment="c" * 64,
    )
    covid = p.submit(0, "U07.1", diagnosed_on="2020-10-02", amount=50_000_00)
    shared = p.submit(1, "C34", amount=4_000)
    p.approve(covid)
    p.approve(shared)
    p.advance(15 * DAY_MS)
    p.ok(OPERATOR, "close_period", plan=PLAN)
    period = p.read(f"period/{PLAN}/1")
    # The sponsor pays Covid-19; members share only the member-funded claim and its fee.
    assert period["sponsor_claims"] == [[covid, 50_000_00]]
    assert period["member_claims"] == [[shared, 4_000]]
    assert (period["payouts"], period["sponsor_payouts"], period["fee"]) == (4_000, 50_000_00, 320)
    assert period["charged"] == 4_320
    p.refused(
        OPERATOR,
        "record_payout",
        "claim 1 needs 50000.00 CNY but the sponsor pool holds 0.00 CNY",
        plan=PLAN,
        claim=covid,
        reference=REFERENCE,
    )
    p.ok(
        OPERATOR,
        "deposit_sponsor_funds",
        plan=PLAN,
        sponsor=SPONSOR,
        amount=80_000_00,
        reference=REFERENCE,
    )
    p.ok(OPERATOR, "record_payout", plan=PLAN, claim=covid, reference=REFERENCE)
    sponsor = p.read(f"books/{PLAN}")["sponsor"]
    assert sponsor == {"deposited": 80_000_00, "paid_out": 50_000_00, "by": {SPONSOR: 80_000_00}}
    assert p.claim(covid)["status"] == "paid"


def test_removing_a_condition_from_a_date() -> None:
    p = PlanChain(2)
    number = propose(
        p, REGULATOR, "remove_condition", {"code": "I21", "effective_from": "2020-10-01"}
    )
    p.ok(OPERATOR, "approve_rule_change", plan=PLAN, proposal=number)
    assert p.read(f"plan/{PLAN}")["conditions"]["I21"][0]["effective_until"] == "2020-10-01"
    p.advance(22 * DAY_MS)
    args = {
        "plan": PLAN,
        "code": "I21",
        "amount": 1_000,
        "evidence": ["e" * 64],
        "commitment": "c" * 64,
    }
    p.refused(
        member_key(0),
        "submit_claim",
        "I21 is covered only for diagnoses from 2018-10-16 until 2020-10-01",
        diagnosed_on="2020-10-02",
        **args,
    )
    p.ok(member_key(0), "submit_claim", diagnosed_on="2020-09-30", **args)
    # Covered again later, with new terms: the earlier version still answers earlier dates.
    again = {
        **COVID,
        "code": "I21",
        "name": "AMI",
        "funding": "members",
        "effective_from": "2020-09-01",
    }
    p.refused(
        OPERATOR,
        "propose_rule_change",
        "a new version must start on or after",
        plan=PLAN,
        kind="add_condition",
        params=again,
    )
    number = propose(p, OPERATOR, "add_condition", {**again, "effective_from": "2020-10-03"})
    p.ok(COUNCIL, "approve_rule_change", plan=PLAN, proposal=number)
    assert [v["max_payout"] for v in p.read(f"plan/{PLAN}")["conditions"]["I21"]] == [
        300_000_00,
        100_000_00,
    ]
    p.ok(member_key(1), "submit_claim", diagnosed_on="2020-10-04", **args)


def test_rule_changes_take_governors() -> None:
    p = PlanChain(0)
    proposal = {"plan": PLAN, "kind": "set_rules", "params": {"fee_bps": 500}}
    p.refused(ASSESSOR, "propose_rule_change", "is not a governor of plan 'xhb'", **proposal)
    p.refused(member_key(0), "propose_rule_change", "is not a governor", **proposal)
    number = propose(p, REGULATOR, "set_rules", {"fee_bps": 500})
    p.refused(REGULATOR, "approve_rule_change", "has already approved", plan=PLAN, proposal=number)
    p.refused(
        COUNCIL, "cancel_rule_change", "only health-ministry may cancel", plan=PLAN, proposal=number
    )
    p.advance(7 * DAY_MS)
    p.refused(
        OPERATOR, "approve_rule_change", f"proposal {number} expired at", plan=PLAN, proposal=number
    )
    number = propose(p, REGULATOR, "set_rules", {"fee_bps": 500})
    p.ok(REGULATOR, "cancel_rule_change", plan=PLAN, proposal=number)
    p.refused(OPERATOR, "approve_rule_change", "is cancelled, not open", plan=PLAN, proposal=number)
    number = propose(p, REGULATOR, "set_rules", {"fee_bps": 500, "member_cap": 2_000})
    p.ok(OPERATOR, "approve_rule_change", plan=PLAN, proposal=number)
    rules = p.read(f"plan/{PLAN}")["rules"]
    assert (rules["fee_bps"], rules["member_cap"]) == (500, 2_000)


def test_bad_proposals_are_refused_and_stale_ones_fail() -> None:
    p = PlanChain(0)
    p.refused(
        REGULATOR,
        "propose_rule_change",
        "jury_quorum 5 exceeds jury_size 3",
        plan=PLAN,
        kind="set_rules",
        params={"jury_quorum": 5},
    )
    p.refused(
        REGULATOR,
        "propose_rule_change",
        "must change at least one rule",
        plan=PLAN,
        kind="set_rules",
        params={},
    )
    p.refused(
        REGULATOR,
        "propose_rule_change",
        "invalid add_condition proposal",
        plan=PLAN,
        kind="add_condition",
        params={"code": "U07.1"},
    )
    p.refused(
        REGULATOR,
        "propose_rule_change",
        "C34 is already covered",
        plan=PLAN,
        kind="add_condition",
        params={**COVID, "code": "C34"},
    )
    p.refused(
        REGULATOR,
        "propose_rule_change",
        "J45 is not a covered condition",
        plan=PLAN,
        kind="remove_condition",
        params={"code": "J45", "effective_from": "2021-01-01"},
    )
    p.refused(
        REGULATOR,
        "propose_rule_change",
        "must take effect after",
        plan=PLAN,
        kind="remove_condition",
        params={"code": "C34", "effective_from": "2018-10-16"},
    )
    # Two proposals for the same code: whichever is approved second fails, with the reason.
    first = propose(p, REGULATOR, "add_condition", COVID)
    second = propose(p, OPERATOR, "add_condition", {**COVID, "max_payout": 1})
    p.ok(OPERATOR, "approve_rule_change", plan=PLAN, proposal=first)
    result = p.ok(REGULATOR, "approve_rule_change", plan=PLAN, proposal=second)
    assert result.events[-1].type == "rule_change_failed"
    failed = p.read(f"proposal/{PLAN}/{second}")
    assert failed["status"] == "failed" and "U07.1 is already covered" in failed["reason"]


def test_attestor_and_governance_change() -> None:
    p = PlanChain(0)
    number = propose(p, OPERATOR, "set_attestor", {"attestor": key(33).did})
    p.ok(REGULATOR, "approve_rule_change", plan=PLAN, proposal=number)
    p.refused(
        member_key(0), "join", "not signed by the plan's attestor", **p.attestation(0).join_args()
    )
    params = {"governors": ["red-cross", COUNCIL.did], "approvals_required": 2}
    number = propose(p, COUNCIL, "set_governance", params)
    p.ok(REGULATOR, "approve_rule_change", plan=PLAN, proposal=number)
    plan = p.read(f"plan/{PLAN}")
    assert plan["governors"] == ["red-cross", COUNCIL.did]
    p.refused(
        REGULATOR,
        "propose_rule_change",
        "is not a governor",
        plan=PLAN,
        kind="set_rules",
        params={"fee_bps": 1},
    )


def test_a_new_period_length_applies_from_the_next_period() -> None:
    p = PlanChain(1)
    first_end = p.read(f"books/{PLAN}")["period_end_ms"]
    number = propose(p, OPERATOR, "set_rules", {"period_ms": 10 * DAY_MS})
    p.ok(REGULATOR, "approve_rule_change", plan=PLAN, proposal=number)
    assert p.read(f"books/{PLAN}")["period_end_ms"] == first_end  # the open period keeps its end
    p.advance(first_end - p.now)
    p.ok(OPERATOR, "close_period", plan=PLAN)
    books = p.read(f"books/{PLAN}")
    assert (books["period_start_ms"], books["period_end_ms"]) == (
        first_end,
        first_end + 10 * DAY_MS,
    )
