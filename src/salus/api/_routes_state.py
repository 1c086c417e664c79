"""Routes that read current state: contract keys and values, and accounts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from salus.api._errors import ERROR_RESPONSES
from salus.core.contract import state_key
from salus.core.crypto import public_key_from_did
from salus.errors import NotFound, UnknownContract
from salus.node.node import Node

__all__ = ["installed_contract", "state_router"]


def installed_contract(node: Node, name: str) -> str:
    """``name`` if such a contract is installed; otherwise a 404 naming the installed ones.

    An unknown contract in a *transaction* is bad input (400); in a URL it is a
    resource that does not exist.
    """
    try:
        node.ledger.contract(name)
    except UnknownContract as exc:
        raise NotFound(exc.reason) from None
    return name


def state_router(node: Node) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["state"], responses=ERROR_RESPONSES)

    @router.get("/state/{contract}/{key:path}", summary="Current value of a state key")
    def read_state(contract: str, key: str) -> dict[str, Any]:
        """The value of ``key`` in ``contract``'s namespace at the tip; 404 when absent."""
        return node.read_state(installed_contract(node, contract), key)

    @router.get("/state/{contract}", summary="List a contract's state keys")
    def list_keys(
        contract: str,
        prefix: Annotated[str, Query(max_length=256, description="keys starting with")] = "",
        after: Annotated[
            str | None, Query(max_length=256, description="cursor: last key seen")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """Keys in byte order without the ``<contract>/`` prefix; ``next`` is the cursor."""
        installed_contract(node, contract)
        namespace = f"{contract}/".encode("ascii")
        # state_key validates keys (printable ASCII, no spaces) for prefix and cursor alike.
        raw_prefix = state_key(contract, prefix) if prefix else namespace
        raw_after = state_key(contract, after) if after else None
        keys = node.store.state_keys(raw_prefix, after=raw_after, limit=limit)
        names = [key[len(namespace) :].decode("ascii") for key in keys]
        return {"keys": names, "next": names[-1] if len(names) == limit else None}

    @router.get("/accounts/{did}", summary="Roles and nonces of a did:key")
    def account(did: str) -> dict[str, Any]:
        """The organisation and roles a key holds, and the nonce its next transaction needs."""
        return node.account(did, public_key_from_did(did))

    return router
