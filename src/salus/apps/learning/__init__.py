"""Learning records and certificates (issue #5).

- :mod:`salus.apps.learning.contract`: the on-ledger part, the ``learning`` contract
  (accreditation, issuer keys, courses, learning records, certificate batches, status).
"""

from salus.apps.learning.contract import (
    LEARNING,
    LearningContract,
    issuer_status_at,
    key_bound_at,
    status_bits,
)

__all__ = ["LEARNING", "LearningContract", "issuer_status_at", "key_bound_at", "status_bits"]
