"""A local multi-organisation network: N validators on 127.0.0.1, each a process pair.

Layout of a testnet directory (``salus testnet up --dir DIR``)::

    DIR/testnet.json               what was created: chain id, nodes, ports, node ids
    DIR/genesis.json               the network's genesis (verifiers need only this)
    DIR/keys/<org>.key             each organisation's key (encrypted)
    DIR/keys/<org>-validator.key   each organisation's validator key (encrypted)
    DIR/nodes/<org>/               that organisation's Salus home (see salus.cometbft.runner):
                                   genesis.json, keys/, data/, cometbft/
    DIR/logs/<org>.log             the node process's output
    DIR/run/<org>.pid              the node process's pid while it runs

Rules this module obeys:
- The validator set is the genesis consortium: organisation *i* owns validator *i*,
  and the CometBFT validator key is that Salus validator key.
- Ports are distinct per node and checked free before anything starts: node *i*
  uses ``base_port + 10*i`` (p2p), ``+1`` (CometBFT RPC), ``+2`` (ABCI), and the
  Salus HTTP API on ``api_port + i``.
- Every process is started detached (its own session) with its pid written down,
  and stopped by that pid only, after checking that the pid still runs a command
  naming this node's home (a recycled pid is never signalled): SIGTERM, then
  SIGKILL after a grace period.
- ``app="kvstore"`` runs the same layout with CometBFT's built-in kvstore app
  instead of Salus (the engine's own ceiling, for the benchmark).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from salus.cometbft.home import NodePorts, node_id
from salus.cometbft.rpc import CometBFTError, CometRPC
from salus.cometbft.runner import CometNodeHome, create_cometbft_home
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.errors import SalusError
from salus.keys import new_signer
from salus.keystore import Strength, save_key

__all__ = [
    "ORGANISATION_NAMES",
    "TESTNET_PASSPHRASE",
    "NodeStatus",
    "Testnet",
    "TestnetNode",
    "create_testnet",
]

TESTNET_PASSPHRASE = "testnet"
MANIFEST = "testnet.json"
# (id, display name, roles) of the founding organisations, one validator each.
ORGANISATION_NAMES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("health-ministry", "Health Ministry", ("admin",)),
    ("city-hospital", "City Hospital", ()),
    ("red-cross", "Red Cross", ()),
    ("city-lab", "City Laboratory", ()),
    ("supply-coop", "Supply Cooperative", ()),
    ("mutual-aid", "Mutual Aid Plan", ()),
    ("relief-bank", "Relief Bank", ()),
)
App = Literal["salus", "kvstore"]


def _organisation(index: int) -> tuple[str, str, tuple[str, ...]]:
    if index < len(ORGANISATION_NAMES):
        return ORGANISATION_NAMES[index]
    return (f"org-{index + 1}", f"Organisation {index + 1}", ())


@dataclass(frozen=True, slots=True)
class TestnetNode:
    """One organisation's node in a testnet."""

    name: str
    home: Path
    ports: NodePorts
    api_port: int
    node_id: str

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rpc}"

    @property
    def peer_address(self) -> str:
        return f"{self.node_id}@127.0.0.1:{self.ports.p2p}"

    @property
    def layout(self) -> CometNodeHome:
        return CometNodeHome(self.home)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "home": str(self.home),
            "p2p_port": self.ports.p2p,
            "rpc_port": self.ports.rpc,
            "abci_port": self.ports.abci,
            "api_port": self.api_port,
            "node_id": self.node_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TestnetNode:
        return cls(
            name=str(data["name"]),
            home=Path(data["home"]),
            ports=NodePorts(int(data["p2p_port"]), int(data["rpc_port"]), int(data["abci_port"])),
            api_port=int(data["api_port"]),
            node_id=str(data["node_id"]),
        )


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """What one node says about itself (``None`` where it did not answer)."""

    name: str
    running: bool
    height: int | None = None
    app_hash: str | None = None
    catching_up: bool | None = None
    peers: int | None = None
    salus_height: int | None = None
    state_root: str | None = None
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "running": self.running,
            "height": self.height,
            "app_hash": self.app_hash,
            "catching_up": self.catching_up,
            "peers": self.peers,
            "salus_height": self.salus_height,
            "state_root": self.state_root,
            "error": self.error,
        }


@dataclass
class Testnet:
    """A testnet directory: its nodes, and the processes this object started."""

    root: Path
    chain_id: str
    nodes: list[TestnetNode]
    binary: Path
    app: App = "salus"

    # -- the directory ------------------------------------------------------------------

    @property
    def genesis_path(self) -> Path:
        return self.root / "genesis.json"

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    def log_path(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    def pid_path(self, name: str) -> Path:
        return self.root / "run" / f"{name}.pid"

    def node(self, name_or_index: str | int) -> TestnetNode:
        if isinstance(name_or_index, int):
            return self.nodes[name_or_index]
        for node in self.nodes:
            if node.name == name_or_index:
                return node
        known = ", ".join(node.name for node in self.nodes)
        raise SalusError(f"the testnet has no node {name_or_index!r} (nodes: {known})")

    def save(self) -> None:
        manifest = {
            "chain_id": self.chain_id,
            "app": self.app,
            "binary": str(self.binary),
            "nodes": [node.to_json() for node in self.nodes],
        }
        temporary = self.root / (MANIFEST + ".tmp")
        temporary.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, self.root / MANIFEST)

    @classmethod
    def load(cls, root: Path) -> Testnet:
        """The testnet in ``root``; :class:`SalusError` when there is none."""
        path = root / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SalusError(
                f"there is no testnet in {root} ({path} is missing); create one with "
                f"'salus testnet up --dir {root}'"
            ) from None
        except (OSError, ValueError) as exc:
            raise SalusError(f"cannot read {path}: {exc}") from None
        return cls(
            root=root,
            chain_id=str(data["chain_id"]),
            nodes=[TestnetNode.from_json(item) for item in data["nodes"]],
            binary=Path(data["binary"]),
            app="kvstore" if data.get("app") == "kvstore" else "salus",
        )

    def add_node(
        self,
        name: str,
        validator: Signer | None,
        *,
        ports: NodePorts,
        api_port: int,
        timeout_commit_ms: int = 500,
        extra_config: dict[str, dict[str, Any]] | None = None,
    ) -> TestnetNode:
        """Write the home of a node joining the network later (not started).

        It gets the genesis and a CometBFT home peered with every existing node.
        With ``validator`` its CometBFT signs with that key once governance has
        added it to the validator set (``add_validator``); until then, and without
        one, it is a full node that follows the chain.
        """
        if any(node.name == name for node in self.nodes):
            raise SalusError(f"the testnet already has a node {name!r}")
        _check_ports_free([ports.p2p, ports.rpc, ports.abci, api_port])
        genesis = Genesis.from_json(self.genesis_path.read_bytes())
        home = self.root / "nodes" / name
        (home / "keys").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.genesis_path, home / "genesis.json")
        seed = os.urandom(32)
        create_cometbft_home(
            home,
            genesis,
            validator,
            ports,
            binary=self.binary,
            moniker=name,
            persistent_peers=[node.peer_address for node in self.nodes],
            node_key_seed=seed,
            timeout_commit_ms=timeout_commit_ms,
            extra_config=_app_config(self.app, extra_config),
        )
        node = TestnetNode(name, home, ports, api_port, node_id(seed))
        self.nodes.append(node)
        self.save()
        return node

    # -- processes ------------------------------------------------------------------------

    def command(self, node: TestnetNode) -> list[str]:
        """The command that runs ``node`` (a Salus process pair, or bare kvstore CometBFT)."""
        if self.app == "kvstore":
            return [str(self.binary), "start", "--home", str(node.layout.cometbft_home)]
        return [
            sys.executable,
            "-m",
            "salus.cli",
            "node",
            "--engine",
            "cometbft",
            "--home",
            str(node.home),
            "--port",
            str(node.api_port),
            "--cometbft",
            str(self.binary),
        ]

    def start(self, names: Sequence[str] | None = None, *, wait: float = 60.0) -> None:
        """Start the named nodes (default: every node not running); wait until they answer."""
        chosen = [self.node(n) for n in names] if names is not None else self.nodes
        for node in chosen:
            if self.pid_of(node.name) is None:
                self._spawn(node)
        if wait:
            self.wait_ready([node.name for node in chosen], timeout=wait)

    def _spawn(self, node: TestnetNode) -> None:
        """Start ``node``'s process detached: its own session, output to its log.

        ``posix_spawn`` rather than ``subprocess``: the process must outlive this
        one (``salus testnet up`` returns at once), so nothing here may own it. A
        daemon thread reaps it should it end while this process still runs.
        """
        log = self.log_path(node.name)
        log.parent.mkdir(parents=True, exist_ok=True)
        self.pid_path(node.name).parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k != "SALUS_PASSPHRASE"}
        argv = self.command(node)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        pid = os.posix_spawn(
            argv[0],
            argv,
            env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, str(log), flags, 0o644),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ],
            setsid=True,
        )
        self.pid_path(node.name).write_text(f"{pid}\n")
        threading.Thread(target=_reap, args=(pid,), name=f"reap-{pid}", daemon=True).start()

    def wait_ready(self, names: Sequence[str] | None = None, *, timeout: float = 60.0) -> None:
        """Wait until each named node's CometBFT RPC (and Salus API) answers."""
        deadline = time.monotonic() + timeout
        for node in [self.node(n) for n in names] if names is not None else self.nodes:
            while True:
                problem = self._not_ready(node)
                if problem is None:
                    break
                if self.pid_of(node.name) is None:
                    raise SalusError(
                        f"node {node.name} exited at start-up; see {self.log_path(node.name)}"
                    )
                if time.monotonic() > deadline:
                    raise SalusError(
                        f"node {node.name} is not ready after {timeout:g} s ({problem}); "
                        f"see {self.log_path(node.name)}"
                    )
                time.sleep(0.2)

    def _not_ready(self, node: TestnetNode) -> str | None:
        try:
            with CometRPC(node.rpc_url, timeout=2) as rpc:
                rpc.status()
        except CometBFTError as exc:
            return exc.reason
        if self.app == "salus":
            try:
                httpx.get(node.api_url + "/v1/status", timeout=2).raise_for_status()
            except httpx.HTTPError as exc:
                return f"Salus API: {exc}"
        return None

    def pid_of(self, name: str) -> int | None:
        """The pid of the node's process if it is still running, else ``None``."""
        node = self.node(name)
        pid = _read_pid(self.pid_path(name))
        marker = str(node.layout.cometbft_home if self.app == "kvstore" else node.home)
        if pid is None or not _runs(pid, marker):
            return None
        return pid

    def running(self, name: str) -> bool:
        return self.pid_of(name) is not None

    def stop_node(self, name: str, *, sig: int = signal.SIGTERM, grace: float = 30.0) -> None:
        """Stop one node's process (``sig``, then SIGKILL after ``grace``), by pid only."""
        node = self.node(name)
        pid = self.pid_of(name)
        if pid is not None:
            _signal_and_wait(pid, sig, grace)
        self.pid_path(name).unlink(missing_ok=True)
        # A Salus process killed hard leaves its CometBFT child behind: stop it too.
        if self.app == "salus":
            child_pid = _read_pid(node.layout.cometbft_pid)
            if child_pid is not None and _runs(child_pid, str(node.layout.cometbft_home)):
                _signal_and_wait(child_pid, signal.SIGTERM, grace)
            node.layout.cometbft_pid.unlink(missing_ok=True)

    def kill_node(self, name: str) -> None:
        """SIGKILL a node's Salus process and its CometBFT (a crash, for fault tests)."""
        node = self.node(name)
        child_pid = _read_pid(node.layout.cometbft_pid) if self.app == "salus" else None
        self.stop_node(name, sig=signal.SIGKILL, grace=10)
        if child_pid is not None and _runs(child_pid, str(node.layout.cometbft_home)):
            _signal_and_wait(child_pid, signal.SIGKILL, 10)

    def stop(self) -> None:
        """Stop every node this directory records (those not running are skipped)."""
        for node in self.nodes:
            self.stop_node(node.name)

    def wipe_salus_state(self, name: str) -> None:
        """Delete a stopped node's Salus ledger (CometBFT keeps its blocks and replays them)."""
        if self.running(name):
            raise SalusError(f"stop node {name} before wiping its state")
        shutil.rmtree(self.node(name).layout.data_dir, ignore_errors=True)

    # -- observing ------------------------------------------------------------------------

    def rpc(self, name: str, timeout: float = 10.0) -> CometRPC:
        return CometRPC(self.node(name).rpc_url, timeout=timeout)

    def node_status(self, node: TestnetNode) -> NodeStatus:
        if not self.running(node.name):
            return NodeStatus(node.name, False)
        values: dict[str, Any] = {}
        errors = []
        try:
            with CometRPC(node.rpc_url, timeout=3) as rpc:
                sync = rpc.status()["sync_info"]
                values.update(
                    height=int(sync["latest_block_height"]),
                    app_hash=str(sync["latest_app_hash"]).lower(),
                    catching_up=bool(sync["catching_up"]),
                    peers=int(rpc.net_info()["n_peers"]),
                )
        except CometBFTError as exc:
            errors.append(exc.reason)
        if self.app == "salus":
            try:
                salus = httpx.get(node.api_url + "/v1/status", timeout=3).json()
                values.update(salus_height=int(salus["height"]), state_root=salus["state_root"])
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                errors.append(f"Salus API at {node.api_url}: {exc}")
        return NodeStatus(node.name, True, error="; ".join(errors), **values)

    def status(self) -> list[NodeStatus]:
        return [self.node_status(node) for node in self.nodes]

    def app_hash_disagreements(self) -> list[str]:
        """Nodes whose app hash differs from the others' at the same height.

        Compares the headers of the highest height every running node has, as
        each node's CometBFT stored it; an empty list means they agree.
        """
        rpcs = [(n.name, self.rpc(n.name, 3)) for n in self.nodes if self.running(n.name)]
        try:
            heights = {}
            for name, rpc in rpcs:
                with contextlib.suppress(CometBFTError):
                    heights[name] = rpc.latest_height()
            if len(heights) < 2:
                return []
            common = min(heights.values())
            hashes: dict[str, str] = {}
            for name, rpc in rpcs:
                if name in heights:
                    with contextlib.suppress(CometBFTError):
                        header = rpc.call("header", height=str(common))["header"]
                        hashes[name] = str(header["app_hash"]).lower()
        finally:
            for _, rpc in rpcs:
                rpc.close()
        counts: dict[str, int] = {}
        for value in hashes.values():
            counts[value] = counts.get(value, 0) + 1
        if len(counts) <= 1:
            return []
        majority = max(counts, key=lambda value: counts[value])
        return [
            f"{name}: app hash {value} at height {common}, others {majority}"
            for name, value in hashes.items()
            if value != majority
        ]

    def wait_for_height(
        self, height: int, names: Sequence[str] | None = None, *, timeout: float = 30.0
    ) -> None:
        """Wait until each named node's CometBFT has committed ``height``."""
        deadline = time.monotonic() + timeout
        for node in [self.node(n) for n in names] if names is not None else self.nodes:
            with CometRPC(node.rpc_url, timeout=3) as rpc:
                while True:
                    with contextlib.suppress(CometBFTError):
                        if rpc.latest_height() >= height:
                            break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"node {node.name} did not reach height {height}")
                    time.sleep(0.1)


def _app_config(
    app: App, extra: dict[str, dict[str, Any]] | None
) -> dict[str, dict[str, Any]] | None:
    if app == "salus":
        return extra
    merged = {section: dict(values) for section, values in (extra or {}).items()}
    merged.setdefault("", {})["proxy_app"] = "kvstore"
    return merged


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _runs(pid: int, marker: str) -> bool:
    """Whether ``pid`` is a live process whose command line mentions ``marker``."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        if not Path("/proc/self").exists():  # no procfs: fall back to existence
            try:
                os.kill(pid, 0)
            except OSError:
                return False
            return True
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        state = ""
    if state == "Z":  # a zombie has ended; it only waits to be reaped
        return False
    return marker.encode() in cmdline


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _signal_and_wait(pid: int, sig: int, grace: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    if _wait_gone(pid, grace):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _wait_gone(pid, 10)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if not _runs(pid, ""):  # a zombie counts as gone (its reaper will collect it)
            return True
        time.sleep(0.05)
    return False


def _check_ports_free(ports: Sequence[int]) -> None:
    busy = []
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                busy.append(port)
    if busy:
        raise SalusError(
            f"ports already in use on 127.0.0.1: {', '.join(map(str, busy))} "
            "(is another testnet running? try --base-port / --api-port)"
        )


def plan_ports(count: int, base_port: int, api_port: int) -> Iterator[tuple[NodePorts, int]]:
    for index in range(count):
        base = base_port + 10 * index
        yield NodePorts(base, base + 1, base + 2), api_port + index


def create_testnet(
    root: Path,
    *,
    validators: int = 4,
    base_port: int = 26600,
    api_port: int = 8080,
    chain_id: str = "salus-testnet",
    binary: Path,
    passphrase: str = TESTNET_PASSPHRASE,
    timeout_commit_ms: int = 500,
    threshold: tuple[int, int] = (2, 3),
    app: App = "salus",
    strength: Strength = "interactive",
    genesis_time_ms: int | None = None,
    extra_config: dict[str, dict[str, Any]] | None = None,
    force: bool = False,
) -> Testnet:
    """Write a testnet of ``validators`` organisations into ``root`` (nothing starts).

    Refuses a non-empty ``root`` unless ``force`` (then the previous testnet is
    stopped and deleted first).
    """
    if validators < 1:
        raise SalusError("a testnet needs at least one validator")
    if root.exists() and any(root.iterdir()):
        if not force:
            raise SalusError(
                f"{root} is not empty; 'salus testnet down --dir {root}' and choose another "
                "--dir, or pass --force to replace it"
            )
        if (root / MANIFEST).exists():
            Testnet.load(root).stop()
            shutil.rmtree(root)
        else:
            raise SalusError(f"refusing to delete {root}: it holds no testnet")
    planned = list(plan_ports(validators, base_port, api_port))
    _check_ports_free(
        [p for ports, api in planned for p in (ports.p2p, ports.rpc, ports.abci, api)]
    )

    organisations = [_organisation(i) for i in range(validators)]
    org_keys = [new_signer() for _ in organisations]
    validator_keys = [new_signer() for _ in organisations]
    genesis = Genesis.from_data(
        {
            "chain_id": chain_id,
            "genesis_time_ms": genesis_time_ms
            if genesis_time_ms is not None
            else time.time_ns() // 1_000_000,
            "consortium": {
                "organisations": [
                    {"id": org_id, "name": name, "keys": [key.did], "roles": list(roles)}
                    for (org_id, name, roles), key in zip(organisations, org_keys, strict=True)
                ],
                "threshold": {"num": threshold[0], "den": threshold[1]},
            },
            "validators": [
                {"did": key.did, "power": 10, "name": org_id}
                for (org_id, _, _), key in zip(organisations, validator_keys, strict=True)
            ],
        }
    )
    root.mkdir(parents=True, exist_ok=True)
    keys_dir = root / "keys"
    keys_dir.mkdir(exist_ok=True)
    os.chmod(keys_dir, 0o700)
    (root / "genesis.json").write_text(genesis.to_json(), encoding="utf-8")
    seeds = [os.urandom(32) for _ in organisations]
    nodes = [
        TestnetNode(org_id, root / "nodes" / org_id, ports, api, node_id(seed))
        for (org_id, _, _), (ports, api), seed in zip(organisations, planned, seeds, strict=True)
    ]
    config = _app_config(app, extra_config)
    for index, node in enumerate(nodes):
        org_key, validator_key = org_keys[index], validator_keys[index]
        save_key(keys_dir / f"{node.name}.key", org_key, passphrase, strength=strength)
        save_key(
            keys_dir / f"{node.name}-validator.key", validator_key, passphrase, strength=strength
        )
        home_keys = node.home / "keys"
        home_keys.mkdir(parents=True)
        os.chmod(home_keys, 0o700)
        shutil.copyfile(keys_dir / f"{node.name}.key", home_keys / f"{node.name}.key")
        shutil.copyfile(keys_dir / f"{node.name}-validator.key", home_keys / "validator-1.key")
        (node.home / "genesis.json").write_text(genesis.to_json(), encoding="utf-8")
        create_cometbft_home(
            node.home,
            genesis,
            validator_key,
            node.ports,
            binary=binary,
            moniker=node.name,
            persistent_peers=[other.peer_address for other in nodes if other is not node],
            node_key_seed=seeds[index],
            timeout_commit_ms=timeout_commit_ms,
            extra_config=config,
        )
    testnet = Testnet(root, chain_id, nodes, binary.resolve(), app)
    testnet.save()
    return testnet
