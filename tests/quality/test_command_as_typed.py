"""The command as typed: every option whose value is a path runs the same session whether its value follows a
space or `=`, from the project's root (no test path given, as the README shows it) or from another folder
(the suites' path given) — the project's configuration read, only the suite collected, the reports where
asked. And with pytest's entry-point loading turned off, the top-level conftest.py loads the plugins."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from suite_runs import ROOT, clean_env, run

ONE_CHECK = ["-k", "test_second_create_with_the_same_email_is_rejected"]


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the project holding a previous run's summary.json and a copy of the spec."""
    folder = tmp_path_factory.mktemp("elsewhere")
    result = run(*ONE_CHECK, f"--reports-dir={folder / 'previous'}", reports=None, case="baseline for the typed")
    assert result.returncode == 0, result.output[-2000:]
    shutil.copy(folder / "previous" / "summary.json", folder / "summary.json")
    shutil.copy(ROOT / "openapi" / "customers.yaml", folder / "customers.yaml")
    (folder / "out").mkdir()
    return folder


def _value(option: str, elsewhere: Path) -> str:
    return {"--baseline": elsewhere / "summary.json", "--spec": elsewhere / "customers.yaml",
            "--reports-dir": elsewhere / "out"}[option].as_posix()


@pytest.mark.parametrize("where", ["root", "another-folder"])
@pytest.mark.parametrize("spelling", ["space", "equals"])
@pytest.mark.parametrize("option", ["--baseline", "--spec", "--reports-dir"])
def test_a_path_option_runs_the_same_session_with_a_space_or_an_equals_sign(
        option: str, spelling: str, where: str, elsewhere: Path, tmp_path: Path) -> None:
    value = _value(option, elsewhere)
    given = [option, value] if spelling == "space" else [f"{option}={value}"]
    reports = elsewhere / "out" if option == "--reports-dir" else tmp_path / "reports"
    folder = [] if option == "--reports-dir" else [f"--reports-dir={reports}"]
    paths = [] if where == "root" else [str(ROOT / "suites")]
    cwd = ROOT if where == "root" else tmp_path
    result = run(*paths, *given, *folder, *ONE_CHECK, reports=None, cwd=cwd,
                 case=f"{option} as typed ({spelling}, from the {where})")
    assert result.returncode == 0, result.output[-3000:]
    assert f"rootdir: {ROOT}" in result.output and "configfile: pyproject.toml" in result.output, result.output[:800]
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["verdict"] == "pass" and summary["complete"], summary["verdict"]
    assert summary["run_id"] in result.output
    assert "tests/" not in result.output  # the project's own tests are never collected beside the suite
    assert summary["checks"] and {c["verdict"] for c in summary["checks"]} == {"passed"}, summary["checks"]


def test_with_entry_point_loading_off_the_top_level_conftest_loads_the_plugin(elsewhere: Path,
                                                                                tmp_path: Path) -> None:
    """(With entry points off no plugin of the suite exists while pytest picks its rootdir: a path value then
    takes `=`, as the README says.)"""
    result = run(f"--baseline={_value('--baseline', elsewhere)}", f"--reports-dir={tmp_path}", *ONE_CHECK,
                 reports=None, env=clean_env(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"), case="entry points off")
    assert result.returncode == 0, result.output[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["verdict"] == "pass" and {c["verdict"] for c in summary["checks"]} == {"passed"}
