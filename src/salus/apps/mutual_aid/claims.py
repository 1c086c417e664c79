"""The claim lifecycle as data, and the pure parts of a jury: seed, draw, outcome.

Rules this module obeys:
- :data:`CLAIM_TRANSITIONS` is the only place that says which status change is legal;
  the contract moves a claim only through :func:`transition`, and the diagram in the
  docs is rendered from the same table (:mod:`salus.apps.mutual_aid.diagram`).
- :data:`CLAIM_ACTIVITIES` lists the actions that act on a claim without moving it
  (objecting, committing and revealing seed shares, drawing a jury), with the
  statuses they are allowed in.
- Pure: the jury seed comes only from values the parties put on the ledger.

Theory of operation (jury). Any member may object to a claim in public notice. When
the notice closes with objections, a panel of members decides. No single party may
pick the panel, so its seed is a commit-reveal coin toss between at least three
parties, each committing ``H(secret)`` (:func:`seed_commitment`) before any secret is
revealed: the claimant with the claim itself (``submit_claim`` requires it; the claim
has no number yet, so that commitment binds claim number ``0``), every objector with
its objection, and the plan's operator (``commit_seed``, any time before the notice is
closed: ``close_notice`` refuses to send an objected claim to a jury until the
operator has committed). After the notice closes each party reveals its secret within
the reveal window.

The seed (:func:`jury_seed`) is SHA-256 over the reveals in a fixed order (claimant,
operator, objectors in the order they objected) when at least two parties revealed
(source ``"reveals"``). When fewer than two revealed it is SHA-256 over every
commitment and the single reveal, if any (source ``"commitments"``). A party that did
not reveal in time is left out of the reveals and named (``dropped``).

What no single party controls, precisely. Every commitment is fixed before the notice
closes and every reveal comes after, so no party can choose its secret knowing another
party's secret. With two or more reveals the seed depends on at least two secrets
chosen independently; a party that sees the others' reveals before its own deadline
can still choose to withhold, i.e. pick between two panels (the seed with and without
its share); ``k`` colluding keys (say a claimant with an objector key of its own) pick
among at most ``2**k`` panels, and every withholding is recorded. Only when all but
one party withhold does the seed fall back to the commitments: the party whose
commitment came last could have ground its secret against the others' commitments,
but the fallback applies only if every other party then withholds, which it does not
control alone (it takes the collusion of every other committed key). The claim record
names the source, so a panel drawn without two reveals is visible to everyone.

Jurors are drawn from the dense member index ``0..N-1`` by a Fisher-Yates shuffle
evaluated lazily (:func:`draw_jurors`): step ``k`` picks position
``k + H(seed || k) mod (N - k)`` and remembers only the positions it swapped, so a
panel of ``m`` costs ``m`` plus the number of excluded members drawn, never ``N``.
The claimant, the objectors, jurors of earlier panels, and members not eligible at
the draw (still in their waiting period) are skipped. Members who left are not in the
index. When fewer members than the quorum can be drawn the claim is decided without a
panel: the assessor's findings stand (``approved``, an explicit transition of
``reveal_seed``, ``draw_jury`` and ``close_jury``, recorded with the reason).
``H mod n`` of a 256-bit hash is biased by at most ``n / 2**256``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from salus.core import codec
from salus.core.crypto import sha256
from salus.errors import ContractError

__all__ = [
    "CLAIM_ACTIVITIES",
    "CLAIM_STATES",
    "CLAIM_TRANSITIONS",
    "FINAL_STATES",
    "MAX_JURY_ROUNDS",
    "SEED_ROLES",
    "SUBMISSION",
    "Transition",
    "draw_jurors",
    "jury_outcome",
    "jury_seed",
    "round_seed",
    "seed_commitment",
    "transition",
]

CLAIM_STATES: Final = (
    "submitted",
    "investigation",
    "public_notice",
    "jury_review",
    "approved",
    "rejected",
    "withdrawn",
    "included",
    "paid",
)
FINAL_STATES: Final = frozenset({"rejected", "withdrawn", "paid"})
MAX_JURY_ROUNDS: Final = 3
SEED_ROLES: Final = ("claimant", "operator", "objector")
# The claim number a claimant's commitment binds: it is made in ``submit_claim``,
# before the claim has a number.
SUBMISSION: Final = 0
_COMMIT_DOMAIN: Final = b"salus/mutual-aid/seed-commitment/v1\x00"
_SEED_DOMAIN: Final = b"salus/mutual-aid/jury-seed/v1\x00"
_DRAW_DOMAIN: Final = b"salus/mutual-aid/jury-draw/v1\x00"


@dataclass(frozen=True, slots=True)
class Transition:
    """One legal move: ``action`` by ``by`` takes a claim from ``source`` to ``target``
    when ``when`` holds. ``source`` ``None`` is "no claim yet"."""

    action: str
    source: str | None
    target: str
    by: str
    when: str


CLAIM_TRANSITIONS: Final = (
    Transition("submit_claim", None, "submitted", "member", "past the waiting period"),
    Transition("start_investigation", "submitted", "investigation", "assessor", "takes the claim"),
    Transition(
        "start_investigation",
        "investigation",
        "investigation",
        "assessor",
        "another assessor, after the investigation deadline",
    ),
    Transition(
        "record_findings",
        "investigation",
        "public_notice",
        "assessor",
        "findings support the claim",
    ),
    Transition(
        "record_findings", "investigation", "rejected", "assessor", "findings do not support it"
    ),
    Transition("withdraw_claim", "submitted", "withdrawn", "claimant", "before a decision"),
    Transition("withdraw_claim", "investigation", "withdrawn", "claimant", "before a decision"),
    Transition("withdraw_claim", "public_notice", "withdrawn", "claimant", "before any objection"),
    Transition("close_notice", "public_notice", "approved", "anyone", "notice over, no objection"),
    Transition("close_notice", "public_notice", "jury_review", "anyone", "notice over, objected"),
    Transition(
        "reveal_seed",
        "jury_review",
        "approved",
        "committed party",
        "last share revealed, fewer eligible members than the quorum, the findings stand",
    ),
    Transition(
        "draw_jury",
        "jury_review",
        "approved",
        "anyone",
        "fewer eligible members than the quorum, the findings stand",
    ),
    Transition("vote", "jury_review", "approved", "juror", "settled for the claim"),
    Transition("vote", "jury_review", "rejected", "juror", "settled for the objection"),
    Transition(
        "close_jury",
        "jury_review",
        "approved",
        "anyone",
        "voting over, objection not upheld, or no quorum in 3 panels or for a new one",
    ),
    Transition("close_jury", "jury_review", "rejected", "anyone", "voting over, objection upheld"),
    Transition(
        "close_jury", "jury_review", "jury_review", "anyone", "no quorum, a new panel is drawn"
    ),
    Transition("close_period", "approved", "included", "operator", "sharing period closes"),
    Transition("record_payout", "included", "paid", "operator", "its pool covers the payout"),
)

# Actions on a claim that leave its status as it is: action -> (statuses, who, what).
CLAIM_ACTIVITIES: Final[dict[str, tuple[frozenset[str], str, str]]] = {
    "commit_seed": (
        frozenset({"submitted", "investigation", "public_notice"}),
        "operator",
        "commit the operator's jury seed share before the notice is closed",
    ),
    "object": (
        frozenset({"public_notice"}),
        "any member",
        "object with a reason and a seed commitment before the notice deadline",
    ),
    "reveal_seed": (
        frozenset({"jury_review"}),
        "committed party",
        "reveal its seed share before the reveal deadline",
    ),
    "draw_jury": (
        frozenset({"jury_review"}),
        "anyone",
        "draw the panel once every share is revealed or the reveal window is over",
    ),
}

_BY_ACTION: dict[str, list[Transition]] = {}
for _t in CLAIM_TRANSITIONS:
    _BY_ACTION.setdefault(_t.action, []).append(_t)


def transition(status: str | None, action: str, target: str) -> Transition:
    """The table entry allowing ``action`` to move a claim from ``status`` to ``target``.

    Raises :class:`ContractError` naming the status and what the action can do.
    """
    moves = _BY_ACTION.get(action)
    if not moves:
        raise ContractError(f"{action} is not a claim transition")
    for move in moves:
        if move.source == status and move.target == target:
            return move
    sources = sorted({m.source or "new" for m in moves})
    raise ContractError(
        f"{action} cannot move a claim that is {status or 'new'} to {target} "
        f"({action} applies to claims that are {', '.join(sources)})"
    )


def seed_commitment(plan: str, claim: int, party: str, secret: str) -> str:
    """The commitment (hex) a party publishes for its jury seed share ``secret``.

    ``secret`` is 64 hex characters the party chose at random and keeps until the
    reveal. Binding the plan, claim and party stops one party copying another's
    commitment (and then its reveal) to cancel it out. The claimant's commitment is
    made with its submission, before the claim is numbered: it binds ``claim``
    :data:`SUBMISSION` (0), and its reveal is checked against that.
    """
    return sha256(_COMMIT_DOMAIN + codec.encode([plan, claim, party, secret])).hex()


def jury_seed(
    plan: str,
    claim: int,
    revealed: Sequence[tuple[str, str]],
    commitments: Sequence[tuple[str, str]],
) -> tuple[bytes, str]:
    """The panel seed and its source (``"reveals"`` or ``"commitments"``).

    ``revealed`` lists ``(party, secret)`` of the parties that revealed, in the fixed
    order; ``commitments`` lists ``(party, commitment)`` of every party that committed,
    in the same order. With two or more distinct parties revealed the seed is over the
    reveals alone; otherwise it is over every commitment and the reveal, if any, so
    the one party that revealed never sets the seed by its secret alone (see the
    module docstring for what each party can still influence).
    """
    parties = [party for party, _ in revealed]
    if len(set(parties)) != len(parties):
        raise ValueError("a party is listed twice among the reveals")
    if len(revealed) >= 2:
        material = [plan, claim, "reveals", [list(pair) for pair in revealed]]
        return sha256(_SEED_DOMAIN + codec.encode(material)), "reveals"
    material = [
        plan,
        claim,
        "commitments",
        [list(pair) for pair in commitments],
        [list(pair) for pair in revealed],
    ]
    return sha256(_SEED_DOMAIN + codec.encode(material)), "commitments"


def round_seed(seed: bytes, round_number: int) -> bytes:
    """The seed of panel ``round_number`` (1 for the first panel)."""
    return sha256(_DRAW_DOMAIN + seed + round_number.to_bytes(4, "big"))


def draw_jurors(
    seed: bytes,
    population: int,
    size: int,
    member_at: Callable[[int], str],
    excluded: Iterable[str],
    eligible: Callable[[str], bool] | None = None,
) -> list[str]:
    """Draw up to ``size`` distinct members of ``0..population-1``, none of ``excluded``
    and only those for which ``eligible`` (if given) holds.

    Deterministic in its inputs; reads ``member_at`` once per step, and takes
    ``size`` steps plus one per skipped member met (all ``population`` steps only
    when fewer than ``size`` members are eligible).
    """
    skip = set(excluded)
    swapped: dict[int, int] = {}
    jurors: list[str] = []
    step = 0
    while len(jurors) < size and step < population:
        digest = sha256(seed + step.to_bytes(8, "big"))
        pick = step + int.from_bytes(digest, "big") % (population - step)
        chosen = swapped.get(pick, pick)
        swapped[pick] = swapped.get(step, step)
        step += 1
        did = member_at(chosen)
        if did not in skip and (eligible is None or eligible(did)):
            jurors.append(did)
    return jurors


def jury_outcome(
    approve: int, reject: int, *, size: int, quorum: int, voting_over: bool
) -> str | None:
    """``"approved"``, ``"rejected"`` or ``None`` (undecided, or no quorum when over).

    An objection needs a majority of the votes cast to reject the claim; a tie leaves
    the assessor's finding (approve) standing. Before the deadline the outcome is
    settled early when one side holds a majority of the whole panel or all voted.
    """
    cast = approve + reject
    settled = 2 * approve > size or 2 * reject > size or cast >= size
    if not settled and not (voting_over and cast >= quorum):
        return None
    return "rejected" if reject > approve else "approved"
