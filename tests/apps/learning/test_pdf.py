"""The printable certificate: one page, the learner's name, a QR code with the short link."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import segno
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from salus.apps.learning.certificate import decode_package, encode_package
from salus.apps.learning.credentials import credential_hash
from salus.apps.learning.pdf import certificate_face, qr_payload, render_certificate_pdf
from tests.apps.learning.test_certificate import (
    ACCREDITOR,
    SCHOOL,
    SCHOOL_SIGNING,
    Net,
    issue,
    package,
)

VERIFY_URL = "https://node.example/verify/"


@pytest.fixture
def cert(tmp_path: Path) -> bytes:
    net = Net(tmp_path)
    net.ok(ACCREDITOR, "accredit_issuer", issuer=SCHOOL.did, name="Open School")
    net.ok(SCHOOL, "bind_key", key=SCHOOL_SIGNING.did)
    tokens, root, paths, start = issue(net, SCHOOL_SIGNING, 3)
    data = package(net, tokens, root, paths, 1, start)
    net.node.close()
    return data


def test_pdf_is_one_page_with_name_and_hash(cert: bytes) -> None:
    pdf = render_certificate_pdf(cert, learner_name=None, verify_url=VERIFY_URL)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    digest = credential_hash(decode_package(cert)["token"]).hex()
    assert "Learner 1" in text  # from the credential the learner holds
    assert digest in text.replace("\n", "")
    assert "First aid" in text and "Open School" in text
    assert "Credits" in text and "14 November 2023" in text
    assert reader.metadata is not None and reader.metadata.title == "First aid - Open School"


def test_learner_name_argument_wins_and_output_is_deterministic(cert: bytes) -> None:
    one = render_certificate_pdf(cert, learner_name="Zoë Müller-Łukasz", verify_url=VERIFY_URL)
    two = render_certificate_pdf(cert, learner_name="Zoë Müller-Łukasz", verify_url=VERIFY_URL)
    assert one == two
    text = PdfReader(io.BytesIO(one)).pages[0].extract_text()
    assert "Zoë Müller-?ukasz" in text  # Ł is outside Latin-1 and has no Latin-1 base


def test_qr_holds_the_short_link_because_the_package_is_too_big(cert: bytes) -> None:
    assert len(cert) > 2953  # more than one QR symbol can hold in byte mode
    digest = certificate_face(cert).credential_hash
    payload = qr_payload(cert, verify_url=VERIFY_URL)
    assert payload == f"{VERIFY_URL}#h={digest}"
    # Decode the very symbol the PDF draws, offline, with zxing-cpp.
    qr = segno.make(payload, error="l", micro=False, boost_error=False)
    out = io.BytesIO()
    qr.save(out, kind="png", scale=4)
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(out.getvalue())))
    assert [r.text for r in results] == [payload]


def test_a_small_package_goes_whole_into_the_qr(cert: bytes) -> None:
    data = decode_package(cert)
    tiny = encode_package(
        token=data["token"],
        issuer=data["issuer"],
        index=data["index"],
        count=data["count"],
        path=data["path"],
        proofs={name: b"" for name in ("batch", "issuer", "key", "status")},
    )
    assert qr_payload(tiny, verify_url=VERIFY_URL) == tiny
    assert render_certificate_pdf(tiny, learner_name=None, verify_url=VERIFY_URL).startswith(
        b"%PDF"
    )


def test_forged_credential_is_refused(cert: bytes) -> None:
    data = decode_package(cert)
    header, payload, signature = data["token"].split(".")
    forged = encode_package(
        **{
            **{k: v for k, v in data.items() if k != "salus_certificate"},
            "token": f"{header}.{payload}.{signature[:-2]}AA",
        }
    )
    with pytest.raises(ValueError, match="does not verify"):
        render_certificate_pdf(forged, learner_name=None, verify_url=VERIFY_URL)
    with pytest.raises(ValueError, match="is a map"):
        render_certificate_pdf(b"\x00", learner_name=None, verify_url=VERIFY_URL)
