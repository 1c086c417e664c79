"""A printable one-page PDF of a certificate, with a QR code to check it.

Rules this module obeys:
- Bytes in, bytes out: no clock, no randomness, no network. The only files it reads are
  fonts (the bundled DejaVu Sans, and fallback fonts the caller names). The PDF's
  creation date is the credential's issuance date, so fixed inputs give byte-identical
  output.
- What is printed comes from the credential the learner holds (the VC-JWT inside the
  package), never from the ledger: the ledger holds only the credential's hash.
- The QR code (issue #5, "For people") holds the credential itself when one QR symbol
  can (byte mode, error correction L, version 40 at most: 2,953 bytes), as the link
  ``<verify_url>#vc=<VC-JWT>``: a phone's camera app opens the verification page, which
  checks the credential at once (the fragment never reaches a server's logs; the page
  posts it to the node). A typical Salus VC-JWT is 2.2 to 2.7 KB (QR version 35 to 39);
  when the link does not fit, the QR holds the short link
  ``<verify_url>#h=<credential hash hex>``, whose page shows what the ledger knows of
  that hash, and the hash is printed under the code. A whole package (~5.6 KB, with its
  four proof bundles) never fits. Module size is kept at 0.38 mm or more so a phone
  can read even a version-39 symbol off paper.
- Text is set in DejaVu Sans (bundled: Latin, Greek, Cyrillic, Arabic, Hebrew and
  more); characters it lacks (Chinese, Japanese, Korean...) come from fallback fonts,
  by default the CJK fonts of Debian packages when installed (:data:`SYSTEM_FALLBACK_FONTS`).
  Arabic letters are joined and right-to-left text ordered by :mod:`.pdf_text`. Text
  no font can show, or that needs a shaping engine, raises :class:`UnprintableText`
  naming the characters: a name is never printed wrongly, and never as ``?``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import segno
from fpdf import FPDF
from fpdf.fonts import TTFFont

from salus.apps.learning.certificate import decode_package
from salus.apps.learning.credentials import credential_hash, verify_vc_jwt
from salus.apps.learning.pdf_text import (
    UnprintableText,
    display_text,
    missing_glyphs,
    unshapable,
)
from salus.errors import SalusError

__all__ = [
    "FONT_DIR",
    "SYSTEM_FALLBACK_FONTS",
    "CertificateFace",
    "FallbackFont",
    "UnprintableText",
    "certificate_face",
    "installed_fallback_fonts",
    "qr_payload",
    "render_certificate_pdf",
]

FONT_DIR: Final = Path(__file__).parent / "fonts"
_FONTS: Final = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
_FAMILY: Final = "dejavu"
# Error correction L: the most data per symbol (7% recovery), so a VC-JWT fits.
_QR_ERROR: Final = "l"
_QR_MODULE_MM: Final = 0.38
_QR_MIN_MM: Final = 40.0
_QR_MAX_MM: Final = 70.0
_QR_QUIET: Final = 4  # modules of white border (ISO/IEC 18004 §6.3.8)
_PAGE_W: Final = 297.0  # A4 landscape, millimetres
_PAGE_H: Final = 210.0


@dataclass(frozen=True, slots=True)
class FallbackFont:
    """A font for the characters DejaVu Sans lacks; ``index`` picks a face of a collection."""

    regular: Path
    bold: Path | None = None
    index: int = 0


_NOTO_CJK: Final = Path("/usr/share/fonts/opentype/noto")
# Debian packages' CJK fonts, best first. Noto Sans CJK face 2 is the Simplified Chinese
# one; every face covers all CJK ideographs, Kana and Hangul.
SYSTEM_FALLBACK_FONTS: Final = (
    FallbackFont(_NOTO_CJK / "NotoSansCJK-Regular.ttc", _NOTO_CJK / "NotoSansCJK-Bold.ttc", 2),
    FallbackFont(Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")),
    FallbackFont(Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")),
    FallbackFont(Path("/usr/share/fonts/truetype/arphic/uming.ttc")),
)


def installed_fallback_fonts() -> tuple[FallbackFont, ...]:
    """Those of :data:`SYSTEM_FALLBACK_FONTS` installed on this machine."""
    return tuple(font for font in SYSTEM_FALLBACK_FONTS if font.regular.is_file())


@functools.lru_cache(maxsize=16)
def _code_points(path: Path, index: int) -> frozenset[int]:
    """The code points a font maps to glyphs, as fpdf2 reads them (cached: a CJK font
    takes a third of a second to parse)."""
    probe = FPDF()
    try:
        probe.add_font("probe", "", str(path), collection_font_number=index)
    except Exception as exc:  # fpdf2 and fontTools raise many types for unreadable files
        raise UnprintableText(f"font {path} (face {index}) cannot be read: {exc}") from None
    font = probe.fonts["probe"]
    assert isinstance(font, TTFFont)
    font.ttfont.close()  # fpdf2 keeps the file open until output; the probe has none
    return frozenset(font.cmap)


@dataclass(frozen=True, slots=True)
class CertificateFace:
    """What the printed certificate says, read from the credential itself."""

    issuer_name: str
    achievement: str
    description: str | None
    learner_name: str | None
    learner_did: str | None
    issued_at_s: int
    credits: str | None
    result: str | None
    credential_id: str | None
    credential_hash: str
    token: str


def _learner_name(subject: dict[str, Any]) -> str | None:
    for identity in subject.get("identifier") or []:
        if (
            isinstance(identity, dict)
            and identity.get("identityType") == "name"
            and identity.get("hashed") is False
            and isinstance(identity.get("identityHash"), str)
        ):
            return str(identity["identityHash"])
    return None


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _result(subject: dict[str, Any]) -> str | None:
    parts = []
    for result in subject.get("result") or []:
        if isinstance(result, dict):
            words = [str(result[k]) for k in ("value", "status") if result.get(k) is not None]
            if words:
                parts.append(" - ".join(words))
    return "; ".join(parts) or None


def certificate_face(package: bytes) -> CertificateFace:
    """Read the printable facts from ``package``'s credential after checking its signature.

    Raises :class:`ValueError` for a package that does not decode or whose credential's
    signature fails (a PDF of a forged credential would lend it credibility). Whether the
    issuer is accredited and the credential anchored is the verifier's job, not this one's.
    """
    token = decode_package(package)["token"]
    try:
        verified = verify_vc_jwt(token)
    except SalusError as exc:
        raise ValueError(f"the package's credential does not verify: {exc.reason}") from None
    credential = verified.credential
    issuer = credential.get("issuer")
    issuer_name = issuer.get("name") if isinstance(issuer, dict) else None
    subject = credential.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    earned = subject.get("creditsEarned")
    description = achievement.get("description")
    return CertificateFace(
        issuer_name=str(issuer_name or verified.issuer),
        achievement=str(achievement.get("name") or credential.get("name") or "Achievement"),
        description=description if isinstance(description, str) else None,
        learner_name=_learner_name(subject),
        learner_did=verified.subject,
        issued_at_s=verified.issued_at_s,
        credits=None if earned is None else _number(earned),
        result=_result(subject),
        credential_id=credential.get("id"),
        credential_hash=credential_hash(token).hex(),
        token=token,
    )


def _check_verify_url(verify_url: str) -> None:
    parts = urlsplit(verify_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise ValueError(
            f"verify URL {verify_url!r} must be an http(s) URL without a '#' fragment, "
            "e.g. https://node.example/verify/"
        )


def _qr(payload: str) -> segno.QRCode | None:
    try:
        return segno.make(payload, error=_QR_ERROR, mode="byte", micro=False, boost_error=False)
    except segno.DataOverflowError:
        return None


def _qr_of(face: CertificateFace, verify_url: str) -> tuple[str, segno.QRCode]:
    _check_verify_url(verify_url)
    whole = f"{verify_url}#vc={face.token}"
    qr = _qr(whole)
    if qr is not None:
        return whole, qr
    short = f"{verify_url}#h={face.credential_hash}"
    qr = _qr(short)
    assert qr is not None, "a URL plus a hash always fits in a QR symbol"
    return short, qr


def qr_payload(package: bytes, *, verify_url: str) -> str:
    """What the QR code holds: ``<verify_url>#vc=<VC-JWT>`` if one symbol can hold it,
    else ``<verify_url>#h=<credential hash>``. Raises :class:`ValueError` for a bad
    package or a ``verify_url`` that is not an http(s) URL without a fragment."""
    return _qr_of(certificate_face(package), verify_url)[0]


class _Sheet(FPDF):
    """An A4 landscape page whose text goes through :func:`display_text`."""

    def __init__(self, fallbacks: Sequence[FallbackFont]) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        for style, path in _FONTS.items():
            self.add_font(_FAMILY, style, str(path))
        names = []
        for n, font in enumerate(fallbacks):
            name = f"fallback{n}"
            self.add_font(name, "", str(font.regular), collection_font_number=font.index)
            if font.bold is not None and font.bold.is_file():
                self.add_font(name, "B", str(font.bold), collection_font_number=font.index)
            names.append(name)
        if names:
            # Not exact: a fallback without a bold face still serves bold text.
            self.set_fallback_fonts(names, exact_match=False)

    def write_centred(
        self, y: float, text: str, *, size: float, style: str = "", min_size: float = 7
    ) -> None:
        """One line centred across the page, shrunk (then cut with an ellipsis) to fit."""
        self.fit_cell(20, y, _PAGE_W - 40, text, size=size, style=style, min_size=min_size)

    def fit_cell(
        self,
        x: float,
        y: float,
        width: float,
        text: str,
        *,
        size: float,
        style: str = "",
        min_size: float = 7,
        align: str = "C",
        family: str = _FAMILY,
    ) -> None:
        shown = display_text(text)
        self.set_font(family, style, size)
        while self.get_string_width(shown) > width and size > min_size:
            size = max(min_size, size - 0.5)
            self.set_font(family, style, size)
        if self.get_string_width(shown) > width:
            while shown and self.get_string_width(shown + "…") > width:
                shown = shown[:-1]
            shown += "…"
        self.set_xy(x, y)
        self.cell(width, size * 0.5, shown, align=align)


def _check_printable(texts: Sequence[str], fallbacks: Sequence[FallbackFont]) -> None:
    """Refuse text needing a shaping engine, or holding characters no font has."""
    joined = "".join(texts)
    scripts = unshapable(joined)
    if scripts:
        raise UnprintableText(
            f"the certificate's text is in {', '.join(scripts)} script, which needs a text "
            "shaping engine this PDF writer lacks; give the name in another script"
        )
    glyphs = [_code_points(_FONTS[""], 0)]
    glyphs += [_code_points(font.regular, font.index) for font in fallbacks]
    # Arabic presentation forms are only used when a font has them (see pdf_text).
    shown = "".join(display_text(t, lambda c: any(ord(c) in g for g in glyphs)) for t in texts)
    missing = missing_glyphs(shown, glyphs)
    if missing:
        where = (
            "the bundled DejaVu Sans nor the fallback font(s) "
            + ", ".join(str(f.regular) for f in fallbacks)
            if fallbacks
            else "the bundled DejaVu Sans, and no fallback font is installed"
        )
        raise UnprintableText(
            f"no font can print {''.join(missing)!r} "
            f"({', '.join(f'U+{ord(c):04X}' for c in missing)}): not in {where}. "
            "For Chinese, Japanese or Korean install Debian's fonts-noto-cjk, "
            "or name a font that has them"
        )


def _draw_qr(pdf: FPDF, qr: segno.QRCode, x: float, y: float, size: float) -> None:
    """Draw the QR symbol as filled rectangles (one per horizontal run of dark modules)."""
    matrix = [list(row) for row in qr.matrix]
    step = size / (len(matrix) + 2 * _QR_QUIET)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(
                    x + (_QR_QUIET + start) * step,
                    y + (_QR_QUIET + r) * step,
                    (c - start) * step,
                    step,
                    "F",
                )
            else:
                c += 1


def render_certificate_pdf(
    package: bytes,
    *,
    learner_name: str | None,
    verify_url: str,
    fallback_fonts: Sequence[FallbackFont] | None = None,
) -> bytes:
    """A printable one-page A4 certificate of ``package`` with its QR code.

    ``learner_name`` overrides the name in the credential (for a learner whose copy
    has none); ``None`` prints the credential's own, or its learner DID if it has none.
    ``fallback_fonts`` serve characters DejaVu Sans lacks (default: the installed ones
    of :data:`SYSTEM_FALLBACK_FONTS`). Raises :class:`ValueError` as
    :func:`certificate_face` and :func:`qr_payload` do, and its subclass
    :class:`UnprintableText` for text no font can show faithfully.
    """
    if learner_name is not None and (not learner_name.strip() or not learner_name.isprintable()):
        raise ValueError("the learner's name must be printable text (no line breaks or tabs)")
    face = certificate_face(package)
    payload, qr = _qr_of(face, verify_url)
    issued = datetime.fromtimestamp(face.issued_at_s, UTC)
    name = learner_name or face.learner_name or face.learner_did or "(learner not named)"
    texts = [face.issuer_name, face.achievement, name, face.description or ""]
    texts += [face.credits or "", face.result or "", face.credential_id or ""]
    fonts = installed_fallback_fonts() if fallback_fonts is None else tuple(fallback_fonts)
    _check_printable(texts, fonts)
    # Only the fallback fonts this page needs are embedded (a CJK font is 20 MB to parse).
    base = _code_points(_FONTS[""], 0)
    needed = {ord(c) for c in "".join(display_text(t) for t in texts)} - base
    fonts = tuple(f for f in fonts if needed & _code_points(f.regular, f.index))

    pdf = _Sheet(fonts)
    pdf.set_creation_date(issued)
    pdf.set_title(f"{face.achievement} - {face.issuer_name}")
    pdf.set_author(face.issuer_name)
    pdf.set_creator("Salus")
    pdf.set_producer("Salus")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_page()

    pdf.set_draw_color(11, 110, 110)  # the explorer's accent colour
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, _PAGE_W - 16, _PAGE_H - 16)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, _PAGE_W - 22, _PAGE_H - 22)

    pdf.set_text_color(11, 110, 110)
    pdf.write_centred(22, face.issuer_name, size=16, style="B")
    pdf.set_text_color(29, 35, 48)
    pdf.write_centred(36, "Certificate of achievement", size=28, style="B")
    pdf.write_centred(52, "This certifies that", size=13)
    pdf.write_centred(62, name, size=26, style="B", min_size=12)
    pdf.write_centred(78, "has achieved", size=13)
    pdf.write_centred(88, face.achievement, size=20, style="B")
    if face.description:
        pdf.set_text_color(91, 100, 117)
        pdf.write_centred(100, face.description, size=11, min_size=9)
        pdf.set_text_color(29, 35, 48)

    modules = qr.symbol_size(scale=1, border=_QR_QUIET)[0]
    qr_size = min(_QR_MAX_MM, max(_QR_MIN_MM, modules * _QR_MODULE_MM))
    qr_x, qr_y = _PAGE_W - 24 - qr_size, 186.0 - qr_size
    text_w = qr_x - 34

    facts = [("Date", issued.strftime("%-d %B %Y"))]
    if face.credits is not None:
        facts.append(("Credits", face.credits))
    if face.result is not None:
        facts.append(("Result", face.result))
    y = 124.0
    for label, value in facts:
        pdf.fit_cell(30, y, 30, label, size=11, style="B", align="L")
        pdf.fit_cell(60, y, text_w - 30, value, size=11, align="L")
        y += 8
    pdf.set_text_color(91, 100, 117)
    if face.credential_id:
        pdf.fit_cell(30, y, text_w, f"Credential {face.credential_id}", size=8, align="L")
        y += 5
    pdf.set_font("courier", "", 6.5)
    pdf.set_xy(30, y)
    pdf.cell(text_w, 4, f"SHA-256 {face.credential_hash}", align="L")

    _draw_qr(pdf, qr, qr_x, qr_y, qr_size)
    pdf.set_text_color(29, 35, 48)
    caption_x, caption_w = qr_x - 25, qr_size + 35
    holds = "the credential" if "#vc=" in payload else "a link to its record"
    pdf.fit_cell(caption_x, qr_y - 5, caption_w, f"Scan to verify ({holds})", size=7)
    pdf.fit_cell(caption_x, qr_y + qr_size + 0.5, caption_w, f"or open {verify_url}", size=7)
    return bytes(pdf.output())
