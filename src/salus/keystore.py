"""Private keys encrypted at rest with a passphrase.

A key file is small JSON::

    {"salus_key": 1, "did": "did:key:z...", "kdf": "argon2id",
     "opslimit": int, "memlimit": int,
     "salt": b64(16 bytes), "nonce": b64(24 bytes), "ciphertext": b64(32 + 16 bytes)}

Argon2id (RFC 9106, libsodium ``crypto_pwhash``) stretches the passphrase with the
file's ``salt``, ``opslimit`` and ``memlimit`` into a 32-byte key; that key seals the
32-byte Ed25519 seed with XSalsa20-Poly1305 (libsodium ``crypto_secretbox``).

Rules this module obeys:
- The ``did`` is stored in clear so a key can be identified without its passphrase
  (:func:`read_did`). It is not authenticated by the box, so :func:`load_key` checks
  it against the decrypted key: an edited DID is reported as tampering.
- Poly1305 authenticates the ciphertext: a wrong passphrase and a modified salt,
  nonce, cost or ciphertext are indistinguishable, and both are reported as such.
- The cost parameters come from the file, within bounds, so a hostile file cannot
  ask for terabytes of memory.
- Files are written atomically (temporary file, fsync, rename) with mode 0600, and
  an existing key file is never replaced unless the caller says so: losing a
  private key is not undoable.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from salus.core.crypto import SEED_SIZE, Signer, public_key_from_did
from salus.errors import EncodingError, KeystoreError

__all__ = ["KEY_FILE_VERSION", "Strength", "load_key", "read_did", "save_key"]

KEY_FILE_VERSION = 1
Strength = Literal["moderate", "interactive"]

_ARGON2ID = nacl.pwhash.argon2id
_COSTS: dict[str, tuple[int, int]] = {
    "interactive": (_ARGON2ID.OPSLIMIT_INTERACTIVE, _ARGON2ID.MEMLIMIT_INTERACTIVE),
    "moderate": (_ARGON2ID.OPSLIMIT_MODERATE, _ARGON2ID.MEMLIMIT_MODERATE),
}
# Upper bounds accepted from a file: libsodium's "sensitive" preset (1 GiB).
_MAX_OPSLIMIT = _ARGON2ID.OPSLIMIT_SENSITIVE
_MAX_MEMLIMIT = _ARGON2ID.MEMLIMIT_SENSITIVE
_FIELDS = ("salus_key", "did", "kdf", "opslimit", "memlimit", "salt", "nonce", "ciphertext")
_MAX_FILE_BYTES = 64 * 1024


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)


def _derive(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    derived: bytes = _ARGON2ID.kdf(
        nacl.secret.SecretBox.KEY_SIZE, passphrase, salt, opslimit=opslimit, memlimit=memlimit
    )
    return derived


def save_key(
    path: str | Path,
    signer: Signer,
    passphrase: str | bytes,
    *,
    strength: Strength = "moderate",
    overwrite: bool = False,
) -> None:
    """Encrypt ``signer``'s seed under ``passphrase`` and write it to ``path``.

    ``strength`` picks libsodium's Argon2id preset: ``moderate`` (256 MiB, for keys
    that matter) or ``interactive`` (64 MiB, for tests and demo keys). Raises
    :class:`KeystoreError` for an empty passphrase, or when ``path`` exists and
    ``overwrite`` is false.
    """
    if strength not in _COSTS:
        raise KeystoreError(f"unknown key strength {strength!r} (use moderate or interactive)")
    secret = _passphrase_bytes(passphrase)
    if not secret:
        raise KeystoreError("the passphrase must not be empty")
    opslimit, memlimit = _COSTS[strength]
    salt = nacl.utils.random(_ARGON2ID.SALTBYTES)
    box = nacl.secret.SecretBox(_derive(secret, salt, opslimit, memlimit))
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    ciphertext = box.encrypt(signer.seed, nonce).ciphertext
    document = {
        "salus_key": KEY_FILE_VERSION,
        "did": signer.did,
        "kdf": "argon2id",
        "opslimit": opslimit,
        "memlimit": memlimit,
        "salt": base64.b64encode(salt).decode("ascii"),
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
    }
    _write_private(Path(path), (json.dumps(document, indent=2) + "\n").encode(), overwrite)


def _write_private(path: Path, data: bytes, overwrite: bool) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only."""
    if not overwrite and path.exists():
        raise KeystoreError(f"{path} already exists; refusing to replace a key file")
    directory = path.parent
    if not directory.is_dir():
        raise KeystoreError(f"cannot write {path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".salus-key-")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            # link() fails if the name exists, so a racing writer cannot be clobbered.
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise KeystoreError(
                    f"{path} already exists; refusing to replace a key file"
                ) from None
            finally:
                Path(tmp).unlink(missing_ok=True)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_document(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise KeystoreError(f"key file {path} does not exist") from None
    except IsADirectoryError:
        raise KeystoreError(f"{path} is a directory, not a key file") from None
    except OSError as exc:
        raise KeystoreError(f"cannot read key file {path}: {exc.strerror}") from None
    if len(raw) > _MAX_FILE_BYTES:
        raise KeystoreError(f"{path} is too large to be a Salus key file")
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KeystoreError(f"{path} is not a Salus key file (not valid JSON: {exc})") from None
    if not isinstance(document, dict) or "salus_key" not in document:
        raise KeystoreError(f"{path} is not a Salus key file (no 'salus_key' field)")
    if document["salus_key"] != KEY_FILE_VERSION:
        raise KeystoreError(
            f"{path} has key file version {document['salus_key']!r}; "
            f"this Salus reads version {KEY_FILE_VERSION}"
        )
    missing = [name for name in _FIELDS if name not in document]
    if missing:
        raise KeystoreError(f"{path} is missing {', '.join(missing)}")
    extra = sorted(set(document) - set(_FIELDS))
    if extra:
        raise KeystoreError(f"{path} has unknown fields {', '.join(extra)}")
    return document


def _check_did(path: str | Path, document: dict[str, Any]) -> str:
    did = document["did"]
    try:
        public_key_from_did(did)
    except EncodingError as exc:
        raise KeystoreError(f"{path}: {exc.reason}") from None
    return str(did)


def _b64_field(path: str | Path, document: dict[str, Any], name: str, size: int | None) -> bytes:
    value = document[name]
    if not isinstance(value, str):
        raise KeystoreError(f"{path}: {name} must be base64 text")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise KeystoreError(f"{path}: {name} is not valid base64") from None
    if size is not None and len(raw) != size:
        raise KeystoreError(f"{path}: {name} must be {size} bytes, not {len(raw)}")
    return raw


def _int_field(path: str | Path, document: dict[str, Any], name: str, low: int, high: int) -> int:
    value = document[name]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise KeystoreError(f"{path}: {name} must be an integer from {low} to {high}")
    return value


def read_did(path: str | Path) -> str:
    """The DID a key file claims to hold, without decrypting it.

    The claim is only checked against the key by :func:`load_key`.
    """
    return _check_did(path, _read_document(path))


def load_key(path: str | Path, passphrase: str | bytes) -> Signer:
    """Decrypt the key file at ``path``; raises :class:`KeystoreError` naming the problem."""
    document = _read_document(path)
    did = _check_did(path, document)
    if document["kdf"] != "argon2id":
        raise KeystoreError(f"{path}: unsupported kdf {document['kdf']!r} (expected argon2id)")
    opslimit = _int_field(path, document, "opslimit", _ARGON2ID.OPSLIMIT_MIN, _MAX_OPSLIMIT)
    memlimit = _int_field(path, document, "memlimit", _ARGON2ID.MEMLIMIT_MIN, _MAX_MEMLIMIT)
    salt = _b64_field(path, document, "salt", _ARGON2ID.SALTBYTES)
    nonce = _b64_field(path, document, "nonce", nacl.secret.SecretBox.NONCE_SIZE)
    ciphertext = _b64_field(
        path, document, "ciphertext", SEED_SIZE + nacl.secret.SecretBox.MACBYTES
    )
    try:
        key = _derive(_passphrase_bytes(passphrase), salt, opslimit, memlimit)
        seed = nacl.secret.SecretBox(key).decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError:
        raise KeystoreError(
            f"cannot decrypt {path}: wrong passphrase, or the key file was modified"
        ) from None
    signer = Signer(bytes(seed))
    if signer.did != did:
        raise KeystoreError(
            f"{path} was tampered with: it names {did} but holds the key of {signer.did}"
        )
    return signer
