"""The ``mutual_aid`` contract: plans whose members share the cost of approved claims.

Rules this module obeys:
- Pure, like every contract: it sees only ``ctx``; every deadline is block time.
- No personal data on the ledger: members are pseudonymous did:keys, eligibility is an
  operator-signed attestation of which only the hash and the age band are kept, claim
  evidence and assessors' findings are SHA-256 addresses in the off-chain blob store.
- Money is integer minor units of the plan's ISO 4217 currency; no floats in state.
- Every refusal (``ctx.fail``) names what is wrong; a refused action writes nothing.
- Closing a sharing period writes O(claims) keys, never O(members): shares are derived
  (:mod:`salus.apps.mutual_aid.sharing`) from the period record and the member record,
  both provable with state proofs; a closed period record is never written again.

State layout (namespace ``mutual_aid``):

================================  ===========================================================
``plan/<plan>``                   {"name", "currency", "minor_units", "operator" (org id),
                                  "attestor" (did:key), "governors": [org id or did...],
                                  "approvals_required", "rules": {...PlanRules},
                                  "conditions": {code: [version...]}, "created_ms",
                                  "created_height", "changes": [{"proposal", "kind",
                                  "time_ms", "height"}...]}
``books/<plan>``                  {"members" (active, N), "enrolled", "period" (the open
                                  one), "period_start_ms", "period_end_ms" (its scheduled
                                  end), "leavers" (how many left during the open
                                  period; they do not share it), "carry" (into the
                                  open period: billed at its close), "next_claim",
                                  "next_proposal", "pool": {"received", "paid_out",
                                  "billed", "fees_billed", "fees_taken"}, "sponsor":
                                  {"deposited", "paid_out", "by": {sponsor: amount}}}
``queue/<plan>``                  [claim number...]: approved, for the next close
``slot/<plan>/<i>``               did:key of the active member with dense index i < N
``member/<plan>/<did>``           {"band", "attestation", "via", "joined_ms",
                                  "joined_period", "eligible_from_ms", "status" (active,
                                  left), "slots": [[period, index]...], "left_ms",
                                  "left_period", "paid", "claims": [n...]}
``claim/<plan>/<n>``              a claim (:mod:`salus.apps.mutual_aid._claim_actions`)
``claim_of/<plan>/<did>/<code>``  the member's latest claim number for a covered code
``period/<plan>/<q>``             a closed sharing period (below)
``proposal/<plan>/<n>``           a rule-change proposal (:mod:`._governance`)
================================  ===========================================================

A closed period record: {"number", "start_ms", "end_ms", "closed_ms", "closed_height",
"closed_by", "currency", "minor_units", "fee_bps", "cap", "active", "leavers",
"members", "member_claims": [[n, amount]...], "sponsor_claims": [[n, amount]...],
"payouts", "sponsor_payouts", "fee", "carry_in", "due", "charged", "base",
"remainder", "carry_out"}.

Theory of operation. An organisation holding the consortium role
``mutual_aid_operator`` creates a plan (rules, covered conditions, the attestor key
that signs eligibility, and the plan's governors: organisations or individuals, M of
whom approve rule changes). People join with their own key and an attestation
(``join``), or the operator enrols many at once (``enrol_members``). Each active
member holds a dense index ``0..N-1`` (``slot/``); leaving moves the last member into
the gap, and the moved member's record notes the new index and the period it took
effect in. A member may leave only when nothing approved is left unbilled
(:meth:`MutualAidContract.leave`): it then owes nothing, now or later.
Claims run through :data:`~salus.apps.mutual_aid.claims.CLAIM_TRANSITIONS`.
At the end of each period the operator closes it: every approved claim is included,
the period's totals are written once, and each member's share follows from its index.
The operator records the share payments it received and each payout it made; a payout
is refused while its pool (members' payments, or the sponsor pool for a
sponsor-funded condition) cannot cover it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from salus.apps.mutual_aid._claim_actions import ClaimActions
from salus.apps.mutual_aid._common import (
    PlanRef,
    active_member,
    check_subject,
    load_books,
    load_claim,
    load_plan,
    money,
    move_claim,
    owed,
    require_operator,
    when,
)
from salus.apps.mutual_aid._governance import GovernanceActions, check_governors
from salus.apps.mutual_aid.attestation import Attestation, verify_attestation
from salus.apps.mutual_aid.claims import FINAL_STATES
from salus.apps.mutual_aid.records import (
    MUTUAL_AID,
    OPERATOR,
    books_key,
    member_key,
    period_key,
    plan_key,
    queue_key,
    slot_key,
)
from salus.apps.mutual_aid.rules import (
    CURRENCY_MINOR_UNITS,
    MAX_AMOUNT,
    ConditionSpec,
    PlanRules,
    check_band,
    check_hash,
    check_plan_id,
)
from salus.apps.mutual_aid.sharing import management_fee, split_period
from salus.core.contract import MEMBER, PUBLIC, ActionArgs, Context, Contract, action
from salus.core.genesis import check_did
from salus.errors import SalusError

__all__ = ["MAX_BATCH", "MutualAidContract"]

MAX_BATCH = 1000  # entries per enrol_members / record_payments (a transaction is <= 64 KiB)


class CreatePlanArgs(ActionArgs):
    plan: str = Field(description="plan id, e.g. 'xhb-2026'")
    name: str = Field(min_length=1, max_length=200)
    currency: str = Field(description="ISO 4217 code, e.g. CNY")
    attestor: str = Field(description="did:key that signs eligibility attestations")
    governors: list[str] = Field(min_length=1, max_length=16)
    approvals_required: int = Field(ge=1, le=16)
    rules: PlanRules
    conditions: list[ConditionSpec] = Field(default_factory=list, max_length=500)

    _plan = field_validator("plan")(check_plan_id)
    _attestor = field_validator("attestor")(check_did)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if value not in CURRENCY_MINOR_UNITS:
            raise ValueError(f"{value!r} is not an ISO 4217 currency code Salus knows")
        return value

    @field_validator("governors")
    @classmethod
    def _governors(cls, governors: list[str]) -> list[str]:
        for governor in governors:
            check_subject(governor)
        if len(set(governors)) != len(governors):
            raise ValueError("a governor is listed twice")
        return governors

    @model_validator(mode="after")
    def _consistent(self) -> CreatePlanArgs:
        if self.approvals_required > len(self.governors):
            raise ValueError(
                f"approvals_required {self.approvals_required} exceeds the "
                f"{len(self.governors)} governors"
            )
        codes = [c.code for c in self.conditions]
        if len(set(codes)) != len(codes):
            raise ValueError("a condition code is listed twice")
        return self


class AttestationFields(ActionArgs):
    band: str
    issued_ms: int = Field(ge=0)
    evidence: str = Field(description="SHA-256 of the operator's eligibility record, hex")
    signature: str = Field(pattern=r"^[0-9a-f]{128}$", description="attestor's Ed25519, hex")

    _band = field_validator("band")(check_band)
    _evidence = field_validator("evidence")(check_hash)


class JoinArgs(AttestationFields):
    plan: str

    _plan = field_validator("plan")(check_plan_id)


class EnrolmentEntry(AttestationFields):
    member: str

    _member = field_validator("member")(check_did)


class EnrolArgs(PlanRef):
    members: list[EnrolmentEntry] = Field(min_length=1, max_length=MAX_BATCH)


class Payment(ActionArgs):
    member: str
    amount: int = Field(ge=1, le=MAX_AMOUNT)

    _member = field_validator("member")(check_did)


class PaymentsArgs(PlanRef):
    payments: list[Payment] = Field(min_length=1, max_length=MAX_BATCH)
    reference: str = Field(description="SHA-256 of the operator's payment record, hex")

    _reference = field_validator("reference")(check_hash)


class AmountArgs(PlanRef):
    amount: int = Field(ge=1, le=MAX_AMOUNT)
    reference: str

    _reference = field_validator("reference")(check_hash)


class SponsorDepositArgs(AmountArgs):
    sponsor: str = Field(description="the sponsor: an organisation id or a did:key")

    _sponsor = field_validator("sponsor")(check_subject)


class PayoutArgs(PlanRef):
    claim: int = Field(ge=1)
    reference: str = Field(description="SHA-256 of the payment confirmation, hex")

    _reference = field_validator("reference")(check_hash)


class MutualAidContract(GovernanceActions, ClaimActions, Contract):
    """Mutual-aid plans: members, claims with public notice and juries, cost sharing."""

    name = MUTUAL_AID

    # Plans --------------------------------------------------------------------------

    @action(roles=[OPERATOR])
    def create_plan(self, ctx: Context, args: CreatePlanArgs) -> None:
        """Create a plan; the signer's organisation becomes its operator."""
        if ctx.org is None:
            ctx.fail("a plan is created with an organisation's key; its organisation operates it")
        existing = ctx.state.get(plan_key(args.plan))
        if existing is not None:
            ctx.fail(f"plan {args.plan!r} already exists (created {when(existing['created_ms'])})")
        check_governors(ctx, args.governors)
        ctx.state.put(
            plan_key(args.plan),
            {
                "name": args.name,
                "currency": args.currency,
                "minor_units": CURRENCY_MINOR_UNITS[args.currency],
                "operator": ctx.org,
                "attestor": args.attestor,
                "governors": list(args.governors),
                "approvals_required": args.approvals_required,
                "rules": args.rules.model_dump(),
                "conditions": {c.code: [c.version(added_by=0)] for c in args.conditions},
                "created_ms": ctx.time_ms,
                "created_height": ctx.height,
                "changes": [],
            },
        )
        ctx.state.put(
            books_key(args.plan),
            {
                "members": 0,
                "enrolled": 0,
                "period": 1,
                "period_start_ms": ctx.time_ms,
                "period_end_ms": ctx.time_ms + args.rules.period_ms,
                "leavers": 0,
                "carry": 0,
                "next_claim": 1,
                "next_proposal": 1,
                "pool": {"received": 0, "paid_out": 0, "billed": 0, "fees_billed": 0,
                         "fees_taken": 0},
                "sponsor": {"deposited": 0, "paid_out": 0, "by": {}},
            },
        )  # fmt: skip
        ctx.state.put(queue_key(args.plan), [])
        ctx.emit("plan_created", subject=args.plan, operator=ctx.org, currency=args.currency)

    # Membership ---------------------------------------------------------------------

    @action(roles=[PUBLIC])
    def join(self, ctx: Context, args: JoinArgs) -> None:
        """Join a plan with one's own key and an operator-signed eligibility attestation."""
        record = load_plan(ctx, args.plan)
        books = load_books(ctx, args.plan)
        _admit(ctx, args.plan, record, books, ctx.signer_did, args, via="join", prefix="")
        ctx.state.put(books_key(args.plan), books)

    @action(roles=[MEMBER])
    def enrol_members(self, ctx: Context, args: EnrolArgs) -> None:
        """Enrol many members at once, each with its attestation (the operator's bulk path)."""
        record = load_plan(ctx, args.plan)
        require_operator(ctx, args.plan, record)
        books = load_books(ctx, args.plan)
        seen: set[str] = set()
        for position, entry in enumerate(args.members):
            prefix = f"entry {position} ({entry.member}): "
            if entry.member in seen:
                ctx.fail(f"{prefix}listed twice in this enrolment")
            seen.add(entry.member)
            _admit(
                ctx, args.plan, record, books, entry.member, entry, via="enrolment", prefix=prefix
            )
        ctx.state.put(books_key(args.plan), books)

    @action(roles=[PUBLIC])
    def leave(self, ctx: Context, args: PlanRef) -> None:
        """Leave the plan, owing nothing now or later (issue 6: "leave only after paying
        one's share of claims already approved").

        Refused while (1) a share of a closed period is unpaid, (2) an approved claim
        funded by members waits for the next close (``queue/``), (3) the plan carries a
        balance the cap held back (``books.carry`` > 0), or (4) one of the member's own
        claims is still open. When none holds, every member-funded claim approved so far
        has been billed in a closed period and the member has paid its share, so the
        leaver is removed from the index at once and shares no later split, not even
        the open period's (claims approved after it left are not its to pay).
        """
        plan = args.plan
        record = load_plan(ctx, plan)
        member = active_member(ctx, plan, ctx.signer_did)
        books = load_books(ctx, plan)
        due = owed(ctx, plan, member, books)
        if due > 0:
            ctx.fail(
                f"{ctx.signer_did} owes {money(record, due)} of shares of closed periods; "
                "pay them before leaving"
            )
        for number in member["claims"]:
            claim = load_claim(ctx, plan, number)
            if claim["status"] not in FINAL_STATES:
                ctx.fail(
                    f"claim {number} of {ctx.signer_did} is {claim['status']}; leave after it ends"
                )
        for number in ctx.state.get(queue_key(plan)):
            if load_claim(ctx, plan, number)["funding"] == "members":
                ctx.fail(
                    f"claim {number} is approved and members share it at the close of period "
                    f"{books['period']} ({when(books['period_end_ms'])}); leave after that "
                    "close, once your share is paid"
                )
        if books["carry"] > 0:
            ctx.fail(
                f"the plan carries {money(record, books['carry'])} of approved claims the "
                "per-member cap held back, billed at the next close "
                f"({when(books['period_end_ms'])}); leave once it is billed and your share is paid"
            )
        period = books["period"]
        index = member["slots"][-1][1]
        last = books["members"] - 1
        if index != last:
            moved_did = ctx.state.get(slot_key(plan, last))
            moved = ctx.state.get(member_key(plan, moved_did))
            moved["slots"].append([period, index])
            ctx.state.put(member_key(plan, moved_did), moved)
            ctx.state.put(slot_key(plan, index), moved_did)
        ctx.state.delete(slot_key(plan, last))
        member.update(status="left", left_ms=ctx.time_ms, left_period=period)
        ctx.state.put(member_key(plan, ctx.signer_did), member)
        books["members"] = last
        books["leavers"] += 1
        ctx.state.put(books_key(plan), books)
        ctx.emit("member_left", subject=ctx.signer_did, plan=plan, period=period)

    # Money --------------------------------------------------------------------------

    @action(roles=[MEMBER])
    def record_payments(self, ctx: Context, args: PaymentsArgs) -> None:
        """Record share payments the operator received; none may exceed what is owed."""
        plan = args.plan
        record = load_plan(ctx, plan)
        require_operator(ctx, plan, record)
        books = load_books(ctx, plan)
        periods: dict[int, dict[str, Any]] = {}
        paid: dict[str, dict[str, Any]] = {}
        for position, payment in enumerate(args.payments):
            member = paid.get(payment.member) or ctx.state.get(member_key(plan, payment.member))
            if member is None:
                ctx.fail(f"payment {position}: {payment.member} is not a member of plan {plan!r}")
            due = owed(ctx, plan, member, books, periods)
            if payment.amount > due:
                ctx.fail(
                    f"payment {position}: {payment.member} owes {money(record, due)}, "
                    f"not {money(record, payment.amount)}"
                )
            member["paid"] += payment.amount
            paid[payment.member] = member
            ctx.emit("share_paid", subject=payment.member, plan=plan, amount=payment.amount)
        for did, member in paid.items():
            ctx.state.put(member_key(plan, did), member)
        total = sum(p.amount for p in args.payments)
        books["pool"]["received"] += total
        ctx.state.put(books_key(plan), books)
        ctx.emit("payments_recorded", subject=plan, total=total, reference=args.reference)

    @action(roles=[MEMBER])
    def deposit_sponsor_funds(self, ctx: Context, args: SponsorDepositArgs) -> None:
        """Record a sponsor's deposit into the plan's sponsor pool."""
        record = load_plan(ctx, args.plan)
        require_operator(ctx, args.plan, record)
        books = load_books(ctx, args.plan)
        sponsor = books["sponsor"]
        sponsor["deposited"] += args.amount
        sponsor["by"][args.sponsor] = sponsor["by"].get(args.sponsor, 0) + args.amount
        ctx.state.put(books_key(args.plan), books)
        ctx.emit(
            "sponsor_deposit",
            subject=args.plan,
            sponsor=args.sponsor,
            amount=args.amount,
            reference=args.reference,
        )

    @action(roles=[MEMBER])
    def take_fee(self, ctx: Context, args: AmountArgs) -> None:
        """Record the operator taking management fees billed at closes from the member pool."""
        record = load_plan(ctx, args.plan)
        require_operator(ctx, args.plan, record)
        books = load_books(ctx, args.plan)
        pool = books["pool"]
        unpaid_fees = pool["fees_billed"] - pool["fees_taken"]
        if args.amount > unpaid_fees:
            ctx.fail(f"only {money(record, unpaid_fees)} of billed fees are untaken")
        balance = _member_pool(books)
        if args.amount > balance:
            ctx.fail(f"the member pool holds {money(record, balance)}")
        pool["fees_taken"] += args.amount
        ctx.state.put(books_key(args.plan), books)
        ctx.emit("fee_taken", subject=args.plan, amount=args.amount, reference=args.reference)

    # Sharing periods ----------------------------------------------------------------

    @action(roles=[MEMBER])
    def close_period(self, ctx: Context, args: PlanRef) -> None:
        """Close the open sharing period: include every approved claim, fix the totals."""
        plan = args.plan
        record = load_plan(ctx, plan)
        require_operator(ctx, plan, record)
        books = load_books(ctx, plan)
        rules = record["rules"]
        number, start, end = books["period"], books["period_start_ms"], books["period_end_ms"]
        if ctx.time_ms < end:
            ctx.fail(f"period {number} of plan {plan!r} runs until {when(end)}")
        funded: dict[str, list[list[int]]] = {"members": [], "sponsor": []}
        for claim_number in ctx.state.get(queue_key(plan)):
            claim = load_claim(ctx, plan, claim_number)
            funded[claim["funding"]].append([claim_number, claim["payout_amount"]])
            claim["period"] = number
            move_claim(ctx, plan, claim, "close_period", "included", f"sharing period {number}")
        payouts = sum(amount for _, amount in funded["members"])
        fee = management_fee(payouts, rules["fee_bps"])
        split = split_period(
            carry_in=books["carry"],
            payouts=payouts,
            fee=fee,
            members=books["members"],
            cap=rules["member_cap"],
        )
        ctx.state.put(
            period_key(plan, number),
            {
                "number": number,
                "start_ms": start,
                "end_ms": end,
                "closed_ms": ctx.time_ms,
                "closed_height": ctx.height,
                "closed_by": ctx.signer_did,
                "currency": record["currency"],
                "minor_units": record["minor_units"],
                "fee_bps": rules["fee_bps"],
                "cap": rules["member_cap"],
                "active": books["members"],
                "leavers": books["leavers"],
                "members": split.members,
                "member_claims": funded["members"],
                "sponsor_claims": funded["sponsor"],
                "payouts": payouts,
                "sponsor_payouts": sum(amount for _, amount in funded["sponsor"]),
                "fee": fee,
                "carry_in": books["carry"],
                "due": split.due,
                "charged": split.charged,
                "base": split.base,
                "remainder": split.remainder,
                "carry_out": split.carry_out,
            },
        )
        # The next period starts where this one was scheduled to end (a late close does
        # not shift the schedule) and runs for the period length in force now.
        books.update(
            period=number + 1,
            period_start_ms=end,
            period_end_ms=end + rules["period_ms"],
            leavers=0,
            carry=split.carry_out,
        )
        books["pool"]["billed"] += split.charged
        books["pool"]["fees_billed"] += fee
        ctx.state.put(books_key(plan), books)
        ctx.state.put(queue_key(plan), [])
        ctx.emit(
            "period_closed",
            subject=f"{plan}/period/{number}",
            plan=plan,
            period=number,
            members=split.members,
            claims=len(funded["members"]) + len(funded["sponsor"]),
            charged=split.charged,
            base=split.base,
            remainder=split.remainder,
            carry_out=split.carry_out,
        )

    @action(roles=[MEMBER])
    def record_payout(self, ctx: Context, args: PayoutArgs) -> None:
        """Record that an included claim was paid; refused while its pool is short."""
        plan = args.plan
        record = load_plan(ctx, plan)
        require_operator(ctx, plan, record)
        claim = load_claim(ctx, plan, args.claim)
        books = load_books(ctx, plan)
        amount = claim["payout_amount"]
        if claim["status"] == "included":
            if claim["funding"] == "sponsor":
                available = books["sponsor"]["deposited"] - books["sponsor"]["paid_out"]
                pool = "sponsor pool"
            else:
                available = _member_pool(books)
                pool = "member pool"
            if amount > available:
                ctx.fail(
                    f"claim {args.claim} needs {money(record, amount)} but the {pool} holds "
                    f"{money(record, available)}; it stays included until the pool covers it"
                )
            books["sponsor" if claim["funding"] == "sponsor" else "pool"]["paid_out"] += amount
            ctx.state.put(books_key(plan), books)
        claim["payout"] = {
            "amount": amount,
            "reference": args.reference,
            "time_ms": ctx.time_ms,
            "height": ctx.height,
        }
        move_claim(ctx, plan, claim, "record_payout", "paid", f"paid, reference {args.reference}")


def _member_pool(books: dict[str, Any]) -> int:
    pool = books["pool"]
    return int(pool["received"] - pool["paid_out"] - pool["fees_taken"])


def _admit(
    ctx: Context,
    plan: str,
    record: dict[str, Any],
    books: dict[str, Any],
    did: str,
    fields: AttestationFields,
    *,
    via: str,
    prefix: str,
) -> None:
    """Admit ``did`` on its attestation; updates ``books`` (the caller writes it)."""
    rules = record["rules"]
    if fields.band not in rules["eligible_bands"]:
        allowed = ", ".join(rules["eligible_bands"])
        ctx.fail(f"{prefix}age band {fields.band!r} is not eligible (eligible: {allowed})")
    if fields.issued_ms > ctx.time_ms:
        ctx.fail(f"{prefix}the attestation is dated {when(fields.issued_ms)}, in the future")
    if ctx.time_ms - fields.issued_ms > rules["attestation_ttl_ms"]:
        ctx.fail(
            f"{prefix}the attestation of {when(fields.issued_ms)} is older than the plan "
            f"accepts ({rules['attestation_ttl_ms'] // 3_600_000} hours); ask for a new one"
        )
    existing = ctx.state.get(member_key(plan, did))
    if existing is not None:
        if existing["status"] == "active":
            ctx.fail(f"{prefix}{did} is already a member (joined {when(existing['joined_ms'])})")
        ctx.fail(f"{prefix}{did} left the plan; a key that left cannot rejoin (use a new key)")
    attestation = Attestation(
        plan, did, fields.band, fields.issued_ms, fields.evidence, fields.signature
    )
    try:
        digest = verify_attestation(record["attestor"], attestation)
    except SalusError:
        ctx.fail(
            f"{prefix}the attestation is not signed by the plan's attestor {record['attestor']}"
        )
    index = books["members"]
    ctx.state.put(
        member_key(plan, did),
        {
            "band": fields.band,
            "attestation": digest,
            "via": via,
            "joined_ms": ctx.time_ms,
            "joined_period": books["period"],
            "eligible_from_ms": ctx.time_ms + rules["waiting_ms"],
            "status": "active",
            "slots": [[books["period"], index]],
            "left_ms": None,
            "left_period": None,
            "paid": 0,
            "claims": [],
        },
    )
    ctx.state.put(slot_key(plan, index), did)
    books["members"] = index + 1
    books["enrolled"] += 1
    ctx.emit("member_joined", subject=did, plan=plan, band=fields.band, index=index)
