"""How issuing fetches a batch's proofs: pages of one block, retried when a block commits."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cbor2
import pytest

from salus.apps.learning.certificate import decode_package, encode_package, verify_certificate
from salus.apps.learning.issuance import (
    _PROOF_ATTEMPTS,
    CertificateRecord,
    IssuanceError,
    issue_batch,
    package_address,
    refresh_package,
    revoke,
)
from salus.client import ApiError, SalusClient
from tests.apps.learning.test_issuance import (
    LEARNERS,
    SCHOOL,
    SCHOOL_SIGNING,
    Served,
    served_node,
    setup_school,
)
from tests.support import key

NOTARY_USER = key(70)
RECORDS = [CertificateRecord(learner.did, "first-aid-101") for learner in LEARNERS]


class PagingClient(SalusClient):
    """Asks for batch proofs in pages of ``size`` and calls ``before_page(n)`` before page n."""

    def __init__(
        self, url: str, size: int, before_page: Callable[[int], None] | None = None
    ) -> None:
        super().__init__(url)
        self.size = size
        self.before_page = before_page
        self.pages: list[dict[str, Any]] = []

    def get_bytes(
        self, path: str, params: dict[str, Any] | None = None, *, accept: str | None = None
    ) -> bytes:
        params = dict(params or {})
        if "/batches/" in path:
            if params.get("limit") is None:
                params["limit"] = self.size
            self.pages.append(params)
            if self.before_page is not None:
                self.before_page(len(self.pages))
        return super().get_bytes(path, params, accept=accept)


@pytest.fixture
def school(tmp_path: Path) -> Iterator[Served]:
    with served_node(tmp_path) as served:
        setup_school(served.client)
        yield served


def commit_a_block(client: SalusClient) -> None:
    """Anchor a fresh document hash with the notary and wait: the tip moves one block."""
    digest = hashlib.sha256(str(client.status()["height"]).encode()).hexdigest()
    submitted = client.send(NOTARY_USER, "notary", "anchor", {"digest": digest})
    assert client.wait_for(submitted["id"], timeout=10)["status"] == "committed"


def heights(package: bytes) -> set[int]:
    proofs = decode_package(package)["proofs"]
    return {cbor2.loads(bundle)["header"]["height"] for bundle in proofs.values()}


def test_issue_batch_fetches_pages_of_one_block(school: Served) -> None:
    client = PagingClient(school.url, size=2)
    with client:
        packages = issue_batch(client, SCHOOL, SCHOOL_SIGNING, RECORDS)
    assert [(p["start"], p["limit"]) for p in client.pages] == [(0, 2), (2, 2), (4, 2)]
    assert all(verify_certificate(p, school.genesis).valid for p in packages)
    assert len(set().union(*(heights(p) for p in packages))) == 1


def test_a_block_between_pages_fetches_them_again(school: Served) -> None:
    def before(number: int) -> None:
        if number == 2:
            commit_a_block(school.client)

    client = PagingClient(school.url, size=2, before_page=before)
    with client:
        packages = issue_batch(client, SCHOOL, SCHOOL_SIGNING, RECORDS)
    # Page 2 was of a later block: the three pages again, all of that block.
    assert [p["start"] for p in client.pages] == [0, 2, 0, 2, 4]
    assert all(verify_certificate(p, school.genesis).valid for p in packages)
    (height,) = set().union(*(heights(p) for p in packages))
    assert height == school.node.ledger.height


def test_blocks_that_keep_coming_give_each_package_one_block(school: Served) -> None:
    client = PagingClient(school.url, size=2, before_page=lambda _n: commit_a_block(school.client))
    with client:
        packages = issue_batch(client, SCHOOL, SCHOOL_SIGNING, RECORDS)
    # Every attempt but the last stops at its second page; the last keeps what it gets.
    assert [p["start"] for p in client.pages] == [0, 2] * (_PROOF_ATTEMPTS - 1) + [0, 2, 4]
    for package in packages:
        assert verify_certificate(package, school.genesis).valid
        assert len(heights(package)) == 1
    assert len(set().union(*(heights(p) for p in packages))) == 3


def test_a_node_that_cannot_hold_a_block_is_an_issuance_error(school: Served) -> None:
    class Busy(SalusClient):
        calls = 0

        def get_bytes(
            self, path: str, params: dict[str, Any] | None = None, *, accept: str | None = None
        ) -> bytes:
            Busy.calls += 1
            raise ApiError(503, "unavailable", "blocks kept committing")

    with Busy(school.url) as client, pytest.raises(IssuanceError, match="kept committing"):
        issue_batch(client, SCHOOL, SCHOOL_SIGNING, RECORDS[:1])
    assert Busy.calls == _PROOF_ATTEMPTS


def test_refresh_asks_for_one_certificate_and_sees_a_revocation(school: Served) -> None:
    packages = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, RECORDS[:3])
    root, _, _ = package_address(packages[1])
    revoked = revoke(school.client, SCHOOL, root=root, index_in_batch=1, reason="misconduct")
    client = PagingClient(school.url, size=100)
    with client:
        fresh = refresh_package(client, packages[1])
    assert [(p["start"], p["limit"]) for p in client.pages] == [(1, 1)]
    verdict = verify_certificate(fresh, school.genesis)
    assert verdict.verdict == "revoked", verdict
    assert f"revoked at block {revoked['height']}" in verdict.reason
    assert heights(fresh) == {school.node.ledger.height}


def test_refresh_refuses_a_package_the_ledger_does_not_know(school: Served) -> None:
    (package,) = issue_batch(school.client, SCHOOL, SCHOOL_SIGNING, RECORDS[:1])
    data = decode_package(package)
    fields = {k: data[k] for k in ("token", "index", "count", "path", "proofs")}
    other_issuer = encode_package(**{**fields, "issuer": key(60).did})
    with pytest.raises(IssuanceError, match=f"anchored by {SCHOOL.did}"):
        refresh_package(school.client, other_issuer)
    unanchored = encode_package(**{**fields, "issuer": SCHOOL.did, "count": 2, "path": [bytes(32)]})
    with pytest.raises(IssuanceError, match="is not anchored"):
        refresh_package(school.client, unanchored)
