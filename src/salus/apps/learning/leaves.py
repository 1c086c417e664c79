"""A batch's leaf list: the credential hashes behind an anchored Merkle root.

Rules this module obeys:
- Pure: bytes in, bytes out; no I/O, clock or randomness.
- A *leaf list* is the concatenation of a batch's N credential hashes
  (:func:`~.credentials.credential_hash`, the SHA-256 of each VC-JWT's ASCII) in batch
  order, 32 bytes each, nothing else: hashes only, so it holds no personal data and may
  sit in a node's public blob store. Its blob address (its SHA-256) is what
  ``learning.anchor_batch`` records as ``leaves``.
- A list is trusted only after the RFC 9162 root recomputed from it equals the anchored
  root and its length equals the anchored count (:func:`decode_leaves`): the contract
  checks only the address's form, and a blob store may hold anything under any name.

Theory of operation. A printed certificate's QR code can hold the VC-JWT but not its
proofs (a package is ~5.6 KB; one QR symbol holds at most 2,953 bytes). Given the bare
token, a node finds the batch that anchored it, reads the batch's leaf list, rebuilds
the token's inclusion path (:func:`inclusion_path`) and the four state proofs, and so
assembles the same package the issuer handed out; the ordinary offline verifier then
judges it. The list also lets a node find a credential by its hash alone (the QR's
``#h=`` short link).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from salus.apps.learning.credentials import credential_hash
from salus.core.merkle import leaf_hash, node_hash
from salus.errors import MalformedProof, RootMismatch

__all__ = [
    "HASH_BYTES",
    "decode_leaves",
    "encode_leaves",
    "inclusion_path",
    "leaves_root",
    "path_in",
    "tree_levels",
]

HASH_BYTES: Final = 32


def encode_leaves(tokens: Sequence[str]) -> bytes:
    """The leaf list of a batch of VC-JWTs, in batch order."""
    if not tokens:
        raise ValueError("a batch holds at least one certificate")
    return b"".join(credential_hash(token) for token in tokens)


def tree_levels(hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the RFC 9162 tree over ``hashes`` (leaf data), leaf hashes first,
    the root last: kept by a caller that needs many paths of one batch."""
    if not hashes:
        raise ValueError("a batch holds at least one certificate")
    levels = [[leaf_hash(h) for h in hashes]]
    while len(levels[-1]) > 1:
        level = levels[-1]
        upper = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            upper.append(level[-1])  # RFC 9162 §2.1.1: an unpaired last node is promoted
        levels.append(upper)
    return levels


def leaves_root(hashes: Sequence[bytes]) -> bytes:
    """The RFC 9162 root over ``hashes`` (each one leaf's data)."""
    return tree_levels(hashes)[-1][0]


def path_in(levels: Sequence[Sequence[bytes]], index: int) -> tuple[bytes, ...]:
    """The inclusion path of leaf ``index`` in a tree given by :func:`tree_levels`."""
    if not 0 <= index < len(levels[0]):
        raise ValueError(f"index {index} is not inside a batch of {len(levels[0])}")
    path: list[bytes] = []
    position = index
    for level in levels[:-1]:
        sibling = position ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        position >>= 1
    return tuple(path)


def inclusion_path(hashes: Sequence[bytes], index: int) -> tuple[bytes, ...]:
    """The RFC 9162 inclusion path of leaf ``index`` (what a package's ``path`` holds)."""
    if not 0 <= index < len(hashes):
        raise ValueError(f"index {index} is not inside a batch of {len(hashes)}")
    return path_in(tree_levels(hashes), index)


def decode_leaves(data: bytes, *, count: int, root: bytes) -> list[bytes]:
    """The hashes of a leaf list, after checking it against the anchored ``count`` and ``root``.

    Raises :class:`~salus.errors.MalformedProof` for a wrong length and
    :class:`~salus.errors.RootMismatch` for a list of other credentials.
    """
    if len(data) != count * HASH_BYTES:
        raise MalformedProof(
            f"the leaf list is {len(data)} bytes; a batch of {count} needs "
            f"{count * HASH_BYTES} ({HASH_BYTES} per credential)"
        )
    hashes = [data[i : i + HASH_BYTES] for i in range(0, len(data), HASH_BYTES)]
    calculated = leaves_root(hashes)
    if calculated != root:
        raise RootMismatch("the batch's leaf list", root, calculated)
    return hashes
