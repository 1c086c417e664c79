"""The /v1/learning routes over real HTTP: issuer, status, status list credentials (JSON and
signed), batch proofs, transcript."""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cbor2
import httpx
import pytest
from fastapi import FastAPI

from salus.api._errors import install_error_handlers
from salus.api._routes_learning import (
    STATUS_TTL_S,
    STATUS_VALID_S,
    _batch_proofs,
    learning_router,
)
from salus.apps.learning.certificate import decode_package, encode_package, verify_certificate
from salus.apps.learning.credentials import (
    batch_root,
    decode_vc_jwt,
    verify_status_list_jwt,
    verify_vc_jwt,
)
from salus.apps.learning.issuance import CertificateRecord, issue_batch, revoke, suspend
from salus.apps.learning.status_list import decode_list, status_bit_of
from salus.core.crypto import did_from_public_key
from salus.core.proofs import make_state_bundle, verify_bundle
from salus.errors import BadSignature
from salus.node import Node, SqliteStore, StateProofs
from tests.api.harness import assert_error, serving
from tests.apps.learning.test_issuance import (
    LEARNERS,
    SCHOOL,
    SCHOOL_SIGNING,
    Served,
    served_node,
    setup_school,
)
from tests.support import key

BASE = f"/v1/learning/issuers/{SCHOOL.did}"


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_node(tmp_path_factory.mktemp("learning-api")) as served:
        setup_school(served.client)
        yield served


@pytest.fixture
def http(school: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=school.url, timeout=10) as client:
        yield client


def test_issuer_and_course(http: httpx.Client) -> None:
    issuer = http.get(BASE).json()
    assert issuer["status"] == "accredited" and issuer["name"] == "Open School"
    assert issuer["as_of"] >= issuer["history"][0]["height"]
    course = http.get(f"{BASE}/courses/first-aid-101").json()
    assert course["title"] == "First aid" and course["credits"] == 50


def test_revocation_shows_in_status_list_credential_and_online(
    school: Served, http: httpx.Client
) -> None:
    packages = issue_batch(
        school.client,
        SCHOOL,
        SCHOOL_SIGNING,
        [CertificateRecord(LEARNERS[i].did, "first-aid-101") for i in range(2)],
    )
    entries = verify_vc_jwt(decode_package(packages[1])["token"]).credential["credentialStatus"]
    entry, suspension_entry = entries
    assert (entry["statusPurpose"], suspension_entry["statusPurpose"]) == (
        "revocation",
        "suspension",
    )
    index = int(entry["statusListIndex"])
    assert suspension_entry["statusListIndex"] == str(index)
    response = http.get(entry["statusListCredential"])  # the URL in the credential
    assert response.status_code == 200
    before = response.json()
    assert before["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    # Signed (and so issued) by the node's block key, a validator in genesis.
    assert before["issuer"] == school.node.validator_did()
    assert status_bit_of(entry, before) is False
    assert http.get(f"{BASE}/credentials/{index}").json()["status"] == "active"

    status = revoke(school.client, SCHOOL, status_index=index, reason="exam misconduct")
    response = http.get(entry["statusListCredential"])
    after = response.json()
    assert int(response.headers["Salus-Height"]) >= status["height"]
    assert status_bit_of(entry, after) is True
    assert len(decode_list(after["credentialSubject"]["encodedList"])) == 16 * 1024
    online = http.get(f"{BASE}/credentials/{index}").json()
    assert (online["status"], online["changed_at"], online["reason"]) == (
        "revoked",
        status["height"],
        "exam misconduct",
    )
    suspension = http.get(suspension_entry["statusListCredential"]).json()
    assert suspension["credentialSubject"]["statusPurpose"] == "suspension"
    assert status_bit_of(suspension_entry, suspension) is False


def _publishers(school: Served) -> set[str]:
    """Who may sign a network's status lists: its genesis validators."""
    return {did_from_public_key(pk) for pk in school.genesis.validator_powers()}


def test_signed_status_lists_follow_suspension(school: Served, http: httpx.Client) -> None:
    (package,) = issue_batch(
        school.client, SCHOOL, SCHOOL_SIGNING, [CertificateRecord(LEARNERS[2].did, "first-aid-101")]
    )
    revocation, suspension = verify_vc_jwt(decode_package(package)["token"]).credential[
        "credentialStatus"
    ]

    def signed(entry: dict[str, Any]) -> tuple[bool, int]:
        response = http.get(entry["statusListCredential"], headers={"Accept": "application/vc+jwt"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/vc+jwt"
        assert response.headers["vary"] == "Accept"
        assert response.headers["cache-control"] == f"max-age={STATUS_TTL_S}"
        listed = verify_status_list_jwt(
            response.text,
            list_url=entry["statusListCredential"],
            purpose=entry["statusPurpose"],
            publishers=_publishers(school),
        )
        assert listed.height == int(response.headers["Salus-Height"])
        assert listed.valid_until_s == listed.valid_from_s + STATUS_VALID_S
        return status_bit_of(entry, listed.credential), listed.height

    assert signed(suspension)[0] is False
    status = suspend(
        school.client, SCHOOL, status_index=int(suspension["statusListIndex"]), reason="appeal"
    )
    bit, height = signed(suspension)
    assert bit is True and height >= status["height"]
    assert signed(revocation)[0] is False


@pytest.mark.parametrize(
    ("accept", "jwt"),
    [
        ("application/vc+jwt", True),
        ("application/jwt", True),
        ("application/json;q=1, application/vc+jwt;q=0.5", True),
        ("application/vc+jwt;q=0", False),
        ("application/vc+jwt;q=zero", False),
        ("*/*", False),
        ("text/html,application/xhtml+xml", False),
        ("", False),
    ],
)
def test_content_negotiation(http: httpx.Client, accept: str, jwt: bool) -> None:
    response = http.get(f"{BASE}/status-list/revocation", headers={"Accept": accept})
    assert response.status_code == 200
    if jwt:
        assert decode_vc_jwt(response.text)[1]["vc"]["type"][1] == "BitstringStatusListCredential"
    else:
        assert response.json()["type"][1] == "BitstringStatusListCredential"


def test_tampered_signed_list_fails(school: Served, http: httpx.Client) -> None:
    token = http.get(
        f"{BASE}/status-list/revocation", headers={"Accept": "application/vc+jwt"}
    ).text
    header, payload, signature = token.split(".")
    flipped = payload[:50] + ("A" if payload[50] != "A" else "B") + payload[51:]
    with pytest.raises(Exception, match=r"signature|JSON|base64"):
        verify_status_list_jwt(f"{header}.{flipped}.{signature}")
    mark = "A" if signature[20] != "A" else "B"
    with pytest.raises(BadSignature):
        verify_status_list_jwt(f"{header}.{payload}.{signature[:20]}{mark}{signature[21:]}")


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_signed_lists_are_cached_per_height_and_refreshed(school: Served) -> None:
    clock = _Clock()
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(learning_router(school.node, clock=clock))
    url = f"{BASE}/status-list/revocation"
    accept = {"Accept": "application/vc+jwt"}
    with serving(app) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        # No transaction is pending, so no block commits while we compare.
        first = client.get(url, headers=accept)
        assert client.get(url, headers=accept).text == first.text  # cached
        assert client.get(url).json() == decode_vc_jwt(first.text)[2]  # same credential
        clock.now += STATUS_TTL_S - 1
        assert client.get(url, headers=accept).text == first.text
        clock.now += 1  # a minute old: signed again, valid for longer
        again = client.get(url, headers=accept)
        assert again.headers["Salus-Height"] == first.headers["Salus-Height"]
        assert again.text != first.text
        _, payload, credential = decode_vc_jwt(again.text)
        assert (
            payload["nbf"] == int(clock.now) and payload["exp"] == int(clock.now) + STATUS_VALID_S
        )
        assert credential["id"] == f"{base_url}{url}"  # the URL asked for
        # A new block: signed again for the new height.
        args = {"course_id": "first-aid-101", "learner": key(150).did}
        sent = school.client.send(SCHOOL, "learning", "enrol", args)
        assert school.client.wait_for(sent["id"])["status"] == "committed"
        newer = client.get(url, headers=accept)
        assert int(newer.headers["Salus-Height"]) > int(again.headers["Salus-Height"])
        assert decode_vc_jwt(newer.text)[1]["salus_height"] == int(newer.headers["Salus-Height"])


def test_node_without_a_key_serves_json_only(tmp_path: Path, school: Served) -> None:
    node = Node(school.genesis, SqliteStore(tmp_path / "ledger.sqlite"), None)
    try:
        app = FastAPI()
        install_error_handlers(app)
        app.include_router(learning_router(node))
        with serving(app) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
            response = client.get(
                f"{BASE}/status-list/revocation", headers={"Accept": "application/vc+jwt"}
            )
            assert "no status publication key" in assert_error(response, 406, "not_acceptable")
            # Nothing was issued on this fresh ledger: the JSON form says so too.
            assert_error(client.get(f"{BASE}/status-list/revocation"), 404)
    finally:
        node.close()


def test_batch_proofs_build_the_same_packages(school: Served, http: httpx.Client) -> None:
    records = [CertificateRecord(LEARNERS[i].did, "first-aid-101") for i in range(3)]
    packages = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records)
    tokens = [decode_package(p)["token"] for p in packages]
    root, paths = batch_root(tokens)
    path = f"{BASE}/batches/{root.hex()}/proofs"
    raw = http.get(path, params={"format": "cbor"})
    assert raw.headers["content-type"] == "application/cbor"
    answer = cbor2.loads(raw.content)
    assert (answer["count"], answer["start"], answer["next"]) == (3, 0, None)
    assert answer["key"] == SCHOOL_SIGNING.did and len(answer["status"]) == 3
    for i, token in enumerate(tokens):
        rebuilt = encode_package(
            token=token,
            issuer=SCHOOL.did,
            index=i,
            count=3,
            path=paths[i],
            proofs={**answer["shared"], "status": answer["status"][i]},
        )
        verdict = verify_certificate(rebuilt, school.genesis)
        assert verdict.valid and verdict.facts["proven_at"] == answer["height"], verdict
    page = http.get(path, params={"start": 1, "limit": 1}).json()
    assert (page["start"], page["next"], len(page["status"])) == (1, 2, 1)
    assert (
        base64.b64decode(page["shared"]["key"]) and page["status_start"] == answer["status_start"]
    )


def test_transcript_lists_the_learners_events(school: Served, http: httpx.Client) -> None:
    learner = LEARNERS[4].did
    for action, args in (
        ("enrol", {}),
        ("record_result", {"assessment_id": "final", "score": 9, "max_score": 10, "passed": True}),
    ):
        sent = school.client.send(
            SCHOOL, "learning", action, {"course_id": "first-aid-101", "learner": learner, **args}
        )
        assert school.client.wait_for(sent["id"])["status"] == "committed"
    body = http.get(f"/v1/learning/learners/{learner}/transcript").json()
    assert [e["type"] for e in body["events"]] == ["enrolled", "result_recorded"]
    assert body["events"][1]["attrs"]["score"] == 9
    assert body["next"] is None


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/learning/issuers/not-a-did", 400),
        (f"/v1/learning/issuers/{LEARNERS[0].did}", 404),
        (f"{BASE}/courses/unknown", 404),
        (f"{BASE}/courses/bad%20id", 400),
        (f"{BASE}/credentials/-1", 400),
        (f"{BASE}/credentials/abc", 400),
        (f"{BASE}/credentials/99999999999999999999999", 400),
        (f"{BASE}/credentials/1000000", 404),
        (f"{BASE}/status-list/other", 400),
        (f"{BASE}/batches/{'ab' * 32}/proofs", 404),
        (f"{BASE}/batches/xyz/proofs", 400),
        (f"{BASE}/batches/{'AB' * 32}/proofs", 400),
        (f"{BASE}/batches/{'ab' * 32}/proofs?limit=0", 400),
        (f"{BASE}/batches/{'ab' * 32}/proofs?limit=10001", 400),
        (f"{BASE}/batches/{'ab' * 32}/proofs?format=xml", 400),
        (f"/v1/learning/issuers/{LEARNERS[0].did}/status-list/revocation", 404),
        ("/v1/learning/learners/nobody/transcript", 400),
        (f"/v1/learning/learners/{LEARNERS[0].did}/transcript?limit=0", 400),
    ],
)
def test_bad_input_gets_the_error_shape(http: httpx.Client, path: str, status: int) -> None:
    assert_error(http.get(path), status)


class _RecordingProofSource:
    """A proof source (as under CometBFT) that records how it is asked: the proofs of a
    batch page must come from one call, so that they are of one block."""

    def __init__(self) -> None:
        self.calls: list[list[bytes]] = []

    def tx_proof(self, node: Node, tx_id: bytes) -> bytes:
        raise AssertionError("not used")

    def state_proof(self, node: Node, raw_key: bytes) -> bytes:
        raise AssertionError("a batch's proofs are asked for together, never one by one")

    def state_proofs(self, node: Node, raw_keys: Sequence[bytes]) -> StateProofs:
        self.calls.append(list(raw_keys))
        with node.commit_lock:
            last = node._last
            assert last is not None
            bundles = [
                make_state_bundle(
                    last.header, last.signature, key, node.ledger.get(key), node.ledger.prove(key)
                )
                for key in raw_keys
            ]
            return StateProofs(last.header.height, bundles)


def test_a_batch_page_takes_its_proofs_from_one_snapshot(school: Served) -> None:
    records = [CertificateRecord(LEARNERS[i].did, "first-aid-101") for i in (3, 4)]
    packages = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records)
    root, _ = batch_root([decode_package(package)["token"] for package in packages])
    source = _RecordingProofSource()
    try:
        school.node.proof_source = source
        answer = _batch_proofs(school.node, SCHOOL.did, root.hex(), 0, 10)
    finally:
        school.node.proof_source = None
    assert len(source.calls) == 1 and len(source.calls[0]) == 3 + 2
    assert len(answer["status"]) == 2 and set(answer["shared"]) == {"batch", "issuer", "key"}
    assert answer["height"] == school.node.ledger.height
    for bundle in [*answer["shared"].values(), *answer["status"]]:
        assert verify_bundle(bundle, school.genesis).valid
