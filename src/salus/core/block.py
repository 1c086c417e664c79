"""Block headers, transaction results and the proposer's signature.

A header commits to everything a third party may later want proven:

- ``tx_root``: RFC 9162 Merkle root over the transaction envelopes, in block order;
- ``results_root``: RFC 9162 Merkle root over the canonical result of each
  transaction (ok or rejected with a reason, and the events it emitted);
- ``state_root``: the state tree root *after* applying the block;
- ``prev_hash``: the previous header's hash (the genesis hash for height 1).

The header hash is SHA-256 of the header's canonical encoding. In the ``solo``
engine the proposer, a validator named in genesis, signs ``BLOCK_DOMAIN || hash``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from salus.core import codec
from salus.core.crypto import PUBLIC_KEY_SIZE, did_from_public_key, sha256
from salus.errors import EncodingError

__all__ = [
    "BLOCK_DOMAIN",
    "BlockHeader",
    "Event",
    "TxResult",
]

BLOCK_DOMAIN = b"salus/block/v1\x00"
MAX_HEADER_BYTES = 4096
_HEADER_KEYS = (
    "chain_id",
    "height",
    "time_ms",
    "prev_hash",
    "tx_root",
    "tx_count",
    "results_root",
    "state_root",
    "proposer",
)


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """What a block commits to; signed by its proposer."""

    chain_id: str
    height: int
    time_ms: int
    prev_hash: bytes
    tx_root: bytes
    tx_count: int
    results_root: bytes
    state_root: bytes
    proposer: bytes

    def to_data(self) -> dict[str, Any]:
        """Plain data for canonical encoding."""
        return {name: getattr(self, name) for name in _HEADER_KEYS}

    def encode(self) -> bytes:
        """Canonical encoding, the preimage of :attr:`hash`."""
        return codec.encode(self.to_data())

    @property
    def hash(self) -> bytes:
        """SHA-256 of the canonical encoding."""
        return sha256(self.encode())

    def signing_bytes(self) -> bytes:
        """What the proposer signs."""
        return BLOCK_DOMAIN + self.hash

    @classmethod
    def from_data(cls, data: object) -> BlockHeader:
        """Strictly rebuild a header from :meth:`to_data` output."""
        if not isinstance(data, dict) or set(data) != set(_HEADER_KEYS):
            raise EncodingError(f"a block header is a map of exactly: {', '.join(_HEADER_KEYS)}")
        for name in ("prev_hash", "tx_root", "results_root", "state_root"):
            if not isinstance(data[name], bytes) or len(data[name]) != 32:
                raise EncodingError(f"header {name} must be 32 bytes")
        if not isinstance(data["proposer"], bytes) or len(data["proposer"]) != PUBLIC_KEY_SIZE:
            raise EncodingError("header proposer must be a 32-byte public key")
        for name in ("height", "time_ms", "tx_count"):
            if not isinstance(data[name], int) or isinstance(data[name], bool) or data[name] < 0:
                raise EncodingError(f"header {name} must be a non-negative integer")
        if not isinstance(data["chain_id"], str):
            raise EncodingError("header chain_id must be text")
        return cls(**data)

    @classmethod
    def decode(cls, raw: bytes) -> BlockHeader:
        """Parse a canonical header encoding."""
        return cls.from_data(codec.decode(raw, max_size=MAX_HEADER_BYTES, what="block header"))

    def to_json(self) -> dict[str, Any]:
        """JSON view: hashes in hex, proposer as did:key."""
        return {
            "chain_id": self.chain_id,
            "height": self.height,
            "time_ms": self.time_ms,
            "prev_hash": self.prev_hash.hex(),
            "tx_root": self.tx_root.hex(),
            "tx_count": self.tx_count,
            "results_root": self.results_root.hex(),
            "state_root": self.state_root.hex(),
            "proposer": did_from_public_key(self.proposer),
            "hash": self.hash.hex(),
        }


def _ordered(value: Any) -> Any:
    """Recursively put every map of a plain value in canonical key order."""
    if isinstance(value, dict):
        return codec.canonical_order({k: _ordered(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Event:
    """Something an action reports happened, indexed by contract, type and subject."""

    contract: str
    type: str
    subject: str | None
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        # Keys in canonical order (length first), so results encode without sorting.
        return {
            "type": self.type,
            "attrs": _ordered(self.attrs),
            "subject": self.subject,
            "contract": self.contract,
        }

    @classmethod
    def from_data(cls, data: Any) -> Event:
        if not isinstance(data, dict) or set(data) != {"contract", "type", "subject", "attrs"}:
            raise EncodingError("an event is a map of contract, type, subject, attrs")
        return cls(data["contract"], data["type"], data["subject"], data["attrs"])


@dataclass(frozen=True, slots=True)
class TxResult:
    """The outcome of one transaction in a block: applied, or rejected with a reason."""

    tx_id: bytes
    ok: bool
    code: str
    reason: str
    events: tuple[Event, ...]

    def to_data(self) -> dict[str, Any]:
        # Keys in canonical order (length first, then bytewise).
        return {
            "ok": self.ok,
            "code": self.code,
            "tx_id": self.tx_id,
            "events": [event.to_data() for event in self.events],
            "reason": self.reason,
        }

    def encode(self) -> bytes:
        """Canonical encoding: the leaf of the block's results tree."""
        return codec.encode_ordered(self.to_data())

    @classmethod
    def decode(cls, raw: bytes) -> TxResult:
        data = codec.decode(raw, max_size=1 << 20, what="transaction result")
        if not isinstance(data, dict) or set(data) != {"tx_id", "ok", "code", "reason", "events"}:
            raise EncodingError("a transaction result is a map of tx_id, ok, code, reason, events")
        if not isinstance(data["tx_id"], bytes) or len(data["tx_id"]) != 32:
            raise EncodingError("result tx_id must be 32 bytes")
        if not isinstance(data["ok"], bool) or not isinstance(data["events"], list):
            raise EncodingError("result ok must be a boolean and events a list")
        return cls(
            tx_id=data["tx_id"],
            ok=data["ok"],
            code=str(data["code"]),
            reason=str(data["reason"]),
            events=tuple(Event.from_data(item) for item in data["events"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "code": self.code,
            "reason": self.reason,
            "events": [event.to_data() for event in self.events],
        }
