"""The helpers the four Salus pages share (``/explorer/salus-page.js``): every page loads
them before its own script, none keeps its own copy, and they behave in a real browser."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from salus.api._routes_certificates import VERIFY_DIR
from salus.api._routes_dashboard import DASHBOARD_DIR
from salus.api._routes_mutual_aid import AID_DIR
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.web import STATIC_DIR
from tests.api.harness import Harness, running_node
from tests.web.test_explorer import CHROMIUM, CHROMIUM_ARGS

SHARED = STATIC_DIR / "salus-page.js"
SHARED_URL = "/explorer/salus-page.js"
# Each page: its directory, its own script, and the URL it is served at.
PAGES = {
    "explorer": (STATIC_DIR, "explorer.js", "/explorer/"),
    "verify": (VERIFY_DIR, "verify.js", "/verify/"),
    "dashboard": (DASHBOARD_DIR, "dashboard.js", "/dashboard/"),
    "aid": (AID_DIR, "aid.js", "/aid/"),
}
NAMESPACE = {
    "el",
    "byTestId",
    "ApiError",
    "api",
    "postJson",
    "problem",
    "short",
    "hash",
    "shortHash",
    "time",
    "fields",
    "verdictClass",
    "verdictLines",
    "verdictBox",
    "stepItem",
    "chartColours",
}


class _Scripts(HTMLParser):
    """Every <script> of a page: its src (None when inline) and whether it has a body."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[str | None, bool]] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append((dict(attrs).get("src"), False))
            self._inside = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside and data.strip():
            src, _ = self.scripts[-1]
            self.scripts[-1] = (src, True)


def _scripts(directory: Path) -> list[tuple[str | None, bool]]:
    parser = _Scripts()
    parser.feed((directory / "index.html").read_text(encoding="utf-8"))
    return parser.scripts


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_loads_the_shared_script_before_its_own(name: str) -> None:
    directory, own, _ = PAGES[name]
    scripts = _scripts(directory)
    # No inline script: the pages' CSP (script-src 'self') would block it.
    assert all(src and not body for src, body in scripts), f"{name} has an inline script"
    sources = [src for src, _ in scripts]
    assert sources.count(SHARED_URL) == 1, f"{name} does not load {SHARED_URL} once"
    assert sources.count(own) == 1, f"{name} does not load {own}"
    # Deferred scripts run in document order: the helpers must exist when the page runs.
    assert sources.index(SHARED_URL) < sources.index(own)
    assert '<script src="/explorer/salus-page.js" defer></script>' in (
        directory / "index.html"
    ).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_page_keeps_its_own_copy_of_the_helpers(name: str) -> None:
    directory, own, _ = PAGES[name]
    text = (directory / own).read_text(encoding="utf-8")
    assert "window.Salus" in text
    for copy in (r"function el\(", r"class ApiError\b", r"function api\(", r"function problem\("):
        assert not re.search(copy, text), f"{own} defines its own {copy}"


def test_the_shared_script_defines_the_namespace() -> None:
    text = SHARED.read_text(encoding="utf-8")
    match = re.search(r"window\.Salus = Object\.freeze\(\{(.*?)\}\);", text, re.S)
    assert match, "salus-page.js does not freeze window.Salus"
    names = {name.strip() for name in match.group(1).split(",") if name.strip()}
    assert names == NAMESPACE
    for name in NAMESPACE - {"ApiError"}:
        assert re.search(rf"\bfunction {name}\(", text), f"{name} is not defined"
    assert "class ApiError extends Error" in text
    # The same rules as the pages' own scripts: no markup from data, nothing from elsewhere.
    assert ".innerHTML" not in text and "eval(" not in text
    assert re.findall(r"https?://", text) == []


# -- served, and in a real browser --------------------------------------------------------


@pytest.fixture
def node(genesis: Genesis, validator: Signer, tmp_path: Path) -> Iterator[tuple[Harness, str]]:
    with running_node(genesis, validator, tmp_path) as harness:
        yield harness, str(harness.client.base_url).rstrip("/")


@pytest.fixture
def page() -> Iterator[Page]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page
            assert not errors, f"the page threw: {errors}"
        finally:
            browser.close()


def test_the_node_serves_the_shared_script_with_the_pages_policy(
    node: tuple[Harness, str],
) -> None:
    harness, _ = node
    response = harness.client.get(SHARED_URL)
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.text == SHARED.read_text(encoding="utf-8")


# Run in the explorer page; returns what each helper made, as plain data.
_PROBE = """async () => {
  const S = window.Salus;
  const out = { frozen: Object.isFrozen(S), names: Object.keys(S).sort() };
  const attrs = { text: "<b>x</b>", testid: "t", hidden: true, title: null, onclick: () => {} };
  const p = S.el("p", attrs, "a", 1, null, false, undefined, [S.el("i", {}, "b")]);
  out.el = p.outerHTML;
  out.byTestId = S.byTestId("view") === document.querySelector("#view");
  out.short = [S.short("0123456789abcdef0123456789abcdef"), S.short("abc"), S.short(7)];
  out.shortHash = S.shortHash("0123456789abcdef0123456789abcdef", 4, "h").outerHTML;
  out.time = [S.time(undefined), S.time(0, "zero").getAttribute("title"),
              S.time(0).getAttribute("datetime")];
  out.fields = S.fields([["A", "1", "a"], null, ["B", "2"]], "f").outerHTML;
  try {
    await S.api("/v1/txs/" + "0".repeat(64));
    out.api = "resolved";
  } catch (error) {
    out.api = [error instanceof S.ApiError, error.status, error.code, S.problem(error).textContent];
  }
  out.problem = S.problem(new Error("offline")).textContent;
  out.verdict = S.verdictBox({ valid: false, step: "signature", reason: "bad" }, "This").outerHTML;
  out.step = S.stepItem({ step: "key", result: "failed", name: "Key", detail: "why",
                          withResult: true }).outerHTML;
  out.colours = S.chartColours().axis.grid.width;
  return out;
}"""


@pytest.mark.browser
def test_the_helpers_in_a_real_browser(node: tuple[Harness, str], page: Page) -> None:
    _, base = node
    page.goto(f"{base}/explorer/")
    page.wait_for_function("() => window.Salus !== undefined")
    out = page.evaluate(_PROBE)
    assert out["frozen"] is True
    assert set(out["names"]) == NAMESPACE
    # Text stays text; null/false/undefined are left out; true is an empty attribute.
    assert out["el"] == '<p data-testid="t" hidden="">&lt;b&gt;x&lt;/b&gt;a1<i>b</i></p>'
    assert out["byTestId"] is True
    assert out["short"] == ["0123456789…abcdef", "abc", 7]
    assert out["shortHash"] == (
        '<code class="hash" title="0123456789abcdef0123456789abcdef" data-testid="h">'
        "0123…abcdef</code>"
    )
    assert out["time"] == ["—", "zero", "1970-01-01T00:00:00.000Z"]
    assert out["fields"] == (
        '<dl class="fields" data-testid="f">'
        '<div class="field"><dt>A</dt><dd data-testid="a">1</dd></div>'
        '<div class="field"><dt>B</dt><dd>2</dd></div></dl>'
    )
    assert out["api"][:3] == [True, 404, "not_found"]
    assert out["api"][3].endswith("(not_found)")
    assert out["problem"] == "offline"
    assert 'class="verdict verdict-invalid"' in out["verdict"]
    assert '<strong data-testid="verdict">invalid</strong>' in out["verdict"]
    assert '<code data-testid="verdict-step">signature</code>' in out["verdict"]
    assert '<p data-testid="verdict-reason">bad</p>' in out["verdict"]
    assert out["step"] == (
        '<li class="step failed" data-testid="step" data-step="key" data-result="failed">'
        '<span class="mark" aria-hidden="true">✗</span><span class="step-name">Key</span>'
        '<span class="step-result" data-testid="step-result">failed</span>'
        '<span class="step-detail">why</span></li>'
    )
    assert out["colours"] == 1
