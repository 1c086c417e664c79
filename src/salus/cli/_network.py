"""``salus init``, ``salus node`` and ``salus demo``: create a network and run it."""

from __future__ import annotations

import json
import logging
import shlex
import time
from pathlib import Path

import click

from salus import demo as demo_lib
from salus.cli._common import (
    CommandError,
    example,
    get_passphrase,
    passphrase_option,
    threshold_option,
)
from salus.cli.home import NodeHome, OrganisationPlan, create_home
from salus.cli.server import NodeServer, is_loopback
from salus.client import SalusClient
from salus.keystore import load_key

__all__ = ["demo", "init", "node"]

_STRENGTH = click.Choice(["moderate", "interactive"])


def _org_plan(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[OrganisationPlan]:
    plans = []
    for value in values:
        try:
            plans.append(OrganisationPlan.parse(value))
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None
    return plans


@click.command(
    epilog=example(
        "salus init --home ./consortium --chain-id relief-net \\",
        '    --org health-ministry:"Health Ministry":admin \\',
        '    --org city-hospital:"City Hospital" --org red-cross:"Red Cross"',
    )
)
@click.option(
    "--home",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to create (genesis.json, keys/, data/).",
)
@click.option("--chain-id", required=True, help="Network name, e.g. relief-net.")
@click.option(
    "--org",
    "organisations",
    multiple=True,
    required=True,
    callback=_org_plan,
    metavar='ID:"Name"[:role1,role2]',
    help="A founding organisation (repeat for each).",
)
@threshold_option
@click.option(
    "--validators",
    default=1,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Number of validator keys to create.",
)
@click.option(
    "--kdf-strength",
    type=_STRENGTH,
    default="moderate",
    show_default=True,
    help="Argon2id cost of the key files (interactive is faster and weaker).",
)
@click.option("--force", is_flag=True, help="Delete an existing home's genesis, keys and data.")
@passphrase_option
def init(
    home: Path,
    chain_id: str,
    organisations: list[OrganisationPlan],
    threshold: tuple[int, int],
    validators: int,
    kdf_strength: str,
    force: bool,
    passphrase_file: Path | None,
) -> None:
    """Create a new network: one key per organisation, a validator key and genesis.json.

    Every key file is encrypted with the same passphrase. In a real consortium each
    organisation would generate its own key ('salus keys new') and share only its DID.
    """
    passphrase = get_passphrase(passphrase_file, what="the new keys", confirm=True)
    genesis, keys = create_home(
        home,
        chain_id=chain_id,
        organisations=organisations,
        threshold=threshold,
        validators=validators,
        passphrase=passphrase,
        genesis_time_ms=time.time_ns() // 1_000_000,
        strength="interactive" if kdf_strength == "interactive" else "moderate",
        force=force,
    )
    click.echo(f"Created network {genesis.chain_id!r} in {home}")
    click.echo(f"  genesis   {NodeHome(home).genesis_path}  (hash {genesis.hash.hex()})")
    for key in keys:
        click.echo(f"  {key.kind:<12} {key.name:<20} {key.did}")
        click.echo(f"  {'':<12} {'':<20} key file {key.path}")
    first = next(key for key in keys if key.kind == "organisation")
    q = shlex.quote
    click.echo("")
    click.echo("Next steps:")
    click.echo(f"  salus node --home {q(str(home))}")
    click.echo("  salus query status")
    proposal = json.dumps(
        {"kind": "grant_role", "params": {"subject": first.name, "role": "reporter"}}
    )
    click.echo(
        f"  salus tx send --key {q(str(first.path))} --contract identity --action propose "
        f"--args {q(proposal)} --wait"
    )


@click.command(
    epilog=example(
        "SALUS_PASSPHRASE=... salus node --home ./consortium --port 8080",
        "salus node --home ./consortium --passphrase-file pass.txt --host 0.0.0.0",
        "salus node --engine cometbft --home .salus/testnet/nodes/red-cross --port 8082",
    )
)
@click.option(
    "--engine",
    default="solo",
    show_default=True,
    type=click.Choice(["solo", "cometbft"]),
    help="solo: this process produces every block; cometbft: run with a CometBFT "
    "process, one validator of a multi-organisation network (see docs/cometbft.md).",
)
@click.option(
    "--home",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Home created by 'salus init'.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback exposes the node to the network.",
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--block-interval-ms",
    default=200,
    show_default=True,
    type=click.IntRange(1, 600_000),
    help="Longest a waiting transaction waits for a block.",
)
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    help="Log level of the node and its HTTP server ('info' logs every request, "
    "'debug' also each block's timings).",
)
@click.option(
    "--cometbft",
    "cometbft_binary",
    type=click.Path(dir_okay=False, path_type=Path),
    help="[cometbft] The CometBFT binary (default: SALUS_COMETBFT, .tools/bin, PATH).",
)
@click.option(
    "--p2p-port",
    type=click.IntRange(1, 65535),
    help="[cometbft] Creating HOME/cometbft: the p2p port other validators dial [26656].",
)
@click.option(
    "--rpc-port",
    type=click.IntRange(1, 65535),
    help="[cometbft] Creating HOME/cometbft: CometBFT's RPC port on 127.0.0.1 [26657].",
)
@click.option(
    "--abci-port",
    type=click.IntRange(1, 65535),
    help="[cometbft] Creating HOME/cometbft: the ABCI port on 127.0.0.1 [26658].",
)
@click.option(
    "--p2p-address",
    metavar="HOST",
    help="[cometbft] Creating HOME/cometbft: the host name or IP other organisations "
    "dial (p2p then listens on every interface).",
)
@click.option(
    "--peer",
    "peers",
    multiple=True,
    metavar="ID@HOST:PORT",
    help="[cometbft] Another validator to keep connected to (repeat; replaces the list).",
)
@click.option(
    "--prepare",
    is_flag=True,
    help="[cometbft] Write HOME/cometbft, print this node's peer address and exit.",
)
@passphrase_option
def node(
    engine: str,
    home: Path,
    host: str,
    port: int,
    block_interval_ms: int,
    log_level: str,
    cometbft_binary: Path | None,
    p2p_port: int | None,
    rpc_port: int | None,
    abci_port: int | None,
    p2p_address: str | None,
    peers: tuple[str, ...],
    prepare: bool,
    passphrase_file: Path | None,
) -> None:
    """Run a node: produce blocks with the home's validator key and serve the HTTP API.

    Stops cleanly on Ctrl+C or SIGTERM: no new requests, the current block
    finishes, the database is closed. With --engine cometbft the node runs with a
    CometBFT process instead (HOME/cometbft, created on first use from the home's
    genesis and validator key) and stops CometBFT first.
    """
    logging.basicConfig(format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("salus").setLevel(log_level.upper())
    cometbft_only = {
        "--cometbft": cometbft_binary,
        "--p2p-port": p2p_port,
        "--rpc-port": rpc_port,
        "--abci-port": abci_port,
        "--p2p-address": p2p_address,
        "--peer": peers or None,
        "--prepare": prepare or None,
    }
    if engine == "cometbft":
        from salus.cli._testnet import run_cometbft_node

        run_cometbft_node(
            home,
            host=host,
            port=port,
            log_level=log_level,
            binary=cometbft_binary,
            p2p_port=p2p_port,
            rpc_port=rpc_port,
            abci_port=abci_port,
            p2p_address=p2p_address,
            peers=list(peers),
            prepare=prepare,
            passphrase_file=passphrase_file,
        )
        return
    misplaced = [name for name, value in cometbft_only.items() if value is not None]
    if misplaced:
        raise click.UsageError(f"{', '.join(misplaced)} only apply with --engine cometbft")
    layout = NodeHome(home)
    genesis = layout.load_genesis()
    passphrase = get_passphrase(passphrase_file, what=str(layout.validator_key_path))
    validator = load_key(layout.validator_key_path, passphrase)
    server = NodeServer(
        genesis,
        validator,
        layout.data_dir,
        host=host,
        port=port,
        block_interval_ms=block_interval_ms,
        log_level=log_level,
    )
    server.start()
    try:
        assert server.node is not None
        click.echo(
            f"Salus node for {genesis.chain_id!r} at height {server.node.height}, "
            f"validator {validator.did}"
        )
        if not is_loopback(host):
            click.echo(
                f"warning: listening on {host}, reachable from other machines; the API has "
                "no authentication of its own (put it behind TLS and a firewall)",
                err=True,
            )
        click.echo(f"Listening on {server.url}  (explorer {server.url}/explorer/)")
        click.echo("Press Ctrl+C to stop.", err=True)
        cause = server.wait_for_signal()
    finally:
        server.shutdown()
    if cause == "server stopped":
        raise CommandError("the HTTP server stopped unexpectedly")
    click.echo(f"Stopped ({cause}).", err=True)


@click.command(
    epilog=example(
        "salus demo",
        "salus demo --home /tmp/salus-demo --port 8090 --fresh",
    )
)
@click.option(
    "--home",
    default=Path(".salus/demo"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the demo network lives (reused on the next run).",
)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--fresh", is_flag=True, help="Delete the demo network and start over.")
def demo(home: Path, port: int, fresh: bool) -> None:
    """Start a demo consortium with activity to explore, on this machine only.

    Creates (once) a three-organisation consortium, runs its node on 127.0.0.1,
    seeds it through real signed transactions, and prints what to try next.
    """
    layout = NodeHome(home)
    passphrase = demo_lib.DEMO_PASSPHRASE
    if not fresh and not layout.exists() and home.is_dir() and any(home.iterdir()):
        raise CommandError(
            f"{home} is not empty and holds no network; use --fresh or another --home"
        )
    if fresh and layout.exists() and not demo_lib.is_demo_home(home):
        raise CommandError(f"refusing to delete {home}: it holds a network that is not the demo's")
    if fresh or not layout.exists():
        create_home(
            home,
            chain_id=demo_lib.DEMO_CHAIN_ID,
            organisations=[
                OrganisationPlan(org_id, name, roles)
                for org_id, name, roles in demo_lib.DEMO_ORGANISATIONS
            ],
            threshold=demo_lib.DEMO_THRESHOLD,
            validators=1,
            passphrase=passphrase,
            genesis_time_ms=time.time_ns() // 1_000_000,
            strength="interactive",
            force=fresh,
        )
        click.echo(f"Created the demo network in {home}")
    elif not demo_lib.is_demo_home(home):
        raise CommandError(
            f"{home} holds a network that is not the demo's; run 'salus node --home {home}', "
            "or choose another --home (or --fresh to replace it)"
        )
    click.echo(f'Demo keys use the passphrase "{passphrase}": DEMO ONLY, never for real keys.')
    genesis = layout.load_genesis()
    validator = load_key(layout.validator_key_path, passphrase)
    server = NodeServer(genesis, validator, layout.data_dir, host="127.0.0.1", port=port)
    server.start()
    try:
        with SalusClient(server.url) as client:
            seed, seeded_now = demo_lib.ensure_seeded(
                client, home, passphrase=passphrase, log=click.echo
            )
            apps, _ = demo_lib.seed_apps(
                client, home, server.url, demo_lib.DEMO_APPS, passphrase=passphrase, log=click.echo
            )
        if not seeded_now:
            click.echo(f"Demo activity was seeded on an earlier run ({home / 'demo.json'}).")
        click.echo("")
        click.echo(f"Salus demo network {genesis.chain_id!r} is running at {server.url}")
        click.echo(demo_lib.demo_guide(home, server.url, seed, apps))
        click.echo("")
        click.echo("Press Ctrl+C to stop.")
        cause = server.wait_for_signal()
    finally:
        server.shutdown()
    if cause == "server stopped":
        raise CommandError("the HTTP server stopped unexpectedly")
    click.echo(f"Stopped ({cause}).")
