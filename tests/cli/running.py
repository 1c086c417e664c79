"""A real network for client and CLI tests: a home made by ``create_home`` and a
node served by :class:`~salus.cli.server.NodeServer` (uvicorn on a free 127.0.0.1
port, in a background thread of the test process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, Queue

from salus.cli.home import NodeHome, OrganisationPlan, create_home
from salus.cli.server import NodeServer
from salus.core.crypto import Signer
from salus.core.genesis import Genesis
from salus.keystore import load_key

PASSPHRASE = "test passphrase"
CHAIN_ID = "salus-cli-test"
ORGANISATIONS = [
    OrganisationPlan("health-ministry", "Health Ministry", ("admin",)),
    OrganisationPlan("city-hospital", "City Hospital"),
    OrganisationPlan("red-cross", "Red Cross"),
]


@dataclass
class Network:
    home: Path
    genesis: Genesis
    url: str
    server: NodeServer

    @property
    def layout(self) -> NodeHome:
        return NodeHome(self.home)

    def key_file(self, name: str) -> Path:
        return self.layout.key_path(name)

    def signer(self, name: str) -> Signer:
        return load_key(self.key_file(name), PASSPHRASE)


def make_home(home: Path, *, chain_id: str = CHAIN_ID) -> Genesis:
    genesis, _ = create_home(
        home,
        chain_id=chain_id,
        organisations=ORGANISATIONS,
        passphrase=PASSPHRASE,
        genesis_time_ms=1_700_000_000_000,
        strength="interactive",
    )
    return genesis


@contextmanager
def running_network(home: Path, *, block_interval_ms: int = 20) -> Iterator[Network]:
    genesis = make_home(home)
    validator = load_key(NodeHome(home).validator_key_path, PASSPHRASE)
    server = NodeServer(
        genesis,
        validator,
        NodeHome(home).data_dir,
        port=0,
        block_interval_ms=block_interval_ms,
    )
    with server:
        yield Network(home, genesis, server.url, server)


# -- subprocesses ---------------------------------------------------------------------


def salus_command() -> list[str]:
    """The installed console script, or ``python -m salus.cli`` without one."""
    script = Path(sys.executable).with_name("salus")
    return [str(script)] if script.exists() else [sys.executable, "-m", "salus.cli"]


class Process:
    """A ``salus`` subprocess whose output lines are collected as they arrive."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.popen = subprocess.Popen(
            [*salus_command(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: Queue[str | None] = Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, predicate: str, timeout: float) -> str:
        """The first output line containing ``predicate``; fails with all output if none."""
        for line in self.lines:
            if predicate in line:
                return line
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self._queue.get(timeout=0.1)
            except Empty:
                continue
            if item is None:
                break
            self.lines.append(item)
            if predicate in item:
                return item
        raise AssertionError(f"no line with {predicate!r}; output so far:\n" + self.output())

    def output(self) -> str:
        while True:
            try:
                line = self._queue.get_nowait()
            except Empty:
                break
            if line is not None:
                self.lines.append(line)
        return "\n".join(self.lines)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> int:
        """Send ``sig`` (by pid) and wait for the exit status."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        try:
            code = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise
        self._reader.join(timeout=5)
        self.output()
        assert self.popen.stdout is not None
        self.popen.stdout.close()
        return code


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALUS_")}
    env.update(extra)
    return env
