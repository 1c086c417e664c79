"""Salus applications: each one a contract (plus its off-ledger helpers) on the one ledger.

:func:`network_contracts` is what a node installs when it is not told otherwise: the core
contracts every network runs, then the applications. An application that writes no genesis
state (``learning``, ``mutual_aid`` and ``outbreak`` write none) leaves the genesis state
root unchanged.
"""

from __future__ import annotations

from salus.apps.learning.contract import LearningContract
from salus.apps.mutual_aid.contract import MutualAidContract
from salus.apps.outbreak.contract import OutbreakContract
from salus.core.contract import Contract
from salus.core.ledger import default_contracts

__all__ = ["network_contracts"]


def network_contracts() -> list[Contract]:
    """Fresh instances of the core contracts (identity, notary) and the application contracts."""
    return [*default_contracts(), LearningContract(), MutualAidContract(), OutbreakContract()]
