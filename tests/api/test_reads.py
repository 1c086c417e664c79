"""Read endpoints: chain, blocks, transactions, state, accounts, events, blobs, docs."""

from __future__ import annotations

import hashlib

import pytest

from salus.api import create_app
from tests.api.harness import HOSPITAL, MINISTRY, OUTSIDER, RED_CROSS, Harness, assert_error


@pytest.fixture
def chain(api: Harness) -> Harness:
    api.populate()
    return api


def test_status_genesis_and_contracts(chain: Harness) -> None:
    status = chain.client.get("/v1/status").json()
    assert status["chain_id"] == chain.genesis.chain_id
    assert status["height"] == 2
    assert status["state_root"] == chain.node.ledger.state_root.hex()
    assert chain.client.get("/v1/genesis").json() == chain.genesis.model_dump(mode="json")
    contracts = chain.client.get("/v1/contracts").json()
    identity = next(c for c in contracts if c["name"] == "identity")
    assert identity["actions"]["propose"]["roles"] == ["member"]


def test_blocks_newest_first_and_paged(chain: Harness) -> None:
    blocks = chain.client.get("/v1/blocks").json()["blocks"]
    assert [b["height"] for b in blocks] == [2, 1]
    assert blocks[0]["prev_hash"] == blocks[1]["hash"]
    page = chain.client.get("/v1/blocks", params={"limit": 1}).json()["blocks"]
    assert [b["height"] for b in page] == [2]
    older = chain.client.get("/v1/blocks", params={"before": 2, "limit": 1}).json()["blocks"]
    assert [b["height"] for b in older] == [1]


def test_block_detail_pages_its_transactions(chain: Harness) -> None:
    block = chain.client.get("/v1/blocks/2").json()
    stored = chain.node.get_block(2)
    assert block["header"] == stored.header.to_json()
    assert block["signature"] == stored.signature.hex()
    assert block["tx_count"] == 2
    assert [(t["index"], t["ok"]) for t in block["txs"]] == [(0, True), (1, False)]
    assert block["txs"][0]["signer"] == HOSPITAL.did
    assert block["txs"][1]["signer"] == RED_CROSS.did
    assert "proposal 1" in block["txs"][1]["reason"]
    second = chain.client.get("/v1/blocks/2", params={"offset": 1, "limit": 1}).json()
    assert [t["index"] for t in second["txs"]] == [1]
    assert second["tx_count"] == 2


@pytest.mark.parametrize("height", [0, 3, 10**12])
def test_unknown_block_is_404(chain: Harness, height: int) -> None:
    assert_error(chain.client.get(f"/v1/blocks/{height}"), 404, "not_found")


def test_find_txs_by_contract_and_signer(chain: Harness) -> None:
    everything = chain.client.get("/v1/txs", params={"contract": "identity"}).json()["txs"]
    assert [(t["height"], t["index"]) for t in everything] == [(2, 1), (2, 0), (1, 0)]
    assert set(everything[0]) == {
        "id", "height", "index", "contract", "action", "signer", "nonce", "ok", "code", "reason"
    }  # fmt: skip
    mine = chain.client.get("/v1/txs", params={"signer": MINISTRY.did}).json()["txs"]
    assert [(t["action"], t["nonce"]) for t in mine] == [("propose", 1)]
    older = chain.client.get("/v1/txs", params={"before_height": 2, "limit": 5}).json()["txs"]
    assert [t["height"] for t in older] == [1]
    assert chain.client.get("/v1/txs", params={"contract": "nosuch"}).json() == {"txs": []}


def test_read_state_and_its_404s(chain: Harness) -> None:
    entry = chain.client.get("/v1/state/identity/members").json()
    assert entry["value"] == ["city-hospital", "health-ministry", "red-cross"]
    assert entry["height"] == 2
    nested = chain.client.get(f"/v1/state/identity/role/{OUTSIDER.did}").json()
    assert nested["value"] == ["assessor"]
    assert "no-such-key" in assert_error(
        chain.client.get("/v1/state/identity/no-such-key"), 404, "not_found"
    )
    message = assert_error(chain.client.get("/v1/state/nosuch/members"), 404, "not_found")
    assert "installed: identity" in message


def test_list_state_keys_with_prefix_and_cursor(chain: Harness) -> None:
    orgs = chain.client.get("/v1/state/identity", params={"prefix": "org/"}).json()
    assert orgs == {
        "keys": ["org/city-hospital", "org/health-ministry", "org/red-cross"],
        "next": None,
    }
    first = chain.client.get("/v1/state/identity", params={"prefix": "org/", "limit": 2}).json()
    assert first["keys"] == ["org/city-hospital", "org/health-ministry"]
    assert first["next"] == "org/health-ministry"
    rest = chain.client.get(
        "/v1/state/identity", params={"prefix": "org/", "limit": 2, "after": first["next"]}
    ).json()
    assert rest == {"keys": ["org/red-cross"], "next": None}
    everything = chain.client.get("/v1/state/identity", params={"limit": 500}).json()["keys"]
    assert "members" in everything
    assert all(not key.startswith("identity/") for key in everything)
    assert_error(chain.client.get("/v1/state/nosuch"), 404, "not_found")
    assert_error(chain.client.get("/v1/state/identity", params={"prefix": "a b"}), 400)


def test_accounts_show_roles_and_nonces(chain: Harness) -> None:
    member = chain.client.get(f"/v1/accounts/{MINISTRY.did}").json()
    assert member["organisation"] == "health-ministry"
    assert "admin" in member["roles"]
    assert (member["last_nonce"], member["next_nonce"]) == (1, 2)
    person = chain.client.get(f"/v1/accounts/{OUTSIDER.did}").json()
    assert person["organisation"] is None
    assert person["roles"] == ["assessor", "public"]


def test_events_filter_and_page_with_cursor(chain: Harness) -> None:
    everything = chain.client.get("/v1/events").json()
    types = [e["type"] for e in everything["events"]]
    assert types == ["proposed", "approved", "approved", "role_granted", "executed"]
    assert everything["next"] is None
    seqs = [e["seq"] for e in everything["events"]]

    collected: list[int] = []
    after = 0
    while True:
        page = chain.client.get("/v1/events", params={"limit": 2, "after": after}).json()
        collected += [e["seq"] for e in page["events"]]
        if page["next"] is None:
            break
        assert page["next"] == page["events"][-1]["seq"]
        after = page["next"]
    assert collected == seqs

    approved = chain.client.get("/v1/events", params={"type": "approved"}).json()["events"]
    assert [e["attrs"]["org"] for e in approved] == ["health-ministry", "city-hospital"]
    subject = chain.client.get("/v1/events", params={"subject": OUTSIDER.did}).json()["events"]
    assert [e["type"] for e in subject] == ["role_granted"]
    first_tx = everything["events"][0]["tx_id"]
    by_tx = chain.client.get("/v1/events", params={"tx": first_tx}).json()["events"]
    assert [e["type"] for e in by_tx] == ["proposed", "approved"]
    in_block_2 = chain.client.get(
        "/v1/events", params={"contract": "identity", "from_height": 2, "to_height": 2}
    ).json()["events"]
    assert {e["height"] for e in in_block_2} == {2}
    assert len(in_block_2) == 3


def test_blob_round_trip(api: Harness) -> None:
    data = bytes(range(256)) * 1000
    stored = api.client.post(
        "/v1/blobs", content=data, headers={"Content-Type": "application/octet-stream"}
    )
    assert stored.status_code == 201
    address = hashlib.sha256(data).hexdigest()
    assert stored.json() == {"address": address, "size": len(data)}
    fetched = api.client.get(f"/v1/blobs/{address}")
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "application/octet-stream"
    assert fetched.content == data
    assert_error(api.client.get(f"/v1/blobs/{'0' * 64}"), 404, "not_found")
    assert_error(api.client.get("/v1/blobs/not-an-address"), 400, "encoding")
    assert_error(api.client.get(f"/v1/blobs/{address.upper()}"), 400, "encoding")


def test_root_redirects_to_the_explorer_which_is_served_with_a_strict_csp(api: Harness) -> None:
    root = api.client.get("/")
    assert root.status_code == 302
    assert root.headers["location"] == "/explorer/"
    page = api.client.get("/explorer/")
    assert page.status_code == 200
    assert "Salus explorer" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("explorer.js", "explorer.css", "favicon.svg"):
        assert api.client.get(f"/explorer/{asset}").status_code == 200
    assert "http" not in page.text.replace("http-equiv", "")  # nothing loaded from elsewhere


def test_openapi_describes_every_route_and_cdn_pages_are_off(api: Harness) -> None:
    spec = api.client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Salus node API"
    assert spec["info"]["version"]
    expected = {
        "/v1/status", "/v1/genesis", "/v1/contracts", "/v1/txs", "/v1/txs/batch",
        "/v1/txs/{tx_id}", "/v1/blocks", "/v1/blocks/{height}", "/v1/state/{contract}",
        "/v1/state/{contract}/{key}", "/v1/accounts/{did}", "/v1/proofs/tx/{tx_id}",
        "/v1/proofs/state/{contract}/{key}", "/v1/verify", "/v1/events", "/v1/blobs",
        "/v1/blobs/{address}", "/v1/learning/verify",
    }  # fmt: skip
    assert expected <= set(spec["paths"])
    assert all(path.startswith("/v1/") for path in spec["paths"])
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            assert operation.get("description"), f"{method.upper()} {path} has no description"
    submit = spec["paths"]["/v1/txs"]["post"]["requestBody"]["content"]
    assert set(submit) == {"application/json", "application/cbor"}
    assert api.client.get("/docs").status_code == 404
    assert api.client.get("/redoc").status_code == 404


def test_public_surface_and_every_module_declares_its_exports() -> None:
    import importlib
    import pkgutil

    import salus.api
    import salus.web

    assert salus.api.__all__ == ["create_app"]
    assert salus.api.create_app is create_app
    for info in pkgutil.iter_modules(salus.api.__path__, "salus.api."):
        module = importlib.import_module(info.name)
        assert module.__all__, f"{info.name} has no __all__"
        for name in module.__all__:
            assert hasattr(module, name), f"{info.name}.__all__ names missing {name}"
    assert (salus.web.STATIC_DIR / "index.html").is_file()
