"""The node: storage, mempool, block production and proofs around the pure core."""

from salus.node.blobs import BlobStore, FileBlobStore, MemoryBlobStore
from salus.node.node import Node, NodeConfig, StateProofs, SubmitResult
from salus.node.solo import SoloEngine
from salus.node.storage import SqliteStore

__all__ = [
    "BlobStore",
    "FileBlobStore",
    "MemoryBlobStore",
    "Node",
    "NodeConfig",
    "SoloEngine",
    "SqliteStore",
    "StateProofs",
    "SubmitResult",
]
