"""The Salus ABCI application driven in-process with the requests CometBFT sends."""

from __future__ import annotations

import json
from pathlib import Path

import cbor2
import pytest

import salus.abci
from salus.abci import SalusApp, TxCode
from salus.cometbft.home import cometbft_address
from salus.core import codec, merkle
from salus.core.block import TxResult
from salus.core.contract import PUBLIC, ActionArgs, Context, Contract, action
from salus.core.crypto import sha256
from salus.core.identity import IdentityContract
from salus.core.ledger import default_contracts
from salus.core.notary import NotaryContract
from salus.core.pb.tendermint.abci import types_pb2 as abci
from salus.core.pb.tendermint.crypto import keys_pb2
from salus.core.state_tree import StateProof, verify_state_proof
from salus.errors import GenesisError, InvalidTransaction, StorageError
from tests.abci.helpers import (
    VALIDATOR,
    check,
    digest_of,
    envelope,
    finalize_request,
    init_chain_request,
    make_genesis,
    new_app,
    run_block,
    timestamp,
)
from tests.support import key

GENESIS = make_genesis()


@pytest.fixture
def app(tmp_path: Path) -> SalusApp:
    app = new_app(tmp_path / "l.sqlite", GENESIS)
    app.init_chain(init_chain_request(GENESIS))
    return app


def test_public_exports() -> None:
    assert set(salus.abci.__all__) == {
        "CODESPACE",
        "AbciServer",
        "AbciServerThread",
        "Application",
        "BaseApplication",
        "FrameDecoder",
        "FrameError",
        "SalusApp",
        "TxCode",
        "abci_code",
        "frame",
    }
    for name in salus.abci.__all__:
        assert hasattr(salus.abci, name), name


def test_code_table_is_stable() -> None:
    assert {code.name.lower(): int(code) for code in TxCode} == {
        "ok": 0,
        "encoding": 1,
        "bad_signature": 2,
        "wrong_chain": 3,
        "bad_nonce": 4,
        "permission_denied": 5,
        "unknown_contract": 6,
        "unknown_action": 7,
        "invalid_arguments": 8,
        "contract_error": 9,
        "contract_failure": 10,
        "other": 11,
    }
    assert salus.abci.abci_code("invalid_transaction") == 11


# -- handshake -----------------------------------------------------------------


def test_fresh_app_reports_height_zero(tmp_path: Path) -> None:
    info = new_app(tmp_path / "l.sqlite", GENESIS).info(abci.RequestInfo())
    assert info.last_block_height == 0
    assert info.last_block_app_hash == b""
    assert info.data == "salus"
    assert info.app_version == 1
    assert info.version == salus.__version__


def test_init_chain_answers_the_genesis_state_root(tmp_path: Path) -> None:
    app = new_app(tmp_path / "l.sqlite", GENESIS)
    response = app.init_chain(init_chain_request(GENESIS))
    assert response.app_hash == app.node.ledger.state_root
    assert len(response.app_hash) == 32
    assert not response.validators  # CometBFT keeps the genesis validators


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chain_id": "other-chain"}, "chain id is 'other-chain'"),
        ({"initial_height": 5}, "initial_height must be 1"),
        ({"time": timestamp(GENESIS.genesis_time_ms + 1)}, "genesis time"),
        ({"power": 11}, "validators differ"),
        ({"extra_validator": True}, "validators differ"),
        ({"secp256k1": True}, "Ed25519"),
    ],
)
def test_init_chain_refuses_a_foreign_genesis(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    request = init_chain_request(GENESIS)
    if "chain_id" in change:
        request.chain_id = str(change["chain_id"])
    if "initial_height" in change:
        request.initial_height = 5
    if "time" in change:
        request.time.CopyFrom(timestamp(GENESIS.genesis_time_ms + 1))
    if "power" in change:
        request.validators[0].power = 11
    if "extra_validator" in change:
        request.validators.append(
            abci.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=key(8).public_key), power=1)
        )
    if "secp256k1" in change:
        request.validators[0].pub_key.CopyFrom(keys_pb2.PublicKey(secp256k1=b"\x02" * 33))
    with pytest.raises(GenesisError, match=message):
        new_app(tmp_path / "l.sqlite", GENESIS).init_chain(request)


def test_init_chain_refuses_a_store_that_already_has_blocks(app: SalusApp) -> None:
    run_block(app, [])
    with pytest.raises(StorageError, match="Salus store is at height 1"):
        app.init_chain(init_chain_request(GENESIS))


# -- the block life cycle ------------------------------------------------------


def test_full_block_life_cycle(app: SalusApp) -> None:
    alice, bob = key(1), key(2)
    txs = [envelope(alice, 1), envelope(alice, 2), envelope(bob, 1)]
    for tx in txs:
        checked = check(app, tx)
        assert checked.code == 0, checked.log

    prepared = app.prepare_proposal(
        abci.RequestPrepareProposal(txs=txs, max_tx_bytes=1 << 20, height=1)
    )
    assert list(prepared.txs) == txs
    processed = app.process_proposal(abci.RequestProcessProposal(txs=txs, height=1))
    assert processed.status == abci.ResponseProcessProposal.ACCEPT

    before = app.node.ledger.state_root
    time_ms = GENESIS.genesis_time_ms + 5000
    response = app.finalize_block(finalize_request(1, txs, time_ms))
    assert app.node.height == 0  # nothing committed before Commit
    assert app.node.ledger.state_root == before
    assert [result.code for result in response.tx_results] == [0, 0, 0]
    assert not response.validator_updates

    committed = app.commit(abci.RequestCommit())
    assert committed.retain_height == 0
    ledger = app.node.ledger
    assert app.node.height == 1
    assert response.app_hash == ledger.state_root != before

    stored = app.node.get_block(1)
    header = stored.header
    assert stored.signature == b""
    assert header.tx_root == merkle.merkle_root(txs)
    assert header.proposer == VALIDATOR.public_key
    assert header.time_ms == time_ms
    for index, result in enumerate(response.tx_results):
        leaf = app.node.store.get_tx(sha256(cbor2.loads(txs[index])[0])).result  # type: ignore[union-attr]
        assert result.data == sha256(leaf)
        assert result.gas_wanted == result.gas_used == 0
        assert TxResult.decode(leaf).ok
        event = result.events[0]
        assert event.type == "notary.anchored"
        attributes = {a.key: (a.value, a.index) for a in event.attributes}
        signer, nonce = [(alice, 1), (alice, 2), (bob, 1)][index]
        assert attributes == {"subject": (digest_of(signer, nonce), True), "attrs": ("{}", True)}

    info = app.info(abci.RequestInfo())
    assert info.last_block_height == 1
    assert info.last_block_app_hash == ledger.state_root


def test_block_one_at_genesis_time_is_stamped_one_millisecond_later(app: SalusApp) -> None:
    # CometBFT's first block carries the genesis time; Salus block times strictly increase.
    app.finalize_block(finalize_request(1, [], GENESIS.genesis_time_ms))
    app.commit(abci.RequestCommit())
    assert app.node.get_block(1).header.time_ms == GENESIS.genesis_time_ms + 1


def test_results_hash_is_cometbfts_last_results_hash(app: SalusApp) -> None:
    # CometBFT hashes (RFC 6962) each ExecTxResult reduced to code, data, gas_wanted and
    # gas_used; Salus puts SHA-256 of its result leaf in data, so the hash binds the results.
    txs = [envelope(key(1), 1), envelope(key(1), 1)]
    response = run_block(app, txs)
    assert [result.code for result in response.tx_results] == [0, TxCode.BAD_NONCE]
    deterministic = [
        abci.ExecTxResult(
            code=r.code, data=r.data, gas_wanted=r.gas_wanted, gas_used=r.gas_used
        ).SerializeToString()
        for r in response.tx_results
    ]
    leaves = [stored.result for stored in app.node.store.block_txs(1)]
    expected = [
        abci.ExecTxResult(
            code=salus.abci.abci_code(TxResult.decode(leaf).code), data=sha256(leaf)
        ).SerializeToString()
        for leaf in leaves
    ]
    assert deterministic == expected
    assert merkle.merkle_root(deterministic) == merkle.merkle_root(expected)


# -- CheckTx -------------------------------------------------------------------


class _NoArgs(ActionArgs):
    pass


class BrokenContract(Contract):
    """A contract with a bug, to see code 10."""

    name = "broken"

    @action(roles=[PUBLIC])
    def explode(self, ctx: Context, args: _NoArgs) -> None:
        raise RuntimeError("boom")


def _with_bad_signature(tx: bytes) -> bytes:
    body, signature = cbor2.loads(tx)
    return codec.encode([body, bytes([signature[0] ^ 1]) + signature[1:]])


def test_check_tx_codes(app: SalusApp) -> None:
    alice = key(1)
    outsider = key(7)
    cases = [
        (b"\x01garbage", TxCode.ENCODING, "transaction must be"),
        (_with_bad_signature(envelope(alice, 1)), TxCode.BAD_SIGNATURE, "does not verify"),
        (envelope(alice, 1, chain_id="other-chain"), TxCode.WRONG_CHAIN, "other-chain"),
        (envelope(alice, 1, "nosuch", "x", {}), TxCode.UNKNOWN_CONTRACT, "no contract"),
        (envelope(alice, 1, "notary", "nosuch", {}), TxCode.UNKNOWN_ACTION, "no action"),
        (envelope(alice, 1, args={"digest": "xyz"}), TxCode.INVALID_ARGUMENTS, "digest"),
        (
            envelope(outsider, 1, "identity", "approve", {"proposal": 1}),
            TxCode.PERMISSION_DENIED,
            "requires role",
        ),
    ]
    for tx, code, reason in cases:
        response = check(app, tx)
        assert response.code == code, (code, response.log)
        assert reason in response.log
        assert response.codespace == "salus"
    # Nothing above was admitted, so nonce 1 is still free; then it is pending.
    assert check(app, envelope(alice, 1)).code == 0
    replay = check(app, envelope(alice, 1, args={"digest": "ab" * 32}))
    assert replay.code == TxCode.BAD_NONCE
    assert "not above the signer's last nonce 1" in replay.log


def test_contract_error_and_failure_codes_come_from_execution(tmp_path: Path) -> None:
    app = new_app(tmp_path / "l.sqlite", GENESIS, [*default_contracts(), BrokenContract()])
    app.init_chain(init_chain_request(GENESIS))
    alice = key(1)
    same_digest = {"digest": "cd" * 32}
    txs = [
        envelope(alice, 1, args=same_digest),
        envelope(alice, 2, args=same_digest),
        envelope(alice, 3, "broken", "explode", {}),
    ]
    response = run_block(app, txs)
    codes = [result.code for result in response.tx_results]
    assert codes == [0, TxCode.CONTRACT_ERROR, TxCode.CONTRACT_FAILURE]
    assert "already anchored" in response.tx_results[1].log
    assert "RuntimeError: boom" in response.tx_results[2].log
    assert response.tx_results[1].codespace == "salus"


def test_pending_nonces_allow_bursts_and_recheck_rebuilds_them(app: SalusApp) -> None:
    alice = key(1)
    burst = [envelope(alice, n) for n in (1, 2, 3, 4)]
    assert [check(app, tx).code for tx in burst] == [0, 0, 0, 0]
    assert check(app, envelope(alice, 3, args={"digest": "ef" * 32})).code == TxCode.BAD_NONCE

    run_block(app, burst[:2])  # the block holds nonces 1 and 2; 3 and 4 stay in the mempool
    # CometBFT rechecks what is left, in mempool order; the pending nonces come back.
    assert [check(app, tx, recheck=True).code for tx in burst[2:]] == [0, 0]
    assert check(app, envelope(alice, 4, args={"digest": "ef" * 32})).code == TxCode.BAD_NONCE
    assert check(app, envelope(alice, 5)).code == 0
    # A transaction already committed fails its recheck (it would be a replay).
    assert check(app, burst[0], recheck=True).code == TxCode.BAD_NONCE


def test_signatures_are_verified_once(app: SalusApp, monkeypatch: pytest.MonkeyPatch) -> None:
    from salus.core.tx import SignedTransaction

    calls: list[bytes] = []
    original = SignedTransaction.verify_signature

    def counting(self: SignedTransaction) -> None:
        calls.append(self.id)
        original(self)

    monkeypatch.setattr(SignedTransaction, "verify_signature", counting)
    txs = [envelope(key(1), 1), envelope(key(2), 1)]
    for tx in txs:
        check(app, tx)
    app.prepare_proposal(abci.RequestPrepareProposal(txs=txs, max_tx_bytes=1 << 20))
    run_block(app, txs)
    assert len(calls) == 2


# -- proposals -----------------------------------------------------------------


def test_prepare_proposal_drops_invalid_and_respects_max_tx_bytes(app: SalusApp) -> None:
    good = [envelope(key(1), n) for n in (1, 2, 3)]
    bad = _with_bad_signature(envelope(key(2), 1))
    txs = [good[0], b"junk", bad, good[1], good[2]]
    everything = app.prepare_proposal(abci.RequestPrepareProposal(txs=txs, max_tx_bytes=1 << 20))
    assert list(everything.txs) == good
    # Each transaction takes 1 tag byte + its length prefix + itself in the block's data.
    size = 1 + len(salus.abci._wire.encode_uvarint(len(good[0]))) + len(good[0])
    assert all(len(tx) == len(good[0]) for tx in good)
    two = app.prepare_proposal(abci.RequestPrepareProposal(txs=txs, max_tx_bytes=2 * size + 1))
    assert list(two.txs) == good[:2]
    none = app.prepare_proposal(abci.RequestPrepareProposal(txs=txs, max_tx_bytes=size - 1))
    assert list(none.txs) == []


@pytest.mark.parametrize(
    "bad", [b"junk", _with_bad_signature(envelope(key(2), 1))], ids=["undecodable", "bad-sig"]
)
def test_process_proposal_rejects_unverifiable_transactions(app: SalusApp, bad: bytes) -> None:
    txs = [envelope(key(1), 1), bad]
    response = app.process_proposal(abci.RequestProcessProposal(txs=txs, height=1))
    assert response.status == abci.ResponseProcessProposal.REJECT


def test_process_proposal_accepts_stateful_failures(app: SalusApp) -> None:
    # A replayed nonce is a result (rejected in the block), not a reason to refuse a block.
    txs = [envelope(key(1), 1), envelope(key(1), 1)]
    response = app.process_proposal(abci.RequestProcessProposal(txs=txs, height=1))
    assert response.status == abci.ResponseProcessProposal.ACCEPT


def test_finalize_block_halts_on_a_decided_invalid_block(app: SalusApp) -> None:
    with pytest.raises(InvalidTransaction, match="index 1"):
        app.finalize_block(finalize_request(1, [envelope(key(1), 1), b"junk"], 1))


def test_finalize_block_checks_height_and_proposer(app: SalusApp) -> None:
    with pytest.raises(StorageError, match="next height is 1"):
        app.finalize_block(finalize_request(2, [], GENESIS.genesis_time_ms + 1000))
    with pytest.raises(StorageError, match="not a known validator"):
        app.finalize_block(finalize_request(1, [], GENESIS.genesis_time_ms + 1000, key(5)))


def test_commit_without_finalize_block_is_an_error(app: SalusApp) -> None:
    with pytest.raises(StorageError, match="without a finalized block"):
        app.commit(abci.RequestCommit())


# -- determinism, restart, replay -----------------------------------------------


def _blocks() -> list[list[bytes]]:
    alice, bob = key(1), key(2)
    return [
        [envelope(alice, 1), envelope(bob, 1)],
        [],
        [envelope(alice, 2), envelope(alice, 2), envelope(bob, 2, "notary", "nosuch", {})],
        [envelope(bob, 3, args={"digest": "aa" * 32, "note": "x"})],
    ]


def test_two_apps_fed_the_same_blocks_agree(tmp_path: Path) -> None:
    one = new_app(tmp_path / "one.sqlite", GENESIS)
    two = new_app(tmp_path / "two.sqlite", GENESIS)
    assert one.init_chain(init_chain_request(GENESIS)) == two.init_chain(
        init_chain_request(GENESIS)
    )
    for txs in _blocks():
        for tx in txs:  # only one of them saw the transactions in its mempool
            check(one, tx)
        first, second = run_block(one, txs), run_block(two, txs)
        assert first.SerializeToString() == second.SerializeToString()
        assert one.node.ledger.state_root == two.node.ledger.state_root
        assert one.node.ledger.last_hash == two.node.ledger.last_hash


def test_restarted_app_reports_its_height_and_root(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    app = new_app(path, GENESIS)
    app.init_chain(init_chain_request(GENESIS))
    for txs in _blocks():
        last = run_block(app, txs)
    app.node.close()

    again = new_app(path, GENESIS)
    info = again.info(abci.RequestInfo())
    assert info.last_block_height == len(_blocks())
    assert info.last_block_app_hash == last.app_hash
    # It continues where it stopped.
    assert run_block(again, [envelope(key(1), 3)]).tx_results[0].code == 0


def test_crash_before_commit_then_replay_gives_the_same_block(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    blocks = _blocks()
    app = new_app(path, GENESIS)
    app.init_chain(init_chain_request(GENESIS))
    run_block(app, blocks[0])
    time_ms = app.node.ledger.last_time_ms + 1000
    request = finalize_request(2, blocks[2], time_ms)
    before_crash = app.finalize_block(request)
    app.node.close()  # the process dies here: Commit never ran

    restarted = new_app(path, GENESIS)
    assert restarted.info(abci.RequestInfo()).last_block_height == 1
    replayed = restarted.finalize_block(request)  # CometBFT's handshake replays block 2
    assert replayed.SerializeToString() == before_crash.SerializeToString()
    restarted.commit(abci.RequestCommit())
    assert restarted.node.ledger.state_root == before_crash.app_hash
    assert restarted.info(abci.RequestInfo()).last_block_height == 2


# -- validator set changes -----------------------------------------------------


def _propose(
    app: SalusApp, nonces: dict[int, int], kind: str, params: dict[str, object]
) -> abci.ResponseFinalizeBlock:
    """Member 1 proposes (approving implicitly), member 2 approves: 2 of 3 apply it."""
    number = (app.node.ledger.read("identity", "config") or {}).get("next_proposal", 1)
    txs = []
    for member, action_name, args in (
        (1, "propose", {"kind": kind, "params": params}),
        (2, "approve", {"proposal": number}),
    ):
        nonces[member] = nonces.get(member, 0) + 1
        txs.append(envelope(key(member), nonces[member], "identity", action_name, args))
    response = run_block(app, txs)
    assert [result.code for result in response.tx_results] == [0, 0], [
        result.log for result in response.tx_results
    ]
    return response


def test_governance_changes_become_validator_updates(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    app = new_app(path, GENESIS)
    app.init_chain(init_chain_request(GENESIS))
    nonces: dict[int, int] = {}
    newcomer = key(8)

    added = _propose(app, nonces, "add_validator", {"did": newcomer.did, "power": 5})
    assert list(added.validator_updates) == [
        abci.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=newcomer.public_key), power=5)
    ]
    # CometBFT applies updates two heights later; the newcomer may then propose.
    run_block(app, [], proposer=newcomer)

    removed = _propose(app, nonces, "remove_validator", {"did": VALIDATOR.did})
    assert list(removed.validator_updates) == [
        abci.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=VALIDATOR.public_key), power=0)
    ]
    assert not run_block(app, []).validator_updates

    # The removed validator may still propose the next block, even after a restart.
    app.node.close()
    again = new_app(path, GENESIS)
    run_block(again, [], proposer=VALIDATOR)
    assert again.node.get_block(again.node.height).header.proposer == VALIDATOR.public_key


def test_validators_key_must_be_well_formed() -> None:
    from salus.abci._validators import validator_powers

    assert validator_powers(None, GENESIS) == {VALIDATOR.public_key: 10}
    assert validator_powers(codec.encode({VALIDATOR.did: 0}), GENESIS) == {}
    with pytest.raises(StorageError, match="map did:key"):
        validator_powers(codec.encode([1]), GENESIS)
    with pytest.raises(StorageError, match="not a did:key"):
        validator_powers(codec.encode({"alice": 1}), GENESIS)
    with pytest.raises(StorageError, match="non-negative"):
        validator_powers(codec.encode({VALIDATOR.did: -1}), GENESIS)


# -- queries -------------------------------------------------------------------


def test_query_state_with_proof(app: SalusApp) -> None:
    digest = "12" * 32
    run_block(app, [envelope(key(1), 1, args={"digest": digest})])
    response = app.query(
        abci.RequestQuery(path="/state", data=f"notary/anchor/{digest}".encode(), prove=True)
    )
    assert response.code == 0
    assert response.height == 1
    assert cbor2.loads(response.value)["by"] == key(1).did
    (op,) = response.proof_ops.ops
    assert op.type == "salus:state"
    assert op.key == f"notary/anchor/{digest}".encode()
    proof = StateProof.from_data(cbor2.loads(op.data))
    verify_state_proof(app.node.ledger.state_root, op.key, response.value, proof)

    absent = app.query(
        abci.RequestQuery(path="/state", data=b"notary/anchor/" + b"0" * 64, prove=True)
    )
    assert absent.code == 0 and absent.value == b"" and absent.log == "absent"
    proof = StateProof.from_data(cbor2.loads(absent.proof_ops.ops[0].data))
    verify_state_proof(app.node.ledger.state_root, absent.key, None, proof)


def test_query_account(app: SalusApp) -> None:
    alice = key(1)
    run_block(app, [envelope(alice, 1)])
    check(app, envelope(alice, 2))
    response = app.query(abci.RequestQuery(path="/account", data=alice.did.encode()))
    assert response.code == 0
    account = json.loads(response.value)
    assert account["next_nonce"] == 3  # one committed, one waiting in the mempool
    assert account["last_nonce"] == 1
    assert "member" in account["roles"] and "admin" in account["roles"]
    assert account["organisation"] == "health-ministry"


@pytest.mark.parametrize(
    ("path", "data", "height", "code", "log"),
    [
        ("/nosuch", b"", 0, 1, "unknown query path '/nosuch'"),
        ("/state", b"nosuch/key", 0, 6, "no contract named 'nosuch'"),
        ("/state", b"notary/", 0, 9, "state key"),
        ("/state", b"\xff", 0, 1, "UTF-8"),
        ("/account", b"did:web:example.org", 0, 1, "not a did:key"),
        ("/state", b"notary/x", 7, 11, "only the latest committed state"),
    ],
)
def test_query_errors(
    app: SalusApp, path: str, data: bytes, height: int, code: int, log: str
) -> None:
    response = app.query(abci.RequestQuery(path=path, data=data, height=height))
    assert response.code == code
    assert log in response.log
    assert response.codespace == "salus"


# -- the rest of the interface -------------------------------------------------


def test_snapshots_and_vote_extensions_are_declined_politely(app: SalusApp) -> None:
    assert not app.list_snapshots(abci.RequestListSnapshots()).snapshots
    offer = app.offer_snapshot(abci.RequestOfferSnapshot())
    assert offer.result == abci.ResponseOfferSnapshot.REJECT
    assert app.load_snapshot_chunk(abci.RequestLoadSnapshotChunk()).chunk == b""
    apply = app.apply_snapshot_chunk(abci.RequestApplySnapshotChunk())
    assert apply.result == abci.ResponseApplySnapshotChunk.ABORT
    assert app.extend_vote(abci.RequestExtendVote()).vote_extension == b""
    verify = app.verify_vote_extension(abci.RequestVerifyVoteExtension())
    assert verify.status == abci.ResponseVerifyVoteExtension.ACCEPT


def test_proposer_addresses_are_cometbft_addresses() -> None:
    # The Salus header names the proposer by public key; CometBFT by SHA-256(key)[:20].
    assert cometbft_address(VALIDATOR.public_key) == sha256(VALIDATOR.public_key)[:20]
    assert IdentityContract.name == "identity" and NotaryContract.name == "notary"
