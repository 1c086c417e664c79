"""Capture what a REAL CometBFT says, for the BFT verifier's test vectors.

    .venv/bin/python -m tests.core.vectors.bft.capture     # rewrites tests/core/vectors/bft/

Starts two localhost networks of the pinned CometBFT (``salus.cometbft.binary``) with
the built-in ``kvstore`` app — one validator, and four validators of unequal power
whose set then changes (a fifth validator is added, one power is raised) through
kvstore's ``val=`` transactions — sends a few transactions, and saves, per height,
the RPC JSON of ``/commit``, ``/validators``, ``/block`` and ``/block_results``,
with the CometBFT genesis and a manifest. ``tests/core/test_bft.py`` verifies the
saved data offline, and its ``cometbft``-marked test runs :func:`capture_network`
live, so a drift between CometBFT and ``salus.core.bft`` is caught.

Validator keys are the deterministic test keys of ``tests.support.key`` (so a Salus
genesis naming the same did:keys describes the same set); block times and
signatures come from the live run, so a new capture differs from the committed one
in those bytes only. Processes listen on free 127.0.0.1 ports and are always
terminated (then killed after a timeout) when the capture ends, however it ends.
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
import subprocess
import time
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from salus.core.crypto import Signer, sha256
from tests.support import key

OUT = Path(__file__).parent
GENESIS_TIME = "2026-01-01T00:00:00Z"
_PUBKEY_TYPE = "tendermint/PubKeyEd25519"
_PRIVKEY_TYPE = "tendermint/PrivKeyEd25519"


@dataclass(frozen=True)
class NetworkPlan:
    """What to run: validators (test key number, power), transactions, validator changes."""

    name: str
    chain_id: str
    validators: tuple[tuple[int, int], ...]
    batches: tuple[tuple[bytes, ...], ...]
    # (test key number, new power) sent as kvstore ``val=`` transactions, after the batches
    updates: tuple[tuple[int, int], ...] = ()
    extra_blocks: int = 2


PLANS = (
    NetworkPlan(
        name="one-validator",
        chain_id="salus-bft-one",
        validators=((30, 10),),
        batches=((b"alpha=1",), (b"beta=2", b"gamma=3", b"delta=4")),
    ),
    NetworkPlan(
        name="four-validators",
        chain_id="salus-bft-four",
        # unequal powers, and three equal ones, so CometBFT's order (power desc,
        # then address asc) differs from this listing
        validators=((31, 10), (32, 5), (33, 10), (34, 10)),
        batches=((b"alpha=1",), (b"b1=1", b"b2=2", b"b3=3", b"b4=4", b"b5=5")),
        updates=((35, 1), (32, 8)),
    ),
)


def address(public_key: bytes) -> bytes:
    """CometBFT's address of an Ed25519 key: the first 20 bytes of its SHA-256."""
    return sha256(public_key)[:20]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def cometbft_genesis(plan: NetworkPlan) -> dict[str, Any]:
    """The CometBFT genesis document of ``plan`` (validators in the plan's order)."""
    return {
        "genesis_time": GENESIS_TIME,
        "chain_id": plan.chain_id,
        "initial_height": "1",
        "consensus_params": {
            "block": {"max_bytes": "22020096", "max_gas": "-1"},
            "evidence": {
                "max_age_num_blocks": "100000",
                "max_age_duration": "172800000000000",
                "max_bytes": "1048576",
            },
            "validator": {"pub_key_types": ["ed25519"]},
            "version": {"app": "0"},
            "abci": {"vote_extensions_enable_height": "0"},
        },
        "validators": [
            {
                "address": address(key(n).public_key).hex().upper(),
                "pub_key": {"type": _PUBKEY_TYPE, "value": _b64(key(n).public_key)},
                "power": str(power),
                "name": f"validator-{n}",
            }
            for n, power in plan.validators
        ],
        "app_hash": "",
    }


@dataclass
class Node:
    home: Path
    rpc_port: int
    p2p_port: int
    node_seed: bytes
    process: subprocess.Popen[bytes] | None = None
    log: Any = field(default=None, repr=False)

    @property
    def node_id(self) -> str:
        return address(Signer(self.node_seed).public_key).hex()


def write_home(binary: Path, node: Node, genesis: dict[str, Any], validator: Signer) -> None:
    """A CometBFT home for a kvstore node: ``cometbft init``, then our keys and config."""
    subprocess.run(
        [str(binary), "init", "--home", str(node.home)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    config = node.home / "config"
    _write_json(config / "genesis.json", genesis)
    _write_json(
        config / "priv_validator_key.json",
        {
            "address": address(validator.public_key).hex().upper(),
            "pub_key": {"type": _PUBKEY_TYPE, "value": _b64(validator.public_key)},
            "priv_key": {
                "type": _PRIVKEY_TYPE,
                "value": _b64(validator.seed + validator.public_key),
            },
        },
    )
    node_key = Signer(node.node_seed)
    _write_json(
        config / "node_key.json",
        {"priv_key": {"type": _PRIVKEY_TYPE, "value": _b64(node_key.seed + node_key.public_key)}},
    )


def configure(node: Node, peers: Sequence[Node]) -> None:
    path = node.home / "config" / "config.toml"
    with path.open("rb") as handle:
        config = tomllib.load(handle)
    config["proxy_app"] = "kvstore"
    config["log_level"] = "info"
    config["rpc"]["laddr"] = f"tcp://127.0.0.1:{node.rpc_port}"
    config["p2p"]["laddr"] = f"tcp://127.0.0.1:{node.p2p_port}"
    config["p2p"]["persistent_peers"] = ",".join(
        f"{peer.node_id}@127.0.0.1:{peer.p2p_port}" for peer in peers if peer is not node
    )
    config["p2p"]["addr_book_strict"] = False
    config["p2p"]["allow_duplicate_ip"] = True
    config["p2p"]["pex"] = False
    config["consensus"]["timeout_commit"] = "300ms"
    config["instrumentation"]["prometheus"] = False
    path.write_text(tomli_w.dumps(config), encoding="utf-8")


def rpc(port: int, method: str, timeout: float = 10.0, **params: Any) -> dict[str, Any]:
    """GET ``/method?params`` from a node's RPC; the whole JSON-RPC response."""
    query = urllib.parse.urlencode({k: str(v) for k, v in params.items()})
    url = f"http://127.0.0.1:{port}/{method}" + (f"?{query}" if query else "")
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: dict[str, Any] = json.loads(response.read())
    if "error" in body:
        raise RuntimeError(f"{method} {params}: {body['error']}")
    return body


def broadcast(port: int, tx: bytes, method: str = "broadcast_tx_sync") -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/",
        data=json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": method, "params": {"tx": _b64(tx)}}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body: dict[str, Any] = json.loads(response.read())
    result = body.get("result")
    if result is None or result.get("code", 0) != 0:
        raise RuntimeError(f"{method} of {tx!r} failed: {body}")
    return result


def latest_height(port: int) -> int:
    try:
        return int(rpc(port, "status", timeout=2)["result"]["sync_info"]["latest_block_height"])
    except OSError:
        return 0


def wait_for_height(port: int, height: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while latest_height(port) < height:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the node on RPC port {port} did not reach height {height}")
        time.sleep(0.1)


def stop(nodes: Sequence[Node]) -> None:
    """Terminate every node we started; kill any that does not exit in time."""
    for node in nodes:
        if node.process is not None and node.process.poll() is None:
            node.process.terminate()
    for node in nodes:
        if node.process is not None:
            try:
                node.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(timeout=15)
        if node.log is not None:
            node.log.close()


@contextmanager
def running(binary: Path, plan: NetworkPlan, workdir: Path) -> Iterator[list[Node]]:
    """Start ``plan``'s network in ``workdir``; always stop it on the way out."""
    genesis = cometbft_genesis(plan)
    nodes = [
        Node(
            home=workdir / plan.name / f"node{i}",
            rpc_port=free_port(),
            p2p_port=free_port(),
            node_seed=sha256(f"{plan.name}/node{i}".encode()),
        )
        for i in range(len(plan.validators))
    ]
    try:
        for node, (number, _) in zip(nodes, plan.validators, strict=True):
            write_home(binary, node, genesis, key(number))
            configure(node, nodes)
        for node in nodes:
            node.log = (node.home / "cometbft.log").open("wb")
            node.process = subprocess.Popen(
                [str(binary), "start", "--home", str(node.home)],
                stdout=node.log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            yield nodes
        except (TimeoutError, RuntimeError) as exc:
            raise type(exc)(f"{exc}\n{_log_tails(nodes)}") from exc
    finally:
        stop(nodes)


def _log_tails(nodes: Sequence[Node], lines: int = 15) -> str:
    """The last lines of each node's log, to say why a network did not make progress."""
    tails = []
    for node in nodes:
        log = node.home / "cometbft.log"
        text = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
        tails.append(f"--- {node.home.name} (rpc {node.rpc_port}) ---\n" + "\n".join(text))
    return "\n".join(tails)


def _wait_included(port: int, txs: Sequence[bytes], timeout: float = 60.0) -> int:
    """Height of the last block holding one of ``txs`` (all of them must be committed)."""
    deadline = time.monotonic() + timeout
    heights = []
    for tx in txs:
        while True:
            try:
                found = rpc(port, "tx", hash="0x" + sha256(tx).hex())
                heights.append(int(found["result"]["height"]))
                break
            except (RuntimeError, OSError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"transaction {tx!r} was not committed") from None
                time.sleep(0.1)
    return max(heights)


def capture_network(binary: Path, plan: NetworkPlan, workdir: Path) -> dict[str, Any]:
    """Run ``plan`` and return ``{"genesis", "manifest", "heights": {h: {endpoint: json}}}``."""
    with running(binary, plan, workdir) as nodes:
        port = nodes[0].rpc_port
        wait_for_height(port, 2)
        tx_heights: set[int] = set()
        for batch in plan.batches:
            for tx in batch:
                broadcast(port, tx)
            tx_heights.add(_wait_included(port, batch))
        update_heights: set[int] = set()
        for number, power in plan.updates:
            tx = f"val=ed25519!{_b64(key(number).public_key)}!{power}".encode()
            broadcast(port, tx)
            update_heights.add(_wait_included(port, [tx]))
        # a change sent in block H is in the validator set of H + 2; one more block so
        # that its commit exists too, and the result of every tx block is in a header
        last = max(tx_heights | update_heights) + 2 + plan.extra_blocks
        wait_for_height(port, last + 1)
        heights: dict[str, dict[str, Any]] = {}
        for height in range(1, last + 1):
            heights[str(height)] = {
                endpoint: rpc(port, endpoint, height=height)
                for endpoint in ("commit", "validators", "block", "block_results")
            }
    manifest = {
        "cometbft": rpc_version(binary),
        "chain_id": plan.chain_id,
        "validators": [
            {"test_key": n, "public_key": key(n).public_key.hex(), "power": p}
            for n, p in plan.validators
        ],
        "tx_heights": sorted(tx_heights),
        "update_txs": [
            {"test_key": n, "public_key": key(n).public_key.hex(), "power": p}
            for n, p in plan.updates
        ],
        "update_heights": sorted(update_heights),
        "heights": [1, last],
    }
    return {"genesis": cometbft_genesis(plan), "manifest": manifest, "heights": heights}


def rpc_version(binary: Path) -> str:
    result = subprocess.run(
        [str(binary), "version"], capture_output=True, text=True, check=True, timeout=20
    )
    return result.stdout.strip()


def save(capture: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    _write_json(folder / "genesis.json", capture["genesis"])
    _write_json(folder / "manifest.json", capture["manifest"])
    for height, endpoints in capture["heights"].items():
        _write_json(folder / f"height-{int(height):03d}.json", endpoints)


def load(folder: Path) -> dict[str, Any]:
    """Read a saved capture back in the shape :func:`capture_network` returns."""
    heights = {
        str(int(path.stem.removeprefix("height-"))): json.loads(path.read_text())
        for path in sorted(folder.glob("height-*.json"))
    }
    return {
        "genesis": json.loads((folder / "genesis.json").read_text()),
        "manifest": json.loads((folder / "manifest.json").read_text()),
        "heights": heights,
    }


def main() -> None:
    import tempfile

    from salus.cometbft.binary import find_cometbft

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    binary = find_cometbft(Path(__file__).resolve().parent)
    with tempfile.TemporaryDirectory(prefix="salus-bft-capture-") as workdir:
        for plan in PLANS:
            save(capture_network(binary, plan, Path(workdir)), args.out / plan.name)
            print(f"captured {plan.name} into {args.out / plan.name}")


if __name__ == "__main__":
    main()
