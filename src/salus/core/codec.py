"""Canonical encoding: exactly one byte string for every value Salus signs or hashes.

Rules this module obeys:
- Pure: no I/O, clock, randomness or environment access.
- Encoding is deterministic CBOR (RFC 8949 §4.2): shortest integer and length forms,
  definite lengths, map keys in length-first order (RFC 8949 §4.2.3, the ordering
  cbor2's ``canonical=True`` implements).
- Decoding accepts a byte string only if re-encoding the decoded value gives back the
  very same bytes. That one comparison rejects non-minimal integers, indefinite
  lengths, unsorted or duplicate map keys and trailing garbage.
- The value model is deliberately small: ``None``, ``bool``, 64-bit signed ``int``,
  ``str``, ``bytes`` (only where a caller allows it), ``list`` and ``dict`` with ``str``
  keys. No floats (money is integer minor units), no tags, no undefined.

Theory of operation: callers build plain Python values, :func:`encode` them and sign
or hash the result; receivers call :func:`decode` with a size limit and get the same
plain values back, or an :class:`~salus.errors.EncodingError` naming the problem.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import cbor2

from salus.errors import EncodingError

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "Value",
    "canonical_order",
    "check_value",
    "decode",
    "encode",
    "encode_ordered",
]

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
MAX_DEPTH = 32

# JSON-compatible data as stored in state and passed as action arguments.
Value: TypeAlias = bool | int | str | list[Any] | dict[str, Any] | None


def encode(value: Any) -> bytes:
    """Return the canonical CBOR encoding of ``value``.

    Precondition: ``value`` follows the value model (see :func:`check_value`);
    callers that accept outside data check it first.
    """
    try:
        return cbor2.dumps(value, canonical=True)
    except (cbor2.CBOREncodeError, TypeError, ValueError) as exc:
        raise EncodingError(f"value cannot be encoded: {exc}") from exc


def canonical_order(mapping: dict[str, Any]) -> dict[str, Any]:
    """``mapping`` with its keys in canonical order (length first, then bytewise).

    Only the top level is reordered; see :func:`encode_ordered`.
    """
    if len(mapping) < 2:
        return mapping
    return {k: mapping[k] for k in sorted(mapping, key=lambda k: (len(k.encode()), k.encode()))}


def encode_ordered(value: Any) -> bytes:
    """Canonical encoding of a value whose maps are *already* in canonical key order.

    cbor2 keeps a map's insertion order when not asked to sort, and sorting is most
    of the cost of canonical encoding; hot paths that build their own maps in the
    right order (transaction results) use this. Precondition violations cannot go
    unnoticed: every decoder re-encodes canonically and rejects a mismatch.
    """
    try:
        return cbor2.dumps(value)
    except (cbor2.CBOREncodeError, TypeError, ValueError) as exc:
        raise EncodingError(f"value cannot be encoded: {exc}") from exc


def decode(data: bytes, *, max_size: int, what: str, allow_bytes: bool = True) -> Any:
    """Decode ``data`` if and only if it is the canonical encoding of an allowed value.

    ``what`` names the thing being decoded in error messages ("transaction",
    "proof bundle", ...). Raises :class:`EncodingError` when the data is larger
    than ``max_size``, malformed, not canonical, or holds a disallowed type.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise EncodingError(f"{what} must be bytes")
    data = bytes(data)
    if len(data) > max_size:
        raise EncodingError(f"{what} is {len(data)} bytes, over the limit of {max_size}")
    if not data:
        raise EncodingError(f"{what} is empty")
    try:
        value = cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError) as exc:
        raise EncodingError(f"{what} is not valid CBOR: {exc}") from exc
    check_value(value, what=what, allow_bytes=allow_bytes)
    if encode(value) != data:
        raise EncodingError(
            f"{what} is not in canonical form (RFC 8949 §4.2) or has trailing bytes"
        )
    return value


def check_value(value: Any, *, what: str, allow_bytes: bool = False, _depth: int = 0) -> None:
    """Raise :class:`EncodingError` unless ``value`` follows the value model.

    Floats, tags, sets and out-of-range integers are refused with the path of the
    offending element in the message.
    """
    if _depth > MAX_DEPTH:
        raise EncodingError(f"{what} is nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise EncodingError(f"{what}: integer {value} is outside the signed 64-bit range")
        return
    if isinstance(value, bytes):
        if not allow_bytes:
            raise EncodingError(f"{what}: byte strings are not allowed here")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_value(item, what=f"{what}[{index}]", allow_bytes=allow_bytes, _depth=_depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError(f"{what}: map keys must be text, found {type(key).__name__}")
            check_value(item, what=f"{what}.{key}", allow_bytes=allow_bytes, _depth=_depth + 1)
        return
    if isinstance(value, float):
        raise EncodingError(f"{what}: floating-point numbers are not allowed (use integers)")
    raise EncodingError(f"{what}: values of type {type(value).__name__} are not allowed")
