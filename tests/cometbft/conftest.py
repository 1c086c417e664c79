"""Fixtures: one 4-validator Salus testnet shared by the tests that need real processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cometbft.network import Net, running_testnet


@pytest.fixture(scope="session")
def net(cometbft_binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    """Four validators (one per organisation) on 127.0.0.1, all running.

    Tests that stop nodes restart them before they end, so the next test again
    finds four running validators.
    """
    with running_testnet(tmp_path_factory.mktemp("bft") / "testnet", cometbft_binary) as network:
        yield network
