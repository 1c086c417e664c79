"""Full-size synthetic JHU CSSE global time series, for benchmarks, tests and demos.

The real files are not always at hand (and must not be fetched at run time), so this
writes files with the real shape: the JHU global row list (every country JHU reports
at country level, the provinces of Australia, Canada and China, the overseas
territories, the cruise ships and the Olympics), JHU's header and date format, and
plausible epidemic curves: a few logistic waves per region scaled by its population,
deaths following cases with a lag. Deterministic: the same seed gives the same bytes.
The figures are invented; only their shape is JHU's.
"""

from __future__ import annotations

import csv
import io
import math
import random
from typing import Final

from salus.apps.outbreak import tables
from salus.apps.outbreak.batches import add_days
from salus.apps.outbreak.export import date_header

__all__ = ["FULL_DAYS", "JHU_START", "generate_global_time_series", "jhu_global_rows"]

JHU_START: Final = "2020-01-22"
FULL_DAYS: Final = 1143  # 2020-01-22 .. 2023-03-09, the span of the final JHU files
# JHU lists these only by province, never with a country-level row.
_PROVINCES_ONLY: Final = frozenset({"AU", "CA", "CN"})
_SPECIAL_ROWS: Final = (
    ("", "Diamond Princess", "0.0", "0.0", 3711),
    ("", "MS Zaandam", "0.0", "0.0", 1829),
    ("", "Summer Olympics 2020", "35.6491", "139.7737", 11000),
    ("", "Winter Olympics 2022", "39.9042", "116.4074", 3000),
)


def jhu_global_rows() -> list[tuple[str, str, str, str, int]]:
    """``(Province/State, Country/Region, Lat, Long, population)`` of every row of the
    JHU global files, in JHU's order (by country, then province)."""
    countries = {row["iso2"]: row for row in csv.DictReader(io.StringIO(tables.COUNTRIES))}
    rows: list[tuple[str, str, str, str, int]] = []
    for iso2, row in countries.items():
        if row["jhu_name"] and iso2 not in _PROVINCES_ONLY:
            people = int(row["population"] or 100_000)
            rows.append(("", row["jhu_name"], row["lat"], row["long"], people))
    for row in csv.DictReader(io.StringIO(tables.PROVINCES)):
        country = countries[row["country"]]["jhu_name"]
        people = int(row["population"] or 50_000)
        rows.append((row["province"], country, row["lat"], row["long"], people))
    rows.extend(_SPECIAL_ROWS)
    rows.sort(key=lambda r: (r[1].casefold(), r[0] != "", r[0].casefold()))
    return rows


def _curve(rng: random.Random, population: int, days: int) -> list[int]:
    waves = []
    for _ in range(rng.randint(2, 5)):
        share = rng.uniform(0.002, 0.08)
        waves.append((population * share, rng.uniform(40, days - 20), rng.uniform(6, 30)))
    values = []
    top = 0
    for day in range(days):
        total = sum(a / (1 + math.exp(-(day - mid) / width)) for a, mid, width in waves)
        top = max(top, int(total))  # cumulative counts never fall in a clean file
        values.append(top)
    return values


def generate_global_time_series(
    metric: str, *, days: int = FULL_DAYS, seed: int = 2020, start: str = JHU_START
) -> str:
    """``time_series_covid19_<metric>_global.csv`` text (``confirmed``, ``deaths`` or
    ``recovered``), about 290 rows by ``days`` date columns."""
    if metric not in ("confirmed", "deaths", "recovered"):
        raise ValueError(f"metric {metric!r} must be confirmed, deaths or recovered")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    dates = [add_days(start, k) for k in range(days)]
    writer.writerow(["Province/State", "Country/Region", "Lat", "Long", *map(date_header, dates)])
    for province, country, lat, long, population in jhu_global_rows():
        rng = random.Random(f"{seed}/{country}/{province}")
        cases = _curve(rng, population, days)
        if metric == "confirmed":
            values = cases
        else:
            lag = 14 if metric == "deaths" else 21
            rate = rng.uniform(0.004, 0.03) if metric == "deaths" else rng.uniform(0.6, 0.95)
            values = [int(cases[max(0, d - lag)] * rate) for d in range(days)]
        writer.writerow([province, country, lat, long, *map(str, values)])
    return buffer.getvalue()
