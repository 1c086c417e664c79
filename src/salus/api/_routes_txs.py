"""Routes to submit transactions and to look them up.

Submission and lookup handlers are plain functions: FastAPI runs them in its
threadpool, and signature verification releases the GIL, so admission of
concurrent requests runs in parallel.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from salus.api._errors import ERROR_RESPONSES, ApiError, error_response
from salus.api._inputs import (
    INT_MAX,
    b64decode_strict,
    bytes_body,
    bytes_body_schema,
    json_schema_body,
    model_body,
)
from salus.api._views import tx_summary
from salus.core.crypto import public_key_from_did
from salus.node.node import Node, SubmitResult, decode_hex_id

__all__ = ["MAX_BATCH", "txs_router"]

MAX_BATCH = 10_000

# Module-level: route annotations are resolved in this module's globals.
_envelope_body = bytes_body("tx")


class BatchSubmission(BaseModel):
    """Up to 10,000 signed envelopes, each base64."""

    model_config = ConfigDict(extra="forbid")
    txs: list[str] = Field(min_length=1, max_length=MAX_BATCH)


_batch_body = model_body(BatchSubmission)


def _rejection(result: SubmitResult) -> JSONResponse:
    if result.code in ("mempool_full", "engine_unavailable"):
        # The node (or its consensus engine) is busy or down; the transaction is fine.
        return error_response(
            503, result.code, result.reason, headers={"Retry-After": "1"}, extra={"id": result.id}
        )
    extra = {"id": result.id} if result.id is not None else None
    return error_response(400, result.code, result.reason, extra=extra)


def txs_router(node: Node) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["transactions"], responses=ERROR_RESPONSES)

    @router.post(
        "/txs",
        status_code=202,
        summary="Submit one signed transaction",
        openapi_extra=bytes_body_schema("tx", "base64 of the canonical signed envelope"),
        responses={503: {"description": "Mempool full; retry later"}},
    )
    def submit(envelope: Annotated[bytes, Depends(_envelope_body)]) -> Any:
        """Admit a signed envelope to the mempool (202), or say why not (400 with its id).

        Send JSON ``{"tx": "<base64>"}`` or the raw envelope as ``application/cbor``.
        """
        result = node.submit(envelope)
        if result.status != "pending":
            return _rejection(result)
        return result.to_json()

    @router.post(
        "/txs/batch",
        summary="Submit up to 10,000 signed transactions",
        openapi_extra=json_schema_body(BatchSubmission),
    )
    def submit_batch(body: Annotated[BatchSubmission, Depends(_batch_body)]) -> dict[str, Any]:
        """One result per item, in order: pending, or rejected with a code and reason.

        An item that is not valid base64 is rejected on its own, naming its index.
        """
        results: dict[int, SubmitResult] = {}
        decoded: list[tuple[int, bytes]] = []
        for index, text in enumerate(body.txs):
            try:
                decoded.append((index, b64decode_strict(text, f"txs[{index}]")))
            except ApiError as exc:  # one bad item, not a bad batch
                results[index] = SubmitResult(None, "rejected", exc.code, exc.message)
        submitted = node.submit_many([envelope for _, envelope in decoded])
        for (index, _), result in zip(decoded, submitted, strict=True):
            results[index] = result
        return {"results": [results[index].to_json() for index in range(len(body.txs))]}

    @router.get("/txs/{tx_id}", summary="Status of a transaction")
    def tx_status(tx_id: str) -> dict[str, Any]:
        """pending, committed (with height and index, events and body) or rejected (with reason)."""
        return node.tx_status(decode_hex_id(tx_id))

    @router.get("/txs", summary="Find committed transactions")
    def find_txs(
        contract: Annotated[str | None, Query(max_length=64)] = None,
        signer: Annotated[str | None, Query(max_length=128, description="did:key")] = None,
        before_height: Annotated[int | None, Query(ge=1, le=INT_MAX)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        """Committed transactions by contract and/or signer, newest first."""
        signer_key = public_key_from_did(signer) if signer is not None else None
        stored = node.store.find_txs(
            contract=contract, signer=signer_key, before_height=before_height, limit=limit
        )
        return {"txs": [tx_summary(tx) for tx in stored]}

    return router
