"""The published report remembers the previous run, with the commands the CI workflow runs: a first run
is rendered and published (`make report`, `tools/report/last-run.sh publish`), served over HTTP like the
Pages site; the second run fetches it (`last-run.sh fetch`) and its report shows the first run's result
in each test's history and Trend, and the first run's summary is the second run's baseline."""

from __future__ import annotations

import base64
import functools
import json
import re
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from suite_runs import ROOT, clean_env

LAST_RUN = ROOT / "tools" / "report" / "last-run.sh"
NAME = "test_list_is_paginated"


def write_run(folder: Path, status: str, started: int) -> None:
    """A run's reports as the suite leaves them: one check's Allure result and the summary."""
    results = folder / "allure-results"
    results.mkdir(parents=True)
    result = {"uuid": str(uuid.uuid4()), "historyId": "cstar-history-check", "testCaseId": "cstar-history-check",
              "name": NAME, "fullName": f"suites.scenarios.test_pagination#{NAME}", "status": status,
              "stage": "finished", "start": started, "stop": started + 5,
              "labels": [{"name": "suite", "value": "suites.scenarios"}, {"name": "level", "value": "MUST"}]}
    (results / f"{result['uuid']}-result.json").write_text(json.dumps(result))
    verdict = "pass" if status == "passed" else "fail"
    summary = {"complete": True, "verdict": verdict, "reason": verdict, "exit_status": 0 if status == "passed" else 1,
               "run_id": f"cstconf{started}", "totals": {"MUST": {status: 1}},
               "checks": [{"id": f"LIST-WALK-COMPLETE::{NAME}", "test": f"suites/scenarios/test_pagination.py::{NAME}",
                           "rules": ["LIST-WALK-COMPLETE"], "level": "MUST", "verdict": status, "message": ""}]}
    (folder / "summary.json").write_text(json.dumps(summary))


def sh(*args: str, cwd: Path = ROOT) -> str:
    proc = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=clean_env(), timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def report_data(page: Path) -> dict[str, Any]:
    """The data files embedded in a single-file Allure report, by name."""
    text = page.read_text(encoding="utf-8")
    return {name: base64.b64decode(data) for name, data in re.findall(r'd\("([^"]+)","([^"]*)"\)', text)
            if not name.startswith("data/attachments/")}


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on loopback, as the Pages site serves the published report."""
    site = tmp_path / "site"
    site.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_second_report_shows_the_first_runs_result(tmp_path: Path, pages: tuple[Path, str]) -> None:
    site, url = pages
    first, second = tmp_path / "first", tmp_path / "second"
    assert "no published report" in sh(str(LAST_RUN), "fetch", "", str(first), str(tmp_path / "b1"))
    write_run(first, "failed", 1795900000000)
    sh("make", "-s", "report", f"REPORTS={first}")
    sh(str(LAST_RUN), "publish", str(first), str(tmp_path / "b1"))
    for published in (first / "html").iterdir():
        (site / published.name).write_bytes(published.read_bytes())

    out = sh(str(LAST_RUN), "fetch", url, str(second), str(tmp_path / "b2"))
    assert "history of 1 run(s)" in out
    assert json.loads((tmp_path / "b2" / "summary.json").read_text())["run_id"] == "cstconf1795900000000"
    write_run(second, "passed", 1795903600000)
    sh("make", "-s", "report", f"REPORTS={second}")

    data = report_data(second / "html" / "index.html")
    case = next(json.loads(v) for k, v in data.items() if k.startswith("data/test-cases/") and NAME.encode() in v)
    assert case["status"] == "passed"
    history = case["extra"]["history"]
    assert [item["status"] for item in history["items"]] == ["failed"]  # the first run's result
    assert history["statistic"]["failed"] == 1 and history["statistic"]["passed"] == 1
    trend = json.loads(data["widgets/history-trend.json"])
    assert [(entry["data"]["passed"], entry["data"]["failed"]) for entry in trend] == [(1, 0), (0, 1)]
    assert len((second / "history.jsonl").read_text().splitlines()) == 2
    assert "VERDICT: PASS" in (second / "html" / "index.html").read_text(encoding="utf-8")


def test_the_workflow_runs_these_commands() -> None:
    workflow = (ROOT / ".github" / "workflows" / "conformance.yml").read_text()
    fetch, run, render, publish = (workflow.index(step) for step in (
        'tools/report/last-run.sh fetch "${{ steps.pages.outputs.base_url }}" reports baseline',
        "export CSTAR_BASELINE=baseline/summary.json", "then make report; fi",
        "tools/report/last-run.sh publish reports baseline"))
    assert fetch < run < render < publish
