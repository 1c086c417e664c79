"""The demo consortium and its seeded activity, as library functions.

``salus demo`` (and ``salus testnet up --seed-demo``) create a small consortium,
start its node(s) and then:

1. :func:`ensure_seeded` drives the consortium's governance activity (admitting an
   organisation, granting a role, a refusal and a rejection, a notarised document);
2. :func:`seed_apps` seeds each application of :data:`DEMO_APPS` that is not seeded
   yet, each through its own signed transactions (see the modules named there);
3. :func:`demo_guide` prints where to look and what to try.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from salus.demo._apps import DemoApp, DemoContext, app_marker, load_app_records, seed_apps
from salus.demo._consortium import (
    DEMO_CHAIN_ID,
    DEMO_DOCUMENT,
    DEMO_ORGANISATIONS,
    DEMO_PASSPHRASE,
    DEMO_THRESHOLD,
    GRANTED_ROLE,
    NEW_ORGANISATION,
    DemoSeed,
    TxRunner,
    demo_key,
    ensure_seeded,
    is_demo_home,
    key_path,
    load_seed,
    seed_demo,
)
from salus.demo._consortium import demo_guide as consortium_guide
from salus.demo._learning import LEARNING_DEMO
from salus.demo._mutual_aid import MUTUAL_AID_DEMO
from salus.demo._outbreak import OUTBREAK_DEMO

__all__ = [
    "DEMO_APPS",
    "DEMO_CHAIN_ID",
    "DEMO_DOCUMENT",
    "DEMO_ORGANISATIONS",
    "DEMO_PASSPHRASE",
    "DEMO_THRESHOLD",
    "GRANTED_ROLE",
    "NEW_ORGANISATION",
    "DemoApp",
    "DemoContext",
    "DemoSeed",
    "TxRunner",
    "app_marker",
    "demo_guide",
    "demo_key",
    "ensure_seeded",
    "is_demo_home",
    "key_path",
    "load_app_records",
    "load_seed",
    "seed_apps",
    "seed_demo",
]

#: The applications the demo seeds, in order (later ones may build on earlier ones).
DEMO_APPS: Final[tuple[DemoApp, ...]] = (LEARNING_DEMO, OUTBREAK_DEMO, MUTUAL_AID_DEMO)


def demo_guide(
    home: Path, url: str, seed: DemoSeed, apps: dict[str, dict[str, Any]] | None = None
) -> str:
    """Where to look and what to try: the consortium's guide, then each seeded application's."""
    sections = [consortium_guide(home, url, seed)]
    for app in DEMO_APPS:
        record = (apps or {}).get(app.name)
        if record is not None:
            sections.append("\n".join(app.guide(home, url, record)))
    return "\n\n".join(sections)
