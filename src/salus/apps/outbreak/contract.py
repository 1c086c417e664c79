"""The ``outbreak`` contract: scoped reporters, signed daily figures, corrections, batches.

Rules this module obeys:
- Pure, like every contract: it sees only ``ctx``; dates are compared with the block
  time, never a clock. Figures are integers; no floats in state.
- No personal data: figures are public aggregates per region; reporters are
  organisations (by id) or pseudonymous did:keys.
- Nothing is overwritten. A correction appends a version with its reason; reports of
  different reporters for the same region and date live side by side (a ``conflict``
  event names them when they disagree); nothing is merged.
- Every refusal names what is wrong; a refused action writes nothing.
- Writes no genesis state, so installing it leaves the genesis state root unchanged.

Roles. A *reporting scope* is a region (see :mod:`.regions`: ``FR``, ``US-NY``,
``US-NY:36061``, ``X-DIAMOND-PRINCESS``) or ``*`` for every region; it covers the region
and everything below it. The reporter of a transaction is the signer's organisation
when the signer is a key of an active member organisation, else the signer's did:key.
Who may grant (or revoke) a scope:

- a health authority (the ``health_authority`` role, granted by the consortium's M-of-N
  governance, an identity ``grant_role`` proposal) *within its own scopes*: a ministry
  scoped for ``FR`` may name reporters for ``FR`` and its subdivisions, nothing else;
- otherwise the consortium: each member organisation's ``grant_scope`` (or
  ``revoke_scope``) of the same subject and region is its approval, and the change
  takes effect at M of the N active members (M = ceil(N * num / den), the identity
  contract's threshold). This is how an authority gets its own scopes, ``*`` included.
- Nobody grants itself a scope alone: a grant to the signer's own organisation or key is
  only its approval (as in identity governance, where a proposer approves its own
  proposal). A holder may give a scope up; otherwise a scope the consortium granted is
  withdrawn only by the consortium.

State layout (namespace ``outbreak``; ``<reporter>`` an organisation id or did:key,
``<date>`` ``YYYY-MM-DD``, ``<root>`` 64 lower-case hex):

==================================  =========================================================
``scope/<reporter>``                {"regions": {region: {"height", "time_ms", "by",
                                    "note"}}, "history": [{"action": "grant" | "revoke",
                                    "region", "height", "time_ms", "by", "note"}...]}
``report/<region>/<date>/<reporter>``  {"reporter", "region", "date", "versions":
                                    [{"version", "figures": {metric: {"value", "basis"}},
                                    "reason", "note", "corrects", "by", "height",
                                    "time_ms", "tx"}...]}: version 1 is the report (or the
                                    first correction of an imported figure, ``corrects``
                                    naming the batch); each later one a correction
``request/<grant|revoke>/<subject>/<region>``  {"approvals": [org...], "opened",
                                    "note"}: a consortium scope change short of M of N
                                    (deleted when it takes effect; a scope it granted
                                    holds ``"consortium": [org...]``)
``day/<region>/<date>``             sorted list of the reporters that reported that day
``batch/<root>``                    {"reporter", "by", "file_sha256", "rows", "figures",
                                    "format", "source", "blobs", "cover", "first_date",
                                    "last_date", "metrics", "reason", "height", "time_ms",
                                    "tx"}
==================================  =========================================================

Theory of operation. A signed ``report`` states figures for one region and date: any of
:data:`METRICS`, each an integer with its basis, ``cumulative`` (running total) or
``new`` (that day's count). ``correct`` appends a version carrying only the figures it
changes and a mandatory reason; a figure's value is the last version that states it.

Bulk data (a JHU CSSE file) is anchored with ``anchor_batch``: the RFC 9162 Merkle root
over the file's rows (each row the canonical CBOR of one region's figures, see
:mod:`.batches`), the file's SHA-256, the row and figure counts, and ``cover``: regions
within the reporter's scope that together cover every row's region. The rows live in the
node's content-addressed blob store (``blobs``) and in its figure index; a figure's proof
is then its row, the row's inclusion path to the root, and a state proof of the batch
record. A figure of a batch is corrected like any other: ``correct`` with ``batch`` set
starts the on-ledger record of that figure with the correction.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from salus.apps.outbreak.regions import check_region, check_scope_region, covers
from salus.core.contract import MEMBER, PUBLIC, ActionArgs, Context, Contract, action
from salus.core.genesis import check_did, check_org_id

__all__ = [
    "AUTHORITY",
    "BASES",
    "FORMATS",
    "MAX_VALUE",
    "METRICS",
    "OUTBREAK",
    "OutbreakContract",
    "check_date",
    "latest_figures",
    "reporter_of",
]

OUTBREAK = "outbreak"
AUTHORITY = "health_authority"
METRICS = ("confirmed", "deaths", "recovered", "tests", "vaccinations")
BASES = ("cumulative", "new")
FORMATS = ("jhu-global-ts", "jhu-us-ts", "jhu-daily", "salus-json")
# Larger than any count a country will report (tests and vaccinations run to billions).
MAX_VALUE = 10**13
MAX_VERSIONS = 100
FIRST_DATE = datetime.date(2000, 1, 1)

Metric = Literal["confirmed", "deaths", "recovered", "tests", "vaccinations"]
Basis = Literal["cumulative", "new"]
_ROOT = re.compile(r"[0-9a-f]{64}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_date(value: str) -> str:
    """A calendar date ``YYYY-MM-DD`` from 2000-01-01 on; :class:`ValueError` otherwise."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError(f"date {value!r} must be YYYY-MM-DD")
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"date {value!r} is not a calendar date") from None
    if day < FIRST_DATE:
        raise ValueError(f"date {value} is before {FIRST_DATE}")
    return value


def _check_hex(value: str) -> str:
    if not _ROOT.fullmatch(value):
        raise ValueError("must be 64 lower-case hex characters (SHA-256)")
    return value


def _check_subject(value: str) -> str:
    return check_did(value) if value.startswith("did:") else check_org_id(value)


def _region(value: str) -> str:
    return check_region(value)


class Figure(ActionArgs):
    value: int = Field(ge=-MAX_VALUE, le=MAX_VALUE)
    basis: Basis

    @model_validator(mode="after")
    def _non_negative_total(self) -> Figure:
        if self.basis == "cumulative" and self.value < 0:
            raise ValueError(f"a cumulative figure cannot be negative ({self.value})")
        return self


class ScopeArgs(ActionArgs):
    subject: str = Field(description="an organisation id or an individual's did:key")
    region: str = Field(description="a region id, or * for every region")
    note: str = Field(default="", max_length=200)

    _subject = field_validator("subject")(_check_subject)
    _region = field_validator("region")(check_scope_region)


class RevokeScopeArgs(ActionArgs):
    subject: str
    region: str
    reason: str = Field(min_length=1, max_length=500)

    _subject = field_validator("subject")(_check_subject)
    _region = field_validator("region")(check_scope_region)


class ReportArgs(ActionArgs):
    region: str
    date: str = Field(description="the day the figures are for, YYYY-MM-DD")
    figures: dict[Metric, Figure] = Field(min_length=1)
    note: str = Field(default="", max_length=500)

    _region = field_validator("region")(_region)
    _date = field_validator("date")(check_date)


class CorrectArgs(ActionArgs):
    region: str
    date: str
    figures: dict[Metric, Figure] = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=500, description="why the figures change")
    batch: str | None = Field(
        default=None, description="root of the batch whose figure this first corrects"
    )

    _region = field_validator("region")(_region)
    _date = field_validator("date")(check_date)

    @field_validator("batch")
    @classmethod
    def _batch(cls, value: str | None) -> str | None:
        return None if value is None else _check_hex(value)


class AnchorBatchArgs(ActionArgs):
    root: str = Field(description="RFC 9162 Merkle root over the rows' canonical CBOR")
    file_sha256: str
    rows: int = Field(ge=1, le=1_000_000)
    figures: int = Field(ge=1, le=10**9)
    format: Literal["jhu-global-ts", "jhu-us-ts", "jhu-daily", "salus-json"]
    source: str = Field(min_length=1, max_length=200, description="the file's name")
    blobs: list[str] = Field(min_length=1, max_length=64)
    cover: list[str] = Field(min_length=1, max_length=2000)
    first_date: str
    last_date: str
    metrics: list[Metric] = Field(min_length=1, max_length=len(METRICS))
    reason: str = Field(default="", max_length=500)

    _root = field_validator("root", "file_sha256")(_check_hex)
    _dates = field_validator("first_date", "last_date")(check_date)

    @field_validator("blobs")
    @classmethod
    def _blobs(cls, blobs: list[str]) -> list[str]:
        for address in blobs:
            _check_hex(address)
        return blobs

    @field_validator("cover")
    @classmethod
    def _cover(cls, cover: list[str]) -> list[str]:
        regions = [check_scope_region(region) for region in cover]
        if regions != sorted(set(regions)):
            raise ValueError("cover must be sorted canonical region ids without repeats")
        return regions

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, metrics: list[str]) -> list[str]:
        if metrics != sorted(set(metrics)):
            raise ValueError("metrics must be sorted without repeats")
        return metrics

    @model_validator(mode="after")
    def _date_order(self) -> AnchorBatchArgs:
        if self.first_date > self.last_date:
            raise ValueError(f"first_date {self.first_date} is after last_date {self.last_date}")
        return self


# --- pure read helpers ---------------------------------------------------------------


def reporter_of(org: str | None, signer_did: str) -> str:
    """Who reports: the signer's organisation, else the signer's did:key."""
    return org if org is not None else signer_did


def latest_figures(record: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each metric's latest version in a ``report/...`` record: {metric: {"value",
    "basis", "version", "reason", "height"}} (a version states only what it changes)."""
    latest: dict[str, dict[str, Any]] = {}
    for version in record["versions"]:
        for metric, figure in version["figures"].items():
            latest[metric] = {
                **figure,
                "version": version["version"],
                "reason": version["reason"],
                "height": version["height"],
            }
    return latest


def _block_date(ctx: Context) -> str:
    moment = datetime.datetime.fromtimestamp(ctx.time_ms // 1000, tz=datetime.UTC)
    return moment.date().isoformat()


def _covering_scope(ctx: Context, reporter: str, region: str) -> str | None:
    scopes = (ctx.state.get(f"scope/{reporter}") or {"regions": {}})["regions"]
    for scope in sorted(scopes):
        if covers(scope, region):
            return str(scope)
    return None


def _require_scope(ctx: Context, reporter: str, region: str) -> None:
    if _covering_scope(ctx, reporter, region) is None:
        scopes = sorted((ctx.state.get(f"scope/{reporter}") or {"regions": {}})["regions"])
        held = ", ".join(scopes) if scopes else "none"
        ctx.fail(f"{reporter} has no reporting scope covering {region} (its scopes: {held})")


def _authorise(
    ctx: Context, what: str, subject: str, region: str, note: str, *, alone: bool = True
) -> list[str] | None:
    """Whether a scope change takes effect now: ``[]`` when the signer, a health
    authority, may make it alone (``alone`` and its own scopes cover ``region``); the
    approving
    organisations when this approval brings a consortium request to M of N; ``None``
    when the approval is recorded and the request stays open."""
    if alone and AUTHORITY in ctx.roles:
        reporter = reporter_of(ctx.org, ctx.signer_did)
        if _covering_scope(ctx, reporter, region) is not None:
            return []
    if ctx.org is None:
        held = "none" if AUTHORITY not in ctx.roles else _held(ctx, ctx.signer_did)
        ctx.fail(
            f"only a health authority whose scopes cover {region} (its scopes: {held}), "
            "or the consortium's member organisations (M of N), may "
            f"{what} scope {region}"
        )
    members = sorted(ctx.read("identity", "members") or [])
    config = ctx.read("identity", "config") or {"threshold": {"num": 1, "den": 1}}
    threshold = config["threshold"]
    # The identity contract's rule: M = ceil(N * num / den) of the active members now.
    required = -(-len(members) * threshold["num"] // threshold["den"])
    key = f"request/{what}/{subject}/{region}"
    request = ctx.state.get(key) or {"approvals": [], "opened": ctx.height, "note": note}
    if ctx.org in request["approvals"]:
        ctx.fail(f"{ctx.org} already approved to {what} {subject}'s scope {region}")
    approvals = sorted({*request["approvals"], ctx.org} & set(members))
    if len(approvals) >= required:
        ctx.state.delete(key)
        return approvals
    request["approvals"] = approvals
    ctx.state.put(key, request)
    ctx.emit(
        "scope_approval",
        subject=subject,
        region=region,
        action=what,
        org=ctx.org,
        approvals=len(approvals),
        required=required,
    )
    return None


def _held(ctx: Context, reporter: str) -> str:
    scopes = sorted((ctx.state.get(f"scope/{reporter}") or {"regions": {}})["regions"])
    return ", ".join(scopes) if scopes else "none"


def _figures(figures: Mapping[Metric, Figure]) -> dict[str, dict[str, Any]]:
    return {m: {"value": f.value, "basis": f.basis} for m, f in sorted(figures.items())}


def _not_future(ctx: Context, date: str, what: str = "date") -> None:
    today = _block_date(ctx)
    if date > today:
        ctx.fail(f"{what} {date} is after the block date {today}")


# --- the contract ----------------------------------------------------------------------


class OutbreakContract(Contract):
    """Scoped reporters, signed daily figures with corrections, and anchored JHU batches."""

    name = OUTBREAK

    # Scopes -------------------------------------------------------------------------

    @action(roles=[AUTHORITY, MEMBER])
    def grant_scope(self, ctx: Context, args: ScopeArgs) -> None:
        """Let an organisation (or a did:key) report figures for a region and below it:
        at once when the signer is a health authority whose own scopes cover the region,
        else as its member organisation's approval, granted at M of N (a scope of the
        signer's own organisation or key only ever so)."""
        if not args.subject.startswith("did:"):
            org = ctx.read("identity", f"org/{args.subject}")
            if org is None or org["status"] != "active":
                ctx.fail(f"organisation {args.subject!r} is not an active member")
        key = f"scope/{args.subject}"
        record = ctx.state.get(key) or {"regions": {}, "history": []}
        if args.region in record["regions"]:
            since = record["regions"][args.region]["height"]
            ctx.fail(f"{args.subject} already holds scope {args.region} (since height {since})")
        own = args.subject in (ctx.org, ctx.signer_did)
        consortium = _authorise(ctx, "grant", args.subject, args.region, args.note, alone=not own)
        if consortium is None:
            return
        entry = {"height": ctx.height, "time_ms": ctx.time_ms, "by": ctx.signer_did}
        if consortium:
            entry["consortium"] = consortium
        record["regions"][args.region] = {**entry, "note": args.note}
        record["history"].append(
            {"action": "grant", "region": args.region, **entry, "note": args.note}
        )
        ctx.state.put(key, record)
        ctx.emit("scope_granted", subject=args.subject, region=args.region, note=args.note)

    @action(roles=[AUTHORITY, MEMBER])
    def revoke_scope(self, ctx: Context, args: RevokeScopeArgs) -> None:
        """Withdraw a reporting scope; figures already reported stay, with their history.
        The holder may give up its own; else a health authority whose own scopes cover
        the region (not for a scope the consortium granted), else M of N."""
        key = f"scope/{args.subject}"
        record = ctx.state.get(key)
        if record is None or args.region not in record["regions"]:
            ctx.fail(f"{args.subject} holds no scope {args.region}")
        granted = record["regions"][args.region]
        if args.subject in (ctx.org, ctx.signer_did):
            consortium: list[str] | None = []  # giving a scope up needs nobody's approval
        else:
            consortium = _authorise(
                ctx, "revoke", args.subject, args.region, args.reason,
                alone=not granted.get("consortium"),
            )  # fmt: skip
        if consortium is None:
            return
        del record["regions"][args.region]
        entry = {"height": ctx.height, "time_ms": ctx.time_ms, "by": ctx.signer_did}
        if consortium:
            entry["consortium"] = consortium
        record["history"].append(
            {"action": "revoke", "region": args.region, **entry, "note": args.reason}
        )
        ctx.state.put(key, record)
        ctx.emit("scope_revoked", subject=args.subject, region=args.region, reason=args.reason)

    # Reports ------------------------------------------------------------------------

    @action(roles=[PUBLIC])
    def report(self, ctx: Context, args: ReportArgs) -> None:
        """Report a region's figures for one day (the first version)."""
        reporter = reporter_of(ctx.org, ctx.signer_did)
        _require_scope(ctx, reporter, args.region)
        _not_future(ctx, args.date)
        key = f"report/{args.region}/{args.date}/{reporter}"
        existing = ctx.state.get(key)
        if existing is not None:
            last = existing["versions"][-1]
            ctx.fail(
                f"{reporter} already reported {args.region} for {args.date} (version "
                f"{last['version']} at height {last['height']}); send a correction with a reason"
            )
        record = {"reporter": reporter, "region": args.region, "date": args.date, "versions": []}
        _append_version(ctx, key, record, args.figures, reason="", note=args.note, corrects=None)

    @action(roles=[PUBLIC])
    def correct(self, ctx: Context, args: CorrectArgs) -> None:
        """Correct figures already reported (or imported in a batch), with a reason."""
        reporter = reporter_of(ctx.org, ctx.signer_did)
        _require_scope(ctx, reporter, args.region)
        key = f"report/{args.region}/{args.date}/{reporter}"
        record = ctx.state.get(key)
        corrects = None
        if args.batch is not None:
            _check_batch_covers(ctx, args, reporter)
            corrects = {"batch": args.batch}
        if record is None:
            if args.batch is None:
                ctx.fail(
                    f"{reporter} has no report of {args.region} for {args.date} to correct; "
                    "to correct an imported figure, name its batch"
                )
            record = {
                "reporter": reporter,
                "region": args.region,
                "date": args.date,
                "versions": [],
            }
        else:
            if len(record["versions"]) >= MAX_VERSIONS:
                ctx.fail(f"{args.region} {args.date} already has {MAX_VERSIONS} versions")
            latest = latest_figures(record)
            changed = [
                metric
                for metric, figure in args.figures.items()
                if latest.get(metric, {}).get("value") != figure.value
                or latest.get(metric, {}).get("basis") != figure.basis
            ]
            if not changed:
                ctx.fail(
                    f"the correction of {args.region} {args.date} changes nothing: "
                    "every figure already has that value"
                )
        _append_version(
            ctx, key, record, args.figures, reason=args.reason, note="", corrects=corrects
        )

    # Batches ------------------------------------------------------------------------

    @action(roles=[PUBLIC])
    def anchor_batch(self, ctx: Context, args: AnchorBatchArgs) -> None:
        """Anchor the Merkle root of an imported file's rows (one batch per file)."""
        reporter = reporter_of(ctx.org, ctx.signer_did)
        for region in args.cover:
            _require_scope(ctx, reporter, region)
        _not_future(ctx, args.last_date, "last_date")
        existing = ctx.state.get(f"batch/{args.root}")
        if existing is not None:
            ctx.fail(f"batch {args.root} was already anchored at height {existing['height']}")
        ctx.state.put(
            f"batch/{args.root}",
            {
                "reporter": reporter,
                "by": ctx.signer_did,
                "file_sha256": args.file_sha256,
                "rows": args.rows,
                "figures": args.figures,
                "format": args.format,
                "source": args.source,
                "blobs": list(args.blobs),
                "cover": list(args.cover),
                "first_date": args.first_date,
                "last_date": args.last_date,
                "metrics": list(args.metrics),
                "reason": args.reason,
                "height": ctx.height,
                "time_ms": ctx.time_ms,
                "tx": ctx.tx_id,
            },
        )
        ctx.emit(
            "batch_anchored",
            subject=args.root,
            reporter=reporter,
            rows=args.rows,
            figures=args.figures,
            format=args.format,
            source=args.source,
        )


def _check_batch_covers(ctx: Context, args: CorrectArgs, reporter: str) -> None:
    assert args.batch is not None
    batch = ctx.state.get(f"batch/{args.batch}")
    if batch is None:
        ctx.fail(f"no batch {args.batch} was anchored")
    if batch["reporter"] != reporter:
        ctx.fail(f"batch {args.batch} was anchored by {batch['reporter']}, not {reporter}")
    if not any(covers(scope, args.region) for scope in batch["cover"]):
        ctx.fail(f"batch {args.batch} does not cover region {args.region}")
    if not batch["first_date"] <= args.date <= batch["last_date"]:
        ctx.fail(
            f"batch {args.batch} holds {batch['first_date']} to {batch['last_date']}, "
            f"not {args.date}"
        )
    missing = sorted(set(args.figures) - set(batch["metrics"]))
    if missing:
        ctx.fail(f"batch {args.batch} holds no {', '.join(missing)} figures")


def _append_version(
    ctx: Context,
    key: str,
    record: dict[str, Any],
    figures: Mapping[Metric, Figure],
    *,
    reason: str,
    note: str,
    corrects: dict[str, str] | None,
) -> None:
    number = len(record["versions"]) + 1
    stated = _figures(figures)
    record["versions"].append(
        {
            "version": number,
            "figures": stated,
            "reason": reason,
            "note": note,
            "corrects": corrects,
            "by": ctx.signer_did,
            "height": ctx.height,
            "time_ms": ctx.time_ms,
            "tx": ctx.tx_id,
        }
    )
    ctx.state.put(key, record)
    region, date, reporter = record["region"], record["date"], record["reporter"]
    subject = f"{region}/{date}"
    ctx.emit(
        "reported" if number == 1 and not reason else "corrected",
        subject=subject,
        region=region,
        date=date,
        reporter=reporter,
        version=number,
        figures=stated,
        reason=reason,
        corrects=corrects,
    )
    day_key = f"day/{region}/{date}"
    reporters = set(ctx.state.get(day_key) or [])
    if reporter not in reporters:
        ctx.state.put(day_key, sorted(reporters | {reporter}))
    mine = latest_figures(record)
    differing: dict[str, list[str]] = {}
    for other in sorted(reporters - {reporter}):
        theirs = ctx.state.get(f"report/{region}/{date}/{other}")
        if theirs is None:
            continue
        for metric, figure in latest_figures(theirs).items():
            ours = mine.get(metric)
            if ours is not None and (ours["value"], ours["basis"]) != (
                figure["value"],
                figure["basis"],
            ):
                differing.setdefault(metric, []).append(other)
    if differing:
        ctx.emit(
            "conflict",
            subject=subject,
            reporter=reporter,
            metrics=sorted(differing),
            others=sorted({o for names in differing.values() for o in names}),
        )
