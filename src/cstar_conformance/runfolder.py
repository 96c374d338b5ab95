"""The reports folder of one run: held by that run alone (a lock, so that a second run in the same
checkout refuses with one line instead of the two overwriting each other), emptied of the previous
run's results when the run starts, and its summary.json always replaced whole."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from cstar_conformance.exits import EXIT_BUSY, StopRun

LOCK_NAME = ".cstar-run.lock"
PREVIOUS_RESULTS = ("junit.xml", "allure-results", "html", "summary.json")


class RunFolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock: IO[str] | None = None

    @property
    def summary(self) -> Path:
        return self.path / "summary.json"

    @property
    def junit(self) -> Path:
        return self.path / "junit.xml"

    @property
    def allure(self) -> Path:
        return self.path / "allure-results"

    def acquire(self) -> None:
        """Hold the folder for this process (released when it exits, however it exits)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            handle = open(self.path / LOCK_NAME, "a+")  # noqa: SIM115 - held for the life of the run
        except OSError as exc:
            raise StopRun(f"cannot write the reports folder {self.path}: {exc.strerror}", EXIT_BUSY) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StopRun(f"the reports folder {self.path} is in use by another run ({holder}): wait for it, "
                          "or give this run its own folder with --reports-dir DIR", EXIT_BUSY) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {time.strftime('%H:%M:%S')}\n")
        handle.flush()
        self._lock = handle

    def release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def clear_previous(self) -> None:
        """Remove the previous run's results, so that nothing of it can pass for this run's."""
        for name in PREVIOUS_RESULTS:
            target = self.path / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)

    def write_json(self, path: Path, data: Any, mask: Callable[[str], str] = str) -> None:
        """Write whole or not at all: a reader never sees half a file. `mask` hides secrets in the text."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.write_text(mask(json.dumps(data, indent=2)) + "\n")
        os.replace(partial, path)
