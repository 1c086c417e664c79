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

Verified header signatures are remembered, process-wide: a certificate package holds
four state bundles of one block, and a receipt verifier meets the same block again and
again. The memory is keyed by (public key, signed bytes, signature) — the signed bytes
are a domain tag and the header's SHA-256 — and only a signature that verified is put
in it: Ed25519 verification is a pure function of those three, so a hit gives the
verdict a check would, and anything else (a wrong or altered signature, another key,
other bytes) misses and is checked. It is bounded (:data:`VERIFIED_SIGNATURES_MAX`,
least recently used out first) and changes no verdict, only its cost;
:func:`forget_verified_signatures` empties it. (CometBFT commits are not memoised here.)

CometBFT engine (``"engine": "cometbft"``; a bundle without ``engine`` is a solo
bundle). The same container, version and digest; headers are CometBFT's, finalised
by a commit of more than 2/3 of the voting power (:mod:`salus.core.bft`)::

    {"salus_proof": 1, "engine": "cometbft", "kind": "tx" | "state", "digest": bytes(32),
     "updates": [light-block...],      # validator set changes since genesis, may be []
     # kind "state": header H+1, whose app_hash is the state root after block H
     "signed": light-block, "key": bytes, "value": bytes | null, "proof": {...},
     # kind "tx": block H (data_hash) and header H+1 (last_results_hash)
     "block": light-block, "results": light-block,
     "tx": envelope, "index": int, "tx_count": int, "tx_path": [hash...],
     "result": result-leaf, "exec_result": {"code", "data", "gas_wanted", "gas_used"},
     "result_path": [hash...]}
    light-block = {"header": Header protobuf, "commit": Commit protobuf,
                   "validators": [[public key, power]...] in CometBFT order}

Steps: ``decode``; ``chain`` (every header is of the genesis chain id);
``validators`` (follow ``updates`` from the genesis validators, each signed by more
than 2/3 of the set trusted before it; each signed header's set matches its
``validators_hash``); ``commit`` (each commit verifies for its header, with more
than 2/3 of its set's power and of the trusted set's; header H+1 follows block H);
then ``inclusion`` (the envelope's SHA-256 against ``data_hash``, the
``ExecTxResult`` against ``last_results_hash``, its ``data`` is SHA-256 of the Salus
result, which names the transaction) or ``state`` (against ``app_hash``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import cbor2

from salus.core import bft, codec, merkle
from salus.core.block import BlockHeader, TxResult
from salus.core.crypto import did_from_public_key, sha256, verify_signature
from salus.core.genesis import Genesis
from salus.core.pb.tendermint.abci import types_pb2 as abci_pb2
from salus.core.state_tree import StateProof, verify_state_proof
from salus.core.tx import SignedTransaction
from salus.errors import (
    EncodingError,
    MalformedProof,
    ProofError,
    RootMismatch,
    SalusError,
    UnknownSigner,
)

__all__ = [
    "ENGINE_COMETBFT",
    "MAX_BUNDLE_BYTES",
    "VERIFIED_SIGNATURES_MAX",
    "Verdict",
    "bundle_to_json",
    "check_bundle",
    "forget_verified_signatures",
    "make_bft_state_bundle",
    "make_bft_tx_bundle",
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
ENGINE_COMETBFT = "cometbft"
_BFT_COMMON = {"salus_proof", "engine", "kind", "updates", "digest"}
_BFT_FIELDS = {
    "tx": _BFT_COMMON
    | {"block", "results", "tx", "index", "tx_count", "tx_path", "result", "exec_result"}
    | {"result_path"},
    "state": _BFT_COMMON | {"signed", "key", "value", "proof"},
}
_EXEC_RESULT_KEYS = {"code", "data", "gas_wanted", "gas_used"}
VERIFIED_SIGNATURES_MAX: Final = 4096
"""How many verified header signatures the process remembers (under 1 MB)."""


@functools.lru_cache(maxsize=VERIFIED_SIGNATURES_MAX)
def _check_header_signature(public_key: bytes, signed: bytes, signature: bytes) -> None:
    """Raise :class:`~salus.errors.BadSignature` unless ``signature`` verifies.

    Memoised (see the module docstring): ``functools.lru_cache`` is bounded, thread-safe,
    and keeps only what returned, never a call that raised, so only a signature that
    verified is remembered. The key is the three arguments; ``signed`` is a header's
    signing bytes, the ``salus/block/v1`` tag and the header's SHA-256, i.e. its digest.
    """
    verify_signature(public_key, signed, signature)


def forget_verified_signatures() -> None:
    """Empty the process-wide memory of verified header signatures (benchmarks of a
    first-ever verification, tests); verdicts do not change, only their cost."""
    _check_header_signature.cache_clear()


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
    fields = _FIELDS
    if "engine" in bundle:
        if bundle["engine"] != ENGINE_COMETBFT:
            raise MalformedProof(
                f"unknown engine {bundle['engine']!r} (expected {ENGINE_COMETBFT!r}, "
                "or no engine field for solo)"
            )
        fields = _BFT_FIELDS
    missing = fields[kind] - bundle.keys()
    extra = bundle.keys() - fields[kind]
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
        if "engine" in bundle:
            return _verify_bft(bundle, genesis)
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
            _check_header_signature(header.proposer, header.signing_bytes(), signature)
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
    return _verify_state_against(bundle, header.state_root)


def _verify_state_against(bundle: dict[str, Any], state_root: bytes) -> dict[str, Any]:
    key, value = bundle["key"], bundle["value"]
    if not isinstance(key, bytes) or not (value is None or isinstance(value, bytes)):
        raise MalformedProof("key must be bytes and value bytes or null")
    proof = StateProof.from_data(bundle["proof"])
    verify_state_proof(state_root, key, value, proof)
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
        "state_root": state_root.hex(),
    }


# --- CometBFT engine ------------------------------------------------------------------------


def make_bft_tx_bundle(
    block: bft.LightBlock,
    results: bft.LightBlock,
    txs: Sequence[bytes],
    exec_results: Sequence[abci_pb2.ExecTxResult],
    index: int,
    result_leaf: bytes,
    *,
    updates: Sequence[bft.LightBlock] = (),
) -> bytes:
    """Encode a CometBFT transaction bundle for transaction ``index`` of ``block``.

    ``block`` is height H (its ``data_hash`` covers ``txs``, the block's transactions
    in order, as ``/block`` lists them); ``results`` is height H+1 (its
    ``last_results_hash`` covers ``exec_results``, as ``/block_results?height=H``
    lists them); ``result_leaf`` is the Salus result of the transaction, whose
    SHA-256 the app returned as the ``ExecTxResult``'s ``data``. ``updates`` are the
    light blocks of the validator set changes since genesis, if the set changed.

    Raises :class:`ValueError` when the parts do not belong together (wrong heights,
    an index out of range, transactions or results that do not give the headers' roots).
    """
    if results.height != block.height + 1:
        raise ValueError(f"results must be height {block.height + 1}, not {results.height}")
    if len(exec_results) != len(txs) or not 0 <= index < len(txs):
        raise ValueError(f"index {index} is not one of {len(txs)} transactions with results")
    if bft.data_hash(txs) != block.header.data_hash:
        raise ValueError(f"these transactions do not give block {block.height}'s data_hash")
    if bft.last_results_hash(exec_results) != results.header.last_results_hash:
        raise ValueError(f"these results do not give header {results.height}'s last_results_hash")
    exec_result = exec_results[index]
    return _seal(
        {
            "salus_proof": BUNDLE_VERSION,
            "engine": ENGINE_COMETBFT,
            "kind": "tx",
            "updates": [hop.to_data() for hop in updates],
            "block": block.to_data(),
            "results": results.to_data(),
            "tx": txs[index],
            "index": index,
            "tx_count": len(txs),
            "tx_path": list(merkle.inclusion_proof([bft.tx_leaf_hash(tx) for tx in txs], index)),
            "result": result_leaf,
            "exec_result": {
                "code": exec_result.code,
                "data": exec_result.data,
                "gas_wanted": exec_result.gas_wanted,
                "gas_used": exec_result.gas_used,
            },
            "result_path": list(
                merkle.inclusion_proof(
                    [merkle.leaf_hash(bft.exec_result_leaf(r)) for r in exec_results], index
                )
            ),
        }
    )


def make_bft_state_bundle(
    signed: bft.LightBlock,
    key: bytes,
    value: bytes | None,
    proof: StateProof,
    *,
    updates: Sequence[bft.LightBlock] = (),
) -> bytes:
    """Encode a CometBFT state bundle: ``key`` after block H, proven against header H+1.

    ``signed`` is the light block of height H+1, whose ``app_hash`` is the Salus state
    root after block H; ``proof`` is the state-tree proof of ``key`` under that root.
    """
    if len(signed.header.app_hash) != 32:
        raise ValueError(f"header {signed.height}'s app_hash is not a Salus state root")
    return _seal(
        {
            "salus_proof": BUNDLE_VERSION,
            "engine": ENGINE_COMETBFT,
            "kind": "state",
            "updates": [hop.to_data() for hop in updates],
            "signed": signed.to_data(),
            "key": key,
            "value": value,
            "proof": proof.to_data(),
        }
    )


def _int_field(value: Any, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise MalformedProof(f"{what} must be an integer from {low} to {high}")
    return value


def _exec_result(value: Any) -> abci_pb2.ExecTxResult:
    if not isinstance(value, dict) or set(value) != _EXEC_RESULT_KEYS:
        raise MalformedProof("exec_result is a map of exactly code, data, gas_wanted, gas_used")
    if not isinstance(value["data"], bytes):
        raise MalformedProof("exec_result data must be bytes")
    return abci_pb2.ExecTxResult(
        code=_int_field(value["code"], "exec_result code", 0, 2**32 - 1),
        data=value["data"],
        gas_wanted=_int_field(value["gas_wanted"], "exec_result gas_wanted", -(2**63), 2**63 - 1),
        gas_used=_int_field(value["gas_used"], "exec_result gas_used", -(2**63), 2**63 - 1),
    )


def _verify_bft(bundle: dict[str, Any], genesis: Genesis) -> dict[str, Any]:
    """Verify a decoded CometBFT bundle; the steps are in the module docstring."""
    step = "decode"
    try:
        if not isinstance(bundle["updates"], list):
            raise MalformedProof("updates must be a list of light blocks")
        updates = [
            bft.LightBlock.from_data(hop, f"update {number}")
            for number, hop in enumerate(bundle["updates"], start=1)
        ]
        if bundle["kind"] == "tx":
            targets = [
                bft.LightBlock.from_data(bundle["block"], "block"),
                bft.LightBlock.from_data(bundle["results"], "results"),
            ]
        else:
            targets = [bft.LightBlock.from_data(bundle["signed"], "signed")]

        step = "chain"
        for light_block in (*updates, *targets):
            if light_block.header.chain_id != genesis.chain_id:
                raise ProofError(
                    f"header {light_block.height} is from chain {light_block.header.chain_id!r}, "
                    f"genesis is for {genesis.chain_id!r}"
                )

        step = "validators"
        trusted = bft.follow_updates(genesis.chain_id, bft.genesis_validators(genesis), updates)
        for light_block in targets:
            set_hash = bft.validator_set_hash(light_block.validators)
            if set_hash != light_block.header.validators_hash:
                raise RootMismatch(
                    f"the validator set does not match header {light_block.height}'s "
                    "validators_hash",
                    expected=bytes(light_block.header.validators_hash),
                    calculated=set_hash,
                )

        step = "commit"
        signed = [
            bft.verify_light_block(genesis.chain_id, trusted, light_block)
            for light_block in targets
        ]
        head = targets[0]
        facts: dict[str, Any] = {
            "kind": bundle["kind"],
            "engine": ENGINE_COMETBFT,
            "chain_id": genesis.chain_id,
            "proposer": bft.proposer_did(head.header, head.validators),
            "signed_power": signed[-1],
            "total_power": sum(power for _, power in targets[-1].validators),
            "validator_updates": len(updates),
        }
        if bundle["kind"] == "tx":
            block, results = targets
            block_hash = bft.header_hash(block.header)
            if results.height != block.height + 1:
                raise ProofError(
                    f"the results header is height {results.height}, not {block.height + 1}"
                )
            if results.header.last_block_id.hash != block_hash:
                raise RootMismatch(
                    f"header {results.height} does not follow block {block.height}",
                    expected=bytes(results.header.last_block_id.hash),
                    calculated=block_hash,
                )
            facts.update(
                height=block.height,
                block_hash=block_hash.hex(),
                time_ms=bft.time_ms(block.header),
                results_height=results.height,
            )
            step = "inclusion"
            facts.update(_verify_bft_tx(bundle, block, results))
        else:
            (light_block,) = targets
            facts.update(
                height=light_block.height - 1,
                block_hash=bytes(light_block.header.last_block_id.hash).hex(),
                time_ms=bft.time_ms(light_block.header),
                signed_height=light_block.height,
            )
            step = "state"
            facts.update(_verify_bft_state(bundle, light_block))
        return facts
    except SalusError as exc:
        raise _StepFailed(step, exc) from None


def _verify_bft_tx(
    bundle: dict[str, Any], block: bft.LightBlock, results: bft.LightBlock
) -> dict[str, Any]:
    envelope, result_leaf = bundle["tx"], bundle["result"]
    if not isinstance(envelope, bytes) or not isinstance(result_leaf, bytes):
        raise MalformedProof("tx and result must be bytes")
    index = _int_field(bundle["index"], "index", 0, codec.INT_MAX)
    tx_count = _int_field(bundle["tx_count"], "tx_count", 1, codec.INT_MAX)
    tx_path = _hash_list(bundle["tx_path"], "tx_path")
    result_path = _hash_list(bundle["result_path"], "result_path")
    exec_result = _exec_result(bundle["exec_result"])
    try:
        stx = SignedTransaction.decode(envelope)
        result = TxResult.decode(result_leaf)
    except EncodingError as exc:
        raise MalformedProof(exc.reason) from None
    # CometBFT's data_hash leaves are the transactions' SHA-256 (types/tx.go), and its
    # last_results_hash leaves the ExecTxResult bytes (types/results.go). The headers
    # do not commit to the number of transactions: a wrong tx_count can only move a
    # transaction that IS in the block to another claimed position, and the same
    # (index, tx_count) must select it in both trees, which have equal size.
    _check_path(
        "transaction inclusion proof (data_hash)",
        bytes(block.header.data_hash),
        merkle.root_from_inclusion_proof(index, tx_count, bft.tx_leaf_hash(envelope), tx_path),
    )
    if exec_result.data != sha256(result_leaf):
        raise ProofError("the CometBFT result's data is not the SHA-256 of the Salus result")
    result_leaf_hash = merkle.leaf_hash(bft.exec_result_leaf(exec_result))
    _check_path(
        "result inclusion proof (last_results_hash)",
        bytes(results.header.last_results_hash),
        merkle.root_from_inclusion_proof(index, tx_count, result_leaf_hash, result_path),
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
        "tx_count": tx_count,
        "tx": stx.tx.to_json(),
        "result": result.to_json(),
        "exec_code": exec_result.code,
    }


def _check_path(what: str, expected: bytes, calculated: bytes) -> None:
    if calculated != expected:
        raise RootMismatch(what, expected=expected, calculated=calculated)


def _verify_bft_state(bundle: dict[str, Any], signed: bft.LightBlock) -> dict[str, Any]:
    app_hash = bytes(signed.header.app_hash)
    if len(app_hash) != 32:
        raise MalformedProof(f"header {signed.height}'s app_hash is not a 32-byte state root")
    return _verify_state_against(bundle, app_hash)


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
