"""Daily series: cumulative, new, 7-day average, per 100,000; and the generator."""

from __future__ import annotations

from salus.apps.outbreak.generate import generate_global_time_series, jhu_global_rows
from salus.apps.outbreak.jhu import parse_file
from salus.apps.outbreak.series import (
    add_series,
    cumulative,
    daily_new,
    per_100k,
    seven_day_average,
)


def test_cumulative_and_new_bases_combine() -> None:
    points = [(0, 10, "cumulative"), (1, 5, "new"), (3, 30, "cumulative"), (4, -2, "new")]
    totals = cumulative(points, 5)
    assert totals == [10, 15, None, 30, 28]
    assert daily_new(totals, points) == [None, 5, None, 15, -2]


def test_the_seven_day_average_needs_seven_known_days() -> None:
    new = [1, 2, 3, 4, 5, 6, 7, 8, None, 10]
    assert seven_day_average(new) == [None] * 6 + [4.0, 5.0, None, None]


def test_rates_need_a_population() -> None:
    assert per_100k([50, None], 1_000_000) == [5.0, None]
    assert per_100k([50], None) is None
    assert add_series([[1, None, 3], [None, None, 4]], 3) == [1, None, 7]


def test_the_generator_writes_full_size_jhu_files_deterministically() -> None:
    rows = jhu_global_rows()
    assert 280 <= len(rows) <= 300
    assert ("", "Korea, South") in {(p, c) for p, c, *_ in rows}
    text = generate_global_time_series("deaths", days=30)
    assert text == generate_global_time_series("deaths", days=30)
    assert text != generate_global_time_series("deaths", days=30, seed=1)
    parsed = parse_file(text.encode(), "time_series_covid19_deaths_global.csv")
    assert parsed.issues == [] and len(parsed.rows) == len(rows)
    assert text.splitlines()[0].split(",")[4:6] == ["1/22/20", "1/23/20"]
