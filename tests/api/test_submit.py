"""Submitting transactions: single, raw CBOR, batches, and every kind of rejection."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from salus.core import codec
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.node import NodeConfig
from tests.api.harness import (
    HOSPITAL,
    MINISTRY,
    OUTSIDER,
    Harness,
    assert_error,
    b64,
    running_node,
)

GRANT = {"kind": "grant_role", "params": {"subject": OUTSIDER.did, "role": "assessor"}}


def test_submit_is_pending_then_committed_with_height(api: Harness) -> None:
    stx = api.tx(MINISTRY, "propose", GRANT)
    response = api.submit(stx)
    assert response.status_code == 202
    assert response.json() == {"id": stx.id_hex, "status": "pending"}
    assert api.client.get(f"/v1/txs/{stx.id_hex}").json() == {
        "id": stx.id_hex,
        "status": "pending",
    }

    api.block()
    status = api.client.get(f"/v1/txs/{stx.id_hex}").json()
    assert status["status"] == "committed"
    assert (status["height"], status["index"], status["code"]) == (1, 0, "ok")
    assert status["tx"]["signer"] == MINISTRY.did
    assert [event["type"] for event in status["events"]] == ["proposed", "approved"]


def test_submit_raw_cbor_envelope(api: Harness) -> None:
    stx = api.tx(MINISTRY, "propose", GRANT)
    response = api.client.post(
        "/v1/txs", content=stx.envelope, headers={"Content-Type": "application/cbor"}
    )
    assert response.status_code == 202
    assert response.json()["id"] == stx.id_hex


def test_resubmitting_a_pending_transaction_is_idempotent(api: Harness) -> None:
    stx = api.tx(MINISTRY, "propose", GRANT)
    assert api.submit(stx).status_code == 202
    assert api.submit(stx).json() == {"id": stx.id_hex, "status": "pending"}
    assert api.node.status()["mempool"] == 1


def test_batch_results_are_in_order_and_bad_items_name_their_index(api: Harness) -> None:
    first = api.tx(MINISTRY, "propose", GRANT)
    second = api.tx(HOSPITAL, "propose", {"kind": "set_threshold", "params": {"num": 1, "den": 2}})
    outsider = api.tx(OUTSIDER, "propose", GRANT)
    items = [b64(first.envelope), "not base64!", b64(second.envelope), b64(outsider.envelope)]
    response = api.client.post("/v1/txs/batch", json={"txs": items})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["pending", "rejected", "pending", "rejected"]
    assert results[0]["id"] == first.id_hex
    assert results[2]["id"] == second.id_hex
    assert results[1]["id"] is None
    assert results[1]["code"] == "invalid_base64"
    assert "txs[1]" in results[1]["reason"]
    assert results[3] == {
        "id": outsider.id_hex,
        "status": "rejected",
        "code": "permission_denied",
        "reason": results[3]["reason"],
    }
    api.block()
    assert api.node.height == 1
    assert api.client.get(f"/v1/txs/{second.id_hex}").json()["status"] == "committed"


@pytest.mark.parametrize("count", [0, 10_001])
def test_batch_size_outside_1_to_10000_is_refused(api: Harness, count: int) -> None:
    response = api.client.post("/v1/txs/batch", json={"txs": ["AA=="] * count})
    assert "'txs'" in assert_error(response, 400, "invalid_request")


def test_tampered_signature_is_rejected_with_its_id(api: Harness) -> None:
    stx = api.tx(MINISTRY, "propose", GRANT)
    signature = bytearray(stx.signature)
    signature[0] ^= 0x01
    forged = codec.encode([stx.body, bytes(signature)])
    response = api.client.post("/v1/txs", json={"tx": b64(forged)})
    assert "signature" in assert_error(response, 400, "bad_signature")
    assert response.json()["id"] == stx.id_hex
    rejected = api.client.get(f"/v1/txs/{stx.id_hex}").json()
    assert rejected["status"] == "rejected"
    assert rejected["code"] == "bad_signature"


def test_replayed_nonce_is_rejected(api: Harness) -> None:
    original = api.tx(MINISTRY, "propose", GRANT)
    assert api.submit(original).status_code == 202
    api.block()
    # The very same envelope again, and a new transaction reusing its nonce.
    assert "nonce" in assert_error(api.submit(original), 400, "bad_nonce")
    reused = api.tx(MINISTRY, "approve", {"proposal": 1}, nonce=1)
    message = assert_error(api.submit(reused), 400, "bad_nonce")
    assert "nonce 1" in message


def test_signer_without_the_role_is_rejected_naming_the_role(api: Harness) -> None:
    stx = api.tx(OUTSIDER, "propose", GRANT)
    message = assert_error(api.submit(stx), 400, "permission_denied")
    assert "'member'" in message
    assert OUTSIDER.did in message


@pytest.mark.parametrize(
    ("contract", "action", "args", "code", "named"),
    [
        ("nosuch", "propose", GRANT, "unknown_contract", "nosuch"),
        ("identity", "nosuch", {}, "unknown_action", "nosuch"),
        ("identity", "approve", {"proposal": "one"}, "invalid_arguments", "args.proposal"),
        ("identity", "approve", {}, "invalid_arguments", "args.proposal"),
        ("identity", "approve", {"proposal": 1, "extra": True}, "invalid_arguments", "extra"),
    ],
)
def test_contract_level_rejections_name_the_problem(
    api: Harness, contract: str, action: str, args: dict[str, object], code: str, named: str
) -> None:
    stx = api.tx(MINISTRY, action, args, contract=contract)
    message = assert_error(api.submit(stx), 400, code)
    assert named in message


def test_wrong_chain_is_rejected(api: Harness) -> None:
    from salus.core.tx import Transaction, sign_transaction

    body = Transaction("other-chain", MINISTRY.public_key, 1, "identity", "propose", GRANT)
    stx = sign_transaction(body, MINISTRY)
    assert "other-chain" in assert_error(api.submit(stx), 400, "wrong_chain")


def test_undecodable_envelope_is_rejected_without_an_id(api: Harness) -> None:
    response = api.client.post("/v1/txs", json={"tx": base64.b64encode(b"\xa0").decode()})
    assert_error(response, 400, "encoding")
    assert "id" not in response.json()


def test_refused_in_block_shows_rejected_with_height_and_reason(api: Harness) -> None:
    txs = api.populate()
    status = api.client.get(f"/v1/txs/{txs['late'].id_hex}").json()
    assert status["status"] == "rejected"
    assert status["height"] == 2
    assert status["code"] == "contract_error"
    assert "proposal 1" in status["reason"]


def test_unknown_transaction_is_404(api: Harness) -> None:
    assert_error(api.client.get(f"/v1/txs/{'ab' * 32}"), 404, "not_found")


def test_full_mempool_is_503_with_retry_after(
    genesis: Genesis, validator: Signer, tmp_path: Path
) -> None:
    with running_node(genesis, validator, tmp_path, config=NodeConfig(mempool_capacity=1)) as api:
        assert api.submit(api.tx(MINISTRY, "propose", GRANT)).status_code == 202
        response = api.submit(api.tx(HOSPITAL, "propose", GRANT))
        assert_error(response, 503, "mempool_full")
        assert response.headers["retry-after"] == "1"
        assert response.json()["id"] is not None
