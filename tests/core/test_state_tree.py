"""Tests for salus.core.state_tree: hand-computed cases, and properties checked against
a plain dict model plus a recursive root written straight from the module's definition."""

from __future__ import annotations

import hashlib
import random

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salus.core.state_tree import (
    EMPTY,
    StateProof,
    StateTree,
    root_from_state_proof,
    verify_state_proof,
)
from salus.errors import MalformedProof, RootMismatch


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _leaf(key: bytes, value: bytes) -> bytes:
    return _h(b"\x00" + _h(key) + _h(value))


def _node(left: bytes, right: bytes) -> bytes:
    return _h(b"\x01" + left + right)


def _bit(key_hash: bytes, depth: int) -> int:
    return (key_hash[depth // 8] >> (7 - depth % 8)) & 1


def _ref_root(model: dict[bytes, bytes]) -> bytes:
    """The compact sparse Merkle root, recursively, from the definition."""

    def subtree(pairs: list[tuple[bytes, bytes]], depth: int) -> bytes:
        if not pairs:
            return EMPTY
        if len(pairs) == 1:
            key_hash, value_hash = pairs[0]
            return _h(b"\x00" + key_hash + value_hash)
        left = [pair for pair in pairs if _bit(pair[0], depth) == 0]
        right = [pair for pair in pairs if _bit(pair[0], depth) == 1]
        return _node(subtree(left, depth + 1), subtree(right, depth + 1))

    return subtree([(_h(key), _h(value)) for key, value in model.items()], 0)


def _flip(data: bytes, bit: int) -> bytes:
    flipped = bytearray(data)
    flipped[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(flipped)


# Keys found by search whose SHA-256 hashes share long prefixes, so that trees grow
# chains of one-sided internal nodes: DEEP_A and DEEP_B share their first 36 bits
# (hashes dbf0adc959... and dbf0adc956...), DEEP_C shares the first 20 with both.
DEEP_A = b"deep-46937"
DEEP_B = b"deep-270761"
DEEP_C = b"deep-121734"


def _common_prefix(a: bytes, b: bytes) -> int:
    return 256 - (int.from_bytes(_h(a), "big") ^ int.from_bytes(_h(b), "big")).bit_length()


def test_deep_keys_share_the_documented_prefixes() -> None:
    assert _common_prefix(DEEP_A, DEEP_B) == 36
    assert _common_prefix(DEEP_A, DEEP_C) == 20
    assert _common_prefix(DEEP_B, DEEP_C) == 20


# --- Hand-computed cases. ---


def test_empty_tree() -> None:
    tree = StateTree.empty()
    assert tree.root == EMPTY == bytes(32)
    assert len(tree) == 0
    proof = tree.prove(b"anything")
    assert proof == StateProof(siblings=(), terminal=None)
    verify_state_proof(EMPTY, b"anything", None, proof)
    with pytest.raises(RootMismatch):
        verify_state_proof(EMPTY, b"anything", b"value", proof)
    assert StateTree.from_items([]).root == EMPTY


def test_one_leaf_tree_root_is_the_leaf_hash() -> None:
    tree = StateTree.empty().update({b"k": b"v"})
    assert tree.root == _leaf(b"k", b"v")
    assert len(tree) == 1
    assert tree.prove(b"k") == StateProof(siblings=(), terminal=None)
    verify_state_proof(tree.root, b"k", b"v", tree.prove(b"k"))
    absent = tree.prove(b"other")
    assert absent == StateProof(siblings=(), terminal=(_h(b"k"), _h(b"v")))
    verify_state_proof(tree.root, b"other", None, absent)


def test_two_keys_differing_at_bit_zero_are_ordered_by_that_bit() -> None:
    # SHA-256("a") starts 0xca (bit 0 is 1: right), SHA-256("b") starts 0x3e (left).
    assert _bit(_h(b"a"), 0) == 1
    assert _bit(_h(b"b"), 0) == 0
    tree = StateTree.from_items([(b"a", b"1"), (b"b", b"2")])
    assert tree.root == _node(_leaf(b"b", b"2"), _leaf(b"a", b"1"))
    assert tree.prove(b"a").siblings == (_leaf(b"b", b"2"),)
    assert tree.prove(b"b").siblings == (_leaf(b"a", b"1"),)


def test_keys_sharing_a_long_prefix_hang_below_a_chain() -> None:
    tree = StateTree.from_items([(DEEP_A, b"a"), (DEEP_B, b"b")])
    # Bit 36 decides: 0x59 = 0101_1001 for A, 0x56 = 0101_0110 for B -> A goes right.
    below = _node(_leaf(DEEP_B, b"b"), _leaf(DEEP_A, b"a"))
    expected = below
    for depth in range(35, -1, -1):
        expected = _node(EMPTY, expected) if _bit(_h(DEEP_A), depth) else _node(expected, EMPTY)
    assert tree.root == expected
    proof = tree.prove(DEEP_A)
    assert proof.siblings == (EMPTY,) * 36 + (_leaf(DEEP_B, b"b"),)
    assert proof.to_data()["siblings"] == [b""] * 36 + [_leaf(DEEP_B, b"b")]
    verify_state_proof(tree.root, DEEP_A, b"a", proof)

    # Deleting one of them lets the other rise all the way to the root.
    alone = tree.update({DEEP_B: None})
    assert alone.root == _leaf(DEEP_A, b"a")
    assert len(alone) == 1
    # A third key splitting the chain at bit 20.
    three = tree.update({DEEP_C: b"c"})
    assert three.root == _ref_root({DEEP_A: b"a", DEEP_B: b"b", DEEP_C: b"c"})
    assert len(three.prove(DEEP_C).siblings) == 21
    assert len(three.prove(DEEP_A).siblings) == 37
    back = three.update({DEEP_C: None})
    assert back.root == tree.root


def test_non_membership_at_an_empty_position_and_at_another_leaf() -> None:
    tree = StateTree.from_items([(DEEP_A, b"a"), (DEEP_B, b"b")])
    # DEEP_C leaves the chain at bit 20 into an empty subtree.
    proof_c = tree.prove(DEEP_C)
    assert proof_c.terminal is None
    assert len(proof_c.siblings) == 21
    verify_state_proof(tree.root, DEEP_C, None, proof_c)
    with pytest.raises(RootMismatch):
        verify_state_proof(tree.root, DEEP_C, b"c", proof_c)
    # In a one-leaf tree any other key meets that leaf at the root.
    alone = StateTree.from_items([(DEEP_A, b"a")])
    proof_b = alone.prove(DEEP_B)
    assert proof_b == StateProof(siblings=(), terminal=(_h(DEEP_A), _h(b"a")))
    verify_state_proof(alone.root, DEEP_B, None, proof_b)


def test_from_items_keeps_the_last_value_of_a_repeated_key() -> None:
    tree = StateTree.from_items([(b"k", b"1"), (b"j", b"2"), (b"k", b"3")])
    assert tree.root == _ref_root({b"k": b"3", b"j": b"2"})
    assert len(tree) == 2


def test_update_edge_cases() -> None:
    tree = StateTree.from_items([(b"a", b"1"), (b"b", b"2")])
    assert tree.update({}).root == tree.root
    assert tree.update({b"absent": None}).root == tree.root
    assert tree.update({b"a": b"1"}).root == tree.root
    assert tree.update({b"a": None, b"b": None}).root == EMPTY
    assert len(tree.update({b"a": None, b"b": None})) == 0
    assert tree.update({b"a": b""}).root == _ref_root({b"a": b"", b"b": b"2"})
    assert StateTree.empty().update({b"x": None}).root == EMPTY


def test_larger_tree_matches_the_reference_and_incremental_updates() -> None:
    model = {b"key-%d" % i: b"value-%d" % i for i in range(3000)}
    built = StateTree.from_items(model.items())
    assert built.root == _ref_root(model)
    assert len(built) == 3000
    incremental = StateTree.empty()
    items = list(model.items())
    for start in range(0, len(items), 700):
        incremental = incremental.update(dict(items[start : start + 700]))
    assert incremental.root == built.root
    changes: dict[bytes, bytes | None] = {b"key-%d" % i: None for i in range(0, 3000, 3)}
    changes.update({b"key-%d" % i: b"new" for i in range(1, 3000, 3)})
    changes.update({b"fresh-%d" % i: b"f" for i in range(500)})
    updated = built.update(changes)
    for key, value in changes.items():
        if value is None:
            del model[key]
        else:
            model[key] = value
    assert updated.root == _ref_root(model)
    assert len(updated) == len(model)
    for key in (b"key-1", b"key-2", b"fresh-7"):
        verify_state_proof(updated.root, key, model[key], updated.prove(key))
    verify_state_proof(updated.root, b"key-0", None, updated.prove(b"key-0"))
    # The older tree is untouched.
    verify_state_proof(built.root, b"key-0", b"value-0", built.prove(b"key-0"))


# --- Properties against a dict model. ---

_KEY_POOL = [b"key-%d" % i for i in range(24)] + [DEEP_A, DEEP_B, DEEP_C]
keys = st.sampled_from(_KEY_POOL)
values = st.binary(max_size=3)
batches = st.lists(st.dictionaries(keys, st.none() | values, max_size=10), max_size=6)
_SETTINGS = settings(max_examples=80, deadline=None)


def _check_all_proofs(tree: StateTree, model: dict[bytes, bytes]) -> None:
    root = tree.root
    for key in _KEY_POOL:
        proof = tree.prove(key)
        if key in model:
            value = model[key]
            assert proof.terminal is None
            verify_state_proof(root, key, value, proof)
            with pytest.raises(RootMismatch):
                verify_state_proof(root, key, value + b"x", proof)
            with pytest.raises(RootMismatch):
                verify_state_proof(root, key, None, proof)
        else:
            verify_state_proof(root, key, None, proof)
            with pytest.raises((RootMismatch, MalformedProof)):
                verify_state_proof(root, key, b"", proof)


@_SETTINGS
@given(batches=batches)
def test_updates_match_the_dict_model(batches: list[dict[bytes, bytes | None]]) -> None:
    tree = StateTree.empty()
    model: dict[bytes, bytes] = {}
    history: list[tuple[StateTree, dict[bytes, bytes]]] = [(tree, {})]
    for batch in batches:
        tree = tree.update(batch)
        for key, value in batch.items():
            if value is None:
                model.pop(key, None)
            else:
                model[key] = value
        history.append((tree, dict(model)))
        assert tree.root == StateTree.from_items(model.items()).root
        assert tree.root == _ref_root(model)
        assert len(tree) == len(model)
    # Persistence: every older tree still proves exactly its own state.
    for old_tree, old_model in history:
        assert old_tree.root == _ref_root(old_model)
        _check_all_proofs(old_tree, old_model)


@_SETTINGS
@given(
    items=st.dictionaries(keys, values, max_size=len(_KEY_POOL)),
    order=st.randoms(use_true_random=False),
)
def test_root_is_independent_of_update_order(
    items: dict[bytes, bytes], order: random.Random
) -> None:
    pairs = list(items.items())
    order.shuffle(pairs)
    one_by_one = StateTree.empty()
    for key, value in pairs:
        one_by_one = one_by_one.update({key: value})
    assert one_by_one.root == StateTree.from_items(items.items()).root == _ref_root(items)
    assert len(one_by_one) == len(items)


@_SETTINGS
@given(items=st.dictionaries(keys, values, min_size=1, max_size=len(_KEY_POOL)), data=st.data())
def test_single_flipped_bit_in_a_sibling_or_terminal_fails(
    items: dict[bytes, bytes], data: st.DataObject
) -> None:
    tree = StateTree.from_items(items.items())
    key = data.draw(keys, label="key")
    value = items.get(key)
    proof = tree.prove(key)
    verify_state_proof(tree.root, key, value, proof)
    for position, sibling in enumerate(proof.siblings):
        bit = data.draw(st.integers(0, 255), label=f"bit in sibling {position}")
        siblings = list(proof.siblings)
        siblings[position] = _flip(sibling, bit)
        tampered = StateProof(siblings=tuple(siblings), terminal=proof.terminal)
        with pytest.raises(RootMismatch):
            verify_state_proof(tree.root, key, value, tampered)
    if proof.terminal is not None:
        which = data.draw(st.integers(0, 1), label="terminal part")
        bit = data.draw(st.integers(0, 255), label="terminal bit")
        parts = list(proof.terminal)
        parts[which] = _flip(parts[which], bit)
        tampered = StateProof(siblings=proof.siblings, terminal=(parts[0], parts[1]))
        with pytest.raises((RootMismatch, MalformedProof)):
            verify_state_proof(tree.root, key, value, tampered)


def test_every_single_bit_flip_in_a_deep_proof_fails() -> None:
    tree = StateTree.from_items([(DEEP_A, b"a"), (DEEP_B, b"b"), (b"x", b"y")])
    proof = tree.prove(DEEP_A)
    for position, sibling in enumerate(proof.siblings):
        for bit in range(256):
            siblings = list(proof.siblings)
            siblings[position] = _flip(sibling, bit)
            with pytest.raises(RootMismatch):
                verify_state_proof(tree.root, DEEP_A, b"a", StateProof(tuple(siblings), None))


@_SETTINGS
@given(items=st.dictionaries(keys, values, max_size=len(_KEY_POOL)), key=keys)
def test_proof_data_round_trips_through_cbor(items: dict[bytes, bytes], key: bytes) -> None:
    tree = StateTree.from_items(items.items())
    proof = tree.prove(key)
    data = proof.to_data()
    assert set(data) == {"siblings", "terminal"}
    assert StateProof.from_data(data) == proof
    assert StateProof.from_data(cbor2.loads(cbor2.dumps(data, canonical=True))) == proof
    siblings = data["siblings"]
    assert isinstance(siblings, list)
    assert all(len(sibling) in (0, 32) and sibling != EMPTY for sibling in siblings)


def test_proof_data_layout() -> None:
    proof = StateProof(siblings=(EMPTY, b"\x01" * 32), terminal=(b"\x02" * 32, b"\x03" * 32))
    assert proof.to_data() == {
        "siblings": [b"", b"\x01" * 32],
        "terminal": [b"\x02" * 32, b"\x03" * 32],
    }
    assert StateProof(siblings=(), terminal=None).to_data() == {"siblings": [], "terminal": None}


_H = b"\x07" * 32


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (None, "expected a map, got NoneType"),
        ([[], None], "expected a map, got list"),
        ({"siblings": []}, "keys must be"),
        ({"siblings": [], "terminal": None, "extra": 1}, "keys must be"),
        ({b"siblings": [], "terminal": None}, "keys must be"),
        ({"siblings": (), "terminal": None}, "'siblings' must be a list"),
        ({"siblings": b"", "terminal": None}, "'siblings' must be a list"),
        ({"siblings": ["00" * 32], "terminal": None}, "sibling 0 is not a byte string"),
        ({"siblings": [_H, bytearray(_H)], "terminal": None}, "sibling 1 is not a byte string"),
        ({"siblings": [_H, None], "terminal": None}, "sibling 1 is not a byte string"),
        ({"siblings": [_H[:31]], "terminal": None}, "sibling 0 is 31 bytes, expected 0 or 32"),
        ({"siblings": [b"", _H + b"\x00"], "terminal": None}, "sibling 1 is 33 bytes"),
        ({"siblings": [b"\x00"], "terminal": None}, "sibling 0 is 1 bytes"),
        ({"siblings": [_H, EMPTY], "terminal": None}, "sibling 1 is EMPTY written out"),
        ({"siblings": [b""] * 257, "terminal": None}, "257 siblings, at most 256"),
        ({"siblings": [], "terminal": [_H]}, "'terminal' must be null or a list"),
        ({"siblings": [], "terminal": [_H, _H, _H]}, "'terminal' must be null or a list"),
        ({"siblings": [], "terminal": (_H, _H)}, "'terminal' must be null or a list"),
        ({"siblings": [], "terminal": [_H, _H[:-1]]}, "'terminal' must be null or a list"),
        ({"siblings": [], "terminal": [_H, "x" * 32]}, "'terminal' must be null or a list"),
        ({"siblings": [], "terminal": _H + _H}, "'terminal' must be null or a list"),
        ({"siblings": [], "terminal": False}, "'terminal' must be null or a list"),
    ],
)
def test_from_data_rejects_malformed_data(data: object, message: str) -> None:
    with pytest.raises(MalformedProof, match=message):
        StateProof.from_data(data)


def test_from_data_accepts_the_maximum_depth() -> None:
    proof = StateProof.from_data({"siblings": [b""] * 256, "terminal": None})
    assert proof.siblings == (EMPTY,) * 256


def test_root_from_state_proof_rejects_proofs_that_cannot_support_the_claim() -> None:
    tree = StateTree.from_items([(DEEP_A, b"a"), (b"x", b"y")])
    key_hash = _h(DEEP_A)
    other = (_h(b"x"), _h(b"y"))

    # A terminal leaf with a membership claim.
    with pytest.raises(MalformedProof, match="membership claim cannot have a terminal"):
        root_from_state_proof(DEEP_A, b"a", StateProof((), other))
    # A terminal leaf that is the key itself.
    with pytest.raises(MalformedProof, match="terminal leaf is the key itself"):
        root_from_state_proof(DEEP_A, None, StateProof((), (key_hash, _h(b"a"))))
    # A terminal leaf off the key's path at the depth reached.
    off_path = _flip(key_hash, 3)
    with pytest.raises(MalformedProof, match="not on the key's path at depth 4"):
        root_from_state_proof(DEEP_A, None, StateProof((EMPTY,) * 4, (off_path, _H)))
    # ... while sharing exactly the required prefix is fine.
    root_from_state_proof(DEEP_A, None, StateProof((EMPTY,) * 3, (off_path, _H)))
    # At full depth no other leaf can be on the path.
    with pytest.raises(MalformedProof, match="not on the key's path at depth 256"):
        root_from_state_proof(DEEP_A, None, StateProof((EMPTY,) * 256, (_flip(key_hash, 255), _H)))
    # Too many siblings, whatever the claim.
    for value in (b"a", None):
        with pytest.raises(MalformedProof, match="257 siblings"):
            root_from_state_proof(DEEP_A, value, StateProof((EMPTY,) * 257, None))
    # Hashes of the wrong size.
    with pytest.raises(MalformedProof, match="sibling 1 is 0 bytes"):
        root_from_state_proof(DEEP_A, b"a", StateProof((EMPTY, b""), None))
    with pytest.raises(MalformedProof, match="terminal hashes must be 32 bytes"):
        root_from_state_proof(DEEP_A, None, StateProof((), (other[0], b"short")))
    # verify_state_proof reports the same problems as MalformedProof, not a mismatch.
    with pytest.raises(MalformedProof):
        verify_state_proof(tree.root, DEEP_A, b"a", StateProof((), other))


def test_root_mismatch_names_the_state_proof_and_both_roots() -> None:
    tree = StateTree.from_items([(b"a", b"1"), (b"b", b"2")])
    proof = tree.prove(b"a")
    with pytest.raises(RootMismatch, match="state proof") as caught:
        verify_state_proof(tree.root, b"a", b"2", proof)
    assert caught.value.expected == tree.root
    assert caught.value.calculated == root_from_state_proof(b"a", b"2", proof)


def test_a_membership_proof_does_not_prove_a_neighbour() -> None:
    # The proof of one key, replayed for another key with the same value, fails.
    tree = StateTree.from_items([(b"key-%d" % i, b"same") for i in range(50)])
    proof = tree.prove(b"key-1")
    with pytest.raises(RootMismatch):
        verify_state_proof(tree.root, b"key-2", b"same", proof)
