"""Benchmark: signed transactions from a client process into a running embedded node.

    .venv/bin/python bench/core.py [--txs 50000] [--signers 500] [--batch 1000]

What it does, end to end, with real parts only:
1. ``salus init`` a one-organisation network in a temporary home and start
   ``salus node`` (the ``solo`` engine, SQLite in WAL mode, HTTP API) as a separate
   process on a free loopback port.
2. In this process (the client), sign ``--txs`` notary anchoring transactions from
   ``--signers`` keys *before* the clock starts (signing is the client's work; its
   rate is reported as ``client_sign_per_s``).
3. Send them in batches over HTTP from ``--clients`` concurrent connections while a
   watcher polls ``/v1/status`` and records when each block becomes visible.
4. When all are committed, read each new block's transaction ids (after the timed
   window) to compute each transaction's latency: block visible minus batch sent.
5. Fetch ``--proofs`` inclusion proofs from the node and verify them offline with
   the same verifier ``salus verify`` uses.

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.core.proofs import verify_bundle
from salus.core.tx import Transaction, sign_transaction

PASSPHRASE = "bench-only-passphrase"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def salus(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "salus.cli", *args],
        check=True,
        capture_output=True,
        text=True,
        **kwargs,
    )


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class BlockWatcher(threading.Thread):
    """Records the monotonic time at which each height first becomes visible."""

    def __init__(self, url: str, start_height: int) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.seen: dict[int, float] = {}
        self.height = start_height
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop.is_set():
                height = client.get("/v1/status").json()["height"]
                now = time.monotonic()
                for h in range(self.height + 1, height + 1):
                    self.seen[h] = now
                self.height = max(self.height, height)
                self.stop.wait(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--txs", type=int, default=50_000)
    parser.add_argument("--signers", type=int, default=500)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--block-interval-ms", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the node's home and log")
    parser.add_argument("--log-level", default="warning", help="the node's --log-level")
    options = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="salus-bench-"))
    secret = home.parent / (home.name + ".pass")
    secret.write_text(PASSPHRASE)
    node_home = home / "node"
    salus(
        "init",
        "--home",
        str(node_home),
        "--chain-id",
        "salus-bench",
        "--org",
        "bench-org:Bench Organisation",
        "--passphrase-file",
        str(secret),
    )
    genesis = Genesis.from_json((node_home / "genesis.json").read_text())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (home / "node.log").open("w")
    node = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "salus.cli",
            "node",
            "--home",
            str(node_home),
            "--port",
            str(port),
            "--block-interval-ms",
            str(options.block_interval_ms),
            "--log-level",
            options.log_level,
            "--passphrase-file",
            str(secret),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        figures = run(options, genesis, url, node_home)
    finally:
        node.terminate()
        node.wait(timeout=30)
        log.close()
        if not options.keep:
            shutil.rmtree(home, ignore_errors=True)
        secret.unlink(missing_ok=True)
    print(json.dumps(figures))


def run(options: argparse.Namespace, genesis: Genesis, url: str, node_home: Path) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(300):
            try:
                client.get("/v1/status")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        status = client.get("/v1/status").json()
        start_height, start_total = status["height"], status["total_txs"]

        # -- sign before the clock starts ------------------------------------------
        signers = [
            Signer(hashlib.sha256(b"bench signer %d" % i).digest()) for i in range(options.signers)
        ]
        began = time.perf_counter()
        envelopes = []
        for i in range(options.txs):
            signer = signers[i % len(signers)]
            tx = Transaction(
                genesis.chain_id,
                signer.public_key,
                i // len(signers) + 1,
                "notary",
                "anchor",
                {"digest": hashlib.sha256(b"doc %d" % i).hexdigest()},
            )
            envelopes.append(sign_transaction(tx, signer).envelope)
        sign_per_s = options.txs / (time.perf_counter() - began)
        # Each sender owns a disjoint set of signers and sends their transactions in
        # nonce order, as a real client would; batches never mix senders.
        streams: list[list[int]] = [[] for _ in range(options.clients)]
        for i in range(options.txs):
            streams[(i % len(signers)) % options.clients].append(i)
        batches: list[bytes] = []
        batch_members: list[list[int]] = []
        batch_stream: list[int] = []
        for stream_no, stream in enumerate(streams):
            for start in range(0, len(stream), options.batch):
                members = stream[start : start + options.batch]
                batch_members.append(members)
                batch_stream.append(stream_no)
                batches.append(
                    json.dumps(
                        {"txs": [base64.b64encode(envelopes[i]).decode() for i in members]}
                    ).encode()
                )
        disk_before = dir_bytes(node_home / "data")

        # -- timed window ----------------------------------------------------------
        watcher = BlockWatcher(url, start_height)
        watcher.start()
        sent_at: list[float] = [0.0] * len(batches)
        rejected = 0
        lock = threading.Lock()

        def sender(stream_no: int) -> None:
            nonlocal rejected
            with httpx.Client(base_url=url, timeout=60) as conn:
                for index in range(len(batches)):
                    if batch_stream[index] != stream_no:
                        continue
                    sent_at[index] = time.monotonic()
                    response = conn.post(
                        "/v1/txs/batch",
                        content=batches[index],
                        headers={"content-type": "application/json"},
                    )
                    response.raise_for_status()
                    bad = sum(r["status"] != "pending" for r in response.json()["results"])
                    with lock:
                        rejected += bad

        t0 = time.monotonic()
        senders = [threading.Thread(target=sender, args=(n,)) for n in range(options.clients)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        deadline = time.monotonic() + 300
        committed = 0
        while time.monotonic() < deadline:
            committed = client.get("/v1/status").json()["total_txs"] - start_total
            if committed >= options.txs - rejected:
                break
            time.sleep(0.05)
        watcher.stop.set()
        watcher.join()
        t_end = max(watcher.seen.values())
        elapsed = t_end - t0

        # -- latency, read after the window ------------------------------------------
        batch_of = {}
        for index, members in enumerate(batch_members):
            for i in members:
                batch_of[hashlib.sha256(tx_body(envelopes[i])).hexdigest()] = index
        latencies = []
        tx_ids = []
        for height in range(start_height + 1, watcher.height + 1):
            offset = 0
            while True:
                page = client.get(
                    f"/v1/blocks/{height}", params={"offset": offset, "limit": 500}
                ).json()
                if not page["txs"]:
                    break
                for tx in page["txs"]:
                    tx_ids.append(tx["id"])
                    index = batch_of.get(tx["id"])
                    if index is not None:
                        latencies.append((watcher.seen[height] - sent_at[index]) * 1000)
                offset += len(page["txs"])
        disk_after = dir_bytes(node_home / "data")

        # -- proofs ---------------------------------------------------------------------
        sample = tx_ids[:: max(1, len(tx_ids) // options.proofs)][: options.proofs]
        began = time.perf_counter()
        bundles = []
        for tx_id in sample:
            response = client.get(f"/v1/proofs/tx/{tx_id}", params={"format": "cbor"})
            response.raise_for_status()
            bundles.append(response.content)
        fetch_s = time.perf_counter() - began
        began = time.perf_counter()
        valid = sum(verify_bundle(b, genesis).valid for b in bundles)
        verify_s = time.perf_counter() - began
        if valid != len(bundles):
            raise SystemExit(f"{len(bundles) - valid} proofs did not verify")

    blocks = watcher.height - start_height
    return {
        "benchmark": "core",
        "txs": options.txs,
        "committed": committed,
        "rejected_at_admission": rejected,
        "tx_per_s": round(committed / elapsed, 1),
        "p50_commit_ms": round(statistics.median(latencies), 1),
        "p99_commit_ms": round(percentile(latencies, 0.99), 1),
        "blocks": blocks,
        "mean_block_txs": round(committed / max(1, blocks), 1),
        "disk_bytes_per_tx": round((disk_after - disk_before) / max(1, committed)),
        "proofs_fetched_per_s": round(len(bundles) / fetch_s, 1),
        "proofs_verified_per_s": round(len(bundles) / verify_s, 1),
        "client_sign_per_s": round(sign_per_s, 1),
        "signers": options.signers,
        "batch": options.batch,
        "clients": options.clients,
        "block_interval_ms": options.block_interval_ms,
        "cpus": os.cpu_count(),
    }


def tx_body(envelope: bytes) -> bytes:
    from salus.core.tx import SignedTransaction

    return SignedTransaction.decode(envelope).body


if __name__ == "__main__":
    main()
