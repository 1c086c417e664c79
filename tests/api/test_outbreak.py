"""The /v1/outbreak API: response shapes, provenance and proofs, downloads, and 4xx errors."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from salus.apps.outbreak.importing import correct, import_file, report
from salus.apps.outbreak.proof import verify_figure
from tests.api.harness import assert_error
from tests.apps.outbreak.support import (
    DATA,
    MINISTRY,
    RED_CROSS,
    Served,
    grant,
    served_node,
)

CONFIRMED = "time_series_covid19_confirmed_global.csv"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_node(tmp_path_factory.mktemp("outbreak-api")) as node:
        client = node.client
        grant(client, "health-ministry", "*")
        grant(client, "red-cross", "FR")
        for name in (CONFIRMED, "time_series_covid19_deaths_global.csv",
                     "time_series_covid19_deaths_US.csv", "03-22-2021.csv"):  # fmt: skip
            import_file(client, MINISTRY, (DATA / name).read_bytes(), name)
        confirmed_root = client.state("outbreak", "scope/health-ministry")  # warm the cache
        assert confirmed_root
        report(
            client,
            RED_CROSS,
            region="FR",
            date="2020-01-24",
            figures={"confirmed": (7, "cumulative")},
            note="field teams' count",
        )
        yield node


@pytest.fixture
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        yield client


def get(http: httpx.Client, path: str, **params: Any) -> Any:
    response = http.get(path, params=params or None)
    assert response.status_code == 200, response.text
    return response.json()


def test_status_and_totals(http: httpx.Client) -> None:
    status = get(http, "/v1/outbreak/status")
    assert status["batches"] == {"indexed": 4}
    assert status["metrics"] == ["confirmed", "deaths", "recovered", "tests", "vaccinations"]
    assert status["last_update"]["height"] <= status["as_of"] == status["height"]
    totals = get(http, "/v1/outbreak/totals")
    confirmed = totals["figures"]["confirmed"]
    assert set(confirmed) == {"date", "cumulative", "new", "avg7", "regions"}
    assert confirmed["date"] == "2021-03-22"  # the daily report is the latest figure
    assert set(totals) == {"figures", "countries", "last_update", "as_of"}


def test_the_map_lists_countries_with_their_latest_figures(http: httpx.Client) -> None:
    body = get(http, "/v1/outbreak/regions")
    assert body["parent"] is None and body["last_update"]["tx_id"]
    by_region = {entry["region"]: entry for entry in body["regions"]}
    france = by_region["FR"]
    assert set(france) == {
        "region", "name", "level", "parent", "iso2", "iso3", "lat", "long", "population",
        "figures", "subdivisions",
    }  # fmt: skip
    assert (france["iso3"], france["population"]) == ("FRA", 65273512)
    confirmed = france["figures"]["confirmed"]
    assert confirmed["cumulative"] == 4267077 and confirmed["date"] == "2021-03-22"
    assert confirmed["reporters"] == 2 and confirmed["conflicts"] == 1
    assert confirmed["cumulative_per100k"] == round(4267077 * 100_000 / 65273512, 2)
    china = by_region["CN"]
    assert china["figures"]["confirmed"]["derived"] is True
    assert china["subdivisions"] == 1
    us = get(http, "/v1/outbreak/regions", parent="US")
    assert {e["region"] for e in us["regions"]} >= {"US-NY", "US-AL"}


def test_one_region_with_its_subdivisions(http: httpx.Client) -> None:
    body = get(http, "/v1/outbreak/regions/us-ny")
    assert body["region"] == "US-NY" and body["name"] == "New York"
    counties = {child["region"]: child for child in body["children"]}
    assert set(counties) == {"US-NY:36061", "US-NY:90036"}
    assert counties["US-NY:36061"]["figures"]["deaths"]["cumulative"] == 10398


def test_a_series_has_cumulative_new_average_and_rates(http: httpx.Client) -> None:
    body = get(http, "/v1/outbreak/regions/AU/series", metric="confirmed")
    assert body["derived"] is True and body["reporter"] is None
    assert body["dates"] == ["2020-01-22", "2020-01-23", "2020-01-24", "2020-01-25"]
    assert body["cumulative"] == [0, 1, 5, 6]
    assert body["new"] == [None, 1, 4, 1]
    assert body["avg7"] == [None] * 4
    assert body["cumulative_per100k"][-1] == round(6 * 100_000 / 25459700, 2)
    france = get(http, "/v1/outbreak/regions/FR/series")
    assert france["reporters"] == ["health-ministry", "red-cross"]
    assert france["conflicts"] == [
        {
            "date": "2020-01-24",
            "figures": {
                "health-ministry": {"value": 2, "basis": "cumulative"},
                "red-cross": {"value": 7, "basis": "cumulative"},
            },
        }
    ]
    theirs = get(http, "/v1/outbreak/regions/FR/series", reporter="red-cross")
    assert theirs["cumulative"] == [7] and theirs["start"] == "2020-01-24"
    world = get(http, "/v1/outbreak/regions/world/series", metric="deaths")
    # Hubei's 17; the US counties' deaths are inside the US's own figure, not added again.
    assert world["region"] == "*" and world["cumulative"][0] == 17


def test_a_figures_provenance_shows_reporters_versions_and_conflict(
    served: Served, http: httpx.Client
) -> None:
    body = get(http, "/v1/outbreak/figures/FR/2020-01-24/confirmed")
    assert body["conflict"] is True
    ministry, red_cross = body["reporters"]
    assert ministry["reporter"] == "health-ministry" and red_cross["reporter"] == "red-cross"
    version = ministry["current"]
    assert set(version) == {
        "version", "value", "basis", "current", "source", "batch", "row", "ledger_version",
        "tx_id", "height", "time_ms", "signed_by", "reason",
    }  # fmt: skip
    assert version["source"] == "batch" and version["row"] == 9
    assert red_cross["current"]["source"] == "report" and red_cross["current"]["value"] == 7


def test_acceptance_a_proof_verifies_and_a_correction_shows_both_versions(
    served: Served, http: httpx.Client, tmp_path: Path
) -> None:
    path = "/v1/outbreak/figures/KR/2020-01-24/confirmed"
    proof = get(http, f"{path}/proof")
    assert proof["verdict"]["valid"] is True, proof["verdict"]
    assert proof["figure"]["value"] == 2 and proof["figure"]["version"] == 1
    raw = http.get(f"{path}/proof", params={"format": "cbor"})
    assert raw.headers["content-type"] == "application/cbor"
    assert base64.b64decode(proof["bundle"]) == raw.content
    assert verify_figure(raw.content, served.genesis).valid  # offline, genesis only
    batch = proof["verdict"]["facts"]["root"]
    correct(
        served.client,
        MINISTRY,
        region="KR",
        date="2020-01-24",
        figures={"confirmed": (3, "cumulative")},
        reason="one case reclassified from 2020-01-25",
        batch=batch,
    )
    body = get(http, path)
    (entry,) = body["reporters"]
    assert [(v["version"], v["value"], v["reason"]) for v in entry["versions"]] == [
        (1, 2, ""),
        (2, 3, "one case reclassified from 2020-01-25"),
    ]
    assert entry["corrected"] is True and entry["current"]["version"] == 2
    for number, value in ((1, 2), (2, 3)):
        bundle = http.get(f"{path}/proof", params={"format": "cbor", "version": number}).content
        verdict = verify_figure(bundle, served.genesis)
        assert verdict.valid and verdict.facts["figure"]["value"] == value
    verdict = http.post("/v1/outbreak/verify", json={"bundle": proof["bundle"]}).json()
    assert verdict["valid"] is True
    bad = bytearray(raw.content)
    bad[len(bad) // 3] ^= 0x04
    tampered = http.post(
        "/v1/outbreak/verify", content=bytes(bad), headers={"content-type": "application/cbor"}
    ).json()
    assert tampered["valid"] is False and tampered["step"] == "decode"


def test_downloads_give_jhu_csv_and_json(http: httpx.Client) -> None:
    csv = http.get("/v1/outbreak/download/time_series_covid19_deaths_US.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    # The county file's rows come back as imported, now running on to 2021-03-22, the
    # date of the daily report that also gave New York City's deaths.
    original = (DATA / "time_series_covid19_deaths_US.csv").read_text().splitlines()
    lines = csv.text.splitlines()
    assert len(lines) == len(original)
    assert all(line.startswith(old) for line, old in zip(lines, original, strict=True))
    assert lines[0].endswith(",3/22/21") and lines[2].endswith(",10398")
    assert "attachment" in csv.headers["content-disposition"]
    daily = http.get("/v1/outbreak/download/03-22-2021.csv")
    assert daily.text == (DATA / "03-22-2021.csv").read_text()
    document = get(http, "/v1/outbreak/download/time_series_covid19_confirmed_global.json")
    assert document["salus_outbreak"] == 1 and document["format"] == "jhu-global-ts"
    assert {row["region"] for row in document["rows"]} >= {"FR", "KR", "CN-HB"}


def test_batches_and_reporters(served: Served, http: httpx.Client) -> None:
    page = get(http, "/v1/outbreak/batches", limit=2)
    assert len(page["batches"]) == 2 and page["next"] == page["batches"][1]["seq"]
    first = page["batches"][0]
    assert first["status"] == "indexed" and first["source"] == CONFIRMED
    assert get(http, f"/v1/outbreak/batches/{first['root']}")["rows"] == 14
    scopes = get(http, "/v1/outbreak/reporters/red-cross")
    assert list(scopes["regions"]) == ["FR"]


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        ("/v1/outbreak/regions/Narnia", 400, "path parameter 'region'"),
        ("/v1/outbreak/regions/ZZ/series", 400, "not an ISO 3166-1 alpha-2"),
        ("/v1/outbreak/regions/DE", 404, "no figures are indexed for region DE"),
        ("/v1/outbreak/regions/FR/series?metric=cases", 400, "query parameter 'metric'"),
        ("/v1/outbreak/regions/FR/series?reporter=nobody", 404, "nobody reported no"),
        ("/v1/outbreak/regions/FR/series?metric=tests", 404, "no tests figures"),
        ("/v1/outbreak/figures/FR/2020-13-01/confirmed", 400, "is not a calendar date"),
        ("/v1/outbreak/figures/FR/2020-01-24/cases", 400, "path parameter 'metric'"),
        ("/v1/outbreak/figures/FR/2019-01-24/confirmed", 404, "no confirmed figure of FR"),
        ("/v1/outbreak/figures/FR/2020-01-24/confirmed/proof?version=9", 404, "not 9"),
        ("/v1/outbreak/figures/FR/2020-01-24/confirmed/proof?version=0", 400, "version"),
        ("/v1/outbreak/figures/FR/2020-01-24/confirmed/proof?format=pdf", 400, "format"),
        ("/v1/outbreak/batches/xyz", 400, "64 lower-case hex"),
        (f"/v1/outbreak/batches/{'0' * 64}", 404, "no batch"),
        ("/v1/outbreak/batches?limit=0", 400, "limit"),
        ("/v1/outbreak/reporters/nobody", 404, "holds no reporting scope"),
        ("/v1/outbreak/reporters/no body", 400, "no spaces"),
        ("/v1/outbreak/regions?parent=Atlantis", 400, "query parameter 'parent'"),
        ("/v1/outbreak/download/report.xlsx", 404, "no download"),
        ("/v1/outbreak/download/time_series_covid19_cases_global.csv", 400, "metric 'cases'"),
        ("/v1/outbreak/download/13-45-2021.csv", 400, "filename"),
    ],
)
def test_bad_input_gets_a_clear_4xx(
    http: httpx.Client, path: str, status: int, fragment: str
) -> None:
    message = assert_error(http.get(path), status)
    assert fragment in message, message


def test_verify_refuses_unreadable_requests(http: httpx.Client) -> None:
    assert_error(http.post("/v1/outbreak/verify", json={"bundle": "%%%"}), 400, "invalid_base64")
    assert_error(http.post("/v1/outbreak/verify", json={}), 400)
    garbage = http.post("/v1/outbreak/verify", json={"bundle": "AAAA"}).json()
    assert garbage["valid"] is False and garbage["step"] == "decode"


def test_every_outbreak_route_is_documented(http: httpx.Client) -> None:
    spec = get(http, "/openapi.json")
    paths = {p for p in spec["paths"] if p.startswith("/v1/outbreak")}
    assert paths == {
        "/v1/outbreak/status", "/v1/outbreak/regions", "/v1/outbreak/regions/{region}",
        "/v1/outbreak/regions/{region}/series", "/v1/outbreak/totals",
        "/v1/outbreak/figures/{region}/{date}/{metric}",
        "/v1/outbreak/figures/{region}/{date}/{metric}/proof", "/v1/outbreak/verify",
        "/v1/outbreak/batches", "/v1/outbreak/batches/{root}",
        "/v1/outbreak/reporters/{subject}", "/v1/outbreak/download/{filename}",
    }  # fmt: skip
