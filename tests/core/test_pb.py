"""The committed protobuf modules match proto/ (the CometBFT v0.38 wire schema)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from salus.core.pb.tendermint.abci import types_pb2 as abci

ROOT = Path(__file__).resolve().parents[2]


def test_generated_modules_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_known_answer_encoding() -> None:
    # Request{echo: {message: "hi"}}: field 1 (echo), length 4, field 1 (message), "hi".
    request = abci.Request(echo=abci.RequestEcho(message="hi"))
    assert request.SerializeToString() == bytes.fromhex("0a040a026869")
    # Request.finalize_block is field 20 in ABCI 2.0 (v0.38).
    assert abci.Request.DESCRIPTOR.fields_by_name["finalize_block"].number == 20
