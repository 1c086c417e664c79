"""kill -9 at arbitrary moments loses no committed block and leaves no half block."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from salus.core.genesis import Genesis
from salus.node import Node, SqliteStore
from tests.support import genesis_data, key

ROOT = Path(__file__).resolve().parents[2]


def run_and_kill(db: Path, delay_s: float) -> int:
    """Start the worker, SIGKILL it after ``delay_s``; return the last reported height."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.node.crash_worker", str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None
    reported = 0
    deadline = time.monotonic() + delay_s
    os.set_blocking(child.stdout.fileno(), False)
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if line.startswith("committed "):
            reported = int(line.split()[1])
        elif not line:
            time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait()
    for line in child.stdout.read().splitlines():
        if line.startswith("committed "):
            reported = int(line.split()[1])
    child.stdout.close()
    return reported


def check_consistent(db: Path) -> int:
    # Reopening rebuilds the state tree and checks it against the last header's root.
    node = Node(Genesis.from_data(genesis_data(3)), SqliteStore(db), key(9))
    height = node.height
    for number in range(1, height + 1):
        header = node.get_block(number).header
        stored = len(node.store.block_txs(number))
        assert stored == header.tx_count, f"block {number} has {stored} of {header.tx_count} txs"
    with sqlite3.connect(db) as conn:
        orphans = conn.execute("SELECT COUNT(*) FROM txs WHERE height > ?", (height,)).fetchone()
    assert orphans[0] == 0, "transactions of an uncommitted block were found"
    node.close()
    return height


@pytest.mark.slow
def test_kill_minus_nine_never_loses_or_half_applies_a_block(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite"
    rng = random.Random(20261124)
    last_height = 0
    for round_number in range(6):
        reported = run_and_kill(db, 0.8 + rng.random() * 1.5)
        height = check_consistent(db)
        assert height >= reported, f"round {round_number}: block {reported} was lost"
        assert height >= last_height
        last_height = height
    assert last_height > 0
