from __future__ import annotations

from typing import Any

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from salus.core import codec
from salus.errors import EncodingError

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=codec.INT_MIN, max_value=codec.INT_MAX)
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@given(values)
def test_round_trip_is_identity(value: Any) -> None:
    data = codec.encode(value)
    assert codec.decode(data, max_size=1 << 20, what="value") == value
    assert codec.encode(codec.decode(data, max_size=1 << 20, what="value")) == data


@given(st.dictionaries(st.text(max_size=8), st.integers(0, 100), min_size=2, max_size=8))
def test_map_key_order_does_not_change_encoding(mapping: dict[str, int]) -> None:
    reversed_order = dict(reversed(list(mapping.items())))
    assert codec.encode(mapping) == codec.encode(reversed_order)


@given(values, st.binary(min_size=1, max_size=4))
def test_trailing_bytes_are_rejected(value: Any, garbage: bytes) -> None:
    with pytest.raises(EncodingError):
        codec.decode(codec.encode(value) + garbage, max_size=1 << 20, what="value")


@pytest.mark.parametrize(
    ("hex_data", "why"),
    [
        ("1817", "non-minimal integer (23 encoded in two bytes)"),
        ("a2616201616101", "map keys out of canonical order"),
        ("a2616101616102", "duplicate map key"),
        ("5f41614162ff", "indefinite-length byte string"),
        ("f93e00", "floating-point number"),
        ("c11a5f5e1000", "tagged value"),
        ("1bffffffffffffffff", "integer outside 64-bit signed range"),
        ("", "empty input"),
        ("62ff", "truncated text"),
    ],
)
def test_non_canonical_or_disallowed_input_is_rejected(hex_data: str, why: str) -> None:
    with pytest.raises(EncodingError):
        codec.decode(bytes.fromhex(hex_data), max_size=100, what=why)


def test_oversized_input_is_rejected_before_parsing() -> None:
    data = codec.encode("x" * 200)
    with pytest.raises(EncodingError, match="over the limit of 100"):
        codec.decode(data, max_size=100, what="thing")


def test_floats_named_in_error() -> None:
    with pytest.raises(EncodingError, match="floating-point"):
        codec.check_value({"amount": 1.5}, what="args")


def test_bytes_only_where_allowed() -> None:
    data = cbor2.dumps({"a": b"\x01"}, canonical=True)
    assert codec.decode(data, max_size=100, what="x") == {"a": b"\x01"}
    with pytest.raises(EncodingError, match="byte strings are not allowed"):
        codec.decode(data, max_size=100, what="x", allow_bytes=False)


def test_deep_nesting_is_rejected() -> None:
    value: Any = 1
    for _ in range(40):
        value = [value]
    with pytest.raises(EncodingError, match="nested deeper"):
        codec.check_value(value, what="args")


@given(values)
def test_ordered_encoding_matches_canonical_after_ordering(value: Any) -> None:
    from salus.core.block import _ordered

    assert codec.encode_ordered(_ordered(value)) == codec.encode(value)
