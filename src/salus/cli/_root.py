"""The ``salus`` command group: every subcommand, and the console-script entry point."""

from __future__ import annotations

import click

from salus.cli._aid import aid
from salus.cli._cert import cert
from salus.cli._common import SalusGroup, example
from salus.cli._keys import keys
from salus.cli._network import demo, init, node
from salus.cli._outbreak import outbreak
from salus.cli._posts import posts
from salus.cli._query import proof, query
from salus.cli._testnet import testnet
from salus.cli._tx import tx
from salus.cli._verify import verify

__all__ = ["cli", "main"]


@click.group(
    name="salus",
    cls=SalusGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=example(
        "salus demo                      # a running demo network to explore",
        "salus verify proof.cbor --genesis genesis.json",
    ),
)
@click.version_option(package_name="salus", prog_name="salus")
def cli() -> None:
    """Salus: a permissioned ledger with proofs anyone can check offline.

    Library errors are reported as one 'error: ...' line with a non-zero exit status.
    """


for command in (
    init,
    node,
    demo,
    keys,
    tx,
    query,
    proof,
    verify,
    testnet,
    cert,
    posts,
    outbreak,
    aid,
):
    cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="salus")
