"""Finding a certificate's batch on this node from a bare VC-JWT or a credential hash.

A printed certificate's QR code holds the VC-JWT (or only its hash), never the proofs.
To judge it with the one offline verifier (:mod:`salus.apps.learning.certificate`),
the node rebuilds the package the issuer handed out: the token, its position and
inclusion path in its batch, and four state proofs of one block.

Theory of operation. :class:`BatchDirectory` keeps an in-memory index of every anchored
batch, read incrementally (by event cursor) from the ``learning.batch_anchored`` events,
which name the root, issuer, signing key, count, first status index and, for anchors
made with one, the blob address of the batch's leaf list (:mod:`salus.apps.learning.leaves`).
Leaf lists are read from the node's blob store and trusted only once their recomputed
root equals the anchored one; their hashes then index credential hash -> (batch,
position). A token is found by its hash first; failing that, by its issuer and the
status index in its ``credentialStatus`` (a batch owns a contiguous range of indices),
which also catches a token that claims a batch it is not in.

The index holds batch facts and hashes only; a posted token is never stored. Batches
anchored without a leaf list (or whose list this node's blob store lacks: blobs are per
node) can be checked only from their package files, except batches of one certificate,
whose path is empty.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final

from salus.apps.learning.certificate import (
    NOT_ANCHORED,
    TAMPERED,
    UNKNOWN_ISSUER,
    CertificateVerdict,
    encode_package,
    package_keys,
)
from salus.apps.learning.contract import LEARNING
from salus.apps.learning.credentials import (
    credential_hash,
    credential_leaf_hash,
    decode_vc_jwt,
)
from salus.apps.learning.leaves import decode_leaves, path_in, tree_levels
from salus.core.merkle import root_from_inclusion_proof
from salus.errors import NotFound, SalusError
from salus.node.blobs import BlobStore
from salus.node.node import Node

__all__ = [
    "AnchoredBatch",
    "BatchDirectory",
    "Located",
    "assemble_package",
    "bad_token_verdict",
    "token_address",
    "unlocated_verdict",
]

_PAGE: Final = 1000
_TREES: Final = 8  # batches whose whole Merkle tree is kept, most recently used
_LIST_URL: Final = re.compile(r"/v1/learning/issuers/(did:key:[1-9A-HJ-NP-Za-km-z]+)/status-list/")


@dataclass(frozen=True, slots=True)
class AnchoredBatch:
    """One ``batch_anchored`` event: what the ledger says about a batch."""

    root: str
    issuer: str
    key: str
    count: int
    status_start: int
    height: int
    leaves: str | None


@dataclass(frozen=True, slots=True)
class Located:
    """Where a token sits: its batch, its position, and how it was found."""

    batch: AnchoredBatch
    position: int
    path: tuple[bytes, ...] | None  # None: the leaf list is not available here
    matched_by: str  # "hash" or "status index"
    unavailable: str | None = None  # why the path could not be rebuilt


def token_address(token: str, node: Node) -> tuple[str | None, int | None]:
    """(issuer account, status index) a decodable token claims, each ``None`` if unknown.

    The issuer is the one the ledger binds the token's signing key to, else the one its
    status list URL names (``/v1/learning/issuers/<did>/status-list/...``).
    """
    try:
        header, _, credential = decode_vc_jwt(token)
    except SalusError:
        return None, None
    issuer: str | None = None
    kid = header.get("kid")
    if isinstance(kid, str):
        with node.commit_lock:
            record = node.ledger.read(LEARNING, f"key/{kid.split('#', 1)[0]}")
        if isinstance(record, dict) and isinstance(record.get("issuer"), str):
            issuer = record["issuer"]
    entries = credential.get("credentialStatus")
    entries = entries if isinstance(entries, list) else [entries]
    index: int | None = None
    # The revocation entry first; a suspension entry of the same credential shares its index.
    for entry in sorted(
        (e for e in entries if isinstance(e, dict)),
        key=lambda e: e.get("statusPurpose") != "revocation",
    ):
        raw = entry.get("statusListIndex")
        if isinstance(raw, str) and raw.isdigit() and len(raw) <= 18:
            index = int(raw)
            url = entry.get("statusListCredential")
            match = _LIST_URL.search(url) if isinstance(url, str) else None
            if issuer is None and match:
                issuer = match.group(1)
            break
    return issuer, index


class BatchDirectory:
    """Every batch anchored on ``node``, with their leaf lists from ``blobs``."""

    def __init__(self, node: Node, blobs: BlobStore | None) -> None:
        self.node = node
        self.blobs = blobs
        self._lock = threading.Lock()
        self._cursor = 0
        self._batches: dict[str, AnchoredBatch] = {}
        self._starts: dict[str, list[int]] = {}  # issuer -> sorted status_start
        self._roots: dict[str, list[str]] = {}  # issuer -> roots, in the order of _starts
        self._hashes: dict[bytes, tuple[str, int]] = {}  # credential hash -> (root, position)
        self._paths: dict[str, list[bytes]] = {}  # root -> its verified leaf list
        self._trees: OrderedDict[str, list[list[bytes]]] = OrderedDict()
        self._pending: list[str] = []  # roots whose leaf list is not loaded yet
        self._unusable: dict[str, str] = {}  # root -> why its leaf list cannot be used

    def refresh(self) -> None:
        """Read batches anchored since the last call, and any leaf lists now available."""
        with self._lock:
            while True:
                events = self.node.store.events(
                    contract=LEARNING, type="batch_anchored", after=self._cursor, limit=_PAGE
                )
                for event in events:
                    self._add(event.subject, event.height, event.attrs)
                    self._cursor = event.seq
                if len(events) < _PAGE:
                    break
            still: list[str] = []
            for root in self._pending:
                if not self._load(root):
                    still.append(root)
            self._pending = still

    def _add(self, root: str | None, height: int, attrs: dict[str, Any]) -> None:
        if root is None or root in self._batches:
            return
        batch = AnchoredBatch(
            root=root,
            issuer=str(attrs["issuer"]),
            key=str(attrs["key"]),
            count=int(attrs["count"]),
            status_start=int(attrs["status_start"]),
            height=height,
            leaves=attrs.get("leaves"),
        )
        self._batches[root] = batch
        # An issuer's batches take consecutive status ranges, in anchoring order.
        starts = self._starts.setdefault(batch.issuer, [])
        at = bisect.bisect(starts, batch.status_start)
        starts.insert(at, batch.status_start)
        self._roots.setdefault(batch.issuer, []).insert(at, root)
        if batch.leaves is None:
            self._unusable[root] = "it was anchored without a leaf list"
        else:
            self._pending.append(root)

    def _load(self, root: str) -> bool:
        """Load and check one batch's leaf list; False if the blob is not here (yet)."""
        batch = self._batches[root]
        assert batch.leaves is not None
        if self.blobs is None:
            self._unusable[root] = "this node's API runs without its blob store"
            return False
        try:
            data = self.blobs.get(batch.leaves)
        except NotFound:
            self._unusable[root] = f"its leaf list (blob {batch.leaves}) is not on this node"
            return False
        except (SalusError, OSError) as exc:
            self._unusable[root] = f"its leaf list (blob {batch.leaves}) cannot be read: {exc}"
            return True
        try:
            hashes = decode_leaves(data, count=batch.count, root=bytes.fromhex(root))
        except SalusError as exc:
            self._unusable[root] = f"its leaf list does not match the batch: {exc.reason}"
            return True
        self._unusable.pop(root, None)
        self._paths[root] = hashes
        for position, digest in enumerate(hashes):
            self._hashes.setdefault(digest, (root, position))
        return True

    def by_hash(self, digest: bytes) -> Located | None:
        """The batch whose leaf list holds credential hash ``digest``."""
        self.refresh()
        with self._lock:
            found = self._hashes.get(digest)
            if found is None:
                return None
            root, position = found
            return Located(self._batches[root], position, self._path(root, position), "hash")

    def _path(self, root: str, position: int) -> tuple[bytes, ...]:
        """Inclusion path in a loaded batch; a tree costs 2N hashes, so a few are kept."""
        tree = self._trees.get(root)
        if tree is None:
            tree = tree_levels(self._paths[root])
            self._trees[root] = tree
            if len(self._trees) > _TREES:
                self._trees.popitem(last=False)
        self._trees.move_to_end(root)
        return path_in(tree, position)

    def by_status(self, issuer: str, status_index: int) -> Located | None:
        """The batch of ``issuer`` that owns ``status_index``."""
        self.refresh()
        with self._lock:
            starts = self._starts.get(issuer, [])
            at = bisect.bisect_right(starts, status_index) - 1
            if at < 0:
                return None
            batch = self._batches[self._roots[issuer][at]]
            position = status_index - batch.status_start
            if position >= batch.count:
                return None
            if batch.root in self._paths:
                path: tuple[bytes, ...] | None = self._path(batch.root, position)
            else:
                path = () if batch.count == 1 else None
            return Located(batch, position, path, "status index", self._unusable.get(batch.root))

    def locate(self, token: str) -> Located | None:
        """Find a decodable token's batch: by its hash, else by the status index it claims."""
        located = self.by_hash(credential_hash(token))
        if located is not None:
            return located
        issuer, index = token_address(token, self.node)
        if issuer is None or index is None:
            return None
        return self.by_status(issuer, index)


def assemble_package(node: Node, token: str, located: Located) -> bytes:
    """The package of ``token`` at ``located``, with proofs of this node's latest block.

    The batch proof is of the root the token's own leaf and path give: for a token that
    is not the leaf at that position, that root was never anchored, and the verifier
    says so. Raises :class:`~salus.errors.StorageError` if blocks keep committing.
    """
    assert located.path is not None
    batch = located.batch
    root = root_from_inclusion_proof(
        located.position, batch.count, credential_leaf_hash(token), located.path
    )
    header, _, _ = decode_vc_jwt(token)
    signing_key = str(header.get("kid", "")).split("#", 1)[0]
    keys = package_keys(
        root=root,
        issuer=batch.issuer,
        key=signing_key,
        status_index=batch.status_start + located.position,
    )
    names = list(keys)
    # All four proofs of one block (Node.state_proofs); never under our own lock, since
    # on CometBFT the proof waits for the next block, whose commit may need it.
    bundles = node.state_proofs(LEARNING, [keys[name] for name in names]).bundles
    return encode_package(
        token=token,
        issuer=batch.issuer,
        index=located.position,
        count=batch.count,
        path=located.path,
        proofs=dict(zip(names, bundles, strict=True)),
    )


def unlocated_verdict(node: Node, token: str, digest: str) -> CertificateVerdict:
    """The verdict on a validly signed token no batch on this node claims.

    Judged from the node's state now: a signing key no issuer ever bound gives "unknown
    issuer"; otherwise the credential is "not anchored" (on this ledger, at least).
    """
    header, _, _ = decode_vc_jwt(token)
    signing_key = str(header.get("kid", "")).split("#", 1)[0]
    steps = [
        ("decode", "a bare VC-JWT, without its package"),
        ("signature", f"signed by {signing_key}"),
    ]
    with node.commit_lock:
        height = node.ledger.height
        record = node.ledger.read(LEARNING, f"key/{signing_key}")
    facts: dict[str, Any] = {"key": signing_key, "checked_at": height}
    if not isinstance(record, dict):
        return CertificateVerdict(
            UNKNOWN_ISSUER,
            "issuer",
            f"the signing key {signing_key} was never bound to an issuer on this ledger "
            f"(block {height})",
            steps,
            facts,
        )
    return CertificateVerdict(
        NOT_ANCHORED,
        "anchored",
        f"no batch anchored on this node's ledger holds credential {digest} "
        f"(signed by a key of issuer {record.get('issuer')}; checked at block {height})",
        steps,
        facts,
    )


def bad_token_verdict(reason: str) -> CertificateVerdict:
    """The verdict on a token whose encoding or signature fails."""
    return CertificateVerdict(
        TAMPERED, "signature", reason, [("decode", "a bare VC-JWT, without its package")]
    )
