"""``salus keys``: create and inspect encrypted key files."""

from __future__ import annotations

from pathlib import Path

import click

from salus.cli._common import SalusGroup, echo_json, example, get_passphrase, passphrase_option
from salus.keys import new_signer
from salus.keystore import load_key, read_did, save_key

__all__ = ["keys"]


@click.group(
    cls=SalusGroup,
    epilog=example("salus keys new --out alice.key", "salus keys show alice.key"),
)
def keys() -> None:
    """Create and inspect encrypted key files."""


@keys.command(
    "new",
    epilog=example(
        "salus keys new --out alice.key",
        "SALUS_PASSPHRASE=... salus keys new --out ci.key --kdf-strength interactive",
    ),
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Key file to write (mode 0600).",
)
@click.option("--force", is_flag=True, help="Replace an existing key file (its key is lost).")
@click.option(
    "--kdf-strength",
    type=click.Choice(["moderate", "interactive"]),
    default="moderate",
    show_default=True,
    help="Argon2id cost (interactive is faster and weaker).",
)
@passphrase_option
def keys_new(out: Path, force: bool, kdf_strength: str, passphrase_file: Path | None) -> None:
    """Generate a new Ed25519 key and save it encrypted; prints its did:key."""
    passphrase = get_passphrase(passphrase_file, what=f"new key {out}", confirm=True)
    signer = new_signer()
    save_key(
        out,
        signer,
        passphrase,
        strength="interactive" if kdf_strength == "interactive" else "moderate",
        overwrite=force,
    )
    click.echo(signer.did)
    click.echo(f"wrote {out}", err=True)


@keys.command(
    "show",
    epilog=example("salus keys show alice.key", "salus keys show alice.key --check --json"),
)
@click.argument("key_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Decrypt the key to prove the passphrase and DID.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@passphrase_option
def keys_show(key_file: Path, check: bool, as_json: bool, passphrase_file: Path | None) -> None:
    """Print the did:key a key file holds (no passphrase needed unless --check)."""
    did = read_did(key_file)
    if check:
        passphrase = get_passphrase(passphrase_file, what=str(key_file))
        did = load_key(key_file, passphrase).did
    if as_json:
        echo_json({"did": did, "file": str(key_file), "checked": check})
    else:
        click.echo(did)
        if check:
            click.echo("passphrase ok; the file holds the key of this DID", err=True)
