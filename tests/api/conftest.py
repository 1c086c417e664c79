"""Fixtures: a served node, empty or with a few committed blocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from tests.api.harness import Harness, running_node


@pytest.fixture
def api(genesis: Genesis, validator: Signer, tmp_path: Path) -> Iterator[Harness]:
    with running_node(genesis, validator, tmp_path) as harness:
        yield harness
