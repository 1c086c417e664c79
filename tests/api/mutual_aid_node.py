"""A served node whose block clock a test moves forward, and a plan driven through the API.

Windows of days (waiting period, public notice, sharing period) pass in a moment: the
solo engine stamps blocks with ``start + offset``, and :meth:`ClockedServer.advance`
moves the offset. Everything else is real: SQLite, uvicorn on 127.0.0.1, signed
transactions sent with :class:`~salus.apps.mutual_aid.client.PlanClient`.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from salus import demo
from salus.api import create_app
from salus.api.serving import ApiServerThread
from salus.apps.mutual_aid.client import PlanClient, new_secret
from salus.apps.mutual_aid.rules import DAY_MS, format_time
from salus.cli.home import NodeHome, OrganisationPlan, create_home
from salus.cli.server import NodeServer
from salus.client import SalusClient
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.demo._mutual_aid import mutual_aid_demo
from salus.keystore import load_key
from salus.node.blobs import FileBlobStore
from salus.node.node import Node
from salus.node.solo import SoloEngine
from salus.node.storage import SqliteStore
from tests.apps.mutual_aid.plan import (
    ASSESSOR,
    ATTESTOR,
    CONDITIONS,
    COUNCIL,
    EVIDENCE,
    OPERATOR,
    REFERENCE,
    REGULATOR,
    REPORT,
    genesis,
    member_key,
    rules,
)
from tests.support import key

PLAN = "xhb"
START_MS = 1_600_000_000_000 + DAY_MS
COVID = {
    "code": "U07.1",
    "name": "COVID-19, virus identified",
    "max_payout": 10_000_000,
    "effective_from": "2020-01-01",
    "funding": "sponsor",
}


class ClockedServer(NodeServer):
    """A :class:`NodeServer` whose blocks are stamped by a clock the test moves."""

    def __init__(
        self, genesis: Genesis, validator: Signer, data_dir: Path, *, start_ms: int = START_MS
    ) -> None:
        super().__init__(genesis, validator, data_dir, port=0, block_interval_ms=20)
        self.start_ms = start_ms
        self.offset_ms = 0
        self._started = time.monotonic()

    def clock_ms(self) -> int:
        """``start_ms``, plus the real time since, plus every :meth:`advance`."""
        return self.start_ms + self.offset_ms + int((time.monotonic() - self._started) * 1000)

    def advance_to(self, until_ms: int) -> None:
        """Move the clock to ``until_ms`` (plus a second) unless it is there already."""
        self.offset_ms += max(0, until_ms + 1000 - self.clock_ms())

    def advance(self, ms: int) -> None:
        """Let ``ms`` (and a minute more: every block adds a millisecond) pass."""
        self.offset_ms += ms + 60_000

    def _serve(self, sock: socket.socket, timeout: float) -> None:
        self.store = SqliteStore(self.data_dir / "ledger.sqlite")
        self.node = node = Node(self.genesis, self.store, self.validator)
        self.blobs = blobs = FileBlobStore(self.data_dir / "blobs")
        self.engine = SoloEngine(
            node, block_interval_ms=self.block_interval_ms, clock_ms=self.clock_ms
        )
        self.engine.start()
        self._http = ApiServerThread(create_app(node, blobs), sock, log_level=self.log_level)
        self._http.start(url=self.url, timeout=timeout)


@dataclass
class Scenario:
    """What :func:`drive_plan` did: claim numbers by what happened to them."""

    server: ClockedServer
    client: SalusClient
    aid: PlanClient
    claims: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    jurors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def today(self) -> str:
        return format_time(self.server.clock_ms())[:10]


def keys_by_did(count: int) -> dict[str, Signer]:
    return {member_key(n).did: member_key(n) for n in range(count)}


def _disputed(s: Scenario, claimant: int, objector: int, code: str) -> int:
    aid = s.aid
    secret = new_secret()
    number = aid.submit_claim(
        member_key(claimant),
        code=code,
        diagnosed_on=s.today(),
        amount=80_000_00,
        evidence=[EVIDENCE],
        secret=secret,
    )
    s.secrets[f"claimant-{number}"] = secret
    aid.start_investigation(ASSESSOR, number)
    aid.record_findings(
        ASSESSOR, number, report=REPORT, supported=True, reason="discharge summary confirms it"
    )
    s.secrets[f"operator-{number}"] = aid.commit_seed(OPERATOR, number)
    s.secrets[f"objector-{number}"] = aid.object(
        member_key(objector), number, reason="the scan predates joining the plan"
    )
    return number


def drive_plan(s: Scenario, members: int = 13) -> None:
    """A plan with a claim in every state, a Covid-19 rule change and a closed period."""
    aid = s.aid
    aid.create(
        OPERATOR,
        name="Xiang Hu Bao model plan",
        currency="CNY",
        attestor=ATTESTOR.did,
        governors=["red-cross", "health-ministry", COUNCIL.did],
        approvals_required=2,
        rules=rules(member_cap=5_000_000),
        conditions=CONDITIONS,
    )
    aid.enrol(OPERATOR, [
        aid.attest(ATTESTOR, member_key(n).did, band="18y-39y", evidence=EVIDENCE,
                   issued_ms=s.server.clock_ms())
        for n in range(members)
    ])  # fmt: skip
    number, status = aid.propose(
        OPERATOR, kind="add_condition", params=COVID, note="Covid-19, funded by a sponsor"
    )
    assert status == "open"
    assert aid.approve(REGULATOR, number) == "executed"
    s.server.advance(11 * DAY_MS)

    claim = aid.submit_claim(
        member_key(0),
        code="C34.1",
        diagnosed_on=s.today(),
        amount=100_000_00,
        evidence=[EVIDENCE],
        secret=new_secret(),
    )
    aid.start_investigation(ASSESSOR, claim)
    aid.record_findings(ASSESSOR, claim, report=REPORT, supported=True, reason="biopsy confirms")
    s.claims["unopposed"] = claim
    s.claims["jury_approved"] = _disputed(s, claimant=1, objector=2, code="I21")
    s.claims["jury_rejected"] = _disputed(s, claimant=3, objector=4, code="I21")
    covid = aid.submit_claim(
        member_key(5),
        code="U07.1",
        diagnosed_on=s.today(),
        amount=50_000_00,
        evidence=[EVIDENCE],
        secret=new_secret(),
    )
    aid.start_investigation(ASSESSOR, covid)
    aid.record_findings(ASSESSOR, covid, report=REPORT, supported=True, reason="PCR positive")
    s.claims["covid"] = covid
    unsupported = aid.submit_claim(
        member_key(6),
        code="C34",
        diagnosed_on=s.today(),
        amount=10_000_00,
        evidence=[EVIDENCE],
        secret=new_secret(),
    )
    aid.start_investigation(ASSESSOR, unsupported)
    aid.record_findings(
        ASSESSOR, unsupported, report=REPORT, supported=False, reason="no malignancy found"
    )
    s.claims["findings_rejected"] = unsupported
    withdrawn = aid.submit_claim(
        member_key(7),
        code="C34",
        diagnosed_on=s.today(),
        amount=10_000_00,
        evidence=[EVIDENCE],
        secret=new_secret(),
    )
    aid.withdraw_claim(member_key(7), withdrawn, reason="filed by mistake")
    s.claims["withdrawn"] = withdrawn

    s.server.advance(3 * DAY_MS)
    signers = keys_by_did(members)
    for name in ("unopposed", "covid", "jury_approved", "jury_rejected"):
        aid.close_notice(REGULATOR, s.claims[name])
    for name, claimant, objector, vote in (
        ("jury_approved", 1, 2, True),
        ("jury_rejected", 3, 4, False),
    ):
        number = s.claims[name]
        aid.reveal_seed(member_key(claimant), number, secret=s.secrets[f"claimant-{number}"])
        aid.reveal_seed(OPERATOR, number, secret=s.secrets[f"operator-{number}"])
        aid.reveal_seed(member_key(objector), number, secret=s.secrets[f"objector-{number}"])
        jurors = aid.claim(number)["jury"]["jurors"]
        s.jurors[name] = jurors
        for juror in jurors[:2]:
            reason = "records are consistent" if vote else "the diagnosis predates joining"
            aid.vote(signers[juror], number, approve=vote, reason=reason)
    s.server.advance(2 * DAY_MS)
    aid.close_period(OPERATOR)
    period = aid.period(1)
    payments = [(member_key(n).did, period["base"] + (1 if n < period["remainder"] else 0))
                for n in range(members)]  # fmt: skip
    # Indices follow enrolment order here (nobody left), so index n is member n.
    aid.record_payments(OPERATOR, payments, reference=REFERENCE)
    aid.deposit_sponsor_funds(
        OPERATOR, sponsor="city-hospital", amount=100_000_00, reference=REFERENCE
    )
    for name in ("unopposed", "jury_approved", "covid"):
        aid.record_payout(OPERATOR, s.claims[name], reference=REFERENCE)

    in_notice = aid.submit_claim(
        member_key(8),
        code="C34",
        diagnosed_on=s.today(),
        amount=20_000_00,
        evidence=[EVIDENCE],
        secret=new_secret(),
    )
    aid.start_investigation(ASSESSOR, in_notice)
    aid.record_findings(ASSESSOR, in_notice, report=REPORT, supported=True, reason="CT confirms")
    aid.object(member_key(9), in_notice, reason="the same scan was filed by another member")
    s.claims["in_notice"] = in_notice


@contextmanager
def plan_node(tmp: Path) -> Iterator[Scenario]:
    server = ClockedServer(genesis(), key(9), tmp / "node")
    with server, SalusClient(server.url) as client:
        yield Scenario(server, client, PlanClient(client, PLAN))


# -- the demo plan, seeded on a demo home ----------------------------------------------------

DEMO_GENESIS_MS = 1_700_000_000_000


@dataclass
class SeededDemo:
    """A demo home whose consortium and mutual-aid plan are seeded, its node running."""

    home: Path
    url: str
    genesis: Genesis
    server: ClockedServer
    client: SalusClient
    http: httpx.Client
    record: dict[str, Any]
    consortium: Any

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def seeded_demo(home: Path) -> Iterator[SeededDemo]:
    """``salus demo``'s consortium and mutual-aid seeding, with the clock moved, not waited."""
    create_home(
        home,
        chain_id=demo.DEMO_CHAIN_ID,
        organisations=[OrganisationPlan(*org) for org in demo.DEMO_ORGANISATIONS],
        threshold=demo.DEMO_THRESHOLD,
        passphrase=demo.DEMO_PASSPHRASE,
        genesis_time_ms=DEMO_GENESIS_MS,
        strength="interactive",
    )
    layout = NodeHome(home)
    validator = load_key(layout.validator_key_path, demo.DEMO_PASSPHRASE)
    genesis = layout.load_genesis()
    server = ClockedServer(
        genesis, validator, layout.data_dir, start_ms=DEMO_GENESIS_MS + 3_600_000
    )
    with (
        server,
        SalusClient(server.url) as client,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        consortium, _ = demo.ensure_seeded(client, home)
        app = mutual_aid_demo(wait=server.advance_to)
        records, seeded = demo.seed_apps(client, home, server.url, (app,))
        assert seeded == ["mutual_aid"]
        yield SeededDemo(
            home, server.url, genesis, server, client, http, records["mutual_aid"], consortium
        )
