"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from tests.support import genesis_data, key


@pytest.fixture
def genesis() -> Genesis:
    return Genesis.from_data(genesis_data())


@pytest.fixture
def validator() -> Signer:
    return key(9)


@pytest.fixture(scope="session")
def cometbft_binary() -> Path:
    """The pinned CometBFT binary; skips LOUDLY (with how to get it) when missing."""
    from salus.cometbft.binary import CometBFTMissing, find_cometbft

    try:
        return find_cometbft(Path(__file__).resolve().parent)
    except CometBFTMissing as exc:
        pytest.skip(f"CometBFT tests skipped: {exc.reason}")


def pytest_report_header() -> str:
    """Say at the top of every run whether the CometBFT tests can run."""
    from salus.cometbft.binary import CometBFTMissing, find_cometbft

    try:
        return f"cometbft: {find_cometbft(Path(__file__).resolve().parent)}"
    except CometBFTMissing as exc:
        return f"cometbft: MISSING, its tests will be SKIPPED. {exc.reason}"
