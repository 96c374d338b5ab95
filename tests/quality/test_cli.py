"""The suite as its users run it: a separately started target, bad input that must end the run
fast with one line and its own exit status, levels, and no secret in any artifact."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cstar_conformance.target import (
    EXIT_CREDENTIALS,
    EXIT_PRODUCTION,
    EXIT_SPEC,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    EmbeddedReference,
    free_port,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk_test_RecognisableSecretKey0123456789abc"


@pytest.fixture(scope="module")
def reference() -> Iterator[EmbeddedReference]:
    """A reference started by hand, as a user would start staging."""
    server = EmbeddedReference(extra_args=["--key-a", SECRET])
    server.start()
    yield server
    server.stop()


def suite(*args: str, reports: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CSTAR_", "PYTEST_BASE_URL"))}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "-o", f"cstar_reports_dir={reports}", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)


def explicit(reference: EmbeddedReference, key: str | None = None) -> list[str]:
    target = reference.target()
    return ["--base-url", target.base_url, "--api-key", key or target.team.api_key, "--team-id", target.team.id]


def test_base_url_with_explicit_keys_runs_against_a_hand_started_reference(reference: EmbeddedReference,
                                                                            tmp_path: Path) -> None:
    result = suite("suites/scenarios/test_transport.py", *explicit(reference), reports=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "MUST failed: 0" in result.stdout
    assert (tmp_path / "junit.xml").exists() and (tmp_path / "summary.json").exists()
    assert any((tmp_path / "allure-results").glob("*-result.json"))


def test_dead_base_url_ends_the_run_fast_with_one_line(tmp_path: Path) -> None:
    started = time.monotonic()
    result = suite("suites", "--base-url", f"http://127.0.0.1:{free_port()}/api/v1", "--api-key",
                   "sk_test_x1234567890", "--team-id", "t", reports=tmp_path)
    assert result.returncode == EXIT_UNREACHABLE, result.stderr
    assert time.monotonic() - started < 15
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "unreachable" in lines[0], lines


def test_refused_key_ends_the_run_with_its_own_status(reference: EmbeddedReference, tmp_path: Path) -> None:
    result = suite("suites", *explicit(reference, key="sk_test_wrongwrongwrong"), reports=tmp_path)
    assert result.returncode == EXIT_CREDENTIALS, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "refused the key" in result.stderr
    assert "wrongwrong" not in result.stderr


def test_wrong_team_ends_the_run_with_the_credentials_status(reference: EmbeddedReference, tmp_path: Path) -> None:
    args = explicit(reference)
    args[-1] = reference.target().other_team.id  # a real team, but not this key's
    result = suite("suites", *args, reports=tmp_path)
    assert result.returncode == EXIT_CREDENTIALS, result.stderr
    assert "not accessible" in result.stderr


@pytest.mark.parametrize("args", [
    ["--base-url", "http://127.0.0.1:1/api/v1"],  # no key, no team
    ["--base-url", "not-a-url", "--api-key", "sk_test_1234567890", "--team-id", "t"],
    ["--max-rps", "fast"],
    ["--other-team-id", "b"],  # without --other-api-key
])
def test_malformed_options_are_a_usage_error(args: list[str], tmp_path: Path) -> None:
    result = suite("suites", *args, reports=tmp_path, timeout=30)
    assert result.returncode == EXIT_USAGE, result.stdout + result.stderr
    assert result.stderr.startswith("cstar: ") and result.stderr.strip().count("\n") == 0


def test_production_target_is_refused_without_allow_production(tmp_path: Path) -> None:
    result = suite("suites", "--base-url", "https://www.cstar.help/api/v1", "--api-key", "sk_test_1234567890",
                   "--team-id", "t", reports=tmp_path, timeout=30)
    assert result.returncode == EXIT_PRODUCTION, result.stderr
    assert "--allow-production" in result.stderr


def test_no_secret_reaches_reports_or_terminal(tmp_path: Path) -> None:
    """Failing checks print reproductions and attach every exchange: the key is masked in all of them."""
    faulty = EmbeddedReference(faults=["unknown-method-200", "timestamps-naive"], extra_args=["--key-a", SECRET])
    faulty.start()
    try:
        result = suite("suites/contract", "suites/scenarios/test_transport.py", *explicit(faulty), "-v",
                       "--profile", "smoke", reports=tmp_path / "reports", timeout=240)
    finally:
        faulty.stop()
    assert result.returncode == 1, result.stdout[-3000:]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert "Authorization: [Filtered]" in result.stdout  # Schemathesis' reproduction, masked
    assert any("Bearer ***" in p.read_text(errors="replace") for p in files)  # our exchanges, masked
    assert SECRET not in result.stdout + result.stderr
    hits = [str(p) for p in files if SECRET in p.read_text(errors="replace")]
    assert not hits, hits


def test_should_finding_is_a_warning_and_fails_the_run_only_with_strict(tmp_path: Path) -> None:
    args = ["suites/scenarios/test_idempotency.py", "--reference-fault", "idempotency-ignored"]
    relaxed = suite(*args, reports=tmp_path / "relaxed")
    assert relaxed.returncode == 0, relaxed.stdout[-2000:]
    assert "SHOULD findings (warnings): 1" in relaxed.stdout and "MUST failed: 0" in relaxed.stdout
    strict = suite(*args, "--strict", reports=tmp_path / "strict")
    assert strict.returncode == 1, strict.stdout[-2000:]


@pytest.mark.parametrize("content", ["openapi: [3.1\n", "openapi: 3.1.0\ninfo: {title: x}\npaths: {}\n", None])
def test_broken_spec_ends_the_run_with_its_own_status(content: str | None, tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    if content is not None:
        spec.write_text(content)
    result = suite("suites", "--spec", str(spec), reports=tmp_path, timeout=30)
    assert result.returncode == EXIT_SPEC, result.stdout + result.stderr
    assert result.stderr.startswith("cstar: ") and result.stderr.strip().count("\n") == 0


def test_a_target_without_tickets_or_webhooks_gets_those_checks_skipped_never_passed(tmp_path: Path) -> None:
    import json

    result = suite("suites/scenarios/test_cascade_delete.py", "suites/scenarios/test_webhooks.py",
                   "--reference-arg=--without=tickets", "--reference-arg=--without=webhooks", reports=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    checks = json.loads((tmp_path / "summary.json").read_text())["checks"]
    needing = [c for c in checks if "webhooks" in c["test"] or {"TICKET-COUNT", "DELETE-CASCADE",
                                                                "TICKET-BAD-CUSTOMER"} & set(c["rules"])]
    assert needing and all(c["verdict"] == "skipped" for c in needing), needing
    reasons = {c["message"] for c in needing}
    assert any("no Tickets API" in r for r in reasons) and any("no webhook registration" in r for r in reasons)
