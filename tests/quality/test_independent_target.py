"""A server we did not write: `tests/independent/server.py`, an implementation of the contract by someone who
had not seen the suite's checks — Python's http.server and sqlite3 instead of FastAPI and SQLAlchemy, and its
MAY choices the other way from the reference's wherever the contract allows (204 on delete, 400 for
validation, 404 across teams, pageSize clamped, unknown fields refused, a webhook list without pagination…).
Its switches flip those choices again (CSTAR_INDEP_ALT) or deliver every event twice (CSTAR_INDEP_DUP). On
each the gate must be green with no finding at all: a false alarm here is one a real staging would raise."""

from __future__ import annotations

from pathlib import Path

import pytest
from suite_runs import run

from cstar_conformance.selfcheck.bench import Target

MODES = {"its own choices": {}, "the other choices": {"CSTAR_INDEP_ALT": "1"},
         "every event twice": {"CSTAR_INDEP_DUP": "1"}}


@pytest.mark.parametrize("mode", list(MODES))
def test_the_gate_is_green_with_no_finding_on_an_independent_implementation(mode: str, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    with Target(implementation="independent", env=MODES[mode]) as independent:
        result = run("suites", *independent.suite_args(), reports=reports, timeout=240,
                     case="gate on the independent implementation")
    summary = result.summary(reports)
    verdicts = summary["checks"]  # type: ignore[index]
    red = [f"{c['test']} {c['verdict']}: {c['message'][:200]}" for c in verdicts  # type: ignore[union-attr]
           if c["verdict"] in ("failed", "error", "finding", "blocked")]
    assert result.returncode == 0 and not red, "\n".join(red) or result.output[-3000:]
