"""Tests for salus.core.merkle: RFC 6962/9162 known answers, and properties checked
against a straightforward recursive model written from RFC 9162 §2.1.1 and §2.1.3.1."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from salus.core.merkle import (
    inclusion_proof,
    leaf_hash,
    merkle_root,
    node_hash,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_inclusion,
)
from salus.errors import MalformedProof, RootMismatch

# --- Reference model: the recursive definitions of RFC 9162, hashing by hand. ---


def _ref_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _ref_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2), RFC 9162 §2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def _ref_mth(hashes: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes, recursively (RFC 9162 §2.1.1)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = _split_point(len(hashes))
    return _ref_node(_ref_mth(hashes[:k]), _ref_mth(hashes[k:]))


def _ref_path(m: int, hashes: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) over leaf hashes, recursively (RFC 9162 §2.1.3.1)."""
    n = len(hashes)
    if n == 1:
        return []
    k = _split_point(n)
    if m < k:
        return [*_ref_path(m, hashes[:k]), _ref_mth(hashes[k:])]
    return [*_ref_path(m - k, hashes[k:]), _ref_mth(hashes[:k])]


def _ref_shape(m: int, n: int) -> tuple[str, ...]:
    """Which side each PATH(m, D[n]) element sits on, leaf upwards ("R" or "L")."""
    if n == 1:
        return ()
    k = _split_point(n)
    if m < k:
        return (*_ref_shape(m, k), "R")
    return (*_ref_shape(m - k, n - k), "L")


# --- Known answers: the RFC 6962 test tree used by Certificate Transparency. ---

VECTOR_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# Roots of the trees made of the first 1..8 inputs.
VECTOR_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# (0-based leaf index, tree size, inclusion path), from the CT reference tests.
VECTOR_PATHS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

VECTOR_LEAF_HASHES = [leaf_hash(data) for data in VECTOR_INPUTS]


def test_leaf_and_node_hash_are_rfc9162_with_domain_separation() -> None:
    assert leaf_hash(b"").hex() == VECTOR_ROOTS[0]
    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = bytes(range(32)), bytes(range(32, 64))
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert node_hash(left, right) != node_hash(right, left)
    # A leaf whose data looks like two children does not hash like that node.
    assert leaf_hash(left + right) != node_hash(left, right)


def test_empty_tree_root_is_hash_of_nothing() -> None:
    expected = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle_root([]).hex() == expected
    assert root_from_leaf_hashes([]).hex() == expected


def test_well_known_eight_leaf_root() -> None:
    expected = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert merkle_root(VECTOR_INPUTS).hex() == expected


@pytest.mark.parametrize("size", range(1, 9))
def test_known_roots(size: int) -> None:
    expected = VECTOR_ROOTS[size - 1]
    assert merkle_root(VECTOR_INPUTS[:size]).hex() == expected
    assert root_from_leaf_hashes(VECTOR_LEAF_HASHES[:size]).hex() == expected
    # The reference model agrees with the published vectors too.
    assert _ref_mth([_ref_leaf(data) for data in VECTOR_INPUTS[:size]]).hex() == expected


@pytest.mark.parametrize(("index", "size", "path"), VECTOR_PATHS)
def test_known_inclusion_paths(index: int, size: int, path: list[str]) -> None:
    hashes = VECTOR_LEAF_HASHES[:size]
    proof = inclusion_proof(hashes, index)
    assert [element.hex() for element in proof] == path
    root = bytes.fromhex(VECTOR_ROOTS[size - 1])
    assert root_from_inclusion_proof(index, size, hashes[index], proof) == root
    verify_inclusion(index, size, hashes[index], proof, root)


def test_every_path_of_the_vector_tree_matches_the_reference() -> None:
    for size in range(1, 9):
        hashes = VECTOR_LEAF_HASHES[:size]
        root = bytes.fromhex(VECTOR_ROOTS[size - 1])
        for index in range(size):
            proof = inclusion_proof(hashes, index)
            assert list(proof) == _ref_path(index, hashes)
            verify_inclusion(index, size, hashes[index], proof, root)


@pytest.mark.parametrize("size", [20_000, 2**14, 2**14 + 1, 2**14 - 1])
def test_large_trees_match_the_reference(size: int) -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    root = root_from_leaf_hashes(hashes)
    assert root == _ref_mth(hashes)
    for index in sorted({0, 1, size // 2, 2**13, size - 2, size - 1}):
        proof = inclusion_proof(hashes, index)
        assert list(proof) == _ref_path(index, hashes)
        verify_inclusion(index, size, hashes[index], proof, root)


@pytest.mark.parametrize(("size", "index"), [(0, 0), (1, 1), (1, -1), (5, 5), (5, 17)])
def test_inclusion_proof_rejects_an_index_out_of_range(size: int, index: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        inclusion_proof(VECTOR_LEAF_HASHES[:size], index)


# --- Malformed proofs are named as such, before any root is compared. ---

_ROOT_5 = bytes.fromhex(VECTOR_ROOTS[4])
_PROOF_1_OF_5 = inclusion_proof(VECTOR_LEAF_HASHES[:5], 1)


@pytest.mark.parametrize(
    ("index", "size", "leaf", "proof", "message"),
    [
        (0, 0, VECTOR_LEAF_HASHES[0], (), "size 0 is less than 1"),
        (0, -3, VECTOR_LEAF_HASHES[0], (), "less than 1"),
        (5, 5, VECTOR_LEAF_HASHES[1], _PROOF_1_OF_5, "leaf index 5 not in a tree of size 5"),
        (-1, 5, VECTOR_LEAF_HASHES[1], _PROOF_1_OF_5, "leaf index -1"),
        (1, 5, VECTOR_LEAF_HASHES[1][:31], _PROOF_1_OF_5, "leaf hash is 31 bytes"),
        (1, 5, VECTOR_LEAF_HASHES[1], (*_PROOF_1_OF_5[:2], b"\x00" * 33), "element 2 is 33"),
        (1, 5, VECTOR_LEAF_HASHES[1], (b"", *_PROOF_1_OF_5[1:]), "element 0 is 0 bytes"),
        (1, 5, VECTOR_LEAF_HASHES[1], _PROOF_1_OF_5[:2], "too short: 2 elements"),
        (1, 5, VECTOR_LEAF_HASHES[1], (), "too short: 0 elements"),
        (1, 5, VECTOR_LEAF_HASHES[1], (*_PROOF_1_OF_5, _ROOT_5), "too long: 4 elements"),
        (0, 1, VECTOR_LEAF_HASHES[0], (_ROOT_5,), "too long: 1 elements"),
    ],
)
def test_malformed_inclusion_proofs(
    index: int, size: int, leaf: bytes, proof: tuple[bytes, ...], message: str
) -> None:
    with pytest.raises(MalformedProof, match=message):
        root_from_inclusion_proof(index, size, leaf, proof)
    with pytest.raises(MalformedProof, match=message):
        verify_inclusion(index, size, leaf, proof, _ROOT_5)


def test_wrong_root_is_a_root_mismatch_naming_both_roots() -> None:
    wrong_root = bytes.fromhex(VECTOR_ROOTS[3])
    with pytest.raises(RootMismatch, match="transaction inclusion proof") as caught:
        verify_inclusion(1, 5, VECTOR_LEAF_HASHES[1], _PROOF_1_OF_5, wrong_root)
    assert caught.value.expected == wrong_root
    assert caught.value.calculated == _ROOT_5


# --- Properties against the reference model. ---

# Distinct leaves: with duplicates a proof can legitimately verify at another index
# holding the same data, which is not a flaw of the proof.
leaf_lists = st.lists(st.binary(max_size=6), min_size=1, max_size=70, unique=True)
_SETTINGS = settings(max_examples=100, deadline=None)


@_SETTINGS
@given(leaves=st.lists(st.binary(max_size=6), max_size=80))
def test_root_matches_reference(leaves: list[bytes]) -> None:
    hashes = [_ref_leaf(data) for data in leaves]
    assert merkle_root(leaves) == _ref_mth(hashes)
    assert root_from_leaf_hashes(hashes) == _ref_mth(hashes)


@_SETTINGS
@given(leaves=leaf_lists)
def test_every_index_proof_verifies(leaves: list[bytes]) -> None:
    hashes = [leaf_hash(data) for data in leaves]
    root = merkle_root(leaves)
    for index, leaf in enumerate(hashes):
        proof = inclusion_proof(hashes, index)
        assert list(proof) == _ref_path(index, hashes)
        assert root_from_inclusion_proof(index, len(hashes), leaf, proof) == root
        verify_inclusion(index, len(hashes), leaf, proof, root)


@_SETTINGS
@given(leaves=leaf_lists, data=st.data())
def test_proof_for_another_leaf_or_index_fails(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = [leaf_hash(item) for item in leaves]
    size = len(hashes)
    root = root_from_leaf_hashes(hashes)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(hashes, index)

    other_leaf = leaf_hash(leaves[index] + b"!")
    with pytest.raises(RootMismatch):
        verify_inclusion(index, size, other_leaf, proof, root)

    other_index = data.draw(st.integers(-2, size + 2).filter(lambda i: i != index), label="other")
    with pytest.raises((RootMismatch, MalformedProof)):
        verify_inclusion(other_index, size, hashes[index], proof, root)


@_SETTINGS
@given(leaves=leaf_lists, data=st.data())
def test_proof_replayed_with_another_size(leaves: list[bytes], data: st.DataObject) -> None:
    """A proof carries no size: it is bound to one only through its shape.

    RFC 9162 §2.1.3.2 consumes the size only to know, level by level, on which side
    each element goes and when to stop. So a proof fails for another size unless the
    leaf's path has exactly the same shape in both trees (as for leaf 0 in trees of
    5 and 6 leaves), in which case the computation is literally the same.
    """
    hashes = [leaf_hash(item) for item in leaves]
    size = len(hashes)
    root = root_from_leaf_hashes(hashes)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(hashes, index)
    for other_size in range(0, 2 * size + 3):
        if other_size == size:
            continue
        if not 0 <= index < other_size:
            with pytest.raises(MalformedProof):
                verify_inclusion(index, other_size, hashes[index], proof, root)
        elif _ref_shape(index, other_size) == _ref_shape(index, size):
            verify_inclusion(index, other_size, hashes[index], proof, root)
        else:
            with pytest.raises((RootMismatch, MalformedProof)):
                verify_inclusion(index, other_size, hashes[index], proof, root)


def test_shape_equivalent_sizes_example() -> None:
    # Leaf 0 of 5 and leaf 0 of 6 both sit in the left perfect subtree of 4 leaves,
    # under a root whose right part is the only other element.
    assert _ref_shape(0, 5) == _ref_shape(0, 6) == ("R", "R", "R")
    assert _ref_shape(4, 5) != _ref_shape(4, 6)


@_SETTINGS
@given(leaves=leaf_lists.filter(lambda items: len(items) >= 2), data=st.data())
def test_any_flipped_bit_fails(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = [leaf_hash(item) for item in leaves]
    size = len(hashes)
    root = root_from_leaf_hashes(hashes)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = list(inclusion_proof(hashes, index))
    position = data.draw(st.integers(0, len(proof) - 1), label="element")
    bit = data.draw(st.integers(0, 255), label="bit")
    flipped = bytearray(proof[position])
    flipped[bit // 8] ^= 0x80 >> (bit % 8)
    proof[position] = bytes(flipped)
    with pytest.raises(RootMismatch):
        verify_inclusion(index, size, hashes[index], proof, root)


@settings(max_examples=30, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_every_single_bit_flip_in_one_proof_fails(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = [leaf_hash(item) for item in leaves]
    assume(len(hashes) >= 2)
    size = len(hashes)
    root = root_from_leaf_hashes(hashes)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(hashes, index)
    for position, element in enumerate(proof):
        for bit in range(256):
            flipped = bytearray(element)
            flipped[bit // 8] ^= 0x80 >> (bit % 8)
            tampered = (*proof[:position], bytes(flipped), *proof[position + 1 :])
            with pytest.raises(RootMismatch):
                verify_inclusion(index, size, hashes[index], tampered, root)


@_SETTINGS
@given(leaves=leaf_lists, data=st.data())
def test_truncated_or_extended_proofs_fail(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = [leaf_hash(item) for item in leaves]
    size = len(hashes)
    root = root_from_leaf_hashes(hashes)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(hashes, index)
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")
    for cut in range(len(proof)):
        with pytest.raises(MalformedProof, match="too short"):
            verify_inclusion(index, size, hashes[index], proof[:cut], root)
        with pytest.raises(MalformedProof, match="too short"):
            verify_inclusion(index, size, hashes[index], proof[cut + 1 :], root)
    for at in range(len(proof) + 1):
        longer = (*proof[:at], extra, *proof[at:])
        with pytest.raises(MalformedProof, match="too long"):
            verify_inclusion(index, size, hashes[index], longer, root)
