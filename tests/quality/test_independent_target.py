"""A server we did not write: `tests/independent/server.py`, an implementation of the contract by someone who
had not seen the suite's checks — Python's http.server and sqlite3 instead of FastAPI and SQLAlchemy, and its
MAY choices the other way from the reference's wherever the contract allows (204 on delete, 400 for
validation, 404 across teams, pageSize clamped, unknown fields refused, a webhook list without pagination…).
Its switches flip those choices again (CSTAR_INDEP_ALT) or deliver every event twice (CSTAR_INDEP_DUP). On
each the gate must be green with no finding at all: a false alarm here is one a real staging would raise."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from suite_runs import ROOT, clean_env, run

from cstar_conformance.target import free_port

SERVER = ROOT / "tests" / "independent" / "server.py"
MODES = {"its own choices": {}, "the other choices": {"CSTAR_INDEP_ALT": "1"},
         "every event twice": {"CSTAR_INDEP_DUP": "1"}}


def _start(env: dict[str, str], db: Path) -> tuple[subprocess.Popen[str], dict[str, object]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(SERVER), "--port", str(port), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=clean_env(**env))
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())  # printed once it listens


@pytest.fixture(params=list(MODES))
def independent(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, object]]:
    proc, started = _start(MODES[request.param], tmp_path / "independent.db")
    yield started
    proc.terminate()
    proc.wait(timeout=10)


def test_the_gate_is_green_with_no_finding_on_an_independent_implementation(
        independent: dict[str, object], tmp_path: Path) -> None:
    one, two = independent["teams"]  # type: ignore[misc]
    reports = tmp_path / "reports"
    result = run("suites", "--base-url", str(independent["baseUrl"]), "--api-key", one["secretKey"],
                 "--team-id", one["teamId"], "--other-api-key", two["secretKey"], "--other-team-id", two["teamId"],
                 "--publishable-key", one["publishableKey"], reports=reports, timeout=240,
                 case="gate on the independent implementation")
    summary = result.summary(reports)
    verdicts = summary["checks"]  # type: ignore[index]
    red = [f"{c['test']} {c['verdict']}: {c['message'][:200]}" for c in verdicts  # type: ignore[union-attr]
           if c["verdict"] in ("failed", "error", "finding", "blocked")]
    assert result.returncode == 0 and not red, "\n".join(red) or result.output[-3000:]
