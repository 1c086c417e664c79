"""Cost sharing: exact integer splits, the cap, and members' indices at each close."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salus.apps.mutual_aid.sharing import (
    PeriodSplit,
    charged_periods,
    index_at_close,
    management_fee,
    member_share,
    outstanding,
    split_period,
)

amounts = st.integers(min_value=0, max_value=10**12)


@settings(max_examples=300, deadline=None)
@given(
    carry_in=amounts,
    payouts=amounts,
    fee_bps=st.integers(min_value=0, max_value=10_000),
    members=st.integers(min_value=0, max_value=5_000),
    cap=st.integers(min_value=1, max_value=10**9),
)
def test_shares_sum_to_the_charge_and_respect_the_cap(
    carry_in: int, payouts: int, fee_bps: int, members: int, cap: int
) -> None:
    fee = management_fee(payouts, fee_bps)
    split = split_period(carry_in=carry_in, payouts=payouts, fee=fee, members=members, cap=cap)
    shares = [split.share(i) for i in range(members)]
    # Not a minor unit lost or invented: what is billed plus what is carried is the total.
    assert sum(shares) == split.charged
    assert split.charged + split.carry_out == carry_in + payouts + fee == split.due
    assert all(0 <= share <= cap for share in shares)
    assert max(shares, default=0) - min(shares, default=0) <= 1
    # Only what the cap held back is carried, and then every member pays the cap.
    if split.carry_out:
        assert shares == [cap] * members
    # Deterministic: the same inputs give the same split.
    again = split_period(carry_in=carry_in, payouts=payouts, fee=fee, members=members, cap=cap)
    assert again == split


@settings(max_examples=200, deadline=None)
@given(payouts=amounts, fee_bps=st.integers(min_value=0, max_value=10_000))
def test_fee_rounds_down(payouts: int, fee_bps: int) -> None:
    fee = management_fee(payouts, fee_bps)
    assert fee * 10_000 <= payouts * fee_bps < (fee + 1) * 10_000


def test_worked_example_from_the_docs() -> None:
    # 3 claims of CNY 100,000, 80,000.05 and 30,000 (fen), 8% fee, 1,000,003 members.
    payouts = 100_000_00 + 80_000_05 + 30_000_00
    fee = management_fee(payouts, 800)
    assert fee == 1_680_000  # 8% of 21,000,005 fen = 1,680,000.4, rounded down
    split = split_period(carry_in=0, payouts=payouts, fee=fee, members=1_000_003, cap=1_000)
    assert split == PeriodSplit(
        members=1_000_003,
        due=22_680_005,
        charged=22_680_005,
        base=22,
        remainder=679_939,
        carry_out=0,
    )
    assert split.share(679_938) == 23 and split.share(679_939) == 22
    # The same period with a cap of CNY 0.20 per member: the cap binds.
    capped = split_period(carry_in=0, payouts=payouts, fee=fee, members=1_000_003, cap=20)
    assert (capped.charged, capped.base, capped.remainder) == (20_000_060, 20, 0)
    assert capped.carry_out == 2_679_945
    nxt = split_period(carry_in=capped.carry_out, payouts=0, fee=0, members=1_000_003, cap=20)
    assert (nxt.charged, nxt.base, nxt.remainder, nxt.carry_out) == (2_679_945, 2, 679_939, 0)


def test_nobody_to_share_carries_everything() -> None:
    split = split_period(carry_in=5, payouts=10, fee=1, members=0, cap=100)
    assert (split.charged, split.carry_out) == (0, 16)
    with pytest.raises(ValueError, match="not one of the 0 members"):
        split.share(0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"carry_in": -1, "payouts": 0, "fee": 0, "members": 1, "cap": 1}, ">= 0"),
        ({"carry_in": 0, "payouts": 0, "fee": 0, "members": 1, "cap": 0}, "cap >= 1"),
    ],
)
def test_split_refuses_nonsense(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_period(**kwargs)


def period(
    number: int, *, active: int, leavers: int = 0, base: int = 10, remainder: int = 0
) -> Any:
    return {
        "number": number,
        "active": active,
        "leavers": leavers,
        "members": active,
        "base": base,
        "remainder": remainder,
    }


def member(**fields: Any) -> dict[str, Any]:
    record = {
        "joined_period": 1,
        "left_period": None,
        "slots": [[1, 4]],
        "paid": 0,
    }
    record.update(fields)
    return record


def test_index_follows_the_history_of_moves() -> None:
    # Joined in period 1 at index 4; moved to 1 in period 3 (someone left), to 0 in 3 again.
    moved = member(slots=[[1, 4], [3, 1], [3, 0]])
    assert index_at_close(moved, period(1, active=5)) == 4
    assert index_at_close(moved, period(2, active=5)) == 4
    assert index_at_close(moved, period(3, active=3)) == 0
    assert index_at_close(moved, period(9, active=3)) == 0


def test_joiners_and_leavers() -> None:
    late = member(joined_period=3, slots=[[3, 7]])
    assert index_at_close(late, period(2, active=7)) is None
    assert index_at_close(late, period(3, active=8)) == 7
    # Left during period 4: shares period 3, not period 4 (the contract let it leave only
    # with nothing approved unbilled) nor any later one.
    gone = member(left_period=4)
    assert index_at_close(gone, period(3, active=8)) == 4
    assert index_at_close(gone, period(4, active=6, leavers=2)) is None
    assert index_at_close(gone, period(5, active=6)) is None


def test_member_share_and_balance() -> None:
    periods = {
        1: period(1, active=5, base=10, remainder=2),
        2: period(2, active=5, base=7, remainder=0),
        3: period(3, active=4, leavers=1, base=3, remainder=5),
    }
    record = member(slots=[[1, 1], [2, 4]], left_period=3, paid=15)
    assert member_share(record, periods[1]) == 11  # index 1 < remainder 2
    assert member_share(record, periods[2]) == 7
    assert member_share(record, periods[3]) == 0  # left during period 3: not billed
    assert charged_periods(record, periods) == [(1, 11), (2, 7)]
    assert outstanding(record, periods) == 18 - 15
