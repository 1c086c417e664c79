"""Public views of mutual-aid records: what the ``/v1/mutual-aid`` routes and pages show.

Rules this module obeys:
- Pure: each function turns ledger records (as the contract wrote them) into JSON.
- Anonymised where the issue asks for it: the public notice board and claim lists never
  name the claimant or an objector (not even by did:key) and never show evidence hashes
  or the diagnosis date; a claim's detail names the claimant and objectors by role
  ("claimant", "objector 2") and the accountable parties (assessors, the operator,
  jurors) by did:key, as they act for the plan.
- Money stays integer minor units; each view also carries the plan's ``currency`` and
  ``minor_units`` so a page formats it without guessing.
"""

from __future__ import annotations

from typing import Any, Final

from salus.apps.mutual_aid.claims import CLAIM_TRANSITIONS, FINAL_STATES

__all__ = [
    "ACTION_ROLES",
    "claim_detail",
    "claim_summary",
    "jury_view",
    "period_summary",
    "plan_view",
    "proposal_view",
    "series_view",
]

# Who moves a claim by each action, from the transition table (the first listed wins).
ACTION_ROLES: Final[dict[str, str]] = {}
for _move in CLAIM_TRANSITIONS:
    ACTION_ROLES.setdefault(_move.action, _move.by)
ACTION_ROLES.setdefault("close_period", "operator")


def _money_fields(record: dict[str, Any]) -> dict[str, Any]:
    return {"currency": record["currency"], "minor_units": record["minor_units"]}


def _conditions(plan: dict[str, Any], proposals: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every version of every covered code, with the proposals that added and ended it."""
    removed_by: dict[tuple[str, str], int] = {}
    for number, proposal in proposals.items():
        if proposal["kind"] == "remove_condition" and proposal["status"] == "executed":
            params = proposal["params"]
            removed_by[(params["code"], params["effective_from"])] = number
    rows = []
    for code in sorted(plan["conditions"]):
        for version in plan["conditions"][code]:
            until = version["effective_until"]
            rows.append(
                {
                    "code": code,
                    "name": version["name"],
                    "max_payout": version["max_payout"],
                    "funding": version["funding"],
                    "effective_from": version["effective_from"],
                    "effective_until": until,
                    "in_force": until is None,
                    "added_by": version["added_by"] or None,
                    "removed_by": removed_by.get((code, until)) if until else None,
                }
            )
    return rows


def proposal_view(proposal: dict[str, Any]) -> dict[str, Any]:
    return {
        "proposal": proposal["number"],
        "kind": proposal["kind"],
        "params": proposal["params"],
        "note": proposal["note"],
        "proposer": proposal["proposer"],
        "approvals": proposal["approvals"],
        "status": proposal["status"],
        "reason": proposal["reason"],
        "created_ms": proposal["created_ms"],
        "expires_ms": proposal["expires_ms"],
        "executed_ms": proposal["executed_ms"],
    }


def plan_view(
    plan_id: str,
    plan: dict[str, Any],
    books: dict[str, Any],
    queue: list[int],
    proposals: dict[int, dict[str, Any]],
) -> dict[str, Any]:
    """A plan: its rules, covered conditions, rule-change history, members and pools."""
    pool, sponsor = books["pool"], books["sponsor"]
    changes = []
    for change in plan["changes"]:
        proposal = proposals.get(change["proposal"])
        changes.append(
            {**change, "proposal_record": None if proposal is None else proposal_view(proposal)}
        )
    return {
        "plan": plan_id,
        "name": plan["name"],
        **_money_fields(plan),
        "operator": plan["operator"],
        "attestor": plan["attestor"],
        "governors": plan["governors"],
        "approvals_required": plan["approvals_required"],
        "created_ms": plan["created_ms"],
        "created_height": plan["created_height"],
        "rules": plan["rules"],
        "conditions": _conditions(plan, proposals),
        "changes": changes,
        "members": {
            "active": books["members"],
            "enrolled": books["enrolled"],
            "left_this_period": books["leavers"],
        },
        "open_period": {
            "period": books["period"],
            "start_ms": books["period_start_ms"],
            "end_ms": books["period_end_ms"],
            "carry_in": books["carry"],
            "approved_claims_waiting": len(queue),
        },
        "closed_periods": books["period"] - 1,
        "claims": books["next_claim"] - 1,
        "proposals": books["next_proposal"] - 1,
        "pools": {
            "members": {
                **pool,
                "balance": pool["received"] - pool["paid_out"] - pool["fees_taken"],
            },
            "sponsor": {**sponsor, "balance": sponsor["deposited"] - sponsor["paid_out"]},
        },
    }


def _condition_name(plan: dict[str, Any], claim: dict[str, Any]) -> str | None:
    versions = plan["conditions"].get(claim["condition"]) or []
    return str(versions[-1]["name"]) if versions else None


def _decided_ms(claim: dict[str, Any]) -> int | None:
    for entry in reversed(claim["history"]):
        if entry["status"] in ("approved", "rejected", "withdrawn"):
            return int(entry["time_ms"])
    return None


def claim_summary(plan: dict[str, Any], claim: dict[str, Any]) -> dict[str, Any]:
    """A claim as the public lists show it: no claimant, no evidence, no diagnosis date."""
    jury = claim["jury"]
    return {
        "claim": claim["number"],
        "code": claim["code"],
        "condition": claim["condition"],
        "condition_name": _condition_name(plan, claim),
        "amount": claim["amount"],
        "payout_amount": claim["payout_amount"],
        "funding": claim["funding"],
        **_money_fields(plan),
        "status": claim["status"],
        "final": claim["status"] in FINAL_STATES,
        "submitted_ms": claim["submitted_ms"],
        "deadlines": claim["deadlines"],
        "objections": len(claim["objections"]),
        "jury_round": None if jury is None else jury["round"],
        "decided_ms": _decided_ms(claim),
        "decision": _decision(claim),
        "period": claim["period"],
        "paid_ms": None if claim["payout"] is None else claim["payout"]["time_ms"],
    }


def _decision(claim: dict[str, Any]) -> str | None:
    """How the claim was decided, in words, once it was."""
    for entry in reversed(claim["history"]):
        if entry["status"] in ("approved", "rejected", "withdrawn"):
            return f"{entry['status']}: {entry['reason']}"
    return None


def _roles(claim: dict[str, Any]) -> dict[str, str]:
    """did:key → role label for the parties a public view names by role only."""
    roles = {claim["claimant"]: "claimant"}
    for index, objection in enumerate(claim["objections"], start=1):
        roles.setdefault(objection["by"], f"objector {index}")
    return roles


def _party(roles: dict[str, str], who: str) -> dict[str, Any]:
    if who in roles:
        return {"by": None, "role": roles[who]}
    return {"by": who, "role": None}


def jury_view(claim: dict[str, Any], quorum: int) -> dict[str, Any]:
    """The panels of a claim: jurors, votes with reasons, tallies, outcome, seed."""
    roles = _roles(claim)

    def panel(jury: dict[str, Any], outcome: str) -> dict[str, Any]:
        votes = [
            {"juror": juror, **jury["votes"][juror]}
            for juror in jury["jurors"]
            if juror in jury["votes"]
        ]
        return {
            "round": jury["round"],
            "jurors": jury["jurors"],
            "votes": votes,
            "approve": sum(v["vote"] == "approve" for v in votes),
            "reject": sum(v["vote"] == "reject" for v in votes),
            "not_voted": [j for j in jury["jurors"] if j not in jury["votes"]],
            "quorum": min(quorum, len(jury["jurors"])),
            "drawn_ms": jury["drawn_ms"],
            "deadline": jury["deadline"],
            "seed": jury["seed"],
            "seed_source": jury["source"],
            "dropped": [roles.get(p, p) for p in jury["dropped"]],
            "outcome": outcome,
        }

    current = claim["jury"]
    if current is None:
        outcome = "not drawn"
    elif claim["status"] == "jury_review":
        outcome = "voting"
    else:
        outcome = "approved" if claim["status"] in ("approved", "included", "paid") else "rejected"
    seed_shares = [
        {
            "party": roles.get(share["party"], share["party"]),
            "role": share["role"],
            "committed": True,
            "revealed": share["secret"] is not None,
        }
        for share in claim["seed"]
    ]
    return {
        "claim": claim["number"],
        "status": claim["status"],
        "reveal_deadline": claim["deadlines"].get("reveal"),
        "seed_shares": seed_shares,
        "panel": None if current is None else panel(current, outcome),
        "earlier_panels": [panel(p, "no quorum: redrawn") for p in claim["panels"]],
    }


def claim_detail(plan: dict[str, Any], claim: dict[str, Any]) -> dict[str, Any]:
    """A claim with its whole path: every transition with who and why, findings,
    objections with their reasons, the panels and the payout."""
    roles = _roles(claim)
    history = []
    for entry in claim["history"]:
        actor = _party(roles, entry["by"])
        history.append(
            {
                "status": entry["status"],
                "action": entry["action"],
                "by": actor["by"],
                "role": actor["role"] or ACTION_ROLES.get(entry["action"], "anyone"),
                "reason": entry["reason"],
                "time_ms": entry["time_ms"],
                "height": entry["height"],
            }
        )
    findings = claim["findings"]
    return {
        **claim_summary(plan, claim),
        "diagnosed_on": claim["diagnosed_on"],
        "max_payout": claim["max_payout"],
        "evidence_documents": len(claim["evidence"]),
        "assessor": claim["assessor"],
        "findings": None
        if findings is None
        else {
            "assessor": findings["assessor"],
            "report": findings["report"],
            "supported": findings["supported"],
            "reason": findings["reason"],
            "time_ms": findings["time_ms"],
            "late": findings["late"],
        },
        "objection_list": [
            {"objector": f"objector {i}", "reason": o["reason"], "time_ms": o["time_ms"]}
            for i, o in enumerate(claim["objections"], start=1)
        ],
        "jury": jury_view(claim, int(plan["rules"]["jury_quorum"])),
        "approved_ms": claim["approved_ms"],
        "payout": claim["payout"],
        "history": history,
    }


def period_summary(period: dict[str, Any]) -> dict[str, Any]:
    """A closed period: its claims, totals, and the split with its rounding rule."""
    members, base, remainder = period["members"], period["base"], period["remainder"]
    return {
        "period": period["number"],
        "start_ms": period["start_ms"],
        "end_ms": period["end_ms"],
        "closed_ms": period["closed_ms"],
        "closed_height": period["closed_height"],
        "closed_by": period["closed_by"],
        **_money_fields(period),
        "claims": [{"claim": n, "amount": a} for n, a in period["member_claims"]],
        "sponsor_claims": [{"claim": n, "amount": a} for n, a in period["sponsor_claims"]],
        "payouts": period["payouts"],
        "sponsor_payouts": period["sponsor_payouts"],
        "fee_bps": period["fee_bps"],
        "fee": period["fee"],
        "carry_in": period["carry_in"],
        "due": period["due"],
        "cap": period["cap"],
        "charged": period["charged"],
        "carry_out": period["carry_out"],
        "members": members,
        "active": period["active"],
        "leavers": period["leavers"],
        "base": base,
        "remainder": remainder,
        "share_high": base + 1 if remainder else base,
        "share_low": base,
        "remainder_rule": (
            f"the {remainder} members with index below {remainder} pay {base + 1} minor "
            f"units, the other {members - remainder} pay {base}"
            if remainder
            else f"all {members} members pay {base} minor units"
        ),
        "shares_sum": base * members + remainder,
        "shares_sum_equals_charged": base * members + remainder == period["charged"],
    }


def series_view(periods: list[dict[str, Any]]) -> dict[str, Any]:
    """Columns for a chart of closed periods, oldest first."""
    return {
        "period": [p["number"] for p in periods],
        "closed_ms": [p["closed_ms"] for p in periods],
        "end_ms": [p["end_ms"] for p in periods],
        "share_low": [p["base"] for p in periods],
        "share_high": [p["base"] + (1 if p["remainder"] else 0) for p in periods],
        "members": [p["members"] for p in periods],
        "payouts": [p["payouts"] for p in periods],
        "sponsor_payouts": [p["sponsor_payouts"] for p in periods],
        "fee": [p["fee"] for p in periods],
        "charged": [p["charged"] for p in periods],
        "carry_out": [p["carry_out"] for p in periods],
        "claims": [len(p["member_claims"]) + len(p["sponsor_claims"]) for p in periods],
    }
