"""Benchmark: Salus on four local CometBFT validators, against CometBFT's own kvstore.

    .venv/bin/python bench/cometbft.py [--txs 40000] [--signers 400] [--batch 500]

What it does, end to end, with real processes only (all on this machine):
1. Writes a 4-validator testnet (``salus.cometbft.testnet``: one organisation per
   validator, each node a Salus process + a CometBFT process) and starts it.
2. Signs ``--txs`` notary ``anchor`` transactions from ``--signers`` keys *before*
   the clock starts. Each node gets its own share of the signers, so a signer's
   nonces always arrive in order at one node.
3. Timed window: one sender per node posts its transactions in batches of
   ``--batch`` to that node's Salus HTTP API (``POST /v1/txs/batch``: signature
   check, check against committed state, then ``broadcast_tx_sync`` to CometBFT,
   whose mempool runs CheckTx and gossips them to the other three validators).
   A watcher polls node 0's CometBFT for new heights and records when each
   became visible. The window ends when every accepted transaction is committed.
4. After the window, reads every new block's transactions from CometBFT to get
   each transaction's latency: block visible minus its batch's send time.
5. Stops the testnet, writes the same 4-validator layout with CometBFT's built-in
   ``kvstore`` application, and runs the same load shape (the same number of
   transactions of the same size, the same batches, one sender per node) through
   CometBFT's RPC (``broadcast_tx_sync`` batches): the engine's own ceiling on
   this machine.

``tx_per_s`` is committed transactions divided by the time from the first send to
the block holding the last one. Every process shares this machine's CPUs (the
figures say how many), so this measures the whole network on one host, not one
organisation's node. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from salus.cometbft.binary import find_cometbft
from salus.cometbft.rpc import CometRPC
from salus.cometbft.testnet import Testnet, create_testnet
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.core.tx import Transaction, sign_transaction

VALIDATORS = 4


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class HeightWatcher(threading.Thread):
    """Records the monotonic time at which each height first becomes visible on one node."""

    def __init__(self, rpc_url: str, start_height: int) -> None:
        super().__init__(daemon=True)
        self.rpc_url = rpc_url
        self.seen: dict[int, float] = {}
        self.height = start_height
        self.stop = threading.Event()

    def run(self) -> None:
        with CometRPC(self.rpc_url, timeout=10) as rpc:
            while not self.stop.is_set():
                try:
                    height = rpc.latest_height()
                except Exception:
                    self.stop.wait(0.05)
                    continue
                now = time.monotonic()
                for h in range(self.height + 1, height + 1):
                    self.seen[h] = now
                self.height = max(self.height, height)
                self.stop.wait(0.01)


def committed_between(rpc: CometRPC, low: int, high: int) -> dict[int, int]:
    """num_txs of each height in [low, high] (``/blockchain``, 20 per call)."""
    counts: dict[int, int] = {}
    top = high
    while top >= low:
        bottom = max(low, top - 19)
        metas = rpc.call("blockchain", minHeight=str(bottom), maxHeight=str(top))["block_metas"]
        for meta in metas:
            counts[int(meta["header"]["height"])] = int(meta["num_txs"])
        top = bottom - 1
    return counts


def run_load(
    net: Testnet,
    batches: list[list[bytes]],
    batch_node: list[int],
    send: Callable[[int, list[bytes]], int],
    *,
    timeout: float,
) -> dict[str, Any]:
    """Send ``batches`` (one sender thread per node) and wait until all are committed."""
    first = net.nodes[0]
    with CometRPC(first.rpc_url, timeout=30) as rpc:
        start_height = rpc.latest_height()
        watcher = HeightWatcher(first.rpc_url, start_height)
        watcher.start()
        sent_at = [0.0] * len(batches)
        refused = [0] * len(batches)

        def sender(node_index: int) -> None:
            for index, batch in enumerate(batches):
                if batch_node[index] == node_index:
                    sent_at[index] = time.monotonic()
                    refused[index] = send(node_index, batch)

        t0 = time.monotonic()
        threads = [threading.Thread(target=sender, args=(n,)) for n in range(len(net.nodes))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        send_s = time.monotonic() - t0
        expected = sum(len(b) for b in batches) - sum(refused)
        deadline = time.monotonic() + timeout
        committed = 0
        counted_to = start_height
        counts: dict[int, int] = {}
        while time.monotonic() < deadline:
            top = watcher.height
            if top > counted_to:
                counts.update(committed_between(rpc, counted_to + 1, top))
                counted_to = top
                committed = sum(counts.values())
                if committed >= expected:
                    break
            time.sleep(0.05)
        watcher.stop.set()
        watcher.join()
        last_height = max((h for h, n in counts.items() if n), default=start_height)
        elapsed = watcher.seen[last_height] - t0 if last_height in watcher.seen else float("nan")

        # Latency, read after the window: which batch each committed transaction came in.
        batch_of = {}
        for index, batch in enumerate(batches):
            for tx in batch:
                batch_of[tx] = index
        latencies = []
        for height in sorted(h for h, n in counts.items() if n):
            for text in rpc.block(height)["block"]["data"]["txs"] or []:
                index = batch_of.get(base64.b64decode(text))
                if index is not None:
                    latencies.append((watcher.seen[height] - sent_at[index]) * 1000)
    blocks = [n for h, n in counts.items() if n]
    return {
        "committed": committed,
        "refused_at_admission": sum(refused),
        "tx_per_s": round(committed / elapsed, 1) if committed else 0.0,
        "offered_tx_per_s": round(sum(len(b) for b in batches) / send_s, 1),
        "p50_commit_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_commit_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "blocks_with_txs": len(blocks),
        "mean_block_txs": round(statistics.mean(blocks), 1) if blocks else 0,
        "max_block_txs": max(blocks, default=0),
        "elapsed_s": round(elapsed, 2),
    }


def salus_run(options: argparse.Namespace, root: Path, binary: Path) -> dict[str, Any]:
    net = create_testnet(
        root / "salus",
        validators=VALIDATORS,
        base_port=options.base_port,
        api_port=options.api_port,
        binary=binary,
        timeout_commit_ms=options.timeout_commit_ms,
        chain_id="salus-bench",
        extra_config=_mempool_config(options),
    )
    try:
        net.start(wait=120)
        genesis = Genesis.from_json(net.genesis_path.read_bytes())
        # -- sign before the clock starts --------------------------------------------
        signers = [
            Signer(hashlib.sha256(b"bft bench signer %d" % i).digest())
            for i in range(options.signers)
        ]
        began = time.perf_counter()
        per_signer: list[list[bytes]] = [[] for _ in signers]
        for i in range(options.txs):
            s = i % len(signers)
            tx = Transaction(
                genesis.chain_id,
                signers[s].public_key,
                len(per_signer[s]) + 1,
                "notary",
                "anchor",
                {"digest": hashlib.sha256(b"bft doc %d" % i).hexdigest()},
            )
            per_signer[s].append(sign_transaction(tx, signers[s]).envelope)
        sign_per_s = options.txs / (time.perf_counter() - began)
        batches, batch_node = _batches(per_signer, options.batch)
        envelope_bytes = statistics.mean(len(tx) for b in batches for tx in b)
        clients = [httpx.Client(base_url=node.api_url, timeout=120) for node in net.nodes]

        def send(node_index: int, batch: list[bytes]) -> int:
            body = {"txs": [base64.b64encode(tx).decode() for tx in batch]}
            response = clients[node_index].post("/v1/txs/batch", json=body)
            response.raise_for_status()
            return sum(r["status"] != "pending" for r in response.json()["results"])

        try:
            figures = run_load(net, batches, batch_node, send, timeout=options.timeout)
        finally:
            for client in clients:
                client.close()
        with httpx.Client(timeout=30) as client:
            roots = {
                client.get(node.api_url + "/v1/status").json()["state_root"] for node in net.nodes
            }
        figures.update(client_sign_per_s=round(sign_per_s, 1), tx_bytes=round(envelope_bytes))
        figures["nodes_agree"] = len(roots) == 1 or "heights differ"
        return figures
    finally:
        net.stop()


def kvstore_run(
    options: argparse.Namespace, root: Path, binary: Path, tx_bytes: int
) -> dict[str, Any]:
    net = create_testnet(
        root / "kvstore",
        validators=VALIDATORS,
        base_port=options.base_port,
        api_port=options.api_port,
        binary=binary,
        timeout_commit_ms=options.timeout_commit_ms,
        chain_id="kvstore-bench",
        app="kvstore",
        extra_config=_mempool_config(options, kvstore=True),
    )
    try:
        net.start(wait=120)
        # Same count, same size: "bench<i>=<padding>" (kvstore's key=value form).
        txs = []
        for i in range(options.txs):
            head = b"bench%08d=" % i
            txs.append(head + b"x" * max(1, tx_bytes - len(head)))
        per_stream: list[list[bytes]] = [[] for _ in range(options.signers)]
        for i, tx in enumerate(txs):
            per_stream[i % options.signers].append(tx)
        batches, batch_node = _batches(per_stream, options.batch)
        rpcs = [CometRPC(node.rpc_url, timeout=120) for node in net.nodes]

        def send(node_index: int, batch: list[bytes]) -> int:
            return sum(not r.accepted for r in rpcs[node_index].broadcast_txs_sync(batch))

        try:
            return run_load(net, batches, batch_node, send, timeout=options.timeout)
        finally:
            for rpc in rpcs:
                rpc.close()
    finally:
        net.stop()


def _batches(streams: list[list[bytes]], size: int) -> tuple[list[list[bytes]], list[int]]:
    """Streams split among the nodes (stream i -> node i % 4), cut into batches."""
    per_node: list[list[bytes]] = [[] for _ in range(VALIDATORS)]
    # Interleave each node's streams round by round, keeping each stream's order.
    for node in range(VALIDATORS):
        mine = streams[node::VALIDATORS]
        for round_ in range(max((len(s) for s in mine), default=0)):
            per_node[node].extend(s[round_] for s in mine if round_ < len(s))
    batches, owners = [], []
    for node, txs in enumerate(per_node):
        for start in range(0, len(txs), size):
            batches.append(txs[start : start + size])
            owners.append(node)
    return batches, owners


def _mempool_config(
    options: argparse.Namespace, *, kvstore: bool = False
) -> dict[str, dict[str, Any]]:
    config: dict[str, dict[str, Any]] = {"": {"log_level": "*:error"}}
    if kvstore:  # Salus homes get these by default (salus.cometbft.runner)
        config["rpc"] = {"max_request_batch_size": 0, "max_body_bytes": 64 << 20}
        config["mempool"] = {"size": 100_000, "cache_size": 200_000}
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--txs", type=int, default=40_000)
    parser.add_argument("--signers", type=int, default=400)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--timeout-commit-ms", type=int, default=500)
    parser.add_argument("--timeout", type=float, default=600, help="give up after this long")
    parser.add_argument("--base-port", type=int, default=22600)
    parser.add_argument("--api-port", type=int, default=24080)
    parser.add_argument("--skip-kvstore", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the testnet directories")
    options = parser.parse_args()

    binary = find_cometbft(Path(__file__).resolve().parent)
    root = Path(tempfile.mkdtemp(prefix="salus-bft-bench-"))
    try:
        salus = salus_run(options, root, binary)
        print(json.dumps({"salus": salus}), file=sys.stderr)
        kvstore = (
            {} if options.skip_kvstore else kvstore_run(options, root, binary, salus["tx_bytes"])
        )
        if kvstore:
            print(json.dumps({"kvstore": kvstore}), file=sys.stderr)
    finally:
        if not options.keep:
            shutil.rmtree(root, ignore_errors=True)
    kv_rate = kvstore.get("tx_per_s") or None
    figures = {
        "benchmark": "cometbft",
        "validators": VALIDATORS,
        "txs": options.txs,
        "tx_per_s": salus["tx_per_s"],
        "p50_commit_ms": salus["p50_commit_ms"],
        "p99_commit_ms": salus["p99_commit_ms"],
        "kvstore_tx_per_s": kv_rate,
        "kvstore_p50_commit_ms": kvstore.get("p50_commit_ms"),
        "kvstore_p99_commit_ms": kvstore.get("p99_commit_ms"),
        "share_of_kvstore": round(salus["tx_per_s"] / kv_rate, 3) if kv_rate else None,
        "salus": salus,
        "kvstore": kvstore,
        "batch": options.batch,
        "signers": options.signers,
        "timeout_commit_ms": options.timeout_commit_ms,
        "sent_via": "salus: Salus HTTP API /v1/txs/batch; kvstore: RPC broadcast_tx_sync",
        "cpus": os.cpu_count(),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
