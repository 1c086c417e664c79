"""Claim actions of the ``mutual_aid`` contract: submission to jury decision.

A claim record (``claim/<plan>/<n>``)::

    {"number", "claimant", "code" (as diagnosed), "condition" (the covered code),
     "diagnosed_on", "amount" (claimed), "max_payout", "funding", "evidence": [hash...],
     "payout_amount" (the amount approved), "status", "submitted_ms",
     "deadlines": {"investigation", "notice", "reveal"} (block time, ms),
     "assessor", "findings": {"assessor", "report", "supported", "reason", "time_ms",
     "late"}, "objections": [{"by", "reason", "time_ms"}...],
     "seed": [{"party", "role", "commitment", "secret"}...] (the claimant's first),
     "jury": {"round", "seed", "source", "dropped", "jurors", "votes": {did: {"vote",
     "reason", "time_ms"}}, "drawn_ms", "deadline"} | None, "panels": [earlier juries],
     "approved_ms", "period", "payout", "history": [{"status", "action", "by", "reason",
     "time_ms", "height"}...]}

Rules beyond the transition table: a claim with an objection cannot be withdrawn (the
jury decides it; otherwise a claimant could withdraw and resubmit the same diagnosis to
sidestep the panel); only active members past their waiting period sit on a panel, and
a juror who leaves before voting cannot vote.

Every status change goes through :func:`~salus.apps.mutual_aid._common.move_claim`,
which checks :data:`~salus.apps.mutual_aid.claims.CLAIM_TRANSITIONS` and appends who
did it and why to ``history``.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import Field, field_validator

from salus.apps.mutual_aid._common import (
    PlanRef,
    active_member,
    enqueue,
    load_books,
    load_claim,
    load_plan,
    money,
    move_claim,
    when,
)
from salus.apps.mutual_aid.claims import (
    CLAIM_ACTIVITIES,
    MAX_JURY_ROUNDS,
    SEED_ROLES,
    SUBMISSION,
    draw_jurors,
    jury_outcome,
    jury_seed,
    round_seed,
    seed_commitment,
    transition,
)
from salus.apps.mutual_aid.records import (
    ASSESSOR,
    books_key,
    claim_index_key,
    claim_key,
    member_key,
    slot_key,
)
from salus.apps.mutual_aid.rules import (
    DAY_MS,
    MAX_AMOUNT,
    check_date,
    check_hash,
    check_icd10,
    coverage_for,
    day_start_ms,
)
from salus.core.contract import PUBLIC, Context, action

__all__ = ["MAX_OBJECTIONS", "ClaimActions"]

MAX_OBJECTIONS: Final = 32  # the panel is drawn on the first; more only add objectors to exclude


class ClaimRef(PlanRef):
    claim: int = Field(ge=1)


class SubmitClaimArgs(PlanRef):
    code: str = Field(description="ICD-10 code of the diagnosis, e.g. U07.1")
    diagnosed_on: str = Field(description="date of diagnosis, YYYY-MM-DD")
    amount: int = Field(ge=1, le=MAX_AMOUNT, description="payout claimed, minor units")
    evidence: list[str] = Field(min_length=1, max_length=20, description="blob SHA-256s, hex")
    commitment: str = Field(
        description="the claimant's jury seed share: seed_commitment(plan, 0, claimant, "
        "secret), hex (0: the claim has no number yet)"
    )

    _code = field_validator("code")(check_icd10)
    _commitment = field_validator("commitment")(check_hash)
    _date = field_validator("diagnosed_on")(check_date)

    @field_validator("evidence")
    @classmethod
    def _evidence(cls, hashes: list[str]) -> list[str]:
        for digest in hashes:
            check_hash(digest)
        if len(set(hashes)) != len(hashes):
            raise ValueError("an evidence document is listed twice")
        return hashes


class InvestigationArgs(ClaimRef):
    note: str = Field(default="", max_length=500)


class FindingsArgs(ClaimRef):
    report: str = Field(description="SHA-256 of the findings report in the blob store, hex")
    supported: bool = Field(description="do the findings support the claim?")
    reason: str = Field(min_length=1, max_length=1000)
    amount: int | None = Field(
        default=None, ge=1, le=MAX_AMOUNT, description="amount supported, if less than claimed"
    )

    _report = field_validator("report")(check_hash)


class ReasonArgs(ClaimRef):
    reason: str = Field(min_length=1, max_length=1000)


class CommitArgs(ClaimRef):
    commitment: str = Field(description="seed_commitment(plan, claim, party, secret), hex")

    _commitment = field_validator("commitment")(check_hash)


class ObjectionArgs(ReasonArgs):
    commitment: str = Field(description="the objector's jury seed share commitment, hex")

    _commitment = field_validator("commitment")(check_hash)


class RevealArgs(ClaimRef):
    secret: str = Field(pattern=r"^[0-9a-f]{64}$")


class VoteArgs(ReasonArgs):
    vote: Literal["approve", "reject"]


class ClaimActions:
    """Mixed into :class:`~salus.apps.mutual_aid.contract.MutualAidContract`."""

    @action(roles=[PUBLIC])
    def submit_claim(self, ctx: Context, args: SubmitClaimArgs) -> None:
        """Claim a payout for a diagnosis of a covered condition (members only)."""
        plan, did = args.plan, ctx.signer_did
        record = load_plan(ctx, plan)
        member = active_member(ctx, plan, did, who="claimant")
        eligible = member["eligible_from_ms"]
        if ctx.time_ms < eligible:
            ctx.fail(f"{did} is in the waiting period until {when(eligible)}; no claim before it")
        diagnosed_ms = day_start_ms(args.diagnosed_on)
        if diagnosed_ms > ctx.time_ms:
            ctx.fail(f"the diagnosis date {args.diagnosed_on} is in the future")
        # Diagnoses are dated by day: one made on the day the waiting period ends is covered.
        if diagnosed_ms + DAY_MS <= eligible:
            ctx.fail(
                f"{args.code} was diagnosed on {args.diagnosed_on}, before the waiting period "
                f"ended ({when(eligible)}): it is not covered"
            )
        try:
            covered, version = coverage_for(record["conditions"], args.code, args.diagnosed_on)
        except ValueError as exc:
            ctx.fail(str(exc))
        if args.amount > version["max_payout"]:
            ctx.fail(
                f"{money(record, args.amount)} claimed is above the {covered} payout cap of "
                f"{money(record, version['max_payout'])}"
            )
        index = claim_index_key(plan, did, covered)
        earlier = ctx.state.get(index)
        if earlier is not None:
            prior = load_claim(ctx, plan, earlier)
            if prior["status"] not in ("rejected", "withdrawn"):
                ctx.fail(
                    f"{did} already has claim {earlier} for {covered} ({prior['status']}); "
                    "a diagnosis is claimed once"
                )
        books = load_books(ctx, plan)
        number = books["next_claim"]
        books["next_claim"] = number + 1
        ctx.state.put(books_key(plan), books)
        transition(None, "submit_claim", "submitted")
        claim = {
            "number": number,
            "claimant": did,
            "code": args.code,
            "condition": covered,
            "diagnosed_on": args.diagnosed_on,
            "amount": args.amount,
            "max_payout": version["max_payout"],
            "funding": version["funding"],
            "evidence": list(args.evidence),
            "payout_amount": args.amount,
            "status": "submitted",
            "submitted_ms": ctx.time_ms,
            "deadlines": {},
            "assessor": None,
            "findings": None,
            "objections": [],
            "seed": [_share(did, "claimant", args.commitment)],
            "jury": None,
            "panels": [],
            "approved_ms": None,
            "period": None,
            "payout": None,
            "history": [
                {
                    "status": "submitted",
                    "action": "submit_claim",
                    "by": did,
                    "reason": f"{args.code} diagnosed on {args.diagnosed_on}",
                    "time_ms": ctx.time_ms,
                    "height": ctx.height,
                }
            ],
        }
        ctx.state.put(claim_key(plan, number), claim)
        ctx.state.put(index, number)
        member["claims"].append(number)
        ctx.state.put(member_key(plan, did), member)
        ctx.emit(
            "claim_submitted",
            subject=f"{plan}/claim/{number}",
            plan=plan,
            claim=number,
            claimant=did,
            condition=covered,
            amount=args.amount,
        )

    @action(roles=[ASSESSOR])
    def start_investigation(self, ctx: Context, args: InvestigationArgs) -> None:
        """Take a claim for investigation (or take it over after its deadline)."""
        record = load_plan(ctx, args.plan)
        claim = load_claim(ctx, args.plan, args.claim)
        if claim["claimant"] == ctx.signer_did:
            ctx.fail("an assessor may not investigate their own claim")
        if claim["status"] == "investigation":
            deadline = claim["deadlines"]["investigation"]
            if claim["assessor"] == ctx.signer_did:
                ctx.fail(f"{ctx.signer_did} is already investigating claim {args.claim}")
            if ctx.time_ms < deadline:
                ctx.fail(
                    f"claim {args.claim} is being investigated by {claim['assessor']} until "
                    f"{when(deadline)}; another assessor may take over after that"
                )
        reason = args.note or (
            "taken over after the investigation deadline"
            if claim["status"] == "investigation"
            else "investigation opened"
        )
        claim["assessor"] = ctx.signer_did
        claim["deadlines"]["investigation"] = ctx.time_ms + record["rules"]["investigation_ms"]
        move_claim(ctx, args.plan, claim, "start_investigation", "investigation", reason)

    @action(roles=[ASSESSOR])
    def record_findings(self, ctx: Context, args: FindingsArgs) -> None:
        """Record the investigation's findings: supported claims go to public notice."""
        record = load_plan(ctx, args.plan)
        claim = load_claim(ctx, args.plan, args.claim)
        if claim["status"] == "investigation" and claim["assessor"] != ctx.signer_did:
            ctx.fail(f"claim {args.claim} is assigned to assessor {claim['assessor']}")
        if args.amount is not None:
            if not args.supported:
                ctx.fail("an amount is given only with findings that support the claim")
            if args.amount > claim["amount"]:
                ctx.fail(
                    f"the supported amount {money(record, args.amount)} exceeds the "
                    f"{money(record, claim['amount'])} claimed"
                )
        deadline = claim["deadlines"].get("investigation")
        claim["findings"] = {
            "assessor": ctx.signer_did,
            "report": args.report,
            "supported": args.supported,
            "reason": args.reason,
            "time_ms": ctx.time_ms,
            "late": deadline is not None and ctx.time_ms > deadline,
        }
        if args.supported:
            claim["payout_amount"] = args.amount or claim["amount"]
            claim["deadlines"]["notice"] = ctx.time_ms + record["rules"]["notice_ms"]
            move_claim(ctx, args.plan, claim, "record_findings", "public_notice", args.reason)
        else:
            move_claim(ctx, args.plan, claim, "record_findings", "rejected", args.reason)

    @action(roles=[PUBLIC])
    def withdraw_claim(self, ctx: Context, args: ReasonArgs) -> None:
        """The claimant withdraws a claim before it is decided."""
        claim = load_claim(ctx, args.plan, args.claim)
        if claim["claimant"] != ctx.signer_did:
            ctx.fail(f"only the claimant {claim['claimant']} may withdraw claim {args.claim}")
        if claim["objections"]:
            ctx.fail(
                f"claim {args.claim} has {len(claim['objections'])} objection(s); an objected "
                "claim is decided by its panel and cannot be withdrawn"
            )
        move_claim(ctx, args.plan, claim, "withdraw_claim", "withdrawn", args.reason)

    @action(roles=[PUBLIC])
    def commit_seed(self, ctx: Context, args: CommitArgs) -> None:
        """The operator commits its share of the jury seed, before the notice is closed.

        The claimant commits with ``submit_claim`` and each objector with ``object``;
        ``close_notice`` sends an objected claim to a jury only once the operator has
        committed too, so the seed always has a share neither side of the dispute holds.
        """
        record = load_plan(ctx, args.plan)
        claim = load_claim(ctx, args.plan, args.claim)
        _allowed(ctx, claim, "commit_seed")
        party, role = _party(ctx, record, claim)
        if role != "operator":
            who = {"claimant": "the claimant", "objector": "an objector"}.get(
                role or "", "not a party to the claim"
            )
            ctx.fail(
                f"only the operator of plan {args.plan!r} ({record['operator']}) commits "
                f"with commit_seed ({ctx.signer_did} is {who}); the claimant commits with "
                "the claim, an objector with the objection"
            )
        if any(share["party"] == party for share in claim["seed"]):
            ctx.fail(f"{party} has already committed to a seed share for claim {args.claim}")
        claim["seed"].append(_share(party, role, args.commitment))
        ctx.state.put(claim_key(args.plan, args.claim), claim)
        ctx.emit("seed_committed", subject=f"{args.plan}/claim/{args.claim}", party=party)

    @action(roles=[PUBLIC])
    def object(self, ctx: Context, args: ObjectionArgs) -> None:
        """Object to a claim in public notice, with a reason (any other member)."""
        claim = load_claim(ctx, args.plan, args.claim)
        did = ctx.signer_did
        active_member(ctx, args.plan, did, who="objector")
        if claim["claimant"] == did:
            ctx.fail("a claimant cannot object to their own claim")
        _allowed(ctx, claim, "object")
        _before_notice_deadline(ctx, claim, "objections")
        if any(objection["by"] == did for objection in claim["objections"]):
            ctx.fail(f"{did} has already objected to claim {args.claim}")
        if len(claim["objections"]) >= MAX_OBJECTIONS:
            ctx.fail(
                f"claim {args.claim} already has {MAX_OBJECTIONS} objections; "
                "a panel will review it"
            )
        claim["objections"].append({"by": did, "reason": args.reason, "time_ms": ctx.time_ms})
        claim["seed"].append(_share(did, "objector", args.commitment))
        ctx.state.put(claim_key(args.plan, args.claim), claim)
        ctx.emit(
            "claim_objected",
            subject=f"{args.plan}/claim/{args.claim}",
            plan=args.plan,
            claim=args.claim,
            by=did,
            reason=args.reason,
        )

    @action(roles=[PUBLIC])
    def close_notice(self, ctx: Context, args: ClaimRef) -> None:
        """After the notice window: approve an unopposed claim, or send it to a jury."""
        record = load_plan(ctx, args.plan)
        claim = load_claim(ctx, args.plan, args.claim)
        deadline = claim["deadlines"].get("notice")
        if claim["status"] == "public_notice" and ctx.time_ms < deadline:
            ctx.fail(f"the public notice of claim {args.claim} runs until {when(deadline)}")
        if not claim["objections"]:
            claim["approved_ms"] = ctx.time_ms
            move_claim(ctx, args.plan, claim, "close_notice", "approved", "no objection")
            enqueue(ctx, args.plan, claim)
            return
        if claim["status"] == "public_notice" and not any(
            share["role"] == "operator" for share in claim["seed"]
        ):
            ctx.fail(
                f"claim {args.claim} is objected but the operator {record['operator']} has "
                "not committed its jury seed share; the panel is drawn only from shares of "
                "the claimant, an objector and the operator (commit_seed)"
            )
        claim["deadlines"]["reveal"] = ctx.time_ms + record["rules"]["reveal_ms"]
        count = len(claim["objections"])
        move_claim(ctx, args.plan, claim, "close_notice", "jury_review", f"{count} objection(s)")

    @action(roles=[PUBLIC])
    def reveal_seed(self, ctx: Context, args: RevealArgs) -> None:
        """Reveal one's jury seed share; the panel is drawn once every share is revealed."""
        record = load_plan(ctx, args.plan)
        claim = load_claim(ctx, args.plan, args.claim)
        _allowed(ctx, claim, "reveal_seed")
        if claim["jury"] is not None:
            ctx.fail(f"the panel of claim {args.claim} is already drawn")
        deadline = claim["deadlines"]["reveal"]
        if ctx.time_ms >= deadline:
            ctx.fail(f"seed shares of claim {args.claim} could be revealed until {when(deadline)}")
        party, _ = _party(ctx, record, claim)
        share = next((s for s in claim["seed"] if s["party"] == party), None)
        if share is None:
            ctx.fail(f"{party} did not commit to a seed share for claim {args.claim}")
        if share["secret"] is not None:
            ctx.fail(f"{party} has already revealed its seed share for claim {args.claim}")
        bound = SUBMISSION if share["role"] == "claimant" else args.claim
        if seed_commitment(args.plan, bound, party, args.secret) != share["commitment"]:
            ctx.fail(f"the secret does not match {party}'s commitment for claim {args.claim}")
        share["secret"] = args.secret
        ctx.emit("seed_revealed", subject=f"{args.plan}/claim/{args.claim}", party=party)
        revealed = all(s["secret"] is not None for s in claim["seed"])
        if revealed and not _draw(ctx, args.plan, record, claim, 1):
            _too_few_jurors(ctx, args.plan, record, claim, "reveal_seed")
            return
        ctx.state.put(claim_key(args.plan, args.claim), claim)

    @action(roles=[PUBLIC])
    def draw_jury(self, ctx: Context, args: ClaimRef) -> None:
        """Draw the panel after the reveal window (anyone may; the result is determined)."""
        record = load_plan(ctx, args.plan)
        claim = load_claim(ctx, args.plan, args.claim)
        _allowed(ctx, claim, "draw_jury")
        if claim["jury"] is not None:
            ctx.fail(f"the panel of claim {args.claim} is already drawn")
        deadline = claim["deadlines"]["reveal"]
        if ctx.time_ms < deadline:
            ctx.fail(f"seed shares of claim {args.claim} may be revealed until {when(deadline)}")
        if not _draw(ctx, args.plan, record, claim, 1):
            _too_few_jurors(ctx, args.plan, record, claim, "draw_jury")
            return
        ctx.state.put(claim_key(args.plan, args.claim), claim)

    @action(roles=[PUBLIC])
    def vote(self, ctx: Context, args: VoteArgs) -> None:
        """A juror's vote, once; the claim is decided as soon as the outcome is settled."""
        record = load_plan(ctx, args.plan)
        claim = load_claim(ctx, args.plan, args.claim)
        did = ctx.signer_did
        if claim["claimant"] == did:
            ctx.fail("a claimant may not judge their own claim")
        jury = claim["jury"]
        if claim["status"] != "jury_review" or jury is None:
            ctx.fail(f"claim {args.claim} has no panel voting (it is {claim['status']})")
        if did not in jury["jurors"]:
            ctx.fail(f"{did} is not on the panel of claim {args.claim}")
        active_member(ctx, args.plan, did, who="juror")
        if did in jury["votes"]:
            earlier = jury["votes"][did]
            ctx.fail(
                f"{did} already voted {earlier['vote']} on claim {args.claim} "
                f"at {when(earlier['time_ms'])}; a juror votes once"
            )
        if ctx.time_ms >= jury["deadline"]:
            ctx.fail(f"voting on claim {args.claim} closed at {when(jury['deadline'])}")
        jury["votes"][did] = {"vote": args.vote, "reason": args.reason, "time_ms": ctx.time_ms}
        ctx.emit("juror_voted", subject=f"{args.plan}/claim/{args.claim}", juror=did)
        rules = record["rules"]
        approve, reject = _tally(jury)
        outcome = jury_outcome(
            approve,
            reject,
            size=len(jury["jurors"]),
            quorum=min(rules["jury_quorum"], len(jury["jurors"])),
            voting_over=False,
        )
        if outcome is None:
            ctx.state.put(claim_key(args.plan, args.claim), claim)
            return
        _decide(ctx, args.plan, claim, "vote", outcome)

    @action(roles=[PUBLIC])
    def close_jury(self, ctx: Context, args: ClaimRef) -> None:
        """After the voting window: decide with a quorum, else draw a new panel."""
        record = load_plan(ctx, args.plan)
        claim = load_claim(ctx, args.plan, args.claim)
        jury = claim["jury"]
        if claim["status"] != "jury_review" or jury is None:
            ctx.fail(f"claim {args.claim} has no panel voting (it is {claim['status']})")
        if ctx.time_ms < jury["deadline"]:
            ctx.fail(f"voting on claim {args.claim} runs until {when(jury['deadline'])}")
        approve, reject = _tally(jury)
        quorum = min(record["rules"]["jury_quorum"], len(jury["jurors"]))
        outcome = jury_outcome(
            approve, reject, size=len(jury["jurors"]), quorum=quorum, voting_over=True
        )
        if outcome is not None:
            _decide(ctx, args.plan, claim, "close_jury", outcome)
            return
        rounds = jury["round"]
        if rounds >= MAX_JURY_ROUNDS:
            claim["approved_ms"] = ctx.time_ms
            move_claim(
                ctx,
                args.plan,
                claim,
                "close_jury",
                "approved",
                f"no quorum in {rounds} panels ({quorum} votes needed); the findings stand",
            )
            enqueue(ctx, args.plan, claim)
            return
        claim["panels"].append(jury)
        claim["jury"] = None
        if not _draw(ctx, args.plan, record, claim, rounds + 1):
            _too_few_jurors(ctx, args.plan, record, claim, "close_jury")
            return
        move_claim(
            ctx,
            args.plan,
            claim,
            "close_jury",
            "jury_review",
            f"panel {rounds}: {approve + reject} votes, {quorum} needed; panel {rounds + 1} drawn",
        )


def _share(party: str, role: str, commitment: str) -> dict[str, Any]:
    return {"party": party, "role": role, "commitment": commitment, "secret": None}


def _allowed(ctx: Context, claim: dict[str, Any], activity: str) -> None:
    statuses, _, what = CLAIM_ACTIVITIES[activity]
    if claim["status"] not in statuses:
        ctx.fail(
            f"claim {claim['number']} is {claim['status']}; {activity} is for claims that are "
            f"{', '.join(sorted(statuses))} ({what})"
        )


def _too_few_jurors(
    ctx: Context, plan: str, record: dict[str, Any], claim: dict[str, Any], action: str
) -> None:
    """No panel can reach the quorum: the assessor's findings stand (the claim went to
    notice because they support it), recorded with the reason."""
    rounds = len(claim["panels"]) + 1
    quorum = record["rules"]["jury_quorum"]
    claim["approved_ms"] = ctx.time_ms
    move_claim(
        ctx,
        plan,
        claim,
        action,
        "approved",
        f"fewer than {quorum} members are eligible for panel {rounds} (the quorum); "
        "the assessor's findings stand",
    )
    enqueue(ctx, plan, claim)


def _before_notice_deadline(ctx: Context, claim: dict[str, Any], what: str) -> None:
    deadline = claim["deadlines"].get("notice")
    if deadline is not None and ctx.time_ms >= deadline:
        ctx.fail(
            f"the public notice of claim {claim['number']} closed at {when(deadline)}; "
            f"{what} are no longer accepted"
        )


def _party(ctx: Context, record: dict[str, Any], claim: dict[str, Any]) -> tuple[str, str | None]:
    """The signer as a seed party: (party id, role), role ``None`` if it is none."""
    if ctx.signer_did == claim["claimant"]:
        return ctx.signer_did, "claimant"
    if any(objection["by"] == ctx.signer_did for objection in claim["objections"]):
        return ctx.signer_did, "objector"
    if ctx.org is not None and ctx.org == record["operator"]:
        return ctx.org, "operator"
    return ctx.signer_did, None


def _draw(
    ctx: Context, plan: str, record: dict[str, Any], claim: dict[str, Any], round_number: int
) -> bool:
    """Draw panel ``round_number`` into ``claim["jury"]`` (the caller writes the claim);
    ``False`` (and nothing drawn) when fewer members than the quorum are eligible."""
    shares = sorted(
        enumerate(claim["seed"]), key=lambda item: (SEED_ROLES.index(item[1]["role"]), item[0])
    )
    ordered = [share for _, share in shares]
    seed, source = jury_seed(
        plan,
        claim["number"],
        [(s["party"], s["secret"]) for s in ordered if s["secret"] is not None],
        [(s["party"], s["commitment"]) for s in ordered],
    )
    excluded = {claim["claimant"], *(o["by"] for o in claim["objections"])}
    for panel in claim["panels"]:
        excluded.update(panel["jurors"])
    rules = record["rules"]
    population = load_books(ctx, plan)["members"]

    def past_waiting(did: str) -> bool:
        # The dense index holds active members only; the waiting period still applies.
        return bool(ctx.state.get(member_key(plan, did))["eligible_from_ms"] <= ctx.time_ms)

    jurors = draw_jurors(
        round_seed(seed, round_number),
        population,
        rules["jury_size"],
        lambda index: str(ctx.state.get(slot_key(plan, index))),
        excluded,
        past_waiting,
    )
    if len(jurors) < rules["jury_quorum"]:
        return False
    claim["jury"] = {
        "round": round_number,
        "seed": seed.hex(),
        "source": source,
        "dropped": [s["party"] for s in ordered if s["secret"] is None],
        "jurors": jurors,
        "votes": {},
        "drawn_ms": ctx.time_ms,
        "deadline": ctx.time_ms + rules["jury_ms"],
    }
    subject = f"{plan}/claim/{claim['number']}"
    ctx.emit("jury_drawn", subject=subject, round=round_number, source=source, jurors=jurors)
    for juror in jurors:
        ctx.emit("juror_drawn", subject=juror, plan=plan, claim=claim["number"])
    return True


def _tally(jury: dict[str, Any]) -> tuple[int, int]:
    votes = [v["vote"] for v in jury["votes"].values()]
    return votes.count("approve"), votes.count("reject")


def _decide(ctx: Context, plan: str, claim: dict[str, Any], action: str, outcome: str) -> None:
    jury = claim["jury"]
    approve, reject = _tally(jury)
    reason = f"panel {jury['round']}: {approve} approve, {reject} reject"
    if outcome == "approved":
        claim["approved_ms"] = ctx.time_ms
    move_claim(ctx, plan, claim, action, outcome, reason)
    if outcome == "approved":
        enqueue(ctx, plan, claim)
