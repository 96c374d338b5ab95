"""The suite as its users run it: a separately started target, an installed plugin that works wherever
pytest starts, levels, and no secret in any artifact."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from suite_runs import ROOT, SECRET, Finished, clean_env, explicit, run

from cstar_conformance.target import EmbeddedReference


def suite(*args: str, reports: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A suite run (kept for tests that want the plain CompletedProcess)."""
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--reports-dir", str(reports),
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=clean_env())


def test_base_url_with_explicit_keys_runs_against_a_hand_started_reference(reference: EmbeddedReference,
                                                                            tmp_path: Path) -> None:
    result = run("suites/scenarios/test_transport.py", *explicit(reference), reports=tmp_path)
    assert result.returncode == 0, result.output[-3000:]
    assert "VERDICT: PASS" in result.stdout and "MUST failed: 0" in result.stdout
    assert (tmp_path / "junit.xml").exists() and any((tmp_path / "allure-results").glob("*-result.json"))
    summary = result.summary(tmp_path)
    assert summary["complete"] is True and summary["verdict"] == "pass" and summary["exit_status"] == 0


def test_the_plugin_is_installed_options_work_from_any_directory_in_any_order(reference: EmbeddedReference,
                                                                               tmp_path: Path) -> None:
    """pytest started elsewhere, the suite's options before the path, `--spec PATH` in space form: the
    options come from the installed plugin, not from a conftest.py pytest might not load."""
    spec = tmp_path / "elsewhere" / "contract.yaml"
    spec.parent.mkdir()
    shutil.copy(ROOT / "openapi" / "customers.yaml", spec)
    target = reference.target()
    result = run("--spec", str(spec), "--api-key", target.team.api_key, "--team-id", target.team.id,
                 str(ROOT / "suites" / "scenarios" / "test_idempotency.py"), "--base-url", target.base_url,
                 reports=tmp_path / "reports", cwd=tmp_path, case="options before the path, another directory")
    assert result.returncode == 0, result.output[-3000:]
    assert "cstar target: " in result.stdout


def test_the_plugin_is_inert_in_sessions_that_do_not_run_the_suites(tmp_path: Path) -> None:
    result = run(str(ROOT / "tests" / "unit" / "test_webhook_signature.py"), "-q", "--api-key", "junk",
                 reports=tmp_path / "reports", cwd=tmp_path, case="not a suite session")
    assert result.returncode == 0, result.output[-2000:]
    assert "cstar" not in result.stdout.lower() and not (tmp_path / "reports").exists()


def test_no_secret_reaches_reports_or_terminal(tmp_path: Path) -> None:
    """Failing checks print reproductions and attach every exchange: the key is masked in all of them."""
    faulty = EmbeddedReference(faults=["unknown-method-200", "timestamps-naive"], extra_args=["--key-a", SECRET])
    faulty.start()
    try:
        result: Finished = run("suites/contract", "suites/scenarios/test_transport.py", *explicit(faulty), "-v",
                               "--profile", "smoke", reports=tmp_path / "reports", timeout=240)
    finally:
        faulty.stop()
    assert result.returncode == 1, result.stdout[-3000:]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert "Authorization: [Filtered]" in result.stdout  # Schemathesis' reproduction, masked
    assert any("Bearer ***" in p.read_text(errors="replace") for p in files)  # our exchanges, masked
    assert SECRET not in result.output
    hits = [str(p) for p in files if SECRET in p.read_text(errors="replace")]
    assert not hits, hits


def test_a_fuzzing_failure_reads_as_check_rule_request_and_response(tmp_path: Path) -> None:
    result = run("suites/contract", "-k", "operation and customerId", "--profile", "smoke", "--reference-fault",
                 "timestamps-naive", reports=tmp_path, case="fuzzing failure rendering")
    assert result.returncode == 1, result.output[-3000:]
    assert "[CUSTOMER-SHAPE] response_schema_conformance — Response violates schema" in result.stdout
    assert "  request:  curl -X " in result.stdout and "  response: 200 application/json" in result.stdout
    assert "FailureGroup" not in result.stdout and "Traceback" not in result.stdout
    failed = [c for c in result.summary(tmp_path)["checks"] if c["verdict"] == "failed"]
    assert failed and all(c["rules"] == ["CUSTOMER-SHAPE"] for c in failed), failed


def test_should_finding_is_a_warning_and_fails_the_run_only_with_strict(tmp_path: Path) -> None:
    args = ["suites/scenarios/test_idempotency.py", "--reference-fault", "idempotency-ignored"]
    relaxed = run(*args, reports=tmp_path / "relaxed")
    assert relaxed.returncode == 0, relaxed.stdout[-2000:]
    assert "SHOULD findings (warnings): 1" in relaxed.stdout and "MUST failed: 0" in relaxed.stdout
    strict = run(*args, "--strict", reports=tmp_path / "strict")
    assert strict.returncode == 1, strict.stdout[-2000:]
    assert json.loads((tmp_path / "strict" / "summary.json").read_text())["verdict"] == "fail"


def test_a_target_without_tickets_or_webhooks_gets_those_checks_skipped_never_passed(tmp_path: Path) -> None:
    result = run("suites/scenarios/test_cascade_delete.py", "suites/scenarios/test_webhooks.py",
                 "--reference-arg=--without=tickets", "--reference-arg=--without=webhooks", reports=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    checks = result.summary(tmp_path)["checks"]
    needing = [c for c in checks if "webhooks" in c["test"] or {"TICKET-COUNT", "DELETE-CASCADE",
                                                                "TICKET-BAD-CUSTOMER"} & set(c["rules"])]
    assert needing and all(c["verdict"] == "skipped" for c in needing), needing
    reasons = {c["message"] for c in needing}
    assert any("no Tickets API" in r for r in reasons) and any("no webhook registration" in r for r in reasons)
