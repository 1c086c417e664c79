"""``salus query`` (read a node, pretty JSON) and ``salus proof`` (download bundles)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from salus.cli._common import SalusGroup, echo_json, example, node_option, open_client
from salus.core.genesis import Genesis
from salus.core.proofs import verify_bundle

__all__ = ["proof", "query"]


@click.group(
    cls=SalusGroup,
    epilog=example(
        "salus query status",
        "salus query --node http://127.0.0.1:8080 state identity org/red-cross",
    ),
)
@node_option
@click.pass_context
def query(ctx: click.Context, node_url: str) -> None:
    """Read from a node; prints pretty JSON."""
    ctx.obj = node_url


@query.command("status", epilog=example("salus query status"))
@click.pass_obj
def query_status(node_url: str) -> None:
    """Chain id, height, last block, state root and mempool size."""
    with open_client(node_url) as client:
        echo_json(client.status())


@query.command("genesis", epilog=example("salus query genesis > genesis.json"))
@click.pass_obj
def query_genesis(node_url: str) -> None:
    """The network's genesis document (what 'salus verify' needs)."""
    with open_client(node_url) as client:
        echo_json(client.genesis())


@query.command("tx", epilog=example("salus query tx 3f5a...c9e1"))
@click.argument("tx_id")
@click.pass_obj
def query_tx(node_url: str, tx_id: str) -> None:
    """Status of a transaction: pending, committed or rejected (with the reason)."""
    with open_client(node_url) as client:
        echo_json(client.tx(tx_id))


@query.command("block", epilog=example("salus query block 1"))
@click.argument("height", type=click.IntRange(0))
@click.pass_obj
def query_block(node_url: str, height: int) -> None:
    """One block with its transactions."""
    with open_client(node_url) as client:
        echo_json(client.block(height))


@query.command("blocks", epilog=example("salus query blocks --limit 5"))
@click.option("--before", type=click.IntRange(1), help="Only blocks below this height.")
@click.option("--limit", type=click.IntRange(1), help="At most this many headers.")
@click.pass_obj
def query_blocks(node_url: str, before: int | None, limit: int | None) -> None:
    """Recent block headers, newest first."""
    with open_client(node_url) as client:
        echo_json(client.blocks(before=before, limit=limit))


@query.command("state", epilog=example("salus query state identity org/red-cross"))
@click.argument("contract")
@click.argument("key")
@click.pass_obj
def query_state(node_url: str, contract: str, key: str) -> None:
    """The current value of a contract's state key."""
    with open_client(node_url) as client:
        echo_json(client.state(contract, key))


@query.command("account", epilog=example("salus query account did:key:z6Mk..."))
@click.argument("did")
@click.pass_obj
def query_account(node_url: str, did: str) -> None:
    """Organisation, roles and next nonce of a did:key."""
    with open_client(node_url) as client:
        echo_json(client.account(did))


@query.command(
    "events", epilog=example("salus query events --contract identity --type executed --limit 10")
)
@click.option("--contract", help="Only events of this contract.")
@click.option("--type", "event_type", help="Only events of this type.")
@click.option("--subject", help="Only events about this subject, e.g. proposal/1.")
@click.option("--after", type=click.IntRange(0), help="Cursor: the 'next' of a previous page.")
@click.option("--limit", type=click.IntRange(1), help="At most this many events.")
@click.pass_obj
def query_events(
    node_url: str,
    contract: str | None,
    event_type: str | None,
    subject: str | None,
    after: int | None,
    limit: int | None,
) -> None:
    """Events, oldest first, with a 'next' cursor for the following page."""
    with open_client(node_url) as client:
        echo_json(
            client.events(
                contract=contract, type=event_type, subject=subject, after=after, limit=limit
            )
        )


# -- proofs -------------------------------------------------------------------------------


@click.group(
    cls=SalusGroup,
    epilog=example(
        "salus proof tx 3f5a...c9e1 -o tx-proof.cbor",
        "salus proof state identity org/red-cross -o state-proof.cbor",
    ),
)
@node_option
@click.pass_context
def proof(ctx: click.Context, node_url: str) -> None:
    """Download proof bundles to check offline with 'salus verify'."""
    ctx.obj = node_url


_out_option = click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="File to write the CBOR bundle to ('-' for stdout).",
)


def _save_bundle(bundle: bytes, out: Path, genesis_data: object) -> None:
    if str(out) == "-":
        sys.stdout.buffer.write(bundle)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(bundle)
    # What the bundle claims, checked against the genesis this node reports. That
    # only shows what it says; trust comes from 'salus verify' with a genesis you hold.
    verdict = verify_bundle(bundle, Genesis.from_data(genesis_data))
    where = "stdout" if str(out) == "-" else str(out)
    click.echo(f"wrote {len(bundle)} bytes to {where}", err=True)
    if verdict.valid:
        click.echo(f"it proves: {verdict.reason}", err=True)
    else:
        click.echo(f"warning: the bundle does not verify: {verdict.reason}", err=True)
    if where != "stdout":
        click.echo(
            f"check it offline: salus verify {where} --genesis GENESIS.json "
            "(the network's genesis, from a source you trust)",
            err=True,
        )


@proof.command("tx", epilog=example("salus proof tx 3f5a...c9e1 -o tx-proof.cbor"))
@click.argument("tx_id")
@_out_option
@click.pass_obj
def proof_tx(node_url: str, tx_id: str, out: Path) -> None:
    """Proof that a committed transaction is in its block, with its outcome."""
    with open_client(node_url) as client:
        bundle = client.tx_proof(tx_id)
        _save_bundle(bundle, out, client.genesis())


@proof.command(
    "state", epilog=example("salus proof state identity org/red-cross -o state-proof.cbor")
)
@click.argument("contract")
@click.argument("key")
@_out_option
@click.pass_obj
def proof_state(node_url: str, contract: str, key: str, out: Path) -> None:
    """Proof of a state key's current value, or of its absence."""
    with open_client(node_url) as client:
        bundle = client.state_proof(contract, key)
        _save_bundle(bundle, out, client.genesis())
