"""The event index: what contracts reported, filterable and paged by sequence number."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from salus.api._errors import ERROR_RESPONSES
from salus.api._inputs import INT_MAX
from salus.node.node import Node, decode_hex_id

__all__ = ["events_router"]

_Text = Query(max_length=256)


def events_router(node: Node) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["events"], responses=ERROR_RESPONSES)

    @router.get("/events", summary="Events, oldest first")
    def events(
        contract: Annotated[str | None, _Text] = None,
        event_type: Annotated[str | None, Query(alias="type", max_length=256)] = None,
        subject: Annotated[str | None, _Text] = None,
        tx: Annotated[str | None, Query(description="transaction id (64 hex)")] = None,
        from_height: Annotated[int | None, Query(ge=0, le=INT_MAX)] = None,
        to_height: Annotated[int | None, Query(ge=0, le=INT_MAX)] = None,
        after: Annotated[int, Query(ge=0, le=INT_MAX, description="cursor: last seq seen")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """Events matching every filter given; ``next`` is the cursor for the next page."""
        records = node.store.events(
            contract=contract,
            type=event_type,
            subject=subject,
            tx_id=decode_hex_id(tx, "query parameter 'tx'") if tx is not None else None,
            from_height=from_height,
            to_height=to_height,
            after=after,
            limit=limit,
        )
        return {
            "events": [record.to_json() for record in records],
            "next": records[-1].seq if len(records) == limit else None,
        }

    return router
