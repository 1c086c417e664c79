"""Issuing over HTTP against a real node: cohort CSV, batch issue, revocation, offline verify."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from salus.api import create_app
from salus.api._routes_learning import learning_router
from salus.apps import network_contracts
from salus.apps.learning.certificate import decode_package, verify_certificate
from salus.apps.learning.cohort import COLUMNS, drop_unknown_courses, parse_cohort
from salus.apps.learning.credentials import verify_vc_jwt
from salus.apps.learning.issuance import (
    CertificateRecord,
    IssuanceError,
    issue_batch,
    package_address,
    published_courses,
    revoke,
    status_list_url,
    suspend,
    unsuspend,
)
from salus.client import SalusClient
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.node import FileBlobStore, Node, SqliteStore
from tests.api.harness import serving
from tests.support import genesis_data, key

ACCREDITOR = key(3)  # the third genesis organisation holds "accreditor"
SCHOOL, SCHOOL_SIGNING = key(40), key(41)
LEARNERS = [key(100 + i) for i in range(5)]


@dataclass
class Served:
    node: Node
    genesis: Genesis
    url: str
    client: SalusClient


@contextmanager
def served_node(data_dir: Path) -> Iterator[Served]:
    """A node with default contracts, the learning routes, and a block every 20 ms."""
    data = genesis_data(3)
    data["consortium"]["organisations"][2]["roles"] = ["accreditor"]
    genesis = Genesis.from_data(data)
    node = Node(genesis, SqliteStore(data_dir / "node.db"), key(9))
    app = create_app(node, FileBlobStore(data_dir / "blobs"))
    app.include_router(learning_router(node))
    stop = threading.Event()

    def produce() -> None:
        time_ms = genesis.genesis_time_ms
        while not stop.wait(0.02):
            time_ms += 1000
            node.produce_block(time_ms)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        with serving(app) as url, SalusClient(url) as client:
            yield Served(node, genesis, url, client)
    finally:
        stop.set()
        producer.join(5)
        node.close()


def setup_school(client: SalusClient) -> None:
    """Accredit the school, bind its signing key, publish a course."""
    steps: list[tuple[Signer, str, dict[str, Any]]] = [
        (ACCREDITOR, "accredit_issuer", {"issuer": SCHOOL.did, "name": "Open School"}),
        (SCHOOL, "bind_key", {"key": SCHOOL_SIGNING.did}),
        (
            SCHOOL,
            "publish_course",
            {
                "course_id": "first-aid-101",
                "title": "First aid",
                "credits": 50,
                "outcomes": ["Assess a casualty", "Perform CPR"],
                "assessment": "Practical assessment",
            },
        ),
    ]
    for signer, action, args in steps:
        status = client.wait_for(client.send(signer, "learning", action, args)["id"])
        assert status["status"] == "committed", status


@pytest.fixture
def school(tmp_path: Path) -> Iterator[Served]:
    with served_node(tmp_path) as served:
        setup_school(served.client)
        yield served


def test_network_contracts_include_learning_and_keep_genesis_root() -> None:
    from salus.core.ledger import Ledger

    genesis = Genesis.from_data(genesis_data(3))
    names = [c.name for c in network_contracts()]
    # The core contracts first, then the apps (other apps join the list as they land).
    assert names[:3] == ["identity", "notary", "learning"]
    assert len(set(names)) == len(names)
    assert (
        Ledger.from_genesis(genesis, network_contracts()).state_root
        == Ledger.from_genesis(genesis).state_root
    )


def test_parse_cohort_reports_bad_rows_by_line() -> None:
    good = LEARNERS[0].did
    text = (
        "learner_did,learner_name,course_id,passed,score,max_score,credits,evidence_url\n"
        f"{good},Ada,first-aid-101,true,18,20,5,https://school.example/e/1\n"  # line 2
        "did:key:nope,Bob,first-aid-101,true,,,,\n"  # 3: bad did
        f"{LEARNERS[1].did},,first-aid-101,maybe,,,,\n"  # 4: passed
        f"{LEARNERS[2].did},,first-aid-101,true,21,20,,\n"  # 5: score > max
        "\n"  # 6: blank, ignored
        f"{LEARNERS[3].did},,first-aid-101,no,3,20,,\n"  # 7: did not pass
        f"{LEARNERS[4].did},,first-aid-101,yes,,,2.55,\n"  # 8: credits
        f"{good},Ada,first-aid-101,true,,,,\n"  # 9: duplicate
        f"{LEARNERS[4].did},too,few\n"  # 10: cells
        f"{LEARNERS[4].did},,first-aid-101,1,,,2.5,ftp://x\n"  # 11: url
        f"{LEARNERS[4].did},,first-aid-101,1,,,2.5,\n"  # 12: good
    )
    cohort = parse_cohort(text)
    assert [r.line for r in cohort.records] == [2, 12]
    assert cohort.records[0].credits == 50 and cohort.records[0].learner_name == "Ada"
    assert cohort.records[1].credits == 25
    lines = {e.line: e.reason for e in cohort.errors}
    assert sorted(lines) == [3, 4, 5, 7, 8, 9, 10, 11]
    assert "learner_did" in lines[3]
    assert "passed" in lines[4]
    assert "exceeds max_score" in lines[5]
    assert "did not pass" in lines[7]
    assert "decimal" in lines[8]
    assert "line 2" in lines[9]
    assert "cells" in lines[10]
    assert "evidence_url" in lines[11]
    assert str(cohort.errors[0]).startswith("line 3: ")


def test_parse_cohort_header_problems_issue_nothing() -> None:
    assert parse_cohort("").errors[0].line == 1
    cohort = parse_cohort("learner_did,course_id,pased\nx,y,z\n")
    assert not cohort.records
    assert "missing column(s) passed" in cohort.errors[0].reason
    assert "unknown column(s) pased" in cohort.errors[0].reason
    assert set(COLUMNS) >= {"learner_did", "course_id", "passed"}


def test_batch_issue_verify_offline_revoke_and_suspend(school: Served) -> None:
    client = school.client
    records = [
        CertificateRecord(LEARNERS[i].did, "first-aid-101", learner_name=f"L{i}", line=i + 2)
        for i in range(3)
    ]
    packages = issue_batch(client, SCHOOL, SCHOOL_SIGNING, records, issued_at_s=1_700_000_000)
    assert len(packages) == 3
    for i, package in enumerate(packages):
        verdict = verify_certificate(package, school.genesis)
        assert verdict.valid, verdict
        assert verdict.facts["status_index"] == i
        credential = verify_vc_jwt(decode_package(package)["token"]).credential
        revocation, suspension = credential["credentialStatus"]
        assert revocation["statusPurpose"] == "revocation"
        assert revocation["statusListCredential"] == status_list_url(school.url, SCHOOL.did)
        assert suspension["statusPurpose"] == "suspension"
        assert suspension["statusListCredential"] == status_list_url(
            school.url, SCHOOL.did, "suspension"
        )
        assert revocation["statusListIndex"] == suspension["statusListIndex"] == str(i)
        subject = credential["credentialSubject"]
        assert subject["creditsEarned"] == 5 and subject["id"] == LEARNERS[i].did
    # The learner's name is in the credential only, never on the ledger.
    assert all("L0" not in str(e.attrs) for e in school.node.store.events(limit=1000))

    root, index, issuer = package_address(packages[1])
    assert (index, issuer) == (1, SCHOOL.did)
    revoked = revoke(client, SCHOOL, root=root, index_in_batch=1, reason="exam misconduct")
    # The package issued before still shows the state it proves; a fresh status proof
    # shows the revocation (what `issue_batch` would hand out now).
    assert verify_certificate(packages[1], school.genesis).valid
    online = client._get(f"/v1/learning/issuers/{SCHOOL.did}/credentials/1")
    assert online["status"] == "revoked"
    assert online["changed_at"] == revoked["height"]
    assert online["reason"] == "exam misconduct"

    suspend(client, SCHOOL, status_index=2, reason="appeal pending")
    assert client._get(f"/v1/learning/issuers/{SCHOOL.did}/credentials/2")["status"] == (
        "suspended"
    )
    unsuspend(client, SCHOOL, status_index=2, reason="appeal upheld")
    assert client._get(f"/v1/learning/issuers/{SCHOOL.did}/credentials/2")["status"] == "active"
    with pytest.raises(IssuanceError, match="cannot revoke"):
        revoke(client, SCHOOL, status_index=1, reason="again")

    # A second batch takes the next indices.
    more = issue_batch(client, SCHOOL, SCHOOL_SIGNING, records[:1])
    assert verify_certificate(more[0], school.genesis).facts["status_index"] == 3


def test_cohort_with_bad_rows_issues_the_good_ones(school: Served) -> None:
    text = (
        "learner_did,course_id,passed\n"
        f"{LEARNERS[0].did},first-aid-101,true\n"
        f"{LEARNERS[1].did},no-such-course,true\n"
        "not-a-did,first-aid-101,true\n"
        f"{LEARNERS[2].did},first-aid-101,true\n"
    )
    cohort = parse_cohort(text)
    known = published_courses(school.client, SCHOOL.did, [r.course_id for r in cohort.records])
    cohort = drop_unknown_courses(cohort, known)
    assert [r.line for r in cohort.records] == [2, 5]
    assert [(e.line, e.reason.split(" ")[0]) for e in cohort.errors] == [
        (3, "course"),
        (4, "learner_did:"),
    ]
    packages = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, cohort.records)
    assert all(verify_certificate(p, school.genesis).valid for p in packages)


def test_issue_refusals_name_the_problem(school: Served) -> None:
    record = CertificateRecord(LEARNERS[0].did, "first-aid-101")
    with pytest.raises(IssuanceError, match="not an issuer"):
        issue_batch(school.client, key(60), key(61), [record])
    with pytest.raises(IssuanceError, match="no course 'nope'"):
        issue_batch(
            school.client, SCHOOL, SCHOOL_SIGNING, [CertificateRecord(LEARNERS[0].did, "nope")]
        )
    with pytest.raises(IssuanceError, match="not bound"):
        issue_batch(school.client, SCHOOL, key(62), [record])
    with pytest.raises(IssuanceError, match="at least one"):
        issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, [])


def test_issue_batch_publishes_the_leaf_list(school: Served) -> None:
    from salus.apps.learning.leaves import encode_leaves

    records = [CertificateRecord(LEARNERS[i].did, "first-aid-101") for i in range(2)]
    packages = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records)
    tokens = [decode_package(p)["token"] for p in packages]
    root, _, _ = package_address(packages[0])
    batch = school.client.state("learning", f"batch/{root}")["value"]
    # The anchor names the blob of the credential hashes: no names, nothing personal.
    assert school.client.get_blob(batch["leaves"]) == encode_leaves(tokens)
    quiet = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, records, publish_leaves=False)
    root, _, _ = package_address(quiet[0])
    assert "leaves" not in school.client.state("learning", f"batch/{root}")["value"]
