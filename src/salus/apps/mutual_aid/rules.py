"""Plan rules as ledger data: parameters, covered conditions, money and dates.

Rules this module obeys:
- Pure: no clock, files or randomness; dates are converted with integer arithmetic
  (the proleptic Gregorian calendar, as ISO 8601 uses), not with :mod:`datetime`.
- No floats. Money is an integer amount of the currency's minor unit (ISO 4217: the
  fen for CNY, the cent for USD, none for JPY); the management fee is in basis
  points (1/100 of a percent); durations are milliseconds of block time.
- Conditions are ICD-10 codes. A covered code covers its subcategories (a plan that
  covers ``C34`` covers a diagnosis of ``C34.1``); each code keeps every version it
  ever had, each in force for the diagnosis dates ``[effective_from, effective_until)``,
  so a later rule change never rewrites what an earlier diagnosis was covered by.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

from pydantic import Field, field_validator, model_validator

from salus.core.contract import ActionArgs

__all__ = [
    "CURRENCY_MINOR_UNITS",
    "DAY_MS",
    "FUNDING",
    "MAX_AMOUNT",
    "ConditionSpec",
    "PlanRules",
    "RulesPatch",
    "check_band",
    "check_date",
    "check_hash",
    "check_icd10",
    "check_plan_id",
    "coverage_for",
    "day_start_ms",
    "example_conditions",
    "example_rules",
    "format_money",
    "format_time",
    "parse_date",
]

DAY_MS: Final = 86_400_000
# One trillion minor units (ten billion CNY): far above any payout, far below 2**63.
MAX_AMOUNT: Final = 10**12
FUNDING: Final = ("members", "sponsor")

# ISO 4217 codes Salus accepts, with their minor-unit exponent (ISO 4217 table A.1,
# column "Minor unit"). A plan in a currency that is not listed is refused rather
# than guessed: the exponent decides how amounts are shown to members.


def _units(exponent: int, codes: str) -> dict[str, int]:
    return dict.fromkeys(codes.split(), exponent)


CURRENCY_MINOR_UNITS: Final[dict[str, int]] = {
    **_units(
        2,
        "AED ARS AUD BDT BRL CAD CHF CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR KES "
        "MAD MXN MYR NGN NOK NZD PEN PHP PKR PLN QAR RON RUB SAR SEK SGD THB TRY TWD UAH "
        "USD ZAR",
    ),
    **_units(0, "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"),
    **_units(3, "BHD IQD JOD KWD LYD OMR TND"),
}

_PLAN_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_BAND = re.compile(r"[A-Za-z0-9][A-Za-z0-9+<>=._-]{0,31}")
# ICD-10: a letter, two characters of category, then optionally a dot and up to four
# characters of subcategory (WHO ICD-10 2019, Volume 2 §2.4; U07.1 is COVID-19).
_ICD10 = re.compile(r"[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_HASH = re.compile(r"[0-9a-f]{64}")


def check_plan_id(value: str) -> str:
    if not _PLAN_ID.fullmatch(value):
        raise ValueError(f"{value!r} must be 1-64 of [a-z0-9-], starting with a letter or digit")
    return value


def check_band(value: str) -> str:
    if not _BAND.fullmatch(value):
        raise ValueError(f"age band {value!r} must be 1-32 of [A-Za-z0-9+<>=._-]")
    return value


def check_icd10(value: str) -> str:
    if not _ICD10.fullmatch(value):
        raise ValueError(f"{value!r} is not an ICD-10 code (e.g. C34, C34.1, U07.1)")
    return value


def check_hash(value: str) -> str:
    if not _HASH.fullmatch(value):
        raise ValueError("must be 64 lower-case hex characters (a SHA-256)")
    return value


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    days += 719_468
    era = days // 146_097
    doe = days - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def parse_date(value: str) -> int:
    """The day number (days since 1970-01-01) of an ISO 8601 calendar date ``YYYY-MM-DD``."""
    match = _DATE.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a date of the form YYYY-MM-DD")
    year, month, day = (int(part) for part in match.groups())
    days = _days_from_civil(year, month, day)
    if not 1900 <= year <= 9999 or _civil_from_days(days) != (year, month, day):
        raise ValueError(f"{value!r} is not a calendar date")
    return days


def check_date(value: str) -> str:
    parse_date(value)
    return value


def day_start_ms(date: str) -> int:
    """Block-time milliseconds of 00:00 UTC on ``date``."""
    return parse_date(date) * DAY_MS


def format_time(time_ms: int) -> str:
    """``time_ms`` as an ISO 8601 UTC timestamp to the second, for messages."""
    days, rest = divmod(time_ms, DAY_MS)
    year, month, day = _civil_from_days(days)
    seconds = rest // 1000
    return (
        f"{year:04d}-{month:02d}-{day:02d}T"
        f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"
    )


def format_money(amount: int, currency: str, minor_units: int | None = None) -> str:
    """``amount`` minor units as text, e.g. ``format_money(123456, "CNY") == "1234.56 CNY"``."""
    exponent = CURRENCY_MINOR_UNITS.get(currency, 2) if minor_units is None else minor_units
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    if exponent == 0:
        return f"{sign}{whole} {currency}"
    return f"{sign}{whole}.{fraction:0{exponent}d} {currency}"


class PlanRules(ActionArgs):
    """The numeric rules of a plan. Every duration is milliseconds of block time."""

    eligible_bands: list[str] = Field(
        min_length=1,
        max_length=16,
        description="age bands the operator may attest as eligible, e.g. '30d-17y'",
    )
    waiting_ms: int = Field(ge=0, le=3 * 365 * DAY_MS, description="waiting period after joining")
    attestation_ttl_ms: int = Field(
        ge=60_000, le=365 * DAY_MS, description="how old an eligibility attestation may be"
    )
    period_ms: int = Field(ge=1_000, le=366 * DAY_MS, description="sharing period length")
    fee_bps: int = Field(ge=0, le=10_000, description="management fee, basis points of payouts")
    member_cap: int = Field(
        ge=1, le=MAX_AMOUNT, description="most a member is billed in one period (minor units)"
    )
    investigation_ms: int = Field(ge=1_000, le=365 * DAY_MS)
    notice_ms: int = Field(ge=1_000, le=90 * DAY_MS, description="public notice window")
    reveal_ms: int = Field(ge=1_000, le=30 * DAY_MS, description="jury seed reveal window")
    jury_ms: int = Field(ge=1_000, le=90 * DAY_MS, description="jury voting window")
    jury_size: int = Field(ge=1, le=99)
    jury_quorum: int = Field(ge=1, le=99, description="votes needed for a decision")
    proposal_ttl_ms: int = Field(ge=60_000, le=365 * DAY_MS)

    @field_validator("eligible_bands")
    @classmethod
    def _bands(cls, bands: list[str]) -> list[str]:
        for band in bands:
            check_band(band)
        if len(set(bands)) != len(bands):
            raise ValueError("an age band is listed twice")
        return bands

    @model_validator(mode="after")
    def _quorum(self) -> PlanRules:
        if self.jury_quorum > self.jury_size:
            raise ValueError(f"jury_quorum {self.jury_quorum} exceeds jury_size {self.jury_size}")
        return self


class RulesPatch(ActionArgs):
    """A change to some of a plan's rules; fields left out keep their value."""

    eligible_bands: list[str] | None = Field(default=None, min_length=1, max_length=16)
    waiting_ms: int | None = None
    attestation_ttl_ms: int | None = None
    period_ms: int | None = None
    fee_bps: int | None = None
    member_cap: int | None = None
    investigation_ms: int | None = None
    notice_ms: int | None = None
    reveal_ms: int | None = None
    jury_ms: int | None = None
    jury_size: int | None = None
    jury_quorum: int | None = None
    proposal_ttl_ms: int | None = None

    def apply_to(self, rules: dict[str, Any]) -> dict[str, Any]:
        """The rules with this patch applied, validated as a whole (ValueError if not)."""
        changed = {k: v for k, v in self.model_dump().items() if v is not None}
        if not changed:
            raise ValueError("a rules change must change at least one rule")
        return PlanRules.model_validate({**rules, **changed}).model_dump()


class ConditionSpec(ActionArgs):
    """A covered condition as a plan creation or an ``add_condition`` proposal gives it."""

    code: str = Field(description="ICD-10 code; covers its subcategories")
    name: str = Field(min_length=1, max_length=200)
    max_payout: int = Field(ge=1, le=MAX_AMOUNT, description="the most one claim pays")
    effective_from: str = Field(description="first diagnosis date covered, YYYY-MM-DD")
    funding: Literal["members", "sponsor"] = "members"

    _code = field_validator("code")(check_icd10)
    _from = field_validator("effective_from")(check_date)

    def version(self, *, added_by: int) -> dict[str, Any]:
        return {
            "name": self.name,
            "max_payout": self.max_payout,
            "effective_from": self.effective_from,
            "effective_until": None,
            "funding": self.funding,
            "added_by": added_by,
        }


def coverage_for(
    conditions: dict[str, list[dict[str, Any]]], code: str, diagnosed_on: str
) -> tuple[str, dict[str, Any]]:
    """The covered code and condition version that cover ``code`` diagnosed on a date.

    Raises :class:`ValueError` with the reason when nothing covers it: the code (or
    its category) is not covered at all, or not on that date.
    """
    candidates = [code] if "." not in code else [code, code.split(".", 1)[0]]
    day = parse_date(diagnosed_on)
    reason = None
    for covered in candidates:
        versions = conditions.get(covered)
        if not versions:
            continue
        for version in versions:
            start = parse_date(version["effective_from"])
            until = version["effective_until"]
            if start <= day and (until is None or day < parse_date(until)):
                return covered, version
        windows = ", ".join(
            f"from {v['effective_from']}"
            + (f" until {v['effective_until']}" if v["effective_until"] else "")
            for v in versions
        )
        reason = reason or (
            f"{covered} is covered only for diagnoses {windows}; {code} was diagnosed "
            f"on {diagnosed_on}"
        )
    raise ValueError(reason or f"{code} is not a condition this plan covers")


def example_rules() -> dict[str, Any]:
    """Rules in the spirit of Xiang Hu Bao (members 30 days to 59 years; 90-day wait;
    twice-monthly sharing; 8% fee), with short dispute windows. Amounts in CNY fen."""
    return {
        "eligible_bands": ["30d-17y", "18y-39y", "40y-59y"],
        "waiting_ms": 90 * DAY_MS,
        "attestation_ttl_ms": 30 * DAY_MS,
        "period_ms": 15 * DAY_MS,
        "fee_bps": 800,
        "member_cap": 1_000,
        "investigation_ms": 30 * DAY_MS,
        "notice_ms": 3 * DAY_MS,
        "reveal_ms": 1 * DAY_MS,
        "jury_ms": 3 * DAY_MS,
        "jury_size": 9,
        "jury_quorum": 5,
        "proposal_ttl_ms": 14 * DAY_MS,
    }


def example_conditions() -> list[dict[str, Any]]:
    """A few critical illnesses with a one-time payout of up to CNY 300,000 (in fen)."""
    payout = 300_000_00
    start = "2018-10-16"
    return [
        {"code": "C34", "name": "Malignant neoplasm of bronchus and lung", "max_payout": payout,
         "effective_from": start, "funding": "members"},
        {"code": "C50", "name": "Malignant neoplasm of breast", "max_payout": payout,
         "effective_from": start, "funding": "members"},
        {"code": "I21", "name": "Acute myocardial infarction", "max_payout": payout,
         "effective_from": start, "funding": "members"},
        {"code": "I63", "name": "Cerebral infarction", "max_payout": payout,
         "effective_from": start, "funding": "members"},
        {"code": "N18.5", "name": "Chronic kidney disease, stage 5", "max_payout": payout,
         "effective_from": start, "funding": "members"},
    ]  # fmt: skip
