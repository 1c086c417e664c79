"""Cohort CSV import: one row per learner's certificate, with a row-by-row error report.

Rules this module obeys:
- Pure: it parses text it is given; reading the file and issuing are the caller's.
- Never silent: every data row either becomes a :class:`CertificateRecord` or a
  :class:`RowError` naming its line number (as an editor shows it, header = line 1) and
  the reason. A row of a learner who did not pass is reported, not issued.

Columns (header row required, names case-insensitive, order free, unknown columns refused
so a typo is not ignored):

=====================  ========  ================================================================
``learner_did``        required  the learner's pseudonymous did:key
``learner_name``       optional  printed in the learner's credential only, never on the ledger
``course_id``          required  a course the issuer published
``passed``             required  true/false (also yes/no, 1/0)
``score``              optional  integer >= 0, with ``max_score``
``max_score``          optional  integer >= 1, with ``score``
``credits``            optional  ECTS credits earned (``5`` or ``2.5``; one decimal at most);
                                 default: the course's credits
``evidence_url``       optional  an http(s) URL of the evidence (portfolio, assessed work)
``evidence_narrative`` optional  a sentence describing the evidence
=====================  ========  ================================================================
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Final

from salus.apps.learning.issuance import CertificateRecord
from salus.core.genesis import check_did

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "CohortImport",
    "RowError",
    "drop_unknown_courses",
    "parse_cohort",
]

REQUIRED: Final = ("learner_did", "course_id", "passed")
COLUMNS: Final = (
    "learner_did",
    "learner_name",
    "course_id",
    "passed",
    "score",
    "max_score",
    "credits",
    "evidence_url",
    "evidence_narrative",
)
MAX_ROWS: Final = 100_000
_COURSE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_TRUE = frozenset({"true", "yes", "1", "y"})
_FALSE = frozenset({"false", "no", "0", "n"})


@dataclass(frozen=True, slots=True)
class RowError:
    """Why the row at ``line`` of the CSV is not issued."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class CohortImport:
    """The outcome of parsing: the good rows as records, each bad row as an error."""

    records: list[CertificateRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class _Bad(Exception):
    pass


def _int(text: str, name: str, low: int) -> int:
    if not re.fullmatch(r"[0-9]+", text):
        raise _Bad(f"{name} {text!r} is not a whole number")
    value = int(text)
    if value < low or value > 1_000_000:
        raise _Bad(f"{name} {value} is out of range ({low}..1000000)")
    return value


def _credits(text: str) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Bad(f"credits {text!r} is not a number") from None
    if not value.is_finite() or value < 0 or value > 1000:
        raise _Bad(f"credits {text!r} must be between 0 and 1000")
    tenths = value * 10
    if tenths != tenths.to_integral_value():
        raise _Bad(f"credits {text!r} has more than one decimal place")
    return int(tenths)


def _record(row: dict[str, str], line: int) -> CertificateRecord:
    missing = [name for name in REQUIRED if not row.get(name)]
    if missing:
        raise _Bad(f"missing {', '.join(missing)}")
    try:
        learner = check_did(row["learner_did"])
    except ValueError as exc:
        raise _Bad(f"learner_did: {exc}") from None
    course_id = row["course_id"]
    if not _COURSE.fullmatch(course_id):
        raise _Bad(f"course_id {course_id!r} must be 1-64 of [A-Za-z0-9._-]")
    passed_text = row["passed"].lower()
    if passed_text not in _TRUE | _FALSE:
        raise _Bad(f"passed {row['passed']!r} is not true or false")
    if passed_text in _FALSE:
        raise _Bad("the learner did not pass; no certificate is issued")
    score = _int(row["score"], "score", 0) if row.get("score") else None
    max_score = _int(row["max_score"], "max_score", 1) if row.get("max_score") else None
    if (score is None) != (max_score is None):
        raise _Bad("score and max_score go together")
    if score is not None and max_score is not None and score > max_score:
        raise _Bad(f"score {score} exceeds max_score {max_score}")
    url = row.get("evidence_url") or None
    if url is not None and not re.fullmatch(r"https?://\S+", url):
        raise _Bad(f"evidence_url {url!r} is not an http(s) URL")
    name = row.get("learner_name") or None
    if name is not None and len(name) > 200:
        raise _Bad("learner_name is longer than 200 characters")
    return CertificateRecord(
        learner_did=learner,
        course_id=course_id,
        passed=True,
        learner_name=name,
        score=score,
        max_score=max_score,
        credits=_credits(row["credits"]) if row.get("credits") else None,
        evidence_url=url,
        evidence_narrative=row.get("evidence_narrative") or None,
        line=line,
    )


def parse_cohort(text: str) -> CohortImport:
    """Parse cohort CSV ``text`` (see the module docstring for the columns).

    A header problem (missing required column, unknown column) is reported as an error on
    line 1 and no row is issued.
    """
    result = CohortImport()
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        result.errors.append(RowError(1, "the file is empty; expected a header row"))
        return result
    except csv.Error as exc:
        result.errors.append(RowError(1, f"unreadable CSV: {exc}"))
        return result
    names = [name.strip().lower() for name in header]
    unknown = [name for name in names if name not in COLUMNS]
    absent = [name for name in REQUIRED if name not in names]
    if unknown or absent or len(set(names)) != len(names):
        problems = []
        if absent:
            problems.append(f"missing column(s) {', '.join(absent)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        if len(set(names)) != len(names):
            problems.append("a column is named twice")
        result.errors.append(
            RowError(1, f"header: {'; '.join(problems)} (columns: {', '.join(COLUMNS)})")
        )
        return result
    seen: dict[tuple[str, str], int] = {}
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.errors.append(RowError(reader.line_num, f"unreadable CSV: {exc}"))
            break
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # a blank line is not a row
        if len(result.records) + len(result.errors) >= MAX_ROWS:
            result.errors.append(RowError(line, f"more than {MAX_ROWS} rows; the rest is unread"))
            break
        if len(cells) != len(names):
            result.errors.append(
                RowError(line, f"{len(cells)} cells where the header has {len(names)}")
            )
            continue
        row = {name: cell.strip() for name, cell in zip(names, cells, strict=True)}
        try:
            record = _record(row, line)
        except _Bad as bad:
            result.errors.append(RowError(line, str(bad)))
            continue
        pair = (record.learner_did, record.course_id)
        if pair in seen:
            result.errors.append(
                RowError(line, f"same learner and course as line {seen[pair]}; not issued twice")
            )
            continue
        seen[pair] = line
        result.records.append(record)
    return result


def drop_unknown_courses(cohort: CohortImport, published: Collection[str]) -> CohortImport:
    """``cohort`` with rows of courses not in ``published`` moved to the error report."""
    out = CohortImport(errors=list(cohort.errors))
    for record in cohort.records:
        if record.course_id in published:
            out.records.append(record)
        else:
            line = record.line if record.line is not None else 0
            out.errors.append(
                RowError(line, f"course {record.course_id!r} is not published by this issuer")
            )
    out.errors.sort(key=lambda error: error.line)
    return out
