"""``salus tx``: build, sign and submit transactions (signing never leaves this machine)."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import IO, Any

import click

from salus.cli._common import (
    CommandError,
    SalusGroup,
    echo_json,
    example,
    get_passphrase,
    node_option,
    open_client,
    parse_args_json,
    passphrase_option,
)
from salus.client import ApiError, SalusClient
from salus.core.crypto import public_key_from_did
from salus.core.tx import SignedTransaction, Transaction, sign_transaction
from salus.keystore import load_key

__all__ = ["tx"]

_TX_FIELDS = ("chain_id", "signer", "nonce", "contract", "action", "args")

_args_option = click.option(
    "--args",
    "args_text",
    default="{}",
    show_default=True,
    metavar="JSON|@FILE",
    help="Action arguments: a JSON object, or @file.json.",
)
_wait_option = click.option(
    "--wait", is_flag=True, help="Wait until committed or rejected; exit 1 if rejected."
)
_timeout_option = click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0, 3600),
    help="Seconds to wait with --wait.",
)


@click.group(
    cls=SalusGroup,
    epilog=example(
        "salus tx send --key alice.key --contract identity --action approve \\",
        "    --args '{\"proposal\": 1}' --wait",
    ),
)
def tx() -> None:
    """Build, sign and submit transactions."""


def _source_name(stream: IO[Any]) -> str:
    name = getattr(stream, "name", "<stdin>")
    return "standard input" if name in ("<stdin>", "-") or not isinstance(name, str) else name


def _write_output(out: IO[str] | None, text: str) -> None:
    if out is None:
        click.echo(text)
    else:
        out.write(text + "\n")


@tx.command(
    "build",
    epilog=example(
        "salus tx build --chain-id relief-net --signer did:key:z6Mk... --nonce 1 \\",
        "    --contract identity --action approve --args '{\"proposal\": 1}' -o tx.json",
    ),
)
@click.option("--chain-id", required=True, help="The network's chain id.")
@click.option("--signer", required=True, metavar="DID", help="did:key of the signer.")
@click.option("--nonce", required=True, type=click.IntRange(1), help="The signer's next nonce.")
@click.option("--contract", required=True, help="Contract name, e.g. identity.")
@click.option("--action", required=True, help="Action name, e.g. propose.")
@_args_option
@click.option("-o", "--out", type=click.File("w"), help="Write to FILE instead of stdout.")
def tx_build(
    chain_id: str,
    signer: str,
    nonce: int,
    contract: str,
    action: str,
    args_text: str,
    out: IO[str] | None,
) -> None:
    """Build an unsigned transaction as JSON (to sign elsewhere with 'salus tx sign')."""
    transaction = Transaction(
        chain_id, public_key_from_did(signer), nonce, contract, action, parse_args_json(args_text)
    )
    _write_output(out, json.dumps(transaction.to_json(), indent=2, ensure_ascii=False))


def _transaction_from(data: Any, source: str) -> Transaction:
    if not isinstance(data, dict):
        raise CommandError(f"{source} must hold a JSON object (from 'salus tx build')")
    missing = [name for name in _TX_FIELDS if name not in data]
    if missing:
        raise CommandError(f"{source} is missing {', '.join(missing)}")
    extra = sorted(set(data) - set(_TX_FIELDS))
    if extra:
        raise CommandError(f"{source} has unknown fields {', '.join(extra)}")
    return Transaction(
        data["chain_id"],
        public_key_from_did(data["signer"]),
        data["nonce"],
        data["contract"],
        data["action"],
        data["args"],
    )


def _signed_json(stx: SignedTransaction) -> str:
    return json.dumps(
        {"id": stx.id_hex, "tx": base64.b64encode(stx.envelope).decode("ascii")}, indent=2
    )


@tx.command(
    "sign",
    epilog=example(
        "salus tx sign --key alice.key tx.json -o signed.json",
        "salus tx build ... | salus tx sign --key alice.key - | salus tx submit -",
    ),
)
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Encrypted key file of the signer.",
)
@click.argument("tx_file", type=click.File("r"), metavar="TXFILE|-")
@click.option("-o", "--out", type=click.File("w"), help="Write to FILE instead of stdout.")
@passphrase_option
def tx_sign(
    key_file: Path, tx_file: IO[str], out: IO[str] | None, passphrase_file: Path | None
) -> None:
    """Sign an unsigned transaction; prints {"id", "tx": base64 envelope}."""
    source = _source_name(tx_file)
    try:
        data = json.loads(tx_file.read())
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    transaction = _transaction_from(data, source)
    signer = load_key(key_file, get_passphrase(passphrase_file, what=str(key_file)))
    if signer.public_key != transaction.signer:
        raise CommandError(
            f"{key_file} holds the key of {signer.did}, but the transaction's signer is "
            f"{transaction.signer_did}"
        )
    stx = sign_transaction(transaction, signer)
    _write_output(out, _signed_json(stx))
    if out is not None:
        click.echo(f"signed transaction {stx.id_hex}", err=True)


def _read_envelope(raw: bytes, source: str) -> bytes:
    """A signed envelope from 'salus tx sign' JSON, bare base64, or raw CBOR bytes."""
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return raw  # raw CBOR: an envelope starts with 0x82, never valid UTF-8
    if not text:
        raise CommandError(f"{source} is empty")
    encoded: Any = text
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CommandError(f"{source} is not valid JSON: {exc.msg}") from None
        encoded = data.get("tx") if isinstance(data, dict) else None
        if not isinstance(encoded, str):
            raise CommandError(f"{source} has no \"tx\" field (expected 'salus tx sign' output)")
    try:
        return base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CommandError(
            f"{source} is not a signed transaction (JSON from 'salus tx sign', base64 or CBOR)"
        ) from None


def _submit_and_report(client: SalusClient, envelope: bytes, wait: bool, timeout: float) -> None:
    try:
        result = client.submit_envelope(envelope)
    except ApiError as exc:
        if exc.tx_id is not None:
            raise CommandError(
                f"the node refused transaction {exc.tx_id}: {exc.message} ({exc.code})"
            ) from None
        raise
    if not wait:
        echo_json(result)
        return
    status = client.wait_for(result["id"], timeout=timeout)
    echo_json(status)
    if status["status"] != "committed":
        raise CommandError(
            f"transaction {status['id']} was rejected in block {status.get('height')}: "
            f"{status.get('reason')}"
        )
    click.echo(f"committed in block {status.get('height')}", err=True)


@tx.command(
    "submit",
    epilog=example(
        "salus tx submit signed.json --wait",
        "salus tx submit --node http://10.0.0.5:8080 - < signed.json",
    ),
)
@node_option
@click.argument("tx_file", type=click.File("rb"), metavar="FILE|-")
@_wait_option
@_timeout_option
def tx_submit(node_url: str, tx_file: IO[bytes], wait: bool, timeout: float) -> None:
    """Submit a signed transaction (from 'salus tx sign') to a node."""
    source = _source_name(tx_file)
    envelope = _read_envelope(tx_file.read(), source)
    with open_client(node_url) as client:
        _submit_and_report(client, envelope, wait, timeout)


@tx.command(
    "send",
    epilog=example(
        "SALUS_PASSPHRASE=... salus tx send --key alice.key --contract identity \\",
        "    --action propose --args @proposal.json --wait",
    ),
)
@node_option
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Encrypted key file of the signer.",
)
@click.option("--contract", required=True, help="Contract name, e.g. identity.")
@click.option("--action", required=True, help="Action name, e.g. propose.")
@_args_option
@click.option(
    "--nonce", type=click.IntRange(1), help="Nonce to use (default: the node's next nonce)."
)
@_wait_option
@_timeout_option
@passphrase_option
def tx_send(
    node_url: str,
    key_file: Path,
    contract: str,
    action: str,
    args_text: str,
    nonce: int | None,
    wait: bool,
    timeout: float,
    passphrase_file: Path | None,
) -> None:
    """Build, sign and submit in one step (asks the node for chain id and nonce)."""
    args = parse_args_json(args_text)
    signer = load_key(key_file, get_passphrase(passphrase_file, what=str(key_file)))
    with open_client(node_url) as client:
        stx = client.sign(signer, contract, action, args, nonce=nonce)
        _submit_and_report(client, stx.envelope, wait, timeout)
