"""The outbreak dashboard: its vendored files, and the page in a real headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from salus.api._routes_dashboard import DASHBOARD_DIR
from salus.apps.outbreak.contract import AUTHORITY
from salus.apps.outbreak.importing import correct, grant_scope, import_file, report
from salus.apps.outbreak.posts import import_posts, parse_posts, select_posts
from salus.cli.server import NodeServer
from salus.client import SalusClient
from salus.core.genesis import Genesis
from salus.demo._outbreak import demo_feed, jhu_global_series
from tests.support import genesis_data, key

ROOT = Path(__file__).resolve().parents[2]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)


def test_the_page_loads_nothing_from_another_origin() -> None:
    links = _Links()
    links.feed((DASHBOARD_DIR / "index.html").read_text(encoding="utf-8"))
    assert links.urls, "the parser found no links at all"
    for url in links.urls:
        assert not re.match(r"(?i)[a-z][a-z0-9+.-]*:|//", url), f"index.html loads {url}"
        if not url.startswith(("/", "#")):
            assert (DASHBOARD_DIR / url).is_file(), f"index.html names a missing file {url}"
    for name in ("dashboard.js", "dashboard.css"):
        text = (DASHBOARD_DIR / name).read_text(encoding="utf-8")
        # The one absolute URL is the SVG namespace name, which is never fetched.
        others = set(re.findall(r"https?://[^\s\"'`)]+", text)) - {"http://www.w3.org/2000/svg"}
        assert others == set(), f"{name} names {others}"
        assert "url(" not in text and "@import" not in text and ".innerHTML" not in text


# -- in a real browser -------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MINISTRY, RED_CROSS = key(1), key(3)
CORRECTED = ("FR", "2020-04-11", "confirmed")
CONFLICT = ("IT", "2020-04-21", "confirmed")
REASON = "late laboratory results from three regions added"


@dataclass
class Outbreak:
    url: str
    client: SalusClient
    http: httpx.Client
    batches: dict[str, str]

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def outbreak(tmp_path: Path) -> Iterator[Outbreak]:
    """A served node with two imported JHU files, a correction, a conflict and posts."""
    data = genesis_data(3)
    data["consortium"]["organisations"][0]["roles"] = ["admin", AUTHORITY]
    genesis = Genesis.from_data(data)
    server = NodeServer(genesis, key(9), tmp_path / "node", port=0, block_interval_ms=20)
    with server, SalusClient(server.url) as client, httpx.Client(base_url=server.url) as http:
        for member in (key(2), RED_CROSS):  # the consortium (2 of 3) scopes the ministry
            grant_scope(client, member, subject="health-ministry", region="*")
        grant_scope(client, MINISTRY, subject="red-cross", region="IT")
        confirmed, deaths = jhu_global_series()
        batches = {}
        for metric, text in (("confirmed", confirmed), ("deaths", deaths)):
            name = f"time_series_covid19_{metric}_global.csv"
            batches[metric] = import_file(client, MINISTRY, text.encode(), name).root
        served = Outbreak(server.url, client, http, batches)
        region, date, metric = CORRECTED
        was = served.get(f"/v1/outbreak/figures/{region}/{date}/{metric}")
        value = was["reporters"][0]["current"]["value"]
        correct(
            client,
            MINISTRY,
            region=region,
            date=date,
            figures={metric: (value + 1375, "cumulative")},
            reason=REASON,
            batch=batches[metric],
        )
        region, date, metric = CONFLICT
        report(
            client, RED_CROSS, region=region, date=date, figures={metric: (99_999, "cumulative")}
        )
        kept, _ = select_posts(parse_posts(demo_feed()).posts, ["coronavirus", "covid-19"])
        anchored, refused = import_posts(client, MINISTRY, [post for post, _ in kept])
        assert len(anchored) == 4 and refused == []
        # A member's post whose link is javascript: (review repro t7): listed, never a link.
        document = {"type": "salus.public-post", "version": 1, "source": "Red Cross",
                    "title": "Old post with a bad link", "summary": "", "guid": None,
                    "url": "javascript:alert(1)", "published": "2019-12-31T00:00:00Z"}  # fmt: skip
        digest = client.put_blob(json.dumps(document).encode())
        sent = client.send(
            RED_CROSS, "notary", "anchor", {"digest": digest, "note": "public post: x"}
        )
        assert client.wait_for(sent["id"])["status"] == "committed"
        yield served


@pytest.fixture
def page() -> Iterator[Page]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            yield page
            assert not errors, f"the page logged errors: {errors}"
        finally:
            browser.close()


def _open_series_table(page: Page) -> None:
    details = page.locator("details.series-table")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    expect(details).to_have_attribute("open", "")


def _number(value: int) -> str:
    return f"{value:,}"


@pytest.mark.browser
def test_dashboard_in_a_real_browser(outbreak: Outbreak, page: Page, tmp_path: Path) -> None:
    base = outbreak.url
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    totals = outbreak.get("/v1/outbreak/totals")
    top = outbreak.get("/v1/outbreak/regions")["regions"]

    page.goto(f"{base}/dashboard/#region=DE&metric=confirmed")
    expect(page.get_by_test_id("region-name")).to_have_text("Germany")
    expect(page.get_by_test_id("status-height")).to_have_text(str(totals["as_of"]))
    confirmed = page.get_by_test_id("total-confirmed").get_by_test_id("total-value")
    expect(confirmed).to_have_text(_number(totals["figures"]["confirmed"]["cumulative"]))
    # The map: every country with a figure coloured, the legend's seven classes drawn.
    coloured = sum(
        1 for r in top if r["level"] == "country" and r["figures"].get("confirmed") is not None
    )
    expect(page.get_by_test_id("map")).to_have_attribute("data-coloured", str(coloured))
    expect(page.get_by_test_id("legend-item")).to_have_count(7)
    expect(page.locator('[data-testid="map"] path.country.q6')).not_to_have_count(0)

    # Germany's chart: a canvas with one point per day that has a figure.
    series = outbreak.get("/v1/outbreak/regions/DE/series", metric="confirmed")
    days = sum(v is not None for v in series["cumulative"])
    chart = page.get_by_test_id("chart")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_have_attribute("data-points", str(days))
    page.get_by_test_id("view-avg7").check()
    expect(chart).to_have_attribute("data-view", "avg7")
    expect(chart).to_have_attribute("data-points", str(sum(v is not None for v in series["avg7"])))
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    # Sort the table by deaths; pick the top country with the keyboard.
    def deaths(region: dict[str, Any]) -> int:
        return int(region["figures"]["deaths"]["cumulative"])

    sort = page.get_by_test_id("sort-deaths")
    first_row = page.get_by_test_id("region-row").first
    sort.click()  # a numeric column sorts largest first, a second click smallest first
    expect(page.locator('th[aria-sort="ascending"]')).to_have_count(0)
    sort.click()
    expect(first_row).to_have_attribute("data-region", min(top, key=deaths)["region"])
    expect(page.locator('th[aria-sort="ascending"]')).to_have_count(1)
    sort.click()
    most = max(top, key=deaths)
    expect(first_row).to_have_attribute("data-region", most["region"])
    first_row.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("region-name")).to_have_text(most["name"])

    # A country listed by province only: open its regions and select one.
    china = page.locator('[data-testid="region-row"][data-region="CN"]')
    china.get_by_test_id("expand-region").click()
    page.locator('[data-testid="region-row"][data-region="CN-HB"]').click()
    expect(page.get_by_test_id("region-name")).to_have_text("Hubei")

    # A figure's provenance, verified.
    page.locator('[data-testid="region-row"][data-region="DE"]').click()
    expect(page.get_by_test_id("region-name")).to_have_text("Germany")
    page.locator('[data-testid="figure"][data-metric="confirmed"]').click()
    card = page.get_by_test_id("reporter-card")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("provenance-reporter")).to_contain_text("Health Ministry")
    expect(card.get_by_test_id("version")).to_have_count(1)
    card.get_by_test_id("verify-figure").click()
    expect(card.get_by_test_id("verdict")).to_have_text("valid")
    expect(card.locator('[data-testid="step"][data-result="passed"]')).to_have_count(4)
    expect(card.locator('[data-testid="step"][data-result="failed"]')).to_have_count(0)
    page.get_by_test_id("provenance").screenshot(path=str(tmp_path / "provenance.png"))

    # The same figure corrected while the page is open: it updates by itself, and the
    # provenance then shows both versions with the reason.
    button = page.locator('[data-testid="figure"][data-metric="confirmed"]')
    date = str(button.get_attribute("data-date"))
    before = outbreak.get(f"/v1/outbreak/figures/DE/{date}/confirmed")
    fixed = before["reporters"][0]["current"]["value"] + 25
    correct(
        outbreak.client,
        MINISTRY,
        region="DE",
        date=date,
        figures={"confirmed": (fixed, "cumulative")},
        reason="two laboratories reported late",
        batch=outbreak.batches["confirmed"],
    )
    expect(button).to_contain_text(_number(fixed), timeout=15_000)
    button.click()
    card = page.get_by_test_id("reporter-card")
    expect(card.get_by_test_id("version")).to_have_count(2)
    expect(card.get_by_test_id("version-value")).to_have_text([_number(fixed - 25), _number(fixed)])
    expect(card.get_by_test_id("version-reason")).to_have_text(
        "Reason: two laboratories reported late"
    )
    card.get_by_test_id("verify-figure").click()
    expect(card.get_by_test_id("verdict")).to_have_text("valid")
    page.get_by_test_id("provenance").screenshot(path=str(tmp_path / "provenance-corrected.png"))

    # The corrected figure: both versions, the reason, and the current one verifies.
    region, date, metric = CORRECTED
    page.get_by_test_id("region-search").fill("France (FR)")
    page.get_by_test_id("region-search").press("Enter")
    expect(page.get_by_test_id("region-name")).to_have_text("France")
    _open_series_table(page)
    page.locator(f'[data-testid="series-figure"][data-date="{date}"]').click()
    card = page.get_by_test_id("reporter-card")
    expect(card.get_by_test_id("version")).to_have_count(2)
    expect(card.get_by_test_id("version-reason")).to_have_text(f"Reason: {REASON}")
    expect(card.locator('[data-testid="version"][data-current="true"]')).to_have_attribute(
        "data-version", "2"
    )
    card.get_by_test_id("verify-figure").click()
    expect(card.get_by_test_id("verdict")).to_have_text("valid")
    # A corrected figure is proven by the ledger report the correction wrote.
    current = card.locator('[data-testid="version"][data-current="true"]')
    value = current.get_by_test_id("version-value").inner_text().replace(",", "")
    expect(card.get_by_test_id("verdict-reason")).to_contain_text(
        f"{metric} cumulative {value} for {region} on {date}"
    )
    expect(card.locator('[data-testid="step"][data-result="passed"]')).to_have_count(3)
    # The imported version it replaced still verifies: it is history, not a forgery.
    card.get_by_test_id("verify-version").click()
    expect(card.get_by_test_id("verdict")).to_have_text("valid")
    expect(card.get_by_test_id("verdict-reason")).to_contain_text("in time_series_covid19")
    expect(card.locator('[data-testid="step"][data-result="passed"]')).to_have_count(4)
    page.get_by_test_id("provenance").screenshot(path=str(tmp_path / "corrected.png"))

    # The conflicting figure: both reporters side by side.
    region, date, metric = CONFLICT
    page.goto(f"{base}/dashboard/#region={region}&metric={metric}")
    expect(page.get_by_test_id("region-name")).to_have_text("Italy")
    expect(page.get_by_test_id("chart-note")).to_contain_text("disagree on 1 day")
    _open_series_table(page)
    page.locator(f'[data-testid="series-figure"][data-date="{date}"]').click()
    expect(page.get_by_test_id("reporter-card")).to_have_count(2)
    expect(page.get_by_test_id("conflict-note")).to_contain_text("disagree")
    other = page.locator('[data-testid="reporter-card"][data-reporter="red-cross"]')
    expect(other.get_by_test_id("provenance-value")).to_have_text("99,999")
    other.get_by_test_id("verify-figure").click()
    expect(other.get_by_test_id("verdict")).to_have_text("valid")
    page.get_by_test_id("provenance").screenshot(path=str(tmp_path / "conflict.png"))

    # Public posts, newest first, each verifiable.
    posts = page.get_by_test_id("post")
    expect(posts).to_have_count(5)
    expect(posts.first.get_by_test_id("post-source")).to_have_text(
        "Health Ministry press office (demo)"
    )
    expect(posts.first.get_by_test_id("post-org")).to_have_text("Health Ministry")
    expect(posts.last.get_by_test_id("post-org")).to_have_text("Red Cross")
    expect(posts.last.get_by_test_id("post-link")).to_have_count(0)
    expect(posts.last.get_by_test_id("post-link-refused")).to_contain_text("not an http(s) URL")
    expect(page.locator('a[href^="javascript:"]')).to_have_count(0)
    posts.first.get_by_test_id("verify-post").click()
    expect(posts.first.get_by_test_id("verdict")).to_have_text("valid")
    expect(posts.first.locator('[data-testid="step"][data-result="passed"]')).to_have_count(2)
    page.screenshot(path=str(tmp_path / "dashboard-posts.png"), full_page=True)

    assert requests, "no request was recorded"
    outside = [url for url in requests if not url.startswith(f"{base}/")]
    assert outside == [], f"the dashboard fetched from elsewhere: {outside}"
