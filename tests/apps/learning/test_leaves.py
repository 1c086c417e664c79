"""A batch's leaf list: encoding, inclusion paths, checks, and the anchor field naming it."""

from __future__ import annotations

import pytest

from salus.apps.learning.contract import AnchorBatchArgs
from salus.apps.learning.credentials import batch_root, credential_hash, credential_leaf_hash
from salus.apps.learning.leaves import (
    HASH_BYTES,
    decode_leaves,
    encode_leaves,
    inclusion_path,
    leaves_root,
)
from salus.core.merkle import verify_inclusion
from salus.errors import MalformedProof, RootMismatch
from tests.apps.learning.test_contract import (
    ROOT_A,
    ROOT_B,
    SCHOOL,
    SCHOOL_SIGNING,
    accredited_school,
    ok,
    read,
    refused,
)

TOKENS = [f"eyJhbGciOiJFZERTQSJ9.eyJuIjo{i}fQ.c2lnbmF0dXJl" for i in range(7)]


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_paths_from_the_leaf_list_equal_the_issuers(count: int) -> None:
    tokens = TOKENS[:count]
    root, paths = batch_root(tokens)
    data = encode_leaves(tokens)
    assert len(data) == count * HASH_BYTES
    hashes = decode_leaves(data, count=count, root=root)
    assert hashes == [credential_hash(t) for t in tokens]
    assert leaves_root(hashes) == root
    for i, token in enumerate(tokens):
        path = inclusion_path(hashes, i)
        assert path == paths[i]
        verify_inclusion(i, count, credential_leaf_hash(token), path, root)


def test_a_leaf_list_is_checked_against_the_anchor() -> None:
    root, _ = batch_root(TOKENS[:3])
    data = encode_leaves(TOKENS[:3])
    with pytest.raises(MalformedProof, match="batch of 4 needs 128"):
        decode_leaves(data, count=4, root=root)
    with pytest.raises(MalformedProof, match="is 95 bytes"):
        decode_leaves(data[:-1], count=3, root=root)
    with pytest.raises(RootMismatch, match="leaf list"):
        decode_leaves(encode_leaves(TOKENS[1:4]), count=3, root=root)
    with pytest.raises(ValueError, match="at least one"):
        encode_leaves([])
    with pytest.raises(ValueError, match="not inside"):
        inclusion_path([credential_hash(TOKENS[0])], 1)


def test_anchor_names_the_leaf_list_only_when_given() -> None:
    c = accredited_school()
    leaves = "d" * 64
    result = ok(
        c, SCHOOL, "anchor_batch", root=ROOT_A, count=3, key=SCHOOL_SIGNING.did, leaves=leaves
    )
    assert read(c, f"batch/{ROOT_A}")["leaves"] == leaves
    assert result.events[0].attrs["leaves"] == leaves
    # Without it, the record and event are exactly as before the field existed.
    result = ok(c, SCHOOL, "anchor_batch", root=ROOT_B, count=2, key=SCHOOL_SIGNING.did)
    assert "leaves" not in read(c, f"batch/{ROOT_B}")
    assert "leaves" not in result.events[0].attrs
    assert set(read(c, f"batch/{ROOT_B}")) == {
        "issuer",
        "key",
        "count",
        "height",
        "time_ms",
        "status_start",
    }


def test_a_malformed_leaf_list_address_is_refused() -> None:
    c = accredited_school()
    for bad in ("D" * 64, "d" * 63, "", 5):
        result = refused(
            c,
            SCHOOL,
            "anchor_batch",
            "args.leaves",
            root=ROOT_A,
            count=1,
            key=SCHOOL_SIGNING.did,
            leaves=bad,
        )
        assert result.code == "invalid_arguments"
    assert AnchorBatchArgs.model_json_schema()["properties"]["leaves"]["description"]
