"""Figure proofs: a figure verifies offline with the genesis; any altered bit fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from salus.apps.outbreak.proof import (
    decode_figure_bundle,
    encode_batch_figure,
    encode_report_figure,
    verify_figure,
)
from salus.core import codec
from salus.core.crypto import sha256
from tests.apps.outbreak.support import MINISTRY, LocalNode, parsed

FILE = "time_series_covid19_confirmed_global.csv"


@pytest.fixture
def local() -> Iterator[LocalNode]:
    node = LocalNode()
    node.scope_ministry()
    yield node
    node.close()


def batch_bundle(local: LocalNode, root: str, region: str, date: str, value: int) -> bytes:
    (version,) = local.index.versions(region, date, "confirmed")
    row, count, path = local.index.batch_row(root, version.pos)
    figure = {
        "region": region,
        "date": date,
        "metric": "confirmed",
        "reporter": "health-ministry",
        "value": value,
        "basis": "cumulative",
    }
    ledger = local.node.state_proof("outbreak", f"batch/{root}")
    return encode_batch_figure(
        figure=figure, row=row, index=version.pos, count=count, path=path, ledger=ledger
    )


def test_a_batch_figure_verifies_with_only_the_genesis(local: LocalNode) -> None:
    root = local.anchor(MINISTRY, parsed(FILE), cover=["*"])
    local.sync()
    bundle = batch_bundle(local, root, "CN-HB", "2020-01-25", 761)
    verdict = verify_figure(bundle, local.genesis)
    assert verdict.valid, verdict
    assert [name for name, _ in verdict.steps] == ["decode", "row", "anchored", "ledger"]
    assert verdict.facts["reporter"] == "health-ministry"
    assert verdict.facts["root"] == root and verdict.facts["row"] == 3
    assert verdict.facts["source_file"] == FILE
    assert verdict.reason == (
        f"confirmed cumulative 761 for CN-HB on 2020-01-25, reported by health-ministry in {FILE}"
    )


def test_every_flipped_bit_of_a_figure_bundle_fails(local: LocalNode) -> None:
    root = local.anchor(MINISTRY, parsed(FILE), cover=["*"])
    local.sync()
    bundle = batch_bundle(local, root, "FR", "2020-01-24", 2)
    assert verify_figure(bundle, local.genesis).valid
    # One flipped bit anywhere: the digest (or the canonical decoding) catches it.
    for position in range(0, len(bundle), max(1, len(bundle) // 300)):
        altered = bytearray(bundle)
        altered[position] ^= 0x01
        verdict = verify_figure(bytes(altered), local.genesis)
        assert not verdict.valid, f"bit flip at byte {position} went unnoticed"


def _resealed(bundle: bytes, **changes: object) -> bytes:
    """The bundle with fields changed and its digest recomputed (a deliberate forgery)."""
    data = codec.decode(bundle, max_size=1 << 24, what="bundle")
    del data["digest"]
    data.update(changes)
    return codec.encode({**data, "digest": sha256(codec.encode(data))})


@pytest.mark.parametrize(
    ("change", "step", "message"),
    [
        ({"figure": "value"}, "row", "the row holds cumulative 2"),
        ({"index": 8}, "ledger", "not batch/"),
        ({"path": "flip"}, "ledger", "not batch/"),
        ({"figure": "reporter"}, "ledger", "was anchored by health-ministry"),
        ({"ledger": "flip"}, "ledger", "the ledger proof fails at its decode step"),
        ({"count": 15}, "ledger", "holds 14 rows, not 15"),
        ({"count": 9}, "anchored", "not in a tree of size 9"),
    ],
)
def test_a_forged_but_resealed_bundle_fails_at_the_step_it_forges(
    local: LocalNode, change: dict[str, str], step: str, message: str
) -> None:
    root = local.anchor(MINISTRY, parsed(FILE), cover=["*"])
    local.sync()
    bundle = batch_bundle(local, root, "FR", "2020-01-24", 2)
    data = decode_figure_bundle(bundle)
    ((name, what),) = change.items()
    if name == "figure":
        figure = dict(data["figure"])
        figure[what] = 3 if what == "value" else "red-cross"
        forged = _resealed(bundle, figure=figure)
    elif name == "path":
        path = [bytes(p) for p in data["path"]]
        path[0] = bytes([path[0][0] ^ 1]) + path[0][1:]
        forged = _resealed(bundle, path=path)
    elif name == "ledger":
        ledger = bytearray(data["ledger"])
        ledger[40] ^= 1
        forged = _resealed(bundle, ledger=bytes(ledger))
    else:
        forged = _resealed(bundle, **{name: what})
    verdict = verify_figure(forged, local.genesis)
    assert not verdict.valid
    assert verdict.step == step, verdict
    assert message in verdict.reason, verdict.reason


def test_a_reported_figure_and_its_correction_verify_and_the_old_one_says_superseded(
    local: LocalNode,
) -> None:
    args = {
        "region": "FR",
        "date": "2021-03-01",
        "figures": {"confirmed": {"value": 3800000, "basis": "cumulative"}},
    }
    local.ok(MINISTRY, "report", args)
    local.ok(MINISTRY, "correct", {**args, "figures": {"confirmed": {"value": 3801375,
             "basis": "cumulative"}}, "reason": "late laboratory results"})  # fmt: skip
    key = "report/FR/2021-03-01/health-ministry"
    ledger = local.node.state_proof("outbreak", key)

    def bundle(version: int, value: int) -> bytes:
        figure = {"region": "FR", "date": "2021-03-01", "metric": "confirmed",
                  "reporter": "health-ministry", "value": value, "basis": "cumulative"}  # fmt: skip
        return encode_report_figure(figure=figure, version=version, ledger=ledger)

    current = verify_figure(bundle(2, 3801375), local.genesis)
    assert current.valid and current.facts["reason"] == "late laboratory results"
    old = verify_figure(bundle(1, 3800000), local.genesis)
    assert old.valid
    assert "superseded by version 2" in old.reason and "late laboratory results" in old.reason
    wrong = verify_figure(bundle(1, 3801375), local.genesis)
    assert not wrong.valid and wrong.step == "figure"


def test_a_bundle_for_another_network_fails(local: LocalNode) -> None:
    from salus.core.genesis import Genesis
    from tests.support import genesis_data

    root = local.anchor(MINISTRY, parsed(FILE), cover=["*"])
    local.sync()
    bundle = batch_bundle(local, root, "FR", "2020-01-24", 2)
    other = Genesis.from_data(genesis_data(3, chain_id="another-chain"))
    verdict = verify_figure(bundle, other)
    assert not verdict.valid and verdict.step == "ledger" and "chain" in verdict.reason


def test_garbage_is_reported_not_raised(local: LocalNode) -> None:
    for data in (b"", b"\x00", codec.encode({"salus_figure": 2}), b"x" * 100):
        verdict = verify_figure(data, local.genesis)
        assert not verdict.valid and verdict.step == "decode"


def test_a_row_figure_of_a_metric_the_batch_does_not_name_fails(local: LocalNode) -> None:
    # The anchored record names only "confirmed"; its row also holds deaths. The index
    # refuses such a batch, and a bundle built by hand for the deaths figure must fail.
    from salus.apps.outbreak.batches import Row, build_batch
    from salus.core.merkle import inclusion_proof

    row = Row(
        "FR",
        "2020-03-01",
        {"confirmed": ("cumulative", [10]), "deaths": ("cumulative", [1])},
        {},
    )
    batch = build_batch([row])
    root = batch.root.hex()
    local.ok(
        MINISTRY,
        "anchor_batch",
        {"root": root, "file_sha256": "0" * 64, "rows": 1, "figures": batch.figures,
         "format": "salus-json", "source": "x.json",
         "blobs": [local.blobs.put(c) for c in batch.chunks], "cover": ["FR"],
         "first_date": "2020-03-01", "last_date": "2020-03-01", "metrics": ["confirmed"]},
    )  # fmt: skip
    local.sync()
    assert local.index.batch(root)["status"] == "invalid"
    ledger = local.node.state_proof("outbreak", f"batch/{root}")
    figure = {"region": "FR", "date": "2020-03-01", "reporter": "health-ministry",
              "basis": "cumulative"}  # fmt: skip
    path = inclusion_proof(list(batch.leaves), 0)

    def bundle(metric: str, value: int) -> bytes:
        return encode_batch_figure(
            figure={**figure, "metric": metric, "value": value},
            row=batch.encoded[0], index=0, count=1, path=path, ledger=ledger,
        )  # fmt: skip

    assert verify_figure(bundle("confirmed", 10), local.genesis).valid
    verdict = verify_figure(bundle("deaths", 1), local.genesis)
    assert not verdict.valid and verdict.step == "ledger"
    assert verdict.reason == f"batch {root} holds no deaths figures"
