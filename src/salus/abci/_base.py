"""The ABCI 2.0 application interface the socket server drives, with neutral defaults.

Rules this module obeys:
- One method per ABCI request that reaches the application, named after the
  ``Request`` oneof field (``check_tx``, ``finalize_block`` ...); each takes the
  request message and returns the response message. ``echo`` and ``flush`` never
  reach the application: the server answers them (they are transport-level).
- Methods are synchronous. The server never calls two of them at the same time,
  whichever of CometBFT's four connections the requests arrive on.
- A method that raises makes the server answer ``ResponseException`` with the error
  text; CometBFT then stops (ABCI has no other way to report a broken application).

:class:`BaseApplication` answers like CometBFT's ``abci/types.BaseApplication``:
an application with no state that accepts everything and refuses snapshots.
"""

from __future__ import annotations

from typing import Protocol

from salus.core.pb.tendermint.abci import types_pb2 as abci

__all__ = ["APPLICATION_METHODS", "Application", "BaseApplication"]

# The Request oneof fields that are routed to the application (the rest: echo, flush).
APPLICATION_METHODS = (
    "info",
    "init_chain",
    "query",
    "check_tx",
    "commit",
    "list_snapshots",
    "offer_snapshot",
    "load_snapshot_chunk",
    "apply_snapshot_chunk",
    "prepare_proposal",
    "process_proposal",
    "extend_vote",
    "verify_vote_extension",
    "finalize_block",
)


class Application(Protocol):
    """What :class:`~salus.abci.AbciServer` needs from an application."""

    def info(self, req: abci.RequestInfo) -> abci.ResponseInfo: ...

    def init_chain(self, req: abci.RequestInitChain) -> abci.ResponseInitChain: ...

    def query(self, req: abci.RequestQuery) -> abci.ResponseQuery: ...

    def check_tx(self, req: abci.RequestCheckTx) -> abci.ResponseCheckTx: ...

    def commit(self, req: abci.RequestCommit) -> abci.ResponseCommit: ...

    def list_snapshots(self, req: abci.RequestListSnapshots) -> abci.ResponseListSnapshots: ...

    def offer_snapshot(self, req: abci.RequestOfferSnapshot) -> abci.ResponseOfferSnapshot: ...

    def load_snapshot_chunk(
        self, req: abci.RequestLoadSnapshotChunk
    ) -> abci.ResponseLoadSnapshotChunk: ...

    def apply_snapshot_chunk(
        self, req: abci.RequestApplySnapshotChunk
    ) -> abci.ResponseApplySnapshotChunk: ...

    def prepare_proposal(
        self, req: abci.RequestPrepareProposal
    ) -> abci.ResponsePrepareProposal: ...

    def process_proposal(
        self, req: abci.RequestProcessProposal
    ) -> abci.ResponseProcessProposal: ...

    def extend_vote(self, req: abci.RequestExtendVote) -> abci.ResponseExtendVote: ...

    def verify_vote_extension(
        self, req: abci.RequestVerifyVoteExtension
    ) -> abci.ResponseVerifyVoteExtension: ...

    def finalize_block(self, req: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock: ...


class BaseApplication:
    """Neutral answers to every ABCI method; subclasses override what they implement."""

    def info(self, req: abci.RequestInfo) -> abci.ResponseInfo:
        return abci.ResponseInfo()

    def init_chain(self, req: abci.RequestInitChain) -> abci.ResponseInitChain:
        return abci.ResponseInitChain()

    def query(self, req: abci.RequestQuery) -> abci.ResponseQuery:
        return abci.ResponseQuery(code=0)

    def check_tx(self, req: abci.RequestCheckTx) -> abci.ResponseCheckTx:
        return abci.ResponseCheckTx(code=0)

    def commit(self, req: abci.RequestCommit) -> abci.ResponseCommit:
        return abci.ResponseCommit()

    # State sync is not offered: a new node replays blocks (block sync) instead.

    def list_snapshots(self, req: abci.RequestListSnapshots) -> abci.ResponseListSnapshots:
        return abci.ResponseListSnapshots()

    def offer_snapshot(self, req: abci.RequestOfferSnapshot) -> abci.ResponseOfferSnapshot:
        return abci.ResponseOfferSnapshot(result=abci.ResponseOfferSnapshot.REJECT)

    def load_snapshot_chunk(
        self, req: abci.RequestLoadSnapshotChunk
    ) -> abci.ResponseLoadSnapshotChunk:
        return abci.ResponseLoadSnapshotChunk()

    def apply_snapshot_chunk(
        self, req: abci.RequestApplySnapshotChunk
    ) -> abci.ResponseApplySnapshotChunk:
        return abci.ResponseApplySnapshotChunk(result=abci.ResponseApplySnapshotChunk.ABORT)

    def prepare_proposal(self, req: abci.RequestPrepareProposal) -> abci.ResponsePrepareProposal:
        return abci.ResponsePrepareProposal(txs=list(req.txs))

    def process_proposal(self, req: abci.RequestProcessProposal) -> abci.ResponseProcessProposal:
        return abci.ResponseProcessProposal(status=abci.ResponseProcessProposal.ACCEPT)

    # Vote extensions are off (consensus param vote_extensions_enable_height = 0);
    # these answers are what CometBFT expects should they ever be called.

    def extend_vote(self, req: abci.RequestExtendVote) -> abci.ResponseExtendVote:
        return abci.ResponseExtendVote(vote_extension=b"")

    def verify_vote_extension(
        self, req: abci.RequestVerifyVoteExtension
    ) -> abci.ResponseVerifyVoteExtension:
        return abci.ResponseVerifyVoteExtension(status=abci.ResponseVerifyVoteExtension.ACCEPT)

    def finalize_block(self, req: abci.RequestFinalizeBlock) -> abci.ResponseFinalizeBlock:
        return abci.ResponseFinalizeBlock(tx_results=[abci.ExecTxResult(code=0) for _ in req.txs])
