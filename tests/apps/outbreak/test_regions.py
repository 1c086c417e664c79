"""Region ids: ISO 3166 codes, areas below them, scopes, and JHU names."""

from __future__ import annotations

import pytest

from salus.apps.outbreak.regions import (
    ancestors,
    check_region,
    check_scope_region,
    country_region,
    covers,
    describe,
    jhu_names,
    level,
    province_region,
    slug,
    us_region,
)


@pytest.mark.parametrize(
    ("text", "canonical", "kind"),
    [
        ("FR", "FR", "country"),
        ("fra", "FR", "country"),
        ("USA", "US", "country"),
        ("us-ny", "US-NY", "subdivision"),
        ("US-NY:36061", "US-NY:36061", "area"),
        ("CN-HB", "CN-HB", "subdivision"),
        ("X-DIAMOND-PRINCESS", "X-DIAMOND-PRINCESS", "special"),
        ("CA:X-GRAND-PRINCESS", "CA:X-GRAND-PRINCESS", "area"),
        ("XK", "XK", "country"),
    ],
)
def test_region_ids(text: str, canonical: str, kind: str) -> None:
    assert check_region(text) == canonical
    assert level(canonical) == kind


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "non-empty"),
        ("ZZ", "not an ISO 3166-1 alpha-2"),
        ("ZZZ", "not an ISO 3166-1 alpha-3"),
        ("FRANCE", "not a country code"),
        ("US-XX", "not an ISO 3166-2:US subdivision"),
        ("FR-LONGCODE", "neither an ISO 3166-2 subdivision"),
        ("FR:has space", "area id"),
        ("FR:a:b:c:d", "deeper than 3"),
        ("*", "not a country code"),
    ],
)
def test_bad_region_ids_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_region(text)


def test_scopes_cover_their_region_and_below() -> None:
    assert ancestors("US-NY:36061") == ["US-NY:36061", "US-NY", "US", "*"]
    assert covers("US", "US-NY:36061") and covers("*", "X-MS-ZAANDAM")
    assert not covers("US-NY", "US-NJ") and not covers("US-NY:36061", "US-NY")
    assert check_scope_region(" * ") == "*"


@pytest.mark.parametrize(
    ("name", "region"),
    [
        ("US", "US"),
        ("Korea, South", "KR"),
        ("Taiwan*", "TW"),
        ("Congo (Kinshasa)", "CD"),
        ("Congo (Brazzaville)", "CG"),
        ("Burma", "MM"),
        ("Cote d'Ivoire", "CI"),
        ("West Bank and Gaza", "PS"),
        ("Kosovo", "XK"),
        ("Holy See", "VA"),
        ("Mainland China", "CN"),
        ("Iran (Islamic Republic of)", "IR"),
        ("Curaçao", "CW"),
        ("Diamond Princess", "X-DIAMOND-PRINCESS"),
        ("MS Zaandam", "X-MS-ZAANDAM"),
        ("Summer Olympics 2020", "X-SUMMER-OLYMPICS-2020"),
        ("  united kingdom ", "GB"),
        ("Narnia", None),
    ],
)
def test_jhu_country_names(name: str, region: str | None) -> None:
    assert country_region(name) == region


def test_provinces_and_us_rows() -> None:
    assert province_region("AU", "New South Wales") == "AU-NSW"
    assert province_region("CN", "Hong Kong") == "HK"
    assert province_region("DK", "Greenland") == "GL"
    assert province_region("CA", "Diamond Princess") == "CA:X-DIAMOND-PRINCESS"
    assert province_region("IT", "Lombardia") == "IT:LOMBARDIA"
    assert province_region("FR", "") == "FR"
    assert province_region("FR", "!!!") is None
    assert us_region("New York", "New York", "36061.0") == "US-NY:36061"
    assert us_region("Alabama", "Autauga", "1001") == "US-AL:01001"
    assert us_region("Alabama", "", "") == "US-AL"
    assert us_region("Grand Princess", "", "99999") == "US:X-GRAND-PRINCESS"
    assert us_region("Narnia", "", "") is None
    assert slug("Saint-Barthélemy (FR)") == "SAINT-BARTHELEMY-FR"


def test_descriptions_and_jhu_names_for_export() -> None:
    france = describe("FR")
    assert (france.iso3, france.population, france.lat) == ("FRA", 65273512, "46.2276")
    assert describe("GL").population == 56772  # from the provinces table
    assert describe("KP").population is None  # not in the lookup table version used
    assert jhu_names("FR") == ("", "France")
    assert jhu_names("KR") == ("", "Korea, South")
    assert jhu_names("GL") == ("Greenland", "Denmark")
    assert jhu_names("CN-HB") == ("Hubei", "China")
    assert jhu_names("X-DIAMOND-PRINCESS") == ("", "Diamond Princess")
    assert describe("US-NY").name == "New York"
