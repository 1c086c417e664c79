"""Every error Salus raises on purpose, under one root.

Hierarchy::

    SalusError
    ├── EncodingError            bytes are malformed, non-canonical or too large
    │   └── FrameError           an ABCI socket frame is malformed or too large
    ├── InvalidTransaction       a transaction fails admission or execution checks
    │   ├── BadSignature         the Ed25519 signature does not verify
    │   ├── WrongChain           the transaction names another chain id
    │   └── NonceError           replayed or out-of-order per-signer nonce
    ├── PermissionDenied         the signer lacks a role the action requires
    ├── ContractError            a contract refused an action (business rule)
    │   ├── UnknownContract      no contract of that name is installed
    │   ├── UnknownAction        the contract has no action of that name
    │   └── InvalidArguments     the action's arguments are missing or of the wrong type
    ├── ProofError               a proof bundle does not verify
    │   ├── MalformedProof       the bundle cannot be parsed or is incomplete
    │   ├── RootMismatch         a recomputed Merkle root differs from the signed one
    │   └── UnknownSigner        a block header is signed by a key outside the validator set
    ├── GenesisError             a genesis document is invalid
    ├── KeystoreError            a key file cannot be read or decrypted
    ├── StorageError             stored data is missing or inconsistent with the chain
    ├── CometBFTMissing          no CometBFT binary of the pinned version was found
    ├── CometBFTError            a CometBFT node cannot serve a request
    │   ├── CometBFTUnreachable  nothing answers at its RPC address
    │   └── CometBFTRpcError     it answered with a JSON-RPC error
    └── NotFound                 a block, transaction, state entry or blob does not exist

Each class carries a stable ``code`` string. The core only raises; the HTTP API,
the CLI and the ABCI adapter translate ``code`` into a status, an exit code or
an ABCI code at the edge.
"""

from __future__ import annotations

__all__ = [
    "BadSignature",
    "CometBFTError",
    "CometBFTMissing",
    "CometBFTRpcError",
    "CometBFTUnreachable",
    "ContractError",
    "EncodingError",
    "FrameError",
    "GenesisError",
    "InvalidArguments",
    "InvalidTransaction",
    "KeystoreError",
    "MalformedProof",
    "NonceError",
    "NotFound",
    "PermissionDenied",
    "ProofError",
    "RootMismatch",
    "SalusError",
    "StorageError",
    "UnknownAction",
    "UnknownContract",
    "UnknownSigner",
    "WrongChain",
]


class SalusError(Exception):
    """Root of every error Salus raises deliberately."""

    code = "error"

    @property
    def reason(self) -> str:
        """The human-readable message, as shown to users."""
        return str(self.args[0]) if self.args else self.code


class EncodingError(SalusError):
    """Raised when bytes are not the one canonical encoding of a value, or too large."""

    code = "encoding"


class FrameError(EncodingError):
    """Raised when an ABCI frame's length prefix is malformed or over the size limit."""

    code = "abci_frame"


class InvalidTransaction(SalusError):
    """Raised when a transaction fails a check before or during execution."""

    code = "invalid_transaction"


class BadSignature(InvalidTransaction):
    """Raised when a transaction's Ed25519 signature does not verify."""

    code = "bad_signature"


class WrongChain(InvalidTransaction):
    """Raised when a transaction was signed for another chain id (cross-network replay)."""

    code = "wrong_chain"


class NonceError(InvalidTransaction):
    """Raised when a nonce was already used by its signer (replay) or is otherwise invalid."""

    code = "bad_nonce"


class PermissionDenied(SalusError):
    """Raised when the signer of a transaction does not hold a role the action requires."""

    code = "permission_denied"


class ContractError(SalusError):
    """Raised by a contract action that refuses the request; nothing it wrote is kept."""

    code = "contract_error"


class UnknownContract(ContractError):
    """Raised when a transaction names a contract that is not installed."""

    code = "unknown_contract"


class UnknownAction(ContractError):
    """Raised when a transaction names an action its contract does not have."""

    code = "unknown_action"


class InvalidArguments(ContractError):
    """Raised when an action's arguments are missing, unexpected or of the wrong type."""

    code = "invalid_arguments"


class ProofError(SalusError):
    """Raised when a proof bundle does not verify."""

    code = "invalid_proof"


class MalformedProof(ProofError):
    """Raised when a proof bundle cannot be parsed, is truncated or has stray bytes."""

    code = "malformed_proof"


class RootMismatch(ProofError):
    """Raised when the root recomputed from a proof differs from the expected root."""

    code = "root_mismatch"

    def __init__(self, what: str, expected: bytes, calculated: bytes) -> None:
        super().__init__(f"{what}: expected root {expected.hex()}, proof gives {calculated.hex()}")
        self.expected = expected
        self.calculated = calculated


class UnknownSigner(ProofError):
    """Raised when a block header is signed by a key that is not a known validator."""

    code = "unknown_signer"


class GenesisError(SalusError):
    """Raised when a genesis document is missing fields or inconsistent."""

    code = "invalid_genesis"


class KeystoreError(SalusError):
    """Raised when a key file cannot be read, or its passphrase is wrong."""

    code = "keystore"


class StorageError(SalusError):
    """Raised when stored blocks or state are inconsistent (corruption, wrong genesis)."""

    code = "storage"


class CometBFTMissing(SalusError):
    """Raised when no CometBFT binary of the pinned version can be found."""

    code = "cometbft_missing"


class CometBFTError(SalusError):
    """Raised when a CometBFT node cannot serve a request (root of the RPC errors)."""

    code = "cometbft"


class CometBFTUnreachable(CometBFTError):
    """Raised when nothing answers at the CometBFT RPC address (not running, wrong port)."""

    code = "cometbft_unreachable"


class CometBFTRpcError(CometBFTError):
    """Raised when CometBFT answers a request with a JSON-RPC error.

    ``rpc_code`` is the JSON-RPC error code (-32603 for most refusals), ``data``
    CometBFT's explanation (e.g. ``height 9 must be less than or equal to ...``).
    """

    code = "cometbft_rpc"

    def __init__(self, method: str, rpc_code: int, message: str, data: str) -> None:
        super().__init__(f"CometBFT refused {method}: {data or message}")
        self.method = method
        self.rpc_code = rpc_code
        self.data = data or message


class NotFound(SalusError):
    """Raised when a requested block, transaction, state entry or blob does not exist."""

    code = "not_found"
