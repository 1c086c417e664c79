"""``ServedNode.wait_for_signal``: the main thread wakes on SIGINT/SIGTERM or a failure."""

from __future__ import annotations

import os
import signal
import threading
import time

from salus.api.serving import ServedNode


class _Idle(ServedNode):
    host = "127.0.0.1"
    port = 9

    def __init__(self, failure: str | None = None) -> None:
        self._failure = failure
        self.stopped = False

    @property
    def failure(self) -> str | None:
        return self._failure

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self.stopped = True


def _send_later(sig: signal.Signals, *, delay: float, times: int = 1) -> threading.Thread:
    def send() -> None:
        time.sleep(delay)
        for _ in range(times):
            os.kill(os.getpid(), sig)
            time.sleep(0.0005)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_a_signal_names_the_cause_and_shutdown_restores_the_handlers() -> None:
    before = signal.getsignal(signal.SIGTERM)
    node = _Idle()
    sender = _send_later(signal.SIGTERM, delay=0.2)
    assert node.wait_for_signal() == "SIGTERM"
    sender.join()
    # Still ours while the node stops: a second signal must not interrupt the stop.
    assert signal.getsignal(signal.SIGTERM) != before
    os.kill(os.getpid(), signal.SIGTERM)
    node.shutdown()
    assert node.stopped
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_burst_of_signals_never_deadlocks_the_waiting_thread() -> None:
    # A handler that took a lock (threading.Event.set) could deadlock when a second
    # signal landed while the first one's handler held that lock (seen with a double
    # Ctrl+C on `salus demo`). Timing-dependent, so this is a stress check, not a proof.
    # Signals still arriving after the wait ends reach this no-op handler it restores.
    original = signal.signal(signal.SIGINT, lambda signum, frame: None)
    try:
        node = _Idle()
        sender = _send_later(signal.SIGINT, delay=0.05, times=300)
        assert node.wait_for_signal() == "SIGINT"
        sender.join()
        node.shutdown()
    finally:
        signal.signal(signal.SIGINT, original)


def test_a_failure_ends_the_wait() -> None:
    node = _Idle("the HTTP server stopped")
    assert node.wait_for_signal() == "the HTTP server stopped"
    node.release_signals()
