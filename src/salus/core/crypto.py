"""Hashing, Ed25519 signatures and did:key identifiers.

Rules this module obeys:
- Pure: signing is deterministic (RFC 8032 §5.1.6) and key *generation* lives outside
  the core (``salus.keys``), because it needs randomness.
- Every signed message starts with a domain tag so a signature made for one purpose
  (a transaction, a block header) can never be replayed as another.
- Verification is libsodium's strict Ed25519 check (canonical S, no small-order keys).

did:key (W3C CCG did:key spec §3.1.1 / Ed25519): ``did:key:z`` + base58btc of the
multicodec prefix ``0xed 0x01`` followed by the 32-byte public key.
"""

from __future__ import annotations

import functools
import hashlib

import base58
import nacl.exceptions
import nacl.signing

from salus.errors import BadSignature, EncodingError

__all__ = [
    "PUBLIC_KEY_SIZE",
    "SIGNATURE_SIZE",
    "Signer",
    "did_from_public_key",
    "public_key_from_did",
    "sha256",
    "verify_signature",
]

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64
SEED_SIZE = 32
_DID_PREFIX = "did:key:z"
_ED25519_MULTICODEC = b"\xed\x01"


def sha256(data: bytes) -> bytes:
    """SHA-256 digest of ``data``."""
    return hashlib.sha256(data).digest()


class Signer:
    """An Ed25519 private key that signs domain-tagged messages.

    Built from a 32-byte seed; never serialised by the core (see ``salus.keystore``).
    """

    __slots__ = ("_key", "public_key")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_SIZE:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self._key = nacl.signing.SigningKey(seed)
        self.public_key: bytes = bytes(self._key.verify_key)

    @property
    def did(self) -> str:
        """This key's did:key identifier."""
        return did_from_public_key(self.public_key)

    @property
    def seed(self) -> bytes:
        """The 32-byte private seed (handle with care)."""
        return bytes(self._key)

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``message``."""
        return bytes(self._key.sign(message).signature)


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise :class:`BadSignature` unless ``signature`` is valid for ``message``."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise BadSignature("public key must be 32 bytes")
    if len(signature) != SIGNATURE_SIZE:
        raise BadSignature("signature must be 64 bytes")
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError) as exc:
        raise BadSignature("signature does not verify") from exc


@functools.lru_cache(maxsize=1 << 16)
def did_from_public_key(public_key: bytes) -> str:
    """Encode a 32-byte Ed25519 public key as a did:key identifier (memoised: base58 is slow)."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise EncodingError("an Ed25519 public key is 32 bytes")
    return _DID_PREFIX + base58.b58encode(_ED25519_MULTICODEC + public_key).decode("ascii")


def public_key_from_did(did: str) -> bytes:
    """Decode an Ed25519 did:key back to its 32-byte public key.

    Raises :class:`EncodingError` naming the problem for anything else
    (another DID method, another key type, bad base58, wrong length).
    """
    if not isinstance(did, str) or not did.startswith(_DID_PREFIX):
        raise EncodingError(f"{did!r} is not a did:key identifier (expected 'did:key:z...')")
    try:
        raw = base58.b58decode(did[len(_DID_PREFIX) :])
    except ValueError as exc:
        raise EncodingError(f"{did!r} is not valid base58btc") from exc
    if raw[:2] != _ED25519_MULTICODEC:
        raise EncodingError(f"{did!r} is not an Ed25519 did:key (multicodec 0xed01)")
    key = raw[2:]
    if len(key) != PUBLIC_KEY_SIZE:
        raise EncodingError(f"{did!r} does not hold a 32-byte Ed25519 key")
    # base58 has one spelling per byte string except for leading-zero handling; insist
    # on the canonical spelling so one key has one DID.
    if did_from_public_key(key) != did:
        raise EncodingError(f"{did!r} is not the canonical spelling of its key")
    return bytes(key)
