"""The Python SDK against a real node served by uvicorn on a free local port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from salus.client import ApiError, SalusClient
from salus.core.proofs import verify_bundle
from salus.core.tx import Transaction, sign_transaction
from salus.errors import SalusError
from tests.cli.running import Network, running_network
from tests.support import key

OUTSIDER = key(31)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("client") / "home") as net:
        yield net


@pytest.fixture
def client(network: Network) -> Iterator[SalusClient]:
    with SalusClient(network.url, timeout=10.0) as c:
        yield c


def _grant(subject: str, role: str = "auditor") -> dict[str, object]:
    return {"kind": "grant_role", "params": {"subject": subject, "role": role}}


def test_status_genesis_and_contracts(client: SalusClient, network: Network) -> None:
    status = client.status()
    assert status["chain_id"] == network.genesis.chain_id
    assert status["genesis_hash"] == network.genesis.hash.hex()
    assert client.chain_id() == network.genesis.chain_id
    assert client.genesis()["chain_id"] == network.genesis.chain_id
    assert "identity" in [c["name"] for c in client.contracts()]


def test_send_wait_and_read_back(client: SalusClient, network: Network) -> None:
    ministry = network.signer("health-ministry")
    before = client.next_nonce(ministry.did)
    submitted = client.send(ministry, "identity", "propose", _grant(OUTSIDER.did))
    assert submitted["status"] == "pending"
    status = client.wait_for(submitted["id"], timeout=10)
    assert status["status"] == "committed"
    assert status["tx"]["nonce"] == before
    assert client.next_nonce(ministry.did) == before + 1
    assert client.tx(submitted["id"])["height"] == status["height"]
    assert client.tx(bytes.fromhex(submitted["id"]))["id"] == submitted["id"]

    block = client.block(status["height"])
    assert block  # the block endpoint answers with the block
    headers = client.blocks(limit=1)
    assert headers[0]["height"] >= status["height"]

    number = int(status["events"][0]["subject"].split("/")[1])
    proposal = client.state("identity", f"proposal/{number}")
    assert proposal["value"]["kind"] == "grant_role"

    page = client.events(contract="identity", subject=f"proposal/{number}", limit=10)
    assert [event["type"] for event in page["events"]] == ["proposed", "approved"]

    account = client.account(ministry.did)
    assert account["organisation"] == "health-ministry"
    assert "admin" in account["roles"]


def test_proofs_verify_offline_and_on_the_node(client: SalusClient, network: Network) -> None:
    submitted = client.send(network.signer("red-cross"), "identity", "propose", _grant("red-cross"))
    client.wait_for(submitted["id"], timeout=10)
    bundle = client.tx_proof(submitted["id"])
    verdict = verify_bundle(bundle, network.genesis)
    assert verdict.valid, verdict.reason
    assert verdict.facts["tx_id"] == submitted["id"]
    assert client.verify(bundle)["valid"] is True

    state_bundle = client.state_proof("identity", "org/red-cross")
    state_verdict = verify_bundle(state_bundle, network.genesis)
    assert state_verdict.valid, state_verdict.reason
    assert state_verdict.facts["value"]["name"] == "Red Cross"

    tampered = bytearray(bundle)
    tampered[-1] ^= 0x01
    assert client.verify(bytes(tampered))["valid"] is False


def test_refusal_at_admission_is_an_api_error_with_the_id(client: SalusClient) -> None:
    with pytest.raises(ApiError) as caught:
        client.send(OUTSIDER, "identity", "propose", _grant(OUTSIDER.did))
    error = caught.value
    assert isinstance(error, SalusError)
    assert error.status == 400
    assert error.code == "permission_denied"
    assert error.tx_id is not None and len(error.tx_id) == 64
    assert "requires role 'member'" in error.message
    assert "requires role 'member'" in str(error)
    assert "HTTP 400" in str(error)
    assert client.tx(error.tx_id)["status"] == "rejected"


def test_rejection_in_a_block_is_a_final_status(client: SalusClient, network: Network) -> None:
    submitted = client.send(
        network.signer("city-hospital"), "identity", "approve", {"proposal": 999}
    )
    status = client.wait_for(submitted["id"], timeout=10)
    assert status["status"] == "rejected"
    assert "no proposal 999" in status["reason"]


def test_submit_batch_reports_each_item(client: SalusClient, network: Network) -> None:
    hospital = network.signer("city-hospital")
    nonce = client.next_nonce(hospital.did)
    good = client.sign(hospital, "identity", "propose", _grant("city-hospital"), nonce=nonce)
    outsider = sign_transaction(
        Transaction(
            client.chain_id(), OUTSIDER.public_key, 1, "identity", "propose", _grant("red-cross")
        ),
        OUTSIDER,
    )
    results = client.submit_batch([good, outsider.envelope])
    assert [r["status"] for r in results] == ["pending", "rejected"]
    assert results[0]["id"] == good.id_hex
    assert results[1]["id"] == outsider.id_hex
    assert results[1]["code"] == "permission_denied"
    assert client.wait_for(good.id_hex, timeout=10)["status"] == "committed"


def test_blobs_round_trip(client: SalusClient) -> None:
    data = b"\x00binary document\xff" * 100
    address = client.put_blob(data)
    assert len(address) == 64
    assert client.get_blob(address) == data


def test_get_bytes_reads_any_route_raw(client: SalusClient) -> None:
    raw = client.get_bytes("/v1/proofs/state/identity/org/red-cross", {"format": "cbor"})
    assert raw == client.state_proof("identity", "org/red-cross")
    assert raw[0] >> 5 == 5  # CBOR major type 5, a map: not JSON
    assert b'"chain_id"' in client.get_bytes("/v1/status", {"unused": None})
    with pytest.raises(ApiError) as caught:
        client.get_bytes("/v1/blobs/" + "cd" * 32)
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    for path in ("v1/status", "//elsewhere.test/v1/status", "http://elsewhere.test/"):
        with pytest.raises(ValueError, match="not an API path"):
            client.get_bytes(path)


def test_get_bytes_sends_params_and_accept() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"\x00\x01")

    with SalusClient("http://node.test/base", transport=httpx.MockTransport(handler)) as client:
        body = client.get_bytes(
            "/v1/x", {"start": 0, "limit": None, "format": "cbor"}, accept="application/cbor"
        )
    assert body == b"\x00\x01"
    (request,) = seen
    assert request.url.path == "/base/v1/x"
    assert dict(request.url.params) == {"start": "0", "format": "cbor"}
    assert request.headers["accept"] == "application/cbor"


def test_not_found_is_an_api_error(client: SalusClient) -> None:
    with pytest.raises(ApiError) as caught:
        client.tx("ab" * 32)
    assert caught.value.status == 404
    assert caught.value.code == "not_found"
    with pytest.raises(ApiError, match="no state entry"):
        client.state("identity", "org/nobody")
    with pytest.raises(ApiError, match="no blob"):
        client.get_blob("cd" * 32)
    with pytest.raises(ApiError, match="64 hex"):
        client.tx("xyz")


def test_wait_for_times_out_on_an_unknown_transaction(client: SalusClient) -> None:
    with pytest.raises(TimeoutError, match="still unknown"):
        client.wait_for("ef" * 32, timeout=0.2, poll=0.05)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_node_is_a_clear_api_error() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with SalusClient(url, timeout=2) as client, pytest.raises(ApiError) as caught:
        client.status()
    assert caught.value.status == 0
    assert caught.value.code == "unreachable"
    assert f"the Salus node at {url} is unreachable" in str(caught.value)


def test_an_invalid_url_is_an_api_error() -> None:
    with pytest.raises(ApiError, match="is not a valid node URL") as caught:
        SalusClient("http://[::1")
    assert caught.value.code == "invalid_url"


def test_error_bodies_that_are_not_salus_json_still_become_api_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/status":
            return httpx.Response(502, text="<html>Bad gateway</html>")
        if request.url.path == "/v1/genesis":
            return httpx.Response(200, text="not json")
        return httpx.Response(422, json={"detail": "field required"})

    with SalusClient("http://node.test", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ApiError, match="HTTP 502") as caught:
            client.status()
        assert caught.value.status == 502
        with pytest.raises(ApiError, match="expected JSON"):
            client.genesis()
        with pytest.raises(ApiError, match="field required"):
            client.contracts()


def test_client_quotes_path_segments() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json={"value": 1})

    with SalusClient("http://node.test/", transport=httpx.MockTransport(handler)) as client:
        client.state("identity", "org/a?b#c")
    assert seen == ["/v1/state/identity/org/a%3Fb%23c"]


def test_public_surface() -> None:
    import salus.client
    import salus.keystore

    assert set(salus.client.__all__) == {"DEFAULT_NODE_URL", "ApiError", "SalusClient"}
    assert set(salus.keystore.__all__) == {
        "KEY_FILE_VERSION",
        "Strength",
        "load_key",
        "read_did",
        "save_key",
    }
