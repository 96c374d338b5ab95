"""The HTML report's front page and size: the verdict block says the verdict, the MUST failures first
with their rule text, the findings and the diff; a passed check keeps a sample of its exchanges, a
failed one every exchange, and shared passed fixtures are sampled (from pre-made Allure results)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from cstar_conformance import evidence, verdict_page
from cstar_conformance.rules import rule

PAGE = "<!DOCTYPE html><html><head></head><body><div id=\"content\"></div></body></html>"


def failing_summary() -> dict[str, Any]:
    return {
        "complete": True, "verdict": "fail", "reason": "1 MUST failure(s)", "exit_status": 1, "target": "t",
        "run_id": "cstconf1", "totals": {"SHOULD": {"finding": 1}, "MUST": {"passed": 3, "failed": 1}},
        "checks": [
            {"id": "LIST-BAD-PARAMS-4XX::test_bad_params", "test": "x::test_bad_params",
             "rules": ["LIST-BAD-PARAMS-4XX"], "level": "SHOULD", "verdict": "finding",
             "message": "SHOULD finding [LIST-BAD-PARAMS-4XX]: pageSize=abc answered 200"},
            {"id": "FILTER-EXACT::test_filter", "test": "x::test_filter", "rules": ["FILTER-EXACT"], "level": "MUST",
             "verdict": "failed", "message": "filters were ORed"},
            {"id": "AUTH-401::test_ok", "test": "x::test_ok", "rules": ["AUTH-401"], "level": "MUST",
             "verdict": "passed", "message": ""},
        ],
    }


def test_the_front_page_says_the_verdict_then_must_failures_with_rule_text_then_findings() -> None:
    page = verdict_page.inject(failing_summary(), PAGE)
    block = page[page.index("cstar-verdict"):]
    assert "VERDICT: FAIL — 1 MUST failure(s)" in block
    assert block.index("MUST failures: 1") < block.index("FILTER-EXACT::test_filter") < block.index(
        "SHOULD findings (warnings): 1") < block.index("LIST-BAD-PARAMS-4XX::test_bad_params")
    assert escape(rule("FILTER-EXACT").statement) in block and escape(rule("LIST-BAD-PARAMS-4XX").title) in block
    assert "<td>MUST</td><td>3</td><td>1</td>" in block  # by level: passed, failed
    assert ".summary-widget__chart{display:none}" in page  # no green ring for a failing gate
    assert page.index("cstar-verdict") < page.index('<div id="content">')
    assert verdict_page.inject(failing_summary(), page).count("id='cstar-verdict'") == 1  # re-rendered, not added


def test_the_front_page_shows_the_diff_and_an_incomplete_run_as_such() -> None:
    data = failing_summary()
    data["baseline"] = {"source": "last.json", "run_id": "cstconf0", "verdict": "pass", "fail_on": "new",
                        "same_run": False, "renamed": [], "new_failures": [
                            {**data["checks"][1], "baseline_verdict": "passed"}]}
    block = verdict_page.render(data)
    assert "Against the baseline" in block and "new failures: 1" in block and "(was passed)" in block
    stopped = {"complete": False, "verdict": "incomplete", "reason": "budget exhausted", "not_run": 12, "checks": []}
    block = verdict_page.render(stopped)
    assert "VERDICT: INCOMPLETE — budget exhausted" in block and "12 check(s) not run" in block


def _step(name: str, source: str) -> dict[str, Any]:
    return {"name": name, "status": "passed", "attachments": [{"name": "exchange", "source": source,
                                                              "type": "text/plain"}]}


def _results(folder: Path, status: str, uuid: str, exchanges: int) -> None:
    steps = []
    for n in range(exchanges):
        source = f"{uuid}-{n}-attachment.txt"
        (folder / source).write_text("GET /customers\n" * 20)
        steps.append(_step(f"GET {n}", source))
    (folder / f"{uuid}-result.json").write_text(json.dumps({"uuid": uuid, "status": status, "steps": steps}))


def test_passed_checks_keep_no_exchange_failed_ones_everything_and_shared_fixtures_are_left_out(
        tmp_path: Path) -> None:
    _results(tmp_path, "passed", "p", 10)
    _results(tmp_path, "failed", "f", 10)
    cleanup = []
    for n in range(8):
        (tmp_path / f"c-{n}-attachment.txt").write_text("DELETE\n")
        cleanup.append(_step(f"DELETE {n}", f"c-{n}-attachment.txt"))
    (tmp_path / "s-container.json").write_text(json.dumps({
        "uuid": "s", "children": ["p", "f"], "befores": [{"name": "base_url", "status": "passed", "steps": []}],
        "afters": [{"name": "factory::1", "status": "passed", "steps": cleanup}]}))
    own_steps = []
    for n in range(2):
        (tmp_path / f"o-{n}-attachment.txt").write_text("POST\n")
        own_steps.append(_step(f"POST {n}", f"o-{n}-attachment.txt"))
    (tmp_path / "o-container.json").write_text(json.dumps({
        "uuid": "o", "children": ["f"], "befores": [{"name": "own", "status": "passed", "steps": own_steps}]}))
    counts = evidence.trim(tmp_path)
    passed = json.loads((tmp_path / "p-result.json").read_text())
    failed = json.loads((tmp_path / "f-result.json").read_text())
    assert len(failed["steps"]) == 10 and all((tmp_path / f"f-{n}-attachment.txt").exists() for n in range(10))
    assert [s["name"] for s in passed["steps"]] == ["10 exchange(s), kept only when the check fails"]
    assert not any((tmp_path / f"p-{n}-attachment.txt").exists() for n in range(10))
    container = json.loads((tmp_path / "s-container.json").read_text())
    assert container["befores"] == [] and container["afters"] == []  # shared and passed: left out
    own = json.loads((tmp_path / "o-container.json").read_text())
    assert len(own["befores"][0]["steps"]) == 2  # the fixture of a failed check alone keeps everything
    assert counts == {"exchanges_kept": 10 + 2, "exchanges_dropped": 10 + 8}
