"""The claim transition table and the pure jury helpers (seed, draw, outcome)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salus.apps.mutual_aid.claims import (
    CLAIM_ACTIVITIES,
    CLAIM_STATES,
    CLAIM_TRANSITIONS,
    FINAL_STATES,
    draw_jurors,
    jury_outcome,
    jury_seed,
    round_seed,
    seed_commitment,
    transition,
)
from salus.errors import ContractError


def test_table_uses_known_states_and_reaches_every_state() -> None:
    targets = {move.target for move in CLAIM_TRANSITIONS}
    sources = {move.source for move in CLAIM_TRANSITIONS}
    assert targets == set(CLAIM_STATES)
    assert sources - {None} <= set(CLAIM_STATES)
    # Only final states have no way out; every other state leads somewhere else.
    for state in CLAIM_STATES:
        exits = {m.target for m in CLAIM_TRANSITIONS if m.source == state} - {state}
        assert bool(exits) == (state not in FINAL_STATES), state
    for statuses, _, _ in CLAIM_ACTIVITIES.values():
        assert statuses <= set(CLAIM_STATES) - FINAL_STATES


def test_every_state_is_reachable_from_submission() -> None:
    reached: set[str] = set()
    frontier: set[str | None] = {None}
    while frontier:
        state = frontier.pop()
        for move in CLAIM_TRANSITIONS:
            if move.source == state and move.target not in reached:
                reached.add(move.target)
                frontier.add(move.target)
    assert reached == set(CLAIM_STATES)


@pytest.mark.parametrize(
    ("status", "action", "target"),
    [
        ("submitted", "record_findings", "public_notice"),  # no findings before investigating
        ("public_notice", "close_period", "included"),  # not approved yet
        ("approved", "withdraw_claim", "withdrawn"),  # too late to withdraw
        ("rejected", "close_notice", "approved"),  # final
        ("paid", "record_payout", "paid"),  # paid once
        ("investigation", "close_notice", "approved"),
        (None, "start_investigation", "investigation"),
    ],
)
def test_illegal_moves_are_refused(status: str | None, action: str, target: str) -> None:
    with pytest.raises(ContractError, match=f"{action} cannot move a claim that is"):
        transition(status, action, target)


def test_legal_moves_are_found() -> None:
    move = transition("public_notice", "close_notice", "jury_review")
    assert (move.by, move.when) == ("anyone", "notice over, objected")
    with pytest.raises(ContractError, match="not a claim transition"):
        transition("submitted", "object", "submitted")


def test_commitments_bind_plan_claim_and_party() -> None:
    secret = "ab" * 32
    base = seed_commitment("xhb", 1, "did:key:zA", secret)
    assert base == seed_commitment("xhb", 1, "did:key:zA", secret)
    others = {
        seed_commitment("xhb", 2, "did:key:zA", secret),
        seed_commitment("other", 1, "did:key:zA", secret),
        seed_commitment("xhb", 1, "did:key:zB", secret),
        seed_commitment("xhb", 1, "did:key:zA", "cd" * 32),
    }
    assert base not in others and len(others) == 4


def test_seed_depends_on_every_reveal_and_their_order() -> None:
    a, b = ("claimant", "11" * 32), ("operator", "22" * 32)
    seed, source = jury_seed("xhb", 1, [a, b], [])
    assert source == "reveals"
    assert jury_seed("xhb", 1, [b, a], [])[0] != seed
    assert jury_seed("xhb", 1, [a], [])[0] != seed
    fallback, source = jury_seed("xhb", 1, [], [("claimant", "33" * 32)])
    assert source == "commitments" and fallback != seed
    assert round_seed(seed, 1) != round_seed(seed, 2)


def population(n: int) -> list[str]:
    return [f"did:key:z{i:07d}" for i in range(n)]


def test_draw_is_deterministic_and_costs_the_panel_size() -> None:
    members = population(1_000_000)
    reads: list[int] = []

    def member_at(index: int) -> str:
        reads.append(index)
        return members[index]

    seed = round_seed(jury_seed("xhb", 7, [("claimant", "aa" * 32)], [])[0], 1)
    jurors = draw_jurors(seed, len(members), 27, member_at, [])
    assert len(jurors) == len(set(jurors)) == 27
    assert len(reads) == 27  # O(panel), not O(members)
    assert draw_jurors(seed, len(members), 27, members.__getitem__, []) == jurors
    other = round_seed(jury_seed("xhb", 7, [("claimant", "ab" * 32)], [])[0], 1)
    assert draw_jurors(other, len(members), 27, members.__getitem__, []) != jurors


@settings(max_examples=150, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    size_of_population=st.integers(min_value=0, max_value=60),
    size=st.integers(min_value=1, max_value=15),
    excluded=st.sets(st.integers(min_value=0, max_value=70), max_size=10),
)
def test_draw_never_repeats_or_picks_the_excluded(
    seed: bytes, size_of_population: int, size: int, excluded: set[int]
) -> None:
    members = population(size_of_population)
    barred = {f"did:key:z{i:07d}" for i in excluded}
    jurors = draw_jurors(seed, len(members), size, members.__getitem__, barred)
    eligible = len(set(members) - barred)
    assert len(jurors) == len(set(jurors)) == min(size, eligible)
    assert not barred & set(jurors)


@pytest.mark.parametrize(
    ("approve", "reject", "over", "outcome"),
    [
        (2, 0, False, "approved"),  # 2 of 3: settled early
        (0, 2, False, "rejected"),
        (1, 1, False, None),  # one vote outstanding
        (1, 0, False, None),
        (1, 1, True, "approved"),  # quorum 2, tie: the assessor's finding stands
        (0, 1, True, None),  # below quorum when voting is over: a new panel
        (1, 2, False, "rejected"),
    ],
)
def test_jury_outcome(approve: int, reject: int, over: bool, outcome: str | None) -> None:
    assert jury_outcome(approve, reject, size=3, quorum=2, voting_over=over) == outcome


def test_even_panel_all_voted_tie_approves() -> None:
    assert jury_outcome(2, 2, size=4, quorum=3, voting_over=False) == "approved"
