"""Authenticated key-value state: a compact sparse Merkle tree over SHA-256.

Rules this module obeys:
- Pure: no I/O, clock, randomness or environment access; only :mod:`hashlib`,
  :mod:`bisect` and :mod:`dataclasses`.
- Trees are immutable and persistent: :meth:`StateTree.update` returns a new tree
  that shares every untouched node with the old one, which stays valid (a proof
  against an older state root keeps verifying against that root).
- The root depends only on the set of ``(key, value)`` pairs, never on the order
  or batching of updates.
- Verifiers raise :class:`~salus.errors.MalformedProof` for a proof that cannot
  support the claim and :class:`~salus.errors.RootMismatch` for one that evaluates
  to the wrong root.

Definition (this is the format other implementations must reproduce):

- ``key_hash = SHA-256(key)`` and ``value_hash = SHA-256(value)``.
- The path of a key is the 256 bits of its ``key_hash``, most significant bit of
  byte 0 first; bit 0 means "go left", bit 1 "go right". The depth is at most 256.
- ``EMPTY`` (32 zero bytes) is the hash of an empty subtree.
- A leaf hashes as ``SHA-256(0x00 || key_hash || value_hash)``; an internal node
  as ``SHA-256(0x01 || left_hash || right_hash)``. The prefixes are the domain
  separation of RFC 9162 §2.1.1, so a leaf can never pose as an internal node.
- Compact form (as in Diem/Libra's sparse Merkle tree): a subtree holding exactly
  one leaf *is* that leaf, which therefore sits at the highest position where it
  is alone; an empty subtree is ``EMPTY``; a subtree holding two or more leaves is
  an internal node, even when one of its sides is empty.
- The root of the empty tree is ``EMPTY``.

Proofs: a :class:`StateProof` lists the sibling hashes met walking from the root
down the key's path until the walk reaches a leaf or an empty subtree. When that
position holds the key's own leaf the proof shows membership; when it is empty, or
holds the leaf of another key (the ``terminal``), it shows non-membership, because
in compact form the key's leaf would otherwise be in that very subtree.

Theory of operation: nodes are ``__slots__`` objects caching their hash; an
internal node also caches its leaf count. Paths are read with integer shifts of
``int.from_bytes(key_hash)``, computed once per key. Building sorts the key-hash
integers once; the leaves under a node are then a contiguous run of that list,
and the run splits at a :func:`bisect.bisect_left` on the threshold "node prefix
followed by a 1 bit". A batch update sorts its changes the same way and descends
the existing tree, handing each child the run of changes that falls under it, so
each affected node is rebuilt once: ``O(k log n)`` hashes for ``k`` changes.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from salus.errors import MalformedProof, RootMismatch

__all__ = [
    "EMPTY",
    "StateProof",
    "StateTree",
    "root_from_state_proof",
    "verify_state_proof",
]

_HASH_SIZE = 32
_MAX_DEPTH = 256  # one level per bit of a SHA-256 key hash
_TOP_BIT = _MAX_DEPTH - 1  # shift that brings bit 0 (the MSB of byte 0) to the bottom
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256

EMPTY = bytes(_HASH_SIZE)
"""Hash of an empty subtree, and the root of the empty tree."""


class _Leaf:
    """One ``(key_hash, value_hash)`` pair; ``path`` is ``key_hash`` as an integer."""

    __slots__ = ("hash", "key_hash", "path", "value_hash")
    hash: bytes
    key_hash: bytes
    path: int
    value_hash: bytes
    size = 1  # leaf count, read uniformly with _Internal.size

    def __init__(self, path: int, key_hash: bytes, value_hash: bytes) -> None:
        self.path = path
        self.key_hash = key_hash
        self.value_hash = value_hash
        self.hash = _sha256(_LEAF_PREFIX + key_hash + value_hash).digest()


class _Internal:
    """A subtree with at least two leaves; one side (never both) may be empty (``None``)."""

    __slots__ = ("hash", "left", "right", "size")
    hash: bytes
    left: _Node
    right: _Node
    size: int

    def __init__(self, left: _Node, right: _Node) -> None:
        self.left = left
        self.right = right
        left_hash = EMPTY
        right_hash = EMPTY
        size = 0
        if left is not None:
            left_hash = left.hash
            size = left.size
        if right is not None:
            right_hash = right.hash
            size += right.size
        self.size = size
        # 0x01 prefix: RFC 9162 §2.1.1 domain separation from the 0x00 leaves.
        self.hash = _sha256(_NODE_PREFIX + left_hash + right_hash).digest()


_Node: TypeAlias = "_Leaf | _Internal | None"


def _split(paths: list[int], lo: int, hi: int, depth: int) -> int:
    """Return where the sorted run ``paths[lo:hi]`` switches from bit 0 to bit 1 at ``depth``.

    Precondition: all of ``paths[lo:hi]`` agree on their first ``depth`` bits.
    """
    shift = _TOP_BIT - depth
    # The shared prefix, then a 1 at ``depth``, then zeros: the smallest path going right.
    threshold = ((paths[lo] >> shift) | 1) << shift
    return bisect_left(paths, threshold, lo, hi)


def _build(paths: list[int], leaves: list[_Leaf], lo: int, hi: int, depth: int) -> _Node:
    """Return the compact subtree at ``depth`` holding ``leaves[lo:hi]``.

    Preconditions: ``paths[i] == leaves[i].path``, sorted and distinct, and all of
    the run agree on their first ``depth`` bits (they lie under one position).
    """
    count = hi - lo
    if count == 0:
        return None
    if count == 1:
        return leaves[lo]
    first = paths[lo]
    # Sorted, so the run's common prefix is that of its first and last members: the
    # first bit where they differ is where the run really splits in two.
    fork = _MAX_DEPTH - (first ^ paths[hi - 1]).bit_length()
    mid = _split(paths, lo, hi, fork)
    node: _Node = _Internal(
        _build(paths, leaves, lo, mid, fork + 1),
        _build(paths, leaves, mid, hi, fork + 1),
    )
    # Between ``depth`` and ``fork`` every leaf goes the same way: a chain of internal
    # nodes whose other side is empty (compact form keeps them; only lone leaves rise).
    for level in range(fork - 1, depth - 1, -1):
        going_right = (first >> (_TOP_BIT - level)) & 1
        node = _Internal(None, node) if going_right else _Internal(node, None)
    return node


class _Batch:
    """A batch of changes sorted by path; ``value_hashes[i]`` is ``None`` for a delete."""

    __slots__ = ("key_hashes", "paths", "value_hashes")

    def __init__(self, changes: Mapping[bytes, bytes | None]) -> None:
        by_path: dict[int, tuple[bytes, bytes | None]] = {}
        for key, value in changes.items():
            key_hash = _sha256(key).digest()
            value_hash = None if value is None else _sha256(value).digest()
            by_path[int.from_bytes(key_hash, "big")] = (key_hash, value_hash)
        self.paths = sorted(by_path)
        self.key_hashes = [by_path[path][0] for path in self.paths]
        self.value_hashes = [by_path[path][1] for path in self.paths]

    def apply(self, node: _Node, lo: int, hi: int, depth: int) -> _Node:
        """Return ``node`` (at ``depth``) with changes ``lo:hi`` applied, in compact form.

        Precondition: the changes all lie under ``node``'s position.
        """
        if type(node) is _Internal:
            mid = _split(self.paths, lo, hi, depth)
            left = node.left if mid == lo else self.apply(node.left, lo, mid, depth + 1)
            right = node.right if mid == hi else self.apply(node.right, mid, hi, depth + 1)
            if left is node.left and right is node.right:
                return node  # nothing changed below: share the node as it is
            # Restore compact form after deletes: a lone leaf rises to replace its parent.
            if left is None and (right is None or type(right) is _Leaf):
                return right
            if right is None and type(left) is _Leaf:
                return left
            return _Internal(left, right)
        # An empty position or a lone leaf: merge the leaf (if any) with the changes
        # and build the compact subtree of the result from scratch.
        paths: list[int] = []
        leaves: list[_Leaf] = []
        old = node if type(node) is _Leaf else None
        old_pending = old is not None
        for i in range(lo, hi):
            path = self.paths[i]
            if old is not None and old_pending and old.path <= path:
                old_pending = False
                if old.path < path:
                    paths.append(old.path)
                    leaves.append(old)
                # else the change overrides (or deletes) the old leaf
            value_hash = self.value_hashes[i]
            if value_hash is not None:
                if old is not None and path == old.path and value_hash == old.value_hash:
                    leaves.append(old)  # rewriting the same value: keep the node
                else:
                    leaves.append(_Leaf(path, self.key_hashes[i], value_hash))
                paths.append(path)
        if old is not None and old_pending:
            paths.append(old.path)
            leaves.append(old)
        return _build(paths, leaves, 0, len(leaves), depth)


class StateTree:
    """An immutable compact sparse Merkle tree; see the module docstring."""

    __slots__ = ("_node",)

    def __init__(self, _node: _Node = None) -> None:
        # Private: use empty(), from_items() or update().
        self._node = _node

    @classmethod
    def empty(cls) -> StateTree:
        """Return the tree with no entries (root ``EMPTY``)."""
        return cls(None)

    @classmethod
    def from_items(cls, items: Iterable[tuple[bytes, bytes]]) -> StateTree:
        """Build a tree from ``(key, value)`` pairs in ``O(n log n)``.

        A key given more than once keeps its last value, as a sequence of updates would.
        """
        by_path: dict[int, tuple[bytes, bytes]] = {}
        for key, value in items:
            key_hash = _sha256(key).digest()
            by_path[int.from_bytes(key_hash, "big")] = (key_hash, value)
        paths = sorted(by_path)
        leaves = []
        for path in paths:
            key_hash, value = by_path[path]
            leaves.append(_Leaf(path, key_hash, _sha256(value).digest()))
        return cls(_build(paths, leaves, 0, len(leaves), 0))

    @property
    def root(self) -> bytes:
        """The 32-byte root hash committing to every ``(key, value)`` pair."""
        return EMPTY if self._node is None else self._node.hash

    def __len__(self) -> int:
        """Return the number of keys in the tree."""
        return 0 if self._node is None else self._node.size

    def __repr__(self) -> str:
        return f"StateTree(root={self.root.hex()}, size={len(self)})"

    def update(self, changes: Mapping[bytes, bytes | None]) -> StateTree:
        """Return a new tree with ``changes`` applied; this tree is left unchanged.

        ``changes`` maps a key to its new value, or to ``None`` to delete it (deleting
        an absent key does nothing). Apply one batch per block: the batch is sorted
        once and every affected node is rebuilt once, ``O(k log n)`` for ``k`` changes.
        """
        if not changes:
            return self
        batch = _Batch(changes)
        node = batch.apply(self._node, 0, len(batch.paths), 0)
        return self if node is self._node else StateTree(node)

    def prove(self, key: bytes) -> StateProof:
        """Return a proof of ``key``'s value, or of its absence when it has none."""
        key_hash = _sha256(key).digest()
        path = int.from_bytes(key_hash, "big")
        siblings: list[bytes] = []
        node = self._node
        depth = 0
        while type(node) is _Internal:
            if (path >> (_TOP_BIT - depth)) & 1:
                sibling, node = node.left, node.right
            else:
                sibling, node = node.right, node.left
            siblings.append(EMPTY if sibling is None else sibling.hash)
            depth += 1
        terminal = None
        if type(node) is _Leaf and node.path != path:
            terminal = (node.key_hash, node.value_hash)
        return StateProof(siblings=tuple(siblings), terminal=terminal)


@dataclass(frozen=True)
class StateProof:
    """Evidence for the value (or absence) of one key under a state root.

    ``siblings`` are the sibling hashes from the root downwards, one per level
    walked; ``EMPTY`` stands for an empty sibling. ``terminal`` is ``None`` when the
    walk ends at the key's own leaf (membership) or at an empty subtree
    (non-membership), and the ``(key_hash, value_hash)`` of the other leaf found at
    the key's position otherwise (non-membership).
    """

    siblings: tuple[bytes, ...]
    terminal: tuple[bytes, bytes] | None

    def to_data(self) -> dict[str, object]:
        """Return CBOR-friendly plain data; an ``EMPTY`` sibling is written as ``b""``.

        Empty siblings are common (two leaves sharing a longer prefix than their
        neighbours hang below a chain of one-sided nodes), so writing them as zero
        bytes keeps proofs small; :meth:`from_data` is the strict inverse.
        """
        return {
            "siblings": [b"" if sibling == EMPTY else sibling for sibling in self.siblings],
            "terminal": None if self.terminal is None else list(self.terminal),
        }

    @classmethod
    def from_data(cls, data: object) -> StateProof:
        """Parse the output of :meth:`to_data`, rejecting anything else.

        Raises :class:`~salus.errors.MalformedProof` naming the problem.
        """
        if not isinstance(data, dict):
            raise MalformedProof(f"state proof: expected a map, got {type(data).__name__}")
        if set(data) != {"siblings", "terminal"}:
            found = sorted(repr(key) for key in data)
            raise MalformedProof(
                f"state proof: keys must be 'siblings' and 'terminal', got {', '.join(found)}"
            )
        raw_siblings = data["siblings"]
        if not isinstance(raw_siblings, list):
            raise MalformedProof("state proof: 'siblings' must be a list")
        if len(raw_siblings) > _MAX_DEPTH:
            raise MalformedProof(
                f"state proof: {len(raw_siblings)} siblings, at most {_MAX_DEPTH} allowed"
            )
        siblings: list[bytes] = []
        for position, sibling in enumerate(raw_siblings):
            if not isinstance(sibling, bytes):
                raise MalformedProof(f"state proof: sibling {position} is not a byte string")
            if not sibling:
                siblings.append(EMPTY)
            elif len(sibling) != _HASH_SIZE:
                raise MalformedProof(
                    f"state proof: sibling {position} is {len(sibling)} bytes, "
                    f"expected 0 or {_HASH_SIZE}"
                )
            elif sibling == EMPTY:
                # One encoding per proof: an empty sibling must be written as b"".
                raise MalformedProof(
                    f"state proof: sibling {position} is EMPTY written out; it must be b''"
                )
            else:
                siblings.append(sibling)
        raw_terminal = data["terminal"]
        terminal: tuple[bytes, bytes] | None = None
        if raw_terminal is not None:
            if (
                not isinstance(raw_terminal, list)
                or len(raw_terminal) != 2
                or not all(
                    isinstance(part, bytes) and len(part) == _HASH_SIZE for part in raw_terminal
                )
            ):
                raise MalformedProof(
                    "state proof: 'terminal' must be null or a list of two 32-byte strings"
                )
            terminal = (raw_terminal[0], raw_terminal[1])
        return cls(siblings=tuple(siblings), terminal=terminal)


def root_from_state_proof(key: bytes, value: bytes | None, proof: StateProof) -> bytes:
    """Return the root ``proof`` gives for the claim "``key`` holds ``value``".

    ``value`` ``None`` claims that ``key`` is absent. Raises
    :class:`~salus.errors.MalformedProof` when the proof cannot support the claim:
    more than 256 siblings, a sibling or terminal hash not 32 bytes, a terminal
    given for a membership claim, or a terminal leaf that is the key itself or does
    not lie on the key's path down to the depth the siblings reach.
    """
    siblings = proof.siblings
    depth = len(siblings)
    if depth > _MAX_DEPTH:
        raise MalformedProof(f"state proof: {depth} siblings, at most {_MAX_DEPTH} allowed")
    for position, sibling in enumerate(siblings):
        if len(sibling) != _HASH_SIZE:
            raise MalformedProof(
                f"state proof: sibling {position} is {len(sibling)} bytes, not {_HASH_SIZE}"
            )
    key_hash = _sha256(key).digest()
    path = int.from_bytes(key_hash, "big")
    if value is not None:
        if proof.terminal is not None:
            raise MalformedProof("state proof: a membership claim cannot have a terminal leaf")
        node = _sha256(_LEAF_PREFIX + key_hash + _sha256(value).digest()).digest()
    elif proof.terminal is None:
        node = EMPTY  # the key's position is an empty subtree
    else:
        other_key_hash, other_value_hash = proof.terminal
        if len(other_key_hash) != _HASH_SIZE or len(other_value_hash) != _HASH_SIZE:
            raise MalformedProof("state proof: terminal hashes must be 32 bytes each")
        other_path = int.from_bytes(other_key_hash, "big")
        if other_path == path:
            raise MalformedProof("state proof: the terminal leaf is the key itself")
        # The other leaf must sit at the key's position: same first ``depth`` bits.
        # Only then does its presence there prove the key's absence (compact form).
        if (other_path ^ path) >> (_MAX_DEPTH - depth):
            raise MalformedProof(
                f"state proof: the terminal leaf is not on the key's path at depth {depth}"
            )
        node = _sha256(_LEAF_PREFIX + other_key_hash + other_value_hash).digest()
    # Fold the siblings back up from the deepest level to the root.
    for level in range(depth - 1, -1, -1):
        if (path >> (_TOP_BIT - level)) & 1:
            node = _sha256(_NODE_PREFIX + siblings[level] + node).digest()
        else:
            node = _sha256(_NODE_PREFIX + node + siblings[level]).digest()
    return node


def verify_state_proof(root: bytes, key: bytes, value: bytes | None, proof: StateProof) -> None:
    """Check that under state root ``root``, ``key`` holds ``value`` (``None``: is absent).

    Raises :class:`~salus.errors.MalformedProof` (see :func:`root_from_state_proof`)
    or :class:`~salus.errors.RootMismatch`.
    """
    calculated = root_from_state_proof(key, value, proof)
    if calculated != root:
        raise RootMismatch("state proof", expected=root, calculated=calculated)
