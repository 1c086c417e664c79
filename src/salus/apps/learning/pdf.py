"""A printable one-page PDF of a certificate, with a QR code to check it.

Rules this module obeys:
- Pure: bytes in, bytes out. No clock, no randomness, no files: the PDF's creation
  date is the credential's issuance date, so fixed inputs give byte-identical output.
- What is printed comes from the credential the learner holds (the VC-JWT inside the
  package), never from the ledger: the ledger holds only the credential's hash.
- The QR code (issue #5, "For people") holds the whole package when it fits in one QR
  symbol (byte mode, error correction L, version 40 at most: 2,953 bytes); a package
  with its four proof bundles does not, so the QR then holds the short link
  ``<verify_url>#h=<credential hash hex>`` and the hash is printed under it, so a
  reader can compare it with what the verification page shows.
- Only the 14 standard PDF fonts are used (no font files to ship); text outside
  Latin-1 is folded to its closest Latin-1 form (accents dropped), else ``?``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import segno
from fpdf import FPDF

from salus.apps.learning.certificate import decode_package
from salus.apps.learning.credentials import credential_hash, verify_vc_jwt
from salus.errors import SalusError

__all__ = ["CertificateFace", "certificate_face", "qr_payload", "render_certificate_pdf"]

# Error correction L: the most data per symbol; the short link leaves ample margin.
_QR_ERROR: Final = "l"
_PAGE_W: Final = 297.0  # A4 landscape, millimetres
_PAGE_H: Final = 210.0


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
    return CertificateFace(
        issuer_name=str(issuer_name or verified.issuer),
        achievement=str(achievement.get("name") or credential.get("name") or "Achievement"),
        description=achievement.get("description"),
        learner_name=_learner_name(subject),
        learner_did=verified.subject,
        issued_at_s=verified.issued_at_s,
        credits=None if earned is None else _number(earned),
        result=_result(subject),
        credential_id=credential.get("id"),
        credential_hash=credential_hash(token).hex(),
    )


def qr_payload(package: bytes, *, verify_url: str) -> bytes | str:
    """What the QR code holds: the whole package if one QR symbol can, else the short link."""
    try:
        segno.make(package, error=_QR_ERROR, micro=False, boost_error=False)
    except segno.DataOverflowError:
        return f"{verify_url}#h={certificate_face(package).credential_hash}"
    return package


def _latin1(text: str) -> str:
    """Text the standard PDF fonts can show: Latin-1, accents folded, else ``?``."""
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode()
            out.append(base or "?")
    return "".join(out)


class _Sheet(FPDF):
    def centred(self, y: float, text: str, *, size: float, style: str = "") -> None:
        self.set_font("helvetica", style, size)
        self.set_xy(20, y)
        self.cell(_PAGE_W - 40, size * 0.5, _latin1(text), align="C")


def _draw_qr(pdf: FPDF, payload: bytes | str, x: float, y: float, size: float) -> None:
    """Draw the QR symbol as filled rectangles (one per horizontal run of dark modules)."""
    qr = segno.make(payload, error=_QR_ERROR, micro=False, boost_error=False)
    matrix = [list(row) for row in qr.matrix]
    quiet = 4
    modules = len(matrix) + 2 * quiet
    step = size / modules
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
                    x + (quiet + start) * step,
                    y + (quiet + r) * step,
                    (c - start) * step,
                    step,
                    "F",
                )
            else:
                c += 1


def render_certificate_pdf(package: bytes, *, learner_name: str | None, verify_url: str) -> bytes:
    """A printable one-page A4 certificate of ``package`` with its QR code.

    ``learner_name`` overrides the name in the credential (for a learner whose copy
    has none); ``None`` prints the credential's own, or its learner DID if it has none.
    Raises :class:`ValueError` as :func:`certificate_face` does.
    """
    face = certificate_face(package)
    issued = datetime.fromtimestamp(face.issued_at_s, UTC)
    name = learner_name or face.learner_name or face.learner_did or "(learner not named)"
    payload = qr_payload(package, verify_url=verify_url)

    pdf = _Sheet(orientation="L", unit="mm", format="A4")
    pdf.set_creation_date(issued)
    pdf.set_title(_latin1(f"{face.achievement} - {face.issuer_name}"))
    pdf.set_author(_latin1(face.issuer_name))
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
    pdf.centred(24, face.issuer_name, size=16, style="B")
    pdf.set_text_color(29, 35, 48)
    pdf.centred(40, "Certificate of achievement", size=30, style="B")
    pdf.centred(58, "This certifies that", size=13)
    pdf.centred(68, name, size=26, style="B")
    pdf.centred(84, "has achieved", size=13)
    pdf.centred(94, face.achievement, size=20, style="B")
    if face.description:
        pdf.centred(106, face.description, size=11, style="I")

    facts = [("Date", issued.strftime("%-d %B %Y"))]
    if face.credits is not None:
        facts.append(("Credits", face.credits))
    if face.result is not None:
        facts.append(("Result", face.result))
    y = 124.0
    for label, value in facts:
        pdf.set_xy(30, y)
        pdf.set_font("helvetica", "B", 11)
        pdf.cell(30, 7, label)
        pdf.set_font("helvetica", "", 11)
        pdf.cell(150, 7, _latin1(value))
        y += 8
    if face.credential_id:
        pdf.set_xy(30, y)
        pdf.set_font("helvetica", "", 8)
        pdf.set_text_color(91, 100, 117)
        pdf.cell(150, 6, _latin1(f"Credential {face.credential_id}"))

    qr_size = 52.0
    qr_x, qr_y = _PAGE_W - 30 - qr_size, 116.0
    _draw_qr(pdf, payload, qr_x, qr_y, qr_size)
    pdf.set_text_color(29, 35, 48)
    pdf.set_font("helvetica", "", 7)
    pdf.set_xy(qr_x - 20, qr_y + qr_size)
    pdf.cell(qr_size + 40, 4, _latin1(f"Verify at {verify_url}"), align="C")
    if isinstance(payload, str):  # the short link: print the hash it names
        pdf.set_xy(qr_x - 20, qr_y + qr_size + 4)
        pdf.cell(qr_size + 40, 3.5, "SHA-256 of the credential:", align="C")
        pdf.set_font("courier", "", 6)
        pdf.set_xy(qr_x - 20, qr_y + qr_size + 7.5)
        pdf.cell(qr_size + 40, 3.5, face.credential_hash, align="C")
    return bytes(pdf.output())
