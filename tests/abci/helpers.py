"""Building ABCI requests for the Salus app, as CometBFT would send them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from salus.abci import SalusApp
from salus.cometbft.home import cometbft_address
from salus.core.contract import Contract
from salus.core.crypto import Signer, sha256
from salus.core.genesis import Genesis
from salus.core.pb.tendermint.abci import types_pb2 as abci
from salus.core.pb.tendermint.crypto import keys_pb2
from salus.core.tx import Transaction, sign_transaction
from salus.node import Node, SqliteStore
from tests.support import genesis_data, key

VALIDATOR = key(9)
BLOCK_MS = 1000


def make_genesis(**kwargs: Any) -> Genesis:
    return Genesis.from_data(genesis_data(**kwargs))


def timestamp(time_ms: int) -> Timestamp:
    return Timestamp(seconds=time_ms // 1000, nanos=(time_ms % 1000) * 1_000_000)


def new_app(path: Path, genesis: Genesis, contracts: list[Contract] | None = None) -> SalusApp:
    return SalusApp(Node(genesis, SqliteStore(path), None, contracts=contracts))


def init_chain_request(genesis: Genesis) -> abci.RequestInitChain:
    return abci.RequestInitChain(
        time=timestamp(genesis.genesis_time_ms),
        chain_id=genesis.chain_id,
        validators=[
            abci.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=v.public_key), power=v.power)
            for v in genesis.validators
        ],
        initial_height=1,
    )


def digest_of(signer: Signer, nonce: int) -> str:
    """A digest unique to (signer, nonce), anchored by default."""
    return sha256(signer.public_key + nonce.to_bytes(8, "big")).hex()


def envelope(
    signer: Signer,
    nonce: int,
    contract: str = "notary",
    action: str = "anchor",
    args: dict[str, Any] | None = None,
    *,
    chain_id: str = "salus-test",
) -> bytes:
    if args is None:
        args = {"digest": digest_of(signer, nonce)}
    tx = Transaction(chain_id, signer.public_key, nonce, contract, action, args)
    return sign_transaction(tx, signer).envelope


def check(app: SalusApp, tx: bytes, *, recheck: bool = False) -> abci.ResponseCheckTx:
    kind = abci.CheckTxType.RECHECK if recheck else abci.CheckTxType.NEW
    return app.check_tx(abci.RequestCheckTx(tx=tx, type=kind))


def finalize_request(
    height: int, txs: list[bytes], time_ms: int, proposer: Signer = VALIDATOR
) -> abci.RequestFinalizeBlock:
    return abci.RequestFinalizeBlock(
        txs=txs,
        height=height,
        time=timestamp(time_ms),
        proposer_address=cometbft_address(proposer.public_key),
    )


def run_block(
    app: SalusApp, txs: list[bytes], *, proposer: Signer = VALIDATOR
) -> abci.ResponseFinalizeBlock:
    """ProcessProposal, FinalizeBlock and Commit of the next block, one second later."""
    ledger = app.node.ledger
    height = ledger.height + 1
    time_ms = ledger.last_time_ms + BLOCK_MS
    processed = app.process_proposal(
        abci.RequestProcessProposal(txs=txs, height=height, time=timestamp(time_ms))
    )
    assert processed.status == abci.ResponseProcessProposal.ACCEPT
    response = app.finalize_block(finalize_request(height, txs, time_ms, proposer))
    app.commit(abci.RequestCommit())
    return response
