"""CometBFT's validator set as the Salus state describes it.

Rules this module obeys:
- The validator set is state: the identity contract's key ``identity/validators``,
  a map ``did:key -> voting power`` maintained by governance (add_validator /
  remove_validator after M-of-N approval). While that key does not exist the set
  is the genesis validators. A power of 0 is the same as absence.
- A block that changes the key yields ABCI ``ValidatorUpdate``s: the new power of
  every key whose power changed, 0 for a key that left. CometBFT applies them two
  heights later (``H+2``, spec ``abci++_methods.md`` FinalizeBlock).
- Because of that delay, a validator removed at ``H`` can still propose block
  ``H+1``; the directory of proposer addresses therefore remembers every key that
  was ever a validator, not only the current set.
- Pure: no I/O. The application persists the directory's keys (store metadata) so
  a restarted node still resolves the proposer of the block after a removal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import cbor2

from salus.cometbft.home import cometbft_address
from salus.core import codec
from salus.core.contract import state_key
from salus.core.crypto import PUBLIC_KEY_SIZE, public_key_from_did
from salus.core.genesis import Genesis
from salus.core.identity import IDENTITY
from salus.core.pb.tendermint.abci import types_pb2 as abci
from salus.core.pb.tendermint.crypto import keys_pb2
from salus.errors import EncodingError, StorageError

__all__ = [
    "VALIDATORS_KEY",
    "ValidatorDirectory",
    "decode_key_list",
    "encode_key_list",
    "validator_powers",
    "validator_updates",
]

VALIDATORS_KEY = state_key(IDENTITY, "validators")


def validator_powers(raw: bytes | None, genesis: Genesis) -> dict[bytes, int]:
    """Public key -> power of the set stored as ``raw`` (the genesis set if ``None``).

    Raises :class:`~salus.errors.StorageError` if the stored value is not a map of
    did:key to non-negative integers: CometBFT must never be told a set Salus
    cannot justify.
    """
    if raw is None:
        return genesis.validator_powers()
    value = cbor2.loads(raw)
    if not isinstance(value, dict):
        raise StorageError(f"{VALIDATORS_KEY.decode()} must map did:key to power")
    powers: dict[bytes, int] = {}
    for did, power in value.items():
        try:
            key = public_key_from_did(did)
        except EncodingError as exc:
            raise StorageError(f"{VALIDATORS_KEY.decode()}: {exc.reason}") from None
        if not isinstance(power, int) or isinstance(power, bool) or power < 0:
            raise StorageError(
                f"{VALIDATORS_KEY.decode()}: power of {did} must be a non-negative integer"
            )
        if power:
            powers[key] = power
    return powers


def validator_updates(
    before: Mapping[bytes, int], after: Mapping[bytes, int]
) -> list[abci.ValidatorUpdate]:
    """The ABCI updates turning ``before`` into ``after``, ordered by public key."""
    updates = []
    for key in sorted(before.keys() | after.keys()):
        power = after.get(key, 0)
        if power != before.get(key, 0):
            updates.append(
                abci.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=key), power=power)
            )
    return updates


def encode_key_list(keys: Iterable[bytes]) -> bytes:
    """Canonical CBOR of a sorted list of public keys (for store metadata)."""
    return codec.encode(sorted(keys))


def decode_key_list(raw: bytes) -> list[bytes]:
    """Inverse of :func:`encode_key_list`."""
    value = cbor2.loads(raw)
    if not isinstance(value, list) or not all(
        isinstance(key, bytes) and len(key) == PUBLIC_KEY_SIZE for key in value
    ):
        raise StorageError("stored validator keys must be a list of 32-byte keys")
    return value


class ValidatorDirectory:
    """CometBFT address (SHA-256(key)[:20]) -> public key of every validator seen."""

    __slots__ = ("_by_address",)

    def __init__(self, keys: Iterable[bytes] = ()) -> None:
        self._by_address: dict[bytes, bytes] = {}
        self.add(keys)

    def add(self, keys: Iterable[bytes]) -> bool:
        """Remember ``keys``; return whether any was new."""
        added = False
        for key in keys:
            address = cometbft_address(key)
            if address not in self._by_address:
                self._by_address[address] = key
                added = True
        return added

    def public_key(self, address: bytes) -> bytes | None:
        """The public key behind a CometBFT validator address, if ever seen."""
        return self._by_address.get(address)

    def keys(self) -> list[bytes]:
        return list(self._by_address.values())
