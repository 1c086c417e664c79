"""Certificate verification over HTTP, and the verification page at ``/verify/``.

``POST /v1/learning/verify`` answers two separate questions about a certificate
package (:mod:`salus.apps.learning.certificate`):

- ``offline``: the verdict of :func:`verify_certificate` against this network's
  genesis, using only what the package carries, exactly as a verifier with the node
  stopped would give it, with every step;
- ``online``: what this node's committed state says *now*: the credential's current
  status (``learning`` key ``status/<issuer>/<index>``) and its issuer's standing.
  A package proves the state of the block it was made at; a later revocation shows
  up here only.

A package that cannot be decoded is still a 200 (its verdict is "tampered" at the
``decode`` step), as with ``POST /v1/verify``: "this certificate is bad" is the
answer, not an error. A request the API cannot read (no body, bad base64, wrong
media type, no file) is a 4xx in the one error shape.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from salus.api._errors import ERROR_RESPONSES, ApiError
from salus.api._explorer import _WithSecurityHeaders
from salus.api._inputs import b64decode_strict, bytes_body, bytes_body_schema
from salus.apps.learning.certificate import (
    MAX_PACKAGE_BYTES,
    CertificateVerdict,
    decode_package,
    verify_certificate,
)
from salus.apps.learning.contract import LEARNING
from salus.apps.learning.credentials import credential_hash
from salus.errors import SalusError
from salus.node.node import Node
from salus.web import STATIC_DIR

__all__ = ["VERIFY_DIR", "certificates_router", "mount_verify_page"]

VERIFY_DIR = STATIC_DIR.parent / "verify"
_FIELD = "package"
_RAW_TYPES = ("application/cbor", "application/octet-stream")


async def _package_body(request: Request) -> bytes:
    """The package from raw CBOR, JSON ``{"package": base64}`` or a multipart upload."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/octet-stream":
        body = await request.body()
        if not body:
            raise ApiError(400, "the request body is empty")
        return body
    if media != "multipart/form-data":
        return await bytes_body(_FIELD)(request)
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=MAX_PACKAGE_BYTES)
    except Exception as exc:  # python-multipart / Starlette parse errors
        raise ApiError(400, f"the multipart body cannot be read: {exc}") from None
    try:
        value = form.get(_FIELD)
        if isinstance(value, UploadFile):
            data = await value.read(MAX_PACKAGE_BYTES + 1)
        elif isinstance(value, str):
            data = b64decode_strict(value.strip(), f"form field '{_FIELD}'")
        else:
            raise ApiError(400, f"form field '{_FIELD}' (the package file) is required")
    finally:
        await form.close()
    if not data:
        raise ApiError(400, f"form field '{_FIELD}' is empty")
    return data


def _credential(package: bytes) -> dict[str, Any] | None:
    """The package's credential hash, issuer and position, if the package decodes."""
    try:
        data = decode_package(package)
        digest = credential_hash(data["token"]).hex()
    except (ValueError, SalusError):
        return None
    return {
        "credential_hash": digest,
        "issuer": data["issuer"],
        "index": data["index"],
        "count": data["count"],
    }


def _online_status(
    node: Node, verdict: CertificateVerdict, credential: dict[str, Any] | None
) -> dict[str, Any]:
    """The credential's and its issuer's current status in this node's committed state."""
    root = verdict.facts.get("root")
    if root is None or credential is None:
        return {
            "checked": False,
            "reason": "the package does not name a batch, so there is nothing to look up",
        }
    with node.commit_lock:
        height = node.ledger.height
        batch = node.ledger.read(LEARNING, f"batch/{root}")
        issuer_record = node.ledger.read(LEARNING, f"issuer/{credential['issuer']}")
        status_index = (
            None if batch is None else int(batch["status_start"]) + int(credential["index"])
        )
        record = (
            None
            if batch is None
            else node.ledger.read(LEARNING, f"status/{batch['issuer']}/{status_index}")
        )
    online: dict[str, Any] = {"checked": True, "height": height, "batch_root": root}
    online["issuer_status"] = None if issuer_record is None else issuer_record["status"]
    if issuer_record is not None:
        online["issuer_name"] = issuer_record.get("name")
    if batch is None:
        online.update(status="not anchored", reason=f"batch {root} is not on this node's ledger")
        return online
    online["anchored_at"] = batch["height"]
    online["status_index"] = status_index
    if record is None or record["status"] == "active":
        online.update(status="active", reason=f"active at block {height}")
        if record is not None and record["history"]:
            last = record["history"][-1]
            online["since"] = last["height"]
            online["reason"] = (
                f"active again since block {last['height']} ({last['action']}: {last['reason']})"
            )
        return online
    last = record["history"][-1]
    online.update(
        status=record["status"],
        since=last["height"],
        reason=f"{record['status']} at block {last['height']}: {last['reason']}",
    )
    return online


def _answer(node: Node, package: bytes) -> dict[str, Any]:
    credential = _credential(package)
    verdict = verify_certificate(package, node.genesis)
    return {
        "credential": credential,
        "offline": verdict.to_json(),
        "online": _online_status(node, verdict, credential),
    }


def certificates_router(node: Node) -> APIRouter:
    router = APIRouter(prefix="/v1/learning", tags=["learning"], responses=ERROR_RESPONSES)

    schema = bytes_body_schema(_FIELD, "base64 of a certificate package")
    schema["requestBody"]["content"]["multipart/form-data"] = {
        "schema": {
            "type": "object",
            "required": [_FIELD],
            "properties": {_FIELD: {"type": "string", "format": "binary"}},
        }
    }

    @router.post(
        "/verify", summary="Verify a certificate package, offline and online", openapi_extra=schema
    )
    async def verify(request: Request) -> dict[str, Any]:
        """The offline verdict with every step, and, separately, the current status.

        Send the package as raw ``application/cbor``, as JSON ``{"package": base64}``, or
        as a multipart upload in the ``package`` field. Always 200 for a package that was
        read: the verdict says whether it is valid, or which step failed and why.
        """
        package = await _package_body(request)
        # Signature checks and proof verification are CPU work: keep them off the loop.
        return await run_in_threadpool(_answer, node, package)

    return router


def mount_verify_page(app: FastAPI, directory: Path = VERIFY_DIR) -> None:
    """Serve the certificate verification page at ``/verify/`` (same CSP as the explorer)."""
    app.mount(
        "/verify",
        _WithSecurityHeaders(StaticFiles(directory=directory, html=True)),
        name="verify",
    )
