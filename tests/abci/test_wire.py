"""ABCI framing: unsigned varint length prefixes, incremental decoding, size limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salus.abci._wire import (
    FrameDecoder,
    FrameError,
    decode_uvarint,
    encode_uvarint,
    frame,
)
from salus.core.pb.tendermint.abci import types_pb2 as abci

# Known answers: LEB128 as Go's binary.PutUvarint writes it.
UVARINTS = [
    (0, b"\x00"),
    (1, b"\x01"),
    (127, b"\x7f"),
    (128, b"\x80\x01"),
    (300, b"\xac\x02"),
    (16_384, b"\x80\x80\x01"),
    (2**63, b"\x80" * 9 + b"\x01"),
    (2**64 - 1, b"\xff" * 9 + b"\x01"),
]


@pytest.mark.parametrize(("value", "encoded"), UVARINTS)
def test_uvarint_known_answers(value: int, encoded: bytes) -> None:
    assert encode_uvarint(value) == encoded
    assert decode_uvarint(encoded) == (value, len(encoded))


def test_echo_request_known_answer() -> None:
    # Request{echo: {message: "hello"}}: field 1 (echo) -> field 1 (message). An
    # unsigned prefix 9 is 0x09; the zig-zag (signed) varint of v0.34 would be 0x12.
    request = abci.Request(echo=abci.RequestEcho(message="hello")).SerializeToString()
    assert frame(request) == b"\x09\x0a\x07\x0a\x05hello"


def test_flush_request_known_answer() -> None:
    request = abci.Request(flush=abci.RequestFlush()).SerializeToString()
    assert frame(request) == b"\x02\x12\x00"


def test_uvarint_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="uvarint"):
        encode_uvarint(-1)
    with pytest.raises(ValueError, match="uvarint"):
        encode_uvarint(2**64)


def test_uvarint_overflow_is_a_frame_error() -> None:
    with pytest.raises(FrameError, match="overflows"):
        decode_uvarint(b"\xff" * 9 + b"\x02")
    with pytest.raises(FrameError, match="overflows"):
        decode_uvarint(b"\xff" * 10 + b"\x01")
    with pytest.raises(FrameError, match="overflows"):
        FrameDecoder().feed(b"\x80" * 11)


def test_incomplete_uvarint_needs_more() -> None:
    assert decode_uvarint(b"") is None
    assert decode_uvarint(b"\x80\x80") is None
    assert decode_uvarint(b"\x00\xac\x02", 1) == (300, 3)


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_uvarint_round_trip(value: int) -> None:
    encoded = encode_uvarint(value)
    assert decode_uvarint(encoded + b"\x00") == (value, len(encoded))


@given(
    st.lists(st.binary(max_size=300), max_size=12),
    st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=20),
)
def test_messages_survive_any_split(messages: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(frame(message) for message in messages)
    decoder = FrameDecoder()
    received: list[bytes] = []
    position = 0
    index = 0
    while position < len(stream):
        size = cuts[index % len(cuts)]
        received += decoder.feed(stream[position : position + size])
        position += size
        index += 1
    assert received == messages
    assert decoder.buffered == 0


def test_several_messages_in_one_read() -> None:
    decoder = FrameDecoder()
    assert decoder.feed(frame(b"a") + frame(b"") + frame(b"bc") + b"\x05ab") == [b"a", b"", b"bc"]
    assert decoder.buffered == 3
    assert decoder.feed(b"cde") == [b"abcde"]


def test_partial_length_prefix_is_kept() -> None:
    payload = bytes(range(200))
    framed = frame(payload)
    assert framed[:2] == b"\xc8\x01"
    decoder = FrameDecoder()
    assert decoder.feed(framed[:1]) == []
    assert decoder.feed(framed[1:2]) == []
    assert decoder.feed(framed[2:100]) == []
    assert decoder.feed(framed[100:]) == [payload]


def test_oversize_message_is_refused_before_its_payload() -> None:
    decoder = FrameDecoder(max_message_bytes=10)
    assert decoder.feed(frame(b"x" * 10)) == [b"x" * 10]
    with pytest.raises(FrameError, match=r"11 bytes exceeds the maximum of 10 bytes"):
        decoder.feed(encode_uvarint(11))  # refused on the prefix alone


def test_oversize_after_good_messages_still_raises() -> None:
    decoder = FrameDecoder(max_message_bytes=4)
    with pytest.raises(FrameError, match="exceeds the maximum"):
        decoder.feed(frame(b"ok") + encode_uvarint(1 << 40))


def test_frame_error_is_a_salus_encoding_error() -> None:
    from salus.errors import EncodingError

    assert issubclass(FrameError, EncodingError)
    assert FrameError.code == "abci_frame"
