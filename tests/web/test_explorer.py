"""The ledger explorer in a real headless Chromium, against a real served node."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from tests.api.harness import MINISTRY, Harness, running_node

pytestmark = pytest.mark.browser

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


@pytest.fixture
def served(genesis: Genesis, validator: Signer, tmp_path: Path) -> Iterator[tuple[Harness, str]]:
    with running_node(genesis, validator, tmp_path) as harness:
        harness.populate()
        yield harness, str(harness.client.base_url).rstrip("/")


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


def test_block_transaction_and_state_proofs_verify(
    served: tuple[Harness, str], page: Page, tmp_path: Path
) -> None:
    harness, base = served
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base) else external.append(r.url))

    page.goto(f"{base}/explorer/")
    expect(page.get_by_test_id("status-chain-id")).to_have_text(harness.genesis.chain_id)
    expect(page.get_by_test_id("recent-txs").get_by_test_id("tx-row")).to_have_count(3)
    page.screenshot(path=str(tmp_path / "explorer-overview.png"), full_page=True)
    expect(page.get_by_test_id("status-height")).to_have_text("2")
    newest = page.get_by_test_id("block-link").first
    expect(newest).to_have_attribute("data-height", "2")

    # The latest block, its transactions, and one transaction's proof.
    newest.click()
    expect(page).to_have_url(f"{base}/explorer/#/block/2")
    expect(page.get_by_test_id("block-title")).to_have_text("Block 2")
    expect(page.get_by_test_id("block-tx-count")).to_have_text("2")
    rows = page.get_by_test_id("block-txs").get_by_test_id("tx-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("refused")
    page.screenshot(path=str(tmp_path / "explorer-block.png"), full_page=True)
    rows.first.get_by_test_id("tx-link").click()
    expect(page.get_by_test_id("tx-status")).to_have_text("committed")
    expect(page.get_by_test_id("tx-action")).to_have_text("identity.approve")
    expect(page.get_by_test_id("tx-events").get_by_test_id("event-row")).to_have_count(3)
    expect(page.get_by_test_id("proof-json")).to_contain_text('"kind": "tx"')
    page.get_by_test_id("verify-button").click()
    expect(page.get_by_test_id("verdict")).to_have_text("valid")
    expect(page.get_by_test_id("verdict-step")).to_have_text("done")
    page.get_by_test_id("tamper-button").click()
    expect(page.get_by_test_id("verdict")).to_have_text("invalid")
    expect(page.get_by_test_id("verdict-reason")).not_to_be_empty()
    page.screenshot(path=str(tmp_path / "explorer-tx.png"), full_page=True)

    # A state entry looked up through the form, with its proof.
    page.get_by_test_id("state-contract").fill("identity")
    page.get_by_test_id("state-key").fill("members")
    page.get_by_test_id("state-submit").click()
    expect(page).to_have_url(f"{base}/explorer/#/state/identity/members")
    expect(page.get_by_test_id("state-value")).to_contain_text("red-cross")
    page.get_by_test_id("state-proof-button").click()
    expect(page.get_by_test_id("proof-json")).to_contain_text('"kind": "state"')
    page.get_by_test_id("verify-button").click()
    expect(page.get_by_test_id("verdict")).to_have_text("valid")
    expect(page.get_by_test_id("verdict-reason")).to_contain_text("present")
    page.screenshot(path=str(tmp_path / "explorer-state.png"), full_page=True)

    # Linkable pages: events filtered by type, straight from the URL.
    page.goto(f"{base}/explorer/#/events?type=executed")
    expect(page.get_by_test_id("events-type")).to_have_value("executed")
    expect(page.get_by_test_id("event-row")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "explorer-events.png"), full_page=True)

    # A pending transaction's page, and the header, update themselves once it is in a block.
    threshold = {"kind": "set_threshold", "params": {"num": 1, "den": 2}}
    pending = harness.tx(MINISTRY, "propose", threshold)
    assert harness.submit(pending).status_code == 202
    page.goto(f"{base}/explorer/#/tx/{pending.id_hex}")
    expect(page.get_by_test_id("tx-status")).to_have_text("pending")
    harness.block()
    expect(page.get_by_test_id("tx-status")).to_have_text("committed", timeout=10_000)
    expect(page.get_by_test_id("status-height")).to_have_text("3", timeout=10_000)
    expect(page.get_by_test_id("block-link").first).to_have_attribute("data-height", "3")
    page.goto(f"{base}/explorer/#/nowhere%zz")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert external == [], f"the explorer fetched from elsewhere: {external}"
