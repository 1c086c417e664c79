"""``salus testnet``: the directory it writes, and up / status / down with real processes."""

from __future__ import annotations

import json
import os
import socket
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from salus.cli import cli
from salus.cometbft import testnet as testnet_lib
from salus.cometbft.home import cometbft_address
from salus.cometbft.testnet import TESTNET_PASSPHRASE, create_testnet
from salus.core.genesis import Genesis
from salus.errors import SalusError
from salus.keystore import load_key
from tests.cometbft.network import free_port_block

pytestmark = pytest.mark.cometbft


def _config(node_home: Path) -> dict[str, object]:
    with (node_home / "cometbft" / "config" / "config.toml").open("rb") as handle:
        return tomllib.load(handle)


def test_the_validator_set_is_the_genesis_consortium(tmp_path: Path, cometbft_binary: Path) -> None:
    base, api = free_port_block(3)
    net = create_testnet(
        tmp_path / "net", validators=3, base_port=base, api_port=api, binary=cometbft_binary
    )
    genesis = Genesis.from_json(net.genesis_path.read_bytes())
    orgs = [org.id for org in genesis.consortium.organisations]
    assert orgs == [node.name for node in net.nodes]
    assert [v.name for v in genesis.validators] == orgs
    ports = set()
    for index, node in enumerate(net.nodes):
        # The organisation's own key and its validator key, both encrypted.
        org_key = load_key(net.keys_dir / f"{node.name}.key", TESTNET_PASSPHRASE)
        assert org_key.did in genesis.consortium.organisations[index].keys
        validator = load_key(node.home / "keys" / "validator-1.key", TESTNET_PASSPHRASE)
        assert validator.did == genesis.validators[index].did
        # CometBFT signs with that same key.
        priv = json.loads(
            (node.layout.cometbft_home / "config/priv_validator_key.json").read_text()
        )
        assert priv["address"] == cometbft_address(validator.public_key).hex().upper()
        config = _config(node.home)
        assert config["proxy_app"] == f"tcp://127.0.0.1:{node.ports.abci}"
        peers = str(config["p2p"]["persistent_peers"]).split(",")  # type: ignore[index]
        assert sorted(peers) == sorted(o.peer_address for o in net.nodes if o is not node)
        assert (node.home / "genesis.json").read_bytes() == net.genesis_path.read_bytes()
        ports.update({node.ports.p2p, node.ports.rpc, node.ports.abci, node.api_port})
    assert len(ports) == 4 * len(net.nodes)
    again = testnet_lib.Testnet.load(net.root)
    assert again.nodes == net.nodes and again.chain_id == net.chain_id
    assert [status.running for status in again.status()] == [False] * 3


def test_refusals_name_the_problem(tmp_path: Path, cometbft_binary: Path) -> None:
    base, api = free_port_block(1)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", base + 1))
        busy.listen()
        with pytest.raises(SalusError, match=f"ports already in use on 127.0.0.1: {base + 1}"):
            create_testnet(
                tmp_path / "a", validators=1, base_port=base, api_port=api, binary=cometbft_binary
            )
    other = tmp_path / "b"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(SalusError, match="not empty"):
        create_testnet(other, validators=1, base_port=base, api_port=api, binary=cometbft_binary)
    with pytest.raises(SalusError, match="holds no testnet"):
        create_testnet(
            other, validators=1, base_port=base, api_port=api, binary=cometbft_binary, force=True
        )
    assert (other / "notes.txt").exists()
    with pytest.raises(SalusError, match="there is no testnet"):
        testnet_lib.Testnet.load(tmp_path / "nothing")


def test_a_recycled_pid_is_never_signalled(tmp_path: Path, cometbft_binary: Path) -> None:
    base, api = free_port_block(1)
    net = create_testnet(
        tmp_path / "net", validators=1, base_port=base, api_port=api, binary=cometbft_binary
    )
    name = net.nodes[0].name
    net.pid_path(name).parent.mkdir(parents=True, exist_ok=True)
    net.pid_path(name).write_text(f"{os.getpid()}\n")  # this test process: not the node
    assert not net.running(name)
    net.stop()  # must not signal us
    assert not net.pid_path(name).exists()


@pytest.mark.slow
def test_up_status_down_from_the_command_line(tmp_path: Path, cometbft_binary: Path) -> None:
    root = tmp_path / "testnet"
    base, api = free_port_block(4)
    runner = CliRunner(env={"SALUS_PASSPHRASE": None, "SALUS_NODE": None})
    try:
        up = runner.invoke(
            cli,
            [
                "testnet",
                "up",
                "--dir",
                str(root),
                "--base-port",
                str(base),
                "--api-port",
                str(api),
                "--timeout-commit-ms",
                "200",
                "--cometbft",
                str(cometbft_binary),
                "--seed-demo",
            ],
        )
        assert up.exit_code == 0, up.output
        assert "with 4 validators" in up.output
        assert f"http://127.0.0.1:{api + 3}" in up.output
        # The demo's activity, through real signed transactions, on the BFT network.
        assert "red-cross anchors the document's hash: committed" in up.output
        net = testnet_lib.Testnet.load(root)
        assert all(net.running(node.name) for node in net.nodes)
        seed = json.loads((root / "demo.json").read_text())

        status = runner.invoke(cli, ["testnet", "status", "--dir", str(root), "--json"])
        assert status.exit_code == 0, status.output
        report = json.loads(status.output)
        assert [n["running"] for n in report["nodes"]] == [True] * 4
        assert all(n["height"] >= 1 and n["peers"] == 3 for n in report["nodes"])
        assert report["disagreements"] == []
        table = runner.invoke(cli, ["testnet", "status", "--dir", str(root)])
        assert "same app hash" in table.output

        # The ordinary CLI works against any node, and every node knows the demo's txs.
        for node in net.nodes:
            query = runner.invoke(cli, ["query", "--node", node.api_url, "tx", seed["anchor_tx"]])
            if '"committed"' not in query.output:  # this node may be a block behind
                net.wait_for_height(net.node_status(net.nodes[0]).height or 1, [node.name])
                query = runner.invoke(
                    cli, ["query", "--node", node.api_url, "tx", seed["anchor_tx"]]
                )
            assert query.exit_code == 0 and '"committed"' in query.output, query.output

        # Running 'up' again only restarts what is not running.
        pids = [net.pid_of(node.name) for node in net.nodes]
        net.stop_node(net.nodes[2].name)
        again = runner.invoke(
            cli, ["testnet", "up", "--dir", str(root), "--cometbft", str(cometbft_binary)]
        )
        assert again.exit_code == 0, again.output
        after = [net.pid_of(node.name) for node in net.nodes]
        assert after[:2] == pids[:2] and after[3] == pids[3]
        assert after[2] is not None and after[2] != pids[2]

        down = runner.invoke(cli, ["testnet", "down", "--dir", str(root)])
        assert down.exit_code == 0, down.output
        assert "Stopped 4 node(s)" in down.output
        assert not any(net.running(node.name) for node in net.nodes)
        assert not any(node.layout.cometbft_pid.exists() for node in net.nodes)
        # Each node stopped CometBFT, then its ABCI server, then its store.
        assert "Stopped (SIGTERM)" in net.log_path(net.nodes[0].name).read_text()
    finally:
        if (root / "testnet.json").exists():
            testnet_lib.Testnet.load(root).stop()


def test_node_options_for_cometbft_are_refused_with_solo(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["node", "--home", str(tmp_path), "--p2p-port", "26656", "--peer", "a@b:1"]
    )
    assert result.exit_code == 2
    assert "--p2p-port, --peer only apply with --engine cometbft" in result.output


@pytest.mark.slow
def test_salus_node_engine_cometbft_runs_a_home_made_by_init(
    tmp_path: Path, cometbft_binary: Path
) -> None:
    from salus.client import SalusClient
    from salus.core.proofs import verify_bundle
    from tests.cli.running import PASSPHRASE, Process, make_home, subprocess_env

    home = tmp_path / "home"
    genesis = make_home(home)  # 'salus init': three organisations, one validator
    secret = tmp_path / "pass.txt"
    secret.write_text(PASSPHRASE + "\n")
    base, api = free_port_block(1)
    common = ["node", "--engine", "cometbft", "--home", str(home), "--port", str(api)]
    common += ["--cometbft", str(cometbft_binary)]
    ports = ["--p2p-port", str(base), "--rpc-port", str(base + 1), "--abci-port", str(base + 2)]
    prepared = Process(
        [*common, *ports, "--passphrase-file", str(secret), "--prepare"], subprocess_env()
    )
    prepared.popen.wait(timeout=60)
    assert prepared.stop() == 0, prepared.output()
    assert f"@127.0.0.1:{base}" in prepared.output()
    for run in range(2):  # the second run resumes the same chain, no options needed
        node = Process(common, subprocess_env())
        try:
            node.wait_for_line("Listening on", timeout=60)
            with SalusClient(f"http://127.0.0.1:{api}") as client:
                signer = load_key(home / "keys" / "red-cross.key", PASSPHRASE)
                sent = client.send(signer, "notary", "anchor", {"digest": f"{run:064x}"})
                assert client.wait_for(sent["id"])["status"] == "committed"
                bundle = client.tx_proof(sent["id"])
            assert verify_bundle(bundle, genesis).valid
        finally:
            code = node.stop()
        assert code == 0, node.output()
        assert "Stopped (SIGINT)" in node.output()
        assert not (home / "cometbft.pid").exists()
