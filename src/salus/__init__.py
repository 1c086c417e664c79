"""Salus: a permissioned ledger for organisations answering a health crisis.

The public surface is re-exported here; everything else is an implementation
detail that may change between versions.
"""

from importlib.metadata import PackageNotFoundError, version

from salus.core.contract import MEMBER, PUBLIC, ActionArgs, Context, Contract, action
from salus.core.crypto import Signer, did_from_public_key, public_key_from_did
from salus.core.genesis import Genesis
from salus.core.ledger import Ledger
from salus.core.proofs import Verdict, check_bundle, verify_bundle
from salus.core.tx import SignedTransaction, Transaction, sign_transaction
from salus.errors import SalusError

try:
    __version__ = version("salus")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = [
    "MEMBER",
    "PUBLIC",
    "ActionArgs",
    "Context",
    "Contract",
    "Genesis",
    "Ledger",
    "SalusError",
    "SignedTransaction",
    "Signer",
    "Transaction",
    "Verdict",
    "__version__",
    "action",
    "check_bundle",
    "did_from_public_key",
    "public_key_from_did",
    "sign_transaction",
    "verify_bundle",
]
