"""Regions: ISO 3166 codes, the finer admin areas below them, and JHU CSSE names.

Rules this module obeys:
- Pure: the reference tables are CSV text in :mod:`.tables`, parsed once at import.
- One spelling per region. A region id is one of

  ============  ==========================  =======================================
  country       ``FR``                      ISO 3166-1 alpha-2 (alpha-3 ``FRA`` is
                                            accepted on input and stored as ``FR``)
  subdivision   ``US-NY``                   ISO 3166-2: country, ``-``, 1-3 of [A-Z0-9]
  special       ``X-DIAMOND-PRINCESS``      not an ISO entity (a ship, an event)
  area          ``US-NY:36061``             a finer admin area under any of these:
                                            parent, ``:``, a local id such as a US
                                            county FIPS code (1-40 of [A-Za-z0-9._-])
  ============  ==========================  =======================================

  and ``*`` is the whole world (only as a reporting scope). Country codes must be in
  the ISO 3166-1 table; a subdivision's code is checked against ISO 3166-2 for the
  United States and by format elsewhere (the ISO 3166-2 list of every country is
  not shipped).
- A scope covers a region when it is the region or one of its ancestors:
  ``US`` covers ``US-NY`` covers ``US-NY:36061``; ``*`` covers everything.

JHU names map to regions as follows: ``Country/Region`` by its JHU spelling, ISO name or
an alias (``Korea, South`` → ``KR``, ``Taiwan*`` → ``TW``, ``Congo (Kinshasa)`` → ``CD``,
``Burma`` → ``MM``; ``Diamond Princess`` → ``X-DIAMOND-PRINCESS``); ``Province/State``
by the provinces table (ISO 3166-2 for Australia, Canada and China, the territory's own
code for overseas territories such as Greenland ``GL``), else an area
``<country>:<SLUG>`` (``IT:LOMBARDIA``); US rows by state (``US-NY``) and county FIPS
(``US-NY:36061``), else ``US-NY:<SLUG of Admin2>``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from salus.apps.outbreak import tables

__all__ = [
    "WORLD",
    "RegionInfo",
    "ancestors",
    "check_region",
    "check_scope_region",
    "country_of",
    "country_region",
    "covers",
    "describe",
    "jhu_names",
    "level",
    "parent",
    "province_region",
    "slug",
    "us_region",
]

WORLD: Final = "*"
MAX_REGION_CHARS: Final = 64
_COUNTRY = re.compile(r"[A-Z]{2}")
_ALPHA3 = re.compile(r"[A-Z]{3}")
_SUBDIVISION = re.compile(r"([A-Z]{2})-([A-Z0-9]{1,3})")
_SPECIAL = re.compile(r"X-[A-Z0-9]+(?:-[A-Z0-9]+)*")
_LOCAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_MAX_AREA_DEPTH = 3


def _rows(text: str) -> Iterator[dict[str, str]]:
    yield from csv.DictReader(io.StringIO(text))


def _int_or_none(text: str) -> int | None:
    return int(text) if text else None


def _float_text(text: str) -> str | None:
    return text or None


@dataclass(frozen=True, slots=True)
class RegionInfo:
    """What the tables say about a region (``None`` where they say nothing).

    ``lat``/``long`` are kept as the decimal text of the source table; ``population``
    is an integer count; ``iso2``/``iso3`` name the ISO 3166-1 entity a map can colour.
    """

    region: str
    name: str
    level: str
    parent: str | None
    iso2: str | None = None
    iso3: str | None = None
    lat: str | None = None
    long: str | None = None
    population: int | None = None
    jhu_country: str | None = None
    jhu_province: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "region": self.region,
            "name": self.name,
            "level": self.level,
            "parent": self.parent,
            "iso2": self.iso2,
            "iso3": self.iso3,
            "lat": self.lat,
            "long": self.long,
            "population": self.population,
        }


def _name_key(name: str) -> str:
    """A name as looked up: accents dropped (Curaçao is Curacao), case folded."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return " ".join(plain.split()).casefold()


_COUNTRIES: dict[str, dict[str, str]] = {row["iso2"]: row for row in _rows(tables.COUNTRIES)}
_ALPHA3_TO_2 = {row["iso3"]: iso2 for iso2, row in _COUNTRIES.items()}
_PROVINCES: dict[tuple[str, str], dict[str, str]] = {
    (row["country"], _name_key(row["province"])): row for row in _rows(tables.PROVINCES)
}
_BY_PROVINCE_REGION = {row["region"]: row for row in _PROVINCES.values()}
_US_STATES = {row["code"]: row for row in _rows(tables.US_STATES)}
_US_BY_NAME = {_name_key(row["name"]): row["code"] for row in _US_STATES.values()}
_US_BY_FIPS = {row["fips"]: row["code"] for row in _US_STATES.values()}
_SPECIAL_BY_NAME = {_name_key(row["name"]): row["region"] for row in _rows(tables.SPECIAL)}
_SPECIAL_NAMES = {row["region"]: row["name"] for row in _rows(tables.SPECIAL)}


_NAMES: dict[str, str] = {}
for _iso2, _row in _COUNTRIES.items():
    _NAMES[_name_key(_row["name"])] = _iso2
for _row in _rows(tables.ALIASES):
    _NAMES[_name_key(_row["name"])] = _row["region"]
for _iso2, _row in _COUNTRIES.items():
    if _row["jhu_name"]:
        _NAMES[_name_key(_row["jhu_name"])] = _iso2
_NAMES.update(_SPECIAL_BY_NAME)


def _check_country(code: str, text: str) -> str:
    if _COUNTRY.fullmatch(code):
        if code not in _COUNTRIES:
            raise ValueError(f"region {text!r}: {code!r} is not an ISO 3166-1 alpha-2 country")
        return code
    if _ALPHA3.fullmatch(code):
        try:
            return _ALPHA3_TO_2[code]
        except KeyError:
            raise ValueError(
                f"region {text!r}: {code!r} is not an ISO 3166-1 alpha-3 country"
            ) from None
    raise ValueError(
        f"region {text!r}: {code!r} is not a country code (ISO 3166-1 alpha-2 or alpha-3)"
    )


def _check_top(part: str, text: str) -> str:
    upper = part.upper()
    if _SPECIAL.fullmatch(upper):
        return upper
    match = _SUBDIVISION.fullmatch(upper)
    if match:
        country = _check_country(match.group(1), text)
        code = f"{country}-{match.group(2)}"
        if country == "US" and code not in _US_STATES:
            raise ValueError(f"region {text!r}: {code!r} is not an ISO 3166-2:US subdivision")
        return code
    if "-" in upper:
        raise ValueError(
            f"region {text!r}: {part!r} is neither an ISO 3166-2 subdivision (like US-NY) "
            "nor a special region (like X-DIAMOND-PRINCESS)"
        )
    return _check_country(upper, text)


def check_region(text: str) -> str:
    """The canonical id of region ``text``; :class:`ValueError` says what is wrong.

    Accepts alpha-3 country codes and lower case for the ISO parts; ``*`` is refused
    (it is a scope, not a region: see :func:`check_scope_region`).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a region id must be a non-empty string")
    value = text.strip()
    if len(value) > MAX_REGION_CHARS:
        raise ValueError(f"region {value[:20]!r}... is over {MAX_REGION_CHARS} characters")
    top, *locals_ = value.split(":")
    if len(locals_) > _MAX_AREA_DEPTH:
        raise ValueError(f"region {value!r} nests areas deeper than {_MAX_AREA_DEPTH} levels")
    for local in locals_:
        if not _LOCAL.fullmatch(local):
            raise ValueError(
                f"region {value!r}: area id {local!r} must be 1-40 of [A-Za-z0-9._-], "
                "starting with a letter or digit"
            )
    return ":".join([_check_top(top, value), *locals_])


def check_scope_region(text: str) -> str:
    """Like :func:`check_region`, also accepting ``*`` (every region)."""
    if isinstance(text, str) and text.strip() == WORLD:
        return WORLD
    return check_region(text)


def parent(region: str) -> str | None:
    """The region directly above ``region`` (``None`` for a country or special region)."""
    if ":" in region:
        return region.rsplit(":", 1)[0]
    if _SUBDIVISION.fullmatch(region):
        return region[:2]
    return None


def ancestors(region: str) -> list[str]:
    """``region``, then each region above it, then ``*``."""
    chain = [region]
    above = parent(region)
    while above is not None:
        chain.append(above)
        above = parent(above)
    chain.append(WORLD)
    return chain


def covers(scope: str, region: str) -> bool:
    """Whether reporting scope ``scope`` includes ``region``."""
    return scope in ancestors(region)


def country_of(region: str) -> str:
    """The top-level region (country or special region) ``region`` lies in."""
    return ancestors(region)[-2]


def level(region: str) -> str:
    """``country``, ``subdivision``, ``special``, ``area`` or ``world``."""
    if region == WORLD:
        return "world"
    if ":" in region:
        return "area"
    if _SUBDIVISION.fullmatch(region):
        return "subdivision"
    if _SPECIAL.fullmatch(region):
        return "special"
    return "country"


def describe(region: str) -> RegionInfo:
    """What the reference tables know about ``region`` (precondition: canonical id)."""
    kind = level(region)
    if kind == "country":
        row = _COUNTRIES[region]
        # A territory JHU lists as a province (Greenland) has its figures in that table.
        extra = _BY_PROVINCE_REGION.get(region, row)
        return RegionInfo(
            region,
            row["name"],
            kind,
            None,
            iso2=region,
            iso3=row["iso3"],
            lat=_float_text(row["lat"] or extra["lat"]),
            long=_float_text(row["long"] or extra["long"]),
            population=_int_or_none(row["population"] or extra["population"]),
            jhu_country=row["jhu_name"] or row["name"],
        )
    if kind == "special":
        name = _SPECIAL_NAMES.get(region, region[2:].replace("-", " ").title())
        return RegionInfo(region, name, kind, None, jhu_country=name)
    province = _BY_PROVINCE_REGION.get(region)
    if province is not None:
        country = _COUNTRIES[province["country"]]
        return RegionInfo(
            region,
            province["province"],
            kind,
            parent(region),
            lat=_float_text(province["lat"]),
            long=_float_text(province["long"]),
            population=_int_or_none(province["population"]),
            jhu_country=country["jhu_name"],
            jhu_province=province["province"],
        )
    if region in _US_STATES:
        name = _US_STATES[region]["name"]
        return RegionInfo(region, name, kind, "US", jhu_country="US", jhu_province=name)
    local = region.rsplit(":", 1)[-1] if kind == "area" else region.split("-", 1)[1]
    return RegionInfo(region, local, kind, parent(region))


def jhu_names(region: str) -> tuple[str, str]:
    """``(Province/State, Country/Region)`` to write for ``region`` in a JHU global file."""
    if level(region) == "country" and region in _BY_PROVINCE_REGION:
        # A territory JHU lists under its sovereign state (Greenland, Denmark).
        row = _BY_PROVINCE_REGION[region]
        return row["province"], _COUNTRIES[row["country"]]["jhu_name"]
    info = describe(region)
    top = describe(country_of(region))
    if region == country_of(region):
        return "", top.jhu_country or top.name
    return info.jhu_province or info.name, top.jhu_country or top.name


def slug(text: str) -> str:
    """An area id from a free-text name: ASCII upper case, words joined by ``-``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Z0-9]+", "-", ascii_text.upper()).strip("-")[:40].strip("-")


def country_region(name: str) -> str | None:
    """The region of a JHU ``Country/Region`` name, or ``None`` if it is unknown."""
    key = _name_key(name)
    if not key:
        return None
    found = _NAMES.get(key) or _NAMES.get(key.rstrip("*").strip())
    if found is None and len(key) in (2, 3):
        try:
            found = _check_country(key.upper(), name)
        except ValueError:
            return None
    return found


def province_region(country: str, province: str) -> str | None:
    """The region of a JHU ``Province/State`` within country region ``country``.

    ``None`` when no area id can be made from the name.
    """
    name = province.strip()
    if not name or _name_key(name) == _name_key(describe(country).name):
        return country
    row = _PROVINCES.get((country, _name_key(name)))
    if row is not None:
        return row["region"]
    special = _SPECIAL_BY_NAME.get(_name_key(name))
    if special is not None:
        return f"{country}:{special}"
    local = slug(name)
    return f"{country}:{local}" if local else None


def us_region(province_state: str, admin2: str, fips: str) -> str | None:
    """The region of a row of a JHU US file; ``None`` for an unknown state.

    ``fips`` may carry JHU's ``.0`` float formatting ("1001.0"); a county FIPS code is
    five digits (state FIPS + county), zero-padded as the Census writes it.
    """
    state_name = province_state.strip()
    special = _SPECIAL_BY_NAME.get(_name_key(state_name))
    if special is not None:
        return f"US:{special}"
    state = _US_BY_NAME.get(_name_key(state_name))
    code = fips.strip().removesuffix(".0")
    if state is None and code.isdigit() and len(code) <= 5:
        state = _US_BY_FIPS.get(code.zfill(5)[:2])
    if state is None:
        return None
    county = admin2.strip()
    if not county:
        return state
    if code.isdigit() and len(code) <= 5:
        return f"{state}:{code.zfill(5)}"
    local = slug(county)
    return f"{state}:{local}" if local else None
