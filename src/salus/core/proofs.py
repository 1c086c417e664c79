"""Proof bundles and the one offline verifier every client calls.

A bundle is a self-contained canonical CBOR document. Together with the network's
genesis it proves, with no node running, either

- ``kind = "tx"``: a signed transaction was included at position ``index`` of a block,
  with the recorded outcome (applied or rejected, and its events); or
- ``kind = "state"``: a state key held a given value — or was absent — after a block.

Layout (every field is checked; there is nothing a verifier may skip)::

    {"salus_proof": 1, "kind": "tx" | "state",
     "header": {...block header...}, "signature": bytes(64), "digest": bytes(32),
     # kind "tx"
     "tx": envelope, "index": int, "tx_path": [hash...],
     "result": result-leaf, "result_path": [hash...],
     # kind "state"
     "key": bytes, "value": bytes | null, "proof": {"siblings": [...], "terminal": ...}}

``digest`` is SHA-256 of the canonical encoding of the bundle without it. It is an
integrity check, not a security mechanism (anyone can recompute it): it makes any
accidental change to a bundle fail loudly, even one that would turn a proof of
absence for one key into a true proof of absence for another.

Verification steps, in order, each named in a failure: ``decode`` (canonical form,
no stray bytes, digest), ``chain`` (the header's chain id is the genesis chain id),
``signer`` (the proposer is a genesis validator), ``signature`` (Ed25519 over the
header hash), then ``inclusion`` (RFC 9162 §2.1.3.2 for the transaction and its
result, against ``tx_root`` and ``results_root``) or ``state`` (the state tree proof
against ``state_root``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cbor2

from salus.core import codec, merkle
from salus.core.block import BlockHeader, TxResult
from salus.core.crypto import did_from_public_key, sha256, verify_signature
from salus.core.genesis import Genesis
from salus.core.state_tree import StateProof, verify_state_proof
from salus.core.tx import SignedTransaction
from salus.errors import (
    EncodingError,
    MalformedProof,
    ProofError,
    SalusError,
    UnknownSigner,
)

__all__ = [
    "MAX_BUNDLE_BYTES",
    "Verdict",
    "bundle_to_json",
    "check_bundle",
    "make_state_bundle",
    "make_tx_bundle",
    "verify_bundle",
]

MAX_BUNDLE_BYTES = 1 << 20
BUNDLE_VERSION = 1
_COMMON = {"salus_proof", "kind", "header", "signature", "digest"}
_FIELDS = {
    "tx": _COMMON | {"tx", "index", "tx_path", "result", "result_path"},
    "state": _COMMON | {"key", "value", "proof"},
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer of the verifier: valid, or invalid at a named step with a reason."""

    valid: bool
    step: str
    reason: str
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"valid": self.valid, "step": self.step, "reason": self.reason, "facts": self.facts}


class _StepFailed(Exception):
    def __init__(self, step: str, error: SalusError) -> None:
        super().__init__(error.reason)
        self.step = step
        self.error = error


def make_tx_bundle(
    header: BlockHeader,
    signature: bytes,
    stx_envelope: bytes,
    index: int,
    tx_path: tuple[bytes, ...],
    result_leaf: bytes,
    result_path: tuple[bytes, ...],
) -> bytes:
    """Encode a transaction inclusion bundle."""
    return _seal(
        {
            "salus_proof": BUNDLE_VERSION,
            "kind": "tx",
            "header": header.to_data(),
            "signature": signature,
            "tx": stx_envelope,
            "index": index,
            "tx_path": list(tx_path),
            "result": result_leaf,
            "result_path": list(result_path),
        }
    )


def make_state_bundle(
    header: BlockHeader, signature: bytes, key: bytes, value: bytes | None, proof: StateProof
) -> bytes:
    """Encode a state (membership or non-membership) bundle."""
    return _seal(
        {
            "salus_proof": BUNDLE_VERSION,
            "kind": "state",
            "header": header.to_data(),
            "signature": signature,
            "key": key,
            "value": value,
            "proof": proof.to_data(),
        }
    )


def _seal(fields: dict[str, Any]) -> bytes:
    return codec.encode({**fields, "digest": sha256(codec.encode(fields))})


def _decode(data: bytes) -> dict[str, Any]:
    try:
        bundle = codec.decode(data, max_size=MAX_BUNDLE_BYTES, what="proof bundle")
    except EncodingError as exc:
        raise MalformedProof(exc.reason) from None
    if not isinstance(bundle, dict):
        raise MalformedProof("a proof bundle is a map")
    if bundle.get("salus_proof") != BUNDLE_VERSION:
        raise MalformedProof(f"unsupported bundle version {bundle.get('salus_proof')!r}")
    kind = bundle.get("kind")
    if kind not in _FIELDS:
        raise MalformedProof(f"unknown bundle kind {kind!r} (expected 'tx' or 'state')")
    missing = _FIELDS[kind] - bundle.keys()
    extra = bundle.keys() - _FIELDS[kind]
    if missing:
        raise MalformedProof(f"bundle is missing {', '.join(sorted(missing))}")
    if extra:
        raise MalformedProof(f"bundle has unknown fields {', '.join(sorted(extra))}")
    rest = {k: v for k, v in bundle.items() if k != "digest"}
    if bundle["digest"] != sha256(codec.encode(rest)):
        raise MalformedProof("bundle digest does not match its contents (the file was altered)")
    return bundle


def _hash_list(value: Any, what: str) -> tuple[bytes, ...]:
    if not isinstance(value, list) or not all(isinstance(h, bytes) for h in value):
        raise MalformedProof(f"{what} must be a list of hashes")
    return tuple(value)


def _verify(data: bytes, genesis: Genesis) -> dict[str, Any]:
    step = "decode"
    try:
        bundle = _decode(data)
        try:
            header = BlockHeader.from_data(bundle["header"])
        except EncodingError as exc:
            raise MalformedProof(exc.reason) from None
        signature = bundle["signature"]
        if not isinstance(signature, bytes):
            raise MalformedProof("signature must be bytes")

        step = "chain"
        if header.chain_id != genesis.chain_id:
            raise ProofError(
                f"header is from chain {header.chain_id!r}, genesis is for {genesis.chain_id!r}"
            )

        step = "signer"
        if not genesis.is_validator(header.proposer):
            raise UnknownSigner(
                f"block {header.height} is signed by {did_from_public_key(header.proposer)}, "
                "which is not a validator in genesis"
            )

        step = "signature"
        try:
            verify_signature(header.proposer, header.signing_bytes(), signature)
        except SalusError:
            raise ProofError(
                f"the signature over block {header.height}'s header does not verify"
            ) from None

        facts: dict[str, Any] = {
            "kind": bundle["kind"],
            "chain_id": header.chain_id,
            "height": header.height,
            "block_hash": header.hash.hex(),
            "time_ms": header.time_ms,
            "proposer": did_from_public_key(header.proposer),
        }
        if bundle["kind"] == "tx":
            step = "inclusion"
            facts.update(_verify_tx(bundle, header))
        else:
            step = "state"
            facts.update(_verify_state(bundle, header))
        return facts
    except SalusError as exc:
        raise _StepFailed(step, exc) from None


def _verify_tx(bundle: dict[str, Any], header: BlockHeader) -> dict[str, Any]:
    envelope, result_leaf, index = bundle["tx"], bundle["result"], bundle["index"]
    if not isinstance(envelope, bytes) or not isinstance(result_leaf, bytes):
        raise MalformedProof("tx and result must be bytes")
    if not isinstance(index, int) or isinstance(index, bool):
        raise MalformedProof("index must be an integer")
    tx_path = _hash_list(bundle["tx_path"], "tx_path")
    result_path = _hash_list(bundle["result_path"], "result_path")
    try:
        stx = SignedTransaction.decode(envelope)
        result = TxResult.decode(result_leaf)
    except EncodingError as exc:
        raise MalformedProof(exc.reason) from None
    merkle.verify_inclusion(
        index, header.tx_count, merkle.leaf_hash(envelope), tx_path, header.tx_root
    )
    merkle.verify_inclusion(
        index, header.tx_count, merkle.leaf_hash(result_leaf), result_path, header.results_root
    )
    if result.tx_id != stx.id:
        raise ProofError("the result in the bundle belongs to another transaction")
    try:
        stx.verify_signature()
    except SalusError:
        raise ProofError("the transaction's own signature does not verify") from None
    return {
        "tx_id": stx.id.hex(),
        "index": index,
        "tx": stx.tx.to_json(),
        "result": result.to_json(),
    }


def _verify_state(bundle: dict[str, Any], header: BlockHeader) -> dict[str, Any]:
    key, value = bundle["key"], bundle["value"]
    if not isinstance(key, bytes) or not (value is None or isinstance(value, bytes)):
        raise MalformedProof("key must be bytes and value bytes or null")
    proof = StateProof.from_data(bundle["proof"])
    verify_state_proof(header.state_root, key, value, proof)
    shown: Any = None
    if value is not None:
        try:
            shown = cbor2.loads(value)
        except (cbor2.CBORDecodeError, ValueError):
            shown = value.hex()
    return {
        "key": key.decode("utf-8", errors="replace"),
        "present": value is not None,
        "value": shown,
        "state_root": header.state_root.hex(),
    }


def check_bundle(data: bytes, genesis: Genesis) -> dict[str, Any]:
    """Verify a bundle; return what it proves, or raise the step's :class:`ProofError`."""
    try:
        return _verify(data, genesis)
    except _StepFailed as failed:
        error = failed.error
        if isinstance(error, ProofError):
            raise error from None
        raise ProofError(error.reason) from None


def verify_bundle(data: bytes, genesis: Genesis) -> Verdict:
    """Verify a bundle; never raises for bad input, returns a :class:`Verdict`."""
    try:
        facts = _verify(data, genesis)
    except _StepFailed as failed:
        return Verdict(False, failed.step, failed.error.reason)
    what = (
        f"transaction {facts['tx_id']} is in block {facts['height']}"
        if facts["kind"] == "tx"
        else f"state key {facts['key']!r} is {'present' if facts['present'] else 'absent'} "
        f"at block {facts['height']}"
    )
    return Verdict(True, "done", what, facts)


def bundle_to_json(data: bytes) -> dict[str, Any]:
    """A readable view of a bundle (bytes as hex); raises :class:`MalformedProof`."""
    view: dict[str, Any] = _jsonable(_decode(data))
    return view


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value
