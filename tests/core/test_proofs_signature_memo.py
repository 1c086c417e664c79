"""The verifier's memory of verified header signatures: faster, never more lenient."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from salus.core import proofs
from salus.core.crypto import verify_signature
from salus.core.genesis import Genesis
from salus.core.proofs import (
    VERIFIED_SIGNATURES_MAX,
    _check_header_signature,
    forget_verified_signatures,
    verify_bundle,
)
from salus.errors import BadSignature
from tests.support import key

VECTORS = Path(__file__).parent / "vectors" / "proofs"


def vector(name: str) -> tuple[bytes, Genesis]:
    data: dict[str, Any] = json.loads((VECTORS / f"{name}.json").read_text())
    return bytes.fromhex(data["bundle_hex"]), Genesis.from_data(data["genesis"])


def remembered() -> int:
    return _check_header_signature.cache_info().currsize


@pytest.fixture(autouse=True)
def empty_memory() -> Iterator[None]:
    forget_verified_signatures()
    yield
    forget_verified_signatures()


def test_a_tampered_signature_fails_after_the_good_one_was_remembered() -> None:
    good, genesis = vector("happy-path")
    flipped, _ = vector("flipped-header-signature")
    assert verify_bundle(good, genesis).valid
    assert remembered() == 1
    verdict = verify_bundle(flipped, genesis)
    assert not verdict.valid
    assert verdict.step == "signature", verdict
    assert remembered() == 1  # the bad one was not remembered
    # And still fails the second time, with the good one still remembered.
    assert verify_bundle(flipped, genesis).step == "signature"
    assert verify_bundle(good, genesis).valid


def test_bundles_of_one_block_check_its_signature_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real = verify_signature

    def counting(public_key: bytes, message: bytes, signature: bytes) -> None:
        calls.append(message)
        real(public_key, message, signature)

    monkeypatch.setattr(proofs, "verify_signature", counting)
    genesis = None
    for name in ("happy-path", "state-happy-path", "state-absent-happy-path"):
        bundle, genesis = vector(name)
        assert verify_bundle(bundle, genesis).valid
    assert len(calls) == 1  # the three vectors prove one block
    forget_verified_signatures()
    assert genesis is not None and verify_bundle(bundle, genesis).valid
    assert len(calls) == 2


def test_the_memory_only_admits_signatures_that_verify() -> None:
    signer, other = key(1), key(2)
    message = b"salus/block/v1" + bytes(32)
    signature = signer.sign(message)
    for public_key, signed, sig in [
        (signer.public_key, message, signature[:-1] + bytes([signature[-1] ^ 1])),
        (other.public_key, message, signature),  # another key
        (signer.public_key, message + b"x", signature),  # other bytes
    ]:
        with pytest.raises(BadSignature):
            _check_header_signature(public_key, signed, sig)
        assert remembered() == 0
    _check_header_signature(signer.public_key, message, signature)
    assert remembered() == 1
    # A hit for the good triple does not make a near miss pass.
    with pytest.raises(BadSignature):
        _check_header_signature(other.public_key, message, signature)
    with pytest.raises(BadSignature):
        _check_header_signature(signer.public_key, message, bytes(64))


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = key(3)
    messages = [n.to_bytes(4, "big") * 10 for n in range(VERIFIED_SIGNATURES_MAX + 10)]
    checked: list[bytes] = []
    # Every verification is counted (and accepted): the bound, not Ed25519, is under test.
    monkeypatch.setattr(proofs, "verify_signature", lambda _k, m, _s: checked.append(m))
    signature = bytes(64)
    for message in messages:
        _check_header_signature(signer.public_key, message, signature)
    info = _check_header_signature.cache_info()
    assert info.currsize == info.maxsize == VERIFIED_SIGNATURES_MAX
    checked.clear()
    _check_header_signature(signer.public_key, messages[-1], signature)  # recent: a hit
    _check_header_signature(signer.public_key, messages[0], signature)  # evicted: checked
    assert checked == [messages[0]]
