"""``salus testnet up | status | down``: a multi-organisation network on this machine."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import click

from salus.cli._common import (
    PASSPHRASE_ENV,
    CommandError,
    SalusGroup,
    echo_json,
    example,
    passphrase_option,
    threshold_option,
)

__all__ = ["testnet"]

_DIR = Path(".salus/testnet")


def _dir_option(function: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--dir",
        "root",
        default=_DIR,
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="The testnet's directory (homes, keys, logs, pids).",
    )(function)


@click.group(
    cls=SalusGroup,
    epilog=example(
        "salus testnet up --validators 4",
        "salus testnet status",
        "salus testnet down",
    ),
)
def testnet() -> None:
    """Run a CometBFT network of several organisations on this machine.

    Each organisation of the genesis consortium runs a validator: a Salus process
    (ledger, ABCI application, HTTP API) paired with a CometBFT process. Needs the
    pinned CometBFT binary ('make cometbft' or SALUS_COMETBFT).
    """


@testnet.command(
    epilog=example(
        "salus testnet up                       # 4 validators, APIs on 8080-8083",
        "salus testnet up --seed-demo           # and the demo's activity, as 'salus demo'",
        "salus testnet up --validators 7 --base-port 27000 --api-port 9000 --dir /tmp/net",
    )
)
@_dir_option
@click.option(
    "--validators",
    default=4,
    show_default=True,
    type=click.IntRange(1, 50),
    help="Organisations in the consortium, one validator each.",
)
@click.option(
    "--base-port",
    default=26600,
    show_default=True,
    type=click.IntRange(1024, 65000),
    help="Node i's CometBFT ports: p2p base+10i, RPC +1, ABCI +2.",
)
@click.option(
    "--api-port",
    default=8080,
    show_default=True,
    type=click.IntRange(1024, 65000),
    help="Node i's Salus HTTP API listens on this port + i.",
)
@click.option("--chain-id", default="salus-testnet", show_default=True, help="Network name.")
@threshold_option
@click.option(
    "--timeout-commit-ms",
    default=500,
    show_default=True,
    type=click.IntRange(0, 60_000),
    help="CometBFT's pause after each block (sets the pace when idle).",
)
@click.option(
    "--cometbft",
    "binary",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The CometBFT binary (default: SALUS_COMETBFT, .tools/bin, PATH).",
)
@click.option("--force", is_flag=True, help="Stop and delete an existing testnet in --dir first.")
@click.option(
    "--seed-demo",
    is_flag=True,
    help="Run the demo's activity ('salus demo') through the first node; with 4 "
    "validators the threshold becomes 1/2 so the demo's votes carry.",
)
@passphrase_option
def up(
    root: Path,
    validators: int,
    base_port: int,
    api_port: int,
    chain_id: str,
    threshold: tuple[int, int],
    timeout_commit_ms: int,
    binary: Path | None,
    force: bool,
    seed_demo: bool,
    passphrase_file: Path | None,
) -> None:
    """Create (once) and start a local network of N validator organisations.

    On first use writes the genesis, one key and one validator key per
    organisation (in DIR/keys, encrypted with the passphrase from --passphrase-file
    or SALUS_PASSPHRASE, else the testnet-only passphrase 'testnet'), and a Salus
    home plus a CometBFT home per node. Then starts every node that is not running,
    detached, and waits until each answers. Running it again restarts stopped nodes.
    """
    from salus import demo as demo_lib
    from salus.cli._common import get_passphrase
    from salus.cometbft.binary import find_cometbft
    from salus.cometbft.testnet import TESTNET_PASSPHRASE, Testnet, create_testnet

    binary = binary or find_cometbft()
    creating = force or not (root / "testnet.json").exists()
    if seed_demo and creating:
        if validators not in (3, 4):
            raise CommandError("--seed-demo needs --validators 3 or 4 (the demo's votes)")
        if validators == 4:
            threshold = (1, 2)
    passphrase = TESTNET_PASSPHRASE
    given = passphrase_file is not None or bool(os.environ.get(PASSPHRASE_ENV))
    if creating:
        if given:
            passphrase = get_passphrase(passphrase_file, what="the testnet keys")
            shown = "the passphrase you gave"
        else:
            passphrase = demo_lib.DEMO_PASSPHRASE if seed_demo else TESTNET_PASSPHRASE
            shown = f'the passphrase "{passphrase}" (TESTNET ONLY, never for real keys)'
        net = create_testnet(
            root,
            validators=validators,
            base_port=base_port,
            api_port=api_port,
            chain_id=chain_id,
            binary=binary.resolve(),
            passphrase=passphrase,
            timeout_commit_ms=timeout_commit_ms,
            threshold=threshold,
            force=force,
        )
        click.echo(f"Created testnet {net.chain_id!r} with {len(net.nodes)} validators in {root}")
        click.echo(f"  keys in {net.keys_dir}, encrypted with {shown}")
    else:
        net = Testnet.load(root)
        click.echo(f"Starting the existing testnet {net.chain_id!r} in {root}")
    net.start(wait=120)
    if seed_demo:
        if creating or given:
            candidates = [passphrase if creating else get_passphrase(passphrase_file, what="keys")]
        else:
            candidates = [demo_lib.DEMO_PASSPHRASE, TESTNET_PASSPHRASE]
        _seed_demo(net, candidates)
    click.echo("")
    click.echo(f"{'node':<18} {'Salus API':<24} {'CometBFT RPC':<24} log")
    for node in net.nodes:
        click.echo(
            f"{node.name:<18} {node.api_url:<24} {node.rpc_url:<24} {net.log_path(node.name)}"
        )
    first = net.nodes[0]
    q = shlex.quote
    click.echo("")
    click.echo("Every node serves the same ledger. Try:")
    click.echo(f"  salus query --node {first.api_url} status")
    click.echo(
        f"  SALUS_PASSPHRASE=... salus tx send --node {net.nodes[-1].api_url} "
        f"--key {q(str(net.keys_dir / (first.name + '.key')))} --contract notary --action anchor "
        """--args '{"digest": "<64 hex>"}' --wait"""
    )
    click.echo(f"  salus verify receipt.cbor --genesis {q(str(net.genesis_path))}")
    click.echo(f"  salus testnet status --dir {q(str(root))}")
    click.echo(f"  salus testnet down --dir {q(str(root))}")


def _seed_demo(net: Any, passphrases: list[str]) -> None:
    """The demo's activity, signed by the testnet's organisations, through node 1."""
    from salus import demo as demo_lib
    from salus.client import SalusClient
    from salus.core.genesis import Genesis
    from salus.errors import KeystoreError

    genesis = Genesis.from_json(net.genesis_path.read_bytes())
    threshold = genesis.consortium.threshold
    members = len(genesis.consortium.organisations)
    if (members, threshold.num, threshold.den) not in ((3, 2, 3), (4, 1, 2)):
        raise CommandError(
            "this testnet's consortium cannot run the demo's votes; create it with "
            "'salus testnet up --force --seed-demo --validators 4' (or 3)"
        )
    first = net.nodes[0]
    click.echo(f"Seeding the demo's activity through {first.name} ({first.api_url})")
    with SalusClient(first.api_url) as client:
        for attempt, passphrase in enumerate(passphrases, start=1):
            try:  # seed_demo reads the founders' keys before it writes anything
                seed, seeded_now = demo_lib.ensure_seeded(
                    client, net.root, passphrase=passphrase, log=click.echo
                )
                apps, _ = demo_lib.seed_apps(
                    client,
                    net.root,
                    first.api_url,
                    demo_lib.DEMO_APPS,
                    passphrase=passphrase,
                    log=click.echo,
                )
                break
            except KeystoreError:
                if attempt == len(passphrases):
                    raise
    if not seeded_now:
        click.echo(f"Demo activity was seeded on an earlier run ({net.root / 'demo.json'}).")
    click.echo("")
    click.echo(demo_lib.demo_guide(net.root, first.api_url, seed, apps))
    click.echo("(On a testnet, stop the nodes with 'salus testnet down' instead of Ctrl+C.)")


@testnet.command(epilog=example("salus testnet status", "salus testnet status --json"))
@_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(root: Path, as_json: bool) -> None:
    """Height, app hash and peers of every node; flags nodes that disagree.

    Compares the app hash (the Salus state root) each running node's CometBFT
    stored at the highest height they all have. Exits 1 if any node disagrees.
    """
    from salus.cometbft.testnet import Testnet

    net = Testnet.load(root)
    statuses = net.status()
    disagreements = net.app_hash_disagreements()
    if as_json:
        echo_json(
            {
                "chain_id": net.chain_id,
                "nodes": [item.to_json() for item in statuses],
                "disagreements": disagreements,
            }
        )
    else:
        click.echo(f"testnet {net.chain_id!r} in {root}")
        click.echo(f"{'node':<18} {'state':<8} {'height':>7} {'peers':>5}  app hash")
        for item in statuses:
            state = "running" if item.running else "stopped"
            if item.running and item.catching_up:
                state = "syncing"
            height = "-" if item.height is None else str(item.height)
            peers = "-" if item.peers is None else str(item.peers)
            app_hash = (item.app_hash or "-")[:16]
            line = f"{item.name:<18} {state:<8} {height:>7} {peers:>5}  {app_hash}"
            if item.error:
                line += f"  ({item.error})"
            click.echo(line)
        if disagreements:
            for line in disagreements:
                click.echo(f"DISAGREEMENT {line}")
        elif sum(item.running for item in statuses) > 1:
            click.echo("every running node has the same app hash at the common height")
    if disagreements:
        raise CommandError(f"{len(disagreements)} node(s) disagree about the app hash")


@testnet.command(epilog=example("salus testnet down", "salus testnet down --purge"))
@_dir_option
@click.option("--purge", is_flag=True, help="Also delete the testnet directory.")
def down(root: Path, purge: bool) -> None:
    """Stop every process the testnet started (by pid: SIGTERM, then SIGKILL).

    Each node stops CometBFT first, then its ABCI server, then closes its ledger.
    The directory stays (restart with 'salus testnet up') unless --purge.
    """
    import shutil

    from salus.cometbft.testnet import Testnet

    net = Testnet.load(root)
    stopped = [node.name for node in net.nodes if net.running(node.name)]
    net.stop()
    click.echo(f"Stopped {len(stopped)} node(s): {', '.join(stopped) or 'none was running'}")
    if purge:
        shutil.rmtree(root)
        click.echo(f"Deleted {root}")


# -- salus node --engine cometbft ------------------------------------------------------


def run_cometbft_node(
    home: Path,
    *,
    host: str,
    port: int,
    log_level: str,
    binary: Path | None,
    p2p_port: int | None,
    rpc_port: int | None,
    abci_port: int | None,
    p2p_address: str | None,
    peers: list[str],
    prepare: bool,
    passphrase_file: Path | None,
) -> None:
    """``salus node --engine cometbft``: create HOME/cometbft if needed, then run the pair."""
    import logging

    from salus.cli._common import get_passphrase
    from salus.cli.home import NodeHome
    from salus.cli.server import is_loopback
    from salus.cometbft.binary import find_cometbft
    from salus.cometbft.home import NodePorts
    from salus.cometbft.runner import (
        CometNode,
        CometNodeHome,
        create_cometbft_home,
        run_until_signal,
        set_persistent_peers,
    )
    from salus.keystore import load_key

    binary = (binary or find_cometbft()).resolve()
    layout = CometNodeHome(home)
    genesis = NodeHome(home).load_genesis()
    creating = {"--p2p-port": p2p_port, "--rpc-port": rpc_port, "--abci-port": abci_port}
    if not layout.has_cometbft():
        validator = None
        if layout.validator_key_path.exists():
            passphrase = get_passphrase(passphrase_file, what=str(layout.validator_key_path))
            validator = load_key(layout.validator_key_path, passphrase)
        address = create_cometbft_home(
            home,
            genesis,
            validator,
            NodePorts(p2p_port or 26656, rpc_port or 26657, abci_port or 26658),
            binary=binary,
            moniker=home.resolve().name,
            persistent_peers=peers,
            p2p_address=p2p_address,
        )
        role = f"validator {validator.did}" if validator else "a full node (no validator key)"
        click.echo(f"Created the CometBFT home {layout.cometbft_home} for {role}")
        click.echo(f"  this node's peer address: {address}  (give it to the other organisations)")
    else:
        given = [name for name, value in creating.items() if value is not None]
        if given or p2p_address is not None:
            raise CommandError(
                f"{layout.cometbft_home} exists already; {', '.join(given) or '--p2p-address'} "
                f"only apply when creating it (edit {layout.config_path} instead)"
            )
        if peers:
            set_persistent_peers(home, peers)
            click.echo(f"Peers set to {', '.join(peers)}")
    if prepare:
        return
    if not is_loopback(host):
        click.echo(
            f"warning: the HTTP API listens on {host}, reachable from other machines; it has "
            "no authentication of its own (put it behind TLS and a firewall)",
            err=True,
        )
    node = CometNode(home, binary=binary, host=host, port=port, log_level=log_level)
    logging.getLogger("salus").debug("starting %s", home)
    click.echo("Press Ctrl+C to stop.", err=True)
    cause = run_until_signal(node, click.echo)
    if cause not in ("SIGINT", "SIGTERM"):
        raise CommandError(f"the node stopped: {cause}")
    click.echo(f"Stopped ({cause}).", err=True)
