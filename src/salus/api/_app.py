"""Assembling the node's HTTP API: routers, error handling, body limits, explorer."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI

from salus.api._errors import UnhandledErrors, install_error_handlers
from salus.api._explorer import mount_explorer
from salus.api._limits import BodySizeLimit
from salus.api._routes_blobs import blobs_router
from salus.api._routes_certificates import certificates_router, mount_verify_page
from salus.api._routes_chain import chain_router
from salus.api._routes_dashboard import dashboard_router, mount_dashboard
from salus.api._routes_events import events_router
from salus.api._routes_learning import learning_router
from salus.api._routes_mutual_aid import mount_aid_pages, mutual_aid_router
from salus.api._routes_outbreak import outbreak_router
from salus.api._routes_proofs import proofs_router
from salus.api._routes_state import state_router
from salus.api._routes_txs import txs_router
from salus.apps.outbreak.index import FigureIndex
from salus.core.crypto import Signer
from salus.node.blobs import BlobStore
from salus.node.node import Node

__all__ = ["create_app"]

_DESCRIPTION = """\
The HTTP API of one Salus node: submit signed transactions, read blocks, state and
events, store off-chain blobs, and fetch proof bundles that anyone can check offline
against the network's genesis (`GET /v1/genesis`).

Ids are 64 hex characters; signers are `did:key` identifiers. Every error has the
body `{"error": {"code": "...", "message": "..."}}`. The ledger explorer is at
[/explorer/](/explorer/); the outbreak dashboard at [/dashboard/](/dashboard/); the
mutual-aid pages at [/aid/](/aid/).
"""


def _package_version() -> str:
    try:
        return version("salus")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def create_app(
    node: Node,
    blobs: BlobStore,
    *,
    max_body_bytes: int = 4 << 20,
    outbreak_index: FigureIndex | None = None,
    status_signer: Signer | None = None,
) -> FastAPI:
    """The HTTP API of ``node`` and ``blobs``, with the explorer at ``/explorer/``.

    Request bodies over ``max_body_bytes`` (blob uploads: 16 MiB) get 413. The outbreak
    figure index defaults to ``outbreak-index.sqlite`` beside a file blob store (in
    memory otherwise); it is rebuilt from the ledger whenever it is missing.
    ``status_signer`` signs learning status lists (default: the node's block key).
    """
    # /docs and /redoc are off: their pages load scripts from a CDN.
    app = FastAPI(
        title="Salus node API",
        version=_package_version(),
        description=_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    app.include_router(chain_router(node))
    app.include_router(txs_router(node))
    app.include_router(state_router(node))
    app.include_router(proofs_router(node))
    app.include_router(events_router(node))
    app.include_router(blobs_router(blobs))
    app.include_router(learning_router(node, status_signer=status_signer))
    app.include_router(certificates_router(node, blobs))
    app.state.outbreak_index = outbreak_index or FigureIndex.beside(blobs)
    app.include_router(outbreak_router(node, blobs, app.state.outbreak_index))
    app.include_router(dashboard_router(node, blobs))
    app.include_router(mutual_aid_router(node))
    mount_explorer(app)
    mount_verify_page(app)
    mount_dashboard(app)
    mount_aid_pages(app)
    # Added last = outermost: errors first, then the body limit around the routes.
    app.add_middleware(
        BodySizeLimit, limit=max_body_bytes, overrides={"/v1/blobs": blobs.max_bytes}
    )
    app.add_middleware(UnhandledErrors)
    return app
