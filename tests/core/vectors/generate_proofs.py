"""Regenerate the proof-bundle test vectors in ``tests/core/vectors/proofs/``.

    .venv/bin/python -m tests.core.vectors.generate_proofs

Everything is deterministic (fixed keys, fixed block times, RFC 8032 signatures),
so running this again rewrites identical files; ``test_proof_vectors`` checks that.
Each file names the mutation it applies to the happy-path bundle, after the
style of transparency-dev/merkle's test data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from salus.core import codec, merkle
from salus.core.block import BlockHeader
from salus.core.genesis import Genesis
from salus.core.proofs import make_state_bundle, make_tx_bundle
from tests.support import Chain, genesis_data, key

OUT = Path(__file__).parent / "proofs"


def _chain() -> tuple[Genesis, Chain, Any]:
    genesis = Genesis.from_data(genesis_data(3, chain_id="salus-vectors"))
    chain = Chain(genesis)
    chain.block(
        chain.tx(
            key(1),
            "identity",
            "propose",
            {"kind": "grant_role", "params": {"subject": "red-cross", "role": "logistics"}},
        ),
    )
    pending = chain.block(
        chain.tx(
            key(1),
            "identity",
            "propose",
            {
                "kind": "add_org",
                "params": {"org": "lab-one", "name": "Lab One", "keys": [key(4).did]},
            },
        ),
        chain.tx(key(2), "identity", "approve", {"proposal": 1}),
        chain.tx(key(3), "identity", "approve", {"proposal": 2}),
        chain.tx(key(60), "identity", "approve", {"proposal": 2}),  # rejected: no role
        chain.tx(key(2), "identity", "approve", {"proposal": 2}),
    )
    return genesis, chain, pending


def _tx_parts(pending: Any, index: int) -> dict[str, Any]:
    tx_leaves = [merkle.leaf_hash(stx.envelope) for stx in pending.txs]
    result_leaves = [merkle.leaf_hash(leaf) for leaf in pending.result_leaves]
    return {
        "stx_envelope": pending.txs[index].envelope,
        "index": index,
        "tx_path": merkle.inclusion_proof(tx_leaves, index),
        "result_leaf": pending.result_leaves[index],
        "result_path": merkle.inclusion_proof(result_leaves, index),
    }


def _resign(header: BlockHeader, signer_number: int) -> tuple[BlockHeader, bytes]:
    signer = key(signer_number)
    fields = header.to_data()
    fields["proposer"] = signer.public_key
    new = BlockHeader.from_data(fields)
    return new, signer.sign(new.signing_bytes())


def _flip(data: bytes, position: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[position] ^= 1 << bit
    return bytes(out)


def build() -> dict[str, dict[str, Any]]:
    genesis, chain, pending = _chain()
    header = pending.header
    signature = chain.validator.sign(header.signing_bytes())
    parts = _tx_parts(pending, 3)
    happy = make_tx_bundle(header, signature, **parts)
    other = _tx_parts(pending, 1)

    vectors: dict[str, tuple[bytes, str, str, str]] = {}

    def add(name: str, bundle: bytes, description: str, step: str, reason: str = "") -> None:
        vectors[name] = (bundle, description, step, reason)

    add(
        "happy-path",
        happy,
        "transaction 3 of block 2 (a rejected approval) with its result",
        "done",
        "is in block 2",
    )
    add(
        "wrong-leaf",
        make_tx_bundle(header, signature, **{**parts, "stx_envelope": other["stx_envelope"]}),
        "the audit path of transaction 3 presented with transaction 1",
        "inclusion",
        "expected root",
    )
    path = list(parts["tx_path"])
    path[0] = _flip(path[0], 0, 3)
    add(
        "modified-proof-bit-3",
        make_tx_bundle(header, signature, **{**parts, "tx_path": tuple(path)}),
        "bit 3 of the first audit-path hash flipped",
        "inclusion",
        "expected root",
    )
    add(
        "truncated-proof",
        make_tx_bundle(header, signature, **{**parts, "tx_path": parts["tx_path"][:-1]}),
        "the last audit-path hash dropped",
        "inclusion",
        "too short",
    )
    wrong_root_fields = header.to_data()
    wrong_root_fields["tx_root"] = merkle.merkle_root([b"not this block"])
    wrong_root = BlockHeader.from_data(wrong_root_fields)
    add(
        "wrong-root",
        make_tx_bundle(wrong_root, chain.validator.sign(wrong_root.signing_bytes()), **parts),
        "a validly signed header whose tx_root is not the root the proof gives",
        "inclusion",
        "expected root",
    )
    stranger_header, stranger_sig = _resign(header, 77)
    add(
        "unknown-signer",
        make_tx_bundle(stranger_header, stranger_sig, **parts),
        "the header re-signed by a key that is not a genesis validator",
        "signer",
        "not a validator",
    )
    add(
        "trailing-garbage",
        happy + b"\x00",
        "one zero byte appended to the happy-path bundle",
        "decode",
        "trailing",
    )
    add(
        "flipped-header-signature",
        make_tx_bundle(header, _flip(signature, 10), **parts),
        "one bit of the proposer's signature flipped",
        "signature",
        "does not verify",
    )
    add(
        "result-of-another-tx",
        make_tx_bundle(
            header,
            signature,
            **{**parts, "result_leaf": other["result_leaf"], "result_path": other["result_path"]},
        ),
        "the result and result path of transaction 1 with transaction 3",
        "inclusion",
        "expected root",
    )

    raw_key = b"identity/org/lab-one"
    tree = chain.ledger.tree
    value = chain.ledger.get(raw_key)
    assert value is not None
    state_happy = make_state_bundle(header, signature, raw_key, value, tree.prove(raw_key))
    add(
        "state-happy-path",
        state_happy,
        "organisation lab-one's record after block 2",
        "done",
        "is present",
    )
    absent_key = b"identity/org/nobody"
    add(
        "state-absent-happy-path",
        make_state_bundle(header, signature, absent_key, None, tree.prove(absent_key)),
        "proof that organisation 'nobody' does not exist",
        "done",
        "is absent",
    )
    forged_value = codec.encode({"name": "Forged", "status": "active"})
    add(
        "state-wrong-value",
        make_state_bundle(header, signature, raw_key, forged_value, tree.prove(raw_key)),
        "a different value presented with lab-one's proof",
        "state",
        "expected root",
    )
    add(
        "state-claims-absence-of-present-key",
        make_state_bundle(header, signature, raw_key, None, tree.prove(raw_key)),
        "a present key presented as absent with its membership proof",
        "state",
        "",
    )

    return {
        name: {
            "description": description,
            "genesis": genesis.model_dump(mode="json"),
            "bundle_hex": bundle.hex(),
            "expect": {"valid": step == "done", "step": step, "reason_contains": reason},
        }
        for name, (bundle, description, step, reason) in vectors.items()
    }


def render(vector: dict[str, Any]) -> str:
    return json.dumps(vector, indent=2, sort_keys=True) + "\n"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, vector in build().items():
        (OUT / f"{name}.json").write_text(render(vector))


if __name__ == "__main__":
    main()
