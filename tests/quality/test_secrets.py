"""No documented command prints a key: staging runs take keys from the environment (README, Makefile,
workflow), make refuses keys in ARGS, and a base URL given empty to make is refused, not ignored."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from suite_runs import ROOT, SECRET, Finished, clean_env, record


def make(*args: str, env: dict[str, str], case: str) -> Finished:
    started = time.monotonic()
    proc = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=120)
    return record(case, Finished(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started))


def test_make_conformance_takes_keys_from_the_environment_and_never_prints_them(tmp_path: Path) -> None:
    env = clean_env(CSTAR_API_KEY=SECRET, CSTAR_TEAM_ID="team-1", CSTAR_REPORTS_DIR=str(tmp_path))
    result = make("conformance", "BASE_URL=http://127.0.0.1:9/api/v1", env=env, case="make conformance, keys in env")
    assert "cstar: target http://127.0.0.1:9/api/v1 is unreachable" in result.output, result.output[-2000:]
    assert SECRET not in result.output


def test_make_refuses_a_key_in_args_without_printing_it() -> None:
    result = make("conformance", f"ARGS=--api-key {SECRET}", env=clean_env(), case="make conformance, key in ARGS")
    assert result.returncode != 0 and "ARGS carries a key option" in result.output
    assert SECRET not in result.output


def test_make_conformance_with_an_empty_base_url_is_a_usage_error_not_the_embedded_reference(tmp_path: Path) -> None:
    result = make("conformance", "BASE_URL=", env=clean_env(CSTAR_REPORTS_DIR=str(tmp_path)),
                  case="make conformance BASE_URL=")
    assert "cstar: PYTEST_BASE_URL is empty" in result.output, result.output[-2000:]
    assert "VERDICT" not in result.output


def test_documented_commands_pass_keys_only_through_the_environment() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = "\n".join(re.findall(r"```sh\n(.*?)```", readme, flags=re.S))
    assert not re.search(r"--(other-)?api-key\s|--publishable-key\s|ARGS=.*key", blocks), blocks
    workflow = (ROOT / ".github" / "workflows" / "conformance.yml").read_text()
    runs = "\n".join(re.findall(r"run: (.*)", workflow))
    assert "key" not in runs.lower() and "secrets." not in runs
    assert re.search(r"CSTAR_API_KEY: \$\{\{ secrets\.CSTAR_API_KEY \}\}", workflow)
