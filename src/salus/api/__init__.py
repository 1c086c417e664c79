"""The node's HTTP API (FastAPI): transactions, blocks, state, events, blobs and proofs.

``create_app(node, blobs)`` returns the ASGI application; serve it with uvicorn.
"""

from salus.api._app import create_app

__all__ = ["create_app"]
