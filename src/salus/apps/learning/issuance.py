"""Issuing certificates against a running node: sign, anchor, prove, package.

This is the client side of the ``learning`` app (I/O lives here, over
:class:`~salus.client.SalusClient`); the pure parts are in :mod:`.credentials` and
:mod:`.certificate`. Theory of operation of :func:`issue_batch`:

1. Read the issuer's record (its name and ``next_status_index`` *s*) and each course.
2. Build one Open Badges 3.0 credential per record. Its ``credentialStatus`` points at bit
   *s + i* of the issuer's revocation list on this node (``STATUS_LIST_PATH``): the
   contract gives a batch the next *N* indices in order, so the index is known before
   signing (the contract module docstring explains why).
3. Sign each as a VC-JWT with the bound signing key; compute the RFC 9162 batch root.
   Upload the batch's leaf list (the credential hashes, :mod:`.leaves`; no personal data)
   to the node's blob store, so the node can later rebuild a package from a bare VC-JWT
   read off a printed QR code, or find a credential by its hash.
4. Send ``learning.anchor_batch`` (with the leaf list's blob address as ``leaves``)
   signed by the issuer's account key; wait for commit and
   check the batch really started at *s* (another batch of the same issuer anchored in
   between would shift it: then nothing is handed out and the caller retries).
5. Fetch the batch, issuer, key and per-credential status state proofs, all of one block
   (:func:`_batch_proofs` says when a long batch on a fast chain gets consecutive ones),
   from ``/v1/learning/issuers/{issuer}/batches/{root}/proofs`` (one CBOR request per page
   of 10,000 certificates; the page also says the batch's first status index, which is
   the check of step 4), and encode one package per credential
   (:func:`~.certificate.encode_package`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast
from urllib.parse import quote

import cbor2

from salus.apps.learning.certificate import decode_package, encode_package
from salus.apps.learning.contract import LEARNING
from salus.apps.learning.credentials import (
    AchievementResult,
    CredentialStatus,
    Evidence,
    batch_root,
    build_open_badge,
    credential_leaf_hash,
    decode_vc_jwt,
    encode_vc_jwt,
)
from salus.apps.learning.leaves import HASH_BYTES, encode_leaves
from salus.client import ApiError, SalusClient
from salus.core.crypto import Signer
from salus.core.merkle import root_from_inclusion_proof
from salus.errors import SalusError
from salus.node.blobs import MAX_BLOB_BYTES, blob_address

__all__ = [
    "STATUS_LIST_PATH",
    "CertificateRecord",
    "IssuanceError",
    "change_status",
    "course_url",
    "issue_batch",
    "package_address",
    "published_courses",
    "refresh_package",
    "revoke",
    "status_list_url",
    "suspend",
    "unsuspend",
]

STATUS_LIST_PATH: Final = "/v1/learning/issuers/{issuer}/status-list/{purpose}"
COURSE_PATH: Final = "/v1/learning/issuers/{issuer}/courses/{course_id}"
BATCH_PROOFS_PATH: Final = "/v1/learning/issuers/{issuer}/batches/{root}/proofs"
_PROOF_ATTEMPTS: Final = 5


class IssuanceError(SalusError):
    """Raised when a batch cannot be issued: unknown course, refused anchor, moving tip."""

    code = "issuance"


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    """What one learner's certificate says, before it is signed.

    ``credits`` is in tenths of an ECTS credit like the contract's (``None``: the course's
    credits); ``learner_name`` goes into the learner's credential only, never on the ledger;
    ``line`` is the cohort CSV line the record came from, for error reports.
    """

    learner_did: str
    course_id: str
    passed: bool = True
    learner_name: str | None = None
    score: int | None = None
    max_score: int | None = None
    credits: int | None = None
    evidence_url: str | None = None
    evidence_narrative: str | None = None
    line: int | None = None


def status_list_url(base_url: str, issuer: str, purpose: str = "revocation") -> str:
    """The URL of ``issuer``'s status list credential for ``purpose`` on a node."""
    return base_url.rstrip("/") + STATUS_LIST_PATH.format(issuer=issuer, purpose=purpose)


def course_url(base_url: str, issuer: str, course_id: str) -> str:
    """The URL of a published course: the certificate's ``achievement.id``."""
    return base_url.rstrip("/") + COURSE_PATH.format(issuer=issuer, course_id=course_id)


def _ects(tenths: int) -> int | float:
    return tenths // 10 if tenths % 10 == 0 else tenths / 10


def _value(client: SalusClient, key: str) -> Any:
    try:
        return client.state(LEARNING, key)["value"]
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def _credential(
    record: CertificateRecord,
    *,
    base_url: str,
    issuer: str,
    issuer_name: str,
    course: dict[str, Any],
    signing_did: str,
    index: int,
    issued_at_s: int,
) -> dict[str, Any]:
    list_url = status_list_url(base_url, issuer)
    results = []
    if record.score is not None and record.max_score is not None:
        results.append(
            AchievementResult(
                value=f"{record.score}/{record.max_score}",
                status="Completed" if record.passed else None,
            )
        )
    evidence = []
    if record.evidence_url or record.evidence_narrative:
        evidence.append(Evidence(id=record.evidence_url, narrative=record.evidence_narrative))
    credits = course["credits"] if record.credits is None else record.credits
    return build_open_badge(
        # A deterministic id: one credential per (status list, index), never reused.
        credential_id=f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{list_url}#{index}')}",
        issuer_did=signing_did,
        issuer_name=issuer_name,
        issued_at_s=issued_at_s,
        achievement_id=course_url(base_url, issuer, record.course_id),
        achievement_name=course["title"],
        achievement_description="; ".join(course["outcomes"]),
        criteria_narrative=course["assessment"],
        learner_did=record.learner_did,
        learner_name=record.learner_name,
        credits_available=_ects(course["credits"]),
        credits_earned=_ects(credits),
        results=results,
        evidence=evidence,
        # W3C Bitstring Status List v1.0 §2.1: one entry per purpose, the same index in both.
        status=(
            CredentialStatus(list_url, index, "revocation"),
            CredentialStatus(status_list_url(base_url, issuer, "suspension"), index, "suspension"),
        ),
    )


@dataclass(frozen=True, slots=True)
class _BatchProofs:
    """What the ledger says of an anchored batch, and the proofs of some of its packages."""

    status_start: int  # the batch's first status index, as anchored
    count: int
    key: str  # the signing key the batch was anchored for
    proofs: list[dict[str, bytes]]  # per certificate: its batch, issuer, key, status proofs


def _proof_page(
    client: SalusClient, issuer: str, root: str, start: int, limit: int | None
) -> dict[str, Any]:
    """One page of ``/batches/{root}/proofs`` (CBOR), checked for shape."""
    path = BATCH_PROOFS_PATH.format(issuer=quote(issuer, safe=":"), root=root)
    try:
        body = client.get_bytes(path, {"start": start, "limit": limit, "format": "cbor"})
    except ApiError as exc:
        if exc.status == 404 and exc.code == "not_found":  # unknown batch or issuer
            raise IssuanceError(f"{exc.message} on the node at {client.base_url}") from None
        raise
    try:
        page = cbor2.loads(body)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError) as exc:
        raise IssuanceError(f"the node's batch proofs are not CBOR: {exc}") from None
    problem = _page_problem(page, issuer, root, start)
    if problem:
        raise IssuanceError(f"the node's batch proofs from {start} are malformed: {problem}")
    return cast(dict[str, Any], page)


def _page_problem(page: Any, issuer: str, root: str, start: int) -> str | None:
    if not isinstance(page, dict):
        return "not a map"
    ints = ("count", "status_start", "height", "start")
    if any(not isinstance(page.get(name), int) for name in ints):
        return f"{', '.join(ints)} must be integers"
    if (page.get("issuer"), page.get("root"), page["start"]) != (issuer, root, start):
        return f"they are of {page.get('issuer')}'s batch {page.get('root')} from {page['start']}"
    shared, status, after = page.get("shared"), page.get("status"), page.get("next")
    if not isinstance(shared, dict) or set(shared) != {"batch", "issuer", "key"}:
        return "'shared' must hold the batch, issuer and key proofs"
    if not isinstance(status, list) or not all(isinstance(b, bytes) for b in status):
        return "'status' must be a list of proofs"
    if not all(isinstance(b, bytes) for b in shared.values()) or not isinstance(
        page.get("key"), str
    ):
        return "proofs must be bytes and 'key' a did"
    end = page["count"] if after is None else after
    if not isinstance(end, int) or end - start != len(status) or not status:
        return f"{len(status)} status proofs do not fill {start} .. {end}"
    return None


def _pages(
    client: SalusClient, issuer: str, root: str, start: int, stop: int | None, *, one_block: bool
) -> list[dict[str, Any]] | None:
    """Pages of certificates ``start .. stop`` (``None``: the batch's end); ``None`` when
    ``one_block`` and a page is of another block than the first."""
    pages: list[dict[str, Any]] = []
    offset: int | None = start
    while offset is not None and (stop is None or offset < stop):
        page = _proof_page(client, issuer, root, offset, None if stop is None else stop - offset)
        # A page's shared proofs carry its block's signed header: equal bytes, one block.
        if one_block and pages and page["shared"] != pages[0]["shared"]:
            return None
        pages.append(page)
        offset = page["next"]
    return pages


def _batch_proofs(
    client: SalusClient, issuer: str, root: str, *, start: int = 0, limit: int | None = None
) -> _BatchProofs:
    """The proofs of certificates ``start ..`` (``limit`` of them, at most a page, or all
    to the batch's end) from ``/batches/{root}/proofs``, one request per page.

    The node makes every page of one block, so each package's four proofs are. All pages
    are of one block too: when a block commits between two pages they are fetched again,
    up to ``_PROOF_ATTEMPTS`` times. Only if blocks keep committing faster than the pages
    come (a batch over one page on CometBFT, which makes a block every second or so) does
    the last attempt keep pages of consecutive blocks, each package still of one block:
    an anchored batch is not left without its packages for that.
    """
    stop = None if limit is None else start + limit
    for attempt in range(_PROOF_ATTEMPTS):
        try:
            pages = _pages(
                client, issuer, root, start, stop, one_block=attempt < _PROOF_ATTEMPTS - 1
            )
        except ApiError as exc:
            if exc.status != 503:  # 503: the node could not hold one page to one block
                raise
            continue
        if pages is not None:
            return _BatchProofs(
                status_start=pages[0]["status_start"],
                count=pages[0]["count"],
                key=pages[0]["key"],
                proofs=[
                    {**page["shared"], "status": status}
                    for page in pages
                    for status in page["status"]
                ],
            )
    raise IssuanceError(
        f"blocks kept committing while the proofs were fetched ({_PROOF_ATTEMPTS} attempts); "
        "the batch is anchored: ask for its proofs again later"
    )


def published_courses(client: SalusClient, issuer: str, course_ids: Iterable[str]) -> set[str]:
    """Which of ``course_ids`` the issuer has published (asks the node once per course)."""
    return {c for c in set(course_ids) if _value(client, f"course/{issuer}/{c}") is not None}


def issue_batch(
    client: SalusClient,
    issuer_account: Signer,
    signing_key: Signer,
    records: Sequence[CertificateRecord],
    *,
    issued_at_s: int | None = None,
    timeout: float = 30.0,
    publish_leaves: bool = True,
) -> list[bytes]:
    """Issue one certificate per record in one anchored batch; one package per record, in order.

    ``issuer_account`` is the accredited issuer's account key (it signs the anchor);
    ``signing_key`` a did:key it bound with ``bind_key`` (it signs the VC-JWTs).
    ``publish_leaves`` uploads the batch's leaf list to the node's blob store and names
    it in the anchor (skipped for a batch whose list exceeds the blob size limit,
    ``MAX_BLOB_BYTES / 32`` = 524,288 certificates): the node can then verify a bare
    VC-JWT from a QR code and find a credential by its hash.
    Raises :class:`IssuanceError` (unknown issuer or course, refused anchor, proofs the
    node could not give) and :class:`~salus.client.ApiError` (node unreachable or refusing).
    """
    if not records:
        raise IssuanceError("a batch holds at least one certificate")
    issuer = issuer_account.did
    issuer_record = _value(client, f"issuer/{issuer}")
    if issuer_record is None:
        raise IssuanceError(f"{issuer} is not an issuer on this network")
    courses: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.course_id not in courses:
            course = _value(client, f"course/{issuer}/{record.course_id}")
            if course is None:
                where = f"line {record.line}: " if record.line is not None else ""
                raise IssuanceError(f"{where}issuer {issuer} has no course {record.course_id!r}")
            courses[record.course_id] = course
    start = int(issuer_record["next_status_index"])
    when = int(time.time()) if issued_at_s is None else issued_at_s
    tokens = [
        encode_vc_jwt(
            _credential(
                record,
                base_url=client.base_url,
                issuer=issuer,
                issuer_name=str(issuer_record["name"]),
                course=courses[record.course_id],
                signing_did=signing_key.did,
                index=start + i,
                issued_at_s=when,
            ),
            signing_key,
        )
        for i, record in enumerate(records)
    ]
    root, paths = batch_root(tokens)
    args = {"root": root.hex(), "count": len(tokens), "key": signing_key.did}
    if publish_leaves and len(tokens) * HASH_BYTES <= MAX_BLOB_BYTES:
        # Before the anchor, so an anchor never names a list the node does not hold.
        leaf_list = encode_leaves(tokens)
        address = client.put_blob(leaf_list)
        if address != blob_address(leaf_list):
            raise IssuanceError(f"the node stored the leaf list under a wrong address {address}")
        args["leaves"] = address
    submitted = client.send(issuer_account, LEARNING, "anchor_batch", args)
    status = client.wait_for(submitted["id"], timeout=timeout)
    if status["status"] != "committed":
        raise IssuanceError(f"the node refused to anchor the batch: {status.get('reason')}")
    anchored = _batch_proofs(client, issuer, root.hex())
    if anchored.status_start != start:
        raise IssuanceError(
            f"another batch of {issuer} took status indices from {start} first; "
            "these certificates point at the wrong indices: issue them again"
        )
    if anchored.count != len(tokens) or anchored.key != signing_key.did:
        raise IssuanceError(
            f"the node says batch {root.hex()} holds {anchored.count} certificates signed by "
            f"{anchored.key}, not {len(tokens)} signed by {signing_key.did}"
        )
    return [
        encode_package(
            token=token,
            issuer=issuer,
            index=i,
            count=len(tokens),
            path=paths[i],
            proofs=anchored.proofs[i],
        )
        for i, token in enumerate(tokens)
    ]


def package_address(package: bytes) -> tuple[str, int, str]:
    """``(root hex, index in batch, issuer)`` of a package, to revoke or suspend it.

    Raises :class:`ValueError` when the package cannot be read.
    """
    data = decode_package(package)
    try:
        decode_vc_jwt(data["token"])
        leaf = credential_leaf_hash(data["token"])
        root = root_from_inclusion_proof(data["index"], data["count"], leaf, data["path"])
    except SalusError as exc:
        raise ValueError(exc.reason) from None
    return root.hex(), int(data["index"]), str(data["issuer"])


def refresh_package(client: SalusClient, package: bytes) -> bytes:
    """The same certificate with proofs from the node's latest block.

    A package carries the ledger state of the block it was built at; refreshing it
    lets an offline check see a later revocation or suspension ("revoked at block
    N: reason"). The token and its batch path are unchanged; the proofs come in one
    request. Raises :class:`IssuanceError` when the node does not hold the batch, or
    holds it for another issuer, signing key or size.
    """
    data = decode_package(package)
    root, index, issuer = package_address(package)
    header, _, _ = decode_vc_jwt(data["token"])
    signing_key = str(header["kid"]).split("#", 1)[0]
    # A batch the node does not hold, or holds for another issuer: IssuanceError (404).
    anchored = _batch_proofs(client, issuer, root, start=index, limit=1)
    if anchored.key != signing_key or anchored.count != int(data["count"]):
        raise IssuanceError(
            f"batch {root} was anchored for {anchored.count} certificates signed by "
            f"{anchored.key}; this one says {data['count']}, signed by {signing_key}: "
            "it is not one of them"
        )
    return encode_package(
        token=data["token"],
        issuer=issuer,
        index=index,
        count=int(data["count"]),
        path=data["path"],
        proofs=anchored.proofs[0],
    )


def change_status(
    client: SalusClient,
    signer: Signer,
    action: str,
    *,
    reason: str,
    root: str | None = None,
    index_in_batch: int | None = None,
    issuer: str | None = None,
    status_index: int | None = None,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Send ``learning.<action>`` (revoke, suspend, unsuspend) and wait; the committed status.

    Address the credential by ``root`` + ``index_in_batch`` or by ``status_index`` (of
    ``issuer``, default the signer). Raises :class:`IssuanceError` when it is rejected.
    """
    if action not in ("revoke", "suspend", "unsuspend"):
        raise ValueError(f"action {action!r} is not revoke, suspend or unsuspend")
    args: dict[str, Any] = {"reason": reason}
    for name, value in (
        ("root", root),
        ("index_in_batch", index_in_batch),
        ("issuer", issuer),
        ("status_index", status_index),
    ):
        if value is not None:
            args[name] = value
    submitted = client.send(signer, LEARNING, action, args)
    status = client.wait_for(submitted["id"], timeout=timeout)
    if status["status"] != "committed":
        raise IssuanceError(f"the node refused to {action} the credential: {status.get('reason')}")
    return status


def revoke(client: SalusClient, signer: Signer, **address: Any) -> dict[str, Any]:
    """Revoke a credential for good (see :func:`change_status` for the arguments)."""
    return change_status(client, signer, "revoke", **address)


def suspend(client: SalusClient, signer: Signer, **address: Any) -> dict[str, Any]:
    """Suspend a credential until ``unsuspend`` (see :func:`change_status`)."""
    return change_status(client, signer, "suspend", **address)


def unsuspend(client: SalusClient, signer: Signer, **address: Any) -> dict[str, Any]:
    """Lift a credential's suspension (see :func:`change_status`)."""
    return change_status(client, signer, "unsuspend", **address)
