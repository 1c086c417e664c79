"""Benchmark: close a sharing period of a 1,000,000-member plan, verify statements offline.

    .venv/bin/python bench/mutual_aid.py [--members 1000000] [--claims 1000]

What it does, with real parts only (the core ledger, its state tree, real Ed25519 keys
and signatures; no node process, no SQLite):
1. Set up (timed as ``setup_s``, not part of the figures that matter): a consortium with
   an operator and an assessor organisation; the operator creates a plan and enrols
   ``--members`` members with bulk ``enrol_members`` transactions of ``--per-tx``
   members, each with its own did:key and an attestation signed by the operator's
   attestor key (which the contract verifies, one Ed25519 check per member).
2. ``--claims`` claims by distinct members go through investigation and public notice
   to ``approved`` (4 transactions each, in blocks of up to 1,000 transactions). One
   more claim is objected to, and its 27-member panel is drawn from the 1,000,000
   members once the objector reveals its seed share (``jury_draw_ms``: that block).
3. The period close (timed, ``period_close_s``): one ``close_period`` transaction in its
   own block: execute, update the state tree, sign the header, commit. ``writes_at_close``
   counts the state keys the block changed (O(claims), whatever the number of members).
4. Statements (timed, ``statement_verify_ms``): for ``--sample`` members, state proofs of
   the period record and the member record are bundled into a statement package;
   each package is verified offline with :func:`verify_statement` and the genesis only
   (median per statement). ``statement_build_ms`` is the median time to build one.
5. Exactness, at full scale: every member's share is derived from its member record and
   the period record; their sum must equal the period's charge to the minor unit
   (``shares_sum_exact``).

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import time
from typing import Any

import cbor2

from salus.apps.mutual_aid import (
    MUTUAL_AID,
    MutualAidContract,
    encode_statement,
    member_share,
    seed_commitment,
    sign_attestation,
    statement_keys,
    verify_statement,
)
from salus.apps.mutual_aid.rules import DAY_MS, example_conditions, example_rules, format_time
from salus.core.contract import state_key
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.core.identity import IdentityContract
from salus.core.ledger import Ledger, PendingBlock
from salus.core.notary import NotaryContract
from salus.core.proofs import make_state_bundle
from salus.core.tx import SignedTransaction, Transaction, sign_transaction

GENESIS_TIME_MS = 1_700_000_000_000
PLAN = "xhb-bench"
MAX_TXS_PER_BLOCK = 1000


def signer(n: int) -> Signer:
    return Signer(n.to_bytes(32, "big"))


VALIDATOR, OPERATOR, ASSESSOR, ATTESTOR = signer(9), signer(3), signer(2), signer(30)


def genesis() -> Genesis:
    def org(org_id: str, key: Signer, roles: list[str]) -> dict[str, Any]:
        return {"id": org_id, "name": org_id.title(), "keys": [key.did], "roles": roles}

    return Genesis.from_data(
        {
            "chain_id": "salus-bench-mutual-aid",
            "genesis_time_ms": GENESIS_TIME_MS,
            "consortium": {
                "organisations": [
                    org("ministry", signer(1), ["admin"]),
                    org("aid-operator", OPERATOR, ["mutual_aid_operator"]),
                    org("assessors", ASSESSOR, ["assessor"]),
                ],
                "threshold": {"num": 2, "den": 3},
                "proposal_ttl_blocks": 50,
            },
            "validators": [{"did": VALIDATOR.did, "power": 10, "name": "validator-1"}],
        }
    )


class Driver:
    """The core ledger driven block by block; every transaction must succeed."""

    def __init__(self, gen: Genesis) -> None:
        self.genesis = gen
        self.ledger = Ledger.from_genesis(
            gen, [IdentityContract(), NotaryContract(), MutualAidContract()]
        )
        self.nonces: dict[bytes, int] = {}
        self.time_ms = GENESIS_TIME_MS
        self.last: tuple[PendingBlock, bytes] | None = None

    def tx(self, who: Signer, action: str, **args: Any) -> SignedTransaction:
        nonce = self.nonces.get(who.public_key, 0) + 1
        self.nonces[who.public_key] = nonce
        body = Transaction(self.genesis.chain_id, who.public_key, nonce, MUTUAL_AID, action, args)
        return sign_transaction(body, who)

    def block(self, txs: list[SignedTransaction]) -> PendingBlock:
        self.time_ms += 1000
        pending = self.ledger.execute_block(
            txs, time_ms=self.time_ms, proposer=VALIDATOR.public_key
        )
        failed = [r for r in pending.results if not r.ok]
        if failed:
            raise SystemExit(f"{len(failed)} transactions failed, first: {failed[0].reason}")
        signature = VALIDATOR.sign(pending.header.signing_bytes())
        self.ledger.commit(pending)
        self.last = (pending, signature)
        return pending

    def blocks(self, txs: list[SignedTransaction]) -> None:
        for start in range(0, len(txs), MAX_TXS_PER_BLOCK):
            self.block(txs[start : start + MAX_TXS_PER_BLOCK])

    def state_bundle(self, key: str) -> bytes:
        """A signed state proof of the tip, as a node would serve it."""
        assert self.last is not None
        pending, signature = self.last
        raw = state_key(MUTUAL_AID, key)
        return make_state_bundle(
            pending.header, signature, raw, self.ledger.get(raw), self.ledger.prove(raw)
        )


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def enrol(driver: Driver, members: int, per_tx: int, txs_per_block: int) -> list[str]:
    """Enrol ``members`` members; returns their did:keys in index order."""
    dids: list[str] = []
    batch: list[SignedTransaction] = []
    started = time.perf_counter()
    for first in range(0, members, per_tx):
        entries = []
        for n in range(first, min(first + per_tx, members)):
            did = signer(1_000_000 + n).did
            dids.append(did)
            entries.append(
                sign_attestation(
                    ATTESTOR,
                    plan=PLAN,
                    member=did,
                    band="18y-39y",
                    issued_ms=GENESIS_TIME_MS,
                    evidence=hashlib.sha256(n.to_bytes(8, "big")).hexdigest(),
                ).enrolment_entry()
            )
        batch.append(driver.tx(OPERATOR, "enrol_members", plan=PLAN, members=entries))
        if len(batch) == txs_per_block:
            driver.block(batch)
            batch = []
            if len(dids) % 100_000 < per_tx * txs_per_block:
                rate = len(dids) / (time.perf_counter() - started)
                log(f"enrolled {len(dids):,} members ({rate:,.0f}/s)")
    if batch:
        driver.block(batch)
    return dids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--per-tx", type=int, default=200, help="members per enrol transaction")
    parser.add_argument("--txs-per-block", type=int, default=25)
    parser.add_argument("--sample", type=int, default=200, help="statements to verify")
    options = parser.parse_args()
    if options.members < options.claims + 40:
        raise SystemExit("--members must exceed --claims by at least 40 (claimants and a panel)")

    gen = genesis()
    driver = Driver(gen)
    setup_started = time.perf_counter()
    rules = example_rules() | {"waiting_ms": DAY_MS, "jury_size": 27, "jury_quorum": 14}
    rules["member_cap"] = 20_000  # CNY 200 per member per period
    driver.block(
        [
            driver.tx(
                OPERATOR,
                "create_plan",
                plan=PLAN,
                name="Benchmark plan (Xiang Hu Bao model)",
                currency="CNY",
                attestor=ATTESTOR.did,
                governors=["aid-operator", "ministry"],
                approvals_required=2,
                rules=rules,
                conditions=example_conditions(),
            )
        ]
    )
    enrol_started = time.perf_counter()
    dids = enrol(driver, options.members, options.per_tx, options.txs_per_block)
    enrol_s = time.perf_counter() - enrol_started

    driver.time_ms += 2 * DAY_MS  # past the waiting period
    today = format_time(driver.time_ms)[:10]
    claimants = [signer(1_000_000 + n) for n in range(options.claims + 2)]
    numbers = range(1, options.claims + 1)
    codes = ["C34", "C50", "I21", "I63", "N18.5"]
    driver.blocks(
        [
            driver.tx(
                who,
                "submit_claim",
                plan=PLAN,
                code=codes[i % len(codes)],
                diagnosed_on=today,
                amount=100_000_00 + 37 * i,  # CNY ~100,000, varied to the fen
                evidence=[hashlib.sha256(b"evidence %d" % i).hexdigest()],
                commitment=seed_commitment(PLAN, 0, who.did, "1c" * 32),
            )
            for i, who in enumerate(claimants[: options.claims])
        ]
    )
    driver.blocks([driver.tx(ASSESSOR, "start_investigation", plan=PLAN, claim=n) for n in numbers])
    driver.blocks(
        [
            driver.tx(
                ASSESSOR,
                "record_findings",
                plan=PLAN,
                claim=n,
                report=hashlib.sha256(b"report %d" % n).hexdigest(),
                supported=True,
                reason="diagnosis confirmed by the treating hospital's records",
            )
            for n in numbers
        ]
    )
    # One disputed claim, to time a panel draw over all the members.
    disputed = options.claims + 1
    claimant, objector, secret = claimants[options.claims], claimants[options.claims + 1], "5a" * 32
    driver.block(
        [
            driver.tx(
                claimant,
                "submit_claim",
                plan=PLAN,
                code="C34",
                diagnosed_on=today,
                amount=100_000_00,
                evidence=["ab" * 32],
                commitment=seed_commitment(PLAN, 0, claimant.did, "1c" * 32),
            )
        ]
    )
    driver.block([driver.tx(ASSESSOR, "start_investigation", plan=PLAN, claim=disputed)])
    driver.block(
        [
            driver.tx(
                ASSESSOR,
                "record_findings",
                plan=PLAN,
                claim=disputed,
                report="cd" * 32,
                supported=True,
                reason="confirmed",
            ),
            driver.tx(
                objector,
                "object",
                plan=PLAN,
                claim=disputed,
                reason="the same scan was filed in another claim",
                commitment=seed_commitment(PLAN, disputed, objector.did, secret),
            ),
            driver.tx(
                OPERATOR,
                "commit_seed",
                plan=PLAN,
                claim=disputed,
                commitment=seed_commitment(PLAN, disputed, "aid-operator", "0e" * 32),
            ),
        ]
    )
    driver.time_ms += 3 * DAY_MS  # the public notice is over
    driver.blocks(
        [driver.tx(ASSESSOR, "close_notice", plan=PLAN, claim=n) for n in [*numbers, disputed]]
    )
    driver.block(
        [
            driver.tx(claimant, "reveal_seed", plan=PLAN, claim=disputed, secret="1c" * 32),
            driver.tx(OPERATOR, "reveal_seed", plan=PLAN, claim=disputed, secret="0e" * 32),
        ]
    )
    started = time.perf_counter()  # the last reveal draws the panel
    driver.block([driver.tx(objector, "reveal_seed", plan=PLAN, claim=disputed, secret=secret)])
    jury_draw_ms = (time.perf_counter() - started) * 1000
    jurors = driver.ledger.read(MUTUAL_AID, f"claim/{PLAN}/{disputed}")["jury"]["jurors"]
    assert len(jurors) == rules["jury_size"]

    books = driver.ledger.read(MUTUAL_AID, f"books/{PLAN}")
    end = books["period_end_ms"]
    driver.time_ms = max(driver.time_ms, end)
    setup_s = time.perf_counter() - setup_started
    log(f"set up in {setup_s:.0f} s; closing period 1 with {options.claims} claims")

    close_tx = driver.tx(OPERATOR, "close_period", plan=PLAN)
    started = time.perf_counter()
    pending = driver.block([close_tx])
    period_close_s = time.perf_counter() - started
    period = driver.ledger.read(MUTUAL_AID, f"period/{PLAN}/1")
    assert len(period["member_claims"]) == options.claims

    step = max(1, options.members // options.sample)
    sample = list(range(0, options.members, step))[: options.sample]
    build_ms, verify_ms, packages = [], [], []
    for index in sample:
        started = time.perf_counter()
        keys = statement_keys(PLAN, dids[index], 1)
        proofs = {name: driver.state_bundle(key) for name, key in keys.items()}
        packages.append(encode_statement(plan=PLAN, member=dids[index], period=1, proofs=proofs))
        build_ms.append((time.perf_counter() - started) * 1000)
    for package in packages:
        started = time.perf_counter()
        verdict = verify_statement(package, gen)
        verify_ms.append((time.perf_counter() - started) * 1000)
        if not verdict.valid:
            raise SystemExit(f"a statement failed at {verdict.step}: {verdict.reason}")

    log("summing every member's share")
    total = 0
    for did in dids:
        raw = driver.ledger.get(state_key(MUTUAL_AID, f"member/{PLAN}/{did}"))
        assert raw is not None
        total += member_share(cbor2.loads(raw), period)

    print(
        json.dumps(
            {
                "members": options.members,
                "claims": options.claims,
                "period_close_s": round(period_close_s, 3),
                "statement_verify_ms": round(statistics.median(verify_ms), 3),
                "statement_build_ms": round(statistics.median(build_ms), 3),
                "statement_bytes": len(packages[0]),
                "writes_at_close": len(pending.changes),
                "jury_draw_ms": round(jury_draw_ms, 1),
                "jury_size": len(jurors),
                "charged": period["charged"],
                "base": period["base"],
                "remainder": period["remainder"],
                "carry_out": period["carry_out"],
                "shares_sum_exact": total == period["charged"],
                "enrol_per_s": round(options.members / enrol_s),
                "setup_s": round(setup_s, 1),
                "state_keys": len(driver.ledger.tree),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
