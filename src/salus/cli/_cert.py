"""``salus cert``: issue, batch-issue, revoke, suspend, verify and print course certificates.

Thin over :mod:`salus.apps.learning.issuance` (online),
:mod:`salus.apps.learning.certificate` (offline) and :mod:`salus.apps.learning.pdf`
(``pdf``, offline). ``verify`` exits 0 valid, 1 not valid, 2 unusable input; ``batch``
exits 1 when any row was not issued (the good rows are); ``pdf`` exits 2 for a package
or name it cannot print.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from salus.apps.learning.certificate import CertificateVerdict, CertificateVerifier
from salus.apps.learning.cohort import drop_unknown_courses, parse_cohort
from salus.apps.learning.export import learner_bundle
from salus.apps.learning.issuance import (
    CertificateRecord,
    change_status,
    issue_batch,
    package_address,
    published_courses,
    refresh_package,
)
from salus.apps.learning.pdf import FallbackFont, render_certificate_pdf
from salus.cli._common import (
    CommandError,
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
from salus.client import SalusClient
from salus.core.crypto import Signer, public_key_from_did
from salus.errors import SalusError
from salus.keystore import load_key

__all__ = ["cert"]

_key_option = click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Encrypted key file of the issuer's account (or an accreditor).",
)
_signing_key_option = click.option(
    "--signing-key",
    "signing_key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Encrypted key file of the bound did:key that signs the credentials.",
)


def _load(path: Path, passphrase_file: Path | None) -> Signer:
    return load_key(path, get_passphrase(passphrase_file, what=str(path)))


@click.group(
    cls=SalusGroup,
    epilog=example(
        "salus cert batch --key school.key --signing-key school-signing.key \\",
        "    --csv cohort.csv --out certificates/",
    ),
)
def cert() -> None:
    """Issue, revoke, suspend, verify and print course certificates (Open Badges 3.0 VC-JWTs)."""


@cert.command(
    "issue",
    epilog=example(
        "salus cert issue --key school.key --signing-key school-signing.key \\",
        "    --learner did:key:z6Mk... --course first-aid-101 --name 'Ada L.' -o ada.cert",
    ),
)
@node_option
@_key_option
@_signing_key_option
@click.option("--learner", required=True, metavar="DID", help="The learner's did:key.")
@click.option("--course", "course_id", required=True, help="A course the issuer published.")
@click.option("--name", "learner_name", help="Learner's name (in the credential only).")
@click.option("--score", type=click.IntRange(0), help="Assessment score (with --max-score).")
@click.option("--max-score", type=click.IntRange(1), help="Maximum score.")
@click.option("--evidence-url", help="URL of the evidence.")
@click.option(
    "-o", "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE."
)
@passphrase_option
def cert_issue(
    node_url: str,
    key_file: Path,
    signing_key_file: Path,
    learner: str,
    course_id: str,
    learner_name: str | None,
    score: int | None,
    max_score: int | None,
    evidence_url: str | None,
    out: Path,
    passphrase_file: Path | None,
) -> None:
    """Issue one certificate (a batch of one) and write its package to FILE."""
    if (score is None) != (max_score is None):
        raise InputError("--score and --max-score go together")
    account = _load(key_file, passphrase_file)
    signing = _load(signing_key_file, passphrase_file)
    record = CertificateRecord(
        learner_did=learner,
        course_id=course_id,
        learner_name=learner_name,
        score=score,
        max_score=max_score,
        evidence_url=evidence_url,
    )
    with open_client(node_url) as client:
        (package,) = issue_batch(client, account, signing, [record])
    out.write_bytes(package)
    click.echo(f"issued 1 certificate: {out}")


@cert.command(
    "batch",
    epilog=example(
        "salus cert batch --key school.key --signing-key school-signing.key \\",
        "    --csv cohort.csv --out certificates/",
    ),
)
@node_option
@_key_option
@_signing_key_option
@click.option(
    "--csv",
    "csv_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Cohort CSV (see docs/certificates.md for the columns).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for one package file per certificate.",
)
@passphrase_option
def cert_batch(
    node_url: str,
    key_file: Path,
    signing_key_file: Path,
    csv_file: Path,
    out_dir: Path,
    passphrase_file: Path | None,
) -> None:
    """Issue a cohort's certificates in one anchored batch; report each bad row by line.

    Good rows are issued even when others are bad; the exit status is then 1.
    """
    try:
        text = csv_file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{csv_file} is not UTF-8 text") from None
    cohort = parse_cohort(text)
    account = _load(key_file, passphrase_file)
    signing = _load(signing_key_file, passphrase_file)
    with open_client(node_url) as client:
        known = published_courses(client, account.did, (r.course_id for r in cohort.records))
        cohort = drop_unknown_courses(cohort, known)
        packages = issue_batch(client, account, signing, cohort.records) if cohort.records else []
    out_dir.mkdir(parents=True, exist_ok=True)
    for record, package in zip(cohort.records, packages, strict=True):
        (out_dir / f"line-{record.line:05d}.salus-cert").write_bytes(package)
    click.echo(f"issued {len(packages)} certificate(s) into {out_dir}")
    if cohort.errors:
        click.echo(f"{len(cohort.errors)} row(s) not issued:")
        for error in cohort.errors:
            click.echo(f"  {error}")
        raise CommandError(f"{len(cohort.errors)} row(s) of {csv_file} were not issued")


def _status_command(action: str, summary: str, sample: str) -> click.Command:
    @click.command(
        action,
        help=summary,
        epilog=example(
            f"salus cert {action} ada.cert --key school.key --reason {sample}",
            f"salus cert {action} --status-index 42 --key school.key --reason {sample}",
        ),
    )
    @node_option
    @_key_option
    @click.argument(
        "package", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
    )
    @click.option("--status-index", type=click.IntRange(0), help="Instead of PACKAGE.")
    @click.option("--issuer", metavar="DID", help="With --status-index (default: the signer).")
    @click.option("--reason", required=True, help="Why; recorded on the ledger.")
    @passphrase_option
    def command(
        node_url: str,
        key_file: Path,
        package: Path | None,
        status_index: int | None,
        issuer: str | None,
        reason: str,
        passphrase_file: Path | None,
    ) -> None:
        if (package is None) == (status_index is None):
            raise InputError("give a PACKAGE file or --status-index, not both or neither")
        address: dict[str, Any] = {"reason": reason}
        if package is not None:
            try:
                root, index, _ = package_address(package.read_bytes())
            except ValueError as exc:
                raise InputError(f"{package} is not a certificate package: {exc}") from None
            address.update(root=root, index_in_batch=index)
        else:
            address.update(status_index=status_index, issuer=issuer)
        signer = _load(key_file, passphrase_file)
        with open_client(node_url) as client:
            status = change_status(client, signer, action, **address)
        done = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "unsuspended"}[action]
        click.echo(f"{done} in block {status.get('height')}: {reason}")

    return command


@cert.command(
    "refresh",
    epilog=example(
        "salus cert refresh ada.salus-cert -o ada-now.salus-cert",
        "salus cert verify ada-now.salus-cert --genesis genesis.json",
    ),
)
@node_option
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the refreshed package.",
)
def cert_refresh(node_url: str, package: Path, out: Path) -> None:
    """Fetch current proofs for a certificate, so an offline check sees revocations.

    A package proves the ledger as it was when it was built; a refreshed one proves
    the latest block, so 'salus cert verify' reports a later revocation or
    suspension ("revoked at block N: reason") with no node running.
    """
    with open_client(node_url) as client:
        try:
            fresh = refresh_package(client, package.read_bytes())
        except ValueError as exc:
            raise InputError(f"{package} is not a certificate package: {exc}") from None
    out.write_bytes(fresh)
    click.echo(f"wrote {out} with proofs from the node's latest block")


@cert.command(
    "export",
    epilog=example(
        "salus cert export --learner did:key:z6Mk... --from certificates/ -o ada-records.json",
        "salus cert export --learner did:key:z6Mk... --from certificates/ --transcript "
        "-o ada-records.json",
    ),
)
@node_option
@click.option("--learner", required=True, metavar="DID", help="The learner's did:key.")
@click.option(
    "--from",
    "sources",
    required=True,
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A directory of certificate packages (*.salus-cert); repeat for several.",
)
@click.option(
    "--transcript", is_flag=True, help="Also include the learner's records from the node."
)
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the bundle (JSON).",
)
def cert_export(
    node_url: str, learner: str, sources: tuple[Path, ...], transcript: bool, out: Path
) -> None:
    """Export a learner's certificates (and records) as one bundle for another system.

    The bundle is a W3C Verifiable Presentation holding the learner's VC-JWTs, with
    each certificate's package beside it for offline checks and, with --transcript,
    the learner's enrolments, completions and results from the node.
    """
    try:
        public_key_from_did(learner)
    except SalusError as exc:
        raise InputError(f"--learner: {exc.reason}") from None
    packages = [
        (str(path), path.read_bytes())
        for source in sources
        for path in sorted(source.glob("*.salus-cert"))
    ]
    events: list[dict[str, Any]] | None = None
    if transcript:
        with open_client(node_url) as client:
            events = _transcript(client, learner)
    result = learner_bundle(learner, packages, transcript=events)
    out.write_text(json.dumps(result.presentation, indent=2, sort_keys=True) + "\n")
    for problem in result.unreadable:
        click.echo(f"skipped {problem}", err=True)
    click.echo(
        f"wrote {out}: {result.included} certificate(s) of {learner}"
        + (f", {len(events)} record(s)" if events is not None else "")
    )


def _transcript(client: SalusClient, learner: str) -> list[dict[str, Any]]:
    """Every learning-record event about ``learner``, following the paging cursor."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.events(contract="learning", subject=learner, after=after, limit=500)
        events.extend(page["events"])
        if page.get("next") is None:
            return events
        after = int(page["next"])


for _action, _summary, _sample in (
    ("revoke", "Revoke a certificate for good, with a reason.", "'exam misconduct'"),
    ("suspend", "Suspend a certificate (reversible with unsuspend).", "'appeal pending'"),
    ("unsuspend", "Lift a certificate's suspension.", "'appeal upheld'"),
):
    cert.add_command(_status_command(_action, _summary, _sample))


def _report(verdict: CertificateVerdict) -> None:
    echo_verdict(verdict, invalid=verdict.verdict)


@cert.command(
    "verify",
    epilog=example(
        "salus cert verify ada.cert --genesis genesis.json",
        "salus cert verify ada.cert --genesis genesis.json --json",
    ),
)
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@genesis_option
@json_option
@click.pass_context
def cert_verify(ctx: click.Context, package: Path, genesis_path: Path, as_json: bool) -> None:
    """Verify a certificate package offline, with no node: exit 0 if valid, 1 if not.

    Steps: decode, signature, anchored, ledger, issuer, key, status; the first failure
    gives the verdict (tampered, revoked, suspended, unknown issuer, issuer not
    accredited at issue time, not anchored).
    """
    genesis = load_genesis(genesis_path)
    verdict = CertificateVerifier(genesis).verify(package.read_bytes())
    if as_json:
        echo_json(verdict.to_json())
    else:
        _report(verdict)
    ctx.exit(0 if verdict.valid else 1)


@cert.command(
    "pdf",
    epilog=example(
        "salus cert pdf ada.salus-cert --name 'Ada Lovelace' -o ada.pdf \\",
        "    --verify-url https://node.example.org/verify/",
    ),
)
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--name",
    "learner_name",
    help="The learner's name as printed (default: the name in the credential, else the "
    "learner's DID). Printed only: stored nowhere.",
)
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the PDF.",
)
@click.option(
    "--verify-url",
    metavar="URL",
    help="The verification page the QR code links to [default: <--node>/verify/].",
)
@click.option(
    "--font",
    "fonts",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A font (.ttf, .otf, .ttc) for characters DejaVu Sans lacks, e.g. Chinese; "
    "repeat for several [default: installed Debian CJK fonts].",
)
@node_option
def cert_pdf(
    package: Path,
    learner_name: str | None,
    out: Path,
    verify_url: str | None,
    fonts: tuple[Path, ...],
    node_url: str,
) -> None:
    """Print a certificate package as a one-page A4 PDF with a QR code to verify it.

    The QR code holds the credential itself (a link to the verification page with
    the VC-JWT after '#vc=') when it fits in one QR symbol, else a short link with
    the credential's hash. Names in any script DejaVu Sans covers (Latin, Greek,
    Cyrillic, Arabic, Hebrew...) print as they are; Chinese, Japanese and Korean need
    a CJK font (Debian's fonts-noto-cjk, or --font). Needs no node.
    """
    url = verify_url or node_url.rstrip("/") + "/verify/"
    try:
        pdf = render_certificate_pdf(
            package.read_bytes(),
            learner_name=learner_name,
            verify_url=url,
            fallback_fonts=[FallbackFont(path) for path in fonts] if fonts else None,
        )
    except ValueError as exc:
        raise InputError(f"cannot print {package}: {exc}") from None
    out.write_bytes(pdf)
    click.echo(f"wrote {out} ({len(pdf):,} bytes); its QR code links to {url}")
