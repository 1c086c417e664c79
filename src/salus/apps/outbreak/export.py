"""Writing figures back out: the JHU CSSE CSV formats and a JSON twin.

Rules this module obeys:
- Pure: rows in, text (or a JSON-ready value) out.
- A file read by :mod:`.jhu` and written here gives the same CSV back when it was clean
  (current JHU headers, no skipped cells): labels are written verbatim, figures as plain
  integers, dates as JHU writes them (``1/22/20``), ``\\n`` line ends, fields quoted only
  when they hold a comma or a quote. A renamed header comes back under its current name.
- Rows without labels (figures reported on the ledger rather than imported) get them
  from the region tables: the JHU country and province names, latitude and longitude.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Mapping, Sequence
from typing import Any, Final

from salus.apps.outbreak.batches import Row, add_days, day_number
from salus.apps.outbreak.jhu import DAILY_COLUMNS, GLOBAL_TS_COLUMNS, US_TS_COLUMNS
from salus.apps.outbreak.regions import describe, jhu_names, level, parent

__all__ = [
    "date_header",
    "default_labels",
    "export_daily",
    "export_json",
    "export_time_series",
]

_GLOBAL_HEADER: Final = {
    "Province_State": "Province/State",
    "Country_Region": "Country/Region",
    "Lat": "Lat",
    "Long_": "Long",
}


def date_header(date: str) -> str:
    """A date as the JHU time-series header writes it: ``M/D/YY``."""
    day = datetime.date.fromisoformat(date)
    return f"{day.month}/{day.day}/{day.year % 100:02d}"


def default_labels(region: str, format: str) -> dict[str, str]:
    """Labels for a region that came with none, from the region tables."""
    info = describe(region)
    province, country = jhu_names(region)
    labels = {
        "Province_State": province,
        "Country_Region": country,
        "Lat": info.lat or "",
        "Long_": info.long or "",
    }
    if format == "jhu-global-ts":
        return labels
    state = region
    while level(state) == "area" and parent(state) is not None:
        state = str(parent(state))
    admin2 = info.name if level(region) == "area" else ""
    fips = region.rsplit(":", 1)[1] if level(region) == "area" else ""
    state_name = describe(state).name if state != region or level(region) != "area" else ""
    if region.startswith("US"):
        labels["Province_State"] = state_name if state.startswith("US-") else province
        labels["Country_Region"] = "US"
    key = ", ".join(
        part for part in (admin2, labels["Province_State"], labels["Country_Region"]) if part
    )
    labels.update(
        FIPS=fips if fips.isdigit() else "",
        Admin2=admin2,
        Combined_Key=key,
        UID="",
        iso2=info.iso2 or "",
        iso3=info.iso3 or "",
        code3="",
    )
    return labels


def _writer(buffer: io.StringIO) -> Any:
    return csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def export_time_series(rows: Sequence[Row], metric: str, *, us: bool = False) -> str:
    """A ``time_series_covid19_<metric>_global.csv`` (or ``_US``) of ``rows``' ``metric``."""
    fmt = "jhu-us-ts" if us else "jhu-global-ts"
    chosen = [row for row in rows if metric in row.metrics]
    buffer = io.StringIO()
    writer = _writer(buffer)
    if chosen:
        start = min(row.start for row in chosen)
        span = max(day_number(row.end) for row in chosen) - day_number(start) + 1
    else:
        start, span = "2020-01-22", 0
    dates = [add_days(start, k) for k in range(span)]
    population = us and any("Population" in row.labels for row in chosen)
    columns = list(US_TS_COLUMNS if us else GLOBAL_TS_COLUMNS)
    if population:
        columns.append("Population")
    names = columns if us else [_GLOBAL_HEADER[c] for c in columns]
    writer.writerow([*names, *(date_header(d) for d in dates)])
    first = day_number(start)
    for row in chosen:
        labels: Mapping[str, str] = row.labels or default_labels(row.region, fmt)
        values: list[int | None] = [None] * span
        offset = day_number(row.start) - first
        for k, value in enumerate(row.metrics[metric][1]):
            values[offset + k] = value
        writer.writerow([*(labels.get(c, "") for c in columns), *map(_cell, values)])
    return buffer.getvalue()


def export_daily(rows: Sequence[Row], date: str) -> str:
    """A daily report ``MM-DD-YYYY.csv`` of ``rows``' figures on ``date``."""
    buffer = io.StringIO()
    writer = _writer(buffer)
    writer.writerow(DAILY_COLUMNS)
    for row in rows:
        labels: Mapping[str, str] = row.labels or default_labels(row.region, "jhu-daily")
        figures = {m: row.figure(m, date) for m in ("confirmed", "deaths", "recovered")}
        if not any(figures.values()):
            continue
        cells = []
        for column in DAILY_COLUMNS:
            metric = column.lower()
            if metric in figures:
                found = figures[metric]
                cells.append("" if found is None else str(found[0]))
            else:
                cells.append(labels.get(column, ""))
        writer.writerow(cells)
    return buffer.getvalue()


def export_json(
    rows: Sequence[Row], *, format: str, metric: str | None = None, date: str | None = None
) -> dict[str, Any]:
    """The JSON twin of an export: every row as :meth:`Row.to_data` gives it.

    ``salus outbreak import`` reads it back (format ``salus-json``).
    """
    body = []
    for row in rows:
        data = row.to_data()
        del data["salus_row"]
        body.append(data)
    return {"salus_outbreak": 1, "format": format, "metric": metric, "date": date, "rows": body}
