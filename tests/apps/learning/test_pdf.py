"""The printable certificate: names in many scripts, a QR code that holds the credential."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from pypdf import PdfReader
from pypdf.generic import ContentStream

from salus.apps.learning.certificate import decode_package, encode_package
from salus.apps.learning.credentials import (
    CredentialStatus,
    build_open_badge,
    credential_hash,
    encode_vc_jwt,
)
from salus.apps.learning.pdf import (
    FallbackFont,
    UnprintableText,
    installed_fallback_fonts,
    qr_payload,
    render_certificate_pdf,
)
from salus.apps.learning.pdf_text import display_text, join_arabic, unshapable
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


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def render(
    cert: bytes, name: str | None, fallback_fonts: list[FallbackFont] | None = None
) -> bytes:
    return render_certificate_pdf(
        cert, learner_name=name, verify_url=VERIFY_URL, fallback_fonts=fallback_fonts
    )


def test_pdf_is_one_page_with_name_and_hash(cert: bytes) -> None:
    pdf = render(cert, None)
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    digest = credential_hash(decode_package(cert)["token"]).hex()
    assert "Learner 1" in text  # from the credential the learner holds
    assert digest in text.replace("\n", "")
    assert "First aid" in text and "Open School" in text
    assert "Credits" in text and "14 November 2023" in text
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None and reader.metadata.title == "First aid - Open School"


def test_output_is_deterministic_and_the_name_argument_wins(cert: bytes) -> None:
    one = render(cert, "Zoë Müller-Łukasz")
    assert one == render(cert, "Zoë Müller-Łukasz")
    text = text_of(one)
    assert "Zoë Müller-Łukasz" in text and "Learner 1" not in text


@pytest.mark.parametrize(
    "name",
    [
        "Zoë Ødegård",
        "Łukasz Żółć",
        "Дмитрий Шостакович",
        "Αλέξανδρος Παπαδόπουλος",
        "Nguyễn Thị Minh",
    ],
)
def test_names_in_left_to_right_scripts_print_as_they_are(cert: bytes, name: str) -> None:
    assert name in text_of(render(cert, name, fallback_fonts=[]))


def test_arabic_is_joined_and_right_to_left(cert: bytes) -> None:
    text = text_of(render(cert, "محمد عبد الله", fallback_fonts=[]))
    # Each letter is in its joined form (pypdf reads right-to-left runs back into
    # logical order; the drawing order is display_text's, tested below).
    joined = "\ufee3\ufea4\ufee4\ufeaa \ufecb\ufe92\ufeaa \ufe8d\ufedf\ufee0\ufeea"
    assert joined in text
    assert unicodedata.normalize("NFKC", joined) == "محمد عبد الله"


def test_hebrew_is_right_to_left(cert: bytes) -> None:
    pdf = render(cert, "דוד כהן", fallback_fonts=[])
    assert "דוד כהן" in text_of(pdf)
    assert display_text("דוד כהן") == "ןהכ דוד"  # the order it is drawn in


def test_cjk_comes_from_a_fallback_font(cert: bytes, tmp_path: Path) -> None:
    font = FallbackFont(_square_font(tmp_path / "cjk-test.ttf", "王小明"))
    text = text_of(render(cert, "王小明", fallback_fonts=[font]))
    assert "王小明" in text.replace(" ", "")


def test_cjk_with_debians_noto_font_when_installed(cert: bytes) -> None:
    fonts = installed_fallback_fonts()
    if not fonts:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    text = text_of(render(cert, "王小明"))
    # pypdf reads a NUL before each glyph of a CFF-based CID font; poppler does not.
    assert "王小明" in text.replace(" ", "").replace("\x00", "")


def test_text_no_font_can_show_is_refused_by_name(cert: bytes) -> None:
    with pytest.raises(UnprintableText, match=r"U\+738B.*fonts-noto-cjk") as caught:
        render(cert, "王小明", fallback_fonts=[])
    assert "'王小明'" in str(caught.value)
    with pytest.raises(UnprintableText, match=r"Indic .*shaping"):
        render(cert, "देवनागरी", fallback_fonts=[])
    with pytest.raises(ValueError, match="printable"):
        render(cert, "Ada\nLovelace")


def test_a_long_name_is_shrunk_then_cut(cert: bytes) -> None:
    name = "Wolfeschlegelsteinhausenbergerdorff " * 6
    text = text_of(render(cert, name.strip(), fallback_fonts=[]))
    assert "Wolfeschlegelsteinhausenbergerdorff" in text and "…" in text


def test_qr_holds_the_credential_and_decodes_from_the_pdf(cert: bytes) -> None:
    token = decode_package(cert)["token"]
    payload = qr_payload(cert, verify_url=VERIFY_URL)
    assert payload == f"{VERIFY_URL}#vc={token}"
    assert 2000 < len(token) < 2953
    # Decode the very rectangles the PDF draws, offline, with zxing-cpp.
    (code,) = zxingcpp.read_barcodes(qr_image(render(cert, None)))
    assert code.text == payload


def test_a_credential_too_big_for_a_qr_gets_the_short_link(cert: bytes) -> None:
    data = decode_package(cert)
    signer = SCHOOL_SIGNING
    big = encode_vc_jwt(
        build_open_badge(
            credential_id="urn:uuid:00000000-0000-4000-8000-000000000009",
            issuer_did=signer.did,
            issuer_name="Open School",
            issued_at_s=1_700_000_000,
            achievement_id="https://school.example/courses/first-aid-101",
            achievement_name="First aid",
            achievement_description="; ".join(f"Learning outcome number {i}" for i in range(60)),
            criteria_narrative="Pass the practical assessment.",
            learner_did=data["issuer"],
            status=CredentialStatus("https://school.example/status/1", 9),
        ),
        signer,
    )
    fields = {k: v for k, v in data.items() if k != "salus_certificate"}
    package = encode_package(**{**fields, "token": big})
    digest = credential_hash(big).hex()
    assert qr_payload(package, verify_url=VERIFY_URL) == f"{VERIFY_URL}#h={digest}"
    pdf = render(package, None)
    (code,) = zxingcpp.read_barcodes(qr_image(pdf))
    assert code.text == f"{VERIFY_URL}#h={digest}"
    assert digest in text_of(pdf).replace("\n", "")


def test_verify_url_must_be_http_without_fragment(cert: bytes) -> None:
    for url in ("ftp://node.example/verify/", "https://node.example/verify/#x", "verify/"):
        with pytest.raises(ValueError, match="verify URL"):
            qr_payload(cert, verify_url=url)


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
        render(forged, None)
    with pytest.raises(ValueError, match="is a map"):
        render(b"\x00", None)


def test_arabic_joining_and_display_order() -> None:
    assert join_arabic("محمد") == "\ufee3\ufea4\ufee4\ufeaa"  # initial, medial, medial, final
    assert join_arabic("لا") == "\ufefb"  # the mandatory lam-alef ligature
    assert join_arabic("سلام") == "\ufeb3\ufefc\ufee1"
    assert join_arabic("Zoë") == "Zoë"
    # A form no font has stays the base letter.
    assert join_arabic("محمد", lambda c: c != "\ufea4") == "\ufee3ح\ufee4\ufeaa"
    assert display_text("Ali محمد 12") == "Ali 12 \ufeaa\ufee4\ufea4\ufee3"
    assert display_text("a\u200eb") == "ab"
    assert unshapable("Ada देव ខ្មែរ") == ["Indic (Devanagari to Sinhala)", "Khmer"]


def _square_font(path: Path, chars: str) -> Path:
    """A tiny TrueType font whose only glyphs are squares for ``chars`` (a stand-in CJK font)."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = [".notdef", *(f"uni{ord(c):04X}" for c in chars)]
    glyphs = {}
    for name in names:
        pen = TTGlyphPen(None)
        pen.moveTo((100, 0))
        pen.lineTo((100, 800))
        pen.lineTo((900, 800))
        pen.lineTo((900, 0))
        pen.closePath()
        glyphs[name] = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(c): f"uni{ord(c):04X}" for c in chars})
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (1000, 100) for name in names})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "Square Test", "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))
    return path


def qr_image(pdf: bytes, px_per_pt: float = 3.0) -> Image.Image:
    """The PDF's black rectangles (its QR code) drawn again with pillow, text left out."""
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    w, h = float(page.mediabox.width), float(page.mediabox.height)
    image = Image.new("L", (int(w * px_per_pt), int(h * px_per_pt)), 255)
    draw = ImageDraw.Draw(image)
    fill, rects = 0, []
    for operands, op in ContentStream(page.get_contents(), reader).operations:
        if op == b"rg":
            fill = 0 if all(float(v) == 0 for v in operands) else 255
        elif op == b"g":
            fill = 0 if float(operands[0]) == 0 else 255
        elif op == b"re":
            rects.append([float(v) for v in operands])
        elif op in (b"f", b"f*"):
            for x, y, rw, rh in rects:
                x0, x1 = sorted((x, x + rw))
                y0, y1 = sorted((h - y, h - y - rh))
                box = [x0 * px_per_pt, y0 * px_per_pt, x1 * px_per_pt - 1, y1 * px_per_pt - 1]
                draw.rectangle(box, fill=fill)
            rects = []
        elif op in (b"S", b"n", b"B"):
            rects = []
    return image
