"""Certificate packages: a VC-JWT with everything needed to verify it offline.

Rules this module obeys:
- Pure: no I/O, clock or randomness. A package is built from bytes the node already
  produced (state proof bundles) and verified with nothing but the network genesis.
- A *certificate package* is the canonical CBOR map::

      {"salus_certificate": 1,
       "token": "<VC-JWT>",              # what the learner holds
       "issuer": "<issuer account did>",  # the accredited training provider
       "index": int, "count": int,        # position in its batch, and the batch size
       "path": [bytes(32)...],            # RFC 9162 inclusion path to the batch root
       "proofs": {"batch": bundle, "issuer": bundle, "key": bundle, "status": bundle}}

  where each bundle is a solo or CometBFT *state* bundle (:mod:`salus.core.proofs`) for
  ``learning/batch/<root>``, ``learning/issuer/<issuer>``, ``learning/key/<key>`` and
  ``learning/status/<issuer>/<status index>``; the status bundle may prove absence
  (the credential's status never changed: it is active). All four prove the same block.
- :func:`verify_certificate` runs named steps in order and stops at the first failure:
  ``decode`` → ``signature`` → ``anchored`` → ``ledger`` → ``issuer`` → ``key`` →
  ``status``. Its verdict is one of :data:`VERDICTS`; it never raises for bad input.

The token's ``credentialStatus`` may be one ``BitstringStatusListEntry`` (certificates
issued before the suspension list was referenced) or a list of them (``revocation`` and
``suspension``); every entry must name the anchored status index. The status itself is
read from the ledger proof, never from a list fetched online.

Cost. Verifying a state bundle (header signature, canonical decoding, state path) is
most of the work, and a batch's batch, issuer and key bundles are the same bytes in
every one of its packages. Every verifier in the process therefore shares one memory
of bundles it proved, keyed by the genesis hash and the bundle's SHA-256: the verdict
on given bytes against a given genesis never changes, so a remembered bundle is as
checked as a fresh one, and a fresh :class:`CertificateVerifier` per certificate (the
web page, the CLI in a loop) pays for the shared proofs once per batch.

A VC-JWT's ``iss`` is the did:key that signed it (a key the issuer bound on-chain),
so the issuer account is named in the package and checked against the key's record.
Accreditation and key binding are judged at the batch's anchoring height, so a
withdrawn issuer's earlier certificates stay valid. A batch that is absent from the
ledger is judged at the proven block instead: a key that was never bound gives
"unknown issuer", a withdrawn or suspended issuer "issuer not accredited at issue
time", and otherwise the verdict is "not anchored".
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from salus.apps.learning.contract import LEARNING, issuer_status_at, key_bound_at
from salus.apps.learning.credentials import VerifiedCredential, credential_leaf_hash, verify_vc_jwt
from salus.core import codec
from salus.core.crypto import sha256
from salus.core.genesis import Genesis
from salus.core.merkle import root_from_inclusion_proof
from salus.core.proofs import MAX_BUNDLE_BYTES, verify_bundle
from salus.errors import SalusError

__all__ = [
    "MAX_PACKAGE_BYTES",
    "PACKAGE_VERSION",
    "PROOF_NAMES",
    "STEPS",
    "VERDICTS",
    "CertificateVerdict",
    "CertificateVerifier",
    "decode_package",
    "encode_package",
    "package_keys",
    "verify_certificate",
]

PACKAGE_VERSION: Final = 1
MAX_PACKAGE_BYTES: Final = 5 * MAX_BUNDLE_BYTES
PROOF_NAMES: Final = ("batch", "issuer", "key", "status")
STEPS: Final = ("decode", "signature", "anchored", "ledger", "issuer", "key", "status")
VALID: Final = "valid"
TAMPERED: Final = "tampered"
REVOKED: Final = "revoked"
SUSPENDED: Final = "suspended"
UNKNOWN_ISSUER: Final = "unknown issuer"
NOT_ACCREDITED: Final = "issuer not accredited at issue time"
NOT_ANCHORED: Final = "not anchored"
VERDICTS: Final = (
    VALID,
    TAMPERED,
    REVOKED,
    SUSPENDED,
    UNKNOWN_ISSUER,
    NOT_ACCREDITED,
    NOT_ANCHORED,
)
_FIELDS: Final = frozenset({"salus_certificate", "token", "issuer", "index", "count", "path"}) | {
    "proofs"
}


@dataclass(frozen=True, slots=True)
class CertificateVerdict:
    """The outcome: ``verdict`` is one of :data:`VERDICTS`; ``step`` the step that failed
    (``"done"`` when valid); ``steps`` the steps that passed, each with what it showed."""

    verdict: str
    step: str
    reason: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.verdict == VALID

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "verdict": self.verdict,
            "step": self.step,
            "reason": self.reason,
            "steps": [{"step": name, "detail": detail} for name, detail in self.steps],
            "facts": self.facts,
        }


def package_keys(*, root: bytes, issuer: str, key: str, status_index: int) -> dict[str, str]:
    """The ``learning`` state keys whose proofs a package carries, by proof name."""
    return {
        "batch": f"batch/{root.hex()}",
        "issuer": f"issuer/{issuer}",
        "key": f"key/{key}",
        "status": f"status/{issuer}/{status_index}",
    }


def encode_package(
    *,
    token: str,
    issuer: str,
    index: int,
    count: int,
    path: Sequence[bytes],
    proofs: Mapping[str, bytes],
) -> bytes:
    """Canonical CBOR of a certificate package (see the module docstring).

    ``proofs`` maps each of :data:`PROOF_NAMES` to a state bundle from
    ``Node.state_proof("learning", key)`` for the keys :func:`package_keys` names.
    Raises :class:`ValueError` for a missing proof or ill-typed field.
    """
    if set(proofs) != set(PROOF_NAMES):
        raise ValueError(f"proofs must be exactly {', '.join(PROOF_NAMES)}")
    if not 0 <= index < count:
        raise ValueError(f"index {index} is not inside a batch of {count}")
    return codec.encode(
        {
            "salus_certificate": PACKAGE_VERSION,
            "token": token,
            "issuer": issuer,
            "index": index,
            "count": count,
            "path": [bytes(p) for p in path],
            "proofs": {name: bytes(proofs[name]) for name in PROOF_NAMES},
        }
    )


class _Failed(Exception):
    def __init__(self, verdict: str, step: str, reason: str) -> None:
        super().__init__(reason)
        self.verdict = verdict
        self.step = step
        self.reason = reason


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Failed(TAMPERED, "decode", f"package field {what} is not an integer")
    return value


def decode_package(package: bytes) -> dict[str, Any]:
    """Decode and shape-check a package; raises :class:`ValueError` naming the problem."""
    try:
        return _decode(package)
    except _Failed as failed:
        raise ValueError(failed.reason) from None


def _decode(package: bytes) -> dict[str, Any]:
    try:
        data = codec.decode(package, max_size=MAX_PACKAGE_BYTES, what="certificate package")
    except SalusError as exc:
        raise _Failed(TAMPERED, "decode", exc.reason) from None
    if not isinstance(data, dict):
        raise _Failed(TAMPERED, "decode", "a certificate package is a map")
    if data.get("salus_certificate") != PACKAGE_VERSION:
        raise _Failed(
            TAMPERED, "decode", f"unsupported package version {data.get('salus_certificate')!r}"
        )
    if set(data) != _FIELDS:
        missing = sorted(_FIELDS - set(data))
        extra = sorted(set(data) - _FIELDS)
        raise _Failed(
            TAMPERED, "decode", f"package fields wrong (missing {missing}, unknown {extra})"
        )
    if not isinstance(data["token"], str) or not isinstance(data["issuer"], str):
        raise _Failed(TAMPERED, "decode", "package token and issuer must be strings")
    _int(data["index"], "index")
    _int(data["count"], "count")
    path = data["path"]
    if not isinstance(path, list) or not all(isinstance(p, bytes) for p in path):
        raise _Failed(TAMPERED, "decode", "package path must be a list of hashes")
    proofs = data["proofs"]
    if (
        not isinstance(proofs, dict)
        or set(proofs) != set(PROOF_NAMES)
        or not all(isinstance(b, bytes) for b in proofs.values())
    ):
        raise _Failed(TAMPERED, "decode", f"package proofs must be {', '.join(PROOF_NAMES)}")
    return data


class _ProvenBundles:
    """Facts of state bundles that verified, by (genesis hash, bundle SHA-256); thread-safe,
    least recently used first out. The facts are shared: callers only read them."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._facts: OrderedDict[tuple[bytes, bytes], dict[str, Any]] = OrderedDict()

    def get(self, key: tuple[bytes, bytes]) -> dict[str, Any] | None:
        with self._lock:
            facts = self._facts.get(key)
            if facts is not None:
                self._facts.move_to_end(key)
            return facts

    def put(self, key: tuple[bytes, bytes], facts: dict[str, Any]) -> None:
        with self._lock:
            self._facts[key] = facts
            while len(self._facts) > self.capacity:
                self._facts.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._facts.clear()


_PROVEN: Final = _ProvenBundles(8192)
# id(genesis) -> (weak reference, hash): a (frozen) genesis is hashed (canonical CBOR + SHA-256)
# once, not per verifier. The weak reference makes a reused id of a dead object a miss.
_GENESIS_HASHES: dict[int, tuple[weakref.ref[Genesis], bytes]] = {}
_GENESIS_LOCK: Final = threading.Lock()


def _genesis_hash(genesis: Genesis) -> bytes:
    with _GENESIS_LOCK:
        known = _GENESIS_HASHES.get(id(genesis))
        if known is not None and known[0]() is genesis:
            return known[1]
    digest = genesis.hash
    with _GENESIS_LOCK:
        if len(_GENESIS_HASHES) >= 64:
            _GENESIS_HASHES.clear()  # a verifier process meets a handful of networks
        _GENESIS_HASHES[id(genesis)] = (weakref.ref(genesis), digest)
    return digest


class CertificateVerifier:
    """Verifies certificate packages against one genesis, offline.

    Bundles already proven by any verifier of this process against the same genesis are
    not verified again (see "Cost" in the module docstring): many certificates of one
    batch share the cost of its batch, issuer and key proofs. Verdicts are the same as
    without the memory.
    """

    def __init__(self, genesis: Genesis) -> None:
        self.genesis = genesis
        self._genesis_hash = _genesis_hash(genesis)

    @staticmethod
    def forget_proven_bundles() -> None:
        """Empty the process-wide memory of proven bundles (benchmarks of a first-ever
        verification, tests); verdicts do not change, only their cost."""
        _PROVEN.clear()

    def verify(self, package: bytes) -> CertificateVerdict:
        """The verdict on ``package``; never raises for bad input."""
        passed: list[tuple[str, str]] = []
        facts: dict[str, Any] = {}
        try:
            self._run(package, passed, facts)
        except _Failed as failed:
            return CertificateVerdict(failed.verdict, failed.step, failed.reason, passed, facts)
        return CertificateVerdict(VALID, "done", passed[-1][1], passed, facts)

    def _bundle(self, bundle: bytes, name: str, expected_key: str) -> dict[str, Any]:
        memo_key = (self._genesis_hash, sha256(bundle))
        proven = _PROVEN.get(memo_key)
        if proven is None:
            verdict = verify_bundle(bundle, self.genesis)
            if not verdict.valid:
                raise _Failed(
                    TAMPERED,
                    "ledger",
                    f"the {name} proof fails at its {verdict.step} step: {verdict.reason}",
                )
            if verdict.facts.get("kind") != "state":
                raise _Failed(TAMPERED, "ledger", f"the {name} proof is not a state proof")
            proven = verdict.facts
            _PROVEN.put(memo_key, proven)
        if proven["key"] != f"{LEARNING}/{expected_key}":
            raise _Failed(
                TAMPERED,
                "ledger",
                f"the {name} proof is about {proven['key']!r}, not {LEARNING}/{expected_key}",
            )
        return proven

    def _run(self, package: bytes, passed: list[tuple[str, str]], facts: dict[str, Any]) -> None:
        data = _decode(package)
        token: str = data["token"]
        issuer: str = data["issuer"]
        index: int = data["index"]
        count: int = data["count"]
        passed.append(("decode", f"package of certificate {index + 1} of {count}"))

        try:
            credential: VerifiedCredential = verify_vc_jwt(token)
        except SalusError as exc:
            raise _Failed(TAMPERED, "signature", exc.reason) from None
        key = credential.issuer
        facts.update(
            key=key,
            issuer=issuer,
            subject=credential.subject,
            credential_id=credential.credential.get("id"),
            issued_at_s=credential.issued_at_s,
        )
        passed.append(("signature", f"signed by {key}"))

        try:
            root = root_from_inclusion_proof(
                index, count, credential_leaf_hash(token), data["path"]
            )
        except SalusError as exc:
            raise _Failed(TAMPERED, "anchored", exc.reason) from None
        facts["root"] = root.hex()
        passed.append(("anchored", f"leaf {index} of batch root {root.hex()}"))

        proofs: dict[str, bytes] = data["proofs"]
        batch_proof = self._bundle(proofs["batch"], "batch", f"batch/{root.hex()}")
        issuer_proof = self._bundle(proofs["issuer"], "issuer", f"issuer/{issuer}")
        key_proof = self._bundle(proofs["key"], "key", f"key/{key}")
        blocks = {(p["height"], p["block_hash"]) for p in (batch_proof, issuer_proof, key_proof)}
        if len(blocks) != 1:
            raise _Failed(TAMPERED, "ledger", "the state proofs are not all of the same block")
        proven_height: int = batch_proof["height"]
        facts["proven_at"] = proven_height
        batch = batch_proof["value"]
        if batch is not None:
            if batch.get("issuer") != issuer or batch.get("key") != key:
                raise _Failed(
                    TAMPERED,
                    "ledger",
                    f"batch {root.hex()} was anchored by {batch.get('issuer')} with key "
                    f"{batch.get('key')}, not by {issuer} with {key}",
                )
            if batch.get("count") != count:
                raise _Failed(
                    TAMPERED,
                    "ledger",
                    f"batch {root.hex()} holds {batch.get('count')} certificates, "
                    f"the package says {count}",
                )
            height: int = batch["height"]
            facts["anchored_at"] = height
            passed.append(
                ("ledger", f"batch anchored at block {height} (proven at {proven_height})")
            )
        else:
            height = proven_height
        records = {
            f"issuer/{issuer}": issuer_proof["value"],
            f"key/{key}": key_proof["value"],
        }

        if records[f"issuer/{issuer}"] is None:
            raise _Failed(UNKNOWN_ISSUER, "issuer", f"{issuer} is not an issuer on this ledger")
        status_then = issuer_status_at(records, issuer, height)
        if status_then != "accredited":
            when = "at issue" if batch is not None else "now, and the batch was never anchored"
            raise _Failed(
                NOT_ACCREDITED,
                "issuer",
                f"issuer {issuer} was {status_then or 'not yet an issuer'} at block {height} "
                f"({when})",
            )
        passed.append(("issuer", f"{issuer} accredited at block {height}"))

        if key_bound_at(records, key, height) != issuer:
            raise _Failed(
                UNKNOWN_ISSUER,
                "key",
                f"key {key} was not bound to issuer {issuer} at block {height}",
            )
        passed.append(("key", f"{key} bound to {issuer} at block {height}"))

        if batch is None:
            raise _Failed(
                NOT_ANCHORED, "ledger", f"batch root {root.hex()} is not anchored on the ledger"
            )

        status_index = int(batch["status_start"]) + index
        facts["status_index"] = status_index
        _check_status_entries(credential.credential.get("credentialStatus"), status_index)
        status_proof = self._bundle(proofs["status"], "status", f"status/{issuer}/{status_index}")
        if (status_proof["height"], status_proof["block_hash"]) not in blocks:
            raise _Failed(TAMPERED, "status", "the status proof is not of the same block")
        record = status_proof["value"]
        state = "active" if record is None else record["status"]
        facts["status"] = state
        if state in ("revoked", "suspended"):
            move = "revoke" if state == "revoked" else "suspend"
            last = [h for h in record["history"] if h["action"] == move][-1]
            raise _Failed(
                REVOKED if state == "revoked" else SUSPENDED,
                "status",
                f"{state} at block {last['height']}: {last['reason']}",
            )
        passed.append(("status", f"active at block {proven_height}"))


def _check_status_entries(status: Any, status_index: int) -> None:
    """The token's ``credentialStatus`` (absent, one entry, or a list with one entry per
    purpose) must point at the anchored status index, or it describes another credential."""
    if status is None:
        return
    entries = status if isinstance(status, list) else [status]
    purposes: list[Any] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise _Failed(
                TAMPERED, "status", "credentialStatus holds an entry that is not an object"
            )
        if entry.get("statusListIndex") != str(status_index):
            raise _Failed(
                TAMPERED,
                "status",
                f"credentialStatus index {entry.get('statusListIndex')!r} "
                f"({entry.get('statusPurpose')}) is not the anchored index {status_index}",
            )
        purposes.append(entry.get("statusPurpose"))
    if len(set(map(str, purposes))) != len(purposes):
        raise _Failed(TAMPERED, "status", f"credentialStatus repeats a purpose: {purposes}")


def verify_certificate(package: bytes, genesis: Genesis) -> CertificateVerdict:
    """Verify one certificate package offline with only the network ``genesis``."""
    return CertificateVerifier(genesis).verify(package)
