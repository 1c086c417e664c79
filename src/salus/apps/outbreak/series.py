"""Daily series from figures: cumulative totals, daily new, 7-day averages, per 100,000.

Rules this module obeys:
- Pure arithmetic on lists indexed by day; ``None`` is "no figure that day", never 0.
- A cumulative figure sets the running total; a ``new`` figure adds to the last known
  total (or starts one). Daily new is the difference to the last known total, so a
  downward revision shows as a negative day, as in the JHU data.
- The 7-day average needs all seven days; per 100,000 needs a known population.
  Averages and rates are off-ledger presentation values (floats, 2 decimals).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "Point",
    "add_series",
    "cumulative",
    "daily_new",
    "per_100k",
    "seven_day_average",
]

Point = tuple[int, int, str]
"""``(day offset, value, basis)`` of one figure."""


def cumulative(points: Iterable[Point], days: int) -> list[int | None]:
    """Cumulative totals for offsets ``0..days-1`` from figures sorted by offset."""
    out: list[int | None] = [None] * days
    total: int | None = None
    for offset, value, basis in points:
        if not 0 <= offset < days:
            continue
        total = value if basis == "cumulative" else (total or 0) + value
        out[offset] = total
    return out


def daily_new(totals: Sequence[int | None], points: Iterable[Point] = ()) -> list[int | None]:
    """Each day's new count: the change since the last known total.

    Days reported with basis ``new`` (``points``) keep the stated count exactly.
    """
    out: list[int | None] = [None] * len(totals)
    last: int | None = None
    for offset, total in enumerate(totals):
        if total is not None:
            out[offset] = None if last is None else total - last
            last = total
    for offset, value, basis in points:
        if basis == "new" and 0 <= offset < len(out):
            out[offset] = value
    return out


def seven_day_average(new: Sequence[int | None]) -> list[float | None]:
    """The mean of the seven days ending each day (``None`` unless all seven are known)."""
    out: list[float | None] = [None] * len(new)
    window = 0
    known = 0
    for offset, value in enumerate(new):
        if value is not None:
            window += value
            known += 1
        if offset >= 7:
            old = new[offset - 7]
            if old is not None:
                window -= old
                known -= 1
        if offset >= 6 and known == 7:
            out[offset] = round(window / 7, 2)
    return out


def per_100k(
    values: Sequence[int | float | None], population: int | None
) -> list[float | None] | None:
    """``values`` per 100,000 people, or ``None`` when the population is unknown."""
    if not population or population <= 0:
        return None
    return [None if v is None else round(v * 100_000 / population, 2) for v in values]


def add_series(series: Iterable[Sequence[int | None]], days: int) -> list[int | None]:
    """Day-by-day sum of series (``None`` where none of them has a figure)."""
    out: list[int | None] = [None] * days
    for values in series:
        for offset, value in enumerate(values[:days]):
            if value is not None:
                current = out[offset]
                out[offset] = value if current is None else current + value
    return out
