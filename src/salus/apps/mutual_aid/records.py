"""State keys of the ``mutual_aid`` contract and read helpers over its records.

The helpers take anything with ``get(key)`` (:class:`PlanRecords`): a contract's
``ctx.state``, a dict of values taken from proof bundles, or an adapter over
``Ledger.read("mutual_aid", key)`` / ``Node.read_state``. The state layout itself is
documented in :mod:`salus.apps.mutual_aid.contract`.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

from salus.apps.mutual_aid.sharing import charged_periods, outstanding

__all__ = [
    "ASSESSOR",
    "MUTUAL_AID",
    "OPERATOR",
    "PlanRecords",
    "books_key",
    "claim_index_key",
    "claim_key",
    "closed_periods",
    "member_balance",
    "member_key",
    "period_key",
    "plan_key",
    "proposal_key",
    "queue_key",
    "slot_key",
]

MUTUAL_AID: Final = "mutual_aid"
# Consortium roles, granted by identity governance (a grant_role proposal).
OPERATOR: Final = "mutual_aid_operator"  # may create plans; its organisation runs them
ASSESSOR: Final = "assessor"  # accredited claim assessor


class PlanRecords(Protocol):
    def get(self, key: str, /) -> Any: ...


def plan_key(plan: str) -> str:
    return f"plan/{plan}"


def books_key(plan: str) -> str:
    return f"books/{plan}"


def queue_key(plan: str) -> str:
    return f"queue/{plan}"


def slot_key(plan: str, index: int) -> str:
    return f"slot/{plan}/{index}"


def member_key(plan: str, did: str) -> str:
    return f"member/{plan}/{did}"


def claim_key(plan: str, number: int) -> str:
    return f"claim/{plan}/{number}"


def claim_index_key(plan: str, did: str, condition: str) -> str:
    return f"claim_of/{plan}/{did}/{condition}"


def period_key(plan: str, number: int) -> str:
    return f"period/{plan}/{number}"


def proposal_key(plan: str, number: int) -> str:
    return f"proposal/{plan}/{number}"


def closed_periods(
    records: PlanRecords, plan: str, first: int, open_period: int
) -> dict[int, dict[str, Any]]:
    """Closed period records ``first .. open_period - 1`` by number."""
    found: dict[int, dict[str, Any]] = {}
    for number in range(max(first, 1), open_period):
        record = records.get(period_key(plan, number))
        if record is None:
            raise LookupError(f"period {number} of plan {plan!r} is missing")
        found[number] = record
    return found


def member_balance(records: PlanRecords, plan: str, did: str) -> dict[str, Any]:
    """A member's account: each closed period's share, total billed, paid, owed."""
    member = records.get(member_key(plan, did))
    if member is None:
        raise LookupError(f"{did} is not a member of plan {plan!r}")
    books = records.get(books_key(plan))
    periods = closed_periods(records, plan, int(member["joined_period"]), int(books["period"]))
    charges = charged_periods(member, periods)
    return {
        "member": did,
        "charges": [{"period": number, "share": share} for number, share in charges],
        "billed": sum(share for _, share in charges),
        "paid": int(member["paid"]),
        "outstanding": outstanding(member, periods),
    }
