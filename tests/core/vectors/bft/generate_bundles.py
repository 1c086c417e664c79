"""Regenerate the CometBFT proof-bundle vectors in ``tests/core/vectors/bft/bundles/``.

    .venv/bin/python -m tests.core.vectors.bft.generate_bundles

Deterministic (fixed keys and block times, RFC 8032 signatures): running it again
rewrites identical files, which ``tests/core/test_bft.py`` checks. Each file names the
mutation it applies, after transparency-dev/merkle's test data. The chain is the
simulated one of ``synthetic.py``:

- genesis validators S0 = test keys 41-44, power 10 each;
- block 1: one transaction; block 2: five (index 3 is rejected: no role);
- before block 3 the set change S1 = {41, 42, 43, 45, 46} is scheduled (used from
  block 4), before block 4 the change S2 = {42, 43, 45, 46} (used from block 5).
  S2 holds only 20 of S0's 40 power, so a verifier holding genesis needs a hop
  through S1 (which holds 30 of 40; S2 holds 40 of S1's 50).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from salus.core import codec
from salus.core.crypto import Signer, sha256
from salus.core.genesis import Genesis
from salus.core.pb.tendermint.types import types_pb2
from salus.core.proofs import make_bft_state_bundle, make_bft_tx_bundle
from tests.core.vectors.bft.synthetic import SyntheticNetwork, resign
from tests.support import genesis_data, key

OUT = Path(__file__).parent / "bundles"
CHAIN_ID = "salus-bft-vectors"
S0 = (41, 42, 43, 44)
S1 = (41, 42, 43, 45, 46)
S2 = (42, 43, 45, 46)
STRANGERS = (71, 72, 73, 74)


def genesis_for(chain_id: str = CHAIN_ID) -> Genesis:
    data = genesis_data(3, chain_id=chain_id)
    data["validators"] = [{"did": key(n).did, "power": 10, "name": f"validator-{n}"} for n in S0]
    return Genesis.from_data(data)


def signers(numbers: tuple[int, ...] = (*S0, 45, 46, *STRANGERS)) -> dict[bytes, Signer]:
    return {key(n).public_key: key(n) for n in numbers}


def the_set(numbers: tuple[int, ...]) -> list[tuple[bytes, int]]:
    return [(key(n).public_key, 10) for n in numbers]


def network(genesis: Genesis | None = None) -> SyntheticNetwork:
    """The chain described in the module docstring, six blocks long."""
    net = SyntheticNetwork(genesis or genesis_for(), signers())
    nonces: dict[int, int] = {}

    def tx(signer: int, contract: str, action: str, args: dict[str, Any]) -> Any:
        from salus.core.tx import Transaction, sign_transaction

        nonces[signer] = nonces.get(signer, 0) + 1
        return sign_transaction(
            Transaction(
                net.genesis.chain_id, key(signer).public_key, nonces[signer], contract, action, args
            ),
            key(signer),
        )

    net.produce(
        tx(
            1,
            "identity",
            "propose",
            {"kind": "grant_role", "params": {"subject": "red-cross", "role": "logistics"}},
        )
    )
    net.produce(
        tx(
            1,
            "identity",
            "propose",
            {
                "kind": "add_org",
                "params": {"org": "lab-one", "name": "Lab One", "keys": [key(4).did]},
            },
        ),
        tx(2, "identity", "approve", {"proposal": 1}),
        tx(3, "identity", "approve", {"proposal": 2}),
        tx(60, "identity", "approve", {"proposal": 2}),  # rejected: no role
        tx(2, "identity", "approve", {"proposal": 2}),
    )
    net.schedule(the_set(S1))
    net.produce()  # 3: next set S1
    net.schedule(the_set(S2))
    net.produce()  # 4: signed by S1, next set S2
    net.produce()  # 5: signed by S2
    net.produce()  # 6: signed by S2
    return net


def tx_bundle(net: SyntheticNetwork, index: int = 3, **overrides: Any) -> bytes:
    block = net.blocks[2]
    parts: dict[str, Any] = {
        "block": block.light,
        "results": net.light(3),
        "txs": block.txs,
        "exec_results": block.exec_results,
        "index": index,
        "result_leaf": block.result_leaves[index],
    }
    parts.update(overrides)
    return make_bft_tx_bundle(**parts)


def reseal(bundle: bytes, **changes: Any) -> bytes:
    """``bundle`` with fields replaced and its digest recomputed (a deliberate forgery)."""
    fields = dict(codec.decode(bundle, max_size=1 << 20, what="bundle"))
    del fields["digest"]
    fields.update(changes)
    return codec.encode({**fields, "digest": sha256(codec.encode(fields))})


def _flip(data: bytes, position: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[position] ^= 1 << bit
    return bytes(out)


def build() -> dict[str, dict[str, Any]]:
    genesis = genesis_for()
    net = network(genesis)
    lab_one = b"identity/org/lab-one"
    vectors: dict[str, tuple[bytes, str, str, str, Genesis]] = {}

    def add(
        name: str,
        bundle: bytes,
        description: str,
        step: str,
        reason: str = "",
        g: Genesis = genesis,
    ) -> None:
        vectors[name] = (bundle, description, step, reason, g)

    happy = tx_bundle(net)
    add(
        "bft-tx-happy-path",
        happy,
        "transaction 3 of block 2 (a rejected approval), its result in header 3",
        "done",
        "is in block 2",
    )
    value = net.ledger.get(lab_one)  # lab-one's record has not changed since block 2
    state = make_bft_state_bundle(net.light(3), lab_one, value, net.blocks[2].tree.prove(lab_one))
    add(
        "bft-state-happy-path",
        state,
        "organisation lab-one's record after block 2, against header 3's app_hash",
        "done",
        "is present",
    )
    nobody = b"identity/org/nobody"
    add(
        "bft-state-absent-happy-path",
        make_bft_state_bundle(net.light(3), nobody, None, net.blocks[2].tree.prove(nobody)),
        "proof that organisation 'nobody' does not exist after block 2",
        "done",
        "is absent",
    )
    five = net.blocks[5].tree
    updates = [net.light(4), net.light(5)]
    add(
        "bft-update-chain-happy-path",
        make_bft_state_bundle(net.light(6), lab_one, value, five.prove(lab_one), updates=updates),
        "lab-one after block 5, signed by S2, reached from genesis through S1 and S2",
        "done",
        "is present",
    )
    add(
        "bft-update-chain-missing",
        make_bft_state_bundle(net.light(6), lab_one, value, five.prove(lab_one)),
        "the same without the update chain: S2 holds only 20 of genesis's 40 power",
        "commit",
        "not trusted",
    )
    add(
        "bft-update-chain-skips-a-hop",
        make_bft_state_bundle(
            net.light(6), lab_one, value, five.prove(lab_one), updates=[net.light(5)]
        ),
        "an update chain that jumps from genesis straight to S2",
        "validators",
        "validator update 1",
    )
    stranger_keys = signers(STRANGERS)
    forged_hop = resign(net.light(4), stranger_keys, validators=the_set(STRANGERS))
    add(
        "bft-update-hop-forged",
        make_bft_state_bundle(
            net.light(6), lab_one, value, five.prove(lab_one), updates=[forged_hop, net.light(5)]
        ),
        "an update hop whose header claims a validator set of strangers",
        "validators",
        "validator update 1",
    )

    # --- inclusion ---
    other = net.blocks[2]
    add(
        "bft-tx-wrong-leaf",
        reseal(happy, tx=other.txs[1]),
        "the audit path of transaction 3 presented with transaction 1",
        "inclusion",
        "expected root",
    )
    decoded = codec.decode(happy, max_size=1 << 20, what="bundle")
    path = list(decoded["tx_path"])
    add(
        "bft-tx-modified-path-bit-3",
        reseal(happy, tx_path=[_flip(path[0], 0, 3), *path[1:]]),
        "bit 3 of the first data_hash audit-path hash flipped",
        "inclusion",
        "expected root",
    )
    add(
        "bft-tx-truncated-path",
        reseal(happy, tx_path=path[:-1]),
        "the last data_hash audit-path hash dropped",
        "inclusion",
        "too short",
    )
    one = codec.decode(tx_bundle(net, index=1), max_size=1 << 20, what="bundle")
    add(
        "bft-tx-result-of-another-tx",
        reseal(
            happy,
            result=one["result"],
            exec_result=one["exec_result"],
            result_path=one["result_path"],
        ),
        "the Salus result, ExecTxResult and path of transaction 1 with transaction 3",
        "inclusion",
        "expected root",
    )
    forged_exec = dict(decoded["exec_result"], data=sha256(b"another result"))
    add(
        "bft-tx-exec-data-mismatch",
        reseal(happy, exec_result=forged_exec),
        "an ExecTxResult whose data is not the SHA-256 of the Salus result",
        "inclusion",
        "SHA-256 of the Salus result",
    )
    add(
        "bft-trailing-garbage",
        happy + b"\x00",
        "one zero byte appended to the happy-path bundle",
        "decode",
        "trailing",
    )
    add(
        "bft-unknown-engine",
        reseal(happy, engine="tendermint"),
        "an engine the verifier does not know",
        "decode",
        "unknown engine",
    )

    # --- commit and validators ---
    block = decoded["block"]
    commit = net.light(2).commit
    flipped = types_pb2.Commit()
    flipped.CopyFrom(commit)
    flipped.signatures[1].signature = _flip(flipped.signatures[1].signature, 10)
    add(
        "bft-flipped-commit-signature",
        reseal(happy, block=dict(block, commit=flipped.SerializeToString(deterministic=True))),
        "one bit of validator 1's precommit signature on block 2 flipped",
        "commit",
        "does not verify",
    )
    all_keys = signers()
    s0 = [key(n).public_key for n in S0]
    two = resign(net.light(2), all_keys, absent=s0[:2])
    three = resign(net.light(2), all_keys, absent=s0[:1])
    add(
        "bft-two-of-four-signatures",
        reseal(happy, block=two.to_data()),
        "block 2's commit with only two of four validators (20 of 40 power)",
        "commit",
        "not more than 2/3",
    )
    add(
        "bft-three-of-four-signatures",
        reseal(happy, block=three.to_data()),
        "block 2's commit with three of four validators (30 of 40 power, > 2/3)",
        "done",
        "is in block 2",
    )
    add(
        "bft-validator-dropped",
        reseal(happy, block=dict(block, validators=block["validators"][:-1])),
        "block 2's validator set without its last validator",
        "validators",
        "validators_hash",
    )
    powered = [list(v) for v in block["validators"]]
    powered[0][1] = 11
    add(
        "bft-power-changed",
        reseal(happy, block=dict(block, validators=powered)),
        "block 2's validator set with one power raised from 10 to 11",
        "validators",
        "validators_hash",
    )
    signed = codec.decode(state, max_size=1 << 20, what="bundle")["signed"]
    header = types_pb2.Header()
    header.CopyFrom(net.light(3).header)
    header.app_hash = sha256(b"a state root the validators never signed")
    add(
        "bft-header-app-hash-changed",
        reseal(state, signed=dict(signed, header=header.SerializeToString(deterministic=True))),
        "header 3's app_hash replaced; the commit still signs the original header",
        "commit",
        "signs another block",
    )
    add(
        "bft-wrong-chain",
        happy,
        "the happy-path bundle checked with the genesis of another network",
        "chain",
        "another-network",
        genesis_for("another-network"),
    )
    forged = resign(net.light(3), stranger_keys, validators=the_set(STRANGERS))
    add(
        "bft-forged-by-strangers",
        reseal(state, signed=forged.to_data()),
        "header 3 re-signed by a self-consistent set of keys genesis does not know",
        "commit",
        "not trusted",
    )
    unlinked = resign(net.light(3), all_keys, last_block_id=net.light(1).commit.block_id)
    add(
        "bft-results-header-not-following",
        reseal(happy, results=unlinked.to_data()),
        "a validly signed header 3 whose last_block_id is not block 2",
        "commit",
        "does not follow",
    )

    return {
        name: {
            "description": description,
            "genesis": g.model_dump(mode="json"),
            "bundle_hex": bundle.hex(),
            "expect": {"valid": step == "done", "step": step, "reason_contains": reason},
        }
        for name, (bundle, description, step, reason, g) in vectors.items()
    }


def render(vector: dict[str, Any]) -> str:
    return json.dumps(vector, indent=2, sort_keys=True) + "\n"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for name, vector in build().items():
        (OUT / f"{name}.json").write_text(render(vector))


if __name__ == "__main__":
    main()
