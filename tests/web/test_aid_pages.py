"""The mutual-aid pages: served by the node with no other origin, and used in a real browser
against a node seeded with the demo plan."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from salus.api._routes_mutual_aid import AID_DIR
from salus.apps.mutual_aid.claims import CLAIM_TRANSITIONS
from salus.demo._mutual_aid import PLAN
from tests.api.mutual_aid_node import SeededDemo, seeded_demo

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
BASE = f"/v1/mutual-aid/plans/{PLAN}"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)


def test_the_pages_load_nothing_from_another_origin() -> None:
    links = _Links()
    links.feed((AID_DIR / "index.html").read_text(encoding="utf-8"))
    assert "/dashboard/vendor/uPlot.iife.min.js" in links.urls
    for url in links.urls:
        assert not re.match(r"(?i)[a-z][a-z0-9+.-]*:|//", url), f"index.html loads {url}"
        if not url.startswith(("/", "#")):
            assert (AID_DIR / url).is_file(), f"index.html names a missing file {url}"
    # The vendored chart library is the dashboard's, used by URL, not copied.
    assert not (AID_DIR / "vendor").exists()
    for name in ("aid.js", "aid.css"):
        text = (AID_DIR / name).read_text(encoding="utf-8")
        assert re.findall(r"https?://", text) == [], f"{name} names an absolute URL"
        assert "url(" not in text and "@import" not in text and ".innerHTML" not in text


def test_the_explorer_links_to_the_pages() -> None:
    explorer = (AID_DIR.parent / "static" / "index.html").read_text(encoding="utf-8")
    assert 'href="/aid/"' in explorer


# -- in a real browser -------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDemo]:
    with seeded_demo(tmp_path_factory.mktemp("aid-pages") / "demo") as served:
        yield served


def test_the_node_serves_the_pages_with_the_explorer_policy(seeded: SeededDemo) -> None:
    page = seeded.http.get("/aid/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert seeded.http.get("/aid", follow_redirects=False).status_code == 308
    for path in ("/aid/aid.js", "/aid/aid.css", "/dashboard/vendor/uPlot.iife.min.js"):
        assert seeded.http.get(path).status_code == 200, path


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


@pytest.mark.browser
def test_the_pages_in_a_real_browser(seeded: SeededDemo, page: Page, tmp_path: Path) -> None:
    base, record = seeded.url, seeded.record
    claims = record["claims"]
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    # The notice board: the claim in notice, its deadline and its objection's reason.
    page.goto(f"{base}/aid/")
    notice = page.get_by_test_id("notice-claim")
    expect(notice).to_have_count(1)
    expect(notice).to_have_attribute("data-claim", str(claims["in_notice"]))
    expect(notice.get_by_test_id("deadline")).to_contain_text("objections until")
    expect(notice.get_by_test_id("objection-reason")).to_have_text(
        "the claimant posted about running a marathon last week"
    )
    expect(page.get_by_test_id("investigation-count")).to_contain_text("1 claim(s)")
    outcomes = page.get_by_test_id("outcome")
    decided = [c for n, c in claims.items() if n not in ("in_notice", "investigation")]
    expect(outcomes).to_have_count(len(decided))
    jury_rejected = page.locator(f'[data-testid="outcome"][data-claim="{claims["jury_rejected"]}"]')
    expect(jury_rejected).to_contain_text("rejected: panel 1")
    page.screenshot(path=str(tmp_path / "board.png"), full_page=True)

    # A claim's history: every step with who and why, and its jury.
    jury_rejected.get_by_role("link").click()
    detail = page.get_by_test_id("claim-detail")
    expect(detail).to_be_visible()
    expect(detail.get_by_test_id("history-step")).to_have_count(5)
    expect(detail.locator('[data-status="jury_review"]')).to_contain_text("1 objection(s)")
    expect(detail.get_by_test_id("jury-tally")).to_contain_text("reject")
    expect(detail.get_by_test_id("juror")).to_have_count(5)
    detail.screenshot(path=str(tmp_path / "claim.png"))

    # The periods and the chart of the per-member share.
    page.get_by_test_id("tab-periods").click()
    chart = page.get_by_test_id("share-chart")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_have_attribute("data-points", str(len(record["periods"])))
    expect(page.get_by_test_id("period-row")).to_have_count(len(record["periods"]))
    page.screenshot(path=str(tmp_path / "periods.png"), full_page=True)

    # A member's statement, verified.
    member = record["statement_member"]
    page.get_by_test_id("tab-statement").click()
    page.get_by_test_id("member-did").fill(member)
    page.get_by_test_id("show-statement").click()
    periods = page.get_by_test_id("statement-period")
    expect(periods).to_have_count(len(record["periods"]))
    first = page.locator(f'[data-testid="statement-period"][data-period="{record["periods"][0]}"]')
    expect(first.get_by_test_id("statement-line")).to_have_count(3)
    expect(first.get_by_test_id("explain")).to_contain_text("members")
    first.get_by_test_id("verify-statement").click()
    expect(first.get_by_test_id("verdict")).to_have_text("valid")
    expect(first.locator('[data-testid="step"][data-result="passed"]')).to_have_count(4)
    expect(first.get_by_test_id("verdict-reason")).to_contain_text(f"{member} owes")
    page.screenshot(path=str(tmp_path / "statement.png"), full_page=True)

    # Rules (the Covid-19 change by proposal) and the claim state diagram.
    page.get_by_test_id("tab-rules").click()
    covid = page.locator('[data-testid="condition"][data-code="U07.1"]')
    expect(covid).to_contain_text("sponsor")
    expect(covid).to_contain_text(f"proposal {record['proposals']['covid']}")
    expect(page.get_by_test_id("rule-change")).to_have_count(2)
    page.get_by_test_id("tab-diagram").click()
    expect(page.get_by_test_id("transition")).to_have_count(len(CLAIM_TRANSITIONS))
    expect(page.get_by_test_id("mermaid")).to_contain_text("stateDiagram-v2")
    image = page.get_by_test_id("diagram-svg")
    expect(image).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", image.element_handle()) > 0
    page.screenshot(path=str(tmp_path / "diagram.png"), full_page=True)

    assert requests, "no request was recorded"
    outside = [url for url in requests if not url.startswith(f"{base}/")]
    assert outside == [], f"the pages fetched from elsewhere: {outside}"
    assert base.startswith("http://127.0.0.1:")
