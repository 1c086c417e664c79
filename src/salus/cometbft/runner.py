"""One Salus node on CometBFT: a Salus process and its ``cometbft start`` child.

Layout of a home run this way (``salus node --engine cometbft --home HOME``)::

    HOME/genesis.json               the Salus genesis (the validator set is its validators)
    HOME/keys/validator-1.key       this organisation's validator key (encrypted)
    HOME/data/                      the Salus ledger and blob store (the ABCI app's state)
    HOME/cometbft/                  CometBFT's home: config/, data/ (blocks, consensus WAL)
    HOME/cometbft.log               CometBFT's output
    HOME/cometbft.pid               the CometBFT child's pid while it runs

Theory of operation. The Salus process opens the SQLite store and builds a
:class:`~salus.node.Node` with no validator key of its own and a ``forward``
function: the HTTP API admits a transaction after the stateless checks and a check
against committed state, then hands it to the local CometBFT's mempool with
``broadcast_tx_sync`` (CheckTx decides). It serves the ABCI application
(:class:`~salus.abci.SalusApp`) on the port CometBFT's ``proxy_app`` names, serves
the HTTP API, and only then starts CometBFT, which connects to the application,
runs the Info handshake (replaying any blocks the application lacks, e.g. after
its data directory was wiped) and joins consensus. Blocks reach the ledger only
through FinalizeBlock and Commit, i.e. only once more than 2/3 of the voting power
decided them.

Status lists. The learning app's status list credentials are signed by the node's
*status publication key* (:mod:`salus.api._routes_learning`); on the solo engine that is
the key signing its blocks. Here CometBFT signs, with ``cometbft/config/
priv_validator_key.json``, which :mod:`salus.cometbft.home` writes from the
organisation's Salus validator key, the one named in genesis: so a validator node
signs its status lists with that key (checked to be a genesis validator or one in the
committed validator set when the node starts), and a verifier trusts the list because
a validator of the network signed it. The key cannot be turned against consensus:
CometBFT signs length-prefixed protobuf (``protoio.MarshalDelimited`` of a canonical
vote or proposal), whose first byte is the length of the rest, while a JWS signing
input is thousands of bytes starting ``eyJ`` (0x65, i.e. "101 bytes follow"), so no
list signature is ever a vote's. A full node holds no validator key (its
``priv_validator_key.json`` is a random key no one trusts): it serves status lists as
unsigned JSON only, unless given ``status_key`` (a key the verifiers are told to trust).

Shutdown (SIGINT, SIGTERM or :meth:`CometNode.stop`) goes in the order that
loses nothing: stop CometBFT first (no more blocks arrive), then the ABCI server,
then the HTTP API, then close the store. CometBFT runs in its own session, so a
Ctrl+C at the terminal reaches only the Salus process, which then stops it; on
Linux the child also receives SIGTERM if the Salus process dies without cleaning
up (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salus.abci import AbciServer, SalusApp
from salus.api.serving import ApiServerThread, ServedNode, bind_listener
from salus.cometbft.home import NodePorts, node_id, write_cometbft_home
from salus.cometbft.rpc import CometBFTError, CometRPC
from salus.core.crypto import Signer, public_key_from_did
from salus.core.genesis import Genesis
from salus.core.identity import IDENTITY
from salus.core.tx import SignedTransaction
from salus.errors import SalusError
from salus.node.blobs import FileBlobStore
from salus.node.node import Node, SubmitResult
from salus.node.storage import SqliteStore

if TYPE_CHECKING:
    from salus.abci._server import AbciServerThread

__all__ = [
    "DEFAULT_COMETBFT_CONFIG",
    "CometNode",
    "CometNodeHome",
    "MempoolForwarder",
    "create_cometbft_home",
    "existing_node_key_seed",
    "read_validator_key",
    "run_until_signal",
    "set_persistent_peers",
]

log = logging.getLogger("salus.cometbft")

# Config overrides every Salus CometBFT home gets (section -> key -> value):
# - rpc: the node's API forwards transactions in JSON-RPC batches of up to
#   _FORWARD_BATCH, so batches and bodies must be allowed to be that large;
# - mempool: room for bursts (CometBFT's default is 5,000 transactions), and a cache
#   as large, which refuses a resubmitted transaction before CheckTx.
DEFAULT_COMETBFT_CONFIG: dict[str, dict[str, Any]] = {
    "": {"log_level": "state:info,consensus:info,*:error"},
    "rpc": {"max_request_batch_size": 0, "max_body_bytes": 64 << 20},
    "mempool": {"size": 100_000, "cache_size": 200_000, "max_txs_bytes": 1 << 30},
}

_FORWARD_BATCH = 500
_ABCI_CODES = {
    1: "encoding",
    2: "bad_signature",
    3: "wrong_chain",
    4: "bad_nonce",
    5: "permission_denied",
    6: "unknown_contract",
    7: "unknown_action",
    8: "invalid_arguments",
    9: "contract_error",
    10: "contract_failure",
}


@dataclass(frozen=True, slots=True)
class CometNodeHome:
    """Paths of a Salus home run on CometBFT."""

    root: Path

    @property
    def genesis_path(self) -> Path:
        return self.root / "genesis.json"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def validator_key_path(self) -> Path:
        return self.root / "keys" / "validator-1.key"

    @property
    def cometbft_home(self) -> Path:
        return self.root / "cometbft"

    @property
    def cometbft_validator_key_path(self) -> Path:
        return self.cometbft_home / "config" / "priv_validator_key.json"

    @property
    def config_path(self) -> Path:
        return self.cometbft_home / "config" / "config.toml"

    @property
    def cometbft_log(self) -> Path:
        return self.root / "cometbft.log"

    @property
    def cometbft_pid(self) -> Path:
        return self.root / "cometbft.pid"

    def has_cometbft(self) -> bool:
        return self.config_path.is_file()

    def addresses(self) -> tuple[str, str, int]:
        """(RPC URL, ABCI host, ABCI port) as CometBFT's config names them."""
        try:
            with self.config_path.open("rb") as handle:
                config = tomllib.load(handle)
        except FileNotFoundError:
            raise SalusError(
                f"{self.root} has no CometBFT home ({self.config_path} is missing); "
                "create it with 'salus testnet up', or 'salus node --engine cometbft "
                "--home ... --p2p-port ...' once with the validator key's passphrase"
            ) from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SalusError(f"cannot read {self.config_path}: {exc}") from None
        rpc = str(config.get("rpc", {}).get("laddr", ""))
        proxy = str(config.get("proxy_app", ""))
        if not rpc.startswith("tcp://") or not proxy.startswith("tcp://"):
            raise SalusError(
                f"{self.config_path}: rpc.laddr and proxy_app must be tcp:// addresses "
                f"(got {rpc!r} and {proxy!r})"
            )
        host, _, port = proxy[len("tcp://") :].rpartition(":")
        rpc_host, _, rpc_port = rpc[len("tcp://") :].rpartition(":")
        if rpc_host in ("0.0.0.0", ""):
            rpc_host = "127.0.0.1"
        return f"http://{rpc_host}:{rpc_port}", host, int(port)


def create_cometbft_home(
    home: Path,
    genesis: Genesis,
    validator: Signer | None,
    ports: NodePorts,
    *,
    binary: Path,
    moniker: str,
    persistent_peers: Sequence[str] = (),
    node_key_seed: bytes | None = None,
    p2p_address: str | None = None,
    timeout_commit_ms: int = 500,
    extra_config: dict[str, dict[str, Any]] | None = None,
) -> str:
    """Write ``HOME/cometbft`` for a Salus home; return this node's ``id@host:port``.

    RPC and ABCI stay on 127.0.0.1 (only this machine's Salus process talks to
    them). With ``p2p_address`` (the host name or IP other organisations dial),
    the p2p port listens on every interface and advertises that address.
    """
    layout = CometNodeHome(home)
    seed = node_key_seed or existing_node_key_seed(layout.cometbft_home) or os.urandom(32)
    config: dict[str, dict[str, Any]] = {
        section: dict(values) for section, values in DEFAULT_COMETBFT_CONFIG.items()
    }
    for section, values in (extra_config or {}).items():
        config.setdefault(section, {}).update(values)
    if p2p_address is not None:
        # Organisations on separate hosts: listen on every interface, advertise the
        # public address, and use CometBFT's production address-book rules (the local
        # testnet relaxes them so four nodes can share 127.0.0.1).
        config.setdefault("p2p", {}).update(
            laddr=f"tcp://0.0.0.0:{ports.p2p}",
            external_address=f"{p2p_address}:{ports.p2p}",
            addr_book_strict=True,
            allow_duplicate_ip=False,
        )
    local = write_cometbft_home(
        layout.cometbft_home,
        genesis,
        validator,
        seed,
        ports,
        binary=binary,
        moniker=moniker,
        persistent_peers=list(persistent_peers),
        timeout_commit_ms=timeout_commit_ms,
        extra_config=config,
    )
    if p2p_address is None:
        return local
    return f"{node_id(seed)}@{p2p_address}:{ports.p2p}"


def existing_node_key_seed(cometbft_home: Path) -> bytes | None:
    """The seed of the node key an existing CometBFT home holds (its node id's key)."""
    path = cometbft_home / "config" / "node_key.json"
    try:
        value = json.loads(path.read_text(encoding="utf-8"))["priv_key"]["value"]
        seed = base64.b64decode(value)[:32]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SalusError(f"cannot read the node key {path}: {exc}") from None
    return seed if len(seed) == 32 else None


def read_validator_key(path: Path) -> Signer | None:
    """The key in CometBFT's ``priv_validator_key.json`` at ``path``; ``None`` if absent.

    Raises :class:`~salus.errors.SalusError` naming the problem when the file cannot be
    read, is not an Ed25519 key in CometBFT's amino-JSON, or its halves disagree.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SalusError(f"cannot read the validator key {path}: {exc}") from None
    try:
        private = data["priv_key"]
        if private["type"] != "tendermint/PrivKeyEd25519":
            raise SalusError(f"{path} holds a {private['type']} key, not an Ed25519 one")
        # Go's ed25519.PrivateKey is seed || public key (64 bytes).
        raw = base64.b64decode(private["value"], validate=True)
        public = base64.b64decode(data["pub_key"]["value"], validate=True)
    except (KeyError, TypeError, binascii.Error) as exc:
        raise SalusError(f"{path} is not a CometBFT validator key file ({exc!r})") from None
    if len(raw) != 64:
        raise SalusError(f"{path}: the private key is {len(raw)} bytes, not 64")
    signer = Signer(raw[:32])
    if signer.public_key != raw[32:] or signer.public_key != public:
        raise SalusError(f"{path}: the private key does not match its public key")
    return signer


def _validator_status_key(layout: CometNodeHome, node: Node) -> Signer | None:
    """This node's validator key, if it is a validator's (genesis or committed set)."""
    try:
        key = read_validator_key(layout.cometbft_validator_key_path)
    except SalusError as exc:
        log.warning("status lists will not be signed: %s", exc.reason)
        return None
    if key is None:
        return None
    trusted = set(node.genesis.validator_powers())
    committed = node.ledger.read(IDENTITY, "validators") or {}
    trusted |= {public_key_from_did(did) for did, power in committed.items() if power}
    return key if key.public_key in trusted else None


def set_persistent_peers(home: Path, peers: Sequence[str]) -> None:
    """Replace the peers CometBFT keeps dialling (``p2p.persistent_peers``)."""
    import tomli_w

    path = CometNodeHome(home).config_path
    with path.open("rb") as handle:
        config = tomllib.load(handle)
    config.setdefault("p2p", {})["persistent_peers"] = ",".join(peers)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(tomli_w.dumps(config), encoding="utf-8")
    os.replace(temporary, path)


class MempoolForwarder:
    """The node's ``forward``: ``broadcast_tx_sync`` in batches, CheckTx's verdict back.

    Why lanes: CometBFT's ABCI socket client holds each CheckTx request in a
    buffer until its next flush, at most 20 ms later (``abci/client/
    socket_client.go``, ``flushThrottleMS``), and ``broadcast_tx_sync`` waits for
    the answer. One sequential batch would therefore admit one transaction per
    flush. Transactions are instead spread over ``lanes`` concurrent batches by
    signer (a signer's transactions stay in one lane, in order, because CheckTx
    requires increasing nonces), so every flush carries one request per lane.

    CometBFT refusing a transaction it already holds (``tx already exists in
    cache``) means it is in the mempool, or was committed: either way the answer
    is ``pending`` (the node's own check already refused committed nonces), and
    the status reads ``committed`` once the block is there.
    """

    def __init__(self, rpc: CometRPC, *, lanes: int = 16) -> None:
        self.rpc = rpc
        self.lanes = lanes
        self._pool = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="salus-forward")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __call__(self, stxs: Sequence[SignedTransaction]) -> list[SubmitResult]:
        lanes: dict[int, list[int]] = {}
        for position, stx in enumerate(stxs):
            lane = int.from_bytes(stx.tx.signer[:4], "big") % self.lanes
            lanes.setdefault(lane, []).append(position)
        results: list[SubmitResult | None] = [None] * len(stxs)

        def run(positions: list[int]) -> None:
            for start in range(0, len(positions), _FORWARD_BATCH):
                chunk = positions[start : start + _FORWARD_BATCH]
                for position, result in zip(
                    chunk, self._broadcast([stxs[p] for p in chunk]), strict=True
                ):
                    results[position] = result

        groups = list(lanes.values())
        if len(groups) == 1:
            run(groups[0])
        else:
            for future in [self._pool.submit(run, group) for group in groups]:
                future.result()
        return [result for result in results if result is not None]

    def _broadcast(self, chunk: Sequence[SignedTransaction]) -> list[SubmitResult]:
        try:
            answers = self.rpc.broadcast_txs_sync([stx.envelope for stx in chunk])
        except CometBFTError as exc:
            reason = (
                f"the consensus engine did not answer ({exc.reason}); the transaction may "
                "or may not have reached it: check its status before sending it again"
            )
            return [
                SubmitResult(stx.id_hex, "rejected", "engine_unavailable", reason) for stx in chunk
            ]
        return [
            _submit_result(stx, answer.code, answer.log)
            for stx, answer in zip(chunk, answers, strict=True)
        ]


def _submit_result(stx: SignedTransaction, code: int, text: str) -> SubmitResult:
    if code == 0:
        return SubmitResult(stx.id_hex, "pending")
    if code == -1:  # CometBFT's own refusal, before CheckTx
        if "already exists in cache" in text:
            return SubmitResult(stx.id_hex, "pending")
        if "mempool is full" in text:
            return SubmitResult(stx.id_hex, "rejected", "mempool_full", text)
        return SubmitResult(stx.id_hex, "rejected", "engine_refused", text)
    return SubmitResult(stx.id_hex, "rejected", _ABCI_CODES.get(code, "invalid_transaction"), text)


def _pdeathsig_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that asks Linux to SIGTERM the child when this process dies.

    ``prctl(PR_SET_PDEATHSIG, SIGTERM)``. The libc function is looked up here, in
    the parent: between fork and exec (other threads frozen mid-way) the child only
    makes that one call.
    """
    if sys.platform != "linux":
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)

    def hook() -> None:  # pragma: no cover - runs in the child
        prctl(pr_set_pdeathsig, sigterm, 0, 0, 0)

    return hook


class CometNode(ServedNode):
    """The Salus side of one CometBFT node, and the CometBFT child it runs."""

    def __init__(
        self,
        home: Path,
        *,
        binary: Path,
        host: str = "127.0.0.1",
        port: int = 8080,
        log_level: str = "warning",
        start_timeout: float = 60.0,
        status_key: Signer | None = None,
    ) -> None:
        """``status_key`` signs status lists instead of the validator key (see the module
        docstring); a full node needs one to serve signed lists."""
        self.layout = CometNodeHome(home)
        self.status_key = status_key
        self.status_signer: Signer | None = None
        self.binary = binary
        self.host = host
        self.port = port
        self.log_level = log_level
        self.start_timeout = start_timeout
        self.genesis: Genesis | None = None
        self.store: SqliteStore | None = None
        self.node: Node | None = None
        self.rpc: CometRPC | None = None
        self._forwarder: MempoolForwarder | None = None
        self.rpc_url = ""
        self._abci: AbciServerThread | None = None
        self._cometbft: subprocess.Popen[bytes] | None = None
        self._cometbft_log: Any = None
        self._http: ApiServerThread | None = None
        self._sock: socket.socket | None = None
        self._stopped = False

    # -- start -----------------------------------------------------------------------

    def start(self) -> None:
        """Open the ledger, serve ABCI and HTTP, start CometBFT; return when it answers."""
        from salus.cli.home import NodeHome

        self.genesis = genesis = NodeHome(self.layout.root).load_genesis()
        self.rpc_url, abci_host, abci_port = self.layout.addresses()
        self._sock = self._bind()
        try:
            self.store = SqliteStore(self.layout.data_dir / "ledger.sqlite")
            self.rpc = CometRPC(self.rpc_url, timeout=60.0)
            self._forwarder = MempoolForwarder(self.rpc)
            self.node = node = Node(genesis, self.store, None, forward=self._forwarder)
            self._install_proof_source(node)
            self.status_signer = self.status_key or _validator_status_key(self.layout, node)
            self._abci = AbciServer(SalusApp(node), abci_host, abci_port).start_in_thread()
            self._serve_http(node)
            self._start_cometbft()
        except BaseException:
            self.stop()
            raise

    def _install_proof_source(self, node: Node) -> None:
        """Serve proofs backed by the validators' commit instead of a node signature."""
        from salus.cometbft.proof_source import CometProofSource

        assert self.rpc is not None
        node.proof_source = CometProofSource(self.rpc)

    def _bind(self) -> socket.socket:
        sock = bind_listener(self.host, self.port)
        self.port = sock.getsockname()[1]
        return sock

    def _serve_http(self, node: Node) -> None:
        from salus.api import create_app

        assert self._sock is not None
        app = create_app(
            node, FileBlobStore(self.layout.data_dir / "blobs"), status_signer=self.status_signer
        )
        self._http = ApiServerThread(app, self._sock, log_level=self.log_level)
        self._http.start(url=self.url)

    def _start_cometbft(self) -> None:
        assert self.rpc is not None
        self._cometbft_log = self.layout.cometbft_log.open("ab")
        self._cometbft = subprocess.Popen(
            [str(self.binary), "start", "--home", str(self.layout.cometbft_home)],
            stdin=subprocess.DEVNULL,
            stdout=self._cometbft_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_pdeathsig_hook(),
        )
        self.layout.cometbft_pid.write_text(f"{self._cometbft.pid}\n")
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._cometbft.poll() is not None:
                raise SalusError(
                    f"CometBFT exited with status {self._cometbft.returncode} at start-up; "
                    f"see {self.layout.cometbft_log}"
                )
            try:
                self.rpc.status()
                return
            except CometBFTError:
                if time.monotonic() > deadline:
                    raise SalusError(
                        f"CometBFT did not answer at {self.rpc_url} within "
                        f"{self.start_timeout:g} s; see {self.layout.cometbft_log}"
                    ) from None
                time.sleep(0.1)

    # -- running ---------------------------------------------------------------------

    @property
    def failure(self) -> str | None:
        """Why the node can no longer work (CometBFT or the HTTP API ended), else ``None``."""
        if self._cometbft is not None and self._cometbft.poll() is not None:
            return (
                f"CometBFT exited with status {self._cometbft.returncode} "
                f"(see {self.layout.cometbft_log})"
            )
        if self._http is not None and not self._http.alive:
            return "the HTTP server stopped"
        return None

    # -- stop --------------------------------------------------------------------------

    def stop(self) -> None:
        """CometBFT first, then the ABCI server, the HTTP API and the store."""
        if self._stopped:
            return
        self._stopped = True
        self._stop_cometbft()
        if self._abci is not None:
            try:
                self._abci.stop()
            except TimeoutError:
                log.error("the ABCI server did not stop in time")
        if self._http is not None:
            self._http.stop()
        if self._forwarder is not None:
            self._forwarder.close()
        if self.rpc is not None:
            self.rpc.close()
        if self.node is not None:
            self.node.close()
        elif self.store is not None:
            self.store.close()
        if self._sock is not None:
            self._sock.close()

    def _stop_cometbft(self, timeout: float = 20.0) -> None:
        child = self._cometbft
        if child is not None:
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(timeout)
                except subprocess.TimeoutExpired:
                    log.error("CometBFT did not stop within %g s; killing it", timeout)
                    child.kill()
                    child.wait()
            self.layout.cometbft_pid.unlink(missing_ok=True)
        if self._cometbft_log is not None:
            self._cometbft_log.close()


def run_until_signal(node: CometNode, announce: Callable[[str], None]) -> str:
    """Start ``node``, report where it listens, wait for a signal; always stop it."""
    node.start()
    try:
        assert node.node is not None
        announce(
            f"Salus node on CometBFT for {node.genesis.chain_id if node.genesis else '?'!r} at "
            f"height {node.node.height}; CometBFT RPC {node.rpc_url}"
        )
        announce(f"Listening on {node.url}  (explorer {node.url}/explorer/)")
        return node.wait_for_signal()
    finally:
        node.shutdown()
