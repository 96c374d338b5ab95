"""The verdict against a baseline, as a CI job uses it: one file of checks run against a faulty reference,
then again with that run as `--baseline` and `--fail-on new`: the known failures pass the gate and are
listed. (Fixed checks, renames and flakiness are proven from pre-made summaries in tests/unit.) A
baseline that cannot be used is one line and status 4."""

from __future__ import annotations

import json
from pathlib import Path

from suite_runs import one_line_error, run

SUBSET = "suites/scenarios/test_custom_fields.py"
FAULT = ("--reference-fault", "customfields-stringified")


def test_known_failures_pass_fail_on_new_and_are_listed(tmp_path: Path) -> None:
    first = run(SUBSET, *FAULT, reports=tmp_path / "first", case="baseline: faulty reference")
    assert first.returncode == 1, first.output[-2000:]
    known = [c["id"] for c in first.summary(tmp_path / "first")["checks"] if c["verdict"] == "failed"]
    assert known and all(i.startswith("CUSTOMFIELDS-") for i in known)

    again = run(SUBSET, *FAULT, "--baseline", str(tmp_path / "first" / "summary.json"), "--fail-on", "new",
                reports=tmp_path / "again", case="same fault, --fail-on new")
    assert again.returncode == 0, again.output[-3000:]
    data = again.summary(tmp_path / "again")
    assert data["verdict"] == "pass" and data["must_failures"] == len(known)  # the failures stay counted
    diff = data["baseline"]
    assert [e["id"] for e in diff["still_failing"]] == known
    assert diff["new_failures"] == diff["flaky"] == diff["fixed"] == [] and diff["same_run"] is True
    assert "VERDICT: PASS — no new failure since the baseline" in again.output
    assert data["coverage"]["customer_operations"]["reached"] >= 3 and "schema coverage:" in again.output
    assert f"still failing (known): {len(known)}" in again.output
    assert all(f"  {i} (was failed)" in again.output for i in known)


def test_an_unusable_baseline_ends_the_run_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "last.json").write_text(json.dumps({"verdict": "pass"}))
    result = run(SUBSET, "--baseline", str(tmp_path / "last.json"), reports=tmp_path / "r",
                 case="baseline without checks")
    one_line_error(result, 4, tmp_path / "r", "--baseline", "no list of checks")
