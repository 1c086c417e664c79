from __future__ import annotations

from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from salus.core import codec
from salus.core.crypto import Signer, did_from_public_key, public_key_from_did
from salus.core.tx import MAX_TX_BYTES, SignedTransaction, Transaction, sign_transaction
from salus.errors import BadSignature, EncodingError
from tests.support import key

args_strategy = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=30),
    max_size=6,
)


def make(signer: Signer, nonce: int = 1, **overrides: Any) -> SignedTransaction:
    fields: dict[str, Any] = {
        "chain_id": "salus-test",
        "signer": signer.public_key,
        "nonce": nonce,
        "contract": "identity",
        "action": "approve",
        "args": {"proposal": 1},
    }
    fields.update(overrides)
    return sign_transaction(Transaction(**fields), signer)


@given(st.integers(1, 2**63 - 1), args_strategy)
def test_envelope_round_trip(nonce: int, args: dict[str, Any]) -> None:
    stx = make(key(1), nonce, args=args)
    again = SignedTransaction.decode(stx.envelope)
    assert again == stx
    again.verify_signature()


def test_id_is_hash_of_body_and_stable() -> None:
    stx = make(key(1))
    assert stx.id == SignedTransaction.decode(stx.envelope).id
    assert stx.id != make(key(1), 2).id


def test_tampered_signature_is_rejected() -> None:
    stx = make(key(1))
    bad_sig = bytes([stx.signature[0] ^ 1]) + stx.signature[1:]
    tampered = SignedTransaction.decode(codec.encode([stx.body, bad_sig]))
    with pytest.raises(BadSignature):
        tampered.verify_signature()


def test_signature_by_another_key_is_rejected() -> None:
    stx = make(key(1))
    forged_sig = key(2).sign(b"salus/tx/v1\x00" + stx.body)
    forged = SignedTransaction.decode(codec.encode([stx.body, forged_sig]))
    with pytest.raises(BadSignature):
        forged.verify_signature()


def test_signature_is_domain_separated() -> None:
    stx = make(key(1))
    plain_sig = key(1).sign(stx.body)  # signed without the transaction domain tag
    with pytest.raises(BadSignature):
        SignedTransaction.decode(codec.encode([stx.body, plain_sig])).verify_signature()


def test_every_single_byte_change_is_caught() -> None:
    stx = make(key(1))
    for position in range(len(stx.envelope)):
        mutated = bytearray(stx.envelope)
        mutated[position] ^= 0x01
        try:
            decoded = SignedTransaction.decode(bytes(mutated))
            decoded.verify_signature()
        except (EncodingError, BadSignature):
            continue
        pytest.fail(f"a flipped bit at byte {position} went unnoticed")


def test_oversized_transaction_is_rejected() -> None:
    stx = make(key(1), args={"blob": "x" * MAX_TX_BYTES})
    with pytest.raises(EncodingError, match="over the limit"):
        SignedTransaction.decode(stx.envelope)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"v": 1}, "missing"),
        (
            {
                "v": 2,
                "chain_id": "c",
                "signer": b"\x01" * 32,
                "nonce": 1,
                "contract": "a",
                "action": "b",
                "args": {},
            },
            "version",
        ),
        (
            {
                "v": 1,
                "chain_id": "c",
                "signer": b"\x01" * 32,
                "nonce": 0,
                "contract": "a",
                "action": "b",
                "args": {},
            },
            "nonce",
        ),
        (
            {
                "v": 1,
                "chain_id": "c",
                "signer": b"\x01" * 31,
                "nonce": 1,
                "contract": "a",
                "action": "b",
                "args": {},
            },
            "signer",
        ),
        (
            {
                "v": 1,
                "chain_id": "c",
                "signer": b"\x01" * 32,
                "nonce": 1,
                "contract": "Bad-Name",
                "action": "b",
                "args": {},
            },
            "contract",
        ),
        (
            {
                "v": 1,
                "chain_id": "c",
                "signer": b"\x01" * 32,
                "nonce": 1,
                "contract": "a",
                "action": "b",
                "args": {"x": b"\x00"},
            },
            "byte strings",
        ),
        (
            {
                "v": 1,
                "chain_id": "c",
                "signer": b"\x01" * 32,
                "nonce": 1,
                "contract": "a",
                "action": "b",
                "args": {},
                "extra": 1,
            },
            "unknown fields",
        ),
    ],
)
def test_malformed_bodies_are_named(body: dict[str, Any], message: str) -> None:
    envelope = codec.encode([codec.encode(body), b"\x00" * 64])
    with pytest.raises(EncodingError, match=message):
        SignedTransaction.decode(envelope)


def test_non_canonical_envelope_is_rejected() -> None:
    stx = make(key(1))
    # The same array with a non-minimal length prefix for the signature.
    body, sig = stx.body, stx.signature
    loose = b"\x82" + cbor2.dumps(body) + b"\x59\x00\x40" + sig
    with pytest.raises(EncodingError, match="canonical"):
        SignedTransaction.decode(loose)


def test_did_key_round_trip_and_known_answer() -> None:
    # W3C did:key test vector (did-method-key spec, Ed25519 section).
    did = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    public = public_key_from_did(did)
    assert did_from_public_key(public) == did
    with pytest.raises(EncodingError):
        public_key_from_did("did:web:example.org")
    with pytest.raises(EncodingError):
        public_key_from_did(did[:-2])
