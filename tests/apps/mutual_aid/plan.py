"""A small consortium running one mutual-aid plan, driven block by block with block time."""

from __future__ import annotations

from typing import Any

from salus.apps.mutual_aid import (
    MUTUAL_AID,
    MutualAidContract,
    seed_commitment,
    sign_attestation,
)
from salus.apps.mutual_aid.rules import DAY_MS
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.core.identity import IdentityContract
from salus.core.notary import NotaryContract
from tests.support import Chain, genesis_data, key

PLAN = "xhb"
REGULATOR = key(1)  # health-ministry: a governor
ASSESSOR = key(2)  # city-hospital: an accredited assessor
OPERATOR = key(3)  # red-cross: the plan operator
ASSESSOR_2 = key(4)  # open-university: a second assessor
ATTESTOR = key(30)  # the operator's attestation key (signs off-ledger only)
COUNCIL = key(31)  # an elected member representative: an individual governor
SPONSOR = "city-hospital"
EVIDENCE = "e" * 64
REPORT = "f" * 64
REFERENCE = "d" * 64
CLAIMANT_SECRET = "11" * 32  # every claimant's jury seed share in these tests


def member_key(n: int) -> Signer:
    return key(100 + n)


def claimant_commitment(n: int, secret: str = CLAIMANT_SECRET) -> str:
    """Member ``n``'s seed commitment for a claim it submits (bound to claim number 0)."""
    return seed_commitment(PLAN, 0, member_key(n).did, secret)


def rules(**changes: Any) -> dict[str, Any]:
    base = {
        "eligible_bands": ["30d-17y", "18y-39y", "40y-59y"],
        "waiting_ms": 10 * DAY_MS,
        "attestation_ttl_ms": 30 * DAY_MS,
        "period_ms": 15 * DAY_MS,
        "fee_bps": 800,
        "member_cap": 10_000,
        "investigation_ms": 5 * DAY_MS,
        "notice_ms": 3 * DAY_MS,
        "reveal_ms": 1 * DAY_MS,
        "jury_ms": 2 * DAY_MS,
        "jury_size": 3,
        "jury_quorum": 2,
        "proposal_ttl_ms": 7 * DAY_MS,
    }
    return {**base, **changes}


CONDITIONS = [
    {
        "code": "C34",
        "name": "Malignant neoplasm of bronchus and lung",
        "max_payout": 300_000_00,
        "effective_from": "2018-10-16",
    },
    {
        "code": "I21",
        "name": "Acute myocardial infarction",
        "max_payout": 300_000_00,
        "effective_from": "2018-10-16",
    },
]


def genesis() -> Genesis:
    data = genesis_data(4)
    orgs = data["consortium"]["organisations"]
    orgs[1]["roles"] = ["assessor"]
    orgs[2]["roles"] = ["mutual_aid_operator"]
    orgs[3]["roles"] = ["assessor"]
    return Genesis.from_data(data)


def contracts() -> list[Any]:
    return [IdentityContract(), NotaryContract(), MutualAidContract()]


class PlanChain:
    """A chain with the plan created and ``members`` members enrolled by the operator."""

    def __init__(
        self,
        members: int = 6,
        *,
        plan_rules: dict[str, Any] | None = None,
        conditions: list[dict[str, Any]] | None = None,
    ) -> None:
        self.chain = Chain(genesis(), contracts())
        self.ok(
            OPERATOR,
            "create_plan",
            plan=PLAN,
            name="Xiang Hu Bao model plan",
            currency="CNY",
            attestor=ATTESTOR.did,
            governors=["red-cross", "health-ministry", COUNCIL.did],
            approvals_required=2,
            rules=plan_rules or rules(),
            conditions=CONDITIONS if conditions is None else conditions,
        )
        if members:
            self.enrol(range(members))

    @property
    def now(self) -> int:
        return self.chain.time_ms

    def advance(self, ms: int) -> None:
        """Let ``ms`` of block time pass before the next block."""
        self.chain.time_ms += ms

    def attestation(self, n: int, *, band: str = "18y-39y", issued_ms: int | None = None) -> Any:
        return sign_attestation(
            ATTESTOR,
            plan=PLAN,
            member=member_key(n).did,
            band=band,
            issued_ms=self.now if issued_ms is None else issued_ms,
            evidence=EVIDENCE,
        )

    def enrol(self, numbers: Any) -> Any:
        entries = [self.attestation(n).enrolment_entry() for n in numbers]
        return self.ok(OPERATOR, "enrol_members", plan=PLAN, members=entries)

    def run(self, signer: Signer, action: str, **args: Any) -> Any:
        return self.chain.run(signer, MUTUAL_AID, action, args)

    def pending(self, signer: Signer, action: str, **args: Any) -> Any:
        """Run one action in its own block; return the block (its ``changes`` are the writes)."""
        pending = self.chain.block(self.chain.tx(signer, MUTUAL_AID, action, args))
        assert pending.results[0].ok, (action, pending.results[0].reason)
        return pending

    def ok(self, signer: Signer, action: str, **args: Any) -> Any:
        result = self.run(signer, action, **args)
        assert result.ok, (action, result.reason)
        return result

    def refused(self, signer: Signer, action: str, message: str, **args: Any) -> Any:
        """Run an action that must be refused with ``message``; check it wrote nothing."""
        before = self.state()
        result = self.run(signer, action, **args)
        assert not result.ok, action
        assert message in result.reason, (message, result.reason)
        assert self.state() == before
        return result

    def state(self) -> dict[bytes, bytes]:
        return {k: v for k, v in self.chain.ledger.items() if k.startswith(b"mutual_aid/")}

    def read(self, key: str) -> Any:
        return self.chain.ledger.read(MUTUAL_AID, key)

    def claim(self, number: int) -> Any:
        return self.read(f"claim/{PLAN}/{number}")

    # Claim lifecycle shortcuts ---------------------------------------------------

    def submit(self, n: int, code: str = "C34", diagnosed_on: str = "", **extra: Any) -> int:
        """Member ``n`` claims; returns the claim number."""
        args = {
            "plan": PLAN,
            "code": code,
            "diagnosed_on": diagnosed_on or self.today(),
            "amount": extra.pop("amount", 100_000_00),
            "evidence": [EVIDENCE],
            "commitment": claimant_commitment(n),
            **extra,
        }
        result = self.ok(member_key(n), "submit_claim", **args)
        return int(result.events[0].attrs["claim"])

    def today(self) -> str:
        from salus.apps.mutual_aid.rules import format_time

        return format_time(self.now)[:10]

    def to_notice(self, claim: int, *, amount: int | None = None) -> None:
        self.ok(ASSESSOR, "start_investigation", plan=PLAN, claim=claim)
        extra = {} if amount is None else {"amount": amount}
        self.ok(
            ASSESSOR,
            "record_findings",
            plan=PLAN,
            claim=claim,
            report=REPORT,
            supported=True,
            reason="pathology report and CT scan confirm the diagnosis",
            **extra,
        )

    def approve(self, claim: int) -> None:
        """Take a submitted claim to ``approved`` with no objection."""
        self.to_notice(claim)
        self.advance(3 * DAY_MS)
        self.ok(REGULATOR, "close_notice", plan=PLAN, claim=claim)

    def commitment(self, claim: int, party: str, secret: str) -> str:
        return seed_commitment(PLAN, claim, party, secret)
