"""Key generation: the one place Salus draws randomness for keys (outside the core)."""

from __future__ import annotations

import nacl.utils

from salus.core.crypto import SEED_SIZE, Signer

__all__ = ["new_signer"]


def new_signer() -> Signer:
    """A fresh Ed25519 key from the operating system's CSPRNG (libsodium randombytes)."""
    return Signer(nacl.utils.random(SEED_SIZE))
