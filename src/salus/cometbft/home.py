"""Turn a Salus network into CometBFT node homes.

Rules this module obeys:
- The CometBFT validator key IS the Salus validator key: ``priv_validator_key.json``
  is written from the validator's :class:`~salus.core.crypto.Signer`, so the key that
  signs CometBFT votes is the one named in the Salus genesis, and a verifier holding
  only the Salus genesis knows the validator set that signs commits.
- Everything is derived deterministically from its inputs (genesis, validator key,
  node-key seed, ports), except a non-validator's private validator key, which
  ``cometbft init`` draws at random and which never signs anything. A home that
  held a genesis validator's key and is rewritten as a non-validator gets a fresh
  random key, so one key never signs from two processes.
- ``priv_validator_state.json`` (the double-sign guard: last height, round and step
  signed) is never overwritten; writing a home twice must not let a validator sign
  a height again.
- JSON shapes are CometBFT v0.38's amino-JSON as ``cometbft init`` writes them:
  64-bit integers as strings, keys as ``{"type": "tendermint/...", "value": base64}``.
  ``tests/abci/test_cometbft_single.py`` checks them against the real binary
  (``show-node-id``, ``show-validator``, ``start``).

Addresses (CometBFT ``crypto/ed25519``): an Ed25519 key's address is the first 20
bytes of SHA-256 of the 32-byte public key; a node id is that address of the node
key, in lower-case hex.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tomli_w

from salus.core.crypto import Signer, sha256
from salus.core.genesis import Genesis
from salus.keys import new_signer

__all__ = [
    "ABCI_APP_VERSION",
    "NodePorts",
    "cometbft_address",
    "cometbft_genesis",
    "node_id",
    "rfc3339_from_ms",
    "write_cometbft_home",
]

# The application protocol version the Salus ABCI app reports in Info; CometBFT puts
# it in every header (``version.app``), so the genesis consensus params carry it too.
ABCI_APP_VERSION = 1

_PUBKEY_TYPE = "tendermint/PubKeyEd25519"
_PRIVKEY_TYPE = "tendermint/PrivKeyEd25519"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class NodePorts:
    """The three TCP ports of one node (all on the node's host, 127.0.0.1 by default)."""

    p2p: int
    rpc: int
    abci: int


def cometbft_address(public_key: bytes) -> bytes:
    """CometBFT's address of an Ed25519 public key: SHA-256(key)[:20]."""
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return sha256(public_key)[:20]


def node_id(node_key_seed: bytes) -> str:
    """The p2p node id of the node key made from ``node_key_seed`` (lower-case hex)."""
    return cometbft_address(Signer(node_key_seed).public_key).hex()


def rfc3339_from_ms(time_ms: int) -> str:
    """A millisecond Unix time as RFC 3339 in UTC, as Go's ``time.RFC3339Nano`` prints it."""
    moment = _EPOCH + timedelta(milliseconds=time_ms)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = time_ms % 1000
    if millis:
        text += f".{millis:03d}".rstrip("0")
    return text + "Z"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _pub_key_json(public_key: bytes) -> dict[str, str]:
    return {"type": _PUBKEY_TYPE, "value": _b64(public_key)}


def _priv_key_json(signer: Signer) -> dict[str, str]:
    # Go's ed25519.PrivateKey is seed || public key (64 bytes).
    return {"type": _PRIVKEY_TYPE, "value": _b64(signer.seed + signer.public_key)}


def cometbft_genesis(genesis: Genesis) -> dict[str, Any]:
    """The content of CometBFT's ``config/genesis.json`` for a Salus genesis.

    The validator set is the Salus genesis validators, in the Salus order; the app
    hash is empty (the app answers InitChain with the genesis state root).
    """
    return {
        "genesis_time": rfc3339_from_ms(genesis.genesis_time_ms),
        "chain_id": genesis.chain_id,
        "initial_height": "1",
        # CometBFT v0.38 defaults (types.DefaultConsensusParams), spelled out so the
        # document is complete on its own; the app version is the Salus app's.
        "consensus_params": {
            "block": {"max_bytes": "22020096", "max_gas": "-1"},
            "evidence": {
                "max_age_num_blocks": "100000",
                "max_age_duration": "172800000000000",
                "max_bytes": "1048576",
            },
            "validator": {"pub_key_types": ["ed25519"]},
            "version": {"app": str(ABCI_APP_VERSION)},
            "abci": {"vote_extensions_enable_height": "0"},
        },
        "validators": [
            {
                "address": cometbft_address(v.public_key).hex().upper(),
                "pub_key": _pub_key_json(v.public_key),
                "power": str(v.power),
                "name": v.name,
            }
            for v in genesis.validators
        ],
        "app_hash": "",
    }


def _write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, atomically (temporary file, then rename)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _holds_genesis_validator_key(key_file: Path, genesis: Genesis) -> bool:
    try:
        value = json.loads(key_file.read_text(encoding="utf-8"))["pub_key"]["value"]
        public_key = base64.b64decode(value)
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return genesis.is_validator(public_key)


def write_cometbft_home(
    path: Path,
    genesis: Genesis,
    validator: Signer | None,
    node_key_seed: bytes,
    ports: NodePorts,
    *,
    binary: Path,
    moniker: str,
    persistent_peers: list[str] | None = None,
    host: str = "127.0.0.1",
    timeout_commit_ms: int = 500,
    extra_config: dict[str, Any] | None = None,
) -> str:
    """Create or update the CometBFT home at ``path``; return ``<node id>@host:p2p``.

    ``cometbft init`` runs once, for the directory layout and the full default
    ``config.toml``; then genesis, keys and the config values Salus cares about are
    (over)written. ``extra_config`` maps a section (``""`` for top-level keys) to
    ``{key: value}`` overrides, e.g. ``{"mempool": {"size": 50000}}``.
    """
    path = Path(path)
    config_dir = path / "config"
    if not (config_dir / "config.toml").is_file():
        result = subprocess.run(
            [str(binary), "init", "--home", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"'cometbft init --home {path}' failed: {result.stderr.strip()}")

    _write_json(config_dir / "genesis.json", cometbft_genesis(genesis))
    key_file = config_dir / "priv_validator_key.json"
    if validator is None and _holds_genesis_validator_key(key_file, genesis):
        # This home signed as a validator before; a non-validator must not keep that
        # key (two processes signing with one key is double signing).
        validator = new_signer()
    if validator is not None:
        _write_json(
            key_file,
            {
                "address": cometbft_address(validator.public_key).hex().upper(),
                "pub_key": _pub_key_json(validator.public_key),
                "priv_key": _priv_key_json(validator),
            },
        )
    state_file = path / "data" / "priv_validator_state.json"
    if not state_file.exists():
        state_file.parent.mkdir(parents=True, exist_ok=True)
        _write_json(state_file, {"height": "0", "round": 0, "step": 0})
    _write_json(config_dir / "node_key.json", {"priv_key": _priv_key_json(Signer(node_key_seed))})

    config_file = config_dir / "config.toml"
    with config_file.open("rb") as handle:
        config = tomllib.load(handle)
    config["moniker"] = moniker
    config["proxy_app"] = f"tcp://{host}:{ports.abci}"
    config["abci"] = "socket"
    config.setdefault("rpc", {})["laddr"] = f"tcp://{host}:{ports.rpc}"
    p2p = config.setdefault("p2p", {})
    p2p["laddr"] = f"tcp://{host}:{ports.p2p}"
    p2p["persistent_peers"] = ",".join(persistent_peers or [])
    p2p["addr_book_strict"] = False
    p2p["allow_duplicate_ip"] = True
    config.setdefault("consensus", {})["timeout_commit"] = f"{timeout_commit_ms}ms"
    for section, values in (extra_config or {}).items():
        target = config if section == "" else config.setdefault(section, {})
        target.update(values)
    temporary = config_file.with_name("config.toml.tmp")
    temporary.write_text(tomli_w.dumps(config), encoding="utf-8")
    os.replace(temporary, config_file)
    return f"{node_id(node_key_seed)}@{host}:{ports.p2p}"
