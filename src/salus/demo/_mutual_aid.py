"""The mutual-aid demo: a running plan with a claim through every state and closed periods.

Seeded through the API with signed transactions, as the real parties would
(:class:`~salus.apps.mutual_aid.client.PlanClient`):

1. the consortium grants ``red-cross`` the ``mutual_aid_operator`` role and
   ``city-hospital`` the ``assessor`` role (two governance proposals);
2. ``red-cross`` creates the plan :data:`PLAN` (Xiang-Hu-Bao-like conditions and fee,
   short windows: see below) and enrols :data:`MEMBERS` pseudonymous members in bulk,
   each with an attestation signed by its attestor key;
3. governance adds Covid-19 (U07.1, sponsor-funded, up to CNY 100,000) by a rule-change
   proposal of ``red-cross`` approved by ``health-ministry``; a sponsor deposits;
4. claims: one approved without objection and paid; one objected, approved by a jury
   and paid; one objected and rejected by the jury; a Covid-19 claim paid from the
   sponsor pool; one rejected on the assessor's findings; one withdrawn; (when the
   windows allow several periods) one more paid in each of two later periods;
5. the sharing periods close and members' payments are recorded (one member leaves a
   share unpaid); a governance change then lengthens the public notice to 3 days, so
   the last claim stays in public notice with an objection, and another waits for its
   investigation;
6. one member's statement package is written to ``HOME/demo-mutual-aid/``.

Block time is real time: the plan's windows (public notice, sharing period) are the
shortest the plan rules allow, no shorter than :data:`NOTICE_MS` and :data:`PERIOD_MS`,
and the seeding waits them out. Members' keys live in memory only, except one saved as
``HOME/keys/aid-member.key`` for trying the commands. Everything is synthetic.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from salus.apps.mutual_aid.client import PlanClient, new_secret
from salus.apps.mutual_aid.records import ASSESSOR, OPERATOR
from salus.apps.mutual_aid.rules import (
    DAY_MS,
    PlanRules,
    example_conditions,
    format_time,
)
from salus.core.crypto import Signer
from salus.demo._apps import DemoApp, DemoContext
from salus.demo._consortium import DEMO_PASSPHRASE, key_path
from salus.errors import SalusError
from salus.keys import new_signer

__all__ = ["MEMBERS", "MUTUAL_AID_DEMO", "PLAN", "demo_rules", "mutual_aid_demo"]

PLAN: Final = "xhb-demo"
MEMBERS: Final = 48
NOTICE_MS: Final = 6_000
PERIOD_MS: Final = 4_000
SEVERAL_PERIODS_MS: Final = 10_000  # with periods this short, close three of them
DEMO_DIR: Final = "demo-mutual-aid"
OPERATOR_ORG: Final = "red-cross"
ASSESSOR_ORG: Final = "city-hospital"
REGULATOR_ORG: Final = "health-ministry"
SPONSOR: Final = "covid-relief-fund"
TRY_MEMBER: Final = "aid-member"
EVIDENCE: Final = "5a1e" * 16  # SHA-256 addresses of synthetic documents
REPORT: Final = "4e90" * 16
REFERENCE: Final = "7ef0" * 16
COVID: Final = {
    "code": "U07.1",
    "name": "COVID-19, virus identified",
    "max_payout": 10_000_000,  # CNY 100,000.00
    "effective_from": "2020-01-01",
    "funding": "sponsor",
}

#: Waits until block time reaches the given milliseconds (real time: sleeps).
Waiter = Callable[[int], None]


def _sleep_until(until_ms: int) -> None:
    delay = (until_ms + 250) / 1000 - time.time()
    if delay > 0:
        time.sleep(delay)


def _shortest(name: str, wanted: int) -> int:
    """``wanted``, or the least the plan rules accept for ``name`` if that is more."""
    least = wanted
    for constraint in PlanRules.model_fields[name].metadata:
        bound = getattr(constraint, "ge", None)
        if isinstance(bound, int):
            least = max(least, bound)
    return least


def demo_rules() -> dict[str, Any]:
    """The demo plan's rules: the example's fee and bands, windows as short as allowed."""
    return PlanRules.model_validate(
        {
            "eligible_bands": ["30d-17y", "18y-39y", "40y-59y"],
            "waiting_ms": 0,
            "attestation_ttl_ms": _shortest("attestation_ttl_ms", DAY_MS),
            "period_ms": _shortest("period_ms", PERIOD_MS),
            "fee_bps": 800,
            "member_cap": 1_000_000,  # CNY 10,000.00 a period: a small plan's shares are large
            "investigation_ms": _shortest("investigation_ms", DAY_MS),
            "notice_ms": _shortest("notice_ms", NOTICE_MS),
            "reveal_ms": _shortest("reveal_ms", DAY_MS),
            "jury_ms": _shortest("jury_ms", DAY_MS),
            "jury_size": 5,
            "jury_quorum": 3,
            "proposal_ttl_ms": _shortest("proposal_ttl_ms", DAY_MS),
        }
    ).model_dump()


def _grant(ctx: DemoContext, org: str, role: str) -> None:
    """Governance: the consortium grants ``org`` a role (propose, then approvals)."""
    signer = ctx.key(org)
    if role in ctx.client.account(signer.did)["roles"]:
        return
    opened = ctx.runner.run(
        f"propose granting '{role}' to {org}",
        ctx.key(REGULATOR_ORG),
        "propose",
        {
            "kind": "grant_role",
            "params": {"subject": org, "role": role},
            "note": f"{org} in the mutual-aid plan",
        },
        expect="committed",
    )
    number = next(
        int(str(e["subject"]).removeprefix("proposal/"))
        for e in opened.get("events", [])
        if e.get("type") == "proposed"
    )
    for member in ctx.client.state("identity", "members")["value"]:
        proposal = ctx.client.state("identity", f"proposal/{number}")["value"]
        if proposal["status"] != "open":
            break
        if member not in proposal["approvals"]:
            ctx.runner.run(
                f"{member} approves proposal {number}",
                ctx.key(member),
                "approve",
                {"proposal": number},
                expect="committed",
            )
    if role not in ctx.client.account(signer.did)["roles"]:
        raise SalusError(f"demo seeding failed: proposal {number} did not grant {role} to {org}")


class _Seeding:
    """The plan's parties and the steps that move it, with a log line per step."""

    def __init__(self, ctx: DemoContext, wait: Waiter) -> None:
        self.ctx = ctx
        self.wait = wait
        self.aid = PlanClient(ctx.client, PLAN, timeout=ctx.runner.timeout)
        self.operator = ctx.key(OPERATOR_ORG)
        self.assessor = ctx.key(ASSESSOR_ORG)
        self.regulator = ctx.key(REGULATOR_ORG)
        self.attestor = ctx.key("aid-attestor")
        self.council = ctx.key("aid-council")
        self.members: list[Signer] = [ctx.key(TRY_MEMBER)]
        self.members += [new_signer() for _ in range(MEMBERS - 1)]
        self.by_did = {m.did: m for m in self.members}
        self.claims: dict[str, int] = {}
        self.secrets: dict[str, str] = {}  # jury seed secrets, kept until the reveal

    def secret(self, label: str) -> str:
        return self.secrets.setdefault(label, new_secret())

    def log(self, line: str) -> None:
        self.ctx.log(f"  {line}")

    def today(self) -> str:
        return format_time(int(self.ctx.client.status()["last_block_time_ms"]))[:10]

    def submit(self, n: int, code: str, amount: int) -> int:
        """Member ``n`` claims, committing its jury seed share (kept for the reveal)."""
        secret = new_secret()
        number = self.aid.submit_claim(
            self.members[n],
            code=code,
            diagnosed_on=self.today(),
            amount=amount,
            evidence=[EVIDENCE],
            secret=secret,
        )
        self.secrets[f"claimant-{number}"] = secret
        return number

    def claim(self, n: int, code: str, amount: int) -> int:
        """Member ``n`` claims and an assessor takes the claim."""
        number = self.submit(n, code, amount)
        self.aid.start_investigation(self.assessor, number)
        return number

    def support(self, number: int, reason: str) -> None:
        self.aid.record_findings(
            self.assessor, number, report=REPORT, supported=True, reason=reason
        )

    def dispute(self, number: int, objector: int, reason: str) -> None:
        """An objection, and the operator's seed share (no jury is drawn without it)."""
        self.aid.object(
            self.members[objector], number, reason=reason, secret=self.secret(f"objector-{number}")
        )
        self.aid.commit_seed(self.operator, number, secret=self.secret(f"operator-{number}"))

    def settle_by_jury(self, number: int, claimant: int, objector: int, approve: bool) -> None:
        self.aid.reveal_seed(
            self.members[claimant], number, secret=self.secret(f"claimant-{number}")
        )
        self.aid.reveal_seed(self.operator, number, secret=self.secret(f"operator-{number}"))
        self.aid.reveal_seed(
            self.members[objector], number, secret=self.secret(f"objector-{number}")
        )
        jurors = self.aid.claim(number)["jury"]["jurors"]
        reason = (
            "the hospital confirmed the ECG date and the admission"
            if approve
            else "the discharge summary is the one filed for an earlier claim"
        )
        status = ""
        for juror in jurors:
            status = self.aid.vote(self.by_did[juror], number, approve=approve, reason=reason)
            if status != "jury_review":
                break
        self.log(f"claim {number}: panel of {len(jurors)} drawn; {status}")

    def wait_notice(self, *numbers: int) -> None:
        self.wait(max(int(self.aid.claim(n)["deadlines"]["notice"]) for n in numbers))

    def close_period(self) -> int:
        books = self.aid.books()
        self.wait(int(books["period_end_ms"]))
        closed = self.aid.close_period(self.operator)
        self.log(
            f"closed period {closed['period']}: {closed['claims']} claims, "
            f"{closed['members']} members"
        )
        return int(closed["period"])

    def collect(self, period: int, *, unpaid: int | None = None) -> None:
        """Record every member's share of ``period`` as paid, but ``unpaid``'s."""
        payments = []
        for n, member in enumerate(self.members):
            if n == unpaid:
                continue
            owed = int(self.aid.balance(member.did)["outstanding"])
            if owed > 0:
                payments.append((member.did, owed))
        if payments:
            self.aid.record_payments(self.operator, payments, reference=REFERENCE)
        self.log(f"recorded {len(payments)} members' payments for period {period}")

    def pay(self, *names: str) -> None:
        for name in names:
            self.aid.record_payout(self.operator, self.claims[name], reference=REFERENCE)


def _seed_plan(ctx: DemoContext, wait: Waiter) -> dict[str, Any]:
    _grant(ctx, OPERATOR_ORG, OPERATOR)
    _grant(ctx, ASSESSOR_ORG, ASSESSOR)
    s = _Seeding(ctx, wait)
    aid, rules = s.aid, demo_rules()
    aid.create(
        s.operator,
        name="Xiang Hu Bao model plan (demo)",
        currency="CNY",
        attestor=s.attestor.did,
        governors=[OPERATOR_ORG, REGULATOR_ORG, s.council.did],
        approvals_required=2,
        rules=rules,
        conditions=example_conditions(),
    )
    s.log(f"red-cross created plan {PLAN}")
    issued = int(ctx.client.status()["last_block_time_ms"])
    bands = ("18y-39y", "40y-59y", "30d-17y")
    aid.enrol(
        s.operator,
        [
            aid.attest(s.attestor, m.did, band=bands[n % 3], evidence=EVIDENCE, issued_ms=issued)
            for n, m in enumerate(s.members)
        ],
    )
    s.log(f"enrolled {len(s.members)} members with operator-signed attestations")
    covid, status = aid.propose(
        s.operator,
        kind="add_condition",
        params=COVID,
        note="Covid-19 (U07.1) from 2020-01-01, paid by a sponsor, not by members",
    )
    status = aid.approve(s.regulator, covid)
    if status != "executed":
        raise SalusError(f"demo seeding failed: the Covid-19 proposal {covid} is {status}")
    s.log(f"proposal {covid}: Covid-19 added by governance, sponsor-funded")
    aid.deposit_sponsor_funds(s.operator, sponsor=SPONSOR, amount=20_000_000, reference=REFERENCE)

    several = int(rules["period_ms"]) <= SEVERAL_PERIODS_MS
    c = s.claims
    c["unopposed"] = s.claim(0, "C34.1", 12_000_001)
    s.support(c["unopposed"], "biopsy and CT confirm a malignant neoplasm of the lung")
    c["jury_approved"] = s.claim(1, "I21", 8_000_000)
    s.support(c["jury_approved"], "ECG and troponin confirm an acute infarction")
    s.dispute(c["jury_approved"], 2, "the ECG attached is dated before the member joined")
    c["jury_rejected"] = s.claim(3, "I63", 15_000_000)
    s.support(c["jury_rejected"], "MRI confirms a cerebral infarction")
    s.dispute(c["jury_rejected"], 4, "the same discharge summary was filed for an earlier claim")
    c["covid"] = s.claim(5, "U07.1", 3_000_000)
    s.support(c["covid"], "PCR positive, hospitalised")
    c["findings_rejected"] = s.claim(6, "C50", 6_000_000)
    aid.record_findings(
        s.assessor,
        c["findings_rejected"],
        report=REPORT,
        supported=False,
        reason="the biopsy shows a benign lesion",
    )
    c["withdrawn"] = s.submit(7, "N18.5", 5_000_000)
    aid.withdraw_claim(s.members[7], c["withdrawn"], reason="filed under the wrong code")
    later = []
    if several:
        for name, n, code, amount in (
            ("period_2", 8, "C50", 5_000_003),
            ("period_3", 9, "I21", 7_000_007),
        ):
            c[name] = s.claim(n, code, amount)
            s.support(c[name], "the hospital records confirm the diagnosis")
            later.append(name)
    s.log(f"claims {', '.join(str(n) for n in c.values())} submitted and assessed")

    s.wait_notice(
        c["unopposed"], c["jury_approved"], c["jury_rejected"], c["covid"], *(c[n] for n in later)
    )
    for name in ("unopposed", "covid", "jury_approved", "jury_rejected"):
        aid.close_notice(s.regulator, c[name])
    s.settle_by_jury(c["jury_approved"], 1, 2, approve=True)
    s.settle_by_jury(c["jury_rejected"], 3, 4, approve=False)
    periods = [s.close_period()]
    s.collect(periods[-1], unpaid=MEMBERS - 1)
    s.pay("unopposed", "jury_approved", "covid")
    for name in later:
        aid.close_notice(s.regulator, c[name])
        periods.append(s.close_period())
        s.collect(periods[-1], unpaid=MEMBERS - 1)
        s.pay(name)

    notice, status = aid.propose(
        s.operator,
        kind="set_rules",
        params={"notice_ms": 3 * DAY_MS},
        note="a 3-day public notice, as the plan's members asked",
    )
    aid.approve(s.regulator, notice)
    c["in_notice"] = s.claim(10, "C34", 9_000_000)
    s.support(c["in_notice"], "the CT scan shows a lung tumour; pathology pending")
    aid.object(
        s.members[11],
        c["in_notice"],
        reason="the claimant posted about running a marathon last week",
        secret=s.secret("objector-in-notice"),
    )
    c["investigation"] = s.claim(12, "I21", 4_000_000)
    s.log(f"claim {c['in_notice']} is in a 3-day public notice with an objection")

    out = ctx.home / DEMO_DIR
    out.mkdir(exist_ok=True)
    member = s.members[MEMBERS // 2].did
    statement = out / f"statement-period-{periods[0]}.salus-statement"
    statement.write_bytes(aid.statement_package(member, periods[0]))
    s.log(f"wrote a member's statement package to {statement}")
    return {
        "plan": PLAN,
        "operator": OPERATOR_ORG,
        "assessor": ASSESSOR_ORG,
        "members": [m.did for m in s.members],
        "try_member": s.members[0].did,
        "unpaid_member": s.members[MEMBERS - 1].did,
        "claims": c,
        "proposals": {"covid": covid, "notice": notice},
        "periods": periods,
        "statement_member": member,
        "statement": str(statement),
        "rules": rules,
    }


def mutual_aid_demo(wait: Waiter = _sleep_until) -> DemoApp:
    """The demo app; ``wait`` waits until block time reaches a time (tests move a clock)."""
    return DemoApp(
        name="mutual_aid",
        title="mutual-aid plan",
        seed=lambda ctx: _seed_plan(ctx, wait),
        guide=_guide,
    )


def _guide(home: Path, url: str, record: dict[str, Any]) -> list[str]:
    q = shlex.quote
    genesis = q(str(home.resolve() / "genesis.json"))
    plan, claims = record["plan"], record["claims"]
    node = f"--node {q(url)} --plan {plan}"
    member_key = q(str(key_path(home.resolve(), TRY_MEMBER)))
    described = [
        f"{claims['unopposed']} approved without objection, paid",
        f"{claims['jury_approved']} objected, approved by a jury, paid",
        f"{claims['jury_rejected']} objected, rejected by the jury",
        f"{claims['covid']} Covid-19 (sponsor-funded), paid from the sponsor pool",
        f"{claims['findings_rejected']} rejected on the findings",
        f"{claims['withdrawn']} withdrawn",
        f"{claims['in_notice']} in public notice with an objection",
    ]
    return [
        f"Mutual-aid plan {plan} (operator {record['operator']}, {len(record['members'])} "
        f"members, {len(record['periods'])} closed period(s)):",
        f"  notice board        {url}/aid/#board",
        f"  periods and chart   {url}/aid/#periods",
        f"  a member statement  {url}/aid/#statement={record['statement_member']}",
        f"  claim state diagram {url}/aid/#diagram",
        f"  rules and changes   {url}/aid/#rules   (Covid-19 added by proposal "
        f"{record['proposals']['covid']})",
        f"  API                 {url}/v1/mutual-aid/plans/{plan}",
        "  Claims: " + "; ".join(described) + ".",
        "  Check a member's statement offline (stop the node first, if you like):",
        f"    salus aid verify {q(record['statement'])} --genesis {genesis}",
        "  Fetch another member's statement, and look at a claim and its jury:",
        f"    salus aid statement {node} {record['members'][1]} -o mine.salus-statement",
        f"    salus aid claim {node} {claims['jury_approved']}",
        f"    salus aid jury {node} {claims['jury_rejected']}",
        "  Object to the claim in notice as a member (the key is HOME/keys/aid-member.key):",
        f"    SALUS_PASSPHRASE={DEMO_PASSPHRASE} salus aid object {node} --key {member_key} "
        f"--claim {claims['in_notice']} --reason 'the scan looks altered' "
        "--secret-file objection.secret",
    ]


MUTUAL_AID_DEMO: Final = mutual_aid_demo()
