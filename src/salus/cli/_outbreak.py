"""``salus outbreak``: import and export JHU CSSE files, report and correct figures, prove them.

Thin over :mod:`salus.apps.outbreak.importing` (online) and
:mod:`salus.apps.outbreak.proof` (offline). ``import`` lists every skipped row or cell
with its row, column and reason (exit 0, or 1 with ``--strict`` when anything was
skipped); ``verify`` exits 0 valid, 1 not valid, 2 unusable input.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

import click

from salus.apps.outbreak.contract import METRICS
from salus.apps.outbreak.generate import FULL_DAYS, generate_global_time_series
from salus.apps.outbreak.importing import (
    correct,
    download,
    figure_bundle,
    figure_provenance,
    grant_scope,
    import_parsed,
    latest_date,
    report,
    revoke_scope,
)
from salus.apps.outbreak.jhu import ParsedFile, parse_file
from salus.apps.outbreak.proof import FigureVerdict, verify_figure
from salus.cli._common import (
    InputError,
    SalusGroup,
    echo_json,
    echo_verdict,
    example,
    genesis_option,
    get_passphrase,
    json_option,
    load_genesis,
    node_option,
    open_client,
    passphrase_option,
)
from salus.core.crypto import Signer
from salus.keystore import load_key

__all__ = ["outbreak"]

# Share of the progress bar each import stage takes (reading the file dominates).
_STAGES = {"read": (0, 55), "upload": (55, 75), "anchor": (75, 90), "index": (90, 100)}
_key_option = click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Encrypted key file of the reporting organisation (or health authority).",
)


def _load(path: Path, passphrase_file: Path | None) -> Signer:
    return load_key(path, get_passphrase(passphrase_file, what=str(path)))


def _figures(values: tuple[str, ...], basis: str) -> dict[str, tuple[int, str]]:
    """``metric=value`` or ``metric=value:basis`` options as {metric: (value, basis)}."""
    figures: dict[str, tuple[int, str]] = {}
    for text in values:
        name, sep, rest = text.partition("=")
        number, _, own_basis = rest.partition(":")
        if not sep or name not in METRICS:
            raise InputError(
                f"--figure {text!r}: write METRIC=VALUE[:BASIS] with METRIC one of "
                f"{', '.join(METRICS)}"
            )
        try:
            value = int(number)
        except ValueError:
            raise InputError(f"--figure {text!r}: {number!r} is not a whole number") from None
        chosen = own_basis or basis
        if chosen not in ("cumulative", "new"):
            raise InputError(f"--figure {text!r}: the basis is cumulative or new, not {chosen!r}")
        figures[name] = (value, chosen)
    if not figures:
        raise InputError("give at least one --figure METRIC=VALUE")
    return figures


def _check_date(value: str, option: str) -> str:
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InputError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


@click.group(
    cls=SalusGroup,
    epilog=example(
        "salus outbreak import time_series_covid19_confirmed_global.csv --key ministry.key",
        "salus outbreak figure FR 2021-03-01 confirmed --proof fr.cbor",
    ),
)
def outbreak() -> None:
    """Outbreak figures: import and export JHU CSSE files, report, correct and prove figures."""


def _print_report(parsed: ParsedFile) -> None:
    skipped, converted = parsed.skipped, parsed.converted
    notes = [issue for issue in parsed.issues if issue.action == "note"]
    if skipped:
        click.echo(f"{len(skipped)} row(s), column(s) or cell(s) not imported:")
        for issue in skipped:
            click.echo(f"  {issue}")
    if converted:
        click.echo(f"{len(converted)} value(s) read from a non-standard form:")
        for issue in converted:
            click.echo(f"  {issue}")
    if notes:
        click.echo(f"{len(notes)} note(s):")
        for issue in notes:
            click.echo(f"  {issue}")


@outbreak.command(
    "import",
    epilog=example(
        "salus outbreak import time_series_covid19_confirmed_global.csv --key ministry.key",
        "salus outbreak import 03-22-2021.csv --key ministry.key --reason 'JHU re-publication'",
        "salus outbreak import data.csv --metric deaths --dry-run",
    ),
)
@node_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Encrypted key file of the reporting organisation (not needed with --dry-run).",
)
@click.option(
    "--metric", type=click.Choice(METRICS), help="Metric of a time series (default: from its name)."
)
@click.option("--date", "day", help="Date of a daily report, YYYY-MM-DD (default: from its name).")
@click.option("--reason", default="", help="Why this file replaces earlier figures, if it does.")
@click.option("--dry-run", is_flag=True, help="Read the file and print the report; send nothing.")
@click.option("--strict", is_flag=True, help="Exit 1 when any row or cell was skipped.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@passphrase_option
@click.pass_context
def outbreak_import(
    ctx: click.Context,
    node_url: str,
    file: Path,
    key_file: Path | None,
    metric: str | None,
    day: str | None,
    reason: str,
    dry_run: bool,
    strict: bool,
    as_json: bool,
    passphrase_file: Path | None,
) -> None:
    """Import a JHU CSSE file as one signed batch; list every row or cell not imported.

    Formats: the global and US time series (time_series_covid19_<metric>_global.csv,
    _US.csv), daily reports (MM-DD-YYYY.csv) and the JSON export. Good rows are imported
    even when others are not; each skipped row, column or cell is listed with its row
    number (the header is row 1), column and reason.
    """
    if day is not None:
        day = _check_date(day, "--date")
    if not dry_run and key_file is None:
        raise InputError("--key is required (or use --dry-run)")
    signer = None if dry_run or key_file is None else _load(key_file, passphrase_file)
    data = file.read_bytes()
    with click.progressbar(length=100, label=f"importing {file.name}", file=sys.stderr) as bar:
        done = [0]

        def progress(stage: str, count: int, total: int) -> None:
            low, high = _STAGES[stage]
            target = low + (high - low) * (count / total if total else 1)
            if int(target) > done[0]:
                bar.update(int(target) - done[0])
                done[0] = int(target)

        result = None
        reading = lambda count, total: progress("read", count, total)  # noqa: E731
        if signer is None:
            parsed = parse_file(data, file.name, metric=metric, date=day, progress=reading)
        else:
            with open_client(node_url) as client:
                parsed = parse_file(
                    data, file.name, metric=metric, date=day, progress=reading,
                    latest=latest_date(client),
                )  # fmt: skip
                result = import_parsed(client, signer, parsed, reason=reason, progress=progress)
        bar.update(100 - done[0])
    if as_json:
        echo_json(result.to_json() if result else {**parsed.summary(), "issues": [
            issue.to_json() for issue in parsed.issues
        ]})  # fmt: skip
    else:
        if result is None:
            click.echo(
                f"read {len(parsed.rows)} row(s) with {parsed.figures} figure(s) from {file.name} "
                f"({parsed.format}); nothing sent (--dry-run)"
            )
        else:
            click.echo(
                f"imported {result.rows} row(s) with {result.figures} figure(s) from {file.name} "
                f"({parsed.format}) as batch {result.root} in block {result.height}"
            )
        _print_report(parsed)
    if strict and parsed.skipped:
        ctx.exit(1)


@outbreak.command(
    "export",
    epilog=example(
        "salus outbreak export time_series_covid19_confirmed_global.csv -o confirmed.csv",
        "salus outbreak export 03-22-2021.json -o 2021-03-22.json",
    ),
)
@node_option
@click.argument("name")
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the file.",
)
def outbreak_export(node_url: str, name: str, out: Path) -> None:
    """Download figures as a JHU CSSE file: time_series_covid19_<metric>_global.csv,
    time_series_covid19_<metric>_US.csv or MM-DD-YYYY.csv (.json for JSON)."""
    with open_client(node_url) as client:
        data = download(client, name)
    out.write_bytes(data)
    click.echo(f"wrote {out} ({len(data)} bytes)")


@outbreak.command(
    "report",
    epilog=example(
        "salus outbreak report --key ministry.key --region FR --date 2021-03-01 \\",
        "    --figure confirmed=3800000 --figure deaths=86000 --figure tests=1200:new",
    ),
)
@node_option
@_key_option
@click.option("--region", required=True, help="Region id: FR, US-NY, US-NY:36061, ...")
@click.option("--date", "day", required=True, help="The day the figures are for, YYYY-MM-DD.")
@click.option(
    "--figure",
    "figure_texts",
    multiple=True,
    metavar="METRIC=VALUE[:BASIS]",
    help=f"A figure; METRIC one of {', '.join(METRICS)}; repeat for several.",
)
@click.option(
    "--basis",
    type=click.Choice(["cumulative", "new"]),
    default="cumulative",
    show_default=True,
    help="Basis of figures that name none.",
)
@click.option("--note", default="", help="A public note on the report.")
@passphrase_option
def outbreak_report(
    node_url: str,
    key_file: Path,
    region: str,
    day: str,
    figure_texts: tuple[str, ...],
    basis: str,
    note: str,
    passphrase_file: Path | None,
) -> None:
    """Report a region's figures for one day, signed by your organisation's key."""
    figures = _figures(figure_texts, basis)
    signer = _load(key_file, passphrase_file)
    with open_client(node_url) as client:
        status = report(
            client,
            signer,
            region=region,
            date=_check_date(day, "--date"),
            figures=figures,
            note=note,
        )
    click.echo(f"reported {region} for {day} in block {status['height']} (tx {status['id']})")


@outbreak.command(
    "correct",
    epilog=example(
        "salus outbreak correct --key ministry.key --region FR --date 2021-03-01 \\",
        "    --figure confirmed=3801375 --reason 'late laboratory results'",
    ),
)
@node_option
@_key_option
@click.option("--region", required=True, help="Region id of the figure.")
@click.option("--date", "day", required=True, help="Its date, YYYY-MM-DD.")
@click.option(
    "--figure",
    "figure_texts",
    multiple=True,
    metavar="METRIC=VALUE[:BASIS]",
    help="A corrected figure; repeat for several.",
)
@click.option(
    "--basis",
    type=click.Choice(["cumulative", "new"]),
    default="cumulative",
    show_default=True,
    help="Basis of figures that name none.",
)
@click.option("--reason", required=True, help="Why the figure changes (public, kept forever).")
@click.option(
    "--batch", metavar="ROOT", help="The batch of an imported figure corrected the first time."
)
@passphrase_option
def outbreak_correct(
    node_url: str,
    key_file: Path,
    region: str,
    day: str,
    figure_texts: tuple[str, ...],
    basis: str,
    reason: str,
    batch: str | None,
    passphrase_file: Path | None,
) -> None:
    """Correct figures with a reason; the earlier versions stay visible."""
    figures = _figures(figure_texts, basis)
    signer = _load(key_file, passphrase_file)
    with open_client(node_url) as client:
        status = correct(
            client,
            signer,
            region=region,
            date=_check_date(day, "--date"),
            figures=figures,
            reason=reason,
            batch=batch,
        )
    click.echo(f"corrected {region} for {day} in block {status['height']}: {reason}")


def _show_provenance(body: dict[str, Any]) -> None:
    flag = "  (reporters disagree)" if body["conflict"] else ""
    click.echo(f"{body['metric']} of {body['region']} on {body['date']}{flag}")
    for entry in body["reporters"]:
        current = entry["current"]
        click.echo(f"  {entry['reporter']}: {current['value']} ({current['basis']})")
        for version in entry["versions"]:
            where = (
                f"batch {version['batch'][:16]}... row {version['row']}"
                if version["source"] == "batch"
                else f"ledger report v{version['ledger_version']}"
            )
            why = f": {version['reason']}" if version["reason"] else ""
            mark = "*" if version["current"] else " "
            click.echo(
                f"   {mark} v{version['version']} {version['value']} at block "
                f"{version['height']} ({where}, tx {version['tx_id'][:16]}...){why}"
            )


@outbreak.command(
    "figure",
    epilog=example(
        "salus outbreak figure FR 2021-03-01 confirmed",
        "salus outbreak figure FR 2021-03-01 confirmed --proof fr.cbor --version 1",
    ),
)
@node_option
@click.argument("region")
@click.argument("day", metavar="DATE")
@click.argument("metric", type=click.Choice(METRICS))
@click.option("--reporter", help="Whose figure to prove (default: the main reporter).")
@click.option("--version", "version", type=click.IntRange(1), help="Which version to prove.")
@click.option(
    "--proof",
    "proof_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the figure's proof bundle to this file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the provenance as JSON.")
def outbreak_figure(
    node_url: str,
    region: str,
    day: str,
    metric: str,
    reporter: str | None,
    version: int | None,
    proof_file: Path | None,
    as_json: bool,
) -> None:
    """Show a figure's provenance: each reporter, every version and correction reason."""
    day = _check_date(day, "DATE")
    with open_client(node_url) as client:
        body = figure_provenance(client, region, day, metric)
        bundle = (
            figure_bundle(client, region, day, metric, reporter=reporter, version=version)
            if proof_file is not None
            else None
        )
    if as_json:
        echo_json(body)
    else:
        _show_provenance(body)
    if proof_file is not None and bundle is not None:
        proof_file.write_bytes(bundle)
        click.echo(f"wrote the proof to {proof_file}; check it with 'salus outbreak verify'")


def _show_verdict(verdict: FigureVerdict) -> None:
    echo_verdict(verdict)


@outbreak.command(
    "verify",
    epilog=example(
        "salus outbreak verify fr.cbor --genesis genesis.json",
        "salus outbreak verify fr.cbor --genesis genesis.json --json",
    ),
)
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@genesis_option
@json_option
@click.pass_context
def outbreak_verify(ctx: click.Context, bundle: Path, genesis_path: Path, as_json: bool) -> None:
    """Verify a figure's proof bundle offline, with no node: exit 0 if valid, 1 if not.

    Steps: decode, row (the row holds the figure), anchored (its Merkle path gives the
    batch root), ledger (the signed block proves the batch record), or for a reported
    figure decode, ledger, figure.
    """
    genesis = load_genesis(genesis_path)
    verdict = verify_figure(bundle.read_bytes(), genesis)
    if as_json:
        echo_json(verdict.to_json())
    else:
        _show_verdict(verdict)
    ctx.exit(0 if verdict.valid else 1)


@outbreak.command(
    "grant-scope",
    epilog=example(
        "salus outbreak grant-scope --key ministry.key --subject red-cross --region IT",
        "salus outbreak grant-scope --key ministry.key --subject jhu-mirror --region '*'",
    ),
)
@node_option
@_key_option
@click.option("--subject", required=True, help="An organisation id or a did:key.")
@click.option("--region", required=True, help="A region id, or * for every region.")
@click.option("--note", default="", help="A public note on the grant.")
@passphrase_option
def outbreak_grant_scope(
    node_url: str,
    key_file: Path,
    subject: str,
    region: str,
    note: str,
    passphrase_file: Path | None,
) -> None:
    """Let an organisation report figures for a region: at once as a health authority
    whose own scopes cover it, else as your organisation's approval (the consortium
    grants at M of N; a scope of your own organisation is only ever so)."""
    signer = _load(key_file, passphrase_file)
    with open_client(node_url) as client:
        status = grant_scope(client, signer, subject=subject, region=region, note=note)
    click.echo(_scope_outcome(status, f"{subject} may report for {region}"))


def _scope_outcome(status: dict[str, Any], done: str) -> str:
    for event in status.get("events") or []:
        if event.get("type") == "scope_approval":
            attrs = event.get("attrs") or {}
            return (
                f"approval recorded at block {status['height']}: {attrs.get('approvals')} of "
                f"the {attrs.get('required')} member organisations needed"
            )
    return f"{done} from block {status['height']}"


@outbreak.command(
    "revoke-scope",
    epilog=example(
        "salus outbreak revoke-scope --key ministry.key --subject red-cross --region IT \\",
        "    --reason 'field teams withdrawn'",
    ),
)
@node_option
@_key_option
@click.option("--subject", required=True, help="An organisation id or a did:key.")
@click.option("--region", required=True, help="The scope to withdraw.")
@click.option("--reason", required=True, help="Why (public, kept forever).")
@passphrase_option
def outbreak_revoke_scope(
    node_url: str,
    key_file: Path,
    subject: str,
    region: str,
    reason: str,
    passphrase_file: Path | None,
) -> None:
    """As a health authority, withdraw a reporting scope (earlier figures stay)."""
    signer = _load(key_file, passphrase_file)
    with open_client(node_url) as client:
        status = revoke_scope(client, signer, subject=subject, region=region, reason=reason)
    click.echo(_scope_outcome(status, f"{subject} no longer reports for {region}"))


@outbreak.command(
    "generate",
    epilog=example(
        "salus outbreak generate confirmed -o time_series_covid19_confirmed_global.csv",
        "salus outbreak generate deaths --days 120 -o time_series_covid19_deaths_global.csv",
    ),
)
@click.argument("metric", type=click.Choice(["confirmed", "deaths", "recovered"]))
@click.option("--days", type=click.IntRange(1, 5000), default=FULL_DAYS, show_default=True)
@click.option("--seed", type=int, default=2020, show_default=True)
@click.option(
    "-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE."
)
def outbreak_generate(metric: str, days: int, seed: int, out: Path) -> None:
    """Write a synthetic JHU global time series (about 290 rows; invented figures)."""
    out.write_text(generate_global_time_series(metric, days=days, seed=seed), encoding="utf-8")
    click.echo(f"wrote {out}: {metric}, {days} days from 2020-01-22 (synthetic)")
