"""Rule changes of a plan: proposals approved by M of the plan's N governors.

The same procedure as the consortium's own governance (:mod:`salus.core.identity`),
scoped to one plan. A governor is an organisation (any of its keys speaks for it) or
an individual's did:key, listed in the plan record with ``approvals_required`` (M). A
governor proposes a change and approves it implicitly; when M governors have approved,
the change is applied in the same transaction. If it no longer applies (the condition
was removed meanwhile, say) the proposal is marked ``failed`` with the reason.
Proposals expire ``proposal_ttl_ms`` of block time after they are made.

A proposal record (``proposal/<plan>/<n>``): {"number", "kind", "params", "note",
"proposer", "approvals": [governor...], "status" (open, executed, failed, cancelled),
"reason", "created_ms", "expires_ms", "executed_ms"}.

Kinds and their ``params``:

``add_condition``     a :class:`~salus.apps.mutual_aid.rules.ConditionSpec`: cover an
                      ICD-10 code for diagnoses from ``effective_from``; ``funding``
                      ``sponsor`` pays its claims from the sponsor pool
``remove_condition``  {"code", "effective_from"}: diagnoses on or after that date are
                      no longer covered (earlier ones still are)
``set_rules``         a :class:`~salus.apps.mutual_aid.rules.RulesPatch`; fee and cap
                      apply from the next period close, durations to claims entering a
                      phase after the change, ``period_ms`` from the next period
``set_attestor``      {"attestor": did:key}
``set_governance``    {"governors": [...], "approvals_required": M}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from salus.apps.mutual_aid._common import (
    PlanRef,
    check_subject,
    load_books,
    load_plan,
    when,
)
from salus.apps.mutual_aid.records import books_key, plan_key, proposal_key
from salus.apps.mutual_aid.rules import (
    ConditionSpec,
    RulesPatch,
    check_date,
    check_icd10,
    parse_date,
)
from salus.core.contract import PUBLIC, ActionArgs, Context, action
from salus.core.genesis import check_did, describe_validation_error
from salus.core.identity import IDENTITY
from salus.errors import ContractError, InvalidArguments

__all__ = ["GovernanceActions", "check_governors"]

ChangeKind = Literal[
    "add_condition", "remove_condition", "set_rules", "set_attestor", "set_governance"
]


class RemoveConditionParams(ActionArgs):
    code: str
    effective_from: str = Field(description="first diagnosis date no longer covered")

    _code = field_validator("code")(check_icd10)
    _date = field_validator("effective_from")(check_date)


class AttestorParams(ActionArgs):
    attestor: str

    _attestor = field_validator("attestor")(check_did)


class GovernanceParams(ActionArgs):
    governors: list[str] = Field(min_length=1, max_length=16)
    approvals_required: int = Field(ge=1, le=16)

    @field_validator("governors")
    @classmethod
    def _governors(cls, governors: list[str]) -> list[str]:
        for governor in governors:
            check_subject(governor)
        if len(set(governors)) != len(governors):
            raise ValueError("a governor is listed twice")
        return governors

    @model_validator(mode="after")
    def _threshold(self) -> GovernanceParams:
        if self.approvals_required > len(self.governors):
            raise ValueError("approvals_required exceeds the number of governors")
        return self


_PARAMS: dict[str, type[ActionArgs]] = {
    "add_condition": ConditionSpec,
    "remove_condition": RemoveConditionParams,
    "set_rules": RulesPatch,
    "set_attestor": AttestorParams,
    "set_governance": GovernanceParams,
}


class ProposeArgs(PlanRef):
    kind: ChangeKind
    params: dict[str, Any]
    note: str = Field(default="", max_length=1000)


class ProposalRef(PlanRef):
    proposal: int = Field(ge=1)


def check_governors(ctx: Context, governors: list[str]) -> None:
    """Refuse organisation governors that are not active consortium members."""
    for governor in governors:
        if governor.startswith("did:"):
            continue
        org = ctx.read(IDENTITY, f"org/{governor}")
        if org is None or org["status"] != "active":
            ctx.fail(f"governor {governor!r} is not an active organisation of the consortium")


class GovernanceActions:
    """Mixed into :class:`~salus.apps.mutual_aid.contract.MutualAidContract`."""

    @action(roles=[PUBLIC])
    def propose_rule_change(self, ctx: Context, args: ProposeArgs) -> None:
        """Propose a change of the plan's rules; the proposing governor approves it."""
        record = load_plan(ctx, args.plan)
        governor = _governor(ctx, args.plan, record)
        try:
            params = _PARAMS[args.kind].model_validate(args.params)
        except ValidationError as exc:
            problems = describe_validation_error(exc, "params")
            raise InvalidArguments(f"invalid {args.kind} proposal: {problems}") from None
        try:
            _check(ctx, record, args.kind, params)
        except ContractError as exc:
            ctx.fail(exc.reason)
        books = load_books(ctx, args.plan)
        number = books["next_proposal"]
        books["next_proposal"] = number + 1
        ctx.state.put(books_key(args.plan), books)
        proposal = {
            "number": number,
            "kind": args.kind,
            "params": params.model_dump(),
            "note": args.note,
            "proposer": governor,
            "approvals": [],
            "status": "open",
            "reason": "",
            "created_ms": ctx.time_ms,
            "expires_ms": ctx.time_ms + record["rules"]["proposal_ttl_ms"],
            "executed_ms": None,
        }
        ctx.emit("rule_change_proposed", subject=f"{args.plan}/proposal/{number}", kind=args.kind)
        _approve(ctx, args.plan, record, proposal, governor)

    @action(roles=[PUBLIC])
    def approve_rule_change(self, ctx: Context, args: ProposalRef) -> None:
        """Approve an open proposal as one of the plan's governors."""
        record = load_plan(ctx, args.plan)
        governor = _governor(ctx, args.plan, record)
        proposal = _open(ctx, args.plan, args.proposal)
        if governor in proposal["approvals"]:
            ctx.fail(f"governor {governor} has already approved proposal {args.proposal}")
        _approve(ctx, args.plan, record, proposal, governor)

    @action(roles=[PUBLIC])
    def cancel_rule_change(self, ctx: Context, args: ProposalRef) -> None:
        """Withdraw an open proposal; only its proposer may."""
        record = load_plan(ctx, args.plan)
        governor = _governor(ctx, args.plan, record)
        proposal = _open(ctx, args.plan, args.proposal)
        if proposal["proposer"] != governor:
            ctx.fail(f"only {proposal['proposer']} may cancel proposal {args.proposal}")
        proposal["status"] = "cancelled"
        ctx.state.put(proposal_key(args.plan, args.proposal), proposal)
        ctx.emit("rule_change_cancelled", subject=f"{args.plan}/proposal/{args.proposal}")


def _governor(ctx: Context, plan: str, record: dict[str, Any]) -> str:
    governors = record["governors"]
    if ctx.signer_did in governors:
        return ctx.signer_did
    if ctx.org is not None and ctx.org in governors:
        return ctx.org
    ctx.fail(f"{ctx.signer_did} is not a governor of plan {plan!r} ({', '.join(governors)})")


def _open(ctx: Context, plan: str, number: int) -> dict[str, Any]:
    proposal = ctx.state.get(proposal_key(plan, number))
    if proposal is None:
        ctx.fail(f"plan {plan!r} has no proposal {number}")
    if proposal["status"] != "open":
        ctx.fail(f"proposal {number} is {proposal['status']}, not open")
    if ctx.time_ms >= proposal["expires_ms"]:
        ctx.fail(f"proposal {number} expired at {when(proposal['expires_ms'])}")
    return dict(proposal)


def _approve(
    ctx: Context, plan: str, record: dict[str, Any], proposal: dict[str, Any], governor: str
) -> None:
    proposal["approvals"] = sorted({*proposal["approvals"], governor} & set(record["governors"]))
    required = record["approvals_required"]
    subject = f"{plan}/proposal/{proposal['number']}"
    ctx.emit(
        "rule_change_approved",
        subject=subject,
        governor=governor,
        approvals=len(proposal["approvals"]),
        required=required,
    )
    if len(proposal["approvals"]) >= required:
        params = _PARAMS[proposal["kind"]].model_validate(proposal["params"])
        try:
            _check(ctx, record, proposal["kind"], params)
        except ContractError as exc:
            proposal["status"] = "failed"
            proposal["reason"] = exc.reason
            ctx.emit("rule_change_failed", subject=subject, reason=exc.reason)
        else:
            _apply(record, proposal["kind"], params, proposal["number"])
            record["changes"].append(
                {
                    "proposal": proposal["number"],
                    "kind": proposal["kind"],
                    "time_ms": ctx.time_ms,
                    "height": ctx.height,
                }
            )
            ctx.state.put(plan_key(plan), record)
            proposal["status"] = "executed"
            proposal["executed_ms"] = ctx.time_ms
            ctx.emit("rule_change_executed", subject=subject, kind=proposal["kind"])
    ctx.state.put(proposal_key(plan, proposal["number"]), proposal)


def _check(ctx: Context, record: dict[str, Any], kind: str, params: Any) -> None:
    """Raise :class:`ContractError` unless ``params`` applies to the plan as it is now."""
    conditions = record["conditions"]
    if kind == "add_condition":
        versions = conditions.get(params.code, [])
        if versions:
            last = versions[-1]
            if last["effective_until"] is None:
                raise ContractError(
                    f"{params.code} is already covered (from {last['effective_from']}); "
                    "remove it first to change its terms"
                )
            if parse_date(params.effective_from) < parse_date(last["effective_until"]):
                raise ContractError(
                    f"{params.code} was covered until {last['effective_until']}; a new "
                    "version must start on or after that date"
                )
    elif kind == "remove_condition":
        versions = conditions.get(params.code, [])
        if not versions or versions[-1]["effective_until"] is not None:
            raise ContractError(f"{params.code} is not a covered condition")
        if parse_date(params.effective_from) <= parse_date(versions[-1]["effective_from"]):
            raise ContractError(
                f"{params.code} is covered from {versions[-1]['effective_from']}; its removal "
                "must take effect after that date"
            )
    elif kind == "set_rules":
        try:
            params.apply_to(record["rules"])
        except ValidationError as exc:
            raise ContractError(
                f"the rules would be invalid: {describe_validation_error(exc, 'rules')}"
            ) from None
        except ValueError as exc:
            raise ContractError(str(exc)) from None
    elif kind == "set_attestor" and params.attestor == record["attestor"]:
        raise ContractError(f"{params.attestor} is already the plan's attestor")
    elif kind == "set_governance":
        check_governors(ctx, params.governors)


def _apply(record: dict[str, Any], kind: str, params: Any, number: int) -> None:
    if kind == "add_condition":
        record["conditions"].setdefault(params.code, []).append(params.version(added_by=number))
    elif kind == "remove_condition":
        record["conditions"][params.code][-1]["effective_until"] = params.effective_from
    elif kind == "set_rules":
        record["rules"] = params.apply_to(record["rules"])
    elif kind == "set_attestor":
        record["attestor"] = params.attestor
    elif kind == "set_governance":
        record["governors"] = list(params.governors)
        record["approvals_required"] = params.approvals_required
