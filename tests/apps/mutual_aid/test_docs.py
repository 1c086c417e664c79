"""The docs show the diagram the transition table gives; the package surface is explicit."""

from __future__ import annotations

import importlib
from pathlib import Path

import salus.apps.mutual_aid as mutual_aid
from salus.apps.mutual_aid.diagram import BEGIN, END, diagram_in, docs_block, render_claim_diagram

DOCS = Path(__file__).resolve().parents[3] / "docs" / "mutual-aid.md"
MODULES = (
    "_claim_actions",
    "_common",
    "_governance",
    "attestation",
    "claims",
    "contract",
    "diagram",
    "records",
    "rules",
    "sharing",
    "statement",
)


def test_docs_diagram_matches_the_transition_table() -> None:
    shown = diagram_in(DOCS.read_text(encoding="utf-8"))
    assert shown == render_claim_diagram(), (
        "docs/mutual-aid.md is stale; replace its diagram block with the output of: "
        '.venv/bin/python -c "from salus.apps.mutual_aid.diagram import docs_block; '
        'print(docs_block())"'
    )
    assert docs_block().startswith(BEGIN) and docs_block().endswith(END)


def test_diagram_shows_every_transition() -> None:
    diagram = render_claim_diagram()
    for move in mutual_aid.CLAIM_TRANSITIONS:
        assert f"{move.source or '[*]'} --> {move.target}: {move.action} ({move.by})" in diagram


def test_package_exports() -> None:
    assert mutual_aid.__all__ == [
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
    for name in mutual_aid.__all__:
        assert hasattr(mutual_aid, name), name
    for module_name in MODULES:
        module = importlib.import_module(f"salus.apps.mutual_aid.{module_name}")
        assert module.__all__, module_name
        for name in module.__all__:
            assert hasattr(module, name), (module_name, name)
