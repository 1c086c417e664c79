"""Plan rules: dates without a clock, coverage windows, money formatting, rule patches."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salus.apps.mutual_aid.rules import (
    DAY_MS,
    PlanRules,
    RulesPatch,
    coverage_for,
    day_start_ms,
    example_conditions,
    example_rules,
    format_money,
    format_time,
    parse_date,
)


def test_dates_are_computed_without_a_clock() -> None:
    assert parse_date("1970-01-01") == 0
    assert parse_date("2020-02-29") - parse_date("2020-02-28") == 1
    assert day_start_ms("2020-10-01") == 1_601_510_400_000
    assert format_time(1_600_000_000_000) == "2020-09-13T12:26:40Z"
    for bad in ("2021-02-29", "2020-13-01", "2020-1-01", "1899-12-31", "yesterday"):
        with pytest.raises(ValueError, match="date"):
            parse_date(bad)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=parse_date("1900-01-01"), max_value=parse_date("9999-12-31")))
def test_day_numbers_round_trip(day: int) -> None:
    text = format_time(day * DAY_MS)[:10]
    assert parse_date(text) == day


def version(start: str, until: str | None = None, payout: int = 1) -> dict[str, Any]:
    return {
        "name": "x",
        "max_payout": payout,
        "effective_from": start,
        "effective_until": until,
        "funding": "members",
        "added_by": 0,
    }


def test_coverage_windows_and_categories() -> None:
    conditions = {
        "C34": [version("2018-10-16", "2020-01-01", 1), version("2020-06-01", None, 2)],
        "C34.9": [version("2019-01-01", "2019-02-01", 3)],
    }
    assert coverage_for(conditions, "C34", "2019-05-05") == ("C34", conditions["C34"][0])
    assert coverage_for(conditions, "C34.1", "2020-07-01") == ("C34", conditions["C34"][1])
    # The exact code's window is over, but its category still covers the date.
    assert coverage_for(conditions, "C34.9", "2020-07-01") == ("C34", conditions["C34"][1])
    assert coverage_for(conditions, "C34.9", "2019-01-15")[1]["max_payout"] == 3
    with pytest.raises(ValueError, match=r"from 2018-10-16 until 2020-01-01, from 2020-06-01"):
        coverage_for(conditions, "C34", "2020-03-01")
    with pytest.raises(ValueError, match="I21 is not a condition this plan covers"):
        coverage_for(conditions, "I21", "2020-03-01")


def test_money_in_minor_units() -> None:
    assert format_money(123_456, "CNY") == "1234.56 CNY"
    assert format_money(5, "CNY") == "0.05 CNY"
    assert format_money(1_000, "JPY") == "1000 JPY"
    assert format_money(1_234, "KWD") == "1.234 KWD"
    assert format_money(-1, "USD") == "-0.01 USD"


def test_examples_are_valid_rules() -> None:
    rules = PlanRules.model_validate(example_rules())
    assert rules.fee_bps == 800 and rules.period_ms == 15 * DAY_MS
    assert {c["code"] for c in example_conditions()} >= {"C34", "I21"}


def test_patches_apply_as_a_whole() -> None:
    rules = example_rules()
    assert RulesPatch(fee_bps=500).apply_to(rules)["fee_bps"] == 500
    with pytest.raises(ValueError, match="at least one rule"):
        RulesPatch().apply_to(rules)
    with pytest.raises(ValueError, match="jury_quorum 10 exceeds jury_size 9"):
        RulesPatch(jury_quorum=10).apply_to(rules)
    with pytest.raises(ValueError, match="member_cap"):
        RulesPatch(member_cap=0).apply_to(rules)
