"""Walk the proof-bundle vectors; check every single-byte change is caught."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from salus.core.genesis import Genesis
from salus.core.proofs import check_bundle, verify_bundle
from salus.errors import ProofError
from tests.core.vectors import generate_proofs

VECTORS = sorted((Path(__file__).parent / "vectors" / "proofs").glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_vector(path: Path) -> None:
    vector = load(path)
    genesis = Genesis.from_data(vector["genesis"])
    verdict = verify_bundle(bytes.fromhex(vector["bundle_hex"]), genesis)
    expect = vector["expect"]
    assert verdict.valid is expect["valid"], verdict
    assert verdict.step == expect["step"], verdict
    assert expect["reason_contains"] in verdict.reason, verdict
    if not expect["valid"]:
        with pytest.raises(ProofError):
            check_bundle(bytes.fromhex(vector["bundle_hex"]), genesis)


def test_vector_files_are_reproducible() -> None:
    built = generate_proofs.build()
    assert sorted(built) == [p.stem for p in VECTORS]
    for path in VECTORS:
        assert generate_proofs.render(built[path.stem]) == path.read_text(), path.name


def test_required_mutations_exist() -> None:
    names = {p.stem for p in VECTORS}
    assert {
        "happy-path",
        "wrong-leaf",
        "modified-proof-bit-3",
        "truncated-proof",
        "wrong-root",
        "unknown-signer",
        "trailing-garbage",
    } <= names


@pytest.mark.parametrize("name", ["happy-path", "state-happy-path", "state-absent-happy-path"])
def test_any_single_byte_change_invalidates(name: str) -> None:
    vector = load(Path(__file__).parent / "vectors" / "proofs" / f"{name}.json")
    genesis = Genesis.from_data(vector["genesis"])
    bundle = bytes.fromhex(vector["bundle_hex"])
    assert verify_bundle(bundle, genesis).valid
    for position in range(len(bundle)):
        for mask in (0x01, 0x80):
            mutated = bytearray(bundle)
            mutated[position] ^= mask
            verdict = verify_bundle(bytes(mutated), genesis)
            assert not verdict.valid, f"byte {position} ^ {mask:#x} still verifies"
    assert not verify_bundle(bundle[:-1], genesis).valid


def test_wrong_genesis_is_refused() -> None:
    vector = load(Path(__file__).parent / "vectors" / "proofs" / "happy-path.json")
    other = dict(vector["genesis"], chain_id="another-network")
    verdict = verify_bundle(bytes.fromhex(vector["bundle_hex"]), Genesis.from_data(other))
    assert not verdict.valid and verdict.step == "chain"
