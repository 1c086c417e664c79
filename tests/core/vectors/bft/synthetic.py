"""A CometBFT chain simulated in Python over a real Salus ledger, for bundle tests.

The captured vectors (``capture.py``) prove that :mod:`salus.core.bft` computes
CometBFT's bytes; they run the kvstore app, whose transactions are not Salus
envelopes and whose app hash is not a Salus state root. This module produces what
a Salus network on CometBFT would: each block's transactions execute on a
:class:`~salus.core.ledger.Ledger`, header H+1 carries the state root after block H
as ``app_hash`` and the ``ExecTxResult`` of each transaction (``data`` = SHA-256 of
the Salus result) in ``last_results_hash``, and the validators sign real
``CanonicalVote`` bytes with deterministic test keys. Only fields no verifier can
check without the block's other parts (``last_commit_hash``, the part-set hash) are
stand-ins. Everything is deterministic, so bundles built from it are reproducible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import timestamp_pb2

from salus.core import bft
from salus.core.crypto import Signer, sha256
from salus.core.genesis import Genesis
from salus.core.ledger import Ledger
from salus.core.pb.tendermint.abci import types_pb2 as abci_pb2
from salus.core.pb.tendermint.types import types_pb2, validator_pb2
from salus.core.state_tree import StateTree
from salus.core.tx import SignedTransaction

GO_ZERO_TIME = -62_135_596_800
START_SECONDS = 1_767_225_600  # 2026-01-01T00:00:00Z
# consensus_hash of CometBFT v0.38's default consensus params (see the captured headers)
CONSENSUS_HASH = bytes.fromhex("048091BC7DDC283F77BFBF91D73C44DA58C3DF8A9CBC867405D8B7F3DAADA22F")


def block_id(header: types_pb2.Header) -> types_pb2.BlockID:
    """The block id of ``header``, with a stand-in part-set header."""
    hash_ = bft.header_hash(header)
    result = types_pb2.BlockID(hash=hash_)
    result.part_set_header.total = 1
    result.part_set_header.hash = sha256(b"part set of " + hash_)
    return result


def sign_commit(
    chain_id: str,
    header: types_pb2.Header,
    validators: bft.Validators,
    signers: Mapping[bytes, Signer],
    *,
    absent: Iterable[bytes] = (),
    target: types_pb2.BlockID | None = None,
) -> types_pb2.Commit:
    """A commit for ``header`` by ``validators`` (keys in ``absent`` did not vote)."""
    skipped = set(absent)
    commit = types_pb2.Commit(height=header.height, round=0)
    commit.block_id.CopyFrom(target if target is not None else block_id(header))
    for index, (key, _) in enumerate(validators):
        sig = commit.signatures.add()
        if key in skipped:
            sig.block_id_flag = validator_pb2.BLOCK_ID_FLAG_ABSENT
            sig.timestamp.seconds = GO_ZERO_TIME
            continue
        sig.block_id_flag = validator_pb2.BLOCK_ID_FLAG_COMMIT
        sig.validator_address = bft.address(key)
        sig.timestamp.seconds = header.time.seconds + 1
        sig.timestamp.nanos = 1_000_000 * (index + 1)
    for index, (key, _) in enumerate(validators):
        if key not in skipped:
            message = bft.vote_sign_bytes(chain_id, commit, index)
            commit.signatures[index].signature = signers[key].sign(message)
    return commit


@dataclass
class Block:
    """One simulated CometBFT block and what the Salus app answered for it."""

    light: bft.LightBlock
    txs: list[bytes]
    exec_results: list[abci_pb2.ExecTxResult]
    result_leaves: list[bytes]
    tree: StateTree  # the Salus state after this block


@dataclass
class SyntheticNetwork:
    """Salus on a simulated CometBFT: :meth:`produce` makes and finalises one block."""

    genesis: Genesis
    signers: dict[bytes, Signer]
    ledger: Ledger = field(init=False)
    validators: bft.Validators = field(init=False)
    next_validators: bft.Validators = field(init=False)
    blocks: dict[int, Block] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ledger = Ledger.from_genesis(self.genesis)
        self.validators = bft.genesis_validators(self.genesis)
        self.next_validators = self.validators

    @property
    def height(self) -> int:
        return len(self.blocks)

    def schedule(self, validators: Iterable[tuple[bytes, int]]) -> None:
        """The next header names ``validators`` as its next set; the block after it uses them."""
        self.next_validators = bft.sort_validators(validators)

    def header(self, txs: list[bytes]) -> types_pb2.Header:
        height = self.height + 1
        previous = self.blocks.get(height - 1)
        header = types_pb2.Header(
            chain_id=self.genesis.chain_id,
            height=height,
            last_commit_hash=sha256(b"last commit of %d" % (height - 1)),
            data_hash=bft.data_hash(txs),
            validators_hash=bft.validator_set_hash(self.validators),
            next_validators_hash=bft.validator_set_hash(self.next_validators),
            consensus_hash=CONSENSUS_HASH,
            app_hash=self.ledger.state_root,
            last_results_hash=bft.last_results_hash(previous.exec_results if previous else []),
            evidence_hash=sha256(b""),
            proposer_address=bft.address(self.validators[height % len(self.validators)][0]),
        )
        header.version.block = bft.BLOCK_PROTOCOL
        header.version.app = 1
        header.time.CopyFrom(
            timestamp_pb2.Timestamp(seconds=START_SECONDS + 2 * height, nanos=123_000 * height)
        )
        header.last_block_id.SetInParent()
        if previous is not None:
            header.last_block_id.CopyFrom(block_id(previous.light.header))
        return header

    def produce(self, *stxs: SignedTransaction, absent: Iterable[bytes] = ()) -> Block:
        """Propose, finalise and execute the next block holding ``stxs``."""
        txs = [stx.envelope for stx in stxs]
        header = self.header(txs)
        commit = sign_commit(
            self.genesis.chain_id, header, self.validators, self.signers, absent=absent
        )
        pending = self.ledger.execute_block(
            list(stxs),
            time_ms=bft.time_ms(header),
            proposer=self.validators[0][0],
        )
        self.ledger.commit(pending)
        block = Block(
            light=bft.LightBlock(header, commit, self.validators),
            txs=txs,
            exec_results=[
                abci_pb2.ExecTxResult(code=0 if result.ok else 1, data=sha256(leaf))
                for result, leaf in zip(pending.results, pending.result_leaves, strict=True)
            ],
            result_leaves=list(pending.result_leaves),
            tree=pending.tree,
        )
        self.blocks[header.height] = block
        self.validators = self.next_validators
        return block

    def light(self, height: int) -> bft.LightBlock:
        return self.blocks[height].light


def resign(
    light: bft.LightBlock,
    signers: Mapping[bytes, Signer],
    *,
    validators: Iterable[tuple[bytes, int]] | None = None,
    absent: Iterable[bytes] = (),
    **changes: Any,
) -> bft.LightBlock:
    """``light`` with header fields changed and its commit signed again for the result.

    With ``validators``, the header names that set and that set signs.
    """
    header = types_pb2.Header()
    header.CopyFrom(light.header)
    for name, value in changes.items():
        if isinstance(value, types_pb2.BlockID):
            getattr(header, name).CopyFrom(value)
        else:
            setattr(header, name, value)
    members = light.validators if validators is None else bft.sort_validators(validators)
    header.validators_hash = bft.validator_set_hash(members)
    commit = sign_commit(header.chain_id, header, members, signers, absent=absent)
    return bft.LightBlock(header, commit, members)
