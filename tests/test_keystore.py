"""Key files: Argon2id + XSalsa20-Poly1305 at rest, and every way a file can be wrong."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import nacl.pwhash
import pytest

from salus.core.crypto import Signer
from salus.errors import KeystoreError
from salus.keystore import load_key, read_did, save_key
from tests.support import key

ALICE = key(21)
BOB = key(22)


def _saved(tmp_path: Path, signer: Signer = ALICE, passphrase: str = "correct horse") -> Path:
    path = tmp_path / "alice.key"
    save_key(path, signer, passphrase, strength="interactive")
    return path


def _edit(path: Path, **changes: Any) -> None:
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document))


def _flip_b64(value: str, index: int = 0) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_round_trip_restores_the_same_key(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    loaded = load_key(path, "correct horse")
    assert loaded.seed == ALICE.seed
    assert loaded.did == ALICE.did


def test_file_has_the_documented_fields_and_no_secret_in_clear(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    document = json.loads(path.read_text())
    assert set(document) == {
        "salus_key",
        "did",
        "kdf",
        "opslimit",
        "memlimit",
        "salt",
        "nonce",
        "ciphertext",
    }
    assert document["salus_key"] == 1
    assert document["kdf"] == "argon2id"
    assert document["did"] == ALICE.did
    assert document["opslimit"] == nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
    assert len(base64.b64decode(document["salt"])) == 16
    assert len(base64.b64decode(document["nonce"])) == 24
    assert len(base64.b64decode(document["ciphertext"])) == 32 + 16
    assert ALICE.seed.hex() not in path.read_text()
    assert base64.b64encode(ALICE.seed).decode() not in path.read_text()


def test_file_is_private_to_its_owner(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".salus-key-")]


def test_moderate_strength_is_the_default_and_recorded(tmp_path: Path) -> None:
    path = tmp_path / "strong.key"
    save_key(path, ALICE, "pw")
    document = json.loads(path.read_text())
    assert document["opslimit"] == nacl.pwhash.argon2id.OPSLIMIT_MODERATE
    assert document["memlimit"] == nacl.pwhash.argon2id.MEMLIMIT_MODERATE
    assert load_key(path, "pw").did == ALICE.did


def test_each_save_uses_fresh_salt_and_nonce(tmp_path: Path) -> None:
    first, second = tmp_path / "a.key", tmp_path / "b.key"
    save_key(first, ALICE, "pw", strength="interactive")
    save_key(second, ALICE, "pw", strength="interactive")
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a["salt"] != b["salt"]
    assert a["nonce"] != b["nonce"]
    assert a["ciphertext"] != b["ciphertext"]


def test_read_did_needs_no_passphrase(tmp_path: Path) -> None:
    assert read_did(_saved(tmp_path)) == ALICE.did


def test_unicode_passphrase_and_bytes_passphrase_agree(tmp_path: Path) -> None:
    path = _saved(tmp_path, passphrase="pässwörd ✓")
    assert load_key(path, "pässwörd ✓".encode()).did == ALICE.did


def test_wrong_passphrase_is_reported(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        load_key(path, "Correct horse")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match=r"nope\.key does not exist"):
        load_key(tmp_path / "nope.key", "pw")
    with pytest.raises(KeystoreError, match="does not exist"):
        read_did(tmp_path / "nope.key")


def test_directory_is_not_a_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="is a directory"):
        load_key(tmp_path, "pw")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a Salus key file"),
        ('{"hello": 1}', "not a Salus key file"),
        ('{"salus_key": 2}', "version 2"),
        ('{"salus_key": 1, "did": "x"}', "missing kdf"),
    ],
)
def test_malformed_files_are_reported(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.key"
    path.write_text(content)
    with pytest.raises(KeystoreError, match=message):
        load_key(path, "pw")


def test_binary_garbage_is_not_a_key_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(KeystoreError, match="not valid JSON"):
        load_key(path, "pw")


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "salt"])
def test_tampered_ciphertext_nonce_or_salt_does_not_decrypt(tmp_path: Path, field: str) -> None:
    path = _saved(tmp_path)
    document = json.loads(path.read_text())
    _edit(path, **{field: _flip_b64(document[field])})
    with pytest.raises(KeystoreError, match="wrong passphrase, or the key file was modified"):
        load_key(path, "correct horse")


def test_tampered_cost_does_not_decrypt(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    _edit(path, opslimit=nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE + 1)
    with pytest.raises(KeystoreError, match="modified"):
        load_key(path, "correct horse")


def test_swapped_did_is_reported_as_tampering(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    _edit(path, did=BOB.did)
    assert read_did(path) == BOB.did  # the clear claim, unchecked...
    with pytest.raises(KeystoreError, match=f"tampered with: it names {BOB.did}"):
        load_key(path, "correct horse")  # ...is checked against the decrypted key


def test_invalid_did_is_reported(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    _edit(path, did="did:web:example.org")
    with pytest.raises(KeystoreError, match="not a did:key"):
        read_did(path)


def test_hostile_costs_are_refused_before_any_work(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    _edit(path, memlimit=1 << 40)
    with pytest.raises(KeystoreError, match="memlimit must be an integer"):
        load_key(path, "correct horse")
    _edit(path, memlimit=nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE, opslimit=True)
    with pytest.raises(KeystoreError, match="opslimit"):
        load_key(path, "correct horse")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("salt", "AAAA", "salt must be 16 bytes"),
        ("nonce", "***", "nonce is not valid base64"),
        ("ciphertext", 7, "ciphertext must be base64 text"),
        ("kdf", "scrypt", "unsupported kdf"),
    ],
)
def test_bad_fields_are_named(tmp_path: Path, field: str, value: object, message: str) -> None:
    path = _saved(tmp_path)
    _edit(path, **{field: value})
    with pytest.raises(KeystoreError, match=message):
        load_key(path, "correct horse")


def test_unknown_fields_are_refused(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    _edit(path, seed_hint="abc")
    with pytest.raises(KeystoreError, match="unknown fields seed_hint"):
        load_key(path, "correct horse")


def test_existing_key_file_is_never_replaced_by_default(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    with pytest.raises(KeystoreError, match="already exists"):
        save_key(path, BOB, "pw", strength="interactive")
    assert load_key(path, "correct horse").did == ALICE.did
    save_key(path, BOB, "pw", strength="interactive", overwrite=True)
    assert load_key(path, "pw").did == BOB.did
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_empty_passphrase_and_unknown_strength_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="must not be empty"):
        save_key(tmp_path / "a.key", ALICE, "", strength="interactive")
    with pytest.raises(KeystoreError, match="unknown key strength"):
        save_key(tmp_path / "a.key", ALICE, "pw", strength="weak")  # type: ignore[arg-type]
    assert not (tmp_path / "a.key").exists()


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="does not exist"):
        save_key(tmp_path / "no" / "a.key", ALICE, "pw", strength="interactive")
