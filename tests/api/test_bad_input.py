"""Bad input is always a 4xx in the one error shape, never a 500."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from tests.api.harness import MINISTRY, Harness, assert_error, b64, running_node

SMALL_LIMIT = 64 * 1024


@pytest.fixture
def small(genesis: Genesis, validator: Signer, tmp_path: Path) -> Iterator[Harness]:
    """A node whose API takes request bodies of at most 64 KiB."""
    with running_node(genesis, validator, tmp_path, max_body_bytes=SMALL_LIMIT) as harness:
        yield harness


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[]", "'tx'"),
        (b'"tx"', "'tx'"),
        (b"{}", "'tx'"),
        (b'{"tx": 12}', "'tx'"),
        (b'{"tx": null}', "'tx'"),
        (b'{"tx": "not base64!"}', "base64"),
        (b'{"tx": "AAA"}', "base64"),
    ],
)
def test_malformed_submissions_name_the_problem(api: Harness, body: bytes, named: str) -> None:
    response = api.client.post(
        "/v1/txs", content=body, headers={"Content-Type": "application/json"}
    )
    assert named in assert_error(response, 400)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{oops", "not valid JSON"),
        (b"[" * 100_000, "not valid JSON"),
        (b"[]", "request body"),
        (b"{}", "'txs'"),
        (b'{"txs": "AAAA"}', "'txs'"),
        (b'{"txs": [1, 2]}', "'txs[0]'"),
        (b'{"txs": ["AA=="], "extra": 1}', "'extra'"),
    ],
)
def test_malformed_batches_name_the_field(api: Harness, body: bytes, named: str) -> None:
    response = api.client.post(
        "/v1/txs/batch", content=body, headers={"Content-Type": "application/json"}
    )
    assert named in assert_error(response, 400, "invalid_request")


def test_unsupported_content_type_is_415(api: Harness) -> None:
    response = api.client.post("/v1/txs", content=b"x", headers={"Content-Type": "text/plain"})
    assert "application/cbor" in assert_error(response, 415)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/txs/xyz",
        f"/v1/txs/{'g' * 64}",
        f"/v1/txs/{'ab' * 31}",
        f"/v1/txs/{'ab' * 33}",
        "/v1/proofs/tx/nothex",
        "/v1/events?tx=nothex",
        "/v1/blobs/xyz",
    ],
)
def test_bad_hex_ids_are_400(api: Harness, path: str) -> None:
    assert "hex" in assert_error(api.client.get(path), 400)


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/blocks?limit=0", "limit"),
        ("/v1/blocks?limit=101", "limit"),
        ("/v1/blocks?limit=-5", "limit"),
        ("/v1/blocks?limit=ten", "limit"),
        ("/v1/blocks?before=-1", "before"),
        (f"/v1/blocks?before={10**30}", "before"),
        ("/v1/blocks/-1", "height"),
        (f"/v1/blocks/{10**30}", "height"),
        ("/v1/blocks/two", "height"),
        (f"/v1/blocks/1?offset={10**30}", "offset"),
        ("/v1/blocks/1?offset=-1", "offset"),
        ("/v1/blocks/1?limit=501", "limit"),
        ("/v1/txs?limit=501", "limit"),
        (f"/v1/txs?before_height={2**64}", "before_height"),
        ("/v1/events?limit=1001", "limit"),
        ("/v1/events?after=-1", "after"),
        (f"/v1/events?after={10**40}", "after"),
        ("/v1/events?from_height=x", "from_height"),
        ("/v1/state/identity?limit=0", "limit"),
        ("/v1/proofs/state/identity/members?format=xml", "format"),
    ],
)
def test_bad_paging_params_name_the_parameter(api: Harness, path: str, param: str) -> None:
    message = assert_error(api.client.get(path), 400, "invalid_request")
    assert f"'{param}'" in message


@pytest.mark.parametrize(
    "did",
    [
        "not-a-did",
        "did:web:example.org",
        "did:key:zNOTBASE58000",
        "did:key:z6Mk",
        MINISTRY.did[:-1],
    ],
)
def test_malformed_did_is_400(api: Harness, did: str) -> None:
    assert_error(api.client.get(f"/v1/accounts/{did}"), 400, "encoding")
    assert_error(api.client.get("/v1/txs", params={"signer": did}), 400, "encoding")


def test_bad_state_keys_are_400(api: Harness) -> None:
    api.submit(
        api.tx(MINISTRY, "propose", {"kind": "set_threshold", "params": {"num": 1, "den": 2}})
    )
    api.block()
    long_key = "k" * 300
    assert_error(api.client.get(f"/v1/state/identity/{long_key}"), 400, "contract_error")
    assert_error(api.client.get("/v1/state/identity/a%20b"), 400, "contract_error")
    assert_error(api.client.get("/v1/proofs/state/identity/%C3%A9"), 400, "contract_error")


def test_unknown_route_and_wrong_method_use_the_error_shape(api: Harness) -> None:
    assert_error(api.client.get("/v2/anything"), 404, "not_found")
    assert_error(api.client.delete("/v1/status"), 405, "method_not_allowed")


def test_declared_content_length_over_the_limit_is_413(small: Harness) -> None:
    response = small.client.post(
        "/v1/txs", content=b"x" * (SMALL_LIMIT + 1), headers={"Content-Type": "application/cbor"}
    )
    assert "limit" in assert_error(response, 413, "body_too_large")


def test_chunked_body_growing_over_the_limit_is_413(small: Harness) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"{" * 8192

    response = small.client.post(
        "/v1/txs", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "transfer-encoding" in {name.lower() for name in response.request.headers}
    assert_error(response, 413, "body_too_large")
    # The node is still fine afterwards.
    assert small.client.get("/v1/status").status_code == 200


def test_blob_limit_is_16_mib_checked_before_reading(small: Harness) -> None:
    # Claim 17 MiB and send nothing: the refusal must come from the header alone.
    url = urlsplit(str(small.client.base_url))
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(
            b"POST /v1/blobs HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/octet-stream\r\n"
            b"Content-Length: %d\r\n\r\n" % (17 << 20)
        )
        reply = b""
        while chunk := conn.recv(65536):  # the 413 closes the connection
            reply += chunk
    reply_text = reply.decode()
    assert reply_text.startswith("HTTP/1.1 413")
    assert json.loads(reply_text.split("\r\n\r\n", 1)[1])["error"]["code"] == "body_too_large"
    # A blob larger than the general request limit is fine on the blob route.
    big = small.client.post("/v1/blobs", content=b"b" * (SMALL_LIMIT * 4))
    assert big.status_code == 201


def test_a_bug_is_a_logged_json_500_without_traceback(
    api: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> dict[str, object]:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(api.node, "status", broken)
    with caplog.at_level(logging.ERROR, logger="salus.api"):
        response = api.client.get("/v1/status")
    message = assert_error(response, 500, "internal_error")
    assert "simulated bug" not in message
    assert any("simulated bug" in (r.exc_text or "") for r in caplog.records)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["tx", "bundle", "txs", "x"]) | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    path=st.sampled_from(["/v1/txs", "/v1/verify", "/v1/txs/batch"]),
    body=st.one_of(
        _json.map(lambda value: ("application/json", json.dumps(value).encode())),
        st.binary(max_size=300).map(lambda raw: ("application/json", raw)),
        st.binary(max_size=300).map(lambda raw: ("application/cbor", raw)),
        _json.map(
            lambda value: (
                "application/json",
                json.dumps({"tx": b64(json.dumps(value).encode())}).encode(),
            )
        ),
    ),
)
def test_random_bodies_never_cause_a_server_error(
    api: Harness, path: str, body: tuple[str, bytes]
) -> None:
    content_type, content = body
    response = api.client.post(path, content=content, headers={"Content-Type": content_type})
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert_error(response, response.status_code)
    else:
        assert isinstance(response.json(), dict)


def test_error_shape_survives_a_client_that_sends_nothing(api: Harness) -> None:
    with httpx.Client(base_url=str(api.client.base_url)) as client:
        response = client.post("/v1/txs/batch")
    assert_error(response, 400, "invalid_request")
