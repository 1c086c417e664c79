"""The claim state diagram, rendered from the transition table as Mermaid text.

docs/mutual-aid.md embeds :func:`docs_block` (the diagram between :data:`BEGIN` and
:data:`END` markers); a test fails when the two disagree. Print a fresh block with::

    .venv/bin/python -c "from salus.apps.mutual_aid.diagram import docs_block; print(docs_block())"
"""

from __future__ import annotations

import re
from typing import Final

from salus.apps.mutual_aid.claims import CLAIM_ACTIVITIES, CLAIM_TRANSITIONS, FINAL_STATES

__all__ = ["BEGIN", "END", "diagram_in", "docs_block", "render_claim_diagram"]

BEGIN: Final = "<!-- claim-diagram:begin (generated from CLAIM_TRANSITIONS; do not edit) -->"
END: Final = "<!-- claim-diagram:end -->"
# Mermaid ends a statement at ';' and splits a label at ':'; keep labels free of both.
_UNSAFE = re.compile(r"[;:]")


def _label(text: str) -> str:
    return _UNSAFE.sub(",", text)


def render_claim_diagram() -> str:
    """A Mermaid ``stateDiagram-v2`` of every claim transition, as a fenced block."""
    lines = ["```mermaid", "stateDiagram-v2"]
    for move in CLAIM_TRANSITIONS:
        source = move.source or "[*]"
        lines.append(
            f"    {source} --> {move.target}: {_label(f'{move.action} ({move.by}), {move.when}')}"
        )
    for state in sorted(FINAL_STATES):
        lines.append(f"    {state} --> [*]")
    by_state: dict[str, list[str]] = {}
    for activity, (statuses, who, _) in CLAIM_ACTIVITIES.items():
        for status in statuses:
            by_state.setdefault(status, []).append(f"{activity} ({who})")
    for state in sorted(by_state):
        lines.append(f"    note right of {state}")
        lines.extend(f"        {_label(entry)}" for entry in by_state[state])
        lines.append("    end note")
    lines.append("```")
    return "\n".join(lines)


def diagram_in(markdown: str) -> str:
    """The diagram block between the markers of a Markdown document (ValueError if none)."""
    start = markdown.find(BEGIN)
    end = markdown.find(END)
    if start < 0 or end < start:
        raise ValueError("the document has no claim diagram markers")
    return markdown[start + len(BEGIN) : end].strip()


def docs_block() -> str:
    """The diagram with its markers, as docs/mutual-aid.md holds it."""
    return f"{BEGIN}\n{render_claim_diagram()}\n{END}"
