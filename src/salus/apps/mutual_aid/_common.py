"""Helpers the ``mutual_aid`` contract's actions share: loading records, refusing clearly,
moving a claim through its transition table."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from salus.apps.mutual_aid.claims import transition
from salus.apps.mutual_aid.records import (
    books_key,
    claim_key,
    member_key,
    period_key,
    plan_key,
    queue_key,
)
from salus.apps.mutual_aid.rules import check_plan_id, format_money, format_time
from salus.apps.mutual_aid.sharing import outstanding
from salus.core.contract import ActionArgs, Context
from salus.core.genesis import check_did, check_org_id
from salus.errors import ContractError

__all__ = [
    "PlanRef",
    "active_member",
    "check_subject",
    "enqueue",
    "load_books",
    "load_claim",
    "load_plan",
    "money",
    "move_claim",
    "owed",
    "require_operator",
    "when",
]


class PlanRef(ActionArgs):
    plan: str

    _plan = field_validator("plan")(check_plan_id)


def check_subject(value: str) -> str:
    """A governor or sponsor: an organisation id or an individual's did:key."""
    if value.startswith("did:"):
        return check_did(value)
    return check_org_id(value)


def load_plan(ctx: Context, plan: str) -> dict[str, Any]:
    record = ctx.state.get(plan_key(plan))
    if record is None:
        ctx.fail(f"there is no plan {plan!r}")
    return dict(record)


def load_books(ctx: Context, plan: str) -> dict[str, Any]:
    return dict(ctx.state.get(books_key(plan)))


def require_operator(ctx: Context, plan: str, record: dict[str, Any]) -> None:
    if ctx.org is None or ctx.org != record["operator"]:
        who = ctx.org or ctx.signer_did
        ctx.fail(f"only the operator of plan {plan!r} ({record['operator']}) may; {who} is not")


def active_member(ctx: Context, plan: str, did: str, *, who: str = "signer") -> dict[str, Any]:
    member = ctx.state.get(member_key(plan, did))
    if member is None:
        ctx.fail(f"{who} {did} is not a member of plan {plan!r}")
    if member["status"] != "active":
        ctx.fail(f"{who} {did} left plan {plan!r} at {format_time(member['left_ms'])}")
    return dict(member)


def load_claim(ctx: Context, plan: str, number: int) -> dict[str, Any]:
    claim = ctx.state.get(claim_key(plan, number))
    if claim is None:
        ctx.fail(f"plan {plan!r} has no claim {number}")
    return dict(claim)


def money(record: dict[str, Any], amount: int) -> str:
    return format_money(amount, record["currency"], record["minor_units"])


def when(time_ms: int) -> str:
    return format_time(time_ms)


def owed(
    ctx: Context,
    plan: str,
    member: dict[str, Any],
    books: dict[str, Any],
    cache: dict[int, dict[str, Any]] | None = None,
) -> int:
    """What ``member`` still owes for closed periods (billed minus paid)."""
    cache = {} if cache is None else cache
    periods = {}
    for number in range(int(member["joined_period"]), int(books["period"])):
        if number not in cache:
            cache[number] = ctx.state.get(period_key(plan, number))
        periods[number] = cache[number]
    return outstanding(member, periods)


def move_claim(
    ctx: Context, plan: str, claim: dict[str, Any], action: str, target: str, reason: str
) -> None:
    """Move ``claim`` to ``target`` if the transition table allows it; record who and why."""
    try:
        transition(claim["status"], action, target)
    except ContractError as exc:
        ctx.fail(f"claim {claim['number']}: {exc.reason}")
    claim["status"] = target
    claim["history"].append(
        {
            "status": target,
            "action": action,
            "by": ctx.signer_did,
            "reason": reason,
            "time_ms": ctx.time_ms,
            "height": ctx.height,
        }
    )
    ctx.state.put(claim_key(plan, claim["number"]), claim)
    ctx.emit(
        f"claim_{target}",
        subject=f"{plan}/claim/{claim['number']}",
        plan=plan,
        claim=claim["number"],
        action=action,
        reason=reason,
    )


def enqueue(ctx: Context, plan: str, claim: dict[str, Any]) -> None:
    """Put an approved claim in the queue the next period close includes."""
    queue = ctx.state.get(queue_key(plan))
    queue.append(claim["number"])
    ctx.state.put(queue_key(plan), queue)
