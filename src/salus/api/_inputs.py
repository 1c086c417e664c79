"""Reading request bodies: JSON, base64-in-JSON or raw CBOR, and their OpenAPI text.

Signed envelopes and proof bundles are bytes. A client sends them either as JSON
``{"<field>": "<standard base64>"}`` or as the raw bytes with
``Content-Type: application/cbor``. Base64 is decoded strictly (RFC 4648 §4
alphabet and padding only), so one text has one meaning.

Bodies are read by async dependencies (on the event loop); the handlers that then
call into the node are plain functions run in the threadpool.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from salus.api._errors import ApiError
from salus.core.codec import INT_MAX

__all__ = [
    "INT_MAX",
    "b64decode_strict",
    "bytes_body",
    "bytes_body_schema",
    "json_body",
    "json_schema_body",
    "model_body",
    "raw_body",
]

_CBOR = "application/cbor"
M = TypeVar("M", bound=BaseModel)


def b64decode_strict(text: str, what: str) -> bytes:
    """Decode standard base64 or raise a 400 naming ``what``."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(400, f"{what} is not valid base64: {exc}", code="invalid_base64") from None


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def raw_body(request: Request) -> bytes:
    """The whole request body (the size limit is enforced by :class:`BodySizeLimit`)."""
    return await request.body()


async def json_body(request: Request) -> Any:
    """The request body parsed as JSON, or a 400 saying where it stops being JSON."""
    body = await request.body()
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, f"request body is not valid JSON at character {exc.pos}: {exc.msg}"
        ) from None
    except (UnicodeDecodeError, RecursionError):
        raise ApiError(
            400, "request body is not valid JSON (not UTF-8, or nested too deeply)"
        ) from None


def model_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency validating a JSON body against ``model``; errors name the field."""

    async def dependency(request: Request) -> M:
        data = await json_body(request)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
            raise RequestValidationError(errors) from None

    return dependency


def json_schema_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body read by :func:`model_body`."""
    schema = {"schema": model.model_json_schema()}
    return {"requestBody": {"required": True, "content": {"application/json": schema}}}


def bytes_body_schema(field: str, description: str) -> dict[str, Any]:
    """``openapi_extra`` documenting a body read by :func:`bytes_body`."""
    as_json = {
        "type": "object",
        "required": [field],
        "properties": {field: {"type": "string", "format": "byte", "description": description}},
    }
    content = {
        "application/json": {"schema": as_json},
        _CBOR: {"schema": {"type": "string", "format": "binary"}},
    }
    return {"requestBody": {"required": True, "content": content}}


def bytes_body(field: str) -> Callable[[Request], Awaitable[bytes]]:
    """A dependency giving the bytes sent as ``{field: base64}`` JSON or as raw CBOR."""

    async def dependency(request: Request) -> bytes:
        media = _media_type(request)
        if media == _CBOR:
            body = await request.body()
            if not body:
                raise ApiError(400, "the application/cbor request body is empty")
            return body
        if media not in ("", "application/json") and not media.endswith("+json"):
            raise ApiError(
                415,
                f'send JSON {{"{field}": "<base64>"}} or raw bytes as {_CBOR}, not {media}',
            )
        data = await json_body(request)
        if not isinstance(data, dict):
            raise ApiError(400, f"request body must be a JSON object with a '{field}' field")
        if field not in data:
            raise ApiError(400, f"body field '{field}' is required")
        value = data[field]
        if not isinstance(value, str):
            raise ApiError(400, f"body field '{field}' must be a base64 string")
        return b64decode_strict(value, f"body field '{field}'")

    return dependency
