"""W3C Bitstring Status List: bit order, GZIP + Multibase encoding, list credential."""

from __future__ import annotations

import base64
import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salus.apps.learning.status_list import (
    MIN_LIST_BYTES,
    STATUS_CONTEXT_V1,
    VC_CONTEXT_V1,
    b64url_decode,
    b64url_encode,
    bit,
    build_status_list_credential,
    decode_list,
    encode_list,
    new_list,
    set_bit,
    status_bit_of,
    status_list_entry,
)
from salus.errors import EncodingError, ProofError

LIST_URL = "https://salus.example/status/3"
ISSUER = "did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd"


def _multibase_gzip(raw: bytes) -> str:
    """An independent encoder (the stdlib's gzip module) to cross-check ours."""
    return "u" + base64.urlsafe_b64encode(gzip.compress(raw, mtime=0)).decode().rstrip("=")


def test_index_zero_is_the_left_most_bit() -> None:
    bits = bytes([0b1000_0000, 0b0000_0001]) + bytes(MIN_LIST_BYTES - 2)
    assert bit(bits, 0) is True
    assert not any(bit(bits, i) for i in range(1, 15))
    assert bit(bits, 15) is True


def test_set_bit_known_answers() -> None:
    bits = new_list()
    assert len(bits) == MIN_LIST_BYTES == 16384
    assert set_bit(bits, 0, True)[:1] == b"\x80"
    assert set_bit(bits, 7, True)[:1] == b"\x01"
    assert set_bit(bits, 9, True)[:2] == b"\x00\x40"
    assert set_bit(set_bit(bits, 9, True), 9, False) == bits


def test_new_list_rounds_up_and_keeps_the_minimum() -> None:
    assert len(new_list(1)) == MIN_LIST_BYTES
    assert len(new_list(MIN_LIST_BYTES * 8 + 1)) == MIN_LIST_BYTES + 1
    with pytest.raises(ValueError, match="at least one"):
        new_list(0)


def test_out_of_range_index_is_an_error_not_a_zero() -> None:
    bits = new_list()
    with pytest.raises(ProofError, match="beyond the list's 131072 entries"):
        bit(bits, MIN_LIST_BYTES * 8)
    with pytest.raises(ProofError, match="non-negative"):
        bit(bits, -1)


def test_known_answer_decode_of_an_independently_encoded_list() -> None:
    raw = set_bit(set_bit(new_list(), 0, True), 131071, True)
    encoded = _multibase_gzip(raw)
    assert encoded.startswith("uH4sI")  # 'u' + base64url of the GZIP magic 1f 8b 08
    decoded = decode_list(encoded)
    assert decoded == raw and bit(decoded, 0) and bit(decoded, 131071)


def test_encoding_is_deterministic_gzip_with_zero_mtime() -> None:
    raw = set_bit(new_list(), 42, True)
    encoded = encode_list(raw)
    assert encoded == encode_list(raw)
    blob = b64url_decode(encoded[1:], "list")
    assert blob[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    assert gzip.decompress(blob) == raw  # the stdlib reads what we write


def test_encoded_empty_list_is_small() -> None:
    # 16 KB of zeros compresses to a few dozen bytes: the whole point of GZIP here.
    assert len(encode_list(new_list())) < 80


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=MIN_LIST_BYTES * 8 - 1), max_size=50))
def test_round_trip(indexes: set[int]) -> None:
    raw = new_list()
    for index in indexes:
        raw = set_bit(raw, index, True)
    decoded = decode_list(encode_list(raw))
    assert decoded == raw
    assert {i for i in range(len(decoded) * 8) if bit(decoded, i)} == indexes


@given(st.binary(max_size=64))
def test_b64url_round_trip_and_known_answers(data: bytes) -> None:
    assert b64url_decode(b64url_encode(data), "x") == data
    assert b64url_encode(b"\xfb\xff") == "-_8"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AA==", "alphabet"),
        ("A+/A", "alphabet"),
        ("AAAAA", "impossible length"),
        ("AB", "non-zero trailing bits"),
    ],
)
def test_b64url_rejects_non_canonical(text: str, message: str) -> None:
    with pytest.raises(EncodingError, match=message):
        b64url_decode(text, "x")


def test_encode_refuses_a_short_list() -> None:
    with pytest.raises(ValueError, match="at least 16384 bytes"):
        encode_list(bytes(100))


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("H4sIAAAAAAAA", "starts with 'u'"),
        ("u!!", "not base64url"),
        ("u" + b64url_encode(b"not gzip at all"), "not valid GZIP"),
        ("u" + b64url_encode(gzip.compress(bytes(100), mtime=0)), "at least 16384"),
        ("u" + b64url_encode(gzip.compress(bytes(MIN_LIST_BYTES), mtime=0)[:-6]), "truncated"),
        (
            "u" + b64url_encode(gzip.compress(bytes(MIN_LIST_BYTES), mtime=0) + b"x"),
            "after its GZIP member",
        ),
    ],
)
def test_decode_names_the_problem(encoded: str, message: str) -> None:
    with pytest.raises(EncodingError, match=message):
        decode_list(encoded)


def test_decode_refuses_a_zip_bomb() -> None:
    bomb = _multibase_gzip(bytes(17 * 1024 * 1024))
    with pytest.raises(EncodingError, match="inflates to more than"):
        decode_list(bomb)


def test_status_list_credential_shape_and_lookup() -> None:
    raw = set_bit(new_list(), 7, True)
    credential = build_status_list_credential(
        list_url=LIST_URL, issuer_did=ISSUER, issued_at_s=1714564800, purpose="revocation", bits=raw
    )
    assert credential["@context"] == [VC_CONTEXT_V1, STATUS_CONTEXT_V1]
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["issuanceDate"] == "2024-05-01T12:00:00Z"
    assert "expirationDate" not in credential and "ttl" not in credential["credentialSubject"]
    subject = credential["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert decode_list(subject["encodedList"]) == raw
    revoked = status_list_entry(LIST_URL, 7, "revocation")
    assert revoked == {
        "id": f"{LIST_URL}#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": LIST_URL,
    }
    assert status_bit_of(revoked, credential) is True
    assert status_bit_of(status_list_entry(LIST_URL, 8, "revocation"), credential) is False
    with pytest.raises(ProofError, match="does not match the list's"):
        status_bit_of(status_list_entry(LIST_URL, 7, "suspension"), credential)
    with pytest.raises(ProofError, match="another status list"):
        status_bit_of(status_list_entry(LIST_URL + "x", 7, "revocation"), credential)
    with pytest.raises(ProofError, match="decimal integer string"):
        status_bit_of({**revoked, "statusListIndex": "07"}, credential)


def test_unknown_purpose_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of revocation, suspension"):
        status_list_entry(LIST_URL, 1, "refresh")  # type: ignore[arg-type]


def test_validity_window_and_ttl() -> None:
    credential = build_status_list_credential(
        list_url=LIST_URL,
        issuer_did=ISSUER,
        issued_at_s=1714564800,
        purpose="suspension",
        bits=new_list(),
        valid_until_s=1714565100,
        ttl_ms=60_000,
    )
    assert credential["expirationDate"] == "2024-05-01T12:05:00Z"
    assert credential["credentialSubject"]["ttl"] == 60_000
    for bad, message in (
        ({"valid_until_s": 1714564800}, "valid until after"),
        ({"ttl_ms": 0}, "positive"),
        ({"ttl_ms": 1.5}, "whole number"),
    ):
        with pytest.raises(ValueError, match=message):
            build_status_list_credential(
                list_url=LIST_URL,
                issuer_did=ISSUER,
                issued_at_s=1714564800,
                purpose="revocation",
                bits=new_list(),
                **bad,  # type: ignore[arg-type]
            )
