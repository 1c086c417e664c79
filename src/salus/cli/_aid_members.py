"""``salus aid`` commands of members, assessors, jurors and governors.

Each signs locally with ``--key``, waits for the block and prints what changed; a
refusal is one ``error: ...`` line with the contract's reason. Jury seed secrets are
written to a new file (created with mode 0600, never overwritten, flushed) *before* the
action that commits to them is sent, deleted again if the node refuses the action, and
read back for the reveal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from salus.cli._aid_inputs import (
    HEX64,
    amount_in,
    claim_option,
    key_option,
    load_signer,
    money,
    plan_option,
    plan_session,
    read_attestation,
    read_secret,
    stored_secret,
    when,
)
from salus.cli._common import (
    InputError,
    example,
    node_option,
    parse_args_json,
)

__all__ = ["MEMBER_COMMANDS"]

# -- members -------------------------------------------------------------------------------


@click.command("join", epilog=example("salus aid join --key ada.key --attestation ada.json"))
@node_option
@key_option("member (the did:key the attestation names)")
@click.option(
    "--attestation",
    "attestation_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The attestation JSON the operator signed.",
)
def aid_join(
    node_url: str, key_file: Path, passphrase_file: Path | None, attestation_file: Path
) -> None:
    """Join a plan with your own key and the operator's eligibility attestation."""
    attestation = read_attestation(attestation_file)
    session = plan_session(node_url, attestation.plan)
    session.join(load_signer(key_file, passphrase_file), attestation)
    member = session.member(attestation.member)
    click.echo(
        f"joined plan {attestation.plan}; you may claim from {when(member['eligible_from_ms'])}"
    )


@click.command(
    "claim-submit",
    epilog=example(
        "salus aid claim-submit --plan xhb-2026 --key ada.key --code C34.1 \\",
        "    --diagnosed-on 2026-03-02 --amount 100000 --evidence pathology.pdf \\",
        "    --evidence ct.pdf --secret-file claim.secret",
    ),
)
@node_option
@plan_option
@key_option("member")
@click.option("--code", required=True, help="ICD-10 code of the diagnosis, e.g. C34.1 or U07.1.")
@click.option("--diagnosed-on", required=True, metavar="YYYY-MM-DD")
@click.option("--amount", required=True, help="Payout claimed, in the plan's currency.")
@click.option(
    "--evidence",
    "evidence",
    multiple=True,
    required=True,
    help="A document (uploaded to the node's blob store) or its SHA-256; repeat.",
)
@click.option(
    "--secret-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="New file for your jury seed secret (committed with the claim): keep it to reveal.",
)
def aid_claim_submit(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    code: str,
    diagnosed_on: str,
    amount: str,
    evidence: tuple[str, ...],
    secret_file: Path,
) -> None:
    """Claim a payout for a covered diagnosis; documents go to the blob store, hashes on-chain.

    The claim commits your share of the seed that draws a jury if someone objects; its
    secret is written to --secret-file before the claim is sent.
    Encrypt medical documents before giving them here: the blob store keeps what it is given.
    """
    if secret_file.exists():
        raise InputError(f"{secret_file} exists; a seed secret is never overwritten")
    signer = load_signer(key_file, passphrase_file)
    session = plan_session(node_url, plan)
    value, record = amount_in(session, amount, "--amount")
    hashes = []
    for item in evidence:
        if HEX64.fullmatch(item):
            hashes.append(item)
        elif Path(item).is_file():
            hashes.append(session.client.put_blob(Path(item).read_bytes()))
        else:
            raise InputError(f"--evidence {item!r} is neither a file nor a SHA-256")
    with stored_secret(secret_file) as secret:
        number = session.submit_claim(
            signer,
            code=code,
            diagnosed_on=diagnosed_on,
            amount=value,
            evidence=hashes,
            secret=secret,
        )
    click.echo(
        f"submitted claim {number} for {money(value, record)}; it waits for an assessor "
        f"(your jury seed secret is in {secret_file})"
    )


@click.command(
    "withdraw",
    epilog=example(
        "salus aid withdraw --plan xhb-2026 --key ada.key --claim 3 --reason 'filed twice'"
    ),
)
@node_option
@plan_option
@key_option("claimant")
@claim_option
@click.option("--reason", required=True, help="Why (published).")
def aid_withdraw(
    node_url: str, plan: str, key_file: Path, passphrase_file: Path | None, claim: int, reason: str
) -> None:
    """Withdraw your own claim before it is decided."""
    plan_session(node_url, plan).withdraw_claim(
        load_signer(key_file, passphrase_file), claim, reason=reason
    )
    click.echo(f"claim {claim} withdrawn")


@click.command(
    "object",
    epilog=example(
        "salus aid object --plan xhb-2026 --key bo.key --claim 3 \\",
        "    --reason 'the scan predates joining' --secret-file claim3.secret",
    ),
)
@node_option
@plan_option
@key_option("objecting member")
@claim_option
@click.option("--reason", required=True, help="Why you object (published, with no name).")
@click.option(
    "--secret-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="New file for your jury seed secret: keep it to reveal.",
)
def aid_object(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    claim: int,
    reason: str,
    secret_file: Path,
) -> None:
    """Object to a claim in public notice; commits your share of the jury seed."""
    if secret_file.exists():
        raise InputError(f"{secret_file} exists; a seed secret is never overwritten")
    signer = load_signer(key_file, passphrase_file)
    session = plan_session(node_url, plan)
    with stored_secret(secret_file) as secret:
        session.object(signer, claim, reason=reason, secret=secret)
    click.echo(
        f"objected to claim {claim}; once the notice closes, reveal your seed share "
        f"from {secret_file}"
    )


@click.command(
    "commit-seed",
    epilog=example(
        "salus aid commit-seed --plan xhb-2026 --key red-cross.key --claim 3 \\",
        "    --secret-file claim3-operator.secret",
    ),
)
@node_option
@plan_option
@key_option("operator (an organisation key of the plan's operator)")
@claim_option
@click.option(
    "--secret-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="New file for the seed secret.",
)
def aid_commit_seed(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    claim: int,
    secret_file: Path,
) -> None:
    """The operator commits its share of a claim's jury seed, before the notice is closed.

    An objected claim goes to a jury only once the operator has committed (the claimant
    commits with claim-submit, an objector with object).
    """
    if secret_file.exists():
        raise InputError(f"{secret_file} exists; a seed secret is never overwritten")
    signer = load_signer(key_file, passphrase_file)
    session = plan_session(node_url, plan)
    with stored_secret(secret_file) as secret:
        session.commit_seed(signer, claim, secret=secret)
    click.echo(f"committed a seed share for claim {claim}; its secret is in {secret_file}")


@click.command(
    "reveal-seed",
    epilog=example(
        "salus aid reveal-seed --plan xhb-2026 --key ada.key --claim 3 --secret-file claim3.secret"
    ),
)
@node_option
@plan_option
@key_option("party that committed")
@claim_option
@click.option(
    "--secret-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The file claim-submit, object or commit-seed wrote.",
)
def aid_reveal_seed(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    claim: int,
    secret_file: Path,
) -> None:
    """Reveal your seed share; the panel is drawn once every share is revealed."""
    session = plan_session(node_url, plan)
    session.reveal_seed(
        load_signer(key_file, passphrase_file), claim, secret=read_secret(secret_file)
    )
    jury = session.claim(claim)["jury"]
    click.echo(
        f"revealed; panel drawn: {', '.join(jury['jurors'])}"
        if jury
        else "revealed; waiting for the other shares"
    )


@click.command("leave", epilog=example("salus aid leave --plan xhb-2026 --key ada.key"))
@node_option
@plan_option
@key_option("member")
def aid_leave(node_url: str, plan: str, key_file: Path, passphrase_file: Path | None) -> None:
    """Leave the plan, owing nothing now or later.

    Refused while you owe a share of a closed period, while an approved claim waits for
    the next close or a cap carry is unbilled, or while a claim of yours is open.
    """
    plan_session(node_url, plan).leave(load_signer(key_file, passphrase_file))
    click.echo(f"left plan {plan}; you share no claim approved from now on")


# -- assessors and jurors -----------------------------------------------------------------


@click.command(
    "investigate",
    epilog=example("salus aid investigate --plan xhb-2026 --key hospital.key --claim 3"),
)
@node_option
@plan_option
@key_option("assessor (role assessor)")
@claim_option
@click.option("--note", default="", help="A note for the history.")
def aid_investigate(
    node_url: str, plan: str, key_file: Path, passphrase_file: Path | None, claim: int, note: str
) -> None:
    """Take a claim for investigation (or take it over after its deadline)."""
    session = plan_session(node_url, plan)
    session.start_investigation(load_signer(key_file, passphrase_file), claim, note=note)
    deadline = session.claim(claim)["deadlines"]["investigation"]
    click.echo(f"investigating claim {claim}; findings due by {when(deadline)}")


@click.command(
    "findings",
    epilog=example(
        "salus aid findings --plan xhb-2026 --key hospital.key --claim 3 --supported \\",
        "    --report findings.pdf --reason 'biopsy confirms C34.1'",
    ),
)
@node_option
@plan_option
@key_option("assessor")
@claim_option
@click.option(
    "--supported/--not-supported", required=True, help="Do the findings support the claim?"
)
@click.option(
    "--report",
    required=True,
    help="The findings report (uploaded to the blob store) or its SHA-256.",
)
@click.option("--reason", required=True, help="The findings in a sentence (published).")
@click.option("--amount", help="The amount supported, if less than claimed.")
def aid_findings(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    claim: int,
    supported: bool,
    report: str,
    reason: str,
    amount: str | None,
) -> None:
    """Record findings: a supported claim goes to public notice, else it is rejected."""
    session = plan_session(node_url, plan)
    value = amount_in(session, amount, "--amount")[0] if amount is not None else None
    if HEX64.fullmatch(report):
        digest = report
    elif Path(report).is_file():
        digest = session.client.put_blob(Path(report).read_bytes())
    else:
        raise InputError(f"--report {report!r} is neither a file nor a SHA-256")
    status = session.record_findings(
        load_signer(key_file, passphrase_file),
        claim,
        report=digest,
        supported=supported,
        reason=reason,
        amount=value,
    )
    if status == "public_notice":
        click.echo(
            f"claim {claim} is in public notice until "
            f"{when(session.claim(claim)['deadlines']['notice'])}"
        )
    else:
        click.echo(f"claim {claim} is {status}")


@click.command(
    "vote",
    epilog=example(
        "salus aid vote --plan xhb-2026 --key juror.key --claim 3 --reject \\",
        "    --reason 'the scan is dated before joining'",
    ),
)
@node_option
@plan_option
@key_option("juror (a member drawn for the panel)")
@claim_option
@click.option(
    "--approve/--reject", required=True, help="Approve the claim, or uphold the objection."
)
@click.option("--reason", required=True, help="Why (published).")
def aid_vote(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    claim: int,
    approve: bool,
    reason: str,
) -> None:
    """Vote once as a drawn juror; the claim is decided once the outcome is settled."""
    status = plan_session(node_url, plan).vote(
        load_signer(key_file, passphrase_file), claim, approve=approve, reason=reason
    )
    click.echo(f"voted; claim {claim} is {status}")


# -- governors -----------------------------------------------------------------------------


def _proposed(number: int, status: str) -> None:
    if status == "executed":
        click.echo(f"proposal {number} executed: the rule change is in force")
    else:
        click.echo(
            f"proposal {number} is {status}; other governors approve it with: "
            f"salus aid approve --proposal {number}"
        )


@click.command(
    "propose-condition",
    epilog=example(
        "salus aid propose-condition --plan xhb-2026 --key red-cross.key --code U07.1 \\",
        "    --name 'COVID-19, virus identified' --max-payout 100000 \\",
        "    --effective-from 2020-01-01 --funding sponsor --note 'Covid-19, sponsor-funded'",
    ),
)
@node_option
@plan_option
@key_option("governor")
@click.option("--code", required=True, help="ICD-10 code; covers its subcategories.")
@click.option("--name", required=True)
@click.option(
    "--max-payout", required=True, help="The most one claim pays, in the plan's currency."
)
@click.option(
    "--effective-from", required=True, metavar="YYYY-MM-DD", help="First diagnosis date covered."
)
@click.option(
    "--funding", type=click.Choice(["members", "sponsor"]), default="members", show_default=True
)
@click.option("--note", default="", help="Why (published).")
def aid_propose_condition(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    code: str,
    name: str,
    max_payout: str,
    effective_from: str,
    funding: str,
    note: str,
) -> None:
    """Propose covering a condition (sponsor-funded: paid from the sponsor pool)."""
    session = plan_session(node_url, plan)
    value, _ = amount_in(session, max_payout, "--max-payout")
    params = {
        "code": code,
        "name": name,
        "max_payout": value,
        "effective_from": effective_from,
        "funding": funding,
    }
    _proposed(
        *session.propose(
            load_signer(key_file, passphrase_file), kind="add_condition", params=params, note=note
        )
    )


@click.command(
    "propose-removal",
    epilog=example(
        "salus aid propose-removal --plan xhb-2026 --key red-cross.key --code I63 \\",
        "    --effective-from 2027-01-01 --note 'moved to a separate plan'",
    ),
)
@node_option
@plan_option
@key_option("governor")
@click.option("--code", required=True)
@click.option(
    "--effective-from",
    required=True,
    metavar="YYYY-MM-DD",
    help="First diagnosis date no longer covered.",
)
@click.option("--note", default="")
def aid_propose_removal(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    code: str,
    effective_from: str,
    note: str,
) -> None:
    """Propose ending a condition's coverage for diagnoses from a date."""
    session = plan_session(node_url, plan)
    params = {"code": code, "effective_from": effective_from}
    _proposed(
        *session.propose(
            load_signer(key_file, passphrase_file),
            kind="remove_condition",
            params=params,
            note=note,
        )
    )


@click.command(
    "propose-rules",
    epilog=example(
        "salus aid propose-rules --plan xhb-2026 --key red-cross.key --set fee_bps=600 \\",
        "    --set notice_ms=432000000 --note 'lower fee, longer notice'",
    ),
)
@node_option
@plan_option
@key_option("governor")
@click.option(
    "--set",
    "changes",
    multiple=True,
    required=True,
    metavar="RULE=VALUE",
    help="A rule and its new value (JSON); repeat.",
)
@click.option("--note", default="")
def aid_propose_rules(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    changes: tuple[str, ...],
    note: str,
) -> None:
    """Propose changing numeric rules (amounts in minor units, durations in ms)."""
    params: dict[str, Any] = {}
    for change in changes:
        name, sep, text = change.partition("=")
        if not sep or not name:
            raise InputError(f"--set {change!r}: write RULE=VALUE, e.g. fee_bps=600")
        try:
            params[name] = json.loads(text)
        except json.JSONDecodeError:
            raise InputError(f"--set {change!r}: {text!r} is not a JSON value") from None
    session = plan_session(node_url, plan)
    _proposed(
        *session.propose(
            load_signer(key_file, passphrase_file), kind="set_rules", params=params, note=note
        )
    )


@click.command(
    "propose",
    epilog=example(
        "salus aid propose --plan xhb-2026 --key red-cross.key --kind set_attestor \\",
        '    --params \'{"attestor": "did:key:z6Mk..."}\'',
    ),
)
@node_option
@plan_option
@key_option("governor")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(
        ["add_condition", "remove_condition", "set_rules", "set_attestor", "set_governance"]
    ),
)
@click.option("--params", "params_text", required=True, help="JSON object or @file.json.")
@click.option("--note", default="")
def aid_propose(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    kind: str,
    params_text: str,
    note: str,
) -> None:
    """Propose any rule change, with its params as the contract takes them."""
    session = plan_session(node_url, plan)
    params = parse_args_json(params_text, "--params")
    _proposed(
        *session.propose(
            load_signer(key_file, passphrase_file), kind=kind, params=params, note=note
        )
    )


@click.command(
    "approve", epilog=example("salus aid approve --plan xhb-2026 --key ministry.key --proposal 1")
)
@node_option
@plan_option
@key_option("governor")
@click.option("--proposal", required=True, type=click.IntRange(1))
def aid_approve(
    node_url: str, plan: str, key_file: Path, passphrase_file: Path | None, proposal: int
) -> None:
    """Approve a rule change; it applies once enough governors approved."""
    session = plan_session(node_url, plan)
    _proposed(proposal, session.approve(load_signer(key_file, passphrase_file), proposal))


@click.command(
    "cancel", epilog=example("salus aid cancel --plan xhb-2026 --key red-cross.key --proposal 2")
)
@node_option
@plan_option
@key_option("governor who proposed it")
@click.option("--proposal", required=True, type=click.IntRange(1))
def aid_cancel(
    node_url: str, plan: str, key_file: Path, passphrase_file: Path | None, proposal: int
) -> None:
    """Withdraw your own open proposal."""
    plan_session(node_url, plan).cancel(load_signer(key_file, passphrase_file), proposal)
    click.echo(f"proposal {proposal} cancelled")


MEMBER_COMMANDS: tuple[click.Command, ...] = (
    aid_join,
    aid_claim_submit,
    aid_withdraw,
    aid_object,
    aid_commit_seed,
    aid_reveal_seed,
    aid_leave,
    aid_investigate,
    aid_findings,
    aid_vote,
    aid_propose_condition,
    aid_propose_removal,
    aid_propose_rules,
    aid_propose,
    aid_approve,
    aid_cancel,
)
