"""Claims through every state: investigation, notice, objections, juries, sharing, payout."""

from __future__ import annotations

from typing import Any

from salus.apps.mutual_aid import CLAIM_STATES
from salus.apps.mutual_aid.rules import DAY_MS
from salus.core.crypto import Signer
from tests.apps.mutual_aid.plan import (
    ASSESSOR,
    ASSESSOR_2,
    CLAIMANT_SECRET,
    OPERATOR,
    PLAN,
    REFERENCE,
    REGULATOR,
    REPORT,
    PlanChain,
    member_key,
    rules,
)
from tests.support import key

OPERATOR_SECRET = "22" * 32
OBJECTOR_SECRET = "33" * 32


def keys_by_did(count: int) -> dict[str, Signer]:
    return {member_key(n).did: member_key(n) for n in range(count)}


def object_to(p: PlanChain, claim: int, n: int, secret: str = OBJECTOR_SECRET) -> None:
    p.ok(
        member_key(n),
        "object",
        plan=PLAN,
        claim=claim,
        reason="the claimant was seen running a marathon last week",
        commitment=p.commitment(claim, member_key(n).did, secret),
    )


def disputed(p: PlanChain, claimant: int, objector: int) -> int:
    """A claim in jury review whose claimant (with the claim), operator and objector
    committed to the seed."""
    claim = p.submit(claimant)
    p.to_notice(claim)
    p.ok(
        OPERATOR,
        "commit_seed",
        plan=PLAN,
        claim=claim,
        commitment=p.commitment(claim, "red-cross", OPERATOR_SECRET),
    )
    object_to(p, claim, objector)
    p.advance(3 * DAY_MS)
    p.ok(REGULATOR, "close_notice", plan=PLAN, claim=claim)
    return claim


def reveal_all(p: PlanChain, claim: int, claimant: int, objector: int) -> Any:
    p.ok(member_key(claimant), "reveal_seed", plan=PLAN, claim=claim, secret=CLAIMANT_SECRET)
    p.ok(OPERATOR, "reveal_seed", plan=PLAN, claim=claim, secret=OPERATOR_SECRET)
    return p.ok(member_key(objector), "reveal_seed", plan=PLAN, claim=claim, secret=OBJECTOR_SECRET)


def test_claims_pass_through_every_state_and_record_who_and_why() -> None:
    p = PlanChain(10, plan_rules=rules(member_cap=10**9))
    signers = keys_by_did(10)
    p.advance(11 * DAY_MS)

    # A: objected, the panel approves, it is shared and paid.
    a = disputed(p, claimant=0, objector=1)
    assert p.claim(a)["status"] == "jury_review"
    drawn = reveal_all(p, a, claimant=0, objector=1)  # the last reveal draws the panel
    jury = p.claim(a)["jury"]
    assert jury["source"] == "reveals" and jury["dropped"] == []
    assert len(jury["jurors"]) == 3
    assert not {member_key(0).did, member_key(1).did} & set(jury["jurors"])
    assert [e.subject for e in drawn.events if e.type == "juror_drawn"] == jury["jurors"]
    first, second, third = (signers[did] for did in jury["jurors"])
    p.ok(first, "vote", plan=PLAN, claim=a, vote="approve", reason="records are consistent")
    assert p.claim(a)["status"] == "jury_review"
    p.ok(second, "vote", plan=PLAN, claim=a, vote="approve", reason="hospital confirmed")
    assert p.claim(a)["status"] == "approved"  # 2 of 3: settled
    p.refused(
        third,
        "vote",
        "has no panel voting (it is approved)",
        plan=PLAN,
        claim=a,
        vote="reject",
        reason="late",
    )

    # B: the findings do not support it.
    b = p.submit(2, "I21")
    p.ok(ASSESSOR, "start_investigation", plan=PLAN, claim=b)
    p.ok(
        ASSESSOR,
        "record_findings",
        plan=PLAN,
        claim=b,
        report=REPORT,
        supported=False,
        reason="the ECG does not show an infarction",
    )
    # C: withdrawn by its claimant.
    c = p.submit(3)
    p.refused(member_key(4), "withdraw_claim", "only the claimant", plan=PLAN, claim=c, reason="x")
    p.ok(member_key(3), "withdraw_claim", plan=PLAN, claim=c, reason="filed by mistake")
    # D: objected, and the panel upholds the objection.
    d = disputed(p, claimant=4, objector=5)
    reveal_all(p, d, claimant=4, objector=5)  # the last reveal draws
    panel = p.claim(d)["jury"]["jurors"]
    for did in panel[:2]:
        p.ok(signers[did], "vote", plan=PLAN, claim=d, vote="reject", reason="objection is right")
    assert p.claim(d)["status"] == "rejected"

    p.advance(15 * DAY_MS)
    p.ok(OPERATOR, "close_period", plan=PLAN)
    assert p.claim(a)["status"] == "included"
    period = p.read(f"period/{PLAN}/1")
    assert period["member_claims"] == [[a, 100_000_00]]
    share = period["charged"] // 10
    payments = [{"member": member_key(n).did, "amount": share} for n in range(10)]
    p.ok(OPERATOR, "record_payments", plan=PLAN, payments=payments, reference=REFERENCE)
    p.ok(OPERATOR, "record_payout", plan=PLAN, claim=a, reference=REFERENCE)

    visited: set[str] = set()
    for number in (a, b, c, d):
        history = p.claim(number)["history"]
        visited.update(entry["status"] for entry in history)
        for entry in history:
            assert entry["by"].startswith("did:key:") and entry["reason"], entry
            assert entry["time_ms"] > 0 and entry["height"] > 0
    assert visited == set(CLAIM_STATES)
    assert [h["status"] for h in p.claim(a)["history"]] == [
        "submitted",
        "investigation",
        "public_notice",
        "jury_review",
        "approved",
        "included",
        "paid",
    ]
    assert p.claim(a)["history"][4]["reason"] == "panel 1: 2 approve, 0 reject"
    assert p.claim(b)["history"][-1]["reason"] == "the ECG does not show an infarction"


def test_a_party_that_does_not_reveal_is_dropped() -> None:
    p = PlanChain(8)
    p.advance(11 * DAY_MS)
    claim = disputed(p, claimant=0, objector=1)
    p.ok(member_key(0), "reveal_seed", plan=PLAN, claim=claim, secret=CLAIMANT_SECRET)
    p.refused(REGULATOR, "draw_jury", "may be revealed until", plan=PLAN, claim=claim)
    p.refused(
        member_key(1),
        "reveal_seed",
        "does not match",
        plan=PLAN,
        claim=claim,
        secret="44" * 32,
    )
    p.refused(
        member_key(2), "reveal_seed", "did not commit", plan=PLAN, claim=claim, secret="44" * 32
    )
    p.refused(
        member_key(0),
        "reveal_seed",
        "already revealed",
        plan=PLAN,
        claim=claim,
        secret=CLAIMANT_SECRET,
    )
    p.advance(DAY_MS)
    p.refused(
        member_key(1),
        "reveal_seed",
        "could be revealed until",
        plan=PLAN,
        claim=claim,
        secret=OBJECTOR_SECRET,
    )
    p.ok(key(77), "draw_jury", plan=PLAN, claim=claim)  # anyone may draw: the result is fixed
    jury = p.claim(claim)["jury"]
    # One reveal is never the seed alone: it falls back to every commitment with it.
    assert jury["source"] == "commitments"
    assert jury["dropped"] == ["red-cross", member_key(1).did]
    p.refused(REGULATOR, "draw_jury", "already drawn", plan=PLAN, claim=claim)


def test_two_reveals_make_the_seed_and_the_withholder_is_named() -> None:
    p = PlanChain(8)
    p.advance(11 * DAY_MS)
    claim = disputed(p, claimant=0, objector=1)
    p.ok(member_key(0), "reveal_seed", plan=PLAN, claim=claim, secret=CLAIMANT_SECRET)
    p.ok(OPERATOR, "reveal_seed", plan=PLAN, claim=claim, secret=OPERATOR_SECRET)
    p.advance(DAY_MS)
    p.ok(key(77), "draw_jury", plan=PLAN, claim=claim)
    jury = p.claim(claim)["jury"]
    assert (jury["source"], jury["dropped"]) == ("reveals", [member_key(1).did])


def test_without_reveals_the_seed_falls_back_to_the_commitments() -> None:
    p = PlanChain(8)
    p.advance(11 * DAY_MS)
    claim = disputed(p, claimant=0, objector=1)
    p.advance(DAY_MS)
    p.ok(REGULATOR, "draw_jury", plan=PLAN, claim=claim)
    assert p.claim(claim)["jury"]["source"] == "commitments"


def test_no_quorum_draws_new_panels_then_the_findings_stand() -> None:
    p = PlanChain(13)
    signers = keys_by_did(13)
    p.advance(11 * DAY_MS)
    claim = disputed(p, claimant=0, objector=1)
    reveal_all(p, claim, claimant=0, objector=1)
    seen: set[str] = set()
    for panel in (1, 2, 3):
        jury = p.claim(claim)["jury"]
        assert jury["round"] == panel
        assert not seen & set(jury["jurors"])  # every panel is new
        seen.update(jury["jurors"])
        lone = signers[jury["jurors"][0]]
        p.ok(lone, "vote", plan=PLAN, claim=claim, vote="reject", reason="doubtful")
        p.refused(
            lone, "vote", "a juror votes once", plan=PLAN, claim=claim, vote="approve", reason="x"
        )
        p.refused(REGULATOR, "close_jury", "runs until", plan=PLAN, claim=claim)
        p.advance(2 * DAY_MS)
        p.refused(
            signers[jury["jurors"][1]],
            "vote",
            "closed at",
            plan=PLAN,
            claim=claim,
            vote="approve",
            reason="x",
        )
        p.ok(REGULATOR, "close_jury", plan=PLAN, claim=claim)
    record = p.claim(claim)
    assert record["status"] == "approved"
    assert (
        record["history"][-1]["reason"]
        == "no quorum in 3 panels (2 votes needed); the findings stand"
    )
    assert next(h["reason"] for h in record["history"] if h["action"] == "close_jury") == (
        "panel 1: 1 votes, 2 needed; panel 2 drawn"
    )
    assert len(record["panels"]) == 2
    assert p.read(f"queue/{PLAN}") == [claim]


def test_a_slow_investigation_can_be_taken_over() -> None:
    p = PlanChain(3)
    p.advance(11 * DAY_MS)
    claim = p.submit(0)
    p.ok(ASSESSOR, "start_investigation", plan=PLAN, claim=claim)
    p.refused(ASSESSOR, "start_investigation", "is already investigating", plan=PLAN, claim=claim)
    p.refused(
        ASSESSOR_2,
        "start_investigation",
        "another assessor may take over after",
        plan=PLAN,
        claim=claim,
    )
    p.advance(5 * DAY_MS)
    p.ok(ASSESSOR_2, "start_investigation", plan=PLAN, claim=claim)
    p.refused(
        ASSESSOR,
        "record_findings",
        "is assigned to assessor",
        plan=PLAN,
        claim=claim,
        report=REPORT,
        supported=True,
        reason="late",
    )
    p.ok(
        ASSESSOR_2,
        "record_findings",
        plan=PLAN,
        claim=claim,
        report=REPORT,
        supported=True,
        reason="confirmed, at a lower amount",
        amount=50_000_00,
    )
    record = p.claim(claim)
    assert record["findings"]["late"] is False
    assert record["payout_amount"] == 50_000_00
    assert [h["reason"] for h in record["history"]][1:3] == [
        "investigation opened",
        "taken over after the investigation deadline",
    ]


def test_assessors_are_accredited_and_not_their_own() -> None:
    p = PlanChain(3)
    p.advance(11 * DAY_MS)
    claim = p.submit(0)
    result = p.refused(member_key(1), "start_investigation", "'assessor'", plan=PLAN, claim=claim)
    assert result.code == "permission_denied"
    p.ok(ASSESSOR, "start_investigation", plan=PLAN, claim=claim)
    p.refused(
        ASSESSOR,
        "record_findings",
        "exceeds the 100000.00 CNY claimed",
        plan=PLAN,
        claim=claim,
        report=REPORT,
        supported=True,
        reason="x",
        amount=100_000_01,
    )
    p.refused(
        ASSESSOR,
        "record_findings",
        "only with findings that support",
        plan=PLAN,
        claim=claim,
        report=REPORT,
        supported=False,
        reason="x",
        amount=1,
    )
