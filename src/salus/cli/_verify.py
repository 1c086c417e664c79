"""``salus verify``: check a proof bundle offline against a genesis you hold.

Exit status: 0 valid, 1 invalid, 2 unusable input (missing file, unreadable genesis).
No network access happens here; the one verifier in ``salus.core.proofs`` decides.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import click

from salus.cli._common import (
    InputError,
    echo_json,
    example,
    genesis_option,
    json_option,
    load_genesis,
    to_json_text,
)
from salus.core.proofs import Verdict, verify_bundle

__all__ = ["verify"]


def _time(ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fact_lines(facts: dict[str, Any]) -> list[str]:
    lines = [
        f"  chain        {facts['chain_id']}",
        f"  block        {facts['height']} ({facts['block_hash']})",
        f"  block time   {_time(facts['time_ms'])}",
    ]
    if facts.get("engine") == "cometbft":
        updates = facts.get("validator_updates") or 0
        trust = "the genesis validators" + (
            f" and {updates} verified validator-set change(s)" if updates else ""
        )
        lines.append(
            f"  signed by    validators with {facts['signed_power']} of "
            f"{facts['total_power']} voting power (> 2/3), trusted from {trust}"
        )
    else:
        lines.append(f"  signed by    {facts['proposer']} (a genesis validator)")
    if facts["kind"] == "tx":
        tx, result = facts["tx"], facts["result"]
        args = to_json_text(tx["args"], indent=None)
        outcome = "applied" if result["ok"] else f"rejected ({result['code']}): {result['reason']}"
        lines += [
            f"  transaction  {facts['tx_id']} at index {facts['index']}",
            f"  signer       {tx['signer']} (nonce {tx['nonce']})",
            f"  call         {tx['contract']}.{tx['action']} {args}",
            f"  outcome      {outcome}",
        ]
        lines += [
            f"  event        {event['contract']}.{event['type']} {event['subject'] or ''}".rstrip()
            for event in result["events"]
        ]
    else:
        value = to_json_text(facts["value"], indent=None) if facts["present"] else "(absent)"
        lines += [
            f"  state key    {facts['key']}",
            f"  value        {value}",
            f"  state root   {facts['state_root']}",
        ]
    return lines


def _report(verdict: Verdict) -> None:
    if verdict.valid:
        click.echo(f"valid: {verdict.reason}")
        for line in _fact_lines(verdict.facts):
            click.echo(line)
    else:
        click.echo(f"invalid at step {verdict.step}: {verdict.reason}")


@click.command(
    epilog=example(
        "salus verify proof.cbor --genesis genesis.json",
        "salus verify proof.cbor --genesis genesis.json --json",
    )
)
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@genesis_option
@json_option
@click.pass_context
def verify(ctx: click.Context, bundle: Path, genesis_path: Path, as_json: bool) -> None:
    """Verify a proof bundle offline, with no node: exit 0 if valid, 1 if not.

    Checks the block header's chain and validator signature against the genesis,
    then the transaction's inclusion (or the state key's value) against that header.
    """
    genesis = load_genesis(genesis_path)
    try:
        data = bundle.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {bundle}: {exc.strerror}") from None
    verdict = verify_bundle(data, genesis)
    if as_json:
        echo_json(verdict.to_json())
    else:
        _report(verdict)
    ctx.exit(0 if verdict.valid else 1)
