"""POST /v1/learning/verify and the /verify/ page, in a real headless Chromium."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from salus.api import create_app
from salus.api._routes_certificates import certificates_router, mount_verify_page
from salus.apps.learning.certificate import decode_package, encode_package
from salus.apps.learning.credentials import credential_hash
from salus.node import FileBlobStore
from tests.api.harness import assert_error, serving
from tests.apps.learning.test_certificate import (
    ACCREDITOR,
    SCHOOL,
    SCHOOL_SIGNING,
    Net,
    issue,
    package,
)

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


class Served:
    def __init__(self, net: Net, base: str, client: httpx.Client, packages: list[bytes]) -> None:
        self.net = net
        self.base = base
        self.client = client
        self.packages = packages
        self.root = ""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    net = Net(tmp_path)
    net.ok(ACCREDITOR, "accredit_issuer", issuer=SCHOOL.did, name="Open School")
    net.ok(SCHOOL, "bind_key", key=SCHOOL_SIGNING.did)
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 3)
    packages = [package(net, tokens, root, paths, i, start) for i in range(3)]
    app = create_app(net.node, FileBlobStore(tmp_path / "blobs"))
    app.include_router(certificates_router(net.node))
    mount_verify_page(app)
    try:
        with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            s = Served(net, url, client, packages)
            s.root = root.hex()
            yield s
    finally:
        net.node.close()


def tampered(data: bytes) -> bytes:
    fields = {k: v for k, v in decode_package(data).items() if k != "salus_certificate"}
    header, payload, signature = fields["token"].split(".")
    changed = "A" if payload[40] != "A" else "B"
    fields["token"] = f"{header}.{payload[:40]}{changed}{payload[41:]}.{signature}"
    return encode_package(**fields)


def test_verify_api_three_ways_and_online_status(served: Served) -> None:
    data = served.packages[0]
    as_cbor = served.client.post(
        "/v1/learning/verify", content=data, headers={"Content-Type": "application/cbor"}
    )
    as_json = served.client.post(
        "/v1/learning/verify", json={"package": base64.b64encode(data).decode()}
    )
    as_file = served.client.post(
        "/v1/learning/verify", files={"package": ("cert.cbor", data, "application/cbor")}
    )
    for response in (as_cbor, as_json, as_file):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["offline"]["verdict"] == "valid"
        assert [s["step"] for s in body["offline"]["steps"]][-1] == "status"
        assert body["online"]["checked"] and body["online"]["status"] == "active"
        assert body["online"]["issuer_status"] == "accredited"
    assert as_cbor.json() == as_json.json() == as_file.json()

    # Revoked after the package was made: offline still valid, online revoked.
    served.net.ok(SCHOOL, "revoke", root=served.root, index_in_batch=0, reason="exam misconduct")
    body = served.client.post("/v1/learning/verify", files={"package": ("c", data)}).json()
    assert body["offline"]["verdict"] == "valid"
    assert body["online"]["status"] == "revoked"
    assert body["online"]["reason"] == (
        f"revoked at block {served.net.node.height}: exam misconduct"
    )

    bad = served.client.post(
        "/v1/learning/verify", content=tampered(data), headers={"Content-Type": "application/cbor"}
    ).json()
    assert (bad["offline"]["verdict"], bad["offline"]["step"]) == ("tampered", "signature")
    assert bad["online"]["checked"] is False
    garbage = served.client.post(
        "/v1/learning/verify", content=b"\x00", headers={"Content-Type": "application/cbor"}
    ).json()
    assert garbage["offline"]["step"] == "decode" and garbage["credential"] is None


def test_verify_api_bad_requests_are_4xx(served: Served) -> None:
    post = served.client.post
    assert_error(post("/v1/learning/verify", json={"package": "not base64!"}), 400)
    assert_error(post("/v1/learning/verify", json={}), 400)
    assert_error(post("/v1/learning/verify", json=[1]), 400)
    assert_error(
        post("/v1/learning/verify", content=b"x", headers={"Content-Type": "text/plain"}), 415
    )
    assert_error(
        post("/v1/learning/verify", content=b"", headers={"Content-Type": "application/cbor"}), 400
    )
    assert_error(post("/v1/learning/verify", files={"other": ("c", b"x")}), 400)
    assert_error(post("/v1/learning/verify", files={"package": ("c", b"")}), 400)
    assert_error(
        post(
            "/v1/learning/verify",
            content=b"--x\r\nbroken",
            headers={"Content-Type": "multipart/form-data; boundary=x"},
        ),
        400,
    )


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
def test_upload_valid_then_tampered(served: Served, page: Page, tmp_path: Path) -> None:
    base = served.base
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base) else external.append(r.url))
    good = tmp_path / "certificate.cbor"
    good.write_bytes(served.packages[1])
    bad = tmp_path / "tampered.cbor"
    bad.write_bytes(tampered(served.packages[1]))
    expected = credential_hash(decode_package(served.packages[1])["token"]).hex()

    page.goto(f"{base}/verify/#h={expected}")
    expect(page.get_by_test_id("expected-hash-value")).to_have_text(expected)
    page.get_by_test_id("package-file").set_input_files(str(good))
    page.get_by_test_id("verify-submit").click()
    expect(page.get_by_test_id("verdict")).to_have_text("valid")
    expect(page.get_by_test_id("verdict-step")).to_have_text("done")
    expect(page.get_by_test_id("step")).to_have_count(7)
    expect(page.locator('[data-testid="step"][data-result="passed"]')).to_have_count(7)
    expect(page.get_by_test_id("online-status")).to_have_text("active")
    expect(page.get_by_test_id("hash-match")).to_contain_text("is the credential")
    page.screenshot(path=str(tmp_path / "verify-valid.png"), full_page=True)

    page.get_by_test_id("package-file").set_input_files(str(bad))
    page.get_by_test_id("verify-submit").click()
    expect(page.get_by_test_id("verdict")).to_have_text("tampered")
    expect(page.get_by_test_id("verdict-step")).to_have_text("signature")
    failed = page.locator('[data-testid="step"][data-result="failed"]')
    expect(failed).to_have_count(1)
    expect(failed).to_have_attribute("data-step", "signature")
    expect(page.get_by_test_id("online-status")).to_have_text("not checked")
    page.screenshot(path=str(tmp_path / "verify-tampered.png"), full_page=True)

    # Pasting base64 works too, and a revoked credential shows up as revoked online.
    served.net.ok(SCHOOL, "revoke", root=served.root, index_in_batch=1, reason="exam misconduct")
    page.get_by_test_id("verify-reset").click()
    page.get_by_test_id("package-text").fill(base64.b64encode(served.packages[1]).decode())
    page.get_by_test_id("verify-submit").click()
    expect(page.get_by_test_id("online-status")).to_have_text("revoked")
    expect(page.get_by_test_id("online-reason")).to_contain_text("exam misconduct")
    expect(page.get_by_test_id("verdict")).to_have_text("valid")
    page.screenshot(path=str(tmp_path / "verify-revoked.png"), full_page=True)
    assert external == []
