"""``salus keys new`` and ``salus keys show``, and where passphrases come from."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from salus.keystore import load_key, read_did
from tests.cli.conftest import Salus

FAST = ("--kdf-strength", "interactive")


def test_new_with_passphrase_file_writes_a_private_key(
    salus: Salus, tmp_path: Path, passphrase_file: Path
) -> None:
    out = tmp_path / "alice.key"
    result = salus(
        "keys", "new", "--out", str(out), "--passphrase-file", str(passphrase_file), *FAST
    )
    assert result.exit_code == 0, result.output
    did = result.stdout.strip()
    assert did.startswith("did:key:z6Mk")
    assert read_did(out) == did
    # The file's trailing newline is not part of the passphrase.
    assert load_key(out, passphrase_file.read_text().strip()).did == did
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_new_with_env_passphrase(salus: Salus, tmp_path: Path) -> None:
    out = tmp_path / "k.key"
    result = salus("keys", "new", "--out", str(out), *FAST, env={"SALUS_PASSPHRASE": "from env"})
    assert result.exit_code == 0, result.output
    assert load_key(out, "from env").did == result.stdout.strip()


def test_new_prompts_twice_and_insists_on_a_match(salus: Salus, tmp_path: Path) -> None:
    out = tmp_path / "k.key"
    result = salus("keys", "new", "--out", str(out), *FAST, input="s3cret\ns3cret\n")
    assert result.exit_code == 0, result.output
    assert "Repeat the passphrase" in result.output
    assert "s3cret" not in result.output  # hidden input is not echoed
    assert load_key(out, "s3cret").did in result.output

    other = tmp_path / "other.key"
    result = salus("keys", "new", "--out", str(other), *FAST, input="one\ntwo\n")
    assert result.exit_code != 0
    assert not other.exists()


def test_new_refuses_to_replace_a_key_unless_forced(
    salus: Salus, tmp_path: Path, passphrase_file: Path
) -> None:
    out = tmp_path / "k.key"
    args = ("keys", "new", "--out", str(out), "--passphrase-file", str(passphrase_file), *FAST)
    first = salus(*args).stdout.strip()
    result = salus(*args)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "already exists" in result.stderr
    assert read_did(out) == first
    forced = salus(*args, "--force")
    assert forced.exit_code == 0
    assert read_did(out) == forced.stdout.strip() != first


def test_new_passphrase_file_errors(salus: Salus, tmp_path: Path) -> None:
    out = tmp_path / "k.key"
    result = salus("keys", "new", "--out", str(out), "--passphrase-file", str(tmp_path / "nope"))
    assert result.exit_code == 1
    assert "error: passphrase file" in result.stderr and "does not exist" in result.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    result = salus("keys", "new", "--out", str(out), "--passphrase-file", str(empty))
    assert result.exit_code == 1
    assert "is empty" in result.stderr
    assert not out.exists()


def test_new_into_missing_directory(salus: Salus, tmp_path: Path) -> None:
    result = salus(
        "keys", "new", "--out", str(tmp_path / "no" / "k.key"), *FAST, env={"SALUS_PASSPHRASE": "x"}
    )
    assert result.exit_code == 1
    assert "does not exist" in result.stderr


def test_show_prints_the_did_without_a_passphrase(
    salus: Salus, tmp_path: Path, passphrase_file: Path
) -> None:
    out = tmp_path / "k.key"
    did = salus("keys", "new", "--out", str(out), "--passphrase-file", str(passphrase_file), *FAST)
    result = salus("keys", "show", str(out))
    assert result.exit_code == 0
    assert result.stdout.strip() == did.stdout.strip()

    checked = salus(
        "keys", "show", str(out), "--check", "--json", "--passphrase-file", str(passphrase_file)
    )
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout) == {
        "did": did.stdout.strip(),
        "file": str(out),
        "checked": True,
    }


def test_show_check_with_wrong_passphrase(
    salus: Salus, tmp_path: Path, passphrase_file: Path
) -> None:
    out = tmp_path / "k.key"
    salus("keys", "new", "--out", str(out), "--passphrase-file", str(passphrase_file), *FAST)
    result = salus("keys", "show", str(out), "--check", env={"SALUS_PASSPHRASE": "wrong"})
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"error: cannot decrypt {out}: wrong passphrase, or the key file was modified\n"
    )


def test_show_missing_and_malformed_files(salus: Salus, tmp_path: Path) -> None:
    result = salus("keys", "show", str(tmp_path / "missing.key"))
    assert result.exit_code == 1
    assert result.stderr == f"error: key file {tmp_path / 'missing.key'} does not exist\n"
    bad = tmp_path / "bad.key"
    bad.write_text("{oops")
    result = salus("keys", "show", str(bad))
    assert result.exit_code == 1
    assert "is not a Salus key file (not valid JSON" in result.stderr
