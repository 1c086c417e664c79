"""Serving the explorer's static files at ``/explorer/``.

Every explorer response carries a Content-Security-Policy that allows only this
origin, so the page cannot load anything from a CDN even by mistake.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salus.web import STATIC_DIR

__all__ = ["mount_explorer"]

_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class _WithSecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mount_explorer(app: FastAPI) -> None:
    """Serve ``salus.web``'s static files at ``/explorer/`` and redirect ``/`` there."""
    app.mount(
        "/explorer",
        _WithSecurityHeaders(StaticFiles(directory=STATIC_DIR, html=True)),
        name="explorer",
    )

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/explorer/", status_code=302)
