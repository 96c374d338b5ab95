"""summary.json never shows a verdict the run did not reach: a run that could not start says "error"
with its line, one that died while pytest parsed its arguments says "incomplete", and neither leaves
the previous run's results for `make report` to render as if they were this run's."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from suite_runs import ROOT, clean_env, run


@pytest.fixture(scope="module")
def green(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reports folder holding a complete, green run."""
    folder = tmp_path_factory.mktemp("reports")
    result = run("suites/scenarios/test_idempotency.py", reports=folder, case="a green run")
    assert result.returncode == 0, result.output[-2000:]
    assert json.loads((folder / "summary.json").read_text())["verdict"] == "pass"
    assert (folder / "junit.xml").exists() and any((folder / "allure-results").glob("*-result.json"))
    return folder


def results_of(folder: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in (folder / "allure-results").glob("*-result.json")]


def test_a_run_that_cannot_start_replaces_the_previous_green_verdict(green: Path) -> None:
    result = run("suites/scenarios/test_idempotency.py", "--base-url", "http://127.0.0.1:9/api/v1", "--api-key",
                 "sk_test_x1234567890", "--team-id", "t", reports=green, case="preflight error after a green run")
    assert result.returncode == 10
    summary = json.loads((green / "summary.json").read_text())
    assert summary["verdict"] == "error" and summary["complete"] is False and summary["exit_status"] == 10
    assert summary["reason"] in result.lines[0]
    assert not (green / "junit.xml").exists()
    results = results_of(green)  # only this run's verdict, nothing of the green run
    assert [r["name"] for r in results] == ["cStar run verdict: ERROR"] and results[0]["status"] == "broken"


def test_a_run_pytest_refuses_to_parse_leaves_incomplete_not_the_last_verdict(green: Path) -> None:
    result = run("suites/scenarios/test_idempotency.py", "--api-kye", "typo", reports=green,
                 case="unknown option after a green run")
    assert result.returncode == 4, result.output[-2000:]
    summary = json.loads((green / "summary.json").read_text())
    assert summary["verdict"] == "incomplete" and summary["complete"] is False
    assert not (green / "junit.xml").exists() and not (green / "allure-results").exists()


def test_a_run_that_collects_nothing_is_an_error_verdict(tmp_path: Path) -> None:
    result = run("suites/scenarios/test_idempotency.py", "-k", "no_such_check", reports=tmp_path,
                 case="-k matching no check")
    assert result.returncode == 5, result.output[-2000:]
    summary = result.summary(tmp_path)
    assert (summary["verdict"], summary["complete"]) == ("error", False)


def test_make_report_refuses_a_folder_without_results_of_the_last_run(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "summary.json").write_text('{"verdict": "incomplete"}')
    proc = subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "report-results"], cwd=tmp_path,
                          capture_output=True, text=True, env=clean_env(), timeout=30)
    assert proc.returncode != 0
    assert "no results of the last run" in proc.stdout + proc.stderr


def test_a_check_red_on_its_own_and_in_the_models_eyes_keeps_its_own_line(tmp_path: Path) -> None:
    """The verdict line of a check that failed by its own assertion, with the contract model's violations in
    its exchanges too, is that assertion's message (it was the traceback's first line: the test's arguments)."""
    result = run("suites/scenarios/test_pagination.py", "-k", "past_100", "--profile", "thorough",
                 "--reference-fault", "total-capped-100", reports=tmp_path, case="a total capped at 100")
    assert result.returncode == 1, result.output[-2000:]
    own = [c for c in json.loads((tmp_path / "summary.json").read_text())["checks"] if c["verdict"] == "failed"
           and not c["message"].startswith("contract model")]
    assert own and own[0]["message"].startswith("[LIST-TOTAL-HASMORE] 101 or more customers match"), own
