"""Options and inputs the ``salus aid`` commands share: keys, plans, amounts, digests, secrets."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from salus.apps.mutual_aid.client import (
    AidError,
    PlanClient,
    attestation_from_json,
    new_secret,
    parse_amount,
)
from salus.apps.mutual_aid.rules import (
    format_money,
    format_time,
)
from salus.cli._common import (
    CommandError,
    InputError,
    get_passphrase,
    json_option,
    open_client,
    passphrase_option,
)
from salus.core.crypto import Signer
from salus.keystore import load_key

__all__ = [
    "HEX64",
    "F",
    "amount_in",
    "claim_option",
    "digest_of",
    "json_option",
    "key_option",
    "load_signer",
    "money",
    "plan_option",
    "plan_session",
    "read_attestation",
    "read_secret",
    "stored_secret",
    "when",
    "write_secret",
]

F = TypeVar("F", bound=Callable[..., Any])
PLAN_ENV = "SALUS_AID_PLAN"
HEX64 = re.compile(r"[0-9a-f]{64}")


# -- options and inputs ----------------------------------------------------------------


def plan_option(function: F) -> F:
    return click.option(
        "--plan",
        required=True,
        envvar=PLAN_ENV,
        metavar="ID",
        help=f"The plan id, e.g. xhb-2026 (env {PLAN_ENV}).",
    )(function)


def key_option(who: str) -> Callable[[F], F]:
    def decorate(function: F) -> F:
        function = passphrase_option(function)
        return click.option(
            "--key",
            "key_file",
            required=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help=f"Encrypted key file of the {who}.",
        )(function)

    return decorate


def claim_option(function: F) -> F:
    return click.option(
        "--claim", "claim", required=True, type=click.IntRange(1), help="Claim number."
    )(function)


def load_signer(path: Path, passphrase_file: Path | None) -> Signer:
    return load_key(path, get_passphrase(passphrase_file, what=str(path)))


def plan_session(node_url: str, plan: str) -> PlanClient:
    """The plan on the node; the connection closes when the command ends."""
    client = open_client(node_url)
    click.get_current_context().call_on_close(client.close)
    return PlanClient(client, plan)


def digest_of(value: str, option: str) -> str:
    """A SHA-256 given as 64 hex characters, or the SHA-256 of a file's bytes."""
    if HEX64.fullmatch(value):
        return value
    path = Path(value)
    if not path.is_file():
        raise InputError(f"{option} {value!r} is neither a SHA-256 (64 hex) nor a file")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def amount_in(aid: PlanClient, text: str, option: str) -> tuple[int, dict[str, Any]]:
    record = aid.record()
    try:
        return parse_amount(text, int(record["minor_units"]), what=option), record
    except ValueError as exc:
        raise InputError(f"{exc} ({record['currency']})") from None


def money(amount: int, record: dict[str, Any]) -> str:
    return format_money(amount, str(record["currency"]), int(record["minor_units"]))


def write_secret(path: Path, secret: str) -> None:
    """Create ``path`` holding ``secret``: a new file (never overwritten), readable by its
    owner only from the moment it exists (mode 0600 at creation, not chmod after), and
    flushed to disk. Any failure is an :class:`InputError` and leaves no partial file."""
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise InputError(f"{path} exists; a seed secret is never overwritten") from None
    except OSError as exc:
        raise InputError(f"cannot create the secret file {path}: {exc.strerror}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secret + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise InputError(
            f"cannot write the secret file {path}: {exc.strerror}{_removed(path)}"
        ) from None


@contextmanager
def stored_secret(path: Path) -> Iterator[str]:
    """A fresh jury seed secret, stored in the new file ``path`` *before* its commitment
    is sent (so a crash after the block commits never loses it). If the node refuses the
    action (:class:`AidError`), the file is deleted: nothing was committed to it. On any
    other failure (a timeout: the action may still commit) the file is kept."""
    secret = new_secret()
    write_secret(path, secret)
    try:
        yield secret
    except AidError as exc:
        left = _removed(path)
        if left:
            raise CommandError(f"{exc.reason}{left}") from None
        raise


def _removed(path: Path) -> str:
    """Delete ``path``; ``""`` when done, else a clause saying it is left behind."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        return f" (and {path} could not be removed: {exc.strerror}; delete it)"
    return ""


def read_secret(path: Path) -> str:
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InputError(f"cannot read the secret file {path}: {exc.strerror}") from None
    if not HEX64.fullmatch(secret):
        raise InputError(f"{path} does not hold a seed secret (64 hex characters)")
    return secret


def when(ms: int | None) -> str:
    return "-" if ms is None else format_time(int(ms))


def read_attestation(path: Path) -> Any:
    try:
        return attestation_from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: {exc}") from None
