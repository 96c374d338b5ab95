"""Scale-out gives the same verdicts: xdist workers on one runner, and pytest-split shards across
runners, each against its own embedded reference (smoke fuzzing: the scenario checks are the same)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from suite_runs import clean_env

ROOT = Path(__file__).resolve().parents[2]


def verdicts(tmp: Path, name: str, *args: str) -> dict[str, str]:
    reports = tmp / name
    proc = subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                           "--profile", "smoke", "--reports-dir", str(reports), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=clean_env())
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.loads((reports / "summary.json").read_text())
    return {check["test"]: check["verdict"] for check in summary["checks"]}


def test_two_xdist_workers_and_two_shards_give_the_serial_verdicts(tmp_path: Path) -> None:
    serial = verdicts(tmp_path, "serial")
    assert len(serial) > 100
    assert verdicts(tmp_path, "xdist", "-n", "2") == serial
    first = verdicts(tmp_path, "shard1", "--splits", "2", "--group", "1")
    second = verdicts(tmp_path, "shard2", "--splits", "2", "--group", "2")
    assert first and second and not set(first) & set(second), "shards must split the checks between them"
    assert {**first, **second} == serial
