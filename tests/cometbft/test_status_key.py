"""Signed status lists on CometBFT: a validator's node signs with its validator key."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from salus.apps.learning.credentials import decode_vc_jwt, verify_status_list_jwt
from salus.client import SalusClient
from salus.cometbft.home import NodePorts
from salus.cometbft.runner import (
    CometNode,
    CometNodeHome,
    _validator_status_key,
    create_cometbft_home,
    read_validator_key,
)
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.errors import SalusError
from salus.node import Node, SqliteStore
from tests.cometbft.network import free_port_block
from tests.support import genesis_data, key

VALIDATOR, ACCREDITOR, SCHOOL = key(9), key(3), key(40)
JWT = {"Accept": "application/vc+jwt"}


def _genesis() -> Genesis:
    data = genesis_data(3, chain_id="salus-status-key")
    data["consortium"]["organisations"][2]["roles"] = ["accreditor"]
    return Genesis.from_data(data)


def _key_file(path: Path, signer: Signer, *, public: bytes | None = None) -> None:
    """A ``priv_validator_key.json`` as CometBFT writes it (amino-JSON)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    b64 = base64.b64encode
    path.write_text(
        json.dumps(
            {
                "address": "00" * 20,
                "pub_key": {
                    "type": "tendermint/PubKeyEd25519",
                    "value": b64(public or signer.public_key).decode(),
                },
                "priv_key": {
                    "type": "tendermint/PrivKeyEd25519",
                    "value": b64(signer.seed + signer.public_key).decode(),
                },
            }
        )
    )


def test_read_validator_key(tmp_path: Path) -> None:
    path = tmp_path / "priv_validator_key.json"
    assert read_validator_key(path) is None
    _key_file(path, VALIDATOR)
    read = read_validator_key(path)
    assert read is not None and read.did == VALIDATOR.did
    _key_file(path, VALIDATOR, public=key(10).public_key)
    with pytest.raises(SalusError, match="does not match its public key"):
        read_validator_key(path)
    path.write_text(path.read_text().replace("PrivKeyEd25519", "PrivKeySecp256k1"))
    with pytest.raises(SalusError, match="not an Ed25519 one"):
        read_validator_key(path)
    path.write_text("{}")
    with pytest.raises(SalusError, match="not a CometBFT validator key file"):
        read_validator_key(path)
    path.write_text("not json")
    with pytest.raises(SalusError, match="cannot read the validator key"):
        read_validator_key(path)


def test_only_a_validators_key_publishes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    genesis = _genesis()
    layout = CometNodeHome(tmp_path / "home")
    node = Node(genesis, SqliteStore(tmp_path / "ledger.sqlite"), None)
    try:
        assert _validator_status_key(layout, node) is None  # no key file at all
        _key_file(layout.cometbft_validator_key_path, VALIDATOR)
        chosen = _validator_status_key(layout, node)
        assert chosen is not None and chosen.did == VALIDATOR.did
        # A full node's random key is no one's: it signs nothing.
        _key_file(layout.cometbft_validator_key_path, key(77))
        assert _validator_status_key(layout, node) is None
        layout.cometbft_validator_key_path.write_text("{}")
        with caplog.at_level(logging.WARNING, logger="salus.cometbft"):
            assert _validator_status_key(layout, node) is None
        assert "status lists will not be signed" in caplog.text
    finally:
        node.close()


@contextmanager
def comet_node(
    root: Path, binary: Path, validator: Signer | None, *, status_key: Signer | None = None
) -> Iterator[CometNode]:
    """One CometBFT node of ``_genesis()``, laid out as ``salus node --engine cometbft`` does."""
    genesis = _genesis()
    root.mkdir(parents=True)
    (root / "genesis.json").write_text(genesis.to_json())
    base, api = free_port_block(1)
    create_cometbft_home(
        root,
        genesis,
        validator,
        NodePorts(base, base + 1, base + 2),
        binary=binary,
        moniker=root.name,
        timeout_commit_ms=100,
    )
    node = CometNode(root, binary=binary, port=api, status_key=status_key)
    try:
        node.start()
        yield node
    finally:
        node.stop()


@pytest.mark.cometbft
@pytest.mark.slow
def test_a_validators_node_serves_signed_status_lists(
    tmp_path: Path, cometbft_binary: Path
) -> None:
    with comet_node(tmp_path / "validator", cometbft_binary, VALIDATOR) as node:
        assert node.status_signer is not None and node.status_signer.did == VALIDATOR.did
        with SalusClient(node.url, timeout=30) as client:
            args = {"issuer": SCHOOL.did, "name": "Open School"}
            sent = client.send(ACCREDITOR, "learning", "accredit_issuer", args)
            assert client.wait_for(sent["id"], timeout=30)["status"] == "committed"
        path = f"/v1/learning/issuers/{SCHOOL.did}/status-list/revocation"
        response = httpx.get(node.url + path, headers=JWT, timeout=30)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/vc+jwt")
        checked = verify_status_list_jwt(
            response.text,
            list_url=node.url + path,
            purpose="revocation",
            publishers={validator.did for validator in _genesis().validators},
        )
        assert checked.credential["issuer"] == VALIDATOR.did
        assert decode_vc_jwt(response.text)[1]["salus_height"] >= 1


@pytest.mark.cometbft
@pytest.mark.slow
def test_a_full_node_signs_only_with_a_key_it_is_given(
    tmp_path: Path, cometbft_binary: Path
) -> None:
    path = f"/v1/learning/issuers/{SCHOOL.did}/status-list/revocation"
    with comet_node(tmp_path / "full", cometbft_binary, None) as node:
        assert node.status_signer is None
        response = httpx.get(node.url + path, headers=JWT, timeout=30)
        assert response.status_code == 406
        assert "not a validator's node" in response.json()["error"]["message"]
    publisher = key(50)
    with comet_node(tmp_path / "given", cometbft_binary, None, status_key=publisher) as node:
        assert node.status_signer is publisher
        # Signed, once there is an issuer: this lone full node makes no blocks, so 404.
        response = httpx.get(node.url + path, headers=JWT, timeout=30)
        assert response.status_code == 404
        assert "is not an issuer" in response.json()["error"]["message"]
