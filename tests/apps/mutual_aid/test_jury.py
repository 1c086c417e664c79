"""Who picks a jury, and who sits on one (review of issue #6: findings 1 and 5)."""

from __future__ import annotations

from salus.apps.mutual_aid.claims import draw_jurors, jury_seed, round_seed
from salus.apps.mutual_aid.rules import DAY_MS
from tests.apps.mutual_aid.plan import (
    CLAIMANT_SECRET,
    OPERATOR,
    PLAN,
    REGULATOR,
    PlanChain,
    member_key,
    rules,
)
from tests.support import key

OPERATOR_SECRET = "22" * 32


def notice(p: PlanChain, claimant: int = 0) -> int:
    p.advance(11 * DAY_MS)
    claim = p.submit(claimant)
    p.to_notice(claim)
    return claim


def object_to(p: PlanChain, claim: int, n: int, secret: str) -> None:
    p.ok(
        member_key(n),
        "object",
        plan=PLAN,
        claim=claim,
        reason="doubtful",
        commitment=p.commitment(claim, member_key(n).did, secret),
    )


def operator_commits(p: PlanChain, claim: int) -> None:
    commitment = p.commitment(claim, "red-cross", OPERATOR_SECRET)
    p.ok(OPERATOR, "commit_seed", plan=PLAN, claim=claim, commitment=commitment)


def test_a_lone_objector_cannot_grind_the_panel() -> None:
    """/tmp/rev/grind.py: an objector grinds its secret offline until its friends make the
    panel. The seed now needs the claimant's and the operator's shares too, so the panel
    it aimed for is not the one drawn, whoever withholds."""
    p = PlanChain(20)
    claim = notice(p)
    objector = member_key(1)
    friends = {member_key(2).did, member_key(3).did}
    slots = [p.read(f"slot/{PLAN}/{i}") for i in range(20)]
    excluded = {member_key(0).did, objector.did}
    secret = ""
    for attempt in range(100_000):
        secret = f"{attempt:064x}"
        ground, _ = jury_seed(PLAN, claim, [(objector.did, secret)], [])
        panel = draw_jurors(round_seed(ground, 1), 20, 3, lambda k: slots[k], excluded)
        if friends <= set(panel):
            break
    object_to(p, claim, 1, secret)
    p.advance(3 * DAY_MS)
    # The jury phase waits for the operator's share: neither side of the dispute holds it.
    p.refused(
        REGULATOR,
        "close_notice",
        "has not committed its jury seed share",
        plan=PLAN,
        claim=claim,
    )
    operator_commits(p, claim)
    p.ok(REGULATOR, "close_notice", plan=PLAN, claim=claim)
    # The claimant and the operator withhold: the objector's reveal alone is not the seed.
    p.ok(objector, "reveal_seed", plan=PLAN, claim=claim, secret=secret)
    p.advance(DAY_MS)
    p.ok(REGULATOR, "draw_jury", plan=PLAN, claim=claim)
    jury = p.claim(claim)["jury"]
    assert jury["source"] == "commitments"
    assert jury["seed"] != ground.hex()
    assert jury["dropped"] == [member_key(0).did, "red-cross"]


def test_the_seed_always_mixes_two_parties() -> None:
    commitments = [("did:key:zA", "aa" * 32), ("red-cross", "bb" * 32)]
    one = jury_seed(PLAN, 1, [("did:key:zA", "01" * 32)], commitments)
    assert one[1] == "commitments"
    assert one[0] != jury_seed(PLAN, 1, [("did:key:zA", "01" * 32)], [])[0]
    other = [("did:key:zA", "aa" * 32), ("red-cross", "cc" * 32)]
    assert one[0] != jury_seed(PLAN, 1, [("did:key:zA", "01" * 32)], other)[0]
    two = jury_seed(PLAN, 1, [("did:key:zA", "01" * 32), ("red-cross", "02" * 32)], commitments)
    assert two[1] == "reveals"


def test_the_claimants_reveal_is_checked_against_its_submission() -> None:
    p = PlanChain(8)
    claim = notice(p)
    object_to(p, claim, 1, "33" * 32)
    operator_commits(p, claim)
    p.advance(3 * DAY_MS)
    p.ok(REGULATOR, "close_notice", plan=PLAN, claim=claim)
    share = p.claim(claim)["seed"][0]
    assert (share["party"], share["role"]) == (member_key(0).did, "claimant")
    p.refused(
        member_key(0), "reveal_seed", "does not match", plan=PLAN, claim=claim, secret="44" * 32
    )
    p.ok(member_key(0), "reveal_seed", plan=PLAN, claim=claim, secret=CLAIMANT_SECRET)


def test_an_objected_claim_cannot_be_withdrawn() -> None:
    p = PlanChain(8)
    claim = notice(p)
    object_to(p, claim, 1, "33" * 32)
    p.refused(
        member_key(0),
        "withdraw_claim",
        "has 1 objection(s); an objected claim is decided by its panel",
        plan=PLAN,
        claim=claim,
        reason="I will file it again",
    )


def disputed(p: PlanChain, objector_secret: str = "33" * 32) -> int:
    claim = notice(p)
    object_to(p, claim, 1, objector_secret)
    operator_commits(p, claim)
    p.advance(3 * DAY_MS)
    p.ok(REGULATOR, "close_notice", plan=PLAN, claim=claim)
    return claim


def reveal_all(p: PlanChain, claim: int, objector_secret: str = "33" * 32) -> None:
    p.ok(member_key(0), "reveal_seed", plan=PLAN, claim=claim, secret=CLAIMANT_SECRET)
    p.ok(OPERATOR, "reveal_seed", plan=PLAN, claim=claim, secret=OPERATOR_SECRET)
    p.ok(member_key(1), "reveal_seed", plan=PLAN, claim=claim, secret=objector_secret)


def test_members_in_their_waiting_period_are_not_drawn() -> None:
    p = PlanChain(6)
    claim = notice(p)
    object_to(p, claim, 1, "33" * 32)
    operator_commits(p, claim)
    p.enrol(range(6, 40))  # 34 newcomers, all still waiting when the panel is drawn
    p.advance(3 * DAY_MS)
    p.ok(REGULATOR, "close_notice", plan=PLAN, claim=claim)
    reveal_all(p, claim)
    jurors = p.claim(claim)["jury"]["jurors"]
    assert set(jurors) <= {member_key(n).did for n in range(2, 6)}
    assert len(jurors) == 3


def test_a_juror_who_left_cannot_vote() -> None:
    p = PlanChain(8)
    claim = disputed(p)
    reveal_all(p, claim)
    juror = next(
        member_key(n) for n in range(8) if member_key(n).did in p.claim(claim)["jury"]["jurors"]
    )
    p.ok(juror, "leave", plan=PLAN)
    p.refused(
        juror,
        "vote",
        f"juror {juror.did} left plan 'xhb'",
        plan=PLAN,
        claim=claim,
        vote="reject",
        reason="x",
    )


def test_too_few_eligible_members_the_findings_stand() -> None:
    # Claimant, objector and one other member: 1 eligible juror, the quorum is 2.
    p = PlanChain(3)
    claim = disputed(p)
    p.ok(member_key(0), "reveal_seed", plan=PLAN, claim=claim, secret=CLAIMANT_SECRET)
    p.advance(DAY_MS)
    p.ok(key(77), "draw_jury", plan=PLAN, claim=claim)
    record = p.claim(claim)
    assert (record["status"], record["jury"]) == ("approved", None)
    last = record["history"][-1]
    assert (last["action"], last["status"]) == ("draw_jury", "approved")
    assert last["reason"] == (
        "fewer than 2 members are eligible for panel 1 (the quorum); the assessor's findings stand"
    )
    assert p.read(f"queue/{PLAN}") == [claim]


def test_too_few_for_a_new_panel_the_findings_stand() -> None:
    # Five members: the first panel (3) is drawn from the three others; a second panel
    # would have to exclude them, so none can be drawn.
    p = PlanChain(5, plan_rules=rules(jury_size=3, jury_quorum=2))
    claim = disputed(p)
    reveal_all(p, claim)  # the last reveal draws panel 1
    assert p.claim(claim)["jury"]["round"] == 1
    p.advance(2 * DAY_MS)
    p.ok(REGULATOR, "close_jury", plan=PLAN, claim=claim)  # no votes: a new panel is due
    record = p.claim(claim)
    assert record["status"] == "approved"
    assert record["history"][-1]["action"] == "close_jury"
    assert "eligible for panel 2" in record["history"][-1]["reason"]


def test_revealing_the_last_share_decides_when_no_panel_can_sit() -> None:
    p = PlanChain(3)
    claim = disputed(p)
    reveal_all(p, claim)
    record = p.claim(claim)
    assert record["status"] == "approved"
    assert record["history"][-1]["action"] == "reveal_seed"
