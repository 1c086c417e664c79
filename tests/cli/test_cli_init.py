"""``salus init``: a new network's home, and the mistakes it refuses; ``salus node``'s
errors before it serves anything (serving is covered by the subprocess tests)."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path

from click.testing import Result

from salus.cli.server import is_loopback
from salus.core.genesis import Genesis
from salus.keystore import load_key
from salus.node.storage import SqliteStore
from tests.cli.conftest import Salus
from tests.cli.running import PASSPHRASE, make_home

ORGS = (
    "--org",
    "health-ministry:Health Ministry:admin,auditor",
    "--org",
    "city-hospital:City Hospital",
    "--org",
    "red-cross:Red Cross",
)


def _init(salus: Salus, home: Path, *extra: str, env: dict[str, str] | None = None) -> Result:
    return salus(
        "init",
        "--home",
        str(home),
        "--chain-id",
        "relief-net",
        *ORGS,
        "--kdf-strength",
        "interactive",
        *extra,
        env=env if env is not None else {"SALUS_PASSPHRASE": PASSPHRASE},
    )


def test_init_writes_genesis_and_encrypted_keys(salus: Salus, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = _init(salus, home, "--validators", "2", "--threshold", "1/2")
    assert result.exit_code == 0, result.output
    genesis = Genesis.from_json((home / "genesis.json").read_text())
    assert genesis.chain_id == "relief-net"
    assert genesis.consortium.threshold.num == 1 and genesis.consortium.threshold.den == 2
    orgs = {org.id: org for org in genesis.consortium.organisations}
    assert list(orgs) == ["health-ministry", "city-hospital", "red-cross"]
    assert orgs["health-ministry"].roles == ["admin", "auditor"]
    assert orgs["health-ministry"].name == "Health Ministry"
    assert [v.name for v in genesis.validators] == ["validator-1", "validator-2"]
    for org_id, org in orgs.items():
        key_file = home / "keys" / f"{org_id}.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert load_key(key_file, PASSPHRASE).did == org.keys[0]
        assert org.keys[0] in result.output
    validator = load_key(home / "keys" / "validator-1.key", PASSPHRASE)
    assert validator.did == genesis.validators[0].did
    assert "salus node --home" in result.output


def test_init_prompts_for_a_confirmed_passphrase(salus: Salus, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = salus(
        "init",
        "--home",
        str(home),
        "--chain-id",
        "c1",
        "--org",
        "a:A",
        "--kdf-strength",
        "interactive",
        input="pw\npw\n",
    )
    assert result.exit_code == 0, result.output
    assert load_key(home / "keys" / "a.key", "pw")


def test_init_refuses_an_existing_home_unless_forced(salus: Salus, tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _init(salus, home).exit_code == 0
    before = (home / "genesis.json").read_text()
    again = _init(salus, home)
    assert again.exit_code == 1
    assert "already exists and is not empty" in again.stderr
    assert (home / "genesis.json").read_text() == before
    (home / "notes.txt").write_text("mine")
    forced = _init(salus, home, "--force")
    assert forced.exit_code == 0
    assert (home / "genesis.json").read_text() != before
    assert (home / "notes.txt").read_text() == "mine"  # only Salus's own files are replaced


def test_init_usage_errors_are_clean(salus: Salus, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"SALUS_PASSPHRASE": "pw"}
    bad_org = salus("init", "--home", str(home), "--chain-id", "c", "--org", "Bad_Id:X", env=env)
    assert bad_org.exit_code == 2
    assert "organisation id 'Bad_Id'" in bad_org.stderr
    no_name = salus("init", "--home", str(home), "--chain-id", "c", "--org", "lab", env=env)
    assert no_name.exit_code == 2
    assert "is not ID:Name" in no_name.stderr
    bad_role = salus("init", "--home", str(home), "--chain-id", "c", "--org", "a:A:member", env=env)
    assert bad_role.exit_code == 2
    assert "implicit" in bad_role.stderr
    threshold = salus(
        "init",
        "--home",
        str(home),
        "--chain-id",
        "c",
        "--org",
        "a:A",
        "--threshold",
        "4/3",
        env=env,
    )
    assert threshold.exit_code == 2
    assert "--threshold" in threshold.stderr
    no_org = salus("init", "--home", str(home), "--chain-id", "c", env=env)
    assert no_org.exit_code == 2
    assert not home.exists()


def test_init_bad_chain_id_is_one_error_line(salus: Salus, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = salus(
        "init",
        "--home",
        str(home),
        "--chain-id",
        "no spaces allowed",
        "--org",
        "a:A",
        "--kdf-strength",
        "interactive",
        env={"SALUS_PASSPHRASE": "pw"},
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid genesis: chain_id")
    assert result.stderr.count("\n") == 1
    assert not (home / "genesis.json").exists()


def test_node_without_a_home(salus: Salus, tmp_path: Path) -> None:
    result = salus("node", "--home", str(tmp_path / "none"), env={"SALUS_PASSPHRASE": "pw"})
    assert result.exit_code == 1
    assert "has no genesis.json" in result.stderr
    assert "salus init --home" in result.stderr


def test_node_with_a_wrong_passphrase(salus: Salus, tmp_path: Path) -> None:
    make_home(tmp_path / "home")
    result = salus("node", "--home", str(tmp_path / "home"), env={"SALUS_PASSPHRASE": "wrong"})
    assert result.exit_code == 1
    assert "wrong passphrase" in result.stderr
    assert "validator-1.key" in result.stderr


def test_node_with_a_corrupt_genesis(salus: Salus, tmp_path: Path) -> None:
    make_home(tmp_path / "home")
    genesis = tmp_path / "home" / "genesis.json"
    data = json.loads(genesis.read_text())
    data["validators"] = []
    genesis.write_text(json.dumps(data))
    result = salus("node", "--home", str(tmp_path / "home"), env={"SALUS_PASSPHRASE": PASSPHRASE})
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid genesis: validators")


def test_node_on_a_port_in_use(salus: Salus, tmp_path: Path) -> None:
    make_home(tmp_path / "home")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = salus(
            "node",
            "--home",
            str(tmp_path / "home"),
            "--port",
            str(port),
            env={"SALUS_PASSPHRASE": PASSPHRASE},
        )
    assert result.exit_code == 1
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.stderr


def test_node_on_data_of_another_network(salus: Salus, tmp_path: Path) -> None:
    make_home(tmp_path / "home")
    store = SqliteStore(tmp_path / "home" / "data" / "ledger.sqlite")
    store.set_meta("genesis_hash", b"\x00" * 32)
    store.close()
    result = salus(
        "node",
        "--home",
        str(tmp_path / "home"),
        "--port",
        "0",
        env={"SALUS_PASSPHRASE": PASSPHRASE},
    )
    assert result.exit_code == 1
    assert result.stderr == "error: this data directory belongs to a different genesis\n"


def test_node_without_any_passphrase_source(salus: Salus, tmp_path: Path) -> None:
    make_home(tmp_path / "home")
    result = salus("node", "--home", str(tmp_path / "home"), input="")
    assert result.exit_code == 1
    assert "error: no passphrase for" in result.stderr
    assert "--passphrase-file" in result.stderr


def test_loopback_detection() -> None:
    for host in ("127.0.0.1", "127.1.2.3", "::1", "localhost"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.org"):
        assert not is_loopback(host), host
