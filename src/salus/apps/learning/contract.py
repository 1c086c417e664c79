"""The ``learning`` contract: accredited issuers, courses, learning records, certificates.

Rules this module obeys:
- Pure, like every contract: it sees only ``ctx`` (block height and time, the signer,
  state); no clock, randomness, files, network or environment.
- No personal data on the ledger. Learners appear only as pseudonymous did:keys,
  certificates only as hashes (a Merkle root over the SHA-256 of each VC-JWT). Names,
  grades on paper and the credentials themselves stay with the learner.
- Every refusal (``ctx.fail``) names what is wrong; a refused action writes nothing.
- Lifecycles are data: :data:`ISSUER_TRANSITIONS` and :data:`CREDENTIAL_TRANSITIONS`
  are the only places that say which status change is legal.

State layout (namespace ``learning``; ``<issuer>``, ``<key>``, ``<learner>`` are did:keys,
``<root>`` 64 lower-case hex characters):

======================================  ====================================================
``issuer/<issuer>``                     {"name", "status", "history": [{"status", "height",
                                        "time_ms", "reason", "by"}...], "next_status_index"};
                                        status is ``accredited``, ``suspended`` or
                                        ``withdrawn`` (see :data:`ISSUER_TRANSITIONS`)
``key/<key>``                           {"issuer", "periods": [{"from", "to"}...]}: when the
                                        key signed for its issuer; ``to`` is ``None`` while
                                        bound. A key belongs to one issuer, for ever.
``course/<issuer>/<course_id>``         the course's current version: {"version", "title",
                                        "credits", "outcomes", "assessment", "height",
                                        "time_ms", "first_height"}
``course_version/<issuer>/<course>/<n>``  version ``n`` as it was published (same fields)
``enrolment/<issuer>/<course>/<learner>``  {"height", "modules": {module_id: height},
                                        "results": {assessment_id: [{"score", "max_score",
                                        "passed", "height"}...]}}
``progress/<issuer>/<course_id>``       counters {"enrolled", "module_completions",
                                        "results", "passed"} (``passed``: distinct
                                        learner/assessment pairs with a passing attempt)
``batch/<root>``                        {"issuer", "key", "count", "height", "time_ms",
                                        "status_start"}, and ``"leaves"`` (the blob address
                                        of the batch's leaf list) when the anchor named one
``status/<issuer>/<index>``             one credential's status once it first changed:
                                        {"status", "history": [{"action", "reason",
                                        "height", "time_ms", "by"}...]}; status is
                                        ``active``, ``suspended`` or ``revoked`` (see
                                        :data:`CREDENTIAL_TRANSITIONS`)
``status_list/<issuer>``                {"revoked": [index...], "suspended": [index...]},
                                        sorted; the source of :func:`status_bits`
======================================  ====================================================

``credits`` is an integer in tenths of an ECTS credit (5 ECTS = 50), because state holds
no floats; a credential shows ``credits / 10`` as Open Badges ``creditsEarned``.

Theory of operation. An accreditation body holds the ``accreditor`` role, granted by the
consortium's governance (a ``grant_role`` proposal in the identity contract). It accredits a
training provider's account key as an issuer, and may suspend (reversible: ``reinstate``)
or withdraw it (permanent). Every change is kept in the issuer's history with its height,
so :func:`issuer_status_at` answers "was this issuer accredited at height h?" for any h.

An issuer in good standing signs with its account key to bind the did:keys that sign its
credentials (:func:`key_bound_at` answers "did this key sign for that issuer at height
h?"), to publish and version courses, and to record enrolments, module completions and
assessment results of pseudonymous learners. Learning-record events carry the learner's
did as subject, so a learner's transcript is a query of the event index by subject.

Certificates are VC-JWTs signed off-ledger with a bound key. The issuer anchors a batch of
N of them with one transaction: the RFC 9162 Merkle root of their SHA-256 hashes, the
count and the signing key. The anchor is refused unless the key is bound to the signer
now, the signer is accredited now and the root is new. Each batch takes the next N
indices of the issuer's W3C Bitstring Status List: the credential at position p of a
batch starting at s has status index s + p (put in its ``credentialStatus`` before it is
signed, so the issuer asks for ``next_status_index`` first and anchors in order).
An anchor may also name ``leaves``: the off-chain blob address (SHA-256) of the batch's
leaf list, the N credential hashes in batch order (hashes only: no personal data). The
contract cannot read blobs, so it checks the address's form only; a node that serves the
list recomputes the root from it before trusting it. With the list, a node can rebuild a
credential's inclusion path from the bare VC-JWT (a QR code) and find a credential by its
hash; anchors without it stay valid.

Revocation is permanent, suspension reversible; each carries a reason and a height. The
issuer (unless withdrawn) or any accreditor may change a credential's status.
:func:`status_bits` renders the issuer's list for the node to publish as a
``BitstringStatusListCredential``. A withdrawn issuer's earlier batches stay recorded
(they were genuine when anchored); anchoring after the withdrawal is refused.
"""

from __future__ import annotations

import re
from typing import Any, Literal, NoReturn, Protocol

from pydantic import Field, field_validator, model_validator

from salus.core.contract import PUBLIC, ActionArgs, Context, Contract, action
from salus.core.genesis import check_did

__all__ = [
    "ACCREDITOR",
    "CREDENTIAL_TRANSITIONS",
    "ISSUER_TRANSITIONS",
    "LEARNING",
    "MIN_STATUS_LIST_BITS",
    "LearningContract",
    "LearningRecords",
    "issuer_status_at",
    "key_bound_at",
    "status_bits",
]

LEARNING = "learning"
ACCREDITOR = "accreditor"

# W3C Bitstring Status List v1.0 §6.1: a list is at least 16 KB (131,072 entries) so
# that one credential's index tells little about its holder ("herd privacy").
MIN_STATUS_LIST_BITS = 131_072
MAX_BATCH = 1_000_000

# Issuer lifecycle: action -> (statuses it may start from, status it leads to).
# ``None`` is "not yet an issuer".
ISSUER_TRANSITIONS: dict[str, tuple[frozenset[str | None], str]] = {
    "accredit": (frozenset({None}), "accredited"),
    "suspend": (frozenset({"accredited"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "accredited"),
    "withdraw": (frozenset({"accredited", "suspended"}), "withdrawn"),
}

# Credential status lifecycle; ``active`` is every anchored credential's first status.
CREDENTIAL_TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "revoke": (frozenset({"active", "suspended"}), "revoked"),
    "suspend": (frozenset({"active"}), "suspended"),
    "unsuspend": (frozenset({"suspended"}), "active"),
}

_ROOT = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class LearningRecords(Protocol):
    """Read access to the contract's keys: a ``ContractState``, a dict of proven values, or
    an adapter over ``Ledger.read("learning", key)``."""

    def get(self, key: str, /) -> Any: ...


# --- argument models -----------------------------------------------------------------


def _check_root(value: str) -> str:
    if not _ROOT.fullmatch(value):
        raise ValueError("must be 64 lower-case hex characters (a SHA-256 Merkle root)")
    return value


def _check_id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError(
            f"{value!r} must be 1-64 of [A-Za-z0-9._-], starting with a letter or digit"
        )
    return value


class IssuerArgs(ActionArgs):
    issuer: str = Field(description="did:key of the training provider's account")
    name: str = Field(min_length=1, max_length=200, description="the provider's public name")

    _issuer = field_validator("issuer")(check_did)


class IssuerChangeArgs(ActionArgs):
    issuer: str
    reason: str = Field(min_length=1, max_length=500)

    _issuer = field_validator("issuer")(check_did)


class KeyArgs(ActionArgs):
    key: str = Field(description="did:key whose private key signs the issuer's credentials")

    _key = field_validator("key")(check_did)


class CourseArgs(ActionArgs):
    course_id: str
    title: str = Field(min_length=1, max_length=200)
    credits: int = Field(ge=0, le=10_000, description="tenths of an ECTS credit (5 ECTS = 50)")
    outcomes: list[str] = Field(min_length=1, max_length=50)
    assessment: str = Field(min_length=1, max_length=1000)

    _course = field_validator("course_id")(_check_id)

    @field_validator("outcomes")
    @classmethod
    def _outcomes(cls, outcomes: list[str]) -> list[str]:
        for outcome in outcomes:
            if not 1 <= len(outcome) <= 500:
                raise ValueError("each learning outcome must be 1-500 characters")
        if len(set(outcomes)) != len(outcomes):
            raise ValueError("the same learning outcome is listed twice")
        return outcomes


class EnrolArgs(ActionArgs):
    course_id: str
    learner: str = Field(description="the learner's pseudonymous did:key")

    _course = field_validator("course_id")(_check_id)
    _learner = field_validator("learner")(check_did)


class CompletionArgs(EnrolArgs):
    module_id: str

    _module = field_validator("module_id")(_check_id)


class ResultArgs(EnrolArgs):
    assessment_id: str
    score: int = Field(ge=0)
    max_score: int = Field(ge=1, le=1_000_000)
    passed: bool

    _assessment = field_validator("assessment_id")(_check_id)

    @model_validator(mode="after")
    def _score_in_range(self) -> ResultArgs:
        if self.score > self.max_score:
            raise ValueError(f"score {self.score} exceeds max_score {self.max_score}")
        return self


class AnchorBatchArgs(ActionArgs):
    root: str = Field(description="RFC 9162 Merkle root of the SHA-256 of each VC-JWT, hex")
    count: int = Field(ge=1, le=MAX_BATCH)
    key: str = Field(description="the bound did:key that signed the credentials")
    leaves: str | None = Field(
        default=None,
        description="blob address (SHA-256 hex) of the batch's leaf list: the credential "
        "hashes in batch order, 32 bytes each",
    )

    _root = field_validator("root")(_check_root)
    _key = field_validator("key")(check_did)

    @field_validator("leaves")
    @classmethod
    def _leaves(cls, value: str | None) -> str | None:
        if value is not None and not _ROOT.fullmatch(value):
            raise ValueError("must be 64 lower-case hex characters (a blob's SHA-256 address)")
        return value


class StatusArgs(ActionArgs):
    """A credential by (``root``, ``index_in_batch``) or by (``issuer``, ``status_index``)."""

    reason: str = Field(min_length=1, max_length=500)
    root: str | None = None
    index_in_batch: int | None = Field(default=None, ge=0)
    issuer: str | None = Field(
        default=None, description="with status_index; defaults to the signer"
    )
    status_index: int | None = Field(default=None, ge=0)

    @field_validator("root")
    @classmethod
    def _root(cls, value: str | None) -> str | None:
        return None if value is None else _check_root(value)

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str | None) -> str | None:
        return None if value is None else check_did(value)

    @model_validator(mode="after")
    def _one_address(self) -> StatusArgs:
        by_batch = self.root is not None or self.index_in_batch is not None
        by_index = self.status_index is not None
        if by_batch == by_index:
            raise ValueError("give either root and index_in_batch, or status_index")
        if by_batch and (self.root is None or self.index_in_batch is None):
            raise ValueError("root and index_in_batch go together")
        if by_batch and self.issuer is not None:
            raise ValueError("issuer is implied by root; give it only with status_index")
        return self


# --- pure read helpers -----------------------------------------------------------------


def issuer_status_at(records: LearningRecords, issuer: str, height: int) -> str | None:
    """The issuer's status at the end of block ``height``, or ``None`` if not yet an issuer.

    A verifier asks this with a certificate batch's anchoring height to decide
    "issuer not accredited at issue time".
    """
    record = records.get(f"issuer/{issuer}")
    status: str | None = None
    if record is not None:
        for entry in record["history"]:
            if entry["height"] > height:
                break
            status = entry["status"]
    return status


def key_bound_at(records: LearningRecords, key: str, height: int) -> str | None:
    """The issuer ``key`` signed for at block ``height`` (bound at or before it, retired
    after it), or ``None``."""
    record = records.get(f"key/{key}")
    if record is None:
        return None
    for period in record["periods"]:
        if period["from"] <= height and (period["to"] is None or height < period["to"]):
            return str(record["issuer"])
    return None


def status_bits(
    records: LearningRecords, issuer: str, purpose: Literal["revocation", "suspension"]
) -> bytes:
    """The issuer's Bitstring Status List for ``purpose``, uncompressed.

    W3C Bitstring Status List v1.0 §4: index 0 is the left-most (most significant) bit of
    the first byte; bit i is 1 when credential i is revoked (or currently suspended). The
    list is at least :data:`MIN_STATUS_LIST_BITS` long and covers every assigned index.
    The node GZIPs and base64url-encodes it for the ``encodedList`` of the list credential.
    """
    if purpose not in ("revocation", "suspension"):
        raise ValueError(f"status purpose {purpose!r} must be 'revocation' or 'suspension'")
    record = records.get(f"issuer/{issuer}")
    assigned = 0 if record is None else int(record["next_status_index"])
    size = max(MIN_STATUS_LIST_BITS, -(-assigned // 8) * 8)
    bits = bytearray(size // 8)
    lists = records.get(f"status_list/{issuer}") or {}
    for index in lists.get("revoked" if purpose == "revocation" else "suspended", []):
        bits[index // 8] |= 0x80 >> (index % 8)
    return bytes(bits)


# --- the contract ------------------------------------------------------------------------


class LearningContract(Contract):
    """Accredited issuers, courses, learning records, certificate batches and their status."""

    name = LEARNING

    # Accreditation -------------------------------------------------------------------

    @action(roles=[ACCREDITOR])
    def accredit_issuer(self, ctx: Context, args: IssuerArgs) -> None:
        """Accredit a training provider's account key as an issuer."""
        existing = ctx.state.get(f"issuer/{args.issuer}")
        if existing is not None:
            _fail_transition(ctx, "accredit", args.issuer, existing)
        record: dict[str, Any] = {
            "name": args.name,
            "status": None,
            "history": [],
            "next_status_index": 0,
        }
        _move_issuer(ctx, args.issuer, record, "accredit", reason="")
        ctx.emit("issuer_accredited", subject=args.issuer, name=args.name)

    @action(roles=[ACCREDITOR])
    def suspend_issuer(self, ctx: Context, args: IssuerChangeArgs) -> None:
        """Suspend an issuer (reversible with ``reinstate_issuer``)."""
        _change_issuer(ctx, args, "suspend")

    @action(roles=[ACCREDITOR])
    def reinstate_issuer(self, ctx: Context, args: IssuerChangeArgs) -> None:
        """Lift an issuer's suspension."""
        _change_issuer(ctx, args, "reinstate")

    @action(roles=[ACCREDITOR])
    def withdraw_issuer(self, ctx: Context, args: IssuerChangeArgs) -> None:
        """Withdraw an issuer's accreditation, permanently; earlier batches stay recorded."""
        _change_issuer(ctx, args, "withdraw")

    # Issuer keys ---------------------------------------------------------------------

    @action(roles=[PUBLIC])
    def bind_key(self, ctx: Context, args: KeyArgs) -> None:
        """Bind a did:key that will sign the signer-issuer's credentials."""
        issuer = _issuer_in_good_standing(ctx)
        record = ctx.state.get(f"key/{args.key}")
        if record is None:
            if args.key != issuer and ctx.state.has(f"issuer/{args.key}"):
                ctx.fail(f"key {args.key} is another issuer's account key")
            record = {"issuer": issuer, "periods": []}
        elif record["issuer"] != issuer:
            ctx.fail(f"key {args.key} belongs to issuer {record['issuer']}")
        elif record["periods"][-1]["to"] is None:
            ctx.fail(
                f"key {args.key} is already bound (since height {record['periods'][-1]['from']})"
            )
        record["periods"].append({"from": ctx.height, "to": None})
        ctx.state.put(f"key/{args.key}", record)
        ctx.emit("key_bound", subject=issuer, key=args.key)

    @action(roles=[PUBLIC])
    def retire_key(self, ctx: Context, args: KeyArgs) -> None:
        """Stop a bound key signing for the issuer from this height on."""
        issuer = _issuer_in_good_standing(ctx)
        record = ctx.state.get(f"key/{args.key}")
        if record is None or record["issuer"] != issuer:
            ctx.fail(f"key {args.key} is not bound to issuer {issuer}")
        if record["periods"][-1]["to"] is not None:
            ctx.fail(f"key {args.key} was already retired at height {record['periods'][-1]['to']}")
        record["periods"][-1]["to"] = ctx.height
        ctx.state.put(f"key/{args.key}", record)
        ctx.emit("key_retired", subject=issuer, key=args.key)

    # Courses -------------------------------------------------------------------------

    @action(roles=[PUBLIC])
    def publish_course(self, ctx: Context, args: CourseArgs) -> None:
        """Publish a new course (version 1)."""
        issuer = _issuer_in_good_standing(ctx)
        key = f"course/{issuer}/{args.course_id}"
        existing = ctx.state.get(key)
        if existing is not None:
            ctx.fail(
                f"course {args.course_id!r} already exists (version {existing['version']}); "
                "use update_course"
            )
        _write_course(ctx, issuer, args, version=1, first_height=ctx.height)

    @action(roles=[PUBLIC])
    def update_course(self, ctx: Context, args: CourseArgs) -> None:
        """Publish the next version of a course; earlier versions stay readable."""
        issuer = _issuer_in_good_standing(ctx)
        existing = ctx.state.get(f"course/{issuer}/{args.course_id}")
        if existing is None:
            ctx.fail(f"issuer {issuer} has no course {args.course_id!r}; use publish_course")
        if all(existing[field] == getattr(args, field) for field in _COURSE_FIELDS):
            ctx.fail(f"update of course {args.course_id!r} changes nothing")
        _write_course(
            ctx,
            issuer,
            args,
            version=existing["version"] + 1,
            first_height=existing["first_height"],
        )

    # Learning records ----------------------------------------------------------------

    @action(roles=[PUBLIC])
    def enrol(self, ctx: Context, args: EnrolArgs) -> None:
        """Enrol a pseudonymous learner in one of the signer-issuer's courses."""
        issuer = _issuer_in_good_standing(ctx)
        _course(ctx, issuer, args.course_id)
        key = f"enrolment/{issuer}/{args.course_id}/{args.learner}"
        existing = ctx.state.get(key)
        if existing is not None:
            ctx.fail(
                f"learner {args.learner} is already enrolled in {args.course_id!r} "
                f"(since height {existing['height']})"
            )
        ctx.state.put(key, {"height": ctx.height, "modules": {}, "results": {}})
        _count(ctx, issuer, args.course_id, "enrolled")
        ctx.emit("enrolled", subject=args.learner, issuer=issuer, course_id=args.course_id)

    @action(roles=[PUBLIC])
    def record_completion(self, ctx: Context, args: CompletionArgs) -> None:
        """Record that an enrolled learner completed a module or activity."""
        issuer = _issuer_in_good_standing(ctx)
        key, enrolment = _enrolment(ctx, issuer, args.course_id, args.learner)
        if args.module_id in enrolment["modules"]:
            done = enrolment["modules"][args.module_id]
            ctx.fail(f"module {args.module_id!r} was already recorded at height {done}")
        enrolment["modules"][args.module_id] = ctx.height
        ctx.state.put(key, enrolment)
        _count(ctx, issuer, args.course_id, "module_completions")
        ctx.emit(
            "module_completed",
            subject=args.learner,
            issuer=issuer,
            course_id=args.course_id,
            module_id=args.module_id,
        )

    @action(roles=[PUBLIC])
    def record_result(self, ctx: Context, args: ResultArgs) -> None:
        """Record an assessment attempt of an enrolled learner (every attempt is kept)."""
        issuer = _issuer_in_good_standing(ctx)
        key, enrolment = _enrolment(ctx, issuer, args.course_id, args.learner)
        attempts = enrolment["results"].setdefault(args.assessment_id, [])
        first_pass = args.passed and not any(attempt["passed"] for attempt in attempts)
        attempts.append(
            {
                "score": args.score,
                "max_score": args.max_score,
                "passed": args.passed,
                "height": ctx.height,
            }
        )
        ctx.state.put(key, enrolment)
        _count(ctx, issuer, args.course_id, "results")
        if first_pass:
            _count(ctx, issuer, args.course_id, "passed")
        ctx.emit(
            "result_recorded",
            subject=args.learner,
            issuer=issuer,
            course_id=args.course_id,
            assessment_id=args.assessment_id,
            score=args.score,
            max_score=args.max_score,
            passed=args.passed,
            attempt=len(attempts),
        )

    # Certificates --------------------------------------------------------------------

    @action(roles=[PUBLIC])
    def anchor_batch(self, ctx: Context, args: AnchorBatchArgs) -> None:
        """Anchor the Merkle root of a batch of credentials signed by a bound key."""
        issuer = _issuer_in_good_standing(ctx)
        key_record = ctx.state.get(f"key/{args.key}")
        if key_record is None:
            ctx.fail(f"key {args.key} is not bound to any issuer")
        if key_record["issuer"] != issuer:
            ctx.fail(f"key {args.key} is bound to issuer {key_record['issuer']}, not {issuer}")
        if key_bound_at(ctx.state, args.key, ctx.height) is None:
            retired = key_record["periods"][-1]["to"]
            ctx.fail(f"key {args.key} was retired at height {retired}")
        existing = ctx.state.get(f"batch/{args.root}")
        if existing is not None:
            ctx.fail(f"root {args.root} was already anchored at height {existing['height']}")
        record = ctx.state.get(f"issuer/{issuer}")
        start = record["next_status_index"]
        record["next_status_index"] = start + args.count
        ctx.state.put(f"issuer/{issuer}", record)
        batch: dict[str, Any] = {
            "issuer": issuer,
            "key": args.key,
            "count": args.count,
            "height": ctx.height,
            "time_ms": ctx.time_ms,
            "status_start": start,
        }
        # Only when named: anchors without a leaf list keep their old record and event.
        leaves = {} if args.leaves is None else {"leaves": args.leaves}
        ctx.state.put(f"batch/{args.root}", {**batch, **leaves})
        ctx.emit(
            "batch_anchored",
            subject=args.root,
            issuer=issuer,
            key=args.key,
            count=args.count,
            status_start=start,
            **leaves,
        )

    @action(roles=[PUBLIC])
    def revoke(self, ctx: Context, args: StatusArgs) -> None:
        """Revoke a credential, permanently."""
        _change_credential(ctx, args, "revoke")

    @action(roles=[PUBLIC])
    def suspend(self, ctx: Context, args: StatusArgs) -> None:
        """Suspend a credential (reversible with ``unsuspend``)."""
        _change_credential(ctx, args, "suspend")

    @action(roles=[PUBLIC])
    def unsuspend(self, ctx: Context, args: StatusArgs) -> None:
        """Lift a credential's suspension."""
        _change_credential(ctx, args, "unsuspend")


# --- helpers -----------------------------------------------------------------------------

_COURSE_FIELDS = ("title", "credits", "outcomes", "assessment")


def _describe_issuer(record: dict[str, Any]) -> str:
    last = record["history"][-1]
    reason = f": {last['reason']}" if last["reason"] else ""
    return f"{record['status']} (since height {last['height']}{reason})"


def _fail_transition(ctx: Context, move: str, issuer: str, record: dict[str, Any]) -> NoReturn:
    if record["status"] == "withdrawn":
        ctx.fail(f"issuer {issuer} is {_describe_issuer(record)}; withdrawal is permanent")
    ctx.fail(f"cannot {move} issuer {issuer}: it is {_describe_issuer(record)}")


def _move_issuer(
    ctx: Context, issuer: str, record: dict[str, Any], move: str, *, reason: str
) -> None:
    sources, target = ISSUER_TRANSITIONS[move]
    if record["status"] not in sources:
        _fail_transition(ctx, move, issuer, record)
    record["status"] = target
    record["history"].append(
        {
            "status": target,
            "height": ctx.height,
            "time_ms": ctx.time_ms,
            "reason": reason,
            "by": ctx.signer_did,
        }
    )
    ctx.state.put(f"issuer/{issuer}", record)


def _change_issuer(ctx: Context, args: IssuerChangeArgs, move: str) -> None:
    record = ctx.state.get(f"issuer/{args.issuer}")
    if record is None:
        ctx.fail(f"{args.issuer} is not an issuer")
    _move_issuer(ctx, args.issuer, record, move, reason=args.reason)
    ctx.emit(f"issuer_{record['status']}", subject=args.issuer, reason=args.reason)


def _issuer_in_good_standing(ctx: Context) -> str:
    """The signer's did if it is an accredited issuer now; refuses otherwise."""
    record = ctx.state.get(f"issuer/{ctx.signer_did}")
    if record is None:
        ctx.fail(f"signer {ctx.signer_did} is not an accredited issuer")
    if record["status"] != "accredited":
        ctx.fail(f"issuer {ctx.signer_did} is {_describe_issuer(record)}, not accredited")
    return ctx.signer_did


def _write_course(
    ctx: Context, issuer: str, args: CourseArgs, *, version: int, first_height: int
) -> None:
    course = {
        "version": version,
        "title": args.title,
        "credits": args.credits,
        "outcomes": list(args.outcomes),
        "assessment": args.assessment,
        "height": ctx.height,
        "time_ms": ctx.time_ms,
        "first_height": first_height,
    }
    ctx.state.put(f"course/{issuer}/{args.course_id}", course)
    ctx.state.put(f"course_version/{issuer}/{args.course_id}/{version}", course)
    ctx.emit("course_published", subject=issuer, course_id=args.course_id, version=version)


def _course(ctx: Context, issuer: str, course_id: str) -> dict[str, Any]:
    course = ctx.state.get(f"course/{issuer}/{course_id}")
    if course is None:
        ctx.fail(f"issuer {issuer} has no course {course_id!r}")
    return dict(course)


def _enrolment(
    ctx: Context, issuer: str, course_id: str, learner: str
) -> tuple[str, dict[str, Any]]:
    _course(ctx, issuer, course_id)
    key = f"enrolment/{issuer}/{course_id}/{learner}"
    enrolment = ctx.state.get(key)
    if enrolment is None:
        ctx.fail(f"learner {learner} is not enrolled in course {course_id!r}")
    return key, dict(enrolment)


def _count(ctx: Context, issuer: str, course_id: str, counter: str) -> None:
    key = f"progress/{issuer}/{course_id}"
    progress = ctx.state.get(key) or {
        "enrolled": 0,
        "module_completions": 0,
        "results": 0,
        "passed": 0,
    }
    progress[counter] += 1
    ctx.state.put(key, progress)


def _locate(ctx: Context, args: StatusArgs) -> tuple[str, int]:
    """(issuer, status index) of the addressed credential; refuses an unknown one."""
    if args.root is not None and args.index_in_batch is not None:
        batch = ctx.state.get(f"batch/{args.root}")
        if batch is None:
            ctx.fail(f"no batch with root {args.root} was anchored")
        if args.index_in_batch >= batch["count"]:
            ctx.fail(
                f"index_in_batch {args.index_in_batch} is outside batch {args.root} "
                f"of {batch['count']} credentials"
            )
        return batch["issuer"], batch["status_start"] + args.index_in_batch
    issuer = args.issuer or ctx.signer_did
    assert args.status_index is not None  # guaranteed by StatusArgs._one_address
    record = ctx.state.get(f"issuer/{issuer}")
    if record is None:
        ctx.fail(f"{issuer} is not an issuer")
    if args.status_index >= record["next_status_index"]:
        ctx.fail(
            f"status index {args.status_index} was never assigned by issuer {issuer} "
            f"(it has assigned {record['next_status_index']})"
        )
    return issuer, args.status_index


def _change_credential(ctx: Context, args: StatusArgs, move: str) -> None:
    issuer, index = _locate(ctx, args)
    if ctx.signer_did != issuer and ACCREDITOR not in ctx.roles:
        ctx.fail(f"only issuer {issuer} or an accreditor may {move} its credentials")
    if ctx.signer_did == issuer and ACCREDITOR not in ctx.roles:
        standing = ctx.state.get(f"issuer/{issuer}")
        if standing["status"] == "withdrawn":
            ctx.fail(f"issuer {issuer} is {_describe_issuer(standing)}; ask an accreditor")
    key = f"status/{issuer}/{index}"
    record = ctx.state.get(key)
    if record is None:
        record = {"status": "active", "history": []}
    sources, target = CREDENTIAL_TRANSITIONS[move]
    if record["status"] not in sources:
        since = ""
        if record["history"]:
            last = record["history"][-1]
            since = f" (since height {last['height']}: {last['reason']})"
        ctx.fail(
            f"cannot {move} credential {index} of issuer {issuer}: it is {record['status']}{since}"
        )
    record["status"] = target
    record["history"].append(
        {
            "action": move,
            "reason": args.reason,
            "height": ctx.height,
            "time_ms": ctx.time_ms,
            "by": ctx.signer_did,
        }
    )
    ctx.state.put(key, record)
    lists = ctx.state.get(f"status_list/{issuer}") or {"revoked": [], "suspended": []}
    suspended = set(lists["suspended"])
    revoked = set(lists["revoked"])
    if target == "revoked":
        revoked.add(index)
        suspended.discard(index)
    elif target == "suspended":
        suspended.add(index)
    else:
        suspended.discard(index)
    ctx.state.put(
        f"status_list/{issuer}", {"revoked": sorted(revoked), "suspended": sorted(suspended)}
    )
    ctx.emit(
        f"credential_{target}" if move != "unsuspend" else "credential_unsuspended",
        subject=f"status/{issuer}/{index}",
        root=args.root,
        issuer=issuer,
        status_index=index,
        reason=args.reason,
    )
