"""Proof bundles over HTTP, checked by the same core verifier as ``salus verify``."""

from __future__ import annotations

import base64

import pytest

from salus.core.proofs import verify_bundle
from tests.api.harness import MINISTRY, Harness, assert_error, b64


@pytest.fixture
def chain(api: Harness) -> Harness:
    api.populate()
    return api


def _flip(bundle: bytes, at: int) -> bytes:
    changed = bytearray(bundle)
    changed[at] ^= 0x01
    return bytes(changed)


def test_tx_proof_verifies_and_fails_after_one_byte_changes(chain: Harness) -> None:
    tx_id = chain.client.get("/v1/txs", params={"limit": 1}).json()["txs"][0]["id"]
    proof = chain.client.get(f"/v1/proofs/tx/{tx_id}").json()
    assert proof["verdict"]["valid"] is True
    assert proof["verdict"]["facts"]["tx_id"] == tx_id
    assert proof["bundle_json"]["kind"] == "tx"
    bundle = base64.b64decode(proof["bundle"])

    verdict = chain.client.post("/v1/verify", json={"bundle": proof["bundle"]}).json()
    assert verdict == verify_bundle(bundle, chain.genesis).to_json()
    assert (verdict["valid"], verdict["step"]) == (True, "done")

    for at in (0, len(bundle) // 2, len(bundle) - 1):
        tampered = chain.client.post("/v1/verify", json={"bundle": b64(_flip(bundle, at))})
        assert tampered.status_code == 200
        assert tampered.json()["valid"] is False
        assert tampered.json()["reason"]


def test_tx_proof_as_a_cbor_download(chain: Harness) -> None:
    tx_id = chain.client.get("/v1/txs", params={"limit": 1}).json()["txs"][0]["id"]
    raw = chain.client.get(f"/v1/proofs/tx/{tx_id}", params={"format": "cbor"})
    assert raw.status_code == 200
    assert raw.headers["content-type"] == "application/cbor"
    assert raw.headers["content-disposition"] == f'attachment; filename="salus-proof-{tx_id}.cbor"'
    verdict = chain.client.post(
        "/v1/verify", content=raw.content, headers={"Content-Type": "application/cbor"}
    )
    assert verdict.json()["valid"] is True


def test_state_proof_of_a_present_key_and_of_an_absent_one(chain: Harness) -> None:
    present = chain.client.get("/v1/proofs/state/identity/members").json()
    assert present["verdict"]["valid"] is True
    assert present["verdict"]["facts"]["present"] is True
    assert present["verdict"]["facts"]["value"] == ["city-hospital", "health-ministry", "red-cross"]
    verdict = chain.client.post("/v1/verify", json={"bundle": present["bundle"]}).json()
    assert verdict["valid"] is True

    absent = chain.client.get("/v1/proofs/state/identity/role/nobody").json()
    assert absent["verdict"]["valid"] is True
    assert absent["verdict"]["facts"]["present"] is False

    raw = chain.client.get("/v1/proofs/state/identity/org/red-cross", params={"format": "cbor"})
    disposition = raw.headers["content-disposition"]
    assert disposition == 'attachment; filename="salus-proof-identity-org_red-cross.cbor"'


def test_proofs_for_pending_unknown_or_before_the_first_block_are_404(api: Harness) -> None:
    assert_error(api.client.get("/v1/proofs/state/identity/members"), 404, "not_found")
    stx = api.tx(MINISTRY, "propose", {"kind": "set_threshold", "params": {"num": 1, "den": 2}})
    assert api.submit(stx).status_code == 202
    assert "pending" in assert_error(api.client.get(f"/v1/proofs/tx/{stx.id_hex}"), 404)
    assert_error(api.client.get(f"/v1/proofs/tx/{'cd' * 32}"), 404, "not_found")
    api.block()
    assert api.client.get(f"/v1/proofs/tx/{stx.id_hex}").status_code == 200
    assert_error(api.client.get("/v1/proofs/state/nosuch/members"), 404, "not_found")


def test_verify_reports_garbage_as_an_invalid_verdict(api: Harness) -> None:
    for bundle in (b"\x00", b"not cbor at all", b"\xa1\x61a\x01"):
        verdict = api.client.post("/v1/verify", json={"bundle": b64(bundle)})
        assert verdict.status_code == 200
        assert verdict.json()["valid"] is False
        assert verdict.json()["step"] == "decode"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"bundle": "!!!"}, "base64"),
        ({"bundle": 5}, "'bundle'"),
        ({}, "'bundle'"),
        ([], "'bundle'"),
    ],
)
def test_verify_with_an_unusable_body_is_400(api: Harness, body: object, named: str) -> None:
    assert named in assert_error(api.client.post("/v1/verify", json=body), 400)


def test_verify_with_an_empty_cbor_body_is_400(api: Harness) -> None:
    response = api.client.post("/v1/verify", headers={"Content-Type": "application/cbor"})
    assert_error(response, 400)
