"""Cost sharing: exact integer arithmetic for a period close, and each member's share.

Rules this module obeys:
- Pure integer arithmetic; no floats, no rounding a reader has to guess.
- The contract and an offline verifier call the same functions: a member's share is
  *derived* from the period record and the member record, never stored per member,
  so closing a period writes O(claims) keys whatever the number of members.

The rules (documented in docs/mutual-aid.md with a worked example):

``fee``        = ``payouts * fee_bps // 10_000`` — the management fee on the period's
                 member-funded payouts, rounded down (the operator bears the rounding).
``due``        = ``carry_in + payouts + fee``.
``charged``    = ``min(due, members * cap)`` — no member is billed more than the cap.
``carry_out``  = ``due - charged``: what the cap held back, billed in the next period.
``base, remainder = divmod(charged, members)``.
A member's share is ``base + 1`` if its index at the close is below ``remainder``, else
``base``. Indices ``0..members-1`` are a permutation over the members sharing the
period, so the shares sum to ``base * members + remainder == charged`` exactly, and no
share exceeds the cap (if ``base == cap`` then ``charged == members * cap`` and the
remainder is 0). With no members sharing, everything is carried.

Who shares a period: exactly the members in the plan's dense index when it closes
(index ``0..members-1``, their index at the close). A member who left during the period
does not share it: the contract lets a member leave only when no member-funded claim
approved so far is unbilled (the approved queue is empty and no cap carry is pending)
and every share of closed periods is paid. So, exactly:

- a leaver owes nothing when it leaves, and is never billed again: every closed period
  with ``left_period <= number`` skips it (:func:`index_at_close` is ``None``);
- every claim approved before it left was in a period it shared and paid for; claims
  approved after it left are shared by the members who remain.

A member's index can change when another member leaves (the last member moves into
the gap); the member record keeps every index with the period it took effect in, so
the index at any past close stays derivable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "BPS",
    "PeriodSplit",
    "charged_periods",
    "index_at_close",
    "management_fee",
    "member_share",
    "outstanding",
    "share_for_index",
    "split_period",
]

BPS: Final = 10_000


def management_fee(payouts: int, fee_bps: int) -> int:
    """The fee on ``payouts`` minor units at ``fee_bps`` basis points, rounded down."""
    if payouts < 0 or not 0 <= fee_bps <= BPS:
        raise ValueError("payouts must be >= 0 and fee_bps within 0..10000")
    return payouts * fee_bps // BPS


@dataclass(frozen=True, slots=True)
class PeriodSplit:
    """How a period's total is divided among ``members``."""

    members: int
    due: int
    charged: int
    base: int
    remainder: int
    carry_out: int

    def share(self, index: int) -> int:
        """The share of the member at ``index`` (0-based) at the close."""
        return share_for_index(self.base, self.remainder, self.members, index)


def split_period(*, carry_in: int, payouts: int, fee: int, members: int, cap: int) -> PeriodSplit:
    """Split ``carry_in + payouts + fee`` among ``members`` under a per-member ``cap``."""
    if min(carry_in, payouts, fee, members) < 0 or cap < 1:
        raise ValueError("amounts and members must be >= 0 and the cap >= 1")
    due = carry_in + payouts + fee
    charged = min(due, members * cap) if members else 0
    base, remainder = divmod(charged, members) if members else (0, 0)
    return PeriodSplit(members, due, charged, base, remainder, due - charged)


def share_for_index(base: int, remainder: int, members: int, index: int) -> int:
    if not 0 <= index < members:
        raise ValueError(f"index {index} is not one of the {members} members sharing")
    return base + 1 if index < remainder else base


def index_at_close(member: Mapping[str, Any], period: Mapping[str, Any]) -> int | None:
    """The member's index in the split of ``period`` (a closed period record), or
    ``None`` when the member did not share that period."""
    number = int(period["number"])
    if int(member["joined_period"]) > number:
        return None
    left = member.get("left_period")
    if left is not None and int(left) <= number:
        return None
    index: int | None = None
    for since, slot in member["slots"]:
        if since > number:
            break
        index = int(slot)
    return index


def member_share(member: Mapping[str, Any], period: Mapping[str, Any]) -> int:
    """What the member was billed at the close of ``period`` (0 if it did not share)."""
    index = index_at_close(member, period)
    if index is None:
        return 0
    return share_for_index(
        int(period["base"]), int(period["remainder"]), int(period["members"]), index
    )


def charged_periods(
    member: Mapping[str, Any], periods: Mapping[int, Mapping[str, Any]]
) -> list[tuple[int, int]]:
    """``(period number, share)`` for every closed period in ``periods`` the member
    shared, in order."""
    charges = []
    for number in sorted(periods):
        share = member_share(member, periods[number])
        if index_at_close(member, periods[number]) is not None:
            charges.append((number, share))
    return charges


def outstanding(member: Mapping[str, Any], periods: Mapping[int, Mapping[str, Any]]) -> int:
    """Billed minus paid: what the member still owes over the given closed periods.

    ``periods`` must hold every closed period from the member's joining period on.
    """
    billed = sum(share for _, share in charged_periods(member, periods))
    return billed - int(member["paid"])
