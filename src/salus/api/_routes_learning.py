"""Routes of the ``learning`` app: issuers, courses, credential status, status lists, transcripts.

Every answer is computed from committed state and says the height it reflects (``as_of``
in JSON bodies, the ``Salus-Height`` header on a status list credential, whose body is
the bare W3C credential that VC tools fetch).

Status list credentials (W3C Bitstring Status List v1.0). The credential's ``id`` is the
URL it was fetched from (without query), which is the ``statusListCredential`` URL
:mod:`salus.apps.learning.issuance` puts in each certificate's ``credentialStatus`` (§3.2
checks they match). One URL, two representations chosen by the ``Accept`` header (§4
"Media Types"):

- ``application/vc+jwt`` (or ``application/jwt``): the credential secured as a VC-JWT,
  like the certificates (§3.6 asks for the same securing mechanism), signed by the
  node's *status publication key*. The certificate's issuer cannot sign it: the list
  must follow every committed revocation at once, and the issuer's key never reaches a
  node. So the node signs what its committed state says, as the note in §3.2 ("the
  issuers of these credentials might differ") allows. The key is the one that signs
  the node's blocks (a validator in genesis) or, under CometBFT, the validator key the
  node's CometBFT signs votes with (:mod:`salus.cometbft.runner`), unless the router is
  given another: a verifier holding the genesis can check that the list was signed by a
  validator of the network, and any VC tool can check the did:key signature. There is no way to
  replay one signature as the other: JWS signing input starts ``eyJ``, a block's
  signed bytes with the ``salus/block/v1`` domain tag.
- anything else (a browser, ``curl``): the same credential as plain JSON, unsigned.

The signed credential says what it reflects and for how long: ``issuanceDate`` (VC 1.1's
validFrom) is when it was signed, ``expirationDate`` (validUntil) :data:`STATUS_VALID_S`
later, ``credentialSubject.ttl`` asks verifiers to fetch again after
:data:`STATUS_TTL_S`, and the JWT claim ``salus_height`` is the ledger height. It is
cached per (URL, issuer, purpose, height) and signed again when the height moves or
the cached one is :data:`STATUS_TTL_S` old, so a revocation shows in the next response
after its block commits, and a list an attacker replays is useless after
:data:`STATUS_VALID_S`.

Batch proofs. ``/batches/{root}/proofs`` hands an issuer, in one response of one block,
the state proofs every package of a batch needs: the batch, issuer and key proofs
(shared) and one status proof per certificate, so issuing over HTTP costs one request
per page of :data:`MAX_BATCH_PROOFS` certificates, not one per certificate.
"""

from __future__ import annotations

import base64
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from salus.api._errors import ERROR_RESPONSES, ApiError
from salus.api._inputs import INT_MAX
from salus.apps.learning.certificate import package_keys
from salus.apps.learning.contract import LEARNING, status_bits
from salus.apps.learning.credentials import encode_vc_jwt
from salus.apps.learning.status_list import build_status_list_credential
from salus.core import codec
from salus.core.crypto import Signer
from salus.core.genesis import check_did
from salus.errors import NotFound
from salus.node.node import Node

__all__ = [
    "MAX_BATCH_PROOFS",
    "STATUS_JWT_MEDIA_TYPE",
    "STATUS_TTL_S",
    "STATUS_VALID_S",
    "learning_router",
]

STATUS_JWT_MEDIA_TYPE: Final = "application/vc+jwt"
_JWT_MEDIA_TYPES: Final = (STATUS_JWT_MEDIA_TYPE, "application/jwt")
STATUS_TTL_S: Final = 60  # credentialSubject.ttl and Cache-Control max-age
STATUS_VALID_S: Final = 300  # validUntil - validFrom of a signed list
MAX_BATCH_PROOFS: Final = 10_000  # status proofs per page of /batches/{root}/proofs
_CACHED_LISTS: Final = 256

Purpose = Literal["revocation", "suspension"]


def _did(value: str, what: str) -> str:
    try:
        return check_did(value)
    except ValueError as exc:
        raise ApiError(400, f"path parameter '{what}': {exc}") from None


def _wants_jwt(accept: str) -> bool:
    """Whether the ``Accept`` header names a JWT media type with a weight above 0.

    RFC 9110 §12.5.1: ``q=0`` means "not acceptable". Only an explicit JWT type selects
    the JWT: ``*/*`` (curl, browsers) keeps the readable JSON.
    """
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media.lower() not in _JWT_MEDIA_TYPES:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0  # an unreadable weight selects nothing
        if weight > 0:
            return True
    return False


@dataclass(frozen=True, slots=True)
class _PublishedList:
    credential: dict[str, Any]
    token: str | None
    signed_at_s: int
    height: int


class _StatusLists:
    """Status list credentials built (and signed) per (URL, issuer, purpose, height)."""

    def __init__(self, node: Node, signer: Signer | None, clock: Callable[[], float]) -> None:
        self.node = node
        self.signer = signer
        self.clock = clock
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str, str, int], _PublishedList] = OrderedDict()

    def get(self, list_url: str, issuer: str, purpose: Purpose) -> _PublishedList:
        now_s = int(self.clock())
        with self.node.commit_lock:
            record = self.node.ledger.read(LEARNING, f"issuer/{issuer}")
            height = self.node.ledger.height
            if record is None:
                raise NotFound(f"{issuer} is not an issuer (at height {height})")
            key = (list_url, issuer, purpose, height)
            with self._lock:
                cached = self._cache.get(key)
            if cached is not None and now_s - cached.signed_at_s < STATUS_TTL_S:
                return cached
            bits = status_bits(_Reader(self.node), issuer, purpose)
        # Built and signed outside the commit lock: blocks need not wait for GZIP and Ed25519.
        publisher = self.signer.did if self.signer is not None else issuer
        credential = build_status_list_credential(
            list_url=list_url,
            issuer_did=publisher,
            issued_at_s=now_s,
            purpose=purpose,
            bits=bits,
            valid_until_s=now_s + STATUS_VALID_S,
            ttl_ms=STATUS_TTL_S * 1000,
        )
        token = None
        if self.signer is not None:
            token = encode_vc_jwt(credential, self.signer, claims={"salus_height": height})
        published = _PublishedList(credential, token, now_s, height)
        with self._lock:
            self._cache[key] = published
            self._cache.move_to_end(key)
            while len(self._cache) > _CACHED_LISTS:
                self._cache.popitem(last=False)
        return published


def learning_router(
    node: Node,
    *,
    status_signer: Signer | None = None,
    clock: Callable[[], float] = time.time,
) -> APIRouter:
    """The ``/v1/learning`` routes over ``node``'s committed state.

    ``status_signer`` signs status list credentials; by default the node's block key
    (``node.validator``). A CometBFT node passes its validator key (its blocks are signed
    by CometBFT, :mod:`salus.cometbft.runner`); a node with neither (a CometBFT full
    node) serves status lists as unsigned JSON only. ``clock`` gives the UNIX time a
    list is signed at (a test's fixed time).
    """
    router = APIRouter(prefix="/v1/learning", tags=["learning"], responses=ERROR_RESPONSES)
    lists = _StatusLists(node, status_signer or node.validator, clock)

    def read(*keys: str) -> tuple[list[Any], int, int]:
        """Values of ``keys`` with the height and block time (ms) they are all from."""
        if LEARNING not in node.ledger.contracts:
            raise NotFound(f"this node does not run the {LEARNING} contract")
        with node.commit_lock:
            values = [node.ledger.read(LEARNING, key) for key in keys]
            return values, node.ledger.height, node.ledger.last_time_ms

    def issuer_record(issuer: str) -> tuple[dict[str, Any], int, int]:
        (record,), height, time_ms = read(f"issuer/{issuer}")
        if record is None:
            raise NotFound(f"{issuer} is not an issuer (at height {height})")
        return record, height, time_ms

    @router.get("/issuers/{issuer}", summary="An issuer's accreditation record")
    def issuer(issuer: str) -> dict[str, Any]:
        """Name, status (accredited, suspended, withdrawn), its history, assigned status indices."""
        record, height, _ = issuer_record(_did(issuer, "issuer"))
        return {"issuer": issuer, **record, "as_of": height}

    @router.get("/issuers/{issuer}/courses/{course_id}", summary="A published course")
    def course(issuer: str, course_id: str) -> dict[str, Any]:
        """The course's current version (title, credits in tenths of ECTS, outcomes...)."""
        _did(issuer, "issuer")
        if not course_id.isprintable() or " " in course_id or len(course_id) > 64:
            raise ApiError(400, f"path parameter 'course_id': {course_id!r} is not a course id")
        (record,), height, _ = read(f"course/{issuer}/{course_id}")
        if record is None:
            raise NotFound(f"issuer {issuer} has no course {course_id!r} (at height {height})")
        return {"issuer": issuer, "course_id": course_id, **record, "as_of": height}

    @router.get(
        "/issuers/{issuer}/credentials/{status_index}",
        summary="A credential's current status",
    )
    def credential_status(
        issuer: str, status_index: Annotated[int, Path(ge=0, le=INT_MAX)]
    ) -> dict[str, Any]:
        """Online status of the credential at ``status_index`` of the issuer's status list:
        ``active``, ``suspended`` or ``revoked``, with the height and reason of the last change.
        """
        _did(issuer, "issuer")
        (record, status), height, _ = read(f"issuer/{issuer}", f"status/{issuer}/{status_index}")
        if record is None:
            raise NotFound(f"{issuer} is not an issuer (at height {height})")
        if status_index >= record["next_status_index"]:
            raise NotFound(
                f"status index {status_index} was never assigned by issuer {issuer} "
                f"(it has assigned {record['next_status_index']} at height {height})"
            )
        history = [] if status is None else status["history"]
        last = history[-1] if history else None
        return {
            "issuer": issuer,
            "status_index": status_index,
            "status": "active" if status is None else status["status"],
            "changed_at": None if last is None else last["height"],
            "reason": None if last is None else last["reason"],
            "history": history,
            "issuer_status": record["status"],
            "as_of": height,
        }

    @router.get(
        "/issuers/{issuer}/status-list/{purpose}",
        summary="The issuer's W3C Bitstring Status List credential (JSON, or a signed VC-JWT)",
        response_model=None,
        responses={
            200: {
                "content": {
                    "application/json": {},
                    STATUS_JWT_MEDIA_TYPE: {"schema": {"type": "string"}},
                },
                "description": "The status list credential; signed with Accept: "
                f"{STATUS_JWT_MEDIA_TYPE}",
            },
            406: {"description": "a VC-JWT was asked for and this node holds no signing key"},
        },
    )
    def status_list(request: Request, issuer: str, purpose: Purpose) -> Response:
        """A ``BitstringStatusListCredential`` of committed state (see the module docstring).

        With ``Accept: application/vc+jwt`` it is a VC-JWT signed by the node's status
        publication key; otherwise the same credential as JSON. ``Salus-Height`` is the
        height it reflects. Bit *i* is set when credential *i* is revoked (or suspended).
        """
        _did(issuer, "issuer")
        if LEARNING not in node.ledger.contracts:
            raise NotFound(f"this node does not run the {LEARNING} contract")
        list_url = str(request.url.replace(query="", fragment=""))
        wants_jwt = _wants_jwt(request.headers.get("accept", ""))
        if wants_jwt and lists.signer is None:
            raise ApiError(
                406,
                "this node holds no status publication key (it is not a validator's node), "
                "so it serves status lists as unsigned JSON only (Accept: application/json); "
                "ask a validator's node for a signed one",
                code="not_acceptable",
            )
        published = lists.get(list_url, issuer, purpose)
        headers = {
            "Salus-Height": str(published.height),
            "Cache-Control": f"max-age={STATUS_TTL_S}",
            "Vary": "Accept",
        }
        if wants_jwt and published.token is not None:
            return Response(published.token, media_type=STATUS_JWT_MEDIA_TYPE, headers=headers)
        return JSONResponse(published.credential, headers=headers)

    @router.get(
        "/issuers/{issuer}/batches/{root}/proofs",
        summary="The state proofs of a batch's certificate packages, all of one block",
        response_model=None,
    )
    def batch_proofs(
        issuer: str,
        root: str,
        start: Annotated[int, Query(ge=0, le=INT_MAX, description="first index in batch")] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_BATCH_PROOFS)] = MAX_BATCH_PROOFS,
        format: Annotated[
            Literal["json", "cbor"], Query(description="'cbor': canonical CBOR, bundles as bytes")
        ] = "json",
    ) -> Any:
        """The batch, issuer and key proofs and the status proofs of certificates
        ``start .. start+limit-1`` of the batch, all of the block ``height``: what
        :func:`~salus.apps.learning.certificate.encode_package` needs. ``next`` is the
        ``start`` of the next page (``null`` on the last). In JSON, bundles are base64.
        """
        _did(issuer, "issuer")
        if len(root) != 64 or any(c not in "0123456789abcdef" for c in root):
            raise ApiError(400, f"path parameter 'root': {root!r} is not 64 lower-case hex")
        answer = _batch_proofs(node, issuer, root, start, limit)
        if format == "cbor":
            return Response(codec.encode(answer), media_type="application/cbor")
        shared = {name: _b64(bundle) for name, bundle in answer["shared"].items()}
        return {**answer, "shared": shared, "status": [_b64(b) for b in answer["status"]]}

    @router.get("/learners/{learner}/transcript", summary="A learner's learning-record events")
    def transcript(
        learner: str,
        after: Annotated[int, Query(ge=0, le=INT_MAX, description="cursor: last seq seen")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """Enrolments, module completions and results recorded for the pseudonymous learner,
        oldest first; each event names its block and transaction, whose proof
        ``/v1/proofs/tx/{tx_id}`` gives. ``next`` is the cursor for the next page."""
        _did(learner, "learner")
        height = node.ledger.height
        records = node.store.events(contract=LEARNING, subject=learner, after=after, limit=limit)
        return {
            "learner": learner,
            "events": [event.to_json() for event in records],
            "next": records[-1].seq if len(records) == limit else None,
            "as_of": height,
        }

    return router


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _batch_proofs(node: Node, issuer: str, root: str, start: int, limit: int) -> dict[str, Any]:
    """The proofs of one page of a batch, all of one block (see ``batch_proofs``)."""
    if LEARNING not in node.ledger.contracts:
        raise NotFound(f"this node does not run the {LEARNING} contract")
    with node.commit_lock:
        height = node.ledger.height
        batch = node.ledger.read(LEARNING, f"batch/{root}")
    if batch is None:
        raise NotFound(f"batch {root} is not anchored (at height {height})")
    if batch["issuer"] != issuer:
        raise NotFound(f"batch {root} was anchored by {batch['issuer']}, not {issuer}")
    count = int(batch["count"])
    if start >= count:
        raise ApiError(400, f"query parameter 'start': {start} is not below the batch's {count}")
    first = int(batch["status_start"])
    end = min(count, start + limit)
    keys = package_keys(
        root=bytes.fromhex(root), issuer=issuer, key=batch["key"], status_index=first
    )
    # One snapshot, so every bundle proves the same block (a batch record never changes
    # once anchored, so reading it just before is safe).
    names = ("batch", "issuer", "key")
    proven = node.state_proofs(
        LEARNING,
        [
            *(keys[name] for name in names),
            *(f"status/{issuer}/{first + i}" for i in range(start, end)),
        ],
    )
    bundles = proven.bundles
    return {
        "issuer": issuer,
        "root": root,
        "key": batch["key"],
        "count": count,
        "status_start": first,
        "height": proven.height,
        "start": start,
        "next": end if end < count else None,
        "shared": dict(zip(names, bundles[:3], strict=True)),
        "status": bundles[3:],
    }


class _Reader:
    """``LearningRecords`` over the node's ledger (call under ``node.commit_lock``)."""

    def __init__(self, node: Node) -> None:
        self._node = node

    def get(self, key: str, /) -> Any:
        return self._node.ledger.read(LEARNING, key)
