"""ABCI result codes of Salus transactions: a stable number for each Salus error code.

CometBFT only distinguishes ``code == 0`` (accepted / applied) from anything else;
the numbers are for clients and indexers, so they never change meaning. Every
response that carries one also sets ``codespace = "salus"`` and ``log`` = the reason.

=====  ===================  =====================================================
code   Salus code           meaning
=====  ===================  =====================================================
0      ok                   accepted (CheckTx) or applied (FinalizeBlock)
1      encoding             not a canonical Salus transaction envelope
2      bad_signature        the Ed25519 signature does not verify
3      wrong_chain          signed for another chain id
4      bad_nonce            nonce not above the signer's last (replay, out of order)
5      permission_denied    the signer lacks a role the action requires
6      unknown_contract     no contract of that name is installed
7      unknown_action       the contract has no action of that name
8      invalid_arguments    the action's arguments do not match its schema
9      contract_error       the contract refused the action (a business rule)
10     contract_failure     the contract raised unexpectedly (a bug; nothing kept)
11     other                any other refusal (the log says why)
=====  ===================  =====================================================
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CODESPACE", "TxCode", "abci_code"]

CODESPACE = "salus"


class TxCode(IntEnum):
    """The ABCI ``code`` of a Salus transaction outcome (table in the module docstring)."""

    OK = 0
    ENCODING = 1
    BAD_SIGNATURE = 2
    WRONG_CHAIN = 3
    BAD_NONCE = 4
    PERMISSION_DENIED = 5
    UNKNOWN_CONTRACT = 6
    UNKNOWN_ACTION = 7
    INVALID_ARGUMENTS = 8
    CONTRACT_ERROR = 9
    CONTRACT_FAILURE = 10
    OTHER = 11


_BY_SALUS_CODE = {member.name.lower(): int(member) for member in TxCode if member != TxCode.OTHER}


def abci_code(salus_code: str) -> int:
    """The ABCI code of a Salus error or result code (``"ok"`` gives 0)."""
    return _BY_SALUS_CODE.get(salus_code, int(TxCode.OTHER))
