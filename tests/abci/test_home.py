"""CometBFT node homes from a Salus network, without the binary (known answers from it)."""

from __future__ import annotations

import base64
import json
import tomllib
from pathlib import Path

import pytest

from salus.cometbft.home import (
    NodePorts,
    cometbft_address,
    cometbft_genesis,
    node_id,
    rfc3339_from_ms,
    write_cometbft_home,
)
from salus.core.crypto import Signer
from tests.abci.helpers import VALIDATOR, make_genesis

# Known answers printed by CometBFT v0.38.26 itself:
#   `cometbft init` wrote a key whose pub_key value is 48Z+rJVP9Xqj...=, address 2FFE27B9...;
#   `cometbft show-node-id` on a home whose node_key.json this module wrote from the
#   seed 0x05 * 32 printed 7599776c...
KNOWN_PUBKEY = "48Z+rJVP9Xqj7wPzMODCATRdOJ7rmGuZc2ZUrl5tG/g="
KNOWN_ADDRESS = "2FFE27B970B4924CBC49B6A5568D894CC457F386"
KNOWN_NODE_ID = "7599776c3085e3f9da0d13071eb0b4ab50fd2bf6"

PORTS = NodePorts(p2p=26656, rpc=26657, abci=26658)
NO_BINARY = Path("/nonexistent/cometbft")


def test_known_answers() -> None:
    assert cometbft_address(base64.b64decode(KNOWN_PUBKEY)).hex().upper() == KNOWN_ADDRESS
    assert node_id(b"\x05" * 32) == KNOWN_NODE_ID
    with pytest.raises(ValueError, match="32 bytes"):
        cometbft_address(b"\x00" * 33)


@pytest.mark.parametrize(
    ("time_ms", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (1_600_000_000_000, "2020-09-13T12:26:40Z"),
        (1_600_000_000_500, "2020-09-13T12:26:40.5Z"),  # Go's RFC3339Nano trims zeros
        (1_600_000_000_123, "2020-09-13T12:26:40.123Z"),
        (1_600_000_000_010, "2020-09-13T12:26:40.01Z"),
    ],
)
def test_rfc3339(time_ms: int, text: str) -> None:
    assert rfc3339_from_ms(time_ms) == text


def test_genesis_document() -> None:
    genesis = make_genesis()
    document = cometbft_genesis(genesis)
    assert document["chain_id"] == "salus-test"
    assert document["genesis_time"] == "2020-09-13T12:26:40Z"
    assert document["initial_height"] == "1"
    assert document["app_hash"] == ""
    assert document["consensus_params"]["version"] == {"app": "1"}
    assert document["consensus_params"]["validator"] == {"pub_key_types": ["ed25519"]}
    assert document["validators"] == [
        {
            "address": cometbft_address(VALIDATOR.public_key).hex().upper(),
            "pub_key": {
                "type": "tendermint/PubKeyEd25519",
                "value": base64.b64encode(VALIDATOR.public_key).decode(),
            },
            "power": "10",
            "name": "validator-1",
        }
    ]


def _prepared_home(path: Path) -> Path:
    """A home as `cometbft init` leaves it (the parts this module reads)."""
    (path / "config").mkdir(parents=True)
    (path / "data").mkdir()
    (path / "config" / "config.toml").write_text(
        'proxy_app = "tcp://127.0.0.1:26658"\nmoniker = "init"\n'
        '[rpc]\nladdr = "tcp://127.0.0.1:26657"\n'
        '[p2p]\nladdr = "tcp://0.0.0.0:26656"\npersistent_peers = ""\n'
        "addr_book_strict = true\nallow_duplicate_ip = false\n"
        '[consensus]\ntimeout_commit = "1s"\n[mempool]\nsize = 5000\n'
    )
    return path


def test_write_home_sets_keys_genesis_and_config(tmp_path: Path) -> None:
    home = _prepared_home(tmp_path / "node")
    genesis = make_genesis()
    peer = write_cometbft_home(
        home,
        genesis,
        VALIDATOR,
        b"\x05" * 32,
        PORTS,
        binary=NO_BINARY,  # not called: the home exists
        moniker="red-cross",
        persistent_peers=["aa@127.0.0.1:1", "bb@127.0.0.1:2"],
        timeout_commit_ms=250,
        extra_config={"mempool": {"size": 50_000}, "": {"log_level": "warn"}},
    )
    assert peer == f"{KNOWN_NODE_ID}@127.0.0.1:26656"

    config = tomllib.loads((home / "config" / "config.toml").read_text())
    assert config["proxy_app"] == "tcp://127.0.0.1:26658"
    assert config["moniker"] == "red-cross"
    assert config["log_level"] == "warn"
    assert config["rpc"]["laddr"] == "tcp://127.0.0.1:26657"
    assert config["p2p"] == {
        "laddr": "tcp://127.0.0.1:26656",
        "persistent_peers": "aa@127.0.0.1:1,bb@127.0.0.1:2",
        "addr_book_strict": False,
        "allow_duplicate_ip": True,
    }
    assert config["consensus"]["timeout_commit"] == "250ms"
    assert config["mempool"]["size"] == 50_000

    key_file = json.loads((home / "config" / "priv_validator_key.json").read_text())
    raw = base64.b64decode(key_file["priv_key"]["value"])
    assert raw == VALIDATOR.seed + VALIDATOR.public_key  # Go's ed25519 private key layout
    assert key_file["address"] == cometbft_address(VALIDATOR.public_key).hex().upper()
    node_key = json.loads((home / "config" / "node_key.json").read_text())
    assert base64.b64decode(node_key["priv_key"]["value"])[:32] == b"\x05" * 32
    genesis_file = json.loads((home / "config" / "genesis.json").read_text())
    assert genesis_file == cometbft_genesis(genesis)
    assert json.loads((home / "data" / "priv_validator_state.json").read_text()) == {
        "height": "0",
        "round": 0,
        "step": 0,
    }


def test_rewriting_a_home_keeps_the_double_sign_guard(tmp_path: Path) -> None:
    home = _prepared_home(tmp_path / "node")
    state = home / "data" / "priv_validator_state.json"
    signed = {"height": "42", "round": 0, "step": 3}
    state.write_text(json.dumps(signed))
    write_cometbft_home(
        home, make_genesis(), VALIDATOR, b"\x01" * 32, PORTS, binary=NO_BINARY, moniker="n"
    )
    assert json.loads(state.read_text()) == signed


def test_non_validator_keeps_its_own_key(tmp_path: Path) -> None:
    home = _prepared_home(tmp_path / "node")
    existing = {"address": "X", "note": "written by cometbft init"}
    (home / "config" / "priv_validator_key.json").write_text(json.dumps(existing))
    write_cometbft_home(
        home, make_genesis(), None, b"\x01" * 32, PORTS, binary=NO_BINARY, moniker="observer"
    )
    assert json.loads((home / "config" / "priv_validator_key.json").read_text()) == existing


def test_node_ids_differ_per_seed() -> None:
    assert node_id(b"\x01" * 32) != node_id(b"\x02" * 32)
    assert node_id(b"\x01" * 32) == cometbft_address(Signer(b"\x01" * 32).public_key).hex()


def test_missing_binary_is_reported(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="nonexistent"):
        write_cometbft_home(
            tmp_path / "fresh", make_genesis(), VALIDATOR, b"\x01" * 32, PORTS,
            binary=NO_BINARY, moniker="n",
        )  # fmt: skip


def test_a_former_validator_home_loses_the_validator_key(tmp_path: Path) -> None:
    home = _prepared_home(tmp_path / "node")
    genesis = make_genesis()
    seed = b"\x01" * 32
    write_cometbft_home(home, genesis, VALIDATOR, seed, PORTS, binary=NO_BINARY, moniker="v")
    write_cometbft_home(home, genesis, None, seed, PORTS, binary=NO_BINARY, moniker="o")
    key_file = json.loads((home / "config" / "priv_validator_key.json").read_text())
    public_key = base64.b64decode(key_file["pub_key"]["value"])
    assert public_key != VALIDATOR.public_key
    assert not genesis.is_validator(public_key)
