"""The CometBFT JSON-RPC client, against an in-memory transport (no processes)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from salus.cometbft.rpc import (
    CometBFTError,
    CometBFTRpcError,
    CometBFTUnreachable,
    CometRPC,
)

Handler = Callable[[Any], Any]


def _rpc(answer: Handler, seen: list[Any] | None = None) -> CometRPC:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if seen is not None:
            seen.append(body)
        return httpx.Response(200, json=answer(body))

    return CometRPC("http://cometbft.test:26657", transport=httpx.MockTransport(handle))


def _ok(request: dict[str, Any], result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request["id"], "result": result}


def test_a_call_posts_json_rpc_with_heights_as_strings() -> None:
    seen: list[Any] = []
    with _rpc(lambda r: _ok(r, {"signed_header": {}, "canonical": True}), seen) as rpc:
        assert rpc.commit(7)["canonical"] is True
    assert seen[0]["method"] == "commit"
    assert seen[0]["params"] == {"height": "7"}
    assert seen[0]["jsonrpc"] == "2.0"


def test_a_json_rpc_error_names_the_method_and_cometbft_reason() -> None:
    def refuse(request: dict[str, Any]) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "id": request["id"],
            "error": {
                "code": -32603,
                "message": "Internal error",
                "data": "height 9 must be less than or equal to the current blockchain height 8",
            },
        }

    with _rpc(refuse) as rpc, pytest.raises(CometBFTRpcError) as raised:
        rpc.commit(9)
    assert raised.value.rpc_code == -32603
    assert "current blockchain height 8" in raised.value.reason
    assert "commit" in raised.value.reason


def test_nothing_listening_is_unreachable() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    rpc = CometRPC("tcp://127.0.0.1:1", transport=httpx.MockTransport(fail))
    assert rpc.url == "http://127.0.0.1:1"
    with pytest.raises(CometBFTUnreachable, match="is the node running"):
        rpc.status()
    assert issubclass(CometBFTUnreachable, CometBFTError)


def test_a_broadcast_batch_keeps_order_and_reports_each_refusal() -> None:
    def answer(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for request in reversed(batch):  # answered out of order: matched by id
            tx = base64.b64decode(request["params"]["tx"])
            if tx == b"dup":
                out.append(
                    {
                        "jsonrpc": "2.0",
                        "id": request["id"],
                        "error": {
                            "code": -32603,
                            "message": "Internal error",
                            "data": "tx already exists in cache",
                        },
                    }
                )
            elif tx == b"bad":
                out.append(_ok(request, {"code": 4, "log": "nonce 1 ...", "hash": "AB"}))
            else:
                out.append(_ok(request, {"code": 0, "log": "", "hash": "CD"}))
        return out

    with _rpc(answer) as rpc:
        results = rpc.broadcast_txs_sync([b"good", b"bad", b"dup"])
    assert [r.code for r in results] == [0, 4, -1]
    assert results[0].accepted and not results[1].accepted
    assert results[2].refused_by_cometbft and results[2].log == "tx already exists in cache"


def test_a_batch_of_one_is_answered_bare() -> None:
    # CometBFT writes a single response as an object, not a one-item list.
    def answer(batch: list[dict[str, Any]]) -> dict[str, Any]:
        return _ok(batch[0], {"code": 0, "log": "", "hash": "EF"})

    with _rpc(answer) as rpc:
        assert rpc.broadcast_tx_sync(b"one").accepted


def test_a_batch_refused_as_a_whole_raises() -> None:
    def answer(batch: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "jsonrpc": "2.0",
            "id": -1,
            "error": {"code": -32600, "message": "Invalid Request", "data": "batch too large"},
        }

    with _rpc(answer) as rpc, pytest.raises(CometBFTRpcError, match="batch too large"):
        rpc.broadcast_txs_sync([b"a", b"b"])


def test_validators_reads_every_page() -> None:
    everyone = [{"address": f"{n:040X}", "voting_power": "10"} for n in range(150)]

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        page, per_page = int(request["params"]["page"]), int(request["params"]["per_page"])
        chunk = everyone[(page - 1) * per_page : page * per_page]
        return _ok(
            request,
            {"block_height": "5", "validators": chunk, "count": str(len(chunk)), "total": "150"},
        )

    with _rpc(answer) as rpc:
        result = rpc.validators(5)
    assert [v["address"] for v in result["validators"]] == [v["address"] for v in everyone]
    assert result["block_height"] == "5"


def test_an_answer_that_is_not_json_is_an_error() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="bad gateway")

    rpc = CometRPC("http://cometbft.test", transport=httpx.MockTransport(handle))
    with pytest.raises(CometBFTError, match="HTTP 502"):
        rpc.status()


def test_public_surface() -> None:
    import salus.cometbft.rpc
    import salus.cometbft.runner
    import salus.cometbft.testnet

    assert set(salus.cometbft.rpc.__all__) == {
        "BroadcastResult",
        "CometBFTError",
        "CometBFTRpcError",
        "CometBFTUnreachable",
        "CometRPC",
    }
    assert {"CometNode", "MempoolForwarder", "create_cometbft_home"} <= set(
        salus.cometbft.runner.__all__
    )
    assert {"Testnet", "create_testnet"} <= set(salus.cometbft.testnet.__all__)
