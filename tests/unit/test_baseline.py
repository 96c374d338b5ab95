"""The verdict against a baseline, from pre-made summaries: every category, renames, flakiness and the
`--fail-on new` gate; a baseline that cannot be used is one line with the usage status."""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from cstar_conformance import baseline
from cstar_conformance.exits import EXIT_USAGE, StopRun
from cstar_conformance.options import OPTIONS, resolve

FILE = "suites/scenarios/test_pagination.py"
OPERATION = "suites/contract/test_openapi_contract.py::test_operation_keeps_the_contract[GET /teams/{teamId}/customers]"


def check(test: str, verdict: str, rules: tuple[str, ...] = ("LIST-DEFAULTS",), level: str = "MUST") -> dict[str, Any]:
    return {"test": test if "::" in test else f"{FILE}::{test}", "rules": list(rules), "level": level,
            "verdict": verdict, "message": ""}


def summary(*checks: dict[str, Any], **identity: Any) -> dict[str, Any]:
    data = {"complete": True, "verdict": "fail" if any(c["verdict"] in baseline.RED for c in checks) else "pass",
            "run_id": "cstconf1", "git_commit": "abc", "suite_version": "0.1.0", "target": "https://staging/api/v1",
            "target_version": None, "profile": "gate", "seed": 1, "spec": {"version": "1", "sha256": "f00"},
            "checks": [copy.deepcopy(c) for c in checks]}
    data.update(identity)
    return data


def ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in entries]


def test_check_ids_are_rule_and_test_name_with_parameters_and_operations_without_the_team_prefix() -> None:
    assert baseline.check_id(f"{FILE}::test_a[10-x]", ["LIST-DEFAULTS", "ENV-LIST"]) == "LIST-DEFAULTS::test_a[10-x]"
    assert baseline.check_id(OPERATION, ["NO-5XX"]) == "NO-5XX::test_operation_keeps_the_contract[GET /customers]"
    rows = [check("test_a", "passed"), check("suites/scenarios/test_filters.py::test_a", "passed")]
    baseline.assign_ids(rows)
    assert ids(rows) == ["LIST-DEFAULTS::test_a@pagination", "LIST-DEFAULTS::test_a@filters"]


def test_every_category_of_change_is_listed() -> None:
    before = summary(check("test_new", "passed"), check("test_known", "failed"), check("test_fixed", "error"),
                     check("test_finding_new", "passed", level="SHOULD"),
                     check("test_finding_known", "finding", level="SHOULD"),
                     check("test_finding_fixed", "finding", level="SHOULD"), check("test_blocked_now", "failed"),
                     check("test_gone", "failed", rules=("FILTER-EXACT",)))
    after = summary(check("test_new", "failed"), check("test_known", "failed"), check("test_fixed", "passed"),
                    check("test_finding_new", "finding", level="SHOULD"),
                    check("test_finding_known", "finding", level="SHOULD"),
                    check("test_finding_fixed", "passed", level="SHOULD"), check("test_blocked_now", "blocked"),
                    check("test_added", "failed", rules=("SEARCH-FIELDS",)), git_commit="def")
    result = baseline.diff(before, after, "new")
    assert ids(result["new_failures"]) == ["LIST-DEFAULTS::test_new", "SEARCH-FIELDS::test_added"]
    assert ids(result["still_failing"]) == ["LIST-DEFAULTS::test_known"]
    assert ids(result["fixed"]) == ["LIST-DEFAULTS::test_fixed"]
    assert ids(result["new_findings"]) == ["LIST-DEFAULTS::test_finding_new"]
    assert ids(result["still_findings"]) == ["LIST-DEFAULTS::test_finding_known"]
    assert ids(result["fixed_findings"]) == ["LIST-DEFAULTS::test_finding_fixed"]
    assert ids(result["not_graded_now"]) == ["LIST-DEFAULTS::test_blocked_now"]  # blocked is not "fixed"
    assert ids(result["removed"]) == ["FILTER-EXACT::test_gone"]
    assert ids(result["added"]) == ["SEARCH-FIELDS::test_added"]
    assert result["flaky"] == [] and result["regressions"] == 2 and result["same_run"] is False


def test_fail_on_new_passes_a_run_whose_failures_are_all_known_and_lists_them() -> None:
    before = summary(check("test_known", "failed"), check("test_ok", "passed"))
    after = summary(check("test_known", "failed"), check("test_ok", "passed"), git_commit="def")
    result = baseline.diff(before, after, "new")
    assert baseline.gate_passes(after, result)
    assert ids(result["still_failing"]) == ["LIST-DEFAULTS::test_known"]
    assert any("LIST-DEFAULTS::test_known (was failed)" in text for text, _ in baseline.lines(result))
    assert not baseline.gate_passes(after, baseline.diff(before, after, "any"))
    incomplete = {**after, "complete": False}
    assert not baseline.gate_passes(incomplete, result)  # an unfinished run never passes on known failures


def test_a_new_should_finding_gates_only_under_strict() -> None:
    before = summary(check("test_f", "passed", level="SHOULD"))
    after = summary(check("test_f", "finding", level="SHOULD"), git_commit="def")
    assert baseline.diff(before, after, "new")["regressions"] == 0
    assert baseline.diff(before, after, "new", strict=True)["regressions"] == 1


def test_a_renamed_test_is_matched_by_rule_and_parameters_not_fixed_plus_new() -> None:
    before = summary(check("test_old_name[10]", "failed"), check("test_other[10]", "passed", rules=("ENV-LIST",)))
    after = summary(check("test_new_name[10]", "failed"), check("test_other[10]", "passed", rules=("ENV-LIST",)),
                    git_commit="def")
    result = baseline.diff(before, after, "new")
    assert result["renamed"] == [{"from": "LIST-DEFAULTS::test_old_name[10]", "to": "LIST-DEFAULTS::test_new_name[10]",
                                  "by": "rule+parameters"}]
    assert ids(result["still_failing"]) == ["LIST-DEFAULTS::test_new_name[10]"]
    assert result["still_failing"][0]["renamed_from"] == "LIST-DEFAULTS::test_old_name[10]"
    assert result["fixed"] == result["new_failures"] == result["removed"] == result["added"] == []


def test_an_ambiguous_rename_is_gone_plus_new_unless_the_rename_map_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    before = summary(check("test_a", "failed"), check("test_b", "failed"))
    after = summary(check("test_c", "failed"), check("test_d", "failed"), git_commit="def")
    result = baseline.diff(before, after, "new")
    assert len(result["removed"]) == 2 and len(result["new_failures"]) == 2 and result["regressions"] == 2
    monkeypatch.setattr(baseline, "RENAMED", {"LIST-DEFAULTS::test_a": "LIST-DEFAULTS::test_c",
                                              "LIST-DEFAULTS::test_b": "LIST-DEFAULTS::test_d"})
    result = baseline.diff(before, after, "new")
    assert [r["by"] for r in result["renamed"]] == ["map", "map"]
    assert len(result["still_failing"]) == 2 and result["regressions"] == 0


def test_a_verdict_that_changed_while_nothing_else_did_is_flaky_and_still_gates_when_red() -> None:
    identity = {"target_version": "deploy-42"}
    before = summary(check("test_up", "failed"), check("test_down", "passed"), **identity)
    after = summary(check("test_up", "passed"), check("test_down", "failed"), **identity)
    result = baseline.diff(before, after, "new")
    assert result["same_run"] is True
    assert ids(result["flaky"]) == ["LIST-DEFAULTS::test_up", "LIST-DEFAULTS::test_down"]
    assert result["fixed"] == result["new_failures"] == []
    assert result["regressions"] == 1 and not baseline.gate_passes(after, result)


@pytest.mark.parametrize("changed", [{"git_commit": "def"}, {"target_version": "deploy-43"}, {"seed": 2},
                                     {"spec": {"version": "1", "sha256": "bad"}}, {"target_version": None}])
def test_a_verdict_change_with_something_else_changed_or_unknown_is_not_flaky(changed: dict[str, Any]) -> None:
    before = summary(check("test_down", "passed"), target_version="deploy-42")
    after = summary(check("test_down", "failed"), **{"target_version": "deploy-42", **changed})
    result = baseline.diff(before, after, "new")
    assert result["flaky"] == [] and ids(result["new_failures"]) == ["LIST-DEFAULTS::test_down"]


def test_a_usable_baseline_file_or_url_loads(tmp_path: Path, httpserver: HTTPServer) -> None:
    data = summary(check("test_a", "passed"))
    (tmp_path / "summary.json").write_text(json.dumps(data))
    loaded = baseline.load("summary.json", tmp_path)
    assert loaded["checks"][0]["id"] == "LIST-DEFAULTS::test_a"
    httpserver.expect_request("/last/summary.json").respond_with_json(data)
    url = httpserver.url_for("/last/summary.json") + "?token=secret"
    loaded = baseline.load(url, tmp_path)
    assert loaded["source"] == httpserver.url_for("/last/summary.json") and "secret" not in loaded["source"]


@pytest.mark.parametrize(("content", "words"), [
    (None, "cannot be read"), ("{", "is not JSON"), ('{"verdict": "pass"}', "no list of checks"),
    ('{"verdict": "error", "checks": []}', "graded no checks"), ('{"checks": [{"verdict": "passed"}]}', "malformed"),
])
def test_an_unusable_baseline_is_one_line_and_a_usage_error(tmp_path: Path, content: str | None, words: str) -> None:
    if content is not None:
        (tmp_path / "summary.json").write_text(content)
    with pytest.raises(StopRun) as error:
        baseline.load("summary.json", tmp_path)
    assert error.value.exit_status == EXIT_USAGE and words in str(error.value) and "\n" not in str(error.value)


def test_a_baseline_url_that_does_not_answer_200_is_a_usage_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    with pytest.raises(StopRun) as error:
        baseline.load(httpserver.url_for("/gone"), Path("."))
    assert error.value.exit_status == EXIT_USAGE and "answered 404" in str(error.value)


def _options(**given: Any) -> Any:
    values: dict[str, Any] = {spec.dest: None for spec in OPTIONS}
    values.update(base_url=None, allow_production=False, strict=False, reference_fault=[], reference_arg=[],
                  reference_variant=None)
    values.update(given)
    return resolve(argparse.Namespace(**values), [], {}, "", "reports", Path("/home/user/checkout"))


def test_fail_on_new_needs_a_baseline_and_fail_on_takes_two_values() -> None:
    with pytest.raises(StopRun, match="needs --baseline") as error:
        _options(fail_on="new")
    assert error.value.exit_status == EXIT_USAGE
    with pytest.raises(StopRun, match="give any or new"):
        _options(fail_on="regressions", baseline="last.json")
    opts = _options(fail_on="new", baseline="last.json")
    assert (opts.fail_on, opts.baseline) == ("new", "/home/user/checkout/last.json")
