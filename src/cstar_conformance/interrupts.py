"""Ctrl-C and SIGTERM, the same way at any moment of a run.

The first signal (SIGINT from a terminal or a CI cancel, SIGTERM from `timeout`, `docker stop` or a
runner) becomes a KeyboardInterrupt: pytest stops the run, the session's fixtures delete what the run
made, and the verdict says the run is incomplete. A KeyboardInterrupt raised while Python runs a
finalizer (a connection pool closed by the garbage collector) is swallowed by Python itself, so the
interrupt counts as delivered only once pytest acknowledges it; until then `check()`, called before
every request and every test, raises it again. A second signal while that cleanup runs stops at
once: the `on_second` callback records the verdict and stops the embedded target, one line says what
was left undone, and the process exits with status 2 — no traceback, at any moment.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from cstar_conformance.exits import EXIT_INTERRUPTED

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupts:
    def __init__(self) -> None:
        self.received: list[str] = []
        self.on_second: Callable[[str], str] | None = None  # does the last things; returns the line to print
        self._previous: dict[int, Any] = {}
        self._deferring = 0
        self._pending = False
        self.acknowledged = False  # pytest (or the start-up) has acted on the first signal
        # xdist workers of this run: a SIGTERM sent to this process alone is passed on to them as SIGINT,
        # so that they stop and clean up too (a terminal's Ctrl-C reaches them by itself).
        self.workers: list[int] = []

    @property
    def first(self) -> str | None:
        return self.received[0] if self.received else None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def uninstall(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold a first signal until the block is done (a child process being started must be known
        before the run can stop it); it is raised as KeyboardInterrupt right after."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
            if not self._deferring and self._pending:
                self._pending = False
                raise KeyboardInterrupt(self.first)

    def acknowledge(self) -> None:
        self.acknowledged = True

    def check(self) -> None:
        """A safe point: raise the first signal's KeyboardInterrupt if it has not taken effect yet."""
        if self.received and not self.acknowledged and not self._deferring:
            raise KeyboardInterrupt(self.first)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        self.received.append(name)
        if len(self.received) > 1:
            self.stop_now(name)
        if signum == signal.SIGTERM:
            for pid in self.workers:
                try:
                    os.kill(pid, signal.SIGINT)
                except OSError:
                    pass
        if self._deferring:
            self._pending = True
            return
        raise KeyboardInterrupt(name)

    def stop_now(self, name: str) -> None:
        for sig in SIGNALS:  # nothing may interrupt the last words
            signal.signal(sig, signal.SIG_IGN)
        line = f"cstar: {name} again: stopped at once"
        try:
            if self.on_second is not None:
                line = self.on_second(name)
        finally:
            try:
                sys.stdout.flush()
            except (OSError, ValueError):
                pass
            os.write(2, ("\n" + line + "\n").encode())  # after whatever progress line was being written
            os._exit(EXIT_INTERRUPTED)
