"""Identity and governance: the consortium's organisations, roles and keys.

State layout (namespace ``identity``):

=====================  ====================================================
``org/<id>``           {"name", "keys": [did...], "roles": [...], "status",
                        "joined_height"}; status is ``active`` or ``removed``
``key/<did>``          {"org": id} for every key of an active organisation
``role/<did>``         sorted list of roles granted to an individual key
``members``            sorted list of active organisation ids (N)
``config``             {"threshold": {"num", "den"}, "proposal_ttl_blocks",
                        "next_proposal"}
``proposal/<n>``       a governance proposal and its approvals
``validators``         {did: voting power}: the consensus validator set, from
                        genesis, changed by ``add_validator`` /
                        ``remove_validator`` proposals (the CometBFT engine
                        turns changes into validator updates)
=====================  ====================================================

Theory of operation: every change to the consortium is a *proposal* by a member
organisation, approved by M of the N active organisations, where
M = ceil(N * num / den) is recomputed from the current membership at each approval
(so removing an organisation never leaves a proposal needing impossible votes).
The proposer's organisation approves implicitly. When the count reaches M the
change is applied in the same transaction; if the change no longer makes sense
(the organisation was removed meanwhile, say) the proposal is marked ``failed``
with the reason and the approval itself still counts. Proposals expire after
``proposal_ttl_blocks`` blocks. Individuals are pseudonymous did:key holders:
they need no registration, hold the ``public`` role, and may be granted roles
(an assessor, a juror) by the same M-of-N procedure.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from salus.core.contract import (
    MEMBER,
    PUBLIC,
    ActionArgs,
    Context,
    Contract,
    ContractState,
    action,
)
from salus.core.genesis import (
    ConsortiumSpec,
    check_did,
    check_key_list,
    check_org_id,
    check_role,
    check_role_list,
    describe_validation_error,
)
from salus.errors import ContractError, InvalidArguments

__all__ = ["IDENTITY", "IdentityContract", "roles_from_state"]

IDENTITY = "identity"

ProposalKind = Literal[
    "add_org",
    "remove_org",
    "grant_role",
    "revoke_role",
    "rotate_key",
    "set_threshold",
    "add_validator",
    "remove_validator",
]


class AddOrgParams(ActionArgs):
    org: str
    name: str = Field(min_length=1, max_length=200)
    keys: list[str] = Field(min_length=1, max_length=16)
    roles: list[str] = Field(default_factory=list, max_length=32)

    _org = field_validator("org")(check_org_id)
    _keys = field_validator("keys")(check_key_list)
    _roles = field_validator("roles")(check_role_list)


class RemoveOrgParams(ActionArgs):
    org: str


class RoleParams(ActionArgs):
    subject: str = Field(description="an organisation id or an individual's did:key")
    role: str

    _role = field_validator("role")(check_role)

    @field_validator("subject")
    @classmethod
    def _subject(cls, subject: str) -> str:
        if subject.startswith("did:"):
            return check_did(subject)
        return check_org_id(subject)


class RotateKeyParams(ActionArgs):
    org: str
    add: list[str] = Field(default_factory=list, max_length=16)
    remove: list[str] = Field(default_factory=list, max_length=16)

    @field_validator("add", "remove")
    @classmethod
    def _dids(cls, keys: list[str]) -> list[str]:
        for key in keys:
            check_did(key)
        return keys


class ThresholdParams(ActionArgs):
    num: int = Field(ge=1)
    den: int = Field(ge=1)


class AddValidatorParams(ActionArgs):
    did: str = Field(description="the validator's Ed25519 consensus key as a did:key")
    power: int = Field(ge=1, le=1_000_000)
    name: str = Field(default="", max_length=100)

    _did = field_validator("did")(check_did)


class RemoveValidatorParams(ActionArgs):
    did: str

    _did = field_validator("did")(check_did)


_PARAMS: dict[str, type[ActionArgs]] = {
    "add_org": AddOrgParams,
    "remove_org": RemoveOrgParams,
    "grant_role": RoleParams,
    "revoke_role": RoleParams,
    "rotate_key": RotateKeyParams,
    "set_threshold": ThresholdParams,
    "add_validator": AddValidatorParams,
    "remove_validator": RemoveValidatorParams,
}


class ProposeArgs(ActionArgs):
    kind: ProposalKind
    params: dict[str, Any]
    note: str = Field(default="", max_length=500)


class ProposalRef(ActionArgs):
    proposal: int = Field(ge=1)


def roles_from_state(state: ContractState, did: str) -> tuple[frozenset[str], str | None]:
    """The roles ``did`` holds and its organisation (``None`` for an individual)."""
    roles = {PUBLIC}
    org_id = None
    binding = state.get(f"key/{did}")
    if binding is not None:
        org = state.get(f"org/{binding['org']}")
        if org is not None and org["status"] == "active":
            org_id = binding["org"]
            roles.add(MEMBER)
            roles.update(org["roles"])
    personal = state.get(f"role/{did}")
    if personal:
        roles.update(personal)
    return frozenset(roles), org_id


class IdentityContract(Contract):
    """The consortium: organisations, their keys and roles, changed by M-of-N approval."""

    name = IDENTITY

    def init_genesis(self, state: ContractState, config: Any) -> None:
        spec = ConsortiumSpec.model_validate(config["consortium"])
        state.put("validators", dict(sorted(config["validators"].items())))
        for org in spec.organisations:
            _write_org(state, org.id, org.name, org.keys, org.roles, height=0)
        state.put("members", sorted(org.id for org in spec.organisations))
        state.put(
            "config",
            {
                "threshold": spec.threshold.model_dump(),
                "proposal_ttl_blocks": spec.proposal_ttl_blocks,
                "next_proposal": 1,
            },
        )

    @action(roles=[MEMBER])
    def propose(self, ctx: Context, args: ProposeArgs) -> None:
        """Propose a change to the consortium; the proposer's organisation approves it."""
        try:
            params = _PARAMS[args.kind].model_validate(args.params)
        except ValidationError as exc:
            problems = describe_validation_error(exc, "params")
            raise InvalidArguments(f"invalid {args.kind} proposal: {problems}") from None
        _check_applicable(ctx.state, args.kind, params)
        config = ctx.state.get("config")
        number = config["next_proposal"]
        config["next_proposal"] = number + 1
        ctx.state.put("config", config)
        proposal = {
            "id": number,
            "kind": args.kind,
            "params": params.model_dump(),
            "note": args.note,
            "proposer": ctx.signer_did,
            "proposer_org": ctx.org,
            "approvals": [],
            "status": "open",
            "reason": "",
            "created_height": ctx.height,
            "expires_height": ctx.height + config["proposal_ttl_blocks"],
        }
        ctx.emit("proposed", subject=f"proposal/{number}", kind=args.kind, org=ctx.org)
        _approve(ctx, proposal)

    @action(roles=[MEMBER])
    def approve(self, ctx: Context, args: ProposalRef) -> None:
        """Approve an open proposal on behalf of the signer's organisation."""
        proposal = _open_proposal(ctx, args.proposal)
        if ctx.org in proposal["approvals"]:
            ctx.fail(f"organisation {ctx.org!r} has already approved proposal {args.proposal}")
        _approve(ctx, proposal)

    @action(roles=[MEMBER])
    def cancel(self, ctx: Context, args: ProposalRef) -> None:
        """Withdraw an open proposal; only its proposing organisation may."""
        proposal = _open_proposal(ctx, args.proposal)
        if proposal["proposer_org"] != ctx.org:
            owner = proposal["proposer_org"]
            ctx.fail(f"only organisation {owner!r} may cancel proposal {args.proposal}")
        proposal["status"] = "cancelled"
        ctx.state.put(f"proposal/{args.proposal}", proposal)
        ctx.emit("cancelled", subject=f"proposal/{args.proposal}")


def _open_proposal(ctx: Context, number: int) -> dict[str, Any]:
    proposal = ctx.state.get(f"proposal/{number}")
    if proposal is None:
        ctx.fail(f"there is no proposal {number}")
    if proposal["status"] != "open":
        ctx.fail(f"proposal {number} is {proposal['status']}, not open")
    if ctx.height > proposal["expires_height"]:
        ctx.fail(f"proposal {number} expired at height {proposal['expires_height']}")
    return dict(proposal)


def _approve(ctx: Context, proposal: dict[str, Any]) -> None:
    members = ctx.state.get("members")
    config = ctx.state.get("config")
    approvals = sorted({*proposal["approvals"], ctx.org} & set(members))
    proposal["approvals"] = approvals
    required = -(-len(members) * config["threshold"]["num"] // config["threshold"]["den"])
    required = max(1, required)
    subject = f"proposal/{proposal['id']}"
    ctx.emit("approved", subject=subject, org=ctx.org, approvals=len(approvals), required=required)
    if len(approvals) >= required:
        params = _PARAMS[proposal["kind"]].model_validate(proposal["params"])
        try:
            _check_applicable(ctx.state, proposal["kind"], params)
        except ContractError as exc:
            proposal["status"] = "failed"
            proposal["reason"] = exc.reason
            ctx.emit("failed", subject=subject, reason=exc.reason)
        else:
            _apply(ctx, proposal["kind"], params)
            proposal["status"] = "executed"
            proposal["executed_height"] = ctx.height
            ctx.emit("executed", subject=subject, kind=proposal["kind"])
    ctx.state.put(subject, proposal)


def _write_org(
    state: ContractState, org_id: str, name: str, keys: list[str], roles: list[str], *, height: int
) -> None:
    state.put(
        f"org/{org_id}",
        {
            "name": name,
            "keys": sorted(keys),
            "roles": sorted(set(roles)),
            "status": "active",
            "joined_height": height,
        },
    )
    for key in keys:
        state.put(f"key/{key}", {"org": org_id})


def _active_org(state: ContractState, org_id: str) -> dict[str, Any]:
    org = state.get(f"org/{org_id}")
    if org is None or org["status"] != "active":
        raise ContractError(f"organisation {org_id!r} is not an active member")
    return dict(org)


def _check_applicable(state: ContractState, kind: str, params: Any) -> None:
    """Raise ContractError if ``params`` cannot be applied to the current state."""
    if kind == "add_org":
        existing = state.get(f"org/{params.org}")
        if existing is not None:
            raise ContractError(f"organisation id {params.org!r} is already taken")
        for key in params.keys:
            if state.has(f"key/{key}"):
                raise ContractError(f"key {key} already belongs to an organisation")
    elif kind == "remove_org":
        _active_org(state, params.org)
        if len(state.get("members")) <= 1:
            raise ContractError("the last organisation of the consortium cannot be removed")
    elif kind in ("grant_role", "revoke_role"):
        if params.subject.startswith("did:"):
            held = set(state.get(f"role/{params.subject}") or [])
        else:
            held = set(_active_org(state, params.subject)["roles"])
        if kind == "grant_role" and params.role in held:
            raise ContractError(f"{params.subject} already holds role {params.role!r}")
        if kind == "revoke_role" and params.role not in held:
            raise ContractError(f"{params.subject} does not hold role {params.role!r}")
    elif kind == "rotate_key":
        org = _active_org(state, params.org)
        if not params.add and not params.remove:
            raise ContractError("a key rotation must add or remove at least one key")
        for key in params.add:
            if state.has(f"key/{key}"):
                raise ContractError(f"key {key} already belongs to an organisation")
        for key in params.remove:
            if key not in org["keys"]:
                raise ContractError(f"key {key} is not a key of {params.org!r}")
        remaining = (set(org["keys"]) - set(params.remove)) | set(params.add)
        if not remaining:
            raise ContractError(f"organisation {params.org!r} would be left without a key")
    elif kind == "set_threshold" and params.num > params.den:
        raise ContractError("threshold num must not exceed den")
    elif kind == "add_validator" and params.did in state.get("validators"):
        raise ContractError(f"{params.did} is already a validator")
    elif kind == "remove_validator":
        validators = state.get("validators")
        if params.did not in validators:
            raise ContractError(f"{params.did} is not a validator")
        if len(validators) <= 1:
            raise ContractError("the last validator cannot be removed")


def _apply(ctx: Context, kind: str, params: Any) -> None:
    state = ctx.state
    if kind == "add_org":
        _write_org(state, params.org, params.name, params.keys, params.roles, height=ctx.height)
        state.put("members", sorted([*state.get("members"), params.org]))
        ctx.emit("org_added", subject=f"org/{params.org}", name=params.name)
    elif kind == "remove_org":
        org = _active_org(state, params.org)
        for key in org["keys"]:
            state.delete(f"key/{key}")
        org["status"] = "removed"
        org["removed_height"] = ctx.height
        state.put(f"org/{params.org}", org)
        state.put("members", [m for m in state.get("members") if m != params.org])
        ctx.emit("org_removed", subject=f"org/{params.org}")
    elif kind in ("grant_role", "revoke_role"):
        granting = kind == "grant_role"
        if params.subject.startswith("did:"):
            held = set(state.get(f"role/{params.subject}") or [])
            held = held | {params.role} if granting else held - {params.role}
            state.put(f"role/{params.subject}", sorted(held) or None)
        else:
            org = _active_org(state, params.subject)
            held = set(org["roles"])
            org["roles"] = sorted(held | {params.role} if granting else held - {params.role})
            state.put(f"org/{params.subject}", org)
        ctx.emit(
            "role_granted" if granting else "role_revoked", subject=params.subject, role=params.role
        )
    elif kind == "rotate_key":
        org = _active_org(state, params.org)
        for key in params.remove:
            state.delete(f"key/{key}")
        for key in params.add:
            state.put(f"key/{key}", {"org": params.org})
        org["keys"] = sorted((set(org["keys"]) - set(params.remove)) | set(params.add))
        state.put(f"org/{params.org}", org)
        ctx.emit(
            "keys_rotated", subject=f"org/{params.org}", added=params.add, removed=params.remove
        )
    elif kind in ("add_validator", "remove_validator"):
        validators = state.get("validators")
        if kind == "add_validator":
            validators[params.did] = params.power
            ctx.emit("validator_added", subject=params.did, power=params.power, name=params.name)
        else:
            del validators[params.did]
            ctx.emit("validator_removed", subject=params.did)
        state.put("validators", dict(sorted(validators.items())))
    elif kind == "set_threshold":
        config = state.get("config")
        config["threshold"] = {"num": params.num, "den": params.den}
        state.put("config", config)
        ctx.emit("threshold_set", subject="config", num=params.num, den=params.den)
