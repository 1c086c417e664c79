"""Member statements: what a member owes for a closed period, checked offline.

Rules this module obeys:
- Pure: no I/O, clock or randomness. A statement package is built from state proof
  bundles a node produced, and verified with nothing but the network's genesis.
- A *statement package* is the canonical CBOR map::

      {"salus_statement": 1, "plan": str, "member": did:key, "period": int,
       "proofs": {"period": bundle, "member": bundle}}

  with solo or CometBFT *state* bundles (:mod:`salus.core.proofs`) of
  ``mutual_aid/period/<plan>/<period>`` and ``mutual_aid/member/<plan>/<member>``.
- The proofs need not be of the same block. A closed period record is never written
  again, and the parts of a member record a past period depends on (joining period,
  leaving period and ordinal, the index history) only ever gain entries for later
  periods; so the member proof must merely be of a block at or after the close.
- :func:`verify_statement` runs the steps ``decode`` → ``proofs`` → ``period`` →
  ``share`` and stops at the first failure; it never raises for bad input. The
  ``period`` step recomputes the fee, the total and the split from the period's own
  claim list with :mod:`salus.apps.mutual_aid.sharing`, so a member trusts neither the
  node nor the arithmetic it reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Protocol

from salus.apps.mutual_aid.records import MUTUAL_AID, member_key, period_key
from salus.apps.mutual_aid.rules import format_money
from salus.apps.mutual_aid.sharing import (
    index_at_close,
    management_fee,
    share_for_index,
    split_period,
)
from salus.core import codec
from salus.core.genesis import Genesis
from salus.core.proofs import MAX_BUNDLE_BYTES, verify_bundle
from salus.errors import SalusError

__all__ = [
    "MAX_STATEMENT_BYTES",
    "STATEMENT_STEPS",
    "StateProver",
    "Statement",
    "StatementVerdict",
    "build_statement",
    "compute_statement",
    "encode_statement",
    "statement_keys",
    "verify_statement",
]

STATEMENT_VERSION: Final = 1
MAX_STATEMENT_BYTES: Final = 3 * MAX_BUNDLE_BYTES
STATEMENT_STEPS: Final = ("decode", "proofs", "period", "share")
_FIELDS: Final = frozenset({"salus_statement", "plan", "member", "period", "proofs"})
_PROOFS: Final = ("period", "member")


@dataclass(frozen=True, slots=True)
class Statement:
    """A member's bill for one closed period, and the figures it follows from."""

    plan: str
    member: str
    period: int
    currency: str
    minor_units: int
    shared: bool  # did the member share this period?
    index: int | None  # the member's index in the split (None if it did not share)
    share: int  # minor units billed to the member
    members: int
    base: int
    remainder: int
    charged: int
    due: int
    carry_in: int
    carry_out: int
    payouts: int
    sponsor_payouts: int
    fee: int
    fee_bps: int
    cap: int
    claims: list[tuple[int, int]] = field(default_factory=list)
    sponsor_claims: list[tuple[int, int]] = field(default_factory=list)
    closed_ms: int = 0
    paid_to_date: int = 0  # all share payments of the member, as of the member proof

    def money(self, amount: int) -> str:
        return format_money(amount, self.currency, self.minor_units)

    def explain(self) -> str:
        """The statement in words, with the arithmetic a member can redo by hand."""
        total = (
            f"{len(self.claims)} member-funded claims of {self.money(self.payouts)} plus "
            f"fee {self.money(self.fee)} ({self.fee_bps} bps) plus "
            f"{self.money(self.carry_in)} carried in = {self.money(self.due)}"
        )
        capped = (
            f"; the cap of {self.money(self.cap)} per member held back "
            f"{self.money(self.carry_out)} for the next period"
            if self.carry_out
            else ""
        )
        split = (
            f"{self.money(self.charged)} over {self.members} members = {self.money(self.base)} each"
        )
        if self.remainder:
            split += (
                f", and 1 minor unit more for the {self.remainder} members with index "
                f"below {self.remainder}"
            )
        if not self.shared:
            mine = f"{self.member} did not share period {self.period}: it owes nothing for it"
        else:
            mine = f"index {self.index}: share {self.money(self.share)}"
        return f"Period {self.period}: {total}{capped}. {split}. {mine}."

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["claims"] = [list(pair) for pair in self.claims]
        data["sponsor_claims"] = [list(pair) for pair in self.sponsor_claims]
        return data


@dataclass(frozen=True, slots=True)
class StatementVerdict:
    """``valid`` with the :class:`Statement`, or the step that failed and why."""

    valid: bool
    step: str
    reason: str
    statement: Statement | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "step": self.step,
            "reason": self.reason,
            "statement": None if self.statement is None else self.statement.to_json(),
            "facts": self.facts,
        }


def statement_keys(plan: str, member: str, period: int) -> dict[str, str]:
    """The ``mutual_aid`` state keys whose proofs a statement package carries."""
    return {"period": period_key(plan, period), "member": member_key(plan, member)}


def encode_statement(*, plan: str, member: str, period: int, proofs: Mapping[str, bytes]) -> bytes:
    """Canonical CBOR of a statement package; ``proofs`` are bundles from
    ``Node.state_proof("mutual_aid", key)`` for the keys :func:`statement_keys` names."""
    if set(proofs) != set(_PROOFS):
        raise ValueError(f"proofs must be exactly {', '.join(_PROOFS)}")
    return codec.encode(
        {
            "salus_statement": STATEMENT_VERSION,
            "plan": plan,
            "member": member,
            "period": period,
            "proofs": {name: bytes(proofs[name]) for name in _PROOFS},
        }
    )


class StateProver(Protocol):
    """Anything that serves state proof bundles: a :class:`~salus.node.Node` or a
    :class:`~salus.client.SalusClient`."""

    def state_proof(self, contract: str, key: str, /) -> bytes: ...


def build_statement(prover: StateProver, *, plan: str, member: str, period: int) -> bytes:
    """Fetch the two proofs of a member's statement for a closed period and package them."""
    keys = statement_keys(plan, member, period)
    proofs = {name: prover.state_proof(MUTUAL_AID, key) for name, key in keys.items()}
    return encode_statement(plan=plan, member=member, period=period, proofs=proofs)


def _pairs(value: Any, what: str) -> list[tuple[int, int]]:
    if not isinstance(value, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, int) for x in p) for p in value
    ):
        raise ValueError(f"{what} is not a list of [claim, amount] pairs")
    return [(int(n), int(amount)) for n, amount in value]


def compute_statement(
    *, plan: str, member: str, period: Mapping[str, Any], record: Mapping[str, Any]
) -> Statement:
    """Recompute a member's statement from a closed period record and its member record.

    Raises :class:`ValueError` if the period record does not add up (the fee, the total
    or the split disagree with its own claims and rules).
    """
    try:
        claims = _pairs(period["member_claims"], "member_claims")
        sponsor_claims = _pairs(period["sponsor_claims"], "sponsor_claims")
        payouts = sum(amount for _, amount in claims)
        fee = management_fee(payouts, int(period["fee_bps"]))
        members = int(period["active"])  # leavers do not share the period they left in
        split = split_period(
            carry_in=int(period["carry_in"]),
            payouts=payouts,
            fee=fee,
            members=members,
            cap=int(period["cap"]),
        )
        recorded = (
            period["payouts"],
            period["sponsor_payouts"],
            period["fee"],
            period["members"],
            period["due"],
            period["charged"],
            period["base"],
            period["remainder"],
            period["carry_out"],
        )
        expected = (
            payouts,
            sum(amount for _, amount in sponsor_claims),
            fee,
            members,
            split.due,
            split.charged,
            split.base,
            split.remainder,
            split.carry_out,
        )
        if recorded != expected:
            names = (
                "payouts",
                "sponsor_payouts",
                "fee",
                "members",
                "due",
                "charged",
                "base",
                "remainder",
                "carry_out",
            )
            wrong = [n for n, r, e in zip(names, recorded, expected, strict=True) if r != e]
            raise ValueError(f"the period record does not add up: {', '.join(wrong)}")
        index = index_at_close(record, period)
        share = 0 if index is None else share_for_index(split.base, split.remainder, members, index)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"a record lacks a field or has a wrong type: {exc}") from None
    return Statement(
        plan=plan,
        member=member,
        period=int(period["number"]),
        currency=str(period["currency"]),
        minor_units=int(period["minor_units"]),
        shared=index is not None,
        index=index,
        share=share,
        members=members,
        base=split.base,
        remainder=split.remainder,
        charged=split.charged,
        due=split.due,
        carry_in=int(period["carry_in"]),
        carry_out=split.carry_out,
        payouts=payouts,
        sponsor_payouts=int(period["sponsor_payouts"]),
        fee=fee,
        fee_bps=int(period["fee_bps"]),
        cap=int(period["cap"]),
        claims=claims,
        sponsor_claims=sponsor_claims,
        closed_ms=int(period["closed_ms"]),
        paid_to_date=int(record["paid"]),
    )


class _Failed(Exception):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.reason = reason


def verify_statement(package: bytes, genesis: Genesis) -> StatementVerdict:
    """Verify a statement package offline with only the network ``genesis``."""
    facts: dict[str, Any] = {}
    try:
        statement = _verify(package, genesis, facts)
    except _Failed as failed:
        return StatementVerdict(False, failed.step, failed.reason, None, facts)
    reason = (
        f"{statement.member} owes {statement.money(statement.share)} for period {statement.period}"
    )
    return StatementVerdict(True, "done", reason, statement, facts)


def _decode(package: bytes) -> dict[str, Any]:
    try:
        data = codec.decode(package, max_size=MAX_STATEMENT_BYTES, what="statement package")
    except SalusError as exc:
        raise _Failed("decode", exc.reason) from None
    if not isinstance(data, dict) or set(data) != _FIELDS:
        raise _Failed("decode", f"a statement package is a map of {', '.join(sorted(_FIELDS))}")
    if data["salus_statement"] != STATEMENT_VERSION:
        raise _Failed("decode", f"unsupported statement version {data['salus_statement']!r}")
    if not isinstance(data["plan"], str) or not isinstance(data["member"], str):
        raise _Failed("decode", "plan and member must be text")
    if isinstance(data["period"], bool) or not isinstance(data["period"], int):
        raise _Failed("decode", "period must be an integer")
    proofs = data["proofs"]
    if not isinstance(proofs, dict) or set(proofs) != set(_PROOFS):
        raise _Failed("decode", f"proofs must be exactly {', '.join(_PROOFS)}")
    if not all(isinstance(bundle, bytes) for bundle in proofs.values()):
        raise _Failed("decode", "each proof must be a bundle (bytes)")
    return data


def _proven(bundle: bytes, genesis: Genesis, name: str, key: str) -> dict[str, Any]:
    verdict = verify_bundle(bundle, genesis)
    if not verdict.valid:
        raise _Failed(
            "proofs", f"the {name} proof fails at its {verdict.step} step: {verdict.reason}"
        )
    facts = verdict.facts
    if facts.get("kind") != "state":
        raise _Failed("proofs", f"the {name} proof is not a state proof")
    if facts["key"] != f"{MUTUAL_AID}/{key}":
        raise _Failed(
            "proofs", f"the {name} proof is about {facts['key']!r}, not {MUTUAL_AID}/{key}"
        )
    if not facts["present"] or not isinstance(facts["value"], dict):
        raise _Failed("proofs", f"{MUTUAL_AID}/{key} is absent at block {facts['height']}")
    return facts


def _verify(package: bytes, genesis: Genesis, facts: dict[str, Any]) -> Statement:
    data = _decode(package)
    plan, member, number = data["plan"], data["member"], data["period"]
    keys = statement_keys(plan, member, number)
    period_facts = _proven(data["proofs"]["period"], genesis, "period", keys["period"])
    member_facts = _proven(data["proofs"]["member"], genesis, "member", keys["member"])
    period = period_facts["value"]
    closed_height = period.get("closed_height")
    facts.update(period_height=period_facts["height"], member_height=member_facts["height"])
    if not isinstance(closed_height, int) or member_facts["height"] < closed_height:
        raise _Failed(
            "proofs",
            f"the member proof is of block {member_facts['height']}, before period {number} "
            f"closed at block {closed_height}",
        )
    if period.get("number") != number:
        raise _Failed("period", f"the period record is numbered {period.get('number')!r}")
    try:
        statement = compute_statement(
            plan=plan, member=member, period=period, record=member_facts["value"]
        )
    except ValueError as exc:
        step = "period" if "period record" in str(exc) else "share"
        raise _Failed(step, str(exc)) from None
    facts["closed_height"] = closed_height
    return statement
