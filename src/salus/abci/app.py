"""The Salus ABCI 2.0 application: the Salus ledger as a CometBFT v0.38 state machine.

Rules this module obeys:
- Same core, same roots: blocks decided by CometBFT run through the same
  ``Ledger.execute_block`` / ``Node.commit_block`` as the solo engine, so for the
  same transactions, times and proposers both engines reach the same state root.
  The app hash CometBFT puts in header ``H+1`` is the Salus state root after ``H``.
- CometBFT's header binds the same block: its ``data_hash`` is the RFC 6962 root
  over SHA-256 of each raw transaction (``types.Txs.Hash``), i.e. over the same
  envelopes, in the same order, as the Salus ``tx_root`` (RFC 9162 over the raw
  envelopes), with one more SHA-256 per leaf, so the two roots differ. Each
  ``ExecTxResult.data`` is SHA-256 of the Salus result leaf, so CometBFT's
  ``last_results_hash`` (over code, data, gas_wanted, gas_used) commits to the
  Salus results too.
- Signatures are verified once per envelope: CheckTx (or ProcessProposal, or
  FinalizeBlock for a block this node never saw proposed, e.g. while catching up)
  verifies and caches the decoded transaction under its exact envelope bytes;
  every later step reuses it. Caching by envelope (not by transaction id, which
  does not cover the signature) means a cached entry can never vouch for a
  different signature over the same body.
- Deterministic where CometBFT needs it: FinalizeBlock's results, app hash and
  validator updates depend only on committed state and the request. CheckTx,
  PrepareProposal and Info may depend on local state (the mempool's nonces).
- Not thread-safe by itself: :class:`~salus.abci.AbciServer` makes every call
  from one thread, one at a time.

Theory of operation. Between two Commits the app holds at most one executed,
uncommitted block (``PendingBlock``): FinalizeBlock builds it on staged state,
Commit persists it in one SQLite transaction and makes it the committed state. A
crash before Commit loses only the staged block; on restart Info reports the last
committed height and CometBFT replays the missing block (handshake), which
FinalizeBlock executes again to the same result. A crash after Commit is covered
by CometBFT, which replays from its own stored responses.

CheckTx admission tracks, per signer, the highest nonce this app admitted into
CometBFT's mempool since the last Commit (``pending nonces``), so a client may
send a burst ``n, n+1, ...`` without waiting; Commit clears it and CometBFT's
recheck of the remaining mempool (CheckTx type RECHECK) rebuilds it in order.

ABCI codes of transaction outcomes: see :mod:`salus.abci._codes`.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any

import salus
from salus.abci._base import BaseApplication
from salus.abci._codes import CODESPACE, TxCode, abci_code
from salus.abci._validators import (
    VALIDATORS_KEY,
    ValidatorDirectory,
    decode_key_list,
    encode_key_list,
    validator_powers,
    validator_updates,
)
from salus.abci._wire import encode_uvarint
from salus.cometbft.home import ABCI_APP_VERSION
from salus.core import codec
from salus.core.block import Event
from salus.core.contract import state_key
from salus.core.crypto import public_key_from_did, sha256
from salus.core.ledger import PendingBlock
from salus.core.pb.tendermint.abci import types_pb2 as abci
from salus.core.pb.tendermint.crypto import proof_pb2
from salus.core.tx import SignedTransaction
from salus.errors import (
    EncodingError,
    GenesisError,
    InvalidTransaction,
    SalusError,
    StorageError,
)
from salus.node.node import Node

__all__ = ["APP_NAME", "VERIFIED_CACHE_SIZE", "SalusApp"]

APP_NAME = "salus"
# Decoded, signature-verified transactions kept for PrepareProposal, ProcessProposal
# and FinalizeBlock; entries leave when their block commits, so this bounds only
# what waits in the mempool (CometBFT's default mempool holds 5,000).
VERIFIED_CACHE_SIZE = 100_000
# Store metadata: every key that was ever a validator (see _validators.py).
_VALIDATOR_KEYS_META = "cometbft_validator_keys"
_STATE_PROOF_TYPE = "salus:state"

log = logging.getLogger("salus.abci")


def _timestamp_ms(seconds: int, nanos: int) -> int:
    return seconds * 1000 + nanos // 1_000_000


def _abci_events(events: tuple[Event, ...]) -> list[abci.Event]:
    out = []
    for event in events:
        attributes = []
        if event.subject is not None:
            attributes.append(abci.EventAttribute(key="subject", value=event.subject, index=True))
        attributes.append(
            abci.EventAttribute(
                key="attrs",
                value=json.dumps(event.attrs, sort_keys=True, separators=(",", ":")),
                index=True,
            )
        )
        out.append(abci.Event(type=f"{event.contract}.{event.type}", attributes=attributes))
    return out


def _proto_size(tx: bytes) -> int:
    """Bytes ``tx`` takes in CometBFT's ``Data.txs`` (tag, length, payload)."""
    return 1 + len(encode_uvarint(len(tx))) + len(tx)


class SalusApp(BaseApplication):
    """The Salus ledger behind CometBFT (see the module docstring).

    ``node`` is a :class:`~salus.node.Node` built with ``validator=None``: CometBFT's
    validators, not this process, decide blocks.
    """

    def __init__(self, node: Node, *, verified_cache_size: int = VERIFIED_CACHE_SIZE) -> None:
        self.node = node
        self.genesis = node.genesis
        self._verified: OrderedDict[bytes, SignedTransaction] = OrderedDict()
        self._verified_cache_size = verified_cache_size
        self._pending_nonces: dict[bytes, int] = {}
        self._pending: PendingBlock | None = None
        self._directory = ValidatorDirectory(self.genesis.validator_powers())
        self._directory.add(validator_powers(node.ledger.get(VALIDATORS_KEY), self.genesis))
        stored = node.store.get_meta(_VALIDATOR_KEYS_META)
        if stored is not None:
            self._directory.add(decode_key_list(stored))
        self._directory_dirty = False

    # -- helpers ---------------------------------------------------------------

    def _verified_tx(self, raw: bytes) -> SignedTransaction:
        """Decode and verify ``raw`` once; raises :class:`SalusError` if it is invalid."""
        cache = self._verified
        stx = cache.get(raw)
        if stx is not None:
            cache.move_to_end(raw)
            return stx
        stx = SignedTransaction.decode(raw)
        stx.verify_signature()
        cache[raw] = stx
        if len(cache) > self._verified_cache_size:
            cache.popitem(last=False)
        return stx

    def _is_valid(self, raw: bytes) -> bool:
        try:
            self._verified_tx(raw)
        except SalusError:
            return False
        return True

    # -- connection: info/query ------------------------------------------------

    # Info: CometBFT calls it on start-up (the handshake) and for RPC /abci_info. Salus
    # reports the last committed height and its state root; CometBFT then replays the
    # blocks the app lacks (or calls InitChain at height 0).
    def info(self, req: abci.RequestInfo) -> abci.ResponseInfo:
        ledger = self.node.ledger
        return abci.ResponseInfo(
            data=APP_NAME,
            version=salus.__version__,
            app_version=ABCI_APP_VERSION,
            last_block_height=ledger.height,
            last_block_app_hash=ledger.state_root if ledger.height else b"",
        )

    # Query: CometBFT calls it for RPC /abci_query. Paths:
    #   /state    data "<contract>/<key>": the canonical CBOR value at the committed tip
    #             (empty if absent); with prove, a "salus:state" ProofOp whose data is
    #             the canonical CBOR of the state tree's (non-)membership proof
    #             (StateProof.to_data()) against that height's state root.
    #   /account  data a did:key: JSON {did, next_nonce, last_nonce, roles, organisation}.
    # ``height`` in the answer is the height whose state is served (its root is the
    # app hash of header height+1); only the committed tip is served.
    def query(self, req: abci.RequestQuery) -> abci.ResponseQuery:
        ledger = self.node.ledger
        height = ledger.height
        if req.height not in (0, height):
            return _query_error(
                TxCode.OTHER,
                f"only the latest committed state (height {height}) is served, "
                f"not height {req.height}",
                height,
            )
        try:
            text = req.data.decode("utf-8")
        except UnicodeDecodeError:
            return _query_error(TxCode.ENCODING, "query data must be UTF-8 text", height)
        if req.path == "/state":
            contract, _, key = text.partition("/")
            try:
                ledger.contract(contract)
                raw_key = state_key(contract, key)
            except SalusError as exc:
                return _query_error(abci_code(exc.code), exc.reason, height)
            value = ledger.get(raw_key)
            response = abci.ResponseQuery(
                code=0,
                key=raw_key,
                value=value or b"",
                height=height,
                log="exists" if value is not None else "absent",
            )
            if req.prove:
                proof = codec.encode(ledger.prove(raw_key).to_data())
                response.proof_ops.ops.append(
                    proof_pb2.ProofOp(type=_STATE_PROOF_TYPE, key=raw_key, data=proof)
                )
            return response
        if req.path == "/account":
            try:
                signer = public_key_from_did(text)
            except EncodingError as exc:
                return _query_error(TxCode.ENCODING, exc.reason, height)
            last = ledger.nonce_of(signer)
            roles, organisation = ledger.roles_of(text)
            account: dict[str, Any] = {
                "did": text,
                "last_nonce": last,
                "next_nonce": max(last, self._pending_nonces.get(signer, 0)) + 1,
                "organisation": organisation,
                "roles": sorted(roles),
            }
            return abci.ResponseQuery(
                code=0,
                key=req.data,
                value=json.dumps(account, sort_keys=True).encode(),
                height=height,
            )
        return _query_error(
            TxCode.ENCODING,
            f"unknown query path {req.path!r} (known: /state, /account)",
            height,
        )

    # -- connection: mempool ---------------------------------------------------

    # CheckTx: CometBFT calls it for every transaction entering this node's mempool
    # (from RPC broadcast_tx_* or gossip), type NEW; and after each Commit for every
    # transaction still in the mempool, type RECHECK. Salus decodes, verifies the
    # signature (once per envelope, cached) and runs the ledger's stateful admission
    # (chain, nonce above committed and pending, contract, action, arguments, role).
    # A non-zero code keeps the transaction out of (or evicts it from) the mempool.
    def check_tx(self, req: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        try:
            stx = self._verified_tx(req.tx)
        except SalusError as exc:
            return _check_error(exc)
        signer = stx.tx.signer
        pending = self._pending_nonces.get(signer, 0)
        try:
            self.node.ledger.check_tx(stx, pending_nonce=pending)
        except SalusError as exc:
            # Not (or no longer) in the mempool: keep the cache to what may be proposed.
            self._verified.pop(req.tx, None)
            return _check_error(exc)
        if stx.tx.nonce > pending:
            self._pending_nonces[signer] = stx.tx.nonce
        return abci.ResponseCheckTx(code=0)

    # -- connection: consensus -------------------------------------------------

    # InitChain: CometBFT calls it once, when its own state is at height 0 (a new
    # chain). Salus checks that CometBFT's genesis is the one of this Salus network
    # (chain id, validators and powers, genesis time, initial height 1) and answers
    # the genesis state root as the initial app hash, with no validator changes.
    def init_chain(self, req: abci.RequestInitChain) -> abci.ResponseInitChain:
        genesis = self.genesis
        if req.chain_id != genesis.chain_id:
            raise GenesisError(
                f"CometBFT's chain id is {req.chain_id!r}, the Salus genesis says "
                f"{genesis.chain_id!r}"
            )
        if req.initial_height != 1:
            raise GenesisError(f"initial_height must be 1, CometBFT has {req.initial_height}")
        time_ms = _timestamp_ms(req.time.seconds, req.time.nanos)
        if time_ms != genesis.genesis_time_ms:
            raise GenesisError(
                f"CometBFT's genesis time is {time_ms} ms, the Salus genesis says "
                f"{genesis.genesis_time_ms} ms"
            )
        offered: dict[bytes, int] = {}
        for update in req.validators:
            if update.pub_key.WhichOneof("sum") != "ed25519":
                raise GenesisError("every validator must have an Ed25519 key")
            if update.pub_key.ed25519 in offered:
                raise GenesisError("CometBFT's genesis lists a validator twice")
            offered[update.pub_key.ed25519] = update.power
        expected = validator_powers(self.node.ledger.get(VALIDATORS_KEY), genesis)
        if offered != expected:
            raise GenesisError(
                "CometBFT's genesis validators differ from the Salus genesis: "
                f"CometBFT {_describe(offered)}, Salus {_describe(expected)}"
            )
        if self.node.height != 0:
            raise StorageError(
                f"CometBFT starts a new chain but the Salus store is at height "
                f"{self.node.height}: use a fresh Salus data directory (or CometBFT home)"
            )
        root = self.node.ledger.state_root
        log.info("InitChain %s: genesis state root %s", genesis.chain_id, root.hex())
        return abci.ResponseInitChain(app_hash=root)

    # PrepareProposal: CometBFT calls it on the proposer of a round, with transactions
    # reaped from the mempool. Salus keeps their order, drops any that do not decode
    # or verify (cached from CheckTx, so normally none), and stops before the block's
    # transaction bytes exceed max_tx_bytes.
    def prepare_proposal(self, req: abci.RequestPrepareProposal) -> abci.ResponsePrepareProposal:
        limit = req.max_tx_bytes
        total = 0
        chosen = []
        for raw in req.txs:
            if not self._is_valid(raw):
                continue
            size = _proto_size(raw)
            if total + size > limit:
                break
            total += size
            chosen.append(raw)
        return abci.ResponsePrepareProposal(txs=chosen)

    # ProcessProposal: CometBFT calls it on every validator (the proposer included) for
    # a proposed block before prevoting. Salus accepts only if every transaction
    # decodes and its signature verifies, so a decided block never needs a signature
    # check during execution. Stateful failures (nonce, role, contract refusal) do not
    # reject: they are results, recorded in the block.
    def process_proposal(self, req: abci.RequestProcessProposal) -> abci.ResponseProcessProposal:
        for raw in req.txs:
            if not self._is_valid(raw):
                return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.REJECT)
        return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.ACCEPT)

    # FinalizeBlock: CometBFT calls it once a block is decided (or replayed at start-up,
    # or fetched while catching up). Salus executes the block on staged state with the
    # block's time and proposer and answers one ExecTxResult per transaction, the
    # validator updates governance made, and the new state root as app hash. Nothing
    # is persisted until Commit.
    def finalize_block(self, req: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        ledger = self.node.ledger
        if req.height != ledger.height + 1:
            raise StorageError(
                f"FinalizeBlock for height {req.height}, but the next height is {ledger.height + 1}"
            )
        stxs = []
        for index, raw in enumerate(req.txs):
            try:
                stxs.append(self._verified_tx(raw))
            except SalusError as exc:
                # Honest validators reject such a block in ProcessProposal, so more
                # than 2/3 of the voting power is faulty. Halt rather than execute.
                raise InvalidTransaction(
                    f"decided block {req.height} holds an invalid transaction at index "
                    f"{index} ({exc.reason}); more than 2/3 of validators accepted it"
                ) from exc
        proposer = self._directory.public_key(req.proposer_address)
        if proposer is None:
            raise StorageError(
                f"block {req.height}'s proposer {req.proposer_address.hex().upper()} is "
                "not a known validator"
            )
        # CometBFT's block 1 carries the genesis time itself; Salus block times are
        # strictly increasing, so block 1 is stamped 1 ms later. Later CometBFT times
        # are already >= previous + 1 ms (BFT time), so the clamp changes nothing there.
        time_ms = max(_timestamp_ms(req.time.seconds, req.time.nanos), ledger.last_time_ms + 1)
        pending = ledger.execute_block(stxs, time_ms=time_ms, proposer=proposer)
        results = []
        for result, leaf in zip(pending.results, pending.result_leaves, strict=True):
            if result.ok:
                exec_result = abci.ExecTxResult(code=0, data=sha256(leaf))
            else:
                exec_result = abci.ExecTxResult(
                    code=abci_code(result.code),
                    data=sha256(leaf),
                    log=result.reason,
                    codespace=CODESPACE,
                )
            if result.events:
                exec_result.events.extend(_abci_events(result.events))
            results.append(exec_result)
        updates: list[abci.ValidatorUpdate] = []
        if VALIDATORS_KEY in pending.changes:
            before = validator_powers(ledger.get(VALIDATORS_KEY), self.genesis)
            after = validator_powers(pending.changes[VALIDATORS_KEY], self.genesis)
            updates = validator_updates(before, after)
            if self._directory.add(after):
                self._directory_dirty = True
        self._pending = pending
        return abci.ResponseFinalizeBlock(
            tx_results=results, validator_updates=updates, app_hash=pending.header.state_root
        )

    # ExtendVote / VerifyVoteExtension: vote extensions are disabled in the genesis
    # (vote_extensions_enable_height 0); BaseApplication answers an empty extension
    # and ACCEPT should CometBFT call them anyway.

    # Commit: CometBFT calls it after FinalizeBlock's response is saved, with the
    # mempool locked. Salus writes the pending block, its transactions, results,
    # events and state changes in one SQLite transaction, then makes it the committed
    # state. Pending nonces restart empty (the RECHECK that follows rebuilds them).
    # No block is pruned (retain_height 0): proofs may be asked for any height.
    def commit(self, req: abci.RequestCommit) -> abci.ResponseCommit:
        pending = self._pending
        if pending is None:
            raise StorageError("Commit without a finalized block")
        if self._directory_dirty:
            # Before the block: a key recorded for a block that then never commits is
            # harmless; a removed key missing after a crash would not be.
            self.node.store.set_meta(_VALIDATOR_KEYS_META, encode_key_list(self._directory.keys()))
            self._directory_dirty = False
        self.node.commit_block(pending, b"")
        log.debug(
            "block %d committed: %d txs, state root %s",
            pending.header.height,
            len(pending.txs),
            pending.header.state_root.hex(),
        )
        self._pending = None
        self._pending_nonces.clear()
        for stx in pending.txs:
            self._verified.pop(stx.envelope, None)
        return abci.ResponseCommit(retain_height=0)

    # -- connection: snapshot --------------------------------------------------
    # ListSnapshots / OfferSnapshot / LoadSnapshotChunk / ApplySnapshotChunk: Salus
    # offers no state-sync snapshots (BaseApplication: none listed, offers rejected,
    # chunks empty, application aborted); a new node catches up by block sync, which
    # replays and re-verifies every block.


def _check_error(exc: SalusError) -> abci.ResponseCheckTx:
    return abci.ResponseCheckTx(code=abci_code(exc.code), log=exc.reason, codespace=CODESPACE)


def _query_error(code: int, reason: str, height: int) -> abci.ResponseQuery:
    return abci.ResponseQuery(code=int(code), log=reason, codespace=CODESPACE, height=height)


def _describe(powers: dict[bytes, int]) -> str:
    return ", ".join(f"{key.hex()[:16]}…={power}" for key, power in sorted(powers.items()))
