"""Demo activity of the applications, seeded after the consortium's, one application at a time.

Each application contributes a :class:`DemoApp`: a ``seed`` function that drives the
node through its HTTP API with signed transactions (exactly as its real users would)
and returns a JSON record of what it did, and a ``guide`` function that turns that
record into lines of "where to look and what to try".

Each application's record is written to ``HOME/demo-<name>.json`` once it seeded, so
a demo home created before an application existed still gets that application's
activity on its next start, and nothing is seeded twice. An application that fails
to seed raises :class:`~salus.errors.SalusError` naming the step; its marker is not
written, so the next start tries again (what it committed before failing stays on the
ledger, as it would for any real client).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salus.client import SalusClient
from salus.core.crypto import Signer
from salus.demo._consortium import DEMO_PASSPHRASE, TxRunner, demo_key
from salus.errors import SalusError

__all__ = ["DemoApp", "DemoContext", "app_marker", "load_app_records", "seed_apps"]


@dataclass(frozen=True, slots=True)
class DemoContext:
    """What an application's demo seeding may use: the node, the demo home, its keys."""

    client: SalusClient
    home: Path
    url: str
    passphrase: str
    runner: TxRunner
    log: Callable[[str], None]

    def key(self, name: str) -> Signer:
        """The demo key ``name`` (created on first use, in ``HOME/keys``)."""
        return demo_key(self.home, name, self.passphrase)


@dataclass(frozen=True, slots=True)
class DemoApp:
    """One application's demo: how to seed it and how to describe what was seeded."""

    name: str
    title: str
    seed: Callable[[DemoContext], dict[str, Any]]
    guide: Callable[[Path, str, dict[str, Any]], list[str]]


def app_marker(home: Path, name: str) -> Path:
    """Where the record of application ``name``'s demo seeding is kept."""
    return home / f"demo-{name}.json"


def load_app_records(home: Path, apps: tuple[DemoApp, ...]) -> dict[str, dict[str, Any]]:
    """The records of the applications already seeded in ``home``."""
    records: dict[str, dict[str, Any]] = {}
    for app in apps:
        path = app_marker(home, app.name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except ValueError as exc:
            raise SalusError(f"{path} is unreadable ({exc}); use --fresh") from None
        if not isinstance(data, dict):
            raise SalusError(f"{path} is not a JSON object; use --fresh")
        records[app.name] = data
    return records


def seed_apps(
    client: SalusClient,
    home: Path,
    url: str,
    apps: tuple[DemoApp, ...],
    *,
    passphrase: str = DEMO_PASSPHRASE,
    timeout: float = 30.0,
    log: Callable[[str], None] = lambda line: None,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Seed every application of ``apps`` not seeded yet; all records, and the names seeded now.

    ``url`` is the node's public base URL, written into what the demo issues (links in
    credentials, say). Call it after the consortium is seeded: applications build on
    its organisations and roles.
    """
    records = load_app_records(home, apps)
    context = DemoContext(
        client=client,
        home=home,
        url=url.rstrip("/"),
        passphrase=passphrase,
        runner=TxRunner(client, timeout, log),
        log=log,
    )
    seeded: list[str] = []
    for app in apps:
        if app.name in records:
            continue
        log(f"Seeding the {app.title} demo")
        record = app.seed(context)
        _write_json(app_marker(home, app.name), record)
        records[app.name] = record
        seeded.append(app.name)
    return records, seeded


def _write_json(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".salus-demo-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
