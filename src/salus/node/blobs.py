"""Off-chain content-addressed blob store: documents referenced on-chain by hash.

A blob's address is the hex SHA-256 of its bytes, so the ledger can hold the hash
while the document itself (possibly encrypted by its owner) stays off-chain.
Writes are atomic (temporary file, fsync, rename), so a crash never leaves a
blob whose bytes do not match its name. Reads re-hash the bytes before returning
them, so a corrupted file is reported, never served.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from salus.errors import EncodingError, NotFound, StorageError

__all__ = ["BlobStore", "FileBlobStore", "MemoryBlobStore", "blob_address"]

MAX_BLOB_BYTES = 16 << 20
_ADDRESS = re.compile(r"[0-9a-f]{64}")


def blob_address(data: bytes) -> str:
    """The content address (hex SHA-256) of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _check_address(address: str) -> str:
    if not _ADDRESS.fullmatch(address):
        raise EncodingError("a blob address is 64 lower-case hex characters (SHA-256)")
    return address


class BlobStore(Protocol):
    """Where off-chain documents live, addressed by their SHA-256."""

    max_bytes: int

    def put(self, data: bytes) -> str: ...

    def get(self, address: str) -> bytes: ...

    def has(self, address: str) -> bool: ...


class FileBlobStore:
    """Blobs as files under ``root/ab/cdef...``."""

    def __init__(self, root: str | Path, *, max_bytes: int = MAX_BLOB_BYTES) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes

    def _path(self, address: str) -> Path:
        _check_address(address)
        return self.root / address[:2] / address[2:]

    def put(self, data: bytes) -> str:
        if len(data) > self.max_bytes:
            raise EncodingError(f"blob is {len(data)} bytes, over the limit of {self.max_bytes}")
        address = blob_address(data)
        path = self._path(address)
        if path.exists():
            return address
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return address

    def get(self, address: str) -> bytes:
        path = self._path(address)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no blob {address}") from None
        if blob_address(data) != address:
            raise StorageError(f"blob {address} is corrupted on disk")
        return data

    def has(self, address: str) -> bool:
        return self._path(address).exists()


class MemoryBlobStore:
    """The same contract in memory, for tests."""

    def __init__(self, *, max_bytes: int = MAX_BLOB_BYTES) -> None:
        self._blobs: dict[str, bytes] = {}
        self.max_bytes = max_bytes

    def put(self, data: bytes) -> str:
        if len(data) > self.max_bytes:
            raise EncodingError(f"blob is {len(data)} bytes, over the limit of {self.max_bytes}")
        address = blob_address(data)
        self._blobs[address] = bytes(data)
        return address

    def get(self, address: str) -> bytes:
        try:
            return self._blobs[_check_address(address)]
        except KeyError:
            raise NotFound(f"no blob {address}") from None

    def has(self, address: str) -> bool:
        return _check_address(address) in self._blobs
