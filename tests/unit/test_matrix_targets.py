"""The targets file of `make matrix`: keys only through the variables it names, every problem one line;
each rule's verdict on a target from the checks that name it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cstar_conformance.exits import EXIT_USAGE, StopRun
from cstar_conformance.matrix import load_targets, rule_verdicts

GOOD = '[[target]]\nname = "eu"\nbase_url = "https://eu.example/api/v1"\nteam_id = "t1"\napi_key_env = "EU_KEY"\n'


def targets(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list:
    (tmp_path / "targets.toml").write_text(text)
    return load_targets(tmp_path / "targets.toml", env if env is not None else {"EU_KEY": "sk_test_secret123456"})


def test_a_target_takes_its_key_from_the_variable_the_file_names(tmp_path: Path) -> None:
    (target,) = targets(tmp_path, GOOD)
    assert target.environment == {"PYTEST_BASE_URL": "https://eu.example/api/v1", "CSTAR_TEAM_ID": "t1",
                                  "CSTAR_API_KEY": "sk_test_secret123456"}


@pytest.mark.parametrize(("text", "env", "words"), [
    (GOOD, {}, "EU_KEY (api_key_env) is not set"),
    (GOOD + 'api_key = "sk_test_abcdefgh12345678"\n', None, "keys never go in it"),
    (GOOD.replace('"EU_KEY"', '"sk_test_abcdefgh12345678!"'), None, "must name an environment variable"),
    (GOOD + GOOD, None, "used twice"),
    (GOOD.replace('base_url = "https://eu.example/api/v1"\n', ""), None, "base_url is missing"),
    (GOOD.replace('name = "eu"', 'name = "../x"'), None, "give a name"),
    ("title = 1\n", None, "names no target"),
    ("[[target]\n", None, "is not TOML"),
])
def test_a_targets_file_that_cannot_be_used_is_one_line(tmp_path: Path, text: str, env: dict[str, str] | None,
                                                         words: str) -> None:
    with pytest.raises(StopRun) as error:
        targets(tmp_path, text, env)
    message = str(error.value)
    assert error.value.exit_status == EXIT_USAGE and words in message and "\n" not in message
    assert "sk_test_abcdefgh" not in message


def test_a_rule_fails_on_a_target_when_a_check_failed_on_it_not_on_another_rule_of_the_check() -> None:
    checks = [{"test": "a", "rules": ["R1", "R2"], "verdict": "passed"},
              {"test": "b", "rules": ["R1"], "verdict": "failed"},
              {"test": "c", "rules": ["R3"], "verdict": "finding"},
              {"test": "d", "rules": ["R4"], "verdict": "skipped"},
              {"test": "e", "rules": ["R5", "R6"], "verdict": "failed", "message": "[R6] mangled"}]
    cells = rule_verdicts({"checks": checks})
    assert {rule: cell["verdict"] for rule, cell in cells.items()} == {"R1": "fail", "R2": "pass", "R3": "finding",
                                                                      "R4": "skipped", "R6": "fail"}
