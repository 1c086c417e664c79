"""Mutual-aid plans (issue #6): members share the cost of approved critical-illness claims.

- :mod:`~salus.apps.mutual_aid.contract`: the ``mutual_aid`` contract (plans, membership,
  claims, sharing periods, payouts; rule changes in :mod:`._governance`, claim actions
  in :mod:`._claim_actions`).
- :mod:`~salus.apps.mutual_aid.rules`: plan rules, covered conditions, money and dates.
- :mod:`~salus.apps.mutual_aid.attestation`: operator-signed eligibility attestations.
- :mod:`~salus.apps.mutual_aid.claims`: the claim transition table; jury seed and draw.
- :mod:`~salus.apps.mutual_aid.sharing`: exact integer cost sharing; members' shares.
- :mod:`~salus.apps.mutual_aid.statement`: statement packages, verified offline.
- :mod:`~salus.apps.mutual_aid.records`: state keys and read helpers (balances).
- :mod:`~salus.apps.mutual_aid.diagram`: the claim state diagram (Mermaid) from the table.
"""

from salus.apps.mutual_aid.attestation import Attestation, sign_attestation, verify_attestation
from salus.apps.mutual_aid.claims import (
    CLAIM_ACTIVITIES,
    CLAIM_STATES,
    CLAIM_TRANSITIONS,
    Transition,
    seed_commitment,
)
from salus.apps.mutual_aid.contract import MutualAidContract
from salus.apps.mutual_aid.diagram import render_claim_diagram
from salus.apps.mutual_aid.records import (
    ASSESSOR,
    MUTUAL_AID,
    OPERATOR,
    claim_key,
    member_balance,
    member_key,
    period_key,
    plan_key,
)
from salus.apps.mutual_aid.rules import (
    CURRENCY_MINOR_UNITS,
    example_conditions,
    example_rules,
    format_money,
)
from salus.apps.mutual_aid.sharing import PeriodSplit, member_share, split_period
from salus.apps.mutual_aid.statement import (
    Statement,
    StatementVerdict,
    build_statement,
    compute_statement,
    encode_statement,
    statement_keys,
    verify_statement,
)

__all__ = [
    "ASSESSOR",
    "CLAIM_ACTIVITIES",
    "CLAIM_STATES",
    "CLAIM_TRANSITIONS",
    "CURRENCY_MINOR_UNITS",
    "MUTUAL_AID",
    "OPERATOR",
    "Attestation",
    "MutualAidContract",
    "PeriodSplit",
    "Statement",
    "StatementVerdict",
    "Transition",
    "build_statement",
    "claim_key",
    "compute_statement",
    "encode_statement",
    "example_conditions",
    "example_rules",
    "format_money",
    "member_balance",
    "member_key",
    "member_share",
    "period_key",
    "plan_key",
    "render_claim_diagram",
    "seed_commitment",
    "sign_attestation",
    "split_period",
    "statement_keys",
    "verify_attestation",
    "verify_statement",
]
