from __future__ import annotations

from pathlib import Path

import pytest

from salus.errors import EncodingError, NotFound, StorageError
from salus.node import FileBlobStore, MemoryBlobStore
from salus.node.blobs import blob_address


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_blob_round_trip(tmp_path: Path, kind: str) -> None:
    store = FileBlobStore(tmp_path) if kind == "file" else MemoryBlobStore()
    address = store.put(b"lab report, encrypted by its owner")
    assert address == blob_address(b"lab report, encrypted by its owner")
    assert store.has(address)
    assert store.get(address) == b"lab report, encrypted by its owner"
    assert store.put(b"lab report, encrypted by its owner") == address
    with pytest.raises(NotFound):
        store.get("0" * 64)
    with pytest.raises(EncodingError):
        store.get("../../etc/passwd")


def test_size_limit_and_corruption(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path, max_bytes=10)
    with pytest.raises(EncodingError, match="over the limit"):
        store.put(b"x" * 11)
    address = store.put(b"0123456789")
    (tmp_path / address[:2] / address[2:]).write_bytes(b"tampered!!")
    with pytest.raises(StorageError, match="corrupted"):
        store.get(address)
