"""Ctrl-C and SIGTERM, the same way at any moment of a run.

The first signal (SIGINT from a terminal or a CI cancel, SIGTERM from `timeout`, `docker stop` or a
runner) becomes a KeyboardInterrupt: pytest stops the run, the session's fixtures delete what the run
made, and the verdict says the run is incomplete. A KeyboardInterrupt raised while Python runs a
garbage-collector callback or a finalizer (Hypothesis times every collection; a connection pool is
closed by the collector) would be swallowed by Python and printed as an "Exception ignored" traceback:
a signal arriving there is held instead, and whatever escapes that test is kept out of the output. The
interrupt counts as delivered only once pytest acknowledges it; until then `check()`, called before
every request and every test, raises it. A second signal while that cleanup runs stops at
once: the `on_second` callback records the verdict and stops the embedded target, one line says what
was left undone, and the process exits with status 2 — no traceback, at any moment.
"""

from __future__ import annotations

import gc
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
        self._collecting = False
        self._raised = False  # a KeyboardInterrupt of the first signal has been raised
        self._redelivering = False
        self._unraisable_wrapper: Callable[[Any], object] | None = None

    @property
    def first(self) -> str | None:
        return self.received[0] if self.received else None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        # First to hear a collection start, last to hear it stop: every other callback runs inside.
        gc.callbacks.insert(0, self._gc_started)
        gc.callbacks.append(self._gc_stopped)
        self.quiet_unraisable()

    def uninstall(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        if self._previous:
            for callback in (self._gc_started, self._gc_stopped):
                if callback in gc.callbacks:
                    gc.callbacks.remove(callback)
        self._previous.clear()
        wrapper = self._unraisable_wrapper
        if wrapper is not None and sys.unraisablehook is wrapper:
            sys.unraisablehook = wrapper.previous  # type: ignore[attr-defined]
        self._unraisable_wrapper = None

    def quiet_unraisable(self) -> None:
        """Keep this run's own KeyboardInterrupts, swallowed by Python in a finalizer, out of the output
        (a traceback for a Ctrl-C). pytest installs its own hook when it configures: call this again
        after that. Every other unraisable exception goes to the hook in place."""
        current = sys.unraisablehook
        if current is self._unraisable_wrapper:
            return

        def wrapper(unraisable: Any) -> object:
            if isinstance(unraisable.exc_value, KeyboardInterrupt) and self.received:
                return None
            return current(unraisable)

        wrapper.previous = current  # type: ignore[attr-defined]
        self._unraisable_wrapper = wrapper
        sys.unraisablehook = wrapper

    def _gc_started(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._collecting = True

    def _gc_stopped(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "stop":
            self._collecting = False

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
                self._raise(self.first or "SIGINT")

    def acknowledge(self) -> None:
        self.acknowledged = True

    def check(self) -> None:
        """A safe point: raise the first signal's KeyboardInterrupt if it has not taken effect yet."""
        if self.received and not self.acknowledged and not self._deferring:
            self._raise(self.first or "SIGINT")

    def _raise(self, name: str) -> None:
        self._raised = True
        raise KeyboardInterrupt(name)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._redelivering:  # a held signal, sent again by _hold
            self._redelivering = False
            if self._raised or self.acknowledged:
                return
        else:
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
        if self._collecting or _in_finalizer(frame):
            self._hold(signum)  # Python would swallow a KeyboardInterrupt here
            return
        self._raise(name)

    def _hold(self, signum: int) -> None:
        """Raise the signal at the next check(), or when it arrives again in 50 ms, whichever is first."""
        def again() -> None:
            if not (self._raised or self.acknowledged):
                self._redelivering = True
                os.kill(os.getpid(), signum)

        timer = threading.Timer(0.05, again)
        timer.daemon = True
        timer.start()

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


def _in_finalizer(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False
