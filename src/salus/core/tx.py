"""Signed transactions: one canonical byte string each, bound to one chain.

Wire form (the *envelope*) is the canonical CBOR array ``[body, signature]`` where
``body`` is itself the canonical CBOR encoding of the map::

    {"v": 1, "chain_id": str, "signer": bytes(32), "nonce": int,
     "contract": str, "action": str, "args": {str: value}}

The signature is Ed25519 over ``TX_DOMAIN || body``. The transaction id is
SHA-256(body): it does not depend on the signature, so one signed intent has one id.

Replay protection: ``chain_id`` stops replay across networks; the per-signer
``nonce`` must be strictly greater than the signer's last used nonce, which stops
replay within one network while letting a client send a burst without waiting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import cbor2

from salus.core import codec
from salus.core.crypto import (
    PUBLIC_KEY_SIZE,
    SIGNATURE_SIZE,
    Signer,
    did_from_public_key,
    sha256,
    verify_signature,
)
from salus.errors import EncodingError

__all__ = [
    "MAX_TX_BYTES",
    "TX_DOMAIN",
    "SignedTransaction",
    "Transaction",
    "check_name",
    "sign_transaction",
]

MAX_TX_BYTES = 64 * 1024
TX_DOMAIN = b"salus/tx/v1\x00"
TX_VERSION = 1

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_CHAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_BODY_KEYS = frozenset({"v", "chain_id", "signer", "nonce", "contract", "action", "args"})


def check_name(value: object, what: str) -> str:
    """Return ``value`` if it is a valid contract or action name, else raise."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise EncodingError(
            f"{what} must be lower-case letters, digits or '_', starting with a letter "
            f"(got {value!r})"
        )
    return value


def check_chain_id(value: object) -> str:
    """Return ``value`` if it is a valid chain id, else raise."""
    if not isinstance(value, str) or not _CHAIN_ID.fullmatch(value):
        raise EncodingError(f"chain_id must be 1-64 characters of [A-Za-z0-9._-] (got {value!r})")
    return value


@dataclass(frozen=True, slots=True)
class Transaction:
    """An unsigned transaction: who calls which contract action, with what arguments."""

    chain_id: str
    signer: bytes
    nonce: int
    contract: str
    action: str
    args: dict[str, Any]

    def __post_init__(self) -> None:
        check_chain_id(self.chain_id)
        if not isinstance(self.signer, bytes) or len(self.signer) != PUBLIC_KEY_SIZE:
            raise EncodingError("signer must be a 32-byte Ed25519 public key")
        if (
            not isinstance(self.nonce, int)
            or isinstance(self.nonce, bool)
            or not 1 <= self.nonce <= codec.INT_MAX
        ):
            raise EncodingError(f"nonce must be an integer from 1 to 2^63-1 (got {self.nonce!r})")
        check_name(self.contract, "contract")
        check_name(self.action, "action")
        if not isinstance(self.args, dict):
            raise EncodingError("args must be a map")
        codec.check_value(self.args, what="args")

    @property
    def signer_did(self) -> str:
        """The signer as a did:key."""
        return did_from_public_key(self.signer)

    def body_bytes(self) -> bytes:
        """The canonical encoding that is signed and hashed."""
        return codec.encode(
            {
                "v": TX_VERSION,
                "chain_id": self.chain_id,
                "signer": self.signer,
                "nonce": self.nonce,
                "contract": self.contract,
                "action": self.action,
                "args": self.args,
            }
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly view (signer as did:key)."""
        return {
            "chain_id": self.chain_id,
            "signer": self.signer_did,
            "nonce": self.nonce,
            "contract": self.contract,
            "action": self.action,
            "args": self.args,
        }


@dataclass(frozen=True, slots=True)
class SignedTransaction:
    """A transaction with its signature, as carried on the wire and in blocks."""

    tx: Transaction
    body: bytes
    signature: bytes
    envelope: bytes
    id: bytes

    @classmethod
    def decode(cls, envelope: bytes) -> SignedTransaction:
        """Parse an envelope; raises :class:`EncodingError` naming what is wrong.

        The signature is *not* checked here (see :meth:`verify_signature`): decoding
        is cheap and stateless, verification is the expensive step.
        """
        if not isinstance(envelope, bytes | bytearray | memoryview):
            raise EncodingError("transaction must be bytes")
        envelope = bytes(envelope)
        if len(envelope) > MAX_TX_BYTES:
            raise EncodingError(
                f"transaction is {len(envelope)} bytes, over the limit of {MAX_TX_BYTES}"
            )
        try:
            outer = cbor2.loads(envelope)
        except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError) as exc:
            raise EncodingError(f"transaction is not valid CBOR: {exc}") from None
        if not isinstance(outer, list) or len(outer) != 2:
            raise EncodingError("transaction must be the array [body, signature]")
        body, signature = outer
        if not isinstance(body, bytes) or not isinstance(signature, bytes):
            raise EncodingError("transaction body and signature must be byte strings")
        if len(signature) != SIGNATURE_SIZE:
            raise EncodingError("signature must be 64 bytes")
        # The envelope holds two byte strings only, so re-encoding is the whole
        # canonical check (minimal lengths, definite lengths, no trailing bytes).
        if codec.encode([body, signature]) != envelope:
            raise EncodingError("transaction is not in canonical form (RFC 8949 §4.2)")
        try:
            fields = cbor2.loads(body)
        except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError) as exc:
            raise EncodingError(f"transaction body is not valid CBOR: {exc}") from None
        if not isinstance(fields, dict):
            raise EncodingError("transaction body must be a map")
        if fields.keys() != _BODY_KEYS:
            missing = _BODY_KEYS - fields.keys()
            extra = fields.keys() - _BODY_KEYS
            if missing:
                raise EncodingError(f"transaction body is missing {', '.join(sorted(missing))}")
            raise EncodingError(f"transaction body has unknown fields {', '.join(sorted(extra))}")
        if fields["v"] != TX_VERSION or isinstance(fields["v"], bool):
            raise EncodingError(f"unsupported transaction version {fields['v']!r}")
        if not isinstance(fields["args"], dict):
            raise EncodingError("args must be a map")
        # Transaction() checks every field's type and range, args included (no floats,
        # no byte strings, 64-bit integers); then the body must be canonical.
        tx = Transaction(
            chain_id=fields["chain_id"],
            signer=fields["signer"],
            nonce=fields["nonce"],
            contract=fields["contract"],
            action=fields["action"],
            args=fields["args"],
        )
        if codec.encode(fields) != body:
            raise EncodingError(
                "transaction body is not in canonical form (RFC 8949 §4.2) or has trailing bytes"
            )
        return cls(tx=tx, body=body, signature=signature, envelope=envelope, id=sha256(body))

    def verify_signature(self) -> None:
        """Raise :class:`~salus.errors.BadSignature` unless the signer signed this body."""
        verify_signature(self.tx.signer, TX_DOMAIN + self.body, self.signature)

    @property
    def id_hex(self) -> str:
        """The transaction id as lower-case hex."""
        return self.id.hex()


def sign_transaction(tx: Transaction, signer: Signer) -> SignedTransaction:
    """Sign ``tx`` with ``signer``, whose public key must be ``tx.signer``."""
    if signer.public_key != tx.signer:
        raise ValueError("the signing key does not match the transaction's signer")
    body = tx.body_bytes()
    signature = signer.sign(TX_DOMAIN + body)
    envelope = codec.encode([body, signature])
    return SignedTransaction(
        tx=tx, body=body, signature=signature, envelope=envelope, id=sha256(body)
    )
