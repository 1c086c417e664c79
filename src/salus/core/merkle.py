"""RFC 9162 Merkle tree over the transactions of a block.

Rules this module obeys:
- Pure: no I/O, clock, randomness or environment access; only :mod:`hashlib`.
- Hashing is exactly RFC 9162 §2.1.1 with SHA-256: a leaf hashes as
  ``SHA-256(0x00 || data)``, an interior node as ``SHA-256(0x01 || left || right)``,
  and the empty tree as ``SHA-256()``. The distinct prefixes keep a leaf from ever
  being passed off as an interior node (second-preimage resistance).
- Inclusion proofs are RFC 9162 §2.1.3.1 ``PATH(m, D[n])``: sibling hashes ordered
  from the leaf upwards. Verification is the §2.1.3.2 algorithm, plus an up-front
  check that the proof has exactly the length ``(index, size)`` requires, so a
  truncated or padded proof is reported as malformed rather than as a wrong root.
- Verifiers raise :class:`~salus.errors.MalformedProof` for a proof that cannot be
  evaluated and :class:`~salus.errors.RootMismatch` for one that evaluates to the
  wrong root; builders raise :class:`ValueError` for caller mistakes.

Theory of operation: RFC 9162 defines ``MTH`` recursively, splitting ``n`` leaves at
the largest power of two ``k < n``. The same tree is obtained bottom-up: hash
adjacent pairs level by level and promote an unpaired last node unchanged to the
next level. The left part of every split is a perfect tree of ``k`` leaves, so the
pairing never straddles a split, and the promoted node is exactly the right-hand
subtree the recursion would reach. Building level by level costs ``n - 1`` node
hashes and no recursion, which matters for blocks of tens of thousands of
transactions. An inclusion path is read off the same levels: at each level the
sibling of the leaf's ancestor is ``i ^ 1`` when it exists; a promoted ancestor has
no sibling at that level and contributes nothing to the path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from salus.errors import MalformedProof, RootMismatch

__all__ = [
    "inclusion_proof",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "verify_inclusion",
]

_HASH_SIZE = 32  # SHA-256 output size; every node and proof element has it

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """Return ``SHA-256(0x00 || data)``, the hash of a leaf (RFC 9162 §2.1.1)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return ``SHA-256(0x01 || left || right)``, an interior node (RFC 9162 §2.1.1)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _next_level(level: Sequence[bytes]) -> list[bytes]:
    """Hash adjacent pairs of ``level``; an unpaired last node is promoted unchanged."""
    paired = len(level) & ~1
    upper = [_sha256(_NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, paired, 2)]
    if paired != len(level):
        # RFC 9162 §2.1.1: the right subtree of an unbalanced split is itself an MTH;
        # when it holds a single node at this level that node *is* its MTH.
        upper.append(level[-1])
    return upper


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash (RFC 9162 §2.1.1) of already-hashed leaves.

    The empty list gives ``SHA-256()`` as §2.1.1 prescribes.
    """
    if not leaf_hashes:
        return _sha256(b"").digest()
    level: Sequence[bytes] = leaf_hashes
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash (RFC 9162 §2.1.1) of raw leaf data."""
    return root_from_leaf_hashes([leaf_hash(data) for data in leaves])


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> tuple[bytes, ...]:
    """Return the inclusion path ``PATH(index, D[n])`` of RFC 9162 §2.1.3.1.

    Elements are ordered from the leaf's sibling up to the child of the root, the
    order §2.1.3.2 consumes them in. Costs one pass of ``n - 1`` node hashes.

    Raises :class:`ValueError` when ``index`` is not a position in ``leaf_hashes``.
    """
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} out of range for a tree of {size} leaves")
    path: list[bytes] = []
    level: Sequence[bytes] = leaf_hashes
    position = index
    while len(level) > 1:
        sibling = position ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        # else: the ancestor is the promoted last node; it has no sibling at this level.
        level = _next_level(level)
        position >>= 1
    return tuple(path)


def _expected_proof_length(index: int, size: int) -> int:
    """Return the length of ``PATH(index, D[size])`` for ``0 <= index < size``.

    Below the highest bit where ``index`` and ``size - 1`` differ, the leaf lies in
    a perfect subtree and every level contributes a sibling ("inner" part). Above
    it the leaf's ancestor is on the right border of the tree, and only the levels
    where it is a right child have a left sibling ("border" part).
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """Return the root that ``proof`` gives for leaf hash ``leaf`` at ``index`` of ``size``.

    Follows the verification algorithm of RFC 9162 §2.1.3.2. ``leaf`` is the *leaf
    hash* (see :func:`leaf_hash`), not the raw leaf data.

    Raises :class:`~salus.errors.MalformedProof` when ``size < 1``, ``index`` is
    negative or not below ``size``, ``leaf`` or a proof element is not 32 bytes, or
    the proof is shorter or longer than ``(index, size)`` requires.
    """
    if size < 1:
        raise MalformedProof(f"inclusion proof: tree size {size} is less than 1")
    # §2.1.3.2 step 1: the leaf index must lie inside the tree.
    if not 0 <= index < size:
        raise MalformedProof(f"inclusion proof: leaf index {index} not in a tree of size {size}")
    if len(leaf) != _HASH_SIZE:
        raise MalformedProof(f"inclusion proof: leaf hash is {len(leaf)} bytes, not {_HASH_SIZE}")
    for position, element in enumerate(proof):
        if len(element) != _HASH_SIZE:
            raise MalformedProof(
                f"inclusion proof: element {position} is {len(element)} bytes, not {_HASH_SIZE}"
            )
    expected = _expected_proof_length(index, size)
    if len(proof) < expected:
        raise MalformedProof(
            f"inclusion proof too short: {len(proof)} elements, "
            f"leaf {index} of {size} needs {expected}"
        )
    if len(proof) > expected:
        raise MalformedProof(
            f"inclusion proof too long: {len(proof)} elements, "
            f"leaf {index} of {size} needs {expected}"
        )
    # §2.1.3.2 steps 2-4. fn walks the leaf's ancestors, sn the last node of each level.
    fn = index
    sn = size - 1
    r = leaf
    for p in proof:
        if sn == 0:  # step 4a; unreachable after the length check, kept as the RFC's guard
            raise MalformedProof("inclusion proof too long for the tree size")
        if fn & 1 or fn == sn:
            # The ancestor is a right child, or the promoted last node of its level
            # (whose sibling, if any, is found some levels up, on its left).
            r = _sha256(_NODE_PREFIX + p + r).digest()
            if not fn & 1:
                # Step 4b.ii: skip the levels where the ancestor was promoted.
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(_NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    # Step 5: having consumed the proof we must have reached the root (sn == 0).
    if sn != 0:  # unreachable after the length check, kept as the RFC's guard
        raise MalformedProof("inclusion proof too short for the tree size")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that leaf hash ``leaf`` sits at ``index`` of the ``size``-leaf tree ``root``.

    Raises :class:`~salus.errors.MalformedProof` (see
    :func:`root_from_inclusion_proof`) or :class:`~salus.errors.RootMismatch`.
    """
    calculated = root_from_inclusion_proof(index, size, leaf, proof)
    if calculated != root:
        raise RootMismatch("transaction inclusion proof", expected=root, calculated=calculated)
