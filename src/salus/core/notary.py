"""The notary: anyone may anchor the hash of a document, once, with block time.

State (namespace ``notary``): ``anchor/<sha256 hex>`` → {"by": did, "height",
"time_ms", "note"}. The document itself never goes on the ledger; it may live in
the node's off-chain blob store under the same address. A state proof of the
anchor shows, offline, who anchored it and when.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from salus.core.contract import PUBLIC, ActionArgs, Context, Contract, action

__all__ = ["NOTARY", "NotaryContract"]

NOTARY = "notary"
_DIGEST = re.compile(r"[0-9a-f]{64}")


class AnchorArgs(ActionArgs):
    digest: str = Field(description="SHA-256 of the document, 64 lower-case hex characters")
    note: str = Field(default="", max_length=200)

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str) -> str:
        if not _DIGEST.fullmatch(value):
            raise ValueError("digest must be 64 lower-case hex characters (SHA-256)")
        return value


class NotaryContract(Contract):
    """Proof of existence: the first anchoring of a document hash, with its block time."""

    name = NOTARY

    @action(roles=[PUBLIC])
    def anchor(self, ctx: Context, args: AnchorArgs) -> None:
        """Anchor a SHA-256 digest; refused if it was anchored before."""
        key = f"anchor/{args.digest}"
        existing = ctx.state.get(key)
        if existing is not None:
            ctx.fail(f"digest {args.digest} was already anchored at height {existing['height']}")
        ctx.state.put(
            key,
            {"by": ctx.signer_did, "height": ctx.height, "time_ms": ctx.time_ms, "note": args.note},
        )
        ctx.emit("anchored", subject=args.digest)
