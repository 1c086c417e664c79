"""Child process for the crash test: produce blocks forever, report each commit.

    python -m tests.node.crash_worker DB_PATH

Prints ``committed <height>`` after each block's SQLite commit returned, so the
parent knows which blocks a client could have been told about before ``kill -9``.
"""

from __future__ import annotations

import sys
import time

from salus.core.genesis import Genesis
from salus.core.tx import Transaction, sign_transaction
from salus.node import Node, SqliteStore
from tests.support import genesis_data, key


def main(path: str) -> None:
    genesis = Genesis.from_data(genesis_data(3))
    node = Node(genesis, SqliteStore(path), key(9))
    signers = [key(1), key(2), key(3)]
    round_ = 0
    while True:
        round_ += 1
        for signer in signers:
            for _ in range(30):
                nonce = node.next_nonce(signer.public_key)
                args = {
                    "kind": "grant_role",
                    "params": {"subject": "red-cross", "role": f"r{round_}x{nonce}"},
                }
                tx = Transaction(
                    genesis.chain_id, signer.public_key, nonce, "identity", "propose", args
                )
                node.submit(sign_transaction(tx, signer).envelope)
        header = node.produce_block(time.time_ns() // 1_000_000)
        assert header is not None
        print(f"committed {header.height}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
