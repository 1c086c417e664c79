"""The deterministic state machine: admission checks, block execution, commit.

Rules this module obeys:
- Pure: block height, block time and the proposer arrive as arguments; nothing
  here reads a clock, a file or the network. Two ledgers built from the same
  genesis and fed the same blocks reach the same state root at every height.
- The life cycle has the shape of ABCI 2.0 so the same code runs under the
  ``solo`` engine and under CometBFT:

  ``check_tx``       cheap stateful admission (chain, nonce, contract, action,
                     arguments, role) against committed state — CheckTx;
  ``execute_block``  run a block's transactions on *staged* state and return a
                     :class:`PendingBlock` with results and the new state root —
                     FinalizeBlock; committed state is untouched;
  ``commit``         make a pending block the committed state — Commit.

- Signatures are verified before execution (at admission, or in
  ProcessProposal), never inside ``execute_block``: a block handed to it is
  already known to carry only correctly signed transactions.
- A transaction is atomic: its writes go to a private overlay that is merged into
  the block's overlay only if the action returns normally. A rejected transaction
  still consumes its nonce (it was included in a block), so it can never be
  replayed later when circumstances change.

State keys: contracts write under ``<contract>/<key>``; the ledger keeps each
signer's last nonce under ``sys/nonce/<32-byte public key>``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cbor2

from salus.core import codec, merkle
from salus.core.block import BlockHeader, TxResult
from salus.core.contract import PUBLIC, ActionArgs, Context, Contract, ContractState
from salus.core.genesis import Genesis
from salus.core.identity import IDENTITY, IdentityContract, roles_from_state
from salus.core.notary import NotaryContract
from salus.core.state_tree import StateProof, StateTree
from salus.core.tx import SignedTransaction
from salus.errors import (
    NonceError,
    PermissionDenied,
    SalusError,
    StorageError,
    UnknownContract,
    WrongChain,
)

__all__ = ["Ledger", "PendingBlock", "default_contracts", "nonce_key"]

_NONCE_PREFIX = b"sys/nonce/"
_PARSED_CACHE = 400_000


def nonce_key(signer: bytes) -> bytes:
    """State key of a signer's last used nonce."""
    return _NONCE_PREFIX + signer


def default_contracts() -> list[Contract]:
    """The contracts every Salus network runs."""
    return [IdentityContract(), NotaryContract()]


@dataclass(frozen=True, slots=True)
class PendingBlock:
    """A block executed on staged state, waiting to be committed."""

    header: BlockHeader
    txs: tuple[SignedTransaction, ...]
    results: tuple[TxResult, ...]
    result_leaves: tuple[bytes, ...]
    changes: Mapping[bytes, bytes | None]
    tree: StateTree


class _Overlay:
    """A write set over a read function; ``None`` marks a deletion."""

    __slots__ = ("_base", "writes")

    def __init__(self, base: Any) -> None:
        self._base = base
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        result: bytes | None = self._base.get(key)
        return result

    def put(self, key: bytes, value: bytes | None) -> None:
        self.writes[key] = value


class Ledger:
    """Committed state of one network plus the rules to extend it."""

    def __init__(
        self,
        genesis: Genesis,
        contracts: Iterable[Contract] | None = None,
        *,
        values: dict[bytes, bytes],
        tree: StateTree,
        height: int,
        last_hash: bytes,
        last_time_ms: int,
    ) -> None:
        self.genesis = genesis
        self.chain_id = genesis.chain_id
        self.contracts: dict[str, Contract] = {}
        for contract in contracts if contracts is not None else default_contracts():
            if contract.name in self.contracts:
                raise ValueError(f"two contracts are named {contract.name!r}")
            self.contracts[contract.name] = contract
        if IDENTITY not in self.contracts:
            raise ValueError("the identity contract is required")
        self._values = values
        # Arguments parsed at admission, reused once at execution. Parsing is a pure
        # function of the transaction, so using the cache or not gives the same result.
        self._parsed: OrderedDict[bytes, ActionArgs] = OrderedDict()
        self.tree = tree
        self.height = height
        self.last_hash = last_hash
        self.last_time_ms = last_time_ms

    # -- construction ---------------------------------------------------------

    @classmethod
    def from_genesis(cls, genesis: Genesis, contracts: Iterable[Contract] | None = None) -> Ledger:
        """A ledger at height 0 holding the state genesis describes."""
        installed = list(contracts) if contracts is not None else default_contracts()
        overlay = _Overlay({})
        for contract in installed:
            config: Any
            if contract.name == IDENTITY:
                config = {
                    "consortium": genesis.consortium.model_dump(),
                    "validators": {v.did: v.power for v in genesis.validators},
                }
            else:
                config = genesis.app.get(contract.name)
            contract.init_genesis(ContractState(overlay, contract.name), config)
        values = {k: v for k, v in overlay.writes.items() if v is not None}
        tree = StateTree.from_items(values.items())
        return cls(
            genesis,
            installed,
            values=values,
            tree=tree,
            height=0,
            last_hash=genesis.hash,
            last_time_ms=genesis.genesis_time_ms,
        )

    @classmethod
    def restore(
        cls,
        genesis: Genesis,
        contracts: Iterable[Contract] | None,
        *,
        values: dict[bytes, bytes],
        last_header: BlockHeader | None,
    ) -> Ledger:
        """Rebuild a ledger from stored state; checks the root against the last header."""
        if last_header is None:
            return cls.from_genesis(genesis, contracts)
        tree = StateTree.from_items(values.items())
        if tree.root != last_header.state_root:
            raise StorageError(
                f"stored state gives root {tree.root.hex()}, but block {last_header.height} "
                f"committed {last_header.state_root.hex()}"
            )
        return cls(
            genesis,
            contracts,
            values=values,
            tree=tree,
            height=last_header.height,
            last_hash=last_header.hash,
            last_time_ms=last_header.time_ms,
        )

    # -- reads ----------------------------------------------------------------

    @property
    def state_root(self) -> bytes:
        return self.tree.root

    def get(self, key: bytes) -> bytes | None:
        """Committed value bytes under a raw state key."""
        return self._values.get(key)

    def read(self, contract: str, key: str) -> Any:
        """Committed plain value under ``contract``'s ``key``."""
        return ContractState(self._values_view(), contract).get(key)

    def nonce_of(self, signer: bytes) -> int:
        """The signer's last used nonce (0 if it never signed)."""
        raw = self._values.get(nonce_key(signer))
        return 0 if raw is None else int(cbor2.loads(raw))

    def roles_of(self, did: str) -> tuple[frozenset[str], str | None]:
        """Roles and organisation of ``did`` in committed state."""
        return roles_from_state(ContractState(self._values_view(), IDENTITY), did)

    def prove(self, key: bytes) -> StateProof:
        """Membership or non-membership proof of ``key`` against :attr:`state_root`."""
        return self.tree.prove(key)

    def items(self) -> Iterable[tuple[bytes, bytes]]:
        return self._values.items()

    def _values_view(self) -> _Overlay:
        return _Overlay(self._values)

    def contract(self, name: str) -> Contract:
        try:
            return self.contracts[name]
        except KeyError:
            known = ", ".join(sorted(self.contracts))
            raise UnknownContract(f"no contract named {name!r} (installed: {known})") from None

    # -- admission (CheckTx) --------------------------------------------------

    def check_tx(self, stx: SignedTransaction, *, pending_nonce: int = 0) -> None:
        """Stateful admission checks against committed state; raises with the reason.

        ``pending_nonce`` is the highest nonce of this signer already waiting in the
        mempool, so a burst of transactions must arrive in nonce order.
        """
        tx = stx.tx
        if tx.chain_id != self.chain_id:
            raise WrongChain(
                f"transaction is for chain {tx.chain_id!r}, this network is {self.chain_id!r}"
            )
        last = max(self.nonce_of(tx.signer), pending_nonce)
        if tx.nonce <= last:
            raise NonceError(
                f"nonce {tx.nonce} is not above the signer's last nonce {last} (replay?)"
            )
        spec = self.contract(tx.contract).spec(tx.action)
        self._parsed[stx.id] = spec.parse_args(tx.args)
        while len(self._parsed) > _PARSED_CACHE:
            self._parsed.popitem(last=False)
        if PUBLIC not in spec.roles:
            roles, _ = self.roles_of(tx.signer_did)
            _require_role(tx.contract, tx.action, spec.roles, roles, tx.signer_did)

    # -- execution (FinalizeBlock) -------------------------------------------

    def execute_block(
        self, txs: Sequence[SignedTransaction], *, time_ms: int, proposer: bytes
    ) -> PendingBlock:
        """Execute ``txs`` as block ``height + 1`` on staged state.

        Precondition: every transaction's signature has been verified.
        """
        if time_ms <= self.last_time_ms:
            raise ValueError(
                f"block time {time_ms} must be after the previous block's {self.last_time_ms}"
            )
        height = self.height + 1
        block = _Overlay(self._values)
        results = tuple(self._execute_tx(stx, block, height, time_ms) for stx in txs)
        result_leaves = tuple(result.encode() for result in results)
        tree = self.tree.update(block.writes)
        header = BlockHeader(
            chain_id=self.chain_id,
            height=height,
            time_ms=time_ms,
            prev_hash=self.last_hash,
            tx_root=merkle.merkle_root([stx.envelope for stx in txs]),
            tx_count=len(txs),
            results_root=merkle.merkle_root(result_leaves),
            state_root=tree.root,
            proposer=proposer,
        )
        return PendingBlock(
            header=header,
            txs=tuple(txs),
            results=results,
            result_leaves=result_leaves,
            changes=block.writes,
            tree=tree,
        )

    def _execute_tx(
        self, stx: SignedTransaction, block: _Overlay, height: int, time_ms: int
    ) -> TxResult:
        tx = stx.tx
        key = nonce_key(tx.signer)
        raw_nonce = block.get(key)
        last = 0 if raw_nonce is None else int(cbor2.loads(raw_nonce))
        if tx.chain_id != self.chain_id:
            return _rejected(stx, WrongChain(f"transaction is for chain {tx.chain_id!r}"))
        if tx.nonce <= last:
            return _rejected(
                stx, NonceError(f"nonce {tx.nonce} is not above the signer's last nonce {last}")
            )
        block.put(key, codec.encode(tx.nonce))
        view = _Overlay(block)
        try:
            contract = self.contract(tx.contract)
            spec = contract.spec(tx.action)
            args = self._parsed.pop(stx.id, None)
            if type(args) is not spec.args_model:
                args = spec.parse_args(tx.args)
            identity = ContractState(view, IDENTITY)
            signer_did = tx.signer_did
            ctx = Context(
                view=view,
                contract=tx.contract,
                signer=tx.signer,
                signer_did=signer_did,
                height=height,
                time_ms=time_ms,
                tx_id=stx.id.hex(),
                identity=lambda: roles_from_state(identity, signer_did),
                roles_of=lambda did: roles_from_state(identity, did)[0],
            )
            if PUBLIC not in spec.roles:
                _require_role(tx.contract, tx.action, spec.roles, ctx.roles, signer_did)
            spec.method(contract, ctx, args)
        except SalusError as exc:
            return _rejected(stx, exc)
        except Exception as exc:  # a contract bug must not halt the chain
            # The message is deterministic: same code, same input, same text.
            return TxResult(
                stx.id,
                False,
                "contract_failure",
                f"contract raised {type(exc).__name__}: {exc}",
                (),
            )
        block.writes.update(view.writes)
        return TxResult(stx.id, True, "ok", "", tuple(ctx.events))

    # -- commit ---------------------------------------------------------------

    def commit(self, pending: PendingBlock) -> None:
        """Make ``pending`` the committed state. It must extend the current tip."""
        header = pending.header
        if header.height != self.height + 1 or header.prev_hash != self.last_hash:
            raise ValueError(f"block {header.height} does not extend height {self.height}")
        for key, value in pending.changes.items():
            if value is None:
                self._values.pop(key, None)
            else:
                self._values[key] = value
        self.tree = pending.tree
        self.height = header.height
        self.last_hash = header.hash
        self.last_time_ms = header.time_ms


def _require_role(
    contract: str, action: str, allowed: frozenset[str], held: frozenset[str], did: str
) -> None:
    if allowed & held:
        return
    wanted = " or ".join(repr(role) for role in sorted(allowed))
    have = ", ".join(repr(role) for role in sorted(held))
    raise PermissionDenied(
        f"{contract}.{action} requires role {wanted}; signer {did} holds only {have}"
    )


def _rejected(stx: SignedTransaction, exc: SalusError) -> TxResult:
    return TxResult(stx.id, False, exc.code, exc.reason, ())
