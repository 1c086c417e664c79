"""The one JSON error shape, and the translation of every failure into it.

Every error response of the API has the body::

    {"error": {"code": "<stable code>", "message": "<what is wrong, naming the field>"}}

``code`` is the :attr:`SalusError.code` of a Salus error, or a fixed name for
HTTP-level failures (``invalid_request``, ``not_found``, ``body_too_large`` ...).
This module is the only place a Salus error becomes an HTTP status:

=======================================================  ======
``NotFound``                                             404
``PermissionDenied``                                     403
``StorageError`` / ``GenesisError`` / ``KeystoreError``  500 (the node's own data, never input)
every other ``SalusError`` (encoding, transaction,       400
contract, proof)
request validation (bad JSON, types, fields, params)     400
=======================================================  ======

Anything else that escapes a handler is a bug: :class:`UnhandledErrors` logs it
with its traceback and answers a JSON 500 that carries no traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salus.errors import (
    GenesisError,
    KeystoreError,
    NotFound,
    PermissionDenied,
    SalusError,
    StorageError,
)

__all__ = [
    "ERROR_RESPONSES",
    "ApiError",
    "ErrorBody",
    "UnhandledErrors",
    "error_response",
    "install_error_handlers",
    "status_of",
]

log = logging.getLogger("salus.api")

# Stable codes for failures that are not Salus errors.
_HTTP_CODES = {
    400: "invalid_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed input; the message names the field"},
    404: {"model": ErrorBody, "description": "No such block, transaction, key, blob or contract"},
    413: {"model": ErrorBody, "description": "Request body over the size limit"},
}


class ApiError(Exception):
    """An HTTP-level refusal raised by this package's own input checks."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _HTTP_CODES.get(status, f"http_{status}")
        self.message = message
        self.headers = dict(headers or {})


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """A response in the one error shape; ``extra`` adds top-level fields (e.g. ``id``)."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def status_of(exc: SalusError) -> int:
    """The HTTP status of a Salus error (see the module table)."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, StorageError | GenesisError | KeystoreError):
        return 500
    return 400


def _field_path(parts: Sequence[int | str]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_WHERE = {"query": "query parameter", "path": "path parameter", "header": "header"}


def _describe(error: Mapping[str, Any]) -> str:
    """One validation problem as a sentence naming the parameter or body field."""
    loc = tuple(error.get("loc") or ("request",))
    where, rest = str(loc[0]), loc[1:]
    msg = str(error.get("msg", "is invalid"))
    if where == "body":
        return f"body field '{_field_path(rest)}': {msg}" if rest else f"request body: {msg}"
    return f"{_WHERE.get(where, where)} '{_field_path(rest)}': {msg}"


async def _on_salus_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SalusError)
    status = status_of(exc)
    if status >= 500:
        log.error("%s %s failed: %s: %s", request.method, request.url.path, exc.code, exc.reason)
    return error_response(status, exc.code, exc.reason)


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    message = "; ".join(_describe(error) for error in exc.errors())
    return error_response(400, "invalid_request", message or "the request is invalid")


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 404:
        message = f"{request.url.path} is not an endpoint of this API (see /openapi.json)"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    return error_response(
        status, _HTTP_CODES.get(status, f"http_{status}"), message, headers=exc.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every expected failure into the one error shape."""
    app.add_exception_handler(SalusError, _on_salus_error)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)


class UnhandledErrors:
    """Pure ASGI middleware: a bug becomes a logged JSON 500, never a traceback on the wire.

    It wraps the application inside Starlette's own ``ServerErrorMiddleware`` so the
    error is logged once, here, with the request line.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error serving %s %s", scope["method"], scope["path"])
            if started:
                return  # the server closes a connection whose response is incomplete
            response = error_response(
                500, "internal_error", "the node failed to handle this request; the error is logged"
            )
            await response(scope, receive, send)
