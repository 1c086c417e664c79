"""Routes about the chain itself: status, genesis, contracts and blocks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from salus.api._errors import ERROR_RESPONSES
from salus.api._inputs import INT_MAX
from salus.api._views import tx_summary
from salus.node.node import Node

__all__ = ["chain_router"]


def chain_router(node: Node) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["chain"], responses=ERROR_RESPONSES)

    @router.get("/status", summary="Node and chain status")
    def status() -> dict[str, Any]:
        """Chain id, genesis hash, height, last block hash and time, state root, mempool size."""
        return node.status()

    @router.get("/genesis", summary="The genesis document")
    def genesis() -> dict[str, Any]:
        """The network's genesis: with it, anyone can verify a proof bundle offline."""
        return node.genesis.model_dump(mode="json")

    @router.get("/contracts", summary="Installed contracts")
    def contracts() -> list[dict[str, Any]]:
        """Each contract's actions, the roles allowed to call them and their argument schemas."""
        return node.describe_contracts()

    @router.get("/blocks", summary="Block headers, newest first")
    def blocks(
        before: Annotated[
            int | None, Query(ge=1, le=INT_MAX, description="only blocks below this height")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        """Headers newest first; page with ``before`` = the lowest height seen."""
        headers = node.store.list_headers(before=before, limit=limit)
        return {"blocks": [header.to_json() for header in headers]}

    @router.get("/blocks/{height}", summary="One block with its transactions")
    def block(
        height: Annotated[int, Path(ge=0, le=INT_MAX)],
        offset: Annotated[int, Query(ge=0, le=INT_MAX)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        """The header, the proposer's signature and a page of transaction summaries."""
        stored = node.get_block(height)
        txs = node.store.block_txs(height, offset=offset, limit=limit)
        return {
            "header": stored.header.to_json(),
            "signature": stored.signature.hex(),
            "txs": [tx_summary(tx) for tx in txs],
            "tx_count": stored.header.tx_count,
        }

    return router
