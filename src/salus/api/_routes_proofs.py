"""Proof bundles and the verifier, over HTTP.

A bundle is served three ways at once (base64, a readable JSON view, and the
verdict of the core verifier against this node's genesis), or as the raw CBOR
file with ``?format=cbor`` for ``salus verify``. ``POST /v1/verify`` runs the
same verifier on a bundle from anywhere; an invalid bundle is a 200 whose verdict
names the failed step, since "this proof is bad" is the answer, not an error.
"""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from salus.api._errors import ERROR_RESPONSES
from salus.api._inputs import bytes_body, bytes_body_schema
from salus.api._routes_state import installed_contract
from salus.core.proofs import bundle_to_json, verify_bundle
from salus.node.node import Node, decode_hex_id

__all__ = ["proofs_router"]

_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")

Format = Annotated[
    Literal["json", "cbor"], Query(description="'cbor' downloads the raw bundle file")
]


def proofs_router(node: Node) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["proofs"], responses=ERROR_RESPONSES)

    def present(bundle: bytes, fmt: str, name: str) -> Any:
        if fmt == "cbor":
            filename = f"salus-proof-{_UNSAFE_FILENAME.sub('_', name)}.cbor"
            return Response(
                bundle,
                media_type="application/cbor",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return {
            "bundle": base64.b64encode(bundle).decode("ascii"),
            "bundle_json": bundle_to_json(bundle),
            "verdict": verify_bundle(bundle, node.genesis).to_json(),
        }

    @router.get("/proofs/tx/{tx_id}", summary="Inclusion proof of a committed transaction")
    def tx_proof(tx_id: str, format: Format = "json") -> Any:
        """Signed header plus Merkle paths of the transaction and its result; 404 while pending."""
        raw_id = decode_hex_id(tx_id)
        return present(node.tx_proof(raw_id), format, raw_id.hex())

    @router.get(
        "/proofs/state/{contract}/{key:path}", summary="Proof of a state key's value or absence"
    )
    def state_proof(contract: str, key: str, format: Format = "json") -> Any:
        """Signed header plus the state-tree path of the key at the tip.

        An absent key gets a non-membership proof: absence is provable too.
        """
        bundle = node.state_proof(installed_contract(node, contract), key)
        return present(bundle, format, f"{contract}-{key}")

    @router.post(
        "/verify",
        summary="Verify a proof bundle",
        openapi_extra=bytes_body_schema("bundle", "base64 of a proof bundle"),
    )
    def verify(bundle: Annotated[bytes, Depends(bytes_body("bundle"))]) -> dict[str, Any]:
        """Run the core verifier against this network's genesis: ``salus verify`` over HTTP.

        Always 200 for a bundle that could be read from the request; the verdict says
        whether it is valid, or which step failed and why.
        """
        return verify_bundle(bundle, node.genesis).to_json()

    return router
