"""The outbreak demo: seeded once through the API, its figures and posts verify offline."""

from __future__ import annotations

import base64
import hashlib
import itertools
from pathlib import Path

import httpx

from salus import demo
from salus.apps.outbreak.jhu import parse_file
from salus.apps.outbreak.proof import verify_figure
from salus.cli.home import NodeHome, OrganisationPlan, create_home
from salus.cli.server import NodeServer
from salus.client import SalusClient
from salus.core.proofs import verify_bundle
from salus.demo._outbreak import (
    CONFLICT,
    CORRECTED,
    CORRECTION_REASON,
    COUNTRIES,
    DAYS,
    OUTBREAK_DEMO,
    PROVINCES,
    demo_feed,
    jhu_global_series,
)
from salus.keystore import load_key


def _demo_home(home: Path) -> None:
    create_home(
        home,
        chain_id=demo.DEMO_CHAIN_ID,
        organisations=[OrganisationPlan(*org) for org in demo.DEMO_ORGANISATIONS],
        threshold=demo.DEMO_THRESHOLD,
        passphrase=demo.DEMO_PASSPHRASE,
        genesis_time_ms=1_700_000_000_000,
        strength="interactive",
    )


def test_the_demo_data_is_deterministic_jhu_with_nothing_skipped() -> None:
    confirmed, deaths = jhu_global_series()
    assert (confirmed, deaths) == jhu_global_series()
    for metric, text in (("confirmed", confirmed), ("deaths", deaths)):
        parsed = parse_file(text.encode(), f"time_series_covid19_{metric}_global.csv")
        assert parsed.issues == []
        assert len(parsed.rows) == len(COUNTRIES) + len(PROVINCES)
        assert parsed.figures == (len(COUNTRIES) + len(PROVINCES)) * DAYS
        for row in parsed.rows:
            values = [v for v in row.metrics[metric][1] if v is not None]
            assert len(values) == DAYS
            assert all(b >= a for a, b in itertools.pairwise(values)), row.region
    assert b"<!DOCTYPE" not in demo_feed()


def test_outbreak_demo_seeds_once_and_its_figures_and_posts_verify_offline(
    tmp_path: Path,
) -> None:
    home = tmp_path / "demo"
    _demo_home(home)
    layout = NodeHome(home)
    validator = load_key(layout.validator_key_path, demo.DEMO_PASSPHRASE)
    genesis = layout.load_genesis()
    server = NodeServer(genesis, validator, layout.data_dir, port=0, block_interval_ms=20)
    with (
        server,
        SalusClient(server.url) as client,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        seed, _ = demo.ensure_seeded(client, home)
        apps = (OUTBREAK_DEMO,)
        records, seeded = demo.seed_apps(client, home, server.url, apps)
        assert seeded == ["outbreak"]
        height = client.status()["height"]
        again, seeded_again = demo.seed_apps(client, home, server.url, apps)
        assert (again, seeded_again) == (records, [])
        assert client.status()["height"] == height

        record = records["outbreak"]
        assert sorted(record["batches"]) == ["confirmed", "deaths"]
        for path in record["files"]:
            assert Path(path).is_file()
        world = http.get("/v1/outbreak/totals").json()["figures"]
        assert world["confirmed"]["cumulative"] > world["deaths"]["cumulative"] > 0
        countries = http.get("/v1/outbreak/regions").json()["regions"]
        assert len(countries) >= 40  # and Australia, Canada, China as sums of provinces
        assert {"AU", "CA", "CN"} <= {c["region"] for c in countries}

        region, _, metric = CORRECTED
        fixed = record["corrected"]
        figure = http.get(f"/v1/outbreak/figures/{region}/{fixed['date']}/{metric}").json()
        (ministry,) = figure["reporters"]
        assert [v["version"] for v in ministry["versions"]] == [1, 2]
        assert ministry["versions"][1]["reason"] == CORRECTION_REASON
        assert ministry["current"]["value"] == fixed["value"]
        proofs = {}
        for version in (1, 2):
            proof = http.get(
                f"/v1/outbreak/figures/{region}/{fixed['date']}/{metric}/proof",
                params={"version": version, "format": "cbor"},
            )
            assert proof.status_code == 200
            proofs[version] = proof.content

        c_region, _, c_metric = CONFLICT
        conflict = http.get(
            f"/v1/outbreak/figures/{c_region}/{record['conflict']['date']}/{c_metric}"
        ).json()
        assert conflict["conflict"] is True
        assert {r["reporter"] for r in conflict["reporters"]} == {"health-ministry", "red-cross"}

        posts = http.get("/v1/posts").json()
        assert posts["total"] == len(record["posts"]) == 4
        post = posts["posts"][0]
        document = http.get(post["blob"]).content
        anchor_proof = base64.b64decode(http.get(post["proof"]).json()["bundle"])
        assert http.get("/dashboard/").status_code == 200

    # Offline, with the node stopped: the genesis and the files are enough.
    original, corrected = (verify_figure(proofs[v], genesis) for v in (1, 2))
    assert original.valid and corrected.valid, (original.reason, corrected.reason)
    assert original.facts["source"] == "batch" and corrected.facts["source"] == "report"
    assert corrected.facts["reason"] == CORRECTION_REASON
    assert hashlib.sha256(document).hexdigest() == post["digest"]
    anchored = verify_bundle(anchor_proof, genesis)
    assert anchored.valid and anchored.facts["key"] == f"notary/anchor/{post['digest']}"

    guide = "\n".join(OUTBREAK_DEMO.guide(home, server.url, record))
    assert f"{server.url}/dashboard/" in guide
    genesis_file = home.resolve() / "genesis.json"
    assert f"salus outbreak verify corrected.cbor --genesis {genesis_file}" in guide
    fixed = record["corrected"]
    assert (
        f"salus outbreak figure --node {server.url} FR {fixed['date']} confirmed "
        "--proof imported.cbor --version 1"
    ) in guide
    assert CORRECTION_REASON in guide
    full = demo.demo_guide(home, server.url, seed, records)
    assert f"{server.url}/dashboard/" in full
