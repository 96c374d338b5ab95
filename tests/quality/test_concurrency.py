"""Two runs in one checkout: a second run into a reports folder in use refuses with one line and its own
status, leaving the first run's results alone; with a folder of its own it runs beside it."""

from __future__ import annotations

import json
import time
from pathlib import Path

from suite_runs import finish, run, start, wait_for

from cstar_conformance.exits import EXIT_BUSY


def test_a_second_run_into_a_folder_in_use_refuses_and_one_with_its_own_folder_runs(tmp_path: Path) -> None:
    shared = tmp_path / "reports"
    first = start("suites/scenarios/test_idempotency.py", "--max-rps", "4", reports=shared)
    started = time.monotonic()
    wait_for(lambda: (shared / ".cstar-run.lock").exists() and (shared / "summary.json").exists()
             or first.poll() is not None, 60, "the first run to hold its folder")
    assert first.poll() is None, "the first run ended too soon"
    second = run("suites/scenarios/test_idempotency.py", reports=shared, case="second run into a folder in use")
    beside = run("suites/scenarios/test_idempotency.py", reports=tmp_path / "own", case="second run, own folder")
    result = finish(first, started, "first run (holding the folder)")
    assert second.returncode == EXIT_BUSY, second.output[-2000:]
    assert len(second.lines) == 1 and "is in use by another run" in second.lines[0], second.lines
    assert result.returncode == 0, result.output[-2000:]
    assert json.loads((shared / "summary.json").read_text())["verdict"] == "pass"
    assert beside.returncode == 0, beside.output[-2000:]
