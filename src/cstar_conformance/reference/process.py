"""Start the reference server as a subprocess and wait for its READY line (for self-tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

# The line the server prints once it listens (`__main__` writes it).
READY_PREFIX = "CSTAR_REFERENCE_READY"


@dataclass
class RunningReference:
    """A reference server subprocess, as announced by its ``CSTAR_REFERENCE_READY`` line."""

    process: subprocess.Popen[str]
    base_url: str
    teams: list[dict[str, str]]
    faults: list[str]
    variant: str
    ready: dict[str, Any] = field(repr=False)
    stderr_path: str = ""

    @property
    def choices(self) -> dict[str, str]:
        """The alternative this server takes for every legal choice (see reference.modes)."""
        return dict(self.ready.get("choices", {}))

    @property
    def team_a(self) -> dict[str, str]:
        return self.teams[0]

    @property
    def team_b(self) -> dict[str, str]:
        return self.teams[1]

    def client(self, team: int = 0, **kwargs: Any) -> httpx.Client:
        """An httpx client rooted at ``/teams/<team id>`` carrying that team's secret key."""
        data = self.teams[team]
        kwargs.setdefault("timeout", 10)
        return httpx.Client(base_url=f"{self.base_url}/teams/{data['id']}",
                            headers={"Authorization": f"Bearer {data['secret_key']}"}, **kwargs)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait, and kill if it does not exit; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self.stderr_path:
            try:
                os.remove(self.stderr_path)
            except FileNotFoundError:
                pass
        return self.process.returncode

    def __enter__(self) -> RunningReference:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class ReferenceStartError(RuntimeError):
    """The server exited (or hung) before its READY line; `returncode` 2 means a usage error."""

    def __init__(self, message: str, returncode: int | None) -> None:
        super().__init__(message)
        self.returncode = returncode


def start_reference(args: Sequence[str] = (), *, timeout: float = 20.0) -> RunningReference:
    """Run ``python -m cstar_conformance.reference --port 0 ARGS`` and wait until it listens."""
    fd, stderr_path = tempfile.mkstemp(prefix="cstar-reference-", suffix=".log")
    with os.fdopen(fd, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "cstar_conformance.reference", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=stderr, text=True, bufsize=1,
        )
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:  # EOF: the server exited
            break
        if line.startswith(READY_PREFIX + " "):
            ready = json.loads(line[len(READY_PREFIX) + 1:])
            return RunningReference(process, ready["base_url"], ready["teams"], ready["faults"],
                                    ready["variant"], ready, stderr_path)
    process.kill()
    process.wait()
    with open(stderr_path) as f:
        log = f.read()
    os.remove(stderr_path)
    raise ReferenceStartError(f"reference server did not become ready (exit {process.returncode}):\n{log}",
                              process.returncode)
