"""CometBFT light-client checks against a real CometBFT's data, and the BFT proof bundles.

``vectors/bft/{one-validator,four-validators}/`` were captured from CometBFT v0.38.26
with the kvstore app (``vectors/bft/capture.py``); the ``cometbft``-marked test
captures afresh and runs the same checks, so drift is caught. ``vectors/bft/bundles/``
are Salus bundles over a simulated chain (``vectors/bft/generate_bundles.py``).
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from salus.core import bft
from salus.core.genesis import Genesis
from salus.core.pb.tendermint.abci import types_pb2 as abci_pb2
from salus.core.pb.tendermint.types import canonical_pb2, types_pb2, validator_pb2
from salus.core.proofs import check_bundle, make_bft_tx_bundle, verify_bundle
from salus.errors import MalformedProof, ProofError, RootMismatch, UnknownSigner
from tests.core.vectors.bft import capture, generate_bundles
from tests.support import genesis_data, key

VECTORS = Path(__file__).parent / "vectors" / "bft"
NETWORKS = ("one-validator", "four-validators")
BUNDLES = sorted((VECTORS / "bundles").glob("*.json"))


def load(name: str) -> dict[str, Any]:
    return capture.load(VECTORS / name)


def result(data: dict[str, Any], height: int, endpoint: str) -> Any:
    return data["heights"][str(height)][endpoint]["result"]


def light_block(data: dict[str, Any], height: int) -> bft.LightBlock:
    return bft.light_block_from_json(
        result(data, height, "commit"), result(data, height, "validators")
    )


def check_capture(data: dict[str, Any]) -> None:
    """Everything a verifier can check in a capture; shared by the offline and live tests."""
    chain_id = data["manifest"]["chain_id"]
    genesis_set = bft.genesis_doc_validators(data["genesis"])
    heights = sorted(int(h) for h in data["heights"])
    assert heights == list(range(1, heights[-1] + 1))
    trusted = genesis_set
    hops = []
    previous_set_hash = bft.validator_set_hash(genesis_set)
    for height in heights:
        light = light_block(data, height)
        block = result(data, height, "block")
        # the header hash is the block id, computed from either copy of the header
        assert bft.header_hash(light.header).hex().upper() == block["block_id"]["hash"]
        assert light.commit.block_id.hash == bft.header_hash(light.header)
        assert bft.header_from_json(block["block"]["header"]) == light.header
        # /validators lists the set in CometBFT order (from_json sorts; nothing moved)
        listed = [v["address"] for v in result(data, height, "validators")["validators"]]
        assert listed == [bft.address(k).hex().upper() for k, _ in light.validators]
        assert bft.data_hash(bft.txs_from_json(block)) == light.header.data_hash
        bft.verify_commit(chain_id, light.header, light.commit, light.validators)
        if light.header.validators_hash != previous_set_hash:
            hops.append(light)
            previous_set_hash = bytes(light.header.validators_hash)
        assert bft.verify_light_block(chain_id, trusted, light) > 0
        trusted = light.validators
        if height > 1:
            # the results of block h-1 are in header h; block h carries commit h-1
            results = bft.exec_results_from_json(result(data, height - 1, "block_results"))
            assert bft.last_results_hash(results) == light.header.last_results_hash
            last_commit = bft.commit_from_json(block["block"]["last_commit"])
            before = light_block(data, height - 1)
            bft.verify_commit(chain_id, before.header, last_commit, before.validators)
            assert light.header.last_block_id.hash == bft.header_hash(before.header)
    assert bft.follow_updates(chain_id, genesis_set, hops) == trusted
    assert len(hops) == len(data["manifest"]["update_txs"])


@pytest.mark.parametrize("name", NETWORKS)
def test_captured_network_verifies(name: str) -> None:
    check_capture(load(name))


def test_captures_hold_transactions_and_set_changes() -> None:
    four = load("four-validators")
    manifest = four["manifest"]
    assert manifest["cometbft"] == "0.38.26"
    tx_counts = [len(bft.txs_from_json(result(four, h, "block"))) for h in manifest["tx_heights"]]
    assert max(tx_counts) >= 5  # a multi-leaf data_hash
    first, last = light_block(four, 1), light_block(four, manifest["heights"][1])
    assert len(first.validators) == 4 and len(last.validators) == 5
    assert any(
        sig.block_id_flag == validator_pb2.BLOCK_ID_FLAG_ABSENT for sig in last.commit.signatures
    )


def test_salus_genesis_names_the_cometbft_validator_set() -> None:
    four = load("four-validators")
    data = genesis_data(3, chain_id=four["manifest"]["chain_id"])
    data["validators"] = [
        {"did": key(v["test_key"]).did, "power": v["power"]} for v in four["manifest"]["validators"]
    ]
    trusted = bft.genesis_validators(Genesis.from_data(data))
    assert trusted == bft.genesis_doc_validators(four["genesis"])
    assert bft.validator_set_hash(trusted) == light_block(four, 1).header.validators_hash


def test_validator_order_is_power_then_address() -> None:
    four = load("four-validators")
    listed = [
        (base64.b64decode(v["pub_key"]["value"]), int(v["power"]))  # genesis file order
        for v in four["genesis"]["validators"]
    ]
    ordered = bft.sort_validators(listed)
    assert ordered != tuple(listed)
    assert [p for _, p in ordered] == sorted((p for _, p in listed), reverse=True)
    tens = [bft.address(k) for k, p in ordered if p == 10]
    assert tens == sorted(tens)
    # the hash does not depend on the order it is given in
    assert bft.validator_set_hash(listed) == bft.validator_set_hash(ordered)


def test_a_set_change_needs_no_hop_while_two_thirds_of_the_trusted_power_sign() -> None:
    four = load("four-validators")
    genesis_set = bft.genesis_doc_validators(four["genesis"])
    last = light_block(four, four["manifest"]["heights"][1])
    assert last.validators != genesis_set
    bft.verify_light_block(four["manifest"]["chain_id"], genesis_set, last)


def test_vote_sign_bytes_are_a_delimited_canonical_vote() -> None:
    four = load("four-validators")
    light = light_block(four, 6)
    sign_bytes = bft.vote_sign_bytes("salus-bft-four", light.commit, 2)
    assert sign_bytes[0] == len(sign_bytes) - 1  # one-byte uvarint length prefix
    vote = canonical_pb2.CanonicalVote.FromString(sign_bytes[1:])
    assert vote.type == types_pb2.SIGNED_MSG_TYPE_PRECOMMIT
    assert vote.height == 6 and vote.round == 0 and vote.chain_id == "salus-bft-four"
    assert vote.block_id.hash == bft.header_hash(light.header)
    assert vote.timestamp == light.commit.signatures[2].timestamp
    # sfixed64 height and round (tags 0x11, 0x19) come right after the type
    assert sign_bytes[1:4] == b"\x08\x02\x11"


# --- mutations of a real four-validator commit ---------------------------------------------

CHAIN = "salus-bft-four"


@pytest.fixture
def real() -> bft.LightBlock:
    """Height 6 of the four-validator capture: four validators, all signed."""
    light = light_block(load("four-validators"), 6)
    assert all(
        s.block_id_flag == validator_pb2.BLOCK_ID_FLAG_COMMIT for s in light.commit.signatures
    )
    return light


def _copy(message: Any) -> Any:
    duplicate = type(message)()
    duplicate.CopyFrom(message)
    return duplicate


def test_real_commit_verifies(real: bft.LightBlock) -> None:
    bft.verify_commit(CHAIN, real.header, real.commit, real.validators)


def test_flipped_signature_bit_fails(real: bft.LightBlock) -> None:
    commit = _copy(real.commit)
    signature = bytearray(commit.signatures[1].signature)
    signature[7] ^= 0x01
    commit.signatures[1].signature = bytes(signature)
    with pytest.raises(ProofError, match=r"signature 1 .* does not verify"):
        bft.verify_commit(CHAIN, real.header, commit, real.validators)


def test_wrong_chain_id_fails(real: bft.LightBlock) -> None:
    with pytest.raises(ProofError, match="from chain"):
        bft.verify_commit("another-chain", real.header, real.commit, real.validators)
    header = _copy(real.header)
    header.chain_id = "another-chain"
    with pytest.raises(ProofError):
        bft.verify_commit("another-chain", header, real.commit, real.validators)


def test_dropped_validator_fails(real: bft.LightBlock) -> None:
    with pytest.raises(RootMismatch, match="validators_hash"):
        bft.verify_commit(CHAIN, real.header, real.commit, real.validators[:-1])


def test_changed_power_fails(real: bft.LightBlock) -> None:
    changed = ((real.validators[0][0], real.validators[0][1] + 1), *real.validators[1:])
    with pytest.raises(RootMismatch, match="validators_hash"):
        bft.verify_commit(CHAIN, real.header, real.commit, changed)


def _absent(commit: types_pb2.Commit, indices: tuple[int, ...]) -> types_pb2.Commit:
    commit = _copy(commit)
    for index in indices:
        sig = commit.signatures[index]
        sig.Clear()
        sig.block_id_flag = validator_pb2.BLOCK_ID_FLAG_ABSENT
        sig.timestamp.seconds = -62_135_596_800
    return commit


def test_two_thirds_of_the_power_is_not_enough(real: bft.LightBlock) -> None:
    # powers in set order: 10, 10, 10, 5 (total 35; more than 23 needed)
    assert [p for _, p in real.validators] == [10, 10, 10, 5]
    with pytest.raises(ProofError, match="20 of 35 voting power, not more than 2/3"):
        bft.verify_commit(CHAIN, real.header, _absent(real.commit, (0, 3)), real.validators)
    with pytest.raises(ProofError, match="not more than 2/3"):
        bft.verify_commit(CHAIN, real.header, _absent(real.commit, (0, 1)), real.validators)
    bft.verify_commit(CHAIN, real.header, _absent(real.commit, (3,)), real.validators)  # 30
    bft.verify_commit(CHAIN, real.header, _absent(real.commit, (0,)), real.validators)  # 25


def test_nil_votes_count_for_nothing(real: bft.LightBlock) -> None:
    commit = _copy(real.commit)
    for index in (0, 1):
        commit.signatures[index].block_id_flag = validator_pb2.BLOCK_ID_FLAG_NIL
    with pytest.raises(ProofError, match="15 of 35"):
        bft.verify_commit(CHAIN, real.header, commit, real.validators)


_HEADER_CHANGES: dict[str, Any] = {
    "version.app": 2,
    "time.nanos": 1,
    "last_block_id.hash": b"\x01" * 32,
    "last_block_id.part_set_header.total": 2,
    "last_commit_hash": b"\x02" * 32,
    "data_hash": b"\x03" * 32,
    "next_validators_hash": b"\x05" * 32,
    "consensus_hash": b"\x06" * 32,
    "app_hash": b"\x07" * 8,
    "last_results_hash": b"\x08" * 32,
    "evidence_hash": b"\x09" * 32,
    "proposer_address": b"\x0a" * 20,
}


@pytest.mark.parametrize("path", sorted(_HEADER_CHANGES))
def test_any_header_field_changed_breaks_the_block_id(real: bft.LightBlock, path: str) -> None:
    header = _copy(real.header)
    *parents, name = path.split(".")
    target = header
    for parent in parents:
        target = getattr(target, parent)
    setattr(target, name, _HEADER_CHANGES[path])
    with pytest.raises(RootMismatch, match="signs another block"):
        bft.verify_commit(CHAIN, header, real.commit, real.validators)


def test_header_of_another_height_fails(real: bft.LightBlock) -> None:
    other = light_block(load("four-validators"), 5)
    with pytest.raises(ProofError, match="the commit is for height 6, the header is height 5"):
        bft.verify_commit(CHAIN, other.header, real.commit, real.validators)


def test_signature_at_another_position_is_an_unknown_signer(real: bft.LightBlock) -> None:
    commit = _copy(real.commit)
    first, second = _copy(commit.signatures[0]), _copy(commit.signatures[1])
    commit.signatures[0].CopyFrom(second)
    commit.signatures[1].CopyFrom(first)
    with pytest.raises(UnknownSigner, match="signature 0"):
        bft.verify_commit(CHAIN, real.header, commit, real.validators)


def test_commit_with_a_missing_entry_is_malformed(real: bft.LightBlock) -> None:
    commit = _copy(real.commit)
    del commit.signatures[-1]
    with pytest.raises(MalformedProof, match="3 signatures for 4 validators"):
        bft.verify_commit(CHAIN, real.header, commit, real.validators)


def test_update_chain_rules() -> None:
    four = load("four-validators")
    genesis_set = bft.genesis_doc_validators(four["genesis"])
    hops = [light_block(four, 7), light_block(four, 8)]
    assert bft.follow_updates(CHAIN, genesis_set, hops) == hops[-1].validators
    with pytest.raises(MalformedProof, match="not above height 8"):
        bft.follow_updates(CHAIN, genesis_set, [hops[1], hops[0]])
    tampered = bft.LightBlock(hops[0].header, hops[0].commit, hops[1].validators)
    with pytest.raises(RootMismatch, match="validator update 1 \\(height 7\\)"):
        bft.follow_updates(CHAIN, genesis_set, [tampered])


# --- strict decoding ------------------------------------------------------------------------


def test_protobuf_round_trip_is_strict(real: bft.LightBlock) -> None:
    header = real.header.SerializeToString(deterministic=True)
    commit = real.commit.SerializeToString(deterministic=True)
    assert bft.decode_header(header) == real.header
    assert bft.decode_commit(commit) == real.commit
    for bad in (header[:-1], header + b"\x00", header + b"\xf8\x07\x01", b"\xff" * 9, b""):
        with pytest.raises(MalformedProof):
            bft.decode_header(bad)
    for bad in (commit[:-1], commit + b"\xa0\x06\x01", b"garbage"):
        with pytest.raises(MalformedProof):
            bft.decode_commit(bad)


def _set(data: Any, path: str, value: Any) -> Any:
    data = copy.deepcopy(data)
    *parents, name = path.split("/")
    target = data
    for parent in parents:
        target = target[int(parent)] if isinstance(target, list) else target[parent]
    if value is _DELETE:
        del target[name]
    elif isinstance(target, list):
        target[int(name)] = value
    else:
        target[name] = value
    return data


_DELETE = object()
_JSON_MUTATIONS = {
    "height-as-number": ("signed_header/header/height", 6),
    "height-leading-zero": ("signed_header/header/height", "06"),
    "missing-app-hash": ("signed_header/header/app_hash", _DELETE),
    "extra-field": ("signed_header/header/extra", "1"),
    "hash-not-hex": ("signed_header/header/data_hash", "zz" * 32),
    "hash-too-short": ("signed_header/header/data_hash", "AB" * 31),
    "hex-with-space": ("signed_header/header/data_hash", "AB " * 31 + "AB"),
    "time-not-utc": ("signed_header/header/time", "2026-01-01T00:00:00+01:00"),
    "time-impossible": ("signed_header/header/time", "2026-02-30T00:00:00Z"),
    "time-too-precise": ("signed_header/header/time", "2026-01-01T00:00:00.1234567890Z"),
    "wrong-block-protocol": ("signed_header/header/version/block", "10"),
    "proposer-short": ("signed_header/header/proposer_address", "AB"),
    "signature-not-base64": ("signed_header/commit/signatures/0/signature", "***"),
    "unknown-flag": ("signed_header/commit/signatures/0/block_id_flag", 7),
    "round-as-string": ("signed_header/commit/round", "0"),
    "absent-with-signature": ("signed_header/commit/signatures/0/block_id_flag", 1),
    "no-signatures": ("signed_header/commit/signatures", []),
    "canonical-not-bool": ("canonical", "yes"),
    "parts-total-negative": ("signed_header/commit/block_id/parts/total", -1),
}


@pytest.mark.parametrize("name", sorted(_JSON_MUTATIONS))
def test_bad_commit_json_is_malformed(name: str) -> None:
    good = result(load("four-validators"), 6, "commit")
    bft.signed_header_from_json(good)
    path, value = _JSON_MUTATIONS[name]
    with pytest.raises(MalformedProof):
        bft.signed_header_from_json(_set(good, path, value))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("validators/0/address", "00" * 20),
        ("validators/0/pub_key/type", "tendermint/PubKeySecp256k1"),
        ("validators/0/voting_power", "0"),
        ("validators/0/voting_power", 10),
        ("count", "3"),
        ("validators/1", None),
    ],
)
def test_bad_validators_json_is_malformed(path: str, value: Any) -> None:
    good = result(load("four-validators"), 6, "validators")
    bft.validators_from_json(good)
    with pytest.raises(MalformedProof):
        bft.validators_from_json(_set(good, path, value))


def test_validators_of_another_height_are_refused() -> None:
    four = load("four-validators")
    with pytest.raises(MalformedProof, match="validators are for height 5"):
        bft.light_block_from_json(result(four, 6, "commit"), result(four, 5, "validators"))


def test_go_times_parse_exactly() -> None:
    assert bft._time("0001-01-01T00:00:00Z", "t").seconds == -62_135_596_800
    stamp = bft._time("2026-11-25T00:05:36.55269885Z", "t")
    # date -u -d 2026-11-25T00:05:36Z +%s
    assert (stamp.seconds, stamp.nanos) == (1_795_565_136, 552_698_850)


# --- bundles --------------------------------------------------------------------------------


def _vector(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.mark.parametrize("path", BUNDLES, ids=[p.stem for p in BUNDLES])
def test_bundle_vector(path: Path) -> None:
    vector = _vector(path)
    genesis = Genesis.from_data(vector["genesis"])
    bundle = bytes.fromhex(vector["bundle_hex"])
    verdict = verify_bundle(bundle, genesis)
    expect = vector["expect"]
    assert verdict.valid is expect["valid"], verdict
    assert verdict.step == expect["step"], verdict
    assert expect["reason_contains"] in verdict.reason, verdict
    if expect["valid"]:
        assert check_bundle(bundle, genesis)["engine"] == "cometbft"
    else:
        with pytest.raises(ProofError):
            check_bundle(bundle, genesis)


def test_bundle_vectors_are_reproducible() -> None:
    built = generate_bundles.build()
    assert sorted(built) == [p.stem for p in BUNDLES]
    for path in BUNDLES:
        assert generate_bundles.render(built[path.stem]) == path.read_text(), path.name


def test_required_bundle_mutations_exist() -> None:
    assert {
        "bft-tx-happy-path",
        "bft-state-happy-path",
        "bft-flipped-commit-signature",
        "bft-wrong-chain",
        "bft-validator-dropped",
        "bft-power-changed",
        "bft-two-of-four-signatures",
        "bft-header-app-hash-changed",
        "bft-trailing-garbage",
        "bft-update-chain-happy-path",
        "bft-forged-by-strangers",
    } <= {p.stem for p in BUNDLES}


def test_verdict_facts() -> None:
    vector = _vector(VECTORS / "bundles" / "bft-tx-happy-path.json")
    facts = verify_bundle(
        bytes.fromhex(vector["bundle_hex"]), Genesis.from_data(vector["genesis"])
    ).facts
    assert facts["engine"] == "cometbft" and facts["height"] == 2 and facts["index"] == 3
    assert facts["result"]["ok"] is False and facts["exec_code"] == 1
    assert facts["signed_power"] == 40 and facts["total_power"] == 40
    assert facts["proposer"].startswith("did:key:z")
    state = _vector(VECTORS / "bundles" / "bft-update-chain-happy-path.json")
    facts = verify_bundle(
        bytes.fromhex(state["bundle_hex"]), Genesis.from_data(state["genesis"])
    ).facts
    assert facts["height"] == 5 and facts["signed_height"] == 6
    assert facts["validator_updates"] == 2


@pytest.mark.parametrize("name", ["bft-tx-happy-path", "bft-state-happy-path"])
def test_any_single_byte_change_invalidates(name: str) -> None:
    vector = _vector(VECTORS / "bundles" / f"{name}.json")
    genesis = Genesis.from_data(vector["genesis"])
    bundle = bytes.fromhex(vector["bundle_hex"])
    assert verify_bundle(bundle, genesis).valid
    for position in range(len(bundle)):
        for mask in (0x01, 0x80):
            mutated = bytearray(bundle)
            mutated[position] ^= mask
            assert not verify_bundle(bytes(mutated), genesis).valid, (position, mask)
    assert not verify_bundle(bundle[:-1], genesis).valid


def test_builder_refuses_parts_that_do_not_belong_together() -> None:
    net = generate_bundles.network()
    two = net.blocks[2]
    parts: dict[str, Any] = {
        "block": two.light,
        "results": net.light(3),
        "txs": two.txs,
        "exec_results": two.exec_results,
        "index": 0,
        "result_leaf": two.result_leaves[0],
    }
    make_bft_tx_bundle(**parts)
    wrong: list[dict[str, Any]] = [
        {"results": net.light(4)},
        {"index": 5},
        {"txs": two.txs[:-1], "exec_results": two.exec_results[:-1]},
        {"txs": list(reversed(two.txs))},
        {"exec_results": [abci_pb2.ExecTxResult()] * len(two.txs)},
    ]
    for change in wrong:
        with pytest.raises(ValueError, match=r"must be height|index|do not give"):
            make_bft_tx_bundle(**{**parts, **change})


# --- live -----------------------------------------------------------------------------------

LIVE_PLAN = capture.NetworkPlan(
    name="live",
    chain_id="salus-bft-live",
    validators=((31, 10), (32, 5), (33, 10), (34, 10)),
    batches=((b"k1=1", b"k2=2", b"k3=3"),),
    updates=((35, 1),),
    extra_blocks=1,
)


@pytest.mark.cometbft
def test_live_capture_verifies(cometbft_binary: Path, tmp_path: Path) -> None:
    """A fresh capture from the pinned CometBFT passes every offline check."""
    data = capture.capture_network(cometbft_binary, LIVE_PLAN, tmp_path)
    check_capture(data)
