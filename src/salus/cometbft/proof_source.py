"""Proof bundles of a Salus node on CometBFT: the ledger's paths plus the validators' commit.

Under CometBFT no single node signs a block; the authority is a commit of more
than 2/3 of the voting power over a CometBFT header, which binds the Salus data:

- a transaction of Salus block H: CometBFT block H (its ``data_hash`` covers the
  transactions) and header H+1 (its ``last_results_hash`` covers the results);
- state after Salus block H: header H+1, whose ``app_hash`` is the state root.

So a proof about height H needs CometBFT height H+1, which exists one block after
the Salus node committed H (blocks keep coming: ``create_empty_blocks``); the
source waits for it up to ``wait_s``. Everything signed comes from the local
CometBFT's RPC (``/commit``, ``/validators``, ``/block``, ``/block_results``),
the Salus parts (state proof, result leaf) from the node. Validator set changes
since genesis travel in the bundle as ``updates``: the light block of each height
where a changed set first signs (two heights after the governance transaction,
ABCI's ``H+2`` rule, or the next height whose commit carries enough signatures of
the previous set), so a verifier holding only the genesis can follow them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence

from salus.cometbft.rpc import CometBFTError, CometBFTRpcError, CometRPC
from salus.core import bft
from salus.core.identity import IDENTITY
from salus.core.proofs import make_bft_state_bundle, make_bft_tx_bundle
from salus.errors import NotFound, ProofError, StorageError
from salus.node import Node, StateProofs

__all__ = ["CometProofSource"]

_VALIDATOR_EVENTS = ("validator_added", "validator_removed")
_CACHE = 512
_HOP_SEARCH = 50  # heights searched for a commit that proves a validator set change


class CometProofSource:
    """A :class:`~salus.node.node.ProofSource` backed by a local CometBFT's RPC."""

    def __init__(self, rpc: CometRPC, *, wait_s: float = 15.0) -> None:
        self.rpc = rpc
        self.wait_s = wait_s
        self._light: OrderedDict[int, bft.LightBlock] = OrderedDict()
        self._lock = threading.Lock()
        # Change height -> the light block a verifier follows; final once found.
        self._hops: dict[int, bft.LightBlock] = {}

    # -- ProofSource -------------------------------------------------------------------

    def tx_proof(self, node: Node, tx_id: bytes) -> bytes:
        stored = node.store.get_tx(tx_id)
        if stored is None:
            raise NotFound(f"no committed transaction {tx_id.hex()}")
        height = stored.height
        try:
            txs = bft.txs_from_json(self.rpc.block(height))
            results = bft.exec_results_from_json(self.rpc.block_results(height))
        except CometBFTError as exc:
            raise NotFound(f"CometBFT cannot serve block {height}: {exc.reason}") from None
        block = self._light_block(height)
        signed_results = self._light_block(height + 1)
        try:
            return make_bft_tx_bundle(
                block,
                signed_results,
                txs,
                results,
                stored.index,
                stored.result,
                updates=self._updates(node, height + 1),
            )
        except ValueError as exc:  # CometBFT's block and the Salus store disagree
            raise StorageError(f"cannot prove transaction {tx_id.hex()}: {exc}") from None

    def state_proof(self, node: Node, raw_key: bytes) -> bytes:
        return self.state_proofs(node, [raw_key]).bundles[0]

    def state_proofs(self, node: Node, raw_keys: Sequence[bytes]) -> StateProofs:
        # One snapshot of the ledger, then one wait for the header that signs it.
        with node.commit_lock:
            height = node.ledger.height
            root = node.ledger.state_root
            parts = [(key, node.ledger.get(key), node.ledger.prove(key)) for key in raw_keys]
        if height == 0:
            raise NotFound("no block has been committed yet; state proofs start at block 1")
        signed = self._light_block(height + 1)
        if signed.header.app_hash != root:
            raise StorageError(
                f"CometBFT header {height + 1} has app hash {signed.header.app_hash.hex()}, "
                f"but this node's state root after block {height} is {root.hex()}"
            )
        updates = self._updates(node, height + 1)
        return StateProofs(
            height,
            [
                make_bft_state_bundle(signed, key, value, proof, updates=updates)
                for key, value, proof in parts
            ],
        )

    # -- CometBFT data -------------------------------------------------------------------

    def _light_block(self, height: int, *, wait: bool = True) -> bft.LightBlock:
        """Header, commit and validator set of ``height``, waiting for it to be committed.

        Only canonical commits (taken from block ``height+1``) are cached: the commit
        of the latest height is the one this node happened to see, which may carry
        fewer signatures.
        """
        with self._lock:
            cached = self._light.get(height)
            if cached is not None:
                self._light.move_to_end(height)
                return cached
        deadline = time.monotonic() + (self.wait_s if wait else 0)
        while True:
            try:
                commit = self.rpc.commit(height)
                validators = self.rpc.validators(height)
                break
            except CometBFTRpcError as exc:
                # "height H must be less than or equal to the current blockchain height"
                if time.monotonic() > deadline:
                    raise NotFound(
                        f"CometBFT has not committed height {height} yet ({exc.data}); "
                        "the proof is available one block later"
                    ) from None
                time.sleep(0.05)
            except CometBFTError as exc:
                raise NotFound(f"CometBFT cannot serve height {height}: {exc.reason}") from None
        light = bft.light_block_from_json(commit, validators)
        if commit.get("canonical"):
            with self._lock:
                self._light[height] = light
                while len(self._light) > _CACHE:
                    self._light.popitem(last=False)
        return light

    def _updates(self, node: Node, target: int) -> list[bft.LightBlock]:
        """The validator set changes a verifier must follow to trust height ``target``.

        A change made by a block at height H signs from H+2 on (ABCI). For each
        change that applies by ``target``, the hop is the first height signed by the
        new set whose commit also carries more than 2/3 of the previous set's power
        (the verifier's rule, :func:`salus.core.bft.follow_updates`); not every
        commit does, as a commit holds only the precommits that arrived in time.
        """
        changes = sorted(height for height in self._change_heights(node) if height + 2 <= target)
        trusted = bft.genesis_validators(node.genesis)
        hops: list[bft.LightBlock] = []
        for number, height in enumerate(changes):
            hop = self._hops.get(height)
            if hop is None:
                last = changes[number + 1] + 1 if number + 1 < len(changes) else None
                hop = self._find_hop(node, trusted, height + 2, last)
                self._hops[height] = hop
            hops.append(hop)
            trusted = hop.validators
        return hops

    def _find_hop(
        self, node: Node, trusted: bft.Validators, first: int, last: int | None
    ) -> bft.LightBlock:
        top = self.rpc.latest_height()
        last = min(top, first + _HOP_SEARCH if last is None else last, first + _HOP_SEARCH)
        for height in range(first, last + 1):
            light = self._light_block(height, wait=False)
            try:
                bft.verify_light_block(node.genesis.chain_id, trusted, light)
            except ProofError:
                continue
            return light
        raise NotFound(
            f"no commit from height {first} to {last} proves the validator set change that "
            "took effect there (each holds too few signatures of the previous set); "
            "retry in a few blocks"
        )

    def _change_heights(self, node: Node) -> set[int]:
        changed: set[int] = set()
        for event_type in _VALIDATOR_EVENTS:
            after = 0
            while True:
                page = node.store.events(contract=IDENTITY, type=event_type, after=after)
                changed.update(event.height for event in page)
                if len(page) < 100:
                    break
                after = page[-1].seq
        return changed
