"""Salus applications: each one a contract (plus its off-ledger helpers) on the one ledger."""
