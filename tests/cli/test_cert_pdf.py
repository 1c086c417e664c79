"""``salus cert pdf``: print a package, with names in any script, needing no node."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import zxingcpp
from click.testing import CliRunner, Result
from pypdf import PdfReader

from salus.apps.learning.certificate import decode_package
from salus.apps.learning.credentials import credential_hash
from salus.apps.learning.issuance import CertificateRecord, issue_batch
from salus.cli._cert import cert
from tests.apps.learning.test_issuance import (
    LEARNERS,
    SCHOOL,
    SCHOOL_SIGNING,
    served_node,
    setup_school,
)
from tests.apps.learning.test_pdf import _square_font, qr_image

VERIFY = "https://verify.example/verify/"


@pytest.fixture(scope="module")
def package_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("cert-pdf")
    with served_node(where) as served:
        setup_school(served.client)
        record = CertificateRecord(LEARNERS[0].did, "first-aid-101", learner_name="Ada L.")
        (package,) = issue_batch(served.client, SCHOOL, SCHOOL_SIGNING, [record])
    path = where / "ada.salus-cert"
    path.write_bytes(package)
    return path


def run(*args: str) -> Result:
    result = CliRunner().invoke(cert, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"salus cert {' '.join(args)} raised") from result.exception
    assert "Traceback" not in result.output
    return result


def test_pdf_prints_the_name_and_a_qr_code_to_verify(package_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "ada.pdf"
    result = run("pdf", str(package_file), "--name", "Αλέξανδρος Ødegård", "-o", str(out),
                 "--verify-url", VERIFY)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output and VERIFY in result.output
    text = PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text()
    assert "Αλέξανδρος Ødegård" in text and "Ada L." not in text
    token = decode_package(package_file.read_bytes())["token"]
    (code,) = zxingcpp.read_barcodes(qr_image(out.read_bytes()))
    # The credential itself when it fits in one QR symbol, else the short link.
    assert code.text in (f"{VERIFY}#vc={token}", f"{VERIFY}#h={credential_hash(token).hex()}")

    default = tmp_path / "default.pdf"
    result = run("pdf", str(package_file), "-o", str(default), "--node", "http://node.example:8080")
    assert result.exit_code == 0, result.output
    assert "http://node.example:8080/verify/" in result.output
    assert "Ada L." in PdfReader(io.BytesIO(default.read_bytes())).pages[0].extract_text()


def test_pdf_with_a_font_for_chinese(package_file: Path, tmp_path: Path) -> None:
    font = _square_font(tmp_path / "square.ttf", "王小明")
    out = tmp_path / "wang.pdf"
    result = run("pdf", str(package_file), "--name", "王小明", "--font", str(font), "-o", str(out))
    assert result.exit_code == 0, result.output
    text = PdfReader(io.BytesIO(out.read_bytes())).pages[0].extract_text()
    assert "王小明" in text.replace(" ", "")


def test_pdf_refuses_what_it_cannot_print(package_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    bad = tmp_path / "bad.salus-cert"
    bad.write_bytes(b"\x00")
    result = run("pdf", str(bad), "-o", str(out))
    assert result.exit_code == 2 and "cannot print" in result.output
    result = run("pdf", str(package_file), "--name", "देवनागरी", "-o", str(out))
    assert result.exit_code == 2 and "shaping" in result.output
    result = run("pdf", str(package_file), "--verify-url", "ftp://x/", "-o", str(out))
    assert result.exit_code == 2 and "verify URL" in result.output
    assert not out.exists()
