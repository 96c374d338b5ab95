"""Blame where it belongs, as users see it: with one capability of the target broken (search that matches
names only), the only red checks are those of that capability's rule; the checks that count through
search say "blocked by SEARCH-NAME-OR-EMAIL: …" (a skip, or reporting's own "blocked" verdict) — and a
run in which checks were blocked but no check of the blamed rule ran is never green."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RED = ("failed", "error", "finding")
SEARCH = "SEARCH-NAME-OR-EMAIL"


def run_suite(reports: Path, *args: str) -> tuple[int, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSTAR_", "PYTEST_BASE_URL"))}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "-o", f"cstar_reports_dir={reports}", *args],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    summary = reports / "summary.json"
    assert summary.exists(), result.stdout[-2000:] + result.stderr[-2000:]
    return result.returncode, json.loads(summary.read_text())


def name(check: dict[str, Any]) -> str:
    return str(check["test"]).split("::")[-1]


def test_broken_search_fails_only_its_own_rule_and_blocks_the_checks_that_count_through_it(tmp_path: Path) -> None:
    # thorough: the email search in another letter case (a SHOULD whose premise is this MUST) is its variant
    status, summary = run_suite(tmp_path, "suites/scenarios/test_email_uniqueness.py",
                                "suites/scenarios/test_filters_and_search.py", "suites/scenarios/test_idempotency.py",
                                "--reference-fault", "search-name-only", "--profile", "thorough")
    checks = summary["checks"]
    red = [c for c in checks if c["verdict"] in RED]
    assert status == 1 and red, [(name(c), c["verdict"]) for c in checks]
    assert all(SEARCH in c["rules"] for c in red), [(name(c), c["rules"], c["message"][:120]) for c in red]
    blocked = {name(c): c for c in checks if c["message"].startswith(f"blocked by {SEARCH}: ")}
    assert {"test_second_create_with_the_same_email_is_rejected_and_creates_nothing",
            "test_concurrent_creates_of_one_new_email_let_exactly_one_win",
            "test_repeated_create_with_the_same_idempotency_key_replays_and_creates_nothing",
            "test_search_ignores_letter_case[email]"} <= set(blocked), sorted(blocked)
    assert all(c["verdict"] in ("skipped", "blocked") for c in blocked.values())


def test_blocked_checks_without_a_red_check_of_the_blamed_rule_end_in_an_error(tmp_path: Path) -> None:
    """Only the email-uniqueness checks run, so no search check can report the broken search: the
    session must not end green on the strength of its blocked checks."""
    status, summary = run_suite(tmp_path, "suites/scenarios/test_email_uniqueness.py",
                                "--reference-fault", "search-name-only")
    errors = [c for c in summary["checks"] if c["verdict"] == "error"]
    assert status == 1 and any(f"[{SEARCH}]" in c["message"] for c in errors), (
        status, [(name(c), c["verdict"], c["message"][:160]) for c in summary["checks"]])
