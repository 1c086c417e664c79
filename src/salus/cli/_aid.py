"""``salus aid``: a mutual-aid plan from every role's seat, and its statements checked offline.

Thin over :class:`~salus.apps.mutual_aid.client.PlanClient` (online) and
:func:`~salus.apps.mutual_aid.statement.verify_statement` (offline). Each action
command signs locally with ``--key``, waits for the block, and prints what changed;
a refusal is one ``error: ...`` line with the contract's reason (exit 1). Amounts are
typed in the plan's currency ("100000" or "100000.00" CNY) and converted exactly to
minor units. ``verify`` exits 0 valid, 1 not valid, 2 unusable input.

This module holds the group and the reading commands; the operator's commands are in
:mod:`salus.cli._aid_operator`, the other roles' in :mod:`salus.cli._aid_members`, and the
options and inputs they share in :mod:`salus.cli._aid_inputs`. Commands by role
(docs/mutual-aid-pages.md walks through each):

- anyone: ``plans``, ``show``, ``board``, ``claims``, ``claim``, ``jury``, ``periods``,
  ``member``, ``statement``, ``verify``, ``diagram``, ``proposals``, and moving a claim
  on once its deadline passed: ``close-notice``, ``draw-jury``, ``close-jury``;
- operator: ``create-plan``, ``attest``, ``enrol``, ``close-period``, ``pay-share``,
  ``record-payments``, ``record-payout``, ``take-fee``, ``sponsor-deposit`` (the sponsor's
  deposit), ``commit-seed`` (required before an objected claim goes to a jury) /
  ``reveal-seed``;
- member: ``join``, ``claim-submit`` (commits the claimant's seed share), ``withdraw``,
  ``object``, ``reveal-seed``, ``leave``, ``statement``, ``verify``;
- assessor: ``investigate``, ``findings``; juror: ``vote``;
- governors: ``propose-condition``, ``propose-removal``, ``propose-rules``, ``propose``,
  ``approve``, ``cancel``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from salus.apps.mutual_aid.client import (
    list_plans,
)
from salus.apps.mutual_aid.diagram import render_claim_diagram
from salus.apps.mutual_aid.rules import (
    format_money,
)
from salus.apps.mutual_aid.statement import STATEMENT_STEPS, verify_statement
from salus.cli._aid_inputs import (
    claim_option,
    json_option,
    key_option,
    load_signer,
    money,
    plan_option,
    plan_session,
    when,
)
from salus.cli._aid_members import MEMBER_COMMANDS
from salus.cli._aid_operator import OPERATOR_COMMANDS
from salus.cli._common import (
    CommandError,
    SalusGroup,
    echo_json,
    echo_steps,
    example,
    genesis_option,
    load_genesis,
    node_option,
    open_client,
)

__all__ = ["aid"]


# -- the group ---------------------------------------------------------------------------


@click.group(
    cls=SalusGroup,
    epilog=example(
        "salus aid board --plan xhb-2026",
        "salus aid statement did:key:z6Mk... --plan xhb-2026 -o mine.salus-statement",
        "salus aid verify mine.salus-statement --genesis genesis.json",
    ),
)
def aid() -> None:
    """Mutual-aid plans: every role's actions, the notice board, statements checked offline."""


# -- reading: anyone -----------------------------------------------------------------------


@aid.command("plans", epilog=example("salus aid plans"))
@node_option
@json_option
def aid_plans(node_url: str, as_json: bool) -> None:
    """List the plans on the ledger."""
    with open_client(node_url) as client:
        plans = list_plans(client)
    if as_json:
        echo_json(plans)
        return
    if not plans:
        click.echo("no mutual-aid plans on this ledger")
    for plan in plans:
        click.echo(
            f"{plan['plan']}  {plan['name']}  ({plan['currency']}, operator {plan['operator']}, "
            f"{plan['members']} members, period {plan['open_period']}, {plan['claims']} claims)"
        )


@aid.command("show", epilog=example("salus aid show --plan xhb-2026"))
@node_option
@plan_option
@json_option
def aid_show(node_url: str, plan: str, as_json: bool) -> None:
    """A plan's rules, covered conditions and rule-change history."""
    session = plan_session(node_url, plan)
    data = session.view()
    if as_json:
        echo_json(data)
        return
    click.echo(f"{data['plan']}: {data['name']} ({data['currency']}), operator {data['operator']}")
    click.echo(
        f"  members {data['members']['active']} active, period {data['open_period']['period']} "
        f"open until {when(data['open_period']['end_ms'])}"
    )
    click.echo(f"  governors {', '.join(data['governors'])} ({data['approvals_required']} approve)")
    click.echo("  rules " + json.dumps(data["rules"], sort_keys=True))
    click.echo("  covered conditions:")
    for c in data["conditions"]:
        until = f" until {c['effective_until']}" if c["effective_until"] else ""
        origin = f", proposal {c['added_by']}" if c["added_by"] else ""
        click.echo(
            f"    {c['code']:<6} {c['name']}: up to {money(c['max_payout'], data)}, "
            f"{c['funding']}-funded, diagnoses from {c['effective_from']}{until}{origin}"
        )
    for change in data["changes"]:
        record = change["proposal_record"] or {}
        click.echo(
            f"  change at block {change['height']}: {change['kind']} by proposal "
            f"{change['proposal']} ({record.get('note', '')}; approved by "
            f"{', '.join(record.get('approvals', []))})"
        )


def _claim_line(c: dict[str, Any]) -> str:
    deadline = c["deadlines"].get("notice") if c["status"] == "public_notice" else None
    until = f", notice until {when(deadline)}" if deadline else ""
    objections = f", {c['objections']} objection(s)" if c["objections"] else ""
    return (
        f"claim {c['claim']:>4}  {c['code']:<6} {money(c['payout_amount'], c):>16}  "
        f"{c['status']}{until}{objections}"
    )


@aid.command("board", epilog=example("salus aid board --plan xhb-2026"))
@node_option
@plan_option
@json_option
def aid_board(node_url: str, plan: str, as_json: bool) -> None:
    """The public notice board: claims in notice with objections, juries, outcomes."""
    data = plan_session(node_url, plan).view("/notice-board")
    if as_json:
        echo_json(data)
        return
    for title, claims in (
        ("In public notice", data["in_notice"]),
        ("Before a jury", data["in_jury_review"]),
        ("Decided", data["outcomes"]),
    ):
        click.echo(f"{title}:")
        if not claims:
            click.echo("  (none)")
        for c in claims:
            click.echo("  " + _claim_line(c) + (f"  - {c['decision']}" if c["decision"] else ""))
            for o in c["objection_list"]:
                click.echo(f"      {o['objector']}: {o['reason']}")


@aid.command("claims", epilog=example("salus aid claims --plan xhb-2026 --status public_notice"))
@node_option
@plan_option
@click.option("--status", "statuses", multiple=True, help="Only claims with this status.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@json_option
def aid_claims(
    node_url: str, plan: str, statuses: tuple[str, ...], limit: int, as_json: bool
) -> None:
    """Claims, newest first (anonymised: no claimant, evidence or diagnosis date)."""
    data = plan_session(node_url, plan).view("/claims", status=list(statuses) or None, limit=limit)
    if as_json:
        echo_json(data)
        return
    for c in data["claims"]:
        click.echo(_claim_line(c))
    if not data["claims"]:
        click.echo("no claims")


@aid.command("claim", epilog=example("salus aid claim 3 --plan xhb-2026"))
@node_option
@plan_option
@click.argument("number", type=click.IntRange(1))
@json_option
def aid_claim(node_url: str, plan: str, number: int, as_json: bool) -> None:
    """One claim and its history: every step with who and why."""
    data = plan_session(node_url, plan).view(f"/claims/{number}")
    if as_json:
        echo_json(data)
        return
    click.echo(_claim_line(data))
    click.echo(f"  {data['condition']} {data['condition_name']}, diagnosed {data['diagnosed_on']}")
    for step in data["history"]:
        who = step["role"] + (f" {step['by']}" if step["by"] else "")
        click.echo(
            f"  {when(step['time_ms'])} block {step['height']:<5} {step['status']:<13} "
            f"by {who}: {step['reason']}"
        )
    for o in data["objection_list"]:
        click.echo(f"  objection ({o['objector']}, {when(o['time_ms'])}): {o['reason']}")


@aid.command("jury", epilog=example("salus aid jury 3 --plan xhb-2026"))
@node_option
@plan_option
@click.argument("number", type=click.IntRange(1))
@json_option
def aid_jury(node_url: str, plan: str, number: int, as_json: bool) -> None:
    """A claim's jury: seed shares, drawn jurors, votes with reasons, outcome."""
    data = plan_session(node_url, plan).view(f"/claims/{number}/jury")
    if as_json:
        echo_json(data)
        return
    for share in data["seed_shares"]:
        state = "revealed" if share["revealed"] else "committed, not revealed"
        click.echo(f"seed share of {share['party']}: {state}")
    panel = data["panel"]
    if panel is None:
        click.echo(f"no panel drawn (claim {number} is {data['status']})")
        return
    click.echo(
        f"panel {panel['round']}: {panel['approve']} approve, {panel['reject']} reject, quorum "
        f"{panel['quorum']}, voting until {when(panel['deadline'])}: {panel['outcome']}"
    )
    for juror in panel["jurors"]:
        vote = next((v for v in panel["votes"] if v["juror"] == juror), None)
        said = f"{vote['vote']}: {vote['reason']}" if vote else "has not voted"
        click.echo(f"  {juror} {said}")


def _rounding(p: dict[str, Any]) -> str:
    members, remainder = p["members"], p["remainder"]
    if not remainder:
        return f"all {members} members pay {money(p['share_low'], p)} each"
    return (
        f"{remainder} member(s) with index below {remainder} pay {money(p['share_high'], p)}, "
        f"the other {members - remainder} pay {money(p['share_low'], p)}"
    )


@aid.command("periods", epilog=example("salus aid periods --plan xhb-2026"))
@node_option
@plan_option
@json_option
def aid_periods(node_url: str, plan: str, as_json: bool) -> None:
    """Closed sharing periods: payouts, fee, members, per-member share, rounding rule."""
    data = plan_session(node_url, plan).view("/periods")
    if as_json:
        echo_json(data)
        return
    for p in data["periods"]:
        click.echo(
            f"period {p['period']} closed {when(p['closed_ms'])}: {len(p['claims'])} claims "
            f"{money(p['payouts'], p)} + fee {money(p['fee'], p)} + carry "
            f"{money(p['carry_in'], p)}; {money(p['charged'], p)} over {p['members']} members"
        )
        click.echo(f"    {_rounding(p)}; carried out {money(p['carry_out'], p)}")
    click.echo(
        f"open: period {data['open_period']['period']} until {when(data['open_period']['end_ms'])}"
    )


@aid.command("member", epilog=example("salus aid member did:key:z6Mk... --plan xhb-2026"))
@node_option
@plan_option
@click.argument("did")
@json_option
def aid_member(node_url: str, plan: str, did: str, as_json: bool) -> None:
    """A member's record and balance: each period's share, billed, paid, owed."""
    data = plan_session(node_url, plan).view(f"/members/{did}")
    if as_json:
        echo_json(data)
        return
    balance = data["balance"]
    click.echo(
        f"{did}: {data['status']}, band {data['band']}, joined {when(data['joined_ms'])} "
        f"(period {data['joined_period']}), may claim from {when(data['eligible_from_ms'])}"
    )
    for charge in balance["charges"]:
        click.echo(f"  period {charge['period']}: share {money(charge['share'], data)}")
    click.echo(
        f"  billed {money(balance['billed'], data)}, paid {money(balance['paid'], data)}, "
        f"owes {money(balance['outstanding'], data)}"
    )


@aid.command(
    "statement",
    epilog=example(
        "salus aid statement did:key:z6Mk... --plan xhb-2026",
        "salus aid statement did:key:z6Mk... --plan xhb-2026 --period 3 -o p3.salus-statement",
    ),
)
@node_option
@plan_option
@click.argument("did")
@click.option("--period", type=click.IntRange(1), help="A closed period (default: the latest).")
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the statement package (two state proofs) to FILE, to verify offline.",
)
@json_option
def aid_statement(
    node_url: str, plan: str, did: str, period: int | None, out: Path | None, as_json: bool
) -> None:
    """A member's statement for a closed period: the claims, the split and the share."""
    session = plan_session(node_url, plan)
    number = period or session.last_closed_period()
    if number is None:
        raise CommandError(f"plan {plan!r} has no closed period yet")
    data = session.view(f"/members/{did}/statement/{number}")
    if out is not None:
        out.write_bytes(session.statement_package(did, number))
    if as_json:
        echo_json(data)
    else:
        for line in data["lines"]:
            click.echo(
                f"  claim {line['claim']:>4}  {line['condition'] or '?':<6} "
                f"{format_money(line['amount'], data['currency'], data['minor_units']):>16}  "
                f"{line['funding']}-funded"
            )
        click.echo(data["explain"])
    if out is not None:
        click.echo(
            f"wrote the statement package to {out}; check it offline with: "
            f"salus aid verify {out} --genesis genesis.json"
        )


@aid.command(
    "verify",
    epilog=example(
        "salus aid verify p3.salus-statement --genesis genesis.json",
        "salus aid verify p3.salus-statement --genesis genesis.json --json",
    ),
)
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@genesis_option
@json_option
@click.pass_context
def aid_verify(ctx: click.Context, package: Path, genesis_path: Path, as_json: bool) -> None:
    """Check a statement package offline, with no node: exit 0 if valid, 1 if not.

    Steps: decode, proofs (both against the genesis), period (its figures add up),
    share (the member's share follows from its index at the close).
    """
    genesis = load_genesis(genesis_path)
    verdict = verify_statement(package.read_bytes(), genesis)
    if as_json:
        echo_json(verdict.to_json())
    else:
        failed = STATEMENT_STEPS.index(verdict.step) if not verdict.valid else None
        echo_steps(
            valid=verdict.valid,
            headline=f"valid: {verdict.reason}"
            if verdict.valid
            else f"invalid at step {verdict.step}: {verdict.reason}",
            steps=[(step, "passed") for step in STATEMENT_STEPS[:failed]],
            failed_step=verdict.step,
            reason=verdict.reason,
        )
        if verdict.valid and verdict.statement is not None:
            click.echo(verdict.statement.explain())
    ctx.exit(0 if verdict.valid else 1)


@aid.command(
    "diagram",
    epilog=example("salus aid diagram", "salus aid diagram --table"),
)
@click.option("--table", is_flag=True, help="Print the transition table instead of Mermaid text.")
def aid_diagram(table: bool) -> None:
    """The claim state machine, generated from its transition table (no node needed)."""
    if not table:
        click.echo(render_claim_diagram())
        return
    from salus.apps.mutual_aid.claims import CLAIM_TRANSITIONS

    for t in CLAIM_TRANSITIONS:
        click.echo(
            f"{t.source or '(new)':<14} -> {t.target:<14} {t.action:<20} by {t.by}: {t.when}"
        )


@aid.command("proposals", epilog=example("salus aid proposals --plan xhb-2026"))
@node_option
@plan_option
@click.option("--before", type=click.IntRange(min=1), help="Only proposals older than this one.")
@json_option
def aid_proposals(node_url: str, plan: str, before: int | None, as_json: bool) -> None:
    """Rule-change proposals, newest first, 50 at a time."""
    params = {} if before is None else {"before": before}
    data = plan_session(node_url, plan).view("/proposals", **params)
    if as_json:
        echo_json(data)
        return
    for p in data["proposals"]:
        click.echo(
            f"proposal {p['proposal']}: {p['kind']} {json.dumps(p['params'], sort_keys=True)} "
            f"- {p['status']} (approved by {', '.join(p['approvals'])}) {p['note']}"
        )
    if not data["proposals"]:
        click.echo("no proposals")
    if data.get("next") is not None:
        click.echo(f"older proposals: salus aid proposals --plan {plan} --before {data['next']}")


def _move_command(name: str, action: str, what: str) -> None:
    @aid.command(
        name, help=what, epilog=example(f"salus aid {name} --plan xhb-2026 --claim 3 --key me.key")
    )
    @node_option
    @plan_option
    @claim_option
    @key_option("sender (anyone may)")
    def command(
        node_url: str, plan: str, claim: int, key_file: Path, passphrase_file: Path | None
    ) -> None:
        session = plan_session(node_url, plan)
        session.act(load_signer(key_file, passphrase_file), action, claim=claim)
        click.echo(f"claim {claim} is now {session.claim(claim)['status']}")


_move_command(
    "close-notice",
    "close_notice",
    "After the notice window: approve an unopposed claim, or send it to a jury.",
)
_move_command("draw-jury", "draw_jury", "After the reveal window: draw the claim's panel.")
_move_command(
    "close-jury",
    "close_jury",
    "After the voting window: decide, or draw a new panel without a quorum.",
)


for _command in (*OPERATOR_COMMANDS, *MEMBER_COMMANDS):
    aid.add_command(_command)
