"""The background indexer: requests never index, and never wait for a sync."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from salus.apps.outbreak.batches import Row, build_batch
from salus.apps.outbreak.index import FigureIndex
from salus.apps.outbreak.indexer import BackgroundIndexer
from tests.apps.outbreak.support import MINISTRY, LocalNode, grant, send, served_node


def test_a_request_reads_the_last_committed_state_while_a_sync_runs(tmp_path: Path) -> None:
    # Review finding 6 (repro t8): a request during a large index waited 2.6 s for the
    # index lock. Here a sync is held open mid-way; requests must answer at once from
    # the state committed before it, saying so in as_of.
    with served_node(tmp_path) as served:
        grant(served.client, "health-ministry", "*")
        index: FigureIndex = served.index
        entered, release = threading.Event(), threading.Event()
        original = index._sync

        def slow_sync(*args: object) -> bool:
            entered.set()
            assert release.wait(30)
            return original(*args)  # type: ignore[arg-type]

        index._sync = slow_sync  # type: ignore[method-assign,assignment]
        try:
            before = httpx.get(served.url + "/v1/outbreak/status").json()["as_of"]
            served.client.send(MINISTRY, "outbreak", "grant_scope",
                               {"subject": "red-cross", "region": "FR"})  # fmt: skip
            assert entered.wait(10), "the background indexer never synced"
            started = time.monotonic()
            for path in ("/v1/outbreak/status", "/v1/outbreak/regions", "/v1/outbreak/totals"):
                response = httpx.get(served.url + path, timeout=10)
                assert response.status_code == 200, response.text
                assert response.json()["as_of"] == before
            assert time.monotonic() - started < 5  # not blocked until release
        finally:
            release.set()
            index._sync = original  # type: ignore[method-assign]
        deadline = time.monotonic() + 10
        while httpx.get(served.url + "/v1/outbreak/status").json()["as_of"] <= before:
            assert time.monotonic() < deadline, "the index never caught up"
            time.sleep(0.02)
        send(served.client, MINISTRY, "grant_scope", {"subject": "city-hospital", "region": "FR"})


def test_a_late_batch_is_indexed_without_a_request_or_a_block() -> None:
    local = LocalNode()
    local.scope_ministry()
    rows = [Row("DE", "2020-03-01", {"confirmed": ("cumulative", [10, 20])}, {})]
    batch = build_batch(rows)
    from salus.node.blobs import blob_address

    local.ok(
        MINISTRY,
        "anchor_batch",
        {"root": batch.root.hex(), "file_sha256": "0" * 64, "rows": 1, "figures": 2,
         "format": "salus-json", "source": "x.json",
         "blobs": [blob_address(c) for c in batch.chunks], "cover": ["DE"],
         "first_date": "2020-03-01", "last_date": "2020-03-02", "metrics": ["confirmed"]},
    )  # fmt: skip
    indexer = BackgroundIndexer(local.index, local.node, local.blobs, retry_s=0.05).start()
    root = batch.root.hex()
    deadline = time.monotonic() + 10
    while local.index.status()["batches"] != {"unavailable": 1}:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    for chunk in batch.chunks:
        local.blobs.put(chunk)
    while local.index.batch(root)["status"] != "indexed":
        assert time.monotonic() < deadline, "the arrived blobs were never indexed"
        time.sleep(0.01)
    indexer.stop()
    local.close()


def test_a_download_is_written_once_per_index_generation(tmp_path: Path) -> None:
    from salus.apps.outbreak.importing import correct, import_file
    from tests.apps.outbreak.support import DATA

    name = "time_series_covid19_confirmed_global.csv"
    with served_node(tmp_path) as served:
        grant(served.client, "health-ministry", "*")
        batch = import_file(served.client, MINISTRY, (DATA / name).read_bytes(), name)
        url = f"{served.url}/v1/outbreak/download/{name}"
        first = httpx.get(url)
        assert first.status_code == 200
        cached = [key for key in served.index._cache if key[0] == "download"]
        assert [key[2] for key in cached] == [name]
        assert httpx.get(url).text == first.text
        # A correction makes a new generation: the file is written again, with it.
        correct(served.client, MINISTRY, region="FR", date="2020-01-24",
                figures={"confirmed": (7, "cumulative")}, reason="late count",
                batch=batch.root)  # fmt: skip
        second = httpx.get(url)
        assert second.text != first.text
        line = next(row for row in second.text.splitlines() if ",France," in row)
        assert line.split(",")[6] == "7"  # 1/22, 1/23, then the corrected 1/24
