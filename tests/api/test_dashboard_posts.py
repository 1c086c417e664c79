"""Public posts through a served node: import, anchor, list at /v1/posts, verify the anchor."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from salus.apps.outbreak.posts import canonical_post, import_posts, parse_posts, select_posts
from salus.cli.server import NodeServer
from salus.client import SalusClient
from salus.core.genesis import Genesis
from tests.api.harness import assert_error
from tests.support import genesis_data, key

MINISTRY = key(1)
RED_CROSS = key(3)

FEED = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Ministry press office</title>
<item><title>Coronavirus: first case</title><link>https://ministry.example/1</link>
  <description>One case.</description><pubDate>Wed, 11 Mar 2020 16:00:00 GMT</pubDate></item>
<item><title>Covid-19: schools close</title><link>https://ministry.example/2</link>
  <pubDate>Fri, 13 Mar 2020 09:00:00 GMT</pubDate></item>
<item><title>Road works</title><pubDate>Sat, 14 Mar 2020 09:00:00 GMT</pubDate></item>
</channel></rss>"""


@dataclass
class Served:
    client: SalusClient
    http: httpx.Client

    def get(self, path: str, **params: str | int) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    genesis = Genesis.from_data(genesis_data(3))
    server = NodeServer(
        genesis, key(9), tmp_path_factory.mktemp("posts"), port=0, block_interval_ms=20
    )
    with server, SalusClient(server.url) as client, httpx.Client(base_url=server.url) as http:
        yield Served(client, http)


def test_posts_are_anchored_listed_newest_first_and_their_anchor_proves(
    node: Served,
) -> None:
    client = node.client
    parsed = parse_posts(FEED)
    kept, skipped = select_posts(parsed.posts, ["coronavirus", "covid-19"])
    assert [s.where for s in skipped] == ["item 3"]
    anchored, refused = import_posts(client, MINISTRY, [post for post, _ in kept])
    assert refused == []
    assert [a.post.where for a in anchored] == ["item 1", "item 2"]
    first = anchored[0]
    assert first.digest == hashlib.sha256(canonical_post(first.post)).hexdigest()
    assert client.get_blob(first.digest) == canonical_post(first.post)
    anchor = client.state("notary", f"anchor/{first.digest}")["value"]
    assert anchor["by"] == MINISTRY.did
    assert anchor["note"] == "public post: Ministry press office"
    assert anchor["height"] == first.height

    # Another document anchored with the notary is not a post and is not listed.
    other = client.put_blob(b"a situation report")
    status = client.wait_for(
        client.send(RED_CROSS, "notary", "anchor", {"digest": other, "note": "sitrep"})["id"]
    )
    assert status["status"] == "committed"

    listing = node.get("/v1/posts")
    assert listing["total"] == 2
    assert listing["sources"] == ["Ministry press office"]
    newest, oldest = listing["posts"]
    assert newest["title"] == "Covid-19: schools close"
    assert oldest["digest"] == first.digest
    assert oldest == {
        "digest": first.digest,
        "source": "Ministry press office",
        "title": "Coronavirus: first case",
        "summary": "One case.",
        "url": "https://ministry.example/1",
        "published": "2020-03-11T16:00:00Z",
        "guid": None,
        "link_refused": None,
        "stored": True,
        "anchor": {
            "by": MINISTRY.did,
            "height": first.height,
            "time_ms": anchor["time_ms"],
            "note": "public post: Ministry press office",
            "tx": first.tx_id,
            "org": {"id": "health-ministry", "name": "Health Ministry"},
        },
        "blob": f"/v1/blobs/{first.digest}",
        "proof": f"/v1/proofs/state/notary/anchor/{first.digest}",
    }
    proof = node.get(oldest["proof"])
    assert proof["verdict"]["valid"] is True
    assert proof["bundle_json"]["value"]  # the anchor record itself is in the proof
    assert node.get(f"/v1/posts/{first.digest}") == oldest
    page = node.get("/v1/posts", offset=1, limit=1)
    assert [p["digest"] for p in page["posts"]] == [first.digest]
    assert node.get("/v1/posts", source="Nobody")["posts"] == []

    # Importing the same feed again anchors nothing and says why.
    again, refused = import_posts(client, MINISTRY, [post for post, _ in kept])
    assert again == []
    assert [(s.where, s.reason) for s in refused] == [
        ("item 1", f"already anchored at block {first.height}"),
        ("item 2", f"already anchored at block {anchored[1].height}"),
    ]
    assert node.get("/v1/posts")["total"] == 2


def test_a_post_whose_document_is_elsewhere_is_listed_by_its_anchor_only(
    node: Served,
) -> None:
    client = node.client
    document = json.dumps(
        {"type": "salus.public-post", "version": 1, "source": "Elsewhere", "summary": "",
         "title": "kept on another node", "url": None, "published": "2020-03-12T00:00:00Z",
         "guid": None}
    )  # fmt: skip
    digest = hashlib.sha256(document.encode()).hexdigest()
    sent = client.send(
        RED_CROSS, "notary", "anchor", {"digest": digest, "note": "public post: Elsewhere"}
    )
    assert client.wait_for(sent["id"])["status"] == "committed"
    entry = node.get(f"/v1/posts/{digest}")
    assert entry["stored"] is False and entry["title"] is None
    assert entry["anchor"]["note"] == "public post: Elsewhere"
    # Once the document reaches this node's blob store, the listing shows it.
    assert client.put_blob(document.encode()) == digest
    assert node.get(f"/v1/posts/{digest}")["title"] == "kept on another node"

    # An anchor whose note claims a post but whose document is something else is dropped.
    other = client.put_blob(b'{"type": "minutes"}')
    sent = client.send(RED_CROSS, "notary", "anchor", {"digest": other, "note": "public post: x"})
    assert client.wait_for(sent["id"])["status"] == "committed"
    assert node.http.get(f"/v1/posts/{other}").status_code == 404
    assert other not in {p["digest"] for p in node.get("/v1/posts")["posts"]}


def test_bad_post_requests_are_4xx(node: Served) -> None:
    http = node.http
    assert_error(http.get("/v1/posts/nothex"), 400)
    assert_error(http.get(f"/v1/posts/{'0' * 64}"), 404, "not_found")
    assert_error(http.get("/v1/posts", params={"limit": 0}), 400)
    assert_error(http.get("/v1/posts", params={"offset": -1}), 400)


def test_the_dashboard_page_is_served_with_the_strict_policy(
    node: Served,
) -> None:
    http = node.http
    moved = http.get("/dashboard")
    assert moved.status_code == 308 and moved.headers["location"] == "/dashboard/"
    page = http.get("/dashboard/")
    assert page.status_code == 200
    assert "Outbreak dashboard" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    for asset in ("dashboard.js", "dashboard.css", "vendor/countries-110m.json"):
        response = http.get(f"/dashboard/{asset}")
        assert response.status_code == 200, asset
    assert http.get("/dashboard/vendor/uPlot.iife.min.js").text.startswith("/*")
    assert http.get("/dashboard/nothing-here.js").status_code == 404


def _anchor_document(node: Served, signer: Any, document: dict[str, Any]) -> str:
    digest = node.client.put_blob(json.dumps(document).encode())
    sent = node.client.send(
        signer, "notary", "anchor", {"digest": digest, "note": "public post: x"}
    )
    assert node.client.wait_for(sent["id"])["status"] == "committed"
    return digest


def test_only_well_formed_posts_of_member_organisations_are_listed(node: Served) -> None:
    # Review repro t7: anyone could list a post naming any source, with a javascript: link,
    # or with fields of any type.
    post = {
        "type": "salus.public-post", "version": 1, "source": "World Health Organization",
        "title": "Official: covid is over", "summary": "", "guid": None,
        "url": "javascript:alert(document.domain)", "published": "2020-03-11T00:00:00Z",
    }  # fmt: skip
    by_individual = _anchor_document(node, key(60), post)
    assert node.http.get(f"/v1/posts/{by_individual}").status_code == 404
    listed = {p["digest"] for p in node.get("/v1/posts")["posts"]}
    assert by_individual not in listed
    assert "World Health Organization" not in node.get("/v1/posts")["sources"]

    # A member's post keeps its text, but a link that is not http(s) is never handed on.
    by_member = _anchor_document(node, RED_CROSS, {**post, "title": "Red Cross post"})
    entry = node.get(f"/v1/posts/{by_member}")
    assert entry["url"] is None
    assert entry["link_refused"] == "link 'javascript:alert(document.domain)' is not an http(s) URL"
    assert entry["anchor"]["org"] == {"id": "red-cross", "name": "Red Cross"}

    # Fields of the wrong type: not a post, whoever anchored it.
    junk = {"type": "salus.public-post", "version": 1, "source": ["x"], "title": {"a": 1},
            "summary": "", "url": 5, "published": [1], "guid": None}  # fmt: skip
    malformed = _anchor_document(node, RED_CROSS, junk)
    assert node.http.get(f"/v1/posts/{malformed}").status_code == 404
    assert "['x']" not in node.get("/v1/posts")["sources"]
