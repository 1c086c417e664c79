"""Every command documents itself with an example: walk the whole click tree."""

from __future__ import annotations

from collections.abc import Iterator

import click
from click.testing import CliRunner

from salus.cli import cli
from tests.cli.conftest import Salus


def _walk(
    command: click.Command, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _walk(sub, (*path, name))


def test_the_tree_has_every_documented_command() -> None:
    paths = {" ".join(path) for path, _ in _walk(cli, ())}
    expected = {
        "",
        "init",
        "node",
        "demo",
        "keys",
        "keys new",
        "keys show",
        "tx",
        "tx build",
        "tx sign",
        "tx submit",
        "tx send",
        "query",
        "query status",
        "query genesis",
        "query tx",
        "query block",
        "query blocks",
        "query state",
        "query account",
        "query events",
        "proof",
        "proof tx",
        "proof state",
        "verify",
    }
    assert expected <= paths


def _without_example(root: click.Command) -> list[str]:
    """Commands of ``root`` whose --help does not end with an 'Example:' section."""
    runner = CliRunner()
    missing = []
    for path, command in _walk(root, ()):
        result = runner.invoke(root, [*path, "--help"])
        assert result.exit_code == 0, result.output
        text = result.output.rstrip()
        tail = text[text.rfind("Example:") :] if "Example:" in text else ""
        # The example is the last section and shows a real invocation.
        if not tail or f"{root.name} " not in tail or "\n\n" in tail:
            missing.append(" ".join((str(root.name), *path)))
        elif not command.help:
            missing.append(" ".join((str(root.name), *path)) + " (no description)")
    return missing


def test_every_command_help_ends_with_an_example() -> None:
    missing = _without_example(cli)
    assert not missing, f"commands without an example at the end of --help: {missing}"


def test_the_walker_finds_a_command_without_an_example() -> None:
    @click.group(name="salus", epilog="\b\nExample:\n  salus toy")
    def toy() -> None:
        """A toy."""

    @toy.command(epilog="\b\nExample:\n  salus toy good")
    def good() -> None:
        """Documented."""

    @toy.command()
    def bad() -> None:
        """Undocumented."""

    @toy.command(epilog="\b\nExample:\n  salus toy late\n\nMore text after the example.")
    def late() -> None:
        """Example not last."""

    assert _without_example(toy) == ["salus bad", "salus late"]


def test_examples_are_not_rewrapped(salus: Salus) -> None:
    # The \b marker keeps example lines exactly as written, continuation included.
    result = salus("init", "--help")
    assert '    --org health-ministry:"Health Ministry":admin \\' in result.output


def test_version(salus: Salus) -> None:
    result = salus("--version")
    assert result.exit_code == 0
    assert result.output.startswith("salus, version ")


def test_public_surface() -> None:
    import salus.cli
    import salus.cli.home
    import salus.cli.server

    assert salus.cli.__all__ == ["cli", "main"]
    assert set(salus.cli.home.__all__) == {
        "CreatedKey",
        "NodeHome",
        "OrganisationPlan",
        "create_home",
        "parse_threshold",
    }
    assert set(salus.cli.server.__all__) == {"NodeServer", "is_loopback"}
