"""``salus aid`` commands of a plan's operator: create, attest and enrol, close periods,
record payments, payouts, fees and sponsors' deposits.

Each signs locally with ``--key`` (a key of the operating organisation), waits for the
block and prints what changed; a refusal is one ``error: ...`` line with the reason.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import click

from salus.apps.mutual_aid.client import (
    attest,
    dump_attestation,
    parse_amount,
)
from salus.apps.mutual_aid.rules import (
    CURRENCY_MINOR_UNITS,
    example_conditions,
    example_rules,
)
from salus.cli._aid_inputs import (
    amount_in,
    claim_option,
    digest_of,
    key_option,
    load_signer,
    money,
    plan_option,
    plan_session,
    read_attestation,
)
from salus.cli._common import (
    InputError,
    example,
    node_option,
    passphrase_option,
)

__all__ = ["OPERATOR_COMMANDS"]

# -- the operator --------------------------------------------------------------------------


def _json_or_example(text: str, option: str, default: Any) -> Any:
    if text == "example":
        return default
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read {option} file {path}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{option} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


@click.command(
    "create-plan",
    epilog=example(
        "salus aid create-plan --key red-cross.key --plan xhb-2026 --name 'Mutual aid 2026' \\",
        "    --currency CNY --attestor did:key:z6Mk... --governor red-cross \\",
        "    --governor health-ministry --approvals 2 --rules example \\",
        "    --conditions @conditions.json",
    ),
)
@node_option
@plan_option
@key_option("operator organisation (role mutual_aid_operator)")
@click.option("--name", required=True, help="The plan's name.")
@click.option("--currency", required=True, help="ISO 4217 code, e.g. CNY.")
@click.option("--attestor", required=True, metavar="DID", help="did:key that signs attestations.")
@click.option(
    "--governor",
    "governors",
    multiple=True,
    required=True,
    help="Organisation id or did:key; repeat.",
)
@click.option(
    "--approvals", type=click.IntRange(1, 16), required=True, help="Governors needed for a change."
)
@click.option(
    "--rules",
    "rules_text",
    default="example",
    show_default=True,
    help="Rules JSON, @file.json, or 'example'.",
)
@click.option(
    "--conditions",
    "conditions_text",
    default="example",
    show_default=True,
    help="Conditions JSON list, @file.json, or 'example'.",
)
def aid_create_plan(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    name: str,
    currency: str,
    attestor: str,
    governors: tuple[str, ...],
    approvals: int,
    rules_text: str,
    conditions_text: str,
) -> None:
    """Create a plan; the signer's organisation operates it. Rules are ledger data:
    amounts in minor units, durations in milliseconds (see docs/mutual-aid.md)."""
    if currency not in CURRENCY_MINOR_UNITS:
        raise InputError(f"--currency {currency!r} is not an ISO 4217 code Salus knows")
    rules = _json_or_example(rules_text, "--rules", example_rules())
    conditions = _json_or_example(conditions_text, "--conditions", example_conditions())
    session = plan_session(node_url, plan)
    status = session.create(
        load_signer(key_file, passphrase_file),
        name=name,
        currency=currency,
        attestor=attestor,
        governors=governors,
        approvals_required=approvals,
        rules=rules,
        conditions=conditions,
    )
    click.echo(f"created plan {plan} in block {status['height']}")


@click.command(
    "attest",
    epilog=example(
        "salus aid attest --attestor-key attestor.key --plan xhb-2026 \\",
        "    --member did:key:z6Mk... --band 18y-39y --evidence eligibility-record.pdf -o ada.json",
    ),
)
@plan_option
@click.option(
    "--attestor-key",
    "attestor_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The plan's attestor key.",
)
@click.option("--member", required=True, metavar="DID", help="The member's did:key.")
@click.option("--band", required=True, help="Age band, e.g. 18y-39y.")
@click.option(
    "--evidence",
    required=True,
    help="SHA-256 of (or path to) your own eligibility record; it stays with you.",
)
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the attestation JSON here.",
)
@passphrase_option
def aid_attest(
    plan: str,
    attestor_file: Path,
    member: str,
    band: str,
    evidence: str,
    out: Path,
    passphrase_file: Path | None,
) -> None:
    """Sign an eligibility attestation offline (no node): the member joins with it."""
    digest = digest_of(evidence, "--evidence")
    attestor = load_signer(attestor_file, passphrase_file)
    attestation = attest(attestor, plan=plan, member=member, band=band, evidence=digest)
    out.write_text(dump_attestation(attestation), encoding="utf-8")
    click.echo(f"wrote the attestation for {member} to {out}")


@click.command(
    "enrol",
    epilog=example(
        "salus aid enrol --key red-cross.key --plan xhb-2026 ada.json bo.json",
        "salus aid enrol --key red-cross.key --plan xhb-2026 --csv members.csv \\",
        "    --attestor-key attestor.key",
    ),
)
@node_option
@plan_option
@key_option("operator organisation")
@click.argument(
    "attestations", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of member,band,evidence rows to attest and enrol.",
)
@click.option(
    "--attestor-key",
    "attestor_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The attestor key (with --csv).",
)
def aid_enrol(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    attestations: tuple[Path, ...],
    csv_file: Path | None,
    attestor_file: Path | None,
) -> None:
    """Enrol members in bulk (150 per transaction), each with its attestation."""
    found = [read_attestation(path) for path in attestations]
    session = plan_session(node_url, plan)
    if csv_file is not None:
        if attestor_file is None:
            raise InputError("--csv needs --attestor-key to sign the attestations")
        attestor = load_signer(attestor_file, passphrase_file)
        rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
        for line, row in enumerate(rows, start=2):
            if not row.get("member") or not row.get("band") or not row.get("evidence"):
                raise InputError(f"{csv_file} line {line}: member, band and evidence are required")
            found.append(
                session.attest(
                    attestor,
                    row["member"],
                    band=row["band"],
                    evidence=digest_of(row["evidence"], f"line {line} evidence"),
                )
            )
    if not found:
        raise InputError("give attestation files or --csv")
    session.enrol(load_signer(key_file, passphrase_file), found)
    click.echo(f"enrolled {len(found)} member(s) in plan {plan}")


@click.command(
    "close-period", epilog=example("salus aid close-period --plan xhb-2026 --key red-cross.key")
)
@node_option
@plan_option
@key_option("operator organisation")
def aid_close_period(
    node_url: str, plan: str, key_file: Path, passphrase_file: Path | None
) -> None:
    """Close the open sharing period: include approved claims, fix every member's share."""
    session = plan_session(node_url, plan)
    closed = session.close_period(load_signer(key_file, passphrase_file))
    record = session.record()
    click.echo(
        f"closed period {closed['period']}: {closed['claims']} claims, "
        f"{money(closed['charged'], record)} over {closed['members']} members "
        f"({money(closed['base'], record)} each, +1 minor unit for {closed['remainder']}; "
        f"carried {money(closed['carry_out'], record)}); the next period opened"
    )


@click.command(
    "pay-share",
    epilog=example(
        "salus aid pay-share --plan xhb-2026 --key red-cross.key \\",
        "    --member did:key:z6Mk... --reference receipt.pdf",
    ),
)
@node_option
@plan_option
@key_option("operator organisation that received the payment")
@click.option("--member", required=True, metavar="DID")
@click.option("--amount", help="Amount paid (default: everything the member owes).")
@click.option("--reference", required=True, help="SHA-256 of (or path to) the payment record.")
def aid_pay_share(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    member: str,
    amount: str | None,
    reference: str,
) -> None:
    """Record a member's share payment (the operator received it off the ledger)."""
    session = plan_session(node_url, plan)
    operator = load_signer(key_file, passphrase_file)
    digest = digest_of(reference, "--reference")
    record = session.record()
    if amount is None:
        paid = session.pay_share(operator, member, reference=digest)
        if paid == 0:
            click.echo(f"{member} owes nothing")
            return
    else:
        paid, _ = amount_in(session, amount, "--amount")
        session.record_payments(operator, [(member, paid)], reference=digest)
    owed = session.balance(member)["outstanding"]
    click.echo(f"recorded {money(paid, record)} from {member}; still owed {money(owed, record)}")


@click.command(
    "record-payments",
    epilog=example(
        "salus aid record-payments --plan xhb-2026 --key red-cross.key \\",
        "    --csv payments.csv --reference bank-statement.pdf",
    ),
)
@node_option
@plan_option
@key_option("operator organisation")
@click.option(
    "--csv",
    "csv_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV of member,amount rows (amounts in the plan's currency).",
)
@click.option("--reference", required=True, help="SHA-256 of (or path to) the payment records.")
def aid_record_payments(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    csv_file: Path,
    reference: str,
) -> None:
    """Record many share payments at once (500 per transaction)."""
    session = plan_session(node_url, plan)
    record = session.record()
    payments = []
    for line, row in enumerate(
        csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8"))), start=2
    ):
        try:
            payments.append(
                (row["member"], parse_amount(row["amount"] or "", int(record["minor_units"])))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{csv_file} line {line}: {exc}") from None
    if not payments:
        raise InputError(f"{csv_file} has no payment rows (columns: member,amount)")
    total = session.record_payments(
        load_signer(key_file, passphrase_file),
        payments,
        reference=digest_of(reference, "--reference"),
    )
    click.echo(f"recorded {len(payments)} payment(s), {money(total, record)} in all")


@click.command(
    "record-payout",
    epilog=example(
        "salus aid record-payout --plan xhb-2026 --key red-cross.key --claim 3 \\",
        "    --reference transfer-confirmation.pdf",
    ),
)
@node_option
@plan_option
@key_option("operator organisation")
@claim_option
@click.option(
    "--reference", required=True, help="SHA-256 of (or path to) the payment confirmation."
)
def aid_record_payout(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    claim: int,
    reference: str,
) -> None:
    """Record that an included claim was paid (refused while its pool cannot cover it)."""
    session = plan_session(node_url, plan)
    session.record_payout(
        load_signer(key_file, passphrase_file), claim, reference=digest_of(reference, "--reference")
    )
    found = session.claim(claim)
    click.echo(f"claim {claim} paid: {money(found['payout_amount'], session.record())}")


@click.command(
    "take-fee",
    epilog=example(
        "salus aid take-fee --plan xhb-2026 --key red-cross.key --amount 1440 \\",
        "    --reference invoice.pdf",
    ),
)
@node_option
@plan_option
@key_option("operator organisation")
@click.option("--amount", required=True, help="Fee taken, in the plan's currency.")
@click.option("--reference", required=True, help="SHA-256 of (or path to) the fee record.")
def aid_take_fee(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    amount: str,
    reference: str,
) -> None:
    """Record the operator taking billed management fees from the member pool."""
    session = plan_session(node_url, plan)
    value, record = amount_in(session, amount, "--amount")
    session.take_fee(
        load_signer(key_file, passphrase_file),
        amount=value,
        reference=digest_of(reference, "--reference"),
    )
    click.echo(f"recorded a fee of {money(value, record)}")


@click.command(
    "sponsor-deposit",
    epilog=example(
        "salus aid sponsor-deposit --plan xhb-2026 --key red-cross.key \\",
        "    --sponsor covid-relief-fund --amount 1000000 --reference transfer.pdf",
    ),
)
@node_option
@plan_option
@key_option("operator organisation that received the deposit")
@click.option("--sponsor", required=True, help="The sponsor: an organisation id or a did:key.")
@click.option("--amount", required=True, help="Amount deposited, in the plan's currency.")
@click.option("--reference", required=True, help="SHA-256 of (or path to) the transfer record.")
def aid_sponsor_deposit(
    node_url: str,
    plan: str,
    key_file: Path,
    passphrase_file: Path | None,
    sponsor: str,
    amount: str,
    reference: str,
) -> None:
    """Record a sponsor's deposit into the sponsor pool (it pays sponsor-funded claims)."""
    session = plan_session(node_url, plan)
    value, record = amount_in(session, amount, "--amount")
    session.deposit_sponsor_funds(
        load_signer(key_file, passphrase_file),
        sponsor=sponsor,
        amount=value,
        reference=digest_of(reference, "--reference"),
    )
    pool = session.books()["sponsor"]
    held = pool["deposited"] - pool["paid_out"]
    click.echo(
        f"recorded {money(value, record)} from {sponsor}; "
        f"the sponsor pool holds {money(held, record)}"
    )


OPERATOR_COMMANDS: tuple[click.Command, ...] = (
    aid_create_plan,
    aid_attest,
    aid_enrol,
    aid_close_period,
    aid_pay_share,
    aid_record_payments,
    aid_record_payout,
    aid_take_fee,
    aid_sponsor_deposit,
)
