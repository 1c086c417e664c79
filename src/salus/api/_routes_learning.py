"""Routes of the ``learning`` app: issuers, courses, credential status, status lists, transcripts.

Every answer is computed from committed state at the moment of the request, and says the
height it reflects (``as_of`` in JSON bodies; the ``Salus-Height`` header on a status
list credential, whose body is the bare W3C credential that VC tools fetch). Nothing is
cached, so revocations are visible as soon as their block commits.

The status list credential's ``id`` is the URL it was fetched from (without query), which
is the ``statusListCredential`` URL :mod:`salus.apps.learning.issuance` puts in each
certificate's ``credentialStatus`` (``STATUS_LIST_PATH`` there; W3C Bitstring Status
List v1.0 §3.2 checks they match).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from salus.api._errors import ERROR_RESPONSES, ApiError
from salus.api._inputs import INT_MAX
from salus.apps.learning.contract import LEARNING, status_bits
from salus.apps.learning.status_list import build_status_list_credential
from salus.core.genesis import check_did
from salus.errors import NotFound
from salus.node.node import Node

__all__ = ["learning_router"]


def _did(value: str, what: str) -> str:
    try:
        return check_did(value)
    except ValueError as exc:
        raise ApiError(400, f"path parameter '{what}': {exc}") from None


def learning_router(node: Node) -> APIRouter:
    """The ``/v1/learning`` routes over ``node``'s committed state."""
    router = APIRouter(prefix="/v1/learning", tags=["learning"], responses=ERROR_RESPONSES)

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
        summary="The issuer's W3C Bitstring Status List credential",
        response_model=None,
    )
    def status_list(
        request: Request, issuer: str, purpose: Literal["revocation", "suspension"]
    ) -> Response:
        """A ``BitstringStatusListCredential`` (unsigned) built from committed state now.

        Its ``issuanceDate`` is the tip's block time; the ``Salus-Height`` header is the
        height it reflects. Bit *i* is set when credential *i* is revoked (or suspended).
        """
        _did(issuer, "issuer")
        with node.commit_lock:
            _, height, time_ms = issuer_record(issuer)
            bits = status_bits(_Reader(node), issuer, purpose)
        credential = build_status_list_credential(
            list_url=str(request.url.replace(query="", fragment="")),
            issuer_did=issuer,
            issued_at_s=time_ms // 1000,
            purpose=purpose,
            bits=bits,
        )
        return JSONResponse(
            credential,
            headers={"Salus-Height": str(height), "Cache-Control": "no-store"},
        )

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


class _Reader:
    """``LearningRecords`` over the node's ledger (call under ``node.commit_lock``)."""

    def __init__(self, node: Node) -> None:
        self._node = node

    def get(self, key: str, /) -> Any:
        return self._node.ledger.read(LEARNING, key)
