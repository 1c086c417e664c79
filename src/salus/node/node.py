"""A Salus node: ledger + storage + mempool + proofs, independent of transport.

Theory of operation. Clients hand the node signed envelopes (:meth:`Node.submit`).
Admission decodes, verifies the signature (outside any lock: PyNaCl releases the
GIL, so admission runs in parallel on several threads) and runs the ledger's
stateful ``check_tx``; an admitted transaction waits in the mempool. The engine
calls :meth:`Node.produce_block` with the block time; the node executes a prefix
of the mempool on staged state, signs the header, writes block and state changes
in one SQLite transaction, and only then makes the new state visible in memory.
If the process dies before the SQLite commit returns, the block never existed;
after it, the block is on disk and restart resumes from it.

Status of a transaction id: ``pending`` (in the mempool), ``committed`` (in a block,
applied), ``rejected`` (refused at admission, or included but refused by its
contract, with the reason), or unknown.

Under CometBFT the node proposes nothing itself: it is built with ``validator=None``
and a ``forward`` function. Admission then runs the same stateless checks and a
stateful check against committed state (which refuses replays of committed nonces
with the same reason as the solo engine), and hands the transactions to CometBFT's
mempool; CheckTx there is the authority on pending nonces. Forwarded ids read
``pending`` until a block that CometBFT decided on commits them through
:meth:`Node.commit_block`. Proofs are then served by a ``proof_source`` that pairs
the stored block with the validators' commit.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from salus.apps import network_contracts
from salus.core import merkle
from salus.core.block import BlockHeader, TxResult
from salus.core.contract import Contract, state_key
from salus.core.crypto import Signer, did_from_public_key
from salus.core.genesis import Genesis
from salus.core.ledger import Ledger, PendingBlock, nonce_key
from salus.core.proofs import make_state_bundle, make_tx_bundle
from salus.core.tx import SignedTransaction
from salus.errors import (
    EncodingError,
    NotFound,
    SalusError,
    StorageError,
)
from salus.node.mempool import Mempool, MempoolFull
from salus.node.storage import SqliteStore, StoredBlock

__all__ = [
    "Node",
    "NodeConfig",
    "ProofSource",
    "SubmitResult",
    "TxForwarder",
    "decode_hex_id",
]

_REJECTED_MEMORY = 100_000
_FORWARDED_MEMORY = 200_000
_VERIFY_CHUNK = 128

log = logging.getLogger("salus.node")


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Tunables of block production."""

    max_block_txs: int = 10_000
    max_block_bytes: int = 8 << 20
    mempool_capacity: int = 200_000


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """Outcome of handing one envelope to the node."""

    id: str | None
    status: str  # "pending" or "rejected"
    code: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status}
        if self.status == "rejected":
            out.update(code=self.code, reason=self.reason)
        return out


TxForwarder = Callable[[Sequence[SignedTransaction]], list[SubmitResult]]
"""Hands checked transactions to an external engine's mempool (CometBFT), in order;
one result per transaction: ``pending`` when accepted, else ``rejected`` with why."""


class StateProofs(NamedTuple):
    """State bundles of several keys and the height (Salus block) whose state they prove."""

    height: int
    bundles: list[bytes]


class ProofSource(Protocol):
    """Builds proof bundles where the authority is not the node's own signature."""

    def tx_proof(self, node: Node, tx_id: bytes) -> bytes:
        """Inclusion bundle of a committed transaction; :class:`NotFound` otherwise."""
        ...

    def state_proof(self, node: Node, raw_key: bytes) -> bytes:
        """Membership or non-membership bundle of a raw state key at the tip."""
        ...

    def state_proofs(self, node: Node, raw_keys: Sequence[bytes]) -> StateProofs:
        """Bundles of several raw state keys, all of the same height (the tip)."""
        ...


@dataclass
class _MerkleLevels:
    """All levels of one block's RFC 9162 tree, for O(log n) audit paths."""

    levels: list[list[bytes]] = field(default_factory=list)

    @classmethod
    def build(cls, leaves: Sequence[bytes]) -> _MerkleLevels:
        levels = [list(leaves)]
        while len(levels[-1]) > 1:
            below = levels[-1]
            above = [merkle.node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                above.append(below[-1])  # promoted, not duplicated (RFC 9162 §2.1.1)
            levels.append(above)
        return cls(levels)

    def path(self, index: int) -> tuple[bytes, ...]:
        out = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                out.append(level[sibling])
            index //= 2
        return tuple(out)


class Node:
    """One node's ledger, storage, mempool and proof service."""

    def __init__(
        self,
        genesis: Genesis,
        store: SqliteStore,
        validator: Signer | None,
        *,
        contracts: Iterable[Contract] | None = None,
        config: NodeConfig | None = None,
        forward: TxForwarder | None = None,
        proof_source: ProofSource | None = None,
    ) -> None:
        self.genesis = genesis
        self.store = store
        self.validator = validator
        self.config = config or NodeConfig()
        if validator is not None and validator.public_key not in genesis.validator_powers():
            raise StorageError(f"key {validator.did} is not a validator in this genesis")
        # Without an explicit list the node runs every contract of the network, apps too.
        installed = list(contracts) if contracts is not None else network_contracts()
        stored_genesis = store.get_meta("genesis_hash")
        if stored_genesis is None:
            # A new data directory: persist the genesis state with the genesis hash.
            fresh = Ledger.from_genesis(genesis, installed)
            store.initialise(genesis.hash, dict(fresh.items()))
        elif stored_genesis != genesis.hash:
            raise StorageError("this data directory belongs to a different genesis")
        last = store.last_block()
        self.ledger = Ledger.restore(
            genesis,
            installed,
            values=store.load_state(),
            last_header=last.header if last else None,
        )
        self._last: StoredBlock | None = last
        self.mempool = Mempool(self.config.mempool_capacity)
        self._rejected: OrderedDict[bytes, tuple[str, str]] = OrderedDict()
        self._rejected_lock = threading.Lock()
        # Held while a block is committed to memory, and by readers that need a
        # header and the state tree of the same height.
        self.commit_lock = threading.RLock()
        self._levels: OrderedDict[int, tuple[_MerkleLevels, _MerkleLevels]] = OrderedDict()
        self.block_committed = threading.Condition()
        self._admission_open = threading.Event()
        self._admission_open.set()
        self._verifiers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="salus-verify")
        self.forward = forward
        self.proof_source = proof_source
        # Ids handed to the external engine and not yet seen in a block, with signer and
        # nonce (for next_nonce); bounded: an id the engine dropped is forgotten in time.
        self._forwarded: OrderedDict[bytes, tuple[bytes, int]] = OrderedDict()
        self._forwarded_nonce: dict[bytes, int] = {}
        self._forwarded_lock = threading.Lock()

    # -- admission -------------------------------------------------------------

    def submit(self, envelope: bytes) -> SubmitResult:
        """Admit one signed envelope to the mempool, or say why not."""
        if self.forward is not None:
            return self._forward_checked([self._check_signed(envelope)])[0]
        return self._admit(self._check_signed(envelope))

    def submit_many(self, envelopes: Sequence[bytes]) -> list[SubmitResult]:
        """Admit a batch in order; signatures are checked on several threads."""
        if len(envelopes) < 2 * _VERIFY_CHUNK:
            checked = [self._check_signed(envelope) for envelope in envelopes]
        else:
            chunks = [
                envelopes[i : i + _VERIFY_CHUNK] for i in range(0, len(envelopes), _VERIFY_CHUNK)
            ]
            checked = [
                item for chunk in self._verifiers.map(self._check_chunk, chunks) for item in chunk
            ]
        if self.forward is not None:
            return self._forward_checked(checked)
        # Admission proper stays sequential, in batch order: nonces must arrive in order.
        return [self._admit(item) for item in checked]

    def _check_chunk(self, envelopes: Sequence[bytes]) -> list[SignedTransaction | SubmitResult]:
        return [self._check_signed(envelope) for envelope in envelopes]

    def _check_signed(self, envelope: bytes) -> SignedTransaction | SubmitResult:
        """Stateless checks: decode and signature (PyNaCl releases the GIL here)."""
        try:
            stx = SignedTransaction.decode(envelope)
        except SalusError as exc:
            return SubmitResult(None, "rejected", exc.code, exc.reason)
        try:
            stx.verify_signature()
        except SalusError as exc:
            self._remember_rejection(stx.id, exc.code, exc.reason)
            return SubmitResult(stx.id_hex, "rejected", exc.code, exc.reason)
        return stx

    def _admit(self, checked: SignedTransaction | SubmitResult) -> SubmitResult:
        """Stateful checks against committed state and the mempool, then enqueue."""
        if isinstance(checked, SubmitResult):
            return checked
        stx = checked
        if not self._admission_open.is_set():  # cheap check first: wait() takes a lock
            self._admission_open.wait()
        try:
            with self.mempool.lock:
                if stx.id in self.mempool:
                    return SubmitResult(stx.id_hex, "pending")
                self.ledger.check_tx(stx, pending_nonce=self.mempool.pending_nonce(stx.tx.signer))
                self.mempool.add(stx)
        except SalusError as exc:
            self._remember_rejection(stx.id, exc.code, exc.reason)
            return SubmitResult(stx.id_hex, "rejected", exc.code, exc.reason)
        except MempoolFull as exc:
            return SubmitResult(stx.id_hex, "rejected", "mempool_full", str(exc))
        return SubmitResult(stx.id_hex, "pending")

    def _forward_checked(
        self, checked: Sequence[SignedTransaction | SubmitResult]
    ) -> list[SubmitResult]:
        """Admission under an external engine: check against committed state, forward.

        The check here refuses what can never commit (wrong chain, a committed nonce,
        unknown action, bad arguments, missing role) with the solo engine's reasons;
        pending nonces are the engine's CheckTx's business. Ids are recorded as
        forwarded *before* the hand-over, so a block committing them meanwhile
        cannot leave a stale entry behind.
        """
        assert self.forward is not None
        results: list[SubmitResult | None] = []
        outgoing: list[SignedTransaction] = []
        slots: list[int] = []
        for item in checked:
            if isinstance(item, SubmitResult):
                results.append(item)
                continue
            stx = item
            with self._forwarded_lock:
                already = stx.id in self._forwarded
            if already:
                results.append(SubmitResult(stx.id_hex, "pending"))
                continue
            try:
                self.ledger.check_tx(stx)
            except SalusError as exc:
                self._remember_rejection(stx.id, exc.code, exc.reason)
                results.append(SubmitResult(stx.id_hex, "rejected", exc.code, exc.reason))
                continue
            self._remember_forwarded(stx)
            slots.append(len(results))
            results.append(None)
            outgoing.append(stx)
        if outgoing:
            answers = self.forward(outgoing)
            for slot, stx, answer in zip(slots, outgoing, answers, strict=True):
                results[slot] = answer
                if answer.status != "pending":
                    with self._forwarded_lock:
                        self._forwarded.pop(stx.id, None)
                    if answer.code != "mempool_full":
                        self._remember_rejection(stx.id, answer.code, answer.reason)
        return [result for result in results if result is not None]

    def _remember_forwarded(self, stx: SignedTransaction) -> None:
        signer, nonce = stx.tx.signer, stx.tx.nonce
        with self._forwarded_lock:
            self._forwarded[stx.id] = (signer, nonce)
            if nonce > self._forwarded_nonce.get(signer, 0):
                self._forwarded_nonce[signer] = nonce
            while len(self._forwarded) > _FORWARDED_MEMORY:
                self._forwarded.popitem(last=False)

    def _forget_forwarded(self, txs: Sequence[SignedTransaction]) -> None:
        with self._forwarded_lock:
            if not self._forwarded:
                return
            for stx in txs:
                self._forwarded.pop(stx.id, None)
            if not self._forwarded:
                self._forwarded_nonce.clear()

    def _remember_rejection(self, tx_id: bytes, code: str, reason: str) -> None:
        with self._rejected_lock:
            self._rejected[tx_id] = (code, reason)
            while len(self._rejected) > _REJECTED_MEMORY:
                self._rejected.popitem(last=False)

    # -- block production ------------------------------------------------------

    def produce_block(self, time_ms: int) -> BlockHeader | None:
        """Cut, execute, sign, persist and commit one block; ``None`` if idle."""
        if self.validator is None:
            raise StorageError("this node has no validator key and cannot produce blocks")
        txs = self.mempool.peek(self.config.max_block_txs, self.config.max_block_bytes)
        if not txs:
            return None
        started = time.perf_counter()
        time_ms = max(time_ms, self.ledger.last_time_ms + 1)
        pending = self.ledger.execute_block(
            txs, time_ms=time_ms, proposer=self.validator.public_key
        )
        signature = self.validator.sign(pending.header.signing_bytes())
        executed = time.perf_counter()
        self.commit_block(pending, signature)
        stored = time.perf_counter()
        log.debug(
            "block %d: %d txs, executed in %.0f ms, stored in %.0f ms, %d waiting",
            pending.header.height,
            len(txs),
            (executed - started) * 1000,
            (stored - executed) * 1000,
            len(self.mempool),
        )
        return pending.header

    def commit_block(self, pending: PendingBlock, signature: bytes) -> None:
        """Persist an executed block, then make it the committed state.

        The solo engine calls this after signing its own block; the CometBFT
        adapter calls it from ABCI Commit with an empty signature (there the
        authority is the validators' commit, kept by CometBFT).
        """
        # Pause admission while the block is written: SQLite releases the GIL around
        # every row it steps, and with admission threads competing for the GIL each
        # release costs a hand-off; writing a block this way took ~5x longer.
        self._admission_open.clear()
        try:
            self.store.commit_block(pending, signature)
        finally:
            self._admission_open.set()
        with self.commit_lock:
            self.ledger.commit(pending)
            self._last = StoredBlock(pending.header, signature)
        self.mempool.remove(list(pending.txs))
        if self.forward is not None:
            self._forget_forwarded(pending.txs)
        with self.block_committed:
            self.block_committed.notify_all()

    # -- reads -----------------------------------------------------------------

    @property
    def height(self) -> int:
        return self.ledger.height

    def status(self) -> dict[str, Any]:
        with self.commit_lock:
            last = self._last
            return {
                "chain_id": self.genesis.chain_id,
                "genesis_hash": self.genesis.hash.hex(),
                "height": self.ledger.height,
                "last_block_hash": self.ledger.last_hash.hex(),
                "last_block_time_ms": self.ledger.last_time_ms,
                "state_root": self.ledger.state_root.hex(),
                "mempool": len(self.mempool) + len(self._forwarded),
                "validator": self.validator.did if self.validator else None,
                "last_block_txs": last.header.tx_count if last else 0,
                "total_txs": self.store.total_txs(),
            }

    def tx_status(self, tx_id: bytes) -> dict[str, Any]:
        """Status of a transaction id; raises :class:`NotFound` if never seen."""
        stored = self.store.get_tx(tx_id)
        if stored is not None:
            result = TxResult.decode(stored.result)
            stx = SignedTransaction.decode(stored.envelope)
            return {
                "id": tx_id.hex(),
                "status": "committed" if result.ok else "rejected",
                "height": stored.height,
                "index": stored.index,
                "code": result.code,
                "reason": result.reason,
                "events": [event.to_data() for event in result.events],
                "tx": stx.tx.to_json(),
            }
        if tx_id in self.mempool or tx_id in self._forwarded:
            return {"id": tx_id.hex(), "status": "pending"}
        with self._rejected_lock:
            rejected = self._rejected.get(tx_id)
        if rejected is not None:
            return {
                "id": tx_id.hex(),
                "status": "rejected",
                "code": rejected[0],
                "reason": rejected[1],
            }
        raise NotFound(f"no transaction {tx_id.hex()} is known to this node")

    def get_block(self, height: int) -> StoredBlock:
        block = self.store.get_block(height)
        if block is None:
            raise NotFound(f"there is no block {height} (height is {self.ledger.height})")
        return block

    def next_nonce(self, signer: bytes) -> int:
        """The nonce a new transaction of ``signer`` should carry."""
        with self._forwarded_lock:
            forwarded = self._forwarded_nonce.get(signer, 0)
        with self.mempool.lock:
            pending = max(self.mempool.pending_nonce(signer), forwarded)
            return max(self.ledger.nonce_of(signer), pending) + 1

    def account(self, did: str, signer: bytes) -> dict[str, Any]:
        roles, org = self.ledger.roles_of(did)
        return {
            "did": did,
            "last_nonce": self.ledger.nonce_of(signer),
            "next_nonce": self.next_nonce(signer),
            "roles": sorted(roles),
            "organisation": org,
        }

    def read_state(self, contract: str, key: str) -> dict[str, Any]:
        """Current value of a contract's key; raises :class:`NotFound` when absent."""
        self.ledger.contract(contract)
        raw_key = state_key(contract, key)
        with self.commit_lock:
            value = self.ledger.read(contract, key)
            height = self.ledger.height
        if value is None:
            raise NotFound(f"{contract} has no state entry {key!r} at height {height}")
        return {
            "contract": contract,
            "key": key,
            "value": value,
            "height": height,
            "state_key": raw_key.decode("ascii"),
        }

    # -- proofs ----------------------------------------------------------------

    def tx_proof(self, tx_id: bytes) -> bytes:
        """Inclusion bundle of a committed transaction (and its result)."""
        stored = self.store.get_tx(tx_id)
        if stored is None:
            if tx_id in self.mempool or tx_id in self._forwarded:
                raise NotFound(f"transaction {tx_id.hex()} is pending; no proof until committed")
            raise NotFound(f"no committed transaction {tx_id.hex()}")
        if self.proof_source is not None:
            return self.proof_source.tx_proof(self, tx_id)
        block = self.get_block(stored.height)
        tx_path, result_path = self.inclusion_paths(stored.height, stored.index)
        return make_tx_bundle(
            block.header,
            block.signature,
            stored.envelope,
            stored.index,
            tx_path,
            stored.result,
            result_path,
        )

    def inclusion_paths(
        self, height: int, index: int
    ) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
        """RFC 9162 audit paths of transaction ``index`` of block ``height`` and its result."""
        tx_levels, result_levels = self._block_levels(height)
        return tx_levels.path(index), result_levels.path(index)

    def state_proof(self, contract: str, key: str) -> bytes:
        """Membership or non-membership bundle of ``contract``'s ``key`` at the tip."""
        self.ledger.contract(contract)
        return self._state_proof(state_key(contract, key))

    def state_proofs(self, contract: str, keys: Sequence[str]) -> StateProofs:
        """Bundles of several of ``contract``'s keys, all of one block (the tip), in order.

        What a package of several proofs needs (a certificate's batch, issuer, key and
        status): asking key by key could straddle a block boundary.
        """
        self.ledger.contract(contract)
        raw_keys = [state_key(contract, key) for key in keys]
        if self.proof_source is not None:
            return self.proof_source.state_proofs(self, raw_keys)
        with self.commit_lock:
            last = self._last
            if last is None:
                raise NotFound("no block has been committed yet; state proofs start at block 1")
            parts = [(key, self.ledger.get(key), self.ledger.prove(key)) for key in raw_keys]
        return StateProofs(
            last.header.height,
            [
                make_state_bundle(last.header, last.signature, key, value, proof)
                for key, value, proof in parts
            ],
        )

    def nonce_proof(self, signer: bytes) -> bytes:
        return self._state_proof(nonce_key(signer))

    def _state_proof(self, raw_key: bytes) -> bytes:
        if self.proof_source is not None:
            return self.proof_source.state_proof(self, raw_key)
        with self.commit_lock:
            last = self._last
            if last is None:
                raise NotFound("no block has been committed yet; state proofs start at block 1")
            value = self.ledger.get(raw_key)
            proof = self.ledger.prove(raw_key)
        return make_state_bundle(last.header, last.signature, raw_key, value, proof)

    def _block_levels(self, height: int) -> tuple[_MerkleLevels, _MerkleLevels]:
        """The transaction and result trees of a block, cached for repeated proofs."""
        with self.commit_lock:
            cached = self._levels.get(height)
            if cached is not None:
                self._levels.move_to_end(height)
                return cached
        tx_leaves, result_leaves = self.store.block_leaves(height)
        levels = (_MerkleLevels.build(tx_leaves), _MerkleLevels.build(result_leaves))
        with self.commit_lock:
            self._levels[height] = levels
            while len(self._levels) > 16:
                self._levels.popitem(last=False)
        return levels

    def describe_contracts(self) -> list[dict[str, Any]]:
        return [c.describe() for c in self.ledger.contracts.values()]

    def validator_did(self) -> str | None:
        return did_from_public_key(self.validator.public_key) if self.validator else None

    def close(self) -> None:
        self._verifiers.shutdown(wait=True)
        self.store.close()


_HEX_ID = re.compile(r"[0-9a-fA-F]{64}")


def decode_hex_id(text: str, what: str = "transaction id") -> bytes:
    """Parse a 64-character hex id; :class:`EncodingError` otherwise."""
    if not _HEX_ID.fullmatch(text):
        raise EncodingError(f"{what} must be 64 hex characters")
    return bytes.fromhex(text)
