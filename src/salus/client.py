"""The Python SDK: a small synchronous client for a Salus node's HTTP API.

Every method is one request (``wait_for`` polls). Errors come back as one class,
:class:`ApiError`, whatever went wrong: the node refused the request (it carries
the HTTP status and the API's error ``code`` and ``message``), or the node could
not be reached at all (``status`` 0, ``code`` ``"unreachable"``).

Signing happens here, in the client: :meth:`SalusClient.send` builds and signs a
transaction locally and hands the node only the signed envelope.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from salus.core.crypto import Signer
from salus.core.tx import SignedTransaction, Transaction, sign_transaction
from salus.errors import SalusError

__all__ = ["DEFAULT_NODE_URL", "ApiError", "SalusClient"]

DEFAULT_NODE_URL = "http://127.0.0.1:8080"
FINAL_STATUSES = frozenset({"committed", "rejected"})


class ApiError(SalusError):
    """Raised when the node answers with an error, or cannot be reached.

    ``status`` is the HTTP status (0 when no answer came), ``code`` the API's
    stable error code, ``message`` the node's own explanation, and ``tx_id`` the
    transaction id when the node named one (a transaction refused at admission).
    """

    def __init__(self, status: int, code: str, message: str, *, tx_id: str | None = None) -> None:
        shown = f"{message} (HTTP {status} {code})" if status else message
        super().__init__(shown)
        self.status = status
        self.code = code
        self.message = message
        self.tx_id = tx_id


def _id_path(value: str | bytes) -> str:
    return value.hex() if isinstance(value, bytes) else quote(value, safe="")


def _key_path(key: str) -> str:
    # State keys are printable ASCII and commonly hold '/' ("org/red-cross"), which
    # the API routes as a path; everything else that is special in a URL is escaped.
    return quote(key, safe="/")


def _envelope(tx: SignedTransaction | bytes) -> bytes:
    return tx.envelope if isinstance(tx, SignedTransaction) else bytes(tx)


class SalusClient:
    """A connection to one Salus node. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        base_url: str = DEFAULT_NODE_URL,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        try:
            self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)
        except httpx.InvalidURL as exc:
            raise ApiError(
                0, "invalid_url", f"{base_url!r} is not a valid node URL: {exc}"
            ) from None
        self._chain_id: str | None = None

    def __enter__(self) -> SalusClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- transport ---------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        if params is not None:
            params = {k: v for k, v in params.items() if v is not None}
        try:
            response = self._http.request(
                method, path, params=params, json=json, content=content, headers=headers
            )
        except httpx.InvalidURL as exc:
            raise ApiError(
                0, "invalid_url", f"{self.base_url!r} is not a valid node URL: {exc}"
            ) from None
        except httpx.TimeoutException:
            raise ApiError(
                0,
                "unreachable",
                f"the Salus node at {self.base_url} did not answer in time ({method} {path})",
            ) from None
        except httpx.TransportError as exc:
            raise ApiError(
                0,
                "unreachable",
                f"the Salus node at {self.base_url} is unreachable ({exc or type(exc).__name__}); "
                "is it running? (start one with 'salus node' or 'salus demo')",
            ) from None
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    def _get(self, path: str, **params: Any) -> Any:
        return _json_body(self._request("GET", path, params=params or None))

    # -- network -------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Chain id, height, last block hash, state root, mempool size."""
        result: dict[str, Any] = self._get("/v1/status")
        return result

    def genesis(self) -> dict[str, Any]:
        """The network's genesis document (what offline verification needs)."""
        result: dict[str, Any] = self._get("/v1/genesis")
        return result

    def contracts(self) -> Any:
        """Installed contracts, their actions, roles and argument schemas."""
        return self._get("/v1/contracts")

    def chain_id(self) -> str:
        """The node's chain id (asked once, then remembered)."""
        if self._chain_id is None:
            self._chain_id = str(self.status()["chain_id"])
        return self._chain_id

    # -- accounts ------------------------------------------------------------------

    def account(self, did: str) -> dict[str, Any]:
        """Roles, organisation and nonces of a did:key."""
        result: dict[str, Any] = self._get(f"/v1/accounts/{quote(did, safe=':')}")
        return result

    def next_nonce(self, did: str) -> int:
        """The nonce a new transaction signed by ``did`` should carry."""
        return int(self.account(did)["next_nonce"])

    # -- transactions ----------------------------------------------------------------

    def submit(self, stx: SignedTransaction) -> dict[str, Any]:
        """Hand a signed transaction to the node: ``{"id", "status": "pending"}``.

        Raises :class:`ApiError` (with ``tx_id``) when the node refuses it at admission.
        """
        return self.submit_envelope(stx.envelope)

    def submit_envelope(self, envelope: bytes) -> dict[str, Any]:
        """Like :meth:`submit`, for an envelope already encoded."""
        response = self._request(
            "POST", "/v1/txs", json={"tx": base64.b64encode(envelope).decode("ascii")}
        )
        result: dict[str, Any] = _json_body(response)
        return result

    def submit_batch(self, txs: Iterable[SignedTransaction | bytes]) -> list[dict[str, Any]]:
        """Submit many; one result per transaction (pending, or rejected with a reason)."""
        body = {"txs": [base64.b64encode(_envelope(tx)).decode("ascii") for tx in txs]}
        results: list[dict[str, Any]] = _json_body(
            self._request("POST", "/v1/txs/batch", json=body)
        )["results"]
        return results

    def tx(self, tx_id: str | bytes) -> dict[str, Any]:
        """Status of a transaction: pending, committed or rejected (with height, reason, events)."""
        result: dict[str, Any] = self._get(f"/v1/txs/{_id_path(tx_id)}")
        return result

    def wait_for(
        self, tx_id: str | bytes, *, timeout: float = 30.0, poll: float = 0.1
    ) -> dict[str, Any]:
        """Poll until the transaction is committed or rejected; return that status.

        Raises :class:`TimeoutError` if it is still pending (or unknown) after ``timeout``.
        """
        deadline = time.monotonic() + timeout
        last = "unknown"
        while True:
            try:
                status = self.tx(tx_id)
            except ApiError as exc:
                if exc.status != 404:
                    raise
            else:
                if status.get("status") in FINAL_STATUSES:
                    return status
                last = str(status.get("status"))
            if time.monotonic() >= deadline:
                shown = tx_id.hex() if isinstance(tx_id, bytes) else tx_id
                raise TimeoutError(
                    f"transaction {shown} is still {last} after {timeout:g}s at {self.base_url}"
                )
            time.sleep(poll)

    def send(
        self,
        signer: Signer,
        contract: str,
        action: str,
        args: dict[str, Any],
        *,
        nonce: int | None = None,
    ) -> dict[str, Any]:
        """Build, sign (locally) and submit one transaction; returns the submit result.

        The nonce defaults to the signer's next nonce as the node sees it.
        """
        stx = self.sign(signer, contract, action, args, nonce=nonce)
        return self.submit(stx)

    def sign(
        self,
        signer: Signer,
        contract: str,
        action: str,
        args: dict[str, Any],
        *,
        nonce: int | None = None,
    ) -> SignedTransaction:
        """Build and sign a transaction for this node's chain, without submitting it."""
        if nonce is None:
            nonce = self.next_nonce(signer.did)
        tx = Transaction(self.chain_id(), signer.public_key, nonce, contract, action, args)
        return sign_transaction(tx, signer)

    # -- blocks, state, events -------------------------------------------------------

    def block(self, height: int) -> dict[str, Any]:
        """One block: its header and transactions."""
        result: dict[str, Any] = self._get(f"/v1/blocks/{int(height)}")
        return result

    def blocks(
        self, *, before: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Recent block headers, newest first."""
        result: list[dict[str, Any]] = self._get("/v1/blocks", before=before, limit=limit)["blocks"]
        return result

    def state(self, contract: str, key: str) -> dict[str, Any]:
        """The current value of a contract's state key (``{"value", ...}``)."""
        result: dict[str, Any] = self._get(f"/v1/state/{quote(contract, safe='')}/{_key_path(key)}")
        return result

    def events(
        self,
        *,
        contract: str | None = None,
        type: str | None = None,  # the API's filter name
        subject: str | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """Events matching the filters, oldest first: ``{"events": [...], "next": cursor}``."""
        result: dict[str, Any] = self._get(
            "/v1/events", contract=contract, type=type, subject=subject, after=after, limit=limit
        )
        return result

    # -- proofs ------------------------------------------------------------------------

    def tx_proof(self, tx_id: str | bytes) -> bytes:
        """The raw CBOR proof bundle that a committed transaction is in its block."""
        return self._request(
            "GET", f"/v1/proofs/tx/{_id_path(tx_id)}", params={"format": "cbor"}
        ).content

    def state_proof(self, contract: str, key: str) -> bytes:
        """The raw CBOR proof bundle of a state key's value (or absence) at the tip."""
        return self._request(
            "GET",
            f"/v1/proofs/state/{quote(contract, safe='')}/{_key_path(key)}",
            params={"format": "cbor"},
        ).content

    def verify(self, bundle: bytes) -> dict[str, Any]:
        """Ask the node to verify a bundle against its genesis (prefer ``salus verify``)."""
        result: dict[str, Any] = _json_body(
            self._request(
                "POST",
                "/v1/verify",
                json={"bundle": base64.b64encode(bundle).decode("ascii")},
            )
        )
        return result

    # -- blobs --------------------------------------------------------------------------

    def put_blob(self, data: bytes) -> str:
        """Store bytes in the node's off-chain blob store; returns the content address."""
        response = self._request(
            "POST",
            "/v1/blobs",
            content=data,
            headers={"content-type": "application/octet-stream"},
        )
        return str(_json_body(response)["address"])

    def get_blob(self, address: str) -> bytes:
        """The bytes stored at a content address."""
        return self._request("GET", f"/v1/blobs/{quote(address, safe='')}").content

    # -- any route ------------------------------------------------------------------------

    def get_bytes(
        self, path: str, params: dict[str, Any] | None = None, *, accept: str | None = None
    ) -> bytes:
        """The raw body of ``GET path`` on this node, for routes without a method here
        (a CBOR answer such as ``/v1/learning/issuers/{did}/batches/{root}/proofs?format=cbor``).

        ``path`` is an API path starting with ``/`` whose segments the caller has
        escaped (:func:`urllib.parse.quote`); ``None`` values in ``params`` are left out;
        ``accept`` sets the ``Accept`` header. Raises :class:`ApiError` like every method,
        and :class:`ValueError` for a path that is not one of this node's.
        """
        if not path.startswith("/") or path.startswith("//"):
            raise ValueError(f"{path!r} is not an API path (it must start with one '/')")
        headers = {"accept": accept} if accept is not None else None
        return self._request("GET", path, params=params, headers=headers).content


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ApiError(
            response.status_code,
            "bad_response",
            f"expected JSON from {response.request.method} {response.request.url.path}, "
            f"got {response.headers.get('content-type', 'no content type')}",
        ) from None


def _error_from(response: httpx.Response) -> ApiError:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    tx_id = body.get("id") if isinstance(body, dict) else None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "message" in error:
        return ApiError(
            status,
            str(error.get("code", "error")),
            str(error["message"]),
            tx_id=str(tx_id) if isinstance(tx_id, str) else None,
        )
    if isinstance(body, dict) and "detail" in body:  # FastAPI's own errors
        return ApiError(status, "http_error", str(body["detail"]))
    text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
    reason = response.reason_phrase or "error"
    return ApiError(status, "http_error", f"{reason}{': ' + text if text else ''}")
