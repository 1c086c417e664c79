"""A small client for CometBFT's JSON-RPC (v0.38), over httpx.

Only what Salus needs: the node's status and peers, broadcasting transactions,
and the signed data a proof needs (``/commit``, ``/validators``, ``/block``,
``/block_results``). Requests are JSON-RPC 2.0 POSTs to the RPC root; a list of
requests goes as one JSON-RPC *batch*, which CometBFT answers in order, one
response per request (``rpc/jsonrpc/server/http_json_handler.go``), so a batch of
``broadcast_tx_sync`` calls reaches CheckTx in the order given. The server's
``rpc.max_request_batch_size`` (10 by default) caps a batch; Salus's node homes
raise it.

Encodings follow CometBFT's JSON (``libs/json``): 64-bit integers are strings,
byte slices are base64, hashes are upper-case hex.

Errors: :class:`CometBFTUnreachable` when nothing answers (connection refused,
timeout), :class:`CometBFTRpcError` when CometBFT answers with a JSON-RPC error
(e.g. a height that is not yet committed). Both are :class:`CometBFTError`, a
:class:`~salus.errors.SalusError`, so the CLI shows one clean line.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from salus.errors import CometBFTError, CometBFTRpcError, CometBFTUnreachable

__all__ = [
    "BroadcastResult",
    "CometBFTError",
    "CometBFTRpcError",
    "CometBFTUnreachable",
    "CometRPC",
]


@dataclass(frozen=True, slots=True)
class BroadcastResult:
    """What ``broadcast_tx_sync`` said about one transaction.

    ``accepted`` when CheckTx returned code 0 (the transaction is in this node's
    mempool). Otherwise ``code`` is the application's CheckTx code and ``log`` its
    reason, or ``code`` is -1 and ``log`` CometBFT's own refusal (``tx already
    exists in cache``, ``mempool is full``, ``tx too large``).
    """

    hash: str
    code: int
    log: str
    codespace: str = ""

    @property
    def accepted(self) -> bool:
        return self.code == 0

    @property
    def refused_by_cometbft(self) -> bool:
        return self.code == -1


class CometRPC:
    """A connection to one CometBFT node's RPC (``http://host:26657``). Thread-safe."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        if self.url.startswith("tcp://"):
            self.url = "http://" + self.url[len("tcp://") :]
        self._http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)
        self._next = 1
        self._ids_lock = threading.Lock()

    def __enter__(self) -> CometRPC:
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

    # -- transport -----------------------------------------------------------------

    def _reserve_ids(self, count: int = 1) -> int:
        """The first of ``count`` request ids no other call uses."""
        with self._ids_lock:
            first = self._next
            self._next += count
            return first

    def _post(self, body: Any, what: str) -> Any:
        try:
            response = self._http.post("/", json=body)
        except httpx.TimeoutException:
            raise CometBFTUnreachable(
                f"CometBFT at {self.url} did not answer {what} in time"
            ) from None
        except httpx.TransportError as exc:
            raise CometBFTUnreachable(
                f"CometBFT at {self.url} is unreachable ({exc or type(exc).__name__}); "
                "is the node running?"
            ) from None
        try:
            return response.json()
        except ValueError:
            raise CometBFTError(
                f"CometBFT at {self.url} answered {what} with HTTP {response.status_code} "
                "and no JSON"
            ) from None

    def call(self, method: str, **params: Any) -> Any:
        """One JSON-RPC call; returns its ``result`` or raises :class:`CometBFTError`."""
        request = {"jsonrpc": "2.0", "id": self._reserve_ids(), "method": method, "params": params}
        return _result(method, self._post(request, method))

    def call_batch(self, method: str, params: Sequence[dict[str, Any]]) -> list[Any]:
        """The same method with many parameter sets, as one JSON-RPC batch, in order.

        Each item is the call's ``result``, or a :class:`CometBFTRpcError` (not raised)
        when CometBFT refused that one call.
        """
        if not params:
            return []
        first = self._reserve_ids(len(params))
        requests = [
            {"jsonrpc": "2.0", "id": first + n, "method": method, "params": p}
            for n, p in enumerate(params)
        ]
        answer = self._post(requests, f"a batch of {len(params)} {method}")
        if isinstance(answer, dict):
            # One response comes back bare, not in a list (WriteRPCResponseHTTP); without
            # our id it refuses the whole batch (e.g. more requests than allowed).
            if answer.get("id") != first:
                _result(method, answer)
                raise CometBFTError(f"CometBFT answered a {method} batch with one response")
            answer = [answer]
        if not isinstance(answer, list):
            raise CometBFTError(f"CometBFT answered a {method} batch with {type(answer).__name__}")
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        out: list[Any] = []
        for n in range(len(params)):
            item = by_id.get(first + n)
            if item is None:
                out.append(CometBFTRpcError(method, -32603, "no response", "no response in batch"))
                continue
            try:
                out.append(_result(method, item))
            except CometBFTRpcError as exc:
                out.append(exc)
        return out

    # -- info ----------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """``node_info``, ``sync_info`` (latest height, app hash, catching up), validator."""
        result: dict[str, Any] = self.call("status")
        return result

    def latest_height(self) -> int:
        return int(self.status()["sync_info"]["latest_block_height"])

    def net_info(self) -> dict[str, Any]:
        """Listening state and connected peers (``n_peers``, ``peers[].node_info``)."""
        result: dict[str, Any] = self.call("net_info")
        return result

    def num_unconfirmed_txs(self) -> int:
        return int(self.call("num_unconfirmed_txs")["total"])

    # -- transactions --------------------------------------------------------------

    def broadcast_tx_sync(self, tx: bytes) -> BroadcastResult:
        """Hand one transaction to CometBFT's mempool; returns CheckTx's verdict."""
        return self.broadcast_txs_sync([tx])[0]

    def broadcast_txs_sync(self, txs: Sequence[bytes]) -> list[BroadcastResult]:
        """Many ``broadcast_tx_sync`` in one batch; CheckTx sees them in this order."""
        params = [{"tx": base64.b64encode(tx).decode("ascii")} for tx in txs]
        return [_broadcast_result(item) for item in self.call_batch("broadcast_tx_sync", params)]

    def broadcast_tx_async(self, tx: bytes) -> str:
        """Hand a transaction over without waiting for CheckTx; returns its hash."""
        return str(self.call("broadcast_tx_async", tx=base64.b64encode(tx).decode("ascii"))["hash"])

    # -- blocks and the signed data of proofs --------------------------------------

    def block(self, height: int | None = None) -> dict[str, Any]:
        """``block_id`` and ``block`` (header, data.txs in base64, last_commit)."""
        result: dict[str, Any] = self.call("block", **_height(height))
        return result

    def block_results(self, height: int | None = None) -> dict[str, Any]:
        """``txs_results``, ``finalize_block_events``, ``validator_updates``, ``app_hash``."""
        result: dict[str, Any] = self.call("block_results", **_height(height))
        return result

    def commit(self, height: int | None = None) -> dict[str, Any]:
        """``signed_header`` (header + the validators' commit) and ``canonical``.

        The commit of the latest height is the one this node saw (``canonical``
        false); it carries signatures of more than 2/3 of the voting power all the
        same, so it is a valid proof.
        """
        result: dict[str, Any] = self.call("commit", **_height(height))
        return result

    def validators(self, height: int | None = None) -> dict[str, Any]:
        """The complete validator set at ``height`` (all pages): ``block_height``, ``validators``.

        Validators come in CometBFT's order (voting power descending, then address),
        the order a commit's signatures follow.
        """
        page = 1
        collected: list[Any] = []
        while True:
            result = self.call("validators", **_height(height), page=str(page), per_page="100")
            collected.extend(result["validators"])
            if len(collected) >= int(result["total"]) or not result["validators"]:
                return {
                    "block_height": result["block_height"],
                    "validators": collected,
                    "count": str(len(collected)),
                    "total": result["total"],
                }
            page += 1


def _height(height: int | None) -> dict[str, str]:
    return {} if height is None else {"height": str(height)}


def _result(method: str, item: Any) -> Any:
    if not isinstance(item, dict):
        raise CometBFTError(f"CometBFT answered {method} with {type(item).__name__}")
    error = item.get("error")
    if error is not None:
        raise CometBFTRpcError(
            method,
            int(error.get("code", 0)),
            str(error.get("message", "")),
            str(error.get("data", "")),
        )
    if "result" not in item:
        raise CometBFTError(f"CometBFT answered {method} with neither result nor error")
    return item["result"]


def _broadcast_result(item: Any) -> BroadcastResult:
    if isinstance(item, CometBFTRpcError):
        return BroadcastResult("", -1, item.data)
    return BroadcastResult(
        hash=str(item.get("hash", "")),
        code=int(item.get("code", 0)),
        log=str(item.get("log", "")),
        codespace=str(item.get("codespace", "")),
    )
