"""POST /v1/learning/verify and the /verify/ page, in a real headless Chromium.

The page reads a certificate from a file, pasted text, a photo of its QR code (decoded
in the browser by the vendored jsQR) or its own URL fragment (``#vc=`` / ``#h=``).
"""

from __future__ import annotations

import base64
import io
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import segno
from PIL import Image, ImageChops, ImageFilter, ImageOps
from playwright.sync_api import Page, expect, sync_playwright

from salus.api import create_app
from salus.api._routes_certificates import VERIFY_DIR
from salus.apps.learning.certificate import decode_package, encode_package
from salus.apps.learning.credentials import credential_hash
from salus.apps.learning.leaves import encode_leaves
from salus.apps.learning.pdf import render_certificate_pdf
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
from tests.apps.learning.test_pdf import qr_image

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

    def token(self, i: int) -> str:
        return str(decode_package(self.packages[i])["token"])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """Three certificates anchored with their leaf list in the node's blob store."""
    net = Net(tmp_path)
    net.ok(ACCREDITOR, "accredit_issuer", issuer=SCHOOL.did, name="Open School")
    net.ok(SCHOOL, "bind_key", key=SCHOOL_SIGNING.did)
    blobs = FileBlobStore(tmp_path / "blobs")
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 3, anchor_as=None)
    leaves = blobs.put(encode_leaves(tokens))
    net.ok(SCHOOL, "anchor_batch", root=root.hex(), count=3, key=SCHOOL_SIGNING.did, leaves=leaves)
    packages = [package(net, tokens, root, paths, i, start) for i in range(3)]
    try:
        with (
            serving(create_app(net.node, blobs)) as url,
            httpx.Client(base_url=url, timeout=30) as client,
        ):
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
def console_errors() -> list[str]:
    """What the page logs as errors; a test that expects one removes it."""
    return []


@pytest.fixture
def page(console_errors: list[str]) -> Iterator[Page]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            page = context.new_page()
            errors = console_errors
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


def changed(token: str) -> str:
    """The token with one character of its payload changed."""
    header, payload, signature = token.split(".")
    flip = "A" if payload[40] != "A" else "B"
    return f"{header}.{payload[:40]}{flip}{payload[41:]}.{signature}"


def photo_of(image: Image.Image, *, angle: float, seed: int) -> bytes:
    """A JPEG like a phone photo of ``image``: paper-coloured, turned, noisy, soft."""
    bbox = ImageOps.invert(image.convert("L")).getbbox()
    assert bbox is not None, "nothing drawn"
    margin = 80
    crop = image.convert("L").crop(
        (bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin)
    )
    paper = ImageOps.colorize(crop, black=(35, 32, 40), white=(236, 230, 214))
    turned = paper.rotate(
        angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(90, 80, 70)
    )
    shot = turned.resize(
        (int(turned.width * 0.85), int(turned.height * 0.85)), Image.Resampling.LANCZOS
    )
    rng = random.Random(seed)
    noise = Image.frombytes("L", shot.size, rng.randbytes(shot.width * shot.height))
    shot = Image.blend(shot, ImageChops.multiply(shot, Image.merge("RGB", [noise] * 3)), 0.12)
    shot = shot.filter(ImageFilter.GaussianBlur(0.7))
    out = io.BytesIO()
    shot.save(out, format="JPEG", quality=82)
    return out.getvalue()


def test_the_page_loads_the_vendored_decoder() -> None:
    """jsQR is a committed file (checked against its pin by tests/test_vendored_assets.py)."""
    assert (VERIFY_DIR / "vendor" / "jsQR.js").is_file()
    assert '<script src="vendor/jsQR.js" defer></script>' in (VERIFY_DIR / "index.html").read_text()


@pytest.mark.browser
def test_photo_of_the_printed_qr_code_gives_the_verdict(
    served: Served, page: Page, tmp_path: Path
) -> None:
    base = served.base
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base) else external.append(r.url))
    pdf = render_certificate_pdf(
        served.packages[0], learner_name="Ada", verify_url=f"{base}/verify/"
    )
    photo = tmp_path / "photo-of-certificate.jpg"
    photo.write_bytes(photo_of(qr_image(pdf, px_per_pt=5), angle=7, seed=1))

    page.goto(f"{base}/verify/")
    page.get_by_test_id("qr-photo").set_input_files(str(photo))
    expect(page.get_by_test_id("qr-status")).to_contain_text("holds the credential")
    expect(page.get_by_test_id("verdict")).to_have_text("valid", timeout=20_000)
    expect(page.locator('[data-testid="step"][data-result="passed"]')).to_have_count(7)
    expect(page.get_by_test_id("source")).to_contain_text("rebuilt its certificate package")
    expect(page.get_by_test_id("online-status")).to_have_text("active")
    expect(page.get_by_test_id("download-package")).to_be_visible()
    expect(page.get_by_test_id("credential-hash")).to_have_text(
        credential_hash(served.token(0)).hex()
    )
    page.screenshot(path=str(tmp_path / "verify-photo.png"), full_page=True)

    # A photo with no QR code in it says so.
    blank = tmp_path / "blank.png"
    Image.new("RGB", (400, 300), (240, 240, 240)).save(blank)
    page.get_by_test_id("qr-photo").set_input_files(str(blank))
    expect(page.get_by_test_id("qr-status")).to_contain_text("No QR code found")
    assert external == []


@pytest.mark.browser
def test_short_link_shows_the_ledgers_record(
    served: Served, page: Page, console_errors: list[str], tmp_path: Path
) -> None:
    digest = credential_hash(served.token(2)).hex()
    anchored = served.net.read(f"batch/{served.root}")["height"]
    page.goto(f"{served.base}/verify/#h={digest}")
    expect(page.get_by_test_id("expected-hash-value")).to_have_text(digest)
    expect(page.get_by_test_id("lookup-status")).to_have_text("active")
    expect(page.get_by_test_id("lookup-issuer-name")).to_have_text("Open School")
    expect(page.get_by_test_id("lookup-block")).to_have_text(str(anchored))
    expect(page.get_by_test_id("lookup-batch")).to_have_text(served.root)
    expect(page.get_by_test_id("lookup-notice")).to_contain_text("not a full verification")
    expect(page.get_by_test_id("lookup-notice")).to_contain_text(".salus-cert")
    expect(page.get_by_test_id("result")).to_be_hidden()
    page.screenshot(path=str(tmp_path / "verify-hash.png"), full_page=True)

    # Revoked since: the same link now says so, with the reason.
    served.net.ok(SCHOOL, "revoke", root=served.root, index_in_batch=2, reason="exam misconduct")
    page.reload()
    expect(page.get_by_test_id("lookup-status")).to_have_text("revoked")
    expect(page.get_by_test_id("lookup-reason")).to_contain_text("exam misconduct")

    # A picture of a short-link QR code dropped on the form does the same lookup.
    other = credential_hash(served.token(1)).hex()
    link = segno_png(f"{served.base}/verify/#h={other}")
    page.evaluate(
        """([data, name]) => {
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], name, { type: "image/png" }));
          const form = document.querySelector('[data-testid="verify-form"]');
          const drop = { dataTransfer: transfer, bubbles: true, cancelable: true };
          form.dispatchEvent(new DragEvent("drop", drop));
        }""",
        [base64.b64encode(link).decode(), "qr.png"],
    )
    expect(page.get_by_test_id("qr-status")).to_contain_text("credential's hash")
    expect(page.get_by_test_id("expected-hash-value")).to_have_text(other)
    expect(page.get_by_test_id("lookup-status")).to_have_text("active")

    page.goto(f"{served.base}/verify/#h={'0' * 64}")
    expect(page.get_by_test_id("lookup-status")).to_have_text("not found")
    expect(page.get_by_test_id("lookup-reason")).to_contain_text("leaf list")
    # Chromium logs every 404 answer; this one is the answer.
    console_errors.remove(
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    )


def segno_png(text: str) -> bytes:
    """A PNG of a QR code of ``text``, turned 12 degrees."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=6, border=4)
    turned = (
        Image.open(io.BytesIO(out.getvalue()))
        .convert("RGB")
        .rotate(12, expand=True, fillcolor=(255, 255, 255))
    )
    png = io.BytesIO()
    turned.save(png, format="PNG")
    return png.getvalue()


@pytest.mark.browser
def test_paste_a_bare_credential_then_one_changed_character(
    served: Served, page: Page, tmp_path: Path
) -> None:
    token = served.token(1)
    page.goto(f"{served.base}/verify/")
    page.get_by_test_id("package-text").fill(token)
    page.get_by_test_id("verify-submit").click()
    expect(page.get_by_test_id("verdict")).to_have_text("valid")
    expect(page.locator('[data-testid="step"][data-result="passed"]')).to_have_count(7)
    expect(page.get_by_test_id("online-status")).to_have_text("active")

    page.get_by_test_id("package-text").fill(changed(token))
    page.get_by_test_id("verify-submit").click()
    expect(page.get_by_test_id("verdict")).to_have_text("tampered")
    failed = page.locator('[data-testid="step"][data-result="failed"]')
    expect(failed).to_have_count(1)
    expect(failed).to_have_attribute("data-step", "signature")
    expect(page.get_by_test_id("download")).to_be_hidden()
    page.screenshot(path=str(tmp_path / "verify-pasted-tampered.png"), full_page=True)

    # What a phone's camera app opens from a QR code that holds the credential.
    page.goto(f"{served.base}/verify/#vc={token}")
    expect(page.get_by_test_id("verdict")).to_have_text("valid")
    expect(page.get_by_test_id("source")).to_contain_text("found it in batch")
