"""The same Salus certificates and status lists, checked by an independent VC library.

Certificates are issued over HTTP by a served node exactly as ``salus cert batch`` does;
the VC-JWTs and the node's signed status list credentials then go to did-jwt-vc (see
``conftest.py``), which resolves the did:keys itself. What must hold there: every
certificate verifies and names its issuer key; its two status entries read the bits the
ledger holds (revoked, suspended, neither); one changed character, a foreign signature or
a changed status list fails; a status list past its validUntil fails.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from salus.apps.learning.certificate import decode_package
from salus.apps.learning.credentials import decode_vc_jwt, did_key_id
from salus.apps.learning.issuance import CertificateRecord, issue_batch, revoke, suspend
from salus.apps.learning.status_list import b64url_encode
from tests.apps.learning.test_issuance import (
    LEARNERS,
    SCHOOL,
    SCHOOL_SIGNING,
    Served,
    served_node,
    setup_school,
)
from tests.interop.conftest import VcVerifier
from tests.support import key

ROGUE = key(61)
JWT = {"Accept": "application/vc+jwt"}


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Three certificates: #1 revoked, #2 suspended; the signed lists after that."""
    with served_node(tmp_path_factory.mktemp("interop")) as served:
        setup_school(served.client)
        records = [CertificateRecord(LEARNERS[i].did, "first-aid-101") for i in range(3)]
        packages = issue_batch(served.client, SCHOOL, SCHOOL_SIGNING, records)
        tokens = [decode_package(p)["token"] for p in packages]
        entries = [decode_vc_jwt(t)[2]["credentialStatus"] for t in tokens]
        revoke(
            served.client, SCHOOL, status_index=int(entries[1][0]["statusListIndex"]), reason="x"
        )
        suspend(
            served.client, SCHOOL, status_index=int(entries[2][1]["statusListIndex"]), reason="y"
        )
        urls = [entry["statusListCredential"] for entry in entries[0]]
        with httpx.Client(timeout=10) as http:
            lists = {url: http.get(url, headers=JWT) for url in urls}
        assert all(r.status_code == 200 for r in lists.values())
        yield {
            "served": served,
            "tokens": tokens,
            "lists": {url: r.text for url, r in lists.items()},
            "heights": {url: int(r.headers["Salus-Height"]) for url, r in lists.items()},
        }


def _status(answer: dict[str, Any]) -> dict[str, bool | None]:
    return {s["purpose"]: s["set"] for s in answer["status"]}


def _edited(token: str, change: Any) -> str:
    """``token`` with ``change`` applied to its claims and the original signature."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    body = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
    return f"{header}.{b64url_encode(body)}.{signature}"


def _rename(claims: dict[str, Any]) -> None:
    claims["vc"]["credentialSubject"]["achievement"]["name"] = "Brain surgery"


def _changed(token: str, segment: int, position: int) -> str:
    parts = token.split(".")
    text = parts[segment]
    parts[segment] = (
        text[:position] + ("A" if text[position] != "A" else "B") + text[position + 1 :]
    )
    return ".".join(parts)


def test_certificates_and_status_lists_verify_in_did_jwt_vc(
    issued: dict[str, Any], vc_verifier: VcVerifier
) -> None:
    served: Served = issued["served"]
    tokens = issued["tokens"]
    answer = vc_verifier(
        {
            "now": int(time.time()),
            "credentials": {str(i): token for i, token in enumerate(tokens)},
            "status_lists": issued["lists"],
        }
    )
    validator = served.node.validator_did()
    for url, listed in answer["status_lists"].items():
        assert listed["verified"], listed
        assert listed["issuer"] == validator
        assert listed["purpose"] == url.rsplit("/", 1)[1]
        assert listed["height"] == issued["heights"][url]
    for i in range(3):
        credential = answer["credentials"][str(i)]
        assert credential["verified"], credential
        assert credential["issuer"] == SCHOOL_SIGNING.did
        assert credential["subject"] == LEARNERS[i].did
        assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
        assert all(s["error"] is None for s in credential["status"]), credential
    assert _status(answer["credentials"]["0"]) == {"revocation": False, "suspension": False}
    assert _status(answer["credentials"]["1"]) == {"revocation": True, "suspension": False}
    assert _status(answer["credentials"]["2"]) == {"revocation": False, "suspension": True}


def test_tampered_certificates_fail_in_did_jwt_vc(
    issued: dict[str, Any], vc_verifier: VcVerifier
) -> None:
    token = issued["tokens"][0]
    header, payload, _ = token.split(".")
    # The same claims and kid, signed by a key that is not the issuer's.
    signing_input = f"{header}.{payload}"
    foreign = f"{signing_input}.{b64url_encode(ROGUE.sign(signing_input.encode()))}"
    answer = vc_verifier(
        {
            "now": int(time.time()),
            "credentials": {
                "claims": _edited(token, _rename),
                "subject": _edited(token, lambda c: c.update(sub=LEARNERS[4].did)),
                "signature": _changed(token, 2, 30),
                "foreign": foreign,
                "genuine": token,
            },
        }
    )["credentials"]
    assert answer["genuine"]["verified"], answer["genuine"]
    for name in ("claims", "subject", "signature", "foreign"):
        assert not answer[name]["verified"], (name, answer[name])
        assert "signature" in answer[name]["error"], (name, answer[name])
    assert did_key_id(SCHOOL_SIGNING.did) in decode_vc_jwt(token)[0]["kid"]


def test_changed_or_expired_status_list_fails_in_did_jwt_vc(
    issued: dict[str, Any], vc_verifier: VcVerifier
) -> None:
    revocation_url, _ = issued["lists"]
    lists = dict(issued["lists"])
    lists[revocation_url] = _changed(lists[revocation_url], 1, 200)
    answer = vc_verifier(
        {"now": int(time.time()), "credentials": {"1": issued["tokens"][1]}, "status_lists": lists}
    )
    assert not answer["status_lists"][revocation_url]["verified"]
    revocation, suspension = answer["credentials"]["1"]["status"]
    assert revocation["set"] is None and "STATUS_VERIFICATION_ERROR" in revocation["error"]
    assert suspension["set"] is False  # the untouched list still reads
    # validUntil is enforced: an hour later the lists are stale.
    later = vc_verifier({"now": int(time.time()) + 3600, "status_lists": issued["lists"]})
    for listed in later["status_lists"].values():
        assert not listed["verified"] and "expired" in listed["error"].lower(), listed
