from __future__ import annotations

import hashlib

from salus.core.genesis import Genesis
from tests.support import Chain, genesis_data, key


def test_anyone_can_anchor_once() -> None:
    c = Chain(Genesis.from_data(genesis_data(1)))
    digest = hashlib.sha256(b"donation receipt 42").hexdigest()
    first = c.run(key(80), "notary", "anchor", {"digest": digest, "note": "receipt"})
    assert first.ok, first.reason
    record = c.ledger.read("notary", f"anchor/{digest}")
    assert record == {"by": key(80).did, "height": 1, "time_ms": c.time_ms, "note": "receipt"}
    again = c.run(key(81), "notary", "anchor", {"digest": digest})
    assert not again.ok and "already anchored at height 1" in again.reason


def test_digest_must_be_sha256_hex() -> None:
    c = Chain(Genesis.from_data(genesis_data(1)))
    for bad in ("abc", "G" * 64, hashlib.sha256(b"x").hexdigest().upper()):
        result = c.run(key(80), "notary", "anchor", {"digest": bad})
        assert result.code == "invalid_arguments" and "args.digest" in result.reason
