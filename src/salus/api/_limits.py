"""Request body size limits, enforced before and while a body is read.

A pure ASGI middleware, so it sees the body as the server delivers it:

- a declared ``Content-Length`` over the limit is refused with 413 before a
  single body byte is read;
- a body without a declared length (``Transfer-Encoding: chunked``) is counted
  as it arrives; the moment it passes the limit the client gets 413 and the
  application sees a disconnect, so it stops reading and whatever it would have
  answered is dropped.

The 413 carries ``Connection: close`` (RFC 9110 §15.5.14) so a client that keeps
sending does not tie up the connection.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salus.api._errors import error_response

__all__ = ["BodySizeLimit"]


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server itself refuses a malformed length
    return None


class BodySizeLimit:
    """Refuse request bodies larger than ``limit`` bytes (per-path ``overrides``)."""

    def __init__(self, app: ASGIApp, *, limit: int, overrides: Mapping[str, int]) -> None:
        self.app = app
        self.limit = limit
        self.overrides = dict(overrides)

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.overrides.items():
            if path == prefix or path.startswith(prefix + "/"):
                return limit
        return self.limit

    async def _refuse(self, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "body_too_large",
            f"request body is over the limit of {limit} bytes for {scope['path']}",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(limit, scope, receive, send)
            return

        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    await self._refuse(limit, scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not refused:
                raise
            # The application failed on the disconnect we fed it; the 413 is already sent.
