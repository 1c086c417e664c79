"""Fixtures for CLI tests: an isolated CliRunner and one served network per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from salus.cli import cli
from tests.cli.running import PASSPHRASE, Network, running_network


class Salus:
    """Runs ``salus ...`` in-process with the environment under the test's control."""

    def __init__(self, runner: CliRunner) -> None:
        self.runner = runner

    def __call__(
        self, *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
    ) -> Result:
        result = self.runner.invoke(cli, list(args), input=input, env=env or {})
        # A SystemExit is how click exits; anything else escaped the error handling.
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"salus {' '.join(args)} raised") from result.exception
        assert "Traceback" not in result.output
        return result


@pytest.fixture
def salus() -> Salus:
    # Unset what a developer's shell may export, so every test states its inputs.
    return Salus(CliRunner(env={"SALUS_PASSPHRASE": None, "SALUS_NODE": None}))


@pytest.fixture(scope="session")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with running_network(tmp_path_factory.mktemp("cli-network") / "home") as net:
        yield net


@pytest.fixture
def pass_env() -> dict[str, str]:
    return {"SALUS_PASSPHRASE": PASSPHRASE}


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase.txt"
    path.write_text(PASSPHRASE + "\n")
    return path
