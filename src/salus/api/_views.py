"""JSON views of stored records shared by several routes."""

from __future__ import annotations

from typing import Any

from salus.core.block import TxResult
from salus.core.tx import SignedTransaction
from salus.errors import EncodingError, StorageError
from salus.node.storage import StoredTx

__all__ = ["tx_summary"]


def tx_summary(stored: StoredTx) -> dict[str, Any]:
    """One committed transaction as a list row: who called what, and the outcome."""
    try:
        stx = SignedTransaction.decode(stored.envelope)
        result = TxResult.decode(stored.result)
    except EncodingError as exc:
        # These bytes were written by this node after validation: failing to read
        # them back is corruption, not bad input.
        raise StorageError(
            f"stored transaction {stored.id.hex()} is unreadable: {exc.reason}"
        ) from None
    tx = stx.tx
    return {
        "id": stored.id.hex(),
        "height": stored.height,
        "index": stored.index,
        "contract": tx.contract,
        "action": tx.action,
        "signer": tx.signer_did,
        "nonce": tx.nonce,
        "ok": result.ok,
        "code": result.code,
        "reason": result.reason,
    }
