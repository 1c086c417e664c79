"""Certificate verification over HTTP, printable PDFs, and the verification page at ``/verify/``.

``POST /v1/learning/verify`` answers two separate questions about a certificate, sent as
a package (:mod:`salus.apps.learning.certificate`) or as the bare VC-JWT a printed QR
code holds:

- ``offline``: the verdict of :func:`verify_certificate` against this network's
  genesis, exactly as a verifier with the node stopped would give it, with every step.
  For a bare VC-JWT the node first rebuilds its package from the ledger and the batch's
  leaf list (:mod:`._certificate_lookup`) and returns it (``package``), so it can be
  kept and checked offline later;
- ``online``: what this node's committed state says *now*: the credential's current
  status (``learning`` key ``status/<issuer>/<index>``) and its issuer's standing.
  A package proves the state of the block it was made at; a later revocation shows
  up here only.

``GET /v1/learning/credentials/{hash}`` answers the QR code's short link
(``/verify/#h=<hash>``): which issuer anchored the credential with that hash, in
which batch and block, and its status now. Without the credential itself nothing
about its content can be checked; the answer says so.

``POST /v1/learning/certificates/pdf`` renders the printable certificate of a package
(:mod:`._routes_certificate_pdf`); the learner's name sent with it is printed, never kept.

A certificate that cannot be decoded is still a 200 from ``verify`` (its verdict is
"tampered"): "this certificate is bad" is the answer, not an error. A request the API
cannot read (no body, bad base64, wrong media type, no file) is a 4xx in the one
error shape.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from salus.api._certificate_lookup import (
    BatchDirectory,
    assemble_package,
    bad_token_verdict,
    unlocated_verdict,
)
from salus.api._errors import ERROR_RESPONSES, ApiError
from salus.api._explorer import _WithSecurityHeaders
from salus.api._inputs import b64decode_strict, json_body
from salus.api._routes_certificate_pdf import certificate_pdf_router, form_bytes, read_form
from salus.apps.learning.certificate import (
    CertificateVerdict,
    decode_package,
    verify_certificate,
)
from salus.apps.learning.contract import LEARNING
from salus.apps.learning.credentials import credential_hash, verify_vc_jwt
from salus.errors import NotFound, SalusError
from salus.node.blobs import BlobStore
from salus.node.node import Node
from salus.web import STATIC_DIR

__all__ = ["VERIFY_DIR", "certificates_router", "mount_verify_page"]

VERIFY_DIR = STATIC_DIR.parent / "verify"
_PACKAGE: Final = "package"
_CREDENTIAL: Final = "credential"
_MAX_TOKEN_CHARS: Final = 64 * 1024
_HASH_CHARS: Final = frozenset("0123456789abcdef")


# --- reading requests ----------------------------------------------------------------


def _token(value: Any, where: str) -> str:
    """A VC-JWT as sent: a string of printable ASCII (whitespace around it dropped)."""
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            raise ApiError(400, f"{where} must be a VC-JWT in ASCII text") from None
    if not isinstance(value, str):
        raise ApiError(400, f"{where} must be a VC-JWT string")
    token = value.strip()
    if not token:
        raise ApiError(400, f"{where} is empty")
    if len(token) > _MAX_TOKEN_CHARS:
        raise ApiError(400, f"{where} is over {_MAX_TOKEN_CHARS} characters: not a certificate")
    if not token.isascii() or not token.isprintable():
        raise ApiError(400, f"{where} must be a VC-JWT in printable ASCII text")
    return token


def _one_of(data: dict[str, Any]) -> str:
    given = [name for name in (_PACKAGE, _CREDENTIAL) if name in data]
    if len(given) != 1:
        raise ApiError(
            400,
            f"send exactly one of '{_PACKAGE}' (base64 of a .salus-cert package) or "
            f"'{_CREDENTIAL}' (a VC-JWT, as a QR code holds it)",
        )
    return given[0]


async def _certificate_body(request: Request) -> tuple[str, bytes | str]:
    """``("package", bytes)`` or ``("credential", token)`` from any accepted body."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media in ("application/cbor", "application/octet-stream"):
        body = await request.body()
        if not body:
            raise ApiError(400, f"the {media} request body is empty")
        return _PACKAGE, body
    if media == "application/jwt":  # RFC 7519 §10.3.1
        return _CREDENTIAL, _token(await request.body(), "the application/jwt body")
    if media == "multipart/form-data":
        form = await read_form(request, fields=4)
        try:
            name = _one_of(dict(form))
            value = form.get(name)
            if name == _CREDENTIAL:
                raw = (
                    await value.read(_MAX_TOKEN_CHARS + 1)
                    if isinstance(value, UploadFile)
                    else value
                )
                return _CREDENTIAL, _token(raw, f"form field '{name}'")
            data = await form_bytes(value, name)
        finally:
            await form.close()
        if not data:
            raise ApiError(400, f"form field '{name}' (the package file) is empty")
        return _PACKAGE, data
    if media not in ("", "application/json") and not media.endswith("+json"):
        raise ApiError(
            415,
            f"send JSON {{'{_PACKAGE}': base64}} or {{'{_CREDENTIAL}': VC-JWT}}, raw "
            f"application/cbor, application/jwt or multipart/form-data, not {media}",
        )
    data = await json_body(request)
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object")
    name = _one_of(data)
    if name == _CREDENTIAL:
        return _CREDENTIAL, _token(data[name], f"body field '{name}'")
    if not isinstance(data[name], str):
        raise ApiError(400, f"body field '{name}' must be a base64 string")
    package = b64decode_strict(data[name], f"body field '{name}'")
    if not package:
        raise ApiError(400, f"body field '{name}' is empty")
    return _PACKAGE, package


# --- answers -----------------------------------------------------------------------------


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


def _current_status(
    node: Node, root: str, index: int, *, claimed_issuer: str | None = None
) -> dict[str, Any]:
    """Batch ``root``'s credential at ``index`` and its issuer, in committed state now.

    The issuer is the one the ledger says anchored the batch, never the one a package
    claims: a package whose ``issuer`` was changed must not borrow another issuer's name
    and standing here (``issuer_mismatch`` then names both).
    """
    with node.commit_lock:
        height = node.ledger.height
        batch = node.ledger.read(LEARNING, f"batch/{root}")
        issuer = None if batch is None else str(batch["issuer"])
        issuer_record = None if issuer is None else node.ledger.read(LEARNING, f"issuer/{issuer}")
        status_index = None if batch is None else int(batch["status_start"]) + index
        record = (
            None if batch is None else node.ledger.read(LEARNING, f"status/{issuer}/{status_index}")
        )
    online: dict[str, Any] = {"checked": True, "height": height, "batch_root": root}
    if batch is None:
        online.update(status="not anchored", reason=f"batch {root} is not on this node's ledger")
        return online
    online["issuer"] = issuer
    online["issuer_status"] = None if issuer_record is None else issuer_record["status"]
    if issuer_record is not None:
        online["issuer_name"] = issuer_record.get("name")
    if claimed_issuer is not None and claimed_issuer != issuer:
        online["issuer_mismatch"] = (
            f"the certificate names issuer {claimed_issuer}, but batch {root} was anchored "
            f"by {issuer}"
        )
    online["anchored_at"] = batch["height"]
    online["anchored_time_ms"] = batch["time_ms"]
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


def _online_status(
    node: Node, verdict: CertificateVerdict, credential: dict[str, Any] | None
) -> dict[str, Any]:
    root = verdict.facts.get("root")
    if root is None or credential is None:
        return {
            "checked": False,
            "reason": "the certificate does not name a batch, so there is nothing to look up",
        }
    return _current_status(
        node, root, int(credential["index"]), claimed_issuer=str(credential["issuer"])
    )


def _answer(node: Node, package: bytes) -> dict[str, Any]:
    credential = _credential(package)
    verdict = verify_certificate(package, node.genesis)
    return {
        "input": _PACKAGE,
        "credential": credential,
        "offline": verdict.to_json(),
        "online": _online_status(node, verdict, credential),
    }


def _token_answer(node: Node, directory: BatchDirectory, token: str) -> dict[str, Any]:
    """Verify a bare VC-JWT: find its batch, rebuild its package, run the verifier."""
    not_checked = {"checked": False, "reason": "the credential was not found on this ledger"}
    try:
        verify_vc_jwt(token)
        digest = credential_hash(token).hex()
    except SalusError as exc:
        return {
            "input": _CREDENTIAL,
            "credential": None,
            "offline": bad_token_verdict(exc.reason).to_json(),
            "online": {"checked": False, "reason": "the credential's signature does not verify"},
            "located": None,
            "package": None,
        }
    located = directory.locate(token)
    if located is None:
        return {
            "input": _CREDENTIAL,
            "credential": {"credential_hash": digest},
            "offline": unlocated_verdict(node, token, digest).to_json(),
            "online": not_checked,
            "located": None,
            "package": None,
        }
    if located.path is None:
        raise NotFound(
            f"the credential claims status index {located.batch.status_start + located.position} "
            f"of batch {located.batch.root}, but this node cannot rebuild its proofs: "
            f"{located.unavailable}. Verify its .salus-cert file instead"
        )
    package = assemble_package(node, token, located)
    answer = _answer(node, package)
    answer["input"] = _CREDENTIAL
    answer["located"] = {
        "by": located.matched_by,
        "batch_root": located.batch.root,
        "index": located.position,
        "count": located.batch.count,
    }
    answer["package"] = base64.b64encode(package).decode()
    return answer


def _hash_answer(node: Node, directory: BatchDirectory, digest: str) -> dict[str, Any]:
    """What the ledger knows of the credential whose hash is ``digest``."""
    located = directory.by_hash(bytes.fromhex(digest))
    if located is None:
        raise NotFound(
            f"no batch anchored on this node's ledger lists credential {digest}; batches "
            "anchored without a leaf list can be checked only with the certificate file"
        )
    batch = located.batch
    status = _current_status(node, batch.root, located.position)
    return {
        "credential_hash": digest,
        "found": True,
        "issuer": batch.issuer,
        "issuer_name": status.get("issuer_name"),
        "issuer_status": status["issuer_status"],
        "key": batch.key,
        "batch": {
            "root": batch.root,
            "index": located.position,
            "count": batch.count,
            "anchored_at": batch.height,
            "anchored_time_ms": status.get("anchored_time_ms"),
        },
        "status_index": status.get("status_index"),
        "status": status["status"],
        "reason": status["reason"],
        "since": status.get("since"),
        "as_of": status["height"],
        "full_verification": (
            "This is what the ledger says about the credential with this hash. Only the "
            "credential itself (its QR code or .salus-cert file) shows what it certifies "
            "and proves it is genuine: verify it to see that."
        ),
    }


# --- the router ----------------------------------------------------------------------------


def _verify_schema() -> dict[str, Any]:
    one_of = {
        "type": "object",
        "properties": {
            _PACKAGE: {"type": "string", "format": "byte", "description": "a .salus-cert package"},
            _CREDENTIAL: {"type": "string", "description": "a bare VC-JWT (a QR code's)"},
        },
        "description": "exactly one of package or credential",
    }
    binary = {"schema": {"type": "string", "format": "binary"}}
    content = {
        "application/json": {"schema": one_of},
        "application/cbor": binary,
        "application/jwt": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                **one_of,
                "properties": {
                    _PACKAGE: {"type": "string", "format": "binary"},
                    _CREDENTIAL: {"type": "string"},
                },
            }
        },
    }
    return {"requestBody": {"required": True, "content": content}}


def certificates_router(node: Node, blobs: BlobStore | None = None) -> APIRouter:
    """The certificate routes over ``node``; ``blobs`` holds the batches' leaf lists
    (without it a bare VC-JWT or a hash can be found only in batches of one)."""
    router = APIRouter(prefix="/v1/learning", tags=["learning"], responses=ERROR_RESPONSES)
    directory = BatchDirectory(node, blobs)
    router.include_router(certificate_pdf_router(node.genesis))

    @router.post(
        "/verify",
        summary="Verify a certificate (package or bare VC-JWT), offline and online",
        openapi_extra=_verify_schema(),
    )
    async def verify(request: Request) -> dict[str, Any]:
        """The offline verdict with every step, and, separately, the current status.

        Send a package as raw ``application/cbor``, as JSON ``{"package": base64}``, or as
        a multipart upload in the ``package`` field; or a bare VC-JWT (what a printed QR
        code holds) as JSON ``{"credential": "..."}``, ``application/jwt`` or the form
        field ``credential``: the node then finds its batch, rebuilds its package (in the
        answer's ``package``) and verifies that. Always 200 for a certificate that was
        read: the verdict says whether it is valid, or which step failed and why; 404 when
        a VC-JWT's batch is known but this node lacks its leaf list.
        """
        _, value = await _certificate_body(request)
        # Signature checks and proof verification are CPU work: keep them off the loop.
        if isinstance(value, str):
            return await run_in_threadpool(_token_answer, node, directory, value)
        return await run_in_threadpool(_answer, node, value)

    @router.get(
        "/credentials/{credential_hash}",
        summary="What the ledger knows of a credential, by its hash",
    )
    def by_hash(
        credential_hash: Annotated[str, PathParam(description="SHA-256 of the VC-JWT, hex")],
    ) -> dict[str, Any]:
        """The issuer, batch and block that anchored the credential with this hash, and its
        status now: the answer to a printed certificate's short link ``/verify/#h=<hash>``.
        It cannot say what the credential certifies: that needs the credential itself."""
        if len(credential_hash) != 64 or not set(credential_hash) <= _HASH_CHARS:
            raise ApiError(
                400, "path parameter 'credential_hash' must be 64 lower-case hex characters"
            )
        return _hash_answer(node, directory, credential_hash)

    return router


def mount_verify_page(app: FastAPI, directory: Path = VERIFY_DIR) -> None:
    """Serve the certificate verification page at ``/verify/`` (same CSP as the explorer)."""
    app.mount(
        "/verify",
        _WithSecurityHeaders(StaticFiles(directory=directory, html=True)),
        name="verify",
    )
