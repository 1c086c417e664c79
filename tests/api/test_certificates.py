"""Certificates over HTTP: a bare VC-JWT (a QR code's) verified, a hash looked up, a PDF printed."""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import zxingcpp
from pypdf import PdfReader

from salus.api import create_app
from salus.apps.learning.certificate import decode_package, encode_package, verify_certificate
from salus.apps.learning.credentials import (
    CredentialStatus,
    build_open_badge,
    credential_hash,
    encode_vc_jwt,
)
from salus.apps.learning.issuance import (
    CertificateRecord,
    issue_batch,
    package_address,
    refresh_package,
    revoke,
    status_list_url,
)
from salus.client import SalusClient
from salus.core.genesis import Genesis
from salus.node import FileBlobStore, Node, SqliteStore
from tests.api.harness import assert_error, serving
from tests.apps.learning.test_issuance import LEARNERS, SCHOOL, SCHOOL_SIGNING, setup_school
from tests.apps.learning.test_pdf import qr_image
from tests.support import genesis_data, key

ROGUE = key(60)


@dataclass
class Served:
    node: Node
    genesis: Genesis
    url: str
    client: SalusClient
    http: httpx.Client
    blobs: FileBlobStore

    def verify(self, **body: Any) -> dict[str, Any]:
        response = self.http.post("/v1/learning/verify", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


@contextmanager
def served_node(data_dir: Path) -> Iterator[Served]:
    data = genesis_data(3)
    data["consortium"]["organisations"][2]["roles"] = ["accreditor"]
    genesis = Genesis.from_data(data)
    node = Node(genesis, SqliteStore(data_dir / "node.db"), key(9))
    blobs = FileBlobStore(data_dir / "blobs")
    stop = threading.Event()

    def produce() -> None:
        time_ms = genesis.genesis_time_ms
        while not stop.wait(0.02):
            time_ms += 1000
            node.produce_block(time_ms)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        with (
            serving(create_app(node, blobs)) as url,
            SalusClient(url) as client,
            httpx.Client(base_url=url, timeout=30) as http,
        ):
            yield Served(node, genesis, url, client, http, blobs)
    finally:
        stop.set()
        producer.join(5)
        node.close()


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_node(tmp_path_factory.mktemp("certificates")) as served:
        setup_school(served.client)
        yield served


def records(n: int, **extra: Any) -> list[CertificateRecord]:
    return [
        CertificateRecord(LEARNERS[i].did, "first-aid-101", learner_name=f"Learner {i}", **extra)
        for i in range(n)
    ]


def token_of(package: bytes) -> str:
    return str(decode_package(package)["token"])


def changed(token: str) -> str:
    header, payload, signature = token.split(".")
    flip = "A" if payload[40] != "A" else "B"
    return f"{header}.{payload[:40]}{flip}{payload[41:]}.{signature}"


def test_a_bare_credential_is_found_by_hash_and_verified(school: Served) -> None:
    packages = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records(3))
    token = token_of(packages[2])
    root = verify_certificate(packages[2], school.genesis).facts["root"]
    batch = school.client.state("learning", f"batch/{root}")["value"]
    assert school.blobs.has(batch["leaves"])  # hashes only: 3 x 32 bytes
    assert len(school.blobs.get(batch["leaves"])) == 96

    body = school.verify(credential=token)
    assert body["input"] == "credential"
    assert body["offline"]["verdict"] == "valid", body["offline"]
    assert [s["step"] for s in body["offline"]["steps"]] == [
        "decode",
        "signature",
        "anchored",
        "ledger",
        "issuer",
        "key",
        "status",
    ]
    assert body["located"] == {"by": "hash", "batch_root": root, "index": 2, "count": 3}
    assert body["online"]["status"] == "active"
    assert body["credential"]["credential_hash"] == credential_hash(token).hex()
    # The rebuilt package is a real one: it verifies offline, like the issuer's.
    rebuilt = base64.b64decode(body["package"])
    assert verify_certificate(rebuilt, school.genesis).valid
    assert decode_package(rebuilt)["path"] == decode_package(packages[2])["path"]

    # The same as application/jwt, and as a form field.
    raw = school.http.post(
        "/v1/learning/verify", content=token, headers={"Content-Type": "application/jwt"}
    )
    form = school.http.post("/v1/learning/verify", files={"credential": (None, token)})
    for response in (raw, form):
        assert response.status_code == 200, response.text
        assert response.json()["offline"]["verdict"] == "valid"


def test_one_changed_character_is_tampered(school: Served) -> None:
    (package,) = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records(1))
    body = school.verify(credential=changed(token_of(package)))
    assert (body["offline"]["verdict"], body["offline"]["step"]) == ("tampered", "signature")
    assert body["online"]["checked"] is False and body["package"] is None
    garbage = school.verify(credential="not.a.jwt")
    assert garbage["offline"]["verdict"] == "tampered"


def test_a_hash_shows_the_ledgers_record_and_current_status(school: Served) -> None:
    packages = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records(2))
    digest = credential_hash(token_of(packages[1])).hex()
    root = verify_certificate(packages[1], school.genesis).facts["root"]
    response = school.http.get(f"/v1/learning/credentials/{digest}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["found"] is True and body["status"] == "active"
    assert (body["issuer"], body["issuer_name"], body["key"]) == (
        SCHOOL.did,
        "Open School",
        SCHOOL_SIGNING.did,
    )
    assert body["batch"]["root"] == root
    assert (body["batch"]["index"], body["batch"]["count"]) == (1, 2)
    anchored = school.client.state("learning", f"batch/{root}")["value"]
    assert body["batch"]["anchored_at"] == anchored["height"]
    assert body["status_index"] == anchored["status_start"] + 1
    assert (
        "needs the credential" in body["full_verification"]
        or "credential itself" in (body["full_verification"])
    )

    status = school.client.wait_for(
        school.client.send(
            SCHOOL,
            "learning",
            "revoke",
            {"root": root, "index_in_batch": 1, "reason": "misconduct"},
        )["id"]
    )
    revoked = school.http.get(f"/v1/learning/credentials/{digest}").json()
    assert revoked["status"] == "revoked"
    assert revoked["reason"] == f"revoked at block {status['height']}: misconduct"

    unknown = school.http.get(f"/v1/learning/credentials/{'0' * 64}")
    assert_error(unknown, 404)
    assert "leaf list" in unknown.json()["error"]["message"]
    assert_error(school.http.get(f"/v1/learning/credentials/{'A' * 64}"), 400)
    assert_error(school.http.get("/v1/learning/credentials/abc"), 400)


def test_batches_without_a_leaf_list(school: Served) -> None:
    two = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records(2), publish_leaves=False)
    response = school.http.post("/v1/learning/verify", json={"credential": token_of(two[0])})
    assert_error(response, 404)
    message = response.json()["error"]["message"]
    assert "anchored without a leaf list" in message and ".salus-cert" in message
    digest = credential_hash(token_of(two[0])).hex()
    assert_error(school.http.get(f"/v1/learning/credentials/{digest}"), 404)
    # A batch of one needs no list: its path is empty.
    (one,) = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records(1), publish_leaves=False)
    body = school.verify(credential=token_of(one))
    assert body["offline"]["verdict"] == "valid"
    assert body["located"]["by"] == "status index"


def test_a_leaf_list_that_does_not_match_is_not_trusted(school: Served) -> None:
    """A blob that is not the batch's hashes: the node refuses to use it."""
    tokens = [token_of(p) for p in issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records(2))]
    from salus.apps.learning.credentials import batch_root

    issuer = school.client.state("learning", f"issuer/{SCHOOL.did}")["value"]
    start = int(issuer["next_status_index"])
    fresh = [
        encode_vc_jwt(_badge(start + i, LEARNERS[i].did, school.url), SCHOOL_SIGNING)
        for i in range(2)
    ]
    root, _ = batch_root(fresh)
    wrong = school.client.put_blob(b"".join(credential_hash(t) for t in tokens))  # other hashes
    status = school.client.wait_for(
        school.client.send(
            SCHOOL,
            "learning",
            "anchor_batch",
            {"root": root.hex(), "count": 2, "key": SCHOOL_SIGNING.did, "leaves": wrong},
        )["id"]
    )
    assert status["status"] == "committed", status
    response = school.http.post("/v1/learning/verify", json={"credential": fresh[1]})
    assert_error(response, 404)
    assert "does not match the batch" in response.json()["error"]["message"]
    # The earlier batch, whose list is right, still answers.
    assert school.verify(credential=tokens[0])["offline"]["verdict"] == "valid"


def _badge(
    index: int, learner: str, base_url: str, signer_did: str | None = None
) -> dict[str, Any]:
    return build_open_badge(
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{index:012d}",
        issuer_did=signer_did or SCHOOL_SIGNING.did,
        issuer_name="Open School",
        issued_at_s=1_700_000_000,
        achievement_id="https://school.example/courses/first-aid-101",
        achievement_name="First aid",
        achievement_description="Assess a casualty; perform CPR.",
        criteria_narrative="Pass the practical assessment.",
        learner_did=learner,
        status=CredentialStatus(status_list_url(base_url, SCHOOL.did), index),
    )


def test_signed_but_never_anchored_and_unknown_signers(school: Served) -> None:
    issuer = school.client.state("learning", f"issuer/{SCHOOL.did}")["value"]
    future = int(issuer["next_status_index"]) + 1000
    unanchored = encode_vc_jwt(_badge(future, LEARNERS[0].did, school.url), SCHOOL_SIGNING)
    body = school.verify(credential=unanchored)
    assert (body["offline"]["verdict"], body["offline"]["step"]) == ("not anchored", "anchored")
    assert SCHOOL.did in body["offline"]["reason"]
    assert body["located"] is None and body["package"] is None

    rogue = encode_vc_jwt(_badge(future, LEARNERS[0].did, school.url, ROGUE.did), ROGUE)
    body = school.verify(credential=rogue)
    assert (body["offline"]["verdict"], body["offline"]["step"]) == ("unknown issuer", "issuer")

    # A rogue token claiming a real batch's status index is judged at that position:
    # the full verifier runs, and the key step fails.
    claims = encode_vc_jwt(_badge(0, LEARNERS[0].did, school.url, ROGUE.did), ROGUE)
    body = school.verify(credential=claims)
    assert (body["offline"]["verdict"], body["offline"]["step"]) == ("unknown issuer", "key")
    assert body["located"]["by"] == "status index"


def test_verify_bad_requests_are_4xx(school: Served) -> None:
    post = school.http.post
    assert_error(post("/v1/learning/verify", json={}), 400)
    assert_error(post("/v1/learning/verify", json={"credential": "a", "package": "AA=="}), 400)
    assert_error(post("/v1/learning/verify", json={"credential": 5}), 400)
    assert_error(post("/v1/learning/verify", json={"credential": "  "}), 400)
    assert_error(post("/v1/learning/verify", json={"credential": "é.b.c"}), 400)
    assert_error(post("/v1/learning/verify", json={"credential": "a" * 70_000}), 400)
    assert_error(
        post("/v1/learning/verify", content=b"", headers={"Content-Type": "application/jwt"}), 400
    )
    assert_error(
        post("/v1/learning/verify", content=b"\xff", headers={"Content-Type": "application/jwt"}),
        400,
    )
    assert_error(post("/v1/learning/verify", files={"credential": (None, "")}), 400)


def test_pdf_route_prints_a_posted_package(school: Served) -> None:
    (package,) = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records(1))
    response = school.http.post(
        "/v1/learning/certificates/pdf",
        json={"package": base64.b64encode(package).decode(), "learner_name": "Дмитрий Шостакович"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Дмитрий Шостакович" in text
    (code,) = zxingcpp.read_barcodes(qr_image(response.content))
    assert code.text == f"{school.url}/verify/#vc={token_of(package)}"

    form = school.http.post(
        "/v1/learning/certificates/pdf",
        files={"package": ("ada.salus-cert", package, "application/cbor")},
        data={"learner_name": "Ada", "verify_url": "https://verify.example/verify/"},
    )
    assert form.status_code == 200, form.text
    (code,) = zxingcpp.read_barcodes(qr_image(form.content))
    assert code.text.startswith("https://verify.example/verify/#vc=")
    assert "Ada" in PdfReader(io.BytesIO(form.content)).pages[0].extract_text()


def test_pdf_route_bad_requests_are_4xx(school: Served) -> None:
    (package,) = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records(1))
    good = base64.b64encode(package).decode()
    post = school.http.post
    url = "/v1/learning/certificates/pdf"
    assert_error(post(url, json={}), 400)
    assert_error(post(url, json={"package": "not base64!"}), 400)
    assert_error(post(url, json={"package": good, "learner_name": "Ada\nLovelace"}), 400)
    assert_error(post(url, json={"package": good, "learner_name": "x" * 201}), 400)
    assert_error(post(url, json={"package": good, "name": "Ada"}), 400)
    assert_error(post(url, json={"package": good, "verify_url": "ftp://x/"}), 400)
    assert_error(post(url, json={"package": good, "verify_url": "https://x/verify/#h"}), 400)
    assert_error(post(url, json=[good]), 400)
    assert_error(post(url, content=b"x", headers={"Content-Type": "text/plain"}), 415)
    assert_error(post(url, files={"package": ("c", b"")}), 400)
    garbage = post(url, json={"package": base64.b64encode(b"\xa0").decode()})
    assert_error(garbage, 422)
    assert garbage.json()["error"]["code"] == "not_valid"
    devanagari = post(url, json={"package": good, "learner_name": "देवनागरी"})
    assert_error(devanagari, 422)
    assert "shaping" in devanagari.json()["error"]["message"]


def test_a_package_naming_another_issuer_gets_the_ledgers_issuer_online(school: Served) -> None:
    (package,) = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records(1))
    data = decode_package(package)
    impostor = key(77).did
    forged = encode_package(
        token=data["token"],
        issuer=impostor,
        index=data["index"],
        count=data["count"],
        path=data["path"],
        proofs=data["proofs"],
    )
    answer = school.verify(package=base64.b64encode(forged).decode())
    assert answer["offline"]["verdict"] == "tampered"
    online = answer["online"]
    assert online["issuer"] == SCHOOL.did != impostor
    assert (
        online["issuer_name"]
        == school.client.state("learning", f"issuer/{SCHOOL.did}")["value"]["name"]
    )
    assert impostor in online["issuer_mismatch"] and SCHOOL.did in online["issuer_mismatch"]


def test_pdf_route_prints_only_valid_certificates(school: Served) -> None:
    """A node-branded PDF of a forged, tampered or revoked certificate would lend it
    credibility: the route verifies first."""
    one, two = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records(2))
    data = decode_package(one)
    fields = ("token", "index", "count", "path", "proofs")
    other_issuer = encode_package(**{name: data[name] for name in fields}, issuer=key(78).did)
    root, index, _ = package_address(two)
    revoke(school.client, SCHOOL, root=root, index_in_batch=index, reason="issued in error")
    revoked = refresh_package(school.client, two)
    url = "/v1/learning/certificates/pdf"
    for package, verdict in ((other_issuer, "tampered"), (revoked, "revoked")):
        refused = school.http.post(url, json={"package": base64.b64encode(package).decode()})
        assert_error(refused, 422)
        body = refused.json()["error"]
        assert body["code"] == "not_valid" and f"is {verdict}" in body["message"]
