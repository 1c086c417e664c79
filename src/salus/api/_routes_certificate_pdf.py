"""``POST /v1/learning/certificates/pdf``: the printable certificate of a posted package.

The package's credential is printed by :func:`salus.apps.learning.pdf.render_certificate_pdf`;
the learner's name sent with it is printed and then forgotten (nothing is stored or logged).
A request the API cannot read is a 400 naming the field; a package that does not verify as
valid against the network's genesis is a 422 (``not_valid``), and text no font can print
faithfully a 422 (``unprintable``).
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from salus.api._errors import ERROR_RESPONSES, ApiError
from salus.api._inputs import b64decode_strict, json_body
from salus.apps.learning.certificate import MAX_PACKAGE_BYTES, verify_certificate
from salus.apps.learning.pdf import render_certificate_pdf
from salus.core.genesis import Genesis

__all__ = ["certificate_pdf_router", "form_bytes", "read_form"]

_PACKAGE: Final = "package"
_MAX_NAME_CHARS: Final = 200
_MAX_URL_CHARS: Final = 500


async def read_form(request: Request, fields: int) -> FormData:
    """A multipart form of at most one file and ``fields`` fields, or a 400."""
    try:
        return await request.form(max_files=1, max_fields=fields, max_part_size=MAX_PACKAGE_BYTES)
    except Exception as exc:  # python-multipart / Starlette parse errors
        raise ApiError(400, f"the multipart body cannot be read: {exc}") from None


async def form_bytes(value: Any, field: str) -> bytes | None:
    """A form field's bytes: an uploaded file, or base64 text."""
    if isinstance(value, UploadFile):
        return await value.read(MAX_PACKAGE_BYTES + 1)
    if isinstance(value, str):
        return b64decode_strict(value.strip(), f"form field '{field}'")
    return None


def _optional_text(value: Any, field: str, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"field '{field}' must be a string")
    if len(value) > limit:
        raise ApiError(400, f"field '{field}' is over {limit} characters")
    if not value.strip() or not value.isprintable():
        raise ApiError(400, f"field '{field}' must be printable text on one line")
    return value.strip()


async def _pdf_body(request: Request) -> tuple[bytes, str | None, str | None]:
    """(package, learner_name, verify_url) from JSON or a multipart form."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await read_form(request, fields=4)
        try:
            fields: dict[str, Any] = {
                k: v for k, v in form.items() if not isinstance(v, UploadFile)
            }
            package = await form_bytes(form.get(_PACKAGE), _PACKAGE)
        finally:
            await form.close()
    elif media in ("", "application/json") or media.endswith("+json"):
        data = await json_body(request)
        if not isinstance(data, dict):
            raise ApiError(400, "request body must be a JSON object")
        fields = data
        value = data.get(_PACKAGE)
        if value is not None and not isinstance(value, str):
            raise ApiError(400, f"body field '{_PACKAGE}' must be a base64 string")
        package = None if value is None else b64decode_strict(value, f"body field '{_PACKAGE}'")
    else:
        raise ApiError(
            415,
            f"send JSON {{'{_PACKAGE}': base64, 'learner_name': ...}} or multipart/form-data, "
            f"not {media}",
        )
    unknown = sorted(set(fields) - {_PACKAGE, "learner_name", "verify_url"})
    if unknown:
        raise ApiError(400, f"unknown field(s) {', '.join(unknown)}")
    if not package:
        raise ApiError(400, f"field '{_PACKAGE}' (the .salus-cert package) is required")
    name = _optional_text(fields.get("learner_name"), "learner_name", _MAX_NAME_CHARS)
    url = _optional_text(fields.get("verify_url"), "verify_url", _MAX_URL_CHARS)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or "#" in url:
            raise ApiError(400, "field 'verify_url' must be an http(s) URL without a '#' fragment")
    return package, name, url


def _render(package: bytes, name: str | None, verify_url: str) -> bytes:
    try:
        return render_certificate_pdf(package, learner_name=name, verify_url=verify_url)
    except ValueError as exc:  # includes UnprintableText
        raise ApiError(422, f"cannot print this certificate: {exc}", code="unprintable") from None


def _pdf_schema() -> dict[str, Any]:
    fields = {
        "learner_name": {"type": "string", "maxLength": _MAX_NAME_CHARS},
        "verify_url": {"type": "string", "maxLength": _MAX_URL_CHARS},
    }
    as_json = {
        "type": "object",
        "required": [_PACKAGE],
        "properties": {_PACKAGE: {"type": "string", "format": "byte"}, **fields},
    }
    as_form = {
        "type": "object",
        "required": [_PACKAGE],
        "properties": {_PACKAGE: {"type": "string", "format": "binary"}, **fields},
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": as_json},
                "multipart/form-data": {"schema": as_form},
            },
        }
    }


def _check(package: bytes, genesis: Genesis) -> None:
    """Refuse to print a certificate that does not verify: a node-branded PDF of a forged,
    tampered, revoked or suspended credential would lend it credibility it lacks."""
    verdict = verify_certificate(package, genesis)
    if not verdict.valid:
        raise ApiError(
            422,
            f"only valid certificates are printed; this one is {verdict.verdict} "
            f"(step {verdict.step}): {verdict.reason}",
            code="not_valid",
        )


def certificate_pdf_router(genesis: Genesis) -> APIRouter:
    """The PDF route, to include in the ``/v1/learning`` router; it checks packages
    against ``genesis`` before printing them."""
    router = APIRouter(responses=ERROR_RESPONSES)

    @router.post(
        "/certificates/pdf",
        summary="A printable PDF certificate of a package",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}, 422: ERROR_RESPONSES[400]},
        openapi_extra=_pdf_schema(),
    )
    async def certificate_pdf(request: Request) -> Response:
        """A one-page A4 PDF with the learner's name and a QR code to verify it.

        ``learner_name`` (optional) is printed instead of the name in the credential and
        is not kept; ``verify_url`` (optional) is the verification page the QR code
        links to, by default this node's ``/verify/``. 422 ``not_valid`` when the package
        does not verify as valid against this network's genesis (tampered, revoked,
        suspended, unknown issuer, ...), 422 ``unprintable`` when its text cannot be
        printed (the message says which characters).
        """
        package, name, url = await _pdf_body(request)
        await run_in_threadpool(_check, package, genesis)
        verify_url = url or str(request.base_url).rstrip("/") + "/verify/"
        pdf = await run_in_threadpool(_render, package, name, verify_url)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": 'attachment; filename="certificate.pdf"',
                "Cache-Control": "no-store",
            },
        )

    return router
