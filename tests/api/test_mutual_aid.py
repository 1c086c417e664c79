"""The /v1/mutual-aid routes over real HTTP, on a plan with a claim in every state."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from xml.etree import ElementTree

import cbor2
import httpx
import pytest
from fastapi.routing import APIRoute

from salus.api._routes_mutual_aid import CHUNK, mutual_aid_router
from salus.apps.mutual_aid import CLAIM_STATES, CLAIM_TRANSITIONS, render_claim_diagram
from salus.apps.mutual_aid.rules import DAY_MS
from salus.apps.mutual_aid.statement import verify_statement
from tests.api.harness import assert_error
from tests.api.mutual_aid_node import PLAN, Scenario, drive_plan, plan_node
from tests.apps.mutual_aid.plan import ASSESSOR, PlanChain, member_key
from tests.apps.mutual_aid.plan import PLAN as CHAIN_PLAN

BASE = f"/v1/mutual-aid/plans/{PLAN}"
MEMBERS = 13


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    with plan_node(tmp_path_factory.mktemp("aid-api")) as scenario:
        drive_plan(scenario, members=MEMBERS)
        yield scenario


@pytest.fixture
def http(plan: Scenario) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=plan.url, timeout=10) as client:
        yield client


def get(http: httpx.Client, path: str, **params: Any) -> Any:
    response = http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_plans_and_a_plan_with_its_rules_and_changes(http: httpx.Client, plan: Scenario) -> None:
    (listed,) = get(http, "/v1/mutual-aid/plans")["plans"]
    assert listed["plan"] == PLAN and listed["members"] == MEMBERS and listed["claims"] == 7
    body = get(http, BASE)
    assert body["operator"] == "red-cross" and body["currency"] == "CNY"
    assert body["rules"]["notice_ms"] == 3 * 86_400_000
    codes = {c["code"]: c for c in body["conditions"]}
    assert set(codes) == {"C34", "I21", "U07.1"}
    assert codes["C34"]["added_by"] is None and codes["C34"]["in_force"]
    covid = codes["U07.1"]
    assert covid == {
        "code": "U07.1",
        "name": "COVID-19, virus identified",
        "max_payout": 10_000_000,
        "funding": "sponsor",
        "effective_from": "2020-01-01",
        "effective_until": None,
        "in_force": True,
        "added_by": 1,
        "removed_by": None,
    }
    (change,) = body["changes"]
    assert change["kind"] == "add_condition" and change["proposal"] == 1
    assert change["proposal_record"]["approvals"] == ["health-ministry", "red-cross"]
    assert change["proposal_record"]["status"] == "executed"
    assert body["members"] == {"active": MEMBERS, "enrolled": MEMBERS, "left_this_period": 0}
    assert body["pools"]["sponsor"]["balance"] == 100_000_00 - 50_000_00
    assert body["closed_periods"] == 1 and body["open_period"]["period"] == 2
    assert body["as_of"]["height"] >= 1
    proposals = get(http, f"{BASE}/proposals")
    assert [p["proposal"] for p in proposals["proposals"]] == [1] and proposals["next"] is None
    assert get(http, "/v1/mutual-aid/plans")["next"] is None
    assert get(http, f"{BASE}/proposals/1")["note"] == "Covid-19, funded by a sponsor"


def test_the_claims_list_is_anonymised(http: httpx.Client, plan: Scenario) -> None:
    body = get(http, f"{BASE}/claims")
    assert [c["claim"] for c in body["claims"]] == [7, 6, 5, 4, 3, 2, 1]
    assert body["next"] is None
    text = json.dumps(body)
    for n in range(MEMBERS):
        assert member_key(n).did not in text
    assert "evidence" not in text and "diagnosed_on" not in text and "claimant" not in text
    by_status = {c["claim"]: c["status"] for c in body["claims"]}
    assert by_status[plan.claims["unopposed"]] == "paid"
    assert by_status[plan.claims["jury_rejected"]] == "rejected"
    assert by_status[plan.claims["withdrawn"]] == "withdrawn"
    assert by_status[plan.claims["in_notice"]] == "public_notice"
    notice = get(http, f"{BASE}/claims", status="public_notice")["claims"]
    assert [c["claim"] for c in notice] == [plan.claims["in_notice"]]
    assert notice[0]["deadlines"]["notice"] > notice[0]["submitted_ms"]
    both = get(http, f"{BASE}/claims", status=["rejected", "withdrawn"])["claims"]
    assert {c["status"] for c in both} == {"rejected", "withdrawn"}


def test_claims_page_with_a_cursor(http: httpx.Client) -> None:
    first = get(http, f"{BASE}/claims", limit=3)
    assert [c["claim"] for c in first["claims"]] == [7, 6, 5] and first["next"] == 5
    second = get(http, f"{BASE}/claims", limit=3, before=first["next"])
    assert [c["claim"] for c in second["claims"]] == [4, 3, 2] and second["next"] == 2
    last = get(http, f"{BASE}/claims", limit=3, before=second["next"])
    assert [c["claim"] for c in last["claims"]] == [1] and last["next"] is None


def test_a_claim_with_who_and_why_at_every_step(http: httpx.Client, plan: Scenario) -> None:
    body = get(http, f"{BASE}/claims/{plan.claims['jury_approved']}")
    steps = [(h["status"], h["action"], h["role"]) for h in body["history"]]
    assert steps == [
        ("submitted", "submit_claim", "claimant"),
        ("investigation", "start_investigation", "assessor"),
        ("public_notice", "record_findings", "assessor"),
        ("jury_review", "close_notice", "anyone"),
        ("approved", "vote", "juror"),
        ("included", "close_period", "operator"),
        ("paid", "record_payout", "operator"),
    ]
    assert body["history"][0]["by"] is None  # the claimant is named by role only
    assert body["history"][1]["by"] == ASSESSOR.did
    assert body["history"][4]["reason"] == "panel 1: 2 approve, 0 reject"
    assert body["history"][4]["by"] in plan.jurors["jury_approved"]
    assert body["objection_list"] == [
        {
            "objector": "objector 1",
            "reason": "the scan predates joining the plan",
            "time_ms": body["objection_list"][0]["time_ms"],
        }
    ]
    assert body["findings"]["assessor"] == ASSESSOR.did and body["findings"]["supported"]
    assert body["payout"]["amount"] == 80_000_00 and body["period"] == 1
    assert member_key(1).did not in json.dumps(body)  # the claimant
    assert member_key(2).did not in json.dumps(body)  # the objector


def test_a_claims_jury(http: httpx.Client, plan: Scenario) -> None:
    body = get(http, f"{BASE}/claims/{plan.claims['jury_rejected']}/jury")
    assert [(s["party"], s["revealed"]) for s in body["seed_shares"]] == [
        ("claimant", True),
        ("red-cross", True),
        ("objector 1", True),
    ]
    panel = body["panel"]
    assert panel["jurors"] == plan.jurors["jury_rejected"]
    assert (panel["approve"], panel["reject"], panel["quorum"]) == (0, 2, 2)
    assert panel["outcome"] == "rejected" and panel["seed_source"] == "reveals"
    assert [v["reason"] for v in panel["votes"]] == ["the diagnosis predates joining"] * 2
    assert len(panel["not_voted"]) == 1 and body["earlier_panels"] == []
    undrawn = get(http, f"{BASE}/claims/{plan.claims['unopposed']}/jury")
    # The claimant commits its share with the claim; nobody objected, so no panel.
    assert undrawn["panel"] is None
    assert [(s["party"], s["revealed"]) for s in undrawn["seed_shares"]] == [("claimant", False)]


def test_the_notice_board(http: httpx.Client, plan: Scenario) -> None:
    board = get(http, f"{BASE}/notice-board")
    (notice,) = board["in_notice"]
    assert notice["claim"] == plan.claims["in_notice"] and notice["notice_open"]
    assert [o["reason"] for o in notice["objection_list"]] == [
        "the same scan was filed by another member"
    ]
    assert board["in_jury_review"] == [] and board["in_investigation"] == 0
    decided = {c["claim"]: c["decision"] for c in board["outcomes"]}
    assert decided[plan.claims["unopposed"]] == "approved: no objection"
    assert decided[plan.claims["findings_rejected"]] == "rejected: no malignancy found"
    assert decided[plan.claims["withdrawn"]] == "withdrawn: filed by mistake"
    assert member_key(9).did not in json.dumps(board)


def test_periods_summaries_and_series(http: httpx.Client, plan: Scenario) -> None:
    body = get(http, f"{BASE}/periods")
    (period,) = body["periods"]
    payouts = 100_000_00 + 80_000_00
    fee = payouts * 800 // 10_000
    assert (period["payouts"], period["fee"], period["sponsor_payouts"]) == (
        payouts,
        fee,
        50_000_00,
    )
    assert period["members"] == MEMBERS and period["charged"] == payouts + fee
    base, remainder = divmod(payouts + fee, MEMBERS)
    assert (period["base"], period["remainder"]) == (base, remainder)
    assert period["share_high"] == base + 1 and period["share_low"] == base
    assert period["shares_sum"] == period["charged"] and period["shares_sum_equals_charged"]
    assert period["remainder_rule"].startswith(f"the {remainder} members with index below")
    assert [c["claim"] for c in period["claims"]] == [
        plan.claims["unopposed"],
        plan.claims["jury_approved"],
    ]
    assert [c["claim"] for c in period["sponsor_claims"]] == [plan.claims["covid"]]
    assert get(http, f"{BASE}/periods/1")["charged"] == period["charged"]
    series = get(http, f"{BASE}/periods/series")
    assert series["period"] == [1] and series["share_low"] == [base]
    assert series["share_high"] == [base + 1] and series["members"] == [MEMBERS]
    assert series["claims"] == [3] and series["currency"] == "CNY"


def test_a_members_record_and_statement(http: httpx.Client, plan: Scenario) -> None:
    did = member_key(12).did  # the last index: it pays the base share
    member = get(http, f"{BASE}/members/{did}")
    assert member["status"] == "active" and member["band"] == "18y-39y"
    period = get(http, f"{BASE}/periods/1")
    assert member["balance"]["charges"] == [{"period": 1, "share": period["base"]}]
    assert member["balance"]["outstanding"] == 0
    counts = get(http, f"{BASE}/members")
    assert counts["active"] == MEMBERS and counts["left"] == 0
    statements = get(http, f"{BASE}/members/{did}/statement")
    (statement,) = statements["statements"]
    assert statement["share"] == period["base"] and statement["index"] == 12
    assert [line["claim"] for line in statement["lines"]] == [
        plan.claims["unopposed"],
        plan.claims["jury_approved"],
        plan.claims["covid"],
    ]
    assert [line["funding"] for line in statement["lines"]] == ["members", "members", "sponsor"]
    assert statement["lines"][0]["condition"] == "C34"
    assert statement["explain"].startswith("Period 1: 2 member-funded claims")
    one = get(http, f"{BASE}/members/{did}/statement/1")
    assert one["share"] == statement["share"] and one["package"] == statement["package"]


def test_the_statement_package_verifies_offline_and_on_the_node(
    http: httpx.Client, plan: Scenario, tmp_path: Path
) -> None:
    did = member_key(0).did
    response = http.get(f"{BASE}/members/{did}/statement/1/package")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/cbor"
    assert "statement-xhb-period-1" in response.headers["content-disposition"]
    package = response.content
    offline = verify_statement(package, plan.server.genesis)
    assert offline.valid, offline.reason
    assert offline.statement is not None and offline.statement.index == 0
    as_cbor = http.post(
        "/v1/mutual-aid/statements/verify",
        content=package,
        headers={"content-type": "application/cbor"},
    ).json()
    as_json = http.post(
        "/v1/mutual-aid/statements/verify",
        json={"package": base64.b64encode(package).decode()},
    ).json()
    assert as_cbor == as_json
    assert as_cbor["valid"] and as_cbor["reason"] == offline.reason
    assert [s["result"] for s in as_cbor["steps"]] == ["passed"] * 4
    assert as_cbor["explain"] == offline.statement.explain()

    # The same package claiming another member's share: its member proof proves another key.
    data = cbor2.loads(package)
    data["member"] = member_key(1).did
    forged = http.post(
        "/v1/mutual-aid/statements/verify",
        content=cbor2.dumps(data),
        headers={"content-type": "application/cbor"},
    ).json()
    assert not forged["valid"] and forged["step"] == "proofs"
    assert [s["result"] for s in forged["steps"]] == [
        "passed",
        "failed",
        "not reached",
        "not reached",
    ]
    garbage = http.post(
        "/v1/mutual-aid/statements/verify",
        content=b"\xa1junk",
        headers={"content-type": "application/cbor"},
    ).json()
    assert not garbage["valid"] and garbage["steps"][0]["result"] == "failed"


def test_the_claim_diagram_from_the_table(http: httpx.Client) -> None:
    body = get(http, "/v1/mutual-aid/claim-diagram")
    assert body["mermaid"] == render_claim_diagram()
    assert len(body["transitions"]) == len(CLAIM_TRANSITIONS)
    assert body["states"] == list(CLAIM_STATES)
    svg = http.get(body["svg"])
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    root = ElementTree.fromstring(svg.content)
    drawn = {g.get("data-state") for g in root.iter("{http://www.w3.org/2000/svg}g")} - {None}
    assert drawn == set(CLAIM_STATES)
    assert b"<script" not in svg.content and b"href=" not in svg.content
    labels = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    for move in CLAIM_TRANSITIONS:
        assert any(move.action in (label or "") for label in labels), move.action


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/v1/mutual-aid/plans/No_Such", 400, "path parameter 'plan'"),
        ("/v1/mutual-aid/plans/nothing-here", 404, "there is no mutual-aid plan 'nothing-here'"),
        (f"{BASE}/claims/99", 404, "has no claim 99"),
        (f"{BASE}/claims/0", 400, "path parameter 'number'"),
        (f"{BASE}/claims/abc/jury", 400, "path parameter 'number'"),
        (f"{BASE}/claims?status=lost", 400, "query parameter 'status[0]'"),
        (f"{BASE}/claims?limit=0", 400, "query parameter 'limit'"),
        (f"{BASE}/periods/2", 404, "period 2 of plan 'xhb' is not closed (the open period is 2)"),
        (f"{BASE}/proposals/9", 404, "has no proposal 9"),
        (f"{BASE}/members/did:key:nope", 400, "path parameter 'did'"),
        (f"{BASE}/members/{member_key(50).did}", 404, "is not a member of plan 'xhb'"),
        (f"{BASE}/members/{member_key(0).did}/statement/5", 404, "period 5"),
        (f"{BASE}/members/{member_key(50).did}/statement/1/package", 404, "is not a member"),
    ],
)
def test_bad_input_is_a_clear_4xx(http: httpx.Client, path: str, status: int, words: str) -> None:
    message = assert_error(http.get(path), status)
    assert words in message, message


def test_bad_verify_bodies(http: httpx.Client) -> None:
    url = "/v1/mutual-aid/statements/verify"
    assert "'package' is required" in assert_error(http.post(url, json={}), 400)
    assert "base64" in assert_error(http.post(url, json={"package": "%%"}), 400)
    empty = http.post(url, content=b"", headers={"content-type": "application/cbor"})
    assert "empty" in assert_error(empty, 400)
    wrong = http.post(url, content=b"x", headers={"content-type": "text/plain"})
    assert_error(wrong, 415)


def test_the_routes_are_in_the_openapi_document(http: httpx.Client) -> None:
    paths = get(http, "/openapi.json")["paths"]
    for path in (
        "/v1/mutual-aid/plans/{plan}/notice-board",
        "/v1/mutual-aid/plans/{plan}/members/{did}/statement/{period}/package",
        "/v1/mutual-aid/statements/verify",
        "/v1/mutual-aid/claim-diagram.svg",
    ):
        assert path in paths, path


def test_the_svg_layout_gives_each_state_its_own_place() -> None:
    from salus.api._aid_diagram import END, START, claim_diagram_svg, diagram_layout

    layout = diagram_layout()
    assert set(layout) == {*CLAIM_STATES, START, END}
    assert len(set(layout.values())) == len(layout)
    # The spine is the longest path; a transition never points upwards.
    assert [n for n, (_, column) in sorted(layout.items(), key=lambda i: i[1]) if column == 0] == [
        START, "submitted", "investigation", "public_notice", "jury_review", "approved",
        "included", "paid", END,
    ]  # fmt: skip
    for move in CLAIM_TRANSITIONS:
        assert layout[move.target][0] >= layout[move.source or START][0], move
    root = ElementTree.fromstring(claim_diagram_svg())
    width, height = (float(v) for v in root.get("viewBox", "").split()[2:])
    for rect in root.iter("{http://www.w3.org/2000/svg}rect"):
        x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
        assert x >= 0 and x + float(rect.get("width", 0)) <= width
        assert y >= 0 and y + float(rect.get("height", 0)) <= height


# -- lists page, and never hold the commit lock for a whole scan --------------------------


class _CountingLock:
    """The node's commit lock, counting the state reads made under each hold."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.depth = 0
        self.reads = 0
        self.most = 0

    def __enter__(self) -> None:
        self.lock.acquire()
        if self.depth == 0:
            self.reads = 0
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1
        self.lock.release()

    def read(self) -> None:
        if self.depth:
            self.reads += 1
            self.most = max(self.most, self.reads)


class _Ledger:
    def __init__(self, values: dict[str, Any], lock: _CountingLock) -> None:
        self.values, self.lock = values, lock
        self.height, self.last_time_ms = 7, 1_700_000_000_000

    def read(self, contract: str, key: str) -> Any:
        self.lock.read()
        return self.values.get(key)


class _Store:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def state_keys(self, prefix: bytes, *, after: bytes | None, limit: int) -> list[bytes]:
        keys = sorted(f"mutual_aid/{k}".encode() for k in self.values)
        return [k for k in keys if k.startswith(prefix) and (after is None or k > after)][:limit]


def _big_plan(claims: int, proposals: int, plans: int) -> tuple[dict[str, Any], Any]:
    """Ledger values of a plan with many claims and proposals (copies of real records)."""
    chain = PlanChain(2)
    chain.advance(11 * DAY_MS)
    chain.submit(0)
    plan, books = chain.read(f"plan/{CHAIN_PLAN}"), chain.read(f"books/{CHAIN_PLAN}")
    claim = chain.claim(1)
    proposal = {
        "number": 1, "kind": "set_rules", "params": {"fee_bps": 500}, "note": "n",
        "proposer": "red-cross", "approvals": [], "status": "open", "reason": None,
        "created_ms": 1, "expires_ms": 2, "executed_ms": None,
    }  # fmt: skip
    values: dict[str, Any] = {}
    for n in range(plans):
        values[f"plan/p{n:03d}"], values[f"books/p{n:03d}"] = plan, books
    values[f"plan/{CHAIN_PLAN}"] = plan
    values[f"books/{CHAIN_PLAN}"] = {
        **books,
        "next_claim": claims + 1,
        "next_proposal": proposals + 1,
    }
    values[f"queue/{CHAIN_PLAN}"] = []
    for n in range(1, claims + 1):
        values[f"claim/{CHAIN_PLAN}/{n}"] = {**claim, "number": n}
    for n in range(1, proposals + 1):
        values[f"proposal/{CHAIN_PLAN}/{n}"] = {**proposal, "number": n}
    return values, plan


class _Routes:
    """The router's endpoints called directly (no HTTP needed to count lock holds)."""

    def __init__(self, node: Any) -> None:
        router = mutual_aid_router(node)
        self.endpoints = {r.path: r.endpoint for r in router.routes if isinstance(r, APIRoute)}

    def __call__(self, path: str, **params: Any) -> Any:
        return self.endpoints[f"/v1/mutual-aid{path}"](**params)


@pytest.fixture
def big() -> tuple[_Routes, _CountingLock]:
    values, _ = _big_plan(claims=300, proposals=120, plans=150)
    lock = _CountingLock()
    node = SimpleNamespace(commit_lock=lock, ledger=_Ledger(values, lock), store=_Store(values))
    return _Routes(node), lock


def test_long_lists_read_in_chunks_under_the_lock(big: tuple[_Routes, _CountingLock]) -> None:
    route, lock = big
    claims = route("/plans/{plan}/claims", plan=CHAIN_PLAN, status=None, before=None, limit=500)
    assert [c["claim"] for c in claims["claims"]] == list(range(300, 0, -1))
    assert route("/plans/{plan}/notice-board", plan=CHAIN_PLAN)["in_investigation"] == 300
    everything = route("/plans/{plan}/proposals", plan=CHAIN_PLAN, before=None, limit=200)
    assert len(everything["proposals"]) == 120
    assert len(route("/plans", after=None, limit=200)["plans"]) == 151
    # Block production waits for at most one chunk of reads, never for a whole scan.
    assert 0 < lock.most <= CHUNK


def test_plans_and_proposals_page(big: tuple[_Routes, _CountingLock]) -> None:
    route, _ = big
    first = route("/plans/{plan}/proposals", plan=CHAIN_PLAN, before=None, limit=50)
    assert [p["proposal"] for p in first["proposals"]] == list(range(120, 70, -1))
    assert first["next"] == 71
    rest = route("/plans/{plan}/proposals", plan=CHAIN_PLAN, before=71, limit=200)
    assert [p["proposal"] for p in rest["proposals"]] == list(range(70, 0, -1))
    assert rest["next"] is None
    seen: list[str] = []
    after: str | None = None
    while True:
        page = route("/plans", after=after, limit=60)
        assert len(page["plans"]) <= 60
        seen += [p["plan"] for p in page["plans"]]
        after = page["next"]
        if after is None:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 151


def test_a_plan_reads_only_the_proposals_its_changes_name(
    big: tuple[_Routes, _CountingLock],
) -> None:
    route, lock = big
    lock.most = 0
    body = route("/plans/{plan}", plan=CHAIN_PLAN)
    assert body["changes"] == [] and body["proposals"] == 120
    assert lock.most <= 5  # the plan, books, queue and height: not 120 proposals
