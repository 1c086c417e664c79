"""The demo consortium and its governance activity (the applications seed in their own modules).

``salus demo`` creates a small consortium, starts a node and then calls
:func:`ensure_seeded`, which drives the node through its HTTP API exactly as real
members would — every change is a transaction signed locally with a member's key:

1. ``health-ministry`` proposes admitting ``open-university``; ``city-hospital``
   approves, which reaches the 2-of-3 threshold and executes the proposal;
2. a role is granted to an individual's did:key (the "volunteer"), approved by
   three of the four members, the new university among them;
3. the volunteer's key, which holds no ``member`` role, tries to open a proposal:
   the node refuses it at admission and says why;
4. ``red-cross`` approves the proposal that already executed: the transaction is
   included in a block but rejected by the contract, with the reason on-chain;
5. a synthetic document goes into the off-chain blob store, and ``red-cross``
   anchors its SHA-256 with the notary contract, tying the off-chain document to
   a block time anyone can prove.

What was done is written to ``HOME/demo.json`` so seeding happens once per home.
Demo keys are encrypted with the passphrase :data:`DEMO_PASSPHRASE`; they exist to
be shown, never to protect anything.
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from salus.client import ApiError, SalusClient
from salus.core.crypto import Signer
from salus.errors import SalusError
from salus.keys import new_signer
from salus.keystore import load_key, save_key

__all__ = [
    "DEMO_CHAIN_ID",
    "DEMO_ORGANISATIONS",
    "DEMO_PASSPHRASE",
    "DEMO_THRESHOLD",
    "GRANTED_ROLE",
    "NEW_ORGANISATION",
    "DemoSeed",
    "TxRunner",
    "demo_guide",
    "demo_key",
    "ensure_seeded",
    "is_demo_home",
    "key_path",
    "load_seed",
    "seed_demo",
]

DEMO_PASSPHRASE = "demo"
DEMO_CHAIN_ID = "salus-demo"
# (id, display name, roles) of the founding organisations.
DEMO_ORGANISATIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("health-ministry", "Health Ministry", ("admin",)),
    ("city-hospital", "City Hospital", ()),
    ("red-cross", "Red Cross", ()),
)
DEMO_THRESHOLD = (2, 3)
NEW_ORGANISATION = "open-university"
VOLUNTEER_KEY = "volunteer"
GRANTED_ROLE = "assessor"
SEED_MARKER = "demo.json"
DEMO_DOCUMENT = (
    b'{"type": "demo-document", "title": "Synthetic training certificate scan", '
    b'"note": "Demo data only: it contains no personal information."}\n'
)


@dataclass(frozen=True, slots=True)
class DemoSeed:
    """What seeding did: the ids to look at in the explorer and the CLI."""

    add_org_proposal: int
    add_org_propose_tx: str
    add_org_approve_tx: str
    volunteer_did: str
    grant_proposal: int
    grant_txs: tuple[str, ...]
    refused_tx: str
    refused_reason: str
    rejected_tx: str
    rejected_reason: str
    rejected_height: int
    blob_address: str
    anchor_tx: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["grant_txs"] = list(self.grant_txs)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DemoSeed:
        return cls(**{**data, "grant_txs": tuple(data["grant_txs"])})


def key_path(home: Path, name: str) -> Path:
    return home / "keys" / f"{name}.key"


def is_demo_home(home: Path) -> bool:
    """Whether ``home`` holds a demo network: the demo chain id and the demo's keys."""
    try:
        chain_id = json.loads((home / "genesis.json").read_text(encoding="utf-8")).get("chain_id")
    except (OSError, ValueError, AttributeError):
        return False
    return chain_id == DEMO_CHAIN_ID and all(
        key_path(home, org_id).is_file() for org_id, _, _ in DEMO_ORGANISATIONS
    )


def load_seed(home: Path) -> DemoSeed | None:
    """The record of a previous seeding of ``home``, if any."""
    try:
        data = json.loads((home / SEED_MARKER).read_text(encoding="utf-8"))
        return DemoSeed.from_json(data)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError, KeyError) as exc:
        raise SalusError(f"{home / SEED_MARKER} is unreadable ({exc}); use --fresh") from None


def demo_key(home: Path, name: str, passphrase: str) -> Signer:
    """Load a demo key, creating it (fast KDF preset: demo keys protect nothing)."""
    path = key_path(home, name)
    if path.exists():
        return load_key(path, passphrase)
    signer = new_signer()
    save_key(path, signer, passphrase, strength="interactive")
    return signer


class TxRunner:
    """Sends one signed transaction at a time and waits until it is final, logging each step."""

    def __init__(self, client: SalusClient, timeout: float, log: Callable[[str], None]) -> None:
        self.client = client
        self.timeout = timeout
        self.log = log

    def run(
        self,
        step: str,
        signer: Signer,
        action: str,
        args: dict[str, Any],
        *,
        expect: str,
        contract: str = "identity",
    ) -> dict[str, Any]:
        """Send one transaction and wait until it is final, as ``expect``."""
        submitted = self.client.send(signer, contract, action, args)
        status = self.client.wait_for(submitted["id"], timeout=self.timeout)
        if status["status"] != expect:
            raise SalusError(
                f"demo seeding failed at '{step}': transaction {submitted['id']} is "
                f"{status['status']}, expected {expect} ({status.get('reason') or 'no reason'})"
            )
        self.log(f"  {step}: {status['status']} in block {status.get('height')}")
        return status


def _proposal_number(status: dict[str, Any]) -> int:
    for event in status.get("events", []):
        if event.get("type") == "proposed":
            return int(str(event["subject"]).removeprefix("proposal/"))
    raise SalusError(f"transaction {status['id']} opened no proposal")


def seed_demo(
    client: SalusClient,
    home: Path,
    *,
    passphrase: str = DEMO_PASSPHRASE,
    timeout: float = 30.0,
    log: Callable[[str], None] = lambda line: None,
) -> DemoSeed:
    """Drive the demo activity through ``client``'s node and record it in ``home``."""
    ministry = load_key(key_path(home, "health-ministry"), passphrase)
    hospital = load_key(key_path(home, "city-hospital"), passphrase)
    red_cross = load_key(key_path(home, "red-cross"), passphrase)
    university = demo_key(home, NEW_ORGANISATION, passphrase)
    volunteer = demo_key(home, VOLUNTEER_KEY, passphrase)
    seeder = TxRunner(client, timeout, log)

    proposed = seeder.run(
        f"propose adding {NEW_ORGANISATION}",
        ministry,
        "propose",
        {
            "kind": "add_org",
            "params": {
                "org": NEW_ORGANISATION,
                "name": "Open University",
                "keys": [university.did],
                "roles": ["accreditor"],
            },
            "note": "Admit the Open University to issue learning records",
        },
        expect="committed",
    )
    add_org = _proposal_number(proposed)
    approved = seeder.run(
        f"city-hospital approves proposal {add_org}",
        hospital,
        "approve",
        {"proposal": add_org},
        expect="committed",
    )

    granted = seeder.run(
        f"propose granting '{GRANTED_ROLE}' to a volunteer",
        ministry,
        "propose",
        {
            "kind": "grant_role",
            "params": {"subject": volunteer.did, "role": GRANTED_ROLE},
            "note": "A volunteer claims assessor for the mutual-aid plan",
        },
        expect="committed",
    )
    grant = _proposal_number(granted)
    grant_txs = [granted["id"]]
    for name, signer in (("city-hospital", hospital), (NEW_ORGANISATION, university)):
        status = seeder.run(
            f"{name} approves proposal {grant}",
            signer,
            "approve",
            {"proposal": grant},
            expect="committed",
        )
        grant_txs.append(status["id"])

    # The volunteer is an individual, not a member: the node refuses at admission.
    try:
        refused = client.send(
            volunteer,
            "identity",
            "propose",
            {"kind": "remove_org", "params": {"org": "red-cross"}},
        )
    except ApiError as exc:
        if exc.tx_id is None:
            raise
        refused_tx, refused_reason = exc.tx_id, exc.message
        log(f"  volunteer tries to propose: refused ({exc.code})")
    else:
        raise SalusError(f"demo seeding failed: transaction {refused['id']} was not refused")

    # Passes admission (red-cross is a member), then the contract rejects it in a block.
    rejected = seeder.run(
        f"red-cross approves executed proposal {add_org}",
        red_cross,
        "approve",
        {"proposal": add_org},
        expect="rejected",
    )

    blob = client.put_blob(DEMO_DOCUMENT)
    log(f"  stored a document off-chain: blob {blob}")
    anchored = seeder.run(
        "red-cross anchors the document's hash",
        red_cross,
        "anchor",
        {"digest": blob, "note": "situation report, stored off-chain"},
        expect="committed",
        contract="notary",
    )

    seed = DemoSeed(
        add_org_proposal=add_org,
        add_org_propose_tx=proposed["id"],
        add_org_approve_tx=approved["id"],
        volunteer_did=volunteer.did,
        grant_proposal=grant,
        grant_txs=tuple(grant_txs),
        refused_tx=refused_tx,
        refused_reason=refused_reason,
        rejected_tx=rejected["id"],
        rejected_reason=str(rejected.get("reason", "")),
        rejected_height=int(rejected["height"]),
        blob_address=blob,
        anchor_tx=anchored["id"],
    )
    _write_marker(home / SEED_MARKER, seed)
    return seed


def ensure_seeded(
    client: SalusClient,
    home: Path,
    *,
    passphrase: str = DEMO_PASSPHRASE,
    timeout: float = 30.0,
    log: Callable[[str], None] = lambda line: None,
) -> tuple[DemoSeed, bool]:
    """Seed ``home`` unless it was seeded before; returns the record and whether it seeded now."""
    previous = load_seed(home)
    if previous is not None:
        return previous, False
    return seed_demo(client, home, passphrase=passphrase, timeout=timeout, log=log), True


def _write_marker(path: Path, seed: DemoSeed) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".salus-demo-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(seed.to_json(), handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def demo_guide(home: Path, url: str, seed: DemoSeed) -> str:
    """Where to look and what to try, as exact commands for this home and URL."""
    home = home.resolve()
    q = shlex.quote
    node = f"--node {q(url)}"
    genesis = q(str(home / "genesis.json"))
    red_cross_key = q(str(key_path(home, "red-cross")))
    hospital_key = q(str(key_path(home, "city-hospital")))
    grant_args = json.dumps(
        {"kind": "grant_role", "params": {"subject": seed.volunteer_did, "role": "juror"}}
    )
    lines = [
        "Open:",
        f"  explorer      {url}/explorer/",
        f"  API           {url}/v1/status",
        f"  API schema    {url}/openapi.json",
        "",
        "What the demo did (all through signed transactions over the API):",
        f"  - proposal {seed.add_org_proposal}: health-ministry proposed admitting "
        f"{NEW_ORGANISATION}; city-hospital approved; it executed",
        f"  - proposal {seed.grant_proposal}: role '{GRANTED_ROLE}' granted to the volunteer "
        f"{seed.volunteer_did}",
        f"  - refused at admission, tx {seed.refused_tx}:",
        f"      {seed.refused_reason}",
        "      (a refusal is not on-chain; the node forgets it when it restarts)",
        f"  - included in block {seed.rejected_height} but rejected, tx {seed.rejected_tx}:",
        f"      {seed.rejected_reason}",
        f"  - off-chain document: {url}/v1/blobs/{seed.blob_address}",
        f"      its hash anchored on-chain by red-cross (notary), tx {seed.anchor_tx}",
        "",
        f'Demo keys are in {home / "keys"}, encrypted with the passphrase "{DEMO_PASSPHRASE}".',
        "That passphrase is for this demo only: never protect a real key with it.",
        "",
        "Try, in another terminal:",
        f"  salus query {node} status",
        f"  salus query {node} state identity org/{NEW_ORGANISATION}",
        f"  salus query {node} account {seed.volunteer_did}",
        f"  salus query {node} tx {seed.rejected_tx}",
        f"  salus query {node} events --contract identity --limit 5",
        f"  SALUS_PASSPHRASE={DEMO_PASSPHRASE} salus tx send {node} --key {red_cross_key} "
        f"--contract identity --action propose --args {q(grant_args)} --wait",
        f"  # then approve it: it is proposal {seed.grant_proposal + 1} unless someone "
        "proposed meanwhile (see the 'proposed' event it printed)",
        f"  SALUS_PASSPHRASE={DEMO_PASSPHRASE} salus tx send {node} --key {hospital_key} "
        f"--contract identity --action approve --args "
        f"{q(json.dumps({'proposal': seed.grant_proposal + 1}))} --wait",
        f"  salus query {node} state notary anchor/{seed.blob_address}",
        f"  salus proof {node} state identity org/{NEW_ORGANISATION} -o proof.cbor",
        f"  salus proof {node} tx {seed.add_org_approve_tx} -o tx-proof.cbor",
        "",
        "Then stop the node (Ctrl+C here) and check the proofs offline, with no node running:",
        f"  salus verify proof.cbor --genesis {genesis}",
        f"  salus verify tx-proof.cbor --genesis {genesis}",
    ]
    return "\n".join(lines)
