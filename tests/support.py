"""Test support: deterministic keys and a small consortium genesis."""

from __future__ import annotations

from typing import Any

from salus.core.crypto import Signer
from salus.core.genesis import Genesis

CHAIN_ID = "salus-test"


def key(n: int) -> Signer:
    """Deterministic test key number ``n`` (never use such keys outside tests)."""
    return Signer(bytes([n]) * 32)


def genesis_data(orgs: int = 3, *, chain_id: str = CHAIN_ID, validator: int = 9) -> dict[str, Any]:
    names = ["health-ministry", "city-hospital", "red-cross", "open-university", "lab-one"]
    return {
        "chain_id": chain_id,
        "genesis_time_ms": 1_600_000_000_000,
        "consortium": {
            "organisations": [
                {
                    "id": names[i],
                    "name": names[i].replace("-", " ").title(),
                    "keys": [key(i + 1).did],
                    "roles": ["admin"] if i == 0 else [],
                }
                for i in range(orgs)
            ],
            "threshold": {"num": 2, "den": 3},
            "proposal_ttl_blocks": 50,
        },
        "validators": [{"did": key(validator).did, "power": 10, "name": "validator-1"}],
    }


class Chain:
    """A ledger driven block by block, with per-key nonces tracked for the test."""

    def __init__(self, genesis: Genesis, contracts: Any = None, *, validator: int = 9) -> None:
        from salus.core.ledger import Ledger

        self.genesis = genesis
        self.ledger = Ledger.from_genesis(genesis, contracts)
        self.validator = key(validator)
        self.nonces: dict[bytes, int] = {}
        self.time_ms = genesis.genesis_time_ms

    def tx(self, signer: Signer, contract: str, action: str, args: dict[str, Any]) -> Any:
        from salus.core.tx import Transaction, sign_transaction

        nonce = self.nonces.get(signer.public_key, 0) + 1
        self.nonces[signer.public_key] = nonce
        return sign_transaction(
            Transaction(self.genesis.chain_id, signer.public_key, nonce, contract, action, args),
            signer,
        )

    def block(self, *txs: Any) -> Any:
        """Execute and commit one block; returns the PendingBlock."""
        self.time_ms += 1000
        pending = self.ledger.execute_block(
            list(txs), time_ms=self.time_ms, proposer=self.validator.public_key
        )
        self.ledger.commit(pending)
        return pending

    def run(self, signer: Signer, contract: str, action: str, args: dict[str, Any]) -> Any:
        """One transaction in its own block; returns its TxResult."""
        return self.block(self.tx(signer, contract, action, args)).results[0]
