"""Running a mutual-aid plan against a node: each role's actions, sent and waited for.

This is the client side of the ``mutual_aid`` app (I/O lives here, over
:class:`~salus.client.SalusClient`); the pure parts are the rest of the package. A
:class:`PlanClient` names one plan on one node; each of its action methods builds the
arguments the contract expects, signs locally with the given key, submits, waits for
the block, and raises :class:`AidError` with the contract's own reason when the action
is rejected, so a caller (the ``salus aid`` commands, the demo) never half-knows what
happened.

Jury seed secrets are drawn with :func:`new_secret` (the OS CSPRNG). The claimant's is
committed with the claim (:meth:`PlanClient.submit_claim` takes it), an objector's with
the objection, the operator's with :meth:`PlanClient.commit_seed`. Store a secret
durably *before* sending its commitment (the ``salus aid`` commands write the file
first): a lost secret only drops that party's share from the seed (the claim record
names it), it never blocks the claim.

Amounts in arguments are integer minor units, as on the ledger; :func:`parse_amount`
and :func:`format_amount` convert to and from what people type and read ("100000.00").
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from salus.apps.mutual_aid.attestation import Attestation, sign_attestation
from salus.apps.mutual_aid.claims import SUBMISSION, seed_commitment
from salus.apps.mutual_aid.records import (
    MUTUAL_AID,
    books_key,
    claim_key,
    member_balance,
    member_key,
    period_key,
    plan_key,
    proposal_key,
)
from salus.apps.mutual_aid.rules import format_money
from salus.apps.mutual_aid.statement import build_statement
from salus.client import ApiError, SalusClient
from salus.core.crypto import Signer
from salus.errors import SalusError

__all__ = [
    "ENROL_BATCH",
    "PAYMENT_BATCH",
    "AidError",
    "PlanClient",
    "attest",
    "attestation_from_json",
    "attestation_to_json",
    "dump_attestation",
    "format_amount",
    "list_plans",
    "new_secret",
    "parse_amount",
]

# Entries per transaction: a transaction is at most 64 KiB, an enrolment entry about
# 300 bytes of CBOR and a payment about 80 (the contract accepts up to 1,000 of either).
PLANS_PATH: Final = "/v1/mutual-aid/plans"
ENROL_BATCH: Final = 150
PAYMENT_BATCH: Final = 500
_AMOUNT = re.compile(r"(\d{1,15})(?:\.(\d+))?")


class AidError(SalusError):
    """Raised when the node rejects a mutual-aid action, or a record it needs is missing."""

    code = "mutual_aid"


def new_secret() -> str:
    """A fresh jury seed secret: 32 random bytes as 64 hex characters."""
    return secrets.token_hex(32)


def parse_amount(text: str, minor_units: int, *, what: str = "amount") -> int:
    """``"100000.00"`` in a currency with ``minor_units`` decimals → integer minor units.

    Exact: no floats, and more decimals than the currency has is an error, not a rounding.
    """
    match = _AMOUNT.fullmatch(text.strip().replace(",", ""))
    if match is None:
        raise ValueError(f"{what} {text!r} is not an amount like 1234 or 1234.56")
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > minor_units:
        raise ValueError(f"{what} {text!r} has more than {minor_units} decimal places")
    value: int = int(whole) * 10**minor_units + int(fraction.ljust(minor_units, "0") or "0")
    if value <= 0:
        raise ValueError(f"{what} must be more than zero")
    return value


def format_amount(amount: int, record: dict[str, Any]) -> str:
    """Minor units as text in a plan's (or period's) currency, e.g. ``"2460.01 CNY"``."""
    return format_money(amount, str(record["currency"]), int(record["minor_units"]))


def attestation_to_json(attestation: Attestation) -> dict[str, Any]:
    """An attestation as the JSON a member keeps and presents to ``join``."""
    return {
        "type": "salus-mutual-aid-attestation",
        "plan": attestation.plan,
        "member": attestation.member,
        "band": attestation.band,
        "issued_ms": attestation.issued_ms,
        "evidence": attestation.evidence,
        "signature": attestation.signature,
    }


def attestation_from_json(data: Any) -> Attestation:
    """Read :func:`attestation_to_json`'s output; :class:`ValueError` names what is wrong."""
    if not isinstance(data, dict) or data.get("type") != "salus-mutual-aid-attestation":
        raise ValueError(
            "not a mutual-aid attestation (its 'type' is not salus-mutual-aid-attestation)"
        )
    fields: dict[str, type] = {
        "plan": str,
        "member": str,
        "band": str,
        "issued_ms": int,
        "evidence": str,
        "signature": str,
    }
    for name, kind in fields.items():
        if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool):
            raise ValueError(f"the attestation's '{name}' is missing or not a {kind.__name__}")
    return Attestation(
        data["plan"],
        data["member"],
        data["band"],
        data["issued_ms"],
        data["evidence"],
        data["signature"],
    )


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _event(status: dict[str, Any], kind: str) -> dict[str, Any]:
    for event in status.get("events", []):
        if event.get("type") == kind:
            return dict(event)
    raise AidError(f"transaction {status['id']} reported no {kind} event")


@dataclass(frozen=True, slots=True)
class PlanClient:
    """One plan on one node: reads its records and sends each role's actions."""

    client: SalusClient
    plan: str
    timeout: float = 30.0

    # -- reading ------------------------------------------------------------------

    def view(self, path: str = "", **params: Any) -> Any:
        """A read of the node's mutual-aid API about this plan, e.g. ``view("/claims/3")``
        (routes in :mod:`salus.api._routes_mutual_aid`; ``None`` params are left out)."""
        return _api_get(self.client, f"{PLANS_PATH}/{quote(self.plan, safe='')}{path}", params)

    def value(self, key: str) -> Any:
        """The ``mutual_aid`` state value at ``key``, or ``None`` when absent."""
        try:
            return self.client.state(MUTUAL_AID, key)["value"]
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def record(self) -> dict[str, Any]:
        """The plan record; :class:`AidError` when the node has no such plan."""
        record = self.value(plan_key(self.plan))
        if record is None:
            raise AidError(f"there is no plan {self.plan!r} on {self.client.base_url}")
        return dict(record)

    def books(self) -> dict[str, Any]:
        self.record()
        return dict(self.value(books_key(self.plan)))

    def claim(self, number: int) -> dict[str, Any]:
        claim = self.value(claim_key(self.plan, number))
        if claim is None:
            raise AidError(f"plan {self.plan!r} has no claim {number}")
        return dict(claim)

    def member(self, did: str) -> dict[str, Any]:
        member = self.value(member_key(self.plan, did))
        if member is None:
            raise AidError(f"{did} is not a member of plan {self.plan!r}")
        return dict(member)

    def period(self, number: int) -> dict[str, Any]:
        period = self.value(period_key(self.plan, number))
        if period is None:
            raise AidError(f"period {number} of plan {self.plan!r} is not closed")
        return dict(period)

    def proposal(self, number: int) -> dict[str, Any]:
        proposal = self.value(proposal_key(self.plan, number))
        if proposal is None:
            raise AidError(f"plan {self.plan!r} has no proposal {number}")
        return dict(proposal)

    def balance(self, did: str) -> dict[str, Any]:
        """Billed, paid and owed for ``did`` over the closed periods (see ``member_balance``)."""
        self.member(did)
        try:
            return member_balance(_Records(self), self.plan, did)
        except LookupError as exc:
            raise AidError(str(exc)) from None

    def statement_package(self, member: str, period: int) -> bytes:
        """The member's statement package for a closed period: CBOR with two state proofs
        that ``verify_statement`` checks offline against the genesis."""
        self.member(member)
        self.period(period)
        return build_statement(self.client, plan=self.plan, member=member, period=period)

    def last_closed_period(self) -> int | None:
        """The number of the latest closed period, ``None`` before the first close."""
        number = int(self.books()["period"]) - 1
        return number if number >= 1 else None

    def seed_party(self, signer: Signer, number: int) -> str:
        """Who ``signer`` is in claim ``number``'s jury seed: the claimant's or an
        objector's did:key, or the operator's organisation id."""
        claim = self.claim(number)
        if signer.did == claim["claimant"] or any(
            o["by"] == signer.did for o in claim["objections"]
        ):
            return signer.did
        organisation = self.client.account(signer.did).get("organisation")
        if organisation is not None and organisation == self.record()["operator"]:
            return str(organisation)
        return signer.did

    # -- sending ------------------------------------------------------------------

    def act(self, signer: Signer, action: str, **args: Any) -> dict[str, Any]:
        """Send ``mutual_aid.<action>`` signed by ``signer`` and wait until committed.

        Returns the committed transaction's status (``height``, ``events``); raises
        :class:`AidError` with the node's reason when it is refused or rejected.
        """
        try:
            submitted = self.client.send(signer, MUTUAL_AID, action, {"plan": self.plan, **args})
        except ApiError as exc:
            if exc.status in (400, 403):
                raise AidError(f"{action} refused: {exc.message}") from None
            raise
        status = self.client.wait_for(submitted["id"], timeout=self.timeout)
        if status["status"] != "committed":
            raise AidError(f"{action} rejected: {status.get('reason') or 'no reason given'}")
        return status

    # Operator.

    def create(
        self,
        operator: Signer,
        *,
        name: str,
        currency: str,
        attestor: str,
        governors: Sequence[str],
        approvals_required: int,
        rules: dict[str, Any],
        conditions: Sequence[dict[str, Any]] = (),
    ) -> dict[str, Any]:
        """Create the plan; ``operator``'s organisation (role mutual_aid_operator) runs it."""
        return self.act(
            operator,
            "create_plan",
            name=name,
            currency=currency,
            attestor=attestor,
            governors=list(governors),
            approvals_required=approvals_required,
            rules=rules,
            conditions=list(conditions),
        )

    def attest(
        self,
        attestor: Signer,
        member: str,
        *,
        band: str,
        evidence: str,
        issued_ms: int | None = None,
    ) -> Attestation:
        """Sign an eligibility attestation (off the ledger; the member keeps it)."""
        return attest(
            attestor,
            plan=self.plan,
            member=member,
            band=band,
            evidence=evidence,
            issued_ms=issued_ms,
        )

    def enrol(
        self, operator: Signer, attestations: Sequence[Attestation], *, batch: int = ENROL_BATCH
    ) -> list[dict[str, Any]]:
        """Enrol members in bulk, ``batch`` per transaction; a refused batch stops here
        (the earlier batches stay enrolled, and the error says how many)."""
        statuses: list[dict[str, Any]] = []
        done = 0
        for chunk in _chunks(attestations, batch):
            for attestation in chunk:
                if attestation.plan != self.plan:
                    raise AidError(
                        f"the attestation of {attestation.member} is for plan "
                        f"{attestation.plan!r}, not {self.plan!r}"
                    )
            try:
                statuses.append(
                    self.act(
                        operator,
                        "enrol_members",
                        members=[a.enrolment_entry() for a in chunk],
                    )
                )
            except AidError as exc:
                raise AidError(
                    f"{exc.reason} ({done} members enrolled before this batch)"
                ) from None
            done += len(chunk)
        return statuses

    def record_payments(
        self,
        operator: Signer,
        payments: Sequence[tuple[str, int]],
        *,
        reference: str,
        batch: int = PAYMENT_BATCH,
    ) -> int:
        """Record share payments the operator received, ``(did, amount)``; the total."""
        total = 0
        for chunk in _chunks(payments, batch):
            self.act(
                operator,
                "record_payments",
                payments=[{"member": did, "amount": amount} for did, amount in chunk],
                reference=reference,
            )
            total += sum(amount for _, amount in chunk)
        return total

    def pay_share(self, operator: Signer, member: str, *, reference: str) -> int:
        """Record that ``member`` paid everything it owes; the amount (0: nothing owed)."""
        owed = int(self.balance(member)["outstanding"])
        if owed > 0:
            self.record_payments(operator, [(member, owed)], reference=reference)
        return owed

    def deposit_sponsor_funds(
        self, operator: Signer, *, sponsor: str, amount: int, reference: str
    ) -> dict[str, Any]:
        return self.act(
            operator, "deposit_sponsor_funds", sponsor=sponsor, amount=amount, reference=reference
        )

    def take_fee(self, operator: Signer, *, amount: int, reference: str) -> dict[str, Any]:
        return self.act(operator, "take_fee", amount=amount, reference=reference)

    def close_period(self, operator: Signer) -> dict[str, Any]:
        """Close the open sharing period; returns the ``period_closed`` event's attributes."""
        status = self.act(operator, "close_period")
        return dict(_event(status, "period_closed")["attrs"])

    def record_payout(self, operator: Signer, claim: int, *, reference: str) -> dict[str, Any]:
        return self.act(operator, "record_payout", claim=claim, reference=reference)

    # Members.

    def join(self, member: Signer, attestation: Attestation) -> dict[str, Any]:
        if attestation.member != member.did:
            raise AidError(
                f"the attestation is for {attestation.member}, not for the key {member.did}"
            )
        if attestation.plan != self.plan:
            raise AidError(f"the attestation is for plan {attestation.plan!r}, not {self.plan!r}")
        args = {k: v for k, v in attestation.join_args().items() if k != "plan"}
        return self.act(member, "join", **args)

    def leave(self, member: Signer) -> dict[str, Any]:
        return self.act(member, "leave")

    def submit_claim(
        self,
        member: Signer,
        *,
        code: str,
        diagnosed_on: str,
        amount: int,
        evidence: Iterable[str],
        secret: str,
    ) -> int:
        """Claim a payout, committing the claimant's jury seed share ``secret`` (keep it
        to reveal if the claim is objected); returns the claim number."""
        status = self.act(
            member,
            "submit_claim",
            code=code,
            diagnosed_on=diagnosed_on,
            amount=amount,
            evidence=list(evidence),
            commitment=seed_commitment(self.plan, SUBMISSION, member.did, secret),
        )
        return int(_event(status, "claim_submitted")["attrs"]["claim"])

    def withdraw_claim(self, member: Signer, claim: int, *, reason: str) -> dict[str, Any]:
        return self.act(member, "withdraw_claim", claim=claim, reason=reason)

    def object(self, member: Signer, claim: int, *, reason: str, secret: str | None = None) -> str:
        """Object to a claim in public notice; returns the jury seed secret to reveal later."""
        secret = secret or new_secret()
        commitment = seed_commitment(self.plan, claim, member.did, secret)
        self.act(member, "object", claim=claim, reason=reason, commitment=commitment)
        return secret

    def commit_seed(self, signer: Signer, claim: int, *, secret: str | None = None) -> str:
        """The operator commits its jury seed share; returns the secret to keep."""
        secret = secret or new_secret()
        party = self.seed_party(signer, claim)
        commitment = seed_commitment(self.plan, claim, party, secret)
        self.act(signer, "commit_seed", claim=claim, commitment=commitment)
        return secret

    def reveal_seed(self, signer: Signer, claim: int, *, secret: str) -> dict[str, Any]:
        return self.act(signer, "reveal_seed", claim=claim, secret=secret)

    # Assessors.

    def start_investigation(
        self, assessor: Signer, claim: int, *, note: str = ""
    ) -> dict[str, Any]:
        return self.act(assessor, "start_investigation", claim=claim, note=note)

    def record_findings(
        self,
        assessor: Signer,
        claim: int,
        *,
        report: str,
        supported: bool,
        reason: str,
        amount: int | None = None,
    ) -> str:
        """Record findings; returns the claim's new status (public_notice or rejected)."""
        args: dict[str, Any] = {
            "claim": claim,
            "report": report,
            "supported": supported,
            "reason": reason,
        }
        if amount is not None:
            args["amount"] = amount
        self.act(assessor, "record_findings", **args)
        return str(self.claim(claim)["status"])

    # Jurors and anyone.

    def vote(self, juror: Signer, claim: int, *, approve: bool, reason: str) -> str:
        """Cast a juror's vote; returns the claim's status afterwards."""
        self.act(juror, "vote", claim=claim, vote="approve" if approve else "reject", reason=reason)
        return str(self.claim(claim)["status"])

    def close_notice(self, signer: Signer, claim: int) -> str:
        self.act(signer, "close_notice", claim=claim)
        return str(self.claim(claim)["status"])

    def draw_jury(self, signer: Signer, claim: int) -> list[str]:
        self.act(signer, "draw_jury", claim=claim)
        return list(self.claim(claim)["jury"]["jurors"])

    def close_jury(self, signer: Signer, claim: int) -> str:
        self.act(signer, "close_jury", claim=claim)
        return str(self.claim(claim)["status"])

    # Governors.

    def propose(
        self, governor: Signer, *, kind: str, params: dict[str, Any], note: str = ""
    ) -> tuple[int, str]:
        """Propose a rule change (approving it); ``(proposal number, its status)``."""
        status = self.act(governor, "propose_rule_change", kind=kind, params=params, note=note)
        subject = str(_event(status, "rule_change_proposed")["subject"])
        number = int(subject.rsplit("/", 1)[1])
        return number, str(self.proposal(number)["status"])

    def approve(self, governor: Signer, proposal: int) -> str:
        """Approve a proposal; returns its status (``executed`` once enough approved)."""
        self.act(governor, "approve_rule_change", proposal=proposal)
        return str(self.proposal(proposal)["status"])

    def cancel(self, governor: Signer, proposal: int) -> dict[str, Any]:
        return self.act(governor, "cancel_rule_change", proposal=proposal)


def list_plans(client: SalusClient) -> list[dict[str, Any]]:
    """Every plan on the node's ledger: id, name, currency, operator, members (the API
    pages them by id; this follows the pages)."""
    plans: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200} if after is None else {"after": after, "limit": 200}
        page = _api_get(client, PLANS_PATH, params)
        plans.extend(page["plans"])
        after = page.get("next")
        if after is None:
            return plans


def attest(
    attestor: Signer,
    *,
    plan: str,
    member: str,
    band: str,
    evidence: str,
    issued_ms: int | None = None,
) -> Attestation:
    """Sign an eligibility attestation now (or at ``issued_ms``); no node is involved."""
    when = int(time.time() * 1000) if issued_ms is None else issued_ms
    return sign_attestation(
        attestor, plan=plan, member=member, band=band, issued_ms=when, evidence=evidence
    )


def _api_get(client: SalusClient, path: str, params: dict[str, Any]) -> Any:
    # The SDK's generic GET (its errors are ApiError like every other call); the
    # mutual-aid routes are app-specific, so they are named here, not in the SDK.
    return client._get(path, **params)


class _Records:
    """``get(key)`` over a node, for the read helpers in :mod:`.records`."""

    def __init__(self, plan: PlanClient) -> None:
        self.plan = plan

    def get(self, key: str, /) -> Any:
        return self.plan.value(key)


def dump_attestation(attestation: Attestation) -> str:
    """:func:`attestation_to_json` as indented text, for a file."""
    return json.dumps(attestation_to_json(attestation), indent=2) + "\n"
