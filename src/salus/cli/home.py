"""A node's home directory: genesis, encrypted keys and data, in one known layout.

::

    HOME/genesis.json            the network's genesis (share it; verifiers need it)
    HOME/keys/<org>.key          one encrypted key per founding organisation
    HOME/keys/validator-N.key    the validator keys (the node signs blocks with N=1)
    HOME/data/ledger.sqlite      blocks, transactions, events and state
    HOME/data/blobs/             the off-chain blob store

``genesis.json`` is written last, so a home with a genesis is a complete home.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from salus.core.crypto import Signer
from salus.core.genesis import Genesis, check_org_id, check_role
from salus.errors import GenesisError, SalusError
from salus.keys import new_signer
from salus.keystore import Strength, save_key

__all__ = ["CreatedKey", "NodeHome", "OrganisationPlan", "create_home", "parse_threshold"]

_HOME_ENTRIES = ("genesis.json", "keys", "data", "demo.json")


@dataclass(frozen=True, slots=True)
class OrganisationPlan:
    """A founding organisation to create: id, display name and roles."""

    id: str
    name: str
    roles: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: str) -> OrganisationPlan:
        """Parse ``ID:Name`` or ``ID:Name:role1,role2``; ``ValueError`` names the problem."""
        parts = spec.split(":")
        if len(parts) < 2 or not parts[1].strip():
            raise ValueError(f"{spec!r} is not ID:Name[:role1,role2]")
        org_id = parts[0].strip()
        if len(parts) == 2:
            name, roles_text = parts[1], ""
        else:
            name, roles_text = ":".join(parts[1:-1]), parts[-1]
        check_org_id(org_id)
        roles = tuple(role.strip() for role in roles_text.split(",") if role.strip())
        for role in roles:
            check_role(role)
        return cls(org_id, name.strip(), roles)


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A key written by :func:`create_home`."""

    kind: str  # "organisation" or "validator"
    name: str
    did: str
    path: Path


def parse_threshold(text: str) -> tuple[int, int]:
    """Parse ``M/N`` (e.g. ``2/3``); ``ValueError`` names the problem."""
    num, sep, den = text.partition("/")
    if not sep or not num.strip().isdigit() or not den.strip().isdigit():
        raise ValueError(f"{text!r} is not a fraction like 2/3")
    n, d = int(num), int(den)
    if not 1 <= n <= d:
        raise ValueError(f"{text!r} must be between 1/N and N/N")
    return n, d


@dataclass(frozen=True, slots=True)
class NodeHome:
    """Paths of one home directory."""

    root: Path

    @property
    def genesis_path(self) -> Path:
        return self.root / "genesis.json"

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "ledger.sqlite"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    def key_path(self, name: str) -> Path:
        return self.keys_dir / f"{name}.key"

    @property
    def validator_key_path(self) -> Path:
        return self.key_path("validator-1")

    def exists(self) -> bool:
        return self.genesis_path.is_file()

    def load_genesis(self) -> Genesis:
        """The home's genesis; :class:`GenesisError` if absent or invalid."""
        try:
            text = self.genesis_path.read_bytes()
        except FileNotFoundError:
            raise GenesisError(
                f"{self.root} has no genesis.json; create a network with "
                f"'salus init --home {self.root} ...'"
            ) from None
        except OSError as exc:
            raise GenesisError(f"cannot read {self.genesis_path}: {exc.strerror}") from None
        return Genesis.from_json(text)

    def clear(self) -> None:
        """Remove what :func:`create_home` writes (and nothing else)."""
        for entry in _HOME_ENTRIES:
            path = self.root / entry
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()


def create_home(
    root: Path,
    *,
    chain_id: str,
    organisations: list[OrganisationPlan],
    threshold: tuple[int, int] = (2, 3),
    validators: int = 1,
    passphrase: str,
    genesis_time_ms: int,
    strength: Strength = "moderate",
    force: bool = False,
) -> tuple[Genesis, list[CreatedKey]]:
    """Generate keys, write encrypted key files and ``genesis.json``.

    Refuses (:class:`SalusError`) to touch a non-empty directory unless ``force``,
    in which case the previous genesis, keys and data are deleted first.
    """
    home = NodeHome(root)
    if not organisations:
        raise GenesisError("a network needs at least one organisation (--org)")
    if validators < 1:
        raise GenesisError("a network needs at least one validator")
    if root.exists() and not root.is_dir():
        raise SalusError(f"{root} exists and is not a directory")
    if root.is_dir() and any(root.iterdir()):
        if not force:
            raise SalusError(
                f"{root} already exists and is not empty; choose another --home, "
                "or pass --force to delete its genesis, keys and data"
            )
        home.clear()
    org_keys = {org.id: new_signer() for org in organisations}
    validator_keys = [new_signer() for _ in range(validators)]
    genesis = Genesis.from_data(
        {
            "chain_id": chain_id,
            "genesis_time_ms": genesis_time_ms,
            "consortium": {
                "organisations": [
                    {
                        "id": org.id,
                        "name": org.name,
                        "keys": [org_keys[org.id].did],
                        "roles": list(org.roles),
                    }
                    for org in organisations
                ],
                "threshold": {"num": threshold[0], "den": threshold[1]},
            },
            "validators": [
                {"did": signer.did, "power": 1, "name": f"validator-{n}"}
                for n, signer in enumerate(validator_keys, start=1)
            ],
        }
    )
    home.keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(home.keys_dir, 0o700)
    created: list[CreatedKey] = []
    planned: list[tuple[str, str, Signer]] = [
        ("organisation", org.id, org_keys[org.id]) for org in organisations
    ] + [("validator", f"validator-{n}", s) for n, s in enumerate(validator_keys, start=1)]
    for kind, name, signer in planned:
        path = home.key_path(name)
        save_key(path, signer, passphrase, strength=strength)
        created.append(CreatedKey(kind, name, signer.did, path))
    _write_atomic(home.genesis_path, genesis.to_json().encode("utf-8"))
    return genesis, created


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".salus-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
