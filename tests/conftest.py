"""Shared fixtures."""

from __future__ import annotations

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
