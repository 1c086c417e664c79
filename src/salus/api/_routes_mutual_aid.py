"""Routes of the ``mutual_aid`` app: plans, claims, juries, periods, statements, the diagram.

Reads and the commit lock. A block is committed to memory under ``node.commit_lock``;
a read that holds the lock sees one block. Single records (a plan, a claim, a member,
a period) are read under the lock and reflect exactly the block named in ``as_of``
(height and block time). Lists (plans, proposals, claims, the notice board) never hold
the lock for a whole scan, which would stall block production: they read
:data:`CHUNK` records per hold and let the node commit between chunks. For a list,
``as_of`` is the block at which the read began; each entry is a committed record of
that block or a later one (never older, never half-written), so an entry may show a
status reached a block or two later than ``as_of``. Every list is bounded and paged:
``limit`` entries and a cursor (``next``) to go on.

Lists of claims walk claim numbers newest first and look at no more than
:data:`MAX_SCAN` claims per request, so a filtered list of a plan with a million claims
costs the same as an unfiltered one; ``next`` is the cursor (``before``) to go on.
Plans are listed by id (``after``), proposals newest first (``before``). The views are
in :mod:`salus.api._aid_views` (what is shown, and what is anonymised); shapes are
documented with examples in docs/mutual-aid-pages.md.

A member's statement package (``.../statement/{period}/package``) is the CBOR file of
:mod:`salus.apps.mutual_aid.statement`, with state proofs of this node's latest block;
``POST /v1/mutual-aid/statements/verify`` runs the same offline check as
``salus aid verify`` against this network's genesis, for pages that cannot.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from salus.api._aid_diagram import claim_diagram_svg
from salus.api._aid_views import (
    claim_detail,
    claim_summary,
    jury_view,
    period_summary,
    plan_view,
    proposal_view,
    series_view,
)
from salus.api._errors import ERROR_RESPONSES, ApiError
from salus.api._explorer import _WithSecurityHeaders
from salus.api._inputs import INT_MAX, bytes_body, bytes_body_schema
from salus.apps.mutual_aid.claims import CLAIM_ACTIVITIES, CLAIM_STATES, CLAIM_TRANSITIONS
from salus.apps.mutual_aid.diagram import render_claim_diagram
from salus.apps.mutual_aid.records import (
    MUTUAL_AID,
    books_key,
    claim_key,
    member_balance,
    member_key,
    period_key,
    plan_key,
    proposal_key,
    queue_key,
)
from salus.apps.mutual_aid.rules import check_plan_id, format_money
from salus.apps.mutual_aid.statement import (
    STATEMENT_STEPS,
    build_statement,
    compute_statement,
    verify_statement,
)
from salus.core.genesis import check_did
from salus.errors import NotFound
from salus.node.node import Node
from salus.web import STATIC_DIR

__all__ = ["AID_DIR", "CHUNK", "MAX_SCAN", "mount_aid_pages", "mutual_aid_router"]

AID_DIR: Final = STATIC_DIR.parent / "aid"

MAX_SCAN: Final = 2000  # claims looked at per list request
MAX_PERIODS: Final = 500  # periods per page
BOARD_OUTCOMES: Final = 20  # recent decisions on the notice board
CHUNK: Final = 64  # records read per hold of the commit lock in a list
MAX_PLANS: Final = 200  # plans per page
MAX_PROPOSALS: Final = 200  # proposals per page

ClaimStatus = Literal[
    "submitted",
    "investigation",
    "public_notice",
    "jury_review",
    "approved",
    "rejected",
    "withdrawn",
    "included",
    "paid",
]
PlanId = Annotated[str, Path(max_length=64, description="plan id, e.g. xhb-2026")]
Did = Annotated[str, Path(max_length=200, description="a member's did:key")]
Number = Annotated[int, Path(ge=1, le=INT_MAX)]


class _View:
    """Reads of one plan: single records under the node's commit lock (the caller holds
    it), lists in chunks (:meth:`get_many`, called without it)."""

    def __init__(self, node: Node) -> None:
        self.node = node

    def get(self, key: str) -> Any:
        return self.node.ledger.read(MUTUAL_AID, key)

    def get_many(self, keys: Sequence[str]) -> list[Any]:
        """Values of ``keys``, read :data:`CHUNK` at a time, each chunk under the commit
        lock (one block per chunk; the node commits between chunks)."""
        values: list[Any] = []
        for start in range(0, len(keys), CHUNK):
            with self.node.commit_lock:
                values.extend(self.get(key) for key in keys[start : start + CHUNK])
        return values

    def as_of(self) -> dict[str, int]:
        return {"height": self.node.ledger.height, "time_ms": self.node.ledger.last_time_ms}

    def plan(self, plan: str) -> dict[str, Any]:
        try:
            check_plan_id(plan)
        except ValueError as exc:
            raise ApiError(400, f"path parameter 'plan': {exc}") from None
        record = self.get(plan_key(plan))
        if record is None:
            raise NotFound(
                f"there is no mutual-aid plan {plan!r} (at height {self.as_of()['height']})"
            )
        return dict(record)

    def books(self, plan: str) -> dict[str, Any]:
        return dict(self.get(books_key(plan)))

    def claim(self, plan: str, number: int) -> dict[str, Any]:
        claim = self.get(claim_key(plan, number))
        if claim is None:
            raise NotFound(f"plan {plan!r} has no claim {number}")
        return dict(claim)

    def proposals(self, plan: str, numbers: Sequence[int]) -> dict[int, dict[str, Any]]:
        """Proposals ``numbers`` that exist, read in chunks (call without the lock)."""
        values = self.get_many([proposal_key(plan, n) for n in numbers])
        return {n: dict(v) for n, v in zip(numbers, values, strict=True) if v is not None}

    def member(self, plan: str, did: str) -> dict[str, Any]:
        member = self.get(member_key(plan, did))
        if member is None:
            raise NotFound(f"{did} is not a member of plan {plan!r}")
        return dict(member)

    def period(self, plan: str, number: int, books: dict[str, Any]) -> dict[str, Any]:
        record = self.get(period_key(plan, number))
        if record is None:
            if number >= int(books["period"]):
                raise NotFound(
                    f"period {number} of plan {plan!r} is not closed (the open period is "
                    f"{books['period']})"
                )
            raise NotFound(f"period {number} of plan {plan!r} is missing")
        return dict(record)

    def claims(
        self,
        plan: str,
        books: dict[str, Any],
        *,
        before: int | None,
        statuses: set[str] | None,
        limit: int = MAX_SCAN,
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Up to ``limit`` claims newest first below ``before``, at most :data:`MAX_SCAN`
        looked at, read in chunks (call without the lock); the cursor to continue from
        (``None`` when the first claim was reached)."""
        newest = int(books["next_claim"]) - 1
        top = newest if before is None else min(before - 1, newest)
        bottom = max(top - MAX_SCAN, 0)  # exclusive
        found: list[dict[str, Any]] = []
        number = top  # the next claim to look at
        while number > bottom and len(found) < limit:
            chunk = list(range(number, max(number - CHUNK, bottom), -1))
            values = self.get_many([claim_key(plan, n) for n in chunk])
            for n, claim in zip(chunk, values, strict=True):
                number = n - 1
                if claim is not None and (statuses is None or claim["status"] in statuses):
                    found.append(dict(claim))
                    if len(found) == limit:
                        break
        return found, (number + 1 if number >= 1 else None)


def _did(value: str) -> str:
    try:
        return check_did(value)
    except ValueError as exc:
        raise ApiError(400, f"path parameter 'did': {exc}") from None


def mutual_aid_router(node: Node) -> APIRouter:
    router = APIRouter(prefix="/v1/mutual-aid", tags=["mutual aid"], responses=ERROR_RESPONSES)
    view = _View(node)

    @contextmanager
    def block() -> Iterator[_View]:
        with node.commit_lock:
            yield view

    @router.get("/plans", summary="Mutual-aid plans on this ledger, by id")
    def plans(
        after: Annotated[
            str | None, Query(max_length=64, description="cursor: the last plan id seen")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PLANS)] = 100,
    ) -> dict[str, Any]:
        """Each plan's id, name, currency, operator, active members and open period, in
        order of id; ``next`` continues (as ``after``) while there are more."""
        prefix = f"{MUTUAL_AID}/plan/".encode("ascii")
        as_of = _as_of(node)
        start = None if after is None else prefix + after.encode("utf-8")
        keys = node.store.state_keys(prefix, after=start, limit=limit + 1)
        more = len(keys) > limit
        ids = [raw[len(prefix) :].decode("ascii") for raw in keys[:limit]]
        values = view.get_many([k for plan in ids for k in (plan_key(plan), books_key(plan))])
        found = []
        for position, plan in enumerate(ids):
            record, books = values[2 * position], values[2 * position + 1]
            if record is None or books is None:  # in the store, not yet in memory
                continue
            found.append(
                {
                    "plan": plan,
                    "name": record["name"],
                    "currency": record["currency"],
                    "minor_units": record["minor_units"],
                    "operator": record["operator"],
                    "members": books["members"],
                    "open_period": books["period"],
                    "claims": books["next_claim"] - 1,
                }
            )
        return {"plans": found, "next": ids[-1] if more else None, "as_of": as_of}

    @router.get("/plans/{plan}", summary="A plan: rules, covered conditions, rule changes, pools")
    def plan(plan: PlanId) -> dict[str, Any]:
        """The rules in force, every version of every covered condition with its effective
        dates and the proposals that added or removed it, the history of rule changes with
        their proposals, member counts, the open period and the two pools."""
        with block() as v:
            record = v.plan(plan)
            books = v.books(plan)
            queue = v.get(queue_key(plan))
            as_of = v.as_of()
        # Only the proposals the plan's rule changes name (executed ones), read in chunks.
        numbers = sorted({int(change["proposal"]) for change in record["changes"]})
        proposals = view.proposals(plan, numbers)
        return {**plan_view(plan, record, books, queue, proposals), "as_of": as_of}

    @router.get("/plans/{plan}/proposals", summary="Rule-change proposals of a plan")
    def proposals(
        plan: PlanId,
        before: Annotated[int | None, Query(ge=1, le=INT_MAX, description="cursor")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PROPOSALS)] = 50,
    ) -> dict[str, Any]:
        """Proposals newest first: kind, params, note, proposer, approvals, status;
        ``next`` continues (as ``before``) while there are older ones."""
        with block() as v:
            v.plan(plan)
            newest = int(v.books(plan)["next_proposal"]) - 1
            as_of = v.as_of()
        top = newest if before is None else min(before - 1, newest)
        numbers = list(range(top, max(top - limit, 0), -1))
        found = view.proposals(plan, numbers)
        oldest = numbers[-1] if numbers else 1
        return {
            "proposals": [proposal_view(found[n]) for n in numbers if n in found],
            "next": oldest if oldest > 1 else None,
            "as_of": as_of,
        }

    @router.get("/plans/{plan}/proposals/{number}", summary="One rule-change proposal")
    def proposal(plan: PlanId, number: Number) -> dict[str, Any]:
        """Its kind, params, note, proposer, approvals and status (open, executed, failed,
        cancelled, with the reason a failed one did not apply)."""
        with block() as v:
            v.plan(plan)
            found = v.get(proposal_key(plan, number))
            if found is None:
                raise NotFound(f"plan {plan!r} has no proposal {number}")
            return {**proposal_view(found), "as_of": v.as_of()}

    @router.get("/plans/{plan}/members", summary="How many members a plan has")
    def members(plan: PlanId) -> dict[str, Any]:
        """Counts only: the ledger knows members by pseudonymous did:key, and this API does
        not list them."""
        with block() as v:
            v.plan(plan)
            books = v.books(plan)
            return {
                "active": books["members"],
                "enrolled": books["enrolled"],
                "left": books["enrolled"] - books["members"],
                "left_this_period": books["leavers"],
                "as_of": v.as_of(),
            }

    @router.get("/plans/{plan}/members/{did}", summary="A member's record and balance")
    def member(plan: PlanId, did: Did) -> dict[str, Any]:
        """Status, band, joining and waiting period, index history, claims, and the balance:
        each closed period's share, billed, paid and outstanding."""
        did = _did(did)
        with block() as v:
            record = v.plan(plan)
            member = v.member(plan, did)
            balance = member_balance(v, plan, did)
            return {
                "plan": plan,
                "member": did,
                **{k: member[k] for k in (
                    "status", "band", "attestation", "via", "joined_ms", "joined_period",
                    "eligible_from_ms", "slots", "left_ms", "left_period", "paid", "claims",
                )},
                "currency": record["currency"],
                "minor_units": record["minor_units"],
                "balance": balance,
                "as_of": v.as_of(),
            }  # fmt: skip

    def statement_json(v: _View, plan: str, did: str, number: int) -> dict[str, Any]:
        period = v.period(plan, number, v.books(plan))
        record = v.member(plan, did)
        try:
            statement = compute_statement(plan=plan, member=did, period=period, record=record)
        except ValueError as exc:  # the node's own records do not add up: never input
            raise ApiError(500, f"period {number} of plan {plan!r}: {exc}") from None
        plan_record = v.plan(plan)
        claims = []
        for claim_number, amount in [*statement.claims, *statement.sponsor_claims]:
            claim = v.get(claim_key(plan, claim_number))
            claims.append(
                {
                    "claim": claim_number,
                    "amount": amount,
                    "condition": None if claim is None else claim["condition"],
                    "condition_name": None if claim is None else _name(plan_record, claim),
                    "funding": "sponsor"
                    if (claim_number, amount) in statement.sponsor_claims
                    else "members",
                }
            )
        return {
            **statement.to_json(),
            "lines": claims,
            "explain": statement.explain(),
            "owes": format_money(statement.share, statement.currency, statement.minor_units),
            "package": f"/v1/mutual-aid/plans/{plan}/members/{did}/statement/{number}/package",
        }

    @router.get(
        "/plans/{plan}/members/{did}/statement", summary="A member's statement, all periods"
    )
    def statement_all(
        plan: PlanId,
        did: Did,
        offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PERIODS)] = 50,
    ) -> dict[str, Any]:
        """One statement per closed period since the member joined, newest first: the
        period's claims and amounts, fee, carry, the split, and the member's share; with
        billed, paid and outstanding over all of them."""
        did = _did(did)
        with block() as v:
            v.plan(plan)
            member = v.member(plan, did)
            books = v.books(plan)
            first, last = int(member["joined_period"]), int(books["period"]) - 1
            numbers = list(range(last, first - 1, -1))[offset : offset + limit]
            return {
                "plan": plan,
                "member": did,
                "statements": [statement_json(v, plan, did, n) for n in numbers],
                "periods": max(0, last - first + 1),
                "offset": offset,
                "balance": member_balance(v, plan, did),
                "as_of": v.as_of(),
            }

    @router.get(
        "/plans/{plan}/members/{did}/statement/{period}",
        summary="A member's statement for one closed period",
    )
    def statement_one(plan: PlanId, did: Did, period: Number) -> dict[str, Any]:
        """The period's claims as lines (condition, amount, pool), the split, the member's
        index and share, the arithmetic in words, and the URL of its statement package."""
        did = _did(did)
        with block() as v:
            v.plan(plan)
            return {**statement_json(v, plan, did, period), "as_of": v.as_of()}

    @router.get(
        "/plans/{plan}/members/{did}/statement/{period}/package",
        summary="A member's statement package: CBOR with two state proofs, checked offline",
        response_class=Response,
        responses={200: {"content": {"application/cbor": {}}}},
    )
    def statement_package(plan: PlanId, did: Did, period: Number) -> Response:
        """The file ``salus aid verify`` (or ``POST /v1/mutual-aid/statements/verify``)
        checks with only the genesis: proofs of the period record and the member record."""
        did = _did(did)
        with block() as v:
            v.plan(plan)
            v.member(plan, did)
            v.period(plan, period, v.books(plan))
        package = build_statement(node, plan=plan, member=did, period=period)
        name = f"statement-{plan}-period-{period}.salus-statement"
        return Response(
            package,
            media_type="application/cbor",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @router.post(
        "/statements/verify",
        summary="Check a statement package against this network's genesis",
        openapi_extra=bytes_body_schema("package", "a statement package (CBOR)"),
    )
    def verify(package: Annotated[bytes, Depends(bytes_body("package"))]) -> dict[str, Any]:
        """The offline check, run here: decode → proofs → period → share. ``steps`` says
        which passed, which failed (with the reason) and which were not reached; the
        statement's arithmetic is explained in ``explain``."""
        verdict = verify_statement(package, node.genesis)
        failed = None if verdict.valid else verdict.step
        steps = []
        reached = True
        for step in STATEMENT_STEPS:
            if step == failed:
                steps.append({"step": step, "result": "failed", "reason": verdict.reason})
                reached = False
            else:
                steps.append({"step": step, "result": "passed" if reached else "not reached"})
        body = {**verdict.to_json(), "steps": steps}
        if verdict.statement is not None:
            body["explain"] = verdict.statement.explain()
        return body

    @router.get("/plans/{plan}/claims", summary="Claims, anonymised, newest first")
    def claims(
        plan: PlanId,
        status: Annotated[
            list[ClaimStatus] | None, Query(description="only these statuses")
        ] = None,
        before: Annotated[int | None, Query(ge=1, le=INT_MAX, description="cursor")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """Claim number, condition code, amounts, status and deadlines: never the claimant,
        the evidence or the diagnosis date. At most 2,000 claims are looked at per request;
        ``next`` continues (as ``before``) while there are older claims."""
        with block() as v:
            record = v.plan(plan)
            books = v.books(plan)
            as_of = v.as_of()
        found, cursor = view.claims(
            plan, books, before=before, statuses=set(status) if status else None, limit=limit
        )
        return {
            "claims": [claim_summary(record, c) for c in found],
            "next": cursor,
            "as_of": as_of,
        }

    @router.get("/plans/{plan}/claims/{number}", summary="One claim with its full history")
    def claim(plan: PlanId, number: Number) -> dict[str, Any]:
        """Every transition with who (by role, and by did:key for assessors, the operator
        and jurors) and why; the findings, objections with reasons, panels and payout."""
        with block() as v:
            record = v.plan(plan)
            return {**claim_detail(record, v.claim(plan, number)), "as_of": v.as_of()}

    @router.get("/plans/{plan}/claims/{number}/jury", summary="A claim's jury")
    def jury(plan: PlanId, number: Number) -> dict[str, Any]:
        """The seed shares (committed, revealed), the drawn jurors, their votes with reasons,
        the tally against the quorum, the outcome, and any earlier panels."""
        with block() as v:
            record = v.plan(plan)
            quorum = int(record["rules"]["jury_quorum"])
            return {**jury_view(v.claim(plan, number), quorum), "as_of": v.as_of()}

    @router.get("/plans/{plan}/notice-board", summary="The public notice board")
    def notice_board(plan: PlanId) -> dict[str, Any]:
        """Claims in public notice with their deadlines and objections (reasons only),
        claims before a jury, and the latest decisions, among the newest 2,000 claims."""
        with block() as v:
            record = v.plan(plan)
            books = v.books(plan)
            as_of = v.as_of()
        found, _ = view.claims(plan, books, before=None, statuses=None)

        def with_objections(claim: dict[str, Any]) -> dict[str, Any]:
            return {
                **claim_summary(record, claim),
                "objection_list": [
                    {
                        "objector": f"objector {i}",
                        "reason": o["reason"],
                        "time_ms": o["time_ms"],
                    }
                    for i, o in enumerate(claim["objections"], start=1)
                ],
                "notice_open": claim["status"] == "public_notice"
                and as_of["time_ms"] < claim["deadlines"].get("notice", 0),
            }

        notice = [with_objections(c) for c in found if c["status"] == "public_notice"]
        jury = [with_objections(c) for c in found if c["status"] == "jury_review"]
        decided = [
            c
            for c in found
            if c["status"] not in ("submitted", "investigation", "public_notice", "jury_review")
        ]
        decided.sort(key=lambda c: c["history"][-1]["time_ms"], reverse=True)
        return {
            "plan": plan,
            "in_notice": notice,
            "in_jury_review": jury,
            "in_investigation": sum(c["status"] in ("submitted", "investigation") for c in found),
            "outcomes": [with_objections(c) for c in decided[:BOARD_OUTCOMES]],
            "as_of": as_of,
        }

    @router.get("/plans/{plan}/periods/series", summary="Closed periods as chart columns")
    def series(plan: PlanId) -> dict[str, Any]:
        """Per closed period, oldest first: the per-member share (``share_low`` and, for the
        members who take a remainder unit, ``share_high``), members, payouts, fee, charge."""
        with block() as v:
            record = v.plan(plan)
            books = v.books(plan)
            last = int(books["period"]) - 1
            numbers = range(max(1, last - MAX_PERIODS + 1), last + 1)
            return {
                "plan": plan,
                "currency": record["currency"],
                "minor_units": record["minor_units"],
                **series_view([v.period(plan, n, books) for n in numbers]),
                "as_of": v.as_of(),
            }

    @router.get("/plans/{plan}/periods", summary="Closed sharing periods, newest first")
    def periods(
        plan: PlanId,
        offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PERIODS)] = 50,
    ) -> dict[str, Any]:
        """Each period's total payouts, fee, carry, members, base share and remainder rule."""
        with block() as v:
            v.plan(plan)
            books = v.books(plan)
            last = int(books["period"]) - 1
            numbers = list(range(last, 0, -1))[offset : offset + limit]
            return {
                "periods": [period_summary(v.period(plan, n, books)) for n in numbers],
                "closed": last,
                "open_period": {
                    "period": books["period"],
                    "start_ms": books["period_start_ms"],
                    "end_ms": books["period_end_ms"],
                },
                "offset": offset,
                "as_of": v.as_of(),
            }

    @router.get("/plans/{plan}/periods/{number}", summary="One closed sharing period")
    def period(plan: PlanId, number: Number) -> dict[str, Any]:
        """Its claims, payouts, fee, carry, charge, members, base share and remainder rule,
        and the check that the shares sum to the charge."""
        with block() as v:
            v.plan(plan)
            return {**period_summary(v.period(plan, number, v.books(plan))), "as_of": v.as_of()}

    @router.get("/claim-diagram", summary="The claim state machine: table and Mermaid text")
    def diagram() -> dict[str, Any]:
        """The transition table every claim moves through (action, from, to, by, when),
        the actions that leave a claim's status as it is, and the same diagram as Mermaid
        text; ``svg`` is the drawing the pages show."""
        return {
            "states": list(CLAIM_STATES),
            "transitions": [
                {"action": t.action, "from": t.source, "to": t.target, "by": t.by, "when": t.when}
                for t in CLAIM_TRANSITIONS
            ],
            "activities": [
                {"action": name, "in": sorted(statuses), "by": who, "what": what}
                for name, (statuses, who, what) in CLAIM_ACTIVITIES.items()
            ],
            "mermaid": render_claim_diagram(),
            "svg": "/v1/mutual-aid/claim-diagram.svg",
        }

    @router.get(
        "/claim-diagram.svg",
        summary="The claim state diagram as SVG",
        response_class=Response,
        responses={200: {"content": {"image/svg+xml": {}}}},
    )
    def diagram_svg() -> Response:
        """Drawn by the node from the transition table: no script, no external reference."""
        return Response(
            claim_diagram_svg(),
            media_type="image/svg+xml",
            headers={"cache-control": "public, max-age=3600"},
        )

    return router


def _as_of(node: Node) -> dict[str, int]:
    with node.commit_lock:
        return {"height": node.ledger.height, "time_ms": node.ledger.last_time_ms}


def _name(plan: dict[str, Any], claim: dict[str, Any]) -> str | None:
    versions = plan["conditions"].get(claim["condition"]) or []
    return str(versions[-1]["name"]) if versions else None


def mount_aid_pages(app: FastAPI, directory: pathlib.Path = AID_DIR) -> None:
    """Serve the mutual-aid pages at ``/aid/`` (the explorer's CSP: nothing from a CDN)."""

    @app.get("/aid", include_in_schema=False)
    def aid_slash() -> RedirectResponse:
        return RedirectResponse("/aid/", status_code=308)

    app.mount(
        "/aid",
        _WithSecurityHeaders(StaticFiles(directory=directory, html=True)),
        name="aid",
    )
