"""The figure index: versions, conflicts, sums of subdivisions, rebuilds, bad batches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from salus.apps.outbreak.batches import Row, build_batch
from salus.apps.outbreak.export import export_time_series
from salus.apps.outbreak.index import FigureIndex
from tests.apps.outbreak.support import (
    DATA,
    HOSPITAL,
    MINISTRY,
    RED_CROSS,
    LocalNode,
    parsed,
)

CONFIRMED = "time_series_covid19_confirmed_global.csv"


@pytest.fixture
def local() -> Iterator[LocalNode]:
    node = LocalNode()
    node.scope_ministry()
    yield node
    node.close()


def current(local: LocalNode, region: str, date: str, reporter: str = "health-ministry") -> int:
    versions = local.index.versions(region, date, "confirmed")
    (figure,) = [v for v in versions if v.reporter == reporter and v.current]
    return figure.value


def test_a_batch_is_indexed_with_every_figure(local: LocalNode) -> None:
    root = local.anchor(MINISTRY, parsed(CONFIRMED), cover=["*"])
    assert local.sync() is True
    assert local.sync() is False  # nothing new: no work
    batch = local.index.batch(root)
    assert batch["status"] == "indexed" and batch["rows"] == 14 and batch["new_versions"] == 56
    assert current(local, "CN-HB", "2020-01-25") == 761
    status = local.index.status()
    assert status["figures"] == 56 and status["batches"] == {"indexed": 1}
    assert status["last_update"]["tx_id"] == batch["tx_id"]


def test_regions_without_own_figures_are_the_sum_of_those_below(local: LocalNode) -> None:
    local.anchor(MINISTRY, parsed(CONFIRMED), cover=["*"])
    local.sync()
    latest = local.index.latest(["CN", "AU", "FR", "*"])
    (china,) = latest["CN"]["confirmed"]
    assert china["derived"] and china["contributors"] == 1  # Hubei (Hong Kong is HK)
    assert china["cumulative"] == 761
    (australia,) = latest["AU"]["confirmed"]
    assert australia["cumulative"] == 2 + 4 and australia["contributors"] == 2
    (france,) = latest["FR"]["confirmed"]
    assert not france["derived"] and france["reporter"] == "health-ministry"
    (world,) = latest["*"]["confirmed"]
    assert world["cumulative"] == 3 + 2 + 4 + 761 + 5 + 61 + 3 + 2 + 3 + 2
    assert local.index.children(None)[:3] == ["AF", "AU", "CD"]
    assert local.index.children("AU") == ["AU-ACT", "AU-NSW"]


def test_re_importing_the_same_figures_adds_no_version_and_a_change_adds_one(
    local: LocalNode,
) -> None:
    first = parsed(CONFIRMED)
    local.anchor(MINISTRY, first, cover=["*"])
    local.sync()
    same = parsed(CONFIRMED)
    france = Row("FR", "2020-01-22", {"confirmed": ("cumulative", [0, 0, 2, 3])})
    same.rows = [*same.rows[:1], france]
    root_same = local.anchor(MINISTRY, same, cover=["*"])
    local.sync()
    assert local.index.batch(root_same)["new_versions"] == 0
    changed = parsed(CONFIRMED)
    changed.rows = [Row("FR", "2020-01-24", {"confirmed": ("cumulative", [4])})]
    root = local.anchor(MINISTRY, changed, cover=["FR"], reason="JHU re-publication: backlog")
    local.sync()
    versions = local.index.versions("FR", "2020-01-24", "confirmed")
    assert [(v.version, v.value, v.current, v.reason) for v in versions] == [
        (1, 2, False, ""),
        (2, 4, True, "JHU re-publication: backlog"),
    ]
    assert versions[1].source == "batch" and versions[1].ref == root
    unexplained = parsed(CONFIRMED)
    unexplained.rows = [Row("FR", "2020-01-24", {"confirmed": ("cumulative", [5])})]
    unexplained.source = "republished.csv"
    local.anchor(MINISTRY, unexplained, cover=["FR"])
    local.sync()
    assert local.index.versions("FR", "2020-01-24", "confirmed")[-1].reason == (
        "re-published in republished.csv"
    )


def test_a_correction_of_an_imported_figure_keeps_both_versions_with_the_reason(
    local: LocalNode,
) -> None:
    root = local.anchor(MINISTRY, parsed(CONFIRMED), cover=["*"])
    local.ok(
        MINISTRY,
        "correct",
        {
            "region": "FR",
            "date": "2020-01-24",
            "figures": {"confirmed": {"value": 5, "basis": "cumulative"}},
            "reason": "late laboratory results",
            "batch": root,
        },
    )
    local.sync()
    old, new = local.index.versions("FR", "2020-01-24", "confirmed")
    assert (old.version, old.value, old.source, old.current) == (1, 2, "batch", False)
    assert (new.version, new.value, new.source, new.current) == (2, 5, "report", True)
    assert (
        new.reason == "late laboratory results"
        and new.ref == "report/FR/2020-01-24/health-ministry"
    )
    (france,) = local.index.latest(["FR"])["FR"]["confirmed"]
    assert france["cumulative"] == 3  # the series goes on to 2020-01-25


def test_figures_of_different_reporters_are_kept_apart_and_conflicts_found(
    local: LocalNode,
) -> None:
    local.anchor(MINISTRY, parsed(CONFIRMED), cover=["*"])
    local.ok(MINISTRY, "grant_scope", {"subject": "red-cross", "region": "FR"})
    local.ok(MINISTRY, "grant_scope", {"subject": "city-hospital", "region": "FR"})
    for signer, value in ((RED_CROSS, 9), (HOSPITAL, 2)):
        local.ok(
            signer,
            "report",
            {"region": "FR", "date": "2020-01-24",
             "figures": {"confirmed": {"value": value, "basis": "cumulative"}}},
        )  # fmt: skip
    local.sync()
    assert current(local, "FR", "2020-01-24") == 2
    assert current(local, "FR", "2020-01-24", "red-cross") == 9
    assert local.index.reporters("FR", "confirmed")[0] == "health-ministry"  # most figures
    disagreements = local.index.disagreements("FR", "confirmed")
    (day,) = disagreements
    assert disagreements[day] == {
        "city-hospital": (2, "cumulative"),
        "health-ministry": (2, "cumulative"),
        "red-cross": (9, "cumulative"),
    }


def test_the_index_is_rebuilt_from_the_ledger_and_blobs(local: LocalNode, tmp_path: Path) -> None:
    root = local.anchor(MINISTRY, parsed(CONFIRMED), cover=["*"])
    local.ok(
        MINISTRY,
        "correct",
        {"region": "FR", "date": "2020-01-24", "batch": root, "reason": "late results",
         "figures": {"confirmed": {"value": 5, "basis": "cumulative"}}},
    )  # fmt: skip
    local.sync()
    before = [v.to_json() for v in local.index.versions("FR", "2020-01-24", "confirmed")]
    fresh = FigureIndex(tmp_path / "outbreak-index.sqlite")
    try:
        assert fresh.sync(local.ledger, local.blobs)
        again = [v.to_json() for v in fresh.versions("FR", "2020-01-24", "confirmed")]
        assert again == before
        assert fresh.latest(["*"]) == local.index.latest(["*"])
    finally:
        fresh.close()
    # A file from another network (another genesis) is discarded and rebuilt.
    stale = FigureIndex(tmp_path / "outbreak-index.sqlite")
    try:
        stale._conn.execute("UPDATE meta SET v = 'ff' WHERE k = 'genesis'")
        stale.sync(local.ledger, local.blobs)
        assert stale.status()["figures"] == local.index.status()["figures"]
    finally:
        stale.close()


def test_a_batch_whose_blobs_do_not_match_is_invalid_and_indexes_nothing(
    local: LocalNode,
) -> None:
    good = parsed(CONFIRMED)
    batch = build_batch(good.rows)
    other = build_batch(good.rows[:3])
    address = local.blobs.put(other.chunks[0])
    local.ok(
        MINISTRY,
        "anchor_batch",
        {"root": batch.root.hex(), "file_sha256": good.file_sha256, "rows": 14,
         "figures": batch.figures, "format": good.format, "source": good.source,
         "blobs": [address], "cover": ["*"], "first_date": batch.first_date,
         "last_date": batch.last_date, "metrics": ["confirmed"]},
    )  # fmt: skip
    local.sync()
    record = local.index.batch(batch.root.hex())
    assert record["status"] == "invalid"
    assert record["problem"] == "the blobs hold 3 rows, the batch 14"
    assert local.index.status()["figures"] == 0


def test_a_batch_outside_its_cover_is_invalid(local: LocalNode) -> None:
    root = local.anchor(MINISTRY, parsed(CONFIRMED), cover=["FR"])
    local.sync()
    record = local.index.batch(root)
    assert record["status"] == "invalid"
    assert record["problem"] == "row 0 is of AF, outside the batch's cover"


def test_a_batch_whose_blobs_are_elsewhere_is_retried(local: LocalNode) -> None:
    rows = parsed(CONFIRMED)
    batch = build_batch(rows.rows)
    from salus.node.blobs import blob_address

    local.ok(
        MINISTRY,
        "anchor_batch",
        {"root": batch.root.hex(), "file_sha256": rows.file_sha256, "rows": 14,
         "figures": batch.figures, "format": rows.format, "source": rows.source,
         "blobs": [blob_address(batch.chunks[0])], "cover": ["*"],
         "first_date": batch.first_date, "last_date": batch.last_date,
         "metrics": ["confirmed"]},
    )  # fmt: skip
    local.sync()
    record = local.index.batch(batch.root.hex())
    assert record["status"] == "unavailable"
    assert record["problem"].endswith("in this node's blob store")
    # The rows arrive (say copied from another node); the next block's sync indexes them.
    local.blobs.put(batch.chunks[0])
    local.ok(MINISTRY, "grant_scope", {"subject": "red-cross", "region": "FR"})
    local.sync()
    record = local.index.batch(batch.root.hex())
    assert record["status"] == "indexed" and record["problem"] is None
    assert current(local, "CN-HB", "2020-01-25") == 761


def test_exported_rows_give_back_the_imported_file(local: LocalNode) -> None:
    local.anchor(MINISTRY, parsed(CONFIRMED), cover=["*"])
    us = parsed("time_series_covid19_deaths_US.csv")
    local.anchor(MINISTRY, us, cover=["US"])
    local.sync()
    rows = local.index.export_rows("jhu-global-ts", metric="confirmed")
    assert export_time_series(rows, "confirmed") == (DATA / CONFIRMED).read_text()
    us_rows = local.index.export_rows("jhu-us-ts", metric="deaths")
    assert (
        export_time_series(us_rows, "deaths", us=True)
        == (DATA / "time_series_covid19_deaths_US.csv").read_text()
    )
    (county,) = local.index.latest(["US-NY"])["US-NY"]["deaths"]
    assert county["derived"] and county["cumulative"] == 9


def _anchor_without_blobs(
    local: LocalNode, rows: list[Row], source: str
) -> tuple[str, list[bytes]]:
    """Anchor ``rows`` as if imported through another node: the chunks are not stored."""
    from salus.node.blobs import blob_address

    batch = build_batch(rows)
    local.ok(
        MINISTRY,
        "anchor_batch",
        {"root": batch.root.hex(), "file_sha256": "0" * 64, "rows": len(rows),
         "figures": batch.figures, "format": "salus-json", "source": source,
         "blobs": [blob_address(c) for c in batch.chunks], "cover": ["DE"],
         "first_date": batch.first_date, "last_date": batch.last_date,
         "metrics": list(batch.metrics), "reason": ""},
    )  # fmt: skip
    return batch.root.hex(), list(batch.chunks)


def _de(*values: int) -> list[Row]:
    return [Row("DE", "2020-03-01", {"confirmed": ("cumulative", list(values))}, {})]


def _history(local: LocalNode) -> list[tuple[int, int, str, bool]]:
    return [
        (f.version, f.value, f.source, f.current)
        for f in local.index.versions("DE", "2020-03-02", "confirmed")
    ]


def test_a_late_batch_takes_its_ledger_place_before_a_later_correction() -> None:
    # Review repro t1 B: the batch's blobs arrive after a correction of one of its
    # figures. The correction came later on the ledger, so it stays the current value.
    local = LocalNode()
    local.scope_ministry()
    root, chunks = _anchor_without_blobs(local, _de(10, 20), "x.json")
    local.sync()
    assert local.index.batch(root)["status"] == "unavailable"
    local.ok(
        MINISTRY,
        "correct",
        {"region": "DE", "date": "2020-03-02", "reason": "late fix", "batch": root,
         "figures": {"confirmed": {"value": 25, "basis": "cumulative"}}},
    )  # fmt: skip
    local.sync()
    for chunk in chunks:
        local.blobs.put(chunk)
    # No new block: the sync notices the arrived blobs by itself.
    assert local.sync() is True
    assert local.index.batch(root)["status"] == "indexed"
    assert _history(local) == [(1, 20, "batch", False), (2, 25, "report", True)]
    assert local.index.own_points("DE", "confirmed", "health-ministry")[-1][1] == 25
    (latest,) = local.index.latest(["DE"])["DE"]["confirmed"]
    assert latest["cumulative"] == 25
    local.close()


def test_a_late_batch_numbers_versions_as_a_node_that_had_it_all_along() -> None:
    # 20, then (late) 30, then 20 again: in ledger order that is three versions, though
    # the third re-stated the value current before the late batch arrived.
    nodes = [LocalNode(), LocalNode()]
    roots = []
    for late, local in enumerate(nodes):
        local.scope_ministry()
        local.anchor(MINISTRY, _parsed_rows(_de(10, 20), "a.json"), cover=["DE"])
        root, chunks = _anchor_without_blobs(local, _de(10, 30), "b.json")
        if not late:
            for chunk in chunks:
                local.blobs.put(chunk)
        local.sync()
        local.anchor(MINISTRY, _parsed_rows(_de(11, 20), "c.json"), cover=["DE"])
        local.sync()
        if late:
            for chunk in chunks:
                local.blobs.put(chunk)
            local.sync()
        roots.append(root)
    expected = [(1, 20, "batch", False), (2, 30, "batch", False), (3, 20, "batch", True)]
    assert _history(nodes[0]) == _history(nodes[1]) == expected
    assert nodes[1].index.batch(roots[1])["status"] == "indexed"
    for local in nodes:
        local.close()


def _parsed_rows(rows: list[Row], source: str) -> object:
    from salus.apps.outbreak.jhu import ParsedFile

    return ParsedFile("salus-json", source, "0" * 64, rows=rows, row_lines=[1] * len(rows))


def test_a_batch_stating_a_region_twice_is_invalid(local: LocalNode) -> None:
    # Review repro t1 A: two rows of FR would give two "current" figures for one day.
    rows = [
        Row("FR", "2020-03-01", {"confirmed": ("cumulative", [10, 20])}, {}),
        Row("FR", "2020-03-01", {"confirmed": ("cumulative", [10, 99])}, {}),
    ]
    root = local.anchor(MINISTRY, _parsed_rows(rows, "dup.json"), cover=["FR"])
    local.sync()
    record = local.index.batch(root)
    assert record["status"] == "invalid"
    assert record["problem"] == "row 1 is of FR, like row 0: a batch states each region once"
    assert local.index.own_points("FR", "confirmed", "health-ministry") == []
    assert local.index.versions("FR", "2020-03-02", "confirmed") == []
