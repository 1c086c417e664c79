"""The mutual-aid demo: a claim through every state, a Covid-19 rule change, closed periods,
seeded once through the API; its statement verifies offline and the guide says how.

The node is real (SQLite, uvicorn, signed transactions); only its block clock is moved
forward instead of sleeping through the plan's windows (``ClockedServer``).
"""

from __future__ import annotations

from pathlib import Path

from salus import demo
from salus.apps.mutual_aid import verify_statement
from salus.apps.mutual_aid.rules import PlanRules
from salus.demo._mutual_aid import MEMBERS, PLAN, demo_rules, mutual_aid_demo
from tests.api.mutual_aid_node import seeded_demo

BASE = f"/v1/mutual-aid/plans/{PLAN}"


def test_the_demo_plan_windows_are_as_short_as_the_rules_allow() -> None:
    rules = demo_rules()
    PlanRules.model_validate(rules)
    assert rules["waiting_ms"] == 0
    for name in ("notice_ms", "period_ms"):
        least = min(c.ge for c in PlanRules.model_fields[name].metadata if getattr(c, "ge", None))
        assert rules[name] == max(least, {"notice_ms": 6_000, "period_ms": 4_000}[name])


def test_mutual_aid_demo_seeds_a_plan_with_every_claim_state(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    with seeded_demo(home) as seeded:
        record, client = seeded.record, seeded.client
        height = client.status()["height"]
        again, seeded_now = demo.seed_apps(
            client, home, seeded.url, (mutual_aid_demo(wait=seeded.server.advance_to),)
        )
        assert seeded_now == [] and again["mutual_aid"] == record
        assert client.status()["height"] == height

        plan = seeded.get(BASE)
        assert plan["operator"] == "red-cross"
        assert plan["members"]["active"] == MEMBERS == len(record["members"])
        covid = next(c for c in plan["conditions"] if c["code"] == "U07.1")
        assert covid["funding"] == "sponsor" and covid["max_payout"] == 10_000_000
        assert covid["added_by"] == record["proposals"]["covid"]
        assert [c["kind"] for c in plan["changes"]] == ["add_condition", "set_rules"]
        assert plan["rules"]["notice_ms"] == 3 * 86_400_000

        claims = record["claims"]
        status = {
            name: seeded.get(f"{BASE}/claims/{number}")["status"] for name, number in claims.items()
        }
        assert status["unopposed"] == status["jury_approved"] == status["covid"] == "paid"
        assert status["jury_rejected"] == status["findings_rejected"] == "rejected"
        assert status["withdrawn"] == "withdrawn"
        assert status["in_notice"] == "public_notice"
        assert status["investigation"] == "investigation"
        # Approved, jury review and included were passed through: the histories say so.
        approved = seeded.get(f"{BASE}/claims/{claims['jury_approved']}")
        assert [h["status"] for h in approved["history"]] == [
            "submitted", "investigation", "public_notice", "jury_review", "approved",
            "included", "paid",
        ]  # fmt: skip
        assert approved["jury"]["panel"]["outcome"] == "approved"
        rejected = seeded.get(f"{BASE}/claims/{claims['jury_rejected']}/jury")
        assert rejected["panel"]["outcome"] == "rejected"
        assert rejected["panel"]["reject"] >= 3

        board = seeded.get(f"{BASE}/notice-board")
        (notice,) = board["in_notice"]
        assert notice["claim"] == claims["in_notice"] and notice["notice_open"]
        assert notice["objection_list"][0]["reason"].startswith("the claimant posted")

        periods = seeded.get(f"{BASE}/periods")["periods"]
        assert [p["period"] for p in reversed(periods)] == record["periods"]
        for period in periods:
            assert period["shares_sum_equals_charged"]
        unpaid = seeded.get(f"{BASE}/members/{record['unpaid_member']}")["balance"]
        assert unpaid["outstanding"] > 0 and unpaid["paid"] == 0

    # Offline, with the node stopped: the genesis and the file are enough.
    package = Path(record["statement"]).read_bytes()
    verdict = verify_statement(package, seeded.genesis)
    assert verdict.valid, verdict.reason
    assert verdict.statement is not None
    assert verdict.statement.member == record["statement_member"]
    assert verdict.statement.share > 0

    guide = "\n".join(mutual_aid_demo().guide(home, seeded.url, record))
    genesis_file = home.resolve() / "genesis.json"
    assert f"salus aid verify {record['statement']} --genesis {genesis_file}" in guide
    for page in ("#board", "#periods", "#diagram", f"#statement={record['statement_member']}"):
        assert f"{seeded.url}/aid/{page}" in guide
    full = demo.demo_guide(home, seeded.url, seeded.consortium, {"mutual_aid": record})
    assert f"{seeded.url}/aid/#board" in full
