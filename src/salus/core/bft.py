"""CometBFT light-client checks: header hashes, commits, validator sets, updates.

Rules this module obeys:
- Pure: no I/O, clock, randomness or environment access. Protobuf serialisation is
  the only encoding used besides :mod:`hashlib`, and only for the messages CometBFT
  itself hashes or signs (schema: ``salus.core.pb.tendermint``, v0.38.26).
- Every byte matches CometBFT v0.38 (file names below are in its Go sources); the
  test vectors in ``tests/core/vectors/bft/`` were captured from the real binary.
- Verifiers raise :class:`~salus.errors.ProofError` subclasses naming what failed:
  :class:`~salus.errors.MalformedProof` for input that cannot be evaluated,
  :class:`~salus.errors.RootMismatch` for a hash that differs from the one it must
  equal, :class:`~salus.errors.UnknownSigner` for a signature by a key the set does
  not hold at that position, plain :class:`~salus.errors.ProofError` otherwise.
  Builders raise :class:`ValueError` for caller mistakes.

Theory of operation. A CometBFT block is identified by its *header hash*: the RFC
6962 Merkle root (``crypto/merkle``, the same tree as :mod:`salus.core.merkle`) of
the header's fields, each encoded on its own (``types/block.go`` ``Header.Hash``).
The validators of height H precommit to that hash; a *commit* holds one
``CommitSig`` per validator of the set, in the set's order (voting power descending,
then address ascending), each an Ed25519 signature over a length-prefixed
``CanonicalVote`` (``types/vote.go`` ``VoteSignBytes``). A header is final when more
than 2/3 of the set's voting power signed it (``types/validation.go``
``VerifyCommitLight``); the header names its set by ``validators_hash``
(``types/validator_set.go`` ``Hash``).

The header commits to everything a Salus proof needs:

- ``data_hash`` of block H: RFC 6962 root over ``SHA-256(tx)`` of each transaction
  (``types/tx.go`` — the leaves are transaction *hashes*, not the raw bytes);
- ``last_results_hash`` of header H+1: RFC 6962 root over each ``ExecTxResult`` of
  block H reduced to ``code, data, gas_wanted, gas_used`` (``types/results.go``);
- ``app_hash`` of header H+1: the application's state root after block H.

Which validator set to trust (:func:`follow_updates`). A verifier starts from a set
it trusts — the genesis validators — and accepts a :class:`LightBlock` signed by a
*different* set only if, besides being valid for its own set, its commit carries
more than 2/3 of the voting power of the set already trusted. It is the light
client's skipping rule (``light/verifier.go`` ``VerifyNonAdjacent``) with the trust
level raised from 1/3 to 2/3, so that it needs no trusting period, no clock and no
``next_validators_hash`` chain: while fewer than 1/3 of the trusted power is
faulty, more than 1/3 honest trusted validators signed the block, and honest
validators sign only the canonical chain. A change of more than 1/3 of the power
therefore needs intermediate hops, each signed by > 2/3 of the set before it.
"""

from __future__ import annotations

import base64
import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from google.protobuf import message as pb_message
from google.protobuf import timestamp_pb2, wrappers_pb2

from salus.core import merkle
from salus.core.crypto import PUBLIC_KEY_SIZE, did_from_public_key, sha256, verify_signature
from salus.core.genesis import Genesis
from salus.core.pb.tendermint.abci import types_pb2 as abci_pb2
from salus.core.pb.tendermint.crypto import keys_pb2
from salus.core.pb.tendermint.types import canonical_pb2, types_pb2, validator_pb2
from salus.errors import MalformedProof, ProofError, RootMismatch, SalusError, UnknownSigner

__all__ = [
    "ADDRESS_SIZE",
    "BLOCK_PROTOCOL",
    "MAX_TOTAL_VOTING_POWER",
    "LightBlock",
    "Validators",
    "address",
    "check_validators",
    "commit_from_json",
    "data_hash",
    "decode_commit",
    "decode_header",
    "exec_result_from_json",
    "exec_result_leaf",
    "exec_results_from_json",
    "follow_updates",
    "genesis_doc_validators",
    "genesis_validators",
    "header_from_json",
    "header_hash",
    "last_results_hash",
    "light_block_from_json",
    "proposer_did",
    "signed_header_from_json",
    "sort_validators",
    "time_ms",
    "tx_leaf_hash",
    "txs_from_json",
    "validator_set_hash",
    "validators_from_json",
    "verify_commit",
    "verify_light_block",
    "vote_sign_bytes",
]

Validators: TypeAlias = tuple[tuple[bytes, int], ...]
"""A validator set: ``(Ed25519 public key, voting power)`` pairs in CometBFT order."""

ADDRESS_SIZE = 20  # crypto.AddressSize: SHA-256(public key)[:20]
HASH_SIZE = 32  # tmhash.Size
BLOCK_PROTOCOL = 11  # version.BlockProtocol in v0.38
MAX_CHAIN_ID_LEN = 50  # types.MaxChainIDLen
MAX_TOTAL_VOTING_POWER = (2**63 - 1) // 8  # types.MaxTotalVotingPower
MAX_SIGNATURE_SIZE = 64  # the only key type Salus admits is Ed25519
MAX_VALIDATORS = 10_000  # far above any consortium; bounds the work a bundle can demand
_INT64 = (-(2**63), 2**63 - 1)
_INT32 = (-(2**31), 2**31 - 1)
_UINT32 = (0, 2**32 - 1)
_GO_ZERO_TIME = -62_135_596_800  # Unix seconds of Go's zero time.Time, 0001-01-01T00:00:00Z

_FLAG_ABSENT = validator_pb2.BLOCK_ID_FLAG_ABSENT
_FLAG_COMMIT = validator_pb2.BLOCK_ID_FLAG_COMMIT
_FLAG_NIL = validator_pb2.BLOCK_ID_FLAG_NIL
_PUBKEY_JSON_TYPE = "tendermint/PubKeyEd25519"


# --- addresses, validator sets -------------------------------------------------------------


def address(public_key: bytes) -> bytes:
    """CometBFT address of an Ed25519 public key: ``SHA-256(key)[:20]`` (``crypto/ed25519``)."""
    return sha256(public_key)[:ADDRESS_SIZE]


def sort_validators(validators: Iterable[tuple[bytes, int]]) -> Validators:
    """The set in CometBFT order: voting power descending, then address ascending.

    ``types/validator_set.go`` ``ValidatorsByVotingPower``; every set CometBFT hashes,
    and every commit's signature list, is in this order.
    """
    return tuple(sorted(validators, key=lambda v: (-v[1], address(v[0]))))


def check_validators(validators: Sequence[tuple[bytes, int]]) -> Validators:
    """Return ``validators`` in CometBFT order after checking it is a usable set.

    Raises :class:`MalformedProof` for an empty or oversized set, a key that is not
    32 bytes, a power that is not a positive integer, a total power above
    ``MaxTotalVotingPower`` or the same key (address) twice.
    """
    if not validators:
        raise MalformedProof("the validator set is empty")
    if len(validators) > MAX_VALIDATORS:
        raise MalformedProof(f"the validator set has more than {MAX_VALIDATORS} validators")
    seen: set[bytes] = set()
    total = 0
    for entry in validators:
        if not isinstance(entry, tuple) or len(entry) != 2:
            raise MalformedProof("a validator is a (public key, power) pair")
        public_key, power = entry
        if not isinstance(public_key, bytes) or len(public_key) != PUBLIC_KEY_SIZE:
            raise MalformedProof("a validator's Ed25519 public key is 32 bytes")
        if not isinstance(power, int) or isinstance(power, bool) or power < 1:
            raise MalformedProof("a validator's voting power is a positive integer")
        if address(public_key) in seen:
            raise MalformedProof(f"validator {address(public_key).hex()} is listed twice")
        seen.add(address(public_key))
        total += power
    if total > MAX_TOTAL_VOTING_POWER:
        raise MalformedProof(f"total voting power {total} exceeds {MAX_TOTAL_VOTING_POWER}")
    return sort_validators(validators)


def _simple_validator_bytes(public_key: bytes, power: int) -> bytes:
    # types/validator.go Validator.Bytes: SimpleValidator{PubKey: &pk, VotingPower}.
    return validator_pb2.SimpleValidator(
        pub_key=keys_pb2.PublicKey(ed25519=public_key), voting_power=power
    ).SerializeToString(deterministic=True)


def validator_set_hash(validators: Sequence[tuple[bytes, int]]) -> bytes:
    """``ValidatorSet.Hash()``: RFC 6962 root over each ``SimpleValidator``, in set order.

    ``validators`` may come in any order; they are put in CometBFT order first.
    Raises :class:`MalformedProof` when :func:`check_validators` refuses the set.
    """
    ordered = check_validators(validators)
    return merkle.merkle_root([_simple_validator_bytes(key, power) for key, power in ordered])


def genesis_validators(genesis: Genesis) -> Validators:
    """The set a verifier trusts first: the Salus genesis validators (did:key, power).

    The CometBFT genesis of a Salus network lists exactly these keys and powers
    (``salus.cometbft.home``), so this is the set that signs from height 1.
    """
    return check_validators([(v.public_key, v.power) for v in genesis.validators])


# --- header hash and vote sign bytes --------------------------------------------------------


def _cdc_string(value: str) -> bytes:
    # types/encoding_helper.go cdcEncode: gogotypes.StringValue; the empty value encodes
    # as no bytes, as proto3 omits a default field.
    return wrappers_pb2.StringValue(value=value).SerializeToString(deterministic=True)


def _cdc_int64(value: int) -> bytes:
    return wrappers_pb2.Int64Value(value=value).SerializeToString(deterministic=True)


def _cdc_bytes(value: bytes) -> bytes:
    return wrappers_pb2.BytesValue(value=value).SerializeToString(deterministic=True)


def _block_id_bytes(block_id: types_pb2.BlockID) -> bytes:
    # BlockID.ToProto().Marshal(): gogoproto non-nullable part_set_header is always
    # written, even when empty (``12 00`` at height 1); proto3 Python writes a
    # sub-message only when present, so mark it present.
    copy = types_pb2.BlockID()
    copy.CopyFrom(block_id)
    copy.part_set_header.SetInParent()
    return copy.SerializeToString(deterministic=True)


def header_hash(header: types_pb2.Header) -> bytes:
    """``Header.Hash()`` of CometBFT v0.38 (``types/block.go``): the block's id.

    RFC 6962 root over, in spec order: version (proto), chain_id, height (gogotypes
    wrappers), time (``StdTimeMarshal``: a ``Timestamp``), last_block_id (proto),
    then last_commit_hash … proposer_address (``BytesValue``). Raises
    :class:`MalformedProof` for a header CometBFT gives no hash (no
    ``validators_hash``) or without a time.
    """
    if len(header.validators_hash) == 0:
        raise MalformedProof("a header without validators_hash has no hash")
    if not header.HasField("time"):
        raise MalformedProof("the header has no time")
    return merkle.merkle_root(
        [
            header.version.SerializeToString(deterministic=True),
            _cdc_string(header.chain_id),
            _cdc_int64(header.height),
            header.time.SerializeToString(deterministic=True),
            _block_id_bytes(header.last_block_id),
            _cdc_bytes(header.last_commit_hash),
            _cdc_bytes(header.data_hash),
            _cdc_bytes(header.validators_hash),
            _cdc_bytes(header.next_validators_hash),
            _cdc_bytes(header.consensus_hash),
            _cdc_bytes(header.app_hash),
            _cdc_bytes(header.last_results_hash),
            _cdc_bytes(header.evidence_hash),
            _cdc_bytes(header.proposer_address),
        ]
    )


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _is_zero_block_id(block_id: types_pb2.BlockID) -> bool:
    return (
        not block_id.hash
        and block_id.part_set_header.total == 0
        and not block_id.part_set_header.hash
    )


def vote_sign_bytes(chain_id: str, commit: types_pb2.Commit, index: int) -> bytes:
    """What validator ``index`` of ``commit`` signed (``Commit.VoteSignBytes``).

    A ``CanonicalVote`` of type precommit with the commit's height and round (as
    sfixed64), the block id when the signature is for the block (none for a nil or
    absent vote), the signature's timestamp and the chain id, length-delimited by an
    unsigned varint as ``libs/protoio.MarshalDelimited`` writes it.
    """
    if not 0 <= index < len(commit.signatures):
        raise ValueError(f"commit has no signature {index}")
    sig = commit.signatures[index]
    vote = canonical_pb2.CanonicalVote(
        type=types_pb2.SIGNED_MSG_TYPE_PRECOMMIT,
        height=commit.height,
        round=commit.round,
        chain_id=chain_id,
    )
    # CommitSig.BlockID: the commit's block id for a vote for the block, else the zero
    # id, which CanonicalizeBlockID turns into an absent field.
    if sig.block_id_flag == _FLAG_COMMIT and not _is_zero_block_id(commit.block_id):
        vote.block_id.hash = commit.block_id.hash
        vote.block_id.part_set_header.SetInParent()
        vote.block_id.part_set_header.total = commit.block_id.part_set_header.total
        vote.block_id.part_set_header.hash = commit.block_id.part_set_header.hash
    # The timestamp is a non-nullable stdtime: always written.
    vote.timestamp.CopyFrom(sig.timestamp)
    vote.timestamp.SetInParent()
    body = vote.SerializeToString(deterministic=True)
    return _uvarint(len(body)) + body


# --- structural checks (ValidateBasic) ------------------------------------------------------


def _check_hash(value: bytes, what: str, *, required: bool = False) -> None:
    # types.ValidateHash: empty or exactly tmhash.Size bytes.
    if len(value) == 0 and not required:
        return
    if len(value) != HASH_SIZE:
        raise MalformedProof(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _check_time(value: timestamp_pb2.Timestamp, what: str) -> None:
    if not 0 <= value.nanos < 1_000_000_000:
        raise MalformedProof(f"{what} has nanoseconds out of range")


def _check_block_id(block_id: types_pb2.BlockID, what: str, *, complete: bool) -> None:
    _check_hash(block_id.hash, f"{what} hash", required=complete)
    _check_hash(block_id.part_set_header.hash, f"{what} part set hash", required=complete)
    if complete and block_id.part_set_header.total < 1:
        raise MalformedProof(f"{what} has no parts")


def _check_header(header: types_pb2.Header) -> None:
    """``Header.ValidateBasic``, plus what hashing and verification need."""
    if header.version.block != BLOCK_PROTOCOL:
        raise MalformedProof(
            f"header block protocol is {header.version.block}, not {BLOCK_PROTOCOL}"
        )
    if not header.chain_id or len(header.chain_id) > MAX_CHAIN_ID_LEN:
        raise MalformedProof(f"header chain_id must be 1-{MAX_CHAIN_ID_LEN} characters")
    if header.height < 1:
        raise MalformedProof(f"header height {header.height} is not positive")
    if not header.HasField("time"):
        raise MalformedProof("the header has no time")
    _check_time(header.time, "header time")
    _check_block_id(header.last_block_id, "header last_block_id", complete=header.height > 1)
    for name in ("last_commit_hash", "data_hash", "evidence_hash", "next_validators_hash"):
        _check_hash(getattr(header, name), f"header {name}")
    _check_hash(header.consensus_hash, "header consensus_hash")
    _check_hash(header.last_results_hash, "header last_results_hash")
    _check_hash(header.validators_hash, "header validators_hash", required=True)
    if len(header.proposer_address) != ADDRESS_SIZE:
        raise MalformedProof(f"header proposer_address is not {ADDRESS_SIZE} bytes")


def _check_commit(commit: types_pb2.Commit) -> None:
    """``Commit.ValidateBasic`` and ``CommitSig.ValidateBasic``."""
    if commit.height < 1:
        raise MalformedProof(f"commit height {commit.height} is not positive")
    if commit.round < 0:
        raise MalformedProof("commit round is negative")
    _check_block_id(commit.block_id, "commit block_id", complete=True)
    if not commit.signatures:
        raise MalformedProof("commit has no signatures")
    for index, sig in enumerate(commit.signatures):
        what = f"commit signature {index}"
        if sig.block_id_flag not in (_FLAG_ABSENT, _FLAG_COMMIT, _FLAG_NIL):
            raise MalformedProof(f"{what} has unknown block_id_flag {sig.block_id_flag}")
        if not sig.HasField("timestamp"):
            raise MalformedProof(f"{what} has no timestamp")
        _check_time(sig.timestamp, f"{what} timestamp")
        if sig.block_id_flag == _FLAG_ABSENT:
            if sig.validator_address or sig.signature:
                raise MalformedProof(f"{what} is absent but carries an address or signature")
            if sig.timestamp.seconds != _GO_ZERO_TIME or sig.timestamp.nanos:
                raise MalformedProof(f"{what} is absent but carries a time")
            continue
        if len(sig.validator_address) != ADDRESS_SIZE:
            raise MalformedProof(f"{what} validator address is not {ADDRESS_SIZE} bytes")
        if not 0 < len(sig.signature) <= MAX_SIGNATURE_SIZE:
            raise MalformedProof(f"{what} signature is missing or too long")


# --- commit verification --------------------------------------------------------------------


def _verify_signature(chain_id: str, commit: types_pb2.Commit, index: int, key: bytes) -> None:
    try:
        verify_signature(
            key, vote_sign_bytes(chain_id, commit, index), commit.signatures[index].signature
        )
    except SalusError:
        raise ProofError(
            f"signature {index} of the commit for height {commit.height} "
            f"(validator {address(key).hex()}) does not verify"
        ) from None


def _needed(total: int) -> int:
    # VerifyCommitLight: votingPowerNeeded := total * 2 / 3; a commit passes when the
    # tallied power is strictly greater.
    return total * 2 // 3


def verify_commit(
    chain_id: str,
    header: types_pb2.Header,
    commit: types_pb2.Commit,
    validators: Sequence[tuple[bytes, int]],
) -> None:
    """Check that ``validators`` finalised ``header`` with ``commit``.

    As ``VerifyCommitLightAllSignatures``: the header is well formed and of
    ``chain_id``; the commit is for the header's height and its block id is the
    header's hash; the set hashes to ``validators_hash``; the commit has one entry per
    validator, in set order; every signature *for the block* is by the validator at
    its position and verifies (strict Ed25519, every one, not stopping at 2/3); and
    they carry more than 2/3 of the set's voting power. Nil and absent votes count for
    nothing. Raises a :class:`ProofError` subclass naming the first failure.
    """
    _signed_power(chain_id, header, commit, check_validators(validators))


def _signed_power(
    chain_id: str,
    header: types_pb2.Header,
    commit: types_pb2.Commit,
    validators: Validators,
) -> int:
    """:func:`verify_commit` on a checked, ordered set; returns the power that signed."""
    _check_header(header)
    _check_commit(commit)
    if header.chain_id != chain_id:
        raise ProofError(f"header is from chain {header.chain_id!r}, expected {chain_id!r}")
    if commit.height != header.height:
        raise ProofError(
            f"the commit is for height {commit.height}, the header is height {header.height}"
        )
    block_hash = header_hash(header)
    if commit.block_id.hash != block_hash:
        raise RootMismatch(
            f"the commit for height {commit.height} signs another block than this header",
            expected=commit.block_id.hash,
            calculated=block_hash,
        )
    set_hash = merkle.merkle_root([_simple_validator_bytes(k, p) for k, p in validators])
    if set_hash != header.validators_hash:
        raise RootMismatch(
            f"the validator set does not match header {header.height}'s validators_hash",
            expected=header.validators_hash,
            calculated=set_hash,
        )
    if len(commit.signatures) != len(validators):
        raise MalformedProof(
            f"the commit has {len(commit.signatures)} signatures for {len(validators)} validators"
        )
    tallied = 0
    for index, sig in enumerate(commit.signatures):
        if sig.block_id_flag != _FLAG_COMMIT:
            continue
        key, power = validators[index]
        if sig.validator_address != address(key):
            raise UnknownSigner(
                f"signature {index} of the commit for height {commit.height} is by "
                f"{sig.validator_address.hex()}, but validator {index} of the set is "
                f"{address(key).hex()}"
            )
        _verify_signature(chain_id, commit, index, key)
        tallied += power
    total = sum(power for _, power in validators)
    if tallied <= _needed(total):
        raise ProofError(
            f"the commit for height {commit.height} is signed by {tallied} of {total} voting "
            "power, not more than 2/3"
        )
    return tallied


def _trusted_power(
    chain_id: str, commit: types_pb2.Commit, signers: Validators, trusted: Validators
) -> int:
    """Voting power of ``trusted`` among the verified signatures for the block.

    ``signers`` is the commit's own (already verified) set; a trusted validator is
    matched by address, counted once, and its signature is checked again only if its
    key differs from the one that signature was verified with.
    """
    by_address = {address(key): (key, power) for key, power in trusted}
    counted: set[bytes] = set()
    tallied = 0
    for index, sig in enumerate(commit.signatures):
        if sig.block_id_flag != _FLAG_COMMIT or sig.validator_address not in by_address:
            continue
        if sig.validator_address in counted:
            raise ProofError(f"validator {sig.validator_address.hex()} signed the commit twice")
        counted.add(sig.validator_address)
        key, power = by_address[sig.validator_address]
        if signers[index][0] != key:
            _verify_signature(chain_id, commit, index, key)
        tallied += power
    return tallied


@dataclass(frozen=True, slots=True)
class LightBlock:
    """A header, the commit that finalised it and the validator set that signed it.

    CometBFT's ``types.LightBlock`` (signed header + validator set). ``validators``
    may be given in any order and is kept in CometBFT order; a set
    :func:`check_validators` refuses raises :class:`MalformedProof`.
    """

    header: types_pb2.Header
    commit: types_pb2.Commit
    validators: Validators

    def __post_init__(self) -> None:
        object.__setattr__(self, "validators", check_validators(self.validators))

    @property
    def height(self) -> int:
        return int(self.header.height)

    def to_data(self) -> dict[str, Any]:
        """Plain data for a proof bundle: the two messages' protobuf bytes and the set."""
        return {
            "header": self.header.SerializeToString(deterministic=True),
            "commit": self.commit.SerializeToString(deterministic=True),
            "validators": [[key, power] for key, power in self.validators],
        }

    @classmethod
    def from_data(cls, data: object, what: str = "light block") -> LightBlock:
        """Strictly rebuild from :meth:`to_data`; raises :class:`MalformedProof`."""
        if not isinstance(data, dict) or set(data) != {"header", "commit", "validators"}:
            raise MalformedProof(f"{what} is a map of exactly header, commit, validators")
        header, commit, validators = data["header"], data["commit"], data["validators"]
        if not isinstance(header, bytes) or not isinstance(commit, bytes):
            raise MalformedProof(f"{what} header and commit are protobuf bytes")
        if not isinstance(validators, list) or not all(
            isinstance(v, list) and len(v) == 2 for v in validators
        ):
            raise MalformedProof(f"{what} validators is a list of [public key, power]")
        pairs = [(v[0], v[1]) for v in validators]
        ordered = check_validators(pairs)
        if list(ordered) != pairs:
            raise MalformedProof(f"{what} validators are not in CometBFT order")
        return cls(decode_header(header), decode_commit(commit), ordered)


def verify_light_block(
    chain_id: str, trusted: Sequence[tuple[bytes, int]], block: LightBlock
) -> int:
    """Check ``block`` against the ``trusted`` set; return the power that signed it.

    The commit must be valid for the block's own set (:func:`verify_commit`) and, when
    that set is not ``trusted`` itself, also carry more than 2/3 of ``trusted``'s
    voting power (the rule in this module's docstring).
    """
    trusted = check_validators(trusted)
    signed = _signed_power(chain_id, block.header, block.commit, block.validators)
    if block.validators != trusted:
        from_trusted = _trusted_power(chain_id, block.commit, block.validators, trusted)
        total = sum(power for _, power in trusted)
        if from_trusted <= _needed(total):
            raise ProofError(
                f"height {block.height} is signed by a validator set that is not trusted, and "
                f"only {from_trusted} of the trusted set's {total} voting power signed it "
                "(more than 2/3 needed; add the intermediate validator set changes)"
            )
    return signed


def follow_updates(
    chain_id: str, trusted: Sequence[tuple[bytes, int]], hops: Sequence[LightBlock]
) -> Validators:
    """The set trusted after the validator changes proven by ``hops``, in height order.

    Each hop must be higher than the one before, valid for its own set, and signed by
    more than 2/3 of the voting power of the set trusted before it
    (:func:`verify_light_block`); its set then becomes the trusted one.
    """
    current, height = check_validators(trusted), 0
    for number, hop in enumerate(hops, start=1):
        if hop.height <= height:
            raise MalformedProof(f"validator update {number} is not above height {height}")
        try:
            verify_light_block(chain_id, current, hop)
        except ProofError as exc:
            # Same class and attributes (RootMismatch keeps expected/calculated), with the
            # hop named in the message.
            error = type(exc).__new__(type(exc))
            error.__dict__.update(vars(exc))
            error.args = (f"validator update {number} (height {hop.height}): {exc.reason}",)
            raise error from None
        current, height = hop.validators, hop.height
    return current


# --- transactions and results ---------------------------------------------------------------


def tx_leaf_hash(tx: bytes) -> bytes:
    """Leaf hash of a transaction in ``data_hash``: ``SHA-256(0x00 || SHA-256(tx))``."""
    return merkle.leaf_hash(sha256(tx))


def data_hash(txs: Sequence[bytes]) -> bytes:
    """A block's ``data_hash`` (``Txs.Hash``): RFC 6962 root over the txs' SHA-256."""
    return merkle.root_from_leaf_hashes([tx_leaf_hash(tx) for tx in txs])


def exec_result_leaf(result: abci_pb2.ExecTxResult) -> bytes:
    """The leaf of ``last_results_hash`` for one result: the deterministic fields' bytes."""
    return abci_pb2.ExecTxResult(
        code=result.code, data=result.data, gas_wanted=result.gas_wanted, gas_used=result.gas_used
    ).SerializeToString(deterministic=True)


def last_results_hash(results: Sequence[abci_pb2.ExecTxResult]) -> bytes:
    """``ABCIResults.Hash``: RFC 6962 root over each result's :func:`exec_result_leaf`."""
    return merkle.merkle_root([exec_result_leaf(result) for result in results])


def time_ms(header: types_pb2.Header) -> int:
    """The header's time as integer Unix milliseconds (sub-millisecond part dropped)."""
    return int(header.time.seconds) * 1000 + int(header.time.nanos) // 1_000_000


# --- strict protobuf decoding ---------------------------------------------------------------

_Message = TypeVar("_Message", bound=pb_message.Message)


def _decode(cls: type[_Message], data: bytes, what: str) -> _Message:
    """Parse ``data`` only if it is the one canonical encoding of a known message."""
    message = cls()
    try:
        message.ParseFromString(data)
    except pb_message.DecodeError as exc:
        raise MalformedProof(f"{what} is not valid protobuf: {exc}") from None
    message.DiscardUnknownFields()
    if message.SerializeToString(deterministic=True) != data:
        raise MalformedProof(f"{what} is not in canonical protobuf form or has unknown fields")
    return message


def decode_header(data: bytes) -> types_pb2.Header:
    """A ``tendermint.types.Header`` from canonical protobuf bytes, basic-validated."""
    header = _decode(types_pb2.Header, data, "header")
    _check_header(header)
    return header


def decode_commit(data: bytes) -> types_pb2.Commit:
    """A ``tendermint.types.Commit`` from canonical protobuf bytes, basic-validated."""
    commit = _decode(types_pb2.Commit, data, "commit")
    _check_commit(commit)
    return commit


# --- CometBFT RPC JSON ----------------------------------------------------------------------

_DECIMAL = re.compile(r"0|-?[1-9][0-9]{0,19}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z"
)


def _map(value: Any, keys: Iterable[str], what: str) -> Mapping[str, Any]:
    expected = set(keys)
    if not isinstance(value, dict):
        raise MalformedProof(f"{what} must be a JSON object")
    if set(value) != expected:
        missing, extra = expected - set(value), set(value) - expected
        problem = f"lacks {', '.join(sorted(missing))}" if missing else ""
        problem += ("; " if problem and extra else "") + (
            f"has unknown {', '.join(sorted(extra))}" if extra else ""
        )
        raise MalformedProof(f"{what} {problem}")
    return value


def _int(value: Any, what: str, bounds: tuple[int, int], *, quoted: bool) -> int:
    """An integer: 64-bit ones are JSON strings in CometBFT's JSON, 32-bit ones numbers."""
    if quoted:
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            raise MalformedProof(f"{what} must be a decimal integer in a string")
        number = int(value)
    else:
        if not isinstance(value, int) or isinstance(value, bool):
            raise MalformedProof(f"{what} must be an integer")
        number = value
    if not bounds[0] <= number <= bounds[1]:
        raise MalformedProof(f"{what} is out of range")
    return number


def _hex(value: Any, what: str, sizes: tuple[int, ...]) -> bytes:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise MalformedProof(f"{what} must be hex")
    raw = bytes.fromhex(value)
    if len(raw) not in sizes:
        raise MalformedProof(f"{what} is {len(raw)} bytes")
    return raw


def _b64(value: Any, what: str, *, nullable: bool = False) -> bytes:
    if value is None and nullable:
        return b""
    if not isinstance(value, str) or not _BASE64.fullmatch(value):
        raise MalformedProof(f"{what} must be base64")
    return base64.b64decode(value, validate=True)


def _time(value: Any, what: str) -> timestamp_pb2.Timestamp:
    """RFC 3339 in UTC as Go's ``time.RFC3339Nano`` prints it, to a ``Timestamp``."""
    match = _RFC3339.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise MalformedProof(f"{what} must be an RFC 3339 UTC time (…Z)")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    if not (
        1 <= month <= 12
        and 1 <= day <= calendar.monthrange(max(year, 1), month)[1]
        and hour < 24
        and minute < 60
        and second < 60
        and year >= 1
    ):
        raise MalformedProof(f"{what} is not a valid date and time")
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    nanos = int((match.group(7) or "").ljust(9, "0"))
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def _hash_json(value: Any, what: str) -> bytes:
    return _hex(value, what, (0, HASH_SIZE))


def _block_id_json(value: Any, what: str) -> types_pb2.BlockID:
    data = _map(value, ("hash", "parts"), what)
    parts = _map(data["parts"], ("total", "hash"), f"{what}.parts")
    block_id = types_pb2.BlockID(hash=_hash_json(data["hash"], f"{what}.hash"))
    block_id.part_set_header.SetInParent()
    block_id.part_set_header.total = _int(
        parts["total"], f"{what}.parts.total", _UINT32, quoted=False
    )
    block_id.part_set_header.hash = _hash_json(parts["hash"], f"{what}.parts.hash")
    return block_id


_HEADER_KEYS = (
    "version",
    "chain_id",
    "height",
    "time",
    "last_block_id",
    "last_commit_hash",
    "data_hash",
    "validators_hash",
    "next_validators_hash",
    "consensus_hash",
    "app_hash",
    "last_results_hash",
    "evidence_hash",
    "proposer_address",
)


def header_from_json(value: Any) -> types_pb2.Header:
    """A header from CometBFT's RPC JSON (``/commit`` ``signed_header.header``, ``/block``)."""
    data = _map(value, _HEADER_KEYS, "header")
    version = _map(data["version"], ("block", "app"), "header.version")
    if not isinstance(data["chain_id"], str):
        raise MalformedProof("header.chain_id must be a string")
    header = types_pb2.Header(
        chain_id=data["chain_id"],
        height=_int(data["height"], "header.height", _INT64, quoted=True),
        app_hash=_hex(data["app_hash"], "header.app_hash", tuple(range(0, 129))),
        proposer_address=_hex(data["proposer_address"], "header.proposer_address", (20,)),
    )
    header.version.SetInParent()
    header.version.block = _int(
        version["block"], "header.version.block", (0, 2**64 - 1), quoted=True
    )
    header.version.app = _int(version["app"], "header.version.app", (0, 2**64 - 1), quoted=True)
    header.time.CopyFrom(_time(data["time"], "header.time"))
    header.last_block_id.CopyFrom(_block_id_json(data["last_block_id"], "header.last_block_id"))
    for name in (
        "last_commit_hash",
        "data_hash",
        "validators_hash",
        "next_validators_hash",
        "consensus_hash",
        "last_results_hash",
        "evidence_hash",
    ):
        setattr(header, name, _hash_json(data[name], f"header.{name}"))
    _check_header(header)
    return header


def commit_from_json(value: Any) -> types_pb2.Commit:
    """A commit from CometBFT's RPC JSON (``/commit`` ``signed_header.commit``)."""
    data = _map(value, ("height", "round", "block_id", "signatures"), "commit")
    commit = types_pb2.Commit(
        height=_int(data["height"], "commit.height", _INT64, quoted=True),
        round=_int(data["round"], "commit.round", _INT32, quoted=False),
    )
    commit.block_id.CopyFrom(_block_id_json(data["block_id"], "commit.block_id"))
    if not isinstance(data["signatures"], list):
        raise MalformedProof("commit.signatures must be a list")
    for index, item in enumerate(data["signatures"]):
        what = f"commit.signatures[{index}]"
        sig = _map(item, ("block_id_flag", "validator_address", "timestamp", "signature"), what)
        entry = commit.signatures.add()
        flag = _int(sig["block_id_flag"], f"{what}.block_id_flag", (0, 3), quoted=False)
        entry.block_id_flag = validator_pb2.BlockIDFlag.ValueType(flag)
        entry.validator_address = _hex(
            sig["validator_address"], f"{what}.validator_address", (0, 20)
        )
        entry.timestamp.CopyFrom(_time(sig["timestamp"], f"{what}.timestamp"))
        entry.signature = _b64(sig["signature"], f"{what}.signature", nullable=True)
    _check_commit(commit)
    return commit


def signed_header_from_json(result: Any) -> tuple[types_pb2.Header, types_pb2.Commit]:
    """Header and commit from the ``result`` of ``/commit?height=H``."""
    data = _map(result, ("signed_header", "canonical"), "commit result")
    if not isinstance(data["canonical"], bool):
        raise MalformedProof("commit result.canonical must be a boolean")
    signed = _map(data["signed_header"], ("header", "commit"), "signed_header")
    return header_from_json(signed["header"]), commit_from_json(signed["commit"])


def validators_from_json(result: Any) -> Validators:
    """The set from the ``result`` of ``/validators?height=H`` (one page holding all).

    Each entry's address must be its key's address. CometBFT pages this endpoint
    (30 per page by default, at most 100): ask for ``per_page=100``; a partial page
    is refused.
    """
    data = _map(result, ("block_height", "validators", "count", "total"), "validators result")
    _int(data["block_height"], "validators result.block_height", _INT64, quoted=True)
    count = _int(data["count"], "validators result.count", _INT64, quoted=True)
    total = _int(data["total"], "validators result.total", _INT64, quoted=True)
    if not isinstance(data["validators"], list) or not count == total == len(data["validators"]):
        raise MalformedProof("validators result is not one page with the whole set")
    pairs = []
    for index, item in enumerate(data["validators"]):
        what = f"validators[{index}]"
        entry = _map(item, ("address", "pub_key", "voting_power", "proposer_priority"), what)
        pairs.append(_validator_entry(entry, what, "voting_power"))
        _int(entry["proposer_priority"], f"{what}.proposer_priority", _INT64, quoted=True)
    return check_validators(pairs)


def _validator_entry(entry: Mapping[str, Any], what: str, power_key: str) -> tuple[bytes, int]:
    pub_key = _map(entry["pub_key"], ("type", "value"), f"{what}.pub_key")
    if pub_key["type"] != _PUBKEY_JSON_TYPE:
        raise MalformedProof(f"{what} is not an Ed25519 key ({_PUBKEY_JSON_TYPE})")
    key = _b64(pub_key["value"], f"{what}.pub_key.value")
    if len(key) != PUBLIC_KEY_SIZE:
        raise MalformedProof(f"{what}.pub_key is not 32 bytes")
    if _hex(entry["address"], f"{what}.address", (ADDRESS_SIZE,)) != address(key):
        raise MalformedProof(f"{what}.address is not the address of its key")
    return key, _int(entry[power_key], f"{what}.{power_key}", _INT64, quoted=True)


def genesis_doc_validators(document: Any) -> Validators:
    """The validator set of a CometBFT ``genesis.json`` (already parsed)."""
    if not isinstance(document, dict) or not isinstance(document.get("validators"), list):
        raise MalformedProof("a CometBFT genesis document has a validators list")
    pairs = []
    for index, item in enumerate(document["validators"]):
        what = f"genesis validators[{index}]"
        pairs.append(
            _validator_entry(
                _map(item, ("address", "pub_key", "power", "name"), what), what, "power"
            )
        )
    return check_validators(pairs)


def light_block_from_json(commit_result: Any, validators_result: Any) -> LightBlock:
    """A :class:`LightBlock` from the results of ``/commit`` and ``/validators`` at one height."""
    header, commit = signed_header_from_json(commit_result)
    validators = validators_from_json(validators_result)
    if int(validators_result["block_height"]) != header.height:
        raise MalformedProof(
            f"the validators are for height {validators_result['block_height']}, "
            f"the header is height {header.height}"
        )
    return LightBlock(header, commit, validators)


def txs_from_json(block_result: Any) -> list[bytes]:
    """The transactions of the ``result`` of ``/block?height=H``, in block order."""
    if not isinstance(block_result, dict) or not isinstance(block_result.get("block"), dict):
        raise MalformedProof("a block result holds a block")
    data = block_result["block"].get("data")
    if not isinstance(data, dict) or not isinstance(data.get("txs"), list | None):
        raise MalformedProof("block.data.txs must be a list")
    return [_b64(tx, f"block.data.txs[{i}]") for i, tx in enumerate(data["txs"] or [])]


def exec_result_from_json(value: Any, what: str = "tx result") -> abci_pb2.ExecTxResult:
    """The hashed fields (code, data, gas_wanted, gas_used) of one ``txs_results`` entry."""
    data = _map(
        value,
        ("code", "data", "log", "info", "gas_wanted", "gas_used", "events", "codespace"),
        what,
    )
    return abci_pb2.ExecTxResult(
        code=_int(data["code"], f"{what}.code", _UINT32, quoted=False),
        data=_b64(data["data"], f"{what}.data", nullable=True),
        gas_wanted=_int(data["gas_wanted"], f"{what}.gas_wanted", _INT64, quoted=True),
        gas_used=_int(data["gas_used"], f"{what}.gas_used", _INT64, quoted=True),
    )


def exec_results_from_json(block_results: Any) -> list[abci_pb2.ExecTxResult]:
    """The results of the ``result`` of ``/block_results?height=H``, in block order."""
    if not isinstance(block_results, dict) or "txs_results" not in block_results:
        raise MalformedProof("a block_results result holds txs_results")
    items = block_results["txs_results"] or []
    if not isinstance(items, list):
        raise MalformedProof("txs_results must be a list")
    return [exec_result_from_json(item, f"txs_results[{i}]") for i, item in enumerate(items)]


def proposer_did(header: types_pb2.Header, validators: Validators) -> str:
    """The header's proposer as a did:key when it is in ``validators``, else its hex address."""
    for key, _ in validators:
        if address(key) == header.proposer_address:
            return did_from_public_key(key)
    return bytes(header.proposer_address).hex()
