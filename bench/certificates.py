"""Benchmark: batch-issue course certificates, anchor them, verify them all offline.

    .venv/bin/python bench/certificates.py [--count 10000] [--http-count 10000]

What it does, with real parts only:
1. Start an in-process :class:`~salus.node.Node` over SQLite (temporary directory) with
   the identity, notary and learning contracts; a genesis organisation holds the
   ``accreditor`` role. Accredit an issuer and bind its signing key (not timed).
2. Issuing (timed, ``issued_per_s``): build and sign ``--count`` Open Badges 3.0
   VC-JWTs, build the RFC 9162 batch root and every inclusion path, anchor the root in
   one transaction (submit + produce a block), fetch the batch, issuer and key state
   proofs once for the batch and one status proof per certificate, and encode every
   certificate package.
3. Verifying (timed, ``verified_per_s``): with the node closed, verify every package
   with one :class:`~salus.apps.learning.certificate.CertificateVerifier` and the
   genesis only. Each certificate's signature, path and status proof are verified
   individually; the batch's shared proofs once (verifiers share proven bundles).
   ``verified_cold_per_s``: a sample with a *fresh verifier per package*, as the web
   page and the CLI make one, starting from an empty memory of proven bundles.
   ``verified_uncached_per_s``: the same with that memory, and the memory of verified
   block-header signatures, emptied before every package, i.e. every proof of every
   certificate checked (a first-ever verification; its four proofs share one block,
   whose signature is then checked once).
4. Issuing through HTTP: a node served in a child process (the solo engine, uvicorn,
   SQLite, real sockets), a :class:`~salus.client.SalusClient` in this one.
   ``issued_http_per_s``: :func:`~salus.apps.learning.issuance.issue_batch` as shipped
   (issuer and course reads, sign, leaf list upload, anchor, wait, the batch's proofs
   from ``/batches/{root}/proofs`` in CBOR pages of 10,000, package).

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from salus.apps.learning import LEARNING, LearningContract
from salus.apps.learning.certificate import (
    CertificateVerifier,
    encode_package,
    package_keys,
    verify_certificate,
)
from salus.apps.learning.credentials import (
    batch_root,
    build_open_badge,
    encode_vc_jwt,
    status_entries,
)
from salus.apps.learning.issuance import CertificateRecord, issue_batch
from salus.cli.server import NodeServer
from salus.client import SalusClient
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.core.identity import IdentityContract
from salus.core.notary import NotaryContract
from salus.core.proofs import forget_verified_signatures
from salus.core.tx import Transaction, sign_transaction
from salus.node import Node, SqliteStore

GENESIS_TIME_MS = 1_700_000_000_000


def signer(n: int) -> Signer:
    return Signer(bytes([n]) * 32)


VALIDATOR, ACCREDITOR, SCHOOL, SIGNING = signer(9), signer(3), signer(40), signer(41)


def _org(org_id: str, name: str, did: str, role: str) -> dict[str, Any]:
    return {"id": org_id, "name": name, "keys": [did], "roles": [role]}


def genesis() -> Genesis:
    return Genesis.from_data(
        {
            "chain_id": "salus-bench-certificates",
            "genesis_time_ms": GENESIS_TIME_MS,
            "consortium": {
                "organisations": [
                    _org("ministry", "Ministry", signer(1).did, "admin"),
                    _org("accreditation-body", "Accreditation Body", ACCREDITOR.did, "accreditor"),
                ],
                "threshold": {"num": 2, "den": 3},
                "proposal_ttl_blocks": 50,
            },
            "validators": [{"did": VALIDATOR.did, "power": 10, "name": "validator-1"}],
        }
    )


class Driver:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.nonces: dict[bytes, int] = {}
        self.time_ms = GENESIS_TIME_MS

    def run(self, who: Signer, action: str, **args: Any) -> None:
        nonce = self.nonces.get(who.public_key, 0) + 1
        self.nonces[who.public_key] = nonce
        chain_id = self.node.genesis.chain_id
        stx = sign_transaction(
            Transaction(chain_id, who.public_key, nonce, LEARNING, action, args), who
        )
        submitted = self.node.submit(stx.envelope)
        if submitted.status != "pending":
            raise SystemExit(f"{action} refused at admission: {submitted.reason}")
        self.time_ms += 1000
        self.node.produce_block(self.time_ms)
        status = self.node.tx_status(stx.id)
        if status["status"] != "committed":
            raise SystemExit(f"{action} rejected: {status.get('reason')}")


def sign_certificates(start: int, count: int, base_url: str) -> list[str]:
    """``count`` OB 3.0 VC-JWTs with status indices from ``start`` on ``base_url``'s lists."""
    lists = f"{base_url}/v1/learning/issuers/{SCHOOL.did}/status-list"
    return [
        encode_vc_jwt(
            build_open_badge(
                credential_id=f"urn:uuid:00000000-0000-4000-8000-{start + i:012d}",
                issuer_did=SIGNING.did,
                issuer_name="Open School",
                issued_at_s=1_700_000_000,
                achievement_id="https://school.example/courses/first-aid-101",
                achievement_name="First aid in a shut-down city",
                achievement_description="Assess a casualty; perform CPR.",
                criteria_narrative="Pass the practical assessment and the quiz.",
                learner_did=f"did:example:learner-{start + i}",
                learner_name=f"Learner {start + i}",
                credits_available=5,
                credits_earned=5,
                status=status_entries(f"{lists}/revocation", f"{lists}/suspension", start + i),
            ),
            SIGNING,
        )
        for i in range(count)
    ]


def issue(driver: Driver, count: int) -> list[bytes]:
    record = driver.node.ledger.read(LEARNING, f"issuer/{SCHOOL.did}")
    start = int(record["next_status_index"])
    tokens = sign_certificates(start, count, "https://node.example")
    root, paths = batch_root(tokens)
    driver.run(SCHOOL, "anchor_batch", root=root.hex(), count=count, key=SIGNING.did)
    shared = package_keys(root=root, issuer=SCHOOL.did, key=SIGNING.did, status_index=start)
    proofs = {
        name: driver.node.state_proof(LEARNING, shared[name]) for name in ("batch", "issuer", "key")
    }
    packages = []
    for i, token in enumerate(tokens):
        status = driver.node.state_proof(LEARNING, f"status/{SCHOOL.did}/{start + i}")
        packages.append(
            encode_package(
                token=token,
                issuer=SCHOOL.did,
                index=i,
                count=count,
                path=paths[i],
                proofs={**proofs, "status": status},
            )
        )
    return packages


# --- issuing through HTTP ------------------------------------------------------------------


def _serve(home: str, pipe: Connection, parents_end: Connection) -> None:
    """Child process: serve a solo node until the parent closes the pipe."""
    # The fork copied the parent's end too: while it is open here, the parent closing
    # its own copy would never reach recv() below as end of file.
    parents_end.close()
    server = NodeServer(genesis(), VALIDATOR, Path(home), port=0, block_interval_ms=20)
    server.start()
    try:
        pipe.send(server.url)
        pipe.recv()  # returns (EOFError) when the parent is done
    except EOFError:
        pass
    finally:
        server.stop()


COURSE = {
    "course_id": "first-aid-101",
    "title": "First aid in a shut-down city",
    "credits": 50,
    "outcomes": ["Assess a casualty", "Perform CPR"],
    "assessment": "Practical assessment and quiz",
}


def _commit(client: SalusClient, who: Signer, action: str, args: dict[str, Any]) -> None:
    status = client.wait_for(client.send(who, LEARNING, action, args)["id"], timeout=60)
    if status["status"] != "committed":
        raise SystemExit(f"{action} rejected: {status.get('reason')}")


def issue_over_http(count: int) -> tuple[float, list[bytes]]:
    """Seconds for ``issue_batch`` of ``count`` certificates, and their packages."""
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()
    with tempfile.TemporaryDirectory(prefix="salus-bench-cert-http-") as home:
        process = context.Process(target=_serve, args=(home, child, parent), daemon=True)
        process.start()
        child.close()
        try:
            url = parent.recv()
            with SalusClient(url, timeout=120) as client:
                _commit(
                    client,
                    ACCREDITOR,
                    "accredit_issuer",
                    {"issuer": SCHOOL.did, "name": "Open School"},
                )
                _commit(client, SCHOOL, "bind_key", {"key": SIGNING.did})
                _commit(client, SCHOOL, "publish_course", COURSE)
                records = [
                    CertificateRecord(
                        f"did:example:learner-{i}", "first-aid-101", learner_name=f"Learner {i}"
                    )
                    for i in range(count)
                ]
                started = time.perf_counter()
                packages = issue_batch(client, SCHOOL, SIGNING, records)
                seconds = time.perf_counter() - started
        finally:
            parent.close()
            process.join(30)
    return seconds, packages


# --- main --------------------------------------------------------------------------------


def forget_everything() -> None:
    """Empty the process-wide memories of proven bundles and verified header signatures."""
    CertificateVerifier.forget_proven_bundles()
    forget_verified_signatures()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--http-count", type=int, default=10_000)
    parser.add_argument("--cold-sample", type=int, default=1000)
    options = parser.parse_args()
    gen = genesis()
    with tempfile.TemporaryDirectory(prefix="salus-bench-cert-") as home:
        node = Node(
            gen,
            SqliteStore(Path(home) / "ledger.sqlite"),
            VALIDATOR,
            contracts=[IdentityContract(), NotaryContract(), LearningContract()],
        )
        driver = Driver(node)
        driver.run(ACCREDITOR, "accredit_issuer", issuer=SCHOOL.did, name="Open School")
        driver.run(SCHOOL, "bind_key", key=SIGNING.did)

        started = time.perf_counter()
        packages = issue(driver, options.count)
        issue_s = time.perf_counter() - started
        node.close()

    # Offline from here: the node is closed and its data directory deleted.
    forget_everything()
    verifier = CertificateVerifier(gen)
    started = time.perf_counter()
    verdicts = [verifier.verify(package) for package in packages]
    verify_s = time.perf_counter() - started
    bad = [v for v in verdicts if not v.valid]
    if bad:
        raise SystemExit(f"{len(bad)} certificates failed, first: {bad[0]}")
    # Verdicts kept alive make every later garbage collection walk them: let them go.
    del verdicts

    sample = packages[-options.cold_sample :]
    forget_everything()
    started = time.perf_counter()
    cold = [verify_certificate(package, gen) for package in sample]
    cold_s = time.perf_counter() - started
    failed = sum(not v.valid for v in cold)
    del cold
    uncached_s = 0.0
    for package in sample:
        forget_everything()
        started = time.perf_counter()
        verdict = verify_certificate(package, gen)
        uncached_s += time.perf_counter() - started
        failed += not verdict.valid
    if failed:
        raise SystemExit(f"{failed} cold verifications failed")

    http_s, http_packages = issue_over_http(options.http_count)
    forget_everything()
    if not all(verifier.verify(package).valid for package in http_packages):
        raise SystemExit("a certificate issued through HTTP does not verify")

    sizes = sorted(len(p) for p in packages)
    print(
        json.dumps(
            {
                "certificates": options.count,
                "issued_per_s": round(options.count / issue_s),
                "issue_s": round(issue_s, 3),
                "verified_per_s": round(options.count / verify_s),
                "verify_s": round(verify_s, 3),
                "verified_cold_per_s": round(len(sample) / cold_s),
                "verified_uncached_per_s": round(len(sample) / uncached_s),
                "http_certificates": options.http_count,
                "issued_http_per_s": round(options.http_count / http_s),
                "package_bytes_median": sizes[len(sizes) // 2],
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
