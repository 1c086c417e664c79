"""The /v1/learning routes over real HTTP: issuer, status, status list credential, transcript."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from salus.apps.learning.certificate import decode_package
from salus.apps.learning.credentials import verify_vc_jwt
from salus.apps.learning.issuance import CertificateRecord, issue_batch, revoke
from salus.apps.learning.status_list import decode_list, status_bit_of
from tests.api.harness import assert_error
from tests.apps.learning.test_issuance import (
    LEARNERS,
    SCHOOL,
    SCHOOL_SIGNING,
    Served,
    served_node,
    setup_school,
)

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
    entry = verify_vc_jwt(decode_package(packages[1])["token"]).credential["credentialStatus"]
    index = int(entry["statusListIndex"])
    response = http.get(entry["statusListCredential"])  # the URL in the credential
    assert response.status_code == 200
    before = response.json()
    assert before["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert before["issuer"] == SCHOOL.did
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
    suspension = http.get(f"{BASE}/status-list/suspension").json()
    assert suspension["credentialSubject"]["statusPurpose"] == "suspension"


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
        (f"/v1/learning/issuers/{LEARNERS[0].did}/status-list/revocation", 404),
        ("/v1/learning/learners/nobody/transcript", 400),
        (f"/v1/learning/learners/{LEARNERS[0].did}/transcript?limit=0", 400),
    ],
)
def test_bad_input_gets_the_error_shape(http: httpx.Client, path: str, status: int) -> None:
    assert_error(http.get(path), status)
