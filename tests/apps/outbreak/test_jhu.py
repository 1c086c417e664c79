"""Reading JHU CSSE files: each quirk, the exact import report, and the round trip."""

from __future__ import annotations

import json

import pytest

from salus.apps.outbreak.export import export_daily, export_json, export_time_series
from salus.apps.outbreak.jhu import JhuFormatError, parse_count, parse_file, parse_last_update
from tests.apps.outbreak.support import DATA


def read(name: str, **kwargs: str) -> object:
    return parse_file((DATA / name).read_bytes(), name, **kwargs)  # type: ignore[arg-type]


def lines(name: str, **kwargs: str) -> list[str]:
    parsed = parse_file((DATA / name).read_bytes(), name, **kwargs)  # type: ignore[arg-type]
    return [str(issue) for issue in parsed.issues]


def test_the_quirky_time_series_reports_every_row_column_and_cell_not_imported() -> None:
    name = "quirky_time_series_covid19_confirmed_global.csv"
    parsed = parse_file((DATA / name).read_bytes(), name)
    assert [str(issue) for issue in parsed.issues] == [
        "row 1, column '1/24/20': repeats date '1/24/20'; column skipped",
        "row 1, column 'notes': is neither a known column nor a date; column skipped",
        "row 2, column '1/23/20': '1,234' read as 1234",
        "row 2, column '1/24/20': '12.0' read as 12",
        "row 3, column '1/22/2020': '-' means no value; cell skipped",
        "row 3, column '1/23/20': empty; cell skipped",
        "row 3, column '1/24/20': '-5' is a negative cumulative count; cell skipped",
        "row 3: no usable figure for region FR; row skipped",
        "row 4, column '1/22/2020': 'abc' is not a number; cell skipped",
        "row 4, column '1/23/20': '3.5' is not a whole number; cell skipped",
        "row 4, column '1/24/20': '1e3' is not a whole number; cell skipped",
        "row 4: no usable figure for region DE; row skipped",
        "row 5: duplicate of row 2 (region AF); row skipped",
        "row 6, column 'Country_Region': empty: the row names no region; row skipped",
        "row 7, column 'Country_Region': 'Narnia' is not a known country "
        "(ISO 3166 or JHU spelling); row skipped",
        "row 8: blank row ignored",
        "row 9: has 10 cells, the header has 9; row skipped",
        "row 10: has 5 cells, the header has 9: 1/23/20, 1/24/20, 1/24/20... read as empty",
        "row 10, column '1/23/20': empty; cell skipped",
        "row 10, column '1/24/20': empty; cell skipped",
    ]
    # The rest is imported: BOM and CRLF gone, 2- and 4-digit years read, values kept.
    assert [row.region for row in parsed.rows] == ["AF", "ES"]
    assert parsed.rows[0].start == "2020-01-22"
    assert parsed.rows[0].metrics["confirmed"] == ("cumulative", [0, 1234, 12])
    assert parsed.rows[0].labels["Province_State"] == ""  # the BOM is not in the label
    assert parsed.rows[1].metrics["confirmed"] == ("cumulative", [5, None, None])
    assert parsed.figures == 4 and len(parsed.skipped) == 16 and len(parsed.converted) == 2


def test_the_early_2020_daily_report_header_and_names() -> None:
    parsed = parse_file((DATA / "01-22-2020.csv").read_bytes(), "01-22-2020.csv")
    assert parsed.format == "jhu-daily" and parsed.date == "2020-01-22"
    regions = [row.region for row in parsed.rows]
    # "Mainland China" provinces, a US state named in the early style, Japan, Thailand.
    assert regions == ["CN-AH", "CN-BJ", "CN-HB", "US-WA", "JP", "TH"]
    hubei = parsed.rows[2]
    assert {m: v[1] for m, v in hubei.metrics.items()} == {
        "confirmed": [444],
        "deaths": [17],
        "recovered": [28],
    }
    report = [str(issue) for issue in parsed.issues]
    assert report[0] == "row 1, column 'Last Update': renamed header read as 'Last_Update'"
    assert "row 5, column 'Confirmed': empty; cell skipped" in report
    assert "row 5: no usable figure for region HK; row skipped" in report
    assert (
        "row 8, column 'Last Update': 'sometime yesterday' is not a known Last_Update "
        "format (kept as written)"
    ) in report


def test_us_time_series_fips_floats_territories_ships_and_unlisted_areas() -> None:
    parsed = parse_file(
        (DATA / "time_series_covid19_deaths_US.csv").read_bytes(),
        "time_series_covid19_deaths_US.csv",
    )
    assert parsed.format == "jhu-us-ts" and parsed.metric == "deaths"
    assert [row.region for row in parsed.rows] == [
        "US-AL:01001",
        "US-NY:36061",
        "US-NY:90036",
        "US-PR:72001",
        "US:X-DIAMOND-PRINCESS",
        "US-MI:MICHIGAN-DEPARTMENT-OF-CORRECTIONS-MDOC",
    ]
    assert parsed.rows[0].labels["Population"] == "55869"
    assert parsed.issues == []


def test_jhu_country_names_map_to_iso_3166_and_special_regions() -> None:
    name = "time_series_covid19_confirmed_global.csv"
    parsed = parse_file((DATA / name).read_bytes(), name)
    assert [row.region for row in parsed.rows] == [
        "AF", "AU-ACT", "AU-NSW", "CN-HB", "HK", "CD", "MM", "GL", "X-DIAMOND-PRINCESS",
        "FR", "KR", "X-MS-ZAANDAM", "TW", "US",
    ]  # fmt: skip
    assert parsed.issues == []


@pytest.mark.parametrize(
    "name",
    [
        "time_series_covid19_confirmed_global.csv",
        "time_series_covid19_deaths_global.csv",
        "time_series_covid19_deaths_US.csv",
    ],
)
def test_a_clean_time_series_round_trips_to_the_same_csv(name: str) -> None:
    text = (DATA / name).read_text()
    parsed = parse_file(text.encode(), name)
    assert parsed.metric is not None
    out = export_time_series(parsed.rows, parsed.metric, us=parsed.format == "jhu-us-ts")
    assert out == text


def test_a_clean_daily_report_round_trips_to_the_same_csv() -> None:
    text = (DATA / "03-22-2021.csv").read_text()
    parsed = parse_file(text.encode(), "03-22-2021.csv")
    assert parsed.date is not None
    assert export_daily(parsed.rows, parsed.date) == text


def test_the_json_export_reads_back_to_the_same_rows() -> None:
    name = "time_series_covid19_confirmed_global.csv"
    parsed = parse_file((DATA / name).read_bytes(), name)
    document = export_json(parsed.rows, format=parsed.format, metric=parsed.metric)
    again = parse_file(json.dumps(document).encode(), "export.json")
    assert again.format == "salus-json"
    assert [r.to_data() for r in again.rows] == [r.to_data() for r in parsed.rows]
    bad = {**document, "rows": [{"region": "Narnia"}, *document["rows"][:1]]}
    broken = parse_file(json.dumps(bad).encode(), "bad.json")
    assert len(broken.rows) == 1
    assert str(broken.issues[0]).startswith("row 1: row fields are")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("12", (12, None, False)),
        (" 12 ", (12, None, False)),
        ("1,234", (1234, "read as 1234", True)),
        ("12.0", (12, "read as 12", True)),
        ("12.5", (None, "is not a whole number", False)),
        ("", (None, "empty", False)),
        ("-", (None, "means no value", False)),
        ("N/A", (None, "means no value", False)),
        ("-3", (None, "is a negative cumulative count", False)),
        ("twelve", (None, "is not a number", False)),
        ("1" + "0" * 14, (None, "is out of range (more than 10000000000000)", False)),
    ],
)
def test_cells(cell: str, expected: tuple[object, ...]) -> None:
    assert parse_count(cell, cumulative=True) == expected


def test_a_negative_new_count_is_a_figure() -> None:
    assert parse_count("-3", cumulative=False) == (-3, None, False)


@pytest.mark.parametrize(
    "text",
    ["1/22/2020 17:00", "1/31/20 23:59", "2020-02-01T19:53:03", "2020-03-22 23:45:00"],
)
def test_last_update_formats(text: str) -> None:
    assert parse_last_update(text) is not None


def test_date_headers_with_gaps_windows_1252_and_a_metric_named_on_the_command_line() -> None:
    text = "Province/State,Country/Region,Lat,Long,2020-01-22,1/24/2020\n,Cura\xe7ao,1,2,1,3\n"
    parsed = parse_file(text.encode("cp1252"), "cases.csv", metric="confirmed")
    report = [str(issue) for issue in parsed.issues]
    assert report[0].startswith("file: not UTF-8")
    assert "no column for 1 date(s) from 2020-01-23" in report[1]
    assert parsed.rows[0].metrics["confirmed"] == ("cumulative", [1, None, 3])


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "x.csv", "is empty or has no header row"),
        (b"a,b,c\n1,2,3\n", "x.csv", "has no Country/Region"),
        (b"Country/Region,Lat\nFrance,1\n", "x.csv", "neither date columns"),
        (b"Country/Region,1/22/20\nFrance,1\n", "cases.csv", "cannot tell the metric"),
        (b"Country_Region,Confirmed\nFrance,1\n", "report.csv", "cannot tell the date"),
        (b"Country/Region\x00,1/22/20\n", "x.csv", "NUL bytes"),
        (b'{"rows": []}', "x.json", "not a Salus outbreak JSON export"),
    ],
)
def test_files_that_are_not_jhu_formats_are_refused(data: bytes, name: str, message: str) -> None:
    with pytest.raises(JhuFormatError, match=message):
        parse_file(data, name)


def test_progress_is_reported_while_reading() -> None:
    seen: list[tuple[int, int]] = []
    name = "time_series_covid19_confirmed_global.csv"
    parse_file(
        (DATA / name).read_bytes(), name, progress=lambda done, total: seen.append((done, total))
    )
    assert seen[-1] == (14, 14)


TS = "time_series_covid19_confirmed_global.csv"


def test_date_columns_outside_the_outbreak_or_after_the_ledger_are_skipped() -> None:
    # Review repro t5: a typo'd 1/24/30 stretched the batch to 2030 (and the contract
    # then refused the whole file); 12/31/1999 was read as a date of the outbreak.
    csv = (
        b"Province/State,Country/Region,Lat,Long,11/30/19,1/22/20,1/23/20,1/24/30\n"
        b",France,1,2,7,1,2,3\n"
    )
    parsed = parse_file(csv, TS, latest="2023-03-09")
    ((region, start, end),) = [(r.region, r.start, r.end) for r in parsed.rows]
    assert (region, start, end) == ("FR", "2020-01-22", "2020-01-23")
    assert [str(i) for i in parsed.issues] == [
        "row 1, column '11/30/19': is dated 2019-11-30, before 2019-12-01 (the outbreak's "
        "first reports); column skipped",
        "row 1, column '1/24/30': is dated 2030-01-24, after 2023-03-09 (the ledger's "
        "latest date); column skipped",
    ]
    with pytest.raises(JhuFormatError, match="has no usable date column"):
        parse_file(
            b"Province/State,Country/Region,Lat,Long,12/31/1999,1/1/00\n,France,1,2,1,2\n", TS
        )


def test_two_headers_naming_one_column_are_reported_and_the_first_is_read() -> None:
    csv = b"Province/State,Country/Region,Lat,Long,Long_,1/22/20\n,France,1,2,3,5\n"
    parsed = parse_file(csv, TS)
    (row,) = parsed.rows
    assert row.labels["Long_"] == "2"
    assert "" not in row.labels
    assert [str(i) for i in parsed.issues] == [
        "row 1, column 'Long_': names 'Long_' again (column 'Long' already does): the first "
        "is read; column skipped",
    ]
