"""Text for the printed certificate: Arabic letter joining, right-to-left order, glyph coverage.

Rules this module obeys:
- Pure: strings in, strings out (the glyph sets of the fonts arrive as arguments).
- fpdf2 draws one glyph per code point, left to right, unless its HarfBuzz shaping
  engine is on, which needs ``uharfbuzz`` (a compiled extension Salus does not ship).
  So this module does the two things names need and plain drawing lacks:

  1. *Arabic joining* (Unicode §9.2, "Arabic: cursive joining"): each Arabic-script
     letter becomes its isolated, final, initial or medial form from the Arabic
     Presentation Forms blocks (U+FB50..U+FDFF, U+FE70..U+FEFF: the compatibility
     characters whose decompositions are tagged ``<isolated>``, ``<final>``,
     ``<initial>``, ``<medial>``), read from Python's own ``unicodedata``; marks are
     transparent; lam + alef become the mandatory ligature. A form the fonts lack is
     left as the base letter.
  2. *Display order* (UAX #9, the Unicode Bidirectional Algorithm, as fpdf2 implements
     it in ``fpdf.bidi``) for a line with right-to-left characters, with rule L3's
     option applied: a combining mark is drawn after its right-to-left base.

- Scripts that need more than that (reordering of vowel signs, stacking: Indic,
  Southeast Asian, Tibetan, Mongolian, Syriac, N'Ko) are refused by
  :func:`unshapable`, as is any character no font has (:func:`missing_glyphs`):
  a certificate never prints a name wrongly or with ``?`` in it.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from collections.abc import Callable, Collection, Sequence
from typing import Final

from fpdf.bidi import BidiParagraph

__all__ = [
    "UnprintableText",
    "display_text",
    "join_arabic",
    "missing_glyphs",
    "unshapable",
]

_FORMS: Final = {"<isolated>": 0, "<final>": 1, "<initial>": 2, "<medial>": 3}
_LAM: Final = "\u0644"
_JOIN_CAUSING: Final = frozenset({"\u0640", "\u200d"})  # tatweel, zero width joiner
_RTL_CLASSES: Final = frozenset({"R", "AL"})
# Blocks whose scripts need a shaping engine (glyph reordering, conjuncts, stacking, or
# cursive joining without presentation forms), by first and last code point.
_COMPLEX_SCRIPTS: Final = (
    (0x0700, 0x074F, "Syriac"),
    (0x07C0, 0x07FF, "N'Ko"),
    (0x0900, 0x0DFF, "Indic (Devanagari to Sinhala)"),
    (0x0F00, 0x0FFF, "Tibetan"),
    (0x1000, 0x109F, "Myanmar"),
    (0x1780, 0x17FF, "Khmer"),
    (0x1800, 0x18AF, "Mongolian"),
    (0x1A20, 0x1AAF, "Tai Tham"),
    (0x1B00, 0x1B7F, "Balinese"),
    (0xA980, 0xA9DF, "Javanese"),
)


class UnprintableText(ValueError):
    """Raised when text cannot be printed faithfully with the fonts at hand."""


@functools.cache
def _arabic_tables() -> tuple[dict[str, tuple[str | None, ...]], dict[str, tuple[str | None, ...]]]:
    """(letter -> its 4 forms, alef -> the 4 forms of lam + that alef), from unicodedata."""
    letters: dict[str, list[str | None]] = {}
    lam_alef: dict[str, list[str | None]] = {}
    # Forms-B first: every Arabic font has it; Forms-A adds Persian, Urdu... letters.
    for cp in itertools.chain(range(0xFE70, 0xFF00), range(0xFB50, 0xFE00)):
        tag, _, rest = unicodedata.decomposition(chr(cp)).partition(" ")
        if tag not in _FORMS:
            continue
        chars = "".join(chr(int(part, 16)) for part in rest.split())
        if len(chars) == 1:
            slots = letters.setdefault(chars, [None] * 4)
        elif len(chars) == 2 and chars[0] == _LAM:
            slots = lam_alef.setdefault(chars[1], [None] * 4)
        else:
            continue  # other ligatures are optional (Unicode §9.2): drawn letter by letter
        if slots[_FORMS[tag]] is None:
            slots[_FORMS[tag]] = chr(cp)
    return (
        {k: tuple(v) for k, v in letters.items()},
        {k: tuple(v) for k, v in lam_alef.items()},
    )


def _joining(char: str, letters: dict[str, tuple[str | None, ...]]) -> str:
    """Joining type (Unicode ArabicShaping.txt): D dual, R right, C causing, T, U."""
    if char in _JOIN_CAUSING:
        return "C"
    forms = letters.get(char)
    if forms is None:
        return "T" if unicodedata.category(char) in ("Mn", "Me") else "U"
    return "D" if forms[2] or forms[3] else "R"


def join_arabic(text: str, has_glyph: Callable[[str], bool] = lambda _: True) -> str:
    """``text`` with each Arabic-script letter in its contextual presentation form."""
    letters, lam_alef = _arabic_tables()
    if not any(char in letters for char in text):
        return text
    kinds = [_joining(char, letters) for char in text]

    def neighbour(i: int, step: int) -> int | None:
        j = i + step
        while 0 <= j < len(text) and kinds[j] == "T":
            j += step
        return j if 0 <= j < len(text) else None

    out: list[str] = []
    i = 0
    while i < len(text):
        char, kind = text[i], kinds[i]
        if kind not in ("D", "R"):
            out.append(char)
            i += 1
            continue
        before, after = neighbour(i, -1), neighbour(i, 1)
        joins_before = before is not None and kinds[before] in ("D", "C")
        if char == _LAM and after is not None and text[after] in lam_alef:
            ligature = lam_alef[text[after]][1 if joins_before else 0]
            if ligature is not None and has_glyph(ligature):
                out.append(ligature)
                out.extend(text[i + 1 : after])  # marks between lam and alef
                i = after + 1
                continue
        joins_after = kind == "D" and after is not None and kinds[after] in ("D", "R", "C")
        slot = (3 if joins_after else 1) if joins_before else (2 if joins_after else 0)
        form = letters[char][slot]
        out.append(form if form is not None and has_glyph(form) else char)
        i += 1
    return "".join(out)


def display_text(text: str, has_glyph: Callable[[str], bool] = lambda _: True) -> str:
    """``text`` as fpdf2 must draw it, left to right: joined, in display order.

    Control and format characters (bidi marks, zero-width joiners) are dropped after
    they have done their work; a line with no right-to-left character is otherwise
    unchanged.
    """
    joined = join_arabic(text, has_glyph)
    visible = "".join(c for c in joined if unicodedata.category(c) not in ("Cc", "Cf"))
    if not any(unicodedata.bidirectional(c) in _RTL_CLASSES for c in visible):
        return visible
    ordered = BidiParagraph(visible).get_reordered_string()
    # UAX #9 L3: after reordering, marks precede their right-to-left base; fpdf2
    # places a mark over the glyph drawn before it, so put each such mark after its base.
    out: list[str] = []
    marks: list[str] = []
    for char in ordered:
        if unicodedata.category(char) in ("Mn", "Me"):
            marks.append(char)
            continue
        if marks and unicodedata.bidirectional(char) in _RTL_CLASSES:
            out.append(char)
            out.extend(marks)
        else:
            out.extend(marks)
            out.append(char)
        marks = []
    out.extend(marks)
    return "".join(out)


def unshapable(text: str) -> list[str]:
    """The scripts in ``text`` that need a shaping engine, by name, in order of appearance."""
    found: list[str] = []
    for char in text:
        for first, last, name in _COMPLEX_SCRIPTS:
            if first <= ord(char) <= last and name not in found:
                found.append(name)
    return found


def missing_glyphs(text: str, glyph_sets: Sequence[Collection[int]]) -> list[str]:
    """The characters of ``text`` that none of the fonts' code point sets holds (spaces
    and line breaks are never missing)."""
    missing: list[str] = []
    for char in text:
        if char.isspace() or char in missing:
            continue
        if not any(ord(char) in glyphs for glyphs in glyph_sets):
            missing.append(char)
    return missing
