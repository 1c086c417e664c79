"""The off-chain blob store: documents referenced on-chain by their SHA-256."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from salus.api._errors import ERROR_RESPONSES
from salus.api._inputs import raw_body
from salus.node.blobs import BlobStore

__all__ = ["blobs_router"]

_RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def blobs_router(blobs: BlobStore) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["blobs"], responses=ERROR_RESPONSES)

    @router.post(
        "/blobs",
        status_code=201,
        summary=f"Store a blob (up to {blobs.max_bytes >> 20} MiB)",
        openapi_extra=_RAW_BODY,
    )
    def put_blob(data: Annotated[bytes, Depends(raw_body)]) -> dict[str, Any]:
        """Store the raw body; its address is the hex SHA-256 of the bytes."""
        return {"address": blobs.put(data), "size": len(data)}

    @router.get(
        "/blobs/{address}",
        summary="Fetch a blob by address",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    def get_blob(address: str) -> Response:
        """The stored bytes, re-hashed before they are served."""
        return Response(blobs.get(address), media_type="application/octet-stream")

    return router
