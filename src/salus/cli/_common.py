"""What every ``salus`` command shares: clean errors, examples, passphrases, JSON.

Error policy: library code raises :class:`~salus.errors.SalusError`; the root group
turns it (and :class:`CommandError`) into one ``error: ...`` line on stderr and exit
status 1. Usage mistakes stay click's (exit status 2). Nothing prints a traceback
unless it is a bug.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

import click

from salus.client import DEFAULT_NODE_URL, SalusClient
from salus.core.genesis import Genesis
from salus.errors import GenesisError, SalusError

__all__ = [
    "NODE_ENV",
    "PASSPHRASE_ENV",
    "CommandError",
    "InputError",
    "SalusGroup",
    "echo_json",
    "echo_steps",
    "echo_verdict",
    "example",
    "genesis_option",
    "get_passphrase",
    "json_option",
    "load_genesis",
    "node_option",
    "open_client",
    "parse_args_json",
    "passphrase_option",
    "threshold_option",
    "to_json_text",
]

PASSPHRASE_ENV = "SALUS_PASSPHRASE"
NODE_ENV = "SALUS_NODE"

F = TypeVar("F", bound=Callable[..., Any])


class CommandError(click.ClickException):
    """A failure to report as one ``error: ...`` line, with exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class InputError(CommandError):
    """Unusable input (a missing file, bad JSON on the command line): exit status 2."""

    exit_code = 2


class SalusGroup(click.Group):
    """A group that reports library errors raised anywhere below it as clean messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SalusError as exc:
            raise CommandError(exc.reason) from None
        except TimeoutError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise CommandError(f"{exc.strerror or exc}{where}") from None


def example(*lines: str) -> str:
    """A help epilog ``Example:`` section; ``\\b`` stops click from re-wrapping it."""
    return "\b\nExample:\n" + "\n".join(f"  {line}" for line in lines)


def _plain(value: object) -> str:
    return value.hex() if isinstance(value, bytes) else str(value)


def to_json_text(value: Any, *, indent: int | None = 2) -> str:
    """JSON text of an API or verifier value (any stray bytes shown as hex)."""
    return json.dumps(value, indent=indent, ensure_ascii=False, default=_plain)


def echo_json(value: Any) -> None:
    """Pretty JSON on stdout."""
    click.echo(to_json_text(value))


# -- governance -----------------------------------------------------------------------


def _threshold(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, int]:
    from salus.cli.home import parse_threshold

    try:
        return parse_threshold(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def threshold_option(function: F) -> F:
    """``--threshold M/N``: the share of organisations that must approve a change."""
    return click.option(
        "--threshold",
        default="2/3",
        show_default=True,
        metavar="M/N",
        callback=_threshold,
        help="Share of organisations that must approve a governance change.",
    )(function)


# -- passphrases ----------------------------------------------------------------------


def passphrase_option(function: F) -> F:
    """``--passphrase-file FILE`` (else ``$SALUS_PASSPHRASE``, else a hidden prompt)."""
    return click.option(
        "--passphrase-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Read the key passphrase from FILE (else ${PASSPHRASE_ENV}, else a prompt).",
    )(function)


def get_passphrase(passphrase_file: Path | None, *, what: str, confirm: bool = False) -> str:
    """The passphrase from the file, else the environment, else a hidden prompt."""
    if passphrase_file is not None:
        try:
            text = passphrase_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"passphrase file {passphrase_file} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read passphrase file {passphrase_file}: {exc}") from None
        # One trailing newline is the file's, not the passphrase's.
        passphrase = text.removesuffix("\n").removesuffix("\r")
        if not passphrase:
            raise CommandError(f"passphrase file {passphrase_file} is empty")
        return passphrase
    from_env = os.environ.get(PASSPHRASE_ENV)
    if from_env:
        return from_env
    prompt = f"Passphrase for {what}"
    try:
        value: str = click.prompt(
            prompt,
            hide_input=True,
            confirmation_prompt="Repeat the passphrase" if confirm else False,
        )
    except click.Abort:
        raise CommandError(
            f"no passphrase for {what}: type it at the prompt, or use --passphrase-file FILE "
            f"or ${PASSPHRASE_ENV}"
        ) from None
    if not value:
        raise CommandError("the passphrase must not be empty")
    return value


# -- nodes -----------------------------------------------------------------------------


def node_option(function: F) -> F:
    """``--node URL``, default from ``$SALUS_NODE`` or the local default."""
    return click.option(
        "--node",
        "node_url",
        envvar=NODE_ENV,
        default=DEFAULT_NODE_URL,
        show_default=True,
        metavar="URL",
        help=f"Base URL of the Salus node (env {NODE_ENV}).",
    )(function)


def open_client(node_url: str) -> SalusClient:
    if not node_url.startswith(("http://", "https://")):
        raise InputError(f"--node must be an http:// or https:// URL (got {node_url!r})")
    return SalusClient(node_url)


# -- arguments -------------------------------------------------------------------------


def parse_args_json(text: str, option: str = "--args") -> dict[str, Any]:
    """Parse a JSON object given inline or as ``@file.json``; errors name the problem."""
    source = option
    if text.startswith("@"):
        path = Path(text[1:])
        source = f"{option} file {path}"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{source} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {source}: {exc}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(value, dict):
        raise InputError(
            f'{source} must be a JSON object like \'{{"name": "value"}}\', '
            f"not a {type(value).__name__}"
        )
    return value


def genesis_option(function: F) -> F:
    """``--genesis FILE`` (required): what every offline verification is checked against."""
    return click.option(
        "--genesis",
        "genesis_path",
        required=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="The network's genesis.json, from a source you trust.",
    )(function)


def json_option(function: F) -> F:
    """``--json``: print the command's result as JSON instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(
        function
    )


def load_genesis(path: Path) -> Genesis:
    """The genesis document at ``path``; :class:`InputError` naming what is wrong with it."""
    try:
        return Genesis.from_json(path.read_bytes())
    except GenesisError as exc:
        raise InputError(f"cannot use {path} as genesis: {exc.reason}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def echo_steps(
    *,
    valid: bool,
    headline: str,
    steps: Sequence[tuple[str, str]],
    failed_step: str,
    reason: str,
) -> None:
    """An offline verifier's verdict: the headline, each step that passed, the one that failed.

    Every verifier (proof bundles, certificates, figures, statements) reports the same
    way, so a reader learns the format once.
    """
    click.echo(headline)
    width = max([len(name) for name, _ in steps] + [len(failed_step) if not valid else 0]) + 1
    for name, detail in steps:
        click.echo(f"  ok  {name:<{width}} {detail}")
    if not valid:
        click.echo(f"  FAIL {failed_step:<{width - 1}} {reason}")


class StepVerdict(Protocol):
    """What the offline verifiers' verdicts share."""

    @property
    def valid(self) -> bool: ...
    @property
    def step(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def steps(self) -> Sequence[tuple[str, str]]: ...


def echo_verdict(verdict: StepVerdict, *, invalid: str = "invalid") -> None:
    """:func:`echo_steps` of a verdict: ``valid: reason`` or ``<invalid> (step X): reason``."""
    echo_steps(
        valid=verdict.valid,
        headline=f"valid: {verdict.reason}"
        if verdict.valid
        else f"{invalid} (step {verdict.step}): {verdict.reason}",
        steps=verdict.steps,
        failed_step=verdict.step,
        reason=verdict.reason,
    )
