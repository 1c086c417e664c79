"""W3C Bitstring Status List v1.0: revocation and suspension bits for certificates.

Rules this module obeys:
- Pure: no I/O, clock or randomness; times and URLs arrive as arguments.
- Bit order is the spec's (§4.1 "Bitstring Generation Algorithm" / §3.2 validation):
  index 0 is the left-most bit of the bitstring, i.e. the most significant bit of byte 0.
- ``encodedList`` is the Multibase base64url (``u`` prefix, no padding, RFC 4648 §5)
  spelling of the GZIP (RFC 1952) compression of the bitstring. The uncompressed list
  is at least 16 KB (131,072 entries) as the spec requires, for herd privacy.
- Encoding is deterministic: the GZIP header is written here with MTIME 0, no file
  name and OS 255 ("unknown"), so the same bits give the same ``encodedList``
  with a given zlib. Decoding accepts any single valid GZIP member and refuses
  anything larger than :data:`MAX_LIST_BYTES` once inflated (no zip bombs).
- Decoders raise :class:`~salus.errors.EncodingError` naming the problem; builders
  raise :class:`ValueError` for caller mistakes.
- Credentials here are VC Data Model 1.1 documents, like the certificates that point at
  them (§3.6: "the same securing mechanism ... for both"), so they carry the VC v1
  context plus the Bitstring Status List context that defines their terms (§5.2).
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal

from salus.errors import EncodingError, ProofError

__all__ = [
    "MAX_LIST_BYTES",
    "MIN_LIST_BYTES",
    "STATUS_CONTEXT_V1",
    "STATUS_PURPOSES",
    "StatusPurpose",
    "b64url_decode",
    "b64url_encode",
    "bit",
    "build_status_list_credential",
    "decode_list",
    "encode_list",
    "new_list",
    "set_bit",
    "status_bit_of",
    "status_list_entry",
    "xsd_datetime",
]

StatusPurpose = Literal["revocation", "suspension"]
STATUS_PURPOSES: Final = ("revocation", "suspension")
MIN_LIST_BYTES: Final = 16 * 1024  # §4.1: "at least 16KB in size" (131,072 entries)
MAX_LIST_BYTES: Final = 16 * 1024 * 1024  # refuse to inflate a list beyond 16 MiB
VC_CONTEXT_V1: Final = "https://www.w3.org/2018/credentials/v1"
# §5.2: the context defining BitstringStatusListEntry/-Credential for VC 1.1 documents.
STATUS_CONTEXT_V1: Final = "https://www.w3.org/ns/credentials/status/v1"

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_LAST_SECOND: Final = 253402300799  # 9999-12-31T23:59:59Z, the last four-digit year
# RFC 1952 §2.3: ID1 ID2 CM=8 (deflate) FLG=0 MTIME=0 XFL=2 (max compression) OS=255.
_GZIP_HEADER: Final = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5, RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str) -> bytes:
    """Decode canonical unpadded base64url, or raise :class:`EncodingError` about ``what``.

    Canonical means: only the URL-safe alphabet, no ``=``, and unused trailing bits
    zero. Without that last check two spellings would decode to the same bytes and a
    changed last character of a signature could go unnoticed.
    """
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        raise EncodingError(f"{what} is not base64url (alphabet A-Z a-z 0-9 - _, no padding)")
    if len(text) % 4 == 1:
        raise EncodingError(f"{what} is not base64url: impossible length {len(text)}")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise EncodingError(f"{what} is not base64url: {exc}") from exc
    if b64url_encode(data) != text:
        raise EncodingError(f"{what} is not canonical base64url (non-zero trailing bits)")
    return data


def xsd_datetime(seconds: int) -> str:
    """Format whole UNIX seconds as an XML Schema dateTime in UTC (``2024-05-01T12:00:00Z``)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValueError("a time is a whole number of UNIX seconds")
    if not 0 <= seconds <= _LAST_SECOND:
        raise ValueError(f"time {seconds} is outside 1970-01-01 .. 9999-12-31")
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_list(entries: int = MIN_LIST_BYTES * 8) -> bytes:
    """A status list of ``entries`` zero bits (rounded up to whole bytes, at least 16 KB)."""
    if entries < 1:
        raise ValueError("a status list has at least one entry")
    return bytes(max(MIN_LIST_BYTES, (entries + 7) // 8))


def _check_index(list_bytes: bytes, index: int) -> None:
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ProofError(f"status list index {index!r} is not a non-negative integer")
    if index >= len(list_bytes) * 8:
        # §3.2 step 11: an index beyond the list is a RANGE_ERROR, never "not revoked".
        raise ProofError(
            f"status list index {index} is beyond the list's {len(list_bytes) * 8} entries"
        )


def bit(list_bytes: bytes, index: int) -> bool:
    """The status bit at ``index``; index 0 is the left-most (most significant) bit."""
    _check_index(list_bytes, index)
    return bool(list_bytes[index >> 3] & (0x80 >> (index & 7)))


def set_bit(list_bytes: bytes, index: int, value: bool) -> bytes:
    """A copy of ``list_bytes`` with the bit at ``index`` set to ``value``."""
    _check_index(list_bytes, index)
    out = bytearray(list_bytes)
    mask = 0x80 >> (index & 7)
    if value:
        out[index >> 3] |= mask
    else:
        out[index >> 3] &= ~mask & 0xFF
    return bytes(out)


def encode_list(bits: bytes) -> str:
    """GZIP ``bits`` deterministically and spell them as Multibase base64url (``u...``)."""
    if len(bits) < MIN_LIST_BYTES:
        raise ValueError(
            f"a status list is at least {MIN_LIST_BYTES} bytes (16 KB); got {len(bits)}"
        )
    if len(bits) > MAX_LIST_BYTES:
        raise ValueError(f"a status list is at most {MAX_LIST_BYTES} bytes; got {len(bits)}")
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9, zlib.Z_DEFAULT_STRATEGY)
    body = deflate.compress(bits) + deflate.flush()
    trailer = struct.pack("<II", zlib.crc32(bits), len(bits) & 0xFFFFFFFF)
    return "u" + b64url_encode(_GZIP_HEADER + body + trailer)


def decode_list(encoded: str) -> bytes:
    """Inverse of :func:`encode_list`: the uncompressed bitstring of an ``encodedList``."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise EncodingError("encodedList must be Multibase base64url: it starts with 'u'")
    compressed = b64url_decode(encoded[1:], "encodedList")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # GZIP wrapper, checks CRC32 + ISIZE
    try:
        bits = inflate.decompress(compressed, MAX_LIST_BYTES + 1)
    except zlib.error as exc:
        raise EncodingError(f"encodedList is not valid GZIP: {exc}") from exc
    if len(bits) > MAX_LIST_BYTES:
        raise EncodingError(f"encodedList inflates to more than {MAX_LIST_BYTES} bytes")
    if not inflate.eof:
        raise EncodingError("encodedList is a truncated GZIP stream")
    if inflate.unused_data:
        raise EncodingError("encodedList has bytes after its GZIP member")
    if len(bits) < MIN_LIST_BYTES:
        raise EncodingError(
            f"encodedList holds {len(bits)} bytes; a status list is at least {MIN_LIST_BYTES}"
        )
    return bits


def _check_purpose(purpose: str) -> None:
    if purpose not in STATUS_PURPOSES:
        raise ValueError(f"status purpose {purpose!r} is not one of {', '.join(STATUS_PURPOSES)}")


def status_list_entry(list_url: str, index: int, purpose: StatusPurpose) -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` (§2.1) pointing at bit ``index`` of ``list_url``.

    ``statusListIndex`` is the decimal *string* the spec requires, not a JSON number.
    """
    _check_purpose(purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"status list index {index!r} is not a non-negative integer")
    if not list_url:
        raise ValueError("a status list entry needs the status list credential's URL")
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def build_status_list_credential(
    *,
    list_url: str,
    issuer_did: str,
    issued_at_s: int,
    purpose: StatusPurpose,
    bits: bytes,
    valid_until_s: int | None = None,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """A ``BitstringStatusListCredential`` (§2.2) publishing ``bits`` for ``purpose``.

    ``issued_at_s`` becomes ``issuanceDate`` (VC 1.1's validFrom), ``valid_until_s``
    ``expirationDate`` (its validUntil); ``ttl_ms`` is §2.2's ``credentialSubject.ttl``,
    how long before a verifier should fetch the list again.
    The credential is unsigned data; secure it like any other (e.g. as a VC-JWT).
    """
    _check_purpose(purpose)
    if valid_until_s is not None and valid_until_s <= issued_at_s:
        raise ValueError("a status list credential must be valid until after it is issued")
    if ttl_ms is not None and (isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int)):
        raise ValueError("ttl_ms is a whole number of milliseconds")
    if ttl_ms is not None and ttl_ms <= 0:
        raise ValueError("ttl_ms must be positive")
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT_V1, STATUS_CONTEXT_V1],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "issuanceDate": xsd_datetime(issued_at_s),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_list(bits),
        },
    }
    if ttl_ms is not None:
        credential["credentialSubject"]["ttl"] = ttl_ms
    if valid_until_s is not None:
        credential["expirationDate"] = xsd_datetime(valid_until_s)
    return credential


def status_bit_of(entry: Mapping[str, Any], list_credential: Mapping[str, Any]) -> bool:
    """The status bit a ``BitstringStatusListEntry`` points to in a decoded list credential.

    Checks §3.2's consistency rules: same list URL, same purpose, index in range.
    Raises :class:`ProofError` naming the mismatch.
    """
    if entry.get("type") != "BitstringStatusListEntry":
        raise ProofError("credentialStatus is not a BitstringStatusListEntry")
    if entry.get("statusListCredential") != list_credential.get("id"):
        raise ProofError("credentialStatus points at another status list credential")
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != "BitstringStatusList":
        raise ProofError("status list credential has no BitstringStatusList subject")
    if subject.get("statusPurpose") != entry.get("statusPurpose"):
        raise ProofError(
            f"status purpose {entry.get('statusPurpose')!r} does not match the list's "
            f"{subject.get('statusPurpose')!r}"
        )
    raw_index = entry.get("statusListIndex")
    if not isinstance(raw_index, str) or not _DECIMAL.fullmatch(raw_index):
        raise ProofError(f"statusListIndex {raw_index!r} is not a decimal integer string")
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise ProofError("status list credential has no encodedList string")
    return bit(decode_list(encoded), int(raw_index))
