"""ABCI socket framing: each protobuf message preceded by its length as an unsigned varint.

Rules this module obeys:
- Pure (h11-style): bytes in, message payloads out; no sockets, no asyncio. The
  server owns the I/O and feeds whatever ``read()`` returned.
- The length prefix is an *unsigned* LEB128 varint (``binary.PutUvarint``), as
  CometBFT v0.38 writes and reads it (``libs/protoio``, used by
  ``abci/types/messages.go``). v0.34 and earlier used a zig-zag *signed* varint;
  a v0.34 peer would be misread here, which is why the pinned version matters.
- A length above the decoder's ``max_message_bytes`` is refused before any of the
  payload is buffered, so a peer cannot make the app allocate unbounded memory.

Theory of operation. :class:`FrameDecoder` keeps one buffer. :meth:`FrameDecoder.feed`
appends what arrived and returns every message now complete, in order: a read may
hold a fraction of a message, exactly one, or several (CometBFT's client batches
writes and flushes them together). An incomplete prefix or payload stays buffered
for the next read.
"""

from __future__ import annotations

from salus.errors import FrameError

__all__ = [
    "DEFAULT_MAX_MESSAGE_BYTES",
    "FrameDecoder",
    "FrameError",
    "decode_uvarint",
    "encode_uvarint",
    "frame",
]

# A FinalizeBlock request carries a whole block: CometBFT's default block.max_bytes
# is 21 MiB; leave room for a network that raises it. (CometBFT's own limit is 2 GiB.)
DEFAULT_MAX_MESSAGE_BYTES = 64 << 20
_MAX_VARINT_BYTES = 10  # a uint64 takes at most 10 LEB128 bytes


def encode_uvarint(value: int) -> bytes:
    """Unsigned LEB128 encoding of a non-negative integer below 2**64."""
    if value < 0 or value >= 1 << 64:
        raise ValueError(f"a uvarint holds 0 .. 2**64-1, not {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_uvarint(data: bytes | bytearray | memoryview, offset: int = 0) -> tuple[int, int] | None:
    """Decode a uvarint at ``offset``: ``(value, next offset)``, or ``None`` if incomplete.

    Raises :class:`FrameError` for a varint longer than 10 bytes or above 2**64-1
    (Go's ``binary.ReadUvarint`` overflow error).
    """
    value = 0
    shift = 0
    position = offset
    end = len(data)
    while position < end:
        byte = data[position]
        position += 1
        if position - offset == _MAX_VARINT_BYTES and byte > 1:
            raise FrameError("message length prefix overflows 64 bits")
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
    return None


def frame(payload: bytes) -> bytes:
    """``payload`` with its unsigned varint length prefix."""
    return encode_uvarint(len(payload)) + payload


class FrameDecoder:
    """Incremental decoder of length-prefixed messages (see the module docstring)."""

    __slots__ = ("_buffer", "max_message_bytes")

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        if max_message_bytes < 0:
            raise ValueError("max_message_bytes must not be negative")
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as part of a complete message."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Add received bytes; return the payloads of every message now complete.

        Raises :class:`FrameError` if a length prefix is malformed or announces a
        message larger than ``max_message_bytes``; the decoder is then unusable
        (the stream has lost its framing) and the connection should be closed.
        """
        buffer = self._buffer
        buffer += data
        messages: list[bytes] = []
        position = 0
        end = len(buffer)
        while position < end:
            prefix = decode_uvarint(buffer, position)
            if prefix is None:
                break
            length, start = prefix
            if length > self.max_message_bytes:
                raise FrameError(
                    f"message of {length} bytes exceeds the maximum of "
                    f"{self.max_message_bytes} bytes"
                )
            if end - start < length:
                break
            position = start + length
            messages.append(bytes(buffer[start:position]))
        if position:
            del buffer[:position]
        return messages
