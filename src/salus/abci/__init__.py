"""Salus as an ABCI 2.0 application for CometBFT v0.38 (the multi-organisation engine).

- :class:`SalusApp` — the ledger behind CometBFT: CheckTx admission, proposal
  checks, block execution on staged state (app hash = state root), Commit.
- :class:`AbciServer` — the asyncio socket server CometBFT connects to
  (``proxy_app = "tcp://host:port"``); :class:`AbciServerThread` runs one on its
  own thread.
- :class:`TxCode` — the stable ABCI result codes of Salus transactions.
- ``frame`` / :class:`FrameDecoder` — the unsigned-varint length-prefixed framing.
"""

from salus.abci._base import Application, BaseApplication
from salus.abci._codes import CODESPACE, TxCode, abci_code
from salus.abci._server import AbciServer, AbciServerThread
from salus.abci._wire import FrameDecoder, FrameError, frame
from salus.abci.app import SalusApp

__all__ = [
    "CODESPACE",
    "AbciServer",
    "AbciServerThread",
    "Application",
    "BaseApplication",
    "FrameDecoder",
    "FrameError",
    "SalusApp",
    "TxCode",
    "abci_code",
    "frame",
]
