"""The outbreak contract: scopes, reports, corrections with reasons, conflicts, batches."""

from __future__ import annotations

from typing import Any

import pytest

from salus.apps import network_contracts
from salus.apps.outbreak import OUTBREAK, latest_figures
from salus.core.crypto import Signer
from salus.core.ledger import Ledger
from tests.apps.outbreak.support import (
    CONSORTIUM,
    HOSPITAL,
    MINISTRY,
    RED_CROSS,
    VOLUNTEER,
    outbreak_genesis,
)
from tests.support import Chain, genesis_data

ROOT, FILE_HASH, BLOB = "a" * 64, "b" * 64, "c" * 64
DAY = "2020-03-01"  # the chain's block time is 2020-09-13


def chain(ministry: str | None = "*") -> Chain:
    """A chain whose ministry holds scope ``ministry``, granted by the consortium."""
    c = Chain(outbreak_genesis(), network_contracts())
    if ministry is not None:
        consortium_grants(c, "health-ministry", ministry)
    return c


def consortium_grants(c: Chain, subject: str, region: str) -> None:
    """2 of the 3 member organisations (M of N) approve; the second approval grants."""
    for signer in CONSORTIUM:
        ok(c, signer, "grant_scope", subject=subject, region=region)


def run(c: Chain, signer: Signer, action: str, **args: Any) -> Any:
    return c.run(signer, OUTBREAK, action, args)


def ok(c: Chain, signer: Signer, action: str, **args: Any) -> Any:
    result = run(c, signer, action, **args)
    assert result.ok, result.reason
    return result


def refused(c: Chain, signer: Signer, action: str, **args: Any) -> str:
    result = run(c, signer, action, **args)
    assert not result.ok
    return str(result.reason)


def figures(**values: int) -> dict[str, dict[str, Any]]:
    return {metric: {"value": value, "basis": "cumulative"} for metric, value in values.items()}


def batch_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "root": ROOT,
        "file_sha256": FILE_HASH,
        "rows": 2,
        "figures": 8,
        "format": "jhu-global-ts",
        "source": "time_series_covid19_confirmed_global.csv",
        "blobs": [BLOB],
        "cover": ["FR", "IT"],
        "first_date": "2020-01-22",
        "last_date": "2020-01-25",
        "metrics": ["confirmed"],
    }
    return {**args, **overrides}


def state(c: Chain, key: str) -> Any:
    return c.ledger.read(OUTBREAK, key)


def test_installing_the_contract_leaves_the_genesis_state_root_unchanged() -> None:
    genesis = outbreak_genesis()
    without = [c for c in network_contracts() if c.name != OUTBREAK]
    assert Ledger.from_genesis(genesis, network_contracts()).state_root == (
        Ledger.from_genesis(genesis, without).state_root
    )


def test_a_health_authority_grants_scopes_within_its_own() -> None:
    c = chain()
    ok(c, MINISTRY, "grant_scope", subject="city-hospital", region="fra", note="national lab")
    record = state(c, "scope/city-hospital")
    assert list(record["regions"]) == ["FR"]  # alpha-3 stored as alpha-2
    assert record["regions"]["FR"]["note"] == "national lab"
    assert "already holds scope FR" in refused(
        c, MINISTRY, "grant_scope", subject="city-hospital", region="FR"
    )
    assert "not an active member" in refused(
        c, MINISTRY, "grant_scope", subject="no-such-org", region="FR"
    )
    assert "not an ISO 3166-1" in refused(
        c, MINISTRY, "grant_scope", subject="city-hospital", region="ZZ"
    )
    ok(c, MINISTRY, "grant_scope", subject=VOLUNTEER.did, region="US-NY:36061")


def test_a_scope_covers_its_region_and_everything_below() -> None:
    c = chain()
    ok(c, MINISTRY, "grant_scope", subject="city-hospital", region="US-NY")
    ok(c, HOSPITAL, "report", region="US-NY:36061", date=DAY, figures=figures(confirmed=10))
    ok(c, HOSPITAL, "report", region="us-ny", date=DAY, figures=figures(confirmed=40))
    reason = refused(c, HOSPITAL, "report", region="US-NJ", date=DAY, figures=figures(deaths=1))
    assert reason == "city-hospital has no reporting scope covering US-NJ (its scopes: US-NY)"
    reason = refused(c, RED_CROSS, "report", region="FR", date=DAY, figures=figures(deaths=1))
    assert reason == "red-cross has no reporting scope covering FR (its scopes: none)"


def test_a_report_is_signed_by_the_organisation_and_kept_with_its_block() -> None:
    c = chain()
    ok(c, MINISTRY, "grant_scope", subject="city-hospital", region="FR")
    result = ok(
        c,
        HOSPITAL,
        "report",
        region="FR",
        date=DAY,
        figures={
            "confirmed": {"value": 130, "basis": "cumulative"},
            "tests": {"value": 2000, "basis": "new"},
        },
        note="morning count",
    )
    record = state(c, f"report/FR/{DAY}/city-hospital")
    (version,) = record["versions"]
    assert version["version"] == 1 and version["reason"] == "" and version["by"] == HOSPITAL.did
    assert version["figures"]["tests"] == {"value": 2000, "basis": "new"}
    assert version["tx"] == result.tx_id.hex()
    assert [e.type for e in result.events] == ["reported"]
    assert state(c, f"day/FR/{DAY}") == ["city-hospital"]
    again = refused(c, HOSPITAL, "report", region="FR", date=DAY, figures=figures(confirmed=1))
    assert "already reported FR for 2020-03-01 (version 1" in again
    assert "send a correction with a reason" in again


def test_a_correction_is_a_new_version_with_its_reason_and_history_stays() -> None:
    c = chain()
    ok(c, MINISTRY, "grant_scope", subject="city-hospital", region="FR")
    ok(c, HOSPITAL, "report", region="FR", date=DAY, figures=figures(confirmed=130, deaths=2))
    missing = run(c, HOSPITAL, "correct", region="FR", date=DAY, figures=figures(confirmed=1))
    assert not missing.ok and "reason" in missing.reason
    ok(
        c,
        HOSPITAL,
        "correct",
        region="FR",
        date=DAY,
        figures=figures(confirmed=142),
        reason="late laboratory results",
    )
    record = state(c, f"report/FR/{DAY}/city-hospital")
    assert [v["version"] for v in record["versions"]] == [1, 2]
    assert record["versions"][0]["figures"]["confirmed"]["value"] == 130
    assert record["versions"][1]["reason"] == "late laboratory results"
    latest = latest_figures(record)
    assert latest["confirmed"]["value"] == 142 and latest["confirmed"]["version"] == 2
    assert latest["deaths"]["value"] == 2 and latest["deaths"]["version"] == 1
    same = refused(
        c, HOSPITAL, "correct", region="FR", date=DAY, figures=figures(confirmed=142), reason="x"
    )
    assert "changes nothing" in same
    nothing = refused(
        c,
        HOSPITAL,
        "correct",
        region="FR",
        date="2020-03-02",
        figures=figures(deaths=3),
        reason="x",
    )
    assert "no report of FR for 2020-03-02 to correct" in nothing


def test_reports_of_different_reporters_stay_side_by_side_and_disagreement_is_flagged() -> None:
    c = chain()
    ok(c, MINISTRY, "grant_scope", subject="city-hospital", region="IT")
    ok(c, MINISTRY, "grant_scope", subject="red-cross", region="IT")
    ok(c, HOSPITAL, "report", region="IT", date=DAY, figures=figures(confirmed=100))
    agreeing = ok(c, RED_CROSS, "report", region="IT", date=DAY, figures=figures(confirmed=100))
    assert [e.type for e in agreeing.events] == ["reported"]
    result = ok(c, MINISTRY, "report", region="IT", date=DAY, figures=figures(confirmed=120))
    conflict = result.events[-1]
    assert conflict.type == "conflict"
    assert conflict.attrs["others"] == ["city-hospital", "red-cross"]
    assert conflict.attrs["metrics"] == ["confirmed"]
    assert state(c, f"day/IT/{DAY}") == ["city-hospital", "health-ministry", "red-cross"]
    for reporter, value in (("city-hospital", 100), ("red-cross", 100), ("health-ministry", 120)):
        record = state(c, f"report/IT/{DAY}/{reporter}")
        assert latest_figures(record)["confirmed"]["value"] == value  # nothing merged


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"date": "2020-02-30"}, "is not a calendar date"),
        ({"date": "01/03/2020"}, "must be YYYY-MM-DD"),
        ({"date": "2021-01-01"}, "is after the block date 2020-09-13"),
        ({"figures": {}}, "at least 1 item"),
        ({"figures": {"cases": {"value": 1, "basis": "cumulative"}}}, "confirmed"),
        ({"figures": {"confirmed": {"value": -1, "basis": "cumulative"}}}, "cannot be negative"),
        ({"figures": {"confirmed": {"value": "12", "basis": "cumulative"}}}, "integer"),
        ({"figures": {"confirmed": {"value": 1, "basis": "daily"}}}, "cumulative"),
        ({"region": "Narnia"}, "is not a country code"),
        ({"region": "US-ZZ"}, "is not an ISO 3166-2:US subdivision"),
        ({"region": "FR:bad id"}, "area id"),
    ],
)
def test_bad_reports_are_refused_naming_the_problem(args: dict[str, Any], message: str) -> None:
    c = chain()
    ok(c, MINISTRY, "grant_scope", subject="city-hospital", region="*")
    base = {"region": "FR", "date": DAY, "figures": figures(confirmed=1)}
    reason = refused(c, HOSPITAL, "report", **{**base, **args})
    assert message in reason, reason


def test_a_new_figure_may_be_negative_but_not_a_cumulative_one() -> None:
    c = chain()
    ok(c, MINISTRY, "grant_scope", subject="city-hospital", region="FR")
    ok(
        c,
        HOSPITAL,
        "report",
        region="FR",
        date=DAY,
        figures={"confirmed": {"value": -12, "basis": "new"}},
        note="a downward revision of the previous day",
    )


def test_a_batch_is_anchored_once_within_the_reporters_scope() -> None:
    c = chain("FR")
    reason = refused(c, MINISTRY, "anchor_batch", **batch_args())
    assert reason == "health-ministry has no reporting scope covering IT (its scopes: FR)"
    consortium_grants(c, "health-ministry", "IT")
    result = ok(c, MINISTRY, "anchor_batch", **batch_args())
    record = state(c, f"batch/{ROOT}")
    assert record["reporter"] == "health-ministry" and record["rows"] == 2
    assert record["cover"] == ["FR", "IT"] and record["tx"] == result.tx_id.hex()
    assert result.events[0].type == "batch_anchored" and result.events[0].subject == ROOT
    assert "already anchored at height" in refused(c, MINISTRY, "anchor_batch", **batch_args())
    world = refused(c, MINISTRY, "anchor_batch", **batch_args(root="d" * 64, cover=["*"]))
    assert "no reporting scope covering *" in world


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"root": "A" * 64}, "64 lower-case hex"),
        ({"rows": 0}, "greater than or equal to 1"),
        ({"cover": ["IT", "FR"]}, "sorted"),
        ({"cover": ["FR", "FR"]}, "sorted"),
        ({"metrics": ["deaths", "confirmed"]}, "sorted"),
        ({"first_date": "2020-02-01"}, "is after last_date"),
        ({"last_date": "2024-01-01"}, "after the block date"),
        ({"format": "xlsx"}, "jhu-global-ts"),
        ({"blobs": []}, "at least 1 item"),
    ],
)
def test_bad_batches_are_refused(overrides: dict[str, Any], message: str) -> None:
    c = chain()
    reason = refused(c, MINISTRY, "anchor_batch", **batch_args(**overrides))
    assert message in reason, reason


def test_an_imported_figure_is_corrected_by_naming_its_batch() -> None:
    c = chain()
    ok(c, MINISTRY, "anchor_batch", **batch_args())
    fix = {"region": "FR", "date": "2020-01-24", "figures": figures(confirmed=5)}
    assert "name its batch" in refused(c, MINISTRY, "correct", **fix, reason="late results")
    result = ok(c, MINISTRY, "correct", **fix, reason="late results", batch=ROOT)
    assert result.events[0].type == "corrected"
    (version,) = state(c, "report/FR/2020-01-24/health-ministry")["versions"]
    assert version["corrects"] == {"batch": ROOT} and version["reason"] == "late results"
    outside = {**fix, "region": "DE"}
    assert "does not cover region DE" in refused(
        c, MINISTRY, "correct", **outside, reason="x", batch=ROOT
    )
    late = {**fix, "date": "2020-02-01"}
    assert "holds 2020-01-22 to 2020-01-25" in refused(
        c, MINISTRY, "correct", **late, reason="x", batch=ROOT
    )
    other = {**fix, "figures": figures(deaths=1)}
    assert "holds no deaths figures" in refused(
        c, MINISTRY, "correct", **other, reason="x", batch=ROOT
    )


def test_a_revoked_scope_stops_new_reports_but_keeps_history() -> None:
    c = chain()
    ok(c, MINISTRY, "grant_scope", subject="red-cross", region="IT")
    ok(c, RED_CROSS, "report", region="IT", date=DAY, figures=figures(confirmed=9))
    ok(c, MINISTRY, "revoke_scope", subject="red-cross", region="IT", reason="teams withdrawn")
    assert "no reporting scope" in refused(
        c, RED_CROSS, "report", region="IT", date="2020-03-02", figures=figures(confirmed=9)
    )
    record = state(c, "scope/red-cross")
    assert record["regions"] == {}
    assert [h["action"] for h in record["history"]] == ["grant", "revoke"]
    assert record["history"][1]["note"] == "teams withdrawn"
    assert state(c, f"report/IT/{DAY}/red-cross") is not None
    assert "holds no scope IT" in refused(
        c, MINISTRY, "revoke_scope", subject="red-cross", region="IT", reason="again"
    )


def test_an_individual_reporter_reports_under_its_did() -> None:
    c = chain()
    ok(c, MINISTRY, "grant_scope", subject=VOLUNTEER.did, region="X-DIAMOND-PRINCESS")
    ok(c, VOLUNTEER, "report", region="X-DIAMOND-PRINCESS", date=DAY, figures=figures(deaths=1))
    assert state(c, f"report/X-DIAMOND-PRINCESS/{DAY}/{VOLUNTEER.did}") is not None


def test_genesis_without_the_authority_role_still_works() -> None:
    from salus.core.genesis import Genesis

    c = Chain(Genesis.from_data(genesis_data(3)), network_contracts())
    # With no health authority, scopes come from the consortium alone: M of N approvals.
    first = ok(c, MINISTRY, "grant_scope", subject="city-hospital", region="FR")
    assert first.events[0].type == "scope_approval" and state(c, "scope/city-hospital") is None
    ok(c, RED_CROSS, "grant_scope", subject="city-hospital", region="FR")
    assert list(state(c, "scope/city-hospital")["regions"]) == ["FR"]
    assert "requires role" in refused(
        c, VOLUNTEER, "grant_scope", subject="city-hospital", region="IT"
    )


def test_no_authority_grants_itself_a_scope_alone() -> None:
    # Review finding 4: any health authority could grant itself * (and revoke others').
    c = chain(None)
    for subject in ("health-ministry", MINISTRY.did):
        result = ok(c, MINISTRY, "grant_scope", subject=subject, region="*")
        assert [e.type for e in result.events] == ["scope_approval"]
        assert state(c, f"scope/{subject}") is None
    # Its own approval is one of the M of N, as a proposer's is in identity governance.
    ok(c, HOSPITAL, "grant_scope", subject="health-ministry", region="*")
    granted = state(c, "scope/health-ministry")["regions"]["*"]
    assert granted["consortium"] == ["city-hospital", "health-ministry"]
    # A holder may give its scope up.
    ok(c, MINISTRY, "revoke_scope", subject="health-ministry", region="*", reason="handover")
    assert state(c, "scope/health-ministry")["regions"] == {}


def test_an_authority_grants_and_revokes_only_within_its_own_scopes() -> None:
    c = chain("FR")
    ok(c, MINISTRY, "grant_scope", subject="city-hospital", region="FR-75")
    # Outside its scopes the ministry's grant is only its organisation's approval.
    result = ok(c, MINISTRY, "grant_scope", subject="red-cross", region="*")
    assert [e.type for e in result.events] == ["scope_approval"]
    assert result.events[0].attrs == {
        "region": "*", "action": "grant", "org": "health-ministry", "approvals": 1,
        "required": 2,
    }  # fmt: skip
    assert state(c, "scope/red-cross") is None
    assert "already approved" in refused(
        c, MINISTRY, "grant_scope", subject="red-cross", region="*"
    )
    # A consortium-granted scope is not the ministry's to revoke, though FR covers it.
    consortium_grants_red_cross = [HOSPITAL]  # the ministry already approved
    for signer in consortium_grants_red_cross:
        ok(c, signer, "grant_scope", subject="red-cross", region="*")
    assert "*" in state(c, "scope/red-cross")["regions"]
    pending = ok(c, MINISTRY, "revoke_scope", subject="red-cross", region="*", reason="no")
    assert pending.events[0].type == "scope_approval"
    assert "*" in state(c, "scope/red-cross")["regions"]
    # An individual key holding no authority role cannot approve anything.
    reason = refused(c, VOLUNTEER, "revoke_scope", subject="city-hospital", region="FR-75",
                     reason="x")  # fmt: skip
    assert "requires role" in reason
