"""Benchmark: import the full-size JHU global time series, then time the dashboard's API.

    .venv/bin/python bench/outbreak.py [--days 1143] [--requests 200] [--files DIR]

What it does, with real parts only:
1. Write the JHU global confirmed and deaths time series (about 290 rows by 1,143 days
   each, from :mod:`salus.apps.outbreak.generate`), or take the real files from
   ``--files DIR`` (``time_series_covid19_{confirmed,deaths}_global.csv``).
2. Start a node in this process: SQLite storage, the solo engine (a block every 20 ms
   when transactions wait), the file blob store and the HTTP API served by uvicorn on
   127.0.0.1. The consortium grants the health ministry the ``health_authority`` role in
   genesis; both members approve its reporting scope ``*`` (M of N, not timed).
3. Import (timed, ``import_s``): for each file, parse it, build the batch, upload the
   rows to the blob store over HTTP, anchor the batch in one signed transaction, wait for
   its block, and wait until the node's figure index has indexed every figure. Meanwhile
   a second client polls the map every 50 ms: ``map_during_import_max_ms`` is the worst
   wait (the index is built on a background thread; a request never waits for it).
4. Measure the dashboard's data endpoints over real HTTP, one request at a time:
   a country's series (``series``, every country in turn, confirmed and deaths), the map
   and table data (``map``), global totals (``totals``), one country with its
   subdivisions (``region``), a figure's provenance (``provenance``) and its proof
   bundle (``proof``). ``api_p95_ms`` is the 95th percentile over the series and map
   requests, the two the targets name (import <= 60 s, p95 <= 100 ms).
5. Correct one imported figure; once the index has taken in its block (the client
   waits for ``as_of``), time the first map request (``first_map_after_block_ms``: the
   map cache was invalidated, so it is rebuilt) and the figure's provenance
   (``first_request_after_correction_ms``).

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from salus.api import create_app
from salus.api.serving import ApiServerThread, bind_listener
from salus.apps.outbreak.generate import FULL_DAYS, generate_global_time_series
from salus.apps.outbreak.importing import correct, import_file
from salus.client import SalusClient
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.node import FileBlobStore, Node, SqliteStore
from salus.node.solo import SoloEngine

VALIDATOR, MINISTRY, HOSPITAL = (
    Signer(bytes([9]) * 32),
    Signer(bytes([1]) * 32),
    Signer(bytes([2]) * 32),
)
FILES = ("time_series_covid19_confirmed_global.csv", "time_series_covid19_deaths_global.csv")


def genesis() -> Genesis:
    return Genesis.from_data(
        {
            "chain_id": "salus-bench-outbreak",
            "genesis_time_ms": 1_700_000_000_000,
            "consortium": {
                "organisations": [
                    {"id": "health-ministry", "name": "Health Ministry",
                     "keys": [MINISTRY.did], "roles": ["admin", "health_authority"]},
                    {"id": "city-hospital", "name": "City Hospital",
                     "keys": [HOSPITAL.did], "roles": []},
                ],
                "threshold": {"num": 2, "den": 3},
                "proposal_ttl_blocks": 50,
            },
            "validators": [{"did": VALIDATOR.did, "power": 10, "name": "validator-1"}],
        }
    )  # fmt: skip


def p95(samples: list[float]) -> float:
    return round(statistics.quantiles(samples, n=20, method="inclusive")[18] * 1000, 2)


def timed(http: httpx.Client, path: str, **params: Any) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = http.get(path, params=params or None)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"GET {path} {params}: {response.status_code} {response.text[:300]}")
    return elapsed, response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=FULL_DAYS)
    parser.add_argument("--requests", type=int, default=200, help="per endpoint (series: all)")
    parser.add_argument("--files", type=Path, help="directory holding the real JHU files")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="salus-bench-outbreak-") as tmp:
        home = Path(tmp)
        if options.files is not None:
            inputs = [(name, (options.files / name).read_bytes()) for name in FILES]
        else:
            inputs = [
                (name, generate_global_time_series(metric, days=options.days).encode())
                for name, metric in zip(FILES, ("confirmed", "deaths"), strict=True)
            ]
        node = Node(genesis(), SqliteStore(home / "ledger.sqlite"), VALIDATOR)
        blobs = FileBlobStore(home / "blobs")
        engine = SoloEngine(node, block_interval_ms=20)
        sock = bind_listener("127.0.0.1", 0)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        app = create_app(node, blobs)
        server = ApiServerThread(app, sock)
        engine.start()
        server.start(url=url)
        try:
            with SalusClient(url, timeout=120) as client, httpx.Client(base_url=url) as http:
                # The consortium (2 of 2 members) scopes the ministry: no authority
                # grants itself a scope alone; its own grant is its approval.
                for member in (MINISTRY, HOSPITAL):
                    submitted = client.send(
                        member,
                        "outbreak",
                        "grant_scope",
                        {"subject": "health-ministry", "region": "*"},
                    )
                    assert client.wait_for(submitted["id"])["status"] == "committed"

                # The dashboard keeps polling the map during the import: the worst wait
                # shows whether a request ever waits for the indexer (it must not).
                during: list[float] = []
                importing = threading.Event()
                importing.set()

                def poll_map() -> None:
                    with httpx.Client(base_url=url, timeout=120) as poller:
                        while importing.is_set():
                            during.append(timed(poller, "/v1/outbreak/regions")[0])
                            time.sleep(0.05)

                poller = threading.Thread(target=poll_map, daemon=True)
                poller.start()
                started = time.perf_counter()
                try:
                    results = [import_file(client, MINISTRY, data, name) for name, data in inputs]
                finally:
                    import_s = time.perf_counter() - started
                    importing.clear()
                    poller.join(60)
                figures = sum(result.figures for result in results)
                rows = sum(result.rows for result in results)
                skipped = sum(len(result.parsed.skipped) for result in results)

                latencies: dict[str, list[float]] = {
                    k: [] for k in ("series", "map", "totals", "region", "provenance", "proof")
                }
                regions = timed(http, "/v1/outbreak/regions")[1].json()["regions"]
                countries = [entry["region"] for entry in regions]
                rng = random.Random(7)
                for metric in ("confirmed", "deaths"):
                    for country in countries:
                        elapsed, _ = timed(
                            http, f"/v1/outbreak/regions/{country}/series", metric=metric
                        )
                        latencies["series"].append(elapsed)
                last = results[0].parsed.rows[0].end
                for _ in range(options.requests):
                    latencies["map"].append(timed(http, "/v1/outbreak/regions")[0])
                    latencies["totals"].append(timed(http, "/v1/outbreak/totals")[0])
                    country = rng.choice(countries)
                    latencies["region"].append(timed(http, f"/v1/outbreak/regions/{country}")[0])
                    row = rng.choice(results[0].parsed.rows)
                    day = row.start if rng.random() < 0.1 else last
                    path = f"/v1/outbreak/figures/{row.region}/{day}/confirmed"
                    latencies["provenance"].append(timed(http, path)[0])
                for _ in range(max(20, options.requests // 4)):
                    row = rng.choice(results[1].parsed.rows)
                    path = f"/v1/outbreak/figures/{row.region}/{last}/deaths/proof"
                    latencies["proof"].append(timed(http, path, format="cbor")[0])
                # A correction after the full import: its block, then the first request,
                # which brings the index up to date (own figures, the country, the world).
                figure = results[0].parsed.rows[0].figure("confirmed", last)
                assert figure is not None
                correct(
                    client,
                    MINISTRY,
                    region=results[0].parsed.rows[0].region,
                    date=last,
                    figures={"confirmed": (figure[0] + 1, "cumulative")},
                    reason="benchmark correction",
                    batch=results[0].root,
                )
                # correct() returns once the index has taken in the correction's block:
                # the next map request finds the map cache invalidated and rebuilds it.
                map_after_block_s, _ = timed(http, "/v1/outbreak/regions")
                path = f"/v1/outbreak/figures/{results[0].parsed.rows[0].region}/{last}/confirmed"
                correction_s, response = timed(http, path)
                assert response.json()["reporters"][0]["corrected"] is True
        finally:
            server.stop()
            engine.stop()
            app.state.outbreak_index.close()
            node.close()
            sock.close()
    dashboard = latencies["series"] + latencies["map"]
    print(
        json.dumps(
            {
                "figures": figures,
                "rows": rows,
                "skipped": skipped,
                "days": options.days,
                "import_s": round(import_s, 2),
                "figures_per_s": round(figures / import_s),
                "api_p95_ms": p95(dashboard),
                "series_p95_ms": p95(latencies["series"]),
                "map_p95_ms": p95(latencies["map"]),
                "totals_p95_ms": p95(latencies["totals"]),
                "region_p95_ms": p95(latencies["region"]),
                "provenance_p95_ms": p95(latencies["provenance"]),
                "proof_p95_ms": p95(latencies["proof"]),
                "first_request_after_correction_ms": round(correction_s * 1000, 1),
                "first_map_after_block_ms": round(map_after_block_s * 1000, 1),
                "map_during_import_max_ms": round(max(during, default=0.0) * 1000, 1),
                "map_during_import_requests": len(during),
                "requests": sum(len(v) for v in latencies.values()),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
