"""Every bad input of issue #6 is refused with a clear reason and writes nothing."""

from __future__ import annotations

from salus.apps.mutual_aid.rules import DAY_MS
from tests.apps.mutual_aid.plan import (
    CLAIMANT_SECRET,
    OPERATOR,
    PLAN,
    REFERENCE,
    REGULATOR,
    PlanChain,
    member_key,
)
from tests.support import key

EVIDENCE = ["e" * 64]


def claim_args(**changes: object) -> dict[str, object]:
    args: dict[str, object] = {
        "plan": PLAN,
        "code": "C34",
        "diagnosed_on": "2020-09-30",
        "amount": 100_000_00,
        "evidence": EVIDENCE,
        "commitment": "c" * 64,
    }
    return {**args, **changes}


def ready(members: int = 4) -> PlanChain:
    """A plan whose members are past the waiting period (joined 2020-09-13, now 2020-10-05)."""
    p = PlanChain(members)
    p.advance(22 * DAY_MS)
    return p


def test_duplicate_claim_for_the_same_diagnosis() -> None:
    p = ready()
    first = p.submit(0, diagnosed_on="2020-09-30")
    p.refused(
        member_key(0),
        "submit_claim",
        f"already has claim {first} for C34 (submitted); a diagnosis is claimed once",
        **claim_args(),
    )
    # A subcategory of a covered category is the same covered condition.
    p.refused(
        member_key(0),
        "submit_claim",
        f"already has claim {first} for C34",
        **claim_args(code="C34.1"),
    )
    # Another condition is another claim; after a withdrawal the diagnosis may be claimed anew.
    p.submit(0, "I21", diagnosed_on="2020-09-30")
    p.ok(member_key(0), "withdraw_claim", plan=PLAN, claim=first, reason="wrong documents")
    p.submit(0, diagnosed_on="2020-09-30")


def test_claim_by_a_non_member() -> None:
    p = ready()
    p.refused(
        key(77),
        "submit_claim",
        f"claimant {key(77).did} is not a member of plan 'xhb'",
        **claim_args(),
    )
    p.ok(member_key(1), "leave", plan=PLAN)
    p.refused(member_key(1), "submit_claim", "left plan 'xhb' at", **claim_args())


def test_claim_during_the_waiting_period() -> None:
    p = PlanChain(2)  # joined 2020-09-13T12:26:42Z; waiting period 10 days
    p.advance(9 * DAY_MS)
    p.refused(
        member_key(0),
        "submit_claim",
        "is in the waiting period until 2020-09-23T12:26:42Z; no claim before it",
        **claim_args(diagnosed_on="2020-09-20"),
    )
    p.advance(2 * DAY_MS)
    # Past the waiting period, a diagnosis made during it is still not covered.
    p.refused(
        member_key(0),
        "submit_claim",
        "C34 was diagnosed on 2020-09-20, before the waiting period ended",
        **claim_args(diagnosed_on="2020-09-20"),
    )
    # The day before the waiting period ends is not covered; the day it ends is
    # (diagnoses are dated by day, the period ends at 12:26:42 on 2020-09-23).
    p.refused(
        member_key(0),
        "submit_claim",
        "C34 was diagnosed on 2020-09-22, before the waiting period ended",
        **claim_args(diagnosed_on="2020-09-22"),
    )
    p.submit(0, diagnosed_on="2020-09-23")


def test_claim_for_a_condition_not_covered() -> None:
    p = ready()
    p.refused(
        member_key(0),
        "submit_claim",
        "J45 is not a condition this plan covers",
        **claim_args(code="J45"),
    )
    p.refused(
        member_key(0),
        "submit_claim",
        "invalid arguments for submit_claim",
        **claim_args(code="lung"),
    )


def test_claim_before_the_effective_date() -> None:
    p = ready()
    proposal = {
        "code": "U07.1",
        "name": "COVID-19, virus identified",
        "max_payout": 100_000_00,
        "effective_from": "2020-10-01",
        "funding": "sponsor",
    }
    p.ok(OPERATOR, "propose_rule_change", plan=PLAN, kind="add_condition", params=proposal)
    p.ok(REGULATOR, "approve_rule_change", plan=PLAN, proposal=1)
    p.refused(
        member_key(0),
        "submit_claim",
        "U07.1 is covered only for diagnoses from 2020-10-01; U07.1 was diagnosed on 2020-09-30",
        **claim_args(code="U07.1", amount=1_000),
    )
    p.submit(0, "U07.1", diagnosed_on="2020-10-01", amount=1_000)


def test_claim_above_the_cap() -> None:
    p = ready()
    p.refused(
        member_key(0),
        "submit_claim",
        "300000.01 CNY claimed is above the C34 payout cap of 300000.00 CNY",
        **claim_args(amount=300_000_01),
    )


def test_claim_with_a_future_diagnosis_or_bad_evidence() -> None:
    p = ready()
    p.refused(
        member_key(0), "submit_claim", "is in the future", **claim_args(diagnosed_on="2020-12-01")
    )
    p.refused(
        member_key(0),
        "submit_claim",
        "is not a calendar date",
        **claim_args(diagnosed_on="2020-02-30"),
    )
    p.refused(member_key(0), "submit_claim", "listed twice", **claim_args(evidence=EVIDENCE * 2))


def test_objection_after_the_window() -> None:
    p = ready()
    claim = p.submit(0)
    commitment = p.commitment(claim, member_key(1).did, "55" * 32)
    objection = {"plan": PLAN, "claim": claim, "reason": "doubtful", "commitment": commitment}
    p.refused(
        member_key(1),
        "object",
        "claim 1 is submitted; object is for claims that are public_notice",
        **objection,
    )
    p.to_notice(claim)
    p.advance(3 * DAY_MS)
    p.refused(
        member_key(1),
        "object",
        f"the public notice of claim {claim} closed at",
        **objection,
    )
    p.refused(member_key(0), "object", "a claimant cannot object to their own claim", **objection)
    p.refused(key(77), "object", "objector", **objection)


def test_objecting_twice_and_who_commits_with_commit_seed() -> None:
    p = ready()
    claim = p.submit(0)
    p.to_notice(claim)
    commitment = p.commitment(claim, member_key(1).did, "55" * 32)
    objection = {"plan": PLAN, "claim": claim, "reason": "doubtful", "commitment": commitment}
    p.ok(member_key(1), "object", **objection)
    p.refused(member_key(1), "object", "has already objected", **objection)
    commit = {"plan": PLAN, "claim": claim, "commitment": commitment}
    p.refused(member_key(2), "commit_seed", "is not a party to the claim", **commit)
    p.refused(member_key(1), "commit_seed", "is an objector); the claimant commits", **commit)
    p.refused(member_key(0), "commit_seed", "is the claimant)", **commit)
    # The operator may commit until the notice is closed, even after its deadline
    # (objectors' commitments are fixed by then and no secret is revealed yet).
    p.advance(3 * DAY_MS)
    p.ok(OPERATOR, "commit_seed", **commit)
    p.refused(OPERATOR, "commit_seed", "has already committed", **commit)
    p.ok(REGULATOR, "close_notice", plan=PLAN, claim=claim)
    p.refused(OPERATOR, "commit_seed", "commit_seed is for claims that are", **commit)


def test_a_claim_needs_the_claimants_seed_commitment() -> None:
    p = ready()
    args = claim_args()
    del args["commitment"]
    p.refused(member_key(0), "submit_claim", "commitment", **args)
    p.refused(
        member_key(0),
        "submit_claim",
        "args.commitment: Value error, must be 64 lower-case hex",
        **claim_args(commitment="not-a-hash"),
    )


def drawn(p: PlanChain) -> tuple[int, list[str]]:
    claim = p.submit(0)
    p.to_notice(claim)
    secret = "55" * 32
    p.ok(
        member_key(1),
        "object",
        plan=PLAN,
        claim=claim,
        reason="doubtful",
        commitment=p.commitment(claim, member_key(1).did, secret),
    )
    p.ok(
        OPERATOR,
        "commit_seed",
        plan=PLAN,
        claim=claim,
        commitment=p.commitment(claim, "red-cross", "66" * 32),
    )
    p.advance(3 * DAY_MS)
    p.ok(REGULATOR, "close_notice", plan=PLAN, claim=claim)
    p.ok(member_key(1), "reveal_seed", plan=PLAN, claim=claim, secret=secret)
    p.ok(OPERATOR, "reveal_seed", plan=PLAN, claim=claim, secret="66" * 32)
    p.ok(member_key(0), "reveal_seed", plan=PLAN, claim=claim, secret=CLAIMANT_SECRET)
    return claim, p.claim(claim)["jury"]["jurors"]


def test_a_juror_votes_once() -> None:
    p = ready(8)
    claim, jurors = drawn(p)
    juror = next(member_key(n) for n in range(8) if member_key(n).did == jurors[0])
    vote = {"plan": PLAN, "claim": claim, "vote": "approve", "reason": "consistent records"}
    p.ok(juror, "vote", **vote)
    p.refused(juror, "vote", f"{juror.did} already voted approve on claim {claim}", **vote)
    p.refused(juror, "vote", "a juror votes once", **(vote | {"vote": "reject"}))


def test_no_one_judges_their_own_claim() -> None:
    p = ready(8)
    claim, jurors = drawn(p)
    assert member_key(0).did not in jurors and member_key(1).did not in jurors
    vote = {"plan": PLAN, "claim": claim, "vote": "approve", "reason": "it is mine"}
    p.refused(member_key(0), "vote", "a claimant may not judge their own claim", **vote)
    p.refused(member_key(1), "vote", "is not on the panel", **vote)


def test_leaving_with_unpaid_shares() -> None:
    p = ready()
    p.approve(p.submit(0, amount=4_000))
    p.ok(OPERATOR, "close_period", plan=PLAN)
    p.refused(
        member_key(1),
        "leave",
        f"{member_key(1).did} owes 10.80 CNY of shares of closed periods; pay them before leaving",
        plan=PLAN,
    )
    payment = [{"member": member_key(1).did, "amount": 1_079}]
    p.ok(OPERATOR, "record_payments", plan=PLAN, payments=payment, reference=REFERENCE)
    p.refused(member_key(1), "leave", "owes 0.01 CNY", plan=PLAN)
