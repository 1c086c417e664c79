"""Reading JHU CSSE COVID-19 files, tolerating their real quirks, reporting every loss.

Rules this module obeys:
- Pure: bytes in, :class:`ParsedFile` out (rows and an issue list); no I/O.
- Nothing is dropped silently. Every row or cell that is not imported gives an
  :class:`Issue` with ``action="skipped"``, its file row (the header is row 1), column
  and reason; every value that was read in a tolerated non-standard form gives one with
  ``action="converted"``; renamed headers and other observations give ``"note"``.
- A file that is not a JHU format at all (no Country/Region column, no dates, no figure
  columns) raises :class:`JhuFormatError` naming what is missing.

Formats (see docs/outbreak.md):

========================  ==================================================================
``jhu-global-ts``         ``time_series_covid19_<metric>_global.csv``: Province/State,
                          Country/Region, Lat, Long, then one column per date (M/D/YY)
``jhu-us-ts``             ``time_series_covid19_<metric>_US.csv``: UID, iso2, iso3, code3,
                          FIPS, Admin2, Province_State, Country_Region, Lat, Long_,
                          Combined_Key, [Population], dates
``jhu-daily``             ``MM-DD-YYYY.csv``: FIPS, Admin2, Province_State, Country_Region,
                          Last_Update, Lat, Long_, Confirmed, Deaths, Recovered, Active,
                          Combined_Key, Incident_Rate, Case_Fatality_Ratio (and the early
                          2020 variants: Province/State, Country/Region, Last Update, ...)
``salus-json``            the JSON export of :mod:`.export`
========================  ==================================================================

Quirks tolerated: a UTF-8 byte-order mark; CRLF line ends; Windows-1252 text (noted);
renamed headers (Long / Long_ / Longitude, Country/Region / Country_Region, Last Update /
Last_Update, Incidence_Rate, Case-Fatality_Ratio); 2- and 4-digit years and ISO dates in
date headers; Last_Update as ``1/22/2020 17:00``, ``1/31/20 23:59``,
``2020-02-01T19:53:03`` or ``2020-03-22 23:45:00``; counts written ``1,234`` or ``12.0``
(converted); FIPS written ``1001.0``. Skipped with a reason: empty cells, ``-``, text,
fractions, negative cumulative counts, rows without a known country or state, duplicated
regions (the first row wins), rows with more cells than the header, date columns before
:data:`EARLIEST_DATE` or after the latest date the ledger can take (a typo'd ``1/24/30``
or ``12/31/1999`` would otherwise stretch a batch over decades, or make the contract
refuse the whole file), and a second header naming a column already named (``Long`` and
``Long_``: the first wins, nothing is overwritten silently).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from salus.apps.outbreak.batches import Row, add_days, day_number
from salus.apps.outbreak.contract import MAX_VALUE, METRICS, check_date
from salus.apps.outbreak.regions import country_region, province_region, us_region
from salus.errors import EncodingError, SalusError

__all__ = [
    "DAILY_COLUMNS",
    "EARLIEST_DATE",
    "GLOBAL_TS_COLUMNS",
    "MAX_FILE_BYTES",
    "US_TS_COLUMNS",
    "Issue",
    "JhuFormatError",
    "ParsedFile",
    "Progress",
    "label_columns",
    "parse_count",
    "parse_file",
    "parse_last_update",
]

MAX_FILE_BYTES: Final = 256 << 20
# JHU CSSE's series start on 2020-01-22; the first cases were reported in December 2019.
EARLIEST_DATE: Final = "2019-12-01"
# Canonical label names (the newest JHU spelling) and the header each format writes.
GLOBAL_TS_COLUMNS: Final = ("Province_State", "Country_Region", "Lat", "Long_")
US_TS_COLUMNS: Final = (
    "UID", "iso2", "iso3", "code3", "FIPS", "Admin2", "Province_State", "Country_Region",
    "Lat", "Long_", "Combined_Key",
)  # fmt: skip
DAILY_COLUMNS: Final = (
    "FIPS", "Admin2", "Province_State", "Country_Region", "Last_Update", "Lat", "Long_",
    "Confirmed", "Deaths", "Recovered", "Active", "Combined_Key", "Incident_Rate",
    "Case_Fatality_Ratio",
)  # fmt: skip
_HEADER_ALIASES: Final = {
    "province/state": "Province_State",
    "province_state": "Province_State",
    "country/region": "Country_Region",
    "country_region": "Country_Region",
    "last update": "Last_Update",
    "last_update": "Last_Update",
    "lat": "Lat",
    "latitude": "Lat",
    "long": "Long_",
    "long_": "Long_",
    "longitude": "Long_",
    "confirmed": "Confirmed",
    "deaths": "Deaths",
    "recovered": "Recovered",
    "active": "Active",
    "fips": "FIPS",
    "admin2": "Admin2",
    "combined_key": "Combined_Key",
    "incident_rate": "Incident_Rate",
    "incidence_rate": "Incident_Rate",
    "case_fatality_ratio": "Case_Fatality_Ratio",
    "case-fatality_ratio": "Case_Fatality_Ratio",
    "uid": "UID",
    "iso2": "iso2",
    "iso3": "iso3",
    "code3": "code3",
    "population": "Population",
}
# Spellings current JHU files use; any other alias gets a note.
_STANDARD: Final = frozenset(
    {"Province/State", "Country/Region", "Lat", "Long", "Population"}
    | set(DAILY_COLUMNS)
    | set(US_TS_COLUMNS)
)
_DAILY_METRICS: Final = {"Confirmed": "confirmed", "Deaths": "deaths", "Recovered": "recovered"}
_DATE_HEADER = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TS_NAME = re.compile(
    r"time_series_(?:covid19_(?P<metric>[a-z]+)_(?:global|us)|19-covid-(?P<old>[a-z]+))",
    re.IGNORECASE,
)
_DAILY_NAME = re.compile(r"(\d{2})-(\d{2})-(\d{4})")
_PLAIN_INT = re.compile(r"[+-]?\d+")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+")
_WHOLE_DECIMAL = re.compile(r"([+-]?\d+)\.0*")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?\d+[eE][+-]?\d+")
_NO_VALUE = frozenset({"-", "--", "—", "n/a", "na", "null", "none", "nan", "#n/a"})
_LAST_UPDATE_FORMATS: Final = (
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%y %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
)

Progress = Callable[[int, int], None]
"""Called as ``progress(rows done, rows in the file)`` while a file is read."""


class JhuFormatError(EncodingError):
    """Raised when a file is not one of the JHU CSSE formats (or its JSON twin)."""

    code = "jhu_format"


@dataclass(frozen=True, slots=True)
class Issue:
    """Something about the file the import report must show.

    ``row`` is the file's row number (header = 1; ``None`` for the whole file),
    ``column`` the header name as written in the file.
    """

    row: int | None
    column: str | None
    value: str | None
    reason: str
    action: Literal["skipped", "converted", "note"]
    level: Literal["cell", "row", "column", "file"] = "cell"

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.column is not None:
            where += f", column {self.column!r}"
        shown = f"{self.value!r} " if self.value is not None else ""
        tail = f"; {self.level} skipped" if self.action == "skipped" else ""
        return f"{where}: {shown}{self.reason}{tail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
            "action": self.action,
            "level": self.level,
            "text": str(self),
        }


@dataclass(slots=True)
class ParsedFile:
    """The rows read from one file and everything the import report must say."""

    format: str
    source: str
    file_sha256: str
    rows: list[Row] = field(default_factory=list)
    row_lines: list[int] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    metric: str | None = None
    date: str | None = None
    rows_read: int = 0

    @property
    def figures(self) -> int:
        return sum(row.figure_count() for row in self.rows)

    @property
    def skipped(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.action == "skipped"]

    @property
    def converted(self) -> list[Issue]:
        return [issue for issue in self.issues if issue.action == "converted"]

    def summary(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "source": self.source,
            "file_sha256": self.file_sha256,
            "metric": self.metric,
            "date": self.date,
            "rows_read": self.rows_read,
            "rows": len(self.rows),
            "figures": self.figures,
            "skipped": len(self.skipped),
            "converted": len(self.converted),
        }


# --- cells ------------------------------------------------------------------------------


def parse_count(text: str, *, cumulative: bool) -> tuple[int | None, str | None, bool]:
    """Read one count cell: ``(value, reason, converted)``.

    ``value`` is ``None`` when the cell is not imported and ``reason`` says why;
    ``converted`` is true when the value was read from a tolerated form, and ``reason``
    then says how.
    """
    value = text.strip()
    converted = False
    if not value:
        return None, "empty", False
    if _PLAIN_INT.fullmatch(value):
        number = int(value)
    elif _THOUSANDS.fullmatch(value):
        number = int(value.replace(",", ""))
        converted = True
    elif (match := _WHOLE_DECIMAL.fullmatch(value)) is not None:
        number = int(match.group(1))
        converted = True
    elif _DECIMAL.fullmatch(value):
        return None, "is not a whole number", False
    elif value.casefold() in _NO_VALUE:
        return None, "means no value", False
    else:
        return None, "is not a number", False
    if cumulative and number < 0:
        return None, "is a negative cumulative count", False
    if abs(number) > MAX_VALUE:
        return None, f"is out of range (more than {MAX_VALUE})", False
    return number, (f"read as {number}" if converted else None), converted


def parse_last_update(text: str) -> datetime.datetime | None:
    """A JHU ``Last_Update`` cell in any of its historical formats, or ``None``."""
    value = text.strip()
    for pattern in _LAST_UPDATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, pattern)
        except ValueError:
            continue
    return None


def _date_header(text: str) -> str | None:
    """``YYYY-MM-DD`` of a time-series date header (M/D/YY, M/D/YYYY, YYYY-MM-DD)."""
    value = text.strip()
    match = _DATE_HEADER.fullmatch(value)
    try:
        if match:
            month, day, year = (int(part) for part in match.groups())
            year = year + 2000 if year < 100 else year
            return datetime.date(year, month, day).isoformat()
        if _ISO_DATE.fullmatch(value):
            return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        return None
    return None


# --- files -------------------------------------------------------------------------------


def _decode_text(data: bytes, issues: list[Issue]) -> str:
    if b"\x00" in data:
        raise JhuFormatError("the file holds NUL bytes: it is not a CSV text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        issues.append(
            Issue(None, None, None, f"not UTF-8 ({exc.reason} at byte {exc.start}): "
                  "read as Windows-1252", "note", "file")
        )  # fmt: skip
        return data.decode("cp1252", errors="replace")


def _metric_from_name(name: str) -> str | None:
    match = _TS_NAME.search(name)
    if not match:
        return None
    metric = (match.group("metric") or match.group("old") or "").lower()
    return metric if metric in METRICS else None


def _date_from_name(name: str) -> str | None:
    match = _DAILY_NAME.search(name)
    if not match:
        return None
    month, day, year = match.groups()
    try:
        return check_date(f"{year}-{month}-{day}")
    except ValueError:
        return None


def parse_file(
    data: bytes,
    name: str,
    *,
    metric: str | None = None,
    date: str | None = None,
    progress: Progress | None = None,
    latest: str | None = None,
) -> ParsedFile:
    """Read a JHU CSSE file (or the JSON export); ``name`` is its file name.

    ``metric`` (time series) and ``date`` (daily reports) override what the file name
    says. ``latest`` (``YYYY-MM-DD``, default today in UTC) is the last date a time
    series column may have: the importer passes the later of the node's last block date
    and today, as the contract refuses figures dated after the block. Raises
    :class:`JhuFormatError` for a file that is not a known format.
    """
    if latest is None:
        latest = datetime.datetime.now(datetime.UTC).date().isoformat()
    if len(data) > MAX_FILE_BYTES:
        raise JhuFormatError(f"{name} is {len(data)} bytes, over the limit of {MAX_FILE_BYTES}")
    digest = hashlib.sha256(data).hexdigest()
    if metric is not None and metric not in METRICS:
        raise JhuFormatError(f"metric {metric!r} is not one of {', '.join(METRICS)}")
    issues: list[Issue] = []
    text = _decode_text(data, issues)
    if text.lstrip().startswith("{"):
        return _parse_json(text, name, digest, issues)
    table = list(csv.reader(io.StringIO(text, newline="")))
    if not table or not any(cell.strip() for cell in table[0]):
        raise JhuFormatError(f"{name} is empty or has no header row")
    header = [cell.strip() for cell in table[0]]
    canonical: list[str | None] = [_HEADER_ALIASES.get(cell.casefold()) for cell in header]
    named: dict[str, str] = {}
    for i, (written, known) in enumerate(zip(header, canonical, strict=True)):
        if known is None:
            continue
        if known in named:
            # "" marks a column read as nothing: neither a label nor a date.
            canonical[i] = ""
            issues.append(
                Issue(1, written, None, f"names {known!r} again (column {named[known]!r} "
                      "already does): the first is read", "skipped", "column")
            )  # fmt: skip
            continue
        named[known] = written
        if written not in _STANDARD:
            issues.append(Issue(1, written, None, f"renamed header read as {known!r}", "note"))
    if "Country_Region" not in canonical:
        raise JhuFormatError(
            f"{name} has no Country/Region (or Country_Region) column; its header is "
            f"{','.join(header)[:200]!r}"
        )
    reader = _Reader(name, digest, header, canonical, table, issues, progress)
    if "Confirmed" in canonical or "Deaths" in canonical:
        day = date if date is not None else _date_from_name(name)
        if day is None:
            raise JhuFormatError(
                f"cannot tell the date of daily report {name} (name it MM-DD-YYYY.csv "
                "or give the date)"
            )
        return _sorted(reader.daily(check_date(day)))
    dates = [(i, _date_header(cell)) for i, cell in enumerate(header) if canonical[i] is None]
    if not any(day for _, day in dates):
        raise JhuFormatError(
            f"{name} has neither date columns (a time series) nor Confirmed/Deaths columns "
            "(a daily report)"
        )
    chosen = metric or _metric_from_name(name)
    if chosen is None:
        raise JhuFormatError(
            f"cannot tell the metric of time series {name} from its name; give it "
            f"(one of {', '.join(METRICS)})"
        )
    us = "UID" in canonical or "Admin2" in canonical
    return _sorted(reader.time_series(chosen, us=us, latest=latest))


def _sorted(parsed: ParsedFile) -> ParsedFile:
    """Issues in file order (the file itself first, then by row; stable within a row)."""
    parsed.issues.sort(key=lambda issue: -1 if issue.row is None else issue.row)
    return parsed


class _Reader:
    """The row loops of the two CSV shapes, sharing the issue list."""

    def __init__(
        self,
        name: str,
        digest: str,
        header: list[str],
        canonical: list[str | None],
        table: list[list[str]],
        issues: list[Issue],
        progress: Progress | None,
    ) -> None:
        self.name = name
        self.digest = digest
        self.header = header
        self.canonical = canonical
        self.table = table
        self.issues = issues
        self.progress = progress
        self.seen: dict[str, int] = {}

    def _skip(
        self, row: int, column: str | None, value: str | None, reason: str, level: str
    ) -> None:
        unit: Any = level
        self.issues.append(Issue(row, column, value, reason, "skipped", unit))

    def _rows(self) -> list[tuple[int, list[str]]]:
        """Data rows with their file row numbers; blank lines are noted, too-long skipped."""
        out = []
        total = len(self.table) - 1
        width = len(self.header)
        for number, cells in enumerate(self.table[1:], start=2):
            if self.progress is not None and (number % 64 == 0 or number - 1 == total):
                self.progress(number - 1, total)
            if not any(cell.strip() for cell in cells):
                self.issues.append(Issue(number, None, None, "blank row ignored", "note"))
                continue
            if len(cells) > width:
                reason = f"has {len(cells)} cells, the header has {width}"
                self._skip(number, None, None, reason, "row")
                continue
            if len(cells) < width:
                missing = self.header[len(cells) :]
                self.issues.append(
                    Issue(
                        number,
                        None,
                        None,
                        f"has {len(cells)} cells, the header has {width}: "
                        f"{', '.join(missing[:3])}{'...' if len(missing) > 3 else ''} "
                        "read as empty",
                        "note",
                    )
                )
                cells = cells + [""] * (width - len(cells))
            out.append((number, cells))
        if self.progress is not None and total <= 0:
            self.progress(0, 0)
        return out

    def _labels(self, cells: list[str], skip: set[str]) -> dict[str, str]:
        labels = {}
        for i, cell in enumerate(cells):
            key = self.canonical[i]
            if key and key not in skip:
                labels[key] = cell
        return labels

    def _cell(self, cells: list[str], name: str) -> str:
        try:
            return cells[self.canonical.index(name)]
        except ValueError:
            return ""

    def _region(self, number: int, cells: list[str], *, us: bool) -> str | None:
        country_name = self._cell(cells, "Country_Region").strip()
        province = self._cell(cells, "Province_State").strip()
        admin2 = self._cell(cells, "Admin2").strip()
        fips = self._cell(cells, "FIPS").strip()
        country_column = self.header[self.canonical.index("Country_Region")]
        if not country_name:
            self._skip(number, country_column, None, "empty: the row names no region", "row")
            return None
        country = country_region(country_name)
        if country is None:
            self._skip(
                number,
                country_column,
                country_name,
                "is not a known country (ISO 3166 or JHU spelling)",
                "row",
            )
            return None
        region: str | None
        if us or (country == "US" and (province or admin2 or fips)):
            region = us_region(province, admin2, fips)
            if region is None and not us:
                region = province_region(country, province)
            if region is None:
                column = (
                    self.header[self.canonical.index("Province_State")]
                    if "Province_State" in self.canonical
                    else None
                )
                self._skip(number, column, province, "is not a US state or territory", "row")
                return None
        else:
            region = province_region(country, province)
            if region is None:
                column = self.header[self.canonical.index("Province_State")]
                self._skip(number, column, province, "gives no region id", "row")
                return None
        first = self.seen.get(region)
        if first is not None:
            self._skip(number, None, None, f"duplicate of row {first} (region {region})", "row")
            return None
        self.seen[region] = number
        return region

    def _count(self, number: int, column: str, cell: str, *, cumulative: bool) -> int | None:
        value, reason, converted = parse_count(cell, cumulative=cumulative)
        if value is None:
            self._skip(number, column, cell if cell.strip() else None, str(reason), "cell")
        elif converted:
            self.issues.append(Issue(number, column, cell, str(reason), "converted"))
        return value

    def _keep(self, parsed: ParsedFile, number: int, row: Row) -> None:
        if row.figure_count() == 0:
            self._skip(number, None, None, f"no usable figure for region {row.region}", "row")
            return
        parsed.rows.append(row)
        parsed.row_lines.append(number)

    def time_series(self, metric: str, *, us: bool, latest: str) -> ParsedFile:
        parsed = ParsedFile(
            "jhu-us-ts" if us else "jhu-global-ts",
            self.name,
            self.digest,
            metric=metric,
            issues=self.issues,
        )
        columns: list[tuple[int, str]] = []
        seen_dates: dict[str, str] = {}
        for i, cell in enumerate(self.header):
            if self.canonical[i] is not None:
                continue
            day = _date_header(cell)
            if day is None:
                self._skip(1, cell, None, "is neither a known column nor a date", "column")
                continue
            if day < EARLIEST_DATE:
                reason = f"is dated {day}, before {EARLIEST_DATE} (the outbreak's first reports)"
                self._skip(1, cell, None, reason, "column")
                continue
            if day > latest:
                reason = f"is dated {day}, after {latest} (the ledger's latest date)"
                self._skip(1, cell, None, reason, "column")
                continue
            if day in seen_dates:
                self._skip(1, cell, None, f"repeats date {seen_dates[day]!r}", "column")
                continue
            if columns and day < columns[-1][1]:
                reason = f"is out of date order, after {columns[-1][1]}"
                self._skip(1, cell, None, reason, "column")
                continue
            seen_dates[day] = cell
            columns.append((i, day))
        if not columns:
            raise JhuFormatError(
                f"{self.name} has no usable date column (see the skipped columns: "
                f"{'; '.join(str(issue) for issue in self.issues if issue.row == 1)[:300]})"
            )
        start = columns[0][1]
        span = day_number(columns[-1][1]) - day_number(start) + 1
        present = {day for _, day in columns}
        gaps = [add_days(start, k) for k in range(span) if add_days(start, k) not in present]
        if gaps:
            self.issues.append(
                Issue(1, None, None, f"no column for {len(gaps)} date(s) from {gaps[0]}: "
                      "those figures are absent", "note")
            )  # fmt: skip
        offsets = [(i, day_number(day) - day_number(start), self.header[i]) for i, day in columns]
        for number, cells in self._rows():
            region = self._region(number, cells, us=us)
            if region is None:
                continue
            values: list[int | None] = [None] * span
            for i, offset, column in offsets:
                values[offset] = self._count(number, column, cells[i], cumulative=True)
            labels = self._labels(cells, set())
            self._keep(parsed, number, Row(region, start, {metric: ("cumulative", values)}, labels))
        parsed.rows_read = len(self.table) - 1
        return parsed

    def daily(self, date: str) -> ParsedFile:
        parsed = ParsedFile("jhu-daily", self.name, self.digest, date=date, issues=self.issues)
        for i, cell in enumerate(self.header):
            if self.canonical[i] is None and cell:
                self.issues.append(Issue(1, cell, None, "unknown column kept as a label", "note"))
        metric_columns = [
            (i, _DAILY_METRICS[key], self.header[i])
            for i, key in enumerate(self.canonical)
            if key in _DAILY_METRICS
        ]
        update_column = (
            self.canonical.index("Last_Update") if "Last_Update" in self.canonical else None
        )
        for number, cells in self._rows():
            region = self._region(number, cells, us=False)
            if region is None:
                continue
            metrics: dict[str, tuple[str, list[int | None]]] = {}
            for i, metric, column in metric_columns:
                value = self._count(number, column, cells[i], cumulative=True)
                metrics[metric] = ("cumulative", [value])
            update = cells[update_column] if update_column is not None else ""
            if update.strip() and parse_last_update(update) is None:
                self.issues.append(
                    Issue(number, self.header[update_column or 0], update,
                          "is not a known Last_Update format (kept as written)", "note")
                )  # fmt: skip
            labels = self._labels(cells, set(_DAILY_METRICS))
            for i, cell in enumerate(self.header):
                if self.canonical[i] is None and cell:
                    labels[cell] = cells[i]
            self._keep(parsed, number, Row(region, date, metrics, labels))
        parsed.rows_read = len(self.table) - 1
        return parsed


def _parse_json(text: str, name: str, digest: str, issues: list[Issue]) -> ParsedFile:
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise JhuFormatError(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("salus_outbreak") != 1:
        raise JhuFormatError(f"{name} is not a Salus outbreak JSON export (salus_outbreak: 1)")
    rows = document.get("rows")
    if not isinstance(rows, list):
        raise JhuFormatError(f"{name}: 'rows' must be a list")
    parsed = ParsedFile(
        "salus-json",
        name,
        digest,
        metric=document.get("metric") if isinstance(document.get("metric"), str) else None,
        date=document.get("date") if isinstance(document.get("date"), str) else None,
        issues=issues,
    )
    seen: dict[str, int] = {}
    for number, data in enumerate(rows, start=1):
        try:
            row = Row.from_data({"salus_row": 1, **data} if isinstance(data, dict) else data)
        except SalusError as exc:
            issues.append(Issue(number, None, None, exc.reason, "skipped", "row"))
            continue
        if row.region in seen:
            issues.append(
                Issue(number, None, None, f"duplicate of row {seen[row.region]} "
                      f"(region {row.region})", "skipped", "row")
            )  # fmt: skip
            continue
        seen[row.region] = number
        parsed.rows.append(row)
        parsed.row_lines.append(number)
    parsed.rows_read = len(rows)
    return parsed


def label_columns(format: str) -> Sequence[str]:
    """The label columns a format writes, in order (without dates or figure columns)."""
    return {
        "jhu-global-ts": GLOBAL_TS_COLUMNS,
        "jhu-us-ts": US_TS_COLUMNS,
        "jhu-daily": DAILY_COLUMNS,
    }.get(format, ())
